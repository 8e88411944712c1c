"""Schema validation of any Kubernetes object, built-in or custom, for one cluster minor.

Built-in kinds: kubernetes-validate's strict OpenAPI schemas (unknown fields are errors), the
same files and validator `kubernetes_validate.validate` uses, loaded once per process instead
of once per object (a test keeps the two in agreement). Custom resources: the pinned operators'
CRD schemas in tests/fixtures/crds (tests/crd_schemas.py), or a CRD among the objects being
checked (a chart that installs its own CRDs). Anything else has no schema here: `problems`
returns None and the caller lists it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from tests import crd_schemas

_SCHEMAS = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def schema_version(kubernetes_version: str) -> str:
    """The validator's schema version for a cluster minor ("1.35" -> "1.35.0")."""
    return f"{kubernetes_version}.0"


@functools.cache
def _registry(kubernetes_version: str) -> Registry:
    path = _SCHEMAS / f"v{schema_version(kubernetes_version)}-local-strict" / "_definitions.json"
    return Resource.from_contents(json.loads(path.read_text())) @ Registry()


@functools.cache
def _builtin(kubernetes_version: str, api_version: str, kind: str):
    # kubernetes-validate's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = _SCHEMAS / f"v{schema_version(kubernetes_version)}-local-strict"
    path = folder / f"{kind.lower()}-{group_version}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    registry = Resource.from_contents(schema) @ _registry(kubernetes_version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def builtin_known(kubernetes_version: str, api_version: str, kind: str) -> bool:
    return _builtin(kubernetes_version, api_version, kind) is not None


def crd_index(objects: Iterable[Mapping[str, Any]]) -> dict[str, dict]:
    """`apiVersion/kind` -> openAPIV3Schema for every served version of every CRD given."""
    index = {}
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj.get("spec") or {}
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if version.get("served", True) and schema:
                key = f"{spec['group']}/{version['name']}/{spec['names']['kind']}"
                index[key] = schema
    return index


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(map(str, error.absolute_path)) or "<root>"


def problems(
    manifest: Mapping[str, Any],
    kubernetes_version: str,
    crds: Mapping[str, dict] | None = None,
) -> list[str] | None:
    """Every schema violation of one object ([] = valid), or None when no schema is known."""
    api_version, kind = manifest.get("apiVersion", ""), manifest.get("kind", "")
    name = (manifest.get("metadata") or {}).get("name", "?")
    if crd_schemas.known(api_version, kind):
        return crd_schemas.problems(dict(manifest))
    key = f"{api_version}/{kind}"
    if crds and key in crds:
        schema = crd_schemas.to_json_schema(crds[key])
        body = {k: v for k, v in manifest.items() if k != "metadata"}
        errors = jsonschema.Draft7Validator(schema).iter_errors(body)
        return [f"{kind} {name}: {_where(e)}: {e.message} (schema: its CRD)" for e in errors]
    validator = _builtin(kubernetes_version, api_version, kind)
    if validator is None:
        return None
    return [
        f"{kind} {name}: {_where(e)}: {e.message}" for e in validator.iter_errors(dict(manifest))
    ]
