"""components.pod_security against the Pod Security Standards' own tables.

https://kubernetes.io/docs/concepts/security/pod-security-standards/ lists, per control, the
restricted fields and their allowed values. Each row below is one condition from that page:
a pod that breaks it (refused at that level and above, admitted below), or a value the page
allows (admitted). The compliant pod of each level is the starting point, so every row
changes exactly one thing.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components import pod_security
from components.pod_security import problems

# The default, minimally specified pod is what baseline is defined to admit.
BASELINE_POD: dict[str, Any] = {"containers": [{"name": "app", "image": "app:1"}]}
# restricted: non-root, RuntimeDefault seccomp, no privilege escalation, every capability
# dropped, only the volume types it allows.
RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "app:1",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}
HARDENED = RESTRICTED_POD["containers"][0]["securityContext"]


def changed(base: dict, *changes: tuple[str, Any]) -> dict:
    """A copy of `base` with each dotted path set (`containers.0.x`: list index)."""
    pod = copy.deepcopy(base)
    for path, value in changes:
        node: Any = pod
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if value is DELETE:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return pod


DELETE = object()
C = "containers.0.securityContext"

# (id, the control the page names, the change to the baseline pod)
BASELINE_VIOLATIONS = [
    ("hostprocess-pod", "HostProcess", ("securityContext.windowsOptions", {"hostProcess": True})),
    ("hostprocess-container", "HostProcess", (f"{C}.windowsOptions", {"hostProcess": True})),
    ("host-network", "Host Namespaces", ("hostNetwork", True)),
    ("host-pid", "Host Namespaces", ("hostPID", True)),
    ("host-ipc", "Host Namespaces", ("hostIPC", True)),
    ("privileged", "Privileged Containers", (f"{C}.privileged", True)),
    ("capability-sys-admin", "Capabilities", (f"{C}.capabilities", {"add": ["SYS_ADMIN"]})),
    ("capability-net-raw", "Capabilities", (f"{C}.capabilities", {"add": ["NET_RAW"]})),
    ("host-path", "HostPath Volumes", ("volumes", [{"name": "h", "hostPath": {"path": "/"}}])),
    ("host-port", "Host Ports", ("containers.0.ports", [{"containerPort": 80, "hostPort": 80}])),
    (
        "probe-host",
        "Host Probes",
        ("containers.0.livenessProbe", {"httpGet": {"port": 80, "host": "169.254.169.254"}}),
    ),
    (
        "prestop-host",
        "Host Probes",
        ("containers.0.lifecycle", {"preStop": {"tcpSocket": {"port": 80, "host": "10.0.0.1"}}}),
    ),
    ("apparmor-pod", "AppArmor", ("securityContext.appArmorProfile", {"type": "Unconfined"})),
    ("apparmor-container", "AppArmor", (f"{C}.appArmorProfile", {"type": "Unconfined"})),
    ("selinux-type", "SELinux", ("securityContext.seLinuxOptions", {"type": "spc_t"})),
    ("selinux-user", "SELinux", (f"{C}.seLinuxOptions", {"user": "system_u"})),
    ("selinux-role", "SELinux", (f"{C}.seLinuxOptions", {"role": "object_r"})),
    ("proc-mount", "/proc Mount Type", (f"{C}.procMount", "Unmasked")),
    ("seccomp-pod", "Seccomp", ("securityContext.seccompProfile", {"type": "Unconfined"})),
    ("seccomp-container", "Seccomp", (f"{C}.seccompProfile", {"type": "Unconfined"})),
    ("sysctl", "Sysctls", ("securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}])),
]
# Values the page allows at baseline.
BASELINE_ALLOWED = [
    ("default-capabilities", (f"{C}.capabilities", {"add": ["CHOWN", "NET_BIND_SERVICE"]})),
    ("host-port-zero", ("containers.0.ports", [{"containerPort": 80, "hostPort": 0}])),
    ("apparmor-runtime-default", ("securityContext.appArmorProfile", {"type": "RuntimeDefault"})),
    (
        "apparmor-localhost",
        (f"{C}.appArmorProfile", {"type": "Localhost", "localhostProfile": "p"}),
    ),
    (
        "selinux-container-type",
        (f"{C}.seLinuxOptions", {"type": "container_init_t", "level": "s0:c1"}),
    ),
    ("proc-mount-default", (f"{C}.procMount", "Default")),
    (
        "seccomp-localhost",
        ("securityContext.seccompProfile", {"type": "Localhost", "localhostProfile": "p.json"}),
    ),
    (
        "safe-sysctl",
        (
            "securityContext.sysctls",
            [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}],
        ),
    ),
    ("privileged-false", (f"{C}.privileged", False)),
]

# (id, control, changes to the restricted pod): each is admitted by baseline.
RESTRICTED_VIOLATIONS = [
    (
        "volume-nfs",
        "Volume Types",
        [("volumes", [{"name": "n", "nfs": {"server": "s", "path": "/"}}])],
    ),
    (
        "volume-ebs",
        "Volume Types",
        [("volumes", [{"name": "e", "awsElasticBlockStore": {"volumeID": "vol-1"}}])],
    ),
    (
        "volume-git-repo",
        "Volume Types",
        [("volumes", [{"name": "g", "gitRepo": {"repository": "r"}}])],
    ),
    ("escalation-unset", "Privilege Escalation", [(f"{C}.allowPrivilegeEscalation", DELETE)]),
    ("escalation-true", "Privilege Escalation", [(f"{C}.allowPrivilegeEscalation", True)]),
    ("non-root-unset", "Running as Non-root", [("securityContext.runAsNonRoot", DELETE)]),
    (
        "non-root-pod-false",
        "Running as Non-root",
        [("securityContext.runAsNonRoot", False), (f"{C}.runAsNonRoot", True)],
    ),
    ("non-root-container-overrides-pod", "Running as Non-root", [(f"{C}.runAsNonRoot", False)]),
    ("uid-0-pod", "Running as Non-root user", [("securityContext.runAsUser", 0)]),
    ("uid-0-container", "Running as Non-root user", [(f"{C}.runAsUser", 0)]),
    ("seccomp-unset", "Seccomp", [("securityContext.seccompProfile", DELETE)]),
    ("no-drop-all", "Capabilities", [(f"{C}.capabilities", {"drop": ["NET_RAW"]})]),
    ("no-capabilities", "Capabilities", [(f"{C}.capabilities", DELETE)]),
    ("add-chown", "Capabilities", [(f"{C}.capabilities", {"drop": ["ALL"], "add": ["CHOWN"]})]),
    # Every container counts, not just the first: an init and an ephemeral one unhardened.
    (
        "init-container",
        "Privilege Escalation",
        [("initContainers", [{"name": "init", "image": "i:1"}])],
    ),
    (
        "ephemeral-container",
        "Capabilities",
        [
            (
                "ephemeralContainers",
                [
                    {
                        "name": "debug",
                        "image": "d:1",
                        "securityContext": {"allowPrivilegeEscalation": False},
                    }
                ],
            )
        ],
    ),
    # A user namespace relaxes /proc at baseline, not at restricted.
    (
        "proc-mount-user-namespace",
        "/proc Mount Type",
        [("hostUsers", False), (f"{C}.procMount", "Unmasked")],
    ),
]
RESTRICTED_ALLOWED = [
    ("net-bind-service", [(f"{C}.capabilities", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})]),
    (
        "allowed-volumes",
        [
            (
                "volumes",
                [
                    {"name": "a", "configMap": {"name": "c"}},
                    {"name": "b", "secret": {"secretName": "s"}},
                    {"name": "c", "downwardAPI": {}},
                    {"name": "d", "projected": {"sources": []}},
                    {"name": "e", "csi": {"driver": "d"}},
                    {"name": "f", "persistentVolumeClaim": {"claimName": "p"}},
                    {"name": "g", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                    {"name": "h", "image": {"reference": "data:1"}},
                ],
            )
        ],
    ),
    # Container-level values stand in for pod-level ones.
    (
        "container-level-non-root-and-seccomp",
        [
            ("securityContext", DELETE),
            (
                C,
                {
                    **HARDENED,
                    "runAsNonRoot": True,
                    "seccompProfile": {"type": "Localhost", "localhostProfile": "p"},
                },
            ),
        ],
    ),
    ("non-zero-uid", [("securityContext.runAsUser", 65534), (f"{C}.runAsUser", 1000)]),
    # In a user namespace (1.35) root inside the pod is not root on the node.
    (
        "user-namespace-root",
        [
            ("hostUsers", False),
            ("securityContext.runAsNonRoot", DELETE),
            ("securityContext.runAsUser", 0),
        ],
    ),
    # Windows pods are exempt from the Linux-only controls.
    (
        "windows",
        [
            ("os", {"name": "windows"}),
            ("securityContext.seccompProfile", DELETE),
            (f"{C}.capabilities", DELETE),
            (f"{C}.allowPrivilegeEscalation", DELETE),
        ],
    ),
]


def test_the_compliant_pods_are_admitted():
    assert problems(BASELINE_POD, "baseline") == []
    assert problems(RESTRICTED_POD, "restricted") == []
    # The default pod is baseline but not restricted: restricted really asks for more.
    assert problems(BASELINE_POD, "restricted")


@pytest.mark.parametrize(
    "control, change", [v[1:] for v in BASELINE_VIOLATIONS], ids=[v[0] for v in BASELINE_VIOLATIONS]
)
def test_each_baseline_condition_is_refused_at_baseline_and_restricted(control, change):
    pod = changed(BASELINE_POD, change)
    assert problems(pod, "privileged") == []
    assert any(p.startswith(control) for p in problems(pod, "baseline"))
    # Restricted refuses it too, even when everything else restricted asks for is there (a
    # hostPath is then one of the volume types it refuses).
    control = {"HostPath Volumes": "Volume Types"}.get(control, control)
    for candidate in (pod, changed(RESTRICTED_POD, change)):
        assert any(p.startswith(control) for p in problems(candidate, "restricted"))


@pytest.mark.parametrize(
    "change", [a[1] for a in BASELINE_ALLOWED], ids=[a[0] for a in BASELINE_ALLOWED]
)
def test_values_the_standard_allows_are_admitted_at_baseline(change):
    assert problems(changed(BASELINE_POD, change), "baseline") == []


@pytest.mark.parametrize(
    "control, changes",
    [v[1:] for v in RESTRICTED_VIOLATIONS],
    ids=[v[0] for v in RESTRICTED_VIOLATIONS],
)
def test_each_restricted_condition_is_refused_only_at_restricted(control, changes):
    pod = changed(RESTRICTED_POD, *changes)
    assert problems(pod, "baseline") == []
    found = problems(pod, "restricted")
    assert any(p.startswith(control) for p in found), found


@pytest.mark.parametrize(
    "changes", [a[1] for a in RESTRICTED_ALLOWED], ids=[a[0] for a in RESTRICTED_ALLOWED]
)
def test_values_the_standard_allows_are_admitted_at_restricted(changes):
    assert problems(changed(RESTRICTED_POD, *changes), "restricted") == []


def test_a_host_path_is_refused_once_at_restricted():
    """Volume Types replaces HostPath Volumes at restricted (one reason, not two)."""
    pod = changed(RESTRICTED_POD, ("volumes", [{"name": "h", "hostPath": {"path": "/"}}]))
    assert problems(pod, "restricted") == ["Volume Types: volume h is a hostPath"]


def test_apparmor_annotations_are_still_checked():
    key = f"{pod_security.APPARMOR_ANNOTATION}app"
    assert problems(BASELINE_POD, "baseline", annotations={key: "unconfined"})
    for allowed in ("runtime/default", "localhost/custom", ""):
        assert problems(BASELINE_POD, "baseline", annotations={key: allowed}) == []


def test_a_problem_names_the_container():
    pod = changed(RESTRICTED_POD, ("initContainers", [{"name": "migrate", "image": "m:1"}]))
    assert any("initContainers[migrate]" in p for p in problems(pod, "restricted"))


def test_pod_templates_are_checked_with_their_annotations():
    key = f"{pod_security.APPARMOR_ANNOTATION}app"
    template = {"metadata": {"annotations": {key: "unconfined"}}, "spec": BASELINE_POD}
    assert pod_security.template_problems(template, "baseline")


def test_an_unknown_level_is_an_error():
    with pytest.raises(ValueError, match="unknown Pod Security level"):
        problems(BASELINE_POD, "strict")
