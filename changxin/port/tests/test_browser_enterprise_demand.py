"""In a real browser, at phone width: an enterprise account files a demand on the portal, its
service manager handles it (acknowledge, contact, start, reply), the enterprise rates the reply."""

from __future__ import annotations

import pytest

from changxin.core.tests.browser import artifact_path, login
from changxin.demands.models import State
from changxin.port.models import EnterpriseDemand

TITLE = "园区东门申请增设公交站点"


def shot(page, name):
    page.screenshot(path=str(artifact_path(name)), full_page=True)


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"{page.url} scrolls sideways on a phone ({width}px)"


@pytest.mark.browser
def test_enterprise_files_manager_handles_enterprise_rates(phone_page, live_server, port_world):
    page = phone_page
    login(page, live_server, "enterprise", next_url="/port/")
    page.goto(live_server.url + "/port/")
    assert port_world["ours"].name in page.locator("h1").inner_text()
    assert port_world["manager"].full_name in page.locator("#contact-card").inner_text()
    shot(page, "port-1-portal-phone")
    no_sideways_scroll(page)
    page.click("#file-demand")
    page.select_option("#id_demand_type", "help")
    page.fill("#id_title", TITLE)
    page.fill("#id_content", "园区距最近公交站1.5公里，员工通勤不便，建议在园区东门增设公交站点。")
    shot(page, "port-2-file-phone")
    page.click("#demand-form button[type=submit]")
    page.wait_for_url(live_server.url + "/port/")
    link = EnterpriseDemand.objects.select_related("demand").get(demand__title=TITLE)
    demand = link.demand
    assert demand.state == State.DISPATCHED
    assert page.locator(f"#demand-{demand.pk}").is_visible()

    # the service manager handles it on the demand page (the ASSIGNEE of the lead task)
    page.context.clear_cookies()
    login(page, live_server, "manager", next_url="/port/")
    page.goto(f"{live_server.url}/port/enterprises/{port_world['ours'].pk}/")
    page.locator(f"#demand-{demand.pk} a", has_text="办理").click()
    detail = f"{live_server.url}/demands/{demand.pk}/"
    page.wait_for_url(detail)
    page.click("#form-acknowledge button[type=submit]")
    page.wait_for_url(detail)
    page.fill("#id_contact_note", "已电话联系企业，了解站点位置需求。")
    page.click("#form-contact button[type=submit]")
    page.wait_for_url(detail)
    page.click("#form-start button[type=submit]")
    page.wait_for_url(detail)
    page.fill("#id_reply_note", "已协调区交通委，拟在园区东门增设公交站点，预计下月启用。")
    shot(page, "port-3-manager-reply-phone")
    page.click("#form-reply button[type=submit]")
    page.wait_for_url(detail)
    demand.refresh_from_db()
    assert demand.state == State.REPLIED
    no_sideways_scroll(page)

    # the enterprise rates the reply on its portal
    page.context.clear_cookies()
    login(page, live_server, "enterprise", next_url="/port/")
    page.goto(live_server.url + "/port/")
    card = page.locator(f"#demand-{demand.pk}")
    assert "公交站点" in card.locator(".reply").inner_text()
    card.locator("input[name=resolution][value=resolved]").check()
    card.locator("input[name=satisfaction][value=satisfied]").check()
    shot(page, "port-4-rate-phone")
    card.locator("form.rate button[type=submit]").click()
    page.wait_for_url(live_server.url + "/port/")
    demand.refresh_from_db()
    assert demand.state == State.VISITED and demand.satisfaction == "satisfied"
    assert page.locator(f"#demand-{demand.pk} form.rate").count() == 0
    shot(page, "port-5-rated-phone")
