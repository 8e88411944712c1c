"""What the cluster's admission would say about objects: their Pod Security level and schema.

Shared by tests/test_kubernetes_objects.py (objects the program creates itself) and
tests/test_helm_render.py (objects the charts render).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components import pod_security
from infra.offline.mockengine import Recording
from tests import kubernetes_schemas

NAMESPACE = "kubernetes:core/v1:Namespace"
# Namespaces the program does not create, with the level they enforce: EKS's Pod Security
# admission defaults to `privileged` where a namespace has no label, and kube-system has none.
UNLABELLED = {"kube-system": "privileged"}


def enforced_levels(recording: Recording) -> dict[str, str]:
    """namespace -> the Pod Security level it enforces (from the Namespace objects' labels)."""
    levels = dict(UNLABELLED)
    for namespace in recording.of_type(NAMESPACE):
        metadata = namespace.inputs["metadata"]
        labels = metadata.get("labels") or {}
        levels[metadata["name"]] = labels.get(pod_security.ENFORCE_LABEL, "privileged")
    return levels


POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}

# The ECK operator builds the Elasticsearch and Kibana pods from their `podTemplate` and adds
# its own defaults where the template leaves them out (cloud-on-k8s v3.5.0,
# pkg/controller/elasticsearch/securitycontext and nodespec/podspec.go,
# pkg/controller/kibana/securitycontext.go): a pod securityContext when the template has
# none (Elasticsearch: unless the operator runs on OpenShift), a container securityContext
# for each container that sets none. The model adds only the main container: ECK gives its
# init containers the same default, so they pass or fail with it.
ECK_DEFAULTS: dict[str, tuple[str, dict, dict]] = {
    # kind: (main container, pod default, container default) for stack versions >= 8.8
    "Elasticsearch": (
        "elasticsearch",
        {"fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        {
            "privileged": False,
            "readOnlyRootFilesystem": True,  # the data volume is mounted
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
        },
    ),
    "Kibana": (
        "kibana",
        {"fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
        },
    ),
}


def _operator_pod(kind: str, template: Mapping[str, Any]) -> dict[str, Any]:
    """The pod ECK creates from a declared podTemplate (its main container and defaults)."""
    main, pod_default, container_default = ECK_DEFAULTS[kind]
    spec = dict(template.get("spec") or {})
    spec.setdefault("securityContext", pod_default)
    declared = {c.get("name"): c for c in spec.get("containers") or []}
    merged = [dict(c) for c in spec.get("containers") or []]
    if main not in declared:
        merged.append({"name": main})
    for container in merged:
        if container["name"] == main:
            container.setdefault("securityContext", container_default)
    return {"metadata": template.get("metadata") or {}, "spec": {**spec, "containers": merged}}


def pod_templates(manifest: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, pod template) for every pod a workload object makes: workload controllers'
    templates, a bare Pod, and the pods ECK builds from Elasticsearch/Kibana podTemplates."""
    kind = manifest.get("kind", "")
    spec = manifest.get("spec") or {}
    if kind == "Pod":
        return [("", {"metadata": manifest.get("metadata") or {}, "spec": spec})]
    if kind in POD_TEMPLATE_PATHS:
        node: Any = manifest
        for key in POD_TEMPLATE_PATHS[kind]:
            node = (node or {}).get(key)
        return [(".".join(POD_TEMPLATE_PATHS[kind]), node or {})]
    if kind == "Elasticsearch":
        return [
            (f"spec.nodeSets[{n.get('name')}]", _operator_pod(kind, n.get("podTemplate") or {}))
            for n in spec.get("nodeSets") or []
        ]
    if kind == "Kibana":
        return [("spec.podTemplate", _operator_pod(kind, spec.get("podTemplate") or {}))]
    return []


def pod_security_problems(
    manifest: Mapping[str, Any], namespace: str, levels: Mapping[str, str]
) -> list[str]:
    """Why admission would refuse a pod of this object in its namespace ([] = admitted)."""
    name = f"{manifest.get('kind')} {namespace}/{(manifest.get('metadata') or {}).get('name')}"
    if namespace not in levels:
        return [f"{name}: namespace {namespace} has no known Pod Security level"]
    level = levels[namespace]
    return [
        f"{name} {where}: {problem} (namespace enforces {level})"
        for where, template in pod_templates(manifest)
        for problem in pod_security.template_problems(template, level)
    ]


def schema_problems(
    manifests: Iterable[Mapping[str, Any]], kubernetes_version: str
) -> tuple[list[str], list[str]]:
    """(schema violations, objects with no schema) of a set of objects; CRDs among them
    validate the custom resources they define."""
    manifests = list(manifests)
    crds = kubernetes_schemas.crd_index(manifests)
    found, unknown = [], []
    for manifest in manifests:
        problems = kubernetes_schemas.problems(manifest, kubernetes_version, crds)
        if problems is None:
            name = (manifest.get("metadata") or {}).get("name")
            unknown.append(f"{manifest.get('apiVersion')}/{manifest.get('kind')} {name}")
        else:
            found += problems
    return found, unknown
