"""A blue-green (and canary) application service on EKS behind an AWS ALB.

    args.py       BlueGreenServiceArgs and the rules it follows (shared with settings and the
                  release tool)
    manifests.py  pure builders of every Kubernetes object (schema-checked in tests)
    component.py  BlueGreenService, which registers them

Imports go one way: args <- manifests <- component.

How the two colours stay stable across a promotion:

* The Deployments are always `<svc>-blue` and `<svc>-green`, each selecting
  `{app: <svc>, color: <colour>}`. The *active* colour appears in no Deployment name,
  selector or template, so flipping `active_color` never replaces or restarts a Deployment;
  with `idle_replicas=None` it changes exactly three objects: the stable Service `<svc>`
  selector, the preview Service `<svc>-preview` selector and the ALB weight annotation.
* Releasing a version means: set the idle colour's tag (only that Deployment rolls), test it
  through `<svc>-preview`, flip `active_color` (or canary first with `traffic_split`).
  The previous colour keeps its pods during the rollback window; rollback is flipping back.

Idle colour scaled to zero (`idle_replicas=0`): that Deployment gets `replicas: 0`, and it
has no HPA (an HPA with `minReplicas: 0` needs the alpha HPAScaleToZero gate, and an HPA
would scale the colour straight back up) and no PodDisruptionBudget (nothing to protect).
When autoscaling is on and such a colour becomes active again, `replicas` leaves the
manifest, server-side apply drops it, the Deployment defaults to 1 and the new HPA scales to
its minimum. So a release must first scale the idle colour up (`idle_replicas=None`), wait
for it to be ready and only then flip `active_color`; flipping onto a colour that has zero
pods would send all traffic to nothing. This component cannot enforce that ordering (it does
not know the previous state); the release tooling must.
"""

from components.bluegreen.args import (
    COLORS,
    BlueGreenServiceArgs,
    ContainerResources,
    validate,
)
from components.bluegreen.component import BlueGreenService

__all__ = [
    "COLORS",
    "BlueGreenService",
    "BlueGreenServiceArgs",
    "ContainerResources",
    "validate",
]
