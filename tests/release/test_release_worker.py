"""Releasing a worker (`kind: worker`: no Ingress, no ALB weights), through the state machines
and the fake ports: deploy stages at 0 pods, promote scales the candidate up, waits for its
readiness probe, flips and scales the old colour down; rollback is the reverse."""

from __future__ import annotations

import pytest

from infra.release.actions import Apply, Check, CheckReady, ClearField, SetField
from infra.release.model import Color, ExitCode, find_service
from infra.release.promote import Promotion, promotion
from infra.release.record import Phase, Record
from infra.release.status import format_status
from infra.release.transitions import Policy
from infra.release.worker import WorkerPromotion

WORKER = {"name": "api", "kind": "worker", "idleReplicas": 0}


@pytest.fixture
def worker(make_world):
    """blue 1.4.2 runs alone, green (1.5.0) has 0 pods."""
    return make_world(kind="worker", idleReplicas=0, allowPlainHttp=None)


@pytest.fixture
def staged_worker(worker):
    assert worker.deploy("1.6.0").code is ExitCode.OK
    worker.stack.history.clear()
    worker.stack.applies.clear()
    return worker


def test_deploy_stages_the_tag_at_zero_pods(worker):
    done = worker.deploy("1.6.0")

    assert done.code is ExitCode.OK
    assert "deployed 1.6.0 to green (idle, 0 pods); blue (1.4.2) still runs alone" in done.message
    live = worker.stack.live()
    assert live.tags[Color.GREEN] == "1.6.0" and live.idle_replicas == 0
    assert worker.stack.history == ["save staged", "set tags.green=1.6.0", "apply", "save staged"]
    assert worker.stack.load("api") == Record(Phase.STAGED, Color.BLUE, Color.GREEN, "1.6.0", 0)


def test_deploy_scales_down_an_idle_colour_a_hand_written_config_left_running(make_world):
    w = make_world(kind="worker", allowPlainHttp=None)  # no idleReplicas: both colours run
    assert w.deploy("1.6.0").code is ExitCode.OK
    assert w.stack.live().idle_replicas == 0
    assert "set idleReplicas=0" in w.stack.history


def test_promote_scales_up_waits_for_readiness_then_scales_the_old_colour_down(staged_worker):
    w = staged_worker
    w.cluster.not_ready_checks = 2

    done = w.promote()

    assert done.code is ExitCode.OK, done.message
    assert "promoted: green (1.6.0) runs alone; blue (1.4.2) is scaled to 0" in done.message
    first, second = w.stack.applies
    assert "idleReplicas" not in first and first["activeColor"] == "blue"  # both run
    assert second["activeColor"] == "green" and second["idleReplicas"] == 0
    assert w.stack.history == [
        "save scale-up", "clear idleReplicas", "apply", "save scale-up",
        "save flip", "set activeColor=green", "clear trafficSplit", "set idleReplicas=0",
        "apply", "save promoted",
    ]  # fmt: skip
    assert w.clock.sleeps == [10, 10]  # two readiness polls, no bake, no canary steps
    assert w.smoke.calls == 0 and w.metrics.calls == []  # no Service, no request metrics
    assert w.converged_on() is Color.GREEN
    assert w.stack.load("api").phase is Phase.PROMOTED


def test_a_candidate_that_never_gets_ready_is_scaled_back_to_zero(staged_worker):
    w = staged_worker
    w.cluster.bad_tags = {"1.6.0"}

    done = w.promote(Policy(ready_timeout=30, poll_interval=10))

    assert done.code is ExitCode.GATE_FAILED
    assert "gate 'ready' failed: green not ready after 30s" in done.message
    assert "rolled back: blue (1.4.2) runs alone, green (1.6.0) is scaled to 0" in done.message
    live = w.stack.live()
    assert live.active is Color.BLUE and live.idle_replicas == 0
    assert w.stack.load("api").phase is Phase.STAGED
    assert w.clock.sleeps == [10, 10]


