"""Nearly-overdue and overdue notices: a periodic scan, once per demand, deadline and kind."""

from __future__ import annotations

import datetime as dt

from changxin.core.models import Role, User
from changxin.demands import deadlines
from changxin.demands.models import Demand
from changxin.demands.services import transition
from changxin.notifications import tasks
from changxin.notifications.models import Notification, NotificationKind

K = NotificationKind


def test_nearly_overdue_and_overdue_are_told_once_per_demand_and_deadline(world):
    assignee = User.objects.create_user("lgq2", password="x", role=Role.OFFICER, unit=world.lugouqiao)
    demand = transition(world.demand(), "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk)
    transition(demand, "assign", world.officer_lgq, assignee=assignee.pk)
    demand.refresh_from_db()

    soon = demand.contact_due - dt.timedelta(minutes=30)
    assert list(deadlines.list_nearly_overdue(Demand.objects.filter(pk=demand.pk), soon)) == [demand]
    assert tasks.notify_deadlines(now=soon) == 2  # the lead unit's officer and the assignee
    assert tasks.notify_deadlines(now=soon) == 0  # run again: nothing new
    assert tasks.notify_deadlines(now=soon + dt.timedelta(minutes=10)) == 0
    nearly = Notification.objects.filter(kind=K.NEARLY_OVERDUE)
    assert set(nearly.values_list("recipient", flat=True)) == {world.officer_lgq.pk, assignee.pk}
    assert nearly.first().demand_id == demand.pk and "即将超期" in nearly.first().title
    assert "联系时限" in nearly.first().body

    late = demand.contact_due + dt.timedelta(minutes=5)
    assert tasks.notify_deadlines(now=late) == 2
    assert tasks.notify_deadlines(now=late) == 0
    overdue = Notification.objects.filter(kind=K.OVERDUE)
    assert overdue.count() == 2 and "已超期" in overdue.first().title
    assert not Notification.objects.filter(recipient__in=[world.officer_cxd, world.dispatcher]).exists()

    # the finish deadline is another deadline: told again when it comes near and when it passes
    transition(demand, "acknowledge", world.officer_lgq, now=late)
    transition(demand, "contact", world.officer_lgq, note="已联系", now=late)
    near_finish = demand.finish_due - dt.timedelta(minutes=30)
    tasks.notify_deadlines(now=near_finish)
    tasks.notify_deadlines(now=demand.finish_due + dt.timedelta(minutes=1))
    tasks.notify_deadlines(now=demand.finish_due + dt.timedelta(minutes=2))
    keys = sorted(
        Notification.objects.filter(recipient=world.officer_lgq, demand=demand).values_list("kind", "key")
    )
    assert keys == sorted(
        [
            (K.NEARLY_OVERDUE, f"contact:{demand.contact_due.isoformat()}"),
            (K.OVERDUE, f"contact:{demand.contact_due.isoformat()}"),
            (K.NEARLY_OVERDUE, f"finish:{demand.finish_due.isoformat()}"),
            (K.OVERDUE, f"finish:{demand.finish_due.isoformat()}"),
        ]
    )


def test_closed_demands_are_not_told(world):
    demand = transition(world.demand(), "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk)
    transition(demand, "acknowledge", world.officer_lgq)
    transition(demand, "contact", world.officer_lgq, note="已联系")
    transition(demand, "reply", world.officer_lgq, note="已处理")
    demand.refresh_from_db()
    assert tasks.notify_deadlines(now=demand.finish_due + dt.timedelta(days=1)) == 0
