"""未诉先办: a hot spot turned into a proactive governance task (a demand of type 主动治理).

    create_task(actor, spot, unit=…, community=…, note=…)   hot spot → task (or problem=… for 每月一题)
    take(task, user)                                       a party member of the area takes it
    before_after(task)                                     demands before the task and after it closed

The task is a demand of the engine (`demands.services.create_demand(..., proactive=True)`), dispatched
to the chosen unit through the engine's `dispatch`, so it has the engine's deadlines, timeline,
supervision and escalation. Who may create one: the centre (any dispatchable unit) and the leader
of the hot spot's street (their own unit); district leadership is read-only. A task is offered to
the party members whose responsibility area (责任区) covers its community (or, without a community,
lies in its street): a member whose login may be assigned by the engine takes it as assignee.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core import audit, roles
from changxin.core import events as bus
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction, OrgUnit, User
from changxin.core.scope import get_visible_or_404, restrict
from changxin.demands.models import CLOSED_STATES, OPEN_STATES, Channel, DemandType, RequesterKind, TaskRole
from changxin.demands.selectors import unscoped_demands
from changxin.demands.services import create_demand, transition
from changxin.insight import hotspots
from changxin.insight.models import HotSpot, MonthlyProblem, ProactiveEvent, ProactiveTask

WINDOW_DAYS = 30  # default of settings.CHANGXIN_PROACTIVE_WINDOW_DAYS: the before/after windows


def window_days() -> int:
    return int(getattr(settings, "CHANGXIN_PROACTIVE_WINDOW_DAYS", WINDOW_DAYS))


# --- who may do what -----------------------------------------------------------------------------


def may_create_for(user: User | None, street: OrgUnit | None) -> bool:
    """The centre, or a unit leader whose unit covers the hot spot's street. Read-only: never."""
    if roles.is_read_only(user):
        return False
    return roles.is_centre(user) or (roles.is_unit_leader(user) and roles.covers(user, street))


def units_for(user: User | None, *, lead: bool = False) -> QuerySet[OrgUnit]:
    """The units `user` may give a proactive task to: the centre any dispatchable unit, a leader
    the dispatchable units of their own subtree (their street; departments are called in later).
    `lead`: the user's unit leads the problem of the month the task is for — its officers too."""
    units = OrgUnit.objects.filter(kind__in=roles.DISPATCHABLE_KINDS, is_active=True).order_by("path")
    if roles.is_centre(user):
        return units
    if roles.is_unit_leader(user) or (lead and roles.is_unit_staff(user)):
        return units.filter(path__startswith=user.unit.path)
    return units.none()


def spot_communities(spot: HotSpot) -> list[OrgUnit]:
    """The communities the hot spot's demands name, most named first."""
    counts = Counter(spot.demands.exclude(community=None).values_list("community_id", flat=True))
    units = OrgUnit.objects.in_bulk(list(counts))
    return [units[pk] for pk, _n in counts.most_common() if pk in units]


# --- writes --------------------------------------------------------------------------------------


def _record(task: ProactiveTask, actor, action: str, *, note: str = "", data=None, at=None) -> ProactiveEvent:
    event = ProactiveEvent.objects.create(
        task=task,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if actor is not None else "system")[:150],
        action=action,
        note=note,
        data=data or {},
    )
    bus.publish("proactive", event)
    return event


def _community(value, street: OrgUnit | None) -> OrgUnit | None:
    if value in (None, ""):
        return None
    pk = getattr(value, "pk", value)
    community = OrgUnit.objects.filter(pk=pk, kind__in=roles.COMMUNITY_KINDS, is_active=True).first()
    if community is None or (street is not None and not street.is_ancestor_of(community)):
        raise DomainError("invalid", _("Choose a community of the hot spot's street."), "community")
    return community


