"""Validate custom resources against the CRD schemas of the pinned operator versions.

The fixtures in tests/fixtures/crds/ are the CRDs' own `openAPIV3Schema`s (see extract.py
there for the source tags). The API server prunes unknown fields of a structural schema
silently, so here an object with properties but no `additionalProperties` (and no
`x-kubernetes-preserve-unknown-fields`) is closed: a misspelt key fails the test instead of
vanishing in the cluster.
"""

from __future__ import annotations

import functools
import json
import pathlib

import jsonschema

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "crds"


def _to_json_schema(node):
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    open_ended = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
    if "properties" in node and not open_ended:
        out["additionalProperties"] = False
    return out


def to_json_schema(crd_schema: dict) -> dict:
    """A CRD's openAPIV3Schema as JSON Schema, closed like the API server's pruning."""
    return _to_json_schema(crd_schema)


@functools.cache
def _schemas() -> dict[str, tuple[dict, str]]:
    found = {}
    for path in sorted(FIXTURES.glob("*.json")):
        fixture = json.loads(path.read_text())
        source = f"{fixture['source']['repository']}@{fixture['source']['tag']}"
        for key, schema in fixture["schemas"].items():
            found[key] = (_to_json_schema(schema), source)
    return found


def known(api_version: str, kind: str) -> bool:
    return f"{api_version}/{kind}" in _schemas()


def problems(manifest: dict) -> list[str]:
    """Every schema violation of one custom resource; raises KeyError for an unknown kind."""
    schema, source = _schemas()[f"{manifest['apiVersion']}/{manifest['kind']}"]
    body = {k: v for k, v in manifest.items() if k != "metadata"}
    errors = jsonschema.Draft7Validator(schema).iter_errors(body)
    name = manifest.get("metadata", {}).get("name", "?")
    return [
        f"{manifest['kind']} {name}: {'.'.join(map(str, e.absolute_path)) or '<root>'}: "
        f"{e.message} (schema from {source})"
        for e in errors
    ]
