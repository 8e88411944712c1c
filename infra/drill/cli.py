"""Command line: `python -m infra.drill {restore {database,bucket,cache},verify,report,cleanup}`.

Every command takes `--state drill-<id>.json` (the drill's record) and the stack's outputs
(`--outputs outputs.json` from `pulumi stack output --json`, or `--stack <name>` to run that).
"""

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from infra.drill import outputs as stack_outputs
from infra.drill import report
from infra.drill.bucket import BucketRequest, restore_bucket
from infra.drill.cache import restore_cache
from infra.drill.cleanup import cleanup
from infra.drill.database import DatabaseRequest, restore_database
from infra.drill.model import (
    DrillError,
    ExitCode,
    Kind,
    Resource,
    drill_id_problems,
    iso,
    new_drill_id,
    parse_time,
)
from infra.drill.phases import Command, refusal
from infra.drill.ports import Ports
from infra.drill.record import DrillRecord, Restore, StateFile
from infra.drill.session import LOG, Policy, Session
from infra.drill.verify import ProbeRequest, summary, verify

PROJECT_ROOT = Path(__file__).resolve().parents[2]
Connect = Callable[[argparse.Namespace], Ports]


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns the exit codes."""

    def error(self, message: str) -> NoReturn:
        raise DrillError(f"{self.prog}: {message}")


def _resource(text: str) -> Resource:
    """`rds-cluster:name[@region]` as named on the command line."""
    kind, _, rest = text.partition(":")
    identifier, _, region = rest.partition("@")
    try:
        return Resource(Kind(kind), region, identifier)
    except ValueError as error:
        kinds = ", ".join(k.value for k in Kind)
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected <kind>:<id>[@region], kind one of {kinds}"
        ) from error


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--state", type=Path, required=True, help="the drill record, e.g. drill-<id>.json"
    )
    source = common.add_mutually_exclusive_group(required=True)
    source.add_argument("--outputs", type=Path, help="`pulumi stack output --json` saved to a file")
    source.add_argument("--stack", help="run `pulumi stack output --json` for this stack")
    common.add_argument("--drill-id", help="id of a new drill (default: the UTC minute)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    waits = _Parser(add_help=False)
    waits.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds a restore may take (3600)"
    )
    waits.add_argument("--poll-interval", type=float, default=30.0, help="seconds (30)")

    parser = _Parser(prog="python -m infra.drill", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    restore = sub.add_parser("restore", help="restore a copy into new resources")
    what = restore.add_subparsers(dest="what", required=True)
    database = what.add_parser(
        "database", parents=[common, waits], help="Aurora into a new cluster"
    )
    point = database.add_mutually_exclusive_group(required=True)
    point.add_argument("--to", help="ISO time, or `latest` (the cluster's LatestRestorableTime)")
    point.add_argument(
        "--from-copy", action="store_true", help="the newest cross-region backup copy"
    )
    database.add_argument(
        "--instance-class", help="default: the source writer's (db.serverless on v2)"
    )
    bucket = what.add_parser("bucket", parents=[common], help="a prefix back to a point in time")
    bucket.add_argument("--bucket", required=True, help="bucket purpose (a key of bucketNames)")
    bucket.add_argument("--to", required=True, help="ISO time")
    bucket.add_argument("--prefix", default="", help="key prefix (default: the whole bucket)")
    bucket.add_argument("--into", help="scratch bucket (created if missing) instead of in place")
    cache = what.add_parser(
        "cache", parents=[common, waits], help="newest snapshot into a new group"
    )
    cache.add_argument("--snapshot", choices=["latest"], default="latest", help="which snapshot")
    check = sub.add_parser("verify", parents=[common], help="check the copies; optional probes")
    check.add_argument("--sql-probe", help="command run (no shell) with DRILL_DB_ENDPOINT etc.")
    check.add_argument("--http-probe", help="URL that must answer 2xx")
    check.add_argument("--probe-timeout", type=float, default=60.0, help="seconds (60)")
    show = sub.add_parser("report", parents=[common], help="RTO/RPO against the targets")
    show.add_argument("--json", action="store_true", help="JSON instead of the table")
    clean = sub.add_parser("cleanup", parents=[common], help="delete what the drill created")
    clean.add_argument(
        "--also",
        type=_resource,
        action="append",
        default=[],
        help="also delete <kind>:<id>[@region] (refused unless it carries the drill's tag)",
    )
    return parser


def connect(args: argparse.Namespace) -> Ports:
    """Real adapters, imported lazily (boto3 loads only for a real run)."""
    from infra.drill.adapters.aws import Boto3Cloud
    from infra.drill.adapters.system import SystemClock, SystemProbes

    return Ports(cloud=Boto3Cloud(), clock=SystemClock(), probes=SystemProbes())


def read_outputs(args: argparse.Namespace) -> stack_outputs.StackOutputs:
    """From the file, or through the Pulumi CLI."""
    if args.outputs is not None:
        return stack_outputs.load(args.outputs)
    from infra.drill.adapters.system import pulumi_outputs

    try:
        return stack_outputs.parse(json.loads(pulumi_outputs(args.stack, str(PROJECT_ROOT))))
    except (RuntimeError, ValueError, OSError) as error:
        raise DrillError(f"cannot read the outputs of stack {args.stack}: {error}") from error


def main(argv: Sequence[str] | None = None, connect: Connect = connect) -> int:
    """Entry point; returns the process exit code (see ExitCode)."""
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(message)s",
        )
        ports = connect(args)
        outputs = read_outputs(args)
        state = StateFile(args.state)
        record = _record(state, args, outputs.environment, ports)
        command = Command(args.command)
        if reason := refusal(record, command):
            raise DrillError(reason)
        session = Session(
            ports, outputs, state, record or DrillRecord(args.drill_id, outputs.environment)
        )
        return _run(args, session)
    except DrillError as error:
        return _finish(error.code, str(error))
    except Exception as error:  # an AWS error mid-run: the record names what was created
        LOG.debug("unexpected error", exc_info=True)
        return _finish(
            ExitCode.FAILED,
            f"{type(error).__name__}: {error}. What the drill may have created is recorded in "
            "the state file: run `cleanup` with it.",
        )


def _record(
    state: StateFile, args: argparse.Namespace, stack: str, ports: Ports
) -> DrillRecord | None:
    record = state.load()
    if record is not None:
        if args.drill_id and args.drill_id != record.drill_id:
            raise DrillError(
                f"{state.path} is drill {record.drill_id}, not --drill-id {args.drill_id}"
            )
        if record.stack != stack:
            raise DrillError(
                f"{state.path} is a drill of stack {record.stack}, the outputs are {stack}'s"
            )
        args.drill_id = record.drill_id
        return record
    args.drill_id = args.drill_id or new_drill_id(ports.clock.now())
    if problems := drill_id_problems(args.drill_id):
        raise DrillError(problems[0])
    return None


def _run(args: argparse.Namespace, session: Session) -> int:
    if args.command == "restore":
        restored = _restore(args, session)
        return _finish(
            ExitCode.OK, f"{restored.kind} copy {restored.target} ready\n{_timestamps(restored)}"
        )
    if args.command == "verify":
        record = verify(session, ProbeRequest(args.sql_probe, args.http_probe, args.probe_timeout))
        print(summary(record.checks))
        if record.verify_ok:
            return _finish(ExitCode.OK, f"every check passed at {iso(record.verified_at)}")
        return _finish(ExitCode.FAILED, f"{sum(not c.ok for c in record.checks)} check(s) failed")
    if args.command == "report":
        print(report.as_json(session.record) if args.json else report.as_table(session.record))
        return int(report.exit_code(session.record))
    outcome = cleanup(session, tuple(args.also))
    return _finish(outcome.code, outcome.message())


def _restore(args: argparse.Namespace, session: Session) -> Restore:
    if args.what == "bucket":
        return restore_bucket(
            session, BucketRequest(args.bucket, parse_time(args.to), args.prefix, args.into)
        )
    policy = Policy(timeout=args.timeout, interval=args.poll_interval)
    if args.what == "cache":
        return restore_cache(session, policy)
    latest = args.to == "latest"
    request = DatabaseRequest(
        to=None if latest or args.from_copy else parse_time(args.to),
        latest=latest,
        from_copy=args.from_copy,
        instance_class=args.instance_class,
    )
    return restore_database(session, request, policy)


def _timestamps(restore: Restore) -> str:
    lines = [f"  {name}: {at}" for name, at in restore.events.items()]
    lines.append(
        f"  restore point: {iso(restore.restore_point) or 'unknown'}"
        f" (requested {restore.requested})"
    )
    return "\n".join(lines)


def _finish(code: ExitCode, message: str) -> int:
    """Print the outcome (stderr unless OK) and return its exit code."""
    stream = sys.stdout if code is ExitCode.OK else sys.stderr
    print(f"{'OK' if code is ExitCode.OK else code.name}: {message}", file=stream)
    return int(code)
