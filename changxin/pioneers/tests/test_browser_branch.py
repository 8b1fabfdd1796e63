"""On a phone: a member signs up for a volunteer activity, checks in by opening the scanned QR code's
URL, and sees the points with the check-in shown as their source; the secretary takes attendance;
party staff see the compliance and dues charts at 1366 px."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core.tests.browser import artifact_path, assert_accessible, assert_fits, login
from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, party_member, party_organisation
from changxin.pioneers import branch_life, dues, ledger, volunteering

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


def test_a_member_signs_up_checks_in_and_sees_the_points_with_their_source(
    browser, phone_page, live_server, demo_world
):
    ledger.ensure_default_rules()  # a browser test before this one flushed the migration's rows
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    member = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    start = timezone.now() + dt.timedelta(minutes=10)
    activity = volunteering.create_activity(
        branch,
        title="同馨家园环境整治",
        place="同馨家园社区广场",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=3,
        actor=demo_world["party"],
    )
    volunteering.change(activity, "publish", demo_world["party"])

    # the organiser (the branch secretary) shows the QR code at the place, on a desktop screen
    organiser = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    ).new_page()
    login(organiser, live_server, "lugouqiao")
    organiser.goto(f"{live_server.url}/pioneers/volunteer/{activity.pk}/")
    assert organiser.locator("#checkin-qr svg").count() == 1
    scan_url = organiser.locator("#checkin-link").get_attribute("href")
    assert "/pioneers/volunteer/check-in/" in scan_url
    organiser.screenshot(path=str(artifact_path("pioneers_volunteer_qr_desktop")), full_page=True)
    organiser.context.close()

    page = phone_page
    login(page, live_server, "lugouqiao_lead")
    page.goto(f"{live_server.url}/pioneers/volunteer/")
    page.click(f"#activity-{activity.pk} a")
    page.click("#act-sign_up")
    assert "已报名" in page.locator("#my-signup").inner_text()
    assert "1" in page.locator("#places").inner_text()
    _no_sideways_scroll(page, 390)
    assert_accessible(page)
    page.screenshot(path=str(artifact_path("pioneers_volunteer_signed_up_phone")), full_page=True)

    # the scan opens the check-in page; the member confirms
    page.goto(scan_url)
    page.click("#check-in")
    assert page.locator("#checked-in").is_visible()
    credited = page.locator("#credited").inner_text()
    assert "2.0" in credited and "volunteering#" in credited
    _no_sideways_scroll(page, 390)
    page.screenshot(path=str(artifact_path("pioneers_volunteer_checked_in_phone")), full_page=True)

    # a second scan is refused with the rule named
    page.goto(scan_url)
    page.click("#check-in")
    assert "already_checked_in" in page.locator("#refusal").inner_text()

    page.goto(f"{live_server.url}/pioneers/members/{member.pk}/")
    assert page.locator("#points-total").inner_text() == "2.0"
    source = page.locator("#point-entries .source").first
    assert "同馨家园环境整治" in source.inner_text() and "volunteering#" in source.inner_text()
    _no_sideways_scroll(page, 390)
    page.screenshot(path=str(artifact_path("pioneers_member_volunteer_points_phone")), full_page=True)
    source.locator("a").click()
    page.wait_for_url(f"**/pioneers/volunteer/{activity.pk}/**")
    assert "签到" in page.locator("#my-signup").inner_text()


def test_the_secretary_takes_attendance_on_a_phone(phone_page, live_server, demo_world):
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    absent = party_member(branch, "马晓东")
    party_member(branch, "王丽娜")
    page = phone_page
    login(page, live_server, "lugouqiao")
    page.click("#nav-pioneers")
    page.click("#org-branch-links a >> nth=0")
    page.click("#record-meeting")
    page.select_option("select[name=kind]", "committee")
    page.fill("input[name=topic]", "研究本月支部工作")
    page.uncheck(f"#attendee-{absent.pk} input[type=checkbox]")
    page.click("#meeting-form button[type=submit]")
    assert "absence_reason_required" in page.locator("#refusal").inner_text()
    page.fill(f"input[name=reason-{absent.pk}]", "出差")
    _no_sideways_scroll(page, 390)
    assert_accessible(page)
    page.screenshot(path=str(artifact_path("pioneers_attendance_phone")), full_page=True)
    page.click("#meeting-form button[type=submit]")
    page.wait_for_url("**/pioneers/meetings/**")
    assert "出差" in page.locator("#attendance").inner_text()


def test_party_staff_see_compliance_and_dues_charts(page, live_server, demo_world):
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    other = party_organisation(CHANGXINDIAN, "南墙缝社区党支部")
    people = [party_member(branch, name) for name in ("李强", "周婷", "马晓东")]
    party_member(other, "张卫东")
    year = timezone.localdate().year
    everyone = {m.pk: (True, "") for m in people}
    held = min(dt.date(year, 1, 5), timezone.localdate())  # a meeting is recorded once held
    branch_life.record_meeting(branch, kind="theme_day", held_on=held, topic="主题党日", attendance=everyone)
    for n, m in enumerate(people):
        dues.set_base(m, year, category="wage", monthly_income=4000 + 3000 * n)
        dues.record_payment(m, dt.date(year, 1, 1), paid_on=min(dt.date(year, 1, 10), timezone.localdate()))
    login(page, live_server, "party")
    page.goto(f"{live_server.url}/pioneers/branch-life/")
    assert page.locator("#chart-compliance canvas").count() == 1
    assert page.locator(f"#branch-{branch.pk}").is_visible()
    assert_fits(page)
    assert_accessible(page)
    page.screenshot(path=str(artifact_path("pioneers_compliance_desktop")), full_page=True)
    page.click(f"#branch-{branch.pk} a >> nth=0")
    assert page.locator("#required .period.missed").count() > 0
    assert_fits(page)
    page.screenshot(path=str(artifact_path("pioneers_branch_desktop")), full_page=True)
    page.goto(f"{live_server.url}/pioneers/organisations/{branch.pk}/dues/")
    assert page.locator("#chart-dues canvas").count() == 1
    assert page.locator("#dues .owed").count() >= 0
    assert_fits(page)
    assert_accessible(page)
    page.screenshot(path=str(artifact_path("pioneers_dues_desktop")), full_page=True)


def test_compliance_dues_and_transfer_fit_a_phone(phone_page, live_server, demo_world):
    from changxin.pioneers import transfers

    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    other = party_organisation(CHANGXINDIAN, "南墙缝社区党支部")
    party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    people = [party_member(branch, name) for name in ("周婷", "马晓东")]
    year = timezone.localdate().year
    for n, m in enumerate(people):
        dues.set_base(m, year, category="wage", monthly_income=4000 + 3000 * n)
    today = timezone.localdate()
    transfer = transfers.request_transfer(people[0], other, on=today - dt.timedelta(days=3))
    page = phone_page
    login(page, live_server, "lugouqiao")  # the secretary
    for url, name in (
        ("/pioneers/branch-life/", "pioneers_compliance_phone"),
        (f"/pioneers/organisations/{branch.pk}/branch-life/", "pioneers_branch_phone"),
        (f"/pioneers/organisations/{branch.pk}/dues/", "pioneers_dues_phone"),
        (f"/pioneers/transfers/{transfer.pk}/", "pioneers_transfer_phone"),
    ):
        page.goto(live_server.url + url)
        _no_sideways_scroll(page, 390)
        page.screenshot(path=str(artifact_path(name)), full_page=True)
    page.fill("#transfer-form input[name=letter_number]", "卢机党转〔2026〕8号")
    page.click("#transfer-form button[type=submit]")
    assert page.locator("#transfer-state").inner_text() == "已开介绍信"
    assert_accessible(page)
