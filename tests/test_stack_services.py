"""Whole-stack properties of the blue-green application services for dev, uat and prod.

Asserted over every BlueGreenService (and every Kubernetes object) the committed
Pulumi.<env>.yaml registers (tests/conftest.py); expected values come from the settings.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import ValidationError

from components.hardening import is_hardened_pod
from infra.config import read_stack_config
from infra.config.services import ServiceSettings
from infra.offline.mockengine import (
    ACCOUNT_ID,
    RecordedResource,
    Recording,
    kubernetes_manifest,
)
from infra.offline.run import plan
from tests.conftest import planned
from tests.pod_identity import assert_pod_identity, association_of

BLUE_GREEN = "platform:bluegreen:BlueGreenService"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
COLORS = ("blue", "green")
ZONE_KEY = "topology.kubernetes.io/zone"

# The product brief's autoscaling policy (DESIGN.md environments table: HPA 2..10, CPU 70 %,
# memory 80 %, 5 min scale-down); not per-environment settings, so fixed here.
HPA_MAX_REPLICAS = 10
HPA_CPU = 70
HPA_MEMORY = 80
SCALE_DOWN_WINDOW = 300

# API groups whose objects the Kubernetes OpenAPI schema covers (not Helm, not CRDs).
SCHEMA_GROUPS = {
    "core",
    "apps",
    "networking.k8s.io",
    "policy",
    "autoscaling",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "batch",
}


# -- helpers ----------------------------------------------------------------------------------
def _components(recording: Recording, settings) -> list[tuple[ServiceSettings, RecordedResource]]:
    components = {c.name: c for c in recording.of_type(BLUE_GREEN)}
    assert settings.services, "every environment runs at least one service"
    assert set(components) == {s.name for s in settings.services}
    return [(service, components[service.name]) for service in settings.services]


def _children(recording: Recording, component: RecordedResource, type_: str) -> list:
    return [r for r in recording.children_of(component) if r.type == type_]


def _by_name(resources: list[RecordedResource]) -> dict[str, RecordedResource]:
    return {r.inputs["metadata"]["name"]: r for r in resources}


def _replicas(settings, service: ServiceSettings, color: str) -> int:
    if color == service.active_color or service.idle_replicas is None:
        return settings.app.replicas
    return service.idle_replicas


def _labels(service: ServiceSettings, color: str) -> dict[str, str]:
    return {"app": service.name, "color": color}


# -- deployments ------------------------------------------------------------------------------
def test_two_deployments_per_service_with_colour_fixed_selectors(recording, settings):
    for service, component in _components(recording, settings):
        deployments = _by_name(_children(recording, component, DEPLOYMENT))
        assert set(deployments) == {f"{service.name}-{c}" for c in COLORS}
        for color in COLORS:
            deployment = deployments[f"{service.name}-{color}"].inputs
            assert deployment["metadata"]["namespace"] == service.namespace
            spec = deployment["spec"]
            assert spec["selector"] == {"matchLabels": _labels(service, color)}
            template_labels = spec["template"]["metadata"]["labels"]
            assert template_labels.items() >= _labels(service, color).items()
            tag = getattr(service.tags, color)
            assert spec["template"]["spec"]["containers"][0]["image"] == f"{service.image}:{tag}"


def test_replicas_follow_settings_where_autoscaling_is_off(recording, settings):
    for service, component in _components(recording, settings):
        for name, deployment in _by_name(_children(recording, component, DEPLOYMENT)).items():
            color = deployment.inputs["metadata"]["labels"]["color"]
            expected = _replicas(settings, service, color)
            if settings.app.autoscaling and expected > 0:
                # The HPA owns the field; setting it would reset the scale on every update.
                assert "replicas" not in deployment.inputs["spec"], name
            else:
                assert deployment.inputs["spec"]["replicas"] == expected, name


def test_hpas_exist_exactly_where_autoscaling_is_on_with_the_brief_policy(recording, settings):
    services = _components(recording, settings)
    running = [c for s, _ in services for c in COLORS if _replicas(settings, s, c) > 0]
    assert len(recording.of_type(HPA)) == (len(running) if settings.app.autoscaling else 0)
    for service, component in services:
        hpas = _by_name(_children(recording, component, HPA))
        if not settings.app.autoscaling:
            assert hpas == {}
            continue
        scaled = [c for c in COLORS if _replicas(settings, service, c) > 0]
        assert set(hpas) == {f"{service.name}-{c}" for c in scaled}
        for color in scaled:
            spec = hpas[f"{service.name}-{color}"].inputs["spec"]
            assert spec["scaleTargetRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": f"{service.name}-{color}",
            }
            assert spec["minReplicas"] == settings.app.replicas
            assert spec["maxReplicas"] == HPA_MAX_REPLICAS
            targets = {
                m["resource"]["name"]: m["resource"]["target"]
                for m in spec["metrics"]
                if m["type"] == "Resource"
            }
            assert targets == {
                "cpu": {"type": "Utilization", "averageUtilization": HPA_CPU},
                "memory": {"type": "Utilization", "averageUtilization": HPA_MEMORY},
            }
            assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == (
                SCALE_DOWN_WINDOW
            )


def test_a_disruption_budget_protects_every_running_colour(recording, settings):
    for service, component in _components(recording, settings):
        budgets = _children(recording, component, PDB)
        selected = {b.inputs["spec"]["selector"]["matchLabels"]["color"] for b in budgets}
        assert service.active_color in selected
        running = {c for c in COLORS if _replicas(settings, service, c) > 0}
        assert selected == running
        for budget in budgets:
            spec = budget.inputs["spec"]
            assert spec["selector"]["matchLabels"]["app"] == service.name
            assert spec.get("maxUnavailable") == 1 or spec.get("minAvailable")


def test_network_policies_restrict_ingress_to_the_service_pods(recording, settings):
    for service, component in _components(recording, settings):
        policies = _children(recording, component, NETWORK_POLICY)
        assert policies, service.name
        for policy in policies:
            assert policy.inputs["metadata"]["namespace"] == service.namespace
            spec = policy.inputs["spec"]
            assert spec["podSelector"] == {"matchLabels": {"app": service.name}}
            assert "Ingress" in spec["policyTypes"]
            for rule in spec["ingress"]:
                assert rule["from"] and rule["ports"], policy.name
        ports = {
            p["port"] for x in policies for r in x.inputs["spec"]["ingress"] for p in r["ports"]
        }
        assert service.port in ports


def _tier_cidrs(recording: Recording, tier: str) -> list[str]:
    # The stack's own VPC, not the replica region's recovery site.
    subnets = [
        s for s in recording.of_type("aws:ec2/subnet:Subnet") if s.name.startswith("network-")
    ]
    found = sorted(s.inputs["cidrBlock"] for s in subnets if s.inputs["tags"]["tier"] == tier)
    assert found, tier
    return found


def test_the_app_port_admits_exactly_its_namespace_its_alb_and_the_api_server_proxy(
    recording, settings
):
    """Exactly these sources, no more: a public service's pods are reached by the public
    ALB's subnets, and by the API server's service proxy from the cluster's (private)
    subnets — the path the release tool's smoke test of the idle colour takes."""
    private = _tier_cidrs(recording, "private")
    for service, component in _components(recording, settings):
        (policy,) = [
            p
            for p in _children(recording, component, NETWORK_POLICY)
            if p.name.endswith("netpol-ingress")
        ]
        (rule,) = policy.inputs["spec"]["ingress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": service.port}]
        peers = rule["from"]
        assert peers[0] == {"podSelector": {}}  # the service's own namespace
        blocks = sorted(p["ipBlock"]["cidr"] for p in peers[1:])
        alb = _tier_cidrs(recording, "public") if service.public else private
        assert blocks == sorted(set(alb) | set(private)), service.name
        assert all(set(p) == {"ipBlock"} and set(p["ipBlock"]) == {"cidr"} for p in peers[1:])


