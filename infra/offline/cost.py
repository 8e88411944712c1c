"""Rough monthly cost of a plan, from the resources it would create.

Fixed costs, at on-demand list prices for eu-west-1 (USD, 730 hours a month): the EKS
control plane, managed node groups, NAT gateways and their public IPv4 addresses, interface
endpoints, load balancers (one per IngressGroup), KMS keys, secrets, Aurora (and its RDS Proxy),
ElastiCache and MSK. Usage-based charges — data transfer and NAT processing, ALB capacity
units, log ingestion, S3 and snapshot storage, backups — come on top. Prices change: update
`HOURLY` when they do; an instance type missing from it is reported, not guessed.

Karpenter's nodes are not fixed: a pool launches what pending pods need, from nothing up to its
limits. `ceilings` says what each pool costs at most: the most expensive way to fill its
`limits` (vCPUs and memory, whichever binds first) with whole nodes of any type it may launch,
at on-demand prices (a spot price can rise to on-demand), plus their root volumes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from components.alb import ALB
from components.capacity import instance_shape
from components.kubernetes_rules import quantity
from infra.offline.mockengine import Recording

HOURS_PER_MONTH = 730
SPOT_FRACTION = 0.35  # typical spot price as a share of on-demand for these families
SERVERLESS_ACU_HOUR = 0.13
AUTO_PAUSE_ACTIVE_HOURS = 176  # a dev database that pauses is busy ~8 h on working days
GP3_GB_MONTH = 0.088
MSK_STORAGE_GB_MONTH = 0.11
# RDS Proxy bills per vCPU of the instances behind it (serverless: per ACU, at least 8).
RDS_PROXY_VCPU_HOUR = 0.015
RDS_PROXY_MIN_ACUS = 8
INSTANCE_VCPUS = {"db.t4g.medium": 2, "db.r7g.large": 2, "db.r7g.xlarge": 4}

HOURLY: dict[str, float] = {
    # control plane and networking
    "eks-cluster": 0.10,
    "nat-gateway": 0.048,
    "public-ipv4": 0.005,
    "interface-endpoint-az": 0.011,
    "alb": 0.0252,  # per ALB-hour; LCUs (traffic) are usage, on top
    # EC2 nodes
    "t3.medium": 0.0456,
    "t3a.medium": 0.0408,
    "t3.large": 0.0912,
    "t3a.large": 0.0816,
    "m5.large": 0.107,
    "m6i.large": 0.107,
    "m6i.xlarge": 0.214,
    "m6a.large": 0.0963,
    "m6a.xlarge": 0.1926,
    "m7i.large": 0.1124,
    "m7i.xlarge": 0.2248,
    "r6i.large": 0.141,
    # Aurora
    "db.t4g.medium": 0.09,
    "db.r7g.large": 0.30,
    # ElastiCache
    "cache.t4g.micro": 0.018,
    "cache.t4g.small": 0.036,
    "cache.t4g.medium": 0.073,
    "cache.m7g.large": 0.176,
    # MSK brokers
    "kafka.t3.small": 0.05,
    "kafka.m7g.large": 0.22,
}
MONTHLY = {"kms-key": 1.00, "secret": 0.40}


@dataclass(frozen=True)
class CostLine:
    item: str
    monthly_usd: float


@dataclass(frozen=True)
class CostEstimate:
    lines: list[CostLine]
    unpriced: list[str]
    # Per Karpenter pool: the most it can cost at its limits (not in `total`).
    ceilings: list[CostLine] = field(default_factory=list)

    @property
    def ceiling_total(self) -> float:
        return round(sum(line.monthly_usd for line in self.ceilings), 2)

    @property
    def total(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)


def _hourly(key: str, unpriced: list[str]) -> float:
    if key not in HOURLY:
        unpriced.append(key)
        return 0.0
    return HOURLY[key]


def estimate(recording: Recording) -> CostEstimate:
    """Sum fixed monthly costs over every resource in `recording`."""
    totals: dict[str, float] = defaultdict(float)
    unpriced: list[str] = []
    month = HOURS_PER_MONTH
    root_volume_gib = {
        r.id: sum(
            m.get("ebs", {}).get("volumeSize", 0) for m in r.inputs.get("blockDeviceMappings", [])
        )
        for r in recording.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    }

    proxied = bool(recording.of_type("aws:rds/proxy:Proxy"))
    for r in recording.resources:
        inputs = r.inputs
        if r.type == "eks:index:Cluster":
            totals["EKS control plane"] += HOURLY["eks-cluster"] * month
        elif r.type in ("aws:eks/nodeGroup:NodeGroup", "eks:index:ManagedNodeGroup"):
            desired = inputs.get("scalingConfig", {}).get("desiredSize", 0)
            types = inputs.get("instanceTypes") or []
            if not types:
                continue
            share = SPOT_FRACTION if inputs.get("capacityType") == "SPOT" else 1.0
            totals["EKS nodes"] += desired * _hourly(types[0], unpriced) * share * month
            volume = root_volume_gib.get(inputs.get("launchTemplate", {}).get("id"), 0)
            totals["EKS node volumes (gp3)"] += desired * volume * GP3_GB_MONTH
        elif r.type == "aws:ec2/natGateway:NatGateway":
            totals["NAT gateways"] += HOURLY["nat-gateway"] * month
        elif r.type == "aws:ec2/eip:Eip":
            totals["public IPv4 addresses"] += HOURLY["public-ipv4"] * month
        elif r.type == "aws:ec2/vpcEndpoint:VpcEndpoint":
            if inputs.get("vpcEndpointType") == "Interface":
                azs = len(inputs.get("subnetIds", []))
                totals["interface endpoints"] += azs * HOURLY["interface-endpoint-az"] * month
        elif r.type == "aws:kms/key:Key":
            totals["KMS keys"] += MONTHLY["kms-key"]
        elif r.type == "aws:secretsmanager/secret:Secret":
            totals["Secrets Manager"] += MONTHLY["secret"]
        elif r.type == "aws:rds/cluster:Cluster":
            scaling = inputs.get("serverlessv2ScalingConfiguration")
            if scaling:
                low = scaling.get("minCapacity", 0)
                hours = AUTO_PAUSE_ACTIVE_HOURS if low == 0 else month
                totals["Aurora"] += max(low, 0.5) * SERVERLESS_ACU_HOUR * hours
        elif r.type == "aws:rds/clusterInstance:ClusterInstance":
            klass = inputs.get("instanceClass", "")
            if klass != "db.serverless":
                totals["Aurora"] += _hourly(klass, unpriced) * month
            if proxied:
                if klass == "db.serverless":
                    units = RDS_PROXY_MIN_ACUS
                elif klass in INSTANCE_VCPUS:
                    units = INSTANCE_VCPUS[klass]
                else:
                    unpriced.append(f"{klass} vCPUs")
                    units = 0
                totals["RDS Proxy"] += units * RDS_PROXY_VCPU_HOUR * month
        elif r.type == "aws:elasticache/replicationGroup:ReplicationGroup":
            nodes = inputs.get("numCacheClusters", 1)
            totals["ElastiCache"] += nodes * _hourly(inputs.get("nodeType", ""), unpriced) * month
        elif r.type == "aws:msk/cluster:Cluster":
            brokers = inputs.get("numberOfBrokerNodes", 0)
            info = inputs.get("brokerNodeGroupInfo", {})
            volume = info.get("storageInfo", {}).get("ebsStorageInfo", {}).get("volumeSize", 0)
            broker_hour = _hourly(info.get("instanceType", ""), unpriced)
            totals["MSK"] += brokers * (broker_hour * month + volume * MSK_STORAGE_GB_MONTH)

    totals["load balancers (ALB)"] += len(_alb_groups(recording)) * HOURLY["alb"] * month
    totals["persistent volumes (gp3)"] += _persistent_volume_gib(recording) * GP3_GB_MONTH
    lines = [CostLine(item, round(usd, 2)) for item, usd in sorted(totals.items()) if usd]
    ceilings = [_pool_ceiling(pool, recording, unpriced) for pool in recording.of_type(NODE_POOL)]
    return CostEstimate(lines=lines, unpriced=sorted(set(unpriced)), ceilings=ceilings)


NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def _pool_ceiling(pool, recording: Recording, unpriced: list[str]) -> CostLine:
    """The most `pool` can cost a month at its limits (module docstring)."""
    spec = pool.inputs["spec"]
    name = pool.inputs["metadata"]["name"]
    wanted = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    families = wanted["karpenter.k8s.aws/instance-family"]
    sizes = wanted["karpenter.k8s.aws/instance-size"]
    cpu = float(spec["limits"]["cpu"])
    memory_gib = quantity(spec["limits"]["memory"]) / 2**30
    classes = {c.inputs["metadata"]["name"]: c for c in recording.of_type(NODE_CLASS)}
    node_class = classes.get(spec["template"]["spec"]["nodeClassRef"]["name"])
    disk_gib = 0.0
    if node_class is not None:
        for device in node_class.inputs["spec"].get("blockDeviceMappings", []):
            disk_gib += quantity(device["ebs"]["volumeSize"]) / 2**30
    worst = 0.0
    for family in families:
        for size in sizes:
            instance = f"{family}.{size}"
            shape = instance_shape(instance)
            if shape is None:
                unpriced.append(f"{instance} shape")
                continue
            nodes = int(min(cpu // shape.vcpus, memory_gib // shape.memory_gib))
            node_month = _hourly(instance, unpriced) * HOURS_PER_MONTH + disk_gib * GP3_GB_MONTH
            worst = max(worst, nodes * node_month)
    limits = f"{spec['limits']['cpu']} vCPU, {spec['limits']['memory']}"
    return CostLine(f"Karpenter pool {name} at its limits ({limits})", round(worst, 2))


def _alb_groups(recording: Recording) -> set[str]:
    """The ALBs the load balancer controller will create: one per IngressGroup."""
    groups = set()
    for ingress in recording.of_type("kubernetes:networking.k8s.io/v1:Ingress"):
        annotations = ingress.inputs.get("metadata", {}).get("annotations", {})
        group = annotations.get(f"{ALB}/group.name")
        # An Ingress outside any group gets an ALB of its own.
        groups.add(group or f"{ingress.inputs.get('metadata', {}).get('namespace')}/{ingress.name}")
    return groups


def _gib(storage: object) -> float:
    amount = quantity(storage)
    return amount / 2**30 if amount else 0.0


def _claims_gib(templates: list[dict], copies: int) -> float:
    return copies * sum(
        _gib(t.get("spec", {}).get("resources", {}).get("requests", {}).get("storage"))
        for t in templates
    )


def _persistent_volume_gib(recording: Recording) -> float:
    """GiB of the EBS volumes the cluster's workloads claim: plain claims, StatefulSets, and
    the operators' resources whose StatefulSets are made in-cluster (Prometheus and
    Alertmanager through kube-prometheus-stack's values, Elasticsearch through ECK)."""
    total = 0.0
    for r in recording.resources:
        inputs = r.inputs
        if r.type == "kubernetes:core/v1:PersistentVolumeClaim":
            total += _claims_gib([inputs], 1)
        elif r.type == "kubernetes:apps/v1:StatefulSet":
            spec = inputs.get("spec", {})
            total += _claims_gib(spec.get("volumeClaimTemplates", []), spec.get("replicas", 1))
        elif r.type == "kubernetes:helm.sh/v3:Release" and inputs.get("chart") == (
            "kube-prometheus-stack"
        ):
            values = inputs.get("values", {})
            for part, spec_key, storage_key in (
                ("prometheus", "prometheusSpec", "storageSpec"),
                ("alertmanager", "alertmanagerSpec", "storage"),
            ):
                spec = values.get(part, {}).get(spec_key, {})
                template = spec.get(storage_key, {}).get("volumeClaimTemplate")
                if template:
                    total += _claims_gib([template], spec.get("replicas", 1))
        elif r.type == "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch":
            for node_set in inputs.get("spec", {}).get("nodeSets", []):
                total += _claims_gib(
                    node_set.get("volumeClaimTemplates", []), node_set.get("count", 0)
                )
    return total
