"""The Content-Security-Policy holds on the main pages: no violation, no CSP message in the console.

Each page is loaded by the user who works on it; a `securitypolicyviolation` listener is installed
before any script runs, and every console message is kept. A page that still had an inline script
without the nonce, a style attribute or an eval would fail here.
"""

from __future__ import annotations

import pytest

from changxin.core.tests.browser import login
from changxin.core.tests.builders import (
    LUGOUQIAO,
    hot_spot_in,
    monthly_problem_in,
    station_replied_demand,
)

pytestmark = pytest.mark.browser

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " line " + e.lineNumber);
});
"""


def visit(page, url, messages):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    console = [m for m in messages if "Content Security Policy" in m or "Content-Security-Policy" in m]
    assert not violations and not console, f"{url}: {violations} {console}"
    messages.clear()


def _party_pages() -> list[str]:
    """A branch page, its dues (charts), a meeting, a transfer and an activity with its QR code."""
    import datetime as dt

    from django.utils import timezone

    from changxin.core.tests.builders import party_member, party_organisation
    from changxin.pioneers import branch_life, transfers, volunteering

    org = party_organisation(LUGOUQIAO, "安全策略党支部")
    member = party_member(org, "党员")
    meeting = branch_life.record_meeting(
        org, kind="lecture", held_on=dt.date(2025, 3, 3), topic="党课", attendance={member.pk: (True, "")}
    )
    transfer = transfers.request_transfer(
        member, party_organisation(LUGOUQIAO, "接收党支部"), on=dt.date(2025, 3, 3)
    )
    start = timezone.now() + dt.timedelta(days=1)
    activity = volunteering.create_activity(
        org,
        title="志愿活动",
        place="广场",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=5,
    )
    volunteering.change(activity, "publish", None)
    from changxin.pioneers import posts

    post = posts.create_post(
        org, name="党员先锋岗", place=org.unit, members=[member], starts_on=dt.date(2025, 3, 3)
    )
    session = posts.record_session(org, held_on=dt.date(2025, 3, 3), topic="先锋者说", speakers=[member])
    return [
        f"/pioneers/organisations/{org.pk}/",  # the ranking chart
        f"/pioneers/organisations/{org.pk}/posts/",
        f"/pioneers/posts/{post.pk}/",
        f"/pioneers/organisations/{org.pk}/honours/",
        "/pioneers/honours/roll/",
        f"/pioneers/organisations/{org.pk}/sharing/",
        f"/pioneers/sharing/{session.pk}/",
        f"/pioneers/members/{member.pk}/evaluation/",
        f"/pioneers/members/{member.pk}/commitments/",
        "/pioneers/wall/110106017005/",
        f"/pioneers/organisations/{org.pk}/branch-life/",
        f"/pioneers/organisations/{org.pk}/dues/",
        f"/pioneers/organisations/{org.pk}/meetings/new/",
        f"/pioneers/meetings/{meeting.pk}/",
        f"/pioneers/transfers/{transfer.pk}/",
        f"/pioneers/volunteer/{activity.pk}/",
        f"/pioneers/members/{member.pk}/",
    ]


def test_main_pages_pass_the_content_security_policy(browser, live_server, demo_world):
    users = demo_world
    demand = station_replied_demand(users)
    spot = hot_spot_in(LUGOUQIAO, demands=[demand])
    problem = monthly_problem_in(LUGOUQIAO)
    base = live_server.url
    party = _party_pages()
    pages = {
        None: [
            "/",
            "/login/",
            "/station/submit/",
            "/station/track/",
            f"/station/track/{demand.tracking_code}/",
            "/insight/public/monthly/",
        ],
        "dispatcher": ["/", "/demands/queue/", f"/demands/{demand.pk}/", "/station/intake/"],
        "lugouqiao": ["/demands/workbench/", f"/demands/{demand.pk}/", "/notifications/"],
        "leader": [
            "/insight/hotspots/",
            f"/insight/hotspots/{spot.pk}/",
            "/insight/proactive/",
            "/insight/monthly/",
            f"/insight/monthly/{problem.pk}/",
            "/insight/public/monthly/",
            "/insight/",
            "/insight/dashboards/",
            "/insight/dashboards/street/110106017/",
            "/insight/dashboards/enterprise/",
            "/insight/reports/",
            "/insight/units/110106017/",  # last: its trend chart is checked below
        ],
        "admin": ["/admin/", "/admin/demands/demand/"],
        "manager": [
            "/port/",
            "/port/projects/",
            "/port/ranking/",
            "/port/cooperation/",
            "/port/scenarios/",
            "/port/suggestions/",
            "/port/policies/",
        ],
        "inspector": [
            "/port/inspections/",
            "/port/inspections/register/",
            "/port/inspections/plans/",
            "/port/inspections/report/",  # last: its chart is checked below
        ],
        "party": [
            "/pioneers/",
            "/brands/",
            "/brands/new/",
            "/insight/dashboards/party/",
            "/pioneers/branch-life/",
            "/pioneers/transfers/",
            "/pioneers/volunteer/",
            *party,
        ],
    }
    for username, urls in pages.items():
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        context.add_init_script(LISTEN)
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda m, messages=messages: messages.append(m.text))
        try:
            response = page.goto(base + "/login/")
            assert "nonce-" in response.headers["content-security-policy"]
            if username:
                login(page, live_server, username)
            for url in urls:
                visit(page, base + url, messages)
            if username == "leader":
                assert page.locator("#chart-trend canvas, #chart-trend svg").count() >= 1
            if username == "inspector":  # the 无事不扰 report's chart, drawn under the policy
                assert page.locator("#chart-report canvas, #chart-report svg").count() >= 1
        finally:
            context.close()
