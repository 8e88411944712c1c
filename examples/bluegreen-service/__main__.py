"""A blue-green service on an EKS cluster that already exists (with the AWS Load Balancer
Controller installed), monitored by the platform's observability stack at its `basic` level:
Prometheus, Alertmanager and Grafana, with the service's PodMonitor and alert rules.

Switching colours is a config change: `pulumi config set activeColor green && pulumi up`.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.bluegreen import BlueGreenService, BlueGreenServiceArgs
from components.identity import PodIdentityCluster
from components.kubernetes_rules import pod_security_labels
from components.observability import DataStoreThresholds, Observability, ObservabilityArgs

NAMESPACE = "apps"


def main() -> None:
    config = pulumi.Config()
    provider = k8s.Provider("cluster", kubeconfig=config.require_secret("kubeconfig"))
    in_cluster = pulumi.ResourceOptions(provider=provider)
    observability = Observability(
        "observability",
        ObservabilityArgs(
            cluster_name=config.require("clusterName"),
            region=pulumi.Config("aws").require("region"),
            k8s_provider=provider,
            control_plane_cidrs=[config.require("vpcCidr")],
            # The CloudWatch exporter's role: EKS Pod Identity (the cluster runs the
            # eks-pod-identity-agent add-on), confined to this cluster and account.
            identity=PodIdentityCluster(
                cluster_name=config.require("clusterName"),
                cluster_arn=config.require("clusterArn"),
                account_id=aws.get_caller_identity_output().account_id,
            ),
            level="basic",
            prometheus_retention="3d",
            prometheus_storage_gib=10,
            # No Aurora here: the data-store alerts stay quiet at any sensible threshold.
            alert_thresholds=DataStoreThresholds(aurora_connections=400),
        ),
        in_cluster,
    )
    namespace = k8s.core.v1.Namespace(
        NAMESPACE,
        metadata={"name": NAMESPACE, "labels": pod_security_labels("restricted")},
        opts=in_cluster,
    )
    service = BlueGreenService(
        "web",
        BlueGreenServiceArgs(
            service_name="web",
            namespace=NAMESPACE,
            image=config.require("image"),
            tags={"blue": config.require("blueTag"), "green": config.require("greenTag")},
            provider=provider,
            active_color=config.get("activeColor") or "blue",
            alb_source_cidrs=config.require_object("albSubnetCidrs"),
            certificate_arn=config.require("certificateArn"),
            prometheus_pod_monitor=True,
            monitoring_namespace=observability.monitoring_namespace,
        ),
        # The PodMonitor needs the monitoring CRDs, the pods their namespace.
        pulumi.ResourceOptions(provider=provider, depends_on=[namespace, observability.crds_ready]),
    )
    pulumi.export("activeColor", service.active_color)
    pulumi.export("namespace", NAMESPACE)


if __name__ == "__main__":  # how `pulumi up` runs this file; the test calls main() itself
    main()
