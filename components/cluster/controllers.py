"""The cluster's controllers as pinned Helm releases, each with its own Pod Identity role.

Install order: every release waits for the nodes and CoreDNS (`depends_on`), and for nothing
else, so the three install in parallel. What the AWS Load Balancer Controller's webhooks
intercept (chart 1.12.0, templates/webhook.yaml):

* Fail-closed: every Ingress CREATE/UPDATE (`vingress`), IngressClassParams and
  TargetGroupBindings. Those objects wait for the controller (the wiring's Ingresses do).
* Pods (`mpod`, readiness gates): only in namespaces labelled
  `elbv2.k8s.aws/pod-readiness-gate-inject: enabled` (the workload namespaces), and
  `failurePolicy: Ignore`: a pod created before the controller is up silently gets no gate,
  so workloads in those namespaces wait for it too. kube-system is not labelled.
* The Service mutator (every Service CREATE) is off: only Ingress is used.

So metrics-server and Cluster Autoscaler (Services and Pods in kube-system) never meet a
webhook and need not wait for the controller; nothing needs them to be created first either
(an HPA reports unknown metrics until metrics-server serves; the autoscaler acts once up).

A release waits for its role's policies and Pod Identity association (`WorkloadRole.ready`):
a pod started before the association exists gets no credentials until it restarts.
Karpenter (`karpenter.py`) installs the same way, beside the controller.

Every release gets the restricted pod/container security contexts from
`components.hardening`, through the keys each chart reads (`CHART_SECURITY_CONTEXT_KEYS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.addons import InCluster
from components.cluster.args import ClusterArgs
from components.cluster.policies import alb_controller_policy, cluster_autoscaler_policy
from components.cluster.versions import (
    ALB_CONTROLLER,
    CHART_REPOSITORIES,
    CHART_SECURITY_CONTEXT_KEYS,
    CLUSTER_AUTOSCALER,
    CLUSTER_AUTOSCALER_PINS,
    METRICS_SERVER,
)
from components.hardening import NOBODY, container_security_context, pod_security_context
from components.iam import WorkloadRole

__all__ = [
    "CONTROLLER_NAMESPACE",
    "controllers",
    "helm_release",
    "resources",
    "service_account_values",
]


CONTROLLER_NAMESPACE = "kube-system"


def controllers(
    where: InCluster,
    args: ClusterArgs,
    charts: Mapping[str, str],
    depends_on: list[pulumi.Resource],
    *,
    cluster_name: pulumi.Input[str],
    region: pulumi.Output[str],
    partition: pulumi.Output[str],
    account_id: pulumi.Output[str],
    workload_role: Callable[..., WorkloadRole],
) -> dict[str, k8s.helm.v3.Release]:
    """The controllers, in install order; `workload_role` makes their IAM roles."""
    releases: dict[str, k8s.helm.v3.Release] = {}

    def release(chart: str, values: dict, after: list[pulumi.Resource]) -> k8s.helm.v3.Release:
        releases[chart] = helm_release(where, chart, charts[chart], values, after)
        return releases[chart]

    # Pods cannot reach IMDS (hop limit 1), so region and VPC are given explicitly.
    alb_policy = aws.iam.Policy(
        f"{where.name}-alb-controller",
        description=f"AWS Load Balancer Controller of {args.cluster_name} (reference policy)",
        policy=json.dumps(alb_controller_policy(), separators=(",", ":")),
        opts=pulumi.ResourceOptions(parent=where.parent),
    )
    alb_role = workload_role(
        f"{where.name}-alb-controller",
        namespace=CONTROLLER_NAMESPACE,
        service_account=ALB_CONTROLLER,
        managed_policy_arns=[alb_policy.arn],
    )
    pdb = {"maxUnavailable": 1} if args.controller_replicas > 1 else {}
    release(
        ALB_CONTROLLER,
        {
            "clusterName": cluster_name,
            "region": region,
            "vpcId": args.vpc_id,
            "replicaCount": args.controller_replicas,
            "serviceAccount": service_account_values(ALB_CONTROLLER),
            "podDisruptionBudget": pdb,
            "resources": resources("100m", "128Mi", "256Mi"),
            # Only Ingress is used. The Service mutator (a Fail-closed webhook on every
            # Service CREATE) would make any Service creation fail whenever the controller
            # has no ready pod: during install, upgrades and destroy.
            "enableServiceMutatorWebhook": False,
            "defaultTags": dict(args.controller_tags),
        },
        [*depends_on, *alb_role.ready],
    )
    release(
        METRICS_SERVER,
        {
            "replicas": args.controller_replicas,
            "podDisruptionBudget": {"enabled": args.controller_replicas > 1, "maxUnavailable": 1},
            "resources": resources("100m", "200Mi", "400Mi"),
        },
        depends_on,
    )
    if not args.cluster_autoscaler:
        return releases
    autoscaler_policy = pulumi.Output.all(partition, region, account_id).apply(
        lambda v: json.dumps(cluster_autoscaler_policy(args.cluster_name, *v))
    )
    autoscaler_role = workload_role(
        f"{where.name}-cluster-autoscaler",
        namespace=CONTROLLER_NAMESPACE,
        service_account=CLUSTER_AUTOSCALER,
        inline_policies={"scaling": autoscaler_policy},
    )
    release(
        CLUSTER_AUTOSCALER,
        {
            "cloudProvider": "aws",
            "awsRegion": region,
            "autoDiscovery": {"clusterName": cluster_name},
            "image": {"tag": CLUSTER_AUTOSCALER_PINS[args.kubernetes_version].image_tag},
            "rbac": {"serviceAccount": service_account_values(CLUSTER_AUTOSCALER)},
            "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste"},
            "resources": resources("100m", "300Mi", "600Mi"),
        },
        [*depends_on, *autoscaler_role.ready],
    )
    return releases


def helm_release(
    where: InCluster,
    chart: str,
    version: str,
    values: dict,
    depends_on: list[pulumi.Resource],
    *,
    oci: str | None = None,
    skip_crds: bool = False,
) -> k8s.helm.v3.Release:
    """A pinned, atomic release of one controller chart in kube-system, pods hardened.

    `oci` is the chart's OCI reference (`oci://...`, no repository); otherwise the chart comes
    from its repository in `CHART_REPOSITORIES`.
    """
    pod_key, container_key = CHART_SECURITY_CONTEXT_KEYS.get(chart, (None, None))
    hardened: dict = {}
    if pod_key:
        hardened[pod_key] = pod_security_context(uid=NOBODY)
    if container_key:
        hardened[container_key] = container_security_context()
    return k8s.helm.v3.Release(
        f"{where.name}-{chart}",
        name=chart,
        chart=oci or chart,
        version=version,
        repository_opts=(
            None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORIES[chart])
        ),
        namespace=CONTROLLER_NAMESPACE,
        skip_crds=skip_crds or None,
        values={**values, **hardened},
        # A failed install or upgrade rolls back instead of leaving a half-applied release.
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        opts=where.opts(depends_on=depends_on),
    )


def service_account_values(name: str) -> dict:
    # No role annotation: the Pod Identity association binds the role to this name.
    return {"create": True, "name": name}


def resources(cpu: str, memory: str, memory_limit: str) -> dict:
    # Requests for scheduling; a memory limit but no CPU limit (no throttling of controllers).
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}
