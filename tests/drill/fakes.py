"""In-memory fakes of the drill's ports, shared by the drill's tests.

`FakeCloud` keeps clusters, instances, recovery points, restore jobs, replication groups,
snapshots, secrets, buckets and tags in dicts. A created cluster/group/instance/job becomes
available after `polls_until_ready` status reads (None: never, for the timeout tests).
`calls` lists every mutating call, so a test can assert that a refusal created nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from components.cache import DEFAULT_ENGINE_VERSION as CACHE_VERSION
from components.database.args import DEFAULT_ENGINE_VERSION as DATABASE_VERSION
from infra.drill.model import Kind, Resource
from infra.drill.outputs import parse
from infra.drill.ports import (
    CacheGroup,
    CacheRestore,
    CacheSnapshot,
    Cluster,
    ClusterRestore,
    CopyRestore,
    Fingerprint,
    Instance,
    Ports,
    RecoveryPoint,
    RestoreJob,
)
from infra.drill.record import Check
from infra.drill.versions import Version

ACCOUNT = "123456789012"
REGION = "eu-west-1"
REPLICA = "eu-central-1"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def outputs_json(replica: bool = True, stack: str = "prod") -> dict:
    """A realistic `pulumi stack output --json`, with the keys the drill needs added."""
    prefix = f"platform-{stack}"
    data = {
        "environment": stack,
        "region": REGION,
        "vpcId": "vpc-0123456789abcdef0",
        "dbSubnetGroupName": f"{prefix}-data",
        "cacheSubnetGroupName": f"{prefix}-cache",
        "bucketNames": {
            "assets": f"{prefix}-assets-{ACCOUNT}",
            "backups": f"{prefix}-backups-{ACCOUNT}",
        },
        "accessLogBucketName": f"{prefix}-logs-{ACCOUNT}",
        "kmsKeyArns": {
            domain: f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{domain}-key"
            for domain in ("database", "cache", "storage", "logs", "cluster", "streaming")
        },
        "clusterName": prefix,
        "kubeconfig": "[secret]",
        "database": {
            "endpoint": f"{prefix}-database.cluster-x.{REGION}.rds.amazonaws.com",
            "readerEndpoint": f"{prefix}-database.cluster-ro-x.{REGION}.rds.amazonaws.com",
            "port": 5432,
            "masterSecretArn": f"{SECRETS}:rds!cluster",
            "proxyEndpoint": None,
            "loginsJob": "database-logins",
            "clusterIdentifier": f"{prefix}-database",
            "clusterArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{prefix}-database",
            "securityGroupId": "sg-0database0000000",
            "backupVaultName": f"{prefix}-database-backup" if replica else None,
            "backupRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{prefix}-database-backup"
            if replica
            else None,
        },
        "cache": {
            "primaryEndpoint": f"master.{prefix}-cache.x.cache.amazonaws.com",
            "readerEndpoint": f"replica.{prefix}-cache.x.cache.amazonaws.com",
            "port": 6379,
            "authSecretArn": f"{SECRETS}:{prefix}-cache-auth",
            "replicationGroupId": f"{prefix}-cache",
            "securityGroupId": "sg-0cache000000000",
        },
        "replica": None,
    }
    if replica:
        data["replica"] = {
            "region": REPLICA,
            "database": {
                "backupVaultName": f"{prefix}-database-backup-replica",
                "kmsKeyArn": f"arn:aws:kms:{REPLICA}:{ACCOUNT}:key/database-replica-key",
                "subnetGroupName": f"{prefix}-dr-data",
                "securityGroupId": "sg-0replica0000000",
            },
        }
    return data


OUTPUTS = parse(outputs_json())


class FakeClock:
    """Starts at T0 (or `start`); `sleep` advances it."""

    def __init__(self, start: datetime = T0) -> None:
        self.time = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += timedelta(seconds=seconds)

    def advance(self, **delta: float) -> None:
        self.time += timedelta(**delta)


class FakeProbes:
    """Probes that answer what the test set."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.ran: list[tuple[object, ...]] = []

    def command(self, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Check:
        self.ran.append(("command", tuple(argv), dict(env), timeout))
        return Check(argv[0], self.ok, "exit 0" if self.ok else "exit 1")

    def http(self, url: str, timeout: float) -> Check:
        self.ran.append(("http", url, timeout))
        return Check(url, self.ok, "HTTP 200" if self.ok else "HTTP 503")


@dataclass
class _Pending:
    """A resource that turns `ready_status` after `left` reads (None: never)."""

    left: int | None
    ready_status: str = "available"

    def read(self, waiting: str) -> str:
        if self.left is None:
            return waiting
        if self.left > 0:
            self.left -= 1
            return waiting
        return self.ready_status


@dataclass
class FakeCloud:
    """The `Cloud` port in memory (see the module docstring)."""

    polls_until_ready: int | None = 2
    clusters: dict[tuple[str, str], Cluster] = field(default_factory=dict)
    instances: dict[tuple[str, str], str] = field(default_factory=dict)
    recovery: dict[tuple[str, str], list[RecoveryPoint]] = field(default_factory=dict)
    jobs: dict[str, tuple[_Pending, CopyRestore, RecoveryPoint]] = field(default_factory=dict)
    job_outcome: str = "COMPLETED"
    groups: dict[tuple[str, str], CacheGroup] = field(default_factory=dict)
    snapshots: dict[str, list[CacheSnapshot]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, list[Version]] = field(default_factory=dict)
    resource_tags: dict[Resource, dict[str, str]] = field(default_factory=dict)
    pending: dict[Resource, _Pending] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    clock: FakeClock | None = None

    # -- setup helpers ---------------------------------------------------------------------------
    def add_source_cluster(self, serverless: bool = True, **changes: object) -> Cluster:
        db = OUTPUTS.database
        cluster = Cluster(
            identifier=db.cluster_identifier,
            arn=db.cluster_arn,
            status="available",
            engine="aurora-postgresql",
            engine_version=DATABASE_VERSION,
            storage_encrypted=True,
            kms_key_id=db.kms_key_arn,
            earliest_restorable=T0 - timedelta(days=7),
            latest_restorable=T0 - timedelta(minutes=5),
            serverless_v2={"MinCapacity": 0.5, "MaxCapacity": 4.0} if serverless else None,
            writer_class="db.serverless" if serverless else "db.r7g.large",
            endpoint="live.example",
            port=5432,
            tags={"environment": "prod"},
        )
        cluster = replace(cluster, **changes)
        self.clusters[(REGION, cluster.identifier)] = cluster
        return cluster

    def add_source_cache(self) -> CacheGroup:
        out = OUTPUTS.cache
        group = CacheGroup(
            out.replication_group_id,
            f"arn:cache:{out.replication_group_id}",
            "available",
            "valkey",
            CACHE_VERSION,
            "cache.t4g.small",
            True,
            True,
            out.kms_key_arn,
            True,
            "live",
        )
        self.groups[(REGION, group.group_id)] = group
        self.secrets[out.auth_secret_arn] = json.dumps({"authToken": "t" * 64})
        return group

    def _now(self) -> datetime:
        return self.clock.now() if self.clock else T0

    # -- Aurora ----------------------------------------------------------------------------------
    def cluster(self, region: str, identifier: str) -> Cluster | None:
        found = self.clusters.get((region, identifier))
        resource = Resource(Kind.RDS_CLUSTER, region, identifier)
        if found is not None and resource in self.pending:
            found = replace(found, status=self.pending[resource].read("creating"))
            self.clusters[(region, identifier)] = found
            if found.status == "available":
                del self.pending[resource]
        return found

    def _new_cluster(self, region: str, identifier: str, kms: str, tags: Mapping[str, str]) -> None:
        source = self.clusters[(REGION, OUTPUTS.database.cluster_identifier)]
        self.clusters[(region, identifier)] = replace(
            source,
            identifier=identifier,
            arn=f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{identifier}",
            status="creating",
            kms_key_id=kms,
            tags=dict(tags),
            endpoint=f"{identifier}.example",
        )
        self.pending[Resource(Kind.RDS_CLUSTER, region, identifier)] = _Pending(
            self.polls_until_ready
        )

    def restore_cluster(self, region: str, request: ClusterRestore) -> None:
        self.calls.append(f"restore_cluster {request.target} to {request.restore_to.isoformat()}")
        self.last_restore = request
        self._new_cluster(region, request.target, request.kms_key_id, request.tags)

    def recovery_points(self, region: str, vault: str, resource_arn: str) -> list[RecoveryPoint]:
        return [p for p in self.recovery.get((region, vault), []) if p.resource_arn == resource_arn]

    def start_copy_restore(self, region: str, request: CopyRestore) -> str:
        self.calls.append(f"start_copy_restore {request.target}")
        point = next(
            p
            for p in self.recovery[(region, request.vault_name)]
            if p.arn == request.recovery_point_arn
        )
        job_id = f"job-{len(self.jobs) + 1}"
        self.jobs[job_id] = (_Pending(self.polls_until_ready, self.job_outcome), request, point)
        return job_id

    def restore_job(self, region: str, job_id: str) -> RestoreJob:
        pending, request, point = self.jobs[job_id]
        status = pending.read("RUNNING")
        if status == "COMPLETED" and (region, request.target) not in self.clusters:
            # AWS Backup creates the cluster without the drill's tags.
            self._new_cluster(region, request.target, request.kms_key_id, {})
            self.pending.pop(Resource(Kind.RDS_CLUSTER, region, request.target))
            self.clusters[(region, request.target)] = replace(
                self.clusters[(region, request.target)], status="available"
            )
        return RestoreJob(status, "boom" if status == "FAILED" else "", None, point.created)

    def create_instance(self, region: str, request: Instance) -> None:
        self.calls.append(f"create_instance {request.identifier} {request.instance_class}")
        self.last_instance = request
        resource = Resource(Kind.RDS_INSTANCE, region, request.identifier)
        self.instances[(region, request.identifier)] = "creating"
        self.resource_tags[resource] = dict(request.tags)
        self.pending[resource] = _Pending(self.polls_until_ready)

    def instance_status(self, region: str, identifier: str) -> str | None:
        resource = Resource(Kind.RDS_INSTANCE, region, identifier)
        if (region, identifier) not in self.instances:
            return None
        if resource in self.pending:
            self.instances[(region, identifier)] = self.pending[resource].read("creating")
        return self.instances[(region, identifier)]

    # -- ElastiCache -----------------------------------------------------------------------------
    def cache_group(self, region: str, group_id: str) -> CacheGroup | None:
        found = self.groups.get((region, group_id))
        resource = Resource(Kind.CACHE_GROUP, region, group_id)
        if found is not None and resource in self.pending:
            found = replace(found, status=self.pending[resource].read("creating"))
            self.groups[(region, group_id)] = found
        return found

    def cache_snapshots(self, region: str, group_id: str) -> list[CacheSnapshot]:
        return list(self.snapshots.get(group_id, []))

    def secret_string(self, region: str, secret_arn: str) -> str:
        return self.secrets[secret_arn]

    def create_cache_group(self, region: str, request: CacheRestore) -> None:
        self.calls.append(f"create_cache_group {request.group_id} from {request.snapshot_name}")
        self.last_cache = request
        self.groups[(region, request.group_id)] = CacheGroup(
            request.group_id,
            f"arn:cache:{request.group_id}",
            "creating",
            request.engine,
            request.engine_version,
            request.node_type,
            True,
            True,
            request.kms_key_id,
            True,
            "copy",
        )
        resource = Resource(Kind.CACHE_GROUP, region, request.group_id)
        self.resource_tags[resource] = dict(request.tags)
        self.pending[resource] = _Pending(self.polls_until_ready)

    # -- S3 (enough for the fake-driven tests; the real calls are tested against moto) -----------
    def object_versions(self, region: str, bucket: str, prefix: str) -> list[Version]:
        return [v for v in self.buckets.get(bucket, []) if v.key.startswith(prefix)]

    def bucket_exists(self, region: str, bucket: str) -> bool:
        return bucket in self.buckets

    def create_bucket(
        self, region: str, bucket: str, kms_key_id: str, tags: Mapping[str, str]
    ) -> None:
        self.calls.append(f"create_bucket {bucket}")
        self.buckets[bucket] = []
        self.resource_tags[Resource(Kind.BUCKET, region, bucket)] = dict(tags)

    def _write(self, bucket: str, version: Version) -> None:
        entries = self.buckets[bucket]
        self.buckets[bucket] = [
            replace(v, is_latest=False) if v.key == version.key else v for v in entries
        ]
        self.buckets[bucket].insert(0, version)

    def copy_version(self, region, source, version, target, tags) -> str:
        self.calls.append(f"copy {source}/{version.key}@{version.version_id} -> {target}")
        new_id = f"v{sum(len(b) for b in self.buckets.values()) + 1}"
        self._write(
            target, replace(version, version_id=new_id, last_modified=self._now(), is_latest=True)
        )
        return new_id

    def delete_marker(self, region: str, bucket: str, key: str) -> None:
        self.calls.append(f"delete_marker {bucket}/{key}")
        self._write(bucket, Version(key, f"dm{len(self.buckets[bucket])}", self._now(), True, True))

    def fingerprint(self, region, bucket, key, version_id) -> Fingerprint:
        entries = [v for v in self.buckets[bucket] if v.key == key]
        version = next(
            v for v in entries if (v.version_id == version_id if version_id else v.is_latest)
        )
        return Fingerprint(version.etag or "", None)

    # -- tags and cleanup ------------------------------------------------------------------------
    def _exists(self, resource: Resource) -> bool:
        where = (resource.region, resource.identifier)
        return {
            Kind.RDS_CLUSTER: where in self.clusters,
            Kind.RDS_INSTANCE: where in self.instances,
            Kind.CACHE_GROUP: where in self.groups,
            Kind.BUCKET: resource.identifier in self.buckets,
            Kind.OBJECT_VERSION: True,
        }[resource.kind]

    def tags(self, resource: Resource) -> Mapping[str, str] | None:
        if not self._exists(resource):
            return None
        if resource.kind is Kind.RDS_CLUSTER:
            return self.clusters[(resource.region, resource.identifier)].tags
        return self.resource_tags.get(resource, {})

    def tag(self, resource: Resource, tags: Mapping[str, str]) -> None:
        self.calls.append(f"tag {resource}")
        key = (resource.region, resource.identifier)
        self.clusters[key] = replace(self.clusters[key], tags={**self.clusters[key].tags, **tags})

    def tagged(self, region: str, key: str, value: str) -> list[Resource]:
        every = [r for r in self.resource_tags if r.region == region]
        every += [Resource(Kind.RDS_CLUSTER, r, i) for (r, i) in self.clusters if r == region]
        return [r for r in every if self._exists(r) and (self.tags(r) or {}).get(key) == value]

    def delete(self, resource: Resource) -> None:
        self.calls.append(f"delete {resource}")
        where = (resource.region, resource.identifier)
        {
            Kind.RDS_CLUSTER: lambda: self.clusters.pop(where),
            Kind.RDS_INSTANCE: lambda: self.instances.pop(where),
            Kind.CACHE_GROUP: lambda: self.groups.pop(where),
            Kind.BUCKET: lambda: self.buckets.pop(resource.identifier),
            Kind.OBJECT_VERSION: lambda: None,
        }[resource.kind]()

    def created_anything(self) -> bool:
        """Whether any call that creates something was made."""
        creating = ("restore_cluster", "start_copy_restore", "create_", "copy ", "delete_marker")
        return any(call.startswith(creating) for call in self.calls)


def ports(
    cloud: FakeCloud, clock: FakeClock | None = None, probes: FakeProbes | None = None
) -> Ports:
    """Ports wired to fakes; the cloud reads the same clock."""
    clock = clock or FakeClock()
    cloud.clock = clock
    return Ports(cloud=cloud, clock=clock, probes=probes or FakeProbes())
