"""Where the render tests find the pinned Helm charts, and how that cache is filled.

Chart archives are not committed (their templates are the chart authors' code, not ours), so
tests/test_helm_render.py reads them from a cache directory outside the repository:

    $PLATFORM_CHART_CACHE            (default ~/.cache/platform/charts)
        <name>-<version>.tgz          what `helm pull` writes (the published archive), or
        <name>-<version>/             the same chart unpacked (Chart.yaml at its top)

`python -m tests.chart_cache` fills it from the Helm repositories the versions modules record:
each repository's index.yaml gives the archive's URL and sha256 digest; the archive is
downloaded over HTTPS and written only when its digest matches. `.ci/run` calls it when the
repositories are reachable; a chart still missing then makes the render tests skip with one
message naming it, or fail when REQUIRE_CHARTS is set (as on GitHub's runners).

`SOURCES` lists every pinned chart (tests/test_chart_cache.py keeps it equal to the pins) with
the git tag of the chart's source: tests/fixtures/charts/extract.py reads the values indexes
from there, and a machine without the Helm repositories can build the cache from those tags.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.cluster import versions as cluster
from components.observability import versions as observability

ENV = "PLATFORM_CHART_CACHE"
REQUIRE = "REQUIRE_CHARTS"
DEFAULT = Path("~/.cache/platform/charts")


@dataclass(frozen=True)
class GitSource:
    """Where a chart's source lives: a GitHub repository, the tag, the chart directory."""

    repository: str  # owner/name
    tag: str
    path: str


@dataclass(frozen=True)
class Subchart:
    """A dependency the published archive bundles under charts/ (`helm dependency build`)."""

    name: str
    version: str
    git: GitSource
    # Its values.yaml goes into the parent's values index (under its name); False for
    # subcharts whose values the platform never sets.
    indexed: bool = True


