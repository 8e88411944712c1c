"""Register a plain Kubernetes manifest (a dict) as the matching typed Pulumi resource.

Components build their objects as plain, schema-testable dicts; this is the one place that
turns them into resources. Kinds without a typed SDK class here are custom resources (their
CRDs installed by an operator's chart) and become `apiextensions.CustomResource`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

__all__ = [
    "RESOURCE_TYPES",
    "register",
]


RESOURCE_TYPES: dict[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
}
# Top-level manifest fields other than metadata/spec, as SDK keyword arguments.
_EXTRA_FIELDS = {
    "automountServiceAccountToken": "automount_service_account_token",
    "stringData": "string_data",
}


def register(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    key = (manifest["apiVersion"], manifest["kind"])
    if key not in RESOURCE_TYPES:
        return k8s.apiextensions.CustomResource(
            resource_name,
            api_version=key[0],
            kind=key[1],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=opts,
        )
    kwargs = {
        _EXTRA_FIELDS.get(field, field): value
        for field, value in manifest.items()
        if field not in ("apiVersion", "kind")
    }
    return RESOURCE_TYPES[key](resource_name, opts=opts, **kwargs)
