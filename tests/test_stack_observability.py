"""Whole-stack properties of the observability stack for dev, uat and prod.

The brief's table (dev basic, uat enhanced, prod full) is written out below as the expected
answer, independently of the component's SHAPES, and checked against what each committed
Pulumi.<env>.yaml registers: Helm values, custom resources, Secrets, policies and order.
"""

from __future__ import annotations

import copy
import json
from functools import cache

import pytest

from components.hardening import is_hardened_container, is_hardened_pod
from infra.config import read_stack_config
from infra.offline.mockengine import RecordedResource, Recording
from infra.offline.run import plan
from tests import crd_schemas
from tests.helpers import rejected, strings_in

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ELASTICSEARCH = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"
KIBANA = "kubernetes:kibana.k8s.elastic.co/v1:Kibana"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
ZONE = "topology.kubernetes.io/zone"
WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c"

# The brief's table: what each environment runs.
EXPECTED = {
    "dev": dict(prometheus=1, alertmanager=1, grafana=1, es_nodes=0, traces="memory", jaeger=1),
    "uat": dict(prometheus=1, alertmanager=1, grafana=1, es_nodes=1, traces="elasticsearch",
                jaeger=1),
    "prod": dict(prometheus=2, alertmanager=3, grafana=2, es_nodes=3, traces="elasticsearch",
                 jaeger=2),
}  # fmt: skip


def _release(recording: Recording, chart: str) -> RecordedResource | None:
    found = [r for r in recording.of_type(RELEASE) if r.inputs["chart"] == chart]
    assert len(found) <= 1
    return found[0] if found else None


def _values(recording: Recording, chart: str) -> dict:
    release = _release(recording, chart)
    assert release is not None, chart
    return release.inputs["values"]


def _dependencies(recording: Recording, resource: RecordedResource) -> set[str]:
    index, seen, todo = recording.by_urn(), set(), list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo.extend(index[urn].dependencies if urn in index else [])
    return seen


# -- the table ----------------------------------------------------------------------------------
def test_each_environment_runs_its_row_of_the_brief(recording, env):
    want = EXPECTED[env]
    kps = _values(recording, "kube-prometheus-stack")
    assert kps["prometheus"]["prometheusSpec"]["replicas"] == want["prometheus"]
    assert kps["alertmanager"]["alertmanagerSpec"]["replicas"] == want["alertmanager"]
    assert kps["grafana"]["replicas"] == want["grafana"]
    clusters = recording.of_type(ELASTICSEARCH)
    nodes = sum(n["count"] for c in clusters for n in c.inputs["spec"]["nodeSets"])
    assert nodes == want["es_nodes"]
    logs = want["es_nodes"] > 0
    for chart in ("eck-operator", "fluent-bit"):
        assert (_release(recording, chart) is not None) is logs, chart
    assert bool(recording.of_type(KIBANA)) is logs
    jaeger = _values(recording, "jaeger")
    backends = jaeger["userconfig"]["extensions"]["jaeger_storage"]["backends"]
    assert list(backends["primary_store"]) == [want["traces"]]
    assert jaeger["jaeger"]["replicas"] == want["jaeger"]
    # AWS data-store metrics everywhere.
    assert _release(recording, "prometheus-yet-another-cloudwatch-exporter") is not None


def test_replicated_components_are_kept_apart_by_zone_in_prod_only(recording, env):
    kps = _values(recording, "kube-prometheus-stack")
    for part, spec in (("prometheus", "prometheusSpec"), ("alertmanager", "alertmanagerSpec")):
        values = kps[part][spec]
        if env == "prod":
            assert values["podAntiAffinity"] == "hard", part
            assert values["podAntiAffinityTopologyKey"] == ZONE, part
            assert kps[part]["podDisruptionBudget"]["enabled"] is True
        else:
            assert values["podAntiAffinity"] != "hard", part
    for cluster in recording.of_type(ELASTICSEARCH):
        (node_set,) = cluster.inputs["spec"]["nodeSets"]
        if node_set["count"] > 1:
            assert "zoneAwareness" in node_set
            assert "podDisruptionBudget" not in cluster.inputs["spec"]  # ECK's default budget
        else:
            # A lone node must not block node drains with a zero-disruption budget.
            assert cluster.inputs["spec"]["podDisruptionBudget"] == {}