def create_task(
    actor: User | None,
    spot: HotSpot | None = None,
    *,
    unit,
    community=None,
    note: str = "",
    problem: MonthlyProblem | None = None,
    now: dt.datetime | None = None,
) -> ProactiveTask:
    """Turn a hot spot (or a problem of the month) into a proactive task for `unit`: a demand of
    type 主动治理 created and dispatched through the demand engine, linked here with an event and
    an audit row. Raises DomainError naming the rule (and the form field) when refused."""
    if (spot is None) == (problem is None):
        raise ValueError("give a hot spot or a problem of the month")
    now = now or timezone.now()
    source = spot or problem
    if roles.is_read_only(actor):
        raise DomainError("read_only", _("Your role is read-only."), kind=FORBIDDEN)
    if problem is not None:
        from changxin.insight import monthly

        monthly.MACHINE.check("add_task", problem, monthly.relations_of(actor, problem), now)
        label = problem.title
    else:
        if not may_create_for(actor, spot.street):
            raise DomainError(
                "not_allowed",
                _("Only the centre and the leader of the hot spot's street create proactive tasks."),
                kind=FORBIDDEN,
            )
        label = spot.label
    pk = getattr(unit, "pk", unit)
    lead = units_for(actor, lead=problem is not None).filter(pk=pk).first() if pk not in (None, "") else None
    if lead is None:
        raise DomainError("unit_outside_scope", _("Choose a unit you may give the task to."), "unit")
    place = (
        _community(community, source.street)
        if community not in (None, "")
        else source.community
        if problem
        else None
    )
    note = (note or "").strip()
    if len(note) > 2000:
        raise DomainError("invalid", _("Write at most %(limit)d characters.") % {"limit": 2000}, "note")
    sources = (
        list(source.demands.values_list("pk", flat=True))
        if spot
        else list(problem.source_demands.values_list("pk", flat=True))
    )
    content = _(
        "Proactive governance task (未诉先办) for the problem “%(label)s”: %(count)d demands about it in "
        "%(street)s. Find the cause on site and solve it before more people have to call."
    ) % {"label": label, "count": len(sources), "street": source.street.name if source.street else "—"}
    if note:
        content = f"{content}\n{note}"
    data = {
        "channel": Channel.PROACTIVE,
        "demand_type": DemandType.PROACTIVE,
        "title": (_("Proactive: %(label)s") % {"label": label})[:120],
        "content": content,
        "requester_kind": RequesterKind.ANONYMOUS,
        "street": source.street,
        "community": place,
        "category": source.category,
    }
    try:
        with transaction.atomic():
            demand, _created = create_demand(data, actor=actor, proactive=True, received_at=now)
            # the engine's dispatch: the centre dispatches in person; for a street leader the
            # platform does (the dispatch row is the system's, the creation row is the leader's)
            transition(demand, "dispatch", actor if roles.is_centre(actor) else None, lead_unit=lead, now=now)
            task = ProactiveTask.objects.create(
                demand=demand,
                hot_spot=spot,
                label=label[:120],
                spot_as_of=spot.as_of if spot else (problem.hot_spot.as_of if problem.hot_spot_id else None),
                street=source.street,
                community=place,
                category=source.category,
                monthly_problem=problem,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                created_at=now,
            )
            task.source_demands.set(sources)
            _record(
                task,
                actor,
                "create",
                note=note,
                data={
                    "demand": demand.pk,
                    "number": demand.number,
                    "hot_spot": spot.pk if spot else None,
                    "problem": problem.pk if problem else None,
                    "unit": lead.pk,
                    "unit_name": lead.name,
                },
                at=now,
            )
            audit.record(
                actor, AuditAction.CREATE, task, detail=f"proactive task {demand.number} → {lead.code}"
            )
            if problem is not None:
                from changxin.insight import monthly

                monthly.act(problem, "add_task", actor, now=now, task=task)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise DomainError("invalid", messages[0], field) from error
    return task


def member_for(user: User | None):
    from changxin.pioneers.models import PartyMember

    if not roles.is_active(user):
        return None
    return PartyMember.objects.filter(user=user).prefetch_related("areas").first()


