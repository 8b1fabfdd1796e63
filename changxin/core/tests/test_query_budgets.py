"""Query budgets on every list page: the count does not grow with the rows, and stays under a budget.

Each page is rendered with 5 and with 25 rows (built through the real services); both renders must
issue exactly the same number of queries, at most `budget`. A page that starts to query per row
(a missing select_related/prefetch, a per-row permission check) fails here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from changxin.core.tests.builders import (
    LUGOUQIAO,
    demand_in_state,
    hot_spot_in,
    monthly_problem_in,
    new_demand,
    proactive_task_in,
    station_demand,
    unit,
)
from changxin.demands.services import create_demand, transition

pytestmark = pytest.mark.django_db

MARKER = "预算测试诉求"


def received(users, n):
    for i in range(n):
        new_demand(users["dispatcher"], title=f"{MARKER}{i}")


def dispatched(users, n):
    for i in range(n):
        new_demand(users["dispatcher"], street_code=LUGOUQIAO, title=f"{MARKER}{i}")


def replied(users, n):
    for i in range(n):
        demand_in_state(
            "replied",
            operator=users["dispatcher"],
            officer=users["lugouqiao"],
            street_code=LUGOUQIAO,
            title=f"{MARKER}{i}",
        )


def contacted(users, n):
    for i in range(n):
        demand_in_state(
            "contacted",
            operator=users["dispatcher"],
            officer=users["lugouqiao"],
            street_code=LUGOUQIAO,
            title=f"{MARKER}{i}",
        )


def overdue(users, n):
    """Dispatched 40 days ago, never answered: past every deadline."""
    long_ago = timezone.now() - dt.timedelta(days=40)
    for i in range(n):
        demand, _ = create_demand(
            {
                "demand_type": "complaint",
                "title": f"{MARKER}{i}",
                "content": "路灯坏了很久没人修。",
                "requester_name": "张三丰",
                "requester_phone": "13812345678",
                "street": unit(LUGOUQIAO),
            },
            actor=users["dispatcher"],
            received_at=long_ago,
        )
        transition(demand, "dispatch", users["dispatcher"], now=long_ago, lead_unit=unit(LUGOUQIAO))


def hot_spots(users, n):
    for i in range(n):
        hot_spot_in(LUGOUQIAO, label=f"{MARKER}{i}")


def proactive_tasks(users, n):
    for i in range(n):
        proactive_task_in(LUGOUQIAO, spot=hot_spot_in(LUGOUQIAO, label=f"{MARKER}{i}"))


def monthly_problems(users, n):
    for i in range(n):
        monthly_problem_in(LUGOUQIAO, title=f"{MARKER}{i}")


def public_problems(users, n):
    from django.test import override_settings

    from changxin.insight import monthly

    centre = users["dispatcher"]
    for i in range(n):
        problem = monthly_problem_in(LUGOUQIAO, title=f"{MARKER}{i}")
        monthly.act(problem, "add_milestone", centre, title="排查", due_on=dt.date(2025, 3, 1))
        with override_settings(CHANGXIN_MONTHLY_PROBLEMS=100):
            monthly.act(problem, "choose", centre)
        monthly.act(problem, "note_progress", centre, note="已协调")


def own_portal_demands(users, n):
    for i in range(n):
        station_demand(actor=users["citizen"], title=f"{MARKER}{i}")


def _port_enterprise(users):
    from changxin.port.models import Enterprise
    from changxin.port.services import register_enterprise
    from changxin.port.uscc import complete

    found = Enterprise.objects.filter(members=users["enterprise"]).first()
    return found or register_enterprise(
        {
            "name": "预算企业",
            "credit_code": complete("91110106MA0000009"),
            "street": unit(LUGOUQIAO),
            "manager": users["manager"],
        },
        actor=None,
        members=[users["enterprise"]],
    )


def enterprise_demands(users, n):
    from changxin.port.services import file_enterprise_demand

    enterprise = _port_enterprise(users)
    for i in range(n):
        file_enterprise_demand(
            enterprise,
            {"demand_type": "help", "title": f"{MARKER}{i}", "content": "停车难"},
            actor=users["enterprise"],
        )


def managed_enterprises(users, n):
    from changxin.port.models import Enterprise
    from changxin.port.services import register_enterprise
    from changxin.port.uscc import complete

    start = Enterprise.objects.count()
    for i in range(start, start + n):
        register_enterprise(
            {
                "name": f"{MARKER}{i}",
                "credit_code": complete(f"91110106MA{i:07d}"),
                "street": unit(LUGOUQIAO),
                "manager": users["manager"],
                "is_key": True,
            },
            actor=None,
        )


def projects(users, n):
    from changxin.port.services import register_project

    for i in range(n):
        register_project(
            {
                "name": f"{MARKER}{i}",
                "zone": "lize",
                "street": unit(LUGOUQIAO),
                "amount": 100 + i,
                "manager": users["manager"],
            },
            actor=None,
        )


def brands(users, n):
    """Published brands (the matrix and the cards), each with one published case."""
    from changxin.brands import services as brand_services
    from changxin.core.tests.builders import party_organisation

    owner = party_organisation(LUGOUQIAO, f"{MARKER}党支部{n}")
    today = timezone.localdate()
    for i in range(n):
        brand = brand_services.create_brand(
            owner=owner,
            name=f"{MARKER}{n}-{i}",
            field="governance",
            description="品牌简介" * 6,
            actor=users["party"],
        )
        case = brand_services.add_case(
            brand, title="案例", summary="做法", area=unit(LUGOUQIAO), starts_on=today, ends_on=today,
            actor=users["party"],
        )  # fmt: skip
        brand_services.case_step(case, "submit", users["party"])
        brand_services.brand_step(brand, "submit", users["party"])
        brand_services.brand_step(brand, "publish", users["admin"])


def cooperation_items(users, n):
    from changxin.port.cooperation import post_item

    enterprise = _port_enterprise(users)
    for i in range(n):
        post_item(
            enterprise,
            {"kind": "need", "title": f"{MARKER}{i}", "description": f"需求{i}"},
            actor=users["enterprise"],
            refresh=False,
        )


def port_suggestions(users, n):
    from changxin.port.suggestions import submit

    enterprise = _port_enterprise(users)
    for i in range(n):
        submit(enterprise, {"title": f"{MARKER}{i}", "content": "建议"}, actor=users["enterprise"])


def port_policies(users, n):
    from changxin.port.policies import register_policy, sync_policy

    _port_enterprise(users)
    for i in range(n):
        sync_policy(register_policy({"title": f"{MARKER}{i}", "issuer": "区商务局"}, actor=None))


def _inspected_enterprises(users, n):
    """n enterprises named with the marker (the inspection lists show the enterprise)."""
    from changxin.port.models import Enterprise
    from changxin.port.services import register_enterprise
    from changxin.port.uscc import complete

    start = Enterprise.objects.count() + 100
    return [
        register_enterprise(
            {
                "name": f"{MARKER}{i}",
                "credit_code": complete(f"91110106MB{i:07d}"),
                "street": unit(LUGOUQIAO),
            },
            actor=None,
        )
        for i in range(start, start + n)
    ]


def inspection_rows(users, n):
    from changxin.core.tests.builders import certified_inspector
    from changxin.port.inspections import register_inspection

    inspector = users["inspector"]
    if not inspector.inspector_certificates.exists():
        certified_inspector(inspector.username)
    # from now: the list shows the year of the planned start (tomorrow is next year on 31 December)
    start = timezone.now()
    for enterprise in _inspected_enterprises(users, n):
        register_inspection(
            enterprise,
            actor=inspector,
            inspectors=[inspector],
            legal_basis="《食品安全法》",
            items="检查",
            planned_from=start,
            planned_until=start + dt.timedelta(hours=2),
            trigger="risk",
            trigger_ref="R-1",
        )


def plan_rows(users, n):
    from changxin.port.models import InspectionPlan

    year = timezone.localdate().year
    for enterprise in _inspected_enterprises(users, n):
        InspectionPlan.objects.create(
            department=users["inspector"].unit, year=year, month=6, enterprise=enterprise, items="检查"
        )


def party_branches(users, n):
    """Branches with a meeting and a member with a dues base each (the compliance overview)."""
    from changxin.core.tests.builders import party_member, party_organisation
    from changxin.pioneers import branch_life, dues

    for i in range(n):
        org = party_organisation(LUGOUQIAO, f"{MARKER}{i}")
        member = party_member(org, f"党员{i}")
        branch_life.record_meeting(
            org,
            kind="committee",
            held_on=dt.date(2025, 3, 3),
            topic="支委会",
            attendance={member.pk: (True, "")},
        )
        dues.set_base(member, timezone.localdate().year, category="wage", monthly_income=5000)


def party_transfers(users, n):
    from changxin.core.tests.builders import party_member, party_organisation
    from changxin.pioneers import transfers

    source = party_organisation(LUGOUQIAO, "转出党支部")
    target = party_organisation(LUGOUQIAO, f"{MARKER}接收")
    for i in range(n):
        transfers.request_transfer(party_member(source, f"转出{i}"), target, on=dt.date(2025, 3, 3))


def party_activities(users, n):
    from changxin.core.tests.builders import party_organisation
    from changxin.pioneers import volunteering

    org = party_organisation(LUGOUQIAO, "志愿党支部")
    start = timezone.now() + dt.timedelta(days=1)
    for i in range(n):
        volunteering.create_activity(
            org,
            title=f"{MARKER}{i}",
            place="广场",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            capacity=5,
        )


def party_honours(users, n):
    """Published honours, each the top of its own branch's ranking (the public honour roll)."""
    from decimal import Decimal

    from changxin.core.models import Role
    from changxin.core.tests.builders import make_user, party_member, party_organisation
    from changxin.pioneers import honours, ledger
    from changxin.pioneers.models import PointEntry

    year = timezone.localdate().year
    checker = make_user(f"party_check_{n}", Role.PARTY_STAFF, users["party"].unit)
    for i in range(n):
        member = party_member(party_organisation(LUGOUQIAO, f"荣誉党支部{n}-{i}"), f"荣誉党员{i}")
        PointEntry.objects.create(
            member=member, kind="service", points=Decimal(5), at=timezone.now(), year=year,
            source_stream="demands", source_event_id=member.pk,
        )  # fmt: skip
        ledger.recompute_total(member, year)
        honour = honours.nominate(member, year, citation=f"{MARKER}{i}", actor=users["party"])
        honours.step(honours.step(honour, "approve", checker), "publish", users["party"])


