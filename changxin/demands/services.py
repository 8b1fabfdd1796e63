"""Every write to a demand. One service applies transitions: `transition()`.

Each call runs in one transaction, locks the demand row (SELECT … FOR UPDATE on PostgreSQL; an
IMMEDIATE transaction serialises writers on SQLite), checks the workflow table and the actor's
relation to the demand, validates the action's data, saves with `update_fields`, bumps `version`,
and writes one DemandEvent (the timeline) and one audit entry. A rejected action changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core import audit, roles
from changxin.core import events as bus
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction, OrgUnit, Role, User
from changxin.core.workcalendar import add_working_time
from changxin.demands import deadlines, workflow
from changxin.demands import events as payloads
from changxin.demands.models import (
    CLOSED_STATES,
    NOTE_MAX_LENGTH,
    Channel,
    Demand,
    DemandEvent,
    DemandTask,
    DemandType,
    DisputeReason,
    ExtensionState,
    Resolution,
    ReviewKind,
    Satisfaction,
    State,
    TaskRole,
    TaskState,
)
from changxin.demands.workflow import (
    ASSIGNEE,
    CENTRE,
    LEAD,
    MACHINE,
    REQUESTER,
    STREET,
    SYSTEM,
    TASK,
    TASK_PENDING,
    UNIT_LEADER,
    WorkflowError,
)

INTAKE_FIELDS = [
    "channel",
    "demand_type",
    "urgency",
    "title",
    "content",
    "category",
    "requester_kind",
    "requester_name",
    "requester_phone",
    "enterprise_name",
    "address",
    "street",
    "community",
    "latitude",
    "longitude",
    "external_id",
    "emergency_referral",
]


# --- who the actor is to this demand ----------------------------------------------------------


def relations_of(user: User | None, demand: Demand, *, requester_code: str | None = None) -> set[str]:
    """How `user` relates to `demand`. `requester_code`: the tracking code, proving the (possibly
    anonymous) web user is the requester — as when a citizen rates the outcome on the tracking page."""
    if requester_code is not None:
        import hmac

        if not hmac.compare_digest(str(requester_code).upper(), demand.tracking_code):
            return set()
        if _code_holder_may_be_requester(user, demand):
            return {REQUESTER}
        return set()
    if user is None:
        return {SYSTEM}
    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    relations: set[str] = set()
    if roles.is_centre(user):
        relations.add(CENTRE)
    if demand.requester_user_id and demand.requester_user_id == user.pk:
        relations.add(REQUESTER)
    tasks = list(demand.tasks.all())  # one query; none when a list prefetched "tasks__unit"
    if roles.is_unit_staff(user):
        if roles.covers(user, demand.lead_unit):
            relations.add(LEAD)
            if roles.is_unit_leader(user):
                relations.add(UNIT_LEADER)
            if demand.lead_unit.is_street_level:
                relations.add(STREET)
        mine = [t for t in tasks if is_open_task_of(t, user)]
        if mine:
            relations.add(TASK)
        if any(t.state == TaskState.PENDING for t in mine):
            relations.add(TASK_PENDING)
    lead = max(
        (t for t in tasks if t.role == TaskRole.LEAD and t.state != TaskState.WITHDRAWN),
        key=lambda t: t.pk,
        default=None,
    )  # the same task as _lead_task(), from the rows at hand
    if lead is not None and lead.assignee_id == user.pk:
        relations.add(ASSIGNEE)
    return relations


def _code_holder_may_be_requester(user: User | None, demand: Demand) -> bool:
    """Who may act as the requester on the strength of the tracking code: an anonymous visitor, or
    the requester's own account. A logged-in staff account (officer, leader, the centre, read-only
    leadership) never does — a code seen at work does not make anyone the requester — nor does
    another citizen's account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return True
    if not roles.is_public(user):
        return False
    return demand.requester_user_id is None or demand.requester_user_id == user.pk


def is_open_task_of(task: DemandTask, user: User) -> bool:
    """A co-unit or called-in task, still open, of a unit in `user`'s subtree: what TASK actors act on."""
    return (
        task.role != TaskRole.LEAD
        and task.state in (TaskState.PENDING, TaskState.ACKNOWLEDGED)
        and roles.covers(user, task.unit)
    )


def available_actions(
    user: User | None, demand: Demand, *, requester_code: str | None = None
) -> list[workflow.Transition]:
    """The transitions `user` may apply to `demand` now: allowed by the table, the actor's relation
    and the guards. Every screen, the REST API and the citizen portal offer exactly these."""
    return MACHINE.available(demand, relations_of(user, demand, requester_code=requester_code))


