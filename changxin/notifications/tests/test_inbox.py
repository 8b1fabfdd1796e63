"""The staff inbox: who is told what, the screens, reading, scoping and the query budget."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changxin.core import events
from changxin.core.models import Role, User
from changxin.demands.models import TaskRole
from changxin.demands.services import transition
from changxin.notifications import services
from changxin.notifications.models import Notification, NotificationKind

INBOX = "/notifications/"


def dispatched(world, settle, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        demand = world.demand()
        demand = transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, **kwargs)
    settle()
    return demand


def test_a_dispatched_demand_reaches_the_lead_and_co_units_inboxes_only(
    world, settle, django_capture_on_commit_callbacks, client
):
    demand = dispatched(world, settle, django_capture_on_commit_callbacks, co_units=[world.changxindian.pk])
    lead = Notification.objects.get(recipient=world.officer_lgq)
    assert (lead.kind, lead.demand, lead.url) == (
        NotificationKind.DISPATCHED,
        demand,
        f"/demands/{demand.pk}/",
    )
    assert demand.number in lead.title and "卢沟桥街道" in lead.title  # rendered in Chinese
    co = Notification.objects.get(recipient=world.officer_cxd)
    assert "协办" in co.title
    assert not Notification.objects.filter(recipient__in=[world.officer_dept, world.dispatcher]).exists()

    client.force_login(world.officer_lgq)
    page = client.get(INBOX).content.decode()
    assert demand.number in page and "1 条未读通知" in page
    client.force_login(world.officer_dept)
    assert demand.number not in client.get(INBOX).content.decode()

    # delivered again (a retried job, catch-up): nothing twice
    for event in demand.events.all():
        events.deliver("demands", event.pk)
    events.catch_up()
    assert Notification.objects.count() == 2


def test_assignment_whistle_dispute_supervision_and_extension_reach_the_right_people(
    world, settle, django_capture_on_commit_callbacks
):
    colleague = User.objects.create_user("lgq2", password="x", role=Role.OFFICER, unit=world.lugouqiao)
    demand = dispatched(world, settle, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        transition(demand, "assign", world.officer_lgq, assignee=colleague.pk)
        transition(demand, "acknowledge", world.officer_lgq)
        transition(demand, "whistle", world.officer_lgq, units=[world.department.pk], note="请到场")
        transition(demand, "supervise", world.dispatcher, kind="finish", note="请加快办理")
        transition(demand, "request_extension", world.officer_lgq, days=3, note="需协调")
        transition(demand, "approve_extension", world.dispatcher, note="同意")
    settle()

    def kinds(user):
        return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))

    K = NotificationKind
    # the actor is never told about their own step (officer_lgq assigned and whistled)
    assert kinds(world.officer_lgq) == sorted([K.DISPATCHED, K.SUPERVISED, K.EXTENSION_APPROVED])
    assert kinds(colleague) == sorted([K.DISPATCHED, K.ASSIGNED, K.SUPERVISED, K.EXTENSION_APPROVED])
    called = Notification.objects.get(recipient=world.officer_dept)
    assert called.kind == K.CALLED_IN and "卢沟桥街道" in called.title
    assert kinds(world.officer_cxd) == []
    assert demand.tasks.filter(role=TaskRole.WHISTLE).exists()


def test_dispute_decisions_reach_the_disputing_unit(world, settle, django_capture_on_commit_callbacks):
    K = NotificationKind
    first = dispatched(world, settle, django_capture_on_commit_callbacks)
    second = dispatched(world, settle, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        transition(first, "dispute", world.officer_lgq, reason="wrong_place", note="不属于本街道")
        transition(first, "redispatch", world.dispatcher, lead_unit=world.changxindian.pk, note="改派")
        transition(second, "dispute", world.officer_lgq, reason="wrong_place", note="不属于本街道")
        transition(second, "reject_dispute", world.dispatcher, note="属于本街道")
    settle()
    upheld = Notification.objects.get(recipient=world.officer_lgq, kind=K.DISPUTE_UPHELD)
    assert upheld.demand == first and "长辛店街道" in upheld.title
    rejected = Notification.objects.get(recipient=world.officer_lgq, kind=K.DISPUTE_REJECTED)
    assert rejected.demand == second
    # the new lead unit got the demand
    assert Notification.objects.filter(recipient=world.officer_cxd, kind=K.DISPATCHED, demand=first).exists()


def test_reading_one_lowers_the_unread_count_and_mark_all_reads_the_rest(world, client):
    officer = world.officer_lgq
    for i in range(3):
        services.notify([officer], "test", f"通知 {i}", url=f"/demands/{i}/")
    client.force_login(officer)
    assert services.unread_count(officer) == 3
    assert re.search(r'id="nav-notifications-badge"[^>]*>3<', client.get(INBOX).content.decode())

    first = Notification.objects.filter(recipient=officer).first()
    response = client.post(reverse("notifications:open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == first.url
    assert services.unread_count(officer) == 2
    assert client.get(reverse("notifications:open", args=[first.pk])).status_code == 405  # POST only

    response = client.post(reverse("notifications:read-all"))
    assert response.status_code == 302
    assert services.unread_count(officer) == 0
    assert 'id="nav-notifications-badge"' not in client.get(INBOX).content.decode()


def test_another_user_cannot_open_or_read_someone_elses_notification(world, client):
    services.notify([world.officer_lgq], "test", "卢沟桥的通知")
    item = Notification.objects.get()
    for user in (world.officer_cxd, world.dispatcher):  # a peer, and a district role
        client.force_login(user)
        assert client.post(reverse("notifications:open", args=[item.pk])).status_code == 404
        client.post(reverse("notifications:read-all"))
        assert "卢沟桥的通知" not in client.get(INBOX).content.decode()
    item.refresh_from_db()
    assert item.read_at is None


def test_a_read_only_leadership_account_changes_nothing(world, client):
    services.notify([world.leadership], "test", "给领导的通知", url="/demands/")
    item = Notification.objects.get()
    client.force_login(world.leadership)
    assert "给领导的通知" in client.get(INBOX).content.decode()
    assert client.post(reverse("notifications:read-all")).status_code == 403
    assert client.post(reverse("notifications:open", args=[item.pk])).status_code == 302  # still follows
    item.refresh_from_db()
    assert item.read_at is None


def test_unread_come_first_and_the_inbox_pages(world, client):
    officer = world.officer_lgq
    for i in range(25):
        services.notify([officer], "test", f"第{i:02d}条")
    services.open_notification(officer, Notification.objects.get(title="第24条").pk)  # the newest, read
    client.force_login(officer)
    page1 = client.get(INBOX).content.decode()
    assert page1.index("第23条") < page1.index("第04条")  # newest unread first
    assert "第24条" not in page1 and "第03条" not in page1  # 20 a page
    page2 = client.get(INBOX + "?page=2").content.decode()
    assert page2.index("第03条") < page2.index("第00条") < page2.index("第24条")  # read ones last


def test_query_count_does_not_grow_with_rows(world, client):
    officer = world.officer_lgq
    client.force_login(officer)
    counts = []
    for total in (5, 25):
        Notification.objects.all().delete()
        for i in range(total):
            services.notify([officer], "test", f"通知 {i}", body="正文", url="/demands/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(INBOX).status_code == 200
        counts.append(len(queries))
    # 9: session, user, unit, the viewer's subtree unit ids (core/scope.py, once per request), the
    # navigation's checks and badges, the page
    assert counts[0] == counts[1] <= 9, counts


def test_notify_is_idempotent_per_event_and_skips_inactive_users(world):
    world.officer_cxd.is_active = False
    world.officer_cxd.save()
    users = [world.officer_lgq, world.officer_cxd]
    assert services.notify(users, "test", "一次", event_id=42) == 1
    assert services.notify(users, "test", "一次", event_id=42) == 0
    assert services.notify(users, "other", "另一种", event_id=42) == 1
    assert Notification.objects.count() == 2
