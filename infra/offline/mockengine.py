"""Run a Pulumi program under the SDK's mock engine and record every resource it registers.

This is what `make plan` and the whole-stack tests use instead of a cloud account: the real
program runs, the mock monitor captures each RegisterResource request (type, name, parent,
inputs, protect/retain flags, provider) and answers with plausible cloud-assigned outputs
(ids, ARNs, endpoints). Outputs are synthesised from the resource's *identity* (type and
name), never copied from what a test expects, so a test can only pass on the inputs the
program really sent.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

ACCOUNT_ID = "123456789012"
# AWS's Elastic Load Balancing accounts for the regions the tests use (public values).
_ELB_ACCOUNTS = {"eu-west-1": "156460612806", "eu-central-1": "054676820928"}
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class RecordedResource:
    """One RegisterResource request as the engine would see it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    provider: str
    ignore_changes: list[str]
    secret_inputs: list[str] = field(default_factory=list)
    id: str = ""  # the id the (mock) cloud assigned
    dependencies: list[str] = field(default_factory=list)  # URNs it waits for (depends_on)
    # input name -> URNs of the resources whose outputs that input was built from
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def parent_type(self) -> str:
        return urn_type(self.parent) if self.parent else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "provider": self.provider,
            "ignoreChanges": self.ignore_changes,
            "inputs": _redact(self.inputs, self.secret_inputs),
        }


@dataclass
class Recording:
    """Everything one program run registered, plus its stack outputs."""

    resources: list[RecordedResource]
    outputs: dict[str, Any]
    secret_outputs: set[str]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> RecordedResource:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_} named {name!r}, found {len(matches)}")
        return matches[0]

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def _index(self) -> dict[str, RecordedResource]:
        """`by_urn()`, built once per recording (not per lookup: that would be quadratic)."""
        cached = self.__dict__.get("_urn_index")
        if cached is None or cached[0] != len(self.resources):
            cached = (len(self.resources), self.by_urn())
            self.__dict__["_urn_index"] = cached
        return cached[1]

    def ancestors(self, resource: RecordedResource) -> list[RecordedResource]:
        """Component chain above a resource, nearest first."""
        index, chain, parent = self._index(), [], resource.parent
        while parent in index:
            chain.append(index[parent])
            parent = index[parent].parent
        return chain

    def children_of(self, component: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == component.urn]


def urn_type(urn: str) -> str:
    """The resource type at the end of a URN's type chain."""
    return urn.split("::")[2].split("$")[-1]


def _redact(value: Any, secret_keys: Iterable[str]) -> Any:
    if isinstance(value, dict):
        return {k: ("[secret]" if k in secret_keys else v) for k, v in value.items()}
    return value


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and data-source calls like AWS would, deterministically."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._provider_regions: dict[str, str] = {}  # provider id -> its region

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


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Mock monitor that keeps the engine-level facts Mocks.new_resource does not see."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.secret_outputs: set[str] = set()

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != STACK_TYPE:
            inputs = rpc.deserialize_properties(request.object)
            self.recorded.append(
                RecordedResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=_unwrap_secrets(inputs),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider,
                    ignore_changes=list(request.ignoreChanges),
                    secret_inputs=sorted(k for k, v in inputs.items() if _is_secret(v)),
                    id=response.id,
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                )
            )
        return response

    def RegisterResourceOutputs(self, request):
        if urn_type(request.urn) == STACK_TYPE:
            outputs = rpc.deserialize_properties(request.outputs)
            self.secret_outputs = {k for k, v in outputs.items() if _is_secret(v)}
            self.stack_outputs = _unwrap_secrets(outputs)
        return super().RegisterResourceOutputs(request)


def integral(value: Any) -> Any:
    """The engine's wire format has only doubles; Kubernetes wants integers as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def kubernetes_manifest(resource: RecordedResource) -> dict[str, Any] | None:
    """A recorded Kubernetes object as kubectl would send it (None for anything else:
    other providers, Helm releases, providers themselves)."""
    if not resource.type.startswith("kubernetes:") or "helm.sh" in resource.type:
        return None
    _, group_version, kind = resource.type.split(":")
    group, version = group_version.split("/")
    inputs = {k: v for k, v in resource.inputs.items() if not k.startswith("__")}
    api_version = version if group == "core" else group_version
    return {"apiVersion": api_version, "kind": kind, **integral(inputs)}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _unwrap_secrets(value: Any) -> Any:
    if _is_secret(value):
        return _unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def run_program(
    program: Callable[[], None],
    *,
    stack: str,
    config: dict[str, Any],
    project: str = "platform",
    mocks: pulumi.runtime.Mocks | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> Recording:
    """Run `program` as stack `stack` with flat Pulumi config (`"ns:key": value`) under mocks.

    Raises whatever the program raises (e.g. a settings validation error) after the engine
    has drained, so a failing program still reports which resources it registered.
    """
    region = str(config.get("aws:region", "eu-west-1"))
    mocks = mocks or PlatformMocks(region)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        list(secret_keys),  # the keys `pulumi config set --secret` would have marked
    )
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # set_mocks installs a root Stack eagerly; run_in_stack wants to create its own so that
    # stack exports are registered (and recorded) when the program finishes.
    pulumi_settings.ROOT.set(None)
    # No cyclic collection during the run: each full pass would walk the objects of the ~1,800
    # SDK modules already imported (a third of a prod run's CPU), while a run's own garbage is
    # small and bounded (~20 MB for prod); the collector resumes, and frees it, afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _sync_await(run_in_stack(program))
    finally:
        if collecting:
            gc.enable()
        last_run.monitor = monitor
    return Recording(monitor.recorded, monitor.stack_outputs, monitor.secret_outputs)


class _LastRun:
    """The monitor of the most recent run, so a failed run can still be inspected."""

    monitor: RecordingMonitor | None = None


last_run = _LastRun()