def may(user: User | None, demand: Demand, name: str, *, requester_code: str | None = None) -> bool:
    """Whether `user` (or the holder of `requester_code`) may apply `name` to `demand` now."""
    return MACHINE.allows(name, demand, relations_of(user, demand, requester_code=requester_code))


# --- intake ----------------------------------------------------------------------------------

# Who may file a demand through which channel — the screens' rules, enforced here for every path
# (portal, hotline intake, REST API, Open311, imports). The system (actor None) files any channel.
OPEN_CHANNELS = frozenset({Channel.WEB, Channel.MINI_PROGRAM, Channel.API, Channel.OPEN311})


def may_file_through(actor: User | None, channel: str) -> bool:
    """Whether `actor` may file a demand through `channel`. Read-only accounts never file; the
    hotline, the leader mailbox, media and imports are the centre's; the enterprise portal is the
    enterprises' (and the centre's and their service managers'); proactive discovery (未诉先办) is district staff's."""
    if actor is None:
        return True
    if roles.is_read_only(actor):
        return False
    if channel in OPEN_CHANNELS:
        return True
    if channel == Channel.ENTERPRISE_PORTAL:
        # the enterprise itself, the centre, and its service manager filing a need raised on a visit
        return roles.is_centre(actor) or (
            roles.is_active(actor) and actor.role in (roles.Role.ENTERPRISE, roles.Role.SERVICE_MANAGER)
        )
    if channel == Channel.PROACTIVE:
        return roles.is_staff_side(actor)
    return roles.is_centre(actor)


def check_channel(actor: User | None, channel: str) -> None:
    if actor is not None and roles.is_read_only(actor):
        raise DomainError("read_only", _("Your role is read-only."), kind=FORBIDDEN)
    if not may_file_through(actor, channel):
        raise DomainError(
            "channel_not_allowed",
            _("Your role may not file demands through this channel."),
            field="channel",
            kind=FORBIDDEN,
        )


def _locate(demand: Demand) -> None:
    """Keep street and community consistent: a community implies its street."""
    if demand.community_id and not demand.street_id:
        demand.street = demand.community.street()
    if demand.community_id and demand.street_id and not demand.street.is_ancestor_of(demand.community):
        raise ValidationError({"community": _("This community is not in the chosen street/town.")})


