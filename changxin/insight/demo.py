"""Demo data of 未诉先办 and 每月一题, built through the services (insight/proactive.py,
insight/monthly.py) from the hot spots the job finds in the demo demands.

- a hot-spot run of about 25 days ago (the first of 25, 30, 20, 35, 40 days ago that finds problems): a proactive task made from its hottest problem in 卢沟桥 then,
  handled through the demand engine and finished 15 days ago (so its before/after counts show);
- today's run: an open proactive task from 卢沟桥's hottest problem, in a community of the demo
  party member 李强's responsibility area when the problem names one (he is offered it);
- last month: one problem of the month, solved; this month: two chosen problems with milestones,
  progress and a proactive task each.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit, Role, User
from changxin.core.workflow import WorkflowError
from changxin.demands.services import transition
from changxin.insight import monthly, proactive, services
from changxin.insight.metrics import add_months
from changxin.insight.models import HotSpot, MonthlyProblem, ProactiveTask

LUGOUQIAO = "110106017"
MEMBER_AREAS = ("110106017005", "110106017006", "110106017007")  # 李强's 责任区 (pioneers demo)


def _spots(as_of: dt.date, street: OrgUnit | None = None) -> list[HotSpot]:
    spots = HotSpot.objects.filter(as_of=as_of).select_related("street", "category").order_by("number")
    if street is not None:
        spots = spots.filter(street=street)
    return list(spots)


def _community(spot: HotSpot):
    communities = proactive.spot_communities(spot)
    preferred = [c for c in communities if c.code in MEMBER_AREAS]
    return (preferred or communities or [None])[0]


def _finished_task(spot, street_leader, officer, texts, now) -> ProactiveTask:
    created = now - dt.timedelta(days=25)
    task = proactive.create_task(
        street_leader,
        spot,
        unit=spot.street,
        community=_community(spot),
        note=texts["task_notes"][0],
        now=created,
    )
    demand = task.demand
    steps = [
        ("acknowledge", {}, 0.1),
        ("contact", {"note": "到现场查看并与物业、商户沟通。"}, 1),
        ("start", {}, 1.1),
        ("reply", {"note": "已完成整治：清理占道，施划停车位，安排每日巡查。"}, 10),
    ]
    try:
        for name, data, days in steps:
            transition(demand, name, officer, now=created + dt.timedelta(days=days), **data)
    except WorkflowError:  # e.g. the unit's leader approves replies (审核): the task stays open
        pass
    return task


def _officer_of(unit: OrgUnit | None) -> User | None:
    if unit is None:
        return None
    return User.objects.filter(role=Role.OFFICER, unit=unit, is_active=True).order_by("pk").first()


def _problem(centre, lead, spot, month, text, *, now, done=0, solve=False, officer=None):
    problem = monthly.propose(
        centre, spot, month=month, lead_unit=spot.street or lead, description=text["description"], now=now
    )
    for i, title in enumerate(text["milestones"]):
        monthly.act(
            problem,
            "add_milestone",
            centre,
            title=title,
            due_on=month + dt.timedelta(days=7 * (i + 1)),
            now=now,
        )
    monthly.act(problem, "choose", centre, now=now + dt.timedelta(hours=1))
    monthly.act(problem, "start", officer or centre, now=now + dt.timedelta(days=1))
    for i, milestone in enumerate(problem.milestones.all()):
        if solve or i < done:
            monthly.act(
                problem,
                "complete_milestone",
                officer or centre,
                milestone=milestone.pk,
                done_on=min(milestone.due_on, timezone.localdate()),
                now=now + dt.timedelta(days=2 + i),
            )
    for i, note in enumerate(text["progress"]):
        monthly.act(
            problem, "note_progress", officer or centre, note=note, now=now + dt.timedelta(days=3 + i)
        )
    if solve:
        monthly.act(problem, "solve", centre, note=text["outcome"], now=now + dt.timedelta(days=20))
    return problem


def load_demo(stdout=None) -> None:
    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    if ProactiveTask.objects.exists() or MonthlyProblem.objects.exists():
        say("proactive tasks and problems of the month: already loaded, skipped")
        return
    texts = demo_data("insight", "proactive.json")
    users = {
        u.username: u for u in User.objects.filter(username__in=["dispatcher", "lugouqiao", "lugouqiao_lead"])
    }
    if len(users) < 3:
        say("proactive tasks: the demo logins are missing, skipped")
        return
    centre, officer, leader = users["dispatcher"], users["lugouqiao"], users["lugouqiao_lead"]
    street = OrgUnit.objects.get(code=LUGOUQIAO)
    now = timezone.now()
    today = timezone.localdate()

    for days in (25, 30, 20, 35, 40):  # an earlier run that found problems (the demo's dates vary)
        earlier = today - dt.timedelta(days=days)
        if services.refresh_hot_spots(as_of=earlier)["hot_spots"]:
            break
    old_spots = _spots(earlier, street) or _spots(earlier)  # 卢沟桥's, else any street's
    finished = None
    if old_spots:
        spot = old_spots[0]
        mine = spot.street_id == street.pk
        handler = officer if mine else _officer_of(spot.street)
        if handler is not None:
            finished = _finished_task(spot, leader if mine else centre, handler, texts, now)
    last_month = add_months(today.replace(day=1), -1)
    solved = None
    others = [s for s in _spots(earlier) if not old_spots or s.pk != old_spots[0].pk]
    if others:
        solved = _problem(
            centre,
            street,
            others[0],
            last_month,
            texts["solved"],
            solve=True,
            officer=officer if others[0].street_id == street.pk else None,
            now=timezone.make_aware(dt.datetime.combine(last_month, dt.time(9))),
        )

    spots = _spots(today, street) or _spots(today)
    opened = None
    if spots:  # 卢沟桥's leader for a 卢沟桥 problem; else the centre
        mine = spots[0].street_id == street.pk
        opened = proactive.create_task(
            leader if mine else centre,
            spots[0],
            unit=street if mine or spots[0].street is None else spots[0].street,
            community=_community(spots[0]),
            note=texts["task_notes"][1],
        )
    chosen = []
    for spot, text in zip(_spots(today)[1:3], texts["problems"], strict=False):
        problem = _problem(
            centre,
            street,
            spot,
            today.replace(day=1),
            text,
            done=1,
            now=now - dt.timedelta(days=3),
            officer=officer if spot.street_id == street.pk else None,
        )
        proactive.create_task(centre, problem=problem, unit=problem.lead_unit, note=text["description"])
        chosen.append(problem)
    counts = proactive.refresh_counts()
    say(
        f"proactive tasks: {ProactiveTask.objects.count()} (finished: {finished.demand.number if finished else '—'}, "
        f"open: {opened.demand.number if opened else '—'}); problems of the month: {len(chosen)} this month, "
        f"{1 if solved else 0} solved last month; counts refreshed: {counts['refreshed']}"
    )
