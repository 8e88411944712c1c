"""VPC with public, private and isolated (data) subnet tiers across availability zones.

    public    ALBs and NAT gateways; route to the internet gateway
    private   EKS nodes and pods; egress through NAT (one per AZ, or one shared)
    isolated  data stores; no route out of the VPC at all (S3 via the gateway endpoint)

Also: VPC flow logs (KMS-encrypted log group with retention), the default security group
emptied so nothing can use it by accident, gateway/interface VPC endpoints, the subnet tags the
AWS Load Balancer Controller discovers, and DB/ElastiCache subnet groups on the isolated tier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid
from components.cidr import MAX_AZS, TIERS, parse_vpc_cidr, plan_subnets
from components.iam import service_trust_policy
from components.logs import LOG_RETENTION_DAYS, encrypted_log_group

__all__ = [
    "CLUSTER_NAT_MODES",
    "DEFAULT_INTERFACE_ENDPOINTS",
    "MIN_AZS",
    "NAT_MODES",
    "Network",
    "NetworkArgs",
    "validate",
]


# Interface endpoints that let private nodes pull images and get credentials without NAT.
DEFAULT_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts", "logs")
# "single": one NAT for all private subnets (cheap, one AZ of failure); "perAz": one per AZ.
# A cluster's nodes need one of these (images, AWS APIs without endpoints).
CLUSTER_NAT_MODES = ("single", "perAz")
# "none": no way out at all — a network for data stores alone (the replica region's recovery
# site, where the DR drill restores backup copies).
NAT_MODES = (*CLUSTER_NAT_MODES, "none")
MIN_AZS = 2  # EKS and Aurora need subnets in two zones at least


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Inputs of `Network`.

    Attributes:
        name_prefix: prefix of physical names (log group, subnet groups), e.g. `platform-dev`.
        cidr: VPC IPv4 CIDR, /16../20, private range; subnets are planned by
            `components.cidr.plan_subnets`.
        az_count: number of availability zones (2..6); the first N available zones are used.
        nat_gateways: "single" (one NAT for all private subnets: cheap, one AZ of failure),
            "perAz" (one per AZ: each AZ keeps egress if another fails) or "none" (no egress:
            a network for data stores alone; the private tier has no route out).
        flow_log_kms_key_arn: customer-managed key for the flow-log log group.
        flow_log_retention_days: flow-log retention (a CloudWatch Logs retention value).
        interface_endpoints: create interface endpoints for `interface_endpoint_services`.
        interface_endpoint_services: short service names (`ecr.api`, `sts`, ...).
        cluster_name: EKS cluster name for `kubernetes.io/cluster/<name>` subnet tags, if any.
        node_discovery: also tag the private subnets `karpenter.sh/discovery: <cluster_name>`
            (where Karpenter launches nodes; it finds subnets by that tag).
    """

    name_prefix: str
    cidr: str
    az_count: int
    nat_gateways: str
    flow_log_kms_key_arn: pulumi.Input[str]
    flow_log_retention_days: int
    interface_endpoints: bool = True
    interface_endpoint_services: tuple[str, ...] = DEFAULT_INTERFACE_ENDPOINTS
    cluster_name: str | None = None
    node_discovery: bool = False


def validate(args: NetworkArgs) -> list[str]:
    """Every problem with `args` (empty when valid)."""
    problems = []
    if not args.name_prefix:
        problems.append("name_prefix is empty")
    try:
        parse_vpc_cidr(args.cidr)
    except ValueError as exc:
        problems.append(f"cidr: {exc}")
    if not MIN_AZS <= args.az_count <= MAX_AZS:
        problems.append(f"azCount {args.az_count}: allowed {MIN_AZS}..{MAX_AZS}")
    if args.nat_gateways not in NAT_MODES:
        problems.append(f"natGateways {args.nat_gateways!r}: one of {', '.join(NAT_MODES)}")
    if args.flow_log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(
            f"flowLogRetentionDays {args.flow_log_retention_days}: a CloudWatch Logs value"
        )
    return problems


