"""Mocks for testing programs that use these components: public API, versioned with them.

The components call a few AWS data sources (caller identity, partition, region, availability
zones) and read cloud-assigned outputs of what they create (ARNs, endpoints, the EKS cluster's
kubeconfig and OIDC issuer). Pulumi's default mocks answer none of them, so a component under
`pulumi.runtime.set_mocks(pulumi.runtime.Mocks())` fails deep inside. `AwsMocks` answers them
all, deterministically, and records what was created so a test can assert on it::

    import pulumi
    from components.testing import AwsMocks

    mocks = AwsMocks(region="eu-west-1")
    pulumi.runtime.set_mocks(mocks, preview=False)

    from components.network import Network, NetworkArgs  # after set_mocks, as Pulumi's guide says

    @pulumi.runtime.test
    def test_three_private_subnets():
        network = Network("net", NetworkArgs(cidr="10.0.0.0/16", az_count=3, ...))
        return network.private_subnet_ids.apply(lambda ids: assert_three(ids))

    def test_what_was_created():   # or, after a program ran: the resources as registered
        assert [r.name for r in mocks.of_type("aws:ec2/vpc:Vpc")] == ["net-vpc"]

Outputs are synthesised from a resource's identity (type and name) and its inputs, never from
what a test expects, so a test passes only on the inputs the program really sent. Values AWS
would assign are recognisable placeholders (account 123456789012, ids derived from a hash).
Invokes nobody answers return an empty result, as Pulumi's own mocks do.

Answered data sources (the tokens of `pulumi_aws`):
    aws:index/getCallerIdentity:getCallerIdentity   account ACCOUNT_ID, a deployer role ARN
    aws:index/getPartition:getPartition             aws / amazonaws.com
    aws:index/getRegion:getRegion                   the provider's region (or `region`)
    aws:index/getAvailabilityZones:getAvailabilityZones  six zones <region>a..f with zone ids
    aws:elb/getServiceAccount:getServiceAccount     the region's ELB log-delivery account
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

__all__ = [
    "ACCOUNT_ID",
    "AwsMocks",
    "CreatedResource",
    "set_mocks",
]

ACCOUNT_ID = "123456789012"
"""The account every mocked ARN and caller identity uses (AWS's documentation account)."""
# AWS's Elastic Load Balancing accounts for the regions the tests use (public values).
_ELB_ACCOUNTS = {"eu-west-1": "156460612806", "eu-central-1": "054676820928"}


@dataclass(frozen=True)
class CreatedResource:
    """One resource the program asked the (mock) engine to create.

    Attributes:
        type: the resource type token, e.g. `aws:ec2/vpc:Vpc` or `platform:cache:Cache`.
        name: the logical name passed to the constructor.
        inputs: the inputs as the engine received them (camelCase keys, secrets unwrapped).
        id: the id the mock cloud assigned.
        outputs: the outputs it answered with (the inputs plus what AWS would assign: `arn`,
            endpoints, ...).
    """

    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


class AwsMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and data-source calls like AWS would, deterministically.

    Args:
        region: the region of the default AWS provider (an explicit provider's `region`
            input wins, as in AWS).

    Attributes:
        created: every resource registered so far, in registration order (providers
            included, the Stack itself not).
    """

    def __init__(self, region: str = "eu-west-1") -> None:
        self.region = region
        self._provider_regions: dict[str, str] = {}  # provider id -> its region
        self.created: list[CreatedResource] = []

    def of_type(self, type_: str) -> list[CreatedResource]:
        """The created resources of one type token, in registration order."""
        return [r for r in self.created if r.type == type_]

    # -- data sources -------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs):
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/deployer",
                "userId": "AROAEXAMPLE",
                "id": ACCOUNT_ID,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        # Like AWS, a data source answers for the region of the provider it is called with.
        region = self._provider_region(args.provider) or self.region
        if token == "aws:index/getRegion:getRegion":
            region = args.args.get("region") or region
            return {"name": region, "region": region, "id": region}, []
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            account = _ELB_ACCOUNTS.get(region, "000000000000")
            return {"arn": f"arn:aws:iam::{account}:root", "id": account, "region": region}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{letter}" for letter in "abcdef"]
            ids = [f"{region[:3]}{region.split('-')[1][:2]}{i}-az{i}" for i in range(1, 7)]
            return {"names": names, "zoneIds": ids, "id": region}, []
        return {}, []

    # -- resources ----------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        resource_id, outputs = self._answer(args)
        self.created.append(
            CreatedResource(args.typ, args.name, dict(args.inputs), resource_id, outputs)
        )
        return resource_id, outputs

    def _answer(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider-id"
            if args.inputs.get("region"):
                self._provider_regions[provider_id] = args.inputs["region"]
            return provider_id, dict(args.inputs)
        suffix = _short_hash(args.typ, args.name)
        resource_id = _mock_id(args.typ, args.name, suffix)
        outputs = dict(args.inputs)
        outputs.update(
            self._cloud_outputs(
                args.typ, args.name, resource_id, suffix, args.inputs, args.provider
            )
        )
        # Some AWS resources use a natural key as their id (an S3 bucket's id is its name).
        return str(outputs.pop("id", resource_id)), outputs

    def _provider_region(self, provider_ref: str | None) -> str | None:
        """Region of the provider a resource uses (`provider_ref` is "<urn>::<id>")."""
        return self._provider_regions.get((provider_ref or "").rsplit("::", 1)[-1])

    def _cloud_outputs(
        self, typ: str, name: str, resource_id: str, suffix: str, inputs: dict, provider: str
    ) -> dict[str, Any]:
        module = typ.split(":")[1].split("/")[0] if ":" in typ else typ
        region = inputs.get("region") or self._provider_region(provider) or self.region
        arn = f"arn:aws:{module}:{region}:{ACCOUNT_ID}:{typ.split(':')[-1].lower()}/{resource_id}"
        outputs: dict[str, Any] = {"arn": arn}
        specific = _TYPE_OUTPUTS.get(typ)
        if specific:
            outputs.update(specific(name, resource_id, suffix, region, inputs))
        return outputs


def _mock_id(typ: str, name: str, suffix: str) -> str:
    prefixes = {
        "aws:ec2/vpc:Vpc": "vpc-",
        "aws:ec2/subnet:Subnet": "subnet-",
        "aws:ec2/securityGroup:SecurityGroup": "sg-",
        "aws:ec2/internetGateway:InternetGateway": "igw-",
        "aws:ec2/natGateway:NatGateway": "nat-",
        "aws:ec2/routeTable:RouteTable": "rtb-",
        "aws:ec2/eip:Eip": "eipalloc-",
        "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
        "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
        "aws:kms/key:Key": "",
    }
    for type_, prefix in prefixes.items():
        if typ == type_:
            return prefix + suffix
    return f"{name}-{suffix[:8]}"


def _s3_outputs(name, resource_id, suffix, region, inputs):
    bucket = inputs.get("bucket") or f"{name}-{suffix[:8]}"
    return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "id": bucket}


def _iam_role_outputs(name, resource_id, suffix, region, inputs):
    role_name = inputs.get("name") or f"{name}-{suffix[:7]}"
    return {"name": role_name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name}"}


def _iam_policy_outputs(name, resource_id, suffix, region, inputs):
    policy_name = inputs.get("name") or f"{name}-{suffix[:7]}"
    return {"name": policy_name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/{policy_name}"}


def _log_group_outputs(name, resource_id, suffix, region, inputs):
    group = inputs.get("name") or name
    return {"name": group, "arn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}"}


def _kms_outputs(name, resource_id, suffix, region, inputs):
    key_id = f"{suffix[:8]}-{suffix[8:12]}-4{suffix[12:15]}-8abc-{suffix[:12]}"
    return {"keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"}


def _eks_cluster_outputs(name, resource_id, suffix, region, inputs):
    issuer = f"oidc.eks.{region}.amazonaws.com/id/{suffix.upper()}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": f"https://{suffix}.gr7.{region}.eks.amazonaws.com"},
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [{"name": name, "user": {"token": "mock"}}],
    }
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        "oidcProviderArn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
        "oidcProviderUrl": f"https://{issuer}",
        "oidcIssuer": issuer,
        "clusterSecurityGroupId": f"sg-c{suffix[:16]}",
        "nodeSecurityGroupId": f"sg-n{suffix[:16]}",
        "eksClusterName": f"{name}-eks-{suffix[:7]}",
    }


def _rds_cluster_outputs(name, resource_id, suffix, region, inputs):
    host = f"{name}.cluster-{suffix[:12]}.{region}.rds.amazonaws.com"
    secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:rds!cluster-{suffix}"
    return {
        "endpoint": host,
        "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"),
        "port": inputs.get("port") or 5432,
        "clusterResourceId": f"cluster-{suffix.upper()}",
        "masterUserSecrets": [{"secretArn": secret, "kmsKeyId": "", "secretStatus": "active"}],
    }


def _rds_proxy_outputs(name, resource_id, suffix, region, inputs):
    proxy_id = f"prx-{suffix}"
    return {
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db-proxy:{proxy_id}",
        "endpoint": f"{inputs.get('name') or name}.proxy-{suffix[:12]}.{region}.rds.amazonaws.com",
    }


def _elasticache_outputs(name, resource_id, suffix, region, inputs):
    return {
        "primaryEndpointAddress": f"master.{name}.{suffix[:6]}.{region}.cache.amazonaws.com",
        "readerEndpointAddress": f"replica.{name}.{suffix[:6]}.{region}.cache.amazonaws.com",
    }


def _msk_outputs(name, resource_id, suffix, region, inputs):
    brokers = ",".join(
        f"b-{i}.{name}.{suffix[:6]}.c2.kafka.{region}.amazonaws.com:9098" for i in (1, 2, 3)
    )
    return {
        "bootstrapBrokersSaslIam": brokers,
        "bootstrapBrokersTls": brokers.replace(":9098", ":9094"),
        "clusterUuid": f"{suffix[:8]}-{suffix[8:12]}-1",
        "clusterName": inputs.get("clusterName") or name,
    }


def _msk_config_outputs(name, resource_id, suffix, region, inputs):
    return {"latestRevision": 1}


def _random_password_outputs(name, resource_id, suffix, region, inputs):
    return {"result": f"mock-{suffix}"}


def _random_id_outputs(name, resource_id, suffix, region, inputs):
    length = int(inputs.get("byteLength", 8))
    return {"hex": suffix[: 2 * length], "dec": str(int(suffix[: 2 * length], 16))}


def _oidc_provider_outputs(name, resource_id, suffix, region, inputs):
    # IAM names an OIDC provider after its URL (global: no region in the ARN).
    host = str(inputs.get("url", name)).removeprefix("https://")
    return {"arn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"}


def _tls_key_outputs(name, resource_id, suffix, region, inputs):
    # Not a key: a recognisable placeholder (the cloud would generate the real one).
    return {
        "privateKeyPem": f"-----BEGIN PRIVATE KEY-----\nmock-{suffix}\n-----END PRIVATE KEY-----\n"
    }


def _tls_cert_outputs(name, resource_id, suffix, region, inputs):
    return {"certPem": f"-----BEGIN CERTIFICATE-----\nmock-{suffix}\n-----END CERTIFICATE-----\n"}


def _launch_template_outputs(name, resource_id, suffix, region, inputs):
    return {"latestVersion": 1, "defaultVersion": 1}


_TYPE_OUTPUTS: dict[str, Callable[..., dict[str, Any]]] = {
    "aws:s3/bucket:Bucket": _s3_outputs,
    "aws:iam/role:Role": _iam_role_outputs,
    "aws:iam/policy:Policy": _iam_policy_outputs,
    "aws:cloudwatch/logGroup:LogGroup": _log_group_outputs,
    "aws:kms/key:Key": _kms_outputs,
    "eks:index:Cluster": _eks_cluster_outputs,
    "aws:rds/cluster:Cluster": _rds_cluster_outputs,
    "aws:rds/proxy:Proxy": _rds_proxy_outputs,
    "aws:elasticache/replicationGroup:ReplicationGroup": _elasticache_outputs,
    "aws:msk/cluster:Cluster": _msk_outputs,
    "aws:msk/configuration:Configuration": _msk_config_outputs,
    "random:index/randomPassword:RandomPassword": _random_password_outputs,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template_outputs,
    "random:index/randomId:RandomId": _random_id_outputs,
    "tls:index/privateKey:PrivateKey": _tls_key_outputs,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider_outputs,
    "tls:index/selfSignedCert:SelfSignedCert": _tls_cert_outputs,
}


def set_mocks(
    region: str = "eu-west-1",
    *,
    project: str = "test",
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
) -> AwsMocks:
    """`pulumi.runtime.set_mocks` with `AwsMocks` for `region` (not a preview: outputs known).

    Args:
        region: the region data sources and ARNs answer with.
        project, stack: what `pulumi.get_project()` / `get_stack()` return.
        config: the program's config as `pulumi config set` would hold it, keys with their
            namespace (`"<project>:clusterVpcId"`); values that are not strings are passed
            as JSON (what `Config.require_object` reads).

    Returns the mocks, whose `created` list a test reads once its resources resolved.
    """
    if config is not None:
        pulumi.runtime.set_all_config(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
        )
    mocks = AwsMocks(region)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    return mocks
