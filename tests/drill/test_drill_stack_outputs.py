"""The drill runs against a stack's outputs alone: every committed stack exports what
`infra/drill/outputs.py` needs, with the real program's values (under the mock engine)."""

from __future__ import annotations

import pytest

from infra.drill.outputs import parse
from tests.conftest import planned


@pytest.mark.parametrize("stack", ["dev", "uat", "prod"])
def test_every_stack_exports_what_the_drill_reads(stack):
    settings, recording = planned(stack)
    outputs = parse(recording.outputs)

    database = recording.outputs["database"]
    assert outputs.database.cluster_identifier == f"{settings.name_prefix}-database"
    assert database["clusterArn"].startswith("arn:aws:rds:")
    (group,) = [
        g
        for g in recording.of_type("aws:ec2/securityGroup:SecurityGroup")
        if g.name == "database-sg"
    ]
    assert database["securityGroupId"] == group.id
    assert recording.outputs["cache"]["replicationGroupId"] == f"{settings.name_prefix}-cache"
    # Backups to restore from where the stack protects its data; a recovery site in the
    # replica region where it copies them.
    assert (database.get("backupVaultName") is not None) is settings.protect
    if settings.database.cross_region_backup:
        replica = recording.outputs["replica"]
        assert replica["region"] == settings.replica_region
        assert outputs.replica is not None
        assert replica["database"]["backupVaultName"].endswith("-backup-replica")
        assert replica["database"]["kmsKeyArn"].startswith(
            f"arn:aws:kms:{settings.replica_region}:"
        )
    else:
        assert recording.outputs.get("replica") is None and outputs.replica is None


def test_the_recovery_site_has_no_way_out_and_admits_nobody():
    _, recording = planned("prod")
    network = {r.urn for r in recording.resources if r.name.startswith("recovery-network")}
    nat = [r for r in recording.of_type("aws:ec2/natGateway:NatGateway") if r.urn in network]
    routes = [
        r
        for r in recording.of_type("aws:ec2/route:Route")
        if r.urn in network and r.name.startswith("recovery-network-private")
    ]
    assert nat == [] and routes == []
    (group,) = [
        g
        for g in recording.of_type("aws:ec2/securityGroup:SecurityGroup")
        if g.name == "recovery-database-sg"
    ]
    rules = [
        r
        for r in recording.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group.id
    ]
    assert rules == []
    assert "aws-replica" in group.provider  # the replica region's provider
