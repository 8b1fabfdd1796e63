"""Fixtures shared by every app's tests.

Browser fixtures (`browser`, `page`, `phone_page`) and the `login()` helper live in
changxin/core/tests/browser.py; import the helper with `from changxin.core.tests.browser import login`.
`queued_jobs` (changxin/core/tests/jobqueue.py) makes background jobs wait in a queue until
`jobs.drain()` instead of running at once.
Test data comes from the builders in changxin/core/tests/builders.py (`demo_world` below).
"""

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


def pytest_runtest_setup(item):
    require_postgres_for(item)