def create_demand(
    data: dict[str, Any],
    *,
    actor: User | None,
    idempotency_key: str | None = None,
    received_at: dt.datetime | None = None,
    number: str | None = None,
    attachments: Iterable = (),
    proactive: bool = False,
) -> tuple[Demand, bool]:
    """Store a new demand whole, or not at all. Returns (demand, created).

    With an idempotency key, a repeated submission returns the demand the first one created.
    Raises django ValidationError with per-field messages on bad input. `proactive`: only
    insight's `proactive.create_task` sets it — a 主动治理 task is never filed through intake.
    """
    check_channel(actor, data.get("channel") or Channel.WEB)
    if (data.get("demand_type") == DemandType.PROACTIVE) != proactive:
        raise ValidationError(
            {
                "demand_type": _(
                    "A proactive governance task is created from a hot spot, not filed as a demand."
                )
            }
        )
    if idempotency_key:
        existing = Demand.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return existing, False
    unknown = set(data) - set(INTAKE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    demand = Demand(**data)
    demand.received_at = received_at or timezone.now()
    demand.idempotency_key = idempotency_key or None
    if actor is not None and actor.is_authenticated:
        demand.created_by = actor
        if roles.is_public(actor):
            demand.requester_user = actor
    if demand.requester_kind == "anonymous":
        demand.requester_name = demand.requester_phone = ""
    _locate(demand)
    # A foreign key given as a saved row (every intake path fetches its own) needs no query to
    # prove it exists; the database's constraint still guards it.
    fetched = [
        f.name
        for f in Demand._meta.concrete_fields
        if f.is_relation and f.is_cached(demand) and getattr(getattr(demand, f.name), "pk", None)
    ]
    demand.full_clean(exclude=["number", "tracking_code", "idempotency_key", *fetched])
    try:
        with transaction.atomic():
            _insert_numbered(demand, number)
            for upload in attachments:
                from changxin.demands.attachments import store_attachment

                store_attachment(demand, upload)
            received = _event(
                demand,
                actor,
                "",
                State.RECEIVED,
                payloads.Received(channel=demand.channel),
                automatic=actor is None,
                at=demand.received_at,
            )
            audit.record(actor, AuditAction.CREATE, demand, detail=demand.channel)
    except IntegrityError:
        if idempotency_key:  # a concurrent request with the same key won the race
            existing = Demand.objects.filter(idempotency_key=idempotency_key).first()
            if existing:
                return existing, False
        raise
    # What a new demand has is known: no task yet, its one event. Whoever shows it next (the API's
    # answer, the done page) reads these instead of querying.
    demand._prefetched_objects_cache = {
        "tasks": _known(demand.tasks, []),
        "events": _known(demand.events, [received]),
    }
    return demand, True


NUMBER_PREFIX = "FT{:%y%m%d}"  # then the id, at least six digits: FT260115000123


def _number_sql(prefix: str, table: str) -> RawSQL:
    """`prefix` + the id the INSERT itself is drawing, padded to six digits as `f"{pk:06d}"` is.

    PostgreSQL fills the columns an INSERT leaves out (the id's identity default) into the row in
    column order, before the columns after it, so `currval` in a later column is this row's id —
    tested in demands/tests/test_numbers.py."""
    current = f"currval(pg_get_serial_sequence('{table}', 'id'))::text"
    return RawSQL(
        f"(%s || CASE WHEN length({current}) < 6 THEN lpad({current}, 6, '0') ELSE {current} END)",
        [prefix],
    )


def _insert_numbered(demand: Demand, number: str | None) -> None:
    """INSERT the demand with its number: given, or FT + local received date + the id. On
    PostgreSQL one statement (the number is made from the id in the INSERT); elsewhere the INSERT
    and an UPDATE. One statement also keeps concurrent intakes from queueing on the unique index
    of a temporary empty number until the first commits."""
    if number:
        demand.number = number
        demand.save()
        return
    prefix = NUMBER_PREFIX.format(timezone.localtime(demand.received_at))
    using = router.db_for_write(Demand, instance=demand)
    if connections[using].vendor == "postgresql":
        demand.number = _number_sql(prefix, Demand._meta.db_table)
        demand.save(using=using)
        demand.number = f"{prefix}{demand.pk:06d}"
        return
    demand.save(using=using)
    demand.number = f"{prefix}{demand.pk:06d}"
    demand.save(using=using, update_fields=["number"])


def _known(manager, rows: list):
    queryset = manager.get_queryset()
    queryset._result_cache, queryset._prefetch_done = list(rows), True
    return queryset


# --- the one transition service ------------------------------------------------------------


def _event(
    demand, actor, from_state, to_state, payload: payloads.Payload, *, note="", automatic=False, at=None
) -> DemandEvent:
    """Write one timeline row from its typed payload and publish it to the subscribers after commit."""
    if actor is not None and not actor.is_authenticated:
        actor_name = "requester"
    else:
        actor_name = actor.get_username() if actor is not None else "system"
    event = DemandEvent.objects.create(
        demand=demand,
        at=at or timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor_name[:150],
        actor_unit=getattr(actor, "unit", None),
        action=payload.action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=payload.data(),
        automatic=automatic,
    )
    bus.publish("demands", event)
    return event


def transition(
    demand: Demand | int,
    name: str,
    actor: User | None,
    *,
    note: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    requester_code: str | None = None,
    **data,
) -> Demand:
    """Apply workflow transition `name` to a demand on behalf of `actor` (None = the system).

    Raises WorkflowError (with a code and, for bad data, the field) and changes nothing when the
    action is not allowed. `requester_code`: act as the requester proven by the tracking code
    (anonymous web users rating the outcome); `actor` is then recorded if logged in, else "requester".
    """
    pk = demand.pk if isinstance(demand, Demand) else demand
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise WorkflowError(
            "note_too_long",
            _("Write at most %(limit)d characters.") % {"limit": NOTE_MAX_LENGTH},
            field="note",
        )
    with transaction.atomic():
        locked = Demand.objects.select_for_update(of=("self",)).select_related("lead_unit").get(pk=pk)
        if expected_version is not None and locked.version != int(expected_version):
            raise WorkflowError(
                "stale",
                _("Someone else changed this demand a moment ago. Reload it and try again."),
            )
        relations = relations_of(actor, locked, requester_code=requester_code)
        step = MACHINE.check(name, locked, relations, now)
        if step.needs_note and not note:
            raise WorkflowError("note_required", _("Please write a note for this action."), field="note")
        from_state = locked.state
        if step.target:
            locked.state = step.target
        handler = HANDLERS[name]
        changed, payload = handler(locked, actor, now, note, **data)
        if payload.action != name:
            raise AssertionError(f"handler of {name} built a {payload.action} payload")
        if locked.state in CLOSED_STATES:  # a closed demand leaves no live task behind
            _withdraw_open_tasks(locked, now, _("The demand was closed."))
        locked.version += 1
        changed = set(changed) | {"state", "version", "updated_at"}
        locked.save(update_fields=sorted(changed))
        _event(
            locked,
            actor,
            from_state,
            locked.state,
            payload,
            note=note,
            automatic=bool(data.get("automatic")),
            at=now,
        )
        if from_state != locked.state:
            audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {from_state} → {locked.state}")
    if isinstance(demand, Demand):
        demand.refresh_from_db()
    return locked


# --- handlers: validate the action's data and change the demand --------------------------------
# Each returns (fields changed on the demand, the event's typed payload). The table's guards have
# already held; handlers validate the action's own data (units, days, reasons…).


def _unit(value, field: str, kinds: set[str]) -> OrgUnit:
    unit = (
        value if isinstance(value, OrgUnit) else OrgUnit.objects.filter(pk=value).first() if value else None
    )
    if unit is None:
        raise WorkflowError("invalid", _("Choose a unit."), field=field)
    if unit.kind not in kinds or not unit.is_active:
        raise WorkflowError("invalid", _("“%(unit)s” cannot take this demand.") % {"unit": unit}, field=field)
    return unit


def _assign(
    demand: Demand, lead: OrgUnit, co_units, now: dt.datetime, kind: type[payloads.Dispatched], **extra
) -> payloads.Dispatched:
    co = [_unit(u, "co_units", roles.DISPATCHABLE_KINDS) for u in (co_units or [])]
    if any(u.pk == lead.pk for u in co):
        raise WorkflowError("invalid", _("The lead unit cannot also be a co-unit."), field="co_units")
    due = deadlines.compute(demand, now)
    demand.lead_unit = lead
    demand.dispatched_at = now
    demand.acknowledged_at = demand.contacted_at = None
    demand.contact_due, demand.finish_due = due.contact_due, due.finish_due
    demand.deadline_estimated = due.estimated
    demand.extension_state, demand.extension_days = ExtensionState.NONE, 0
    demand.review_pending, demand.review_note, demand.review_data = ReviewKind.NONE, "", {}
    _withdraw_open_tasks(demand, now, _("Re-assigned: a new round of handling began."))
    DemandTask.objects.create(
        demand=demand, unit=lead, role=TaskRole.LEAD, assigned_at=now, due_at=due.finish_due
    )
    for unit in co:
        DemandTask.objects.create(
            demand=demand, unit=unit, role=TaskRole.CO, assigned_at=now, due_at=due.finish_due
        )
    return payloads.dispatched(kind, lead, co, due, **extra)


DEADLINE_FIELDS = [
    "review_pending",
    "review_note",
    "review_data",
    "lead_unit",
    "dispatched_at",
    "acknowledged_at",
    "contacted_at",
    "contact_due",
    "finish_due",
    "deadline_estimated",
    "extension_state",
    "extension_days",
]


LEAD_ROUND_FIELDS = ["lead_assigned_at", "lead_first_contact_at", "lead_first_contact_on_time"]


def _lead_round_starts(demand: Demand, now: dt.datetime) -> list[str]:
    """A dispatch or an upheld dispute's re-dispatch: the lead unit receives the demand now (the 三率
    count it in this month and judge the first contact after it). Reopening (重办) keeps the round."""
    demand.lead_assigned_at = now
    demand.lead_first_contact_at = demand.lead_first_contact_on_time = None
    return LEAD_ROUND_FIELDS


def _dispatch(
    demand, actor, now, note, *, lead_unit=None, co_units=(), automatic=False, reasons=None, **_ignored
):
    lead = _unit(lead_unit, "lead_unit", roles.DISPATCHABLE_KINDS)
    extra = {"automatic": True, "reasons": list(reasons or [])} if automatic else {}
    payload = _assign(demand, lead, co_units, now, payloads.Dispatched, **extra)
    return DEADLINE_FIELDS + _lead_round_starts(demand, now), payload


def _answer(demand, actor, now, note, **_kwargs):
    demand.reply, demand.replied_at = note, now
    return ["reply", "replied_at"], payloads.Answered()


def _lead_task(demand) -> DemandTask | None:
    return demand.tasks.filter(role=TaskRole.LEAD).exclude(state=TaskState.WITHDRAWN).order_by("-id").first()


def _assign_person(demand, actor, now, note, *, assignee=None, **_kwargs):
    """The lead unit hands its task to one person, who then acts on the handling steps (ASSIGNEE):
    staff of the lead unit's subtree, or a service manager (an enterprise's 服务管家 may sit in
    another unit). `assignee=None` with an existing assignee takes the task back to the unit."""
    task = _lead_task(demand)
    if task is None or task.state not in (TaskState.PENDING, TaskState.ACKNOWLEDGED):
        raise WorkflowError("invalid", _("The lead unit has no open task to assign."), field="assignee")
    person = None
    if assignee not in (None, ""):
        pk = getattr(assignee, "pk", assignee)
        person = User.objects.select_related("unit").filter(pk=pk, is_active=True).first()
        if (
            person is None
            or person.role not in roles.ASSIGNABLE_ROLES
            or (person.role != Role.SERVICE_MANAGER and not demand.lead_unit.is_ancestor_of(person.unit))
        ):
            raise WorkflowError(
                "invalid",
                _("Choose a person of the lead unit, or a service manager."),
                field="assignee",
            )
    elif task.assignee_id is None:
        raise WorkflowError("invalid", _("Choose the person to assign."), field="assignee")
    if person is not None and person.pk == task.assignee_id:
        raise WorkflowError("invalid", _("The task is already assigned to this person."), field="assignee")
    task.assignee = person
    task.save(update_fields=["assignee"])
    return [], payloads.Assigned(
        task=task.pk, assignee=person.pk if person else None, assignee_name=str(person) if person else ""
    )


def _acknowledge(demand, actor, now, note, **_kwargs):
    demand.acknowledged_at = now
    task = _lead_task(demand)
    if task:
        task.state, task.acknowledged_at = TaskState.ACKNOWLEDGED, now
        task.save(update_fields=["state", "acknowledged_at"])
    return ["acknowledged_at"], payloads.Acknowledged()


def _dispute_reason(reason) -> str:
    if reason not in DisputeReason.values:
        raise WorkflowError("invalid", _("Choose a reason for the dispute."), field="reason")
    return reason


def _dispute(demand, actor, now, note, *, reason="", **_kwargs):
    reason = _dispute_reason(reason)
    return [], payloads.Disputed(reason=reason, unit=demand.lead_unit_id, clock="running")


# --- unit review (审核): submit → the unit leader approves or returns ------------------------------

REVIEW_FIELDS = ["review_pending", "review_note", "review_data"]


def _submit(demand, kind, note, data) -> list[str]:
    demand.review_pending, demand.review_note, demand.review_data = kind, note, data
    return REVIEW_FIELDS


def _clear_review(demand) -> tuple[str, dict]:
    note, data = demand.review_note, dict(demand.review_data or {})
    demand.review_pending, demand.review_note, demand.review_data = ReviewKind.NONE, "", {}
    return note, data


def _submit_reply(demand, actor, now, note, **_kwargs):
    return _submit(demand, ReviewKind.REPLY, note, {}), payloads.ReplySubmitted()


def _submit_dispute(demand, actor, now, note, *, reason="", **_kwargs):
    reason = _dispute_reason(reason)
    return _submit(demand, ReviewKind.DISPUTE, note, {"reason": reason}), payloads.DisputeSubmitted(
        reason=reason
    )


def _submit_extension(demand, actor, now, note, *, days=None, **_kwargs):
    days = _extension_days(demand, days)
    return _submit(demand, ReviewKind.EXTENSION, note, {"days": days}), payloads.ExtensionSubmitted(days=days)


def _approve_reply(demand, actor, now, note, **_kwargs):
    text, _data = _clear_review(demand)
    changed, replied = _reply(demand, actor, now, text)
    return changed + REVIEW_FIELDS, payloads.ReplyApproved(on_time=replied.on_time)


def _approve_dispute(demand, actor, now, note, **_kwargs):
    _text, data = _clear_review(demand)
    return REVIEW_FIELDS, payloads.DisputeApproved(
        reason=data.get("reason", ""), unit=demand.lead_unit_id, clock="running"
    )


def _approve_extension_request(demand, actor, now, note, **_kwargs):
    _text, data = _clear_review(demand)
    changed, _requested = _request_extension(demand, actor, now, note, days=data.get("days"))
    return changed + REVIEW_FIELDS, payloads.ExtensionRequestApproved(days=demand.extension_days)


def _return_review(demand, actor, now, note, **_kwargs):
    kind = demand.review_pending
    _clear_review(demand)
    return REVIEW_FIELDS, payloads.ReviewReturned(kind=kind)


def _redispatch(demand, actor, now, note, *, lead_unit=None, co_units=(), **_kwargs):
    previous = demand.lead_unit_id
    lead = _unit(lead_unit, "lead_unit", roles.DISPATCHABLE_KINDS)
    if lead.pk == previous:
        raise WorkflowError("invalid", _("Re-dispatch to a different unit."), field="lead_unit")
    payload = _assign(demand, lead, co_units, now, payloads.Redispatched, dispute_upheld_for=previous)
    return DEADLINE_FIELDS + _lead_round_starts(demand, now), payload


def _reject_dispute(demand, actor, now, note, **_kwargs):
    task = _lead_task(demand)
    if task and task.state == TaskState.PENDING:
        task.state, task.acknowledged_at = TaskState.ACKNOWLEDGED, now
        task.save(update_fields=["state", "acknowledged_at"])
    if demand.acknowledged_at is None:
        demand.acknowledged_at = now
    return ["acknowledged_at"], payloads.DisputeRejected(dispute_rejected_for=demand.lead_unit_id)


def _contact(demand, actor, now, note, **_kwargs):
    demand.contacted_at = now
    on_time = demand.contact_due is None or now <= demand.contact_due
    changed = ["contacted_at"]
    # the round's first contact (the earliest contact event at or after the lead unit received it)
    first = demand.lead_first_contact_at
    if (
        demand.lead_assigned_at is not None
        and now >= demand.lead_assigned_at
        and (first is None or now < first)
    ):
        demand.lead_first_contact_at, demand.lead_first_contact_on_time = now, on_time
        changed += ["lead_first_contact_at", "lead_first_contact_on_time"]
    return changed, payloads.Contacted(on_time=on_time, unit=demand.lead_unit_id)


def _start(demand, actor, now, note, **_kwargs):
    return [], payloads.Started()


def _extension_days(demand, days) -> int:
    policy = deadlines.policy_for(demand.demand_type, demand.urgency)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise WorkflowError(
            "invalid", _("Enter the number of working days to extend by."), field="days"
        ) from None
    base = float(policy.finish_amount) if policy.finish_unit == "working_days" else 0
    limit = max(1, int(policy.max_extension_days - base))
    if not 1 <= days <= limit:
        raise WorkflowError(
            "invalid", _("Extend by 1 to %(limit)s working days.") % {"limit": limit}, field="days"
        )
    return days


def _request_extension(demand, actor, now, note, *, days=None, **_kwargs):
    days = _extension_days(demand, days)
    demand.extension_state, demand.extension_days = ExtensionState.PENDING, days
    return ["extension_state", "extension_days"], payloads.ExtensionRequested(days=days)


def _approve_extension(demand, actor, now, note, **_kwargs):
    answer = add_working_time(demand.finish_due, days=demand.extension_days)
    old = demand.finish_due
    demand.finish_due = answer.value
    demand.deadline_estimated = demand.deadline_estimated or answer.is_estimate
    demand.extension_state = ExtensionState.APPROVED
    demand.tasks.filter(role=TaskRole.LEAD, due_at=old).update(due_at=answer.value)
    return ["finish_due", "deadline_estimated", "extension_state"], payloads.ExtensionApproved(
        days=demand.extension_days, finish_due=answer.value.isoformat()
    )


def _deny_extension(demand, actor, now, note, **_kwargs):
    demand.extension_state = ExtensionState.DENIED
    return ["extension_state"], payloads.ExtensionDenied()


def _whistle(demand, actor, now, note, *, units=(), due_days=3, **_kwargs):
    called = [_unit(u, "units", roles.WHISTLE_KINDS) for u in (units or [])]
    if not called:
        raise WorkflowError("invalid", _("Choose the departments to call in."), field="units")
    try:
        due_days = float(due_days)
    except (TypeError, ValueError):
        raise WorkflowError("invalid", _("Enter a number of working days."), field="due_days") from None
    if not 0 < due_days <= 15:
        raise WorkflowError("invalid", _("Give the called units 1 to 15 working days."), field="due_days")
    active = set(
        demand.tasks.filter(
            role=TaskRole.WHISTLE, state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED]
        ).values_list("unit_id", flat=True)
    )
    due = add_working_time(now, days=due_days).value
    created = []
    for unit in called:
        if unit.pk in active:
            raise WorkflowError(
                "invalid", _("%(unit)s is already called in.") % {"unit": unit}, field="units"
            )
        DemandTask.objects.create(
            demand=demand,
            unit=unit,
            role=TaskRole.WHISTLE,
            assigned_at=now,
            due_at=due,
            request_note=note,
            called_by=demand.lead_unit,
        )
        created.append(unit.pk)
    return [], payloads.Whistled(units=created, due_at=due.isoformat())


