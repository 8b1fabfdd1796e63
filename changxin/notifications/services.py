"""Every write of the notifications app, and the two functions other apps call:

    notify(users, kind, title, body, url, demand=None, event_id=None)   → the staff inbox
    send_to_requester(demand, kind, subject, text, event_id=None)       → SMS / e-mail, queued

Both are idempotent when given an event id (or a key): delivering the same event twice writes
nothing new. Neither sends anything inside the caller's transaction: messages are queued and a job
sends them after commit (tasks.send_message).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from changxin.core import jobs, roles
from changxin.core.models import User
from changxin.core.scope import can_write, get_visible_or_404, restrict
from changxin.notifications.models import Channel, MessageState, Notification, OutboundMessage
from changxin.notifications.texts import plain, render

log = logging.getLogger(__name__)

# Who in a unit hears about its demands: the people who handle them. Users of parent units are not
# included (a street's leaders would otherwise get every community's and department's messages);
# the person a task is assigned to is added by the caller.
UNIT_RECIPIENT_ROLES = roles.UNIT_STAFF_ROLES


# --- the staff inbox ----------------------------------------------------------------------------


def unit_staff(unit_ids: Iterable[int | None]) -> list[User]:
    """The active officers and leaders whose unit is one of `unit_ids` (not its parents/children)."""
    ids = {pk for pk in unit_ids if pk}
    if not ids:
        return []
    return list(User.objects.filter(unit_id__in=ids, is_active=True, role__in=UNIT_RECIPIENT_ROLES))


def notify(
    users: Iterable[User | int],
    kind: str,
    title,
    body="",
    url: str = "",
    *,
    demand=None,
    event_id: int | None = None,
    key: str = "",
    params: dict | None = None,
    exclude: Iterable[int | None] = (),
) -> int:
    """Put one notification into each user's inbox; returns how many were written now.

    `title`/`body` are texts with named placeholders (gettext_lazy) filled from `params` in the
    platform language, or plain strings. With `event_id` (or `key`, for notifications that are not
    about an event) a repeated call writes nothing for users who already have it. Inactive users and
    the ids in `exclude` (e.g. the actor) are skipped.
    """
    skip = {pk for pk in exclude if pk}
    ids = {getattr(u, "pk", u) for u in users} - skip
    if not ids:
        return 0
    ids = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    if event_id is not None or key:
        done = Notification.objects.filter(recipient_id__in=ids, kind=kind)
        done = done.filter(event_id=event_id) if event_id is not None else done.filter(demand=demand, key=key)
        ids -= set(done.values_list("recipient_id", flat=True))
    if not ids:
        return 0
    params = plain(params)
    rendered_title, rendered_body = render(title, params)[:200], render(body, params)
    rows = [
        Notification(
            recipient_id=pk,
            kind=kind,
            demand=demand,
            title=rendered_title,
            body=rendered_body,
            url=url,
            params=params,
            event_id=event_id,
            key=key,
        )
        for pk in sorted(ids)
    ]
    # a concurrent delivery of the same event loses quietly on the unique constraints
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def demand_url(demand) -> str:
    return reverse("demands:detail", args=[getattr(demand, "pk", demand)])


def inbox_for(user: User) -> QuerySet[Notification]:
    """The user's own notifications, unread first, newest first (scoped: never anyone else's)."""
    own = (
        Notification.objects.filter(recipient=user) if user.is_authenticated else Notification.objects.none()
    )
    return restrict(own, user).order_by(
        ExpressionWrapper(Q(read_at__isnull=False), output_field=BooleanField()), "-created_at", "-id"
    )


def unread_count(user: User) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return inbox_for(user).filter(read_at__isnull=True).count()


def open_notification(user: User, pk: int) -> Notification:
    """The user's notification `pk` (404 for anyone else's), marked read unless the user is read-only."""
    item = get_visible_or_404(inbox_for(user), user, pk=pk)
    if item.read_at is None and can_write(user):
        item.read_at = timezone.now()
        item.save(update_fields=["read_at"])
    return item


def mark_all_read(user: User) -> int:
    if not can_write(user):
        return 0
    return inbox_for(user).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- messages to requesters ---------------------------------------------------------------------


def public_url(path: str) -> str:
    return settings.CHANGXIN_PUBLIC_URL.rstrip("/") + path


def tracking_url(demand) -> str:
    return public_url(reverse("station:track-status", args=[demand.tracking_code]))


def requester_addresses(demand) -> list[tuple[str, str]]:
    """(channel, address) pairs the requester can be reached at: SMS to the phone they gave, e-mail
    to their account's address. Anonymous demands have none."""
    if demand.requester_kind == "anonymous":
        return []
    found = []
    if demand.requester_phone:
        found.append((Channel.SMS, demand.requester_phone))
    account = demand.requester_user
    if account is not None and account.is_active and account.email:
        found.append((Channel.EMAIL, account.email))
    return found


