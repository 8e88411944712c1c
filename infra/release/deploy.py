"""The `deploy` state machine: stage a new image tag on the idle colour."""

from infra.release.actions import Action, Apply, Check, ClearField, Done, Observation, SetField
from infra.release.model import Color, ConfigError, ExitCode, Service, validate_tag
from infra.release.record import IN_FLIGHT, Phase, Record, effective_record


class Deployment:
    """Decides `deploy --tag T [--color C]`: one guarded config change and apply."""

    def __init__(
        self, service: Service, record: Record | None, tag: str | None, color: Color | None = None
    ) -> None:
        self._service = service
        self._record = effective_record(service, record)
        self._tag = tag
        self._color = color

    def start(self) -> Action:
        """Refuse unsafe deploys; otherwise the apply that stages the tag."""
        svc, record = self._service, self._record
        try:
            tag = validate_tag(self._tag)
        except ConfigError as error:
            return Done(ExitCode.USAGE, str(error))
        if record is not None and record.phase in IN_FLIGHT:
            # promote refuses to take over a rollback: name only the command that finishes it
            finish = "`rollback`" if record.phase is Phase.ROLLBACK else "`promote` or `rollback`"
            return Done(
                ExitCode.USAGE,
                f"a release of {svc.name} is in flight (phase {record.phase}, "
                f"{record.source} -> {record.target}): run {finish} first",
            )
        if self._color is svc.active:
            return Done(
                ExitCode.USAGE,
                f"refusing to deploy onto the active colour {svc.label(svc.active)}: it serves "
                f"100 % of traffic. deploy targets the idle colour ({svc.idle})",
            )
        target = svc.idle
        if svc.worker:
            return self._stage_worker(tag)
        parked = svc.idle_replicas
        if record is not None and record.phase is Phase.STAGED:
            parked = record.idle_replicas
        changes: list[SetField | ClearField] = [SetField(f"tags.{target}", tag)]
        if svc.idle_replicas is not None:
            changes.append(ClearField("idleReplicas"))
        staged = Record(Phase.STAGED, svc.active, target, tag=tag, idle_replicas=parked)
        return Apply(
            tuple(changes),
            staged,
            staged,
            f"staging {tag} on idle colour {target} (was {svc.tag(target)}); "
            f"{svc.label(svc.active)} keeps 100 % of traffic",
        )

    def _stage_worker(self, tag: str) -> Action:
        """A worker's idle colour has nothing in front of it: running it is releasing it.

        So the tag is staged at 0 pods (scaling down an idle colour a hand-written config
        left running), and only `promote` starts it.
        """
        svc = self._service
        changes: list[SetField | ClearField] = [SetField(f"tags.{svc.idle}", tag)]
        if svc.idle_replicas != 0:
            changes.append(SetField("idleReplicas", 0))
        staged = Record(Phase.STAGED, svc.active, svc.idle, tag=tag, idle_replicas=0)
        return Apply(
            tuple(changes),
            staged,
            staged,
            f"staging {tag} on idle colour {svc.idle} at 0 pods (a worker's candidate must not "
            f"consume before promote); {svc.label(svc.active)} runs alone",
        )

    def advance(self, observation: Observation) -> Action:
        """Report the outcome of the apply."""
        assert isinstance(observation, Check), observation
        svc = self._service
        if observation.ok and svc.worker:
            return Done(
                ExitCode.OK,
                f"deployed {self._tag} to {svc.idle} (idle, 0 pods); {svc.label(svc.active)} "
                "still runs alone. Next: promote (scales it up, then the old colour down)",
            )
        if observation.ok:
            return Done(
                ExitCode.OK,
                f"deployed {self._tag} to {svc.idle} (idle); {svc.label(svc.active)} still serves "
                "100 %. Next: promote",
            )
        return Done(
            ExitCode.GATE_FAILED,
            f"apply failed: {observation.detail}; {svc.label(svc.active)} still serves 100 % "
            f"({svc.idle} may be partly updated: fix and re-run deploy)",
        )
