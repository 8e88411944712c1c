"""The program: build every section of the platform for one stack, in dependency order.

`build(settings)` is the whole program; `infra/__main__.py` only loads settings and calls it,
so tests and the offline plan run exactly what `pulumi up` runs. Each step is the wiring of
one config section (`infra/wiring/<section>.py`); this module keeps only the order.
"""

from __future__ import annotations

import pulumi

from infra.config import LocalSettings, Settings
from infra.wiring import foundation
from infra.wiring import local as local_stack
from infra.wiring.cluster import cluster as build_cluster
from infra.wiring.data_stores import data_stores, recovery_site
from infra.wiring.exports import Platform, export
from infra.wiring.observability import observability as build_observability
from infra.wiring.services import ServiceFoundations, services


def build(settings: Settings | LocalSettings) -> Platform | local_stack.LocalPlatform:
    """Register every resource of the platform for `settings` and export its outputs."""
    if isinstance(settings, LocalSettings):
        # The laptop cluster: the in-cluster layer and its stand-ins, no AWS (wiring/local.py).
        return local_stack.build(settings)
    regions = foundation.regions(settings)
    network = foundation.network(settings, regions)
    buckets = foundation.buckets(settings, regions)
    alb_groups = foundation.alb_groups(settings, buckets)
    cluster = build_cluster(settings, network, regions)
    stores = data_stores(settings, network, regions, cluster)
    recovery = recovery_site(settings, regions)
    observability = build_observability(settings, network, regions, cluster, alb_groups)
    wired = services(
        ServiceFoundations(settings, regions, network, cluster, stores, alb_groups, observability)
    )

    for warning in settings.warnings():
        pulumi.log.warn(warning)
    platform = Platform(regions, network, buckets, cluster, stores, observability, wired, recovery)
    export(settings, platform)
    return platform
