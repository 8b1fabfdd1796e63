"""The whole handling path in a real browser: citizen submits → dispatcher dispatches → the street's
officer acknowledges (on a phone), records contact and replies → the centre records the return visit →
the street is counted in the month's ranking (when the insight app serves it)."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from changxin.core.tests.browser import artifact_path, assert_accessible, login
from changxin.demands.models import Demand, State

TITLE = "卢沟桥路口夜间施工噪音扰民"


def shot(page, name):
    page.screenshot(path=str(artifact_path(name)), full_page=True)
    assert_accessible(page)  # every screen of the path, WCAG 2.1 AA


def switch_user(page, live_server, username, next_url="/"):
    page.context.clear_cookies()
    login(page, live_server, username, next_url=next_url)


def submit_as_citizen(page, live_server, world) -> Demand:
    """Prefer the station's real form; fall back to the intake service if the station is not served."""
    try:
        url = reverse("station:submit")
    except NoReverseMatch:
        from changxin.demands.services import create_demand

        demand, _ = create_demand(
            {
                "demand_type": "complaint",
                "title": TITLE,
                "content": "路口工地每晚十一点后仍在施工，噪音很大。",
                "requester_name": "韩梅",
                "requester_phone": "13912345678",
                "address": "卢沟桥街道小瓦窑路口",
                "street": world["lugouqiao"].unit,
            },
            actor=world["citizen"],
        )
        return demand
    login(page, live_server, "citizen")
    page.goto(live_server.url + url)
    page.check("input[name=demand_type][value=complaint]")
    page.fill("#id_title", TITLE)
    page.fill("#id_content", "路口工地每晚十一点后仍在施工，噪音很大，影响休息。")
    page.select_option("#id_street", label="卢沟桥街道")
    page.fill("#id_address", "卢沟桥街道小瓦窑路口")
    page.fill("#id_requester_name", "韩梅")
    page.fill("#id_requester_phone", "13912345678")
    page.click("form.demand-form button[type=submit]")
    page.wait_for_url(re.compile(r"/station/submit/done/"))
    shot(page, "handling-1-citizen-submitted")
    return Demand.objects.get(title=TITLE)


@pytest.mark.browser
@pytest.mark.parametrize("width", ["1366", "390"])
def test_whole_handling_path(page, phone_page, live_server, demo_world, width):
    """At 1366 px the centre works on a desktop and the officer on a phone; at 390 px everyone does."""
    officer = phone_page
    page = page if width == "1366" else phone_page
    demand = submit_as_citizen(page, live_server, demo_world)
    assert demand.state == State.RECEIVED
    detail = f"{live_server.url}/demands/{demand.pk}/"

    # The dispatcher finds it in the queue and dispatches it to 卢沟桥街道 on the detail page.
    switch_user(page, live_server, "dispatcher", "/demands/queue/")
    page.goto(live_server.url + "/demands/queue/")
    assert page.locator(f"#row-{demand.pk}").is_visible()
    shot(page, f"handling-2-queue-{width}")
    page.click(f"#row-{demand.pk} a[href='/demands/{demand.pk}/']")
    page.wait_for_url(detail)
    assert "138" not in page.locator(".requester-phone").inner_text()  # masked until asked
    assert "****" in page.locator(".requester-phone").inner_text()
    page.select_option("#id_dispatch_lead_unit", label="卢沟桥街道")
    page.click("#form-dispatch button[type=submit]")
    page.wait_for_url(detail)
    assert Demand.objects.get(pk=demand.pk).state == State.DISPATCHED
    shot(page, f"handling-3-dispatched-{width}")
    assert Demand.objects.get(pk=demand.pk).lead_unit.code == "110106017"

    # The street's officer works on a phone: acknowledge inline on the workbench, then contact and reply.
    switch_user(officer, live_server, "lugouqiao", "/demands/workbench/")
    officer.goto(live_server.url + "/demands/workbench/")
    row = officer.locator("#group-acknowledge li", has_text=TITLE)
    assert row.is_visible()
    shot(officer, f"handling-4-workbench-phone-{width}")
    row.locator(".acknowledge-button").click()
    officer.locator("#group-contact li", has_text=TITLE).wait_for()
    assert Demand.objects.get(pk=demand.pk).state == State.ACKNOWLEDGED
    officer.locator("#group-contact li", has_text=TITLE).locator("a", has_text=demand.number).click()
    officer.wait_for_url(detail)
    officer.click("#show-contact")
    officer.locator(".requester-phone", has_text="13912345678").wait_for()
    officer.fill("#id_contact_note", "已电话联系韩女士，约定明日现场查看。")
    officer.click("#form-contact button[type=submit]")
    officer.wait_for_url(detail)
    officer.fill("#id_reply_note", "经现场核查，已责令施工单位22点后停止施工并加装隔音屏障。")
    shot(officer, f"handling-5-reply-phone-{width}")
    officer.click("#form-reply button[type=submit]")
    officer.wait_for_url(detail)
    assert Demand.objects.get(pk=demand.pk).state == State.REPLIED
    width = officer.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"detail page scrolls sideways on a phone ({width}px)"

    # The centre calls back and records the answer on the return-visit screen.
    switch_user(page, live_server, "dispatcher", "/demands/visits/")
    page.goto(live_server.url + "/demands/visits/")
    card = page.locator(f"#visit-{demand.pk}")
    assert "13912345678" in card.inner_text()  # the caller needs the number; the view is logged
    card.locator("input[name=resolution][value=resolved]").check()
    card.locator("input[name=satisfaction][value=satisfied]").check()
    shot(page, f"handling-6-visit-{width}")
    card.locator(".return-visit-form button[type=submit]").click()
    page.locator(f"#visit-{demand.pk}").wait_for(state="detached")
    demand.refresh_from_db()
    assert demand.state == State.VISITED and demand.resolution == "resolved"

    page.goto(detail)
    timeline = page.locator("#timeline").inner_text()
    assert timeline.count("\n") >= 5
    shot(page, f"handling-7-detail-done-{width}")

    # The month's street ranking counts the demand (insight app), when it is served.
    try:
        insight = reverse("insight:home")
    except NoReverseMatch:
        pytest.skip("FOLLOW-UP: insight:home is not routed yet; ranking check not run")
    month = timezone.localdate().strftime("%Y-%m")
    page.goto(f"{live_server.url}{insight}?month={month}")
    shot(page, f"handling-8-ranking-{width}")
    # one demand is too few to rank (RULES.md): counted, shown apart with its figures, not ranked
    row = page.locator("#apart-table tr", has_text="卢沟桥街道").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0].strip() == "—", cells
    assert "1" in cells[2:4] and any("100" in c for c in cells), cells


