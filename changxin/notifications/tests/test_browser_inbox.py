"""An officer on a phone: sees the unread badge, opens the inbox, follows a notification to the demand."""

from __future__ import annotations

import pytest

from changxin.core import jobs
from changxin.core.tests.browser import artifact_path, assert_accessible, login
from changxin.demands.services import create_demand, transition
from changxin.notifications.models import Notification

pytestmark = pytest.mark.browser


def test_an_officer_follows_a_notification_to_the_demand_on_a_phone(phone_page, live_server, demo_world):
    users = demo_world
    demand, _ = create_demand(
        {
            "demand_type": "complaint",
            "title": "小区门口路灯不亮",
            "content": "卢沟桥街道某小区门口的路灯已经坏了一周，晚上出行不便。",
            "requester_name": "张三",
            "requester_phone": "13800000001",
        },
        actor=users["dispatcher"],
    )
    transition(demand, "dispatch", users["dispatcher"], lead_unit=users["lugouqiao"].unit_id)
    jobs.drain()  # a queue that does not run jobs inline delivers the events here
    notice = Notification.objects.get(recipient=users["lugouqiao"], demand=demand)

    page = phone_page
    login(page, live_server, "lugouqiao")
    badge = page.locator("#nav-notifications-badge")
    assert badge.inner_text() == "1"
    page.click("#nav-notifications")
    page.wait_for_url("**/notifications/")
    assert page.locator("h1").inner_text() == "通知"
    item = page.locator(f"#notification-{notice.pk} button")
    assert demand.number in item.inner_text() and "卢沟桥街道" in item.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the inbox scrolls sideways"
    title_colour = item.locator(".notice-title").evaluate("e => getComputedStyle(e).color")
    assert title_colour not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), "the title is invisible"
    page.screenshot(path=str(artifact_path("notifications_inbox_phone")), full_page=True)
    assert_accessible(page)

    item.click()
    page.wait_for_url(f"**/demands/{demand.pk}/")
    assert demand.number in page.locator("main").inner_text()
    assert page.locator("#nav-notifications-badge").count() == 0
    notice.refresh_from_db()
    assert notice.read_at is not None
