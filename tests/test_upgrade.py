"""A Kubernetes minor upgrade as a planned change (infra/offline/upgrade.py, `make plan FROM=`):
the exact steps from 1.34 to 1.35 for prod, the order matching the program's dependencies on
every stack, and the upgrades EKS refuses (a skipped minor, a downgrade) refused with what to
do instead.

Test names say `upgrade`: their subject is versions, so they spell them out
(tests/test_versions.py exempts them).
"""

from __future__ import annotations

import json

import pytest

from infra.offline import upgrade
from infra.offline.mockengine import RecordedResource, Recording
from infra.offline.plan import main
from infra.offline.upgrade import Change, Inventory, Step, UpgradeRefused
from tests.conftest import planned

C = Change
NODES_HOW = (
    "managed node groups roll (new nodes first, old ones drained within maxUnavailable and the "
    "PDBs); Karpenter replaces its nodes itself (drift, within disruption budgets)"
)


def upgrade_1_34_to_1_35_prod() -> list[Step]:
    """The expected steps, spelled out (their subject is versions)."""
    return [
        Step(
            "Control plane",
            "EKS updates the API server in place, one minor; it cannot be rolled back",
            (C("cluster-eks", "1.34", "1.35"),),
        ),
        Step(
            "EKS add-ons the nodes need",
            "updated before any node is replaced (the node groups wait for them)",
            (
                C("eks-pod-identity-agent", "v1.3.10-eksbuild.3", "v1.3.10-eksbuild.3"),
                C("kube-proxy", "v1.34.6-eksbuild.2", "v1.35.3-eksbuild.2"),
                C("vpc-cni", "v1.21.1-eksbuild.7", "v1.21.1-eksbuild.7"),
            ),
        ),
        Step(
            "Nodes",
            NODES_HOW,
            (
                C("node group cluster-monitoring", "1.34", "1.35"),
                C("node group cluster-system", "1.34", "1.35"),
                C("NodePool cluster-nodepool-workload", "1.34 AMI", "1.35 AMI (drift)"),
            ),
        ),
        Step(
            "EKS add-ons that run on the nodes",
            "updated once the node groups have rolled",
            (
                C("aws-ebs-csi-driver", "v1.57.1-eksbuild.1", "v1.57.1-eksbuild.1"),
                C("coredns", "v1.13.2-eksbuild.4", "v1.13.2-eksbuild.4"),
            ),
        ),
        Step(
            "Helm charts",
            "each release upgraded in the program's dependency order",
            (
                C(
                    "cluster-aws-load-balancer-controller (aws-load-balancer-controller)",
                    "1.12.0",
                    "1.12.0",
                ),
                C("cluster-karpenter-crd (karpenter-crd)", "1.14.1", "1.14.1"),
                C("cluster-metrics-server (metrics-server)", "3.13.0", "3.13.0"),
                C("observability-eck-operator (eck-operator)", "3.5.0", "3.5.0"),
                C(
                    "observability-kube-prometheus-stack (kube-prometheus-stack)",
                    "88.5.3",
                    "88.5.3",
                ),
                C("cluster-karpenter (karpenter)", "1.14.1", "1.14.1"),
                C(
                    "observability-cloudwatch-exporter "
                    "(prometheus-yet-another-cloudwatch-exporter)",
                    "0.47.0",
                    "0.47.0",
                ),
                C("observability-jaeger (jaeger)", "4.11.1", "4.11.1"),
                C(
                    "observability-opentelemetry-collector (opentelemetry-collector)",
                    "0.170.0",
                    "0.170.0",
                ),
                # After Elasticsearch is Ready (it ships there and gives up otherwise).
                C("observability-fluent-bit (fluent-bit)", "0.58.1", "0.58.1"),
            ),
        ),
    ]


def _prod() -> Inventory:
    return upgrade.inventory(planned("prod")[1])


def test_the_upgrade_from_1_34_to_1_35_for_prod_is_exactly_these_steps():
    assert _prod().control_plane == "1.35"
    assert upgrade.plan_upgrade("1.34", _prod()) == upgrade_1_34_to_1_35_prod()


