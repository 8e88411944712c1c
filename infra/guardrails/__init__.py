"""The platform's guardrails: one rule set (`rules.py`), two entry points — `make plan`
(offline, on the recording) and the CrossGuard pack (`pack.py`, run by `policy/`)."""

from infra.guardrails.rules import (
    RULES,
    Resource,
    Rule,
    Stack,
    Violation,
    evaluate,
    from_recording,
)

__all__ = ["RULES", "Resource", "Rule", "Stack", "Violation", "evaluate", "from_recording"]
