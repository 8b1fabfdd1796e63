"""Demands over REST: intake with idempotency, list filters, detail with masking, every transition."""

import pytest
from django.test import Client

from changxin.api.tests.client import Api
from changxin.core.models import AuditAction, AuditEntry
from changxin.core.tests.builders import CHANGXINDIAN, CHENGGUAN, LUGOUQIAO, ensure_taxonomy, new_demand, unit
from changxin.demands.models import Demand

pytestmark = pytest.mark.django_db

INTAKE = {
    "demand_type": "complaint",
    "title": "小区路灯不亮",
    "content": "小井村北口路灯坏了一周。",
    "requester_name": "李四",
    "requester_phone": "13900001111",
    "address": "卢沟桥街道小井村北口",
    "latitude": 39.8512345,
    "longitude": 116.2412345,
}


def test_create_is_idempotent_per_key(world, api_as):
    api = api_as("dispatcher")
    category = ensure_taxonomy()
    body = {**INTAKE, "category": category.pk, "street": unit(LUGOUQIAO).pk}
    first = api.post("/demands", body, **{"Idempotency-Key": "call-20260101-0001"})
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["number"].startswith("FT") and data["channel"] == "api" and data["state"] == "received"
    assert data["category"]["id"] == category.pk and data["street"]["id"] == unit(LUGOUQIAO).pk
    assert data["latitude"] == pytest.approx(39.851235)
    again = api.post("/demands", body, **{"Idempotency-Key": "call-20260101-0001"})
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Demand.objects.filter(title=INTAKE["title"]).count() == 1
    # the same key text from another caller is a different submission
    other = api_as("admin").post("/demands", body, **{"Idempotency-Key": "call-20260101-0001"})
    assert other.status_code == 201 and other.json()["id"] != data["id"]
    # no key: every call creates
    assert api.post("/demands", body).status_code == 201


def test_create_errors_name_the_field(world, api_as):
    api = api_as("dispatcher")
    response = api.post("/demands", {**INTAKE, "requester_phone": "12345"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "requester_phone"
    assert response.json()["errors"][0]["code"] == "invalid_phone"
    response = api.post("/demands", {**INTAKE, "demand_type": "gossip", "title": ""})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"demand_type", "title"}
    response = api.post("/demands", {**INTAKE, "category": 999999999})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "category"
    response = api.post("/demands", {**INTAKE, "street": unit(CHENGGUAN).pk})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "street"
    assert not Demand.objects.exists()  # nothing half-written


def refused_tasks(api_as, demand) -> list[dict]:
    return api_as("dispatcher").get(f"/demands/{demand.pk}").json()["tasks"]


def test_leadership_cannot_create(world, api_as):
    response = api_as("leader").post("/demands", INTAKE)
    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "read_only"


def test_list_is_scoped_filtered_and_masked(world, api_as):
    op = world["dispatcher"]
    mine = new_demand(op, street_code=LUGOUQIAO)
    new_demand(op, street_code=CHANGXINDIAN, title="长辛店噪音")
    new_demand(op, title="未派单")
    officer = api_as("lugouqiao")
    listing = officer.get("/demands").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == mine.pk
    item = listing["items"][0]
    assert item["requester_phone"] == "138****5678" and item["requester_name"] == "张**"
    assert item["personal_data_masked"] is True
    centre = api_as("dispatcher")
    assert centre.get("/demands").json()["count"] == 3
    assert centre.get("/demands", {"state": "received"}).json()["count"] == 1
    assert (
        centre.get("/demands", {"lead_unit": unit(CHANGXINDIAN).pk}).json()["items"][0]["title"]
        == "长辛店噪音"
    )
    assert centre.get("/demands", {"q": "噪音"}).json()["count"] == 1
    assert centre.get("/demands", {"limit": 2}).json()["items"].__len__() == 2
    bad = centre.get("/demands", {"state": "nonsense", "received_from": "yesterday"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"state", "received_from"}


def test_detail_unmasks_only_for_those_who_need_it_and_audits(world, api_as):
    demand = new_demand(world["dispatcher"], street_code=LUGOUQIAO)
    centre = api_as("dispatcher").get(f"/demands/{demand.pk}").json()
    assert centre["requester_phone"] == "13812345678" and centre["tracking_code"] == demand.tracking_code
    assert {a["name"] for a in centre["available_actions"]} >= {"supervise", "merge"}
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, object_id=str(demand.pk)).count() == 1
    lead = api_as("lugouqiao").get(f"/demands/{demand.pk}").json()
    assert lead["requester_phone"] == "13812345678" and lead["tracking_code"] is None  # must call back
    leader = api_as("leader").get(f"/demands/{demand.pk}").json()
    assert leader["requester_phone"] == "138****5678" and leader["personal_data_masked"]
    assert leader["available_actions"] == []
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, object_id=str(demand.pk)).count() == 2


