"""The monthly cost estimate shown by `make plan` and docs/sizing.md."""

from __future__ import annotations

import pytest

from infra.offline.cost import HOURLY, HOURS_PER_MONTH, SPOT_FRACTION, estimate
from infra.offline.mockengine import RecordedResource, Recording
from tests.conftest import planned


def resource(type_: str, inputs: dict, id_: str = "") -> RecordedResource:
    return RecordedResource(
        type=type_, name="r", urn=f"urn:{id_ or type_}", parent="", custom=True, inputs=inputs,
        protect=False, retain_on_delete=False, provider="", ignore_changes=[], id=id_,
    )  # fmt: skip


def node_group(capacity: str) -> Recording:
    template = resource(
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"blockDeviceMappings": [{"ebs": {"volumeSize": 50}}]},
        id_="lt-1",
    )
    group = resource(
        "aws:eks/nodeGroup:NodeGroup",
        {
            "scalingConfig": {"desiredSize": 2},
            "instanceTypes": ["t3.large"],
            "capacityType": capacity,
            "launchTemplate": {"id": "lt-1"},
        },
    )
    return Recording([template, group], {}, set())


def test_nodes_cost_desired_count_times_price_and_spot_is_discounted():
    on_demand = {line.item: line.monthly_usd for line in estimate(node_group("ON_DEMAND")).lines}
    spot = {line.item: line.monthly_usd for line in estimate(node_group("SPOT")).lines}
    assert on_demand["EKS nodes"] == pytest.approx(2 * HOURLY["t3.large"] * HOURS_PER_MONTH, 0.01)
    assert spot["EKS nodes"] == pytest.approx(on_demand["EKS nodes"] * SPOT_FRACTION, 0.01)
    assert on_demand["EKS node volumes (gp3)"] == pytest.approx(2 * 50 * 0.088, 0.01)


def test_unknown_instance_types_are_reported_not_guessed():
    recording = Recording(
        [resource("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.x9.huge"})],
        {},
        set(),
    )
    assert estimate(recording).unpriced == ["db.x9.huge"]


@pytest.mark.parametrize("env", ["dev", "uat", "prod"])
def test_every_committed_stack_is_fully_priced_and_above_the_eks_floor(env):
    cost = estimate(planned(env)[1])
    assert cost.unpriced == []
    items = {line.item for line in cost.lines}
    assert {
        "EKS control plane",
        "EKS nodes",
        "NAT gateways",
        "Aurora",
        "ElastiCache",
        "MSK",
    } <= items
    assert cost.total > HOURLY["eks-cluster"] * HOURS_PER_MONTH


def test_environments_cost_more_as_they_get_safer():
    totals = [estimate(planned(env)[1]).total for env in ("dev", "uat", "prod")]
    assert totals == sorted(totals)


def test_the_rds_proxy_is_priced_per_vcpu_behind_it_where_it_exists():
    instances = [
        resource("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.r7g.large"})
        for _ in range(2)
    ]
    without = {line.item for line in estimate(Recording(instances, {}, set())).lines}
    assert "RDS Proxy" not in without
    proxy = resource("aws:rds/proxy:Proxy", {"engineFamily": "POSTGRESQL"})
    lines = {
        line.item: line.monthly_usd
        for line in estimate(Recording([*instances, proxy], {}, set())).lines
    }
    assert lines["RDS Proxy"] == pytest.approx(2 * 2 * 0.015 * HOURS_PER_MONTH, 0.01)
    settings, recording = planned("prod")
    assert settings.database.proxy
    assert "RDS Proxy" in {line.item for line in estimate(recording).lines}


def _ingress(name: str, group: str | None) -> RecordedResource:
    annotations = {"alb.ingress.kubernetes.io/group.name": group} if group else {}
    ingress = resource(
        "kubernetes:networking.k8s.io/v1:Ingress",
        {"metadata": {"namespace": "apps", "annotations": annotations}},
    )
    return RecordedResource(**{**ingress.__dict__, "name": name})


def test_albs_are_priced_one_per_ingress_group_and_one_per_ungrouped_ingress():
    ingresses = [_ingress(f"svc{i}", "internal") for i in range(5)]
    ingresses += [_ingress("public", "public"), _ingress("loner", None)]
    lines = {
        line.item: line.monthly_usd for line in estimate(Recording(ingresses, {}, set())).lines
    }
    assert lines["load balancers (ALB)"] == pytest.approx(3 * HOURLY["alb"] * HOURS_PER_MONTH, 0.01)
    lines = {line.item: line.monthly_usd for line in estimate(planned("dev")[1]).lines}
    assert lines["load balancers (ALB)"] > 0


DEV_BUDGET = 275.0  # issue: dev with its monitoring at most $275/month by this estimator


def test_dev_with_its_monitoring_stays_within_its_budget():
    settings, recording = planned("dev")
    cost = estimate(recording)
    items = {line.item for line in cost.lines}
    # The monitoring stack is in the estimate (its volumes) and so are the ALB and the nodes.
    assert {"persistent volumes (gp3)", "load balancers (ALB)", "EKS nodes"} <= items
    assert settings.observability.level == "basic"
    assert cost.total <= DEV_BUDGET, cost.lines


def test_persistent_volumes_are_priced_from_prometheus_alertmanager_and_elasticsearch():
    lines = {line.item: line.monthly_usd for line in estimate(planned("prod")[1]).lines}
    settings = planned("prod")[0]
    config = settings.observability
    gib = 2 * config.prometheus_storage_gib + 3 * 1 + 3 * config.elasticsearch_storage_gib
    assert lines["persistent volumes (gp3)"] == pytest.approx(gib * 0.088, 0.01)