@dataclass(frozen=True)
class Page:
    url: str
    viewer: str
    rows: object
    budget: int
    query: dict = field(default_factory=dict)


PAGES = {
    "queue": Page("demands:queue", "dispatcher", received, 11),  # one grouped count for chips and total
    "queue, all states": Page("demands:queue", "dispatcher", dispatched, 11, {"state": ""}),
    "workbench": Page("demands:workbench", "lugouqiao", dispatched, 14),
    "overdue": Page("demands:overdue", "lugouqiao", overdue, 14),
    "return visits": Page("demands:visits", "dispatcher", replied, 14),
    "insight drill-down": Page(
        "insight:drill", "leader", contacted, 14, {"metric": "response", "part": "numerator"}
    ),
    "insight hot spots": Page("insight:hot-spots", "lugouqiao", hot_spots, 10),
    "insight proactive tasks": Page("insight:proactive", "lugouqiao", proactive_tasks, 12),
    "insight problems of the month": Page("insight:monthly", "lugouqiao", monthly_problems, 10),
    "public problems of the month": Page("insight:monthly-public", "citizen", public_problems, 10),
    "station: my demands": Page("station:home", "citizen", own_portal_demands, 8),
    "port: enterprise portal": Page("port:home", "enterprise", enterprise_demands, 12),
    "port: my enterprises": Page("port:home", "manager", managed_enterprises, 12),
    "port: project board": Page("port:projects", "leader", projects, 12),
    "brands: matrix and cards": Page("brands:home", "citizen", brands, 8),
    "port: cooperation": Page("port:cooperation", "enterprise", cooperation_items, 10),
    "port: suggestions": Page("port:suggestions", "manager", port_suggestions, 8),
    "port: my policies": Page("port:policies", "enterprise", port_policies, 12),
    "port: policies": Page("port:policies", "dispatcher", port_policies, 8),
    "port: inspections (department)": Page("port:inspections", "inspector", inspection_rows, 10),
    "port: inspections (district)": Page("port:inspections", "leader", inspection_rows, 10),
    "port: inspection plans": Page("port:inspection-plans", "inspector", plan_rows, 10),
    "pioneers: branch life": Page("pioneers:compliance", "party", party_branches, 12),
    "pioneers: transfers": Page("pioneers:transfers", "party", party_transfers, 10),
    "pioneers: volunteer activities": Page("pioneers:activities", "party", party_activities, 12),
    "pioneers: honour roll": Page("pioneers:roll", "citizen", party_honours, 8),
    "admin: demand changelist": Page("admin:demands_demand_changelist", "admin", dispatched, 14),
}