@dataclass(frozen=True)
class ChartSource:
    name: str
    version: str
    repository: str  # the Helm repository URL, as the versions module records it
    git: GitSource
    subcharts: tuple[Subchart, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


_PROMETHEUS = "prometheus-community/helm-charts"
_AUTOSCALER_REPO = cluster.CHART_REPOSITORIES[cluster.CLUSTER_AUTOSCALER]


def _autoscaler(version: str) -> ChartSource:
    # The autoscaler repository moved its chart under cluster-autoscaler/ after 9.51.0.
    path = "charts/cluster-autoscaler"
    if version != "9.51.0":
        path = f"cluster-autoscaler/{path}"
    git = GitSource("kubernetes/autoscaler", f"cluster-autoscaler-chart-{version}", path)
    return ChartSource(cluster.CLUSTER_AUTOSCALER, version, _AUTOSCALER_REPO, git)


def _karpenter(name: str) -> ChartSource:
    # OCI-only: `repository` is the chart's own oci:// reference. Built from the release tag,
    # the chart's values name the previous release's image (the release job rewrites
    # controller.image in the published archive): a cache built from git must set it.
    git = GitSource("aws/karpenter-provider-aws", "v1.14.1", f"charts/{name}")
    return ChartSource(name, "1.14.1", cluster.KARPENTER_CHARTS[name], git)


SOURCES: tuple[ChartSource, ...] = (
    _karpenter(cluster.KARPENTER),
    _karpenter(cluster.KARPENTER_CRD),
    ChartSource(
        cluster.ALB_CONTROLLER,
        "1.12.0",
        cluster.CHART_REPOSITORIES[cluster.ALB_CONTROLLER],
        # The controller's own tag carries the chart (1.12.0 ships with controller v2.12.0).
        GitSource(
            "kubernetes-sigs/aws-load-balancer-controller",
            "v2.12.0",
            "helm/aws-load-balancer-controller",
        ),
    ),
    ChartSource(
        cluster.METRICS_SERVER,
        "3.13.0",
        cluster.CHART_REPOSITORIES[cluster.METRICS_SERVER],
        GitSource(
            "kubernetes-sigs/metrics-server",
            "metrics-server-helm-chart-3.13.0",
            "charts/metrics-server",
        ),
    ),
    _autoscaler("9.51.0"),
    _autoscaler("9.53.0"),
    _autoscaler("9.59.0"),
    ChartSource(
        "kube-prometheus-stack",
        "88.5.3",
        "https://prometheus-community.github.io/helm-charts",
        GitSource(_PROMETHEUS, "kube-prometheus-stack-88.5.3", "charts/kube-prometheus-stack"),
        (
            # Chart.yaml's dependencies (the `crds` subchart is in the chart's own tree).
            Subchart(
                "grafana",
                "12.11.1",
                GitSource("grafana-community/helm-charts", "grafana-12.11.1", "charts/grafana"),
            ),
            Subchart(
                "kube-state-metrics",
                "8.4.0",
                GitSource(_PROMETHEUS, "kube-state-metrics-8.4.0", "charts/kube-state-metrics"),
            ),
            Subchart(
                "prometheus-node-exporter",
                "4.56.1",
                GitSource(
                    _PROMETHEUS,
                    "prometheus-node-exporter-4.56.1",
                    "charts/prometheus-node-exporter",
                ),
            ),
            # "0.12.*" in Chart.yaml: the newest 0.12 release before 88.5.3 was tagged.
            Subchart(
                "prometheus-windows-exporter",
                "0.12.8",
                GitSource(
                    _PROMETHEUS,
                    "prometheus-windows-exporter-0.12.8",
                    "charts/prometheus-windows-exporter",
                ),
                indexed=False,
            ),
        ),
    ),
    ChartSource(
        "eck-operator",
        "3.5.0",
        "https://helm.elastic.co",
        # The eck-operator-crds subchart is in the chart's own tree.
        GitSource("elastic/cloud-on-k8s", "v3.5.0", "deploy/eck-operator"),
    ),
    ChartSource(
        "fluent-bit",
        "0.58.1",
        "https://fluent.github.io/helm-charts",
        GitSource("fluent/helm-charts", "fluent-bit-0.58.1", "charts/fluent-bit"),
    ),
    ChartSource(
        "jaeger",
        "4.11.1",
        "https://jaegertracing.github.io/helm-charts",
        GitSource("jaegertracing/helm-charts", "jaeger-4.11.1", "charts/jaeger"),
        # Chart.lock pins common 2.34.0, which bitnami/charts' git history does not carry
        # (its newest common tag is 2.31.10): a cache built from git uses 2.31.10 for the four
        # helpers the jaeger templates call (image names, pull secrets, the cronjob
        # apiVersion, the ingress backend). The published archive bundles 2.34.0 itself.
        (
            Subchart(
                "common",
                "2.34.0",
                GitSource("bitnami/charts", "common/2.31.10", "bitnami/common"),
                indexed=False,
            ),
        ),
    ),
    ChartSource(
        "opentelemetry-collector",
        "0.170.0",
        "https://open-telemetry.github.io/opentelemetry-helm-charts",
        GitSource(
            "open-telemetry/opentelemetry-helm-charts",
            "opentelemetry-collector-0.170.0",
            "charts/opentelemetry-collector",
        ),
    ),
    ChartSource(
        "prometheus-yet-another-cloudwatch-exporter",
        "0.47.0",
        "https://prometheus-community.github.io/helm-charts",
        GitSource(
            _PROMETHEUS,
            "prometheus-yet-another-cloudwatch-exporter-0.47.0",
            "charts/prometheus-yet-another-cloudwatch-exporter",
        ),
    ),
)


def chart_name(chart: str) -> str:
    """A release's chart as the cache names it: an `oci://` reference's last segment."""
    return chart.rsplit("/", 1)[-1] if chart.startswith("oci://") else chart


def pinned() -> set[tuple[str, str, str]]:
    """Every (chart, version, repository) the versions modules pin, for any Kubernetes minor."""
    pins = {
        (c.name, c.version, c.repository)
        for row in observability.CHARTS_BY_MINOR.values()
        for c in row
    }
    pins |= {
        (name, cluster.KARPENTER_VERSION, reference)
        for name, reference in cluster.KARPENTER_CHARTS.items()
    }
    pins |= {
        (name, pin.version, cluster.CHART_REPOSITORIES[name])
        for row in cluster.CONTROLLER_CHARTS.values()
        for name, pin in row.items()
    }
    pins |= {
        (cluster.CLUSTER_AUTOSCALER, pin.chart, _AUTOSCALER_REPO)
        for pin in cluster.CLUSTER_AUTOSCALER_PINS.values()
    }
    return pins


def source(name: str, version: str) -> ChartSource:
    for entry in SOURCES:
        if (entry.name, entry.version) == (name, version):
            return entry
    raise KeyError(f"{name} {version} is not in tests/chart_cache.py SOURCES")


def cache_dir() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT).expanduser()


def locate(name: str, version: str, cache: Path | None = None) -> Path | None:
    """The cached archive or directory of one chart version, or None."""
    cache = cache or cache_dir()
    for candidate in (cache / f"{name}-{version}.tgz", cache / f"{name}-{version}"):
        if candidate.is_file() or (candidate / "Chart.yaml").is_file():
            return candidate
    return None


def missing_message(missing: list[str], cache: Path | None = None) -> str:
    """The one message the render tests skip (or fail) with."""
    return (
        f"Helm render tests did not run: {len(missing)} pinned chart(s) missing from the chart "
        f"cache {cache or cache_dir()} (${ENV}): {', '.join(missing)}. Fill it where the Helm "
        f"repositories are reachable with `.venv/bin/python -m tests.chart_cache` (.ci/run "
        f"does), or point ${ENV} at a directory holding <name>-<version>.tgz archives. "
        f"{REQUIRE}=1 (set on GitHub's runners) makes this a failure."
    )


def verdict(missing: list[str], environ: Mapping[str, str]) -> tuple[str, str] | None:
    """What the render tests do about missing charts: None (run), ("skip", why) or
    ("fail", why) when REQUIRE_CHARTS says the charts must be there."""
    if not missing:
        return None
    required = environ.get(REQUIRE) or environ.get("REQUIRE_VALIDATORS")  # tests/validators.py
    return ("fail" if required else "skip"), missing_message(missing)


