"""承诺践诺 in the browser: a member adds progress to their public commitment on a phone; the
secretary evaluates it; the resident sees it on the community's wall (name masked) and rates it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from changxin.core.tests.browser import artifact_path, assert_accessible, login
from changxin.core.tests.builders import LUGOUQIAO, party_member, party_organisation, unit
from changxin.pioneers import commitments, ledger
from changxin.pioneers.models import ResidentRating

pytestmark = pytest.mark.browser


def test_a_commitment_from_progress_to_the_residents_rating(phone_page, live_server, demo_world):
    ledger.ensure_default_rules()
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    member = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    community = unit(LUGOUQIAO).children.order_by("path").first()
    c = commitments.create_commitment(
        member, year=timezone.localdate().year, title="楼道清洁守护", content="每周两次巡查楼道，清理堆物和小广告。",
        community=community, actor=demo_world["lugouqiao_lead"],
    )  # fmt: skip
    commitments.step(c, "publish", demo_world["lugouqiao_lead"])

    page = phone_page
    login(page, live_server, "lugouqiao_lead")
    page.goto(f"{live_server.url}/pioneers/members/{member.pk}/commitments/")
    form = page.locator(f"#commitment-{c.pk} form.progress-form")
    form.locator("input[name=on]").fill(timezone.localdate().isoformat())
    form.locator("input[name=text]").fill("清理楼道堆物12处")
    form.locator("button[type=submit]").click()
    assert "清理楼道堆物12处" in page.locator(f"#commitment-{c.pk} .progress-list").inner_text()
    assert page.locator(f"#commitment-{c.pk} form.commitment-step").count() == 0  # not their own evaluation

    page.context.clear_cookies()
    login(page, live_server, "lugouqiao")
    page.goto(f"{live_server.url}/pioneers/members/{member.pk}/commitments/")
    step = page.locator(f"#commitment-{c.pk} form.commitment-step")
    step.locator("select[name=action]").select_option("keep")
    step.locator("button[type=submit]").click()
    assert "rating_required" in page.locator("#refusal").inner_text()  # the rule is named
    step = page.locator(f"#commitment-{c.pk} form.commitment-step")
    step.locator("select[name=action]").select_option("keep")
    step.locator("select[name=rating]").select_option("5")
    step.locator("input[name=note]").fill("按期兑现")
    step.locator("button[type=submit]").click()
    assert page.locator(f"#commitment-{c.pk} .state").get_attribute("data-state") == "kept"

    page.context.clear_cookies()
    login(page, live_server, "citizen")
    page.goto(f"{live_server.url}/pioneers/wall/{community.code}/")
    card = page.locator(f"#wall-{c.pk}")
    assert "周*" in card.inner_text() and "周婷" not in page.content()
    card.locator("select[name=stars]").select_option("4")
    card.locator("button[type=submit]").click()
    assert "4.0/5" in page.locator(f"#wall-{c.pk}").inner_text()
    assert ResidentRating.objects.get(commitment=c).stars == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the wall scrolls sideways"
    page.screenshot(path=str(artifact_path("pioneers_commitment_wall_phone")), full_page=True)
    assert_accessible(page)
