"""Published events: every event of a demand reaches a subscriber exactly once, after commit, and
catch-up hands it whatever a crash or the historical import kept from it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core import events
from changxin.core.models import EventCursor, EventReceipt
from changxin.core.tests.builders import local
from changxin.demands import events as payloads
from changxin.demands.models import DemandEvent
from changxin.demands.services import transition
from changxin.demands.workflow import WorkflowError

MON = local(2026, 11, 23, 10, 0)


@pytest.fixture(autouse=True)
def only_the_test_subscribers(monkeypatch):
    """These tests are about the delivery mechanism: the apps' own subscribers (notifications…)
    are set aside so that results and receipts are the test subscribers' alone."""
    events.subscribers()  # discover the apps' subscriber modules first, so they are not re-added
    monkeypatch.setattr(events, "_registry", {})


class Recorder:
    def __init__(self, fail_on=()):
        self.seen: list[int] = []
        self.fail_on = set(fail_on)

    def __call__(self, event):
        if event.action in self.fail_on:
            raise RuntimeError(f"simulated crash on {event.action}")
        payloads.read(event)  # every stored payload parses into its declared type
        self.seen.append(event.pk)


def whole_workflow(world):
    """Intake → dispatch → extension → whistle → reply → return visit → archive."""
    d = world.demand(received_at=MON)
    d = transition(d, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=MON)
    d = transition(d, "acknowledge", world.officer_lgq)
    d = transition(d, "contact", world.officer_lgq, note="已联系")
    d = transition(d, "request_extension", world.officer_lgq, days=3, note="需协调")
    d = transition(d, "approve_extension", world.dispatcher)
    d = transition(d, "whistle", world.officer_lgq, units=[world.department.pk], note="请城管到场")
    task = d.tasks.get(unit=world.department)
    d = transition(d, "task_acknowledge", world.officer_dept, task=task.pk)
    d = transition(d, "task_complete", world.officer_dept, task=task.pk, note="已清理")
    d = transition(d, "start", world.officer_lgq)
    d = transition(d, "reply", world.officer_lgq, note="已处理完毕")
    d = transition(d, "return_visit", world.dispatcher, resolution="resolved", satisfaction="satisfied")
    return transition(d, "archive", world.dispatcher)


def test_a_subscriber_receives_every_event_of_the_whole_workflow_exactly_once(
    world, django_capture_on_commit_callbacks
):
    recorder = Recorder()
    with events.subscribed("test.recorder", recorder, stream="demands"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            demand = whole_workflow(world)
        expected = list(demand.events.order_by("pk").values_list("pk", flat=True))
        assert len(expected) == 13 and len(callbacks) >= len(expected)
        assert recorder.seen == expected
        # delivered again (a retried job, a second worker) and caught up: still once each
        for pk in expected:
            events.deliver("demands", pk)
        assert events.catch_up() == {"test.recorder": 0}
        assert recorder.seen == expected
        assert EventReceipt.objects.filter(subscriber="test.recorder").count() == len(expected)


def test_nothing_is_published_before_commit_or_after_a_rollback(world, django_capture_on_commit_callbacks):
    recorder = Recorder()
    with events.subscribed("test.recorder", recorder, stream="demands"):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            world.demand(received_at=MON)
        assert recorder.seen == [] and len(callbacks) >= 1  # queued for after commit only
        with pytest.raises(WorkflowError):
            transition(world.demand(), "dispatch", world.dispatcher, lead_unit=None)  # refused: rolled back
        assert DemandEvent.objects.filter(action="dispatch").count() == 0


def test_after_a_crash_catch_up_delivers_what_was_missed_once(world, django_capture_on_commit_callbacks):
    crashing = Recorder(fail_on={"contact", "reply"})
    with events.subscribed("test.recorder", crashing, stream="demands"):
        with django_capture_on_commit_callbacks(execute=True):
            demand = whole_workflow(world)
        expected = list(demand.events.order_by("pk").values_list("pk", flat=True))
        missed = set(demand.events.filter(action__in=["contact", "reply"]).values_list("pk", flat=True))
        assert set(crashing.seen) == set(expected) - missed
        assert not EventReceipt.objects.filter(event_id__in=missed).exists()  # rolled back with the handler

        crashing.fail_on.clear()  # the subscriber is repaired (or the worker restarted)
        assert events.catch_up() == {"test.recorder": 2}
        assert sorted(crashing.seen) == expected
        assert events.catch_up() == {"test.recorder": 0}


def test_catch_up_hands_imported_history_to_a_subscriber_that_starts_at_the_beginning(world):
    # events written without publishing, as the historical import writes them
    demand = world.demand(received_at=MON)  # on_commit never runs here: nothing delivered
    history = Recorder()
    fresh = Recorder()
    with (
        events.subscribed("test.history", history, stream="demands"),
        events.subscribed("test.fresh", fresh, stream="demands", start="now"),
    ):
        assert events.catch_up()["test.history"] == demand.events.count()
        assert fresh.seen == []  # a start="now" subscriber does not replay the past
        later = transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=MON)
        events.catch_up()
        assert fresh.seen == [later.events.get(action="dispatch").pk]


def test_an_action_filter_limits_what_a_subscriber_gets(world, django_capture_on_commit_callbacks):
    recorder = Recorder()
    with events.subscribed("test.dispatch", recorder, stream="demands", actions={"dispatch"}):
        with django_capture_on_commit_callbacks(execute=True):
            demand = whole_workflow(world)
        assert recorder.seen == [demand.events.get(action="dispatch").pk]
        assert events.catch_up() == {"test.dispatch": 0}


def test_the_cursor_moves_only_after_the_grace_period_and_never_past_an_unhandled_event(world):
    recorder = Recorder()
    with events.subscribed("test.recorder", recorder, stream="demands"):
        demand = world.demand(received_at=MON)
        now = timezone.now()
        events.catch_up(now=now)
        cursor = EventCursor.objects.get(subscriber="test.recorder")
        newest = demand.events.order_by("-pk").first().pk
        assert (cursor.position, cursor.candidate) == (0, newest)  # seen, not yet trusted

        # an event with an id below the candidate shows up late and is not handled yet: the cursor
        # must wait for it (simulated by removing its receipt and failing its handler once)
        EventReceipt.objects.filter(subscriber="test.recorder", event_id=newest).delete()
        recorder.fail_on.add("receive")
        events.catch_up(now=now + dt.timedelta(minutes=10))
        cursor.refresh_from_db()
        assert cursor.position == 0

        recorder.fail_on.clear()
        events.catch_up(now=now + dt.timedelta(minutes=20))
        cursor.refresh_from_db()
        assert cursor.position == newest
        assert not EventReceipt.objects.filter(subscriber="test.recorder", event_id__lte=newest).exists()
        # behind the cursor: a stray redelivery is ignored, not handled twice
        before = list(recorder.seen)
        assert events.deliver("demands", newest) == 0
        assert recorder.seen == before


def test_payload_builders_cover_every_action_of_the_table():
    from changxin.demands.workflow import TRANSITIONS

    assert set(TRANSITIONS) | {"receive"} == set(payloads.PAYLOADS)
