"""Two people acting on one demand at once, on real concurrent PostgreSQL connections."""

import threading

import pytest
from django.db import connection, connections

from changxin.core.tests.builders import build_world
from changxin.demands.models import Demand, DemandEvent, DemandTask, State
from changxin.demands.services import transition
from changxin.demands.workflow import WorkflowError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run each call in its own thread (own DB connection), released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = ("ok", call())
        except WorkflowError as exc:
            results[i] = ("refused", exc.code)
        except Exception as exc:  # noqa: BLE001 — reported to the test
            results[i] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def world():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    return build_world(calendar_years=(2026,))


def test_two_dispatchers_dispatching_at_once_dispatch_once(world):
    demand = world.demand()
    results = race(
        lambda: transition(demand.pk, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk),
        lambda: transition(demand.pk, "dispatch", world.dispatcher, lead_unit=world.changxindian.pk),
    )
    kinds = sorted(r[0] for r in results)
    assert kinds == ["ok", "refused"], results
    assert [r[1] for r in results if r[0] == "refused"] == ["illegal_state"]
    demand.refresh_from_db()
    assert demand.state == State.DISPATCHED and demand.version == 1
    assert DemandTask.objects.filter(demand=demand).count() == 1
    assert DemandEvent.objects.filter(demand=demand, action="dispatch").count() == 1


def test_concurrent_actions_from_the_same_version_one_wins_the_other_is_stale(world):
    demand = world.demand()
    demand = transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk)
    demand = transition(demand, "acknowledge", world.officer_lgq)
    seen = demand.version
    results = race(
        lambda: transition(demand.pk, "contact", world.officer_lgq, note="电话联系", expected_version=seen),
        lambda: transition(
            demand.pk,
            "dispute",
            world.officer_lgq,
            reason="not_our_duty",
            note="非本单位",
            expected_version=seen,
        ),
    )
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    refused = [r[1] for r in results if r[0] == "refused"]
    assert refused in (["stale"], ["illegal_state"])
    demand = Demand.objects.get(pk=demand.pk)
    assert demand.version == seen + 1
    assert demand.events.count() == 4  # receive, dispatch, acknowledge, and exactly one of the two


def test_many_concurrent_supervisions_escalate_once(world):
    from changxin.core.tests.builders import local
    from changxin.demands.services import escalate_overdue

    demand = world.demand(received_at=local(2026, 11, 2, 10, 0))
    transition(
        demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=local(2026, 11, 2, 10, 0)
    )
    late = local(2026, 11, 20, 10, 0)
    results = race(*[lambda: escalate_overdue(now=late) for _ in range(4)])
    assert all(r[0] == "ok" for r in results), results
    assert sum(r[1] for r in results) == 1
    assert DemandEvent.objects.filter(demand=demand, action="supervise").count() == 1
