"""The in-cluster layer, proven by Helm itself: every release of every stack, rendered by
Helm's own engine with the values the program passes, is what the cluster would accept.

For each Helm release in the dev, uat, prod and local recordings (tests/helm_render.py):
* the chart renders (no template error, no `required`/`fail` firing) and its kubeVersion
  allows the cluster;
* every object it would apply validates against the cluster minor's schema, or a custom
  resource against its CRD (the pinned fixtures, or a CRD the charts themselves install);
* every pod it would run is admitted by the Pod Security level its namespace enforces;
* every image it runs is the one the versions modules pin.

The charts come from the chart cache (tests/chart_cache.py; `.ci/run` fills it where the Helm
repositories are reachable). A pinned chart missing from it skips these tests with one message
saying what is missing and how to fill it, unless REQUIRE_CHARTS is set (GitHub's runners):
then it fails.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path

import helm_python as helm
import pytest

from components.cluster import versions as cluster_versions
from components.observability import versions as observability_versions
from infra.config import ENVIRONMENTS, LOCAL_ENVIRONMENT, LocalSettings
from tests import admission, chart_cache
from tests import helm_render as hr
from tests.conftest import planned

# The local stack installs the same observability charts on a laptop cluster.
STACKS = (*ENVIRONMENTS, LOCAL_ENVIRONMENT)


@dataclass(frozen=True)
class StackRender:
    kubernetes_version: str
    levels: dict[str, str]
    releases: tuple[hr.Release, ...]
    cloud: bool = True

    def objects(self, release: hr.Release) -> tuple[hr.Rendered, ...]:
        return hr.render(release)

    def everything(self) -> list[tuple[hr.Release, hr.Rendered]]:
        return [(r, o) for r in self.releases for o in self.objects(r)]


@functools.cache
def stack(env: str) -> StackRender:
    settings, recording = planned(env)
    local = isinstance(settings, LocalSettings)
    version = settings.local.version if local else settings.cluster.version
    return StackRender(
        version,
        admission.enforced_levels(recording),
        tuple(hr.releases(recording, version)),
        cloud=not local,
    )


class ChartCacheWarning(UserWarning):
    pass


@pytest.fixture(scope="module")
def charts():
    """Every pinned chart the stacks install is in the cache (else skip, or fail)."""
    _require(hr.missing_charts(r for env in STACKS for r in stack(env).releases))


def _require(missing: list[str]) -> None:
    outcome = chart_cache.verdict(missing, os.environ)
    if outcome is not None:
        action, message = outcome
        if action == "fail":
            pytest.fail(message)
        warnings.warn(ChartCacheWarning(message), stacklevel=2)
        pytest.skip(message)


@pytest.fixture(scope="module")
def every_pinned_chart(charts):
    """Every chart a versions module pins is cached (the other minors' autoscalers too)."""
    _require(
        sorted(s.key for s in chart_cache.SOURCES if not chart_cache.locate(s.name, s.version))
    )


@pytest.fixture(params=STACKS)
def rendered(charts, request) -> StackRender:
    return stack(request.param)


# -- it renders -------------------------------------------------------------------------------
def test_every_release_renders(rendered):
    failures = {}
    for release in rendered.releases:
        try:
            assert rendered.objects(release), f"{release.key} renders nothing"
        except helm.HelmError as error:
            failures[release.resource] = str(error)
    assert failures == {}


def test_every_chart_allows_the_clusters_kubernetes_version(rendered):
    for release in rendered.releases:
        constraint = hr.load(release.chart, release.version).metadata.get("kubeVersion")
        if constraint:
            assert hr.kube_version_allows(constraint, rendered.kubernetes_version), release.key


def test_a_failing_template_fails_the_render(charts):
    """The OpenTelemetry chart refuses to render without an image repository."""
    release = next(r for r in stack("dev").releases if r.chart == "opentelemetry-collector")
    values = release.values
    del values["image"]
    with pytest.raises(helm.HelmRenderError, match=r"image\.repository"):
        hr.render(replace(release, values_json=json.dumps(values, sort_keys=True)))


# -- every object is one the API server accepts -----------------------------------------------
def test_every_rendered_object_is_schema_valid(rendered):
    manifests = [o.manifest for _, o in rendered.everything()]
    problems, unknown = admission.schema_problems(manifests, rendered.kubernetes_version)
    assert problems == []
    # Every custom resource has a schema: the fixtures' or its chart's own CRD.
    assert unknown == []


def test_custom_resources_are_validated_against_the_crds_the_charts_install(rendered):
    kinds = Counter(o.kind for _, o in rendered.everything())
    assert kinds["CustomResourceDefinition"] >= 12
    assert {"Prometheus", "Alertmanager", "ServiceMonitor", "PrometheusRule"} <= set(kinds)
    prometheus = next(o for _, o in rendered.everything() if o.kind == "Prometheus")
    broken = copy.deepcopy(prometheus.manifest)
    broken["spec"]["replica"] = 2  # `replicas`, misspelt
    crds = [o.manifest for _, o in rendered.everything()]
    problems, _ = admission.schema_problems([*crds, broken], rendered.kubernetes_version)
    assert any("replica" in p for p in problems)


# -- every pod is admitted ---------------------------------------------------------------------
def test_every_pod_is_admitted_by_its_namespaces_pod_security_level(rendered):
    pods = [(r, o) for r, o in rendered.everything() if admission.pod_templates(o.manifest)]
    assert len(pods) >= 8
    problems = [
        f"{release.resource}: {p}"
        for release, obj in pods
        for p in admission.pod_security_problems(obj.manifest, obj.namespace, rendered.levels)
    ]
    assert problems == []


def test_the_cluster_controllers_meet_restricted_as_their_values_intend(rendered):
    """kube-system enforces nothing, but components/cluster/controllers.py hardens every
    controller to `restricted`: the rendered pods must really be."""
    if not rendered.cloud:
        assert not [r for r in rendered.releases if r.resource.startswith("cluster-")]
        return  # a laptop cluster brings its own controllers
    pods = [
        (r, o)
        for r, o in rendered.everything()
        if r.resource.startswith("cluster-") and admission.pod_templates(o.manifest)
    ]
    assert pods
    levels = {"kube-system": "restricted"}
    assert [
        p for _, o in pods for p in admission.pod_security_problems(o.manifest, o.namespace, levels)
    ] == []


def test_a_node_agent_in_a_restricted_namespace_would_be_refused(charts):
    """Not vacuous: Fluent Bit (hostPath, root) is admitted only by its privileged namespace."""
    fluent_bit = next(r for r in stack("prod").releases if r.chart == "fluent-bit")
    daemonset = next(o for o in hr.render(fluent_bit) if o.kind == "DaemonSet")
    levels = {daemonset.namespace: "restricted"}
    assert admission.pod_security_problems(daemonset.manifest, daemonset.namespace, levels)


# -- every image is the pinned one -------------------------------------------------------------
def expected_images(chart: str, kubernetes_version: str) -> set[str]:
    if chart == cluster_versions.CLUSTER_AUTOSCALER:
        return {cluster_versions.autoscaler_image(kubernetes_version)}
    if chart in cluster_versions.CHART_IMAGES:
        return {cluster_versions.CHART_IMAGES[chart]}
    return set(next(c for c in observability_versions.CHARTS if c.name == chart).images)


def test_every_image_is_the_one_the_versions_modules_pin(rendered):
    unexpected = {}
    for release in rendered.releases:
        images = set().union(*(hr.images(o.manifest) for o in rendered.objects(release)))
        assert images, release.key
        extra = images - expected_images(release.chart, rendered.kubernetes_version)
        if extra:
            unexpected[release.key] = sorted(extra)
    assert unexpected == {}


def test_no_pinned_image_is_stale(charts):
    """Every image a versions module lists is rendered by some stack (the list is current)."""
    rendered: dict[str, set[str]] = {}
    for env in ENVIRONMENTS:
        for release, obj in stack(env).everything():
            rendered.setdefault(release.chart, set()).update(hr.images(obj.manifest))
    version = stack("prod").kubernetes_version
    stale = {
        chart: sorted(expected_images(chart, version) - images)
        for chart, images in rendered.items()
        if expected_images(chart, version) - images
    }
    assert stale == {}


# -- Capabilities -------------------------------------------------------------------------------
def test_fluent_bits_service_monitor_needs_the_crds_of_the_release_it_waits_for(charts):
    """fluent-bit renders its ServiceMonitor only where monitoring.coreos.com/v1 is served:
    the kube-prometheus-stack release it depends on installs that API."""
    fluent_bit = next(r for r in stack("prod").releases if r.chart == "fluent-bit")
    assert "kube-prometheus-stack" in {u.chart for u in fluent_bit.upstream}
    assert "monitoring.coreos.com/v1" in hr.api_versions(fluent_bit)
    assert "ServiceMonitor" in {o.kind for o in hr.render(fluent_bit)}
    alone = replace(fluent_bit, upstream=())
    assert "ServiceMonitor" not in {o.kind for o in hr.render(alone)}


def test_the_render_sees_the_clusters_kubernetes_version_and_apis(tmp_path):
    """helm-python-sdk's native render takes kube_version and api_versions (Chart.render does
    not expose them): a chart of our own shows what the templates see."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (tmp_path / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\ndata:\n"
        "  version: {{ .Capabilities.KubeVersion.Version | quote }}\n"
        '  pdb: {{ .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" | quote }}\n'
        '  crd: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}\n'
    )
    chart = helm.Chart.load(tmp_path)
    apis = [*hr.builtin_api_versions("1.35"), "monitoring.coreos.com/v1"]
    text = hr.render_templates(
        chart, {}, namespace="ns", name="probe", kube_version="v1.35.0", apis=apis
    )["probe/templates/cm.yaml"]
    assert 'version: "v1.35.0"' in text
    assert 'pdb: "true"' in text
    assert 'crd: "true"' in text
    without = hr.render_templates(chart, {}, namespace="ns", name="probe", kube_version="v1.33.0")
    assert 'version: "v1.33.0"' in without["probe/templates/cm.yaml"]
    assert 'crd: "false"' in without["probe/templates/cm.yaml"]


DOC = Path(__file__).resolve().parent.parent / "docs" / "verification.md"
_ROW = re.compile(r"^\| (?P<chart>[a-z0-9-]+) (?P<version>[0-9.]+) \| `(?P<path>[^`]+)` \|", re.M)


def fnmatch_any(names: list[str], pattern: str) -> bool:
    return any(fnmatch(name, pattern) for name in names)


def test_the_docs_list_every_template_that_reads_capabilities(every_pinned_chart):
    """docs/verification.md names each template of the pinned charts that branches on
    `.Capabilities` and how the tests cover it; a chart bump that adds one fails here."""
    rows: dict[str, list[str]] = {}
    for row in _ROW.finditer(DOC.read_text()):
        rows.setdefault(f"{row['chart']}-{row['version']}", []).append(row["path"])
    assert rows
    undocumented, stale = [], []
    for source in chart_cache.SOURCES:
        found = hr.capability_templates(source.name, source.version)
        patterns = rows.get(source.key, [])
        for template in found:
            if not any(fnmatch(template, p) for p in patterns):
                undocumented.append(f"{source.key}: {template}")
        stale += [f"{source.key}: {p}" for p in patterns if not fnmatch_any(found, p)]
    assert undocumented == []
    assert stale == []
    assert set(rows) <= {s.key for s in chart_cache.SOURCES}


@pytest.mark.parametrize(
    "constraint, version, allowed",
    [
        (">=1.25.0-0", "1.35", True),
        (">= 1.21-0", "1.35", True),
        (">=1.25.0-0", "1.24", False),
        (">=1.19, <1.30", "1.35", False),
        ("<1.30 || >=1.35", "1.35", True),
    ],
)
def test_kube_version_constraints_are_read_like_helm(constraint, version, allowed):
    assert hr.kube_version_allows(constraint, version) is allowed
