"""AWS tag rules (IAM, EC2, S3 and the rest share them): one home for what a tag may hold."""

from __future__ import annotations

__all__ = [
    "MAX_TAG_VALUE",
    "tag_value_problems",
]


MAX_TAG_VALUE = 256
# Besides letters, digits and white space (any language), tags accept only these.
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def tag_value_problems(value: object) -> list[str]:
    """Why `value` cannot be an AWS tag value (too long, or a character AWS refuses)."""
    if not isinstance(value, str):
        return [f"{value!r} is not text"]
    if len(value) > MAX_TAG_VALUE:
        return [f"{len(value)} characters; AWS tag values hold at most {MAX_TAG_VALUE}"]
    bad = sorted({c for c in value if not (c.isalnum() or c.isspace() or c in _TAG_PUNCTUATION)})
    if bad:
        return [
            f"{value!r} has characters AWS tags refuse: {bad}; allowed: letters, digits, "
            "spaces and _ . : / = + - @"
        ]
    return []
