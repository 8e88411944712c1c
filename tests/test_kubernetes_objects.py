"""Every Kubernetes object the program creates itself is one the API server would accept.

For each stack, every object in the recording (Deployments, Jobs, Services, NetworkPolicies,
ConfigMaps, Secrets, HPAs, PDBs, Ingresses, Namespaces, ... and the custom resources
Elasticsearch, Kibana, PodMonitor, PrometheusRule) validates strictly against the schema of
the stack's Kubernetes minor or the pinned CRDs, and every pod it makes (including the pods
ECK builds from Elasticsearch and Kibana podTemplates) is admitted by the Pod Security level
its namespace enforces. Needs no chart and no cluster: it always runs.
"""

from __future__ import annotations

import copy

import pytest

from infra.offline.mockengine import kubernetes_manifest
from tests import admission, kubernetes_schemas
from tests.conftest import planned

# Server-side-apply patches of objects the cluster already has: partial by design.
PATCHES = {"kubernetes:storage.k8s.io/v1:StorageClassPatch"}


def objects(recording) -> list[tuple[str, dict]]:
    found = []
    for resource in recording.resources:
        manifest = kubernetes_manifest(resource)
        if manifest is not None and resource.type not in PATCHES:
            found.append((resource.type, manifest))
    return found


def namespace_of(manifest: dict) -> str:
    return (manifest.get("metadata") or {}).get("namespace") or "default"


def test_the_stacks_create_every_kind_the_checks_are_about(recording):
    kinds = {m["kind"] for _, m in objects(recording)}
    assert {"Deployment", "Job", "Service", "NetworkPolicy", "ConfigMap", "Namespace",
            "PodDisruptionBudget", "Ingress", "PrometheusRule", "PodMonitor"} <= kinds  # fmt: skip
    assert kubernetes_schemas.builtin_known(
        planned("dev")[0].cluster.version, "apps/v1", "Deployment"
    )


def test_every_object_validates_against_its_schema(settings, recording):
    problems, unknown = admission.schema_problems(
        (m for _, m in objects(recording)), settings.cluster.version
    )
    assert problems == []
    assert unknown == [], "objects with no schema to validate them"


def test_every_pod_is_admitted_by_its_namespaces_pod_security_level(recording):
    levels = admission.enforced_levels(recording)
    pods = [(t, m) for t, m in objects(recording) if admission.pod_templates(m)]
    kinds = {m["kind"] for _, m in pods}
    assert {"Deployment", "Job"} <= kinds
    problems = [
        p for _, m in pods for p in admission.pod_security_problems(m, namespace_of(m), levels)
    ]
    assert problems == []


def test_uat_and_prod_check_the_pods_eck_builds():
    for env in ("uat", "prod"):
        kinds = {m["kind"] for _, m in objects(planned(env)[1]) if admission.pod_templates(m)}
        assert {"Elasticsearch", "Kibana"} <= kinds, env


def test_the_namespace_levels_come_from_the_program():
    levels = admission.enforced_levels(planned("prod")[1])
    assert levels["monitoring"] == "restricted"
    assert levels["monitoring-agents"] == "privileged"
    assert levels["apps"] == "baseline"


# -- the checks are not vacuous ----------------------------------------------------------------
def _first(recording, kind: str) -> dict:
    return copy.deepcopy(next(m for _, m in objects(recording) if m["kind"] == kind))


def test_a_pod_the_namespace_would_refuse_is_reported():
    recording = planned("prod")[1]
    levels = admission.enforced_levels(recording)
    job = _first(recording, "Job")
    assert levels[namespace_of(job)] == "restricted"
    job["spec"]["template"]["spec"]["hostNetwork"] = True
    assert admission.pod_security_problems(job, namespace_of(job), levels)


def test_kibana_without_its_pod_security_context_would_be_refused():
    """ECK's Kibana defaults lack runAsNonRoot: the program's pod context is what admits it."""
    recording = planned("prod")[1]
    levels = admission.enforced_levels(recording)
    kibana = _first(recording, "Kibana")
    del kibana["spec"]["podTemplate"]["spec"]["securityContext"]
    problems = admission.pod_security_problems(kibana, namespace_of(kibana), levels)
    assert any("Running as Non-root" in p for p in problems), problems


def test_a_misspelt_field_fails_schema_validation():
    settings, recording = planned("uat")
    policy = _first(recording, "NetworkPolicy")
    policy["spec"]["podSelectr"] = policy["spec"].pop("podSelector")
    elasticsearch = _first(recording, "Elasticsearch")
    elasticsearch["spec"]["nodeSets"][0]["cont"] = 1
    problems, _ = admission.schema_problems([policy, elasticsearch], settings.cluster.version)
    assert any("podSelectr" in p for p in problems)
    assert any("cont" in p for p in problems)


def test_the_cached_validator_agrees_with_kubernetes_validate():
    import kubernetes_validate
    from kubernetes_validate.utils import ValidationError

    settings, recording = planned("dev")
    version = settings.cluster.version
    deployment = _first(recording, "Deployment")
    kubernetes_validate.validate(
        deployment, kubernetes_schemas.schema_version(version), strict=True
    )
    assert kubernetes_schemas.problems(deployment, version) == []
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(
            deployment, kubernetes_schemas.schema_version(version), strict=True
        )
    assert kubernetes_schemas.problems(deployment, version)
