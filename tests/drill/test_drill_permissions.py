"""Every boto3 call the drill's adapter makes has its IAM actions listed (and nothing else is).

The calls are read from the adapter's source: `self._client(region, "<svc>").<method>(...)`,
`self._pages(region, "<svc>", "<method>", ...)`, `.get_paginator("<method>")` and calls on a
local bound to `self._client(...)`. botocore then confirms each method is a real operation.
"""

import ast
from pathlib import Path

import boto3
import pytest

from infra.drill.permissions import CALLS, actions

ADAPTERS = Path(__file__).resolve().parents[2] / "infra" / "drill" / "adapters"


def _service(node: ast.AST) -> str | None:
    """The service of a `self._client(region, "<svc>")` call."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_client"
        and len(node.args) == 2
        and isinstance(node.args[1], ast.Constant)
    ):
        return node.args[1].value
    return None


def adapter_calls() -> set[tuple[str, str]]:
    calls: set[tuple[str, str]] = set()
    for path in ADAPTERS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            bound = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and (service := _service(node.value)):
                    bound.update({t.id: service for t in node.targets if isinstance(t, ast.Name)})
            for node in ast.walk(function):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                receiver, method = node.func.value, node.func.attr
                service = _service(receiver) or (
                    bound.get(receiver.id) if isinstance(receiver, ast.Name) else None
                )
                if method == "_pages":
                    service, method = node.args[1].value, node.args[2].value
                elif service and method == "get_paginator":
                    method = node.args[0].value
                if service and method != "_client":
                    calls.add((service, method))
    return calls


def test_the_scan_finds_the_calls():
    found = adapter_calls()
    assert ("rds", "restore_db_cluster_to_point_in_time") in found  # a direct call
    assert ("s3", "put_bucket_encryption") in found  # through a local
    assert ("backup", "list_recovery_points_by_backup_vault") in found  # through _pages
    assert ("s3", "list_object_versions") in found  # through get_paginator


def test_every_call_has_its_iam_actions_and_every_listed_call_is_made():
    found = adapter_calls()
    assert sorted(found - set(CALLS)) == [], "calls without IAM actions in permissions.py"
    assert sorted(set(CALLS) - found) == [], (
        "permissions.py lists calls the adapter no longer makes"
    )


@pytest.mark.parametrize("service, method", sorted(CALLS))
def test_every_listed_call_is_a_real_boto3_operation(service, method):
    client = boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    assert method in client.meta.method_to_api_mapping, f"{service}.{method}"
    prefix = {"resourcegroupstaggingapi": "tag"}.get(service, service)
    assert any(a.startswith(f"{prefix}:") for a in CALLS[(service, method)])


def test_actions_are_service_prefixed_and_unique():
    listed = actions()
    assert listed == sorted(set(listed))
    assert all(":" in a and a.split(":")[1][0].isupper() for a in listed)


def test_the_restore_runbook_lists_every_action_of_the_drill_role():
    runbook = (ADAPTERS.parents[2] / "docs" / "restore.md").read_text()
    assert [a for a in actions() if f"`{a}`" not in runbook] == []