def test_the_upgrade_section_shows_each_change_and_each_unchanged_pin():
    lines = upgrade.render("prod", "1.34", "1.35", upgrade_1_34_to_1_35_prod())
    assert lines[0] == (
        "Upgrade 1.34 -> 1.35 for stack 'prod': the order `pulumi up` applies it in (offline; "
        "nothing is touched)"
    )
    assert "deprecated APIs, EKS upgrade insights, add-on compatibility, PDBs" in lines[1]
    assert "docs/upgrade.md" in lines[1]
    assert lines[2] == (
        "1. Control plane: EKS updates the API server in place, one minor; it cannot be rolled back"
    )
    assert lines[3] == "      cluster-eks  1.34 -> 1.35"
    assert "      kube-proxy              v1.34.6-eksbuild.2 -> v1.35.3-eksbuild.2" in lines
    assert "      vpc-cni                 unchanged (v1.21.1-eksbuild.7)" in lines
    titles = [line for line in lines if line[:1].isdigit()]
    assert [t.split(":")[0] for t in titles] == [
        "1. Control plane",
        "2. EKS add-ons the nodes need",
        "3. Nodes",
        "4. EKS add-ons that run on the nodes",
        "5. Helm charts",
    ]


def test_the_upgrade_steps_follow_the_programs_dependencies_on_every_stack(env):
    """No item waits for an item of a later step: the steps are the order `pulumi up` takes."""
    recording = planned(env)[1]
    found = upgrade.inventory(recording)
    by_urn = recording.by_urn()

    def step_of(resource: RecordedResource) -> int | None:
        if resource.type in upgrade.CONTROL_PLANE_TYPES:
            return 0
        if resource.type == upgrade.ADDON_TYPE:
            return 3 if resource.inputs["addonName"] in found.addons_after_nodes else 1
        if resource.type == upgrade.NODE_GROUP_TYPE:
            return 2
        return 4 if resource.type in upgrade.RELEASE_TYPES else None

    late = [
        (resource.name, by_urn[urn].name)
        for resource in recording.resources
        if (mine := step_of(resource)) is not None
        for urn in upgrade.waits_for(resource, by_urn)
        if (theirs := step_of(by_urn[urn])) is not None and theirs > mine
    ]
    assert late == []
    assert found.addons_after_nodes == {"coredns", "aws-ebs-csi-driver"}
    assert set(found.addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver",
                                 "eks-pod-identity-agent"}  # fmt: skip


def test_no_upgrade_when_the_stack_already_runs_its_minor():
    assert upgrade.plan_upgrade("1.35", _prod()) == []
    assert upgrade.render("prod", "1.35", "1.35", []) == [
        "Upgrade: none (platform:cluster.version is 1.35, the same as --from 1.35)"
    ]


# -- what EKS refuses is refused here ----------------------------------------------------------
def test_an_upgrade_that_skips_a_minor_is_refused_with_the_next_minor_to_set():
    with pytest.raises(UpgradeRefused) as refused:
        upgrade.plan_upgrade("1.33", _prod())
    assert str(refused.value) == (
        "platform:cluster.version 1.35 skips minors after the running 1.33 (--from): EKS "
        "upgrades one minor at a time. Set platform:cluster.version to 1.34, upgrade, then go "
        "on from 1.34"
    )


def test_a_downgrade_upgrade_is_refused_a_control_plane_never_goes_back():
    stack = Inventory(control_plane="1.34")
    with pytest.raises(UpgradeRefused) as refused:
        upgrade.plan_upgrade("1.35", stack)
    assert str(refused.value) == (
        "platform:cluster.version 1.34 is older than the running 1.35 (--from): EKS never "
        "downgrades a control plane. Set platform:cluster.version back to 1.35; going back "
        "means a new cluster (docs/upgrade.md, Rollback)"
    )


@pytest.mark.parametrize("current", ["1.34.2", "v1.34", "latest", "", "1"])
def test_an_upgrade_from_something_that_is_not_a_minor_is_refused(current):
    with pytest.raises(UpgradeRefused, match=r"the minor the control plane runs now, like 1\.34"):
        upgrade.plan_upgrade(current, _prod())


def test_an_upgrade_from_a_minor_the_table_does_not_know_is_refused():
    with pytest.raises(UpgradeRefused) as refused:
        upgrade.plan_upgrade("1.31", Inventory(control_plane="1.32"))
    assert str(refused.value) == (
        "--from 1.31: the version table has no pins for 1.31 (it knows 1.33, 1.34, 1.35); "
        "upgrade with a release of this platform that pinned 1.31 first"
    )


def test_minors_compare_as_numbers_in_an_upgrade():
    assert upgrade.check("1.9", "1.10", supported=("1.9", "1.10")) is True
    with pytest.raises(UpgradeRefused, match=r"older than the running 1\.10"):
        upgrade.check("1.10", "1.9", supported=("1.9", "1.10"))


# -- Karpenter pools and OCI charts (what the node autoscaler branch adds) ----------------------
def _resource(type_: str, name: str, **inputs) -> RecordedResource:
    return RecordedResource(
        type=type_, name=name, urn=f"urn:pulumi:prod::platform::{type_}::{name}", parent="",
        custom=True, inputs=inputs, protect=False, retain_on_delete=False, provider="",
        ignore_changes=[],
    )  # fmt: skip


