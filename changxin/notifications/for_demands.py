"""What the demand engine's events and deadlines mean for the inbox and the requester.

Called by the subscribers (subscribers.py) with one published DemandEvent, and by the periodic
deadline scan (tasks.py). Who is told:
- a unit's active officers and leaders (users whose unit *is* that unit; parents' users are not
  told, to avoid flooding a street's leaders with every community's work), and
- the person the lead task is assigned to, for what concerns the lead unit;
- never the actor of the event themself.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from changxin.core.models import OrgUnit
from changxin.demands import deadlines
from changxin.demands import events as payloads
from changxin.demands.models import Demand, DemandTask, TaskRole, TaskState
from changxin.demands.selectors import unscoped_demands
from changxin.notifications import services
from changxin.notifications.models import MessageKind, Notification, NotificationKind
from changxin.notifications.texts import DEADLINES, INBOX, REQUESTER, when

# An event older than this when it reaches us is history (a backdated demo step, a catch-up after a
# long outage): nobody is messaged about it.
STALE_AFTER = dt.timedelta(days=3)

INBOX_ACTIONS = frozenset(
    {
        "dispatch",
        "redispatch",
        "reopen",
        "assign",
        "whistle",
        "reject_dispute",
        "supervise",
        "approve_extension",
        "deny_extension",
    }
)
REQUESTER_ACTIONS = {
    "receive": MessageKind.ACCEPTED,
    "reply": MessageKind.REPLIED,
    "approve_reply": MessageKind.REPLIED,  # a reply approved by the unit leader leaves the unit
    "answer": MessageKind.REPLIED,
}


def is_stale(event, now: dt.datetime | None = None) -> bool:
    return event.at < (now or timezone.now()) - STALE_AFTER


def lead_assignees(demand_ids) -> dict[int, int]:
    """{demand id: user id} of the person each demand's open lead task is assigned to."""
    rows = DemandTask.objects.filter(
        demand_id__in=list(demand_ids),
        role=TaskRole.LEAD,
        state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED],
        assignee__isnull=False,
    ).values_list("demand_id", "assignee_id")
    return dict(rows)


def _staff_ids(*unit_ids) -> list[int]:
    return [u.pk for u in services.unit_staff(unit_ids)]


def _send(kind, text_key, user_ids, demand, event, **params) -> int:
    title, body = INBOX[text_key]
    base = {"number": demand.number, "title": demand.title[:60]}
    return services.notify(
        user_ids,
        kind,
        title,
        body,
        services.demand_url(demand),
        demand=demand,
        event_id=event.pk,
        params={**base, **params},
        exclude=[event.actor_id],
    )


def notify_staff(event) -> int:
    """The inbox notifications of one demand event; returns how many were written."""
    demand = unscoped_demands().select_related("lead_unit").get(pk=event.demand_id)
    payload = payloads.read(event)
    action = event.action
    written = 0
    lead_people = None
    if action in ("supervise", "approve_extension", "deny_extension"):
        lead_people = _staff_ids(demand.lead_unit_id) + list(lead_assignees([demand.pk]).values())

    if isinstance(payload, payloads.Dispatched):  # dispatch, redispatch, reopen
        K = NotificationKind
        written += _send(
            K.DISPATCHED, K.DISPATCHED, _staff_ids(payload.lead_unit), demand, event,
            unit=payload.lead_unit_name, contact_due=when(payload.contact_due), finish_due=when(payload.finish_due),
        )  # fmt: skip
        for unit in OrgUnit.objects.filter(pk__in=payload.co_units):
            written += _send(
                K.DISPATCHED, "co_dispatched", _staff_ids(unit.pk), demand, event,
                unit=unit.name, lead_unit=payload.lead_unit_name, finish_due=when(payload.finish_due),
            )  # fmt: skip
        upheld_for = getattr(payload, "dispute_upheld_for", None)
        if upheld_for:
            written += _send(
                K.DISPUTE_UPHELD, K.DISPUTE_UPHELD, _staff_ids(upheld_for), demand, event,
                new_unit=payload.lead_unit_name,
            )  # fmt: skip
    elif action == "assign" and payload.assignee:
        written += _send(
            NotificationKind.ASSIGNED, NotificationKind.ASSIGNED, [payload.assignee], demand, event
        )
    elif action == "whistle":
        caller = event.actor_unit.name if event.actor_unit_id else str(demand.lead_unit or "")
        for unit in OrgUnit.objects.filter(pk__in=payload.units):
            written += _send(
                NotificationKind.CALLED_IN, NotificationKind.CALLED_IN, _staff_ids(unit.pk), demand, event,
                caller=caller, unit=unit.name, due=when(payload.due_at),
            )  # fmt: skip
    elif action == "reject_dispute" and payload.dispute_rejected_for:
        unit = OrgUnit.objects.filter(pk=payload.dispute_rejected_for).first()
        written += _send(
            NotificationKind.DISPUTE_REJECTED, NotificationKind.DISPUTE_REJECTED,
            _staff_ids(payload.dispute_rejected_for), demand, event, unit=unit.name if unit else "",
        )  # fmt: skip
    elif action == "supervise":
        written += _send(
            NotificationKind.SUPERVISED, NotificationKind.SUPERVISED, lead_people, demand, event,
            deadline=DEADLINES.get(payload.kind, payload.kind),
        )  # fmt: skip
    elif action == "approve_extension":
        written += _send(
            NotificationKind.EXTENSION_APPROVED, NotificationKind.EXTENSION_APPROVED, lead_people, demand, event,
            days=payload.days, finish_due=when(payload.finish_due),
        )  # fmt: skip
    elif action == "deny_extension":
        written += _send(
            NotificationKind.EXTENSION_DENIED, NotificationKind.EXTENSION_DENIED, lead_people, demand, event,
            finish_due=when(demand.finish_due),
        )  # fmt: skip
    return written