@pytest.mark.browser
def test_quick_dispatch_inline_in_queue(page, live_server, demo_world):
    from changxin.demands.services import create_demand

    demand, _ = create_demand(
        {
            "demand_type": "help",
            "title": "楼道灯坏了",
            "content": "三单元楼道灯不亮。",
            "street": demo_world["lugouqiao"].unit,
        },
        actor=demo_world["dispatcher"],
    )
    Demand.objects.filter(pk=demand.pk).update(
        triage={"unit": demo_world["lugouqiao"].unit_id, "confidence": 0.7, "reasons": ["地址在卢沟桥街道"]}
    )
    login(page, live_server, "dispatcher", next_url="/demands/queue/")
    page.goto(live_server.url + "/demands/queue/")
    page.click(f"#row-{demand.pk} .quick-dispatch")
    form_row = page.locator(f"#row-{demand.pk}.quick-dispatch-row")
    form_row.wait_for()
    assert form_row.locator("select option:checked").inner_text() == "卢沟桥街道"  # the suggestion
    shot(page, "queue-quick-dispatch-open")
    form_row.locator("button[type=submit]").click()
    page.locator(f"#row-{demand.pk}").wait_for(state="detached")
    assert page.url.endswith("/demands/queue/")  # swapped in place, no navigation
    assert Demand.objects.get(pk=demand.pk).state == State.DISPATCHED
    shot(page, "queue-quick-dispatch-done")


@pytest.mark.browser
def test_suggestion_box_and_duplicate_merge_on_phone(phone_page, live_server, demo_world):
    from changxin.demands.services import create_demand

    street = demo_world["lugouqiao"].unit
    master, _ = create_demand(
        {"demand_type": "complaint", "title": "工地夜间施工", "content": "噪音。", "street": street},
        actor=demo_world["dispatcher"],
    )
    demand, _ = create_demand(
        {
            "demand_type": "complaint",
            "title": "工地夜里还在施工",
            "content": "小瓦窑路口工地夜里施工。",
            "street": street,
            "requester_name": "李四",
            "requester_phone": "13700000000",
        },
        actor=demo_world["dispatcher"],
    )
    Demand.objects.filter(pk=demand.pk).update(
        triage={
            "unit": street.pk,
            "unit_name": street.name,
            "confidence": 0.64,
            "reasons": ["地址“小瓦窑路口”在卢沟桥街道", "类别“施工噪音”由街道主办"],
            "duplicates": [{"id": master.pk, "number": master.number, "title": master.title, "score": 0.88}],
        }
    )
    login(phone_page, live_server, "dispatcher", next_url=f"/demands/{demand.pk}/")
    phone_page.goto(f"{live_server.url}/demands/{demand.pk}/")
    box = phone_page.locator("#triage-suggestion")
    assert "卢沟桥街道" in box.inner_text() and "64%" in box.inner_text()
    assert phone_page.locator("#id_dispatch_lead_unit option:checked").inner_text() == "卢沟桥街道"
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"detail page scrolls sideways on a phone ({width}px)"
    shot(phone_page, "detail-suggestion-phone")
    box.locator(".merge-duplicate").click()
    phone_page.wait_for_url(f"{live_server.url}/demands/{demand.pk}/")
    demand.refresh_from_db()
    assert demand.state == State.MERGED and demand.master_id == master.pk
    assert phone_page.locator("#merge-links a", has_text=master.number).is_visible()


@pytest.mark.browser
def test_an_estimated_deadline_note_wraps_on_a_phone(phone_page, live_server, demo_world):
    """A deadline in a year the work calendar does not know (a demand of 31 December) carries a
    sentence-long note; as a one-line badge it pushed a 390 px page to 462 px."""
    from changxin.core.tests.browser import assert_fits, shot
    from changxin.core.tests.builders import LUGOUQIAO, new_demand

    demand = new_demand(demo_world["dispatcher"], street_code=LUGOUQIAO)
    Demand.objects.filter(pk=demand.pk).update(deadline_estimated=True)
    login(phone_page, live_server, "dispatcher", next_url=f"/demands/{demand.pk}/")
    phone_page.goto(f"{live_server.url}/demands/{demand.pk}/")
    assert phone_page.locator("#deadline-estimated").is_visible()
    shot(phone_page, "demand-deadline-estimated-390")
    assert_fits(phone_page)
