"""A Kubernetes minor upgrade as a planned change: the order it takes and what each step changes.

    make plan STACK=prod FROM=1.34      (python -m infra.offline.plan prod --from 1.34)

`--from` is the minor the cluster runs now; the stack's `platform:cluster.version` is the one
it goes to. The steps are the order `pulumi up` applies the change in, read from the program's
own dependencies (the recording): the control plane first; then the EKS add-ons the nodes
need; then the nodes (managed node groups roll, Karpenter's nodes drift to the new AMI); then
the add-ons that run on nodes; then the Helm charts. A chart whose version at `--from` states
a Kubernetes range without the target comes first, as a change of its own. Each item shows
its version before (the version table's row for `--from`: what this platform pins there) and
after (what the stack configures). Nothing is touched. docs/upgrade.md is the runbook.

Refused (exit 2 in `make plan`), because EKS refuses them too: skipping a minor (one minor per
update) and going back (a control plane is never downgraded). Pure apart from reading a
recording; tests/test_upgrade.py covers 1.34 -> 1.35 exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.cluster import versions as cluster_versions
from components.observability import versions as observability_versions
from infra.offline.mockengine import RecordedResource, Recording

VERSION_KEY = "platform:cluster.version"
MINOR = re.compile(r"^\d+\.\d+$")
RUNBOOK = "docs/upgrade.md"

CONTROL_PLANE_TYPES = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
ADDON_TYPE = "aws:eks/addon:Addon"
NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
RELEASE_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
NODE_POOL = re.compile(r"^kubernetes:karpenter\.sh/[^:]+:NodePool$")


class UpgradeRefused(ValueError):
    """An upgrade EKS would refuse (a skipped minor, a downgrade) or a `--from` it cannot read."""


@dataclass(frozen=True)
class Change:
    """One item of a step: what it is, its version before and after."""

    item: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Step:
    """One stage of the upgrade, in the order it runs, with how it is applied."""

    title: str
    how: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Inventory:
    """What one stack installs that a minor upgrade touches, in the program's order."""

    control_plane: str  # the configured Kubernetes minor (the upgrade's target)
    cluster: str = "cluster-eks"  # the control plane resource's name
    addons: Mapping[str, str] = field(default_factory=dict)  # add-on -> configured build
    # The add-ons that wait for the node groups (they run on nodes: coredns, the EBS driver).
    addons_after_nodes: frozenset[str] = frozenset()
    node_groups: Mapping[str, str] = field(default_factory=dict)  # resource name -> version
    node_pools: tuple[str, ...] = ()  # Karpenter NodePools (their nodes drift)
    # Helm release resource name -> (chart, version), dependencies first.
    charts: Mapping[str, tuple[str, str]] = field(default_factory=dict)


# -- the version table's rows ------------------------------------------------------------------
def _chart_name(chart: str) -> str:
    """`oci://registry/path/karpenter` -> `karpenter`; a repository chart name stays itself."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def pinned_charts(minor: str) -> dict[str, str]:
    """Every chart the version table pins for this minor (cluster controllers, observability)."""
    charts = cluster_versions.chart_versions(minor)
    if minor in cluster_versions.KARPENTER_KUBERNETES_VERSIONS:  # one release for its minors
        charts |= dict.fromkeys(
            cluster_versions.KARPENTER_CHARTS, cluster_versions.KARPENTER_VERSION
        )
    for chart in observability_versions.CHARTS_BY_MINOR.get(minor, ()):
        charts[chart.name] = chart.version
    return charts


def pinned_images(minor: str) -> dict[str, tuple[str, ...]]:
    """The images each chart runs at this minor's pin."""
    images = {name: (image,) for name, image in cluster_versions.chart_images(minor).items()}
    if minor in cluster_versions.KARPENTER_KUBERNETES_VERSIONS:
        images[cluster_versions.KARPENTER] = (cluster_versions.KARPENTER_IMAGE,)
    for chart in observability_versions.CHARTS_BY_MINOR.get(minor, ()):
        images[chart.name] = chart.images
    return images


def stated_support(chart: str, minor: str) -> tuple[str, str | None] | None:
    """The Kubernetes range the chart pinned for `minor` states (None: none, or not pinned)."""
    version = pinned_charts(minor).get(chart)
    if (chart, version) in cluster_versions.CHART_SUPPORT:
        return cluster_versions.CHART_SUPPORT[(chart, version)]
    row = observability_versions.CHARTS_BY_MINOR.get(minor, ())
    return next((c.supports for c in row if (c.name, c.version) == (chart, version)), None)