def _render(client, page: Page):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(page.url), page.query)
    assert response.status_code == 200
    return len(queries), response.content.decode().count(MARKER), queries


@pytest.mark.parametrize("name", list(PAGES))
def test_list_page_queries_do_not_grow_with_rows(client, demo_world, name):
    page = PAGES[name]
    client.force_login(demo_world[page.viewer])
    page.rows(demo_world, 5)
    client.get(reverse(page.url), page.query)  # warm per-process caches (calendar, taxonomy)
    few, shown_few, _ = _render(client, page)
    page.rows(demo_world, 20)
    many, shown_many, captured = _render(client, page)
    assert shown_many > shown_few > 0, "the rows built for the page must be on it"
    sql = "\n".join(q["sql"][:160] for q in captured.captured_queries)
    assert many == few, f"{name}: {few} queries with 5 rows, {many} with 25\n{sql}"
    assert many <= page.budget, f"{name}: {many} queries, budget {page.budget}\n{sql}"


def inbox_notifications(users, n):
    from changxin.notifications.services import notify

    start = users["lugouqiao"].notifications.count()
    for i in range(start, start + n):
        notify([users["lugouqiao"]], "dispatched", f"{MARKER}{i}")


PAGES["notifications: inbox"] = Page("notifications:inbox", "lugouqiao", inbox_notifications, 8)


