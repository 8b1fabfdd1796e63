"""每月一题: the month's chosen problems, on the core workflow machine.

    propose(actor, spot, month=…, lead_unit=…)     a hot spot proposed as a problem of the month (centre)
    act(problem, name, actor, note=…, **data)      every other change: choose, start, milestones,
                                                   progress, tasks, solve, close — MACHINE decides

Lifecycle: proposed → chosen → in progress → solved, or closed (dropped) from any open state.
Actors: CENTRE (the 接诉即办 centre records what district leadership decides; leadership itself is
read-only on the platform) and LEAD (officers and leaders of the lead unit's subtree). Guards name
the rule: a problem is chosen only with a milestone planned and while the month has room
(settings.CHANGXIN_MONTHLY_PROBLEMS, default 3: "2–3 concrete problems a month"); it is solved only
when every milestone is done and every proactive task of it is finished.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import audit, params, roles
from changxin.core import events as bus
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction, OrgUnit, User
from changxin.core.scope import get_visible_or_404, restrict
from changxin.core.workflow import Guard, Machine, WorkflowError
from changxin.core.workflow import transition as t
from changxin.demands.models import CLOSED_STATES, OPEN_STATES
from changxin.demands.selectors import unscoped_demands
from changxin.insight.metrics import add_months
from changxin.insight.models import (
    HotSpot,
    Milestone,
    MonthlyProblem,
    ProblemEvent,
    ProblemProgress,
    ProblemState,
)

CENTRE, LEAD = "centre", "lead"
MONTHLY_PROBLEMS = 3  # default of settings.CHANGXIN_MONTHLY_PROBLEMS
S = ProblemState
OPEN = (S.PROPOSED, S.CHOSEN, S.IN_PROGRESS)
WORKING = (S.CHOSEN, S.IN_PROGRESS)


def month_limit() -> int:
    return int(getattr(settings, "CHANGXIN_MONTHLY_PROBLEMS", MONTHLY_PROBLEMS))


def _open_milestones(p) -> bool:
    return p.milestones.filter(done_on__isnull=True).exists()


def _open_tasks(p) -> bool:
    return p.tasks.filter(demand__state__in=sorted(OPEN_STATES)).exists()


def _month_has_room(p) -> bool:
    chosen = MonthlyProblem.objects.filter(month=p.month, chosen_at__isnull=False).exclude(pk=p.pk)
    return chosen.exclude(state=S.CLOSED).count() < month_limit()


HAS_MILESTONE = Guard(
    lambda p, now: p.milestones.exists(),
    "no_milestones",
    gettext_lazy("Plan at least one milestone before the problem is chosen."),
)
MONTH_HAS_ROOM = Guard(
    lambda p, now: _month_has_room(p),
    "month_full",
    gettext_lazy("The month already has %(limit)s chosen problems."),
    params=lambda p: {"limit": month_limit()},
)
MILESTONES_DONE = Guard(
    lambda p, now: not _open_milestones(p),
    "milestones_open",
    gettext_lazy("Milestones are still open: a problem is solved only when every milestone is done."),
)
TASKS_FINISHED = Guard(
    lambda p, now: not _open_tasks(p),
    "tasks_open",
    gettext_lazy("Proactive tasks of this problem are still open: finish them first."),
)
MILESTONE_OPEN = Guard(
    lambda p, now: _open_milestones(p),
    "no_open_milestone",
    gettext_lazy("There is no open milestone."),
)

MACHINE = Machine(
    name="monthly_problem",
    states=ProblemState,
    noun=gettext_lazy("problem of the month"),
    transitions=[
        t("choose", gettext_lazy("Choose as a problem of the month"), [S.PROPOSED], S.CHOSEN, {CENTRE}, False,
          [HAS_MILESTONE, MONTH_HAS_ROOM]),
        t("start", gettext_lazy("Start work"), [S.CHOSEN], S.IN_PROGRESS, {CENTRE, LEAD}),
        t("add_milestone", gettext_lazy("Add a milestone"), OPEN, None, {CENTRE, LEAD}),
        t("complete_milestone", gettext_lazy("Mark a milestone done"), WORKING, None, {CENTRE, LEAD}, False,
          [MILESTONE_OPEN]),
        t("note_progress", gettext_lazy("Record progress"), WORKING, None, {CENTRE, LEAD}, True),
        t("add_task", gettext_lazy("Create a proactive task"), WORKING, None, {CENTRE, LEAD}),
        t("solve", gettext_lazy("Mark solved"), [S.IN_PROGRESS], S.SOLVED, {CENTRE}, True,
          [MILESTONES_DONE, TASKS_FINISHED]),
        t("close", gettext_lazy("Close without solving"), OPEN, S.CLOSED, {CENTRE}, True),
    ],
)  # fmt: skip
FORM_ACTIONS = {"choose", "start", "add_milestone", "complete_milestone", "note_progress", "solve", "close"}


def relations_of(user: User | None, problem: MonthlyProblem) -> set[str]:
    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    relations = set()
    if roles.is_centre(user):
        relations.add(CENTRE)
    if roles.is_unit_staff(user) and roles.covers(user, problem.lead_unit):
        relations.add(LEAD)
    return relations


def available(user: User | None, problem: MonthlyProblem):
    return MACHINE.available(problem, relations_of(user, problem))


# --- writes --------------------------------------------------------------------------------------


def _event(problem, actor, action, from_state, *, note="", data=None, at=None) -> ProblemEvent:
    event = ProblemEvent.objects.create(
        problem=problem,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if actor is not None else "system")[:150],
        action=action,
        from_state=from_state,
        to_state=problem.state,
        note=note,
        data=data or {},
    )
    bus.publish("monthly", event)
    return event


def _lead_unit(value) -> OrgUnit:
    pk = getattr(value, "pk", value)
    pk = params.parse_int(pk, min_value=1) if not isinstance(pk, int) else pk
    unit = (
        OrgUnit.objects.filter(pk=pk, kind__in=roles.DISPATCHABLE_KINDS, is_active=True).first()
        if pk
        else None
    )
    if unit is None:
        raise DomainError("invalid", _("Choose the lead unit."), "lead_unit")
    return unit


def propose(
    actor: User | None,
    spot: HotSpot,
    *,
    month: dt.date,
    lead_unit,
    title: str = "",
    description: str = "",
    now: dt.datetime | None = None,
) -> MonthlyProblem:
    """Propose a hot spot as one of `month`'s problems, with its lead unit (the centre)."""
    from changxin.insight.proactive import spot_communities

    now = now or timezone.now()
    if roles.is_read_only(actor) or not roles.is_centre(actor):
        raise DomainError("not_allowed", _("The centre records the problems of the month."), kind=FORBIDDEN)
    if not isinstance(month, dt.date):
        raise DomainError("invalid", _("Choose the month."), "month")
    unit = _lead_unit(lead_unit)
    title = (title or spot.label).strip()[:120]
    description = (description or "").strip()
    if len(description) > 2000:
        raise DomainError(
            "invalid", _("Write at most %(limit)d characters.") % {"limit": 2000}, "description"
        )
    communities = spot_communities(spot)
    with transaction.atomic():
        problem = MonthlyProblem.objects.create(
            month=month.replace(day=1),
            title=title,
            description=description,
            lead_unit=unit,
            hot_spot=spot,
            street=spot.street,
            community=communities[0] if len(communities) == 1 else None,
            category=spot.category,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
        )
        problem.source_demands.set(list(spot.demands.values_list("pk", flat=True)))
        _event(problem, actor, "propose", "", data={"hot_spot": spot.pk, "lead_unit": unit.pk}, at=now)
        audit.record(actor, AuditAction.CREATE, problem, detail=f"monthly problem {problem.month:%Y-%m}")
    return problem


