"""Scale-out on one PostgreSQL (docs/DEPLOY.md): two app-server processes and one job worker.

Demands are submitted concurrently through both servers over HTTP (the REST API with a key), some
of them twice at once through both with the same Idempotency-Key. Every demand must exist exactly
once, and every event they published must be handled exactly once by every subscriber that wants
it — by the worker, not by the servers — with nothing left for catch-up to find.

The servers are gunicorn (a dependency; `python -m django runserver --noreload` when it is
missing); the queue is huey's PostgreSQL store in the test database, shared by the three processes.
PostgreSQL only (skipped on SQLite, failed when CHANGXIN_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from changxin.api.tests.client import key_for
from changxin.core import events
from changxin.core.models import EventReceipt
from changxin.core.tests.builders import build_world, ensure_taxonomy
from changxin.demands.models import DemandEvent
from changxin.demands.selectors import unscoped_demands

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[3]
MARK = "横向扩展测试"
DEMANDS = 30  # distinct submissions, alternating between the two servers
TWICE = 6  # further submissions sent to both servers at once with one Idempotency-Key


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    user = quote(db["USER"] or "", safe="")
    return f"postgresql://{user}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANGXIN_", "DJANGO_", "PYTEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="changxin.settings",
        PYTHONPATH=str(ROOT),
        CHANGXIN_ENV_FILE="",
        DEBUG="0",  # as in production
        SECRET_KEY="scale-out-test",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url(),
        CHANGXIN_JOBS_URL=database_url(),  # huey's PostgreSQL store: one queue for the three processes
        CHANGXIN_JOBS_QUEUE=f"scale-{uuid.uuid4().hex[:10]}",
        CHANGXIN_VAR_DIR=str(tmp_path / "var"),
        CHANGXIN_STATION_SUBMIT_RATE="10000/h",
        CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    return env


def spawn(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def app_server(port: int, env: dict, log: Path) -> subprocess.Popen:
    if importlib.util.find_spec("gunicorn") is not None:
        argv = [sys.executable, "-m", "gunicorn", "changxin.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        argv += ["--workers", "1", "--threads", "4", "--worker-class", "gthread", "--timeout", "60"]
    else:
        argv = [
            sys.executable,
            "-m",
            "django",
            "runserver",
            "--noreload",
            "--nothreading",
            f"127.0.0.1:{port}",
        ]
    return spawn(argv, env, log)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_healthy(port: int, process: subprocess.Popen, log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app server on {port} exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"app server on {port} never became healthy:\n{log.read_text()[-3000:]}")


def post_demand(port: int, key: str, body: dict, idempotency_key: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/demands",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": key, "Idempotency-Key": idempotency_key},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_two_app_servers_and_a_worker_on_one_postgresql(tmp_path):
    ensure_taxonomy()
    year = time.localtime().tm_year
    world = build_world(calendar_years=(year, year + 1))
    key = key_for(world.dispatcher)
    env = environment(tmp_path)
    logs = {name: tmp_path / f"{name}.log" for name in ("prepare", "worker", "app1", "app2")}

    # The queue's tables are created once, before three processes would race to create them.
    prepare = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from changxin.core import jobs; jobs.queue_length()",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert prepare.returncode == 0, prepare.stdout + prepare.stderr

    ports = [free_port(), free_port()]
    processes = [
        spawn(
            [sys.executable, "-m", "changxin.cli", "worker", "--workers", "2", "--no-periodic"],
            env,
            logs["worker"],
        ),
        app_server(ports[0], env, logs["app1"]),
        app_server(ports[1], env, logs["app2"]),
    ]
    try:
        for port, process, name in zip(ports, processes[1:], ("app1", "app2"), strict=True):
            wait_healthy(port, process, logs[name])

        def body(i: int) -> dict:
            return {
                "demand_type": "complaint",
                "title": f"{MARK}{i:03d}",
                "content": f"第{i}号：小区门口的路灯坏了一周，晚上出行不便。",
                "requester_name": "李四",
                "requester_phone": "13900001111",
                "street": world.lugouqiao.pk,
                "category": world.category.pk if world.category else None,
            }

        jobs = [(ports[i % 2], body(i), f"scale-{i}") for i in range(DEMANDS)]
        for j in range(DEMANDS, DEMANDS + TWICE):  # the same submission through both servers at once
            jobs += [(ports[0], body(j), f"scale-{j}"), (ports[1], body(j), f"scale-{j}")]
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(lambda job: post_demand(job[0], key, job[1], job[2]), jobs))
        counted = Counter(statuses)
        assert set(counted) <= {200, 201}, f"{counted}\n{logs['app1'].read_text()[-2000:]}"
        assert counted[201] == DEMANDS + TWICE and counted[200] == TWICE, counted

        # every demand exactly once
        titles = Counter(unscoped_demands().filter(title__startswith=MARK).values_list("title", flat=True))
        assert titles == Counter({f"{MARK}{i:03d}": 1 for i in range(DEMANDS + TWICE)})
        demands = unscoped_demands().filter(title__startswith=MARK)
        assert demands.values("number").distinct().count() == DEMANDS + TWICE

        # every published event handled once by every subscriber that wants it, by the worker
        published = list(DemandEvent.objects.filter(demand__in=demands))
        assert len(published) >= DEMANDS + TWICE
        expected = Counter(
            (sub.name, event.pk)
            for event in published
            for sub in events.subscribers("demands")
            if sub.wants(event)
        )
        assert expected, "no subscriber wants these events: the test would prove nothing"
        ids = [event.pk for event in published]

        def handled() -> Counter:
            return Counter(
                EventReceipt.objects.filter(stream="demands", event_id__in=ids).values_list(
                    "subscriber", "event_id"
                )
            )

        deadline = time.monotonic() + 45
        while handled() != expected and time.monotonic() < deadline:
            assert processes[0].poll() is None, logs["worker"].read_text()[-3000:]
            time.sleep(0.5)
        assert handled() == expected, (
            f"missing: {set(expected) - set(handled())}\n{logs['worker'].read_text()[-3000:]}"
        )
    finally:
        for process in processes:
            stop(process)

    # the worker did it all: catch-up (the safety net) finds nothing left, nothing handled twice
    assert all(n == 0 for n in events.catch_up().values())
    assert handled() == expected
    assert processes[0].returncode == 0, logs["worker"].read_text()[-3000:]
    assert "Traceback" not in logs["worker"].read_text(), logs["worker"].read_text()[-3000:]
