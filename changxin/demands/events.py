"""The demand timeline's payloads, typed: one dataclass per action.

Every `DemandEvent.data` is written through these builders — by the transition handlers, by intake
and by the historical import alike — so the keys that the 三率 metrics, the timeline, the tracking
page and the subscribers read are declared once, here:

    events.Contacted(on_time=True, unit=12).data()         → {"on_time": True, "unit": 12}
    events.read(event)                                      → Contacted(on_time=True, unit=12)

An imported event carries the same payload plus `"imported": true` (`.data(imported=True)`).
Payloads are plain JSON values (ids, ISO datetimes), never model instances.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Payload:
    action: ClassVar[str] = ""

    def data(self, *, imported: bool = False) -> dict:
        values = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, dt.datetime | dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            values[name] = value
        if imported:
            values["imported"] = True
        return values


@functools.cache
def _field_names(cls) -> tuple[str, ...]:
    """A payload class's field names (dataclasses.fields() per event was a tenth of an import)."""
    return tuple(f.name for f in dataclasses.fields(cls))


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


@dataclass(frozen=True)
class Received(Payload):
    action = "receive"
    channel: str
    # set on the import marker only: where the row came from and when/by whom it was imported
    file: str | None = None
    line: int | None = None
    imported_at: str | None = None
    imported_by: str | None = None

    def data(self, *, imported: bool = False) -> dict:
        values = super().data(imported=imported)
        return {k: v for k, v in values.items() if v is not None or k == "channel"}


@dataclass(frozen=True)
class Answered(Payload):
    action = "answer"


@dataclass(frozen=True)
class Dispatched(Payload):
    """A lead unit (and co-units) got the demand with its deadlines: dispatch, re-dispatch, reopen."""

    action = "dispatch"
    lead_unit: int
    lead_unit_name: str
    co_units: list[int]
    contact_due: str
    finish_due: str
    deadline_estimated: bool
    automatic: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Redispatched(Dispatched):
    action = "redispatch"
    dispute_upheld_for: int | None = None


@dataclass(frozen=True)
class Reopened(Dispatched):
    action = "reopen"


@dataclass(frozen=True)
class Assigned(Payload):
    action = "assign"
    task: int
    assignee: int | None
    assignee_name: str


@dataclass(frozen=True)
class Acknowledged(Payload):
    action = "acknowledge"


@dataclass(frozen=True)
class Disputed(Payload):
    action = "dispute"
    reason: str
    unit: int | None
    clock: str = "running"


@dataclass(frozen=True)
class DisputeApproved(Disputed):
    """The unit leader approved the submitted dispute: it goes to the centre (as `dispute` does)."""

    action = "approve_dispute"


@dataclass(frozen=True)
class DisputeRejected(Payload):
    action = "reject_dispute"
    dispute_rejected_for: int | None


@dataclass(frozen=True)
class Contacted(Payload):
    action = "contact"
    on_time: bool
    unit: int | None


@dataclass(frozen=True)
class Started(Payload):
    action = "start"


@dataclass(frozen=True)
class ExtensionRequested(Payload):
    action = "request_extension"
    days: int


@dataclass(frozen=True)
class ExtensionRequestApproved(ExtensionRequested):
    """The unit leader approved the extension request: it goes to the centre."""

    action = "approve_extension_request"


@dataclass(frozen=True)
class ExtensionApproved(Payload):
    action = "approve_extension"
    days: int
    finish_due: str


@dataclass(frozen=True)
class ExtensionDenied(Payload):
    action = "deny_extension"


@dataclass(frozen=True)
class Whistled(Payload):
    action = "whistle"
    units: list[int]
    due_at: str


@dataclass(frozen=True)
class TaskAcknowledged(Payload):
    action = "task_acknowledge"
    task: int
    unit: int


@dataclass(frozen=True)
class TaskCompleted(Payload):
    action = "task_complete"
    task: int
    unit: int
    on_time: bool


@dataclass(frozen=True)
class ReplySubmitted(Payload):
    """An officer's reply sent to the unit leader for approval (the note is the reply text)."""

    action = "submit_reply"


@dataclass(frozen=True)
class DisputeSubmitted(Payload):
    action = "submit_dispute"
    reason: str


@dataclass(frozen=True)
class ExtensionSubmitted(Payload):
    action = "submit_extension"
    days: int


@dataclass(frozen=True)
class ReviewReturned(Payload):
    """The unit leader sent the submission back to the officer (the note says why)."""

    action = "return_review"
    kind: str


@dataclass(frozen=True)
class Recategorised(Payload):
    """The centre set or corrected the category (ids and full names, old None when unclassified)."""

    action = "recategorise"
    old: int | None
    new: int
    old_name: str
    new_name: str


@dataclass(frozen=True)
class TaskWithdrawn(Payload):
    """A co-unit or called-in task withdrawn: by the lead unit (the note is the reason), or by the
    platform when the demand closed with the task still open (`automatic`)."""

    action = "withdraw_task"
    task: int
    unit: int


@dataclass(frozen=True)
class Replied(Payload):
    action = "reply"
    on_time: bool


@dataclass(frozen=True)
class ReplyApproved(Replied):
    """The unit leader approved the submitted reply: it leaves the unit (as `reply` does)."""

    action = "approve_reply"


@dataclass(frozen=True)
class VisitAttempted(Payload):
    action = "visit_attempt"
    attempt: int


@dataclass(frozen=True)
class Visited(Payload):
    action = "return_visit"
    resolution: str
    satisfaction: str
    unit: int | None


@dataclass(frozen=True)
class RatingExcluded(Payload):
    action = "exclude_rating"


@dataclass(frozen=True)
class Archived(Payload):
    action = "archive"


@dataclass(frozen=True)
class Supervised(Payload):
    action = "supervise"
    kind: str
    automatic: bool


@dataclass(frozen=True)
class Merged(Payload):
    action = "merge"
    master: int
    master_number: str


PAYLOADS: dict[str, type[Payload]] = {
    cls.action: cls
    for cls in [
        Received,
        Answered,
        Dispatched,
        Redispatched,
        Reopened,
        Assigned,
        Acknowledged,
        Disputed,
        DisputeRejected,
        Contacted,
        Started,
        ExtensionRequested,
        ExtensionApproved,
        ExtensionDenied,
        Whistled,
        TaskAcknowledged,
        TaskCompleted,
        TaskWithdrawn,
        Recategorised,
        Replied,
        ReplySubmitted,
        DisputeSubmitted,
        ExtensionSubmitted,
        ReviewReturned,
        ReplyApproved,
        DisputeApproved,
        ExtensionRequestApproved,
        VisitAttempted,
        Visited,
        RatingExcluded,
        Archived,
        Supervised,
        Merged,
    ]
}


def read(event) -> Payload:
    """The typed payload of a stored event (unknown keys, e.g. "imported", are dropped)."""
    cls = PAYLOADS[event.action]
    names = {f.name for f in dataclasses.fields(cls)}
    data = event.data or {}
    return cls(**{k: v for k, v in data.items() if k in names})


def dispatched(cls: type[Dispatched], lead, co_units, due, **extra) -> Dispatched:
    """The payload of a dispatch-like step from the unit and the computed deadlines."""
    return cls(
        lead_unit=lead.pk,
        lead_unit_name=lead.name,
        co_units=[u.pk for u in co_units],
        contact_due=_iso(due.contact_due),
        finish_due=_iso(due.finish_due),
        deadline_estimated=due.estimated,
        **extra,
    )
