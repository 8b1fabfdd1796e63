"""The data page on a phone: charts draw, the ranking table scrolls inside its box, drill-down works."""

from __future__ import annotations

import datetime as dt

import pytest

from changxin.core.models import OrgUnit
from changxin.core.tests.browser import assert_accessible, assert_fits, login
from changxin.core.tests.builders import ThisMonth
from changxin.demands.services import create_demand, transition


@pytest.mark.browser
def test_rankings_and_dashboard_on_a_phone(phone_page, live_server, demo_world, settings):
    settings.CHANGXIN_RANKING_MIN_DEMANDS = 1  # one rated demand ranks the street (the chart shows)
    users = demo_world
    street = OrgUnit.objects.get(code="110106017")
    month = ThisMonth(dt.timedelta(minutes=30))  # the ranking is of this month
    demand, _ = create_demand(
        {
            "demand_type": "complaint",
            "title": "路灯不亮",
            "content": "门口路灯坏了",
            "street": street,
            "requester_name": "张三",
            "requester_phone": "13812345678",
        },
        actor=users["dispatcher"],
        received_at=month.ago(minutes=30),
    )
    transition(demand, "dispatch", users["dispatcher"], lead_unit=street, now=month.ago(minutes=20))
    transition(demand, "acknowledge", users["lugouqiao"], now=month.ago(minutes=15))
    transition(demand, "contact", users["lugouqiao"], note="电话联系", now=month.ago(minutes=10))
    transition(demand, "reply", users["lugouqiao"], note="已修复", now=month.ago(minutes=8))
    transition(
        demand,
        "return_visit",
        users["dispatcher"],
        resolution="resolved",
        satisfaction="satisfied",
        now=month.ago(minutes=5),
    )

    page = phone_page
    login(page, live_server, "leader", next_url="/insight/")
    page.goto(live_server.url + "/insight/")
    page.wait_for_selector("#chart-daily canvas")
    page.wait_for_selector("#chart-ranking canvas")
    assert_fits(page)
    assert_accessible(page)
    row = page.locator('#ranking-table tr[data-unit="110106017"]')
    assert row.locator('[data-col="response-rate"]').inner_text() == "100.00%"
    row.locator('[data-col="response-numerator"] a').click()
    page.wait_for_selector("#drill-table")
    assert page.locator("#drill-count").inner_text() == "1"
    assert_accessible(page)
    assert page.locator(f'#drill-table tr[data-pk="{demand.pk}"]').count() == 1
