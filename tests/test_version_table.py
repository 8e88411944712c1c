"""The version table: every supported Kubernetes minor has every add-on, chart and image pin,
each one a version that says it supports that minor; a minor that lacks one fails here.

The pins themselves live in components/cluster/versions.py and
components/observability/versions.py; these tests name what a row lacks, and prove the check
sees each kind of gap by removing one pin at a time.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from components.cluster import versions as cluster
from components.observability import versions as observability


def test_every_supported_minor_has_every_pin():
    assert cluster.table_gaps() == []
    assert observability.table_gaps() == []


def test_the_supported_minors_are_consecutive_and_the_current_one_is_the_newest():
    keys = [cluster.minor_key(m) for m in cluster.KUBERNETES_VERSIONS]
    assert keys == sorted(keys)
    assert all(b == (a[0], a[1] + 1) for a, b in itertools.pairwise(keys))
    assert cluster.KUBERNETES_VERSIONS[-1] == cluster.KUBERNETES_VERSION
    assert len(cluster.KUBERNETES_VERSIONS) >= 2  # the current minor and the one before it


def test_the_flat_constants_are_the_current_minors_row():
    row = cluster.CONTROLLER_CHARTS[cluster.KUBERNETES_VERSION]
    assert {name: pin.version for name, pin in row.items()} == cluster.CHART_VERSIONS
    assert {name: pin.image for name, pin in row.items()} == cluster.CHART_IMAGES
    assert observability.CHARTS_BY_MINOR[cluster.KUBERNETES_VERSION] == observability.CHARTS
    assert set(cluster.ADDON_VERSIONS[cluster.KUBERNETES_VERSION]) == cluster.REQUIRED_ADDONS


def test_each_minors_row_of_charts_includes_the_autoscaler_of_that_minor():
    for minor in cluster.KUBERNETES_VERSIONS:
        charts, images = cluster.chart_versions(minor), cluster.chart_images(minor)
        assert set(charts) == set(images) == set(cluster.CHART_REPOSITORIES)
        pin = cluster.CLUSTER_AUTOSCALER_PINS[minor]
        assert charts[cluster.CLUSTER_AUTOSCALER] == pin.chart
        assert (
            images[cluster.CLUSTER_AUTOSCALER]
            == f"{cluster.CLUSTER_AUTOSCALER_IMAGE}:{pin.image_tag}"
        )
        assert pin.image_tag.startswith(f"v{minor}.")
    assert cluster.chart_versions("1.20") == cluster.chart_images("1.20") == {}


@pytest.mark.parametrize(
    ("support", "minor", "admitted"),
    [
        (("1.22", None), "1.35", True),
        (("1.31", None), "1.30", False),
        (("1.32", "1.36"), "1.36", True),
        (("1.32", "1.36"), "1.37", False),
        (("1.9", None), "1.10", True),  # numbers, not text: 1.10 is newer than 1.9
    ],
)
def test_a_support_range_is_compared_as_numbers(support, minor, admitted):
    assert cluster.supports(support, minor) is admitted


# -- the check sees each kind of gap ------------------------------------------------------------
def test_a_minor_without_an_addon_is_named(monkeypatch):
    rows = {m: dict(r) for m, r in cluster.ADDON_VERSIONS.items()}
    del rows["1.34"]["coredns"]
    monkeypatch.setattr(cluster, "ADDON_VERSIONS", rows)
    assert cluster.table_gaps() == ["1.34: no coredns add-on"]


def test_a_kube_proxy_of_another_minor_is_named(monkeypatch):
    rows = {m: dict(r) for m, r in cluster.ADDON_VERSIONS.items()}
    rows["1.35"]["kube-proxy"] = rows["1.34"]["kube-proxy"]
    monkeypatch.setattr(cluster, "ADDON_VERSIONS", rows)
    assert cluster.table_gaps() == [
        f"1.35: kube-proxy {rows['1.34']['kube-proxy']} is not a 1.35 build"
    ]


def test_a_minor_without_a_controller_chart_or_autoscaler_is_named(monkeypatch):
    charts = {m: dict(r) for m, r in cluster.CONTROLLER_CHARTS.items()}
    del charts["1.33"][cluster.METRICS_SERVER]
    autoscalers = dict(cluster.CLUSTER_AUTOSCALER_PINS)
    del autoscalers["1.34"]
    monkeypatch.setattr(cluster, "CONTROLLER_CHARTS", charts)
    monkeypatch.setattr(cluster, "CLUSTER_AUTOSCALER_PINS", autoscalers)
    assert cluster.table_gaps() == [
        "1.33: no metrics-server chart",
        "1.34: no cluster-autoscaler chart",
    ]


def test_a_chart_whose_support_leaves_the_minor_out_is_named(monkeypatch):
    pin = cluster.CONTROLLER_CHARTS["1.33"][cluster.METRICS_SERVER]
    support = dict(cluster.CHART_SUPPORT)
    support[(cluster.METRICS_SERVER, pin.version)] = ("1.34", None)
    monkeypatch.setattr(cluster, "CHART_SUPPORT", support)
    assert cluster.table_gaps() == [
        f"1.33: metrics-server {pin.version} supports ('1.34', None), not 1.33"
    ]
    del support[(cluster.METRICS_SERVER, pin.version)]
    assert len(cluster.table_gaps()) == 3  # no stated support: named for every minor
    assert all(
        "metrics-server" in gap and "no stated support" in gap for gap in cluster.table_gaps()
    )


def test_a_newly_supported_minor_without_pins_fails_until_every_row_has_it():
    minors = (*cluster.KUBERNETES_VERSIONS, "1.36")
    cluster_gaps = cluster.table_gaps(minors)
    assert cluster_gaps == [
        *(f"1.36: no {addon} add-on" for addon in sorted(cluster.REQUIRED_ADDONS)),
        "1.36: no aws-load-balancer-controller chart",
        "1.36: no metrics-server chart",
        "1.36: no cluster-autoscaler chart",
    ]
    assert observability.table_gaps(minors) == ["1.36: no observability charts"]


def test_a_row_for_a_minor_no_longer_supported_is_named():
    assert cluster.table_gaps(cluster.KUBERNETES_VERSIONS[1:]) == [
        f"{cluster.KUBERNETES_VERSIONS[0]}: pinned but not a supported minor"
    ]


def test_an_observability_row_that_lacks_a_chart_or_differs_is_named(monkeypatch):
    rows = dict(observability.CHARTS_BY_MINOR)
    rows["1.34"] = observability.CHARTS[:-1]
    monkeypatch.setattr(observability, "CHARTS_BY_MINOR", rows)
    assert observability.table_gaps() == [
        "1.34: differs from CHARTS, which the component installs on every minor",
        f"1.34: no {observability.CHARTS[-1].name} chart",
    ]


def test_an_observability_chart_outside_its_range_or_without_one_is_named(monkeypatch):
    eck = replace(observability.ECK_OPERATOR, supports=("1.34", "1.36"))
    bare = replace(observability.JAEGER, supports=None, images=())
    charts = tuple(
        eck if c is observability.ECK_OPERATOR else bare if c is observability.JAEGER else c
        for c in observability.CHARTS
    )
    monkeypatch.setattr(observability, "CHARTS", charts)
    monkeypatch.setattr(
        observability, "CHARTS_BY_MINOR", dict.fromkeys(cluster.KUBERNETES_VERSIONS, charts)
    )
    gaps = observability.table_gaps()
    eck_pin, jaeger_pin = observability.ECK_OPERATOR.version, observability.JAEGER.version
    assert gaps == [
        f"1.33: eck-operator {eck_pin} supports ('1.34', '1.36'), not 1.33",
        f"1.33: jaeger {jaeger_pin} lists no images",
        f"1.33: jaeger {jaeger_pin} has no stated support",
        f"1.34: jaeger {jaeger_pin} lists no images",
        f"1.34: jaeger {jaeger_pin} has no stated support",
        f"1.35: jaeger {jaeger_pin} lists no images",
        f"1.35: jaeger {jaeger_pin} has no stated support",
    ]
