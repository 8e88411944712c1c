"""BlueGreenService under the mock engine: objects, hardening, routing, scaling, validation."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.alb import AlbGroup
from components.bluegreen import (
    COLORS,
    BlueGreenService,
    BlueGreenServiceArgs,
    ContainerResources,
    validate,
)
from components.bluegreen import manifests as m
from infra.offline.mockengine import RecordedResource, Recording, last_run, run_program

NS = "apps"
REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web"
TAGS = {"blue": "1.4.0", "green": "1.5.0"}
ALB_CIDRS = ("10.0.0.0/22", "10.0.4.0/22", "10.0.8.0/22")
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c"
ROLE = "arn:aws:iam::123456789012:role/web-app"
ACTION = "alb.ingress.kubernetes.io/actions.web-weighted"

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SA = "kubernetes:core/v1:ServiceAccount"


def base_fields(**overrides) -> dict:
    fields = dict(
        service_name="web",
        namespace=NS,
        image=REPO,
        tags=TAGS,
        alb_source_cidrs=ALB_CIDRS,
        replicas=2,
        env_config_map="platform-env",
    )
    return fields | overrides


def deploy(**overrides) -> Recording:
    """Run the component with a provider created in the program, like the stack does."""

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        svc = BlueGreenService(
            "web", BlueGreenServiceArgs(provider=provider, **base_fields(**overrides))
        )
        pulumi.export("stable", svc.stable_service_name)
        pulumi.export("preview", svc.preview_service_name)
        pulumi.export("ingress", svc.ingress_name)
        pulumi.export("active", svc.active_color)

    return run_program(program, stack="test", config={"aws:region": "eu-west-1"})


def k8s_objects(rec: Recording) -> dict[str, RecordedResource]:
    return {r.name: r for r in rec.resources if r.type.startswith("kubernetes:")}


def pod_spec(rec: Recording, color: str) -> dict:
    return rec.one(DEPLOYMENT, f"web-deployment-{color}").inputs["spec"]["template"]["spec"]


def weights(rec: Recording) -> dict[str, int]:
    annotations = rec.one(INGRESS, "web-ingress").inputs["metadata"]["annotations"]
    action = json.loads(annotations[ACTION])
    return {g["serviceName"]: g["weight"] for g in action["forwardConfig"]["targetGroups"]}


@pytest.fixture(scope="module")
def plain() -> Recording:
    """dev-like: blue active, no HPA, no certificate, no IRSA."""
    return deploy()


@pytest.fixture(scope="module")
def prod() -> Recording:
    """prod-like: green active, HPA, strict zone spread, certificate, IRSA, internet-facing."""
    return deploy(
        active_color="green",
        replicas=3,
        autoscaling=True,
        zone_spread_strict=True,
        certificate_arn=CERT,
        irsa_role_arn=ROLE,
        alb=AlbGroup(name="public", scheme="internet-facing", access_logs_bucket="logs-bucket"),
        hostnames=("app.example.com",),
        prometheus_pod_monitor=True,
    )


# -- objects ----------------------------------------------------------------------------------


def test_registers_the_objects_of_a_blue_green_service_under_the_given_provider(plain):
    objects = k8s_objects(plain)
    assert {(r.type, n) for n, r in objects.items()} == {
        (SA, "web-serviceaccount"),
        (NETPOL, "web-netpol-ingress"),
        (NETPOL, "web-netpol-metrics"),
        (DEPLOYMENT, "web-deployment-blue"),
        (DEPLOYMENT, "web-deployment-green"),
        (PDB, "web-pdb-blue"),
        (PDB, "web-pdb-green"),
        (SERVICE, "web-service-blue"),
        (SERVICE, "web-service-green"),
        (SERVICE, "web-service-stable"),
        (SERVICE, "web-service-preview"),
        (INGRESS, "web-ingress"),
    }
    component = plain.one("platform:bluegreen:BlueGreenService", "web")
    provider = plain.one("pulumi:providers:kubernetes", "k8s")
    for r in objects.values():
        assert r.parent == component.urn
        assert r.provider.startswith(provider.urn + "::")
        assert r.inputs["metadata"]["namespace"] == NS


def test_outputs_name_the_stable_and_preview_services_ingress_and_active_colour(plain, prod):
    assert plain.outputs == {
        "stable": "web",
        "preview": "web-preview",
        "ingress": "web",
        "active": "blue",
    }
    assert prod.outputs["active"] == "green"


def test_deployments_are_named_and_selected_by_their_own_colour(plain):
    for color, tag in TAGS.items():
        d = plain.one(DEPLOYMENT, f"web-deployment-{color}").inputs
        assert d["metadata"]["name"] == f"web-{color}"
        assert d["spec"]["selector"] == {"matchLabels": {"app": "web", "color": color}}
        template = d["spec"]["template"]
        assert template["metadata"]["labels"] == {"app": "web", "color": color, "version": tag}
        assert template["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "8080",
            "prometheus.io/path": "/metrics",
        }
        assert template["spec"]["containers"][0]["image"] == f"{REPO}:{tag}"
        assert d["spec"]["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        }
        assert d["spec"]["replicas"] == 2  # idle_replicas=None keeps the idle colour warm


def test_pods_are_hardened(plain):
    for color in COLORS:
        spec = pod_spec(plain, color)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        assert spec["serviceAccountName"] == "web"
        (c,) = spec["containers"]
        assert c["securityContext"] == {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        assert c["resources"] == {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        }
        assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
        # read-only root filesystem: /tmp is a size-limited emptyDir
        assert c["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
        assert spec["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
        assert c["envFrom"] == [{"configMapRef": {"name": "platform-env"}}]
        zone = spec["topologySpreadConstraints"][0]
        assert zone["topologyKey"] == "topology.kubernetes.io/zone"
        assert zone["whenUnsatisfiable"] == "ScheduleAnyway"
        assert zone["labelSelector"] == {"matchLabels": {"app": "web", "color": color}}


def test_prod_spreads_strictly_across_zones(prod):
    for color in COLORS:
        zone = pod_spec(prod, color)["topologySpreadConstraints"][0]
        assert (zone["topologyKey"], zone["whenUnsatisfiable"]) == (m.ZONE_KEY, "DoNotSchedule")


def test_no_pod_mounts_an_api_token_and_irsa_comes_from_the_annotation(plain, prod):
    """IRSA's web-identity token is projected by EKS's pod identity webhook from the service
    account's role annotation; the Kubernetes API token is never needed, with or without it."""
    sa = plain.one(SA, "web-serviceaccount").inputs
    assert sa["automountServiceAccountToken"] is False
    assert "annotations" not in sa["metadata"]

    sa = prod.one(SA, "web-serviceaccount").inputs
    assert sa["metadata"]["name"] == "web"
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    assert sa["automountServiceAccountToken"] is False
    for rec in (plain, prod):
        for color in COLORS:
            assert pod_spec(rec, color)["automountServiceAccountToken"] is False


