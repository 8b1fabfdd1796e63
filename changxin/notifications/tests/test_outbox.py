"""Messages to requesters: queued by the subscriber (never by the request), sent by a job through
the configured backend, retried with backoff, failed after the maximum, visible in the admin."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from changxin.core import events
from changxin.core.models import Role, User
from changxin.demands.services import transition
from changxin.notifications import services, tasks
from changxin.notifications.models import Channel, MessageKind, MessageState, OutboundMessage


class FlakyGateway:
    """A test backend: fails while `failures` is positive, then delivers (class-level, as the
    setting names a class)."""

    failures = 0
    sent: list[int] = []

    def send(self, message):
        if FlakyGateway.failures > 0:
            FlakyGateway.failures -= 1
            raise ConnectionError("gateway unreachable")
        FlakyGateway.sent.append(message.pk)


def test_intake_queues_the_accepted_sms_through_the_subscriber_not_in_the_request(
    world, django_capture_on_commit_callbacks, settle
):
    events.catch_up()  # the start="now" subscribers take their place at the stream's end
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        demand = world.demand()
    assert callbacks  # delivery is queued for after the commit…
    assert not OutboundMessage.objects.exists()  # …and create_demand itself wrote no message

    events.catch_up()  # what the delivery job / catch-up does after the commit
    message = OutboundMessage.objects.get()
    assert (message.channel, message.to, message.kind) == (Channel.SMS, "13800000001", MessageKind.ACCEPTED)
    assert message.state == MessageState.QUEUED and message.event_id == demand.events.get(action="receive").pk
    assert "您的诉求已受理" in message.body and demand.number in message.body
    assert demand.tracking_code in message.body
    assert f"/station/track/{demand.tracking_code}/" in message.body

    assert tasks.send_message(message.pk) == MessageState.SENT  # the job the subscriber enqueued
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.SENT, 1) and message.sent_at
    assert tasks.send_message(message.pk) is None  # sent once only
    events.catch_up()
    assert OutboundMessage.objects.count() == 1


def test_a_reply_sends_the_rating_link_by_sms_and_email(world, django_capture_on_commit_callbacks, settle):
    world.citizen.email = "han.mei@example.com"
    world.citizen.save()
    with django_capture_on_commit_callbacks(execute=True):
        demand = world.demand(actor=world.citizen)
        demand = transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk)
        transition(demand, "acknowledge", world.officer_lgq)
        transition(demand, "contact", world.officer_lgq, note="已联系")
        transition(demand, "reply", world.officer_lgq, note="已处理完毕")
    settle()
    replied = OutboundMessage.objects.filter(kind=MessageKind.REPLIED)
    assert sorted(replied.values_list("channel", "to")) == [
        (Channel.EMAIL, "han.mei@example.com"),
        (Channel.SMS, "13800000001"),
    ]
    for message in replied:
        assert "请对办理情况进行评价" in message.body
        assert f"http://localhost:8000/station/track/{demand.tracking_code}/" in message.body
    assert replied.get(channel=Channel.EMAIL).subject == f"您的诉求 {demand.number} 已答复"
    assert OutboundMessage.objects.filter(kind=MessageKind.ACCEPTED).count() == 2


def test_an_anonymous_demand_gets_no_message(world, django_capture_on_commit_callbacks, settle):
    with django_capture_on_commit_callbacks(execute=True):
        world.demand(requester_kind="anonymous")
        world.demand(requester_phone="", requester_name="")
    settle()
    events.catch_up()
    assert not OutboundMessage.objects.exists()


def test_a_failing_gateway_is_retried_with_backoff_then_fails_visibly(world, settings, client):
    settings.CHANGXIN_MESSAGE_BACKEND = f"{__name__}.FlakyGateway"
    settings.CHANGXIN_MESSAGE_MAX_ATTEMPTS = 3
    FlakyGateway.failures, FlakyGateway.sent = 1, []
    demand = world.demand()
    recovers = services.queue_message(Channel.SMS, "13800000001", "accepted", "第一条", demand=demand)
    now = timezone.now()

    assert tasks.send_message(recovers.pk) == MessageState.QUEUED
    recovers.refresh_from_db()
    assert recovers.attempts == 1 and "gateway unreachable" in recovers.last_error
    assert recovers.next_attempt_at > now
    assert tasks.retry_messages(now=now) == 0  # not due yet
    assert tasks.retry_messages(now=recovers.next_attempt_at) == 1
    recovers.refresh_from_db()
    assert (recovers.state, recovers.attempts) == (MessageState.SENT, 2) and FlakyGateway.sent == [
        recovers.pk
    ]

    FlakyGateway.failures = 99
    broken = services.queue_message(Channel.SMS, "13912345678", "replied", "第二条", demand=demand)
    later = now
    tasks.send_message(broken.pk)
    for _ in range(5):
        later += dt.timedelta(hours=2)
        tasks.retry_messages(now=later)
    broken.refresh_from_db()
    assert (broken.state, broken.attempts, broken.next_attempt_at) == (MessageState.FAILED, 3, None)

    admin = User.objects.create_user("districtadmin", password="x", role=Role.ADMIN, unit=world.district)
    client.force_login(admin)
    page = client.get("/admin/notifications/outboundmessage/?state__exact=failed").content.decode()
    assert "139****5678" in page and "13912345678" not in page  # visible, masked
    assert "138****0001" not in page  # the filter by state works
    detail = client.get(f"/admin/notifications/outboundmessage/{broken.pk}/change/").content.decode()
    assert "139****5678" in detail and "13912345678" not in detail and "gateway unreachable" in detail
    assert client.post(f"/admin/notifications/outboundmessage/{broken.pk}/delete/").status_code == 403

    # an administrator queues it again once the gateway works
    FlakyGateway.failures = 0
    client.post(
        "/admin/notifications/outboundmessage/",
        {"action": "send_again", "_selected_action": [broken.pk]},
    )
    tasks.retry_messages()
    broken.refresh_from_db()
    assert broken.state == MessageState.SENT


def test_unit_staff_cannot_see_the_outbox(world, client):
    services.queue_message(Channel.SMS, "13800000001", "accepted", "正文")
    client.force_login(world.officer_lgq)
    assert client.get("/admin/notifications/outboundmessage/").status_code == 403


def test_the_default_backends_log_masked_addresses(world, caplog, settings):
    message = services.queue_message(Channel.SMS, "13800000001", "accepted", "正文")
    with caplog.at_level("INFO", logger="changxin.notifications.outbox"):
        assert services.deliver(message.pk) == MessageState.SENT
        settings.CHANGXIN_MESSAGE_BACKEND = "changxin.notifications.backends.LogBackend"
        other = services.queue_message(Channel.EMAIL, "zhang.wei@example.com", "accepted", "正文二")
        assert services.deliver(other.pk) == MessageState.SENT
    assert "138****0001" in caplog.text and "z********@example.com" in caplog.text
    assert "13800000001" not in caplog.text and "zhang.wei@" not in caplog.text
