"""Config of the cluster: `platform:cluster` and its node groups (wired by
`infra/wiring/cluster.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from components.aws_catalog import instance_type_problems
from components.cluster import pools as pool_rules
from components.cluster import rules as cluster_rules
from components.cluster.args import NODE_AUTOSCALERS, ClusterArgs, NodeGroupSpec, NodeTaint
from components.cluster.pools import NodePoolSpec
from infra.config.fields import ConfigModel, RetentionDays, component_default, rule


class TaintSettings(ConfigModel):
    """One taint of a node group (EKS spelling of the effect: NO_SCHEDULE, …)."""

    key: str
    value: str = ""
    effect: str

    @model_validator(mode="after")
    def _rules(self) -> TaintSettings:
        problems = cluster_rules.taint_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class NodeGroupSettings(ConfigModel):
    """One managed node group under `platform:cluster.nodeGroups.<name>`."""

    instance_types: Annotated[
        list[str],
        Field(min_length=1),
        rule(lambda types: [p for t in types for p in instance_type_problems(t)]),
        rule(cluster_rules.architecture_problems),
    ]
    capacity_type: Literal[cluster_rules.CAPACITY_TYPES]  # type: ignore[valid-type]
    min_size: int = Field(ge=0)
    max_size: PositiveInt
    desired_size: int = Field(ge=0)
    max_unavailable: int = Field(
        default=component_default(NodeGroupSpec, "max_unavailable"),
        ge=cluster_rules.MAX_UNAVAILABLE[0],
        le=cluster_rules.MAX_UNAVAILABLE[1],
    )
    disk_size_gib: int = Field(
        default=component_default(NodeGroupSpec, "disk_size_gib"),
        ge=cluster_rules.DISK_SIZE_GIB[0],
        le=cluster_rules.DISK_SIZE_GIB[1],
    )
    labels: Annotated[dict[str, str], rule(cluster_rules.labels_problems)] = Field(
        default_factory=dict
    )
    taints: list[TaintSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSettings:
        problems = cluster_rules.size_problems(self.min_size, self.desired_size, self.max_size)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class NodePoolSettings(ConfigModel):
    """One Karpenter NodePool under `platform:cluster.nodePools.<name>`."""

    instance_families: list[str] = Field(min_length=1)
    instance_sizes: list[str] = Field(min_length=1)
    capacity_types: list[Literal[pool_rules.CAPACITY_TYPES]] = Field(min_length=1)  # type: ignore[valid-type]
    cpu_limit: PositiveInt
    memory_limit_gib: PositiveInt
    consolidation_policy: Literal[pool_rules.CONSOLIDATION_POLICIES] = component_default(  # type: ignore[valid-type]
        NodePoolSpec, "consolidation_policy"
    )
    consolidate_after: str = component_default(NodePoolSpec, "consolidate_after")
    disruption_budget: str = component_default(NodePoolSpec, "disruption_budget")
    expire_after: str = component_default(NodePoolSpec, "expire_after")
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[TaintSettings] = Field(default_factory=list)
    disk_size_gib: int = Field(
        default=component_default(NodePoolSpec, "disk_size_gib"),
        ge=cluster_rules.DISK_SIZE_GIB[0],
        le=cluster_rules.DISK_SIZE_GIB[1],
    )

    def spec(self, name: str) -> NodePoolSpec:
        return NodePoolSpec(
            name=name,
            **self.model_dump(exclude={"taints"}),
            taints=[NodeTaint(**t.model_dump()) for t in self.taints],
        )


class ClusterSettings(ConfigModel):
    """`platform:cluster`."""

    version: Annotated[str, rule(cluster_rules.kubernetes_version_problems)]
    endpoint_public_access: bool
    public_access_cidrs: Annotated[list[str], rule(cluster_rules.cidr_problems)] = Field(
        default_factory=list
    )
    # Beyond the VPC itself (always allowed): VPN or peered ranges that call the private API.
    private_access_cidrs: Annotated[list[str], rule(cluster_rules.cidr_problems)] = Field(
        default_factory=list
    )
    allow_public_access_from_anywhere: bool = component_default(
        ClusterArgs, "allow_public_access_from_anywhere"
    )
    # No implicit creator admin: whoever administers the cluster is named here.
    admin_role_arns: Annotated[list[str], rule(cluster_rules.admin_role_problems)]
    # The GitHub preview roles (bootstrap output `previewRoleArns`): discovery-only access.
    preview_role_arns: Annotated[list[str], rule(cluster_rules.role_arn_problems)] = Field(
        default_factory=list
    )
    # The drift check's role (bootstrap output `driftRoleArns`): reads everything, writes nothing.
    reader_role_arns: Annotated[list[str], rule(cluster_rules.role_arn_problems)] = Field(
        default_factory=list
    )
    log_retention_days: RetentionDays
    imds_hop_limit: Literal[cluster_rules.IMDS_HOP_LIMITS] = component_default(  # type: ignore[valid-type]
        ClusterArgs, "imds_hop_limit"
    )
    node_groups: dict[str, NodeGroupSettings] = Field(min_length=1)
    namespaces: list[str] = Field(min_length=1)
    # Replicas of the load balancer controller and metrics-server (1 only where an outage
    # of a minute during a node replacement is acceptable: dev).
    controller_replicas: int = Field(
        ge=cluster_rules.CONTROLLER_REPLICAS[0], le=cluster_rules.CONTROLLER_REPLICAS[1]
    )
    # What adds nodes: karpenter (uat, prod), cluster-autoscaler or none (dev). Independent of
    # app.autoscaling (the pods' HPA).
    node_autoscaler: Literal[NODE_AUTOSCALERS]  # type: ignore[valid-type]
    # Every profile names its pools (dev: none), so no settings default stands in for them.
    node_pools: dict[str, NodePoolSettings]
    karpenter_node_group: str | None = None

    def node_pool_specs(self) -> list[NodePoolSpec]:
        return [pool.spec(name) for name, pool in self.node_pools.items()]

    @model_validator(mode="after")
    def _node_autoscaling(self) -> ClusterSettings:
        problems = []
        karpenter = self.node_autoscaler == "karpenter"
        if self.node_pools and not karpenter:
            problems.append(
                f"nodePools and nodeAutoscaler: the pools {sorted(self.node_pools)} are only "
                f"with nodeAutoscaler: karpenter (it is {self.node_autoscaler}); remove them or "
                "switch"
            )
        if karpenter and not self.node_pools:
            problems.append("nodePools: nodeAutoscaler karpenter needs at least one pool")
        if self.karpenter_node_group is not None and not karpenter:
            problems.append(
                "karpenterNodeGroup and nodeAutoscaler: karpenterNodeGroup is only with "
                "nodeAutoscaler: karpenter"
            )
        group = self.karpenter_node_group or next(iter(self.node_groups), None)
        if karpenter and group not in self.node_groups:
            problems.append(
                f"karpenterNodeGroup {group!r}: one of nodeGroups {sorted(self.node_groups)} "
                "(Karpenter's controller runs on a managed node group, never on its own nodes)"
            )
        for name, pool in self.node_pools.items():
            if name in self.node_groups:
                problems.append(
                    f"nodePools.{name}: the name of a node group too; one name, one kind of node"
                )
            problems += [
                f"nodePools.{name}: {p}" for p in pool_rules.node_pool_problems(pool.spec(name))
            ]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @field_validator("node_groups")
    @classmethod
    def _group_names(cls, value: dict[str, NodeGroupSettings]) -> dict:
        problems = [p for name in value for p in cluster_rules.node_group_name_problems(name)]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, value: list[str]) -> list[str]:
        system = component_default(ClusterArgs, "system_namespace")
        problems = [p for ns in value for p in cluster_rules.namespace_problems(ns, system)]
        if len(set(value)) != len(value):
            problems.append(f"{value}: each namespace once")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _previewers_are_not_admins(self) -> ClusterSettings:
        problems = []
        for key, roles in (("previewRoleArns", self.preview_role_arns),
                           ("readerRoleArns", self.reader_role_arns)):  # fmt: skip
            if both := sorted(set(roles) & set(self.admin_role_arns)):
                problems.append(
                    f"{key}: {both} are in adminRoleArns too; one role, one kind of access "
                    "(a preview role must not be cluster-admin: pull requests run with it)"
                )
        if both := sorted(set(self.preview_role_arns) & set(self.reader_role_arns)):
            problems.append(
                f"previewRoleArns: {both} are in readerRoleArns too; a pull request's role "
                "must not read Secrets"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _public_endpoint(self) -> ClusterSettings:
        problems = cluster_rules.public_endpoint_problems(
            self.endpoint_public_access,
            self.public_access_cidrs,
            self.allow_public_access_from_anywhere,
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self
