"""Settings: profiles, overrides, and one test per validation rule.

Every invalid case runs the real entry path (`build(from_pulumi())`) under the mock engine and
checks both the message (config key, bad value, what is allowed) and that nothing was
registered.
"""

from __future__ import annotations

import pytest

from infra.config import SettingsError, deep_merge, load_settings
from tests.helpers import PROD_MINIMUM, REGION, rejected


def test_stack_name_selects_the_profile_and_yaml_overrides_only_what_it_names():
    settings = load_settings(
        "prod", {**PROD_MINIMUM, "platform:network": '{"cidr": "10.99.0.0/16"}'}
    )
    assert settings.environment == "prod"
    assert settings.network.cidr == "10.99.0.0/16"
    assert settings.network.az_count == 3  # untouched profile value survives the merge
    assert settings.protect is True


def test_platform_profile_selects_the_profile_for_other_stack_names():
    settings = load_settings("dev-alice", {**REGION, "platform:profile": "dev"})
    assert settings.environment == "dev"
    assert settings.name_prefix == "platform-dev-alice"


def test_deep_merge_merges_mappings_and_replaces_everything_else():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}}) == {"a": {"b": 1, "c": [3]}, "d": 1}
    assert base["a"]["c"] == [1, 2]


def test_unknown_environment_from_stack_name():
    error = rejected("staging", {})
    assert "the stack name: 'staging' is not a known environment; allowed: dev, uat, prod" in error


def test_unknown_environment_from_profile_key():
    error = rejected("sandbox", {"platform:profile": "qa"})
    assert "platform:profile: 'qa' is not a known environment" in error


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"platform:netwrok": {"cidr": "10.0.0.0/16"}},
            "platform:netwrok: unknown key; did you mean 'network'?",
        ),
        (
            {"platform:network": {"azCuont": 3}},
            "platform:network.azCuont: unknown key; did you mean 'azCount'?",
        ),
        ({"platform:network": {"zones": 3}}, "platform:network.zones: unknown key (typo?);"),
    ],
)
def test_unknown_keys_are_errors_not_ignored(config, expected):
    error = rejected("dev", config)
    assert expected in error
    assert "allowed keys here:" in error


def test_unknown_key_lists_the_allowed_keys_of_its_section():
    error = rejected("dev", {"platform:network": {"azCuont": 3}})
    assert (
        "azCount, cidr, flowLogRetentionDays, interfaceEndpoints, natGateways, recoveryCidr"
        in error
    )


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.0.0/16", "not an IPv4 network in CIDR notation"),
        ("10.0.0.0/24", "has prefix /24; allowed /16"),
        ("10.0.0.0/12", "has prefix /12; allowed /16"),
        ("52.0.0.0/16", "is not a private (RFC 1918) range"),
    ],
)
def test_vpc_cidr_must_be_well_formed_private_and_big_enough(cidr, expected):
    error = rejected("dev", {"platform:network": {"cidr": cidr}})
    assert f"platform:network.cidr = '{cidr}'" in error
    assert expected in error


@pytest.mark.parametrize(
    ("az_count", "bound"), [(1, "greater than or equal to 2"), (7, "less than or equal to 6")]
)
def test_az_count_must_be_between_2_and_6(az_count, bound):
    error = rejected("dev", {"platform:network": {"azCount": az_count}})
    assert f"platform:network.azCount = {az_count}" in error
    assert bound in error


def test_prod_needs_at_least_the_profiles_az_count():
    error = rejected("prod", {"platform:network": {"azCount": 2}})
    assert "platform:network.azCount: 2 is below prod's floor of 3" in error


def test_prod_rejects_a_single_nat_gateway():
    error = rejected("prod", {"platform:network": {"natGateways": "single"}})
    assert 'platform:network.natGateways: "single" is not allowed in prod' in error


def test_nat_gateway_mode_must_be_known():
    error = rejected("dev", {"platform:network": {"natGateways": "none"}})
    assert "platform:network.natGateways = 'none': Input should be 'single' or 'perAz'" in error


def test_prod_cannot_switch_protection_off():
    error = rejected("prod", {"platform:protect": False})
    assert "platform:protect: false is not allowed in prod; it must stay true" in error


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"platform:app": {"replicas": 0}}, "platform:app.replicas = 0"),
        ({"platform:app": {"replicas": -2}}, "platform:app.replicas = -2"),
        (
            {"platform:storage": {"noncurrentVersionExpiryDays": 0}},
            "platform:storage.noncurrentVersionExpiryDays = 0",
        ),
        (
            {"platform:storage": {"accessLogExpiryDays": -1}},
            "platform:storage.accessLogExpiryDays = -1",
        ),
    ],
)
def test_zero_or_negative_sizes_are_rejected(config, key):
    error = rejected("dev", config)
    assert key in error
    assert "greater than 0" in error


@pytest.mark.parametrize("days", [0, 10, 4000])
def test_log_retention_must_be_a_value_cloudwatch_accepts(days):
    error = rejected("dev", {"platform:network": {"flowLogRetentionDays": days}})
    assert f"platform:network.flowLogRetentionDays = {days}" in error
    assert "one of [1, 3, 5, 7, 14, 30" in error


def test_kms_deletion_window_outside_what_aws_accepts():
    error = rejected("dev", {"platform:keys": {"deletionWindowDays": 3}})
    assert (
        "platform:keys.deletionWindowDays = 3: Input should be greater than or equal to 7" in error
    )


@pytest.mark.parametrize("region", ["eu-west-9", "EU-WEST-1", "europe"])
def test_invalid_region_names_are_rejected(region):
    error = rejected("dev", {"aws:region": region})
    assert f"aws:region = '{region}': '{region}' is not an AWS region" in error


def test_missing_region_is_reported():
    with pytest.raises(SettingsError, match="aws:region: required but not set"):
        load_settings("dev", {})


def test_replica_region_must_be_a_second_real_region():
    error = rejected("prod", {"platform:storage": {"replicaRegion": "eu-west-1"}})
    assert "platform:storage.replicaRegion: 'eu-west-1' is the stack's own region" in error
    error = rejected("prod", {"platform:storage": {"replicaRegion": "mars-1"}})
    assert "platform:storage.replicaRegion: 'mars-1' is not an AWS region" in error


def test_all_problems_are_reported_at_once():
    error = rejected("dev", {"platform:network": {"azCount": 9, "cidr": "10.0.0.0/28"}})
    assert "azCount" in error and "cidr" in error
