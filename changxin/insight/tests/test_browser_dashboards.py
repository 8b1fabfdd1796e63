"""Each dashboard draws its charts in the browser (canvas present, no console error), with a
screenshot kept in test-artifacts/; a leader requests the monthly report and downloads it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core.models import OrgUnit
from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot
from changxin.core.tests.builders import LUGOUQIAO, ThisMonth, hot_spot_in, party_member, party_organisation
from changxin.demands.services import create_demand, transition
from changxin.insight import tasks
from changxin.port.services import register_enterprise, register_project
from changxin.port.uscc import complete

pytestmark = pytest.mark.browser


def some_demands(users, n=4):
    street = OrgUnit.objects.get(code=LUGOUQIAO)
    month = ThisMonth(dt.timedelta(hours=2 + n))  # the dashboards count this month's
    made = []
    for i in range(n):
        demand, _ = create_demand(
            {
                "demand_type": "complaint" if i % 2 else "help",
                "channel": "hotline" if i % 3 else "web",
                "title": "路灯不亮",
                "content": "门口路灯坏了",
                "street": street,
                "community": street.children.order_by("path").first(),
                "requester_name": "张三",
                "requester_phone": "13812345678",
            },
            actor=users["dispatcher"],
            received_at=month.ago(hours=2 + i),
        )
        transition(demand, "dispatch", users["dispatcher"], lead_unit=street, now=month.ago(hours=1 + i))
        made.append(demand)
    hot_spot_in(LUGOUQIAO, demands=made)
    organisation = party_organisation(LUGOUQIAO)
    party_member(organisation, "党员甲")
    enterprise = register_enterprise(
        {
            "name": "看板测试企业",
            "credit_code": complete("91110106MA0000009"),
            "street": street,
            "manager": users["manager"],
            "is_key": True,
        },
        actor=None,
    )
    register_project(
        {
            "name": "看板测试项目",
            "zone": "lize",
            "street": street,
            "amount": 100,
            "enterprise": enterprise,
            "manager": users["manager"],
        },
        actor=None,
    )
    tasks.refresh_aggregates()
    return made


BOARDS = [
    (
        "leader",
        "/insight/dashboards/",
        "district",
        ["by_channel", "trend", "rates_by_street", "street_map", "hot_spots"],
    ),
    (
        "lugouqiao",
        f"/insight/dashboards/street/{LUGOUQIAO}/",
        "street",
        ["by_channel", "trend", "communities", "rates"],
    ),
    ("manager", "/insight/dashboards/enterprise/", "enterprise", ["projects", "visits"]),
    ("party", "/insight/dashboards/party/", "party", ["members_by_org", "pipeline"]),
]


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_every_dashboard_draws_its_charts(request, viewport, live_server, demo_world):
    page = request.getfixturevalue(viewport)
    some_demands(demo_world)
    errors = []
    page.on(
        "console", lambda m: errors.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404 else None)
    for username, url, name, charts in BOARDS:
        page.context.clear_cookies()
        login(page, live_server, username, next_url=url)
        page.goto(live_server.url + url)
        for key in charts:
            page.wait_for_selector(f"#chart-{key} canvas")
        assert_fits(page)  # against the viewport asked for, not a phone's widened innerWidth
        # the data behind a chart, as a table
        first = charts[0]
        page.locator(f"#table-{first} summary").click()
        assert page.locator(f"#table-{first} tbody tr").count() >= 1
        assert_fits(page)  # the table, opened
        assert_accessible(page)
        shot(page, f"dashboard-{name}-{viewport}")
    assert not errors, errors


def test_a_leader_requests_the_monthly_report(page, live_server, demo_world, settings, tmp_path):
    settings.CHANGXIN_REPORTS_DIR = tmp_path
    some_demands(demo_world)
    login(page, live_server, "leader", next_url="/insight/reports/")
    page.goto(live_server.url + "/insight/reports/")
    page.fill("input[name=month]", timezone.localdate().strftime("%Y-%m"))
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-xlsx")
    assert_accessible(page)
    shot(page, "monthly-report-ready")
    with page.expect_download() as download:
        page.click("#report-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    page.goto(page.locator("#report-html").get_attribute("href").join([live_server.url, ""]))
    page.wait_for_selector("#section-rankings svg, #section-rankings table")
    shot(page, "monthly-report-printable")
