"""Kubernetes' own rules for names, labels and quantities (pure; one home for each).

Used by every component that writes Kubernetes objects and by the settings layer, so a bad
name fails when the config is read, not when the API server refuses the object mid-`up`.
"""

from __future__ import annotations

import re

# RFC 1123 label (namespaces, most object names) and RFC 1035 label (Services: letter first).
DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
MAX_LABEL = 63
MAX_SUBDOMAIN = 253
# Label values: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends, or empty.
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?")
_SCALE = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def label_problems(value: object) -> list[str]:
    """Why `value` cannot be an RFC 1123 label (namespace, object name)."""
    if not isinstance(value, str) or not DNS_1123_LABEL.fullmatch(value) or len(value) > 63:
        return [f"{value!r} is not a DNS-1123 label (lowercase letters, digits, '-'; at most 63)"]
    return []


def service_name_problems(value: object, max_length: int = MAX_LABEL) -> list[str]:
    """Why `value` cannot name a Kubernetes Service (RFC 1035: a letter first)."""
    if not isinstance(value, str) or not DNS_1035_LABEL.fullmatch(value):
        return [f"{value!r} is not an RFC 1035 label (lowercase letter first, then a-z, 0-9, '-')"]
    if len(value) > max_length:
        return [f"{value!r} is longer than {max_length} characters"]
    return []


def subdomain_problems(value: object) -> list[str]:
    """Why `value` cannot be a DNS-1123 subdomain (ConfigMap names, hostnames)."""
    ok = isinstance(value, str) and bool(DNS_SUBDOMAIN.fullmatch(value))
    if not ok or len(value) > MAX_SUBDOMAIN:
        return [f"{value!r} is not a DNS subdomain (lowercase labels separated by '.')"]
    return []


def node_label_problems(key: object, value: object) -> list[str]:
    """Why `key: value` cannot be a Kubernetes label (optional `prefix/`, name, value)."""
    problems = []
    if not isinstance(key, str) or not key:
        return [f"label key {key!r} is empty or not text"]
    prefix, _, name = key.rpartition("/")
    if prefix and subdomain_problems(prefix):
        problems.append(f"label key {key!r}: prefix {prefix!r} is not a DNS subdomain")
    if not _LABEL_NAME.fullmatch(name):
        problems.append(
            f"label key {key!r}: name must be 1..63 of [A-Za-z0-9-_.], alphanumeric at both ends"
        )
    if not isinstance(value, str) or not _LABEL_VALUE.fullmatch(value):
        problems.append(
            f"label {key!r} value {value!r}: at most 63 of [A-Za-z0-9-_.], alphanumeric at both "
            "ends, or empty"
        )
    return problems


def quantity(value: object) -> float | None:
    """A Kubernetes quantity ('250m', '512Mi', '1') as a number, or None if it is not one."""
    match = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    return float(match.group(1)) * _SCALE[match.group(2)] if match else None


def resource_problems(kind: str, request: object, limit: object) -> list[str]:
    """Why a CPU or memory request/limit pair is invalid (words, zero, request above limit)."""
    return [problem for _, problem in quantity_problems(kind, request, limit)]


def quantity_problems(kind: str, request: object, limit: object) -> list[tuple[str, str]]:
    """(`request` | `limit` | `both`, why) for a CPU or memory request/limit pair: not a
    quantity, zero, request above limit."""
    problems = []
    for label, value in (("request", request), ("limit", limit)):
        amount = quantity(value)
        if amount is None or amount <= 0:
            problems.append(
                (
                    label,
                    f"{kind} {label} {value!r} is not a positive Kubernetes quantity (e.g. "
                    "'250m', '512Mi')",
                )
            )
    if not problems and quantity(request) > quantity(limit):  # type: ignore[operator]
        problems.append(("both", f"{kind} request {request!r} is above its limit {limit!r}"))
    return problems


def pod_security_labels(level: str) -> dict[str, str]:
    """Namespace labels enforcing Pod Security `level`, warning and auditing at `restricted`
    (so anything short of restricted is visible even where it is allowed)."""
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
