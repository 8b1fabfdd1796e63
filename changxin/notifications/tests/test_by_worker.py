"""The platform's promise, end to end over HTTP: a request stores the demand and its events and
queues work; the inbox notification and the requester's SMS are written by a worker afterwards."""

from __future__ import annotations

import pytest
from django.urls import reverse

from changxin.core import events
from changxin.core.tests.builders import street_and_community
from changxin.demands.models import Demand, State
from changxin.notifications.models import MessageKind, MessageState, Notification, OutboundMessage


def _portal_token(client) -> str:
    """The hidden token the portal's form carries, issued for this browser session."""
    from changxin.station import services

    session = client.session
    token = services.issue_form_token(session)
    session.save()
    return token


@pytest.fixture
def started(demo_world):
    events.catch_up()  # the start="now" subscribers take their place at the (empty) stream's end
    return demo_world


def test_a_dispatched_demand_reaches_the_unit_inbox_and_the_requester_sms_by_a_worker_not_the_request(
    client, started, queued_jobs, django_capture_on_commit_callbacks
):
    users = started
    street, community = street_and_community()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("station:submit"),
            {
                "token": _portal_token(client),
                "demand_type": "complaint",
                "title": "小区路灯不亮",
                "content": "北门的路灯坏了一个星期，晚上很黑。",
                "street": street.pk,
                "community": community.pk,
                "address": "卢沟桥南里北门",
                "requester_name": "韩梅梅",
                "requester_phone": "13912345678",
            },
        )
    assert response.status_code == 302
    demand = Demand.objects.get(title="小区路灯不亮")
    # the request committed the demand and queued its delivery; nothing was sent inside it
    assert not OutboundMessage.objects.exists()
    assert queued_jobs.pending_count() >= 1

    client.force_login(users["dispatcher"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("demands:act", args=[demand.pk, "dispatch"]),
            {"version": demand.version, "lead_unit": users["lugouqiao"].unit_id, "do": "dispatch"},
        )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.state == State.DISPATCHED
    assert not Notification.objects.filter(demand=demand).exists()  # not in the request either

    # the worker's turn: event delivery, then the send job the subscriber queued
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            queued_jobs.drain()
    inbox = Notification.objects.filter(demand=demand, recipient=users["lugouqiao"])
    assert inbox.count() == 1 and demand.number in inbox.get().title + inbox.get().body
    assert not Notification.objects.filter(demand=demand, recipient=users["changxindian"]).exists()
    sms = OutboundMessage.objects.get(demand=demand)
    assert (sms.kind, sms.to, sms.state) == (MessageKind.ACCEPTED, "13912345678", MessageState.SENT)
    assert demand.tracking_code in sms.body
