"""`python -m infra.release` through the fakes: exit codes and messages."""

import subprocess
import sys
from pathlib import Path

import pytest

from infra.release.actions import Sample
from infra.release.cli import main
from infra.release.model import Color

ROOT = Path(__file__).resolve().parents[2]
COMMON = ["--stack", "dev", "--service", "api"]
FAST = ["--step-wait", "1", "--ready-timeout", "1", "--poll-interval", "1"]


@pytest.fixture
def cli(world):
    """Run main() against the fake world; `cli.seen` holds the parsed arguments."""
    seen = []

    def connect(args):
        seen.append(args)
        return world.ports

    def invoke(*argv: str) -> int:
        return main(list(argv), connect=connect)

    invoke.seen = seen
    return invoke


def test_status_shows_colours_tags_split_and_readiness(world, cli, capsys):
    code = cli("status", *COMMON)

    out = capsys.readouterr().out
    assert code == 0
    assert "service api: 100 % blue" in out
    assert "active blue (1.4.2)" in out and "ready (api-blue 2/2 ready)" in out
    assert "idle   green (1.5.0)" in out


def test_status_during_a_canary(make_world, capsys):
    w = make_world(trafficSplit=10)

    assert main(["status", *COMMON], connect=lambda args: w.ports) == 0
    assert "90 % blue, 10 % green (canary)" in capsys.readouterr().out


def test_deploy_latest_is_rejected_with_exit_2(world, cli, capsys):
    assert cli("deploy", *COMMON, "--tag", "latest") == 2
    assert "ERROR: image tag 'latest' is not allowed" in capsys.readouterr().err
    assert world.stack.history == []


def test_deploy_onto_active_colour_is_rejected_with_exit_2(world, cli, capsys):
    assert cli("deploy", *COMMON, "--tag", "1.6.0", "--color", "blue") == 2
    assert "refusing to deploy onto the active colour" in capsys.readouterr().err


def test_deploy_then_promote_succeeds_with_exit_0(world, cli, capsys):
    assert cli("deploy", *COMMON, "--tag", "1.6.0") == 0
    assert cli("promote", *COMMON, *FAST, "--steps", "25,100") == 0

    out = capsys.readouterr().out
    assert "OK: promoted: green (1.6.0) serves 100 %" in out
    assert world.converged_on() is Color.GREEN
    assert world.clock.sleeps == [1, 1]


def test_gate_failure_exits_1_naming_gate_value_and_threshold(world, cli, capsys):
    cli("deploy", *COMMON, "--tag", "1.6.0")
    world.metrics.script = [Sample(error_rate=0.2, p95_seconds=0.1)]

    assert cli("promote", *COMMON, *FAST) == 1

    err = capsys.readouterr().err
    assert (
        "FAILED: gate 'error-rate' failed at step 10 %: green error rate 20.00% > threshold "
        "10.00%; rolled back: blue (1.4.2) serves 100 %" in err
    )
    assert world.converged_on() is Color.BLUE


def test_threshold_flags_reach_the_gates(world, cli):
    cli("deploy", *COMMON, "--tag", "1.6.0")
    world.metrics.default = Sample(error_rate=0.2, p95_seconds=2.5)

    code = cli(
        "promote", *COMMON, *FAST, "--max-error-rate", "25", "--max-p95", "3", "--window", "90"
    )

    assert code == 0
    assert {window for _, window in world.metrics.calls} == {90}


def test_latency_warning_flag(world, cli):
    cli("deploy", *COMMON, "--tag", "1.6.0")
    world.metrics.default = Sample(error_rate=0.0, p95_seconds=2.5)

    assert cli("promote", *COMMON, *FAST, "--on-latency", "warn") == 0


def test_failed_rollback_exits_3(world, cli, capsys):
    cli("deploy", *COMMON, "--tag", "1.6.0")
    world.metrics.script = [Sample(error_rate=0.9, p95_seconds=0.1)]
    world.stack.fail_apply = lambda entry: "trafficSplit" not in entry

    assert cli("promote", *COMMON, *FAST) == 3
    assert "!!! ROLLBACK FAILED: ROLLBACK FAILED — OPERATOR ACTION NEEDED" in (
        capsys.readouterr().err
    )


def test_rollback_and_emergency_rollback(world, cli, capsys):
    assert cli("rollback", *COMMON) == 0
    assert world.converged_on() is Color.GREEN
    assert cli("rollback", *COMMON, "--to-tag", "1.4.1", *FAST[2:]) == 0
    assert world.stack.live().tag(Color.BLUE) == "1.4.1"
    assert world.converged_on() is Color.BLUE


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["promote", *COMMON, "--steps", "50,10"], "--steps must be increasing"),
        (["promote", *COMMON, "--steps", "ten"], "expected e.g. 10,50,100"),
        (["promote", "--service", "api"], "the following arguments are required: --stack"),
        (["deploy", *COMMON], "--tag"),
        (["promote", "--stack", "dev", "--service", "web"], "service 'web' not found"),
        (["explode", *COMMON], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(cli, capsys, argv, message):
    assert cli(*argv) == 2
    assert message in capsys.readouterr().err


def test_unreadable_stack_exits_2(capsys):
    def connect(args):
        raise FileNotFoundError("pulumi: command not found")

    assert main(["status", *COMMON], connect=connect) == 2
    assert "cannot read stack 'dev' config: FileNotFoundError" in capsys.readouterr().err


def test_common_options_reach_the_adapters(cli):
    cli("status", *COMMON, "--namespace", "shop", "--kube-context", "prod-eks")

    args = cli.seen[-1]
    assert (args.namespace, args.kube_context, args.work_dir) == ("shop", "prod-eks", ROOT)


def test_module_entry_point_runs_and_reports_usage_errors():
    help_run = subprocess.run(
        [sys.executable, "-m", "infra.release", "promote", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    bad_run = subprocess.run(
        [sys.executable, "-m", "infra.release", "deploy", "--stack", "dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert help_run.returncode == 0
    assert "--on-no-data" in help_run.stdout
    assert bad_run.returncode == 2
    assert "required" in bad_run.stderr
