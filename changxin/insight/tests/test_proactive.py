"""未诉先办: a hot spot turned into a proactive task (a demand of type 主动治理) — who may, what the
engine makes of it, who is offered it, before/after counts, and that it never counts as a citizen's
demand (三率, hot spots, intake, Open311, the tracking page)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from changxin.core.errors import DomainError
from changxin.core.models import AuditEntry, Role
from changxin.core.tests.builders import (
    CHANGXINDIAN,
    LUGOUQIAO,
    ensure_taxonomy,
    hot_spot_in,
    make_user,
    party_member,
    party_organisation,
    proactive_task_in,
    unit,
)
from changxin.demands.models import Channel, DemandType, State, TaskRole
from changxin.demands.selectors import unscoped_demands
from changxin.demands.services import create_demand, transition
from changxin.insight import metrics, proactive
from changxin.insight.models import ProactiveEvent, ProactiveTask

pytestmark = pytest.mark.django_db


def _community(street_code=LUGOUQIAO):
    street = unit(street_code)
    return street.children.filter(kind="community").order_by("path").first()


def _citizen_demand(operator, received_at, *, title="小区门口乱停车堵路", community=None, category=None):
    street = unit(LUGOUQIAO)
    demand, _ = create_demand(
        {
            "channel": "hotline",
            "demand_type": "complaint",
            "title": title,
            "content": "晚上车辆乱停，消防通道被堵，联系电话13812345678。",
            "requester_name": "张三",
            "requester_phone": "13812345678",
            "street": street,
            "community": community or _community(),
            "category": category or ensure_taxonomy(),
        },
        actor=operator,
        received_at=received_at,
    )
    return demand


@pytest.fixture
def spot(demo_world):
    now = timezone.now()
    demands = [_citizen_demand(demo_world["dispatcher"], now - dt.timedelta(days=d)) for d in (3, 2, 1)]
    return hot_spot_in(LUGOUQIAO, demands=demands, category=ensure_taxonomy())


def test_a_street_leader_turns_a_hot_spot_into_a_task_on_the_engine(demo_world, spot):
    leader = demo_world["lugouqiao_lead"]
    task = proactive.create_task(leader, spot, unit=unit(LUGOUQIAO), community=_community(), note="现场排查")
    demand = task.demand
    assert demand.demand_type == DemandType.PROACTIVE and demand.channel == Channel.PROACTIVE
    assert demand.state == State.DISPATCHED and demand.lead_unit == unit(LUGOUQIAO)
    assert demand.contact_due and demand.finish_due  # the engine's deadlines
    assert demand.tasks.filter(role=TaskRole.LEAD, unit=unit(LUGOUQIAO)).exists()
    assert demand.events.filter(action="dispatch").exists() and demand.created_by == leader
    assert task.hot_spot == spot and task.community == _community() and task.category == spot.category
    assert set(task.source_demands.all()) == set(spot.demands.all())
    event = ProactiveEvent.objects.get(task=task)
    assert event.action == "create" and event.actor == leader and event.data["hot_spot"] == spot.pk
    assert AuditEntry.objects.filter(object_id=str(task.pk), action="create").exists()
    # shown on the hot spot, and on a later run's row of the same problem
    assert proactive.tasks_for_spot(leader, spot) == [task]
    later = hot_spot_in(
        LUGOUQIAO, demands=list(spot.demands.all()[:1]), as_of=timezone.localdate() + dt.timedelta(days=1)
    )
    assert proactive.tasks_for_spot(leader, later) == [task]


def test_scope_and_roles(demo_world, spot):
    other_leader = make_user("cxd_lead", Role.LEADER, unit(CHANGXINDIAN))
    with pytest.raises(DomainError) as refused:
        proactive.create_task(other_leader, spot, unit=unit(CHANGXINDIAN))
    assert refused.value.code == "not_allowed"
    with pytest.raises(DomainError) as refused:  # a leader gives tasks only to units of their subtree
        proactive.create_task(demo_world["lugouqiao_lead"], spot, unit=unit(CHANGXINDIAN))
    assert refused.value.code == "unit_outside_scope" and refused.value.field == "unit"
    for username in ("lugouqiao", "leader"):  # an officer; read-only district leadership
        with pytest.raises(DomainError):
            proactive.create_task(demo_world[username], spot, unit=unit(LUGOUQIAO))
    with pytest.raises(DomainError) as refused:  # a community outside the hot spot's street
        proactive.create_task(
            demo_world["dispatcher"], spot, unit=unit(LUGOUQIAO), community=_community(CHANGXINDIAN)
        )
    assert refused.value.field == "community"
    # the centre gives it to any dispatchable unit
    task = proactive.create_task(demo_world["dispatcher"], spot, unit=unit(CHANGXINDIAN))
    assert task.demand.lead_unit == unit(CHANGXINDIAN)
    assert ProactiveTask.objects.count() == 1


def test_another_streets_leader_gets_404_and_leadership_posts_change_nothing(client, demo_world, spot):
    url = reverse("insight:proactive-create", args=[spot.pk])
    other_leader = make_user("cxd_lead", Role.LEADER, unit(CHANGXINDIAN))
    client.force_login(other_leader)
    assert client.post(url, {"unit": unit(CHANGXINDIAN).pk}).status_code == 404
    client.force_login(demo_world["leader"])
    assert client.post(url, {"unit": unit(LUGOUQIAO).pk}).status_code == 403
    assert not ProactiveTask.objects.exists()
    client.force_login(demo_world["lugouqiao_lead"])
    response = client.post(url, {"unit": unit(CHANGXINDIAN).pk})
    assert response.status_code == 400 and "proactive-error" in response.content.decode()
    response = client.post(url, {"unit": unit(LUGOUQIAO).pk, "community": _community().pk, "note": "查"})
    assert response.status_code == 302
    page = client.get(reverse("insight:hot-spot", args=[spot.pk])).content.decode()
    task = ProactiveTask.objects.get()
    assert f'data-demand="{task.demand_id}"' in page


def test_proactive_tasks_are_not_citizen_demands(demo_world, spot):
    from changxin.open311.services import attribute_definitions
    from changxin.station.forms import CitizenDemandForm
    from changxin.station.selectors import find_by_tracking_code

    task = proactive_task_in(LUGOUQIAO, spot=spot)
    month = metrics.Period.month(timezone.localdate().replace(day=1))
    assessed = metrics.assessed_demands(month)
    assert not assessed.filter(pk=task.demand_id).exists()
    assert unscoped_demands().citizen().filter(pk=task.demand_id).count() == 0
    assert find_by_tracking_code(task.demand.tracking_code) is None
    with pytest.raises(ValidationError) as refused:  # never filed through intake, by anyone
        create_demand(
            {
                "channel": "proactive",
                "demand_type": "proactive",
                "title": "x",
                "content": "y",
                "requester_kind": "anonymous",
            },
            actor=demo_world["dispatcher"],
        )
    assert "demand_type" in refused.value.message_dict
    values = {v["key"] for a in attribute_definitions() if a["code"] == "demand_type" for v in a["values"]}
    assert "proactive" not in values and "complaint" in values
    assert "proactive" not in {c[0] for c in CitizenDemandForm().fields["demand_type"].choices}


def test_hot_spot_job_ignores_proactive_tasks(demo_world, spot):
    from changxin.insight.services import refresh_hot_spots

    task = proactive_task_in(LUGOUQIAO, spot=spot)
    refresh_hot_spots()
    from changxin.insight.models import HotSpot

    grouped = set(HotSpot.demands.through.objects.values_list("demand_id", flat=True))
    assert task.demand_id not in grouped


def test_members_of_the_area_are_offered_the_task_and_take_it(client, demo_world, spot):
    officer = demo_world["lugouqiao"]  # an officer of 卢沟桥: the engine may assign him
    org = party_organisation(LUGOUQIAO)
    member = party_member(org, "李强", user=officer)
    member.areas.set([_community()])
    elsewhere = party_member(org, "王五", user=make_user("cxd_member", Role.OFFICER, unit(CHANGXINDIAN)))
    elsewhere.areas.set([_community(CHANGXINDIAN)])
    task = proactive_task_in(LUGOUQIAO, spot=spot, community=_community())

    assert proactive.offers_for_member(officer, member) == [task]
    assert proactive.offers_for_member(demo_world["party"], elsewhere) == []
    assert proactive.take_refusal(task, elsewhere.user).code == "outside_area"
    assert proactive.take_refusal(task, demo_world["lugouqiao_lead"]).code == "not_a_member"
    assert proactive.take_refusal(task, demo_world["leader"]).code == "read_only"

    client.force_login(officer)
    page = client.get(reverse("pioneers:member", args=[member.pk])).content.decode()
    assert f'id="take-{task.pk}"' in page
    response = client.post(reverse("insight:proactive-take", args=[task.pk]))
    assert response.status_code == 302
    assert proactive.assignee_of(ProactiveTask.objects.get(pk=task.pk)) == officer
    assert ProactiveEvent.objects.filter(task=task, action="take", actor=officer).exists()
    assert task.demand.events.filter(action="assign").exists()
    assert proactive.take_refusal(task, officer).code == "already_yours"
    # the assignee now handles it on the engine (ASSIGNEE relation)
    transition(task.demand, "acknowledge", officer)


def test_before_and_after_counts(demo_world, spot):
    operator, officer = demo_world["dispatcher"], demo_world["lugouqiao"]
    now = timezone.now()
    created = now - dt.timedelta(days=40)
    category = ensure_taxonomy()
    for d in (5, 10, 20, 35):  # before the task: 4 of the problem (same words)
        _citizen_demand(operator, created - dt.timedelta(days=d))
    _citizen_demand(
        operator, created - dt.timedelta(days=3), title="楼上装修噪音很大"
    )  # same cell, other problem
    task = proactive.create_task(operator, spot, unit=unit(LUGOUQIAO), now=created)
    steps = (("acknowledge", {}), ("contact", {"note": "现场"}), ("start", {}), ("reply", {"note": "已整治"}))
    for i, (name, data) in enumerate(steps):
        transition(task.demand, name, officer, now=created + dt.timedelta(days=1 + i), **data)
    closed = created + dt.timedelta(days=4)
    _citizen_demand(operator, closed + dt.timedelta(days=2))  # after: 1 of the problem
    counts = proactive.before_after(ProactiveTask.objects.get(pk=task.pk), now=now)
    assert counts["closed"] and counts["window_days"] == 30
    assert (
        counts["before"]["cell"] == 4 and counts["before"]["group"] == 3
    )  # 5, 10, 20 days + the noise one is cell only
    assert (counts["after"]["cell"], counts["after"]["group"]) == (1, 1)
    assert category.pk == task.category_id
    assert proactive.refresh_counts(now=now)["refreshed"] == 1
    assert ProactiveTask.objects.get(pk=task.pk).counts["before"]["cell"] == 4
