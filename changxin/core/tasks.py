"""Platform jobs: delivering published events, and catching up on what was missed."""

from changxin.core import events, jobs


@jobs.task(retries=5, retry_delay=30)
def deliver_event(stream: str, event_id: int) -> int:
    """Hand one event to its stream's subscribers (queued after the commit that wrote it)."""
    return events.deliver(stream, event_id)


@jobs.periodic(minute="*")
def catch_up_events() -> dict:
    """Every minute: subscribers get whatever they missed (imports, crashes, failed deliveries)."""
    return events.catch_up()