def _my_task(demand, actor, task_id) -> DemandTask:
    task = demand.tasks.select_related("unit").filter(pk=task_id).first() if task_id else None
    if task is None or not is_open_task_of(task, actor):
        raise WorkflowError("invalid", _("Choose one of your unit's open tasks."), field="task")
    return task


def _task_acknowledge(demand, actor, now, note, *, task=None, **_kwargs):
    item = _my_task(demand, actor, task)
    if item.state != TaskState.PENDING:
        raise WorkflowError("invalid", _("This task is already acknowledged."), field="task")
    item.state, item.acknowledged_at = TaskState.ACKNOWLEDGED, now
    item.save(update_fields=["state", "acknowledged_at"])
    return [], payloads.TaskAcknowledged(task=item.pk, unit=item.unit_id)


def _withdraw_open_tasks(demand, now, reason: str, queryset=None) -> list[DemandTask]:
    """Withdraw every open task of the demand (or of `queryset`), recording when and why."""
    tasks = list(
        (queryset if queryset is not None else demand.tasks).filter(
            state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED]
        )
    )
    for task in tasks:
        task.state, task.withdrawn_at, task.withdraw_reason = TaskState.WITHDRAWN, now, reason[:500]
        task.save(update_fields=["state", "withdrawn_at", "withdraw_reason"])
    return tasks


