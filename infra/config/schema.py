"""The JSON Schema of `Pulumi.<stack>.yaml`, generated from the settings model: what an editor
completes and checks (each stack file's `yaml-language-server` modeline points at it), and
documentation — every key's description, type, bounds and allowed values.

    python -m infra.config.schema          (make schema) writes infra/config/stack.schema.json

Descriptions come from where the facts live: a settings field's own description, else the
documented Args field of the component it becomes (`Attributes:` in the Args docstring), else
`DESCRIPTIONS` below for keys no component has. The stack file overrides its profile, so no key
is required here (the settings model still refuses what is missing after the merge).
`tests/test_config_schema.py` keeps the committed file equal to this output, and checks the
committed stack files against it with check-jsonschema.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from components.alb import AlbGroup
from components.bluegreen.args import BlueGreenServiceArgs, ContainerResources
from components.cache import CacheArgs
from components.cluster.args import ClusterArgs, NodeGroupSpec, NodeTaint
from components.cluster.pools import NodePoolSpec
from components.data_store import StorePlacement
from components.database.args import DatabaseArgs
from components.encryption import KeysArgs
from components.network import NetworkArgs
from components.observability.args import ObservabilityArgs
from components.storage import BucketsArgs
from components.streaming import StreamingArgs
from components.topics import TopicSpec
from infra.config import cluster, data_stores, foundation, observability, services
from infra.config.load import KNOWN_NAMESPACES, SECRET_KEYS
from infra.config.local import LocalSettings
from infra.config.model import Settings
from infra.config.profiles import PROFILE_NAMES
from infra.naming import NAMESPACE

SCHEMA_PATH = Path(__file__).with_name("stack.schema.json")

# settings model -> (the Args classes whose docs describe it, settings field -> Args field)
_SOURCES: dict[type[BaseModel], tuple[tuple[type, ...], dict[str, str]]] = {
    foundation.NetworkSettings: ((NetworkArgs,), {}),
    foundation.KeySettings: ((KeysArgs,), {}),
    foundation.StorageSettings: ((BucketsArgs,), {}),
    foundation.AlbSettings: ((AlbGroup,), {}),
    cluster.TaintSettings: ((NodeTaint,), {}),
    cluster.NodeGroupSettings: ((NodeGroupSpec,), {}),
    cluster.NodePoolSettings: ((NodePoolSpec,), {}),
    cluster.ClusterSettings: ((ClusterArgs,), {"version": "kubernetes_version"}),
    data_stores.DatabaseSettings: ((DatabaseArgs, StorePlacement), {}),
    data_stores.CacheSettings: ((CacheArgs, StorePlacement), {}),
    data_stores.StreamingSettings: (
        (StreamingArgs, StorePlacement),
        {"broker_instance_type": "instance_type"},
    ),
    observability.ObservabilitySettings: ((ObservabilityArgs,), {}),
    services.AppSettings: ((BlueGreenServiceArgs,), {}),
    services.ServiceResources: ((ContainerResources,), {}),
    services.TopicSettings: ((TopicSpec,), {}),
    services.ServiceSettings: ((BlueGreenServiceArgs,), {"name": "service_name"}),
}

# Keys no component documents (settings-only: profile choices, switches the wiring reads).
DESCRIPTIONS: dict[str, str] = {
    "owner": "Team that owns the stack: the `owner` tag on every AWS resource.",
    "costCenter": "Cost center: the `cost-center` tag on every AWS resource.",
    "protect": "Protect + retain every stateful resource (prod's floor: true).",
    "network": "The VPC: range, zones, NAT, endpoints, flow logs.",
    "network.recoveryCidr": "VPC range of the replica region's recovery site, where the DR "
    "drill restores backup copies; required with database.crossRegionBackup.",
    "keys": "The customer-managed KMS keys (one per data domain).",
    "storage": "The S3 buckets: versions, lifecycle, replication.",
    "storage.replication": "Replicate the data buckets to `replicaRegion` (prod's floor: true).",
    "storage.replicaRegion": "Second region of the same partition: bucket replicas, backup "
    "copies, the recovery site.",
    "alb": "The shared load balancers (one per visibility).",
    "app": "The brief's per-environment service settings (replicas, autoscaling, branches).",
    "app.replicas": "Pods of each service's active colour (and the HPA minimum).",
    "app.autoscaling": "Horizontal pod autoscaling of the services (HPA 2..10; prod: true).",
    "app.deployBranches": "Branch globs (`*`, `?`) that may deploy and release to the stack "
    "(prod: main only); also the deploy role's trust.",
    "app.zoneSpreadStrict": "Spread each service's pods over zones with DoNotSchedule.",
    "cluster": "The EKS cluster, its node groups and who may reach its API.",
    "cluster.endpointPublicAccess": "A public Kubernetes API endpoint (dev/uat only; prod: false).",
    "cluster.previewRoleArns": "IAM roles of the pull-request previews: API discovery only.",
    "cluster.readerRoleArns": "IAM roles that read every cluster object, Secrets included, and "
    "write nothing (the drift check).",
    "cluster.logRetentionDays": "Retention of the control-plane log group (a CloudWatch value).",
    "cluster.nodeGroups": "Managed node groups by name; an entry the profile lacks needs "
    "instanceTypes, capacityType, minSize, maxSize and desiredSize.",
    "cluster.nodePools": "Karpenter NodePools by name (nodeAutoscaler karpenter; prod: "
    "capacityTypes [on-demand] only); an entry the profile lacks needs instanceFamilies, "
    "instanceSizes, capacityTypes, cpuLimit and memoryLimitGib.",
    "cluster.nodeAutoscaler": "What adds nodes: karpenter (uat, prod; prod's floor), "
    "cluster-autoscaler or none (dev). app.autoscaling is the pods' HPA, a separate switch.",
    "cluster.namespaces": "Application namespaces (Pod Security restricted, ALB readiness gates).",
    "cluster.controllerReplicas": "Replicas of the load balancer controller and metrics-server.",
    "database": "Aurora PostgreSQL.",
    "database.mode": "`serverless` (v2, ACU) or `provisioned` (instanceClass).",
    "database.readerCount": "Readers beside the writer (failover targets).",
    "database.logRetentionDays": "Retention of the exported PostgreSQL log group.",
    "database.crossRegionBackup": "Copy AWS Backup recovery points to the replica region.",
    "cache": "ElastiCache (Valkey or Redis OSS) replication group.",
    "cache.logRetentionDays": "Retention of the slow and engine log groups.",
    "streaming": "Amazon MSK (provisioned).",
    "streaming.zoneCount": "Zones the brokers use (fixed per stack: changing it replaces them).",
    "streaming.brokerCount": "Brokers in total: a multiple of zoneCount.",
    "streaming.logRetentionDays": "Retention of the broker log group.",
    "observability": "The in-cluster observability stack (basic / enhanced / full).",
    "observability.level": "`basic` (dev), `enhanced` (uat) or `full` (prod).",
    "observability.prometheusRetention": "How long Prometheus keeps metrics (a Prometheus "
    "duration: 3d, 2w).",
    "observability.prometheusStorageGib": "Prometheus volume per replica (GiB).",
    "observability.elasticsearchStorageGib": "Elasticsearch volume per node (GiB; with logs).",
    "observability.slackCriticalChannel": "Slack channel of critical alerts.",
    "observability.slackWarningChannel": "Slack channel of warnings.",
    "observability.nodeGroup": "The node group reserved for the monitoring pods (its labels "
    "and taints).",
    "observability.uiDomain": "Serve Grafana, Kibana and Jaeger as <ui>.<uiDomain> on the "
    "internal ALB (needs uiCertificateArn).",
    "observability.uiCertificateArn": "ACM certificate for the UIs' hostnames.",
    "services": "The blue-green application services.",
    "services[].resources": "CPU and memory requests and limits (Kubernetes quantities).",
    "services[].namespace": "One of cluster.namespaces.",
    "services[].public": "Serve on the internet-facing ALB (TLS required).",
    "services[].allowPlainHttp": "Opt out of TLS: dev only, internal ALB only.",
    "services[].topics": "Kafka topics the service owns.",
    "services[].tags.blue": "Image tag of the blue colour (text: quote it; never latest).",
    "services[].tags.green": "Image tag of the green colour (text: quote it; never latest).",
    "slackWebhookUrl": "Slack incoming webhook for alerts: a secret (`pulumi config set "
    "--secret`).",
    "grafanaAdminPassword": "Grafana's admin password: a secret (`pulumi config set --secret`).",
    # The local stack's own sections (infra/config/local.py; docs/local.md).
    "local": "The laptop cluster of a local stack (profile local): no AWS section applies.",
    "local.context": "The kubeconfig context to deploy to (kind-platform, minikube).",
    "local.kubernetesVersion": "The cluster's Kubernetes minor (objects are checked for it).",
    "local.namespaces": "Application namespaces (Pod Security restricted).",
    "local.storageClass": "StorageClass of every volume (kind/minikube: standard).",
    "local.nodeCidrs": "Where the API server and nodes sit (kind's Docker network): the "
    "service pods admit them.",
    "stores": "The local stack's in-cluster stand-ins for Aurora, ElastiCache and MSK.",
    "stores.databaseName": "The database PostgreSQL creates (Aurora's name: DB_NAME matches).",
    "stores.databaseStorageGib": "PostgreSQL's volume (GiB).",
    "stores.kafkaStorageGib": "Kafka's log volume (GiB).",
}


def _attribute_docs(args_class: type) -> dict[str, str]:
    """`Attributes:` of an Args docstring: field name -> its description, one line."""
    docs: dict[str, str] = {}
    for klass in reversed(args_class.__mro__):
        doc = inspect.getdoc(klass) or ""
        if "Attributes:" not in doc:
            continue
        current = None
        for line in doc.split("Attributes:", 1)[1].splitlines():
            stripped = line.strip()
            head, colon, rest = stripped.partition(": ")
            if colon and line.startswith("    ") and not line.startswith("        "):
                current = head
                docs[current] = rest
            elif stripped and current:
                docs[current] += " " + stripped
    return docs


def _description(model: type[BaseModel], name: str, path: str) -> str | None:
    field = model.model_fields[name]
    if field.description:
        return field.description
    if path in DESCRIPTIONS:
        return DESCRIPTIONS[path]
    sources, renames = _SOURCES.get(model, ((), {}))
    for source in sources:
        found = _attribute_docs(source).get(renames.get(name, name))
        if found:
            return found
    return None


def _model_schema(model: type[BaseModel], path: str) -> dict[str, Any]:
    """A model's schema with descriptions, no `required` (profiles fill the rest), nested
    models inlined."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.get("$defs", {})
    return _annotate(_inline(raw, definitions), model, path)


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            return _inline(
                {**target, **{k: v for k, v in node.items() if k != "$ref"}}, definitions
            )
        return {
            k: _inline(v, definitions)
            for k, v in node.items()
            if k not in ("$defs", "required", "title")
        }
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    return node


