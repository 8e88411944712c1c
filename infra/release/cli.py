"""Command line: `python -m infra.release {status,deploy,promote,rollback,sync}`.

Every command first takes the release-managed fields of every service from the live stack
(`sync.py`): the tool starts from what runs, never from an older copy of the stack file.
"""

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from components.observability import Namespaces
from components.observability.prometheus import PROMETHEUS_PORT, PROMETHEUS_SERVICE, prometheus_url
from infra.release.actions import Done
from infra.release.adapters.http_smoke import DEFAULT_PREVIEW_URL
from infra.release.deploy import Deployment
from infra.release.gates import OnLatency, OnNoData, Thresholds
from infra.release.model import Color, ConfigError, ExitCode, Service, find_service
from infra.release.ports import Ports, StackConfig
from infra.release.promote import promotion
from infra.release.record import Record
from infra.release.rollback import Rollback
from infra.release.runner import LOG, Machine, run
from infra.release.status import format_status
from infra.release.sync import Drift, reconcile
from infra.release.transitions import DEFAULT_STEPS, Policy

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The in-cluster Prometheus (reachable from a CI runner pod); PROMETHEUS_URL overrides it.
_MONITORING = Namespaces().monitoring
DEFAULT_PROMETHEUS_URL = prometheus_url(_MONITORING)
_PROMETHEUS_HELP = (
    f"Prometheus base URL (env PROMETHEUS_URL, else the in-cluster {DEFAULT_PROMETHEUS_URL}). "
    f"From a laptop: kubectl -n {_MONITORING} port-forward svc/{PROMETHEUS_SERVICE} "
    f"{PROMETHEUS_PORT}, then PROMETHEUS_URL=http://localhost:{PROMETHEUS_PORT}"
)
_HEADLINE = {
    ExitCode.OK: "OK",
    ExitCode.GATE_FAILED: "FAILED",
    ExitCode.USAGE: "ERROR",
    ExitCode.ROLLBACK_FAILED: "!!! ROLLBACK FAILED",
}

Connect = Callable[[argparse.Namespace], Ports]
BranchCheck = Callable[[argparse.Namespace], "str | None"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises ConfigError instead of exiting, so main() owns exit codes."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.prog}: {message}")


