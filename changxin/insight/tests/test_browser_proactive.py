"""A leader turns a hot spot into a proactive task (未诉先办), sees it linked; the public 每月一题
page draws its chart — at 1366 px and on a phone (390 px)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot
from changxin.core.tests.builders import LUGOUQIAO, ensure_taxonomy, hot_spot_in, monthly_problem_in, unit
from changxin.demands.services import create_demand
from changxin.insight import monthly
from changxin.insight.models import ProactiveTask


def _spot(users):
    street = unit(LUGOUQIAO)
    community = street.children.filter(kind="community").order_by("path").first()
    now = timezone.now()
    demands = []
    for days in (4, 2, 1):
        demand, _ = create_demand(
            {
                "channel": "hotline",
                "demand_type": "complaint",
                "title": "晓月苑小区门口乱停车",
                "content": "晚上车辆乱停，消防通道被堵。",
                "requester_name": "张三",
                "requester_phone": "13812345678",
                "street": street,
                "community": community,
                "category": ensure_taxonomy(),
            },
            actor=users["dispatcher"],
            received_at=now - dt.timedelta(days=days),
        )
        demands.append(demand)
    return hot_spot_in(LUGOUQIAO, label="晓月苑小区门口乱停车", demands=demands, category=ensure_taxonomy())


@pytest.mark.browser
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_leader_turns_a_hot_spot_into_a_proactive_task(request, live_server, demo_world, size):
    page = request.getfixturevalue("page" if size == "desktop" else "phone_page")
    spot = _spot(demo_world)
    login(page, live_server, "lugouqiao_lead", next_url=f"/insight/hotspots/{spot.pk}/")
    page.goto(f"{live_server.url}/insight/hotspots/{spot.pk}/")
    page.wait_for_selector("#chart-daily canvas")
    assert page.locator("#no-proactive").count() == 1
    page.locator("#proactive-form-box summary").click()
    page.fill("#proactive-form textarea[name=note]", "请社区和城管到现场排查，施划停车位。")
    shot(page, f"proactive-form-{size}")
    page.locator("#proactive-submit").click()
    page.wait_for_selector("#proactive-tasks")
    task = ProactiveTask.objects.get()
    row = page.locator(f'#proactive-tasks tr[data-pk="{task.pk}"]')
    assert task.demand.number in row.inner_text()
    assert task.demand.lead_unit.name in row.inner_text()
    assert row.locator(".task-state").inner_text().startswith(task.demand.get_state_display())
    assert_accessible(page)
    assert_fits(page)
    shot(page, f"proactive-linked-{size}")
    row.locator(f'a[href="/demands/{task.demand_id}/"]').click()
    page.wait_for_url(f"**/demands/{task.demand_id}/")


@pytest.mark.browser
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_public_page_of_the_month_draws_its_chart(request, live_server, demo_world, size):
    page = request.getfixturevalue("page" if size == "desktop" else "phone_page")
    centre = demo_world["dispatcher"]
    spot = _spot(demo_world)
    problem = monthly_problem_in(LUGOUQIAO, spot=spot, description="街道牵头，社区、物业共同治理。")
    month = timezone.localdate().replace(day=1)
    monthly.act(problem, "add_milestone", centre, title="现场排查", due_on=month + dt.timedelta(days=10))
    monthly.act(problem, "add_milestone", centre, title="施划车位", due_on=month + dt.timedelta(days=20))
    monthly.act(problem, "choose", centre)
    monthly.act(problem, "start", centre)
    monthly.act(problem, "note_progress", centre, note="已召开协调会，形成问题清单。")
    page.goto(f"{live_server.url}/insight/public/monthly/?month={month:%Y-%m}")  # no login
    page.wait_for_selector("#chart-public canvas")
    assert "晓月苑小区门口乱停车" in page.locator(f'article[data-pk="{problem.pk}"]').inner_text()
    assert_accessible(page)
    assert_fits(page)
    shot(page, f"monthly-public-{size}")
