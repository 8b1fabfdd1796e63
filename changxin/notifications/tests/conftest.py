import pytest

from changxin.core.tests.builders import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def settle(django_capture_on_commit_callbacks):
    """Run what production runs after commit: event delivery, then the send jobs — whether the job
    queue runs jobs inline (stand-in) or queues them (`jobs.drain()` runs them in-process)."""
    from changxin.core import jobs

    def run():
        for _ in range(4):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                ran = jobs.drain()
            if not ran and not callbacks:
                break

    return run