def act(
    problem: MonthlyProblem | int,
    name: str,
    actor: User | None,
    *,
    note: str = "",
    now: dt.datetime | None = None,
    **data,
) -> MonthlyProblem:
    """Apply `name` to the problem on behalf of `actor`: the machine checks the state, the actor's
    relation and the guards under a row lock; the handler changes it; one event and one audit row."""
    pk = problem.pk if isinstance(problem, MonthlyProblem) else problem
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > 1000:
        raise WorkflowError("invalid", _("Write at most %(limit)d characters.") % {"limit": 1000}, "note")
    with transaction.atomic():
        locked = MonthlyProblem.objects.select_for_update(of=("self",)).select_related("lead_unit").get(pk=pk)
        step = MACHINE.check(name, locked, relations_of(actor, locked), now)
        if step.needs_note and not note:
            raise WorkflowError("note_required", _("Please write a note for this action."), field="note")
        from_state = locked.state
        if step.target:
            locked.state = step.target
        changed, payload = HANDLERS[name](locked, actor, now, note, **data)
        locked.version += 1
        locked.save(update_fields=sorted({*changed, "state", "version"}))
        _event(locked, actor, name, from_state, note=note, data=payload, at=now)
        audit.record(
            actor,
            AuditAction.STATE if from_state != locked.state else AuditAction.UPDATE,
            locked,
            detail=f"{name}: {from_state} → {locked.state}",
        )
    if isinstance(problem, MonthlyProblem):
        problem.refresh_from_db()
    return locked


