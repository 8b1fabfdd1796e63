"""每月一题: the lifecycle on the workflow machine (guards name the rule), who may act, the public
page (no login, no people), and the problem's demands month by month."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core.audit import entries_for
from changxin.core.errors import DomainError
from changxin.core.models import Role
from changxin.core.tests.builders import (
    CHANGXINDIAN,
    LUGOUQIAO,
    ensure_taxonomy,
    make_user,
    monthly_problem_in,
    unit,
)
from changxin.core.workflow import WorkflowError
from changxin.demands.services import create_demand, transition
from changxin.insight import monthly, proactive
from changxin.insight.metrics import add_months
from changxin.insight.models import MonthlyProblem, ProblemEvent, ProblemState

pytestmark = pytest.mark.django_db


def _code(call) -> str:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.code


def test_lifecycle_and_guards(demo_world, settings):
    centre, officer, leadership = demo_world["dispatcher"], demo_world["lugouqiao"], demo_world["leader"]
    problem = monthly_problem_in(LUGOUQIAO)
    assert problem.state == ProblemState.PROPOSED and problem.lead_unit == unit(LUGOUQIAO)
    assert _code(lambda: monthly.act(problem, "choose", centre)) == "no_milestones"
    monthly.act(
        problem, "add_milestone", centre, title="现场排查", due_on=dt.date.today() + dt.timedelta(days=7)
    )
    assert _code(lambda: monthly.act(problem, "choose", officer)) == "not_allowed"  # the centre chooses
    assert _code(lambda: monthly.act(problem, "choose", leadership)) == "not_allowed"  # read-only
    monthly.act(problem, "choose", centre)
    assert problem.state == ProblemState.CHOSEN and problem.chosen_at
    monthly.act(problem, "start", officer)  # the lead unit starts the work
    assert _code(lambda: monthly.act(problem, "note_progress", officer)) == "note_required"
    monthly.act(problem, "note_progress", officer, note="已召开协调会")
    task = proactive.create_task(officer, problem=problem, unit=unit(LUGOUQIAO), note="整治")
    assert task.monthly_problem == problem and problem.events.filter(action="add_task").exists()
    assert _code(lambda: monthly.act(problem, "solve", centre, note="好")) == "milestones_open"
    milestone = problem.milestones.get()
    monthly.act(problem, "complete_milestone", officer, milestone=milestone.pk)
    assert _code(lambda: monthly.act(problem, "complete_milestone", officer, milestone=milestone.pk)) == (
        "no_open_milestone"
    )
    assert _code(lambda: monthly.act(problem, "solve", centre, note="好")) == "tasks_open"
    for name, data in (
        ("acknowledge", {}),
        ("contact", {"note": "现场"}),
        ("start", {}),
        ("reply", {"note": "完成"}),
    ):
        transition(task.demand, name, officer, **data)
    assert _code(lambda: monthly.act(problem, "solve", officer, note="好")) == "not_allowed"
    monthly.act(problem, "solve", centre, note="已解决")
    assert problem.state == ProblemState.SOLVED and problem.outcome == "已解决"
    actions = list(ProblemEvent.objects.filter(problem=problem).values_list("action", flat=True))
    assert actions == [
        "propose", "add_milestone", "choose", "start", "note_progress", "add_task", "complete_milestone", "solve"
    ]  # fmt: skip
    assert entries_for(problem).count() == len(actions)
    assert _code(lambda: monthly.act(problem, "close", centre, note="x")) == "illegal_state"


def test_month_has_room_for_a_few_problems(demo_world, settings):
    settings.CHANGXIN_MONTHLY_PROBLEMS = 1
    centre = demo_world["dispatcher"]
    first, second = monthly_problem_in(LUGOUQIAO), monthly_problem_in(CHANGXINDIAN)
    for problem in (first, second):
        monthly.act(problem, "add_milestone", centre, title="排查", due_on=dt.date.today())
    monthly.act(first, "choose", centre)
    refused = _code(lambda: monthly.act(second, "choose", centre))
    assert refused == "month_full"
    monthly.act(first, "close", centre, note="转入长效治理")
    monthly.act(second, "choose", centre)


def test_who_proposes_and_scope(client, demo_world):
    from changxin.core.tests.builders import hot_spot_in

    spot = hot_spot_in(LUGOUQIAO)
    month = timezone.localdate().replace(day=1)
    for username in ("lugouqiao_lead", "leader"):
        with pytest.raises(DomainError):
            monthly.propose(demo_world[username], spot, month=month, lead_unit=unit(LUGOUQIAO))
    problem = monthly_problem_in(LUGOUQIAO)
    other = make_user("cxd_lead", Role.LEADER, unit(CHANGXINDIAN))
    assert monthly.relations_of(other, problem) == set()
    client.force_login(other)
    assert client.get(reverse("insight:monthly-problem", args=[problem.pk])).status_code == 404
    assert (
        client.post(reverse("insight:monthly-act", args=[problem.pk]), {"action": "start"}).status_code == 404
    )
    client.force_login(demo_world["leader"])
    response = client.post(
        reverse("insight:monthly-act", args=[problem.pk]), {"action": "close", "note": "x"}
    )
    assert response.status_code == 403
    assert MonthlyProblem.objects.get(pk=problem.pk).state == ProblemState.PROPOSED
    client.force_login(demo_world["dispatcher"])
    response = client.post(reverse("insight:monthly-act", args=[problem.pk]), {"action": "choose"})
    assert response.status_code == 400
    assert "problem-error" in response.content.decode()
    response = client.post(
        reverse("insight:monthly-act", args=[problem.pk]),
        {"action": "add_milestone", "title": "排查", "due_on": "2025-13-40"},
    )
    assert response.status_code == 400  # a bad date is a field error, not a 500


def test_public_page_shows_chosen_problems_without_people(client, demo_world):
    centre = demo_world["dispatcher"]
    category = ensure_taxonomy()
    now = timezone.now()
    month = timezone.localdate().replace(day=1)
    for days in (1, 40, 70):
        create_demand(
            {
                "channel": "hotline",
                "demand_type": "complaint",
                "title": "停车难",
                "content": "车位不够，电话13812345678",
                "requester_name": "韩梅梅",
                "requester_phone": "13812345678",
                "street": unit(LUGOUQIAO),
                "category": category,
            },
            actor=centre,
            received_at=now - dt.timedelta(days=days),
        )
    chosen = monthly_problem_in(LUGOUQIAO, title="晓月苑停车难 13812345678", description="牵头单位统筹")
    monthly.act(chosen, "add_milestone", centre, title="施划车位", due_on=month + dt.timedelta(days=20))
    monthly.act(chosen, "choose", centre)
    monthly.act(chosen, "start", centre)
    monthly.act(chosen, "note_progress", centre, note="已协调 张师傅 13912345678 提供场地")
    MonthlyProblem.objects.filter(pk=chosen.pk).update(category=category)
    proposal = monthly_problem_in(CHANGXINDIAN, title="只是提议的问题")

    response = client.get(reverse("insight:monthly-public"), {"month": f"{month:%Y-%m}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "晓月苑停车难" in html and "施划车位" in html and unit(LUGOUQIAO).name in html
    assert proposal.title not in html
    assert "13812345678" not in html and "13912345678" not in html  # scrubbed
    assert "dispatcher" not in html and "派单员" not in html  # no staff names
    counts = monthly.monthly_counts([MonthlyProblem.objects.get(pk=chosen.pk)], monthly.chart_months(month))
    assert sum(counts[chosen.pk]) == 3
    months = monthly.chart_months(month)
    assert months[-1] == month and months[0] == add_months(month, -11)
    assert client.get(reverse("insight:monthly-public"), {"month": "2025-99"}).status_code == 200


def test_unknown_action_or_workflow_error_is_not_a_server_error(demo_world):
    problem = monthly_problem_in(LUGOUQIAO)
    with pytest.raises(WorkflowError):
        monthly.act(problem, "teleport", demo_world["dispatcher"])
