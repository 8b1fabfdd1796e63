"""多点 in the browser: a branch secretary drafts a brand and a case on a phone and submits them;
party staff is not offered publishing a brand without a case (the rule named on the page), then publishes the
secretary's; the matrix shows it, as a chart and as a table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.brands import services
from changxin.brands.models import Brand, BrandState
from changxin.core.tests.browser import artifact_path, assert_accessible, login
from changxin.core.tests.builders import LUGOUQIAO, party_member, party_organisation, unit

pytestmark = pytest.mark.browser


def test_a_secretary_drafts_and_party_staff_publishes(phone_page, page, live_server, demo_world):
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    bare = services.create_brand(
        owner=branch, name="无案例品牌", field="safety", description="机关党员参与夜间巡防和隐患排查。" * 2
    )
    services.brand_step(bare, "submit", demo_world["lugouqiao"])
    start = timezone.localdate() - dt.timedelta(days=20)

    phone = phone_page
    login(phone, live_server, "lugouqiao")
    phone.click("#nav-brands")
    phone.click("#new-brand")
    phone.select_option("#id_owner", str(branch.pk))
    phone.fill("#id_name", "卢沟晓月·治理先锋")
    phone.select_option("#id_field", "governance")
    phone.fill("#id_description", "街道机关党员下沉社区，认领接诉即办高频问题，包片走访、限时办结。")
    phone.click("#brand-form button[type=submit]")
    assert phone.locator("#brand-state").inner_text() == "草稿"
    phone.fill("#id_title", "同馨家园停车治理")
    phone.fill("#id_summary", "党员包楼包车位，协调增设临时停车位。")
    phone.select_option("#id_area", str(unit(LUGOUQIAO).pk))
    phone.fill("#id_starts_on", start.isoformat())
    phone.fill("#id_ends_on", (start + dt.timedelta(days=60)).isoformat())
    phone.click("#case-form button[type=submit]")
    case_form = phone.locator("article[id^=case-] form.case-step")
    case_form.locator("select[name=action]").select_option("submit")
    case_form.locator("button[type=submit]").click()
    phone.select_option("#brand-step select[name=action]", "submit")
    phone.click("#brand-step button[type=submit]")
    assert phone.locator("#brand-state").inner_text() == "已提交待审核"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "the brand page scrolls sideways"
    phone.screenshot(path=str(artifact_path("brands_secretary_phone")), full_page=True)

    login(page, live_server, "party")
    page.goto(f"{live_server.url}/brands/{bare.pk}/")
    # publishing is not offered; the page names the rule that refuses it
    assert page.locator("#brand-step option[value=publish]").count() == 0
    blocked = page.locator("#blocked").inner_text()
    assert "发布" in blocked and "brand_case_required" in blocked and "品牌以实践案例为据" in blocked
    brand = Brand.objects.get(name="卢沟晓月·治理先锋")
    page.goto(f"{live_server.url}/brands/{brand.pk}/")
    page.select_option("#brand-step select[name=action]", "publish")
    page.click("#brand-step button[type=submit]")
    assert page.locator("#brand-state").inner_text() == "已发布"
    brand.refresh_from_db()
    assert brand.state == BrandState.PUBLISHED and brand.cases.get().state == BrandState.PUBLISHED
    assert page.locator(".case-results").count() == 1  # the figures of the area, not typed in

    page.click("#nav-brands")
    page.locator("#chart-matrix canvas").wait_for()
    page.click("#matrix-table-details summary")
    row = page.locator("#matrix-table tbody tr", has_text="治理先锋")
    assert row.locator("td").last.inner_text() == "1"
    page.screenshot(path=str(artifact_path("brands_matrix_1366")), full_page=True)
    assert_accessible(page)
