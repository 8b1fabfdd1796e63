"""The demand workflow: one instance of the core workflow machine (changxin/core/workflow.py).

Pure: no database writes. `services.transition()` is the only code that applies it, and every screen,
the REST API and the citizen portal ask `services.available_actions()` — this table with its guards —
which actions to offer.

Actors are relations between a user and a demand, not bare roles:
  CENTRE     the district 接诉即办 centre (operators/dispatchers, district admins)
  LEAD       staff (officer/leader) of the lead unit or a unit above it
  ASSIGNEE   the person the lead task is assigned to (a service manager, a party member in whose
             responsibility area the demand lies); acts on the handling steps like the lead unit
  TASK       staff of a unit holding an open co-unit or called-in task on the demand
  TASK_PENDING  TASK, and one of those tasks is not reported in (报到) yet
  STREET     LEAD, and the lead unit is a street/town (only streets blow the whistle)
  UNIT_LEADER  LEAD, and a unit leader: approves (审核) what the officers submit when the lead unit
             has a review step (UnitReview); without one, replies, disputes and extension requests
             leave the unit directly and nothing changes
  REQUESTER  the citizen or enterprise account that filed the demand (or the tracking-code holder)
  SYSTEM     the platform itself (deadline escalation, automatic dispatch)
District leadership is read-only and appears in no row.

Guards are the data preconditions of a step (an extension once, a decision only on a pending
request, …), each with its error code and message: a refusal names the rule.

Clock during a dispute (退单), shown on every disputed demand: the lead unit's deadlines keep
running while the centre decides; if the centre re-dispatches (改派), the new lead unit's deadlines
start afresh from the re-dispatch; if the centre rejects the dispute, the original deadlines stand.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from changxin.core.workflow import Guard, Machine, Transition, WorkflowError
from changxin.core.workflow import transition as _t
from changxin.demands.models import (
    ExtensionState,
    ReviewKind,
    Satisfaction,
    State,
    TaskRole,
    TaskState,
    unit_requires_review,
)

__all__ = ["MACHINE", "TRANSITIONS", "Transition", "WorkflowError"]

CENTRE, LEAD, TASK, STREET, REQUESTER, SYSTEM = "centre", "lead", "task", "street", "requester", "system"
ASSIGNEE, TASK_PENDING, UNIT_LEADER = "assignee", "task_pending", "unit_leader"

HANDLING = (State.ACKNOWLEDGED, State.CONTACTED, State.IN_PROGRESS)
OPEN = (State.RECEIVED, State.DISPATCHED, State.DISPUTED, *HANDLING)


def _within_dispute_window(demand, now: dt.datetime) -> bool:
    from changxin.core.workcalendar import working_time_between

    if demand.dispatched_at is None:
        return True
    elapsed = working_time_between(demand.dispatched_at, now).value
    return elapsed <= dt.timedelta(hours=settings.CHANGXIN_DISPUTE_WINDOW_WORKING_HOURS)


EXTENSION_ONCE = Guard(
    lambda d, now: d.extension_state == ExtensionState.NONE,
    "extension_once",
    _("A demand may be extended only once."),
    field="days",
)
EXTENSION_PENDING = Guard(
    lambda d, now: d.extension_state == ExtensionState.PENDING,
    "no_extension_request",
    _("There is no extension request to decide."),
)
DISPUTE_WINDOW = Guard(
    _within_dispute_window,
    "dispute_window_passed",
    _("A dispatch may be disputed only within %(hours)s working hours of dispatch."),
    params=lambda d: {"hours": settings.CHANGXIN_DISPUTE_WINDOW_WORKING_HOURS},
)
RATING_EXCLUDABLE = Guard(
    lambda d, now: d.satisfaction == Satisfaction.DISSATISFIED and not d.rating_excluded,
    "rating_not_excludable",
    _("Only a dissatisfied rating can be excluded, once."),
)
DISPATCHED_BEFORE = Guard(
    lambda d, now: d.lead_unit_id is not None,
    "answered_at_intake",
    _("A demand answered at intake cannot be reopened; file a new one."),
)


def open_side_tasks(demand):
    """The co-unit and called-in tasks still open (waiting for report-in, or reported in)."""
    return demand.tasks.filter(
        role__in=[TaskRole.CO, TaskRole.WHISTLE], state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED]
    ).select_related("unit")


NO_OPEN_TASKS = Guard(
    lambda d, now: not open_side_tasks(d).exists(),
    "open_tasks",
    _(
        "Co-unit and called-in tasks are still open (%(units)s): wait until they are completed, or "
        "withdraw them with a reason, before replying."
    ),
    params=lambda d: {"units": "、".join(t.unit.name for t in open_side_tasks(d))},
)
HAS_OPEN_TASKS = Guard(
    lambda d, now: open_side_tasks(d).exists(),
    "no_open_tasks",
    _("There is no open co-unit or called-in task to withdraw."),
)

NO_REVIEW_STEP = Guard(
    lambda d, now: not unit_requires_review(d.lead_unit_id),
    "unit_review_required",
    _("Your unit's leader approves this before it leaves the unit: submit it for approval."),
)
REVIEW_STEP = Guard(
    lambda d, now: unit_requires_review(d.lead_unit_id),
    "no_unit_review",
    _("Your unit has no review step: send it directly."),
)
NOTHING_PENDING = Guard(
    lambda d, now: not d.review_pending,
    "review_pending",
    _("Something is already waiting for the unit leader's approval."),
)
ANY_PENDING = Guard(
    lambda d, now: bool(d.review_pending),
    "nothing_to_review",
    _("Nothing is waiting for approval."),
)


def _pending(kind):
    return Guard(
        lambda d, now: d.review_pending == kind,
        "nothing_to_review",
        _("Nothing of this kind is waiting for approval."),
    )


HANDLERS_OF_LEAD = {LEAD, ASSIGNEE}

MACHINE = Machine(
    name="demand",
    states=State,
    noun=_("demand"),
    transitions=[
        _t("answer", _("Answer at intake"), [State.RECEIVED], State.REPLIED, {CENTRE}, True),
        _t("dispatch", _("Dispatch"), [State.RECEIVED], State.DISPATCHED, {CENTRE, SYSTEM}),
        # SYSTEM: an enterprise demand is assigned to the enterprise's service manager on intake
        _t("assign", _("Assign to a person"), [State.DISPATCHED, *HANDLING], None, {LEAD, SYSTEM}),
        _t("acknowledge", _("Acknowledge"), [State.DISPATCHED], State.ACKNOWLEDGED, HANDLERS_OF_LEAD),
        _t(
            "dispute",
            _("Dispute the dispatch"),
            [State.DISPATCHED, State.ACKNOWLEDGED],
            State.DISPUTED,
            {LEAD},
            True,
            [DISPUTE_WINDOW, NO_REVIEW_STEP],
        ),
        _t(
            "submit_dispute",
            _("Submit the dispute for approval"),
            [State.DISPATCHED, State.ACKNOWLEDGED],
            None,
            {LEAD},
            True,
            [REVIEW_STEP, NOTHING_PENDING, DISPUTE_WINDOW],
        ),
        _t(
            "approve_dispute",
            _("Approve the dispute (send to the centre)"),
            [State.DISPATCHED, State.ACKNOWLEDGED],
            State.DISPUTED,
            {UNIT_LEADER},
            False,
            [_pending(ReviewKind.DISPUTE)],
        ),
        _t(
            "redispatch",
            _("Re-dispatch (uphold dispute)"),
            [State.DISPUTED],
            State.DISPATCHED,
            {CENTRE},
            True,
        ),
        _t("reject_dispute", _("Reject the dispute"), [State.DISPUTED], State.ACKNOWLEDGED, {CENTRE}, True),
        _t(
            "contact",
            _("Record contact with requester"),
            [State.ACKNOWLEDGED],
            State.CONTACTED,
            HANDLERS_OF_LEAD,
            True,
        ),
        _t("start", _("Start handling"), [State.CONTACTED], State.IN_PROGRESS, HANDLERS_OF_LEAD),
        _t(
            "request_extension",
            _("Request extension"),
            HANDLING,
            None,
            {LEAD},
            True,
            [EXTENSION_ONCE, NO_REVIEW_STEP],
        ),
        _t(
            "submit_extension",
            _("Submit an extension request for approval"),
            HANDLING,
            None,
            {LEAD},
            True,
            [REVIEW_STEP, NOTHING_PENDING, EXTENSION_ONCE],
        ),
        _t(
            "approve_extension_request",
            _("Approve the extension request (send to the centre)"),
            HANDLING,
            None,
            {UNIT_LEADER},
            False,
            [_pending(ReviewKind.EXTENSION), EXTENSION_ONCE],
        ),
        _t("approve_extension", _("Approve extension"), HANDLING, None, {CENTRE}, False, [EXTENSION_PENDING]),
        _t("deny_extension", _("Deny extension"), HANDLING, None, {CENTRE}, True, [EXTENSION_PENDING]),
        _t("whistle", _("Blow the whistle (call departments in)"), HANDLING, None, {STREET}, True),
        _t("task_acknowledge", _("Report in (task)"), OPEN, None, {TASK_PENDING}),
        _t("task_complete", _("Complete task"), OPEN, None, {TASK}, True),
        _t(
            "withdraw_task",
            _("Withdraw a co-unit or called-in task"),
            [State.DISPATCHED, *HANDLING],
            None,
            {LEAD},
            True,
            [HAS_OPEN_TASKS],
        ),
        _t(
            "reply",
            _("Reply and finish"),
            [State.CONTACTED, State.IN_PROGRESS],
            State.REPLIED,
            HANDLERS_OF_LEAD,
            True,
            [NO_OPEN_TASKS, NO_REVIEW_STEP],
        ),
        _t(
            "submit_reply",
            _("Submit the reply for approval"),
            [State.CONTACTED, State.IN_PROGRESS],
            None,
            HANDLERS_OF_LEAD,
            True,
            [REVIEW_STEP, NOTHING_PENDING, NO_OPEN_TASKS],
        ),
        _t(
            "approve_reply",
            _("Approve the reply and finish"),
            [State.CONTACTED, State.IN_PROGRESS],
            State.REPLIED,
            {UNIT_LEADER},
            False,
            [_pending(ReviewKind.REPLY), NO_OPEN_TASKS],
        ),
        _t(
            "return_review",
            _("Return to the officer"),
            [State.DISPATCHED, *HANDLING],
            None,
            {UNIT_LEADER},
            True,
            [ANY_PENDING],
        ),
        _t("visit_attempt", _("Return visit: requester unreachable"), [State.REPLIED], None, {CENTRE}),
        _t("return_visit", _("Record return visit"), [State.REPLIED], State.VISITED, {CENTRE, REQUESTER}),
        _t(
            "exclude_rating",
            _("Exclude an unreasonable rating"),
            [State.VISITED],
            None,
            {CENTRE},
            True,
            [RATING_EXCLUDABLE],
        ),
        _t(
            "reopen",
            _("Reopen (重办)"),
            [State.VISITED, State.REPLIED],
            State.DISPATCHED,
            {CENTRE},
            True,
            [DISPATCHED_BEFORE],
        ),
        _t("archive", _("Archive"), [State.VISITED], State.ARCHIVED, {CENTRE, SYSTEM}),
        _t("supervise", _("Supervise (督办)"), OPEN, None, {CENTRE, SYSTEM}),
        _t("recategorise", _("Set or correct the category"), OPEN, None, {CENTRE}),
        _t("merge", _("Merge into a master demand"), OPEN, State.MERGED, {CENTRE}, True),
    ],
)

TRANSITIONS: dict[str, Transition] = MACHINE.table