def test_services_select_colours_stable_follows_active_preview_follows_idle(plain, prod):
    for rec, active, idle in ((plain, "blue", "green"), (prod, "green", "blue")):
        expected = {
            "web-service-blue": ("web-blue", "blue"),
            "web-service-green": ("web-green", "green"),
            "web-service-stable": ("web", active),
            "web-service-preview": ("web-preview", idle),
        }
        for part, (k8s_name, color) in expected.items():
            svc = rec.one(SERVICE, part).inputs
            assert svc["metadata"]["name"] == k8s_name
            assert svc["spec"]["type"] == "ClusterIP"
            assert svc["spec"]["selector"] == {"app": "web", "color": color}
            assert svc["spec"]["ports"][0]["targetPort"] == "http"


def test_ingress_forwards_to_the_colour_services_by_weight(plain, prod):
    assert weights(plain) == {"web-blue": 100, "web-green": 0}
    assert weights(prod) == {"web-green": 100, "web-blue": 0}
    ing = plain.one(INGRESS, "web-ingress").inputs
    assert ing["spec"]["ingressClassName"] == "alb"
    (rule,) = ing["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"] == {
        "service": {"name": "web-weighted", "port": {"name": "use-annotation"}}
    }
    ports = {
        json.loads(ing["metadata"]["annotations"][ACTION])["forwardConfig"]["targetGroups"][i][
            "servicePort"
        ]
        for i in (0, 1)
    }
    assert ports == {"80"}  # the per-colour Services' port