def _steps(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected e.g. 10,50,100, got {text!r}") from error


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands share --stack/--service/...)."""
    common = _Parser(add_help=False)
    common.add_argument("--stack", required=True, help="Pulumi stack, e.g. dev")
    common.add_argument("--service", required=True, help="name in platform:services")
    common.add_argument("--namespace", default="apps", help="Kubernetes namespace")
    common.add_argument("--kube-context", help="kubectl context (default: current)")
    common.add_argument("--work-dir", type=Path, default=PROJECT_ROOT, help="Pulumi project dir")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logs (pulumi output)")
    waits = _Parser(add_help=False)
    waits.add_argument("--ready-timeout", type=float, default=600.0, help="seconds (600)")
    waits.add_argument("--poll-interval", type=float, default=10.0, help="seconds (10)")

    parser = _Parser(prog="python -m infra.release", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", parents=[common], help="colours, tags, split, readiness")
    deploy = sub.add_parser("deploy", parents=[common], help="stage a tag on the idle colour")
    deploy.add_argument("--tag", required=True, help="immutable image tag (not 'latest')")
    deploy.add_argument("--color", type=Color, choices=list(Color), help="must be the idle one")
    promote = sub.add_parser("promote", parents=[common, waits], help="gated canary + cut-over")
    promote.add_argument("--steps", type=_steps, default=DEFAULT_STEPS, help="e.g. 10,50,100")
    promote.add_argument("--step-wait", type=float, default=300.0, help="bake seconds (300)")
    promote.add_argument("--window", type=float, help="metrics window seconds (= step-wait)")
    promote.add_argument("--max-error-rate", type=float, default=10.0, help="percent (10)")
    promote.add_argument("--max-p95", type=float, default=2.0, help="seconds (2)")
    promote.add_argument("--on-latency", type=OnLatency, choices=list(OnLatency), default="fail")
    promote.add_argument(
        "--on-no-data", type=OnNoData, choices=list(OnNoData), default="fail-final"
    )
    promote.add_argument(
        "--prometheus-url",
        default=os.environ.get("PROMETHEUS_URL", DEFAULT_PROMETHEUS_URL),
        help=_PROMETHEUS_HELP,
    )
    promote.add_argument("--preview-url", default=DEFAULT_PREVIEW_URL, help="URL template")
    rollback = sub.add_parser("rollback", parents=[common, waits], help="previous colour back")
    rollback.add_argument("--to-tag", help="emergency: put this tag on the idle colour first")
    sync = sub.add_parser(
        "sync", help="write the live colours/tags/splits into the stack file (before a deploy)"
    )
    sync.add_argument("--stack", required=True, help="Pulumi stack, e.g. dev")
    sync.add_argument("--work-dir", type=Path, default=PROJECT_ROOT, help="Pulumi project dir")
    sync.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    return parser


def sync_live_fields(stack: StackConfig) -> list[Drift]:
    """Write every release-managed field where the stack file lags the live stack."""
    drifts = reconcile(stack.read_services(), stack.live_services())  # type: ignore[arg-type]
    for drift in drifts:
        LOG.warning("%s", drift.describe())
        if drift.live_value is None:
            stack.clear_field(drift.index, drift.field)
        else:
            stack.set_field(drift.index, drift.field, drift.live_value)  # type: ignore[arg-type]
    return drifts


def connect(args: argparse.Namespace) -> Ports:
    """Real adapters, imported lazily: only a real run loads the Pulumi SDK."""
    from infra.release.adapters.clock import SystemClock
    from infra.release.adapters.http_smoke import HttpSmoke
    from infra.release.adapters.kubectl import KubectlCluster
    from infra.release.adapters.prometheus import PrometheusMetrics
    from infra.release.adapters.pulumi_stack import AutomationStack

    stack = AutomationStack.select(args.stack, args.work_dir)
    return Ports(
        stack=stack,
        log=stack,
        cluster=KubectlCluster(
            getattr(args, "namespace", "apps"), getattr(args, "kube_context", None)
        ),
        smoke=HttpSmoke(
            getattr(args, "namespace", "apps"), getattr(args, "preview_url", DEFAULT_PREVIEW_URL)
        ),
        metrics=PrometheusMetrics(getattr(args, "prometheus_url", DEFAULT_PROMETHEUS_URL)),
        clock=SystemClock(),
    )


def branch_check(args: argparse.Namespace) -> str | None:
    """Refuse deploy/promote from a branch the stack does not accept (see branches.py)."""
    if args.command not in ("deploy", "promote"):
        return None
    from infra.config import SettingsError
    from infra.release.branches import check_branch

    try:
        return check_branch(args.stack, args.work_dir)
    except SettingsError as error:
        return str(error)


def main(
    argv: Sequence[str] | None = None,
    connect: Connect = connect,
    branch_check: BranchCheck = branch_check,
) -> int:
    """Entry point; returns the process exit code (see ExitCode)."""
    try:
        args = build_parser().parse_args(argv)
    except ConfigError as error:
        return _finish(Done(ExitCode.USAGE, str(error)))
    refusal = branch_check(args)
    if refusal:
        return _finish(Done(ExitCode.USAGE, refusal))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        ports = connect(args)
        drifts = sync_live_fields(ports.stack)
        if args.command == "sync":
            return _finish(Done(ExitCode.OK, f"{len(drifts)} field(s) taken from the live stack"))
        service = find_service(ports.stack.read_services(), args.service)
        record = ports.log.load(service.name)
    except ConfigError as error:
        return _finish(Done(ExitCode.USAGE, str(error)))
    except Exception as error:
        message = f"cannot read stack {args.stack!r} config: {type(error).__name__}: {error}"
        return _finish(Done(ExitCode.USAGE, message))
    if args.command == "status":
        ready = {
            color: ports.cluster.readiness(service.name, color, service.image_ref(color))
            for color in service.tags
        }
        print(format_status(service, record, ready))
        return ExitCode.OK
    try:
        machine = _machine(args, service, record)
    except ConfigError as error:
        return _finish(Done(ExitCode.USAGE, str(error)))
    LOG.info("%s %s on stack %s", args.command, service.name, args.stack)
    return _finish(run(machine, service, ports))


def _machine(args: argparse.Namespace, service: Service, record: Record | None) -> Machine:
    if args.command == "deploy":
        return Deployment(service, record, args.tag, args.color)
    if args.command == "rollback":
        policy = Policy(ready_timeout=args.ready_timeout, poll_interval=args.poll_interval)
        return Rollback(service, record, policy, args.to_tag)
    thresholds = Thresholds(
        max_error_rate=args.max_error_rate / 100,
        max_p95_seconds=args.max_p95,
        on_latency=args.on_latency,
        on_no_data=args.on_no_data,
    )
    policy = Policy(
        steps=args.steps,
        step_wait=args.step_wait,
        window=args.window or args.step_wait,
        thresholds=thresholds,
        ready_timeout=args.ready_timeout,
        poll_interval=args.poll_interval,
    )
    return promotion(service, record, policy)


def _finish(done: Done) -> int:
    """Print the outcome (stderr unless OK) and return its exit code."""
    stream = sys.stdout if done.code is ExitCode.OK else sys.stderr
    print(f"{_HEADLINE[done.code]}: {done.message}", file=stream)
    return int(done.code)
