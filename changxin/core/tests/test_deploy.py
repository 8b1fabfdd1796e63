"""Production plumbing (docs/DEPLOY.md): the read-replica router and the health probe."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from changxin.core import dbrouter
from changxin.core.dbrouter import PRIMARY, REPLICA, ReplicaReadsMiddleware, replica_reads
from changxin.core.models import OrgUnit, User
from changxin.core.tests.builders import LUGOUQIAO, demand_in_state
from changxin.demands.models import Demand


@pytest.fixture
def replica():
    """A second alias, "replica", on the same test database (what TEST MIRROR does in production
    settings): reads routed there really run on another connection."""
    connections.settings[REPLICA] = {**connections.settings[PRIMARY], "CONN_MAX_AGE": None}
    # connected here: the test case allows only the aliases it knew of when it started
    connections[REPLICA].connect()
    try:
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        connections.settings.pop(REPLICA)


def test_without_a_replica_every_read_and_write_goes_to_the_primary():
    assert not dbrouter.replica_configured()
    with replica_reads():
        assert Demand.objects.all().db == PRIMARY
        assert dbrouter.ReplicaRouter().db_for_write(Demand) == PRIMARY


@pytest.mark.django_db
def test_with_a_replica_only_reads_inside_replica_reads_go_there(replica):
    router = dbrouter.ReplicaRouter()
    assert Demand.objects.all().db == PRIMARY  # outside the block: the primary
    with replica_reads():
        assert Demand.objects.all().db == REPLICA
        assert OrgUnit.objects.all().db == REPLICA
        assert router.db_for_write(Demand) == PRIMARY
        # sign-in state never comes from the replica (a fresh login would look signed out)
        assert User.objects.all().db == PRIMARY
        assert router.db_for_read(User) == PRIMARY
        from django.contrib.sessions.models import Session

        assert Session.objects.all().db == PRIMARY
    assert Demand.objects.all().db == PRIMARY
    assert router.allow_migrate(PRIMARY, "demands") and not router.allow_migrate(REPLICA, "demands")
    assert router.allow_relation(Demand(), OrgUnit())


@pytest.mark.django_db
def test_reads_inside_a_primary_transaction_stay_on_the_primary(replica):
    from django.db import transaction

    with replica_reads():
        with transaction.atomic():
            assert Demand.objects.all().db == PRIMARY  # read-your-writes within a transaction
        assert Demand.objects.all().db == REPLICA


def _echo_db(request):
    from django.http import HttpResponse

    return HttpResponse(Demand.objects.all().db)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/insight/", REPLICA),
        ("head", "/insight/drill/", REPLICA),
        ("get", "/api/v1/rankings", REPLICA),
        ("post", "/insight/units/110106017/appeal/", PRIMARY),  # a write's reads stay on the primary
        ("get", "/demands/queue/", PRIMARY),
        ("get", "/insightful/", PRIMARY),
    ],
)
def test_the_middleware_sends_dashboard_gets_to_the_replica(replica, settings, method, path, expected):
    settings.CHANGXIN_REPLICA_PATHS = ["/insight/", "/api/v1/rankings"]
    request = getattr(RequestFactory(), method)(path)
    response = ReplicaReadsMiddleware(_echo_db)(request)
    assert response.content.decode() == expected


@pytest.mark.django_db(transaction=True)
def test_the_rankings_page_reads_its_figures_from_the_replica(client, demo_world, replica):
    demand_in_state(
        "replied", operator=demo_world["dispatcher"], officer=demo_world["lugouqiao"], street_code=LUGOUQIAO
    )
    client.force_login(demo_world["leader"])
    with CaptureQueriesContext(connections[PRIMARY]) as primary, CaptureQueriesContext(replica) as read:
        response = client.get("/insight/")
    assert response.status_code == 200
    on_replica = " ".join(q["sql"] for q in read.captured_queries)
    on_primary = " ".join(q["sql"] for q in primary.captured_queries)
    # the 三率 read the lead unit's round stored on the demand (no event subqueries since rankperf)
    assert '"demands_demand"' in on_replica and '"demands_rankingsnapshot"' in on_replica
    assert 'demands_demand"' not in on_primary  # the figures did not come from the primary
    assert "django_session" in on_primary and "django_session" not in on_replica


@pytest.mark.django_db
def test_healthz_answers_ok_with_no_personal_data(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database:default": "ok", "queue": "ok"}
    assert isinstance(body["queue_length"], int)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_is_503_when_the_queue_store_is_unreachable(client, monkeypatch):
    from changxin.core import jobs

    def down():
        raise ConnectionError("redis://secret-host:6379 refused")

    monkeypatch.setattr(jobs, "queue_length", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing" and body["checks"]["queue"] == "ConnectionError"
    assert "secret-host" not in response.content.decode()  # no connection details leak


@pytest.mark.django_db
def test_healthz_checks_the_replica_too(client, replica):
    assert client.get("/healthz").json()["checks"]["database:replica"] == "ok"
