"""EKS cluster on pulumi-eks, with the defaults terraform-aws-eks has and pulumi-eks lacks.

* Control plane: private API endpoint (public only with named CIDRs), authentication mode `API`
  with access entries (no aws-auth ConfigMap, no implicit cluster-creator admin), KMS envelope
  encryption of Secrets, all five control-plane log types into a KMS-encrypted log group with
  retention, upgrade policy STANDARD. Workload roles use EKS Pod Identity (the agent add-on
  runs before the nodes); the IAM OIDC provider stays for IRSA exceptions and old consumers.
* Nodes (`nodes.py`): EKS managed node groups on AL2023 in the private subnets, IMDSv2 only
  (hop limit 1 by default, so pods cannot borrow the node role), encrypted gp3 roots, no
  public IPs. The node role has only the worker and ECR pull policies; the CNI policy goes to
  the vpc-cni add-on's Pod Identity role.
* Add-ons (`addons.py`): EKS managed add-ons with pinned versions (vpc-cni with network policy
  enforcement, kube-proxy, eks-pod-identity-agent before the nodes; coredns and the EBS CSI
  driver after), namespaces with Pod Security labels, a default encrypted gp3 StorageClass.
* Controllers (`controllers.py`): Helm releases of the AWS Load Balancer Controller,
  metrics-server and the node autoscaler (Karpenter or Cluster Autoscaler), each with its own
  Pod Identity role.

pulumi-eks's `Cluster` is a remote component: under the mock engine it registers as a single
`eks:index:Cluster` with no children, so only its scalar outputs are used here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.arguments import require_valid
from components.cluster.addons import InCluster, eks_addon, namespaces, storage_classes
from components.cluster.args import ClusterArgs, validate
from components.cluster.controllers import controllers
from components.cluster.karpenter import DISCOVERY_TAG, karpenter
from components.cluster.nodes import node_groups
from components.cluster.policies import ebs_csi_kms_policy
from components.cluster.rules import LOG_TYPES
from components.iam import PodIdentityCluster, WorkloadRole, pod_identity_role, service_role
from components.logs import encrypted_log_group

__all__ = [
    "NODE_POLICIES",
    "Cluster",
    "harden_eks_children",
]


NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")


def harden_eks_children(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
    """Resource transform for pulumi-eks's children: no implicit cluster-creator admin.

    pulumi-eks hard-codes `bootstrapClusterCreatorAdminPermissions: true` on its inner
    `aws.eks.Cluster` and exposes no option for it; a transform reaches into the remote
    component (properties arrive with engine, i.e. camelCase, names). Admins come only from
    `ClusterArgs.admin_role_arns`.
    """
    if args.type_ != "aws:eks/cluster:Cluster":
        return pulumi.ResourceTransformResult(props=args.props, opts=args.opts)
    props = dict(args.props)
    access = dict(props.get("accessConfig") or {})
    access["authenticationMode"] = "API"
    access["bootstrapClusterCreatorAdminPermissions"] = False
    props["accessConfig"] = access
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


class Cluster(pulumi.ComponentResource):
    """Hardened EKS cluster with managed node groups, add-ons and cluster controllers.

    Outputs: `cluster_name`, `endpoint`, `oidc_provider_arn`, `oidc_issuer`, `kubeconfig`
    (secret), `cluster_security_group_id`, `node_security_group_id` (every node carries it:
    allow data stores from it), `node_role_arn`, `provider` (Kubernetes provider for
    everything in-cluster), `namespaces` (name -> Namespace), `namespace_names`,
    `system_namespace`, `node_groups` (name -> NodeGroup), `addons` (name -> Addon),
    `releases` (chart -> Release), `workloads_ready` (what a workload needs before its pods
    can become Ready: every node group, CoreDNS, the EBS CSI driver and the gp3 class),
    `pod_identity` (what a Pod Identity role is confined to).
    `service_account_role(...)` makes Pod Identity roles for other components.
    """

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("Cluster", name, args, lambda: validate(args))  # before registering anything
        super().__init__("platform:cluster:Cluster", name, None, opts)
        self.args = args
        addon_versions = args.resolved_addon_versions()
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        self._partition = aws.get_partition_output(opts=invoke_opts).partition
        self._region = aws.get_region_output(opts=invoke_opts).region
        self._account_id = aws.get_caller_identity_output(opts=invoke_opts).account_id

        self._control_plane(name, args)
        self.cluster_arn: pulumi.Output[str] = pulumi.Output.all(
            self._partition, self._region, self._account_id, self.cluster_name
        ).apply(lambda v: f"arn:{v[0]}:eks:{v[1]}:{v[2]}:cluster/{v[3]}")
        self.pod_identity = PodIdentityCluster(
            cluster_name=self.cluster_name,
            cluster_arn=self.cluster_arn,
            account_id=self._account_id,
        )
        admin_grants = self._admins(name, args)
        node_role, node_role_policies = service_role(
            f"{name}-node",
            service_principal="ec2.amazonaws.com",
            account_id=self._account_id,
            partition=self._partition,
            aws_managed_policies=[
                *NODE_POLICIES,
                *(["AmazonSSMManagedInstanceCore"] if args.node_ssm_access else []),
            ],
            description=f"EKS nodes of {args.cluster_name}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.node_role_arn: pulumi.Output[str] = node_role.arn

        cni_role = self.service_account_role(
            f"{name}-vpc-cni",
            namespace="kube-system",
            service_account="aws-node",
            managed_policy_arns=[self._aws_policy("AmazonEKS_CNI_Policy")],
            associate=False,  # the add-on owns its association
        )
        ebs_role = self.service_account_role(
            f"{name}-ebs-csi",
            namespace="kube-system",
            service_account="ebs-csi-controller-sa",
            inline_policies={
                "kms": pulumi.Output.from_input(args.ebs_kms_key_arn).apply(
                    lambda arn: json.dumps(ebs_csi_kms_policy(arn))
                )
            },
            managed_policy_arns=[self._aws_policy("service-role/AmazonEBSCSIDriverPolicy")],
            associate=False,
        )

        # With bootstrap_self_managed_addons off the cluster starts without networking, so the
        # node-level add-ons (DaemonSets) go first and the nodes wait for them; Deployments
        # (coredns, the EBS CSI controller) wait for the nodes, or they would sit DEGRADED.
        def addon(addon_name: str, identity=None, **kwargs) -> aws.eks.Addon:
            self.addons[addon_name] = eks_addon(
                self, name, addon_name, addon_versions[addon_name], self.cluster_name,
                identity, **kwargs,
            )  # fmt: skip
            return self.addons[addon_name]

        self.addons: dict[str, aws.eks.Addon] = {}
        cni_config = {"enableNetworkPolicy": "true"} if args.network_policy else None
        before_nodes = [
            addon("vpc-cni", ("aws-node", cni_role.arn), config=cni_config),
            addon("kube-proxy"),
            addon("eks-pod-identity-agent"),
        ]
        self.node_groups = node_groups(
            self,
            name,
            args,
            cluster_name=self.cluster_name,
            node_role_arn=self.node_role_arn,
            node_security_group_id=self.node_security_group_id,
            depends_on=[*before_nodes, *node_role_policies, *args.egress],
        )
        after_nodes = list(self.node_groups.values())
        coredns = addon("coredns", depends_on=after_nodes)
        ebs_csi = addon(
            "aws-ebs-csi-driver", ("ebs-csi-controller-sa", ebs_role.arn), depends_on=after_nodes
        )

        # Everything in-cluster goes through this provider; it waits for the admin access
        # entries, since the cluster creator has no implicit access, and for egress, so that
        # `pulumi destroy` deletes every in-cluster object (and the ALBs their finalizers
        # remove) before NAT and the endpoints go.
        api_rules = self._private_api_access(name, args)
        self._previewers(name, args)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.eks.kubeconfig_json,
            # A stable identity: when a preview cannot know the kubeconfig (it is computed),
            # the provider is not planned for replacement, and with it every object in the
            # cluster (pulumi-kubernetes DiffConfig).
            cluster_identifier=args.cluster_name,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*admin_grants, *api_rules, *args.egress]
            ),
        )
        where = InCluster(parent=self, provider=self.provider, name=name)
        self.namespaces, self.system_namespace = namespaces(where, args)
        self.namespace_names: dict[str, pulumi.Output[str]] = {
            ns: resource.metadata.name for ns, resource in self.namespaces.items()
        }
        self.storage_class = storage_classes(where, args, ebs_csi)
        self.workloads_ready: list[pulumi.Resource] = [
            *after_nodes,
            coredns,
            ebs_csi,
            self.storage_class,
        ]
        self.releases = controllers(
            where,
            args,
            args.resolved_chart_versions(),
            [*after_nodes, coredns],
            cluster_name=self.cluster_name,
            region=self._region,
            partition=self._partition,
            account_id=self._account_id,
            workload_role=self.service_account_role,
        )
        self.karpenter: dict[str, pulumi.Resource] = {}
        if args.karpenter:
            self.karpenter = karpenter(
                where,
                args,
                # Like the other controllers: kube-system meets none of the LB controller's
                # webhooks (components/cluster/controllers.py), so no wait for it.
                [*after_nodes, coredns],
                cluster_name=self.cluster_name,
                endpoint=self.endpoint,
                region=self._region,
                partition=self._partition,
                account_id=self._account_id,
                workload_role=self.service_account_role,
            )
            self.releases.update(
                {name: self.karpenter[part] for name, part in
                 (("karpenter-crd", "crds"), ("karpenter", "controller"))}
            )  # fmt: skip

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "oidcProviderArn": self.oidc_provider_arn,
                "oidcIssuer": self.oidc_issuer,
                "kubeconfig": self.kubeconfig,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "nodeSecurityGroupId": self.node_security_group_id,
                "nodeRoleArn": self.node_role_arn,
                "namespaces": self.namespace_names,
            }
        )

    # -- control plane ------------------------------------------------------------------------
    def _control_plane(self, name: str, args: ClusterArgs) -> None:
        # Created first so EKS finds it instead of making its own without KMS or retention.
        log_group = encrypted_log_group(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_days=args.log_retention_days,
            kms_key_arn=args.log_kms_key_arn,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        self.eks = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            endpoint_private_access=True,
            endpoint_public_access=args.public_endpoint,
            public_access_cidrs=list(args.public_access_cidrs) if args.public_endpoint else None,
            authentication_mode=eks.AuthenticationMode.API,
            encryption_config_key_arn=args.secrets_kms_key_arn,
            enabled_cluster_log_types=list(LOG_TYPES),
            create_oidc_provider=True,
            kubernetes_service_ip_address_range=args.service_ipv4_cidr,
            deletion_protection=args.protect,
            # No default self-managed node group, no aws-auth, no add-ons of pulumi-eks's own:
            # node groups and every add-on are managed below, with pinned versions.
            skip_default_node_group=True,
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            # Karpenter finds the node security group by this tag (subnets: `Network`).
            node_security_group_tags=(
                {DISCOVERY_TAG: args.cluster_name} if args.karpenter else None
            ),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=[log_group],
                transforms=[harden_eks_children],
            ),
        )
        # The physical name, but only once the cluster exists (its kubeconfig is known), so
        # everything naming the cluster waits for it.
        self.cluster_name: pulumi.Output[str] = self.eks.kubeconfig_json.apply(
            lambda _: args.cluster_name
        )
        self.endpoint: pulumi.Output[str] = self.eks.kubeconfig.apply(_api_server)
        self.oidc_provider_arn: pulumi.Output[str] = self.eks.oidc_provider_arn
        self.oidc_issuer: pulumi.Output[str] = self.eks.oidc_issuer
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(self.eks.kubeconfig_json)
        self.cluster_security_group_id: pulumi.Output[str] = self.eks.cluster_security_group_id
        self.node_security_group_id: pulumi.Output[str] = self.eks.node_security_group_id

    def _admins(self, name: str, args: ClusterArgs) -> list[pulumi.Resource]:
        admin_policy = self._partition.apply(
            lambda p: f"arn:{p}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        grants: list[pulumi.Resource] = []
        for index, principal in enumerate(args.admin_role_arns):
            key = _role_key(principal, index)
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{key}",
                cluster_name=self.cluster_name,
                principal_arn=principal,
                type="STANDARD",
                opts=pulumi.ResourceOptions(parent=self),
            )
            grants.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{key}",
                    cluster_name=self.cluster_name,
                    principal_arn=entry.principal_arn,
                    policy_arn=admin_policy,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return grants

    def _previewers(self, name: str, args: ClusterArgs) -> None:
        """Discovery-only access for the pull-request preview roles (an entry, no policy);
        read-everything for the drift check's role (AdminView: Secrets, no writes)."""
        for index, principal in enumerate(args.preview_role_arns):
            aws.eks.AccessEntry(
                f"{name}-preview-{_role_key(principal, index)}",
                cluster_name=self.cluster_name,
                principal_arn=principal,
                type="STANDARD",
                opts=pulumi.ResourceOptions(parent=self),
            )
        view = self._partition.apply(
            lambda p: f"arn:{p}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
        )
        for index, principal in enumerate(args.reader_role_arns):
            key = _role_key(principal, index)
            entry = aws.eks.AccessEntry(
                f"{name}-reader-{key}",
                cluster_name=self.cluster_name,
                principal_arn=principal,
                type="STANDARD",
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-reader-{key}",
                cluster_name=self.cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=view,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _private_api_access(
        self, name: str, args: ClusterArgs
    ) -> list[aws.vpc.SecurityGroupIngressRule]:
        """HTTPS to the private API endpoint from the named ranges (deployers, CI, VPN)."""
        return [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-{index}",
                security_group_id=self.cluster_security_group_id,
                description="Kubernetes API (private endpoint) from deployers and operators",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for index, cidr in enumerate(args.private_access_cidrs)
        ]

    # -- helpers ------------------------------------------------------------------------------
    def service_account_role(
        self,
        resource_name: str,
        *,
        namespace: str,
        service_account: str,
        inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
        managed_policy_arns: Sequence[pulumi.Input[str]] = (),
        associate: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> WorkloadRole:
        """Pod Identity role of exactly one service account of this cluster, with its
        association (`components.iam.pod_identity_role`).

        Other components (application data access, observability) call this with
        `opts=pulumi.ResourceOptions(parent=<their component>)`; the default parent is the
        cluster. Workloads using it wait for `<result>.ready` (no annotation is involved).
        """
        return pod_identity_role(
            resource_name,
            cluster=self.pod_identity,
            namespace=namespace,
            service_account=service_account,
            inline_policies=inline_policies,
            managed_policy_arns=managed_policy_arns,
            associate=associate,
            opts=opts or pulumi.ResourceOptions(parent=self),
        )

    def _aws_policy(self, policy: str) -> pulumi.Output[str]:
        return self._partition.apply(lambda p: f"arn:{p}:iam::aws:policy/{policy}")


def _api_server(kubeconfig: object) -> str:
    config = json.loads(kubeconfig) if isinstance(kubeconfig, str) else kubeconfig
    return config["clusters"][0]["cluster"]["server"]  # type: ignore[index]


def _role_key(principal: pulumi.Input[str], index: int) -> str:
    """A stable resource-name key for an admin role: its name when known, else its position."""
    if isinstance(principal, str):
        return re.sub(r"[^A-Za-z0-9-]", "-", principal.rsplit("/", 1)[-1]).lower()
    return str(index)
