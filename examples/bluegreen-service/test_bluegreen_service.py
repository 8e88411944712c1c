"""The example under Pulumi's mocks (`make test` runs it): what `pulumi up` would create."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pulumi
import pytest

from components.observability.versions import KUBE_PROMETHEUS_STACK
from components.testing import ACCOUNT_ID, AwsMocks, set_mocks

REPO = f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/web"
CERT = f"arn:aws:acm:eu-west-1:{ACCOUNT_ID}:certificate/0f1e2d3c"
CONFIG = {
    "aws:region": "eu-west-1",
    "bluegreen-service:kubeconfig": "{}",
    "bluegreen-service:clusterName": "existing",
    "bluegreen-service:clusterArn": f"arn:aws:eks:eu-west-1:{ACCOUNT_ID}:cluster/existing",
    "bluegreen-service:vpcCidr": "10.0.0.0/16",
    "bluegreen-service:albSubnetCidrs": ["10.0.0.0/22", "10.0.4.0/22"],
    "bluegreen-service:image": REPO,
    "bluegreen-service:blueTag": "1.4.0",
    "bluegreen-service:greenTag": "1.5.0",
    "bluegreen-service:activeColor": "green",
    "bluegreen-service:certificateArn": CERT,
}


def _program():
    path = Path(__file__).with_name("__main__.py")
    spec = importlib.util.spec_from_file_location("bluegreen_service", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mocks() -> AwsMocks:
    mocks = set_mocks("eu-west-1", project="bluegreen-service", stack="dev", config=CONFIG)
    pulumi.runtime.test(_program().main)()  # runs the program and waits for every resource
    return mocks


def _named(mocks: AwsMocks, type_: str) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in mocks.of_type(type_)}


def test_both_colours_run_their_own_tag_and_the_stable_service_selects_the_active_one(mocks):
    deployments = _named(mocks, "kubernetes:apps/v1:Deployment")
    images = {
        name: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for name, d in deployments.items()
        if name.startswith("web-")
    }
    assert images == {"web-blue": f"{REPO}:1.4.0", "web-green": f"{REPO}:1.5.0"}
    services = _named(mocks, "kubernetes:core/v1:Service")
    assert services["web"]["spec"]["selector"]["color"] == "green"
    assert services["web-preview"]["spec"]["selector"]["color"] == "blue"


def test_the_service_is_served_over_https_with_the_certificate(mocks):
    (ingress,) = mocks.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    annotations = ingress.inputs["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == CERT
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"


def test_prometheus_scrapes_the_service_from_the_pinned_chart(mocks):
    (monitor,) = mocks.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
    assert monitor.inputs["metadata"]["namespace"] == "apps"
    releases = {r.inputs["chart"]: r.inputs for r in mocks.of_type("kubernetes:helm.sh/v3:Release")}
    assert releases["kube-prometheus-stack"]["version"] == KUBE_PROMETHEUS_STACK.version
    # basic: metrics and alerts only, no logs pipeline.
    assert "eck-operator" not in releases


def test_the_apps_namespace_enforces_restricted_pod_security(mocks):
    namespaces = _named(mocks, "kubernetes:core/v1:Namespace")
    assert namespaces["apps"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
