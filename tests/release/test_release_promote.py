"""`promote`: gates in order, canary steps, cut-over, automatic rollback (fakes, fake clock)."""

import logging

import pytest

from infra.release.actions import Sample
from infra.release.gates import OnLatency, OnNoData, Thresholds
from infra.release.model import Color, ExitCode
from infra.release.record import Phase
from infra.release.transitions import Policy

GOOD = Sample(error_rate=0.01, p95_seconds=0.3)
ERRORS = Sample(error_rate=0.20, p95_seconds=0.3)
SLOW = Sample(error_rate=0.01, p95_seconds=2.5)
EMPTY = Sample(error_rate=None, p95_seconds=None)


def policy(steps=(10, 50, 100), **limits) -> Policy:
    return Policy(
        steps=steps,
        step_wait=60,
        window=120,
        thresholds=Thresholds(**limits),
        ready_timeout=30,
        poll_interval=10,
    )


def test_single_step_promotes_and_keeps_old_colour_for_rollback(staged):
    done = staged.promote(policy(steps=(100,)))

    assert done.code is ExitCode.OK, done.message
    assert "promoted: green (1.6.0) serves 100 %" in done.message
    assert staged.converged_on() is Color.GREEN
    assert [a.get("trafficSplit") for a in staged.stack.applies] == [100, None]
    assert staged.stack.load("api").phase is Phase.PROMOTED
    assert staged.metrics.calls == [(Color.GREEN, 120)]
    assert staged.clock.sleeps == [60]


def test_canary_steps_shift_measure_then_flip(staged):
    done = staged.promote(policy())

    assert done.code is ExitCode.OK, done.message
    assert [(a.get("activeColor"), a.get("trafficSplit")) for a in staged.stack.applies] == [
        ("blue", 10),
        ("blue", 50),
        ("blue", 100),
        ("green", None),
    ]
    assert [c for c, _ in staged.metrics.calls] == [Color.GREEN] * 3
    assert staged.clock.sleeps == [60, 60, 60]
    assert staged.converged_on() is Color.GREEN


def test_intent_is_recorded_before_every_change(staged):
    staged.promote(policy(steps=(50,)))

    assert staged.stack.history == [
        "save canary",
        "set trafficSplit=50",
        "apply",
        "save canary",
        "save flip",
        "set activeColor=green",
        "clear trafficSplit",
        "apply",
        "save promoted",
    ]


def test_every_decision_is_logged_with_its_reason(staged, caplog):
    caplog.set_level(logging.INFO, logger="infra.release")
    staged.promote(policy(steps=(10, 100)))

    lines = [r.getMessage() for r in caplog.records]
    assert any("gate 1 (ready)" in line and "because" in line for line in lines)
    assert any("sending 10 % of traffic to green" in line for line in lines)
    assert any("step 10 % passed: error rate 1.00%" in line for line in lines)
    assert any("all gates passed: cutting over" in line for line in lines)


def test_idle_colour_not_ready_yet_is_polled_with_the_fake_clock(staged):
    staged.cluster.not_ready_checks = 2

    done = staged.promote(policy(steps=(100,)))

    assert done.code is ExitCode.OK
    assert staged.clock.sleeps == [10, 10, 60]


def test_idle_colour_never_ready_fails_gate_1_without_touching_traffic(staged):
    staged.cluster.bad_tags = {"1.6.0"}

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'ready' failed: green not ready after 30s" in done.message
    assert "CrashLoopBackOff" in done.message
    assert "no traffic was shifted: blue (1.4.2) still serves 100 %" in done.message
    assert staged.stack.applies == []
    assert staged.smoke.calls == 0
    assert staged.stack.load("api").phase is Phase.STAGED


def test_smoke_failure_fails_gate_2_without_touching_traffic(staged):
    staged.smoke.bad_tags = {"1.6.0"}

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'smoke' failed: green health check failed" in done.message
    assert "HTTP 503" in done.message
    assert staged.stack.applies == []
    assert staged.metrics.calls == []


@pytest.mark.parametrize(("bad_step", "percent"), [(0, 10), (1, 50), (2, 100)])
def test_error_rate_breach_at_any_step_rolls_back(staged, bad_step, percent):
    staged.metrics.script = [GOOD] * bad_step + [ERRORS]

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert (
        f"gate 'error-rate' failed at step {percent} %: green error rate 20.00% > "
        "threshold 10.00%" in done.message
    )
    assert "rolled back: blue (1.4.2) serves 100 %" in done.message
    assert staged.converged_on() is Color.BLUE
    assert len(staged.metrics.calls) == bad_step + 1
    assert staged.stack.load("api").phase is Phase.STAGED
    assert staged.stack.config().tag(Color.GREEN) == "1.6.0"