@pytest.mark.parametrize(("split", "expected"), [(10, (90, 10)), (50, (50, 50)), (100, (0, 100))])
def test_canary_split_sends_a_share_to_the_idle_colour(split, expected):
    assert weights(deploy(traffic_split=split)) == {
        "web-blue": expected[0],
        "web-green": expected[1],
    }


def test_ingress_without_certificate_is_internal_http_only(plain):
    a = plain.one(INGRESS, "web-ingress").inputs["metadata"]["annotations"]
    assert a["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert a["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert a["alb.ingress.kubernetes.io/healthcheck-path"] == "/healthz"
    assert json.loads(a["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
    for absent in ("certificate-arn", "ssl-redirect", "ssl-policy"):
        assert f"alb.ingress.kubernetes.io/{absent}" not in a
    # Alone on an ALB of its own (a group named after it), as the catch-all rule.
    assert a["alb.ingress.kubernetes.io/group.name"] == "web"
    assert a["alb.ingress.kubernetes.io/group.order"] == "1000"


def test_ingress_with_certificate_terminates_modern_tls_and_redirects(prod):
    ing = prod.one(INGRESS, "web-ingress").inputs
    a = ing["metadata"]["annotations"]
    assert a["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert json.loads(a["alb.ingress.kubernetes.io/listen-ports"]) == [
        {"HTTP": 80},
        {"HTTPS": 443},
    ]
    assert a["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert a["alb.ingress.kubernetes.io/certificate-arn"] == CERT
    assert a["alb.ingress.kubernetes.io/ssl-policy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    assert a["alb.ingress.kubernetes.io/group.name"] == "public"
    assert a["alb.ingress.kubernetes.io/group.order"] == "100"  # host rules go before a catch-all
    assert a["alb.ingress.kubernetes.io/load-balancer-attributes"] == (
        "routing.http.drop_invalid_header_fields.enabled=true,access_logs.s3.enabled=true,"
        "access_logs.s3.bucket=logs-bucket,access_logs.s3.prefix=alb/public"
    )
    assert [r["host"] for r in ing["spec"]["rules"]] == ["app.example.com"]


def test_pod_monitor_keeps_the_service_colour_and_version_labels(prod):
    monitor = prod.one("kubernetes:monitoring.coreos.com/v1:PodMonitor", "web-podmonitor").inputs
    assert monitor["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
    relabel = {tuple(r["sourceLabels"]): r["targetLabel"] for r in endpoint["relabelings"]}
    assert relabel == {
        ("__meta_kubernetes_pod_label_app",): "service",
        ("__meta_kubernetes_pod_label_color",): "color",
        ("__meta_kubernetes_pod_label_version",): "version",
    }


# -- scaling ----------------------------------------------------------------------------------


def test_hpa_only_with_autoscaling_and_with_the_brief_numbers(plain, prod):
    assert plain.of_type(HPA) == []
    hpas = {r.name: r.inputs["spec"] for r in prod.of_type(HPA)}
    assert set(hpas) == {"web-hpa-blue", "web-hpa-green"}
    for color in COLORS:
        spec = hpas[f"web-hpa-{color}"]
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"web-{color}",
        }
        assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 10)
        targets = {
            x["resource"]["name"]: x["resource"]["target"]["averageUtilization"]
            for x in spec["metrics"]
        }
        assert targets == {"cpu": 70, "memory": 80}
        assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
        # the HPA owns the scale: the Deployment must not fight it
        deployment = prod.one(DEPLOYMENT, f"web-deployment-{color}").inputs["spec"]
        assert "replicas" not in deployment


def test_idle_replicas_zero_scales_only_the_idle_deployment():
    rec = deploy(idle_replicas=0, replicas=3)
    assert rec.one(DEPLOYMENT, "web-deployment-blue").inputs["spec"]["replicas"] == 3
    assert rec.one(DEPLOYMENT, "web-deployment-green").inputs["spec"]["replicas"] == 0
    # no PDB guarding a colour without pods; the active colour keeps its own
    assert [r.name for r in rec.of_type(PDB)] == ["web-pdb-blue"]
    # apart from replicas the idle Deployment is unchanged
    warm = deploy(replicas=3)
    for color in COLORS:
        before = dict(warm.one(DEPLOYMENT, f"web-deployment-{color}").inputs["spec"])
        after = dict(rec.one(DEPLOYMENT, f"web-deployment-{color}").inputs["spec"])
        before.pop("replicas")
        after.pop("replicas")
        assert before == after


def test_idle_replicas_zero_with_autoscaling_has_no_hpa_for_the_idle_colour():
    rec = deploy(idle_replicas=0, replicas=3, autoscaling=True, active_color="green")
    assert [r.name for r in rec.of_type(HPA)] == ["web-hpa-green"]
    assert rec.one(HPA, "web-hpa-green").inputs["spec"]["minReplicas"] == 3
    assert "replicas" not in rec.one(DEPLOYMENT, "web-deployment-green").inputs["spec"]
    assert rec.one(DEPLOYMENT, "web-deployment-blue").inputs["spec"]["replicas"] == 0


def test_pdbs_allow_one_voluntary_eviction_per_colour(plain):
    for color in COLORS:
        spec = plain.one(PDB, f"web-pdb-{color}").inputs["spec"]
        assert spec["maxUnavailable"] == 1
        assert spec["selector"] == {"matchLabels": {"app": "web", "color": color}}
        assert "minAvailable" not in spec


# -- the promotion property -------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"autoscaling": True, "replicas": 3, "certificate_arn": CERT, "irsa_role_arn": ROLE},
        {"traffic_split": 20},
    ],
    ids=["plain", "hpa-tls-irsa", "canary"],
)
def test_flipping_the_active_colour_changes_only_routing(config):
    blue = k8s_objects(deploy(active_color="blue", **config))
    green = k8s_objects(deploy(active_color="green", **config))
    assert set(blue) == set(green)  # nothing created or deleted
    changed = sorted(n for n in blue if blue[n].inputs != green[n].inputs)
    assert changed == ["web-ingress", "web-service-preview", "web-service-stable"]
    for name in ("web-deployment-blue", "web-deployment-green"):
        assert blue[name].inputs == green[name].inputs  # name, selector, replicas, template
    for name, selector in (("web-service-stable", "blue"), ("web-service-preview", "green")):
        assert blue[name].inputs["spec"]["selector"]["color"] == selector
        assert green[name].inputs["spec"]["selector"]["color"] != selector
    before = blue["web-ingress"].inputs["metadata"]["annotations"]
    after = green["web-ingress"].inputs["metadata"]["annotations"]
    assert [k for k in before if before[k] != after[k]] == [ACTION]
    assert blue["web-ingress"].inputs["spec"] == green["web-ingress"].inputs["spec"]


# -- network policy ---------------------------------------------------------------------------


def test_network_policies_admit_namespace_alb_and_prometheus_only(plain):
    ingress = plain.one(NETPOL, "web-netpol-ingress").inputs["spec"]
    assert ingress["podSelector"] == {"matchLabels": {"app": "web"}}
    assert ingress["policyTypes"] == ["Ingress"]
    (rule,) = ingress["ingress"]
    assert rule["from"] == [{"podSelector": {}}] + [{"ipBlock": {"cidr": c}} for c in ALB_CIDRS]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]

    metrics = plain.one(NETPOL, "web-netpol-metrics").inputs["spec"]
    (rule,) = metrics["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]


def test_separate_metrics_port_is_exposed_annotated_and_admitted():
    rec = deploy(metrics_port=9090, monitoring_namespace="observability")
    template = rec.one(DEPLOYMENT, "web-deployment-blue").inputs["spec"]["template"]
    assert template["metadata"]["annotations"]["prometheus.io/port"] == "9090"
    ports = template["spec"]["containers"][0]["ports"]
    assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in ports
    rule = rec.one(NETPOL, "web-netpol-metrics").inputs["spec"]["ingress"][0]
    assert rule["ports"] == [{"protocol": "TCP", "port": 9090}]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "observability"
    }


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"active_color": "purple"}, "active_color='purple'"),
        ({"traffic_split": 101}, "traffic_split=101"),
        ({"traffic_split": -1}, "traffic_split=-1"),
        ({"tags": {"blue": "latest", "green": "1.0"}}, "tags.blue='latest'"),
        ({"tags": {"blue": "1.0", "green": ""}}, "tags.green=''"),
        ({"tags": {"blue": "1.0"}}, "tags="),
        ({"port": 0}, "port=0"),
        ({"port": 70000}, "port=70000"),
        ({"metrics_port": 65536}, "metrics_port=65536"),
        ({"image": f"{REPO}:1.0"}, "image="),
        ({"replicas": 0}, "replicas=0"),
        ({"idle_replicas": 0, "traffic_split": 10}, "traffic_split=10"),
        ({"service_name": "Web_App"}, "service_name="),
        ({"alb_source_cidrs": []}, "alb_source_cidrs=[]"),
        ({"alb_source_cidrs": ["10.0.0.1/20"]}, "alb_source_cidrs='10.0.0.1/20'"),
        ({"alb": AlbGroup(name="web", scheme="public")}, "scheme 'public'"),
        ({"alb": AlbGroup(name="Web_ALB")}, "ALB group name 'Web_ALB'"),
        ({"alb_order": 5000}, "alb_order=5000"),
        ({"resources": ContainerResources(cpu_request="2", cpu_limit="500m")}, "cpu_limit"),
        ({"hpa_max_replicas": 2, "replicas": 3}, "above the autoscaling maximum 2"),
        ({"port": 80}, "port=80"),  # non-root: no privileged ports
        ({"tags": {"blue": "team/1.0", "green": "1.0"}}, "no '/'"),
        ({"image": f"{REPO}:1.0"}, "not in the image"),
        ({"hostnames": ["https://app.example.com"]}, "not a URL"),
        ({"health_path": "/health check"}, "without spaces"),
        ({"resources": ContainerResources(memory_request="lots")}, "not a positive Kubernetes"),
        ({"certificate_arn": "not-an-arn"}, "certificate_arn="),
        ({"paths": ["api/*"]}, "paths[0] is invalid: path 'api/*': must start with '/'"),
        ({"paths": ["/a/*", "/a/*"]}, "paths[0] and paths[1] is invalid"),
        ({"kind": "cron"}, "kind='cron'"),
        ({"kind": "worker", "hostnames": ["a.example.com"]}, "empty for a worker"),
        ({"kind": "worker", "paths": ["/a/*"]}, "paths=['/a/*'] is invalid: expected empty"),
        ({"kind": "worker", "traffic_split": 10}, "traffic_split=10 is invalid: expected empty"),
    ],
)
def test_invalid_inputs_are_named_with_what_is_allowed(override, message):
    problems = validate(BlueGreenServiceArgs(**base_fields(**override)))
    assert problems and all(p.startswith("BlueGreenService ") for p in problems)
    assert any(message in p for p in problems), problems


