"""Metric gates: is a colour's error rate and p95 latency good enough to take more traffic?"""

from dataclasses import dataclass
from enum import StrEnum

from infra.release.actions import Sample


class OnLatency(StrEnum):
    """What a p95 breach (a *warning* in the product brief) does."""

    FAIL = "fail"
    WARN = "warn"


class OnNoData(StrEnum):
    """What a step without samples (no traffic reached the colour) does."""

    FAIL = "fail"  # every step
    PASS = "pass"  # every step (with a warning)
    FAIL_FINAL = "fail-final"  # pass intermediate steps with a warning, fail the final one


@dataclass(frozen=True)
class Thresholds:
    """Gate limits; defaults from the product brief (error rate > 10 % critical, p95 > 2 s)."""

    max_error_rate: float = 0.10
    max_p95_seconds: float = 2.0
    on_latency: OnLatency = OnLatency.FAIL
    on_no_data: OnNoData = OnNoData.FAIL_FINAL


@dataclass(frozen=True)
class Verdict:
    """Outcome of the metric gates for one step.

    `gate` names the failed gate (None when passed); `summary` gives measured values
    against thresholds; `warnings` are breaches that were tolerated by policy.
    """

    gate: str | None
    summary: str
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when no gate failed."""
        return self.gate is None


def judge(sample: Sample, limits: Thresholds, *, final: bool) -> Verdict:
    """Evaluate the error-rate gate, then the latency gate, on one step's sample."""
    notes: list[str] = []
    missing = [
        name
        for name, value in (("error rate", sample.error_rate), ("p95", sample.p95_seconds))
        if value is None
    ]
    if missing:
        message = f"no data for {' and '.join(missing)} (no requests reached the colour)"
        fail = limits.on_no_data is OnNoData.FAIL or (
            limits.on_no_data is OnNoData.FAIL_FINAL and final
        )
        if fail:
            return Verdict("no-data", f"{message}; policy on-no-data={limits.on_no_data}")
        notes.append(f"{message}; tolerated by on-no-data={limits.on_no_data}")
    parts = []
    if sample.error_rate is not None:
        line = f"error rate {sample.error_rate:.2%} (max {limits.max_error_rate:.2%})"
        if sample.error_rate > limits.max_error_rate:
            return Verdict(
                "error-rate",
                f"error rate {sample.error_rate:.2%} > threshold {limits.max_error_rate:.2%}",
                tuple(notes),
            )
        parts.append(line)
    if sample.p95_seconds is not None:
        line = f"p95 {sample.p95_seconds:.3f}s (max {limits.max_p95_seconds:g}s)"
        if sample.p95_seconds > limits.max_p95_seconds:
            breach = (
                f"p95 latency {sample.p95_seconds:.3f}s > threshold {limits.max_p95_seconds:g}s"
            )
            if limits.on_latency is OnLatency.FAIL:
                return Verdict("latency-p95", breach, tuple(notes))
            notes.append(f"{breach}; tolerated by on-latency=warn")
        parts.append(line)
    return Verdict(None, ", ".join(parts) or "no data", tuple(notes))