def _date(value, field: str) -> dt.date:
    day = params.parse_date(value) if not isinstance(value, dt.date) else value
    if day is None:
        raise WorkflowError("invalid", _("Enter a date (YYYY-MM-DD)."), field=field)
    return day


def _choose(p, actor, now, note, **_kw):
    p.chosen_at = now
    return ["chosen_at"], {}


def _start(p, actor, now, note, **_kw):
    return [], {}


def _add_milestone(p, actor, now, note, *, title="", due_on=None, **_kw):
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise WorkflowError("invalid", _("Name the milestone (at most 120 characters)."), field="title")
    milestone = Milestone.objects.create(problem=p, title=title, due_on=_date(due_on, "due_on"))
    return [], {"milestone": milestone.pk, "title": title, "due_on": milestone.due_on.isoformat()}


def _complete_milestone(p, actor, now, note, *, milestone=None, done_on=None, **_kw):
    pk = params.parse_int(milestone, min_value=1) if not isinstance(milestone, int) else milestone
    item = p.milestones.filter(pk=pk, done_on__isnull=True).first() if pk else None
    if item is None:
        raise WorkflowError("invalid", _("Choose an open milestone."), field="milestone")
    item.done_on = _date(done_on, "done_on") if done_on else timezone.localdate(now)
    item.save(update_fields=["done_on"])
    return [], {"milestone": item.pk, "done_on": item.done_on.isoformat()}


def _note_progress(p, actor, now, note, **_kw):
    entry = ProblemProgress.objects.create(
        problem=p, on=timezone.localdate(now), text=note, unit=getattr(actor, "unit", None)
    )
    return [], {"progress": entry.pk}


def _add_task(p, actor, now, note, *, task=None, **_kw):
    if task is None or task.monthly_problem_id != p.pk:
        raise WorkflowError("invalid", _("Create the task through the proactive-task form."), field="unit")
    return [], {"task": task.pk, "demand": task.demand_id}


def _solve(p, actor, now, note, **_kw):
    p.solved_at, p.outcome = now, note
    return ["solved_at", "outcome"], {}


def _close(p, actor, now, note, **_kw):
    p.closed_at, p.outcome = now, note
    return ["closed_at", "outcome"], {}


HANDLERS = {
    "choose": _choose,
    "start": _start,
    "add_milestone": _add_milestone,
    "complete_milestone": _complete_milestone,
    "note_progress": _note_progress,
    "add_task": _add_task,
    "solve": _solve,
    "close": _close,
}
assert set(HANDLERS) == set(MACHINE.table)


# --- reads ---------------------------------------------------------------------------------------


def _problems() -> QuerySet[MonthlyProblem]:
    return MonthlyProblem.objects.select_related("lead_unit", "street", "category").prefetch_related(
        "milestones"
    )


