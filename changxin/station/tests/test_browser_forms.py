"""The portal form on a phone: over-long text is kept and counted, a rate-limited citizen keeps what
they wrote and is told when to send it, an enterprise gives its name and credit code (issue 14,
points 11, 15 and 16)."""

import pytest
from django.test import override_settings

from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot
from changxin.core.tests.builders import png_bytes
from changxin.demands.models import Demand

pytestmark = pytest.mark.browser


def fill(page, title):
    page.check("input[name=demand_type][value=complaint]")
    page.fill("#id_title", title)
    page.fill("#id_content", "楼道里堆了很多杂物，消防通道被堵。")
    page.fill("#id_address", "卢沟桥南里5号楼")
    page.fill("#id_requester_name", "韩梅梅")
    page.fill("#id_requester_phone", "13912345678")


def test_pasted_text_over_the_limit_is_kept_and_counted(phone_page, live_server, demo_world):
    page = phone_page
    page.goto(live_server.url + "/station/submit/")
    counter = page.locator("#id_title-counter")
    assert counter.inner_text() == "0 / 120 字"
    page.fill("#id_title", "灯" * 125)  # as a paste: the browser would have cut it at maxlength
    assert len(page.input_value("#id_title")) == 125
    assert "超出 120 字的上限 5 字" in counter.inner_text()
    assert page.get_attribute("#id_title", "aria-invalid") == "true"
    shot(page, "limits-title-over")
    assert_accessible(page)
    page.fill("#id_title", "灯" * 20)
    assert counter.inner_text() == "20 / 120 字"
    assert page.get_attribute("#id_title", "aria-invalid") is None


@override_settings(CHANGXIN_STATION_SUBMIT_RATE="1/h")
def test_a_rate_limited_citizen_keeps_the_form_and_is_told_when_to_retry(phone_page, live_server, demo_world):
    page = phone_page
    page.goto(live_server.url + "/station/submit/")
    fill(page, "楼道堆物")
    page.click("form.demand-form button[type=submit]")
    page.wait_for_url("**/station/submit/done/")

    page.goto(live_server.url + "/station/submit/")
    fill(page, "消防通道被堵")
    page.set_input_files(
        "#id_attachments", files=[{"name": "hall.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.click("form.demand-form button[type=submit]")
    page.wait_for_selector("article.message.error")
    text = page.inner_text("article.message.error")
    assert "之后" in text and "分钟" in text and "12345" in text
    assert page.input_value("#id_title") == "消防通道被堵"
    assert page.input_value("#id_requester_phone") == "13912345678"
    assert page.is_visible("#attachments-dropped")
    assert_fits(page)
    shot(page, "limits-rate-limited-390")
    assert_accessible(page)
    assert Demand.objects.count() == 1


def test_an_enterprise_files_with_its_name_and_credit_code_on_a_phone(phone_page, live_server, demo_world):
    page = phone_page
    login(page, live_server, "enterprise", next_url="/station/submit/")
    page.goto(live_server.url + "/station/submit/")
    assert page.is_visible("#enterprise-fields") and not page.locator("#id_anonymous").count()
    assert page.inner_text("label[for=id_requester_name]").startswith("联系人")
    fill(page, "园区道路积水影响货车进出")
    page.fill("#id_enterprise_name", "丰台某物流有限公司")
    page.fill("#id_credit_code", "91350100M000100Y43")
    assert_fits(page)
    shot(page, "forms-enterprise-390")
    assert_accessible(page)
    page.click("form.demand-form button[type=submit]")
    page.wait_for_url("**/station/submit/done/")
    demand = Demand.objects.get()
    assert demand.enterprise_name == "丰台某物流有限公司"
    assert "统一社会信用代码：91350100M000100Y43" in demand.content
