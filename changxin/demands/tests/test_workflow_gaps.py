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


# --- 2. unit review (审核) ---------------------------------------------------------------------


@pytest.fixture
def reviewed(world):
    """卢沟桥街道 has a review step; its leader approves."""
    from changxin.core.models import Role
    from changxin.core.tests.builders import make_user
    from changxin.demands.models import UnitReview

    UnitReview.objects.create(unit=world.lugouqiao, requires_review=True)
    return make_user("lgq_lead", Role.LEADER, world.lugouqiao)


def test_without_a_review_step_the_officer_replies_directly(world):
    d = handling(world)
    offered = names(world.officer_lgq, d)
    assert "reply" in offered and not offered & {"submit_reply", "approve_reply", "return_review"}


def test_with_a_review_step_the_reply_waits_for_the_leader(world, reviewed):
    leader = reviewed
    d = handling(world)
    offered = names(world.officer_lgq, d)
    assert "submit_reply" in offered and "reply" not in offered
    with pytest.raises(WorkflowError) as direct:
        transition(d, "reply", world.officer_lgq, note="已办结")
    assert direct.value.code == "unit_review_required"
    d = transition(d, "submit_reply", world.officer_lgq, note="已清理垃圾并告知居民", now=MON + 3 * H)
    assert d.state == State.CONTACTED and d.review_pending == "reply"
    assert not names(world.officer_lgq, d) & {"approve_reply", "return_review", "submit_reply"}
    assert {"approve_reply", "return_review"} <= names(leader, d)
    # the leader returns it; the officer resubmits; the leader approves: it leaves the unit
    d = transition(d, "return_review", leader, note="请写明清运时间", now=MON + 4 * H)
    assert d.review_pending == "" and d.review_note == ""
    d = transition(d, "submit_reply", world.officer_lgq, note="11月23日15时已清运完毕", now=MON + 5 * H)
    d = transition(d, "approve_reply", leader, now=MON + 6 * H)
    assert d.state == State.REPLIED and d.reply == "11月23日15时已清运完毕" and d.review_pending == ""
    event = DemandEvent.objects.get(demand=d, action="approve_reply")
    assert event.data == {"on_time": True} and event.actor == leader


def test_a_dispute_and_an_extension_request_go_through_the_leader(world, reviewed):
    from changxin.demands.models import ExtensionState

    leader = reviewed
    demand = world.demand(received_at=MON)
    d = transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=MON)
    assert "dispute" not in names(world.officer_lgq, d)
    d = transition(
        d, "submit_dispute", world.officer_lgq, note="不在辖区", reason="wrong_place", now=MON + H / 2
    )
    assert d.state == State.DISPATCHED and d.review_data == {"reason": "wrong_place"}
    d = transition(d, "approve_dispute", leader, now=MON + H)
    assert d.state == State.DISPUTED
    assert DemandEvent.objects.get(demand=d, action="approve_dispute").data["reason"] == "wrong_place"
    d = transition(d, "reject_dispute", world.dispatcher, note="属地", now=MON + 2 * H)
    d = transition(d, "contact", world.officer_lgq, note="电话联系", now=MON + 3 * H)
    d = transition(d, "submit_extension", world.officer_lgq, note="需协调施工队", days=5, now=MON + 4 * H)
    assert d.extension_state == ExtensionState.NONE
    d = transition(d, "approve_extension_request", leader, now=MON + 5 * H)
    assert d.extension_state == ExtensionState.PENDING and d.extension_days == 5
    assert "approve_extension" in names(world.dispatcher, d)


def test_the_detail_page_gives_approve_and_return_to_the_leader_only(client, world, reviewed):
    leader = reviewed
    d = handling(world)
    transition(d, "submit_reply", world.officer_lgq, note="已清理完毕", now=MON + 3 * H)
    client.force_login(world.officer_lgq)
    page = client.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'id="review-pending"' in page and "已清理完毕" in page
    assert 'value="approve_reply"' not in page and 'value="return_review"' not in page
    client.force_login(leader)
    page = client.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'name="do" value="approve_reply"' in page and 'name="do" value="return_review"' in page
    d.refresh_from_db()
    response = client.post(reverse("demands:act", args=[d.pk, "approve_reply"]), {"version": d.version})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == State.REPLIED


# --- 6. 督办 with a note, marked on the workbench; a staff return visit keeps the comment ----------


def test_supervision_takes_a_note_shown_on_the_officers_workbench(client, world):
    d = handling(world)
    transition(d, "supervise", world.dispatcher, note="请今日内回复居民", now=MON + 3 * H)
    d.refresh_from_db()
    assert d.supervision_note == "请今日内回复居民"
    client.force_login(world.officer_lgq)
    page = client.get(reverse("demands:workbench")).content.decode()
    item = page.split('id="task-', 1)[1]
    assert "supervised-badge" in item and "请今日内回复居民" in item
    client.force_login(world.dispatcher)
    page = client.get(reverse("demands:detail", args=[d.pk])).content.decode()
    form = page.split('id="form-supervise"', 1)[1].split("</form>", 1)[0]
    assert 'name="note"' in form and 'type="hidden" name="note"' not in form


