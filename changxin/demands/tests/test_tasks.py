"""The demand engine's periodic job and `changxin tick` (cron's one-shot)."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from changxin.core import jobs
from changxin.demands.models import DemandEvent, State
from changxin.demands.services import transition


def overdue_demand(world):
    """Dispatched ten days ago, never contacted: its contact deadline has passed."""
    long_ago = timezone.now() - dt.timedelta(days=10)
    demand = world.demand(received_at=long_ago)
    return transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=long_ago)


def tick(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("tick", *args, stdout=out)
    return out.getvalue()


def test_tick_escalates_an_overdue_demand_and_drains_the_queue(world, queued_jobs):
    demand = overdue_demand(world)
    assert demand.state == State.DISPATCHED and demand.supervised_at is None
    output = tick()  # returning means exit status 0
    assert "demands.escalate_overdue: supervised: 1" in output
    assert "queued jobs run: 0" in output
    demand.refresh_from_db()
    assert demand.supervised_at is not None
    assert DemandEvent.objects.filter(demand=demand, action="supervise", automatic=True).count() == 1
    assert "supervised: 0" in tick()  # idempotent: safe every minute


def test_tick_runs_what_was_queued_unless_told_not_to(world, queued_jobs):
    from changxin.core.tests.jobqueue import SEEN, remember

    remember.enqueue("queued by a request")
    assert "queued jobs run: 0" not in tick("--no-drain") and SEEN == []
    assert "queued jobs run: 1" in tick() and SEEN == ["queued by a request"]


def test_a_worker_runs_the_escalation_job_too(world, queued_jobs):
    demand = overdue_demand(world)
    from changxin.demands.tasks import escalate_overdue

    escalate_overdue.enqueue()
    assert jobs.drain() == 1
    demand.refresh_from_db()
    assert demand.supervised_at is not None


def test_tick_fails_when_a_periodic_job_fails(world, monkeypatch):
    from changxin.demands import services

    def broken(now=None):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "escalate_overdue", broken)
    with pytest.raises(CommandError, match="demands.escalate_overdue"):
        tick()
