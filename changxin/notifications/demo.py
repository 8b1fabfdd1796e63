"""Demo notifications.

The subscribers start "now" and ignore events older than a few days (for_demands.STALE_AFTER), so
the demand demo's backdated history would otherwise leave the inboxes empty — or, when the demo
events are delivered live, fill them only with whatever the delivery happened to reach. Decision:
this hook (run after the demand demo, INSTALLED_APPS order) hands the demo's recent events
(those within STALE_AFTER) to the same handlers the subscribers call, then runs the deadline scan.
Every write is idempotent on the event id / deadline key, so a live delivery of the same events
(inline jobs, or a worker) and running the demo again write nothing twice.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from changxin.demands.models import DemandEvent
from changxin.notifications import for_demands


def deliver_recent(now=None) -> tuple[int, int]:
    """Notifications and requester messages for the events of the last STALE_AFTER."""
    now = now or timezone.now()
    since = now - for_demands.STALE_AFTER
    actions = set(for_demands.INBOX_ACTIONS) | set(for_demands.REQUESTER_ACTIONS)
    notified = messaged = 0
    for event in DemandEvent.objects.filter(at__gte=since, action__in=actions).order_by("pk").iterator():
        with transaction.atomic():
            if event.action in for_demands.INBOX_ACTIONS:
                notified += for_demands.notify_staff(event)
            else:
                messaged += for_demands.message_requester(event)
    return notified, messaged


def load_demo(stdout=None, now=None) -> None:
    notified, messaged = deliver_recent(now)
    deadlines = for_demands.notify_deadlines(now)
    if stdout is not None:
        stdout.write(
            f"demo notifications: {notified} from recent steps, {deadlines} deadline notices, "
            f"{messaged} requester messages queued"
        )