def test_rollback_scales_the_previous_colour_up_first_then_the_other_down(staged_worker):
    w = staged_worker
    assert w.promote().code is ExitCode.OK
    w.stack.applies.clear()

    done = w.rollback()

    assert done.code is ExitCode.OK, done.message
    assert "rolled back: blue (1.4.2) runs alone; green (1.6.0) is scaled to 0" in done.message
    first, second = w.stack.applies
    assert "idleReplicas" not in first and first["activeColor"] == "green"
    assert second["activeColor"] == "blue" and second["idleReplicas"] == 0
    assert w.converged_on() is Color.BLUE
    assert w.stack.load("api").phase is Phase.ROLLED_BACK


def test_a_promotion_interrupted_while_scaling_up_resumes(staged_worker):
    w = staged_worker
    w.stack.crash_before = "save flip"
    assert w.crashes(w.promote)
    assert w.stack.load("api").phase is Phase.SCALE_UP

    done = w.promote()

    assert done.code is ExitCode.OK, done.message
    assert w.converged_on() is Color.GREEN and w.stack.live().idle_replicas == 0


def test_rollback_during_an_interrupted_scale_up_scales_the_candidate_down(staged_worker):
    w = staged_worker
    w.stack.crash_before = "save flip"
    assert w.crashes(w.promote)

    done = w.rollback()

    assert done.code is ExitCode.OK, done.message
    assert "rolled back: blue (1.4.2) runs alone (promotion undone)" in done.message
    live = w.stack.live()
    assert live.active is Color.BLUE and live.idle_replicas == 0


def test_a_cut_over_interrupted_before_its_apply_is_finished(staged_worker):
    w = staged_worker
    w.stack.crash_before = "set activeColor=green"
    assert w.crashes(w.promote)
    assert w.stack.load("api").phase is Phase.FLIP

    done = w.promote()

    assert done.code is ExitCode.OK, done.message
    assert w.converged_on() is Color.GREEN and w.stack.live().idle_replicas == 0


def test_a_failed_scale_down_is_loud_and_says_how_to_restore_by_hand(staged_worker):
    w = staged_worker
    w.cluster.bad_tags = {"1.6.0"}
    w.stack.fail_apply = lambda entry: entry.get("idleReplicas") == 0

    done = w.promote(Policy(ready_timeout=10, poll_interval=10))

    assert done.code is ExitCode.ROLLBACK_FAILED
    assert "may not be running from blue alone" in done.message
    assert "pulumi config set --type int --path 'platform:services[0].idleReplicas' 0" in (
        done.message
    )


def test_promote_picks_the_machine_by_kind():
    web = find_service([{"name": "api", "image": "r/api", "tags": {"blue": "1", "green": "2"},
                         "allowPlainHttp": True}], "api")  # fmt: skip
    jobs = find_service([{"name": "api", "image": "r/api", "tags": {"blue": "1", "green": "2"},
                          **WORKER}], "api")  # fmt: skip
    assert jobs.worker and not web.worker
    staged = Record(Phase.STAGED, Color.BLUE, Color.GREEN, "2", 0)
    assert isinstance(promotion(web, staged, Policy()), Promotion)
    machine = promotion(jobs, staged, Policy())
    assert isinstance(machine, WorkerPromotion)
    first = machine.start()
    assert isinstance(first, Apply) and first.changes == (ClearField("idleReplicas"),)
    assert first.intent.phase is Phase.SCALE_UP
    assert isinstance(machine.advance(Check(True)), CheckReady)
    flip = machine.advance(Check(True, "api-green 2/2 ready"))
    assert isinstance(flip, Apply)
    assert SetField("idleReplicas", 0) in flip.changes
    assert SetField("activeColor", Color.GREEN) in flip.changes


def test_status_says_a_worker_runs_a_colour():
    jobs = find_service([{"name": "jobs", "image": "r/jobs", "tags": {"blue": "1", "green": "2"},
                          "kind": "worker", "idleReplicas": 0}], "jobs")  # fmt: skip
    report = format_status(jobs, None, {})
    assert (
        report.splitlines()[0]
        == "service jobs: worker, blue runs (no Ingress: released by scaling)"
    )