def test_retention_by_time_and_size_and_volumes_sized_from_settings(recording, settings):
    config = settings.observability
    spec = _values(recording, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    assert spec["retention"] == config.prometheus_retention
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == f"{config.prometheus_storage_gib}Gi"
    assert claim["storageClassName"] == "gp3"
    size = int(spec["retentionSize"].removesuffix("GiB"))
    assert spec["retentionSize"].endswith("GiB") and 0 < size < config.prometheus_storage_gib
    for cluster in recording.of_type(ELASTICSEARCH):
        (node_set,) = cluster.inputs["spec"]["nodeSets"]
        (volume,) = node_set["volumeClaimTemplates"]
        assert volume["metadata"]["name"] == "elasticsearch-data"
        storage = volume["spec"]["resources"]["requests"]["storage"]
        assert storage == f"{config.elasticsearch_storage_gib}Gi"


def test_logs_are_deleted_after_the_retention_by_a_lifecycle_policy(recording, settings):
    jobs = [j for j in recording.of_type("kubernetes:batch/v1:Job") if "lifecycle" in j.name]
    if not settings.observability.log_retention_days or not recording.of_type(ELASTICSEARCH):
        assert jobs == []
        return
    (job,) = jobs
    script = job.inputs["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert f'"min_age":"{settings.observability.log_retention_days}d"' in script
    assert "_component_template/logs@custom" in script
    assert "--cacert /ca/ca.crt" in script and "-k " not in script
    elasticsearch = recording.of_type(ELASTICSEARCH)[0]
    assert elasticsearch.urn in _dependencies(recording, job)
    fluent_bit = _release(recording, "fluent-bit")
    assert job.urn in _dependencies(recording, fluent_bit), "policy before the first log line"


# -- placement ----------------------------------------------------------------------------------
def _scheduling_blocks(values, path=""):
    """(path, nodeSelector) for every workload block of a chart's values."""
    if isinstance(values, dict):
        if "nodeSelector" in values:
            yield path, values["nodeSelector"], values.get("tolerations", [])
        for key, value in values.items():
            yield from _scheduling_blocks(value, f"{path}.{key}")


OBSERVABILITY_CHARTS = (
    "kube-prometheus-stack",
    "eck-operator",
    "jaeger",
    "opentelemetry-collector",
    "prometheus-yet-another-cloudwatch-exporter",
)


def test_prod_monitoring_runs_on_its_tainted_node_group_and_others_share_nodes(recording, env):
    groups = {g.name: g for g in recording.of_type("aws:eks/nodeGroup:NodeGroup")}
    monitoring = groups.get("cluster-monitoring")
    if env != "prod":
        assert monitoring is None
    else:
        assert monitoring is not None
        assert monitoring.inputs["taints"] == [
            {"key": "dedicated", "value": "monitoring", "effect": "NO_SCHEDULE"}
        ]
        assert monitoring.inputs["labels"]["role"] == "monitoring"
    blocks = [
        block
        for chart in OBSERVABILITY_CHARTS
        if _release(recording, chart) is not None
        for block in _scheduling_blocks(_values(recording, chart))
    ]
    assert len(blocks) >= 8
    for path, selector, tolerations in blocks:
        if env == "prod":
            assert selector == {"role": "monitoring"}, path
            assert {"key": "dedicated", "operator": "Equal", "value": "monitoring",
                    "effect": "NoSchedule"} in tolerations, path  # fmt: skip
        else:
            assert selector == {} and tolerations == [], path
    for cluster in recording.of_type(ELASTICSEARCH):
        pod = cluster.inputs["spec"]["nodeSets"][0]["podTemplate"]["spec"]
        assert pod["nodeSelector"] == ({"role": "monitoring"} if env == "prod" else {})


def test_node_agents_run_on_every_node_including_tainted_ones(recording):
    kps = _values(recording, "kube-prometheus-stack")
    agents = [kps["prometheus-node-exporter"]]
    if _release(recording, "fluent-bit") is not None:
        agents.append(_values(recording, "fluent-bit"))
    for values in agents:
        assert values["tolerations"] == [{"operator": "Exists"}]


# -- security -----------------------------------------------------------------------------------
def test_namespaces_enforce_restricted_except_the_node_agents(recording):
    levels = {
        n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"].get(
            "pod-security.kubernetes.io/enforce"
        )
        for n in recording.of_type(NAMESPACE)
    }
    assert levels["monitoring"] == levels["logging"] == levels["elastic-system"] == "restricted"
    assert levels["monitoring-agents"] == "privileged"
    kps = _values(recording, "kube-prometheus-stack")
    assert kps["prometheus-node-exporter"]["namespaceOverride"] == "monitoring-agents"
    fluent_bit = _release(recording, "fluent-bit")
    assert fluent_bit is None or fluent_bit.inputs["namespace"] == "monitoring-agents"


# chart -> (pod securityContext key, container securityContext key) per workload
HARDENING_KEYS = {
    "kube-prometheus-stack": [
        ("grafana.securityContext", "grafana.containerSecurityContext"),
        (
            "prometheus-node-exporter.securityContext",
            "prometheus-node-exporter.containerSecurityContext",
        ),
    ],
    "eck-operator": [("podSecurityContext", "securityContext")],
    "jaeger": [("jaeger.podSecurityContext", "jaeger.securityContext")],
    "opentelemetry-collector": [("podSecurityContext", "securityContext")],
    "prometheus-yet-another-cloudwatch-exporter": [("podSecurityContext", "securityContext")],
}


def _at(values: dict, path: str):
    for part in path.split("."):
        values = values[part]
    return values


def test_every_observability_pod_is_hardened_where_the_chart_allows(recording):
    checked = 0
    for chart, pairs in HARDENING_KEYS.items():
        if _release(recording, chart) is None:
            continue
        values = _values(recording, chart)
        for pod_key, container_key in pairs:
            assert is_hardened_pod(_at(values, pod_key), _at(values, container_key)), chart
            checked += 1
    assert checked >= 5
    # Fluent Bit reads root-owned logs as root, but with nothing else: no capability, no
    # privilege escalation, read-only root filesystem, RuntimeDefault seccomp.
    if _release(recording, "fluent-bit") is not None:
        values = _values(recording, "fluent-bit")
        assert is_hardened_container(values["securityContext"])
        assert values["podSecurityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for kibana in recording.of_type(KIBANA):
        # A pod context replaces ECK's defaults entirely: it must carry seccomp itself.
        context = kibana.inputs["spec"]["podTemplate"]["spec"]["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_no_password_or_webhook_is_ever_in_helm_values(recording):
    secret_values = {
        s
        for secret in recording.of_type(SECRET)
        for key in secret.secret_inputs
        for s in strings_in(secret.inputs[key])
        if len(s) >= 12
    }
    assert secret_values
    for release in recording.of_type(RELEASE):
        text = json.dumps(release.inputs.get("values", {}))
        assert not [s for s in secret_values if s in text], release.name
        assert "hooks.slack.com" not in text


def test_grafana_and_elasticsearch_credentials_are_secrets(recording, env):
    grafana = _values(recording, "kube-prometheus-stack")["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    admin = next(s for s in recording.of_type(SECRET) if s.name == "observability-grafana-admin")
    assert "stringData" in admin.secret_inputs
    users = [s for s in recording.of_type(SECRET) if s.name.startswith("observability-es-user-")]
    if EXPECTED[env]["es_nodes"]:
        assert {u.inputs["stringData"]["username"] for u in users} == {
            "fluent-bit", "jaeger", "lifecycle"
        }  # fmt: skip
        assert all(u.inputs["type"] == "kubernetes.io/basic-auth" for u in users)
        assert all("stringData" in u.secret_inputs for u in users)
    else:
        assert users == []


def test_every_elasticsearch_client_verifies_tls_against_the_platform_ca(recording):
    if _release(recording, "fluent-bit") is None:
        return
    outputs = _values(recording, "fluent-bit")["config"]["outputs"]
    assert "tls.verify          On" in outputs and "tls.ca_file" in outputs
    assert "logs-es-http.logging.svc" in outputs
    jaeger = _values(recording, "jaeger")["userconfig"]["extensions"]["jaeger_storage"]
    store = jaeger["backends"]["primary_store"]["elasticsearch"]
    assert store["server_urls"] == ["https://logs-es-http.logging.svc:9200"]
    assert store["tls"] == {"ca_file": "/etc/jaeger/es-ca/ca.crt"}
    operator = _values(recording, "eck-operator")
    assert operator["config"]["caDir"] == "/etc/eck/ca"


def test_the_cloudwatch_exporter_reads_only_metrics_of_this_stack(recording, settings):
    role = next(
        r for r in recording.of_type("aws:iam/rolePolicy:RolePolicy") if "cloudwatch" in r.name
    )
    (statement,) = json.loads(role.inputs["policy"])["Statement"]
    assert sorted(statement["Action"]) == [
        "cloudwatch:GetMetricData",
        "cloudwatch:GetMetricStatistics",
        "cloudwatch:ListMetrics",
        "tag:GetResources",
    ]
    values = _values(recording, "prometheus-yet-another-cloudwatch-exporter")
    # Pod Identity: the association binds the role, the account carries no annotation.
    assert values["serviceAccount"] == {"name": "cloudwatch-exporter"}
    (association,) = [
        a for a in recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if a.inputs["serviceAccount"] == "cloudwatch-exporter"
    ]  # fmt: skip
    assert association.inputs["namespace"] == "monitoring"
    config = __import__("yaml").safe_load(values["config"])
    jobs = config["discovery"]["jobs"]
    assert {j["type"] for j in jobs} == {
        "AWS/RDS", "AWS/ElastiCache", "AWS/Kafka", "AWS/ApplicationELB"
    }  # fmt: skip
    for job in jobs:
        assert job["regions"] == [settings.region]
        assert {"key": "stack", "value": f"^{settings.stack}$"} in job["searchTags"]
    # The ALBs are the load balancer controller's: they carry the stack's tags only because
    # the controller is told to add them (else the ALB job would discover nothing).
    controller = _values(recording, "aws-load-balancer-controller")
    assert controller["defaultTags"] == settings.default_tags()


def test_namespaces_deny_ingress_by_default(recording, env):
    denies = {
        p.inputs["metadata"]["namespace"]
        for p in recording.of_type(POLICY)
        if p.inputs["metadata"]["name"] == "default-deny-ingress"
    }
    expected = {"monitoring", "monitoring-agents"}
    if EXPECTED[env]["es_nodes"]:
        expected |= {"logging", "elastic-system"}
    assert denies == expected


# -- custom resources ---------------------------------------------------------------------------
def test_every_custom_resource_validates_against_its_pinned_crd(recording):
    custom = [
        r for r in recording.resources if r.type.startswith("kubernetes:") and "apiVersion" in
        r.inputs and not r.type.startswith(("kubernetes:core/", "kubernetes:apps/",
        "kubernetes:batch/", "kubernetes:networking.k8s.io/", "kubernetes:policy/",
        "kubernetes:autoscaling/", "kubernetes:storage.k8s.io/", "kubernetes:helm.sh/",
        "kubernetes:rbac.authorization.k8s.io/"))
    ]  # fmt: skip
    kinds = {r.inputs["kind"] for r in custom}
    assert {"PrometheusRule", "PodMonitor"} <= kinds
    problems = []
    for resource in custom:
        manifest = {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
        assert crd_schemas.known(manifest["apiVersion"], manifest["kind"]), manifest["kind"]
        problems += crd_schemas.problems(manifest)
    assert problems == []


def test_custom_resources_wait_for_their_operators_crds(recording):
    kps = _release(recording, "kube-prometheus-stack")
    for resource in [*recording.of_type(RULE), *recording.of_type(POD_MONITOR)]:
        chain = [resource, *recording.ancestors(resource)]
        waits = set().union(*(_dependencies(recording, r) for r in chain))
        assert kps.urn in waits, resource.name
    eck = _release(recording, "eck-operator")
    for resource in [*recording.of_type(ELASTICSEARCH), *recording.of_type(KIBANA)]:
        assert eck.urn in _dependencies(recording, resource), resource.name


def test_every_service_has_a_pod_monitor_keeping_service_and_color(recording, settings):
    monitors = {m.inputs["metadata"]["name"]: m for m in recording.of_type(POD_MONITOR)}
    assert set(monitors) == {s.name for s in settings.services}
    for monitor in monitors.values():
        (endpoint,) = monitor.inputs["spec"]["podMetricsEndpoints"]
        targets = {r["targetLabel"]: r["sourceLabels"] for r in endpoint["relabelings"]}
        assert targets["service"] == ["__meta_kubernetes_pod_label_app"]
        assert targets["color"] == ["__meta_kubernetes_pod_label_color"]


def test_applications_know_where_to_send_traces(recording, settings):
    for service in settings.services:
        config_map = recording.one(
            "kubernetes:core/v1:ConfigMap", f"{service.name}-access-connections"
        )
        data = config_map.inputs["data"]
        assert data["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
            "http://opentelemetry-collector.monitoring.svc:4318"
        )


# -- alerting and the UIs, with config the committed stacks leave out ---------------------------
@cache
def _configured(env: str):
    config = copy.deepcopy(read_stack_config(env))
    config["platform:slackWebhookUrl"] = WEBHOOK
    config["platform:observability"] = {"uiDomain": "ops.example.com", "uiCertificateArn": CERT}
    return plan(env, config, secret_keys=frozenset({"platform:slackWebhookUrl"}))


@pytest.mark.parametrize("env", ["uat", "prod"])
def test_the_slack_webhook_reaches_alertmanager_only_as_a_secret(env):
    _, recording = _configured(env)
    (secret,) = [s for s in recording.of_type(SECRET) if s.name.endswith("alertmanager-slack")]
    assert secret.inputs["stringData"] == {"webhook-url": WEBHOOK}
    assert "stringData" in secret.secret_inputs
    alertmanager = _values(recording, "kube-prometheus-stack")["alertmanager"]
    assert alertmanager["alertmanagerSpec"]["secrets"] == ["alertmanager-slack"]
    receivers = {r["name"]: r for r in alertmanager["config"]["receivers"]}
    for name in ("slack-critical", "slack-warning"):
        (slack,) = receivers[name]["slack_configs"]
        assert slack["api_url_file"] == "/etc/alertmanager/secrets/alertmanager-slack/webhook-url"
    assert WEBHOOK not in json.dumps(alertmanager)


@pytest.mark.parametrize("env", ["uat", "prod"])
def test_the_uis_join_the_internal_alb_with_tls_and_never_a_public_one(env):
    settings, recording = _configured(env)
    ingresses = {
        i.inputs["metadata"]["name"]: i.inputs
        for i in recording.of_type(INGRESS)
        if i.inputs["metadata"]["namespace"] in ("monitoring", "logging")
    }
    expected = {"grafana", "jaeger"} | ({"kibana"} if EXPECTED[env]["es_nodes"] else set())
    assert set(ingresses) == expected
    for name, ingress in ingresses.items():
        annotations = ingress["metadata"]["annotations"]
        assert annotations["alb.ingress.kubernetes.io/group.name"] == (
            f"{settings.name_prefix}-internal"
        )
        assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"
        assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == CERT
        assert ingress["spec"]["rules"][0]["host"] == f"{name}.ops.example.com"


def test_without_a_ui_domain_there_is_no_ingress_to_any_ui(recording):
    namespaces = {i.inputs["metadata"]["namespace"] for i in recording.of_type(INGRESS)}
    assert not namespaces & {"monitoring", "logging"}


def test_tls_uis_cannot_join_an_alb_whose_services_serve_plain_http():
    """dev's service opts out of TLS; the UIs' HTTPS redirect would make it unreachable."""
    services = read_stack_config("dev")["platform:services"]
    assert all(s.get("allowPlainHttp") for s in services)
    config = {
        "platform:services": services,
        "platform:observability": {"uiDomain": "ops.example.com", "uiCertificateArn": CERT},
    }
    assert "serve plain HTTP next to TLS" in rejected("dev", config)


# -- install order: only the waits an install needs (components/observability/component.py) ----
def test_the_collector_and_kibana_do_not_wait_for_their_backends_and_jaeger_on_es_does(
    recording, env
):
    kps = _release(recording, "kube-prometheus-stack")
    jaeger = _release(recording, "jaeger")
    collector = _release(recording, "opentelemetry-collector")
    # The collector's exporter retries; its ServiceMonitor needs the Prometheus Operator CRDs.
    assert jaeger.urn not in _dependencies(recording, collector)
    assert kps.urn in _dependencies(recording, collector)
    jaeger_waits = _dependencies(recording, jaeger)
    assert kps.urn not in jaeger_waits  # no ServiceMonitor in Jaeger's values
    assert "serviceMonitor" not in json.dumps(_values(recording, "jaeger"))
    elasticsearch = recording.of_type(ELASTICSEARCH)
    if not EXPECTED[env]["es_nodes"]:
        assert elasticsearch == []
        # In memory: Jaeger waits for no other release at all.
        assert not {r.urn for r in recording.of_type(RELEASE)} & jaeger_waits
        return
    (es,) = elasticsearch
    # Jaeger v2 exits while Elasticsearch is unreachable: its atomic readiness needs it Ready.
    assert es.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == (
        "jsonpath={.status.phase}=Ready"
    )
    assert es.urn in jaeger_waits
    (kibana,) = recording.of_type(KIBANA)
    assert es.urn not in _dependencies(recording, kibana)
    assert _release(recording, "eck-operator").urn in _dependencies(recording, kibana)


@pytest.mark.parametrize("env", ["uat", "prod"])
def test_the_ui_ingresses_wait_for_their_backends_and_the_load_balancer_controller(env):
    _, recording = _configured(env)
    controller = _release(recording, "aws-load-balancer-controller")
    backends = {"grafana": "kube-prometheus-stack", "jaeger": "jaeger"}
    for ingress in recording.of_type(INGRESS):
        name = ingress.inputs["metadata"]["name"]
        if ingress.inputs["metadata"]["namespace"] not in ("monitoring", "logging"):
            continue
        waits = _dependencies(recording, ingress)
        assert controller.urn in waits, name
        if name == "kibana":
            assert recording.one(KIBANA, "observability-kibana").urn in waits
        else:
            assert _release(recording, backends[name]).urn in waits, name
