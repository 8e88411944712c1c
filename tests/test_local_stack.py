"""The local stack (Pulumi.local.yaml, profile `local`): the in-cluster layer on a laptop
cluster with in-cluster stand-ins for the data stores, and nothing of AWS.

* it creates no AWS resource and calls no AWS data source, and configures no AWS provider;
* every Kubernetes object it creates validates against the cluster minor's schema (or the
  pinned CRDs), and every pod is admitted by its namespace's level — `restricted` everywhere
  but the node agents — and hardened (read-only root, numeric non-root user);
* the services get the AWS ConfigMap's key names with local values, passwords in a Secret;
* the stand-ins run the images the versions module pins exactly;
* a cloud-named stack can never take the local profile, and no prod floor applies to it.
"""

from __future__ import annotations

import copy

import pytest

from components import hardening
from components.app_access import connection_data as aws_connection_data
from components.local_stores import versions
from components.local_stores.access import PASSWORD_KEYS
from infra.config import SettingsError, load_settings, read_stack_config
from infra.offline import local_plan
from infra.offline.mockengine import PlatformMocks, kubernetes_manifest, run_program
from infra.offline.plan import main
from infra.offline.run import plan
from infra.stack import build
from tests import admission
from tests.conftest import planned

LOCAL = "local"


def _objects(recording) -> list[dict]:
    return [m for r in recording.resources if (m := kubernetes_manifest(r)) is not None]


def _kind(recording, kind: str, name: str | None = None) -> list[dict]:
    return [
        m
        for m in _objects(recording)
        if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)
    ]


def _config() -> dict:
    return read_stack_config(LOCAL)


# -- no AWS ------------------------------------------------------------------------------------
def test_the_local_stack_creates_no_aws_resource_at_all():
    recording = planned(LOCAL)[1]
    packages = {r.type.split(":")[0] for r in recording.resources if r.custom}
    assert packages == {"kubernetes", "random", "pulumi"}
    assert {r.type for r in recording.resources if r.type.startswith("pulumi:providers:")} == {
        "pulumi:providers:kubernetes"
    }
    assert local_plan.cloud_resources(recording) == []
    assert not any(r.type.startswith(("aws:", "eks:")) for r in recording.resources)


def test_the_local_stack_calls_no_aws_data_source():
    calls: list[str] = []

    class Watching(PlatformMocks):
        def call(self, args):
            calls.append(args.token)
            return super().call(args)

    config = _config()
    settings = load_settings(LOCAL, config)
    run_program(lambda: build(settings), stack=LOCAL, config=config, mocks=Watching("none"))
    assert [c for c in calls if c.startswith(("aws:", "eks:"))] == []


def test_the_one_kubernetes_provider_uses_the_named_context():
    recording = planned(LOCAL)[1]
    (provider,) = recording.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-platform"
    # Every Kubernetes object goes through it (none through the ambient default provider).
    custom = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert custom and {r.provider.rsplit("::", 1)[0] for r in custom} == {provider.urn}


def test_make_plan_local_works_offline_and_says_zero_aws_resources(capsys):
    assert main([LOCAL]) == 0
    out = capsys.readouterr().out
    assert "Plan for stack 'local' (environment local, region none (kubeconfig context " in out
    assert "AWS resources: 0" in out
    assert f"postgres   for Aurora PostgreSQL  {versions.POSTGRES.image}" in out
    assert "Estimated fixed monthly cost" not in out
    assert "0 mandatory violation(s)" in out


# -- every object is one the cluster accepts ---------------------------------------------------
def test_every_object_validates_against_its_schema():
    settings, recording = planned(LOCAL)
    problems, unknown = admission.schema_problems(_objects(recording), settings.local.version)
    assert problems == []
    assert unknown == []
    kinds = {m["kind"] for m in _objects(recording)}
    assert {"StatefulSet", "Job", "Deployment", "NetworkPolicy", "Secret", "ConfigMap"} <= kinds


def test_every_pod_is_admitted_and_the_namespaces_enforce_restricted():
    recording = planned(LOCAL)[1]
    levels = admission.enforced_levels(recording)
    assert levels["apps"] == levels["data"] == levels["monitoring"] == "restricted"
    assert levels["monitoring-agents"] == "privileged"  # node-exporter, as on the cloud
    pods = [m for m in _objects(recording) if admission.pod_templates(m)]
    assert {m["kind"] for m in pods} == {"Deployment", "StatefulSet", "Job"}
    problems = [
        p
        for m in pods
        for p in admission.pod_security_problems(m, m["metadata"]["namespace"], levels)
    ]
    assert problems == []


