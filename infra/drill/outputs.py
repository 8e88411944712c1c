"""The stack outputs the drill reads (`pulumi stack output --json > outputs.json`), typed.

The drill has no config of its own: everything comes from these keys, and a missing one is an
error naming it. No secret output is needed (`--show-secrets` is not): the cache auth token is
read from Secrets Manager by the ARN exported here.

Keys the drill reads (camelCase, as `pulumi stack output --json` prints them). Those marked
NEW are not exported by `infra/stack.py::_export` today and must be added:

```
{
  "environment": "uat",
  "region": "eu-west-1",
  "dbSubnetGroupName": "platform-uat-data",
  "cacheSubnetGroupName": "platform-uat-cache",
  "bucketNames": {"assets": "platform-uat-assets-123456789012", ...},
  "kmsKeyArns": {"database": "arn:aws:kms:...", "cache": "arn:...", "storage": "arn:..."},
  "database": {
    "clusterIdentifier": "platform-uat-database",               NEW  Database.cluster_identifier
    "clusterArn": "arn:aws:rds:eu-west-1:123456789012:cluster:platform-uat-database",  NEW
    "securityGroupId": "sg-0123456789abcdef0",                  NEW  Database.security_group_id
    "backupVaultName": "platform-prod-database-backup" | null,  NEW  AWS Backup vault (protect)
    "backupRoleArn": "arn:aws:iam::123456789012:role/..." | null  NEW  the AWS Backup service
                                                                     role (restores with it)
    ...the existing endpoint, readerEndpoint, port, masterSecretArn, proxyEndpoint, loginsJob
  },
  "cache": {
    "replicationGroupId": "platform-uat-cache",                 NEW
    "securityGroupId": "sg-0123456789abcdef1",                  NEW  Cache.security_group_id
    "authSecretArn": "arn:aws:secretsmanager:...",
    ...the existing primaryEndpoint, readerEndpoint, port
  },
  "replica": null | {                                           NEW  (prod: the second region)
    "region": "eu-central-1",
    "database": {
      "backupVaultName": "platform-prod-database-backup-replica",
      "kmsKeyArn": "arn:aws:kms:eu-central-1:...",     the replica region's database key
      "subnetGroupName": "platform-prod-dr-data",       a DB subnet group in that region
      "securityGroupId": "sg-..."                       a security group in that region's VPC
    }
  }
}
```
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.drill.model import DrillError


@dataclass(frozen=True)
class DatabaseOutputs:
    """The live Aurora cluster and what a copy of it needs in the primary region.

    Attributes:
        cluster_identifier: the live cluster (the source of every database restore).
        cluster_arn: its ARN (AWS Backup lists recovery points by resource ARN).
        subnet_group_name: DB subnet group on the isolated subnets.
        security_group_id: the database security group (admits the EKS nodes only).
        kms_key_arn: the database key (storage of the copy must use it).
        backup_vault_name: the primary AWS Backup vault, or None (no AWS Backup plan).
        backup_role_arn: the role AWS Backup restores with, or None.
    """

    cluster_identifier: str
    cluster_arn: str
    subnet_group_name: str
    security_group_id: str
    kms_key_arn: str
    backup_vault_name: str | None
    backup_role_arn: str | None


@dataclass(frozen=True)
class CacheOutputs:
    """The live replication group and what a copy of it needs.

    Attributes:
        replication_group_id: the live group (its snapshots are the source).
        subnet_group_name: ElastiCache subnet group on the isolated subnets.
        security_group_id: the cache security group.
        kms_key_arn: the cache key (at-rest encryption of the copy).
        auth_secret_arn: Secrets Manager secret holding `{"authToken": ...}`.
    """

    replication_group_id: str
    subnet_group_name: str
    security_group_id: str
    kms_key_arn: str
    auth_secret_arn: str


@dataclass(frozen=True)
class ReplicaOutputs:
    """Where the cross-region copy of the database is restored (prod's second region).

    Attributes:
        region: the replica region.
        backup_vault_name: the vault receiving the AWS Backup copies.
        kms_key_arn: that region's database key (the copy's storage key).
        subnet_group_name: a DB subnet group in that region.
        security_group_id: a security group in that region's VPC.
    """

    region: str
    backup_vault_name: str
    kms_key_arn: str
    subnet_group_name: str
    security_group_id: str


@dataclass(frozen=True)
class StackOutputs:
    """Everything the drill reads from one stack.

    Attributes:
        environment: the stack's environment (dev/uat/prod), for the report.
        region: the primary region.
        buckets: bucket purpose -> bucket name.
        storage_kms_key_arn: the storage key (encrypts a scratch bucket the drill creates).
        database / cache: see their classes.
        replica: the second region, or None (stacks without replication).
    """

    environment: str
    region: str
    buckets: Mapping[str, str]
    storage_kms_key_arn: str
    database: DatabaseOutputs
    cache: CacheOutputs
    replica: ReplicaOutputs | None


class _Reader:
    """Typed access with errors that name the full key path."""

    def __init__(self, data: Any, path: str = "") -> None:
        if not isinstance(data, Mapping):
            raise DrillError(f"stack output {path or '(top level)'} must be an object")
        self._data = data
        self._path = path

    def _key(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def maybe(self, key: str) -> str | None:
        return None if self._data.get(key) is None else self.text(key)

    def text(self, key: str) -> str:
        value = self._data.get(key)
        if not isinstance(value, str) or not value:
            problem = (
                "is missing" if value is None else f"must be a non-empty string, got {value!r}"
            )
            raise DrillError(
                f"stack output {self._key(key)} {problem} (see infra/drill/outputs.py)"
            )
        return value

    def child(self, key: str) -> "_Reader":
        if key not in self._data:
            raise DrillError(
                f"stack output {self._key(key)} is missing (see infra/drill/outputs.py)"
            )
        return _Reader(self._data[key], self._key(key))

    def strings(self, key: str) -> dict[str, str]:
        child = self.child(key)
        return {name: child.text(name) for name in child._data}


def parse(data: Any) -> StackOutputs:
    """Parse `pulumi stack output --json`; DrillError names the first missing or bad key."""
    top = _Reader(data)
    keys = top.child("kmsKeyArns")
    db, cache = top.child("database"), top.child("cache")
    replica = None
    if top.has("replica"):
        rep = top.child("replica")
        rep_db = rep.child("database")
        replica = ReplicaOutputs(
            region=rep.text("region"),
            backup_vault_name=rep_db.text("backupVaultName"),
            kms_key_arn=rep_db.text("kmsKeyArn"),
            subnet_group_name=rep_db.text("subnetGroupName"),
            security_group_id=rep_db.text("securityGroupId"),
        )
    return StackOutputs(
        environment=top.text("environment"),
        region=top.text("region"),
        buckets=top.strings("bucketNames"),
        storage_kms_key_arn=keys.text("storage"),
        database=DatabaseOutputs(
            cluster_identifier=db.text("clusterIdentifier"),
            cluster_arn=db.text("clusterArn"),
            subnet_group_name=top.text("dbSubnetGroupName"),
            security_group_id=db.text("securityGroupId"),
            kms_key_arn=keys.text("database"),
            backup_vault_name=db.maybe("backupVaultName"),
            backup_role_arn=db.maybe("backupRoleArn"),
        ),
        cache=CacheOutputs(
            replication_group_id=cache.text("replicationGroupId"),
            subnet_group_name=top.text("cacheSubnetGroupName"),
            security_group_id=cache.text("securityGroupId"),
            kms_key_arn=keys.text("cache"),
            auth_secret_arn=cache.text("authSecretArn"),
        ),
        replica=replica,
    )


def load(path: Path) -> StackOutputs:
    """Read and parse an outputs file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DrillError(f"cannot read stack outputs {path}: {error}") from error
    return parse(data)
