"""The demand table's guards and the ASSIGNEE relation, through the one transition service."""

from __future__ import annotations

import pytest

from changxin.core.models import Role
from changxin.core.tests.builders import local, make_user
from changxin.demands.models import ExtensionState, State, TaskRole
from changxin.demands.selectors import demands_visible_to, tasks_for_unit_staff
from changxin.demands.services import available_actions, may, relations_of, transition
from changxin.demands.workflow import ASSIGNEE, MACHINE, WorkflowError

MON = local(2026, 11, 23, 10, 0)


def dispatched(world):
    demand = world.demand(received_at=MON)
    return transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=MON)


def names(user, demand):
    return {t.name for t in available_actions(user, demand)}


def test_guards_are_in_the_table_with_their_codes():
    guarded = {name: [g.code for g in t.guards] for name, t in MACHINE.table.items() if t.guards}
    assert guarded == {
        "dispute": ["dispute_window_passed", "unit_review_required"],
        "submit_dispute": ["no_unit_review", "review_pending", "dispute_window_passed"],
        "approve_dispute": ["nothing_to_review"],
        "request_extension": ["extension_once", "unit_review_required"],
        "submit_extension": ["no_unit_review", "review_pending", "extension_once"],
        "approve_extension_request": ["nothing_to_review", "extension_once"],
        "approve_extension": ["no_extension_request"],
        "deny_extension": ["no_extension_request"],
        "withdraw_task": ["no_open_tasks"],
        "reply": ["open_tasks", "unit_review_required"],
        "submit_reply": ["no_unit_review", "review_pending", "open_tasks"],
        "approve_reply": ["nothing_to_review", "open_tasks"],
        "return_review": ["nothing_to_review"],
        "exclude_rating": ["rating_not_excludable"],
        "reopen": ["answered_at_intake"],
    }


def test_extension_decisions_are_offered_and_allowed_only_on_a_pending_request(world):
    d = transition(dispatched(world), "acknowledge", world.officer_lgq)
    assert "approve_extension" not in names(world.dispatcher, d)
    with pytest.raises(WorkflowError) as err:
        transition(d, "approve_extension", world.dispatcher)
    assert (err.value.code, err.value.kind) == ("no_extension_request", "conflict")
    d = transition(d, "request_extension", world.officer_lgq, days=5, note="需协调")
    assert {"approve_extension", "deny_extension"} <= names(world.dispatcher, d)
    assert "request_extension" not in names(world.officer_lgq, d)
    d = transition(d, "deny_extension", world.dispatcher, note="不予延期")
    assert d.extension_state == ExtensionState.DENIED
    with pytest.raises(WorkflowError) as err:
        transition(d, "request_extension", world.officer_lgq, days=2, note="again")
    assert err.value.code == "extension_once"


def test_the_dispute_window_is_a_guard_so_the_action_disappears_when_it_closes(world):
    d = dispatched(world)
    assert "dispute" in {t.name for t in MACHINE.available(d, {"lead"}, now=MON)}
    later = local(2026, 11, 23, 16, 0)  # 6 working hours after dispatch
    assert "dispute" not in {t.name for t in MACHINE.available(d, {"lead"}, now=later)}


def test_an_answered_at_intake_demand_cannot_be_reopened(world):
    d = transition(world.demand(), "answer", world.dispatcher, note="已解答政策问题")
    assert d.state == State.REPLIED
    assert "reopen" not in names(world.dispatcher, d)
    with pytest.raises(WorkflowError) as err:
        transition(d, "reopen", world.dispatcher, note="x")
    assert err.value.code == "answered_at_intake"


def test_the_requester_may_rate_only_what_the_machine_allows(world):
    d = dispatched(world)
    assert not may(None, d, "return_visit", requester_code=d.tracking_code)
    for step, kw in [("acknowledge", {}), ("contact", {"note": "已电话联系"}), ("reply", {"note": "已处理"})]:
        d = transition(d, step, world.officer_lgq, **kw)
    assert may(None, d, "return_visit", requester_code=d.tracking_code)
    assert not may(None, d, "return_visit", requester_code="WRONGCODE1")


