"""Class 13 (issue 15): settings and the components never disagree. A value at the edge of
what settings allows either is refused by settings before anything is registered, or builds
the whole program: a component refusing it later (a traceback after resources exist) fails
here. The edges are the bounds the components publish, so a bound that moves moves the case."""

from __future__ import annotations

import pytest

from components.database import args as database_rules
from components.logs import LOG_RETENTION_DAYS
from components.streaming import VOLUME_GIB
from infra.config.errors import SettingsError
from infra.config.load import from_pulumi
from infra.offline.mockengine import last_run, run_program
from infra.stack import build
from tests.helpers import minimum

SERVICE = {
    "name": "api",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
    "tags": {"blue": "1.4.2", "green": "1.4.2"},
    "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123",
}

EDGES = [
    ("dev", {"platform:cache": {"numCacheClusters": 1, "multiAz": False}}),
    ("dev", {"platform:streaming": {"brokerCount": 4, "zoneCount": 2}}),
    ("dev", {"platform:streaming": {"volumeSizeGib": VOLUME_GIB[0],
                                    "maxVolumeSizeGib": VOLUME_GIB[0]}}),
    ("dev", {"platform:database": {"readerCount": database_rules.MAX_READERS}}),
    ("dev", {"platform:database": {"minCapacity": 0,
             "secondsUntilAutoPause": database_rules.AUTO_PAUSE_SECONDS[0]}}),
    ("dev", {"platform:database": {"logRetentionDays": max(LOG_RETENTION_DAYS)}}),
    ("dev", {"platform:cluster": {**minimum("dev")["platform:cluster"],
             "nodeGroups": {"general": {"minSize": 0, "desiredSize": 0}}}}),
    ("dev", {"platform:services": [{**SERVICE, "idleReplicas": 0, "trafficSplit": 100,
             "topics": [{"name": "orders", "replicationFactor": 2, "partitions": 1}]}]}),
    ("uat", {"platform:services": [{**SERVICE, "activeColor": "green", "trafficSplit": 0}]}),
    ("prod", {"platform:database": {"readerCount": database_rules.MAX_READERS}}),
]  # fmt: skip


@pytest.mark.parametrize("stack,config", EDGES, ids=[f"{s}:{next(iter(c))}" for s, c in EDGES])
def test_settings_and_the_components_agree_at_the_edges(stack, config):
    try:
        run_program(lambda: build(from_pulumi()), stack=stack, config={**minimum(stack), **config})
    except SettingsError:
        assert last_run.monitor.recorded == [], "settings refused it after registering resources"


@pytest.mark.parametrize("services,proxies", [([], 0), ([SERVICE], 1)], ids=["none", "one"])
def test_the_proxy_is_created_with_the_first_service_login(services, proxies, caplog):
    """A prod platform deployed before its first service (the first day) builds, without the
    proxy that no login could use yet, and says so; the first service brings it."""
    config = {**minimum("prod"), "platform:services": services}
    recording = run_program(lambda: build(from_pulumi()), stack="prod", config=config)
    assert len(recording.of_type("aws:rds/proxy:Proxy")) == proxies
    warned = "the RDS Proxy is created with the first service" in caplog.text
    assert warned == (not services)
