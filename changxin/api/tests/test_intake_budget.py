"""Intake does only what must be in the request (issue 12): the demand, its event and audit row.

Triage (classification, location, the duplicate check) and the requester's acknowledgement run
in the job queue after commit; the request's queries are pinned here so they cannot creep back.
"""

import pytest
from django.db import connection

from changxin.api import keys
from changxin.api.tests.client import Api, key_for
from changxin.core.tests.builders import LUGOUQIAO, ensure_taxonomy, unit
from changxin.demands import lookups
from changxin.demands.models import Demand
from changxin.notifications.models import OutboundMessage

pytestmark = pytest.mark.django_db

BODY = {
    "demand_type": "complaint",
    "title": "小区路灯不亮",
    "content": "小井村北口路灯坏了一周，晚上出行很不方便，请尽快维修。",
    "requester_name": "李四",
    "requester_phone": "13900001111",
    "address": "卢沟桥街道小井村北口",
}

# The key (cached per process, api/keys.py) and the references (demands/lookups.py) need no
# query; the write: INSERT demand (with its number on PostgreSQL; an UPDATE sets it elsewhere), its
# event, its audit entry — in a transaction (a SAVEPOINT and its RELEASE inside the test's own).
INTAKE_QUERIES = 5 if connection.vendor == "postgresql" else 6


@pytest.fixture
def cached_lookups(settings):
    settings.CHANGXIN_LOOKUP_CACHE_SECONDS = 60
    settings.CHANGXIN_API_KEY_CACHE_SECONDS = 60
    lookups.clear()
    keys.forget()
    yield
    lookups.clear()
    keys.forget()


def test_intake_queries_are_pinned(demo_world, queued_jobs, cached_lookups, django_assert_num_queries):
    category = ensure_taxonomy()
    api = Api(key_for(demo_world["dispatcher"]))
    body = {**BODY, "category": category.pk, "street": unit(LUGOUQIAO).pk}
    assert api.post("/demands", body).status_code == 201  # the first looks key, category, street up
    for payload in (body, BODY):
        with django_assert_num_queries(INTAKE_QUERIES):
            response = api.post("/demands", payload)
        assert response.status_code == 201, response.content
    data = response.json()
    assert [e["action"] for e in data["events"]] == ["receive"] and data["tasks"] == []
    assert data["requester_phone"] == BODY["requester_phone"]  # the caller's own input, echoed


def test_a_deactivated_category_is_refused_at_once_in_this_process(demo_world, cached_lookups):
    category = ensure_taxonomy()
    api = Api(key_for(demo_world["dispatcher"]))
    assert api.post("/demands", {**BODY, "category": category.pk}).status_code == 201
    category.is_active = False
    category.save()  # clears the process's lookups
    response = api.post("/demands", {**BODY, "category": category.pk})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "category"


def test_triage_duplicates_and_acknowledgement_run_in_the_queue(
    demo_world, queued_jobs, django_capture_on_commit_callbacks
):
    api = Api(key_for(demo_world["dispatcher"]))
    with django_capture_on_commit_callbacks(execute=True):  # the commits queue the deliveries
        first = api.post("/demands", BODY).json()
        second = api.post("/demands", {**BODY, "content": "再次反映：" + BODY["content"]}).json()
    assert Demand.objects.get(pk=second["id"]).triage == {}  # nothing of triage in the request
    assert not OutboundMessage.objects.exists()
    queued_jobs.drain()
    triage = Demand.objects.get(pk=second["id"]).triage
    assert triage["street_name"] and "triage_ms" in triage
    assert [d["id"] for d in triage["duplicates"]] == [first["id"]]
    assert OutboundMessage.objects.filter(demand_id__in=[first["id"], second["id"]]).count() == 2


def test_the_intake_answer_is_exactly_the_schema_s(demo_world, queued_jobs):
    """create_demand renders its answer without re-validating it: it must be what the schema
    would have made of it, key for key and in order, for a new and for a repeated submission."""
    import json

    from ninja.responses import NinjaJSONEncoder

    from changxin.demands.api import DemandDetailOut

    category = ensure_taxonomy()
    api = Api(key_for(demo_world["dispatcher"]))
    body = {**BODY, "category": category.pk, "street": unit(LUGOUQIAO).pk, "latitude": 39.85}
    for expected_status in (201, 200):
        response = api.post("/demands", body, **{"Idempotency-Key": "same-call"})
        assert response.status_code == expected_status and response["Content-Type"].startswith(
            "application/json"
        )
        data = json.loads(response.content)
        validated = DemandDetailOut.model_validate(data).model_dump()
        assert list(data) == list(validated)
        assert response.content.decode() == json.dumps(validated, cls=NinjaJSONEncoder)
