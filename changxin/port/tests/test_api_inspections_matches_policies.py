"""REST routes for 一码检查 inspections, cooperation matches and 免申即享 policies: scope (another's
objects are 404), the rule named on a refused registration, transitions through the machines, the
enterprise's rating, masked personal data, eligibility with its reasons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from changxin.api.tests.client import Api, key_for
from changxin.core.tests.builders import certified_inspector
from changxin.port import cooperation, policies
from changxin.port.models import InspectionState, MatchState
from changxin.port.tests.test_inspections import MARKET, plan, soon

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(port_world):
    return {**port_world, "market": certified_inspector("inspector", MARKET)}


@pytest.fixture
def api_as(world):
    return lambda username: Api(key_for(world[username]))


def registration(world, when, **extra):
    return {
        "credit_code": world["ours"].credit_code,
        "legal_basis": "《食品安全法》第一百一十条",
        "items": "食品经营许可检查",
        "planned_from": when.isoformat(),
        "planned_until": (when + dt.timedelta(hours=3)).isoformat(),
        **extra,
    }


def test_register_refused_with_the_rule_named(world, api_as):
    inspector = api_as("inspector")
    refused = inspector.post("/port/inspections", registration(world, soon(1)))
    assert refused.status_code in (409, 422)
    assert refused.json()["errors"][0]["code"] == "plan_or_trigger"
    assert refused.json()["errors"][0]["message"] and refused.json()["errors"][0]["field"] == "trigger"
    # the refusal is kept for the report, but an enterprise account never sees it
    staff_list = inspector.get("/port/inspections", {"state": "refused"}).json()
    assert staff_list["count"] == 1 and staff_list["items"][0]["refused_rule"] == "plan_or_trigger"
    assert api_as("enterprise").get("/port/inspections").json()["count"] == 0
    bad = inspector.post("/port/inspections", registration(world, soon(1), credit_code="91110106MA0000000"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "credit_code"
    other = inspector.post(
        "/port/inspections", registration(world, soon(1), inspectors=[world["manager"].pk])
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "inspectors"
    assert api_as("manager").post("/port/inspections", registration(world, soon(1))).status_code == 403
    assert api_as("leader").post("/port/inspections", registration(world, soon(1))).status_code == 403


def test_lifecycle_through_the_api_and_the_enterprise_rates(world, api_as):
    day = dt.datetime.now(tz=soon().tzinfo).replace(microsecond=0) - dt.timedelta(minutes=1)
    plan(MARKET, world["ours"], day)
    inspector = api_as("inspector")
    created = inspector.post(
        "/port/inspections", registration(world, day, public_code="", credit_code=world["ours"].credit_code)
    )
    assert created.status_code == 201, created.content
    body = created.json()
    iid = body["id"]
    assert body["state"] == InspectionState.REGISTERED and body["planned"]
    assert body["inspectors"][0]["number"] and "*" in body["inspectors"][0]["name"]  # masked
    assert "start" in body["actions"]
    # another enterprise's account: 404; the enterprise sees it without staff names in the history
    assert api_as("enterprise3").get(f"/port/inspections/{iid}").status_code == 404
    seen = api_as("enterprise").get(f"/port/inspections/{iid}").json()
    assert seen["actions"] == [] and all(e["actor_name"] == "" for e in seen["history"])
    assert api_as("enterprise").post(f"/port/inspections/{iid}/transitions/start", {}).status_code == 403
    assert (
        inspector.post(f"/port/inspections/{iid}/transitions/start", {"expected_version": 99}).status_code
        == 409
    )
    started = inspector.post(f"/port/inspections/{iid}/transitions/start", {})
    assert started.status_code == 200 and started.json()["state"] == InspectionState.IN_PROGRESS
    missing = inspector.post(f"/port/inspections/{iid}/transitions/record_result", {})
    assert missing.status_code == 422 and missing.json()["errors"][0]["code"] == "result_required"
    ordered = inspector.post(
        f"/port/inspections/{iid}/transitions/record_result",
        {"result": "findings", "findings": "健康证过期", "needs_rectification": True},
    )
    assert ordered.json()["state"] == InspectionState.RECTIFYING and ordered.json()["rectification_due"]
    early = api_as("enterprise").post(f"/port/inspections/{iid}/rating", {"rating": 5})
    assert early.status_code in (409, 422)
    note = inspector.post(f"/port/inspections/{iid}/transitions/recheck_fail", {})
    assert note.json()["errors"][0]["code"] == "note_required"
    closed = inspector.post(f"/port/inspections/{iid}/transitions/recheck_pass", {"note": "已整改"})
    assert closed.json()["state"] == InspectionState.CLOSED and closed.json()["rectified_on_time"]
    assert api_as("enterprise").post(f"/port/inspections/{iid}/rating", {"rating": 6}).status_code == 422
    assert api_as("inspector").post(f"/port/inspections/{iid}/rating", {"rating": 5}).status_code in (
        403,
        409,
        422,
    )
    rated = api_as("enterprise").post(f"/port/inspections/{iid}/rating", {"rating": 4, "comment": "规范"})
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    again = api_as("enterprise2").post(f"/port/inspections/{iid}/rating", {"rating": 1})
    assert again.json()["errors"][0]["code"] == "rated_once"
    listed = api_as("leader").get("/port/inspections", {"enterprise": world["ours"].pk, "state": "closed"})
    assert [i["id"] for i in listed.json()["items"]] == [iid]
    assert api_as("leader").get("/port/inspections", {"year": "20x6"}).status_code == 422


@pytest.fixture
def match(world):
    centre = world["dispatcher"]
    cooperation.post_item(
        world["ours"],
        {"kind": "offer", "title": "低空无人机巡检", "description": "无人机 巡检 河道 电力 巡检"},
        actor=centre,
        refresh=False,
    )
    cooperation.post_item(
        world["theirs"],
        {"kind": "need", "title": "河道无人机巡检", "description": "河道 无人机 巡检 服务"},
        actor=centre,
    )
    world["theirs"].contact_name, world["theirs"].contact_phone = "赵六", "13910002002"
    world["theirs"].save()
    return world["ours"].cooperation_items.get().offer_matches.get()


def test_matches_scoped_masked_and_accepted_through_the_machine(world, api_as, match):
    ours = api_as("enterprise")
    page = ours.get("/port/matches").json()
    assert [m["id"] for m in page["items"]] == [match.pk] and page["items"][0]["terms"]
    detail = ours.get(f"/port/matches/{match.pk}").json()
    assert detail["other"]["contact"]["masked"] and detail["other"]["contact"]["phone"] != "13910002002"
    assert api_as("enterprise2").get("/port/matches").json()["count"] == 1  # a colleague
    assert api_as("lugouqiao").get(f"/port/matches/{match.pk}").status_code == 200  # the street
    assert api_as("citizen").get(f"/port/matches/{match.pk}").status_code == 404
    assert api_as("leader").post(f"/port/matches/{match.pk}/transitions/send", {}).status_code == 403
    sent = api_as("manager").post(f"/port/matches/{match.pk}/transitions/send", {})
    assert sent.status_code == 200 and sent.json()["state"] == MatchState.SENT
    assert "accept" in ours.get(f"/port/matches/{match.pk}").json()["actions"]
    accepted = ours.post(f"/port/matches/{match.pk}/transitions/accept", {})
    assert accepted.json()["offer_answer"] == "accept"
    twice = api_as("enterprise2").post(f"/port/matches/{match.pk}/transitions/accept", {})
    assert twice.status_code in (409, 422) and twice.json()["errors"][0]["code"] == "already_answered"
    connected = api_as("enterprise3").post(f"/port/matches/{match.pk}/transitions/accept", {})
    assert connected.json()["state"] == MatchState.CONNECTED
    shown = ours.get(f"/port/matches/{match.pk}").json()["other"]["contact"]
    assert shown == {"name": "赵六", "phone": "13910002002", "masked": False}
    listed = ours.get("/port/matches", {"state": "connected"}).json()["items"][0]["other"]["contact"]
    assert listed["masked"]  # lists stay masked


def test_policies_with_eligibility_reasons_and_grants(world, api_as):
    ours = world["ours"]
    ours.annual_revenue = Decimal("3200")
    ours.save()
    rich = policies.register_policy(
        {"title": "规上奖励", "issuer": "区经信局", "zones": ["lize"], "min_revenue": Decimal("2000")},
        actor=None,
    )
    big = policies.register_policy(
        {"title": "百人企业", "issuer": "区人社局", "min_employees": 100}, actor=None
    )
    policies.sync_policy(rich)
    page = api_as("enterprise").get("/port/policies").json()
    assert page["enterprise"]["id"] == ours.pk
    by_title = {p["title"]: p["eligibility"] for p in page["items"]}
    assert by_title["规上奖励"]["eligible"] and by_title["规上奖励"]["grant"]["state"] == "notified"
    # the API speaks the platform's language (Chinese) unless asked for another
    assert "营业收入 3,200 ≥ 2,000" in [c["why"] for c in by_title["规上奖励"]["criteria"]]
    assert not by_title["百人企业"]["eligible"]
    assert by_title["百人企业"]["criteria"][0]["why"] == "从业人数未登记（要求 ≥ 100）"
    english = api_as("enterprise").get("/port/policies", **{"Accept-Language": "en"}).json()
    reasons = {p["title"]: p["eligibility"]["criteria"][0]["why"] for p in english["items"]}
    assert reasons["百人企业"] == "employees not on record (needs ≥ 100)"
    only = api_as("enterprise").get("/port/policies", {"eligible": "true"}).json()
    assert [p["id"] for p in only["items"]] == [rich.pk] and only["count"] == 1
    assert big.pk not in [p["id"] for p in only["items"]]
    # staff: the registry, with an enterprise's eligibility when they name one they may see
    plain = api_as("leader").get("/port/policies").json()
    assert plain["enterprise"] is None and all(p["eligibility"] is None for p in plain["items"])
    named = api_as("manager").get("/port/policies", {"enterprise": ours.pk}).json()
    assert named["enterprise"]["id"] == ours.pk
    assert api_as("enterprise3").get("/port/policies", {"enterprise": ours.pk}).status_code == 404
    assert api_as("citizen").get("/port/policies").status_code == 403
    grants = api_as("manager").get(f"/port/enterprises/{ours.pk}/grants").json()
    assert grants["count"] == 1 and grants["items"][0]["policy"]["name"] == "规上奖励"
    # (the reasons are stored as the platform said them when matched: Chinese)
    assert any("3,200 ≥ 2,000" in why for why in grants["items"][0]["reasons"])
    assert api_as("enterprise3").get(f"/port/enterprises/{ours.pk}/grants").status_code == 404