def problems_visible_to(user: User, month: dt.date) -> QuerySet[MonthlyProblem]:
    return restrict(_problems().filter(month=month), user).order_by("created_at", "id")


def get_problem(user: User, pk: int) -> MonthlyProblem:
    return get_visible_or_404(_problems().prefetch_related("progress", "events"), user, pk=pk)


def public_problems(month: dt.date) -> list[MonthlyProblem]:
    """What the public page shows: the month's chosen problems (never a mere proposal), with their
    milestones and progress; no people, only units."""
    return list(
        MonthlyProblem.objects.filter(month=month, chosen_at__isnull=False)
        .select_related("lead_unit", "street", "category")
        .prefetch_related(
            "milestones", Prefetch("progress", queryset=ProblemProgress.objects.select_related("unit"))
        )
        .order_by("chosen_at", "id")
    )


def chart_months(month: dt.date, today: dt.date | None = None) -> list[dt.date]:
    """The months a problem's counts are shown for: the 11 before its month, its month, and the
    months after it that have begun (at most 12)."""
    current = (today or timezone.localdate()).replace(day=1)
    last = min(max(month, current), add_months(month, 12))
    months, m = [], add_months(month, -11)
    while m <= last:
        months.append(m)
        m = add_months(m, 1)
    return months


def monthly_counts(problems: list[MonthlyProblem], months: list[dt.date]) -> dict[int, list[int]]:
    """Citizens' demands per month of each problem's street × category cell (one query for all
    problems; proactive tasks are not counted). A problem without a street counts its category in
    the district, one without a category every demand of its street."""
    if not problems or not months:
        return {}
    start = timezone.make_aware(dt.datetime.combine(months[0], dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(add_months(months[-1], 1), dt.time.min))
    cells = Q()
    for p in problems:
        cell = Q()
        if p.street_id:
            cell &= Q(street_id=p.street_id)
        if p.category_id:
            cell &= Q(category_id=p.category_id)
        cells |= cell
    rows = (
        unscoped_demands()
        .citizen()
        .filter(cells, received_at__gte=start, received_at__lt=end)
        .annotate(m=TruncMonth("received_at"))
        .values("street_id", "category_id", "m")
        .annotate(n=Count("id"))
        .order_by()
    )
    index = {m: i for i, m in enumerate(months)}
    out = {p.pk: [0] * len(months) for p in problems}
    for row in rows:
        month = row["m"].date() if isinstance(row["m"], dt.datetime) else row["m"]
        i = index.get(month.replace(day=1))
        if i is None:
            continue
        for p in problems:
            if (not p.street_id or p.street_id == row["street_id"]) and (
                not p.category_id or p.category_id == row["category_id"]
            ):
                out[p.pk][i] += row["n"]
    return out


def report_rows(month: dt.date) -> tuple[list[str], list[list]]:
    """每月一题 in the monthly report (insight/reports.py): one row per problem of the month, chosen
    or proposed, with its milestones, tasks and latest progress."""
    problems = (
        MonthlyProblem.objects.filter(month=month.replace(day=1))
        .select_related("lead_unit")
        .prefetch_related("milestones", "progress", "tasks__demand")
        .order_by("created_at", "id")
    )
    columns = [
        str(_("Problem")),
        str(_("Lead unit")),
        str(_("State")),
        str(_("Milestones done")),
        str(_("Tasks closed")),
        str(_("Latest progress")),
    ]
    rows = []
    for p in problems:
        milestones = list(p.milestones.all())
        tasks = list(p.tasks.all())
        progress = sorted(p.progress.all(), key=lambda r: (r.on, r.pk))
        rows.append(
            [
                p.title,
                p.lead_unit.name,
                p.get_state_display(),
                f"{sum(1 for m in milestones if m.done_on)}/{len(milestones)}",
                f"{sum(1 for t in tasks if t.demand.state in CLOSED_STATES)}/{len(tasks)}",
                f"{progress[-1].on:%Y-%m-%d} {progress[-1].text}" if progress else "",
            ]
        )
    return columns, rows