def test_every_stand_in_pod_is_hardened_with_the_user_its_image_has():
    recording = planned(LOCAL)[1]
    pods = [
        m
        for m in _objects(recording)
        if m["kind"] in ("StatefulSet", "Job") and m["metadata"]["namespace"] == "data"
    ]
    assert len(pods) == 5  # postgres, valkey, kafka, the logins Job, the topics Job
    for manifest in pods:
        spec = manifest["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False
        (container,) = spec["containers"]
        assert hardening.is_hardened_pod(spec["securityContext"], container["securityContext"])
        stand_in = next(s for s in versions.STAND_INS.values() if s.image == container["image"])
        assert spec["securityContext"]["runAsUser"] == stand_in.uid
        assert spec["securityContext"]["fsGroup"] == stand_in.gid


def test_a_stand_in_running_as_root_would_be_refused():
    """Not vacuous: the checks above would catch a stand-in that lost its hardening."""
    recording = planned(LOCAL)[1]
    levels = admission.enforced_levels(recording)
    (postgres,) = _kind(recording, "StatefulSet", "postgres")
    broken = copy.deepcopy(postgres)
    broken["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0
    del broken["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    del broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"]
    assert admission.pod_security_problems(broken, "data", levels)


def test_the_stand_ins_admit_only_the_application_namespaces():
    recording = planned(LOCAL)[1]
    policies = {m["metadata"]["name"]: m["spec"] for m in _kind(recording, "NetworkPolicy")}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    apps = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}
    assert policies["valkey-clients"]["ingress"] == [
        {"from": [apps], "ports": [{"protocol": "TCP", "port": 6379}]}
    ]
    # PostgreSQL and Kafka also admit their own namespace (the login and topic Jobs).
    assert policies["postgres-clients"]["ingress"][0]["from"] == [apps, {"podSelector": {}}]


# -- the services' connection details ----------------------------------------------------------
def test_the_configmap_has_the_aws_key_names_with_local_values():
    local = planned(LOCAL)[1]
    (config_map,) = _kind(local, "ConfigMap", "api-platform")
    (aws_map,) = _kind(planned("dev")[1], "ConfigMap", "api-platform")
    assert set(config_map["data"]) == set(aws_map["data"])
    data = config_map["data"]
    assert data["DB_HOST"] == data["DB_READER_HOST"] == "postgres.data.svc.cluster.local"
    assert (data["DB_AUTH"], data["DB_SSLMODE"], data["DB_USER"]) == ("password", "disable", "api")
    assert (data["CACHE_HOST"], data["CACHE_PORT"], data["CACHE_TLS"]) == (
        "valkey.data.svc.cluster.local",
        "6379",
        "false",
    )
    assert data["KAFKA_BOOTSTRAP_SERVERS"] == "kafka.data.svc.cluster.local:9092"
    assert data["KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
    assert data["KAFKA_TOPICS"] == aws_map["data"]["KAFKA_TOPICS"] == "api.events"
    assert data["OTEL_EXPORTER_OTLP_ENDPOINT"] == aws_map["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert data["DB_NAME"] == aws_map["data"]["DB_NAME"]


def test_the_aws_function_and_the_local_one_stay_key_for_key_equal():
    """The dev recording is one witness; the functions themselves are the other."""
    import inspect

    source = inspect.getsource(aws_connection_data)
    keys = {line.split('"')[1] for line in source.splitlines() if '": ' in line and '"' in line}
    local = planned(LOCAL)[1]
    (config_map,) = _kind(local, "ConfigMap", "api-platform")
    assert keys == set(config_map["data"])


def test_passwords_are_in_a_secret_the_pods_load_never_in_the_configmap():
    recording = planned(LOCAL)[1]
    (secret,) = _kind(recording, "Secret", "api-platform-credentials")
    assert set(secret["stringData"]) == set(PASSWORD_KEYS)
    (config_map,) = _kind(recording, "ConfigMap", "api-platform")
    assert not {"PASSWORD", "TOKEN"} & {w for k in config_map["data"] for w in k.split("_")}
    for deployment in _kind(recording, "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["envFrom"] == [
            {"configMapRef": {"name": "api-platform"}},
            {"secretRef": {"name": "api-platform-credentials"}},
        ]


def test_each_service_gets_its_login_and_topics_from_jobs():
    recording = planned(LOCAL)[1]
    (logins,) = [
        j for j in _kind(recording, "Job") if j["metadata"]["name"].startswith("database-")
    ]
    (container,) = logins["spec"]["template"]["spec"]["containers"]
    script = container["command"][2]
    assert 'CREATE SCHEMA IF NOT EXISTS "api";' in script
    assert 'GRANT USAGE, CREATE ON SCHEMA "api" TO "api";' in script
    assert "ALTER ROLE \"api\" PASSWORD :'pw_api';" in script
    assert '-v pw_api="$PW_API"' in script
    assert {"name": "PW_API", "valueFrom": {"secretKeyRef": {"name": "database-logins",
            "key": "api"}}} in container["env"]  # fmt: skip
    (topics,) = [j for j in _kind(recording, "Job") if j["metadata"]["name"].startswith("kafka-")]
    command = topics["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "--topic api.events --partitions 3 --replication-factor 1" in command
    assert "--config retention.ms=604800000" in command


def test_no_ingress_no_irsa_and_the_same_charts_as_dev_without_the_cloudwatch_exporter():
    local, dev = planned(LOCAL)[1], planned("dev")[1]
    assert _kind(local, "Ingress") == []
    for account in _kind(local, "ServiceAccount"):
        assert "eks.amazonaws.com/role-arn" not in (account["metadata"].get("annotations") or {})

    def charts(recording):
        return {
            (r.inputs["chart"], r.inputs["version"])
            for r in recording.of_type("kubernetes:helm.sh/v3:Release")
            if not r.name.startswith("cluster-")
        }

    exporter = {c for c in charts(dev) if "cloudwatch" in c[0]}
    assert len(exporter) == 1
    assert charts(local) == charts(dev) - exporter


def test_the_volumes_use_the_laptop_clusters_storage_class():
    recording = planned(LOCAL)[1]
    (kps,) = [
        r
        for r in recording.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    ]
    spec = kps.inputs["values"]["prometheus"]["prometheusSpec"]["storageSpec"]
    assert spec["volumeClaimTemplate"]["spec"]["storageClassName"] == "standard"
    for name in ("postgres", "kafka"):
        (sts,) = _kind(recording, "StatefulSet", name)
        (claim,) = sts["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "standard"


# -- pinned images -----------------------------------------------------------------------------
def test_the_stand_ins_run_the_pinned_images_and_only_those():
    recording = planned(LOCAL)[1]
    images = {
        c["image"]
        for m in _objects(recording)
        if m["metadata"].get("namespace") == "data"
        for _, t in admission.pod_templates(m)
        for c in t["spec"]["containers"]
    }
    assert images == {s.image for s in versions.STAND_INS.values()}
    assert [p for i in images for p in versions.image_problems(i)] == []


@pytest.mark.parametrize(
    "image",
    [
        "docker.io/valkey/valkey:latest",
        "docker.io/valkey/valkey:8",
        "valkey/valkey:8.2.2",  # no registry: the cluster's default decides
        "docker.io/valkey/valkey:8.2.2@sha256:abc",
    ],
)
def test_a_floating_or_unqualified_image_is_not_a_pin(image):
    assert versions.image_problems(image)


def test_a_digest_pin_is_accepted():
    assert versions.image_problems(f"{versions.KAFKA.image}@sha256:{'a' * 64}") == []


# -- config rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "uat", "prod", "dev-alice", "prod-eu"])
def test_a_cloud_named_stack_can_never_take_the_local_profile(stack):
    with pytest.raises(SettingsError) as caught:
        load_settings(stack, {**_config(), "platform:profile": LOCAL})
    *prod_rule, line = caught.value.errors
    env = stack.split("-")[0]
    # A prod-named stack also breaks the prod rule (it takes prod's profile and floors).
    assert len(prod_rule) == (1 if env == "prod" else 0)
    assert line.startswith(f"platform:profile: 'local' on stack {stack!r}: a stack named like ")
    assert f"the cloud environment {env!r} takes a cloud profile" in line


def test_a_local_named_stack_or_other_name_may_take_it():
    for stack in ("local-alice", "laptop"):
        settings = load_settings(stack, {**_config(), "platform:profile": LOCAL})
        assert (settings.environment, settings.stack) == (LOCAL, stack)


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("platform:database", "PostgreSQL runs in the cluster: set it under platform:stores"),
        (
            "platform:cluster",
            "there is no EKS cluster: platform:local names the kubeconfig context",
        ),
        (
            "platform:network",
            "there is no VPC: the laptop cluster's own network (platform:local.nodeCidrs)",
        ),
        ("platform:protect", "nothing in a local stack is protected (it is disposable)"),
    ],
)
def test_a_cloud_only_key_in_a_local_stack_is_refused_with_its_stand_in(key, says):
    with pytest.raises(SettingsError) as caught:
        load_settings(LOCAL, {**_config(), key: {"x": 1}})
    assert caught.value.errors == [f"{key}: not used by a local stack: {says}"]


def test_aws_provider_config_in_a_local_stack_is_refused():
    with pytest.raises(SettingsError) as caught:
        load_settings(LOCAL, {**_config(), "aws:region": "eu-west-1"})
    assert caught.value.errors == [
        "aws:region: a local stack configures no AWS provider and creates no AWS resource; "
        "remove it"
    ]


def test_no_prod_floor_applies_and_the_profile_is_dev_sized():
    settings = load_settings(LOCAL, {**_config(), "platform:app": {"replicas": 1}})
    assert settings.app.replicas == 1
    assert settings.observability.level == "basic"
    assert settings.app.deploy_branches == ["*"]


def test_a_local_service_with_an_alb_only_setting_is_refused():
    services = copy.deepcopy(_config()["platform:services"])
    services[0] |= {"public": True, "allowPlainHttp": False, "certificateArn":
                    "arn:aws:acm:eu-west-1:123456789012:certificate/abc"}  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        load_settings(LOCAL, {**_config(), "platform:services": services})
    assert any("a local stack does not have" in e for e in caught.value.errors)


def test_a_bad_context_names_the_key():
    with pytest.raises(SettingsError) as caught:
        load_settings(LOCAL, {**_config(), "platform:local": {"context": "two words"}})
    assert any(e.startswith("platform:local.context") for e in caught.value.errors)


def test_every_values_key_of_the_local_releases_exists_in_its_chart():
    from tests.test_chart_values import RELEASE, unknown_keys

    releases = planned(LOCAL)[1].of_type(RELEASE)
    assert {r.inputs["chart"] for r in releases} == {
        "kube-prometheus-stack",
        "jaeger",
        "opentelemetry-collector",
    }
    problems = {
        r.inputs["chart"]: unknown_keys(r.inputs["chart"], r.inputs["version"], r.inputs["values"])
        for r in releases
    }
    assert {chart: keys for chart, keys in problems.items() if keys} == {}


def test_destroy_takes_the_stand_ins_volumes_with_it():
    recording = planned(LOCAL)[1]
    for name in ("postgres", "kafka"):
        (sts,) = _kind(recording, "StatefulSet", name)
        assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"


def test_docs_local_explains_every_configmap_key_and_the_readme_links_it():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "local.md").read_text()
    (config_map,) = _kind(planned(LOCAL)[1], "ConfigMap", "api-platform")
    table = [line for line in text.splitlines() if line.startswith("| `")]
    named = {k.strip("` ") for line in table for k in line.split("|")[1].split(",")}
    assert {k for k in config_map["data"] if not k.startswith("OTEL_")} <= named
    for phrase in ("kind create cluster", "pulumi login --local", "port-forward svc/kube-prom",
                   "python -m infra.release promote --stack local", "cannot test"):  # fmt: skip
        assert phrase in text
    readme = (root / "README.md").read_text()
    assert "[docs/local.md](docs/local.md)" in readme
    assert "| | dev | uat | prod | local (a laptop cluster) |" in readme


@pytest.mark.parametrize(("stack", "profile"), [("local", "dev"), ("local-alice", "prod")])
def test_a_local_named_stack_never_takes_a_cloud_profile(stack, profile):
    from tests.helpers import minimum

    config = {**minimum(profile), "platform:profile": profile}
    with pytest.raises(SettingsError) as caught:
        load_settings(stack, config)
    assert caught.value.errors == [
        f"platform:profile: {profile!r} on stack {stack!r}: a stack named like the local "
        "environment takes the local profile (no AWS); remove platform:profile (or set local), "
        "or give the cloud stack a name that does not start with 'local'"
    ]


def test_a_worker_is_a_worker_locally_too():
    """The local stack maps a service entry to the component as the cloud does (one function,
    `infra.wiring.services.entry_fields`): a `kind: worker` gets no Services there either."""
    config = copy.deepcopy(_config())
    entry = config["platform:services"][0]
    for key in ("hostnames", "paths", "public", "certificateArn", "allowPlainHttp", "trafficSplit"):
        entry.pop(key, None)
    config["platform:services"] = [{**entry, "kind": "worker", "idleReplicas": 0}]
    recording = plan(LOCAL, config)[1]
    name = entry["name"]
    assert [s for s in _kind(recording, "Service") if s["metadata"]["name"].startswith(name)] == []
    deployments = [d["metadata"]["name"] for d in _kind(recording, "Deployment")]
    assert {f"{name}-blue", f"{name}-green"} <= set(deployments)