def _annotate(schema: dict[str, Any], model: type[BaseModel], path: str) -> dict[str, Any]:
    """Descriptions on every property, recursively along the model tree."""
    properties = schema.get("properties", {})
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in properties:
            continue
        child = f"{path}.{key}" if path else key
        description = _description(model, name, child)
        if description:
            properties[key]["description"] = description
        for nested, sub, suffix in _nested_models(field.annotation):
            target = properties[key]
            for step in sub:
                target = _branch(target, step)
            if target is not None:
                _annotate(target, nested, f"{child}{suffix}")
    return schema


def _branch(schema: dict[str, Any] | None, step: str) -> dict[str, Any] | None:
    """Follow `items` (a list) or `additionalProperties` (a map) through `anyOf` (optional)."""
    if schema is None:
        return None
    if step in schema:
        return schema[step]
    for option in schema.get("anyOf", []):
        if step in option:
            return option[step]
    return None


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _nested_models(annotation: Any) -> list[tuple[type[BaseModel], tuple[str, ...], str]]:
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, (), "")]
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return [(args[0], ("items",), "[]")]
    if origin is dict and len(args) == 2 and _is_model(args[1]):
        return [(args[1], ("additionalProperties",), ".*")]
    found = []
    for inner in args:
        found += _nested_models(inner)
    return found


