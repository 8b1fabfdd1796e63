"""Gaps found walking every role (issue 14, points 1–7): closing with open tasks, unit review,
category correction, intake answers, 督办 notes, ratings with comments, emergency hints."""

import pytest
from django.urls import reverse

from changxin.core.tests.builders import local
from changxin.demands.models import DemandEvent, DemandTask, State, TaskRole, TaskState
from changxin.demands.selectors import tasks_for_unit_staff
from changxin.demands.services import available_actions, transition
from changxin.demands.workflow import WorkflowError

MON = local(2026, 11, 23, 10, 0)  # a Monday
H = local(2026, 11, 23, 11, 0) - MON


def handling(world, *, co_units=()):
    """Dispatched to 卢沟桥街道 (with `co_units`), acknowledged and contacted."""
    demand = world.demand(received_at=MON)
    transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, co_units=co_units, now=MON)
    transition(demand, "acknowledge", world.officer_lgq, now=MON + H)
    return transition(demand, "contact", world.officer_lgq, note="电话联系", now=MON + 2 * H)


def names(user, demand):
    return {t.name for t in available_actions(user, demand)}


# --- 1. closing with open tasks ----------------------------------------------------------------


def test_reply_is_refused_while_co_unit_and_called_in_tasks_are_open_and_names_them(world):
    d = handling(world, co_units=[world.department.pk])
    transition(
        d, "whistle", world.officer_lgq, units=[world.department2.pk], note="请住建到场", now=MON + 3 * H
    )
    assert "reply" not in names(world.officer_lgq, d)
    with pytest.raises(WorkflowError) as refused:
        transition(d, "reply", world.officer_lgq, note="已办结", now=MON + 4 * H)
    assert refused.value.code == "open_tasks"
    assert world.department.name in str(refused.value.message)
    assert world.department2.name in str(refused.value.message)
    assert d.state == State.CONTACTED


def test_the_lead_unit_withdraws_a_called_in_task_with_a_reason_then_may_reply(world):
    d = handling(world, co_units=[world.department.pk])
    transition(
        d, "whistle", world.officer_lgq, units=[world.department2.pk], note="请住建到场", now=MON + 3 * H
    )
    called = DemandTask.objects.get(demand=d, role=TaskRole.WHISTLE)
    co = DemandTask.objects.get(demand=d, role=TaskRole.CO)
    assert "withdraw_task" in names(world.officer_lgq, d)
    assert "withdraw_task" not in names(world.officer_dept2, d)  # the called unit cannot withdraw itself
    with pytest.raises(WorkflowError) as no_reason:
        transition(d, "withdraw_task", world.officer_lgq, task=called.pk)
    assert no_reason.value.code == "note_required"
    transition(d, "withdraw_task", world.officer_lgq, task=called.pk, note="问题已由街道解决，无需到场")
    called.refresh_from_db()
    assert called.state == TaskState.WITHDRAWN and called.withdraw_reason == "问题已由街道解决，无需到场"
    event = DemandEvent.objects.get(demand=d, action="withdraw_task")
    assert event.data == {"task": called.pk, "unit": world.department2.pk}
    assert not tasks_for_unit_staff(world.officer_dept2).filter(demand=d).exists()
    with pytest.raises(WorkflowError) as twice:
        transition(d, "withdraw_task", world.officer_lgq, task=called.pk, note="again")
    assert twice.value.field == "task"
    transition(d, "task_complete", world.officer_dept, task=co.pk, note="已协助处理")
    d = transition(d, "reply", world.officer_lgq, note="已办结", now=MON + 5 * H)
    assert d.state == State.REPLIED
    assert "withdraw_task" not in names(world.officer_lgq, d)


def test_no_closing_path_leaves_a_live_task(world):
    merged = handling(world, co_units=[world.department.pk])
    master = handling(world)
    transition(merged, "merge", world.dispatcher, note="重复", master=master.pk)
    assert not DemandTask.objects.filter(
        demand=merged, state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED]
    ).exists()
    assert DemandTask.objects.get(demand=merged, role=TaskRole.CO).withdraw_reason
    assert not tasks_for_unit_staff(world.officer_dept).filter(demand=merged).exists()


def test_the_detail_page_offers_withdrawal_per_open_task_to_the_lead_unit(client, world):
    d = handling(world, co_units=[world.department.pk])
    co = DemandTask.objects.get(demand=d, role=TaskRole.CO)
    client.force_login(world.officer_lgq)
    page = client.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'name="do" value="withdraw_task"' in page and 'name="do" value="reply"' not in page
    response = client.post(
        reverse("demands:act", args=[d.pk, "withdraw_task"]),
        {"version": d.version, "task": co.pk, "note": "不再需要协办"},
    )
    assert response.status_code == 302
    co.refresh_from_db()
    assert co.state == TaskState.WITHDRAWN
    page = client.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert "不再需要协办" in page and 'name="do" value="reply"' in page
