"""The S3 half of the boto3 `Cloud` adapter (a mixin of `Boto3Cloud`, split for size)."""

import urllib.parse
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from infra.drill.model import Kind, Resource
from infra.drill.ports import Fingerprint
from infra.drill.versions import Version

_CHECKSUMS = (
    "ChecksumCRC64NVME",
    "ChecksumSHA256",
    "ChecksumSHA1",
    "ChecksumCRC32C",
    "ChecksumCRC32",
)
_GONE = {"404", "NoSuchBucket", "NoSuchKey", "NoSuchVersion"}
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code"))


def split_object(identifier: str) -> tuple[str, str, str]:
    """`bucket/key?versionId=v` -> (bucket, key, v)."""
    path, _, version = identifier.rpartition("?versionId=")
    bucket, _, key = path.partition("/")
    return bucket, key, version


class S3Calls:
    """Bucket listing, copies, delete markers, scratch buckets and object tags."""

    def _client(self, region: str, service: str) -> Any:  # provided by Boto3Cloud
        raise NotImplementedError

    def _pages(self, region: str, service: str, operation: str, item: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def object_versions(self, region: str, bucket: str, prefix: str) -> list[Version]:
        paginator = self._client(region, "s3").get_paginator("list_object_versions")
        versions = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for v in page.get("Versions", []):
                versions.append(
                    Version(
                        key=v["Key"],
                        version_id=v.get("VersionId") or "null",
                        last_modified=v["LastModified"],
                        is_latest=bool(v.get("IsLatest")),
                        etag=v.get("ETag"),
                        size=v.get("Size"),
                    )
                )
            for m in page.get("DeleteMarkers", []):
                versions.append(
                    Version(
                        key=m["Key"],
                        version_id=m.get("VersionId") or "null",
                        last_modified=m["LastModified"],
                        is_latest=bool(m.get("IsLatest")),
                        delete_marker=True,
                    )
                )
        return versions

    def bucket_exists(self, region: str, bucket: str) -> bool:
        try:
            self._client(region, "s3").head_bucket(Bucket=bucket)
        except ClientError as error:
            if _code(error) in _GONE:
                return False
            raise
        return True

    def create_bucket(
        self, region: str, bucket: str, kms_key_id: str, tags: Mapping[str, str]
    ) -> None:
        s3 = self._client(region, "s3")
        # us-east-1 is the one region that refuses its own name as a LocationConstraint.
        where = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced", **where)
        s3.put_bucket_tagging(
            Bucket=bucket,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]},
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": kms_key_id,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )

    def copy_version(
        self,
        region: str,
        source: str,
        version: Version,
        target: str,
        tags: Mapping[str, str] | None,
    ) -> str:
        tagging: dict[str, str] = {"TaggingDirective": "COPY"}
        if tags is not None:
            tagging = {
                "TaggingDirective": "REPLACE",
                "Tagging": urllib.parse.urlencode(sorted(tags.items())),
            }
        copied = self._client(region, "s3").copy_object(
            Bucket=target,
            Key=version.key,
            CopySource={"Bucket": source, "Key": version.key, "VersionId": version.version_id},
            MetadataDirective="COPY",
            **tagging,
        )
        return copied.get("VersionId") or "null"

    def delete_marker(self, region: str, bucket: str, key: str) -> None:
        self._client(region, "s3").delete_object(Bucket=bucket, Key=key)

    def fingerprint(
        self, region: str, bucket: str, key: str, version_id: str | None
    ) -> Fingerprint:
        which = {"VersionId": version_id} if version_id and version_id != "null" else {}
        head = self._client(region, "s3").head_object(
            Bucket=bucket, Key=key, ChecksumMode="ENABLED", **which
        )
        checksum = next(((name, head[name]) for name in _CHECKSUMS if head.get(name)), None)
        return Fingerprint(etag=head.get("ETag", ""), checksum=checksum)

    def s3_tags(self, resource: Resource) -> Mapping[str, str] | None:
        """A bucket's or an object version's tags; None when it does not exist."""
        s3 = self._client(resource.region, "s3")
        try:
            if resource.kind is Kind.BUCKET:
                if not self.bucket_exists(resource.region, resource.identifier):
                    return None
                tag_set = s3.get_bucket_tagging(Bucket=resource.identifier)["TagSet"]
            else:
                bucket, key, version = split_object(resource.identifier)
                tag_set = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version)["TagSet"]
        except ClientError as error:
            if _code(error) == "NoSuchTagSet":
                return {}
            if _code(error) in _GONE:
                return None
            raise
        return {t["Key"]: t["Value"] for t in tag_set}

    def s3_delete(self, resource: Resource) -> None:
        """An object version; or a bucket with every version and delete marker in it."""
        s3 = self._client(resource.region, "s3")
        if resource.kind is Kind.OBJECT_VERSION:
            bucket, key, version = split_object(resource.identifier)
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
            return
        everything = [
            {"Key": v.key, "VersionId": v.version_id}
            for v in self.object_versions(resource.region, resource.identifier, "")
        ]
        for start in range(0, len(everything), _DELETE_BATCH):
            s3.delete_objects(
                Bucket=resource.identifier,
                Delete={"Objects": everything[start : start + _DELETE_BATCH], "Quiet": True},
            )
        s3.delete_bucket(Bucket=resource.identifier)