def message_requester(event) -> int:
    """The requester's SMS/e-mail for an intake or a reply; returns how many were queued."""
    kind = REQUESTER_ACTIONS[event.action]
    demand = unscoped_demands().select_related("requester_user").get(pk=event.demand_id)
    subject, text = REQUESTER[kind]
    params = {"number": demand.number, "code": demand.tracking_code, "url": services.tracking_url(demand)}
    return len(services.send_to_requester(demand, kind, subject, text, params=params, event_id=event.pk))


# --- deadlines: not events, a periodic scan ------------------------------------------------------

SCAN_BATCH = 500


def _missed(contacted_at, contact_due, finish_due, now) -> tuple[str, dt.datetime]:
    if finish_due and finish_due < now:
        return "finish", finish_due
    return "contact", contact_due


def _upcoming(contacted_at, contact_due, finish_due, now) -> tuple[str, dt.datetime]:
    ahead = [("finish", finish_due)] if finish_due and finish_due >= now else []
    if contacted_at is None and contact_due and contact_due >= now:
        ahead.append(("contact", contact_due))
    return min(ahead, key=lambda pair: pair[1])


def notify_deadlines(now: dt.datetime | None = None) -> int:
    """Tell each open demand's lead unit (and assignee) once per deadline that it is nearly overdue,
    and once that it is overdue. Idempotent: the notification's key is the deadline and its time
    (an extension moves the finish deadline, which is then a new one). Returns how many were written."""
    now = now or timezone.now()
    open_demands = unscoped_demands().filter(lead_unit__isnull=False)
    fields = ("pk", "number", "title", "lead_unit_id", "contacted_at", "contact_due", "finish_due")
    plans = [
        (NotificationKind.OVERDUE, deadlines.list_overdue(open_demands, now), _missed),
        (NotificationKind.NEARLY_OVERDUE, deadlines.list_nearly_overdue(open_demands, now), _upcoming),
    ]
    written = 0
    staff: dict[int, list[int]] = {}
    for kind, queryset, which in plans:
        rows = list(queryset.order_by("pk").values_list(*fields))
        for start in range(0, len(rows), SCAN_BATCH):
            batch = rows[start : start + SCAN_BATCH]
            assignees = lead_assignees([row[0] for row in batch])
            done = set(
                Notification.objects.filter(kind=kind, demand_id__in=[row[0] for row in batch])
                .exclude(key="")
                .values_list("recipient_id", "demand_id", "key")
            )
            for pk, number, title, unit_id, contacted_at, contact_due, finish_due in batch:
                deadline, due = which(contacted_at, contact_due, finish_due, now)
                key = f"{deadline}:{due.isoformat()}"
                if unit_id not in staff:
                    staff[unit_id] = _staff_ids(unit_id)
                people = set(staff[unit_id]) | ({assignees[pk]} if pk in assignees else set())
                people = {p for p in people if (p, pk, key) not in done}
                if not people:
                    continue
                title_text, body_text = INBOX[kind]
                written += services.notify(
                    people,
                    kind,
                    title_text,
                    body_text,
                    services.demand_url(pk),
                    demand=Demand(pk=pk),
                    key=key,
                    params={
                        "number": number,
                        "title": title[:60],
                        "deadline": DEADLINES[deadline],
                        "due": when(due),
                    },
                )
    return written