def _withdraw_task(demand, actor, now, note, *, task=None, **_kwargs):
    """The lead unit withdraws a co-unit or called-in task that is no longer needed, with a reason."""
    item = workflow.open_side_tasks(demand).filter(pk=task).first() if task else None
    if item is None:
        raise WorkflowError("invalid", _("Choose an open co-unit or called-in task."), field="task")
    _withdraw_open_tasks(demand, now, note, demand.tasks.filter(pk=item.pk))
    return [], payloads.TaskWithdrawn(task=item.pk, unit=item.unit_id)


def _task_complete(demand, actor, now, note, *, task=None, **_kwargs):
    item = _my_task(demand, actor, task)
    item.state, item.done_at, item.result_note = TaskState.DONE, now, note
    item.acknowledged_at = item.acknowledged_at or now
    item.save(update_fields=["state", "done_at", "result_note", "acknowledged_at"])
    on_time = item.due_at is None or now <= item.due_at
    return [], payloads.TaskCompleted(task=item.pk, unit=item.unit_id, on_time=on_time)


def _reply(demand, actor, now, note, **_kwargs):
    demand.reply, demand.replied_at = note, now
    task = _lead_task(demand)
    if task:
        task.state, task.done_at, task.result_note = TaskState.DONE, now, note
        task.save(update_fields=["state", "done_at", "result_note"])
    on_time = demand.finish_due is None or now <= demand.finish_due
    return ["reply", "replied_at"], payloads.Replied(on_time=on_time)


