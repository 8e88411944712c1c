"""Topics: MSK topics through the topic API, retained when removed, durable replication."""

from __future__ import annotations

import json
import re

import pytest

from components.topics import Topics, TopicsArgs, TopicSpec, colliding_names, topic_problems
from infra.offline import mockengine
from infra.offline.mockengine import run_program

CONFIG = {"aws:region": "eu-west-1"}
MSK_ARN = "arn:aws:kafka:eu-west-1:123456789012:cluster/platform-test-kafka/uuid-1"


def _run(topics, brokers=3, protect=False) -> mockengine.Recording:
    args = TopicsArgs(cluster_arn=MSK_ARN, broker_count=brokers, topics=topics, protect=protect)
    return run_program(lambda: Topics("topics", args), stack="test", config=CONFIG)


def test_topics_are_created_with_their_partitions_retention_and_cluster_replication():
    rec = _run(
        [
            TopicSpec(name="shop.orders", owner="shop", partitions=6, retention_hours=24),
            TopicSpec(name="shop.audit", owner="shop"),
        ],
        protect=True,
    )
    topics = {t.inputs["name"]: t for t in rec.of_type("aws:msk/topic:Topic")}
    orders = topics["shop.orders"]
    assert orders.inputs["clusterArn"] == MSK_ARN
    assert orders.inputs["partitionCount"] == 6
    assert orders.inputs["replicationFactor"] == 3
    assert json.loads(orders.inputs["configs"]) == {
        "retention.ms": str(24 * 3_600_000),
        "cleanup.policy": "delete",
        "min.insync.replicas": "2",
    }
    assert json.loads(topics["shop.audit"].inputs["configs"])["retention.ms"] == str(
        168 * 3_600_000
    )
    for topic in topics.values():
        assert topic.protect and topic.retain_on_delete


def test_outside_prod_topics_are_not_protected_but_still_retained():
    (topic,) = _run([TopicSpec(name="t", owner="s")], brokers=2).of_type("aws:msk/topic:Topic")
    assert not topic.protect and topic.retain_on_delete
    assert topic.inputs["replicationFactor"] == 2


@pytest.mark.parametrize(
    ("spec", "brokers", "message"),
    [
        (TopicSpec(name="bad name", owner="s"), 3, "name 'bad name'"),
        (TopicSpec(name="..", owner="s"), 3, "name '..'"),
        (TopicSpec(name="x" * 250, owner="s"), 3, "name"),
        (TopicSpec(name="t", owner="s", partitions=0), 3, "partitions 0"),
        (TopicSpec(name="t", owner="s", replication_factor=4), 3, "replicationFactor 4"),
        # Two replicas with min.insync.replicas 2: one broker down stops every producer.
        (TopicSpec(name="t", owner="s", replication_factor=2), 3, "replicationFactor 2"),
        (TopicSpec(name="t", owner="s", replication_factor=1), 2, "replicationFactor 1"),
        (TopicSpec(name="t", owner="s", retention_hours=0), 3, "retentionHours 0"),
    ],
)
def test_topics_msk_would_refuse_or_that_cannot_survive_a_broker_are_rejected(
    spec, brokers, message
):
    # The rule speaks the stack file's keys (settings reports it); the component, called from
    # Python, names the Python field.
    assert any(message in p for p in topic_problems(spec, brokers))
    python_field = re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), message.split(" ")[0])
    with pytest.raises(ValueError, match=python_field):
        _run([spec], brokers=brokers)
    assert mockengine.last_run.monitor.recorded == []


def test_names_that_collide_in_kafka_metrics_or_repeat_are_rejected():
    assert colliding_names(["a.b", "a_b"]) == ["a.b / a_b"]
    assert colliding_names(["t", "t"]) == ["t"]
    assert colliding_names(["a.b", "a.c"]) == []
    with pytest.raises(ValueError, match="differ only"):
        _run([TopicSpec(name="a.b", owner="x"), TopicSpec(name="a_b", owner="y")])
