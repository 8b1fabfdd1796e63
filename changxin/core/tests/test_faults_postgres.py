"""Faults on PostgreSQL: a connection dropped mid-request, a worker killed mid-job, a submission
delivered twice at once. Nothing is lost and nothing is doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.test import Client

from changxin.api.tests.client import Api, key_for
from changxin.core.models import AuditEntry
from changxin.core.tests.builders import build_world, ensure_taxonomy, unit
from changxin.demands import services
from changxin.demands.models import DemandEvent
from changxin.demands.selectors import unscoped_demands

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def world():
    ensure_taxonomy()
    return build_world(calendar_years=(time.localtime().tm_year, time.localtime().tm_year + 1))


def body(world, title):
    return {
        "demand_type": "complaint",
        "title": title,
        "content": "小区门口的路灯坏了一周，晚上出行不便。",
        "requester_name": "李四",
        "requester_phone": "13900001111",
        "street": world.lugouqiao.pk,
        "category": world.category.pk if world.category else None,
    }


def other_connection():
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
    )


def test_a_connection_dropped_mid_request_fails_cleanly_and_the_retry_succeeds(world, monkeypatch):
    api = Api(key_for(world.dispatcher), client=Client(raise_request_exception=False))
    original = services.audit.record
    dropped = []

    def drop_then_record(*args, **kwargs):
        # The demand and its first event are written; the audit row is next: kill the connection.
        if not dropped:
            pid = connection.connection.info.backend_pid
            with other_connection() as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            dropped.append(pid)
        return original(*args, **kwargs)

    monkeypatch.setattr(services.audit, "record", drop_then_record)
    failed = api.post("/demands", body(world, "断线中的诉求"), **{"Idempotency-Key": "drop-1"})
    assert failed.status_code >= 500 and dropped
    close_old_connections()  # what Django does at the end of every request: the dead connection goes
    assert not unscoped_demands().filter(title="断线中的诉求").exists()  # nothing half-written
    assert not DemandEvent.objects.filter(demand__title="断线中的诉求").exists()

    again = api.post("/demands", body(world, "断线中的诉求"), **{"Idempotency-Key": "drop-1"})
    assert again.status_code == 201, again.content
    demand = unscoped_demands().get(title="断线中的诉求")
    assert DemandEvent.objects.filter(demand=demand, action="receive").count() == 1
    assert AuditEntry.objects.filter(object_id=str(demand.pk), action="create").count() == 1


def test_the_same_submission_delivered_twice_at_once_makes_one_demand(world):
    key = key_for(world.dispatcher)
    payload = body(world, "同一诉求提交两次")
    barrier = threading.Barrier(2)
    statuses = []

    def submit():
        try:
            barrier.wait(timeout=10)
            response = Api(key).post("/demands", payload, **{"Idempotency-Key": "twice-1"})
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 201]
    assert unscoped_demands().filter(title="同一诉求提交两次").count() == 1


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    user = quote(db["USER"] or "", safe="")
    return f"postgresql://{user}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def start(code: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); import changxin.core.tests.crashjobs; {code}",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_worker_killed_mid_job_leaves_the_effect_exactly_once(world, tmp_path):
    # crashjobs is imported only by the worker processes: its subscriber must not run in this one.
    mark = "crash-test delivery"  # crashjobs.MARK
    demand, _ = services.create_demand(
        {**body(world, "处理中断的诉求"), "street": unit("110106017"), "category": world.category},
        actor=world.dispatcher,
    )
    event = DemandEvent.objects.get(demand=demand, action="receive")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANGXIN_", "DJANGO_", "PYTEST_"))}
    slow = tmp_path / "slow"
    slow.write_text("1")
    env.update(
        DJANGO_SETTINGS_MODULE="changxin.settings",
        PYTHONPATH=str(ROOT),
        CHANGXIN_ENV_FILE="",
        DEBUG="1",
        SECRET_KEY="worker-crash-test",
        DATABASE_URL=database_url(),
        CHANGXIN_JOBS_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        CHANGXIN_JOBS_QUEUE=f"test-{uuid.uuid4().hex[:12]}",
        CHANGXIN_TEST_SLOW_FILE=str(slow),
    )
    enqueue = f"from changxin.core.tasks import deliver_event; deliver_event.enqueue('demands', {event.pk})"
    queue = start(enqueue, env)
    assert queue.wait(timeout=30) == 0, queue.stdout.read()

    worker = start(
        "from django.core.management import call_command; call_command('worker', '--workers', '1', '--no-periodic')",
        env,
    )
    try:
        started = Path(str(slow) + ".started")
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert started.exists(), "the job never started"
        worker.send_signal(signal.SIGKILL)  # mid-job: its transaction never commits
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert AuditEntry.objects.filter(detail=f"{mark} {event.pk}").count() == 0

    # A new worker pass: the periodic catch-up hands the subscriber what it missed.
    slow.unlink()
    for _ in range(2):  # and again, with the delivery queued once more: still once
        queue = start(enqueue, env)
        assert queue.wait(timeout=30) == 0, queue.stdout.read()
        tick = start("from django.core.management import call_command; call_command('tick', '--all')", env)
        assert tick.wait(timeout=60) == 0, tick.stdout.read()
        assert AuditEntry.objects.filter(detail=f"{mark} {event.pk}").count() == 1
