"""Published events: after commit, every event of a stream reaches the subscribers apps register.

A *stream* is an append-only event table with an integer id, an `action` and the time `at`
(the demand timeline, `demands.DemandEvent`, is the first). An app declares its streams on its
AppConfig (`event_streams = {"demands": "demands.DemandEvent"}`) and publishes each new event with
`publish(stream, event)` inside the transaction that wrote it; delivery is queued as a background
job when the transaction commits (core/tasks.py), never run inside the request.

A *subscriber* is a function of one event, registered in the app's `subscribers.py`:

    from changxin.core import events

    @events.subscriber("notifications.inbox", stream="demands", actions={"dispatch"}, start="now")
    def notify_unit(event): ...

Guarantees:
- exactly once per subscriber and event: the handler runs in a transaction together with an
  EventReceipt row whose unique key (subscriber, stream, event id) refuses a second delivery;
  a handler that raises leaves nothing behind (receipt included) and is retried;
- nothing is missed: `catch_up()` (a periodic job) hands each subscriber every event after its
  cursor that has no receipt — events written without publishing (the historical import), events
  whose delivery job was lost in a crash, deliveries that failed. The cursor moves past an event
  id only once it was seen a grace period ago, so a transaction that commits late is not skipped.
- `start="beginning"` (default) makes a new subscriber catch up on the whole history (a points
  ledger must count imported years); `start="now"` starts at the stream's end (notifications must
  not message people about last year's demands).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger(__name__)

GRACE = dt.timedelta(minutes=5)
BATCH = 500


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: Callable
    stream: str
    actions: frozenset[str] | None = None
    start: str = "beginning"

    def wants(self, event) -> bool:
        return self.actions is None or event.action in self.actions


_registry: dict[str, Subscriber] = {}
_discovered = False


def subscriber(
    name: str, *, stream: str, actions: Iterable[str] | None = None, start: str = "beginning"
) -> Callable:
    """Register the decorated function as subscriber `name` (unique, stable: the cursor is keyed on it)."""
    if start not in ("beginning", "now"):
        raise ValueError("start must be 'beginning' or 'now'")

    def register(handler: Callable) -> Callable:
        existing = _registry.get(name)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"event subscriber {name!r} is registered twice")
        _registry[name] = Subscriber(name, handler, stream, frozenset(actions) if actions else None, start)
        return handler

    return register


def unsubscribe(name: str) -> None:
    _registry.pop(name, None)


@contextlib.contextmanager
def subscribed(name: str, handler: Callable, **options):
    """Register a subscriber for the duration of a block (tests)."""
    subscriber(name, **options)(handler)
    try:
        yield _registry[name]
    finally:
        unsubscribe(name)


def subscribers(stream: str | None = None) -> list[Subscriber]:
    global _discovered
    if not _discovered:
        autodiscover_modules("subscribers")
        _discovered = True
    return [s for s in _registry.values() if stream is None or s.stream == stream]


def stream_model(stream: str) -> type[models.Model]:
    for config in apps.get_app_configs():
        label = getattr(config, "event_streams", {}).get(stream)
        if label:
            return apps.get_model(label)
    raise LookupError(f"no app declares the event stream {stream!r}")


# --- publishing ------------------------------------------------------------------------------


def publish(stream: str, event) -> None:
    """Queue delivery of `event` to the stream's subscribers once the current transaction commits."""
    from changxin.core import jobs
    from changxin.core.tasks import deliver_event

    # a failing enqueue is logged, never fails the request; catch-up delivers the event later
    jobs.enqueue_on_commit(deliver_event, stream, event.pk)


# --- delivery --------------------------------------------------------------------------------


def _handle(sub: Subscriber, event) -> bool:
    """Run one subscriber on one event with its receipt, atomically. False if it was handled before."""
    from changxin.core.models import EventReceipt

    with transaction.atomic():
        try:
            with transaction.atomic():
                EventReceipt.objects.create(subscriber=sub.name, stream=sub.stream, event_id=event.pk)
        except IntegrityError:
            return False
        sub.handler(event)
    return True