def _visit_attempt(demand, actor, now, note, **_kwargs):
    demand.visit_attempts += 1
    changed = ["visit_attempts"]
    if demand.visit_attempts >= settings.CHANGXIN_VISIT_MAX_ATTEMPTS:
        demand.state = State.VISITED
        demand.satisfaction = Satisfaction.UNRATED
        demand.visited_at = now
        changed += ["satisfaction", "visited_at"]
    return changed, payloads.VisitAttempted(attempt=demand.visit_attempts)


def _return_visit(demand, actor, now, note, *, resolution="", satisfaction="", comment=None, **_kwargs):
    """`comment`: the requester's own words (the portal); staff record them as the note."""
    if resolution not in Resolution.values:
        raise WorkflowError("invalid", _("Say whether the matter was resolved."), field="resolution")
    if satisfaction not in (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED):
        raise WorkflowError("invalid", _("Say how satisfied the requester is."), field="satisfaction")
    demand.resolution, demand.satisfaction, demand.visited_at = resolution, satisfaction, now
    demand.rating_comment = (note if comment is None else comment or "").strip()[:1000]
    demand.visit_attempts += 1
    return ["resolution", "satisfaction", "visited_at", "visit_attempts", "rating_comment"], payloads.Visited(
        resolution=resolution, satisfaction=satisfaction, unit=demand.lead_unit_id
    )


