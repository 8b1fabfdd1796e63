"""Browser flows: a citizen on a phone files and tracks a demand; an operator takes a call by keyboard."""

import pytest

from changxin.core.tests.browser import artifact_path, assert_accessible, assert_fits, login
from changxin.core.tests.builders import png_bytes
from changxin.demands.models import Channel, Demand, State, Urgency

pytestmark = pytest.mark.browser


def shot(page, request, step):
    page.screenshot(path=str(artifact_path(f"{request.node.name}-{step}")), full_page=True)
    assert_accessible(page)  # every screen shown, WCAG 2.1 AA


def test_citizen_files_and_tracks_a_demand_on_a_phone(phone_page, live_server, demo_world, request):
    page = phone_page
    page.goto(live_server.url + "/station/")
    shot(page, request, "1-home")
    page.click("main a[href='/station/submit/']")
    page.wait_for_url("**/station/submit/")

    # a first try without a title: the error is shown on the field
    page.check("input[name=demand_type][value=complaint]")
    page.fill("#id_content", "北门的路灯坏了一个星期，晚上很黑，老人出门不方便。")
    page.select_option("#id_street", label="卢沟桥街道")
    page.wait_for_function("document.querySelectorAll('#id_community option').length > 1")
    page.select_option("#id_community", index=1)
    page.fill("#id_requester_name", "韩梅梅")
    page.fill("#id_requester_phone", "12345678901")
    page.click("form.demand-form button[type=submit]")
    page.wait_for_selector("#title-errors")
    assert page.is_visible("#requester_phone-errors")
    assert page.get_attribute("#id_title", "aria-invalid") == "true"
    shot(page, request, "2-errors")

    page.fill("#id_title", "小区北门路灯不亮")
    page.fill("#id_requester_phone", "13912345678")
    page.fill("#id_address", "卢沟桥南里北门")
    page.set_input_files(
        "#id_attachments", files=[{"name": "lamp.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    shot(page, request, "3-filled")
    page.click("form.demand-form button[type=submit]")
    page.wait_for_url("**/station/submit/done/")
    code = page.inner_text("#tracking-code").strip()
    number = page.inner_text("#demand-number").strip()
    body = page.inner_text("body")
    assert "13912345678" not in body and "139****5678" in body
    shot(page, request, "4-receipt")
    demand = Demand.objects.get()
    assert (demand.tracking_code, demand.number, demand.channel) == (code, number, Channel.WEB)
    assert demand.attachments.count() == 1

    # later: track it with the code
    page.goto(live_server.url + "/station/")
    page.click("main a[href='/station/track/']")
    page.fill("#id_code", code.lower())
    page.click("main form button[type=submit]")
    page.wait_for_selector("#demand-state")
    assert page.inner_text("h1.demand-number").strip() == number
    assert page.inner_text("#timeline").strip()
    assert "韩梅梅" not in page.inner_text("body")
    # no horizontal scrolling on the phone
    assert_fits(page)


def test_operator_takes_calls_with_the_keyboard_only(page, live_server, demo_world, request):
    login(page, live_server, "dispatcher", next_url="/station/intake/")
    page.wait_for_url("**/station/intake/")
    page.wait_for_selector("#id_requester_phone:focus")
    kb = page.keyboard

    # call 1: a complaint, everything by Tab and arrows, saved with Enter
    kb.type("13811112222")
    kb.press("Tab")
    kb.type("王先生")
    kb.press("Tab")  # anonymous? no
    kb.press("Tab")  # type: 投诉 by default
    kb.press("Tab")  # urgency
    kb.press("ArrowDown")  # → urgent
    kb.press("Tab")
    kb.type("夜间施工噪音扰民")
    kb.press("Tab")
    kb.type("工地晚上十一点后还在施工，影响休息。")
    kb.press("Tab")  # street
    kb.press("ArrowDown")
    page.wait_for_function("document.querySelectorAll('#id_community option').length > 1")
    kb.press("Tab")  # community
    kb.press("ArrowDown")
    kb.press("Tab")
    kb.type("右安门外大街1号")
    shot(page, request, "1-filled")
    kb.press("Enter")
    page.wait_for_selector("article.message.success")
    first = Demand.objects.get()
    assert first.channel == Channel.HOTLINE and first.urgency == Urgency.URGENT
    assert first.street is not None and first.community is not None
    assert first.community.parent_id == first.street_id
    assert first.number in page.inner_text("article.message.success")
    shot(page, request, "2-saved")

    # call 2: the same caller asks a question; access keys jump, Ctrl+Enter saves with the answer
    page.wait_for_selector("#id_requester_phone:focus")
    kb.type("13811112222")
    page.wait_for_selector(f"#caller-history >> text={first.number}")  # repeat caller spotted
    kb.press("Alt+n")
    kb.type("王先生")
    kb.press("Alt+y")
    assert page.evaluate("document.activeElement.id") == "id_demand_type"
    kb.press("ArrowUp")
    kb.press("ArrowUp")  # 投诉 → 求助 → 咨询
    kb.press("Alt+t")
    kb.type("居住证怎么办理")
    kb.press("Alt+c")
    kb.type("来电咨询居住证办理地点。")
    kb.press("Alt+s")
    kb.press("ArrowDown")
    kb.press("Alt+r")
    kb.type("请携带身份证和租房合同到所在社区服务站办理。")
    shot(page, request, "3-consult")
    kb.press("Control+Enter")
    page.wait_for_function("document.querySelectorAll('article.message.success').length === 1")
    page.wait_for_selector("#id_requester_phone:focus")
    second = Demand.objects.exclude(pk=first.pk).get()
    assert second.demand_type == "consult" and second.state == State.REPLIED
    assert second.requester_phone == "13811112222"
    assert second.number in page.inner_text("article.message.success")


def test_requester_rates_the_reply_on_a_phone(phone_page, live_server, demo_world, request):
    from changxin.core.tests.builders import station_replied_demand

    demand = station_replied_demand(demo_world)
    page = phone_page
    page.goto(f"{live_server.url}/station/track/{demand.tracking_code}/")
    assert demand.reply in page.inner_text("#official-reply")
    page.check("input[name=resolution][value=partly]")
    page.check("input[name=satisfaction][value=basic]")
    shot(page, request, "1-rating")
    page.click("#rating button[type=submit]")
    page.wait_for_selector("#rating-done")
    demand.refresh_from_db()
    assert (demand.state, demand.resolution, demand.satisfaction) == (State.VISITED, "partly", "basic")
    assert_fits(page)
