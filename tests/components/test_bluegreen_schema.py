"""Every manifest of BlueGreenService validates against the Kubernetes OpenAPI schema.

`strict=True` also rejects fields the API does not know (a typo such as `readOnlyRootFilesytem`
would otherwise be silently dropped by the API server and the hardening lost).
"""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from kubernetes_validate.utils import ValidationError

from components.alb import AlbGroup
from components.bluegreen import BlueGreenServiceArgs
from components.bluegreen import manifests as m
from infra.config.profiles import PROFILES
from tests import crd_schemas

# Validate against the Kubernetes version every environment's cluster runs (from the
# profiles), so bumping the cluster version re-validates every manifest.
CLUSTER_VERSIONS = {
    profile["cluster"]["version"] if "cluster" in profile else profile["local"]["kubernetesVersion"]
    for profile in PROFILES.values()
}
assert len(CLUSTER_VERSIONS) == 1, f"environments run different versions: {CLUSTER_VERSIONS}"
KUBERNETES_SCHEMA_VERSION = f"{CLUSTER_VERSIONS.pop()}.0"

BASE = dict(
    service_name="web",
    namespace="apps",
    image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/web",
    tags={"blue": "1.4.0", "green": "1.5.0-rc.1"},
    alb_source_cidrs=("10.0.0.0/22", "10.0.4.0/22"),
)
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c"
ROLE = "arn:aws:iam::123456789012:role/web-app"

CONFIGS = {
    "dev-plain": {},
    "uat-hpa": {"autoscaling": True, "env_config_map": "platform-env"},
    "prod-hpa-tls-irsa": {
        "active_color": "green",
        "replicas": 3,
        "autoscaling": True,
        "zone_spread_strict": True,
        "certificate_arn": CERT,
        "irsa_role_arn": ROLE,
        "alb": AlbGroup(
            name="public",
            scheme="internet-facing",
            inbound_cidrs=("203.0.113.0/24",),
            access_logs_bucket="platform-prod-alb-logs",
        ),
        "hostnames": ("app.example.com", "*.app.example.com"),
        "prometheus_pod_monitor": True,
    },
    "canary": {"traffic_split": 25, "certificate_arn": CERT},
    "idle-zero": {"idle_replicas": 0, "replicas": 3},
    "idle-zero-hpa": {"idle_replicas": 0, "autoscaling": True, "irsa_role_arn": ROLE},
    "separate-metrics-port": {"metrics_port": 9090, "pre_stop_sleep_seconds": 0},
    "paths": {"hostnames": ("app.example.com",), "paths": ("/api/*", "/v?/status")},
    "worker": {"kind": "worker", "idle_replicas": 0, "autoscaling": True},
}


def manifests(config: dict) -> dict[str, dict]:
    return m.build_manifests(BlueGreenServiceArgs(**BASE, **config))


def test_the_clusters_schema_version_is_shipped_by_the_validator():
    assert KUBERNETES_SCHEMA_VERSION in kubernetes_validate.utils.all_versions()


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_every_manifest_validates_strictly(config):
    built = manifests(config)
    kinds = {(x["apiVersion"], x["kind"]) for x in built.values()}
    assert ("apps/v1", "Deployment") in kinds
    # A worker answers no requests: no Ingress, no Services.
    web = config.get("kind") != "worker"
    assert (("networking.k8s.io/v1", "Ingress") in kinds) is web
    assert (("v1", "Service") in kinds) is web
    for part, manifest in built.items():
        if crd_schemas.known(manifest["apiVersion"], manifest["kind"]):
            assert crd_schemas.problems(manifest) == [], part
            continue
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_SCHEMA_VERSION, strict=True)
        except ValidationError as err:  # pragma: no cover - message for the failing case
            pytest.fail(f"{part} does not validate: {err}")


def test_configurations_cover_hpa_pdb_and_scaled_to_zero_variants():
    """Guards the parametrisation above: each optional object kind is actually validated."""
    kinds_per_config = {name: set(manifests(c)) for name, c in CONFIGS.items()}
    assert "hpa-blue" in kinds_per_config["uat-hpa"]
    assert "hpa-blue" not in kinds_per_config["dev-plain"]
    assert "pdb-green" not in kinds_per_config["idle-zero"]
    assert "hpa-green" not in kinds_per_config["idle-zero-hpa"]
    prod = manifests(CONFIGS["prod-hpa-tls-irsa"])
    assert "eks.amazonaws.com/role-arn" in prod["serviceaccount"]["metadata"]["annotations"]
    assert prod["podmonitor"]["kind"] == "PodMonitor"


def test_crd_validation_catches_a_misspelt_pod_monitor_field():
    """The CRD schema is not vacuous: a typo inside the scrape endpoint is reported."""
    monitor = copy.deepcopy(manifests(CONFIGS["prod-hpa-tls-irsa"])["podmonitor"])
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    endpoint["relabellings"] = endpoint.pop("relabelings")
    assert any("relabellings" in p for p in crd_schemas.problems(monitor))


def test_strict_validation_catches_a_misspelt_hardening_field():
    """The validator is not vacuous: a typo in the security context is rejected."""
    deployment = copy.deepcopy(manifests({})["deployment-blue"])
    sc = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    sc["readOnlyRootFilesytem"] = sc.pop("readOnlyRootFilesystem")
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_SCHEMA_VERSION, strict=True)