class Network(pulumi.ComponentResource):
    """VPC, subnet tiers, routing, NAT, flow logs, endpoints and data subnet groups.

    Outputs: `vpc_id`, `vpc_cidr`, `availability_zones`, `subnet_ids[tier]` (lists of ids for
    "public", "private", "isolated"), `db_subnet_group_name`, `cache_subnet_group_name`,
    `flow_log_group_name`, `egress` (the resources that give the private tier its way out:
    NAT gateways, their routes and associations, VPC endpoints — make anything that needs to
    reach AWS APIs from the private subnets depend on them, so it is created after and
    destroyed before them).
    """

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("Network", name, args, lambda: validate(args))  # before registering anything
        super().__init__("platform:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = plan_subnets(args.cidr, args.az_count)
        # Regular zones only (Local/Wavelength zones sort first by name and lack NAT, RDS,
        # MSK), and no state filter: a zone that is briefly impaired must not shift the index
        # of every zone after it, which would replace subnets and instances.
        zones = aws.get_availability_zones_output(
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.availability_zones = [zones.names[i] for i in range(args.az_count)]

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=plan.vpc_cidr,
            enable_dns_hostnames=True,  # required for private endpoint DNS and EKS
            enable_dns_support=True,
            tags={"Name": args.name_prefix},
            opts=child,
        )
        vpc_child = pulumi.ResourceOptions(parent=self.vpc)

        # Strip every rule from the default SG: resources must name the SG they need.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{args.name_prefix}-default-do-not-use"},
            opts=vpc_child,
        )

        self.subnets: dict[str, list[aws.ec2.Subnet]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for index, cidr in enumerate(plan.tier(tier)):
                self.subnets[tier].append(
                    aws.ec2.Subnet(
                        f"{name}-{tier}-{index}",
                        vpc_id=self.vpc.id,
                        cidr_block=cidr,
                        availability_zone=self.availability_zones[index],
                        map_public_ip_on_launch=False,  # nothing gets a public IP implicitly
                        tags=_subnet_tags(args, tier, index),
                        opts=vpc_child,
                    )
                )

        self.egress: list[pulumi.Resource] = []
        self._route_tables(name, args, vpc_child)
        self._flow_logs(name, args, vpc_child)
        self._endpoints(name, args, vpc_child)

        isolated_ids = [s.id for s in self.subnets["isolated"]]
        self.db_subnet_group = aws.rds.SubnetGroup(
            f"{name}-db",
            name=f"{args.name_prefix}-data",
            description=f"{args.name_prefix} isolated data subnets",
            subnet_ids=isolated_ids,
            opts=vpc_child,
        )
        self.cache_subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-cache",
            name=f"{args.name_prefix}-data",
            description=f"{args.name_prefix} isolated data subnets",
            subnet_ids=isolated_ids,
            opts=vpc_child,
        )

        self.vpc_id = self.vpc.id
        self.vpc_cidr = self.vpc.cidr_block
        self.subnet_ids = {tier: [s.id for s in subnets] for tier, subnets in self.subnets.items()}
        self.subnet_cidrs = {tier: list(plan.tier(tier)) for tier in TIERS}
        self.db_subnet_group_name = self.db_subnet_group.name
        self.cache_subnet_group_name = self.cache_subnet_group.name
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "subnetIds": self.subnet_ids,
                "dbSubnetGroupName": self.db_subnet_group_name,
                "cacheSubnetGroupName": self.cache_subnet_group_name,
            }
        )

    def _route_tables(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions) -> None:
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": args.name_prefix}, opts=opts
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            tags={"Name": f"{args.name_prefix}-public"},
            opts=opts,
        )
        aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=opts,
        )
        for index, subnet in enumerate(self.subnets["public"]):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=opts,
            )

        nat_count = {"perAz": args.az_count, "single": 1, "none": 0}[args.nat_gateways]
        self.nat_gateways = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-{index}",
                domain="vpc",
                tags={"Name": f"{args.name_prefix}-nat-{index}"},
                opts=opts,
            )
            self.nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=self.subnets["public"][index].id,
                    tags={"Name": f"{args.name_prefix}-nat-{index}"},
                    opts=pulumi.ResourceOptions.merge(
                        opts, pulumi.ResourceOptions(depends_on=[igw])
                    ),
                )
            )

        # One private route table per AZ so each AZ can egress through its own NAT.
        self.private_route_tables = []
        for index, subnet in enumerate(self.subnets["private"]):
            table = aws.ec2.RouteTable(
                f"{name}-private-{index}",
                vpc_id=self.vpc.id,
                tags={"Name": f"{args.name_prefix}-private-{index}"},
                opts=opts,
            )
            association = aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}", subnet_id=subnet.id, route_table_id=table.id, opts=opts
            )
            self.private_route_tables.append(table)
            self.egress.append(association)
            if nat_count:
                route = aws.ec2.Route(
                    f"{name}-private-{index}-nat",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=self.nat_gateways[index % nat_count].id,
                    opts=opts,
                )
                self.egress.append(route)
        self.egress += self.nat_gateways

        # Isolated tier: local routes only (plus the S3 gateway endpoint added below).
        self.isolated_route_table = aws.ec2.RouteTable(
            f"{name}-isolated",
            vpc_id=self.vpc.id,
            tags={"Name": f"{args.name_prefix}-isolated"},
            opts=opts,
        )
        for index, subnet in enumerate(self.subnets["isolated"]):
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-{index}",
                subnet_id=subnet.id,
                route_table_id=self.isolated_route_table.id,
                opts=opts,
            )

    def _flow_logs(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions) -> None:
        self.flow_log_group = encrypted_log_group(
            f"{name}-flow-logs",
            name=f"/{args.name_prefix}/vpc-flow-logs",
            retention_days=args.flow_log_retention_days,
            kms_key_arn=args.flow_log_kms_key_arn,
            opts=opts,
        )
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        role = aws.iam.Role(
            f"{name}-flow-logs",
            description="VPC flow logs delivery to CloudWatch Logs",
            assume_role_policy=identity.account_id.apply(
                lambda account: json.dumps(
                    service_trust_policy("vpc-flow-logs.amazonaws.com", account)
                )
            ),
            opts=opts,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=opts,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=opts,
        )

    def _endpoints(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions) -> None:
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))
        # Gateway endpoint: free, and the isolated tier's only way to reach S3 (backups).
        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=region.region.apply(lambda r: f"com.amazonaws.{r}.s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in [*self.private_route_tables, self.isolated_route_table]],
            opts=opts,
        )
        self.egress.append(s3)
        if not args.interface_endpoints or not args.interface_endpoint_services:
            return
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=self.vpc.id,
            description="HTTPS from inside the VPC to interface endpoints",
            opts=opts,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=endpoint_sg.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=self.vpc.cidr_block,
            opts=opts,
        )
        for service in args.interface_endpoint_services:
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=self.vpc.id,
                service_name=region.region.apply(lambda r, s=service: f"com.amazonaws.{r}.{s}"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.subnets["private"]],
                security_group_ids=[endpoint_sg.id],
                opts=opts,
            )
            self.egress.append(endpoint)


def _subnet_tags(args: NetworkArgs, tier: str, index: int) -> dict[str, str]:
    tags = {"Name": f"{args.name_prefix}-{tier}-{index}", "tier": tier}
    # Subnet discovery tags for the AWS Load Balancer Controller.
    if tier == "public":
        tags["kubernetes.io/role/elb"] = "1"
    elif tier == "private":
        tags["kubernetes.io/role/internal-elb"] = "1"
    if args.cluster_name and tier in ("public", "private"):
        tags[f"kubernetes.io/cluster/{args.cluster_name}"] = "shared"
    if args.node_discovery and args.cluster_name and tier == "private":
        tags["karpenter.sh/discovery"] = args.cluster_name
    return tags
