"""A subscriber for the worker-crash test (imported only by that test's worker and tick processes).

It writes one AuditEntry per event, inside the delivery's transaction (with the receipt), and while
the file named by CHANGXIN_TEST_SLOW_FILE exists it first announces itself and then waits — long
enough for the test to kill the worker with SIGKILL in the middle of the job.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from changxin.core import events
from changxin.core.models import AuditAction, AuditEntry

MARK = "crash-test delivery"


@events.subscriber("tests.crash", stream="demands", actions={"receive"})
def record_delivery(event) -> None:
    AuditEntry.objects.create(action=AuditAction.UPDATE, actor_name="crash-test", detail=f"{MARK} {event.pk}")
    slow = os.environ.get("CHANGXIN_TEST_SLOW_FILE")
    if slow and Path(slow).exists():
        Path(slow + ".started").write_text(str(os.getpid()))
        time.sleep(120)
