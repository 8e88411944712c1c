"""The deploy critical path: the longest chain of typical creation times a first `up` waits for.

The engine creates a resource as soon as everything it waits for exists, so a first `up`
takes about as long as the longest chain through the plan's dependency graph. A resource waits
for (all of it recorded by the mock engine, exactly as the real engine would receive it):

* its `dependencies` (explicit `depends_on`, with components expanded to their children by the
  SDK, and every resource whose outputs its inputs are built from);
* its provider (a provider is configured from its inputs, e.g. the cluster's kubeconfig);
* its parent: the SDK registers a child only once its parent is registered, and a component
  registers only once its own `depends_on` exist, so children wait for their component's.

Each resource weighs its type's typical creation time from `TYPICAL` (Helm releases by chart:
an atomic release waits until every pod is Ready), each with where the number comes from.
A number is a typical first creation in one region, not a bound: the path is for comparing
orderings, and `make bench` prints prod's against the longest chain through MSK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.offline.mockengine import RecordedResource, Recording


@dataclass(frozen=True)
class Typical:
    """A typical creation time (minutes) and where it comes from."""

    minutes: float
    source: str


_TF_LOG = "terraform apply logs in "
TYPICAL: dict[str, Typical] = {
    "aws:ec2/vpc:Vpc": Typical(
        0.5, _TF_LOG + "github.com/turbot/steampipe-plugin-aws/pull/131 (24 s), /pull/246 (39 s)"
    ),
    "aws:ec2/subnet:Subnet": Typical(
        0.2,
        _TF_LOG + "github.com/turbot/steampipe-plugin-aws/pull/131 (7 s), "
        "github.com/terraform-aws-modules/terraform-aws-eks/issues/2203 (10 s)",
    ),
    "aws:ec2/natGateway:NatGateway": Typical(
        2.0,
        "github.com/kubernetes/kops/pull/944 ('up to 5 min' Pending -> Available), "
        "github.com/hashicorp/terraform/issues/8687 (3 min elapsed)",
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Typical(
        1.5, "estimate: an interface endpoint's network interfaces come up in a minute or two"
    ),
    # pulumi-eks's component: control plane, OIDC provider, its IAM role and security groups.
    "eks:index:Cluster": Typical(
        12.5,
        "github.com/pulumi/pulumi-eks/issues/1819 ('eks:index:Cluster created (748s)'); "
        "AWS, Mar 2021: a control plane 'in 9 minutes or less, on average' "
        "(github.com/aws-samples/eks-workshop/pull/1101)",
    ),
    "aws:eks/addon:Addon": Typical(
        1.5,
        "estimate: ACTIVE once the add-on's pods are Ready; github.com/aws-ia/"
        "terraform-aws-eks-blueprints/issues/642 shows 15 min for coredns/EBS CSI when created "
        "before nodes exist, which the Cluster component avoids (they wait for the nodes)",
    ),
    "aws:eks/nodeGroup:NodeGroup": Typical(
        4.0,
        "estimate: EC2 launch + kubelet join; github.com/terraform-aws-modules/terraform-aws-eks"
        "/issues/1910 and /2041 (~20 min) are groups that never become healthy",
    ),
    "aws:msk/cluster:Cluster": Typical(
        30.0,
        "github.com/mattclay/aws-terminator/pull/143 ('at least 30 (maybe 40) minutes'), "
        "github.com/ansible-collections/community.aws/pull/1947 ('almost 40 minutes'), "
        "github.com/akka/akka-guide/pull/445 ('up to 15 minutes')",
    ),
    "aws:msk/topic:Topic": Typical(0.5, "estimate: one MSK topic API call on an ACTIVE cluster"),
    "aws:rds/cluster:Cluster": Typical(
        3.0,
        "estimate: the storage cluster without instances; github.com/hashicorp/terraform/"
        "issues/8051 (> 15 min only when restoring a large snapshot)",
    ),
    "aws:rds/clusterInstance:ClusterInstance": Typical(
        10.0,
        "github.com/tungbq/aws-lab-with-terraform/issues/100 (Aurora instance ~11 min), "
        "github.com/aws/aws-sdk/issues/826 (instances 'Creating' for 20 min after a restore)",
    ),
    "aws:rds/proxy:Proxy": Typical(
        4.0, _TF_LOG + "github.com/turbot/steampipe-plugin-aws/pull/1414 (> 2.5 min, still going)"
    ),
    "aws:rds/proxyTarget:ProxyTarget": Typical(
        3.0,
        "github.com/aws/aws-cdk/issues/8919 (the target group becomes available "
        "after several minutes)",
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": Typical(
        12.0,
        "github.com/hashicorp/terraform/pull/8275 (a cache cluster test: 395 s); multi-AZ groups "
        "take longer: github.com/hashicorp/terraform-provider-aws/pull/4093 raised the create "
        "timeout to 60 min",
    ),
    "kubernetes:helm.sh/v3:Release": Typical(
        2.0, "estimate: an atomic install waits for image pulls and readiness probes"
    ),
    # `pulumi.com/waitFor` on the Elasticsearch resource: it counts once the cluster is Ready.
    "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch": Typical(
        5.0, "estimate: volumes bound, nodes started, cluster formed (phase Ready)"
    ),
    "kubernetes:apps/v1:Deployment": Typical(
        2.0,
        "estimate: pulumi-kubernetes waits for the rollout; pods pass the ALB readiness gate "
        "only after the target group's health checks",
    ),
    "kubernetes:batch/v1:Job": Typical(1.0, "estimate: pulumi-kubernetes waits for completion"),
    "kubernetes:networking.k8s.io/v1:Ingress": Typical(
        3.0, "estimate: pulumi-kubernetes waits for the ALB's address (load balancer provisioning)"
    ),
}
# An atomic release takes as long as its slowest pod to become Ready.
CHART_TYPICAL: dict[str, Typical] = {
    "kube-prometheus-stack": Typical(
        4.0, "estimate: CRDs, operator, then Prometheus/Alertmanager with their volumes"
    ),
    "eck-operator": Typical(1.0, "estimate: one operator pod"),
}
API_CALL = Typical(0.1, "estimate: one API call (IAM, KMS, S3, security rules, Kubernetes objects)")
INSTANT = Typical(0.0, "no cloud work: components and providers")


def typical(resource: RecordedResource) -> Typical:
    """The typical creation time of one recorded resource."""
    if resource.type.startswith(("platform:", "pulumi:providers:")):
        return INSTANT
    if resource.type == "kubernetes:helm.sh/v3:Release":
        chart = str(resource.inputs.get("chart", ""))
        if chart in CHART_TYPICAL:
            return CHART_TYPICAL[chart]
    return TYPICAL.get(resource.type, INSTANT if not resource.custom else API_CALL)


def waits_for(recording: Recording) -> dict[str, list[str]]:
    """URN -> the URNs of the recorded resources it waits for (see the module docstring)."""
    known = {r.urn for r in recording.resources}
    graph: dict[str, list[str]] = {}
    for resource in recording.resources:
        before = [*resource.dependencies, resource.parent]
        before += [urn for urns in resource.property_dependencies.values() for urn in urns]
        if resource.provider:
            before.append(resource.provider.rsplit("::", 1)[0])  # "<urn>::<id>"
        graph[resource.urn] = sorted({u for u in before if u in known and u != resource.urn})
    return graph


@dataclass(frozen=True)
class Chain:
    """A chain of resources, each waiting for the one before it, and its total minutes."""

    resources: tuple[RecordedResource, ...]
    minutes: float

    def steps(self) -> list[tuple[RecordedResource, Typical]]:
        """The links that take time (components and providers are left out)."""
        return [(r, typical(r)) for r in self.resources if typical(r).minutes > 0]


def _order(graph: dict[str, list[str]]) -> list[str]:
    """Every URN after everything it waits for; a cycle is a bug in the recording."""
    state: dict[str, int] = {}
    order: list[str] = []
    for start in graph:
        stack = [(start, iter(graph[start]))]
        if state.get(start):
            continue
        state[start] = 1
        while stack:
            urn, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                state[urn] = 2
                order.append(urn)
            elif state.get(nxt) == 1:
                raise ValueError(f"dependency cycle through {nxt}")
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(graph[nxt])))
    return order


def longest_chain(
    recording: Recording, through: Callable[[RecordedResource], bool] | None = None
) -> Chain:
    """The longest chain of typical creation times; with `through`, the longest chain that
    contains a resource `through` accepts (an empty chain when none does)."""
    index = recording.by_urn()
    graph = waits_for(recording)
    order = _order(graph)
    weight = {urn: typical(index[urn]).minutes for urn in graph}
    after: dict[str, list[str]] = {urn: [] for urn in graph}
    for urn, before in graph.items():
        for b in before:
            after[b].append(urn)
    # finish: the longest chain ending with the resource; rest: the longest starting with it.
    finish: dict[str, float] = {}
    back: dict[str, str | None] = {}
    for urn in order:
        prev = max(graph[urn], key=lambda u: (finish[u], u), default=None)
        back[urn] = prev
        finish[urn] = weight[urn] + (finish[prev] if prev else 0.0)
    rest: dict[str, float] = {}
    fwd: dict[str, str | None] = {}
    for urn in reversed(order):
        nxt = max(after[urn], key=lambda u: (rest[u], u), default=None)
        fwd[urn] = nxt
        rest[urn] = weight[urn] + (rest[nxt] if nxt else 0.0)
    candidates = [u for u in order if through is None or through(index[u])]
    if not candidates:
        return Chain((), 0.0)
    best = max(candidates, key=lambda u: (finish[u] + rest[u] - weight[u], u))
    chain: list[str] = []
    cursor: str | None = best
    while cursor is not None:
        chain.insert(0, cursor)
        cursor = back[cursor]
    cursor = fwd[best]
    while cursor is not None:
        chain.append(cursor)
        cursor = fwd[cursor]
    return Chain(tuple(index[u] for u in chain), finish[best] + rest[best] - weight[best])


def is_msk(resource: RecordedResource) -> bool:
    return resource.type == "aws:msk/cluster:Cluster"


def render(recording: Recording) -> list[str]:
    """The plan's critical-path section: the chain, its minutes, and MSK's chain beside it."""
    chain = longest_chain(recording)
    lines = [
        f"Deploy critical path (first `up`, typical creation times): {chain.minutes:.1f} min",
        *(f"    {t.minutes:5.1f}  {r.type} {r.name!r}" for r, t in chain.steps()),
    ]
    msk = longest_chain(recording, through=is_msk)
    if msk.resources:
        ratio = chain.minutes / msk.minutes
        through = f"{msk.minutes:.1f} min (the path is {ratio:.2f} of it)"
        lines.append(f"    longest chain through MSK: {through}")
    lines.append("    (sources of the times: infra/offline/critical_path.py)")
    return lines


def to_json(recording: Recording) -> dict:
    """The critical path for `make plan-json`: minutes and the chain's URNs, MSK's beside it."""
    chain, msk = longest_chain(recording), longest_chain(recording, through=is_msk)
    return {
        "minutes": round(chain.minutes, 2),
        "chain": [r.urn for r, _ in chain.steps()],
        "throughMskMinutes": round(msk.minutes, 2) if msk.resources else None,
    }