def _do(api, demand, name, **body):
    return api.post(f"/demands/{demand.pk}/transitions/{name}", body)


def test_every_step_of_the_main_path_and_side_paths(world, api_as):
    op, lgq, cxd, leader = api_as("dispatcher"), api_as("lugouqiao"), api_as("changxindian"), api_as("leader")
    demand = new_demand(world["dispatcher"])
    r = _do(op, demand, "dispatch", lead_unit=unit(LUGOUQIAO).pk, co_units=[unit(CHENGGUAN).pk])
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "dispatched" and r.json()["lead_unit"]["id"] == unit(LUGOUQIAO).pk
    assert _do(cxd, demand, "acknowledge").status_code == 404  # another street: not even visible
    assert _do(leader, demand, "acknowledge").status_code == 403  # read-only
    version = r.json()["version"]
    assert _do(lgq, demand, "acknowledge", expected_version=version - 1).status_code == 409  # stale
    assert _do(lgq, demand, "acknowledge", expected_version=version).json()["state"] == "acknowledged"
    missing = _do(lgq, demand, "contact")
    assert missing.status_code == 422 and missing.json()["errors"][0] == {
        "field": "note",
        "code": "note_required",
        "message": missing.json()["errors"][0]["message"],
    }
    assert _do(lgq, demand, "contact", note="已电话联系").json()["state"] == "contacted"
    assert _do(lgq, demand, "start").json()["state"] == "in_progress"
    bad = _do(lgq, demand, "request_extension", note="需协调", days=99)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "days"
    assert _do(lgq, demand, "request_extension", note="需协调", days=5).json()["extension_state"] == "pending"
    assert _do(op, demand, "approve_extension").json()["extension_state"] == "approved"
    whistle = _do(lgq, demand, "whistle", note="请城管委到场", units=[unit(CHENGGUAN).pk], due_days=2)
    assert whistle.status_code == 200
    task = next(t for t in whistle.json()["tasks"] if t["role"] == "whistle")
    cg = api_as("chengguan")
    assert _do(cg, demand, "task_acknowledge", task=task["id"]).status_code == 200
    assert _do(cg, demand, "task_complete", task=task["id"], note="已处罚").status_code == 200
    assert _do(op, demand, "supervise").json()["supervision_count"] == 1
    # the co-unit task from the dispatch is still open: the reply is refused until it is withdrawn
    refused = _do(lgq, demand, "reply", note="已整改")
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "open_tasks"
    co_task = next(t for t in refused_tasks(api_as, demand) if t["role"] == "co" and t["state"] == "pending")
    assert _do(lgq, demand, "withdraw_task", task=co_task["id"], note="已由街道处理").status_code == 200
    assert _do(lgq, demand, "reply", note="已整改").json()["state"] == "replied"
    assert _do(lgq, demand, "archive").status_code == 409  # wrong state
    assert _do(op, demand, "visit_attempt").json()["state"] == "replied"
    visit = _do(op, demand, "return_visit", resolution="unresolved", satisfaction="dissatisfied")
    assert visit.json()["state"] == "visited"
    assert _do(op, demand, "exclude_rating", note="诉求超出政策").json()["rating_excluded"] is True
    assert _do(op, demand, "reopen", note="重办").json()["state"] == "dispatched"
    assert _do(lgq, demand, "acknowledge").status_code == 200
    assert _do(lgq, demand, "dispute", note="不在辖区", reason="wrong_place").json()["state"] == "disputed"
    assert _do(op, demand, "reject_dispute", note="属地").json()["state"] == "acknowledged"
    assert _do(lgq, demand, "dispute", note="again", reason="nonsense").status_code == 422
    detail = api_as("dispatcher").get(f"/demands/{demand.pk}").json()
    assert [e["action"] for e in detail["events"]][:3] == ["receive", "dispatch", "acknowledge"]