def _by_repository(images: Sequence[str]) -> dict[str, str]:
    """`registry/repo:tag` -> {registry/repo: tag} (the tag after the last colon of the name)."""
    split = (
        image.rsplit(":", 1) if ":" in image.rsplit("/", 1)[-1] else (image, "") for image in images
    )
    return {repository: tag for repository, tag in split}


# -- the rules EKS applies ---------------------------------------------------------------------
def check(current: str, target: str, supported: Sequence[str] | None = None) -> bool:
    """Whether `current` -> `target` is an upgrade to plan (False: nothing to do). Refuses a
    `--from` that is not a supported minor, a downgrade and a skipped minor."""
    supported = tuple(supported or cluster_versions.KUBERNETES_VERSIONS)
    if not isinstance(current, str) or not MINOR.match(current):
        raise UpgradeRefused(
            f"--from {current!r}: the minor the control plane runs now, like 1.34 "
            "(`aws eks describe-cluster --name <cluster> --query cluster.version`)"
        )
    if current not in supported:
        raise UpgradeRefused(
            f"--from {current}: the version table has no pins for {current} (it knows "
            f"{', '.join(supported)}); upgrade with a release of this platform that pinned "
            f"{current} first"
        )
    have, want = cluster_versions.minor_key(current), cluster_versions.minor_key(target)
    if want == have:
        return False
    if want < have:
        raise UpgradeRefused(
            f"{VERSION_KEY} {target} is older than the running {current} (--from): EKS never "
            f"downgrades a control plane. Set {VERSION_KEY} back to {current}; going back means "
            f"a new cluster ({RUNBOOK}, Rollback)"
        )
    if want != (have[0], have[1] + 1):
        nxt = f"{have[0]}.{have[1] + 1}"
        raise UpgradeRefused(
            f"{VERSION_KEY} {target} skips minors after the running {current} (--from): EKS "
            f"upgrades one minor at a time. Set {VERSION_KEY} to {nxt}, upgrade, then go on "
            f"from {nxt}"
        )
    return True


# -- the steps ---------------------------------------------------------------------------------
def plan_upgrade(current: str, stack: Inventory) -> list[Step]:
    """The steps from `current` to the stack's configured minor (empty when they are equal).
    Raises UpgradeRefused for what EKS would refuse."""
    target = stack.control_plane
    if not check(current, target):
        return []
    before_addons = cluster_versions.ADDON_VERSIONS.get(current, {})
    before_charts, missing = pinned_charts(current), f"(no pin for {current})"

    def addon(name: str) -> Change:
        return Change(name, before_addons.get(name, missing), stack.addons[name])

    first = [addon(n) for n in stack.addons if n not in stack.addons_after_nodes]
    later = [addon(n) for n in stack.addons if n in stack.addons_after_nodes]
    nodes = [Change(f"node group {n}", current, v) for n, v in stack.node_groups.items()]
    nodes += [
        Change(f"NodePool {pool}", f"{current} AMI", f"{target} AMI (drift)")
        for pool in stack.node_pools
    ]
    charts: list[Change] = []
    early: list[Change] = []  # charts whose version at `current` does not support `target`
    images_before, images_after = pinned_images(current), pinned_images(target)
    for release, (chart, version) in stack.charts.items():
        name = _chart_name(chart)
        support = stated_support(name, current)
        if support and not cluster_versions.supports(support, target):
            early.append(Change(f"{release} ({name})", before_charts[name], version))
        charts.append(Change(f"{release} ({name})", before_charts.get(name, missing), version))
        old = _by_repository(images_before.get(name, ()))
        new = _by_repository(images_after.get(name, ()))
        charts += [
            Change(f"  image {repo}", old.get(repo, "-"), new.get(repo, "-"))
            for repo in sorted(old.keys() | new.keys())
            if old.get(repo) != new.get(repo)
        ]
    first_move = [
        Step(
            "Charts to upgrade first",
            f"their version at {current} does not support {target}: upgrade each, still on "
            f"{current}, in a change of its own (its new version must support both)",
            tuple(early),
        )
    ]
    return [
        *(first_move if early else []),
        Step(
            "Control plane",
            "EKS updates the API server in place, one minor; it cannot be rolled back",
            (Change(stack.cluster, current, target),),
        ),
        Step(
            "EKS add-ons the nodes need",
            "updated before any node is replaced (the node groups wait for them)",
            tuple(first),
        ),
        Step(
            "Nodes",
            "managed node groups roll (new nodes first, old ones drained within maxUnavailable "
            "and the PDBs); Karpenter replaces its nodes itself (drift, within disruption "
            "budgets)",
            tuple(nodes),
        ),
        Step(
            "EKS add-ons that run on the nodes",
            "updated once the node groups have rolled",
            tuple(later),
        ),
        Step(
            "Helm charts",
            "each release upgraded in the program's dependency order",
            tuple(charts),
        ),
    ]


