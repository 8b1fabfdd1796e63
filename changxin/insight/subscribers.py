"""Insight's event subscribers (autodiscovered by core.events)."""

from django.utils import timezone

from changxin.core import events, jobs
from changxin.demands.selectors import unscoped_demands


@events.subscriber("insight.daily_counts", stream="demands")  # start="beginning": history counts too
def mark_aggregates(event) -> None:
    """Any change to a demand may change its received day's counts and the live 三率: mark them,
    and queue one refresh when something was newly marked."""
    from changxin.insight import aggregates, tasks

    received = unscoped_demands().filter(pk=event.demand_id).values_list("received_at", flat=True).first()
    days = [timezone.localtime(received).date()] if received else []
    if aggregates.mark_dirty(days):
        jobs.enqueue_on_commit(tasks.refresh_aggregates)