def test_karpenter_pools_drift_and_an_unpinned_oci_chart_is_named_in_the_upgrade():
    recording = Recording(
        resources=[
            _resource("eks:index:Cluster", "cluster-eks", version="1.35"),
            _resource("kubernetes:karpenter.sh/v1:NodePool", "general"),
            _resource(
                "kubernetes:helm.sh/v3:Release", "karpenter",
                chart="oci://public.ecr.aws/karpenter/karpenter", version="1.9.0",
            ),
        ],
        outputs={},
        secret_outputs=set(),
    )  # fmt: skip
    steps = upgrade.plan_upgrade("1.34", upgrade.inventory(recording))
    assert steps[2].changes == (C("NodePool general", "1.34 AMI", "1.35 AMI (drift)"),)
    # Karpenter's one release is pinned for every minor it supports (1.14.1 at 1.34).
    assert steps[4].changes == (C("karpenter (karpenter)", "1.14.1", "1.9.0"),)
    assert steps[1].changes == steps[3].changes == ()
    assert "      (nothing in this stack)" in upgrade.render("prod", "1.34", "1.35", steps)


def test_a_stack_without_a_cluster_has_no_upgrade():
    with pytest.raises(UpgradeRefused, match="no EKS cluster"):
        upgrade.inventory(Recording(resources=[], outputs={}, secret_outputs=set()))


# -- make plan FROM= ---------------------------------------------------------------------------
def test_make_plan_from_prints_the_upgrade_after_the_plan(capsys):
    assert main(["prod", "--from", "1.34"]) == 0
    out = capsys.readouterr().out
    plan, _, section = out.partition("\nUpgrade 1.34 -> 1.35 for stack 'prod'")
    assert "Plan for stack 'prod'" in plan and section
    assert "      kube-proxy" in section and "v1.34.6-eksbuild.2 -> v1.35.3-eksbuild.2" in section
    assert "      cluster-karpenter (karpenter)" in section


def test_make_plan_from_json_carries_the_upgrade_steps(capsys):
    assert main(["prod", "--json", "--from", "1.34"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["upgrade"] == upgrade.to_json(upgrade_1_34_to_1_35_prod())
    assert document["upgrade"][0] == {
        "step": "Control plane",
        "how": "EKS updates the API server in place, one minor; it cannot be rolled back",
        "changes": [{"item": "cluster-eks", "before": "1.34", "after": "1.35"}],
    }


def test_make_plan_refuses_a_skipped_minor_upgrade_and_prints_no_plan(capsys):
    assert main(["prod", "--from", "1.33"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "upgrade refused for stack 'prod': platform:cluster.version 1.35"
    )
    assert "one minor at a time" in captured.err


def test_make_plan_without_from_shows_no_upgrade(capsys):
    assert main(["dev"]) == 0
    assert "Upgrade" not in capsys.readouterr().out


def test_a_chart_whose_pin_at_from_does_not_support_the_target_moves_before_the_upgrade(
    monkeypatch,
):
    """With ECK 3.5.0 stating 1.32-1.34, the 1.35 control plane would break it: step 0."""
    from dataclasses import replace

    from components.observability import versions as observability

    eck = replace(observability.ECK_OPERATOR, supports=("1.32", "1.34"))
    rows = dict(observability.CHARTS_BY_MINOR)
    rows["1.34"] = tuple(eck if c is observability.ECK_OPERATOR else c for c in rows["1.34"])
    monkeypatch.setattr(observability, "CHARTS_BY_MINOR", rows)
    steps = upgrade.plan_upgrade("1.34", _prod())
    assert steps[0] == Step(
        "Charts to upgrade first",
        "their version at 1.34 does not support 1.35: upgrade each, still on 1.34, in a change "
        "of its own (its new version must support both)",
        (C("observability-eck-operator (eck-operator)", "3.5.0", "3.5.0"),),
    )
    assert steps[1:] == upgrade_1_34_to_1_35_prod()


def test_the_runbooks_example_upgrade_shows_every_change_the_plan_makes():
    """docs/upgrade.md's 1.34 -> 1.35 example stays the plan's (a changed pin fails here)."""
    from pathlib import Path

    runbook = (Path(__file__).resolve().parent.parent / "docs" / "upgrade.md").read_text()
    changed = [c for step in upgrade_1_34_to_1_35_prod() for c in step.changes if c.changed]
    missing = [c for c in changed if f"{c.before} -> {c.after}" not in runbook]
    assert missing == []
    assert len(changed) == 5  # control plane, kube-proxy, 2 node groups, the NodePool's AMI
