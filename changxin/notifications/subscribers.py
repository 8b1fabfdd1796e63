"""The notifications app's subscribers to the demand timeline (autodiscovered by core/events.py).

Both start "now": a new installation does not message anyone about the past. Each handler runs in
one transaction with its receipt (exactly once); it only writes rows — notifications, and queued
messages whose sending is a job enqueued on commit — never talks to a gateway.
"""

from changxin.core import events
from changxin.notifications import for_demands


@events.subscriber("notifications.inbox", stream="demands", actions=for_demands.INBOX_ACTIONS, start="now")
def notify_staff(event) -> None:
    if not for_demands.is_stale(event):
        for_demands.notify_staff(event)


@events.subscriber(
    "notifications.requester", stream="demands", actions=set(for_demands.REQUESTER_ACTIONS), start="now"
)
def message_requester(event) -> None:
    if not for_demands.is_stale(event):
        for_demands.message_requester(event)