def _exclude_rating(demand, actor, now, note, **_kwargs):
    demand.rating_excluded, demand.rating_excluded_reason = True, note[:200]
    return ["rating_excluded", "rating_excluded_reason"], payloads.RatingExcluded()


def _reopen(demand, actor, now, note, **_kwargs):
    previous = _lead_task(demand)
    payload = _assign(demand, demand.lead_unit, [], now, payloads.Reopened)
    if previous is not None and previous.assignee_id:
        # 重办 returns to the same unit: the person who handled the first round handles it again
        DemandTask.objects.filter(pk=_lead_task(demand).pk).update(assignee_id=previous.assignee_id)
    demand.reopen_count += 1
    demand.reply, demand.replied_at, demand.visited_at = "", None, None
    demand.resolution = demand.satisfaction = demand.rating_comment = ""
    demand.visit_attempts, demand.rating_excluded, demand.rating_excluded_reason = 0, False, ""
    return DEADLINE_FIELDS + [
        "reopen_count",
        "reply",
        "replied_at",
        "visited_at",
        "resolution",
        "satisfaction",
        "visit_attempts",
        "rating_excluded",
        "rating_excluded_reason",
        "rating_comment",
    ], payload


def _archive(demand, actor, now, note, **_kwargs):
    demand.closed_at = now
    return ["closed_at"], payloads.Archived()