@dataclass(frozen=True)
class ApiList:
    path: str
    viewer: str
    rows: object
    budget: int
    query: dict = field(default_factory=dict)
    shows_rows: bool = True  # the marker is in the response (a ranking lists units, not demands)


API_LISTS = {
    "api: demands, centre": ApiList("/demands", "dispatcher", dispatched, 8),
    "api: demands, unit officer (scoped)": ApiList("/demands", "lugouqiao", dispatched, 8),
    "api: demands, filtered": ApiList("/demands", "dispatcher", dispatched, 8, {"state": "dispatched"}),
    "api: rankings": ApiList(
        "/rankings",
        "leader",
        contacted,
        12,
        {"group": "street", "month": f"{timezone.localdate():%Y-%m}"},
        shows_rows=False,
    ),
}


@pytest.mark.parametrize("name", list(API_LISTS))
def test_api_list_queries_do_not_grow_with_rows(demo_world, name):
    from changxin.api.tests.client import Api, key_for

    item = API_LISTS[name]
    api = Api(key_for(demo_world[item.viewer]))

    def fetch():
        with CaptureQueriesContext(connection) as queries:
            response = api.get(item.path, item.query)
        assert response.status_code == 200, response.content
        text = json.dumps(response.json(), ensure_ascii=False)
        return len(queries), text.count(MARKER), queries

    item.rows(demo_world, 5)
    fetch()  # warm per-process caches
    few, shown_few, _ = fetch()
    item.rows(demo_world, 20)
    many, shown_many, captured = fetch()
    if item.shows_rows:
        assert shown_many > shown_few > 0, "the rows built must be in the response"
    sql = "\n".join(q["sql"][:160] for q in captured.captured_queries)
    assert many == few, f"{name}: {few} queries with 5 rows, {many} with 25\n{sql}"
    assert many <= item.budget, f"{name}: {many} queries, budget {item.budget}\n{sql}"