def test_the_application_role_reaches_the_pods_through_pod_identity(recording, settings):
    for service, component in _components(recording, settings):
        (account,) = _children(recording, component, SERVICE_ACCOUNT)
        role_arn = recording.outputs["services"][service.name]["roleArn"]
        assert role_arn.startswith("arn:aws:iam::")
        # No IRSA annotation: the association binds the role to the service account.
        assert "annotations" not in account.inputs["metadata"]
        # The role is the ApplicationAccess role that trusts exactly this service account.
        (access,) = [
            a
            for a in recording.of_type("platform:app_access:ApplicationAccess")
            if a.name == f"{service.name}-access"
        ]
        (role,) = [r for r in recording.children_of(access) if r.type == "aws:iam/role:Role"]
        cluster_arn = f"arn:aws:eks:{settings.region}:{ACCOUNT_ID}:cluster/{settings.name_prefix}"
        assert_pod_identity(
            recording, role, account=ACCOUNT_ID, cluster_arn=cluster_arn,
            cluster_name=settings.name_prefix, namespace=service.namespace,
            service_account=service.name,
        )  # fmt: skip
        association = association_of(recording, role)
        assert role_arn.endswith("/" + role_arn.rsplit("/", 1)[1])
        for deployment in _children(recording, component, DEPLOYMENT):
            # A pod started before its association exists gets no credentials.
            assert association.urn in deployment.dependencies, deployment.name
            pod = deployment.inputs["spec"]["template"]["spec"]
            assert pod["serviceAccountName"] == account.inputs["metadata"]["name"]


def test_zone_spread_is_strict_only_in_prod(recording, settings):
    expected = "DoNotSchedule" if settings.environment == "prod" else "ScheduleAnyway"
    for _, component in _components(recording, settings):
        deployments = _children(recording, component, DEPLOYMENT)
        assert deployments
        for deployment in deployments:
            constraints = deployment.inputs["spec"]["template"]["spec"]["topologySpreadConstraints"]
            zone = [c for c in constraints if c["topologyKey"] == ZONE_KEY]
            assert [c["whenUnsatisfiable"] for c in zone] == [expected], deployment.name


