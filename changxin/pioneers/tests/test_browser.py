"""On a phone: the pipeline refuses an early step with the rule named; a member sees their points
with the source demand shown and follows it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core import jobs
from changxin.core.tests.browser import artifact_path, login
from changxin.core.tests.builders import LUGOUQIAO, demand_in_state, party_member, party_organisation
from changxin.pioneers import ledger, services
from changxin.pioneers.models import RecordKind

pytestmark = pytest.mark.browser


def test_the_pipeline_refuses_an_early_step_with_the_rule_named(phone_page, live_server, demo_world):
    staff = demo_world["party"]
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    today = timezone.localdate()
    case = services.record_application(
        branch,
        name="林浩然",
        birth_date=dt.date(1999, 6, 1),
        applied_on=today - dt.timedelta(days=90),
        actor=staff,
    )
    services.add_record(case, RecordKind.TALK, today - dt.timedelta(days=80), actor=staff)
    services.take_step(case, "make_activist", staff, on=today - dt.timedelta(days=60))
    services.add_record(case, RecordKind.TRAINING, today - dt.timedelta(days=30), actor=staff)

    page = phone_page
    login(page, live_server, "party")
    page.click("#nav-pioneers")
    page.click(f"#org-{branch.pk} a")
    page.click(f"#case-{case.pk} a")
    page.fill("#step-form input[name=on]", today.isoformat())
    page.click("#step-form button[type=submit]")
    refusal = page.locator("#refusal")
    assert "activist_one_year" in refusal.inner_text()
    assert "一年以上培养教育和考察" in refusal.inner_text()
    activist_since = today - dt.timedelta(days=60)  # last year's, when the suite runs in January
    assert f"{activist_since.year + 1}-" in refusal.inner_text()
    assert page.locator("#stage").inner_text() == "入党积极分子"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the case page scrolls sideways"
    page.screenshot(path=str(artifact_path("pioneers_pipeline_refused_phone")), full_page=True)


def test_a_member_sees_points_with_their_source_demand(phone_page, live_server, demo_world):
    ledger.ensure_default_rules()  # a browser test before this one flushed the migration's rows
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    member = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    demand = demand_in_state(
        "visited",
        operator=demo_world["dispatcher"],
        officer=demo_world["lugouqiao_lead"],
        street_code=LUGOUQIAO,
    )
    jobs.drain()  # a queue that does not run jobs inline delivers the published events here

    page = phone_page
    login(page, live_server, "lugouqiao_lead")
    page.click("#nav-pioneers")
    page.wait_for_url(f"**/pioneers/members/{member.pk}/")
    assert page.locator("#points-total").inner_text() == "5.0"
    sources = page.locator("#point-entries .source")
    assert sources.count() == 2 and demand.number in sources.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the member page scrolls sideways"
    page.screenshot(path=str(artifact_path("pioneers_member_points_phone")), full_page=True)
    sources.first.locator("a").click()
    page.wait_for_url(f"**/demands/{demand.pk}/")
    assert demand.number in page.locator("main").inner_text()
