"""Kubernetes' own rules for names, labels and quantities (pure; one home for each).

Used by every component that writes Kubernetes objects and by the settings layer, so a bad
name fails when the config is read, not when the API server refuses the object mid-`up`.
"""

from __future__ import annotations

import re

__all__ = [
    "DNS_1035_LABEL",
    "DNS_1123_LABEL",
    "DNS_SUBDOMAIN",
    "MAX_LABEL",
    "MAX_SUBDOMAIN",
    "MEBIBYTE",
    "label_problems",
    "meaning_problems",
    "node_label_problems",
    "pod_security_labels",
    "quantity",
    "quantity_problems",
    "resource_problems",
    "service_name_problems",
    "subdomain_problems",
]


# RFC 1123 label (namespaces, most object names) and RFC 1035 label (Services: letter first).
DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
MAX_LABEL = 63
MAX_SUBDOMAIN = 253
# Label values: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends, or empty.
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
# A Kubernetes quantity (apimachinery `resource.Quantity`): a signed decimal number (`1`,
# `1.5`, `.5`, `5.`) and one suffix: binary SI (Ki..Ei), decimal SI (m, k, M, G, T, P, E) or
# a decimal exponent (`e3`, `E-2`).
_QUANTITY = re.compile(
    r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?"
)
_SCALE = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_BINARY = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
MEBIBYTE = 2.0**20


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
    """A Kubernetes quantity ('250m', '512Mi', '1', '129e6', '.5') as a number, or None if it
    is not one Kubernetes would accept."""
    match = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return None
    number, suffix, exponent = match.groups()
    scale = 10.0 ** int(exponent) if exponent is not None else _SCALE[suffix]
    return float(number) * scale


def _suffix(value: str) -> str | None:
    match = _QUANTITY.fullmatch(value)
    return match.group(2) if match else None


def meaning_problems(kind: str, value: str) -> list[str]:
    """A quantity Kubernetes accepts that no operator means: memory in milli-units ('512m'
    is half a byte), memory without a unit below a MiB ('512' is 512 bytes), CPU in binary
    units ('1Ki' is 1024 cores), CPU finer than a millicore (rounded up to 1m)."""
    amount, suffix = quantity(value), _suffix(value)
    if amount is None:
        return []
    if kind == "memory":
        if suffix == "m":
            return [f"memory {value!r} is in milli-units ({amount:g} bytes): did you mean "
                    f"{value[:-1]}Mi?"]  # fmt: skip
        if amount < MEBIBYTE:
            return [f"memory {value!r} is {amount:g} bytes: write a unit, e.g. {value}Mi"]
    if kind == "cpu":
        if suffix in _BINARY:
            return [f"cpu {value!r} is in binary units ({amount:g} cores): use cores or "
                    "millicores, e.g. '1' or '500m'"]  # fmt: skip
        if 0 < amount < 1e-3:
            return [f"cpu {value!r} is finer than a millicore (Kubernetes rounds it up to 1m)"]
    return []


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
        else:
            problems += [(label, p) for p in meaning_problems(kind, value)]  # type: ignore[arg-type]
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