def test_builders_refuse_unknown_colours_and_mutable_tags():
    args = BlueGreenServiceArgs(**base_fields())
    with pytest.raises(ValueError, match="colour 'purple'"):
        m.deployment(args, "purple")
    with pytest.raises(ValueError, match="colour 'purple'"):
        m.image_ref(args, "purple")
    # even if validation were bypassed, a 'latest' or empty tag never reaches a manifest
    for tag in ("latest", "LATEST", ""):
        sneaky = object.__new__(BlueGreenServiceArgs)
        for f in dataclasses.fields(BlueGreenServiceArgs):
            object.__setattr__(sneaky, f.name, getattr(args, f.name))
        object.__setattr__(sneaky, "tags", {"blue": tag, "green": "1.0"})
        with pytest.raises(ValueError, match=r"tags\.blue"):
            m.image_ref(sneaky, "blue")
        with pytest.raises(ValueError, match=r"tags\.blue"):
            m.build_manifests(sneaky)


def test_invalid_config_registers_nothing():
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = BlueGreenServiceArgs(provider=provider, **base_fields(active_color="purple"))
        BlueGreenService("web", args)

    with pytest.raises(ValueError, match="active_color"):
        run_program(program, stack="test", config={"aws:region": "eu-west-1"})
    assert last_run.monitor is not None
    assert [r.type for r in last_run.monitor.recorded] == ["pulumi:providers:kubernetes"]


