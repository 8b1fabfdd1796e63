"""In a real browser: an inspector registering a planned visit over the enterprise's cap is refused
with the rule named; a triggered visit is registered; the enterprise scans its code (no login) and
sees the registered visit; the inspector starts it from the code and records the result; the
enterprise rates it. The report's chart at 1366 px and on a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot
from changxin.core.tests.builders import certified_inspector
from changxin.port import inspections
from changxin.port.models import Inspection, InspectionPlan, InspectionState


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.browser
def test_cap_refused_code_scanned_result_and_rating(page, phone_page, live_server, port_world):
    ours = port_world["ours"]
    inspector = certified_inspector("inspector", "110106D03")
    inspector.full_name = "执法人员郑军"
    inspector.save()
    inspections.set_credit_grade(ours, "A", actor=None)  # one planned visit a year
    now = timezone.localtime()
    earlier = now - dt.timedelta(hours=1) if now.hour >= 1 else now
    # the planned visits on the 10th and 12th of next month, under that month's plan: "tomorrow"
    # and "in two days" crossed into a month without a plan when the suite ran at a month's end
    next_month = (now.date().replace(day=1) + dt.timedelta(days=32)).replace(day=10)
    planned = timezone.make_aware(dt.datetime.combine(next_month, dt.time(9)))
    InspectionPlan.objects.create(
        department=inspector.unit,
        year=planned.year,
        month=planned.month,
        enterprise=ours,
        items="食品安全检查",
    )
    inspections.register_inspection(
        ours,
        actor=inspector,
        inspectors=[inspector],
        legal_basis="《食品安全法》第一百一十条",
        items="食品经营许可检查",
        planned_from=planned,
        planned_until=planned + dt.timedelta(hours=2),
    )

    # 1. over the cap: refused, the rule named (desktop)
    login(page, live_server, "inspector", next_url="/port/inspections/")
    page.goto(live_server.url + "/port/inspections/register/")
    page.fill("#id_credit_code", ours.credit_code)
    page.check("#id_basis_0")  # annual plan
    page.fill("#id_legal_basis", "《食品安全法》第一百一十条")
    page.fill("#id_items", "食品经营许可复查")
    page.fill("#id_planned_from", _local(planned + dt.timedelta(days=2)))
    page.fill("#id_planned_until", _local(planned + dt.timedelta(days=2, hours=2)))
    page.click("#register-form button[type=submit]")
    alert = page.locator("article.message.error")
    assert "频次上限" in alert.inner_text() and "A" in alert.inner_text()
    assert Inspection.objects.filter(state=InspectionState.REFUSED, refused_rule="frequency_cap").count() == 1
    shot(page, "inspect-1-cap-refused-1366")
    assert_accessible(page)
    assert_fits(page)

    # 2. a risk signal allows it: registered for now
    page.check("#id_basis_3")  # risk signal
    page.fill("#id_trigger_ref", "风险预警〔2025〕第17号")
    page.fill("#id_planned_from", _local(earlier))
    page.fill("#id_planned_until", _local(now + dt.timedelta(hours=2)))
    page.click("#register-form button[type=submit]")
    page.wait_for_url("**/port/inspections/*/")
    inspection = Inspection.objects.get(trigger="risk")
    assert inspection.state == InspectionState.REGISTERED

    # 3. the enterprise scans its code: no login, the visit is registered (phone)
    phone = phone_page
    phone.goto(f"{live_server.url}/port/code/{ours.public_code}/")
    visit = phone.locator(f"#visit-{inspection.pk}")
    text = visit.inner_text()
    assert "市场监督管理局" in text and "执*****" in text and "执法人员郑军" not in text
    assert inspector.inspector_certificates.first().number in text
    assert "13910001001" not in phone.content()
    shot(phone, "inspect-2-code-scanned-390")
    assert_accessible(phone)
    assert_fits(phone)

    # 4. the inspector, on site, starts it from the code and records the result
    login(phone, live_server, "inspector", next_url=f"/port/code/{ours.public_code}/")
    phone.goto(f"{live_server.url}/port/code/{ours.public_code}/")
    phone.click(f"#start-{inspection.pk} button")
    phone.wait_for_url(f"**/port/inspections/{inspection.pk}/")
    phone.check("#id_result_0")  # no findings
    shot(phone, "inspect-3-result-390")
    phone.click("#result-form button[type=submit]")
    phone.wait_for_url(f"**/port/inspections/{inspection.pk}/")
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.CLOSED
    assert_fits(phone)

    # 5. the enterprise rates it
    phone.context.clear_cookies()
    login(phone, live_server, "enterprise", next_url="/port/inspections/")
    phone.goto(f"{live_server.url}/port/inspections/")
    phone.click(f"#inspection-{inspection.pk} a")
    phone.check("#id_rating_0")  # 5
    phone.fill("#id_comment", "出示执法证并扫码登记，流程规范。")
    phone.click("#rating-form button[type=submit]")
    phone.wait_for_url(f"**/port/inspections/{inspection.pk}/")
    assert "5 / 5" in phone.locator("#rating").inner_text()
    inspection.refresh_from_db()
    assert inspection.rating == 5
    shot(phone, "inspect-4-rated-390")
    assert_accessible(phone)
    assert_fits(phone)

    # 6. the 无事不扰 report with its chart (desktop and phone)
    page.goto(live_server.url + "/port/inspections/report/")
    assert page.locator("#chart-report canvas").count() == 1
    assert "市场监督管理局" in page.locator("#report-table").inner_text()
    shot(page, "inspect-5-report-1366")
    assert_accessible(page)
    assert_fits(page)
    phone.context.clear_cookies()
    login(phone, live_server, "leader", next_url="/port/inspections/report/")
    phone.goto(live_server.url + "/port/inspections/report/")
    shot(phone, "inspect-6-report-390")
    assert_fits(phone)
