"""Browser: the emergency hint appears while the operator types a danger to life, and the referral
ticked is recorded on the demand (issue 14, point 7)."""

import pytest

from changxin.core.tests.browser import login
from changxin.demands.models import Demand

pytestmark = pytest.mark.browser


def test_the_emergency_hint_appears_as_the_operator_types(page, live_server, demo_world):
    login(page, live_server, "dispatcher", next_url="/station/intake/")
    page.wait_for_url("**/station/intake/")
    assert not page.is_visible("#emergency-hint")
    page.fill("#id_requester_phone", "13811112222")
    page.fill("#id_requester_name", "李女士")
    page.fill("#id_title", "楼道有异味")
    assert not page.is_visible("#emergency-hint")
    page.fill("#id_content", "楼道里煤气味很重，邻居家老人可能被困在屋里")
    page.wait_for_selector("#emergency-hint", state="visible")
    assert page.is_visible('#emergency-hint [data-number="119"]')
    assert not page.is_visible('#emergency-hint [data-number="110"]')
    page.check('#emergency-hint input[value="119"]')
    page.select_option("#id_street", label="卢沟桥街道")
    page.fill("#id_address", "卢沟桥南里3号楼")
    page.click("#intake-save")
    page.wait_for_selector("article.message.success")
    demand = Demand.objects.get()
    assert demand.emergency_referral == "119"
    assert demand.tracking_code[:5] in page.inner_text("#intake-tracking-code")
