"""`Observability`: registers the stack the builders describe, waiting only where it must.

Everything waits for `cluster_ready` (nodes to run on, DNS, the volumes' StorageClass and
CSI driver) and its namespace. Beyond that, each arrow is a `depends_on` and why; anything
not listed installs in parallel:

    Secrets -> the releases that mount them   (a pod cannot start without its volume)
    kube-prometheus-stack -> PrometheusRule, CloudWatch exporter, collector, Fluent Bit
        (custom resources, and the charts' ServiceMonitors, need the Prometheus Operator CRDs:
        Helm fails on a kind the API server does not know)
    ECK operator -> Elasticsearch, Kibana   (their CRDs come with the operator)
    Elasticsearch (waits for phase Ready) -> lifecycle Job   (a Job's pods give up after their
        backoff: a client that does not retry long enough waits for its backend)
    lifecycle Job -> Fluent Bit   (the retention policy exists before the first log line)
    Elasticsearch -> Jaeger   (kept: Jaeger v2 creates its index templates at start and exits
        while Elasticsearch is unreachable, so the atomic release's readiness would depend on
        the backend and its restart backoff)
    kube-prometheus-stack, Jaeger, Kibana, `ingress_ready` -> the UI Ingresses
        (pulumi-kubernetes waits for an Ingress's backend Services; the load balancer
        controller's Ingress webhook is Fail-closed)

Not waited for: the collector does not wait for Jaeger (its OTLP exporter retries with a
queue, and its readiness is its own health check), Kibana not for Elasticsearch (the operator
connects it when Elasticsearch is up; Pulumi does not wait for Kibana), Jaeger in memory
(basic) for nothing but its namespace.

`crds_ready` is what other components' PodMonitors must wait for.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls

import components.observability.alertmanager as alertmanager
import components.observability.alerts as alerts
import components.observability.cloudwatch as cloudwatch
import components.observability.dashboards as dashboards
import components.observability.logging as logging
import components.observability.network as network
import components.observability.prometheus as prometheus
import components.observability.tracing as tracing
import components.observability.ui as ui
from components.arguments import require_valid
from components.iam import pod_identity_role
from components.kubernetes_objects import register
from components.kubernetes_rules import pod_security_labels
from components.observability.args import ObservabilityArgs, validate
from components.observability.versions import (
    CLOUDWATCH_EXPORTER,
    ECK_OPERATOR,
    FLUENT_BIT,
    JAEGER,
    KUBE_PROMETHEUS_STACK,
    OTEL_COLLECTOR,
    Chart,
)

__all__ = [
    "CA_VALIDITY_HOURS",
    "Observability",
]


CA_VALIDITY_HOURS = 10 * 365 * 24  # the operator-wide CA; ECK rotates the leaf certificates


class Observability(pulumi.ComponentResource):
    """Metrics, alerts, dashboards, logs and traces for one cluster (see `args.SHAPES`).

    Outputs: `prometheus_url` (in-cluster), `collector_endpoint` (OTLP/HTTP for applications),
    `namespaces`; `crds_ready` (the kube-prometheus-stack release) for PodMonitors elsewhere.
    """

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("Observability", name, args, lambda: validate(args))
        super().__init__("platform:observability:Observability", name, None, opts)
        self._name, self._args = name, args
        ns = args.namespaces

        self.namespaces = {
            namespace: k8s.core.v1.Namespace(
                f"{name}-ns-{namespace}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=namespace, labels=pod_security_labels(level)
                ),
                opts=self._in_cluster(protect=args.protect),
            )
            for namespace, level in ns.levels().items()
        }
        secrets = [self._grafana_admin(), *self._slack()]
        # node-exporter goes to the agents namespace (namespaceOverride): wait for it too.
        kps = self._release(
            KUBE_PROMETHEUS_STACK,
            ns.monitoring,
            prometheus.values(args),
            [*secrets, self.namespaces[ns.agents]],
        )
        self.crds_ready: pulumi.Resource = kps

        rule = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "platform-alerts", "namespace": ns.monitoring},
            "spec": {"groups": alerts.rule_groups(args.alert_thresholds)},
        }
        self._objects({"alerts": rule}, after=[kps])
        self._objects(dashboards.config_maps(ns.monitoring), after=[self.namespaces[ns.monitoring]])
        if args.cloudwatch_exporter:
            self._cloudwatch_exporter(kps)

        # Jaeger on Elasticsearch starts once the cluster is Ready and its CA and password exist.
        trace_store, kibana = self._logs(kps) if args.logs else ([], [])
        jaeger = self._release(JAEGER, ns.monitoring, tracing.jaeger_values(args), trace_store)
        # The collector's ServiceMonitor needs the CRDs; Jaeger it reaches with retries.
        self._release(OTEL_COLLECTOR, ns.monitoring, tracing.collector_values(args), [kps])

        self._objects(network.policies(args), after=list(self.namespaces.values()))
        self._objects(ui.ingresses(args), after=[kps, jaeger, *kibana, *args.ingress_ready])

        self.monitoring_namespace: str = ns.monitoring
        self.prometheus_url: str = prometheus.prometheus_url(ns.monitoring)
        self.collector_endpoint: str = tracing.collector_endpoint(args)
        self.register_outputs(
            {
                "prometheusUrl": self.prometheus_url,
                "collectorEndpoint": self.collector_endpoint,
                "namespaces": list(self.namespaces),
            }
        )

    # -- helpers ------------------------------------------------------------------------------
    def _in_cluster(self, depends_on=(), **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self,
            provider=self._args.k8s_provider,
            depends_on=[*self._args.cluster_ready, *depends_on],
            **extra,
        )

    def _release(
        self, chart: Chart, namespace: str, values: dict, after: list[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        """A pinned, atomic release named after its chart, after its namespace exists."""
        return k8s.helm.v3.Release(
            f"{self._name}-{chart.name}",
            name=chart.name,
            chart=chart.name,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=namespace,
            values=values,
            # A failed install or upgrade rolls back instead of leaving a half-applied release.
            atomic=True,
            cleanup_on_fail=True,
            timeout=900,
            opts=self._in_cluster(depends_on=[self.namespaces[namespace], *after]),
        )

    def _objects(self, manifests: dict[str, dict], after: list[pulumi.Resource], **extra):
        return {
            key: register(
                f"{self._name}-{key}", manifest, self._in_cluster(depends_on=after, **extra)
            )
            for key, manifest in manifests.items()
        }

    def _secret(
        self, key: str, namespace: str, name: str, data: dict, **extra
    ) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            f"{self._name}-{key}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
            string_data=data,
            opts=self._in_cluster(depends_on=[self.namespaces[namespace]]),
            **extra,
        )

    def _password(self, key: str) -> pulumi.Output[str]:
        password = random.RandomPassword(
            f"{self._name}-{key}",
            length=32,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return password.result

    # -- parts --------------------------------------------------------------------------------
    def _grafana_admin(self) -> k8s.core.v1.Secret:
        given = self._args.grafana_admin_password
        password = (
            pulumi.Output.secret(given) if given is not None else self._password("grafana-admin")
        )
        return self._secret(
            "grafana-admin",
            self._args.namespaces.monitoring,
            prometheus.GRAFANA_ADMIN_SECRET,
            {"admin-user": "admin", "admin-password": password},
        )

    def _slack(self) -> list[k8s.core.v1.Secret]:
        alerting = self._args.alerting
        if alerting is None:
            return []
        url = pulumi.Output.secret(alerting.webhook_url)
        return [
            self._secret(
                "alertmanager-slack",
                self._args.namespaces.monitoring,
                alertmanager.SLACK_SECRET,
                {alertmanager.SLACK_URL_KEY: url},
            )
        ]

    def _cloudwatch_exporter(self, kps: pulumi.Resource) -> None:
        args = self._args
        role = pod_identity_role(
            f"{self._name}-cloudwatch-exporter",
            cluster=args.identity,
            namespace=args.namespaces.monitoring,
            service_account=cloudwatch.SERVICE_ACCOUNT,
            inline_policies={"read-metrics": json.dumps(cloudwatch.iam_policy())},
            opts=pulumi.ResourceOptions(parent=self),
        )
        chart = CLOUDWATCH_EXPORTER
        release = k8s.helm.v3.Release(
            f"{self._name}-{cloudwatch.RELEASE}",
            name=cloudwatch.RELEASE,
            chart=chart.name,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=args.namespaces.monitoring,
            values=cloudwatch.values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=self._in_cluster(
                depends_on=[self.namespaces[args.namespaces.monitoring], kps, *role.ready]
            ),
        )
        self.cloudwatch_exporter = release

    def _logs(self, kps: pulumi.Resource) -> tuple[list[pulumi.Resource], list[pulumi.Resource]]:
        """ECK, Elasticsearch, Kibana, retention and Fluent Bit; returns what Jaeger needs and
        Kibana (its Ingress waits for it)."""
        args = self._args
        ns = args.namespaces
        key = tls.PrivateKey(
            f"{self._name}-es-ca",
            algorithm="ECDSA",
            ecdsa_curve="P256",
            opts=pulumi.ResourceOptions(parent=self),
        )
        ca = tls.SelfSignedCert(
            f"{self._name}-es-ca",
            private_key_pem=key.private_key_pem,
            is_ca_certificate=True,
            validity_period_hours=CA_VALIDITY_HOURS,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"{args.cluster_name} logs CA"),
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        ca_secret = self._secret(
            "eck-ca",
            ns.elastic_system,
            logging.CA_SECRET,
            {"tls.crt": ca.cert_pem, "tls.key": key.private_key_pem},
        )
        public_ca = [
            self._secret(
                f"es-ca-{namespace}", namespace, logging.PUBLIC_CA_SECRET, {"ca.crt": ca.cert_pem}
            )
            for namespace in (ns.logging, ns.monitoring, ns.agents)
        ]
        operator = self._release(
            ECK_OPERATOR, ns.elastic_system, logging.operator_values(args), [ca_secret]
        )
        passwords = {client: self._password(f"es-{client}") for client in logging.USERS}
        users = [
            self._secret(
                f"es-user-{client}",
                ns.logging,
                logging.user_secret(client),
                {"username": user, "password": passwords[client], "roles": role},
                type="kubernetes.io/basic-auth",
            )
            for client, (user, role) in logging.USERS.items()
        ]
        roles = self._secret(
            "es-roles", ns.logging, logging.ROLES_SECRET, {"roles.yml": logging.roles_yaml()}
        )
        copies = [
            self._secret(
                "fluent-bit-es-password",
                ns.agents,
                f"{logging.FLUENT_BIT_RELEASE}-elasticsearch",
                {"password": passwords["fluent-bit"]},
            ),
            self._secret(
                "jaeger-es-password",
                ns.monitoring,
                "jaeger-elasticsearch",
                {"password": passwords["jaeger"]},
            ),
        ]
        elasticsearch = self._objects(
            {"elasticsearch": logging.elasticsearch(args)},
            after=[operator, *users, roles],
            protect=args.protect,
        )["elasticsearch"]
        # The operator connects Kibana once Elasticsearch is up: only the CRD must exist.
        kibana = self._objects({"kibana": logging.kibana(args)}, after=[operator])["kibana"]
        job = self._objects(
            {"logs-lifecycle": logging.lifecycle_job(args)}, after=[elasticsearch, *public_ca]
        )["logs-lifecycle"]
        self._release(
            FLUENT_BIT, ns.agents, logging.fluent_bit_values(args), [kps, job, *public_ca, *copies]
        )
        return [elasticsearch, *public_ca, *copies], [kibana]
