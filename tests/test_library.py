"""The components as a library: a user's test needs only `components.testing` (written the
way Pulumi's unit-testing guide writes one), Python callers get Python field names and clear
type errors, and every public module declares its API."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pulumi
import pytest

import components
from components import arguments, testing
from components.cache import Cache, CacheArgs
from components.encryption import Keys, KeysArgs
from components.network import Network, NetworkArgs

KEY = f"arn:aws:kms:eu-west-1:{testing.ACCOUNT_ID}:key/logs"


def _network_args(**changes) -> NetworkArgs:
    base = NetworkArgs(
        name_prefix="team-a",
        cidr="10.20.0.0/16",
        az_count=3,
        nat_gateways="single",
        flow_log_kms_key_arn=KEY,
        flow_log_retention_days=30,
        interface_endpoints=False,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def mocks() -> testing.AwsMocks:
    # A user's test module would do this once at import; here other files' runs share the
    # process, so each test installs its own.
    return testing.set_mocks("eu-west-1")


@pulumi.runtime.test
def test_a_user_test_reads_like_pulumis_guide(mocks):
    network = Network("net", _network_args())

    def check(values):
        zones, private = values
        assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
        assert len(private) == 3
        vpcs = mocks.of_type("aws:ec2/vpc:Vpc")
        assert [(v.name, v.inputs["cidrBlock"]) for v in vpcs] == [("net-vpc", "10.20.0.0/16")]
        # Flow logs go to a KMS-encrypted group named from the prefix.
        (group,) = mocks.of_type("aws:cloudwatch/logGroup:LogGroup")
        assert group.inputs["kmsKeyId"] == KEY

    return pulumi.Output.all(
        pulumi.Output.from_input(network.availability_zones),
        pulumi.Output.all(*network.subnet_ids["private"]),
    ).apply(check)


@pulumi.runtime.test
def test_the_mocks_answer_every_invoke_the_components_make(mocks):
    keys = Keys("keys", KeysArgs(domains=["logs"], alias_prefix="team-a"))

    def check(policy_and_arn):
        policy, arn = policy_and_arn
        # Caller identity, region and partition all reached the key policy and the ARN.
        assert f"arn:aws:iam::{testing.ACCOUNT_ID}:root" in policy
        assert arn.startswith(f"arn:aws:kms:eu-west-1:{testing.ACCOUNT_ID}:key/")
        (key,) = mocks.of_type("aws:kms/key:Key")
        assert (key.name, key.inputs["enableKeyRotation"]) == ("keys-logs", True)

    return pulumi.Output.all(keys.keys["logs"].policy, keys.arns["logs"]).apply(check)


def test_a_wrong_type_is_a_type_error_naming_the_python_field(mocks):
    with pytest.raises(TypeError) as error:
        Network("net", _network_args(az_count="2"))

    assert str(error.value) == "Network net: NetworkArgs.az_count: expected int, got str '2'"
    assert mocks.created == []  # refused before anything was registered


def test_a_bool_is_not_an_int_and_an_input_may_be_an_output():
    assert arguments.type_problems(_network_args(az_count=True)) == [
        "NetworkArgs.az_count: expected int, got bool True"
    ]
    assert arguments.type_problems(_network_args(flow_log_kms_key_arn=3)) == [
        "NetworkArgs.flow_log_kms_key_arn: expected str (or an Output), got int 3"
    ]
    assert (
        arguments.type_problems(_network_args(flow_log_kms_key_arn=pulumi.Output.from_input("k")))
        == []
    )
    # Any sequence where a tuple is annotated, but never a string.
    assert arguments.type_problems(_network_args(interface_endpoint_services=["sts"])) == []
    assert arguments.type_problems(_network_args(interface_endpoint_services="sts")) == [
        "NetworkArgs.interface_endpoint_services: expected tuple[str, ...], got str 'sts'"
    ]


def test_a_rule_names_the_python_fields_not_the_stack_files(mocks):
    args = CacheArgs(
        name_prefix="team-a",
        vpc_id="vpc-1",
        allowed_security_group_ids={"nodes": "sg-1"},
        kms_key_arn=KEY,
        logs_kms_key_arn=KEY,
        subnet_group_name="team-a-cache",
        multi_az=True,
    )
    with pytest.raises(ValueError) as error:
        Cache("cache", args)

    assert str(error.value) == (
        "Cache cache: multi_az needs num_cache_clusters >= 2 (a primary and a replica to fail "
        "over to)"
    )


def _public_modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(components.__path__, "components.")
        if not info.name.rsplit(".", 1)[-1].startswith("_")
    ]


def test_every_public_module_declares_its_api():
    missing, dangling = [], []
    for name in _public_modules():
        module = importlib.import_module(name)
        if "__all__" not in vars(module):
            missing.append(name)
            continue
        dangling += [f"{name}.{n}" for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
    assert dangling == []


def test_every_args_class_has_resolvable_annotations():
    """The type check reads the annotations; one it cannot resolve would check nothing."""
    args_classes = {
        cls
        for name in _public_modules()
        for cls in vars(importlib.import_module(name)).values()
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__name__.endswith("Args")
    }
    assert len(args_classes) >= 15
    unresolved = [cls.__qualname__ for cls in args_classes if not arguments._hints(cls)]
    assert unresolved == []


def test_the_distribution_is_a_versioned_typed_package_under_a_name_of_its_own():
    import sys
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text())
    project = config["project"]
    assert project["name"] == components.DISTRIBUTION == "acme-platform-components"
    assert project["name"].replace("-", "_") not in sys.stdlib_module_names
    # Reproducible builds: the backend and the version plugin exactly pinned.
    assert all("==" in r for r in config["build-system"]["requires"])
    assert "version" not in project and project["dynamic"] == ["version"]
    assert config["tool"]["setuptools_scm"]["fallback_version"] == "0.0.0"
    assert (root / "components" / "py.typed").exists()
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["components"]
    assert "## [Unreleased]" in (root / "CHANGELOG.md").read_text()