def test_component_refuses_to_run_without_an_explicit_provider():
    def program() -> None:
        BlueGreenService("web", BlueGreenServiceArgs(**base_fields()))

    with pytest.raises(ValueError, match="provider"):
        run_program(program, stack="test", config={"aws:region": "eu-west-1"})
    assert last_run.monitor is not None
    assert last_run.monitor.recorded == []


# -- without an ALB (the local stack) ------------------------------------------------------------
def test_without_an_ingress_nothing_waits_for_a_load_balancer_and_the_alb_cidrs_may_be_empty():
    rec = deploy(ingress=False, alb_source_cidrs=[], api_server_cidrs=["172.18.0.0/16"])
    assert rec.of_type(INGRESS) == []
    assert rec.outputs.get("ingress") is None and rec.outputs["stable"] == "web"
    assert {r.name for r in rec.of_type(SERVICE)} == {
        "web-service-stable", "web-service-preview", "web-service-blue", "web-service-green"
    }  # fmt: skip
    policy = rec.one(NETPOL, "web-netpol-ingress").inputs["spec"]["ingress"][0]["from"]
    assert policy == [{"podSelector": {}}, {"ipBlock": {"cidr": "172.18.0.0/16"}}]


def test_an_ingress_still_needs_the_alb_cidrs():
    problems = validate(BlueGreenServiceArgs(**base_fields(alb_source_cidrs=[])))
    assert any("alb_source_cidrs=[]" in p for p in problems)
    assert not validate(BlueGreenServiceArgs(**base_fields(alb_source_cidrs=[], ingress=False)))


def test_an_env_secret_is_loaded_after_the_config_map():
    container = pod_spec(deploy(env_secret="web-credentials"), "blue")["containers"][0]
    assert container["envFrom"] == [
        {"configMapRef": {"name": "platform-env"}},
        {"secretRef": {"name": "web-credentials"}},
    ]
    assert "envFrom" in pod_spec(deploy(), "blue")["containers"][0]
    assert pod_spec(deploy(), "blue")["containers"][0]["envFrom"] == [
        {"configMapRef": {"name": "platform-env"}}
    ]
    problems = validate(BlueGreenServiceArgs(**base_fields(env_secret="Web_Secret")))
    assert any(p.startswith("BlueGreenService env_secret=") for p in problems), problems
