"""`BlueGreenService`: registers the manifests of `manifests.py` through the cluster's
kubernetes provider, after `validate` found nothing wrong."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.arguments import require_valid
from components.bluegreen.args import BlueGreenServiceArgs, validate
from components.bluegreen.manifests import build_manifests
from components.kubernetes_objects import register

__all__ = [
    "BlueGreenService",
]


class BlueGreenService(pulumi.ComponentResource):
    """Two coloured Deployments behind stable/preview Services and a weighted ALB Ingress
    (a worker: the two Deployments only).

    Outputs: `stable_service_name`, `preview_service_name`, `ingress_name`, `active_color`,
    `load_balancer_hostname` (the ALB's DNS name once the controller has provisioned it;
    the four names are None for a worker);
    `resources[part]` holds every child by part name (e.g. "deployment-blue").
    """

    def __init__(
        self, name: str, args: BlueGreenServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not isinstance(args.provider, k8s.Provider):
            # Without an explicit provider Pulumi would use the ambient kubeconfig: the wrong
            # cluster is one `kubectl config use-context` away.
            raise ValueError(
                f"BlueGreenService {name}: args.provider must be the cluster's "
                f"kubernetes.Provider, got {args.provider!r}"
            )
        require_valid("BlueGreenService", name, args, lambda: validate(args))
        manifests = build_manifests(args)  # before super().__init__: a bad input registers nothing
        super().__init__("platform:bluegreen:BlueGreenService", name, None, opts)

        self.resources: dict[str, pulumi.CustomResource] = {}
        for part, manifest in manifests.items():
            depends_on: list[pulumi.Resource] = []
            if part.startswith("deployment-"):
                # Pods need their SA, and their role's Pod Identity association: a pod started
                # before it exists gets no AWS credentials until it restarts.
                depends_on = [self.resources["serviceaccount"], *args.identity_ready]
            elif part == "ingress":
                depends_on = [r for p, r in self.resources.items() if p.startswith("service-")]
            self.resources[part] = register(
                f"{name}-{part}",
                manifest,
                pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends_on),
            )

        self.active_color: str = args.active_color
        # A worker has no Services and no Ingress: those outputs are None.
        self.stable_service_name: pulumi.Input[str | None] = self._part_name("service-stable")
        self.preview_service_name: pulumi.Input[str | None] = self._part_name("service-preview")
        self.ingress_name: pulumi.Input[str | None] = self._part_name("ingress")
        ingress = self.resources.get("ingress")
        self.load_balancer_hostname: pulumi.Input[str | None] = (
            ingress.status.apply(_lb_hostname) if ingress is not None else None
        )
        self.register_outputs(
            {
                "stableServiceName": self.stable_service_name,
                "previewServiceName": self.preview_service_name,
                "ingressName": self.ingress_name,
                "activeColor": self.active_color,
                "loadBalancerHostname": self.load_balancer_hostname,
            }
        )

    def _part_name(self, part: str) -> pulumi.Input[str | None]:
        found = self.resources.get(part)
        return found.metadata.apply(lambda m: m.name) if found is not None else None


def _lb_hostname(status: Any) -> str | None:
    ingresses = (status and status.load_balancer and status.load_balancer.ingress) or []
    return ingresses[0].hostname if ingresses else None