def test_answer_redispatch_deny_merge_archive(world, api_as):
    op, lgq = api_as("dispatcher"), api_as("lugouqiao")
    consult = new_demand(world["dispatcher"], demand_type="consult")
    assert _do(op, consult, "answer", note="已解答").json()["state"] == "replied"
    assert (
        _do(op, consult, "return_visit", resolution="resolved", satisfaction="satisfied").status_code == 200
    )
    assert _do(op, consult, "archive").json()["state"] == "archived"

    demand = new_demand(world["dispatcher"], street_code=LUGOUQIAO)
    assert _do(lgq, demand, "dispute", note="非本辖区", reason="wrong_place").status_code == 200
    assert _do(op, demand, "redispatch", note="改派", lead_unit=unit(LUGOUQIAO).pk).status_code == 422
    r = _do(op, demand, "redispatch", note="改派", lead_unit=unit(CHANGXINDIAN).pk)
    assert r.json()["lead_unit"]["id"] == unit(CHANGXINDIAN).pk
    # the old unit's task is withdrawn: it no longer sees the demand (nor its requester's data)
    assert lgq.get(f"/demands/{demand.pk}").status_code == 404
    assert _do(lgq, demand, "acknowledge").status_code == 404

    cxd = api_as("changxindian")
    assert _do(cxd, demand, "acknowledge").status_code == 200
    assert _do(cxd, demand, "contact", note="ok").status_code == 200
    assert _do(cxd, demand, "request_extension", note="more", days=3).status_code == 200
    assert _do(op, demand, "deny_extension", note="no").json()["extension_state"] == "denied"

    master = new_demand(world["dispatcher"])
    other_street = new_demand(world["dispatcher"], street_code=CHANGXINDIAN)
    unseen = _do(lgq, other_street, "merge", note="dup", master=master.pk)
    assert unseen.status_code == 404
    merged = _do(op, demand, "merge", note="重复", master=master.pk)
    assert merged.json()["state"] == "merged" and merged.json()["master_id"] == master.pk
    assert _do(op, master, "merge", note="x", master=999999).json()["errors"][0]["field"] == "master"


def test_unknown_transition_and_demand(world, api_as):
    op = api_as("dispatcher")
    demand = new_demand(world["dispatcher"])
    assert op.post(f"/demands/{demand.pk}/transitions/teleport", {}).status_code == 422
    assert op.get("/demands/987654321").status_code == 404
    assert op.get("/demands/987654321").json()["errors"][0]["code"] == "not_found"


def test_session_auth_for_the_browser_needs_csrf_on_writes(world):
    demand = new_demand(world["dispatcher"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["dispatcher"])
    api = Api(client=client)
    assert api.get(f"/demands/{demand.pk}").status_code == 200
    refused = api.post(f"/demands/{demand.pk}/transitions/supervise", {})
    assert refused.status_code == 403
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    ok = api.post(f"/demands/{demand.pk}/transitions/supervise", {}, **{"X-CSRFToken": token})
    assert ok.status_code == 200, ok.content


def test_categories_and_workflow_table(world, api_as):
    api = api_as("citizen")
    top = api.get("/categories", {"level": 1}).json()
    assert top["count"] >= 5 and all(c["level"] == 1 for c in top["items"])
    first = top["items"][0]
    children = api.get("/categories", {"parent": first["id"]}).json()["items"]
    assert children and all(c["parent_id"] == first["id"] for c in children)
    assert api.get(f"/categories/{children[0]['id']}").json()["full_name"].startswith(first["name"])
    table = api.get("/workflow").json()
    assert {t["name"] for t in table} >= {"dispatch", "reply", "merge"}