def deliver(stream: str, event_id: int) -> int:
    """Hand one event to every subscriber of its stream that wants it. Returns how many handled it
    now. A subscriber that fails is logged and left to the retry and to catch-up; the others still
    get the event. Raises at the end if any failed, so the job queue retries the delivery."""
    event = stream_model(stream)._base_manager.filter(pk=event_id).first()
    if event is None:
        return 0
    handled, failed = 0, []
    for sub in subscribers(stream):
        if not sub.wants(event) or _cursor_passed(sub, event_id):
            continue
        try:
            handled += _handle(sub, event)
        except Exception:  # noqa: BLE001 — one subscriber's failure must not starve the others
            log.exception("subscriber %s failed on %s event %s", sub.name, stream, event_id)
            failed.append(sub.name)
    if failed:
        raise DeliveryFailed(stream, event_id, failed)
    return handled


class DeliveryFailed(Exception):
    def __init__(self, stream: str, event_id: int, names: list[str]):
        super().__init__(f"{stream} event {event_id}: subscribers failed: {', '.join(names)}")
        self.names = names


def _cursor(sub: Subscriber):
    from changxin.core.models import EventCursor

    cursor = EventCursor.objects.filter(subscriber=sub.name).first()
    if cursor is None:
        position = 0
        if sub.start == "now":
            position = stream_model(sub.stream)._base_manager.aggregate(m=models.Max("pk"))["m"] or 0
        cursor, _ = EventCursor.objects.get_or_create(
            subscriber=sub.name, defaults={"stream": sub.stream, "position": position}
        )
    return cursor


def _cursor_passed(sub: Subscriber, event_id: int) -> bool:
    """True when catch-up already moved this subscriber's cursor past the event (its receipt is gone)."""
    from changxin.core.models import EventCursor

    position = EventCursor.objects.filter(subscriber=sub.name).values_list("position", flat=True).first()
    return position is not None and event_id <= position


def _pending(sub: Subscriber, position: int, upto: int | None = None):
    from changxin.core.models import EventReceipt

    events = stream_model(sub.stream)._base_manager.filter(pk__gt=position)
    if upto is not None:
        events = events.filter(pk__lte=upto)
    if sub.actions is not None:
        events = events.filter(action__in=sub.actions)
    done = EventReceipt.objects.filter(subscriber=sub.name, stream=sub.stream, event_id__gt=position)
    return events.exclude(pk__in=done.values("event_id")).order_by("pk")


def catch_up(now: dt.datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    """Hand every subscriber what it has not handled yet; move cursors; drop receipts behind them.
    Returns {subscriber: events handled now}. Safe to run concurrently and repeatedly."""
    from changxin.core.models import EventCursor, EventReceipt

    now = now or timezone.now()
    result: dict[str, int] = {}
    for sub in subscribers():
        cursor = _cursor(sub)
        handled = 0
        while True:
            chunk = list(_pending(sub, cursor.position)[:batch])
            for event in chunk:
                try:
                    handled += _handle(sub, event)
                except Exception:  # noqa: BLE001
                    log.exception("subscriber %s failed on %s event %s", sub.name, sub.stream, event.pk)
                    chunk = []  # keep the order: stop here, retry on the next run
                    break
            if len(chunk) < batch:
                break
        result[sub.name] = handled
        with transaction.atomic():
            cursor = EventCursor.objects.select_for_update().get(pk=cursor.pk)
            if (
                cursor.candidate is not None
                and cursor.candidate_seen_at <= now - GRACE
                and not _pending(sub, cursor.position, upto=cursor.candidate).exists()
            ):
                cursor.position = max(cursor.position, cursor.candidate)
                cursor.candidate = cursor.candidate_seen_at = None
                EventReceipt.objects.filter(
                    subscriber=sub.name, stream=sub.stream, event_id__lte=cursor.position
                ).delete()
            if cursor.candidate is None:
                newest = stream_model(sub.stream)._base_manager.aggregate(m=models.Max("pk"))["m"] or 0
                if newest > cursor.position:
                    cursor.candidate, cursor.candidate_seen_at = newest, now
            cursor.save()
    return result
