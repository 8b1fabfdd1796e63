"""意见建议清单 (machine, working-day deadline, overdue job, scope) and policy matching (免申即享:
eligibility with reasons, grants matched → notified → granted → paid, totals)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from changxin.core import workcalendar
from changxin.core.tests.builders import unit
from changxin.core.workflow import WorkflowError
from changxin.notifications.models import Notification
from changxin.port import policies, suggestions
from changxin.port.models import GrantState, PolicyGrant, SuggestionState

pytestmark = pytest.mark.django_db

MARKET = "110106D03"  # 区市场监管局


@pytest.fixture
def officer(port_world):
    """An officer of the market regulator (the responsible unit in these tests)."""
    from changxin.core.models import Role
    from changxin.core.tests.builders import make_user

    return make_user("market_officer", Role.OFFICER, unit(MARKET))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def submit(world, **extra):
    data = {"title": "建议延长停车场开放时间", "content": "员工加班多，停车场晚上九点关闭。", **extra}
    return suggestions.submit(world["ours"], data, actor=world["enterprise"])


def test_submit_assign_respond_close(port_world, officer):
    s = submit(port_world)
    assert s.state == SuggestionState.SUBMITTED
    assert Notification.objects.filter(recipient=port_world["manager"], kind="port.suggestion").exists()
    with pytest.raises(WorkflowError) as refused:
        suggestions.move(s, "assign", port_world["manager"])
    assert refused.value.code == "unit_required"
    now = timezone.now()
    suggestions.move(s, "assign", port_world["manager"], unit=unit(MARKET), now=now)
    assert s.state == SuggestionState.ASSIGNED
    assert s.response_due == workcalendar.add_working_time(now, days=suggestions.response_days()).value
    assert Notification.objects.filter(recipient=officer, kind="port.suggestion_assigned").exists()
    with pytest.raises(WorkflowError) as refused:
        suggestions.move(s, "respond", officer)
    assert refused.value.code == "response_required"
    suggestions.move(s, "respond", officer, note="已研究，将延长至23点。")
    assert s.state == SuggestionState.RESPONDED and s.response.startswith("已研究")
    with pytest.raises(WorkflowError):
        suggestions.move(s, "close", port_world["enterprise3"])
    suggestions.move(s, "close", port_world["enterprise"])
    assert s.state == SuggestionState.CLOSED
    assert list(s.events.values_list("action", flat=True)) == ["submit", "assign", "respond", "close"]


def test_only_own_accounts_submit(port_world):
    with pytest.raises(PermissionDenied):
        suggestions.submit(
            port_world["ours"], {"title": "x", "content": "y"}, actor=port_world["enterprise3"]
        )
    with pytest.raises(PermissionDenied):
        suggestions.submit(port_world["ours"], {"title": "x", "content": "y"}, actor=port_world["manager"])
    with pytest.raises(ValidationError):
        suggestions.submit(port_world["ours"], {"title": "", "content": "y"}, actor=port_world["enterprise"])


def test_overdue_flagged_once_and_responder_told(port_world, officer):
    s = submit(port_world)
    past = timezone.now() - dt.timedelta(days=40)
    suggestions.move(s, "assign", port_world["dispatcher"], unit=unit(MARKET), now=past)
    assert suggestions.flag_overdue() == 1
    assert suggestions.flag_overdue() == 0
    s.refresh_from_db()
    assert s.is_overdue
    assert Notification.objects.filter(recipient=officer, kind="port.suggestion_overdue").count() == 1
    assert s.events.filter(action="overdue").count() == 1


def test_scope_of_suggestions(port_world, officer, client):
    s = submit(port_world)
    assert list(suggestions.suggestions_visible_to(port_world["enterprise3"])) == []
    assert list(suggestions.suggestions_visible_to(officer)) == []  # not yet its unit's
    suggestions.move(s, "assign", port_world["manager"], unit=unit(MARKET))
    assert list(suggestions.suggestions_visible_to(officer)) == [s]
    client.force_login(port_world["enterprise3"])
    assert client.get(reverse("port:suggestion", args=[s.pk])).status_code == 404
    assert client.post(reverse("port:suggestion", args=[s.pk]), {"action": "close"}).status_code == 404
    client.force_login(port_world["leader"])
    assert client.get(reverse("port:suggestion", args=[s.pk])).status_code == 200
    assert (
        client.post(reverse("port:suggestion", args=[s.pk]), {"action": "respond", "note": "x"}).status_code
        == 403
    )
    s.refresh_from_db()
    assert s.state == SuggestionState.ASSIGNED


def test_suggestion_screens(port_world, client):
    client.force_login(port_world["enterprise"])
    response = client.post(
        reverse("port:suggestion-new"),
        {"enterprise": port_world["ours"].pk, "title": "建议增设充电桩", "content": "园区缺少充电桩。"},
    )
    s = suggestions.suggestions_visible_to(port_world["enterprise"]).get()
    assert response.status_code == 302 and s.title == "建议增设充电桩"
    client.force_login(port_world["manager"])
    bad = client.post(reverse("port:suggestion", args=[s.pk]), {"action": "assign"})
    assert bad.status_code == 400 and 'id="unit-errors"' in bad.content.decode()
    ok = client.post(reverse("port:suggestion", args=[s.pk]), {"action": "assign", "unit": unit(MARKET).pk})
    assert ok.status_code == 302
    # a unit that cannot take it (a community) is not a choice
    community = unit("110106017").children.first()
    s.refresh_from_db()
    response = client.post(
        reverse("port:suggestion", args=[s.pk]), {"action": "assign", "unit": community.pk}
    )
    assert response.status_code == 400


# --- policies ---------------------------------------------------------------------------------


def policy(**extra):
    data = {
        "title": "丽泽重点企业奖励",
        "issuer": "丽泽管委会",
        "zones": ["lize"],
        "flags": ["is_key"],
        "amount": Decimal("30"),
    }
    return policies.register_policy({**data, **extra}, actor=None)


def test_eligibility_explains_each_criterion(port_world):
    p = policy(industries=["科技"], sizes=["small", "medium"])
    ours, theirs = port_world["ours"], port_world["theirs"]
    rows = policies.eligibility(p, theirs)
    assert [r["criterion"] for r in rows] == ["industry", "size", "zone", "is_key"]
    assert not rows[2]["ok"] and not rows[3]["ok"]
    assert policies.reasons(p, theirs) is None
    assert [e for e, _why in policies.eligible_enterprises(p)] == []  # ours has no industry yet
    ours.industry = "金融科技"
    ours.save()
    why = policies.reasons(p, ours)
    assert why is not None and any("科技" in w for w in why) and any("Lize" in w for w in why)
    assert [e for e, _why in policies.eligible_enterprises(p)] == [ours]
    assert policies.eligible_policies(ours) == [(p, why)]
    assert policies.eligible_policies(theirs) == []


def test_unknown_criteria_are_refused_by_name():
    with pytest.raises(ValidationError) as refused:
        policies.register_policy({"title": "x", "issuer": "y", "zones": ["mars"]}, actor=None)
    assert "mars" in str(refused.value.message_dict["zones"])


def test_sync_notifies_without_application_and_grants_flow_to_paid(port_world):
    p = policy()
    result = policies.sync_policy(p, actor=port_world["dispatcher"])
    assert result == {"matched": 1, "notified": 1}
    assert policies.sync_policy(p, actor=port_world["dispatcher"]) == {"matched": 0, "notified": 0}
    grant = PolicyGrant.objects.get(policy=p)
    assert grant.enterprise == port_world["ours"] and grant.state == GrantState.NOTIFIED
    assert Notification.objects.filter(recipient=port_world["enterprise"], kind="port.policy").exists()
    with pytest.raises(PermissionDenied):
        policies.sync_policy(p, actor=port_world["leader"])
    with pytest.raises(WorkflowError):
        policies.move_grant(grant, "grant", port_world["enterprise"])
    policies.move_grant(grant, "grant", port_world["dispatcher"])
    assert grant.amount == Decimal("30") and grant.granted_on == timezone.localdate()
    policies.move_grant(grant, "pay", port_world["dispatcher"], amount=Decimal("28.5"))
    assert grant.state == GrantState.PAID
    totals = policies.totals([p])[p.pk]
    assert totals["matched"] == totals["paid"] == 1 and totals["paid_amount"] == Decimal("28.5")


def test_an_application_policy_is_applied_for_by_the_enterprise(port_world, client):
    p = policy(without_application=False, zones=[], flags=[])
    policies.sync_policy(p, actor=port_world["dispatcher"])
    grant = PolicyGrant.objects.get(policy=p, enterprise=port_world["ours"])
    client.force_login(port_world["enterprise"])
    page = client.get(reverse("port:policies")).content.decode()
    assert p.title in page and 'value="apply"' in page
    other = PolicyGrant.objects.get(policy=p, enterprise=port_world["theirs"])
    assert (
        client.post(reverse("port:policy", args=[p.pk]), {"grant": other.pk, "action": "apply"}).status_code
        == 404
    )
    assert (
        client.post(reverse("port:policy", args=[p.pk]), {"grant": grant.pk, "action": "apply"}).status_code
        == 302
    )
    grant.refresh_from_db()
    assert grant.state == GrantState.APPLIED and grant.applied_on == timezone.localdate()
    client.force_login(port_world["leader"])
    assert (
        client.post(
            reverse("port:policy", args=[p.pk]), {"grant": grant.pk, "action": "grant", "amount": "5"}
        ).status_code
        == 403
    )
    assert client.post(reverse("port:policy", args=[p.pk]), {"sync": "1"}).status_code == 403
    grant.refresh_from_db()
    assert grant.state == GrantState.APPLIED
