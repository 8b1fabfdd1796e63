"""Every list screen at 1366 px and on a 390 px phone: nothing cut off, cards on the phone.

One small world of demands (new, urgent, dispatched, overdue, replied) is shown to each role on its
own screens; the screenshots land in test-artifacts/screens-<role>-<page>-<width>.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core.tests.browser import artifact_path, assert_accessible, assert_fits, login, shot
from changxin.core.tests.builders import LUGOUQIAO, new_demand, station_replied_demand, unit
from changxin.demands.services import create_demand, transition

pytestmark = pytest.mark.browser

LONG_TITLE = "小区北门外的人行道上长期堆放建筑垃圾和废旧家具，夜间还有车辆乱停，老人孩子出行很不安全"


@pytest.fixture
def screens_world(demo_world):
    users = demo_world
    operator = users["dispatcher"]
    new_demand(operator, title=LONG_TITLE, urgency="urgent")
    new_demand(operator, title="路灯不亮")
    new_demand(operator, street_code=LUGOUQIAO, title="楼道堆物")
    old, _ = create_demand(
        {
            "channel": "hotline",
            "demand_type": "complaint",
            "title": "井盖破损",
            "content": "路口井盖破损，很危险。",
            "requester_name": "王五",
            "requester_phone": "13712345678",
            "address": "卢沟桥街道小瓦窑",
        },
        actor=operator,
        received_at=timezone.now() - dt.timedelta(days=12),
    )
    transition(
        old, "dispatch", operator, lead_unit=unit(LUGOUQIAO).pk, now=timezone.now() - dt.timedelta(days=12)
    )
    station_replied_demand(users)
    return users


# role → the screens it works with
SCREENS = {
    "dispatcher": ["/", "/demands/queue/", "/demands/overdue/", "/demands/visits/"],
    "lugouqiao": ["/", "/demands/workbench/", "/notifications/"],
    "leader": ["/insight/"],
    "citizen": ["/", "/station/"],
}


def walk(page, live_server, username, paths, width_name):
    login(page, live_server, username)
    for path in paths:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        name = f"screens-{username}-{path.strip('/').replace('/', '-') or 'home'}-{width_name}"
        shot(page, name)
        if page.locator(".table-wrap").count():  # a close-up of the list's first rows
            box = page.locator(".table-wrap").first.bounding_box()
            page.screenshot(
                path=str(artifact_path(name + "-list")),
                full_page=True,
                clip={
                    "x": 0,
                    "y": box["y"],
                    "width": page.viewport_size["width"],
                    "height": min(box["height"], 700),
                },
            )
        assert_fits(page)
        assert_accessible(page)


@pytest.mark.parametrize("username", sorted(SCREENS))
def test_screens_fit_at_1366(page, live_server, screens_world, username):
    walk(page, live_server, username, SCREENS[username], "1366")


@pytest.mark.parametrize("username", sorted(SCREENS))
def test_screens_fit_on_a_phone(phone_page, live_server, screens_world, username):
    walk(phone_page, live_server, username, SCREENS[username], "390")


def test_list_rows_are_compact_cards_on_a_phone(phone_page, live_server, screens_world):
    page = phone_page
    login(page, live_server, "dispatcher")
    page.goto(live_server.url + "/demands/queue/")
    rows = page.locator("table.demand-table tbody tr")
    assert rows.count() >= 2
    for i in range(rows.count()):
        box = rows.nth(i).bounding_box()
        assert box["width"] <= 390 and box["height"] < 260, box
    # each cell says what it is once the header row is gone
    assert page.locator("table.demand-table tbody td[data-label]").count() >= 8


def test_queue_badges_and_buttons_stay_on_one_line_at_1366(page, live_server, screens_world):
    login(page, live_server, "dispatcher")
    page.goto(live_server.url + "/demands/queue/")
    for selector in ("table.demand-table .badge", "table.demand-table a.quick-dispatch"):
        items = page.locator(selector)
        assert items.count() >= 1
        for i in range(items.count()):
            box = items.nth(i).bounding_box()
            assert box["height"] < 40, (selector, box)  # one line, not one character per line
