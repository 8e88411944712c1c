"""Every pin has the `# renovate:` comment an update bot reads, and renovate.json's own regexes
(run here with Python's `re`, the named groups translated) extract exactly the pins the
modules hold: the right datasource, package and registry for each, and the version as written.

A version-looking literal in a pin's home that no manager extracts is refused unless it is a
fact derived from a pin (the images a chart runs, listed for the Helm render test) or a table
of what AWS offers (allowed versions, Kubernetes minors as table keys).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

from components import cache, streaming
from components.cluster import versions as cluster
from components.database import args as database
from components.database import logins
from components.local_stores import versions as local_stores
from components.observability import versions as observability

ROOT = Path(__file__).resolve().parent.parent
CONFIG = json.loads((ROOT / "renovate.json").read_text())
PIN_FILES = [
    "components/cluster/versions.py",
    "components/observability/versions.py",
    "components/database/args.py",
    "components/database/logins.py",
    "components/cache.py",
    "components/streaming.py",
    "components/local_stores/versions.py",
]
# A version (1.35, v1.21.1-eksbuild.7, 3.8.x, 17.6-bookworm) or an image reference with a tag.
VERSIONISH = re.compile(r"^v?\d+\.\d+[\w.+-]*$|^[\w.-]+\.[a-z]+/[\w./-]+:[\w.-]+$")


def _python_regex(javascript: str) -> re.Pattern[str]:
    """Renovate's patterns are JavaScript regexes: only the named-group syntax differs."""
    return re.compile(javascript.replace("(?<", "(?P<"))


def _template(text: str, groups: dict[str, str | None]) -> str:
    """Renovate's Handlebars templates as these managers use them: `{{{group}}}` only."""
    return re.sub(r"\{\{\{(\w+)\}\}\}", lambda m: groups[m.group(1)] or "", text)


def _dep(path: str, datasource, dep, value, package=None, registry=None) -> tuple:
    return (path, datasource, dep, package or dep, registry, value)


def extracted(path: str, text: str) -> list[tuple[tuple, int]]:
    """(dependency, line of its version) for every match of every custom manager."""
    found = []
    for manager in CONFIG["customManagers"]:
        if not any(re.search(p.strip("/"), path) for p in manager["managerFilePatterns"]):
            continue
        for pattern in manager["matchStrings"]:
            for match in _python_regex(pattern).finditer(text):
                groups = match.groupdict()
                dep = groups["depName"]
                package = groups.get("packageName")
                if "packageNameTemplate" in manager:
                    package = _template(manager["packageNameTemplate"], groups)
                line = text.count("\n", 0, match.start("currentValue")) + 1
                entry = _dep(
                    path,
                    groups["datasource"],
                    dep,
                    groups["currentValue"],
                    package,
                    groups.get("registryUrl"),
                )
                found.append((entry, line))
    return found


def expected() -> list[tuple]:
    """Every pin, from the modules' own data."""
    c, o = "components/cluster/versions.py", "components/observability/versions.py"
    pins = [_dep(c, "endoflife-date", "amazon-eks", cluster.KUBERNETES_VERSION)]
    for minor, addons in cluster.ADDON_VERSIONS.items():
        for addon, version in addons.items():
            package = json.dumps({"kubernetesVersion": minor, "addonName": addon})
            pins.append(_dep(c, "aws-eks-addon", addon, version, package.replace(" ", "")))
    for chart, version in cluster.CHART_VERSIONS.items():
        pins.append(_dep(c, "helm", chart, version, None, cluster.CHART_REPOSITORIES[chart]))
    # Karpenter's two OCI charts share one version (Renovate reads OCI charts as docker tags).
    pins.append(_dep(c, "docker", "public.ecr.aws/karpenter/karpenter", cluster.KARPENTER_VERSION))
    autoscaler_repo = cluster.CHART_REPOSITORIES[cluster.CLUSTER_AUTOSCALER]
    for pin in cluster.CLUSTER_AUTOSCALER_PINS.values():
        pins.append(_dep(c, "helm", cluster.CLUSTER_AUTOSCALER, pin.chart, None, autoscaler_repo))
        pins.append(_dep(c, "docker", cluster.CLUSTER_AUTOSCALER_IMAGE, pin.image_tag))
    for chart in observability.CHARTS:
        pins.append(_dep(o, "helm", chart.name, chart.version, None, chart.repository))
    elasticsearch = "docker.elastic.co/elasticsearch/elasticsearch"
    pins.append(_dep(o, "docker", elasticsearch, observability.ELASTIC_STACK_VERSION))
    otel = observability.OTEL_COLLECTOR_IMAGE
    pins.append(_dep(o, "docker", otel["repository"], otel["tag"]))
    pins.append(_dep(o, "docker", *observability.CURL_IMAGE.rsplit(":", 1)))
    for image in (logins.POSTGRES_IMAGE, logins.AWS_CLI_IMAGE):
        pins.append(_dep("components/database/logins.py", "docker", *image.rsplit(":", 1)))
    engine_filter = json.dumps([{"Name": "engine", "Values": [database.ENGINE]}])
    pins.append(
        _dep(
            "components/database/args.py",
            "aws-rds",
            database.ENGINE,
            database.DEFAULT_ENGINE_VERSION,
            engine_filter.replace(" ", ""),
        )
    )
    assert cache.DEFAULT_ENGINE == "valkey"
    pins.append(
        _dep("components/cache.py", "endoflife-date", "valkey", cache.DEFAULT_ENGINE_VERSION)
    )
    for stand_in in (local_stores.VALKEY, local_stores.KAFKA):  # PostgreSQL's is the Job's
        pins.append(
            _dep("components/local_stores/versions.py", "docker", *stand_in.image.rsplit(":", 1))
        )
    kafka = streaming.DEFAULT_KAFKA_VERSION.removesuffix(".x")  # MSK writes 3.8.x
    pins.append(_dep("components/streaming.py", "endoflife-date", "apache-kafka", kafka))
    return pins