# -- schema validation ------------------------------------------------------------------------
def _api_version(resource: RecordedResource) -> tuple[str, str, str]:
    """`kubernetes:apps/v1:Deployment` -> ("apps", "apps/v1", "Deployment")."""
    _, group_version, kind = resource.type.split(":")
    group, version = group_version.split("/")
    return group, (version if group == "core" else group_version), kind


def _manifest(resource: RecordedResource) -> dict[str, Any]:
    """The object as kubectl would send it: the recorded inputs minus Pulumi-only keys."""
    manifest = kubernetes_manifest(resource)
    assert manifest is not None, resource.type
    return manifest


def _schema_objects(recording: Recording) -> list[RecordedResource]:
    objects = []
    for resource in recording.resources:
        if not resource.type.startswith("kubernetes:") or not resource.custom:
            continue
        group, _, kind = _api_version(resource)
        if group in SCHEMA_GROUPS and not kind.endswith(("Patch", "List")):
            objects.append(resource)
    return objects


def test_every_kubernetes_object_validates_against_the_clusters_openapi_schema(recording, settings):
    version = f"{settings.cluster.version}.0"
    assert version in kubernetes_validate.utils.all_versions()
    objects = _schema_objects(recording)
    kinds = {_api_version(r)[2] for r in objects}
    assert {"Deployment", "Service", "Ingress", "ConfigMap", "Namespace", "StorageClass"} <= kinds
    failures = []
    for resource in objects:
        _, api_version, kind = _api_version(resource)
        manifest = _manifest(resource)
        assert (manifest["apiVersion"], manifest["kind"]) == (api_version, kind), resource.name
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except ValidationError as err:
            failures.append(f"{resource.type} {resource.name}: {err.message} at {err.path}")
    assert failures == []


# -- promotion --------------------------------------------------------------------------------
@cache
def _flipped_prod() -> Recording:
    """The whole prod program again, with every service's activeColor flipped."""
    config = copy.deepcopy(read_stack_config("prod"))
    services = config["platform:services"]
    assert services
    for service in services:
        service["activeColor"] = "green" if service.get("activeColor", "blue") == "blue" else "blue"
    return plan("prod", config)[1]


def test_flipping_the_active_colour_changes_only_the_routing_objects():
    settings, before = planned("prod")
    after = _flipped_prod()
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    assert set(old) == set(new), "a promotion must not create or delete any resource"
    changed = [new[urn] for urn in new if new[urn].inputs != old[urn].inputs]
    assert not [r.name for r in changed if r.type == DEPLOYMENT]
    expected = {
        (type_, f"{service.name}-{part}")
        for service in settings.services
        for type_, part in (
            (SERVICE, "service-stable"),
            (SERVICE, "service-preview"),
            (INGRESS, "ingress"),
        )
    }
    assert {(r.type, r.name) for r in changed} == expected
    for service in settings.services:
        flipped = "green" if service.active_color == "blue" else "blue"
        stable = after.one(SERVICE, f"{service.name}-service-stable")
        assert stable.inputs["spec"]["selector"] == _labels(service, flipped)
        preview = after.one(SERVICE, f"{service.name}-service-preview")
        assert preview.inputs["spec"]["selector"] == _labels(service, service.active_color)


@pytest.mark.parametrize("color", COLORS)
def test_no_deployment_differs_after_a_flip(color):
    """Deployments (and so their pods) are identical whichever colour is active."""
    _, before = planned("prod")
    after = _flipped_prod()
    deployments = [r for r in before.resources if r.type == DEPLOYMENT]
    assert any(r.name.endswith(f"-{color}") for r in deployments)
    for deployment in deployments:
        if deployment.name.endswith(f"-{color}"):
            assert after.one(DEPLOYMENT, deployment.name).inputs == deployment.inputs


def test_every_pod_the_program_runs_is_hardened_and_mounts_no_api_token(recording):
    """Deployments and Jobs alike: restricted contexts, and no Kubernetes API credentials."""
    pods = [
        (r.name, r.inputs["spec"]["template"]["spec"])
        for r in recording.resources
        if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job")
    ]
    assert {name.split("-")[0] for name, _ in pods} >= {"database"}
    for name, spec in pods:
        assert spec["automountServiceAccountToken"] is False, name
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            assert is_hardened_pod(spec["securityContext"], container["securityContext"]), (
                name,
                container["name"],
            )
            assert container["resources"]["requests"], (name, container["name"])


def test_the_outputs_hold_each_services_release_state_as_applied(recording, settings):
    """What the release tool and every deploy take over an older stack file (sync.py)."""
    outputs = recording.outputs["services"]
    assert set(outputs) == {s.name for s in settings.services}
    for service in settings.services:
        entry = outputs[service.name]
        assert entry["activeColor"] == service.active_color
        assert entry["tags"] == {"blue": service.tags.blue, "green": service.tags.green}
        assert entry.get("trafficSplit") == service.traffic_split
        assert entry.get("idleReplicas") == service.idle_replicas