# -- reading a recording -----------------------------------------------------------------------
def _dependencies(resource: RecordedResource) -> set[str]:
    urns = set(resource.dependencies)
    for urns_of_input in resource.property_dependencies.values():
        urns |= set(urns_of_input)
    return urns


def waits_for(resource: RecordedResource, by_urn: Mapping[str, RecordedResource]) -> set[str]:
    """The URNs `resource` waits for, directly or through others."""
    seen: set[str] = set()
    todo = list(_dependencies(resource))
    while todo:
        urn = todo.pop()
        if urn not in seen and urn in by_urn:
            seen.add(urn)
            todo += _dependencies(by_urn[urn])
    return seen


def inventory(recording: Recording) -> Inventory:
    """What the stack's plan installs that an upgrade touches. Registration order varies from
    run to run, so items are sorted: by name, and releases dependencies first (a release
    waits for fewer releases than any release that waits for it), then by name."""
    by_urn = recording.by_urn()
    planes = [r for r in recording.resources if r.type in CONTROL_PLANE_TYPES]
    if not planes:
        raise UpgradeRefused("the stack has no EKS cluster: nothing to upgrade")
    addons = {r.inputs["addonName"]: r for r in recording.of_type(ADDON_TYPE)}
    nodes = {u for u, r in by_urn.items() if r.type == NODE_GROUP_TYPE}
    releases = [r for r in recording.resources if r.type in RELEASE_TYPES]
    release_urns = {r.urn for r in releases}

    def release_order(release: RecordedResource) -> tuple[int, str]:
        return len(waits_for(release, by_urn) & release_urns), release.name

    return Inventory(
        control_plane=str(planes[0].inputs["version"]),
        cluster=planes[0].name,
        addons={n: str(addons[n].inputs.get("addonVersion", "")) for n in sorted(addons)},
        addons_after_nodes=frozenset(n for n, r in addons.items() if waits_for(r, by_urn) & nodes),
        node_groups={
            r.name: str(r.inputs.get("version", ""))
            for r in sorted(recording.of_type(NODE_GROUP_TYPE), key=lambda r: r.name)
        },
        node_pools=tuple(sorted(r.name for r in recording.resources if NODE_POOL.match(r.type))),
        charts={
            r.name: (str(r.inputs.get("chart", "")), str(r.inputs.get("version", "")))
            for r in sorted(releases, key=release_order)
        },
    )


# -- showing it --------------------------------------------------------------------------------
def render(stack: str, current: str, target: str, steps: Sequence[Step]) -> list[str]:
    """The upgrade section of `make plan`."""
    if not steps:
        return [f"Upgrade: none ({VERSION_KEY} is {target}, the same as --from {current})"]
    lines = [
        f"Upgrade {current} -> {target} for stack {stack!r}: the order `pulumi up` applies it "
        "in (offline; nothing is touched)",
        f"    before: the checks in {RUNBOOK} (deprecated APIs, EKS upgrade insights, add-on "
        "compatibility, PDBs that would block draining)",
    ]
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. {step.title}: {step.how}")
        width = max((len(c.item) for c in step.changes), default=0)
        for change in step.changes:
            arrow = f"{change.before} -> {change.after}" if change.changed else "unchanged"
            version = "" if change.changed else f" ({change.after})"
            lines.append(f"      {change.item:<{width}}  {arrow}{version}")
        if not step.changes:
            lines.append("      (nothing in this stack)")
    return lines


def to_json(steps: Sequence[Step]) -> list[dict[str, Any]]:
    return [
        {
            "step": step.title,
            "how": step.how,
            "changes": [
                {"item": c.item, "before": c.before, "after": c.after} for c in step.changes
            ],
        }
        for step in steps
    ]


def section(stack: str, current: str, recording: Recording) -> tuple[list[Step], list[str]]:
    """The steps and their lines for `make plan --from`; raises UpgradeRefused."""
    found = inventory(recording)
    steps = plan_upgrade(current, found)
    return steps, render(stack, current, found.control_plane, steps)
