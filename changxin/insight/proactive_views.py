"""Thin views of 未诉先办 (proactive tasks) and 每月一题 (problems of the month): parse, call one
service of insight/proactive.py or insight/monthly.py, render. The public page needs no login."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from changxin.core import params, roles
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.privacy import scrub_contacts
from changxin.demands.models import OPEN_STATES
from changxin.insight import monthly as monthly_mod
from changxin.insight import proactive, selectors
from changxin.insight.metrics import add_months, parse_month, this_month
from changxin.insight.views import insight_view


def _pct_change(before: int, after: int) -> int | None:
    return None if not before else round((after - before) * 100 / before)


def _task_row(task, counts):
    return {
        "task": task,
        "assignee": proactive.assignee_of(task),
        "counts": counts,
        "change_cell": _pct_change(counts["before"]["cell"], counts["after"]["cell"])
        if counts.get("after")
        else None,
        "change_group": _pct_change(counts["before"]["group"], counts["after"]["group"])
        if counts.get("after")
        else None,
    }


def spot_context(request, spot) -> dict:
    """The hot spot page's 未诉先办 / 每月一题 section: its tasks with before/after counts, and the
    forms the viewer may use."""
    user = request.user
    tasks = proactive.tasks_for_spot(user, spot)
    may_create = proactive.may_create_for(user, spot.street)
    return {
        "tasks": [_task_row(task, proactive.before_after(task)) for task in tasks],
        "may_create": may_create,
        "task_units": list(proactive.units_for(user)) if may_create else [],
        "default_unit": spot.street_id,
        "communities": proactive.spot_communities(spot) if may_create else [],
        "may_propose": roles.is_centre(user),
        "propose_units": list(proactive.units_for(user)) if roles.is_centre(user) else [],
        "this_month": f"{this_month():%Y-%m}",
        "next_month": f"{add_months(this_month(), 1):%Y-%m}",
        "window_days": proactive.window_days(),
    }


def _refused(error: DomainError):
    if error.kind == FORBIDDEN:
        raise PermissionDenied(str(error.message))


@require_POST
@insight_view
def create_task(request, pk):
    from changxin.insight.views import hot_spot_page

    spot = selectors.get_hot_spot(request.user, pk)
    if not proactive.may_create_for(request.user, spot.street):
        raise PermissionDenied
    try:
        task = proactive.create_task(
            request.user,
            spot,
            unit=params.parse_int(request.POST.get("unit"), min_value=1),
            community=params.parse_int(request.POST.get("community"), min_value=1),
            note=params.text(request.POST.get("note"), 2001),
        )
    except DomainError as error:
        _refused(error)
        return hot_spot_page(request, spot, status=400, task_error=error)
    messages.success(
        request,
        _("Proactive task %(number)s created and dispatched to %(unit)s.")
        % {"number": task.demand.number, "unit": task.demand.lead_unit.name},
    )
    return redirect(reverse("insight:hot-spot", args=[spot.pk]) + "#proactive")


@require_POST
@insight_view
def propose(request, pk):
    from changxin.insight.views import hot_spot_page

    spot = selectors.get_hot_spot(request.user, pk)
    if not roles.is_centre(request.user):
        raise PermissionDenied
    try:
        problem = monthly_mod.propose(
            request.user,
            spot,
            month=params.parse_month(request.POST.get("month")),
            lead_unit=params.parse_int(request.POST.get("lead_unit"), min_value=1),
            title=params.text(request.POST.get("title"), 120),
            description=params.text(request.POST.get("description"), 2001),
        )
    except DomainError as error:
        _refused(error)
        return hot_spot_page(request, spot, status=400, propose_error=error)
    messages.success(request, _("Proposed as a problem of the month."))
    return redirect("insight:monthly-problem", problem.pk)


@require_GET
@insight_view
def task_list(request):
    state = request.GET.get("state", "")
    tasks = proactive.tasks_visible_to(request.user).prefetch_related("demand__tasks__assignee")
    if state == "open":
        tasks = tasks.filter(demand__state__in=sorted(OPEN_STATES))
    elif state == "closed":
        tasks = tasks.exclude(demand__state__in=sorted(OPEN_STATES))
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    rows = [_task_row(task, task.counts or {}) for task in page]
    return render(
        request,
        "insight/proactive_tasks.html",
        {"page": page, "rows": rows, "state": state, "window_days": proactive.window_days()},
    )


@require_POST
@login_required
def take(request, pk):
    """A party member takes a proactive task of their responsibility area (as the assignee)."""
    task = proactive.get_task(request.user, pk)
    try:
        proactive.take(task, request.user)
    except DomainError as error:
        _refused(error)
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The task is yours: it is on your workbench."))
    member = proactive.member_for(request.user)
    return redirect("pioneers:member", member.pk) if member else redirect("insight:proactive")


# --- 每月一题 ------------------------------------------------------------------------------------


def _month(request):
    return parse_month(params.text(request.GET.get("month"), 10))


@require_GET
@insight_view
def monthly_page(request):
    month = _month(request)
    problems = list(monthly_mod.problems_visible_to(request.user, month))
    return render(
        request,
        "insight/monthly.html",
        {
            "month": month,
            "month_str": f"{month:%Y-%m}",
            "prev_month": f"{add_months(month, -1):%Y-%m}",
            "next_month": f"{add_months(month, 1):%Y-%m}",
            "problems": problems,
            "limit": monthly_mod.month_limit(),
        },
    )


def _problem_page(request, problem, *, status=200, error=None):
    user = request.user
    actions = {t.name for t in monthly_mod.available(user, problem)}
    months = monthly_mod.chart_months(problem.month)
    counts = monthly_mod.monthly_counts([problem], months).get(problem.pk, [])
    tasks = list(
        proactive.tasks_visible_to(user)
        .filter(monthly_problem=problem)
        .prefetch_related("demand__tasks__assignee")
    )
    refusals = {}
    for name in ("choose", "solve"):
        step = monthly_mod.MACHINE.table[name]
        if problem.state in step.sources and monthly_mod.relations_of(user, problem) & step.actors:
            guard = step.failed_guard(problem)
            if guard is not None:
                refusals[name] = guard.refusal(problem).message
    return render(
        request,
        "insight/monthly_problem.html",
        {
            "problem": problem,
            "actions": actions,
            "refusals": refusals,
            "tasks": [_task_row(task, task.counts or {}) for task in tasks],
            "task_units": list(proactive.units_for(user, lead=True)) if "add_task" in actions else [],
            "chart": {"months": [f"{m:%Y-%m}" for m in months], "counts": counts},
            "table": list(zip([f"{m:%Y-%m}" for m in months], counts, strict=False)),
            "open_milestones": [m for m in problem.milestones.all() if m.done_on is None],
            "error": error,
            "today": timezone.localdate(),
        },
        status=status,
    )


@require_GET
@insight_view
def problem(request, pk):
    return _problem_page(request, monthly_mod.get_problem(request.user, pk))


@require_POST
@insight_view
def problem_act(request, pk):
    problem = monthly_mod.get_problem(request.user, pk)
    if not monthly_mod.relations_of(request.user, problem):
        raise PermissionDenied
    action = params.text(request.POST.get("action"), 32)
    if action not in monthly_mod.FORM_ACTIONS:
        return _problem_page(
            request, problem, status=400, error=DomainError("invalid", _("Choose an action."), "action")
        )
    try:
        monthly_mod.act(
            problem,
            action,
            request.user,
            note=params.text(request.POST.get("note"), 1001),
            title=params.text(request.POST.get("title"), 121),
            due_on=params.parse_date(request.POST.get("due_on")),
            milestone=params.parse_int(request.POST.get("milestone"), min_value=1),
            done_on=params.parse_date(request.POST.get("done_on")),
        )
    except DomainError as error:
        _refused(error)
        return _problem_page(request, problem, status=400, error=error)
    messages.success(request, _("Saved."))
    return redirect("insight:monthly-problem", problem.pk)


@require_POST
@insight_view
def problem_task(request, pk):
    problem = monthly_mod.get_problem(request.user, pk)
    if not monthly_mod.relations_of(request.user, problem):
        raise PermissionDenied
    try:
        task = proactive.create_task(
            request.user,
            problem=problem,
            unit=params.parse_int(request.POST.get("unit"), min_value=1),
            note=params.text(request.POST.get("note"), 2001),
        )
    except DomainError as error:
        _refused(error)
        return _problem_page(request, problem, status=400, error=error)
    messages.success(
        request,
        _("Proactive task %(number)s created and dispatched to %(unit)s.")
        % {"number": task.demand.number, "unit": task.demand.lead_unit.name},
    )
    return redirect("insight:monthly-problem", problem.pk)


@require_GET
def public_month(request):
    """每月一题, for everyone (no login): the month's chosen problems, their lead units, milestones,
    progress and each problem's demands month by month. No people, only units; text scrubbed."""
    month = _month(request)
    problems = monthly_mod.public_problems(month)
    months = monthly_mod.chart_months(month)
    counts = monthly_mod.monthly_counts(problems, months)
    labels = [f"{m:%Y-%m}" for m in months]
    return render(
        request,
        "insight/monthly_public.html",
        {
            "month": month,
            "month_str": f"{month:%Y-%m}",
            "prev_month": f"{add_months(month, -1):%Y-%m}",
            "next_month": f"{add_months(month, 1):%Y-%m}" if month < this_month() else "",
            "rows": [
                {
                    "problem": p,
                    "counts": counts.get(p.pk, []),
                    "table": list(zip(labels, counts.get(p.pk, []), strict=False)),
                }
                for p in problems
            ],
            "chart": {
                "months": labels,
                "series": [
                    {"name": scrub_contacts(p.title), "counts": counts.get(p.pk, [])} for p in problems
                ],
            },
        },
    )
