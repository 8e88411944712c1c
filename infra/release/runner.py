"""Drives a state machine: performs each action through the ports and logs every decision."""

import logging
from typing import Protocol

from infra.release.actions import (
    Action,
    Apply,
    Check,
    CheckReady,
    Done,
    Measure,
    Observation,
    SetField,
    SmokeTest,
    Step,
    Wait,
    describe,
)
from infra.release.model import Service
from infra.release.ports import Ports

LOG = logging.getLogger("infra.release")


class Machine(Protocol):
    """A release state machine: `start()`, then `advance(observation)` until `Done`."""

    def start(self) -> Action:
        """The first action."""
        ...

    def advance(self, observation: Observation) -> Action:
        """The next action, given what the previous one observed."""
        ...


def run(machine: Machine, service: Service, ports: Ports) -> Done:
    """Run `machine` to completion; one log line per decision."""
    action = machine.start()
    while not isinstance(action, Done):
        LOG.info("%s: %s -- because %s", service.name, describe(action), action.why)
        action = machine.advance(perform(action, service, ports))
    return action


def perform(action: Step, service: Service, ports: Ports) -> Observation:
    """Carry out one action; an adapter error becomes a failed `Check`, never a crash."""
    try:
        match action:
            case Apply():
                _apply(action, service, ports)
                return Check(True, "applied")
            case CheckReady(color=color, image=image):
                return ports.cluster.readiness(service.name, color, image)
            case SmokeTest():
                return ports.smoke.probe(service)
            case Wait(seconds=seconds):
                ports.clock.sleep(seconds)
                return Check(True, f"waited {seconds:g}s")
            case Measure(color=color, window=window):
                return ports.metrics.sample(service.name, color, window)
    except Exception as error:
        LOG.warning("%s: %s failed: %s", service.name, describe(action), error)
        return Check(False, f"{type(error).__name__}: {error}")


def _apply(action: Apply, service: Service, ports: Ports) -> None:
    """Record intent first, then change config, apply, and record the outcome."""
    ports.log.save(service.name, action.intent)
    for change in action.changes:
        if isinstance(change, SetField):
            ports.stack.set_field(service.index, change.field, change.value)
        else:
            ports.stack.clear_field(service.index, change.field)
    ports.stack.apply()
    ports.log.save(service.name, action.then)
