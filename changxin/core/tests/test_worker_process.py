"""A real `changxin worker` process runs what another process queued, then stops cleanly."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[3]


def backend_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    if kind == "redis":
        if not os.environ.get("REDIS_URL", "").startswith("redis"):
            pytest.skip("no REDIS_URL")
        return os.environ["REDIS_URL"]
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("not running on PostgreSQL")
    db = connection.settings_dict  # the test database: the queue's tables go there
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    user = quote(db["USER"] or "", safe="")
    return f"postgresql://{user}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def django(code: str, env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


@pytest.mark.django_db  # only so that the PostgreSQL test database exists
@pytest.mark.parametrize("kind", ["sqlite", "redis", "postgres"])
def test_a_worker_process_runs_a_queued_job_and_stops_on_sigterm(kind, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANGXIN_", "DJANGO_", "PYTEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="changxin.settings",
        PYTHONPATH=str(ROOT),
        CHANGXIN_ENV_FILE="",
        DEBUG="1",
        SECRET_KEY="worker-test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",  # the job itself needs no tables
        CHANGXIN_JOBS_URL=backend_url(kind, tmp_path),
        CHANGXIN_JOBS_QUEUE=f"test-{uuid.uuid4().hex[:12]}",
        CHANGXIN_WARM_UP="0",  # this test is about the queue; triage's warm-up is tested on its own
    )
    trace = tmp_path / "ran.txt"
    # Queued before the worker starts, so the two never create the store's tables at the same time.
    queue = django(
        f"from changxin.core.tests.jobqueue import write_file; write_file.enqueue({str(trace)!r}, 'ran')",
        env,
    )
    assert queue.wait(timeout=20) == 0, queue.stdout.read()
    assert not trace.exists()  # queued, not run by the process that queued it
    worker = django(
        "import changxin.core.tests.jobqueue; from django.core.management import call_command; "
        "call_command('worker', '--workers', '1', '--no-periodic')",
        env,
    )
    try:
        deadline = time.monotonic() + 30  # a loaded CI machine starts Python slowly
        while not trace.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert trace.exists() and trace.read_text() == "ran"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            status = worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            raise
    output = worker.stdout.read()
    assert status == 0, output
    assert "write_file" in output and "Consumer exiting" in output
