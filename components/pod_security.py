"""The Kubernetes Pod Security Standards as a pure function: what admission would refuse.

`problems(pod_spec, level)` returns one line per control a pod violates at `level`
("privileged", "baseline" or "restricted"), the checks the Pod Security admission controller
runs for the cluster's minor (`KUBERNETES_VERSION`, 1.35: the "latest" policy version).
https://kubernetes.io/docs/concepts/security/pod-security-standards/ lists the controls; the
rules below follow its tables, including the details the tables leave implicit:

* every container is checked: `initContainers`, `containers` and `ephemeralContainers`;
* a container-level field wins over the pod-level one (runAsNonRoot, seccompProfile); a
  pod-level `runAsNonRoot: true` or seccomp profile covers containers that leave it unset;
* `hostUsers: false` (a user namespace) relaxes runAsNonRoot, runAsUser and procMount;
* `spec.os.name: windows` exempts a pod from the Linux-only restricted checks
  (allowPrivilegeEscalation, capabilities, seccomp).

`annotations` are the pod template's (the deprecated AppArmor annotations are still checked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = [
    "APPARMOR_ANNOTATION",
    "APPARMOR_TYPES",
    "BASELINE",
    "BASELINE_CAPABILITIES",
    "CONTROLS",
    "ENFORCE_LABEL",
    "LEVELS",
    "RESTRICTED",
    "RESTRICTED_CAPABILITIES",
    "RESTRICTED_VOLUMES",
    "SAFE_SYSCTLS",
    "SECCOMP_TYPES",
    "SELINUX_TYPES",
    "Check",
    "Spec",
    "containers",
    "problems",
    "template_problems",
]


LEVELS = ("privileged", "baseline", "restricted")
# The namespace label that sets the level admission enforces.
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"

# Capabilities baseline lets a container add (the container runtime's default set).
BASELINE_CAPABILITIES = frozenset(
    {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
     "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
)  # fmt: skip
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# Sysctls baseline allows (namespaced, isolated from other pods), as of Kubernetes 1.32.
SAFE_SYSCTLS = frozenset(
    {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
     "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
     "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
     "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
     "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
)  # fmt: skip
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
# Volume sources restricted allows (every other inline source is refused).
RESTRICTED_VOLUMES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
     "persistentVolumeClaim", "projected", "secret"}
)  # fmt: skip
_CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")

Spec = Mapping[str, Any]
Check = Callable[[Spec, Mapping[str, str]], list[str]]


def containers(pod_spec: Spec) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """("<group>[<name>]", container) for every init, regular and ephemeral container."""
    for group in _CONTAINER_GROUPS:
        for container in pod_spec.get(group) or []:
            yield f"{group}[{container.get('name', '?')}]", container


def _context(container: Mapping[str, Any]) -> Mapping[str, Any]:
    return container.get("securityContext") or {}


def _pod_context(pod_spec: Spec) -> Mapping[str, Any]:
    return pod_spec.get("securityContext") or {}


def _windows(pod_spec: Spec) -> bool:
    return (pod_spec.get("os") or {}).get("name") == "windows"


def _user_namespace(pod_spec: Spec) -> bool:
    return pod_spec.get("hostUsers") is False


def _setters(pod_spec: Spec) -> list[tuple[str, Mapping[str, Any]]]:
    """("pod", its securityContext) and (container, its securityContext) for every container."""
    return [("pod", _pod_context(pod_spec))] + [(w, _context(c)) for w, c in containers(pod_spec)]


def _profiles(pod_spec: Spec, field: str, allowed: frozenset[str]) -> list[str]:
    """A profile (seccomp, AppArmor) the pod or a container sets to a type not `allowed`."""
    setters = _setters(pod_spec)
    return [
        f"{where} sets {field}.type={(context[field] or {}).get('type')}"
        for where, context in setters
        if field in context and (context[field] or {}).get("type") not in allowed
    ]


# -- baseline ---------------------------------------------------------------------------------
def _host_process(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    found = []
    if (_pod_context(pod_spec).get("windowsOptions") or {}).get("hostProcess") is True:
        found.append("pod sets securityContext.windowsOptions.hostProcess=true")
    for where, c in containers(pod_spec):
        if (_context(c).get("windowsOptions") or {}).get("hostProcess") is True:
            found.append(f"{where} sets securityContext.windowsOptions.hostProcess=true")
    return found


def _host_namespaces(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    keys = ("hostNetwork", "hostPID", "hostIPC")
    return [f"pod sets {key}=true" for key in keys if pod_spec.get(key) is True]


def _privileged(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    return [
        f"{where} sets securityContext.privileged=true"
        for where, c in containers(pod_spec)
        if _context(c).get("privileged") is True
    ]


def _capabilities_baseline(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    found = []
    for where, c in containers(pod_spec):
        added = set((_context(c).get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPABILITIES:
            found.append(f"{where} adds capabilities {sorted(added - BASELINE_CAPABILITIES)}")
    return found


def _host_path_volumes(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    return [
        f"volume {v.get('name', '?')} is a hostPath"
        for v in pod_spec.get("volumes") or []
        if "hostPath" in v
    ]


def _host_ports(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    return [
        f"{where} uses hostPort {port['hostPort']}"
        for where, c in containers(pod_spec)
        for port in c.get("ports") or []
        if port.get("hostPort")
    ]


def _app_armor(pod_spec: Spec, annotations: Mapping[str, str]) -> list[str]:
    found = _profiles(pod_spec, "appArmorProfile", APPARMOR_TYPES)
    for key, value in annotations.items():
        allowed = value in ("", "runtime/default") or value.startswith("localhost/")
        if key.startswith(APPARMOR_ANNOTATION) and not allowed:
            found.append(f"annotation {key}={value}")
    return found


def _se_linux(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    found = []
    setters = _setters(pod_spec)
    for where, context in setters:
        options = context.get("seLinuxOptions")
        if options is None:
            continue
        if options.get("type", "") not in SELINUX_TYPES:
            found.append(f"{where} sets seLinuxOptions.type={options['type']}")
        found += [f"{where} sets seLinuxOptions.{k}" for k in ("user", "role") if options.get(k)]
    return found


def _proc_mount(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    return [
        f"{where} sets securityContext.procMount={_context(c)['procMount']}"
        for where, c in containers(pod_spec)
        if _context(c).get("procMount") not in (None, "Default")
    ]


def _proc_mount_baseline(pod_spec: Spec, annotations: Mapping[str, str]) -> list[str]:
    return [] if _user_namespace(pod_spec) else _proc_mount(pod_spec, annotations)


def _seccomp_baseline(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    return _profiles(pod_spec, "seccompProfile", SECCOMP_TYPES)


def _sysctls(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    return [
        f"pod sets sysctl {s.get('name')}"
        for s in _pod_context(pod_spec).get("sysctls") or []
        if s.get("name") not in SAFE_SYSCTLS
    ]


def _host_probes(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    found = []
    for where, c in containers(pod_spec):
        handlers = {p: c.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")}
        lifecycle = c.get("lifecycle") or {}
        handlers |= {f"lifecycle.{h}": lifecycle.get(h) for h in ("postStart", "preStop")}
        for name, handler in handlers.items():
            for action in ("httpGet", "tcpSocket"):
                host = ((handler or {}).get(action) or {}).get("host")
                if host:
                    found.append(f"{where} {name}.{action}.host={host}")
    return found


# -- restricted -------------------------------------------------------------------------------
def _volume_types(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    found = []
    for volume in pod_spec.get("volumes") or []:
        sources = set(volume) - {"name"}
        if not sources & RESTRICTED_VOLUMES:
            kind = "/".join(sorted(sources)) or "volume of no type"
            found.append(f"volume {volume.get('name', '?')} is a {kind}")
    return found


def _privilege_escalation(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    if _windows(pod_spec):
        return []
    return [
        f"{where} must set securityContext.allowPrivilegeEscalation=false"
        for where, c in containers(pod_spec)
        if _context(c).get("allowPrivilegeEscalation") is not False
    ]


def _run_as_non_root(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    if _user_namespace(pod_spec):
        return []
    found = []
    pod_value = _pod_context(pod_spec).get("runAsNonRoot")
    if pod_value is False:
        found.append("pod sets runAsNonRoot=false")
    for where, c in containers(pod_spec):
        value = _context(c).get("runAsNonRoot")
        if value is False:
            found.append(f"{where} sets runAsNonRoot=false")
        elif value is None and pod_value is not True:
            found.append(f"{where} must set runAsNonRoot=true (or the pod must)")
    return found


def _run_as_user(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    if _user_namespace(pod_spec):
        return []
    setters = _setters(pod_spec)
    return [f"{where} sets runAsUser=0" for where, sc in setters if sc.get("runAsUser") == 0]


def _seccomp_restricted(pod_spec: Spec, annotations: Mapping[str, str]) -> list[str]:
    if _windows(pod_spec):
        return []
    found = _seccomp_baseline(pod_spec, annotations)
    pod_set = "seccompProfile" in _pod_context(pod_spec)
    for where, c in containers(pod_spec):
        if "seccompProfile" not in _context(c) and not pod_set:
            found.append(f"{where} must set seccompProfile RuntimeDefault/Localhost (or the pod)")
    return found


def _capabilities_restricted(pod_spec: Spec, _: Mapping[str, str]) -> list[str]:
    if _windows(pod_spec):
        return []
    found = []
    for where, c in containers(pod_spec):
        capabilities = _context(c).get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f'{where} must drop capabilities ["ALL"]')
        added = set(capabilities.get("add") or []) - RESTRICTED_CAPABILITIES
        if added:
            found.append(f"{where} adds capabilities {sorted(added)} (only NET_BIND_SERVICE)")
    return found


# Each level's controls; a restricted control replaces the baseline one it tightens.
BASELINE: dict[str, Check] = {
    "HostProcess": _host_process,
    "Host Namespaces": _host_namespaces,
    "Privileged Containers": _privileged,
    "Capabilities": _capabilities_baseline,
    "HostPath Volumes": _host_path_volumes,
    "Host Ports": _host_ports,
    "Host Probes / Lifecycle Hooks": _host_probes,
    "AppArmor": _app_armor,
    "SELinux": _se_linux,
    "/proc Mount Type": _proc_mount_baseline,
    "Seccomp": _seccomp_baseline,
    "Sysctls": _sysctls,
}
RESTRICTED: dict[str, Check] = {
    **BASELINE,
    "Volume Types": _volume_types,  # hostPath is one of the refused types
    "Privilege Escalation": _privilege_escalation,
    "Running as Non-root": _run_as_non_root,
    "Running as Non-root user": _run_as_user,
    "Seccomp": _seccomp_restricted,
    "Capabilities": _capabilities_restricted,
    "/proc Mount Type": _proc_mount,  # not relaxed by user namespaces at restricted
}
del RESTRICTED["HostPath Volumes"]
CONTROLS: dict[str, dict[str, Check]] = {
    "privileged": {},
    "baseline": BASELINE,
    "restricted": RESTRICTED,
}


def problems(
    pod_spec: Spec, level: str, *, annotations: Mapping[str, str] | None = None
) -> list[str]:
    """Every reason Pod Security admission at `level` would refuse this pod ([] = admitted)."""
    if level not in CONTROLS:
        raise ValueError(f"unknown Pod Security level {level!r}: one of {LEVELS}")
    annotations = annotations or {}
    return [
        f"{control}: {problem}"
        for control, check in CONTROLS[level].items()
        for problem in check(pod_spec, annotations)
    ]


def template_problems(template: Mapping[str, Any], level: str) -> list[str]:
    """`problems` for a pod template ({"metadata": ..., "spec": ...})."""
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return problems(template.get("spec") or {}, level, annotations=annotations)
