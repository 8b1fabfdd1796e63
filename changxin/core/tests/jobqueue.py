"""The `queued_jobs` fixture (exported from the root conftest.py) and jobs declared for the tests.

By default the tests run every job at once, in memory, inside the process that queues it (see
settings_test.HUEY). A test that takes `queued_jobs` gets a real (in-memory) queue instead: jobs
wait there until the test calls `jobs.drain()`, as a worker would run them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage

from changxin.core import jobs

SEEN: list = []  # what `remember` was called with, in this process
ATTEMPTS: dict[str, int] = {}


@pytest.fixture
def queued_jobs():
    """Jobs are queued, not run, for the duration of the test; `jobs.drain()` runs them."""
    was_immediate = HUEY.immediate
    HUEY.immediate = False  # huey gives a non-immediate instance a fresh storage
    assert isinstance(HUEY.storage, MemoryStorage), "tests must never reach a real queue"
    SEEN.clear()
    ATTEMPTS.clear()
    try:
        yield jobs
    finally:
        HUEY.immediate = was_immediate


@jobs.task
def remember(value) -> None:
    SEEN.append(value)


@jobs.task(retries=3, retry_delay=30)
def flaky(key: str, failures: int) -> int:
    """Fails the first `failures` times it runs for `key`."""
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= failures:
        raise RuntimeError(f"{key}: attempt {ATTEMPTS[key]} fails")
    return ATTEMPTS[key]


@jobs.task(retries=0)
def write_file(path: str, text: str) -> None:
    """For the real-process test: a worker started in another process leaves a visible trace."""
    Path(path).write_text(text, encoding="utf-8")
