"""Background jobs of the notifications app (declared through core/jobs.py, never a thread)."""

from __future__ import annotations

from changxin.core import jobs
from changxin.notifications import for_demands, services


@jobs.task(retries=0)
def send_message(message_id: int) -> str | None:
    """Send one queued message (enqueued on commit by the subscriber). Failures are recorded on the
    message with a backoff and left to `retry_messages`, so the queue itself does not retry."""
    return services.deliver(message_id)


@jobs.periodic(minute="*")
def retry_messages(now=None) -> int:
    """Every minute: send the queued messages whose (next) attempt is due; returns how many were tried."""
    ids = list(services.due_messages(now).values_list("pk", flat=True)[:500])
    for pk in ids:
        services.deliver(pk, now=now)
    return len(ids)


@jobs.periodic(minute="*/5")
def notify_deadlines(now=None) -> int:
    """Every five minutes: nearly-overdue and overdue notices, once per demand and deadline."""
    return for_demands.notify_deadlines(now)