def _secret_schema(key: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[key],
        "type": "object",
        "properties": {
            "secure": {"type": "string", "description": "The ciphertext Pulumi writes."}
        },
        "required": ["secure"],
        "additionalProperties": False,
    }


def stack_schema() -> dict[str, Any]:
    """The schema of a whole `Pulumi.<stack>.yaml`."""
    settings = _model_schema(Settings, "")["properties"]
    # A local stack's own sections (its other keys are the cloud stacks' app, observability
    # and services, validated the same way).
    local = _model_schema(LocalSettings, "")["properties"]
    settings |= {key: local[key] for key in ("local", "stores")}
    config: dict[str, Any] = {
        f"{NAMESPACE}:{key}": value
        for key, value in settings.items()
        if key not in ("stack", "environment", "region", *SECRET_KEYS)
    }
    for key in SECRET_KEYS:
        config[f"{NAMESPACE}:{key}"] = _secret_schema(key)
    config[f"{NAMESPACE}:profile"] = {
        "description": "The profile of a stack whose name is not an environment (dev-alice); "
        "local for a laptop cluster (never on a stack named like a cloud environment).",
        "enum": list(PROFILE_NAMES),
    }
    config["aws:region"] = {"description": "The stack's AWS region.", "type": "string"}
    others = "|".join(n for n in KNOWN_NAMESPACES if n != NAMESPACE)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/platform/stack.schema.json",
        "title": "Pulumi.<stack>.yaml of the platform project",
        "description": "Generated by `make schema` from infra/config (do not edit).",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": dict(sorted(config.items())),
                # Providers' own keys (aws:profile, ...) and the release tool's records.
                "patternProperties": {f"^({others}):": {}},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "additionalProperties": False,
    }


def rendered() -> str:
    return json.dumps(stack_schema(), indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    SCHEMA_PATH.write_text(rendered())
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
