"""先锋者荣 and the evaluation sheet in the browser: party staff nominate the top of the ranking
(the bottom is refused with the rule named), another member of party staff approves and publishes,
the public honour roll shows the name and organisation; the member's evaluation sheet renders for
print; the organisation's ranking chart draws. Screenshots at 1366 and 390 px."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from changxin.core.models import Role
from changxin.core.tests.browser import artifact_path, assert_accessible, login
from changxin.core.tests.builders import (
    LUGOUQIAO,
    PASSWORD,
    make_user,
    party_member,
    party_organisation,
    unit,
)
from changxin.pioneers import ledger
from changxin.pioneers.models import Honour, PointEntry

pytestmark = pytest.mark.browser
YEAR = timezone.localdate().year


def _points(member, points, kind):
    PointEntry.objects.create(
        member=member, kind=kind, points=Decimal(points), at=timezone.now(), year=YEAR,
        source_stream="demands", source_event_id=member.pk * 10 + len(kind),
    )  # fmt: skip
    ledger.recompute_total(member, YEAR)


def test_nominate_approve_publish_and_the_evaluation_sheet(
    page, phone_page, live_server, demo_world, settings
):
    settings.PIONEERS_HONOUR_TOP_N = 2
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    zhou = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    li = party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    wang = party_member(branch, "王芳")
    _points(zhou, "8", "service")
    _points(zhou, "3", "reform")
    _points(li, "6", "hardship")
    _points(wang, "1", "integrity")
    reviewer = make_user("party_review", Role.PARTY_STAFF, unit("110106"))

    login(page, live_server, "party")
    page.goto(f"{live_server.url}/pioneers/organisations/{branch.pk}/")
    page.wait_for_function("document.querySelector('#chart-ranking canvas') !== null")
    page.screenshot(path=str(artifact_path("pioneers_ranking_chart_desktop")), full_page=True)
    page.click("text=先锋者荣")
    row = page.locator("#honour-ranking tr", has_text="王芳")
    row.locator("button[type=submit]").click()
    assert "top_of_ranking" in page.content() or "前 2 名" in page.content()  # the rule, named
    row = page.locator("#honour-ranking tr", has_text="周婷")
    row.locator("input[name=citation]").fill("接诉即办按时办结，主动认领责任区问题")
    row.locator("button[type=submit]").click()
    h = Honour.objects.get()
    assert page.locator(f"#honour-{h.pk} [data-action=approve]").count() == 0  # four eyes: not the nominator

    page.context.clear_cookies()
    login(page, live_server, "party_review", PASSWORD)
    page.goto(f"{live_server.url}/pioneers/organisations/{branch.pk}/honours/")
    page.click(f"#honour-{h.pk} [data-action=approve]")
    page.click(f"#honour-{h.pk} [data-action=publish]")
    h.refresh_from_db()
    assert (h.state, h.decided_by) == ("published", reviewer)
    page.screenshot(path=str(artifact_path("pioneers_honours_desktop")), full_page=True)

    phone = phone_page
    phone.goto(f"{live_server.url}/pioneers/honours/roll/?year={YEAR}")
    roll = phone.locator("#roll").inner_text()
    assert "周婷" in roll and "卢沟桥机关党支部" in roll and "李强" not in roll
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(artifact_path("pioneers_honour_roll_phone")), full_page=True)
    assert_accessible(phone)

    login(phone, live_server, "lugouqiao_lead")
    phone.goto(f"{live_server.url}/pioneers/members/{zhou.pk}/evaluation/?year={YEAR}")
    assert phone.locator("#sheet-total").inner_text() == "11.0"
    assert phone.locator("[data-print]").is_visible()
    assert "诉求办理 × 1" in phone.locator("#sheet-points").inner_text()
    assert "优秀先锋者" in phone.locator("#sheet-branch").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(artifact_path("pioneers_evaluation_phone")), full_page=True)
    page.goto(f"{live_server.url}/pioneers/members/{zhou.pk}/evaluation/?year={YEAR}")
    page.emulate_media(media="print")
    assert not page.locator("[data-print]").is_visible()  # print CSS hides the controls
    page.screenshot(path=str(artifact_path("pioneers_evaluation_print_desktop")), full_page=True)


def test_party_staff_set_up_a_vanguard_post_on_a_phone(phone_page, live_server, demo_world):
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    community = unit(LUGOUQIAO).children.order_by("path").first()
    zhou = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"], areas=[community])
    _points(zhou, "2", "service")
    page = phone_page
    login(page, live_server, "party")
    page.goto(f"{live_server.url}/pioneers/organisations/{branch.pk}/posts/")
    page.fill("#id_name", "党员先锋岗")
    page.select_option("#id_place", str(community.pk))
    page.fill("#id_window", "1号便民窗口")
    page.check(f"#post-form input[name=members][value='{zhou.pk}']")
    page.click("#post-form button[type=submit]")
    assert page.locator(f"#duty-{zhou.pk}").is_visible()
    assert "1号便民窗口" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifact_path("pioneers_vanguard_post_phone")), full_page=True)
    page.goto(f"{live_server.url}/pioneers/members/{zhou.pk}/")
    assert "党员先锋岗" in page.locator("#member-posts").inner_text()