def _all_extracted() -> list[tuple[tuple, int]]:
    return [hit for path in PIN_FILES for hit in extracted(path, (ROOT / path).read_text())]


def test_renovate_extracts_exactly_the_pins_the_modules_hold():
    got = Counter(dep for dep, _ in _all_extracted())
    want = Counter(expected())
    assert got - want == Counter(), "extracted but not a pin (or wrong package/registry)"
    assert want - got == Counter(), "a pin renovate does not see: add its `# renovate:` comment"
    assert sum(want.values()) >= 38  # the 38 pins of this commit; more may come, none may go


def _derived() -> set[str]:
    """Literals that are facts about a pin, not pins: what a chart runs, what AWS offers."""
    values = set(cluster.CHART_IMAGES.values())
    values |= {image for chart in observability.CHARTS for image in chart.images}
    values |= set(cluster.ADDON_VERSIONS) | set(cluster.CLUSTER_AUTOSCALER_PINS)
    values |= set(database.ENGINE_VERSIONS) | set(streaming.KAFKA_VERSIONS)
    values |= {v for versions in cache.ENGINE_VERSIONS.values() for v in versions}
    # What each chart says it supports (read at its tag), keyed by the pin it describes.
    for (_chart, version), support in cluster.CHART_SUPPORT.items():
        values |= {version, *(minor for minor in support if minor)}
    values |= {m for chart in observability.CHARTS for m in (chart.supports or ()) if m}
    return values


def unmanaged(path: str, text: str, derived: set[str]) -> list[str]:
    """`path:line value` for each version-looking literal no manager extracts."""
    managed = {line for _, line in extracted(path, text)}
    return [
        f"{path}:{node.lineno} {node.value!r}"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and VERSIONISH.match(node.value)
        and node.lineno not in managed
        and node.value not in derived
    ]


def test_every_version_literal_in_a_pin_home_is_managed_or_derived():
    derived = _derived()
    problems = [
        line for path in PIN_FILES for line in unmanaged(path, (ROOT / path).read_text(), derived)
    ]
    assert problems == [], "add a `# renovate:` comment above each:\n" + "\n".join(problems)


def test_a_new_pin_without_its_comment_is_found():
    text = (
        "# renovate: datasource=helm depName=karpenter registryUrl=https://example.test/charts\n"
        'KARPENTER = "1.8.1"\n'
        'NEW_IMAGE = "public.ecr.aws/example/tool:1.2.3"\n'
    )
    path = "components/cluster/versions.py"
    assert unmanaged(path, text, set()) == [f"{path}:3 'public.ecr.aws/example/tool:1.2.3'"]
    assert [dep for dep, _ in extracted(path, text)] == [
        _dep(path, "helm", "karpenter", "1.8.1", None, "https://example.test/charts")
    ]


def test_the_msk_version_keeps_its_x_and_a_dict_entry_yields_its_value_not_its_key():
    text = (
        "# renovate: datasource=endoflife-date depName=apache-kafka versioning=loose\n"
        'DEFAULT = "3.9.x"\n'
        "TABLE = {\n"
        "    # renovate: datasource=aws-eks-addon depName=coredns kubernetesVersion=1.35\n"
        '    "coredns": "v1.13.2-eksbuild.4",\n'
        "}\n"
    )
    deps = [dep for dep, _ in extracted("components/cluster/versions.py", text)]
    assert [(d[2], d[3], d[5]) for d in deps] == [
        ("apache-kafka", "apache-kafka", "3.9"),
        ("coredns", '{"kubernetesVersion":"1.35","addonName":"coredns"}', "v1.13.2-eksbuild.4"),
    ]