def test_error_rate_exactly_at_threshold_passes(staged):
    staged.metrics.default = Sample(error_rate=0.10, p95_seconds=0.3)

    assert staged.promote(policy()).code is ExitCode.OK


def test_latency_breach_fails_by_default(staged):
    staged.metrics.script = [GOOD, SLOW]

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'latency-p95' failed at step 50 %: green p95 latency 2.500s > threshold 2s" in (
        done.message
    )
    assert staged.converged_on() is Color.BLUE


def test_latency_breach_only_warns_when_configured(staged, caplog):
    caplog.set_level(logging.INFO, logger="infra.release")
    staged.metrics.default = SLOW

    done = staged.promote(policy(on_latency=OnLatency.WARN))

    assert done.code is ExitCode.OK
    assert any(
        "WARNING: p95 latency 2.500s > threshold 2s" in r.getMessage() for r in caplog.records
    )


def test_thresholds_are_configurable(staged):
    staged.metrics.default = Sample(error_rate=0.20, p95_seconds=2.5)

    done = staged.promote(policy(max_error_rate=0.25, max_p95_seconds=3.0))

    assert done.code is ExitCode.OK


def test_no_data_passes_intermediate_steps_but_fails_the_final_step_by_default(staged):
    staged.metrics.default = EMPTY

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'no-data' failed at step 100 %" in done.message
    assert "no data for error rate and p95" in done.message
    assert len(staged.metrics.calls) == 3
    assert staged.converged_on() is Color.BLUE


@pytest.mark.parametrize(
    ("on_no_data", "code", "measured"),
    [(OnNoData.FAIL, ExitCode.GATE_FAILED, 1), (OnNoData.PASS, ExitCode.OK, 3)],
)
def test_no_data_policy(staged, on_no_data, code, measured):
    staged.metrics.default = EMPTY

    done = staged.promote(policy(on_no_data=on_no_data))

    assert done.code is code
    assert len(staged.metrics.calls) == measured


def test_unreachable_prometheus_fails_the_metrics_gate(staged):
    staged.metrics.script = [ConnectionRefusedError("prometheus:9090 refused")]

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'metrics' failed at step 10 %: could not query metrics" in done.message
    assert staged.converged_on() is Color.BLUE


def test_failed_apply_of_a_step_rolls_back(staged):
    staged.stack.fail_apply = lambda entry: entry.get("trafficSplit") == 50

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'apply' failed at step 50 %: shifting 50 % failed" in done.message
    assert staged.converged_on() is Color.BLUE


def test_failed_cut_over_rolls_back(staged):
    staged.stack.fail_apply = lambda entry: entry["activeColor"] == "green"

    done = staged.promote(policy())

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'apply' failed: cut-over failed" in done.message
    assert staged.converged_on() is Color.BLUE


def test_failed_rollback_exits_3_with_manual_instructions(staged):
    staged.metrics.script = [ERRORS]
    staged.stack.fail_apply = lambda entry: "trafficSplit" not in entry

    done = staged.promote(policy())

    assert done.code is ExitCode.ROLLBACK_FAILED
    assert done.message.startswith("ROLLBACK FAILED — OPERATOR ACTION NEEDED: gate 'error-rate'")
    assert "pulumi config set --path 'platform:services[0].activeColor' blue" in done.message
    assert "pulumi config rm --path 'platform:services[0].trafficSplit'" in done.message


def test_parked_idle_replicas_come_back_with_the_cut_over(make_world):
    w = make_world(idleReplicas=0)
    assert w.deploy("1.6.0").code is ExitCode.OK
    assert w.stack.live().idle_replicas is None  # green runs at full size for the release

    done = w.promote(policy(steps=(100,)))

    assert done.code is ExitCode.OK
    live = w.stack.live()
    assert (live.active, live.idle_replicas) == (Color.GREEN, 0)


def test_nothing_staged_is_a_usage_error(world):
    done = world.promote(policy())

    assert done.code is ExitCode.USAGE
    assert "nothing to promote" in done.message
    assert world.stack.history == []


def test_promote_again_after_success_is_a_no_op(staged):
    assert staged.promote(policy()).code is ExitCode.OK
    staged.stack.history.clear()

    done = staged.promote(policy())

    assert done.code is ExitCode.OK
    assert "already promoted: green (1.6.0) serves 100 %" in done.message
    assert staged.stack.history == []