def queue_message(
    channel: str,
    to: str,
    kind: str,
    body: str,
    *,
    subject: str = "",
    demand=None,
    event_id: int | None = None,
) -> OutboundMessage | None:
    """Write one queued message and send it after commit. None when this event already queued it."""
    if (
        event_id is not None
        and OutboundMessage.objects.filter(event_id=event_id, kind=kind, channel=channel).exists()
    ):
        return None
    message = OutboundMessage.objects.create(
        channel=channel,
        to=to,
        kind=kind,
        subject=subject[:200],
        body=body,
        demand=demand,
        event_id=event_id,
        next_attempt_at=timezone.now(),
    )
    from changxin.notifications.tasks import send_message

    jobs.enqueue_on_commit(send_message, message.pk)
    return message


def send_to_requester(
    demand, kind: str, subject, text, *, params: dict | None = None, event_id: int | None = None
) -> list[OutboundMessage]:
    """Queue `text` (rendered with `params` in the platform language) to every address the
    requester gave; nothing for anonymous demands. Returns the messages queued now."""
    addresses = requester_addresses(demand)
    if not addresses:
        return []
    subject, body = render(subject, params), render(text, params)
    queued = []
    for channel, to in addresses:
        message = queue_message(
            channel, to, kind, body, subject=subject if channel == Channel.EMAIL else "",
            demand=demand, event_id=event_id,
        )  # fmt: skip
        if message is not None:
            queued.append(message)
    return queued


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try: 1, 2, 4, 8… minutes, at most an hour."""
    return min(dt.timedelta(minutes=2 ** max(0, attempts - 1)), dt.timedelta(hours=1))


def deliver(message_id: int, now: dt.datetime | None = None) -> str | None:
    """Send one due queued message through the backend and record the outcome; returns the new
    state, or None when the message was not due (already sent, failed, or waiting for its retry)."""
    from changxin.notifications.backends import get_backend

    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update()
            .filter(pk=message_id, state=MessageState.QUEUED, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        try:
            with transaction.atomic():
                get_backend().send(message)
        except Exception as exc:  # noqa: BLE001 — any gateway failure is recorded and retried
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.CHANGXIN_MESSAGE_MAX_ATTEMPTS:
                message.state, message.next_attempt_at = MessageState.FAILED, None
                log.warning("message %s to %s failed for good: %s", message.pk, message.masked_to, exc)
            else:
                message.next_attempt_at = now + backoff(message.attempts)
        else:
            message.state, message.sent_at, message.next_attempt_at = MessageState.SENT, now, None
        message.save(update_fields=["attempts", "last_error", "state", "next_attempt_at", "sent_at"])
    return message.state


def due_messages(now: dt.datetime | None = None) -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.filter(
        state=MessageState.QUEUED, next_attempt_at__lte=now or timezone.now()
    ).order_by("next_attempt_at", "pk")


def retry(message: OutboundMessage) -> None:
    """Queue a failed message again (an administrator's decision after fixing the gateway)."""
    OutboundMessage.objects.filter(pk=message.pk, state=MessageState.FAILED).update(
        state=MessageState.QUEUED, attempts=0, next_attempt_at=timezone.now()
    )
    from changxin.notifications.tasks import send_message

    jobs.enqueue_on_commit(send_message, message.pk)
