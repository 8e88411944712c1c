"""The offline plan CLI (`make plan`)."""

from __future__ import annotations

import json

from infra.config.profiles import PROFILES
from infra.offline.plan import main


def test_plan_groups_resources_by_component_and_prints_the_sizing_table(capsys):
    assert main(["prod"]) == 0
    out = capsys.readouterr().out
    assert "Plan for stack 'prod' (environment prod, region eu-west-1)" in out
    assert "Network 'network':" in out
    assert "Buckets 'buckets':" in out
    assert "      3  aws:ec2/natGateway:NatGateway" in out
    assert "| NAT gateways | one per AZ |" in out
    assert "| cost target in the brief | ~$80/month |" in out


def test_plan_json_lists_every_resource_with_parent_inputs_and_protect_flags(capsys):
    assert main(["dev", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    resources = document["resources"]
    assert {"type", "name", "parent", "inputs", "protect", "retainOnDelete"} <= set(resources[0])
    vpcs = [r for r in resources if r["type"] == "aws:ec2/vpc:Vpc"]
    assert vpcs[0]["inputs"]["cidrBlock"] == "10.10.0.0/16"
    assert vpcs[0]["parent"].endswith("platform:network:Network::network")


def test_plan_json_redacts_secret_outputs(capsys):
    assert main(["dev", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    for key, value in document["outputs"].items():
        assert "mock-" not in json.dumps(value), key


def test_invalid_config_prints_the_errors_and_exits_non_zero(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  platform:network:\n    azCount: 9\n"
    )
    assert main(["dev", "--project-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "platform:network.azCount = 9" in captured.err
    assert captured.out == ""


def test_missing_stack_file_is_a_clear_error(tmp_path, capsys):
    assert main(["qa", "--project-dir", str(tmp_path)]) == 2
    assert "Pulumi.qa.yaml not found" in capsys.readouterr().err


def test_plan_shows_the_cluster_its_node_groups_add_ons_and_the_data_stores_with_sizing(capsys):
    assert main(["prod"]) == 0
    out = capsys.readouterr().out
    assert "Cluster 'cluster':" in out
    groups = len(PROFILES["prod"]["cluster"]["nodeGroups"])
    assert f"      {groups}  aws:eks/nodeGroup:NodeGroup" in out
    assert "      5  aws:eks/addon:Addon" in out
    for component in ("Database 'database':", "Cache 'cache':", "Streaming 'streaming':"):
        assert component in out
    assert "| EKS 1.35 node groups | system: 3 x m6i.large (3..4); monitoring: 3 x r6i.large" in out
    assert (
        "| node autoscaling | Karpenter: workload: on-demand m6i, m6a, m7i (large, xlarge), "
        "<= 36 vCPU / 144 GiB |" in out
    )
    assert "Karpenter pool workload at its limits (36 vCPU, 144Gi)" in out
    assert "| database | Aurora db.r7g.large: writer + 1 reader(s), RDS Proxy |" in out
    assert "| cache | valkey 8.2, 2 x cache.t4g.medium, multi-AZ |" in out
    assert "| Kafka (MSK) | 3 x kafka.m7g.large, 100..1000 GiB |" in out
    assert "total" in out.split("Estimated fixed monthly cost")[1]
