"""The capacity rules as pure functions, one case per condition (the config tables in
tests/test_config_classes.py drive the same rules through `make plan`)."""

from __future__ import annotations

import pytest

from components.capacity import (
    GIB,
    instance_shape,
    node_pod_problems,
    pod_room,
    request_fit_problems,
    retention_fit_problems,
    spread_problems,
)
from components.streaming import (
    INTERNAL_PARTITIONS,
    partition_limits,
    partition_load_problems,
    partitions_per_broker,
)

AGENTS = ("a", "b", "c", "d", "e")


# (type, vCPUs, GiB, max pods): EC2's tables, max pods = ENIs x (IPv4 per ENI - 1) + 2.
@pytest.mark.parametrize(
    "name,vcpus,memory,pods",
    [
        ("t3.micro", 2, 1, 4), ("t3.small", 2, 2, 11), ("t3a.medium", 2, 4, 17),
        ("t3.large", 2, 8, 35), ("t3.xlarge", 4, 16, 58), ("m6i.large", 2, 8, 29),
        ("m6i.xlarge", 4, 16, 58), ("r6i.2xlarge", 8, 64, 58), ("c6a.4xlarge", 16, 32, 234),
        ("m7g.16xlarge", 64, 256, 737),
    ],
)  # fmt: skip
def test_instance_shapes(name, vcpus, memory, pods):
    shape = instance_shape(name)
    assert (shape.vcpus, shape.memory_gib, shape.max_pods) == (vcpus, memory, pods)


@pytest.mark.parametrize("name", ["x2g.large", "t3.8xlarge", "m6i.metal", "db.r7g.large", "m6i"])
def test_types_outside_the_tables_are_not_judged(name):
    assert instance_shape(name) is None


def test_allocatable_follows_the_eks_reservations():
    shape = instance_shape("m6i.large")  # 2 vCPU: 6 % + 1 % reserved; 29 pods
    assert shape.allocatable_cpu == pytest.approx(2 - 0.07)
    assert shape.allocatable_memory == pytest.approx(8 * GIB - (255 + 11 * 29 + 100) * 2**20)


def test_node_agents_fill_a_node_at_exactly_its_max_pods():
    assert node_pod_problems(["t3.micro"], AGENTS[:3]) == []  # 4 pods, 3 agents: one left
    assert node_pod_problems(["t3.micro"], AGENTS[:4]) == [  # 4 agents: none left
        "a t3.micro node takes 4 pods (VPC CNI: ENIs x (IPv4 per ENI - 1) + 2) and every node "
        "runs 4 node agents (a, b, c, d): no room for any other pod; use a larger instance type"
    ]
    assert node_pod_problems(["t3.micro", "t3.nano", "t3.small"], AGENTS) == [
        p for p in node_pod_problems(["t3.micro", "t3.nano"], AGENTS)
    ]
    assert len(node_pod_problems(["t3.micro", "t3.nano"], AGENTS)) == 2
    assert node_pod_problems(["unknown.large"], AGENTS) == []


def test_pod_room_is_the_smallest_type_at_the_maximum_size():
    assert pod_room(["t3.small", "t3.large"], 3, 5) == 3 * (11 - 5)
    assert pod_room(["t3.micro"], 2, 5) == 0  # never negative
    assert pod_room(["unknown.large"], 3, 5) is None
    assert pod_room(["unknown.large", "t3.small"], 1, 0) == 11


def test_requests_must_fit_every_listed_type():
    assert request_fit_problems("1", "1Gi", ["m6i.large"]) == []
    (cpu,) = request_fit_problems("2", "1Gi", ["m6i.large"])
    assert cpu.startswith("cpu request 2 is more than a m6i.large node gives pods (1.93 of 2")
    (memory,) = request_fit_problems("100m", "8Gi", ["m6i.large"])
    assert memory.startswith("memory request 8Gi is more than a m6i.large node")
    assert request_fit_problems("100m", "8Gi", ["unknown.large"]) == []


def test_replicas_that_must_sit_apart():
    assert spread_problems(3, 3, 3, "X") == []
    assert spread_problems(3, 3, None, "X") == []
    assert spread_problems(3, 2, 3, "X") == [
        "X: 3 replicas must sit in different zones and the network has 2"
    ]
    assert spread_problems(3, 3, 2, "X") == [
        "X: 3 replicas must sit on different nodes and the group they are pinned to has at most 2"
    ]


def test_retention_against_the_disk():
    assert retention_fit_problems(10, 1, 1, 10, "P") == []
    assert retention_fit_problems(10, 1, 2, 10, "P") == [
        "P: 10 days at about 1 GiB/day x 2 copies is about 20 GiB, more than the 10 GiB usable"
    ]


# (broker type, (recommended, maximum)): MSK's per-broker partition guidance.
@pytest.mark.parametrize(
    "broker,limits",
    [("kafka.t3.small", (300, 300)), ("kafka.m5.large", (1000, 1500)),
     ("kafka.m7g.xlarge", (1000, 1500)), ("kafka.m7g.2xlarge", (2000, 3000)),
     ("kafka.m5.4xlarge", (4000, 6000)), ("kafka.m7g.16xlarge", (4000, 6000))],
)  # fmt: skip
def test_partition_limits_per_broker_size(broker, limits):
    assert partition_limits(broker) == limits


def test_partitions_per_broker_count_replicas_and_the_offsets_topic_rounded_up():
    assert INTERNAL_PARTITIONS == 50
    assert partitions_per_broker(2, [(10, 2)], 2) == (20 + 100) // 2
    assert partitions_per_broker(3, [(10, 3), (1, 1)], 3) == -(-(30 + 1 + 150) // 3)  # 61


def test_partition_load_refuses_above_the_maximum_and_warns_above_the_recommendation():
    assert partition_load_problems("kafka.t3.small", 2, [(250, 2)], 2) == ([], [])  # 300
    assert partition_load_problems("kafka.t3.small", 2, [(251, 2)], 2) == (
        [
            "the topics put about 301 partition replicas on each of 2 kafka.t3.small brokers "
            "(partitions x replication factor, with Kafka's 50-partition offsets topic): more than "
            "the 300 MSK allows for updates on that broker size (it would refuse configuration and "
            "broker-type changes); use fewer partitions, more brokers or a larger broker type"
        ],
        [],
    )
    problems, warnings = partition_load_problems("kafka.m7g.large", 3, [(951, 3)], 3)  # 1001
    assert problems == [] and "more than the 1000 AWS recommends" in warnings[0]
    assert partition_load_problems("kafka.m7g.large", 3, [(950, 3)], 3) == ([], [])  # 1000
    assert partition_load_problems("kafka.m7g.large", 3, [(1450, 3)], 3) == (
        [],
        [
            "the topics put about 1500 partition replicas on each of 3 kafka.m7g.large brokers "
            "(partitions x replication factor, with Kafka's 50-partition offsets topic): more than "
            "the 1000 AWS recommends for that broker size"
        ],
    )
