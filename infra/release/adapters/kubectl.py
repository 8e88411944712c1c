"""Readiness of a colour's Deployment, read with `kubectl get deployment -o json`."""

import json
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

from infra.release.actions import Check
from infra.release.model import Color

Runner = Callable[..., subprocess.CompletedProcess[str]]


class KubectlCluster:
    """`Cluster` port on top of kubectl (current kubeconfig, optional context)."""

    def __init__(
        self, namespace: str, context: str | None = None, run: Runner = subprocess.run
    ) -> None:
        self._namespace = namespace
        self._context = context
        self._run = run

    def readiness(self, service: str, color: Color, image: str) -> Check:
        """Whether Deployment `<service>-<color>` runs `image` and is fully rolled out."""
        args = ["kubectl", "--namespace", self._namespace]
        if self._context:
            args += ["--context", self._context]
        args += ["get", "deployment", f"{service}-{color}", "--output", "json"]
        done = self._run(args, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            return Check(False, f"kubectl failed: {done.stderr.strip()}")
        return deployment_readiness(json.loads(done.stdout), image)


def deployment_readiness(deployment: Mapping[str, Any], image: str) -> Check:
    """Judge a Deployment object: expected image, rollout observed, all replicas ready."""
    name = deployment["metadata"]["name"]
    spec = deployment.get("spec", {})
    status = deployment.get("status", {})
    images = [c.get("image") for c in spec["template"]["spec"]["containers"]]
    if image not in images:
        return Check(False, f"{name} runs {images}, expected {image}")
    desired = spec.get("replicas", 1)
    if desired < 1:
        return Check(False, f"{name} is scaled to 0 replicas")
    if status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 0):
        return Check(False, f"{name} rollout not yet observed by the controller")
    counts = {k: status.get(f"{k}Replicas", 0) for k in ("updated", "ready", "available")}
    if min(counts.values()) < desired or status.get("replicas", 0) > counts["updated"]:
        progress = ", ".join(f"{k} {v}/{desired}" for k, v in counts.items())
        return Check(False, f"{name} rolling out: {progress}")
    return Check(True, f"{name} {counts['ready']}/{desired} ready on {image}")
