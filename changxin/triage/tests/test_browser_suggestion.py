"""End to end: a citizen's demand is triaged at intake and the dispatcher sees the suggestion."""

from __future__ import annotations

import re

import pytest

from changxin.core.tests.browser import artifact_path, assert_accessible, login
from changxin.demands.models import Demand, State

pytestmark = pytest.mark.browser


def submit(page, live_server, title, content, address):
    page.goto(live_server.url + "/station/submit/")
    page.check("input[name=demand_type][value=complaint]")
    page.fill("#id_title", title)
    page.fill("#id_content", content)
    page.fill("#id_address", address)
    page.fill("#id_requester_name", "韩梅")
    page.fill("#id_requester_phone", "13912345678")
    page.click("form.demand-form button[type=submit]")
    page.wait_for_url(re.compile(r"/station/submit/done/"))
    return Demand.objects.get(title=title)


def test_dispatcher_sees_the_intake_suggestion_and_dispatches_with_it(page, live_server, demo_world):
    # The citizen names no street: only the address text says where it is.
    login(page, live_server, "citizen")
    first = submit(
        page,
        live_server,
        "小瓦窑西里工地夜间施工噪音",
        "小瓦窑西里北侧工地每天夜里十一点以后还在施工，噪音很大，影响休息。",
        "小瓦窑西里北侧工地",
    )
    second = submit(
        page,
        live_server,
        "小瓦窑西里工地夜里施工噪音扰民",
        "小瓦窑西里北侧工地每天夜里十一点以后还在施工，噪音很大，严重影响休息。",
        "小瓦窑西里北侧",
    )
    second.refresh_from_db()
    assert second.triage.get("street_name") == "卢沟桥街道", second.triage
    assert any(d["id"] == first.pk for d in second.triage.get("duplicates", [])), second.triage

    page.context.clear_cookies()
    login(page, live_server, "dispatcher", next_url=f"/demands/{second.pk}/")
    page.goto(f"{live_server.url}/demands/{second.pk}/")
    box = page.locator("#triage-suggestion")
    text = box.inner_text()
    assert "卢沟桥街道" in text and first.number in text
    assert page.locator("#id_dispatch_lead_unit option:checked").inner_text() == "卢沟桥街道"
    page.screenshot(path=str(artifact_path("triage-suggestion-on-dispatch")), full_page=True)
    assert_accessible(page)
    page.click("#form-dispatch button[type=submit]")
    page.wait_for_url(f"{live_server.url}/demands/{second.pk}/")
    second.refresh_from_db()
    assert second.state == State.DISPATCHED and second.lead_unit.name == "卢沟桥街道"
