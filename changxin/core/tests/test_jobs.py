"""Background jobs (changxin/core/jobs.py): after-commit queueing, draining, retries, failures."""

import logging

import pytest
from django.db import transaction

from changxin.core import jobs
from changxin.core.models import JobFailure
from changxin.core.tests.jobqueue import ATTEMPTS, SEEN, flaky, remember


def test_tests_run_jobs_at_once_by_default():
    SEEN.clear()
    remember.enqueue("now")
    assert SEEN == ["now"]


def test_calling_a_job_runs_it_here(queued_jobs):
    remember("here")
    assert SEEN == ["here"] and jobs.pending_count() == 0


def test_enqueue_waits_for_a_worker(queued_jobs):
    job_id = jobs.enqueue(remember, "later")
    assert job_id and SEEN == [] and jobs.pending_count() == 1
    assert jobs.drain() == 1
    assert SEEN == ["later"] and jobs.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_queues_after_commit_only(queued_jobs):
    with transaction.atomic():
        remember.enqueue_on_commit("committed")
        assert jobs.pending_count() == 0  # not before the commit
    assert jobs.pending_count() == 1 and SEEN == []  # queued, not run
    assert jobs.drain() == 1
    assert SEEN == ["committed"]


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_drops_the_job_on_rollback(queued_jobs):
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue_on_commit(remember, "rolled back")
        raise RuntimeError("abort")
    assert jobs.pending_count() == 0
    assert jobs.drain() == 0 and SEEN == []


def test_drain_runs_jobs_queued_by_jobs_and_respects_max_jobs(queued_jobs):
    for value in range(3):
        remember.enqueue(value)
    assert jobs.drain(max_jobs=2) == 2 and SEEN == [0, 1]
    assert jobs.drain() == 1 and SEEN == [0, 1, 2]


@pytest.mark.django_db
def test_a_failing_job_is_retried_after_its_delay_and_ends_done(queued_jobs):
    flaky.enqueue("twice", 2)
    assert jobs.drain() == 1 and ATTEMPTS["twice"] == 1  # the retry waits retry_delay (30 s)
    assert jobs.drain(include_delayed=True) == 2
    assert ATTEMPTS["twice"] == 3 and jobs.pending_count() == 0
    assert not JobFailure.objects.exists()


@pytest.mark.django_db
def test_a_job_that_always_fails_ends_failed_logged_and_recorded(queued_jobs, caplog):
    flaky.enqueue("always", 99)
    with caplog.at_level(logging.WARNING, logger="changxin.jobs"):
        assert jobs.drain(include_delayed=True) == 4  # first run + retries=3
    assert ATTEMPTS["always"] == 4
    failure = JobFailure.objects.get()
    assert failure.job == "core.tests.jobqueue.flaky" and failure.attempts == 4
    assert failure.arguments == "'always', 99"
    assert "RuntimeError" in failure.error and "attempt 4 fails" in failure.error
    errors = [r for r in caplog.records if r.name == "changxin.jobs" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "flaky" in errors[0].getMessage()
    assert jobs.drain(include_delayed=True) == 0  # nothing left to retry


def test_the_registry_lists_each_apps_periodic_jobs():
    registered = {p.name: p for p in jobs.registered_periodic()}
    escalation = registered["demands.escalate_overdue"]
    assert escalation.schedule == "* * * * *"
    from changxin.demands import tasks

    assert escalation.job is tasks.escalate_overdue


@pytest.fixture
def broken_periodic_job():
    @jobs.periodic(minute="0", hour="3", name="tests.broken")
    def broken():
        raise ValueError("broken on purpose")

    yield broken
    jobs._periodic.pop("tests.broken")
    broken._task.unregister()


@pytest.mark.django_db
def test_run_periodic_once_runs_every_job_and_isolates_failures(broken_periodic_job, caplog):
    with caplog.at_level(logging.ERROR, logger="changxin.jobs"):
        results = jobs.run_periodic_once()
    assert isinstance(results["tests.broken"], ValueError)
    assert results["demands.escalate_overdue"] == {"supervised": 0}  # ran despite the failure
    assert JobFailure.objects.get().job == "tests.broken"
    assert any("tests.broken" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_run_periodic_once_can_run_only_the_jobs_due(broken_periodic_job):
    import datetime as dt
    from zoneinfo import ZoneInfo

    at_three = dt.datetime(2026, 12, 1, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # local time

    def due(at):
        return {p.name for p in jobs.registered_periodic() if p.is_due(at)}

    at_three_one = at_three.replace(minute=1)
    assert {"tests.broken", "demands.escalate_overdue", "core.catch_up_events"} <= due(at_three)
    assert "tests.broken" not in due(at_three_one) and "demands.escalate_overdue" in due(at_three_one)
    assert set(jobs.run_periodic_once(due_at=at_three)) == due(at_three)
    assert set(jobs.run_periodic_once(due_at=at_three_one)) == due(at_three_one)


@pytest.mark.django_db
def test_failed_jobs_are_listed_read_only_for_district_admins(admin_client):
    JobFailure.objects.create(job="demands.escalate_overdue", arguments="", error="boom", attempts=1)
    page = admin_client.get("/admin/core/jobfailure/")
    assert page.status_code == 200 and "demands.escalate_overdue" in page.content.decode()
    assert admin_client.get("/admin/core/jobfailure/add/").status_code == 403
