"""Fixtures shared by every app's tests.

Browser fixtures (`browser`, `page`, `phone_page`) and the `login()` helper live in
changxin/core/tests/browser.py; import the helper with `from changxin.core.tests.browser import login`.
`queued_jobs` (changxin/core/tests/jobqueue.py) makes background jobs wait in a queue until
`jobs.drain()` instead of running at once.
Test data comes from the builders in changxin/core/tests/builders.py (`demo_world` below).

`CHANGXIN_TEST_CLOCK=2026-12-31T23:40+08:00 make test` runs the whole suite with Python's clock
started at that moment and ticking (time-machine), to find tests that pass only at some hours: CI
runs at any hour, and "in 30 minutes" is tomorrow after 23:30 in Beijing. The clock is Python's
only, so use it on SQLite (PostgreSQL's now() and the browser keep the real time).
"""

import datetime as dt
import os

import pytest

# Playwright's sync API runs an asyncio loop in this thread; Django would otherwise refuse ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from changxin.core.tests.browser import (  # noqa: E402,F401
    browser,
    login,
    page,
    phone_page,
    require_postgres_for,
)
from changxin.core.tests.jobqueue import queued_jobs  # noqa: E402,F401


@pytest.fixture
def demo_world(db):
    """Fengtai's divisions, this year's calendar and the demo logins (one per role), by username.

    Uses `db`; a test that also uses `live_server` gets a transactional database automatically.
    """
    from changxin.core.tests.builders import demo_users

    return demo_users()


def pytest_configure(config):
    clock = os.environ.get("CHANGXIN_TEST_CLOCK")
    if clock:
        import time_machine

        moment = dt.datetime.fromisoformat(clock)
        if moment.tzinfo is None:
            raise pytest.UsageError("CHANGXIN_TEST_CLOCK needs a UTC offset, e.g. 2026-12-31T23:40+08:00")
        time_machine.travel(moment, tick=True).start()


def pytest_report_header(config):
    clock = os.environ.get("CHANGXIN_TEST_CLOCK")
    return [f"clock started at {clock} (CHANGXIN_TEST_CLOCK)"] if clock else []


def pytest_runtest_setup(item):
    require_postgres_for(item)