def test_the_lead_unit_assigns_a_person_who_then_handles_the_demand(world):
    manager = make_user("manager", Role.SERVICE_MANAGER, world.changxindian)  # another unit's 服务管家
    d = dispatched(world)
    assert not demands_visible_to(manager).filter(pk=d.pk).exists()
    assert "acknowledge" not in names(manager, d)

    d = transition(d, "assign", world.officer_lgq, assignee=manager.pk)
    event = d.events.get(action="assign")
    lead = d.tasks.get(role=TaskRole.LEAD)
    assert lead.assignee == manager
    assert event.data == {"task": lead.pk, "assignee": manager.pk, "assignee_name": str(manager)}
    # the assignee sees it, finds it on the workbench and acts on the handling steps
    assert demands_visible_to(manager).filter(pk=d.pk).exists()
    assert lead in tasks_for_unit_staff(manager)
    assert {"acknowledge"} <= names(manager, d)
    assert "dispute" not in names(manager, d)  # disputing the dispatch stays with the unit
    d = transition(d, "acknowledge", manager)
    d = transition(d, "contact", manager, note="已上门")
    d = transition(d, "reply", manager, note="已协调解决")
    assert d.state == State.REPLIED
    assert (
        list(d.events.filter(action__in=["acknowledge", "contact", "reply"]).values_list("actor", flat=True))
        == [manager.pk] * 3
    )


def test_assignment_refuses_people_outside_the_unit_and_takes_the_task_back(world):
    d = dispatched(world)
    with pytest.raises(WorkflowError) as err:
        transition(d, "assign", world.officer_lgq, assignee=world.officer_cxd.pk)  # another street's officer
    assert err.value.field == "assignee"
    with pytest.raises(WorkflowError) as err:
        transition(d, "assign", world.officer_cxd, assignee=world.officer_lgq.pk)  # not the lead unit
    assert err.value.code == "not_allowed"
    with pytest.raises(WorkflowError):
        transition(d, "assign", world.leadership, assignee=world.officer_lgq.pk)  # read-only
    colleague = make_user("lgq2", Role.OFFICER, world.lugouqiao)
    d = transition(d, "assign", world.officer_lgq, assignee=colleague.pk)
    assert ASSIGNEE in relations_of(colleague, d)
    d = transition(d, "assign", world.officer_lgq, assignee=None)
    assert d.tasks.get(role=TaskRole.LEAD).assignee is None
    assert ASSIGNEE not in relations_of(colleague, d)


def test_a_redispatch_ends_the_assignment(world):
    manager = make_user("manager", Role.SERVICE_MANAGER, world.changxindian)
    d = transition(dispatched(world), "assign", world.officer_lgq, assignee=manager.pk)
    d = transition(d, "dispute", world.officer_lgq, reason="not_our_duty", note="非本辖区", now=MON)
    d = transition(d, "redispatch", world.dispatcher, lead_unit=world.changxindian.pk, note="改派")
    assert ASSIGNEE not in relations_of(manager, d)
    assert not any(t.demand_id == d.pk for t in tasks_for_unit_staff(manager) if t.assignee_id == manager.pk)


def test_the_workbench_offers_the_assignee_the_one_tap_acknowledge(world, client):
    manager = make_user("manager", Role.SERVICE_MANAGER, world.changxindian)
    d = transition(dispatched(world), "assign", world.officer_lgq, assignee=manager.pk)
    button = f'action="/demands/{d.pk}/act/acknowledge/"'
    client.force_login(manager)
    page = client.get("/demands/workbench/").content.decode()
    assert d.number in page and button in page
    client.force_login(world.officer_cxd)  # sees nothing of it
    assert d.number not in client.get("/demands/workbench/").content.decode()
    d = transition(d, "acknowledge", manager)
    client.force_login(manager)
    assert button not in client.get("/demands/workbench/").content.decode()


def test_a_reopened_demand_goes_back_to_the_person_who_handled_it(world):
    manager = make_user("manager", Role.SERVICE_MANAGER, world.changxindian)
    d = transition(dispatched(world), "assign", world.officer_lgq, assignee=manager.pk)
    for step, kw in [("acknowledge", {}), ("contact", {"note": "已上门"}), ("reply", {"note": "已处理"})]:
        d = transition(d, step, manager, **kw)
    d = transition(d, "return_visit", world.dispatcher, resolution="unresolved", satisfaction="dissatisfied")
    d = transition(d, "reopen", world.dispatcher, note="群众反映未解决，重办")
    assert d.state == State.DISPATCHED
    assert ASSIGNEE in relations_of(manager, d)
    assert d.tasks.filter(role=TaskRole.LEAD, state="pending").get().assignee == manager
    transition(d, "acknowledge", manager)
