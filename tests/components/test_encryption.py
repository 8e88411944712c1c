"""Keys component under the mock engine."""

from __future__ import annotations

import json

import pytest

from components.encryption import DOMAIN_SERVICES, Keys, KeysArgs
from infra.offline.mockengine import run_program


def keys(domains, **overrides):
    args = KeysArgs(domains=domains, **{"alias_prefix": "platform-test", **overrides})
    return run_program(lambda: Keys("keys", args), stack="test", config={})


def statements(key) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}


def test_one_rotating_key_and_alias_per_domain():
    rec = keys(list(DOMAIN_SERVICES))
    assert len(rec.of_type("aws:kms/key:Key")) == len(DOMAIN_SERVICES)
    aliases = sorted(a.inputs["name"] for a in rec.of_type("aws:kms/alias:Alias"))
    assert aliases == sorted(f"alias/platform-test-{d}" for d in DOMAIN_SERVICES)
    assert all(k.inputs["enableKeyRotation"] for k in rec.of_type("aws:kms/key:Key"))


def test_service_use_is_scoped_to_the_domain_services_account_and_region():
    rec = keys(["database"])
    statement = statements(rec.one("aws:kms/key:Key", "keys-database"))[
        "AllowUseThroughDomainServices"
    ]
    condition = statement["Condition"]["StringEquals"]
    assert condition["kms:CallerAccount"] == "123456789012"
    assert condition["kms:ViaService"] == [
        "rds.eu-west-1.amazonaws.com",
        "secretsmanager.eu-west-1.amazonaws.com",
        "backup.eu-west-1.amazonaws.com",
    ]
    assert "kms:*" not in statement["Action"]


def test_cloudwatch_logs_may_use_only_the_logs_key_for_this_accounts_log_groups():
    rec = keys(["logs", "storage"])
    logs = statements(rec.one("aws:kms/key:Key", "keys-logs"))["AllowCloudWatchLogs"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:eu-west-1:123456789012:log-group:*"
    )
    assert "AllowCloudWatchLogs" not in statements(rec.one("aws:kms/key:Key", "keys-storage"))


def test_protect_flag_protects_every_key():
    rec = keys(["storage", "database"], protect=True)
    assert all(k.protect for k in rec.of_type("aws:kms/key:Key"))
    assert not any(k.protect for k in keys(["storage"]).of_type("aws:kms/key:Key"))


def test_unknown_domain_is_rejected():
    with pytest.raises(ValueError, match=r"unknown key domains \['billing'\]"):
        keys(["billing"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"deletion_window_days": 3}, "deletion_window_days 3: allowed 7..30"),
        ({"alias_prefix": "aws-platform"}, "alias_prefix"),
    ],
)
def test_invalid_args_are_refused_before_any_key_exists(overrides, message):
    from infra.offline import mockengine

    with pytest.raises(ValueError, match=message):
        keys(["logs"], **overrides)
    assert not [r for r in mockengine.last_run.monitor.recorded if r.type.startswith("aws:kms")]