def in_area(task: ProactiveTask, member) -> bool:
    """The task's place lies in the member's responsibility area: its community is one of the
    member's, or (a task without a community) one of the member's communities is in its street."""
    areas = list(member.areas.all())
    if task.community_id:
        return any(a.pk == task.community_id for a in areas)
    return task.street is not None and any(task.street.is_ancestor_of(a) for a in areas)


def _lead_assignee(task: ProactiveTask) -> int | None:
    lead = [t for t in task.demand.tasks.all() if t.role == TaskRole.LEAD and t.state != "withdrawn"]
    return max(lead, key=lambda t: t.pk).assignee_id if lead else None


def take_refusal(task: ProactiveTask, user: User | None) -> DomainError | None:
    """Why `user` may not take the task (None: they may)."""
    if roles.is_read_only(user):
        return DomainError("read_only", _("Your role is read-only."), kind=FORBIDDEN)
    member = member_for(user)
    if member is None:
        return DomainError(
            "not_a_member",
            _("Only a party member with a linked login takes a proactive task."),
            kind=FORBIDDEN,
        )
    if not in_area(task, member):
        return DomainError(
            "outside_area", _("The task lies outside your responsibility area (责任区)."), kind=FORBIDDEN
        )
    if task.demand.state not in OPEN_STATES:
        return DomainError("task_closed", _("The task is finished."), kind="conflict")
    if _lead_assignee(task) == user.pk:
        return DomainError("already_yours", _("You have already taken this task."), kind="conflict")
    return None


def take(task: ProactiveTask, user: User, *, now: dt.datetime | None = None) -> ProactiveTask:
    """A party member of the area takes the task: the engine's `assign` makes them the lead task's
    assignee (the engine still requires a person of the lead unit's subtree or a service manager)."""
    refusal = take_refusal(task, user)
    if refusal is not None:
        raise refusal
    member = member_for(user)
    with transaction.atomic():
        transition(
            task.demand,
            "assign",
            None,
            assignee=user.pk,
            now=now,
            note=_("Taken by party member %(name)s (responsibility area).") % {"name": member.name},
        )
        _record(task, user, "take", data={"member": member.pk, "user": user.pk}, at=now)
        audit.record(user, AuditAction.UPDATE, task, detail=f"taken by member {member.pk}")
    return task


# --- reads ---------------------------------------------------------------------------------------


def _tasks() -> QuerySet[ProactiveTask]:
    return ProactiveTask.objects.select_related(
        "demand", "demand__lead_unit", "street", "community", "category", "monthly_problem"
    )


def tasks_visible_to(user: User) -> QuerySet[ProactiveTask]:
    return restrict(_tasks(), user)


def get_task(user: User, pk: int) -> ProactiveTask:
    return get_visible_or_404(_tasks(), user, pk=pk)


def tasks_for_spot(user: User, spot: HotSpot) -> list[ProactiveTask]:
    """The tasks made from this hot spot, or from an earlier run's row of the same problem (one of
    its demands is among the task's)."""
    linked = Q(hot_spot=spot) | Q(
        pk__in=ProactiveTask.source_demands.through.objects.filter(
            demand_id__in=spot.demands.values("pk")
        ).values("proactivetask_id")
    )
    return list(tasks_visible_to(user).filter(linked).prefetch_related("demand__tasks__assignee"))


def offers_for_member(viewer: User, member) -> list[ProactiveTask]:
    """Open proactive tasks in the member's responsibility area, as far as the viewer may see them."""
    areas = list(member.areas.all())
    if not areas:
        return []
    streets = {a.parent_id for a in areas if a.parent_id}
    place = Q(community__in=[a.pk for a in areas]) | Q(community=None, street__in=streets)
    return list(
        tasks_visible_to(viewer)
        .filter(place, demand__state__in=sorted(OPEN_STATES))
        .prefetch_related("demand__tasks__assignee")[:20]
    )


def assignee_of(task: ProactiveTask):
    lead = [t for t in task.demand.tasks.all() if t.role == TaskRole.LEAD and t.state != "withdrawn"]
    return max(lead, key=lambda t: t.pk).assignee if lead else None


# --- before / after --------------------------------------------------------------------------------


