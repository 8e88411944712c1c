"""The `Cloud` port on boto3: Aurora, AWS Backup, ElastiCache, Secrets Manager, tags.

Every AWS call of the drill is a `self._client(region, "<service>").<method>(...)` or a
`self._pages(region, "<service>", "<method>", ...)` in this module or in `s3.py`, so
`tests/drill/test_drill_permissions.py` can read them all and check each against the IAM
actions in `infra/drill/permissions.py`.
"""

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.drill.adapters.s3 import S3Calls
from infra.drill.model import Kind, Resource
from infra.drill.ports import (
    CacheGroup,
    CacheRestore,
    CacheSnapshot,
    Cluster,
    ClusterRestore,
    CopyRestore,
    Instance,
    RecoveryPoint,
    RestoreJob,
)

# ResourceTypeFilters of the tagging API for what the drill creates, and back to our kinds.
TAGGED_TYPES = {
    "rds:cluster": Kind.RDS_CLUSTER,
    "rds:db": Kind.RDS_INSTANCE,
    "elasticache:replicationgroup": Kind.CACHE_GROUP,
    "s3:bucket": Kind.BUCKET,
}
DELETING = "deleting"
_SCALING_KEYS = ("MinCapacity", "MaxCapacity", "SecondsUntilAutoPause")
_NOT_FOUND = {
    "DBClusterNotFoundFault",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "ReplicationGroupNotFoundFault",
    "CacheClusterNotFound",
    "CacheClusterNotFoundFault",
}


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """boto3's `[{"Key": ..., "Value": ...}]`."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_map(tags: list[Mapping[str, str]] | None) -> dict[str, str]:
    """The inverse of `tag_list`."""
    return {t["Key"]: t["Value"] for t in tags or []}


def not_found(error: ClientError) -> bool:
    """Whether a ClientError means "no such resource"."""
    return error.response.get("Error", {}).get("Code") in _NOT_FOUND


def resource_from_arn(arn: str) -> Resource | None:
    """`arn:aws:rds:eu-west-1:1:cluster:x` -> Resource(rds-cluster, eu-west-1, x); S3 bucket
    ARNs carry no region (the caller's region is used). None for another kind."""
    parts = arn.split(":", 6)
    if len(parts) < 6:
        return None
    service, region = parts[2], parts[3]
    if service == "s3":
        return Resource(Kind.BUCKET, region, parts[5])
    if len(parts) < 7:
        return None
    kind = TAGGED_TYPES.get(f"{service}:{parts[5]}")
    return None if kind is None else Resource(kind, region, parts[6])


class Boto3Cloud(S3Calls):
    """`Cloud` with one boto3 client per (service, region) from one boto3 Session."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session or boto3.session.Session()
        self._clients: dict[tuple[str, str], Any] = {}

    def _client(self, region: str, service: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region)
        return self._clients[key]

    def _pages(
        self, region: str, service: str, operation: str, item: str, **kwargs: Any
    ) -> Iterator[Any]:
        """Every `item` of every page of a paginated operation."""
        for page in self._client(region, service).get_paginator(operation).paginate(**kwargs):
            yield from page.get(item, [])

    # -- Aurora ----------------------------------------------------------------------------------
    def cluster(self, region: str, identifier: str) -> Cluster | None:
        try:
            found = self._client(region, "rds").describe_db_clusters(DBClusterIdentifier=identifier)
        except ClientError as error:
            if not_found(error):
                return None
            raise
        data = found["DBClusters"][0]
        writer = next(
            (m for m in data.get("DBClusterMembers", []) if m.get("IsClusterWriter")), None
        )
        writer_class = None
        if writer is not None:
            instances = self._client(region, "rds").describe_db_instances(
                DBInstanceIdentifier=writer["DBInstanceIdentifier"]
            )["DBInstances"]
            writer_class = instances[0].get("DBInstanceClass") if instances else None
        scaling = data.get("ServerlessV2ScalingConfiguration")
        return Cluster(
            identifier=data["DBClusterIdentifier"],
            arn=data["DBClusterArn"],
            status=data.get("Status", ""),
            engine=data.get("Engine", ""),
            engine_version=data.get("EngineVersion", ""),
            storage_encrypted=bool(data.get("StorageEncrypted")),
            kms_key_id=data.get("KmsKeyId"),
            earliest_restorable=data.get("EarliestRestorableTime"),
            latest_restorable=data.get("LatestRestorableTime"),
            serverless_v2={k: scaling[k] for k in _SCALING_KEYS if k in scaling}
            if scaling
            else None,
            writer_class=writer_class,
            endpoint=data.get("Endpoint"),
            port=data.get("Port"),
            tags=tag_map(data.get("TagList")),
        )

    def restore_cluster(self, region: str, request: ClusterRestore) -> None:
        extra = {}
        if request.serverless_v2:
            extra["ServerlessV2ScalingConfiguration"] = dict(request.serverless_v2)
        self._client(region, "rds").restore_db_cluster_to_point_in_time(
            DBClusterIdentifier=request.target,
            SourceDBClusterIdentifier=request.source,
            RestoreType="full-copy",  # a clone (copy-on-write) cannot take a RestoreToTime
            RestoreToTime=request.restore_to,
            DBSubnetGroupName=request.subnet_group_name,
            VpcSecurityGroupIds=list(request.security_group_ids),
            KmsKeyId=request.kms_key_id,
            EnableIAMDatabaseAuthentication=True,
            DeletionProtection=False,  # a drill copy must be removable by cleanup
            CopyTagsToSnapshot=True,
            Tags=tag_list(request.tags),
            **extra,
        )

    def recovery_points(self, region: str, vault: str, resource_arn: str) -> list[RecoveryPoint]:
        return [
            RecoveryPoint(
                arn=p["RecoveryPointArn"],
                resource_arn=p.get("ResourceArn", ""),
                status=p.get("Status", ""),
                created=p["CreationDate"],
            )
            for p in self._pages(
                region,
                "backup",
                "list_recovery_points_by_backup_vault",
                "RecoveryPoints",
                BackupVaultName=vault,
                ByResourceArn=resource_arn,
            )
        ]

    def start_copy_restore(self, region: str, request: CopyRestore) -> str:
        backup = self._client(region, "backup")
        # Start from what AWS Backup recorded at backup time; name, network, key are ours.
        metadata = dict(
            backup.get_recovery_point_restore_metadata(
                BackupVaultName=request.vault_name, RecoveryPointArn=request.recovery_point_arn
            ).get("RestoreMetadata", {})
        )
        metadata.update(
            {
                "DBClusterIdentifier": request.target,
                "DBSubnetGroupName": request.subnet_group_name,
                "VpcSecurityGroupIds": json.dumps(list(request.security_group_ids)),
                "KmsKeyId": request.kms_key_id,
                "DeletionProtection": "false",
            }
        )
        metadata.pop("AvailabilityZones", None)  # the source region's zones
        return backup.start_restore_job(
            RecoveryPointArn=request.recovery_point_arn,
            Metadata=metadata,
            IamRoleArn=request.role_arn,
            ResourceType="Aurora",
            IdempotencyToken=request.target,  # a retried start does not start a second job
        )["RestoreJobId"]

    def restore_job(self, region: str, job_id: str) -> RestoreJob:
        job = self._client(region, "backup").describe_restore_job(RestoreJobId=job_id)
        return RestoreJob(
            status=job.get("Status", ""),
            message=job.get("StatusMessage", ""),
            created_resource_arn=job.get("CreatedResourceArn"),
            recovery_point_created=job.get("RecoveryPointCreationDate"),
        )

    def create_instance(self, region: str, request: Instance) -> None:
        self._client(region, "rds").create_db_instance(
            DBInstanceIdentifier=request.identifier,
            DBClusterIdentifier=request.cluster,
            DBInstanceClass=request.instance_class,
            Engine=request.engine,
            PubliclyAccessible=False,
            Tags=tag_list(request.tags),
        )

    def _instance(self, region: str, identifier: str) -> dict[str, Any] | None:
        try:
            found = self._client(region, "rds").describe_db_instances(
                DBInstanceIdentifier=identifier
            )
        except ClientError as error:
            if not_found(error):
                return None
            raise
        return found["DBInstances"][0] if found["DBInstances"] else None

    def instance_status(self, region: str, identifier: str) -> str | None:
        instance = self._instance(region, identifier)
        return None if instance is None else instance.get("DBInstanceStatus")

    # -- ElastiCache -----------------------------------------------------------------------------
    def _group(self, region: str, group_id: str) -> dict[str, Any] | None:
        try:
            groups = self._client(region, "elasticache").describe_replication_groups(
                ReplicationGroupId=group_id
            )["ReplicationGroups"]
        except ClientError as error:
            if not_found(error):
                return None
            raise
        return groups[0] if groups else None

    def cache_group(self, region: str, group_id: str) -> CacheGroup | None:
        group = self._group(region, group_id)
        if group is None:
            return None
        version = None
        members = group.get("MemberClusters") or []
        if members:
            try:
                clusters = self._client(region, "elasticache").describe_cache_clusters(
                    CacheClusterId=members[0]
                )["CacheClusters"]
                version = clusters[0].get("EngineVersion") if clusters else None
            except ClientError as error:
                if not not_found(error):
                    raise
        node_groups = group.get("NodeGroups") or [{}]
        return CacheGroup(
            group_id=group["ReplicationGroupId"],
            arn=group.get("ARN", ""),
            status=group.get("Status", ""),
            engine=group.get("Engine"),
            engine_version=version,
            node_type=group.get("CacheNodeType", ""),
            transit_encryption=bool(group.get("TransitEncryptionEnabled")),
            at_rest_encryption=bool(group.get("AtRestEncryptionEnabled")),
            kms_key_id=group.get("KmsKeyId"),
            auth_token_enabled=bool(group.get("AuthTokenEnabled")),
            endpoint=node_groups[0].get("PrimaryEndpoint", {}).get("Address"),
        )

    def cache_snapshots(self, region: str, group_id: str) -> list[CacheSnapshot]:
        snapshots = []
        for s in self._pages(
            region, "elasticache", "describe_snapshots", "Snapshots", ReplicationGroupId=group_id
        ):
            times: list[datetime] = [
                n["SnapshotCreateTime"]
                for n in s.get("NodeSnapshots", [])
                if n.get("SnapshotCreateTime")
            ]
            snapshots.append(
                CacheSnapshot(
                    name=s["SnapshotName"],
                    status=s.get("SnapshotStatus", ""),
                    source=s.get("SnapshotSource", ""),
                    engine_version=s.get("EngineVersion"),
                    node_type=s.get("CacheNodeType"),
                    created=min(times) if times else None,
                )
            )
        return snapshots

    def secret_string(self, region: str, secret_arn: str) -> str:
        return self._client(region, "secretsmanager").get_secret_value(SecretId=secret_arn)[
            "SecretString"
        ]

    def create_cache_group(self, region: str, request: CacheRestore) -> None:
        extra = {"EngineVersion": request.engine_version} if request.engine_version else {}
        self._client(region, "elasticache").create_replication_group(
            ReplicationGroupId=request.group_id,
            ReplicationGroupDescription=f"DR drill copy of snapshot {request.snapshot_name}",
            SnapshotName=request.snapshot_name,
            Engine=request.engine,
            CacheNodeType=request.node_type,
            NumCacheClusters=1,  # a copy to verify, not a highly available replica
            CacheSubnetGroupName=request.subnet_group_name,
            SecurityGroupIds=list(request.security_group_ids),
            AtRestEncryptionEnabled=True,
            KmsKeyId=request.kms_key_id,
            TransitEncryptionEnabled=True,
            AuthToken=request.auth_token,
            Tags=tag_list(request.tags),
            **extra,
        )

    # -- tags and cleanup ------------------------------------------------------------------------
    def tags(self, resource: Resource) -> Mapping[str, str] | None:
        """None for what is gone or already being deleted (a second cleanup must not fail)."""
        region, name = resource.region, resource.identifier
        if resource.kind is Kind.RDS_CLUSTER:
            cluster = self.cluster(region, name)
            return None if cluster is None or cluster.status == DELETING else cluster.tags
        if resource.kind is Kind.RDS_INSTANCE:
            instance = self._instance(region, name)
            if instance is None or instance.get("DBInstanceStatus") == DELETING:
                return None
            return tag_map(instance.get("TagList"))
        if resource.kind is Kind.CACHE_GROUP:
            group = self._group(region, name)
            if group is None or group.get("Status") == DELETING:
                return None
            listed = self._client(region, "elasticache").list_tags_for_resource(
                ResourceName=group["ARN"]
            )
            return tag_map(listed.get("TagList"))
        return self.s3_tags(resource)

    def tag(self, resource: Resource, tags: Mapping[str, str]) -> None:
        cluster = None
        if resource.kind is Kind.RDS_CLUSTER:
            cluster = self.cluster(resource.region, resource.identifier)
        if cluster is None:
            raise ValueError(
                f"only an existing RDS cluster is tagged after creation, not {resource}"
            )
        self._client(resource.region, "rds").add_tags_to_resource(
            ResourceName=cluster.arn, Tags=tag_list(tags)
        )

    def tagged(self, region: str, key: str, value: str) -> list[Resource]:
        found = []
        for mapping in self._pages(
            region,
            "resourcegroupstaggingapi",
            "get_resources",
            "ResourceTagMappingList",
            TagFilters=[{"Key": key, "Values": [value]}],
            ResourceTypeFilters=sorted(TAGGED_TYPES),
        ):
            resource = resource_from_arn(mapping["ResourceARN"])
            if resource is not None:
                found.append(
                    resource
                    if resource.region
                    else Resource(resource.kind, region, resource.identifier)
                )
        return found

    def delete(self, resource: Resource) -> None:
        region, name = resource.region, resource.identifier
        if resource.kind is Kind.RDS_INSTANCE:
            self._client(region, "rds").delete_db_instance(
                DBInstanceIdentifier=name, SkipFinalSnapshot=True
            )
        elif resource.kind is Kind.RDS_CLUSTER:
            # Instances still `deleting` do not block this; automated backups of a copy go too.
            self._client(region, "rds").delete_db_cluster(
                DBClusterIdentifier=name, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
            )
        elif resource.kind is Kind.CACHE_GROUP:
            self._client(region, "elasticache").delete_replication_group(
                ReplicationGroupId=name, RetainPrimaryCluster=False
            )
        else:
            self.s3_delete(resource)
