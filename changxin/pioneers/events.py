"""The pipeline timeline's payloads, typed: one dataclass per action (the style of demands/events.py).

Every PipelineEvent.data is written through these builders (services and demo alike):

    events.StepTaken(on="2025-03-01", stage="activist").data()
    events.read(event) → StepTaken(...)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from changxin.demands.events import Payload


@dataclass(frozen=True)
class Applied(Payload):
    action = "apply"
    on: str
    organisation: int


@dataclass(frozen=True)
class Recorded(Payload):
    action = "record"
    record: int
    kind: str
    on: str
    until: str | None = None
    sponsor: int | None = None


@dataclass(frozen=True)
class StepTaken(Payload):
    """A stage change (or, for "extend", the same stage with a new end of probation)."""

    action = "step"  # stored under the step's own name: make_activist, make_target, admit…
    step: str
    on: str
    member: int | None = None
    probation_ends_on: str | None = None


STEPS = ("make_activist", "make_target", "admit", "confirm", "extend", "cancel")
PAYLOADS: dict[str, type[Payload]] = {"apply": Applied, "record": Recorded, **dict.fromkeys(STEPS, StepTaken)}


def read(event) -> Payload:
    cls = PAYLOADS[event.action]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in (event.data or {}).items() if k in names})