def _supervise(demand, actor, now, note, *, kind="", automatic=False, **_kwargs):
    if automatic:  # re-checked under the row lock, so concurrent ticks cannot double-escalate
        already = demand.supervised_at is not None and (
            kind == "contact" or (demand.finish_due and demand.supervised_at >= demand.finish_due)
        )
        if already:
            raise WorkflowError(
                "already_supervised", _("Already supervised for this deadline."), kind="conflict"
            )
    demand.supervised_at, demand.supervision_count = now, demand.supervision_count + 1
    demand.supervision_note = note[:500] if note else demand.supervision_note
    return ["supervised_at", "supervision_count", "supervision_note"], payloads.Supervised(
        kind=kind, automatic=bool(automatic)
    )


def _recategorise(demand, actor, now, note, *, category=None, **_kwargs):
    from changxin.demands.models import Category

    pk = getattr(category, "pk", category)
    chosen = Category.objects.filter(pk=pk, is_active=True).first() if pk not in (None, "") else None
    if chosen is None:
        raise WorkflowError("invalid", _("Choose a category."), field="category")
    if chosen.pk == demand.category_id:
        raise WorkflowError("invalid", _("The demand already has this category."), field="category")
    old = demand.category
    demand.category = chosen
    return ["category"], payloads.Recategorised(
        old=old.pk if old else None,
        new=chosen.pk,
        old_name=old.full_name if old else "",
        new_name=chosen.full_name,
    )


def _merge(demand, actor, now, note, *, master=None, **_kwargs):
    target = Demand.objects.filter(pk=getattr(master, "pk", master)).first() if master else None
    if target is None:
        raise WorkflowError("invalid", _("Choose the master demand."), field="master")
    while target.master_id:
        target = target.master
    if target.pk == demand.pk:
        raise WorkflowError("invalid", _("A demand cannot be merged into itself."), field="master")
    demand.master = target
    demand.closed_at = now
    _withdraw_open_tasks(demand, now, _("Merged into %(number)s.") % {"number": target.number})
    return ["master", "closed_at"], payloads.Merged(master=target.pk, master_number=target.number)


HANDLERS = {
    "answer": _answer,
    "dispatch": _dispatch,
    "assign": _assign_person,
    "acknowledge": _acknowledge,
    "dispute": _dispute,
    "redispatch": _redispatch,
    "reject_dispute": _reject_dispute,
    "contact": _contact,
    "start": _start,
    "request_extension": _request_extension,
    "approve_extension": _approve_extension,
    "deny_extension": _deny_extension,
    "whistle": _whistle,
    "task_acknowledge": _task_acknowledge,
    "task_complete": _task_complete,
    "withdraw_task": _withdraw_task,
    "submit_reply": _submit_reply,
    "submit_dispute": _submit_dispute,
    "submit_extension": _submit_extension,
    "approve_reply": _approve_reply,
    "approve_dispute": _approve_dispute,
    "approve_extension_request": _approve_extension_request,
    "return_review": _return_review,
    "reply": _reply,
    "visit_attempt": _visit_attempt,
    "return_visit": _return_visit,
    "exclude_rating": _exclude_rating,
    "reopen": _reopen,
    "archive": _archive,
    "supervise": _supervise,
    "merge": _merge,
    "recategorise": _recategorise,
}
assert set(HANDLERS) == set(workflow.TRANSITIONS), "every transition needs exactly one handler"


# --- periodic escalation ---------------------------------------------------------------------


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """督办 every open demand that missed a deadline and has not been supervised for that miss.

    Idempotent: a demand is supervised once per missed contact deadline and once per missed finish
    deadline (again only if an extension moved the deadline and it was missed again).
    """
    now = now or timezone.now()
    count = 0
    # only the misses not yet supervised (the checks below, in SQL), so the every-minute job reads
    # what it will act on, through the open-deadline indexes, not every overdue demand again
    not_supervised = (
        Q(finish_due__lt=now) & (Q(supervised_at__isnull=True) | Q(supervised_at__lt=F("finish_due")))
    ) | Q(contacted_at__isnull=True, contact_due__lt=now, supervised_at__isnull=True)
    candidates = (
        Demand.objects.filter(deadlines.overdue_q(now))
        .filter(not_supervised)
        .order_by()
        .values_list("pk", "contacted_at", "contact_due", "finish_due", "supervised_at")
    )
    for pk, contacted_at, contact_due, finish_due, supervised_at in candidates.iterator():
        if finish_due and finish_due < now and (supervised_at is None or supervised_at < finish_due):
            kind = "finish"
        elif contacted_at is None and contact_due and contact_due < now and supervised_at is None:
            kind = "contact"
        else:
            continue
        try:
            transition(pk, "supervise", None, now=now, kind=kind, automatic=True)
            count += 1
        except WorkflowError:
            continue  # it changed state meanwhile
    return count