def test_a_staff_return_visit_records_the_requesters_comment(world):
    d = handling(world)
    transition(d, "reply", world.officer_lgq, note="已办结", now=MON + 3 * H)
    d = transition(
        d,
        "return_visit",
        world.dispatcher,
        note="居民表示噪音已减小",
        resolution="resolved",
        satisfaction="basic",
        now=MON + 4 * H,
    )
    assert d.rating_comment == "居民表示噪音已减小"
    d = transition(d, "reopen", world.dispatcher, note="重办", now=MON + 5 * H)
    assert d.rating_comment == ""


# --- 3. the centre sets or corrects the category; the searchable picker --------------------------


def test_the_centre_recategorises_with_an_event(world):
    from changxin.demands.models import Category

    d = handling(world)
    old = d.category
    noise = Category.objects.get(full_name="环境保护 / 环境污染 / 噪音污染")
    assert "recategorise" in names(world.dispatcher, d)
    assert "recategorise" not in names(world.officer_lgq, d)
    d = transition(d, "recategorise", world.dispatcher, category=noise.pk, now=MON + 3 * H)
    assert d.category == noise
    event = DemandEvent.objects.get(demand=d, action="recategorise")
    assert event.data == {
        "old": old.pk,
        "new": noise.pk,
        "old_name": old.full_name,
        "new_name": noise.full_name,
    }
    with pytest.raises(WorkflowError) as same:
        transition(d, "recategorise", world.dispatcher, category=noise.pk)
    assert same.value.field == "category"
    with pytest.raises(WorkflowError):
        transition(d, "recategorise", world.officer_lgq, category=old.pk)


def test_an_unclassified_demand_gets_its_first_category(world):
    from changxin.demands.models import Category

    d = world.demand(received_at=MON, category=None)
    leaf = Category.objects.get(full_name="城乡建设 / 城市建设和市政管理 / 环境卫生")
    d = transition(d, "recategorise", world.dispatcher, category=leaf.pk, now=MON)
    assert DemandEvent.objects.get(demand=d, action="recategorise").data["old"] is None


def test_the_picker_finds_categories_by_synonym(client, world):
    from changxin.demands.taxonomy import search_categories

    found = {o.category.full_name: o.matched for o in search_categories("垃圾")}
    assert "城乡建设 / 城市建设和市政管理 / 环境卫生" in found
    assert found["环境保护 / 环境污染 / 固体污染"] == "垃圾"
    assert "城乡建设 / 城市建设和市政管理 / 环境卫生" in {
        o.category.full_name for o in search_categories("门口的生活垃圾没人清运")
    }
    assert "环境保护 / 环境污染 / 噪音污染" in {o.category.full_name for o in search_categories("噪音")}
    response = client.get(reverse("demands:category-search"), {"field": "category", "category_q": "垃圾清运"})
    html = response.content.decode()
    assert response.status_code == 200 and 'name="category"' in html and "环境卫生" in html
    assert "No category" not in client.get(reverse("demands:category-search"), {"q": "噪音"}).content.decode()


def test_the_detail_page_recategorises_through_the_picker(client, world):
    from changxin.demands.models import Category

    d = handling(world)
    client.force_login(world.dispatcher)
    page = client.get(reverse("demands:detail", args=[d.pk])).content.decode()
    form = page.split('id="form-recategorise"', 1)[1].split("</form>", 1)[0]
    assert 'class="category-picker"' in form and "<select" not in form
    assert 'name="do" value="recategorise"' in form
    leaf = Category.objects.get(full_name="城乡建设 / 城市建设和市政管理 / 环境卫生")
    response = client.post(
        reverse("demands:act", args=[d.pk, "recategorise"]), {"version": d.version, "category": leaf.pk}
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.category == leaf


# --- 9. one deadline, one remaining time ---------------------------------------------------------


def test_a_deadline_shows_one_remaining_time_on_the_detail_page(client, world):
    import re

    from django.utils import timezone

    now = timezone.now()
    demand = world.demand(received_at=now - 2 * H, urgency="urgent")
    transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=now - 2 * H)
    client.force_login(world.dispatcher)
    page = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    finish = re.search(r'id="finish-due">.*?<span class="badge[^"]*">([^<]+)</span>', page, re.S).group(1)
    table = page.split('id="task-table"', 1)[1].split("</table>", 1)[0]
    task = re.search(r'<span class="badge[^"]*">([^<]+)</span>', table).group(1)
    assert task == finish  # the lead task is due at the finish deadline: the same clock, the same text
    assert "working" not in finish and "工作" not in finish  # an urgent deadline counts clock hours
