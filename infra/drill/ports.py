"""The side effects of the drill: ONE port for every AWS call, plus the clock and the probes.

The real `Cloud` is `infra.drill.adapters.aws.Boto3Cloud` (tested against moto); the steps
and their tests use in-memory fakes. Methods take the region, because the cross-region path
works in the replica region. What the port returns is plain data, defined here.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from infra.drill.model import Resource
from infra.drill.record import Check
from infra.drill.versions import Version


@dataclass(frozen=True)
class Cluster:
    """An Aurora cluster as DescribeDBClusters (and its writer's DescribeDBInstances) show it.

    Attributes:
        identifier / arn / status: as RDS reports them (`available` when usable).
        engine / engine_version: e.g. `aurora-postgresql`, `17.5`.
        storage_encrypted / kms_key_id: encryption at rest and the key ARN.
        earliest_restorable / latest_restorable: the PITR window (None when RDS shows none).
        serverless_v2: ServerlessV2ScalingConfiguration (MinCapacity/MaxCapacity...) or None.
        writer_class: the writer instance's class (`db.serverless` on serverless v2), or None.
        endpoint / port: where a probe connects.
        tags: the cluster's tags.
    """

    identifier: str
    arn: str
    status: str
    engine: str
    engine_version: str
    storage_encrypted: bool
    kms_key_id: str | None
    earliest_restorable: datetime | None
    latest_restorable: datetime | None
    serverless_v2: Mapping[str, float] | None
    writer_class: str | None
    endpoint: str | None
    port: int | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class ClusterRestore:
    """RestoreDBClusterToPointInTime into a new cluster (always an explicit RestoreToTime)."""

    source: str
    target: str
    restore_to: datetime
    subnet_group_name: str
    security_group_ids: Sequence[str]
    kms_key_id: str
    serverless_v2: Mapping[str, float] | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class RecoveryPoint:
    """One recovery point in an AWS Backup vault."""

    arn: str
    resource_arn: str
    status: str  # COMPLETED | PARTIAL | DELETING | EXPIRED | ...
    created: datetime


@dataclass(frozen=True)
class CopyRestore:
    """StartRestoreJob of an Aurora recovery point into a new cluster (one region)."""

    recovery_point_arn: str
    vault_name: str
    role_arn: str
    target: str
    subnet_group_name: str
    security_group_ids: Sequence[str]
    kms_key_id: str


@dataclass(frozen=True)
class RestoreJob:
    """DescribeRestoreJob: `status` is PENDING | RUNNING | COMPLETED | ABORTED | FAILED."""

    status: str
    message: str
    created_resource_arn: str | None
    recovery_point_created: datetime | None


@dataclass(frozen=True)
class Instance:
    """CreateDBInstance of a cluster member."""

    identifier: str
    cluster: str
    instance_class: str
    engine: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class CacheGroup:
    """A replication group (and its first member's engine version)."""

    group_id: str
    arn: str
    status: str
    engine: str | None
    engine_version: str | None  # from DescribeCacheClusters; None when no member reports it
    node_type: str
    transit_encryption: bool
    at_rest_encryption: bool
    kms_key_id: str | None
    auth_token_enabled: bool
    endpoint: str | None


@dataclass(frozen=True)
class CacheSnapshot:
    """An ElastiCache snapshot; `created` is None when ElastiCache reports no node time."""

    name: str
    status: str
    source: str  # automated | manual
    engine_version: str | None
    node_type: str | None
    created: datetime | None


@dataclass(frozen=True)
class CacheRestore:
    """CreateReplicationGroup seeded from a snapshot."""

    group_id: str
    snapshot_name: str
    engine: str
    engine_version: str | None
    node_type: str
    subnet_group_name: str
    security_group_ids: Sequence[str]
    kms_key_id: str
    auth_token: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Fingerprint:
    """What identifies an object's content: its ETag and a full-object checksum if S3 has one.

    SSE-KMS objects' ETags are not content digests, so two copies of the same bytes may have
    different ETags; their checksum (e.g. CRC64NVME, computed on upload) still matches.
    """

    etag: str
    checksum: tuple[str, str] | None


class Cloud(Protocol):
    """Every AWS call the drill makes."""

    # -- Aurora --------------------------------------------------------------------------------
    def cluster(self, region: str, identifier: str) -> Cluster | None:
        """The cluster, or None when it does not exist."""
        ...

    def restore_cluster(self, region: str, request: ClusterRestore) -> None:
        """Start a point-in-time restore into a new cluster."""
        ...

    def recovery_points(self, region: str, vault: str, resource_arn: str) -> list[RecoveryPoint]:
        """Every recovery point of `resource_arn` in `vault`."""
        ...

    def start_copy_restore(self, region: str, request: CopyRestore) -> str:
        """Start an AWS Backup restore job; returns its id."""
        ...

    def restore_job(self, region: str, job_id: str) -> RestoreJob:
        """The restore job's state."""
        ...

    def create_instance(self, region: str, request: Instance) -> None:
        """Add an instance to a cluster."""
        ...

    def instance_status(self, region: str, identifier: str) -> str | None:
        """DBInstanceStatus, or None when the instance does not exist."""
        ...

    # -- ElastiCache ---------------------------------------------------------------------------
    def cache_group(self, region: str, group_id: str) -> CacheGroup | None:
        """The replication group, or None."""
        ...

    def cache_snapshots(self, region: str, group_id: str) -> list[CacheSnapshot]:
        """Every snapshot (automated and manual) of the group."""
        ...

    def secret_string(self, region: str, secret_arn: str) -> str:
        """The secret's current SecretString."""
        ...

    def create_cache_group(self, region: str, request: CacheRestore) -> None:
        """Create a replication group from a snapshot."""
        ...

    # -- S3 ------------------------------------------------------------------------------------
    def object_versions(self, region: str, bucket: str, prefix: str) -> list[Version]:
        """Every version and delete marker under `prefix`."""
        ...

    def bucket_exists(self, region: str, bucket: str) -> bool:
        """Whether the bucket exists (and is ours to read)."""
        ...

    def create_bucket(
        self, region: str, bucket: str, kms_key_id: str, tags: Mapping[str, str]
    ) -> None:
        """A private, SSE-KMS scratch bucket carrying `tags`."""
        ...

    def copy_version(
        self,
        region: str,
        source: str,
        version: Version,
        target: str,
        tags: Mapping[str, str] | None,
    ) -> str:
        """Copy `version` to `target` under the same key; `tags` replace the object's tags
        (None keeps them). Returns the new version id."""
        ...

    def delete_marker(self, region: str, bucket: str, key: str) -> None:
        """DeleteObject without a version id: a delete marker, no version is removed."""
        ...

    def fingerprint(
        self, region: str, bucket: str, key: str, version_id: str | None
    ) -> Fingerprint:
        """The ETag and checksum of a version (None: the current one)."""
        ...

    # -- tags and cleanup ----------------------------------------------------------------------
    def tags(self, resource: Resource) -> Mapping[str, str] | None:
        """The resource's tags; None when it does not exist."""
        ...

    def tag(self, resource: Resource, tags: Mapping[str, str]) -> None:
        """Add tags (AWS Backup restores do not tag what they create)."""
        ...

    def tagged(self, region: str, key: str, value: str) -> list[Resource]:
        """Every resource of a drill kind in `region` tagged `key=value`."""
        ...

    def delete(self, resource: Resource) -> None:
        """Delete it: no final snapshot, no retained primary; a bucket with its versions."""
        ...


class Clock(Protocol):
    """Time, so tests never sleep."""

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""
        ...


class Probes(Protocol):
    """Caller-supplied checks that the copy answers (they connect; verify's checks do not)."""

    def command(self, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Check:
        """Run a command (no shell); passes on exit status 0."""
        ...

    def http(self, url: str, timeout: float) -> Check:
        """GET `url`; passes on a 2xx answer."""
        ...


@dataclass(frozen=True)
class Ports:
    """Every side effect a drill step may use."""

    cloud: Cloud
    clock: Clock
    probes: Probes