def _similar(sources: list[hotspots.Item], candidates: list[hotspots.Item], threshold: float) -> list[bool]:
    """For each candidate: is it as similar to one of the problem's demands as the grouping links
    demands (cosine of the same character n-gram TF-IDF vectors ≥ `threshold`)?"""
    if not sources or not candidates:
        return [False] * len(candidates)
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    params = hotspots.DEFAULT
    texts = [hotspots._text(item, params) for item in sources + candidates]
    try:
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True).fit_transform(
            texts
        )
    except ValueError:
        return [False] * len(candidates)
    products = (matrix[len(sources) :] @ matrix[: len(sources)].T).toarray()
    return list(np.max(products, axis=1) >= threshold - 1e-9)


def before_after(task: ProactiveTask, *, now: dt.datetime | None = None) -> dict:
    """Demands of the task's street × category cell, and of its problem (demands of the street as
    similar to the problem's demands as the grouping links them), in equal windows: the `n` days
    before the task was created and the `n` days after it closed, n = the configured window
    (30 days), shortened while fewer days have passed since the close. Proactive tasks are not
    counted (they are not citizens' demands)."""
    now = now or timezone.now()
    full = window_days()
    demand = task.demand
    closed_at = (demand.replied_at or demand.closed_at) if demand.state in CLOSED_STATES else None
    days = min(full, (now - closed_at).days) if closed_at else 0
    after = (closed_at, closed_at + dt.timedelta(days=days)) if closed_at and days > 0 else None
    length = days if after else full  # equal windows once there is an after-window
    before = (task.created_at - dt.timedelta(days=length), task.created_at)
    windows = [before] + ([after] if after else [])
    place = Q(street=task.street) if task.street_id else Q(street__isnull=True)
    span = Q()
    for start, end in windows:
        span |= Q(received_at__gte=start, received_at__lt=end)
    rows = list(
        unscoped_demands()
        .citizen()
        .filter(place & span)
        .values_list("pk", "received_at", "category_id", "title", "content", "address", "community_id")
    )
    source_ids = set(task.source_demands.values_list("pk", flat=True))
    sources = [
        hotspots.Item(
            id=str(pk),
            day=timezone.localtime(received).date(),
            title=title,
            content=content[:120],
            address=address,
        )
        for pk, received, title, content, address in unscoped_demands()
        .filter(pk__in=source_ids)
        .values_list("pk", "received_at", "title", "content", "address")
    ]
    candidates = [
        hotspots.Item(
            id=str(r[0]),
            day=timezone.localtime(r[1]).date(),
            title=r[3],
            content=(r[4] or "")[:120],
            address=r[5],
        )
        for r in rows
    ]
    similar = _similar(sources, candidates, hotspots.DEFAULT.similarity)

    def count(window):
        start, end = window
        cell = group = 0
        for row, is_similar in zip(rows, similar, strict=True):
            if not start <= row[1] < end:
                continue
            if row[2] == task.category_id:
                cell += 1
            if is_similar or row[0] in source_ids:
                group += 1
        return {"cell": cell, "group": group}

    return {
        "window_days": length,
        "full_window": full,
        "closed": bool(closed_at),
        "before": {**count(before), "start": before[0].isoformat(), "end": before[1].isoformat()},
        "after": {**count(after), "start": after[0].isoformat(), "end": after[1].isoformat()}
        if after
        else None,
        "computed_at": now.isoformat(),
    }


def refresh_counts(now: dt.datetime | None = None) -> dict:
    """Store the before/after counts of every task whose after-window is not complete yet (the
    list page shows the stored figures; the hot-spot page computes them afresh). Idempotent."""
    full = window_days()
    refreshed = 0
    for task in _tasks().iterator(chunk_size=200):
        stored = task.counts or {}
        if stored.get("closed") and stored.get("window_days") == full and stored.get("full_window") == full:
            continue
        ProactiveTask.objects.filter(pk=task.pk).update(counts=before_after(task, now=now))
        refreshed += 1
    return {"refreshed": refreshed}
