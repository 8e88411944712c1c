"""The stack file's JSON Schema: generated from the settings model (`make schema`), committed,
pointed at by every stack file's modeline, and a real check: the committed stack files and a
merge-key example pass check-jsonschema, mistakes do not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config import read_stack_config
from infra.config.schema import SCHEMA_PATH, rendered

ROOT = Path(__file__).resolve().parent.parent
CHECK = [str(Path(sys.executable).parent / "check-jsonschema"), "--schemafile", str(SCHEMA_PATH)]
MODELINE = "# yaml-language-server: $schema=./infra/config/stack.schema.json"
STACKS = ("dev", "uat", "prod", "local")


def _check(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CHECK, *map(str, files)], capture_output=True, text=True, timeout=60)


def test_the_committed_schema_is_the_generated_one():
    assert SCHEMA_PATH.read_text() == rendered(), "run `make schema` and commit the result"


def _undescribed(node: dict, path: str = "") -> list[str]:
    missing = []
    for key, child in node.get("properties", {}).items():
        here = f"{path}.{key}" if path else key
        if "description" not in child:
            missing.append(here)
        missing += _undescribed(child, here)
    for step, mark in (("items", "[]"), ("additionalProperties", ".*")):
        if isinstance(node.get(step), dict):
            missing += _undescribed(node[step], path + mark)
    for option in node.get("anyOf", []):
        missing += _undescribed(option, path)
    return missing


def test_every_key_is_documented():
    schema = json.loads(SCHEMA_PATH.read_text())
    config = schema["properties"]["config"]
    assert len(config["properties"]) > 15
    assert _undescribed(config) == []


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_file_points_editors_at_the_schema_and_passes_it(stack):
    path = ROOT / f"Pulumi.{stack}.yaml"
    assert path.read_text().splitlines()[0] == MODELINE
    result = _check(path)
    assert result.returncode == 0, result.stdout + result.stderr


MERGE_KEYS = """\
config:
  aws:region: eu-west-1
  platform:cluster:
    adminRoleArns: ["arn:aws:iam::123456789012:role/admin"]
    publicAccessCidrs: ["203.0.113.0/24"]
  platform:services:
    - &api
      name: api
      image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api
      tags: {blue: "1.4.2", green: "1.4.2"}
      allowPlainHttp: true
    - <<: *api
      name: web
      hostnames: [web.example.com]
"""


def test_anchors_and_merge_keys_are_standard_yaml_and_accepted(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(MERGE_KEYS)
    result = _check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    services = read_stack_config("dev", tmp_path)["platform:services"]
    assert [s["name"] for s in services] == ["api", "web"]
    assert services[1]["image"] == services[0]["image"]  # merged from the anchor
    assert services[1]["hostnames"] == ["web.example.com"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("config:\n  platform:netwrok: {}\n", "platform:netwrok"),
        ("config:\n  platfrom:owner: x\n", "platfrom:owner"),
        ("config:\n  platform:network: {azCuont: 3}\n", "azCuont"),
        ("config:\n  platform:app: {replicas: '3'}\n", "replicas"),
        ("config:\n  platform:cluster: {version: 1.35}\n", "version"),
        ("config:\n  platform:slackWebhookUrl: https://hooks.slack.com/x\n", "slackWebhookUrl"),
        ("config:\n  platform:network: {natGateways: perAZ}\n", "natGateways"),
    ],
    ids=[
        "section-typo",
        "namespace-typo",
        "key-typo",
        "text-for-number",
        "number-for-text",
        "plain-secret",
        "wrong-case-enum",
    ],
)
def test_the_schema_refuses_what_settings_refuses(tmp_path, text, says):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    result = _check(path)
    assert result.returncode != 0
    assert says in result.stdout + result.stderr
