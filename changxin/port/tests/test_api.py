"""The wing's REST routes (/api/v1/port/…): scope (another street's objects are 404), masking, the
project machine's reason rule, suggestions submitted and answered, read-only leadership."""

import pytest
from django.utils import translation

from changxin.api.tests.client import Api, key_for
from changxin.core.tests.builders import unit
from changxin.port import services, suggestions
from changxin.port.models import Stage, SuggestionState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def api_as(port_world):
    return lambda username: Api(key_for(port_world[username]))


@pytest.fixture
def project(port_world):
    return services.register_project(
        {
            "name": "丽泽数字金融产业园",
            "zone": "lize",
            "street": port_world["ours"].street,
            "amount": 5000,
            "manager": port_world["manager"],
            "enterprise": port_world["ours"],
        },
        actor=None,
    )


def test_enterprises_scoped_and_masked(port_world, api_as):
    mine = api_as("enterprise").get("/port/enterprises").json()
    assert [e["name"] for e in mine["items"]] == [port_world["ours"].name]
    assert mine["items"][0]["contact_phone"] != "13910001001"  # lists always masked
    own = api_as("enterprise").get(f"/port/enterprises/{port_world['ours'].pk}").json()
    assert own["contact_phone"] == "13910001001" and not own["personal_data_masked"]
    assert api_as("enterprise").get(f"/port/enterprises/{port_world['theirs'].pk}").status_code == 404
    lead = api_as("leader").get(f"/port/enterprises/{port_world['ours'].pk}").json()
    assert lead["personal_data_masked"] and lead["contact_phone"] != "13910001001"
    assert api_as("citizen").get("/port/enterprises").json()["count"] == 0
    assert api_as("enterprise3").get(f"/port/enterprises/{port_world['ours'].pk}/demands").status_code == 404


def test_enterprise_demands(port_world, api_as):
    services.file_enterprise_demand(
        port_world["ours"],
        {"demand_type": "help", "title": "停车难", "content": "园区停车难"},
        actor=port_world["enterprise"],
    )
    page = api_as("manager").get(f"/port/enterprises/{port_world['ours'].pk}/demands").json()
    assert page["count"] == 1 and page["items"][0]["title"] == "停车难"


def test_project_moves_through_the_machine(port_world, api_as, project):
    manager = api_as("manager")
    detail = manager.get(f"/port/projects/{project.pk}").json()
    assert detail["stage"] == Stage.RESERVE and {m["name"] for m in detail["moves"]} >= {
        "to_talks",
        "to_started",
    }
    skip = manager.post(f"/port/projects/{project.pk}/transitions/to_started", {})
    assert skip.status_code == 409 and skip.json()["errors"][0]["code"] == "reason_required"
    moved = manager.post(
        f"/port/projects/{project.pk}/transitions/to_started", {"note": "市重点项目，提前开工"}
    )
    assert moved.status_code == 200 and moved.json()["stage"] == Stage.STARTED
    assert moved.json()["history"][-1]["note"] == "市重点项目，提前开工"
    stale = manager.post(f"/port/projects/{project.pk}/transitions/to_completed", {"expected_version": 0})
    assert stale.status_code == 409 and stale.json()["errors"][0]["code"] == "stale"
    bad = manager.post(f"/port/projects/{project.pk}/transitions/nonsense", {})
    assert bad.status_code == 422
    assert (
        api_as("leader").post(f"/port/projects/{project.pk}/transitions/to_completed", {}).status_code == 403
    )
    assert api_as("enterprise3").get(f"/port/projects/{project.pk}").status_code == 404
    assert (
        api_as("enterprise").post(f"/port/projects/{project.pk}/transitions/to_completed", {}).status_code
        == 403
    )
    listed = api_as("leader").get("/port/projects", {"stage": "started"}).json()
    assert [p["id"] for p in listed["items"]] == [project.pk]


def test_suggestions_submit_assign_respond(port_world, api_as):
    ent = api_as("enterprise")
    created = ent.post("/port/suggestions", {"title": "建议增设充电桩", "content": "园区缺少充电桩"})
    assert created.status_code == 201
    sid = created.json()["id"]
    assert api_as("manager").post("/port/suggestions", {"title": "x", "content": "y"}).status_code == 403
    assert api_as("enterprise3").get(f"/port/suggestions/{sid}").status_code == 404
    assert api_as("enterprise3").post(f"/port/suggestions/{sid}/transitions/close", {}).status_code == 404
    mgr = api_as("manager")
    missing = mgr.post(f"/port/suggestions/{sid}/transitions/assign", {})
    assert missing.status_code == 409 and missing.json()["errors"][0]["code"] == "unit_required"
    community = unit("110106017").children.first()
    assert mgr.post(f"/port/suggestions/{sid}/transitions/assign", {"unit": community.pk}).status_code == 422
    assigned = mgr.post(f"/port/suggestions/{sid}/transitions/assign", {"unit": unit("110106D03").pk})
    assert assigned.status_code == 200 and assigned.json()["state"] == SuggestionState.ASSIGNED
    assert assigned.json()["response_due"]
    answered = api_as("dispatcher").post(f"/port/suggestions/{sid}/transitions/respond", {"note": "已安排"})
    assert answered.json()["state"] == SuggestionState.RESPONDED
    assert ent.get("/port/suggestions", {"state": "responded"}).json()["count"] == 1
    assert suggestions.suggestions_visible_to(port_world["enterprise3"]).count() == 0