def source_problems(
    pins: set[tuple[str, str, str]], sources: tuple[ChartSource, ...] = SOURCES
) -> list[str]:
    """A pin with no source entry, or an entry nothing pins (name, version, repository)."""
    listed = {(s.name, s.version, s.repository) for s in sources}
    return [f"pinned but not in SOURCES: {' '.join(p)}" for p in sorted(pins - listed)] + [
        f"in SOURCES but pinned nowhere: {' '.join(p)}" for p in sorted(listed - pins)
    ]


# -- filling the cache from the Helm repositories ---------------------------------------------
def _get(url: str, timeout: float = 60) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise ValueError(f"refusing to download {url}: not an HTTP(S) URL")
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _index(repository: str, indexes: dict[str, dict]) -> dict:
    if repository not in indexes:
        text = _get(repository.rstrip("/") + "/index.yaml")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the indexes are tens of MB
        indexes[repository] = yaml.load(text, Loader=loader) or {}
    return indexes[repository]


HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _oci_get(url: str, accept: str, token: str | None, timeout: float = 60) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def _oci_token(challenge: str) -> str:
    """An anonymous pull token from a registry's `WWW-Authenticate: Bearer realm=...` answer
    (the OCI distribution token flow; ECR Public hands one to anyone)."""
    import json
    import re as _re

    fields = dict(_re.findall(r'(\w+)="([^"]*)"', challenge))
    query = urllib.parse.urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
    return json.loads(_get(f"{fields['realm']}?{query}"))["token"]


def fetch_oci(entry: ChartSource, cache: Path, scheme: str = "https") -> Path:
    """Pull one OCI chart (`oci://<registry>/<path>` at `version`): its manifest names the
    chart layer by sha256 digest, and the blob is written only when its digest matches."""
    import json

    registry, _, path = entry.repository.removeprefix("oci://").partition("/")
    base = f"{scheme}://{registry}/v2/{path}"
    token = None
    try:
        manifest = _oci_get(f"{base}/manifests/{entry.version}", OCI_MANIFEST, None)
    except urllib.error.HTTPError as error:
        if error.code != 401:
            raise
        token = _oci_token(error.headers.get("WWW-Authenticate", ""))
        manifest = _oci_get(f"{base}/manifests/{entry.version}", OCI_MANIFEST, token)
    layers = [
        layer for layer in json.loads(manifest).get("layers", [])
        if layer.get("mediaType") == HELM_CHART_LAYER
    ]  # fmt: skip
    if len(layers) != 1:
        raise LookupError(f"{entry.repository}:{entry.version} has no single Helm chart layer")
    digest = layers[0]["digest"]
    data = _oci_get(f"{base}/blobs/{digest}", "application/octet-stream", token)
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(f"{entry.repository}:{entry.version}: blob is not {digest}")
    return _write(cache, entry, data)


def _write(cache: Path, entry: ChartSource, data: bytes) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"{entry.key}.tgz"
    with tempfile.NamedTemporaryFile(dir=cache, delete=False, suffix=".part") as part:
        part.write(data)
    os.replace(part.name, target)  # never a half-written archive under the final name
    return target


def fetch(entry: ChartSource, cache: Path, indexes: dict[str, dict]) -> Path:
    """Download one chart archive into the cache, refusing it unless its sha256 matches the
    digest its repository's index.yaml records (an OCI chart: its manifest's)."""
    if entry.repository.startswith("oci://"):
        return fetch_oci(entry, cache)
    versions = _index(entry.repository, indexes).get("entries", {}).get(entry.name, [])
    release = next((v for v in versions if str(v.get("version")) == entry.version), None)
    if release is None:
        raise LookupError(f"{entry.repository} has no {entry.name} {entry.version}")
    if not release.get("digest") or not release.get("urls"):
        raise LookupError(f"{entry.repository}: {entry.key} has no digest or URL in index.yaml")
    url = urllib.parse.urljoin(entry.repository.rstrip("/") + "/", release["urls"][0])
    data = _get(url)
    digest = hashlib.sha256(data).hexdigest()
    if digest != release["digest"]:
        raise ValueError(f"{url}: sha256 {digest} is not the index's {release['digest']}")
    return _write(cache, entry, data)


def fill(cache: Path | None = None, sources: tuple[ChartSource, ...] = SOURCES) -> list[str]:
    """Fetch every chart not yet cached; returns the problems (empty when all are there)."""
    cache = cache or cache_dir()
    indexes: dict[str, dict] = {}
    problems = []
    for entry in sources:
        if locate(entry.name, entry.version, cache):
            continue
        try:
            print(f"chart cache: {entry.key} <- {fetch(entry, cache, indexes)}")
        except Exception as error:  # every chart is tried; all failures are reported
            problems.append(f"{entry.key}: {error}")
    return problems


def main() -> int:
    problems = fill()
    for problem in problems:
        print(f"chart cache: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
