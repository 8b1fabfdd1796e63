"""The officer's reply screen checks the reply as it is typed and shows similar closed cases."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from changxin.core.tests.browser import artifact_path, assert_accessible, login
from changxin.demands.services import create_demand, transition

pytestmark = pytest.mark.browser


def handled_demand(world, title, content, reply=None):
    demand, _ = create_demand(
        {
            "demand_type": "complaint",
            "title": title,
            "content": content,
            "requester_name": "韩梅",
            "requester_phone": "13912345678",
            "address": "卢沟桥街道小瓦窑西里",
            "street": world["lugouqiao"].unit,
        },
        actor=world["dispatcher"],
    )
    transition(demand, "dispatch", world["dispatcher"], lead_unit=world["lugouqiao"].unit.pk)
    transition(demand, "acknowledge", world["lugouqiao"])
    transition(demand, "contact", world["lugouqiao"], note="电话联系诉求人")
    if reply:
        transition(demand, "reply", world["lugouqiao"], note=reply)
    return demand


def test_reply_check_warns_then_passes_and_similar_cases_show(page, live_server, demo_world):
    handled_demand(
        demo_world,
        "小瓦窑西里小区路灯不亮",
        "小瓦窑西里小区3号楼前的路灯已经坏了两周，晚上很黑。",
        reply="经核实，3号楼前路灯线路老化，已于11月20日更换线路，路灯恢复正常照明。",
    )
    demand = handled_demand(demo_world, "小瓦窑西里路灯坏了", "小瓦窑西里5号楼附近路灯不亮，晚上出行不安全。")
    login(page, live_server, "lugouqiao", next_url=f"/demands/{demand.pk}/")
    reply_box = page.locator("#action-reply")
    summary = reply_box.locator("> summary")
    textarea = reply_box.locator("textarea").first

    # Replying is this officer's next step, so the page arrives with the reply section already
    # open (views._build_forms opens the primary action). Clicking its heading with the mouse
    # folds it away and opens it again, like every other action on the page.
    expect(reply_box).to_have_js_property("open", True)
    expect(textarea).to_be_visible()
    summary.click()
    expect(reply_box).to_have_js_property("open", False)
    expect(textarea).to_be_hidden()
    summary.click()
    expect(reply_box).to_have_js_property("open", True)
    expect(textarea).to_be_visible()

    # Similar closed cases load with the page; opening one shows how it was answered.
    similar = page.locator("#similar-cases")
    similar.get_by_text("小瓦窑西里小区路灯不亮").click()
    expect(similar.locator("blockquote").first).to_contain_text("更换线路")

    textarea.fill("已收到。")
    warnings = page.locator("#triage-reply-check [data-code]")
    warnings.first.wait_for()
    codes = warnings.evaluate_all("els => els.map(e => e.dataset.code)")
    assert codes and "ok" not in codes
    page.screenshot(path=str(artifact_path("reply-check-warning")), full_page=True)
    assert_accessible(page)

    textarea.fill("经现场核查，5号楼附近路灯线路故障，已于11月25日安排维修并恢复照明，后续将定期巡查。")
    expect(page.locator("#triage-reply-check [data-code='ok']")).to_be_visible()
    page.screenshot(path=str(artifact_path("reply-check-ok")), full_page=True)
