"""The transition service: rules, data checks, deadlines, all-or-nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from changxin.core.models import AuditEntry, Role
from changxin.core.tests.builders import local
from changxin.demands.models import (
    Demand,
    DemandEvent,
    DemandTask,
    ExtensionState,
    Satisfaction,
    State,
    TaskRole,
    TaskState,
)
from changxin.demands.selectors import demands_visible_to
from changxin.demands.services import create_demand, escalate_overdue, transition
from changxin.demands.workflow import WorkflowError

MON = local(2026, 11, 23, 10, 0)  # a Monday


def dispatched(world, at=MON, **kw):
    demand = world.demand(received_at=at)
    return transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=at, **kw)


def test_create_demand_numbers_it_and_records_receipt(world):
    demand = world.demand(received_at=MON)
    assert demand.number == f"FT261123{demand.pk:06d}"
    assert len(demand.tracking_code) == 10
    assert demand.state == State.RECEIVED
    assert list(demand.events.values_list("action", flat=True)) == ["receive"]
    assert AuditEntry.objects.filter(object_id=str(demand.pk), action="create").exists()


def test_create_demand_names_each_bad_field_and_stores_nothing(world):
    with pytest.raises(ValidationError) as err:
        create_demand(
            {"demand_type": "gossip", "title": "", "content": "x", "requester_phone": "12345"},
            actor=world.dispatcher,
        )
    assert {"demand_type", "title", "requester_phone"} <= set(err.value.message_dict)
    assert Demand.objects.count() == 0


def test_community_must_lie_in_the_street(world):
    with pytest.raises(ValidationError) as err:
        world.demand(street=world.changxindian, community=world.community_lgq)
    assert "community" in err.value.message_dict


def test_community_implies_street(world):
    demand = world.demand(street=None, community=world.community_cxd)
    assert demand.street == world.changxindian


def test_idempotency_key_returns_the_first_demand(world):
    data = {"demand_type": "consult", "title": "咨询", "content": "如何办理居住证？"}
    first, created = create_demand(data, actor=world.citizen, idempotency_key="k-1")
    again, created_again = create_demand(data, actor=world.citizen, idempotency_key="k-1")
    assert created and not created_again and first.pk == again.pk
    assert Demand.objects.count() == 1
    assert first.requester_user == world.citizen


def test_anonymous_demand_keeps_no_name_or_phone(world):
    demand = world.demand(requester_kind="anonymous")
    assert demand.requester_name == "" and demand.requester_phone == ""


def test_whole_path_sets_times_and_writes_a_timeline(world):
    d = dispatched(world)
    assert d.contact_due == local(2026, 11, 24, 10, 0)  # 1 working day
    assert d.finish_due == local(2026, 12, 2, 10, 0)  # 7 working days
    d = transition(d, "acknowledge", world.officer_lgq, now=MON + dt.timedelta(hours=1))
    d = transition(d, "contact", world.officer_lgq, note="电话联系", now=MON + dt.timedelta(hours=2))
    d = transition(d, "start", world.officer_lgq, now=MON + dt.timedelta(hours=3))
    d = transition(d, "reply", world.officer_lgq, note="已协调停工", now=MON + dt.timedelta(days=1))
    d = transition(
        d,
        "return_visit",
        world.dispatcher,
        resolution="resolved",
        satisfaction="satisfied",
        now=MON + dt.timedelta(days=2),
    )
    d = transition(d, "archive", world.dispatcher, now=MON + dt.timedelta(days=3))
    assert d.state == State.ARCHIVED
    events = list(d.events.values_list("action", "from_state", "to_state"))
    assert events == [
        ("receive", "", "received"),
        ("dispatch", "received", "dispatched"),
        ("acknowledge", "dispatched", "acknowledged"),
        ("contact", "acknowledged", "contacted"),
        ("start", "contacted", "in_progress"),
        ("reply", "in_progress", "replied"),
        ("return_visit", "replied", "visited"),
        ("archive", "visited", "archived"),
    ]
    assert d.events.get(action="contact").data["on_time"] is True
    assert d.version == 7
    task = d.tasks.get(role=TaskRole.LEAD)
    assert task.state == TaskState.DONE and task.unit == world.lugouqiao


def test_illegal_transition_changes_nothing(world):
    d = dispatched(world)
    before = (d.state, d.version, d.events.count(), d.updated_at)
    with pytest.raises(WorkflowError) as err:
        transition(d, "reply", world.officer_lgq, note="提前答复")
    assert err.value.code == "illegal_state"
    d.refresh_from_db()
    assert (d.state, d.version, d.events.count(), d.updated_at) == before


def test_outside_scope_and_read_only_users_cannot_move_a_demand(world):
    d = dispatched(world)
    for outsider in (world.officer_cxd, world.leadership, world.citizen):
        with pytest.raises(WorkflowError) as err:
            transition(d, "acknowledge", outsider)
        assert err.value.code == "not_allowed"
    assert Demand.objects.get(pk=d.pk).state == State.DISPATCHED


def test_stale_version_is_refused(world):
    d = dispatched(world)
    seen = d.version
    transition(d, "acknowledge", world.officer_lgq, expected_version=seen)
    with pytest.raises(WorkflowError) as err:
        transition(d, "contact", world.officer_lgq, note="x", expected_version=seen)
    assert err.value.code == "stale"


def test_note_is_required_where_the_table_says_so(world):
    d = dispatched(world)
    transition(d, "acknowledge", world.officer_lgq)
    with pytest.raises(WorkflowError) as err:
        transition(d, "contact", world.officer_lgq, note="   ")
    assert err.value.field == "note"


def test_urgent_demands_count_clock_hours(world):
    demand = world.demand(urgency="urgent", received_at=local(2026, 11, 28, 22, 0))  # Saturday night
    d = transition(
        demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk, now=local(2026, 11, 28, 22, 0)
    )
    assert d.contact_due == local(2026, 11, 29, 0, 0)
    assert d.finish_due == local(2026, 11, 29, 22, 0)


def test_deadlines_skip_official_holidays(world):
    at = local(2026, 9, 30, 15, 0)  # the day before National Day
    d = dispatched(world, at=at)
    assert d.contact_due == local(2026, 10, 8, 15, 0)
    assert d.deadline_estimated is False


def test_unknown_calendar_year_is_flagged_not_fatal(world):
    at = local(2027, 12, 28, 10, 0)
    d = dispatched(world, at=at)
    assert d.deadline_estimated is True
    assert d.finish_due == local(2028, 1, 6, 10, 0)  # weekends-only fallback


def test_dispute_within_window_then_redispatch_restarts_the_clock(world):
    d = dispatched(world)
    d = transition(
        d,
        "dispute",
        world.officer_lgq,
        reason="not_our_duty",
        note="属城管职责",
        now=MON + dt.timedelta(hours=1),
    )
    assert d.state == State.DISPUTED
    later = MON + dt.timedelta(hours=3)
    d = transition(d, "redispatch", world.dispatcher, lead_unit=world.department.pk, note="改派", now=later)
    assert d.state == State.DISPATCHED and d.lead_unit == world.department
    # 13:00 Monday + 7 working hours = 4 h on Monday afternoon + 3 h on Tuesday morning
    assert d.dispatched_at == later and d.contact_due == local(2026, 11, 24, 12, 0)
    assert d.events.get(action="redispatch").data["dispute_upheld_for"] == world.lugouqiao.pk
    assert d.tasks.get(unit=world.lugouqiao).state == TaskState.WITHDRAWN
    # the unit whose dispute was upheld no longer sees the demand; the new lead unit does
    assert not demands_visible_to(world.officer_lgq).filter(pk=d.pk).exists()
    assert demands_visible_to(world.officer_dept).filter(pk=d.pk).count() == 1
    transition(d, "acknowledge", world.officer_dept)


def test_dispute_after_the_window_is_refused(world):
    d = dispatched(world)
    with pytest.raises(WorkflowError) as err:
        transition(
            d, "dispute", world.officer_lgq, reason="not_our_duty", note="x", now=MON + dt.timedelta(hours=5)
        )
    assert err.value.code == "dispute_window_passed"


def test_dispute_needs_a_reason_code(world):
    d = dispatched(world)
    with pytest.raises(WorkflowError) as err:
        transition(d, "dispute", world.officer_lgq, reason="", note="x", now=MON)
    assert err.value.field == "reason"


def test_rejected_dispute_keeps_the_original_deadlines(world):
    d = dispatched(world)
    due = d.finish_due
    d = transition(d, "dispute", world.officer_lgq, reason="wrong_place", note="x", now=MON)
    d = transition(d, "reject_dispute", world.dispatcher, note="属地责任", now=MON + dt.timedelta(hours=4))
    assert d.state == State.ACKNOWLEDGED and d.finish_due == due and d.lead_unit == world.lugouqiao


def test_extension_once_and_approval_moves_the_deadline_in_working_days(world):
    d = dispatched(world)
    transition(d, "acknowledge", world.officer_lgq)
    with pytest.raises(WorkflowError) as err:
        transition(d, "request_extension", world.officer_lgq, days=20, note="复杂")
    assert err.value.field == "days"
    d = transition(d, "request_extension", world.officer_lgq, days=5, note="需协调产权单位")
    assert d.extension_state == ExtensionState.PENDING
    d = transition(d, "approve_extension", world.dispatcher)
    assert d.finish_due == local(2026, 12, 9, 10, 0)
    with pytest.raises(WorkflowError):
        transition(d, "request_extension", world.officer_lgq, days=2, note="again")


def test_street_whistles_and_each_called_department_gets_its_own_task(world):
    d = dispatched(world)
    transition(d, "acknowledge", world.officer_lgq, now=MON)
    d = transition(
        d,
        "whistle",
        world.officer_lgq,
        units=[world.department.pk, world.department2.pk],
        due_days=2,
        note="请城管、住建到场",
        now=MON,
    )
    tasks = DemandTask.objects.filter(demand=d, role=TaskRole.WHISTLE)
    assert tasks.count() == 2
    assert {t.due_at for t in tasks} == {local(2026, 11, 25, 10, 0)}
    task = tasks.get(unit=world.department)
    transition(d, "task_acknowledge", world.officer_dept, task=task.pk)
    transition(d, "task_complete", world.officer_dept, task=task.pk, note="已到场执法")
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.result_note == "已到场执法"
    with pytest.raises(WorkflowError):  # department 2 cannot complete department 1's task
        transition(d, "task_complete", world.officer_dept2, task=task.pk, note="x")
    with pytest.raises(WorkflowError):  # the same department cannot be called twice at once
        transition(d, "whistle", world.officer_lgq, units=[world.department2.pk], note="again")


def test_a_department_lead_unit_cannot_whistle(world):
    demand = world.demand()
    d = transition(demand, "dispatch", world.dispatcher, lead_unit=world.department.pk)
    transition(d, "acknowledge", world.officer_dept)
    with pytest.raises(WorkflowError) as err:
        transition(d, "whistle", world.officer_dept, units=[world.department2.pk], note="x")
    assert err.value.code == "not_allowed"


def replied(world):
    d = dispatched(world)
    transition(d, "acknowledge", world.officer_lgq)
    transition(d, "contact", world.officer_lgq, note="x")
    return transition(d, "reply", world.officer_lgq, note="已处理")


def test_three_unreachable_attempts_end_as_unrated(world):
    d = replied(world)
    transition(d, "visit_attempt", world.dispatcher)
    d = transition(d, "visit_attempt", world.dispatcher)
    assert d.state == State.REPLIED
    d = transition(d, "visit_attempt", world.dispatcher)
    assert d.state == State.VISITED and d.satisfaction == Satisfaction.UNRATED


def test_exclude_unreasonable_dissatisfaction_and_reopen(world):
    d = replied(world)
    d = transition(d, "return_visit", world.dispatcher, resolution="unresolved", satisfaction="dissatisfied")
    d = transition(d, "exclude_rating", world.dispatcher, note="诉求超出政策范围")
    assert d.rating_excluded
    d = transition(d, "reopen", world.dispatcher, note="重新办理")
    assert (
        d.state == State.DISPATCHED and d.reopen_count == 1 and d.satisfaction == "" and not d.rating_excluded
    )


def test_return_visit_validates_answers(world):
    d = replied(world)
    with pytest.raises(WorkflowError) as err:
        transition(d, "return_visit", world.dispatcher, resolution="resolved", satisfaction="meh")
    assert err.value.field == "satisfaction"


def test_merge_follows_the_chain_to_the_master(world):
    master = dispatched(world)
    middle = world.demand()
    transition(middle, "merge", world.dispatcher, master=master.pk, note="重复")
    dup = world.demand()
    dup = transition(dup, "merge", world.dispatcher, master=middle.pk, note="重复")
    assert dup.state == State.MERGED and dup.master == master
    with pytest.raises(WorkflowError):
        transition(master, "merge", world.dispatcher, master=master.pk, note="self")


def test_escalation_is_idempotent(world):
    d = dispatched(world)
    late = MON + dt.timedelta(days=2)  # contact deadline missed
    assert escalate_overdue(now=late) == 1
    assert escalate_overdue(now=late) == 0
    transition(d, "acknowledge", world.officer_lgq, now=late)
    transition(d, "contact", world.officer_lgq, note="x", now=late)
    much_later = local(2026, 12, 3, 10, 0)  # finish deadline missed
    assert escalate_overdue(now=much_later) == 1
    assert escalate_overdue(now=much_later) == 0
    events = DemandEvent.objects.filter(demand=d, action="supervise")
    assert [e.data["kind"] for e in events] == ["contact", "finish"]
    assert all(e.automatic for e in events)


def test_actions_offered_respect_the_data_not_only_the_state(world):
    from changxin.demands.services import available_actions

    d = dispatched(world)
    transition(d, "acknowledge", world.officer_lgq)
    names = lambda user: {t.name for t in available_actions(user, d)}  # noqa: E731
    assert "request_extension" in names(world.officer_lgq)
    assert not {"approve_extension", "deny_extension"} & names(world.dispatcher)  # nothing requested yet
    d = transition(d, "request_extension", world.officer_lgq, days=3, note="需协调")
    assert "request_extension" not in names(world.officer_lgq)  # only once
    assert {"approve_extension", "deny_extension"} <= names(world.dispatcher)
    d = replied(world)
    d = transition(d, "return_visit", world.dispatcher, resolution="resolved", satisfaction="satisfied")
    assert "exclude_rating" not in names(world.dispatcher)  # only a dissatisfied rating can be excluded


def test_counts_see_exactly_the_rows_the_list_sees(world):
    """`read_all=True` (counts, state chips: the scope's task terms as index scans) keeps the same rows
    as the list's form: a lead unit, a co-unit, a called-in department, a unit whose done task
    outlived its lead, a withdrawn task (no longer seen), the requester, and the assignee."""
    from changxin.core.tests.builders import make_user

    led = dispatched(world, co_units=[world.changxindian.pk])
    transition(led, "acknowledge", world.officer_lgq, now=MON)
    transition(led, "whistle", world.officer_lgq, units=[world.department.pk], note="到场", now=MON)
    redispatched = dispatched(world)
    transition(redispatched, "dispute", world.officer_lgq, reason="other", note="x", now=MON)
    transition(redispatched, "redispatch", world.dispatcher, lead_unit=world.department2.pk, note="改派")
    DemandTask.objects.filter(demand=redispatched, unit=world.lugouqiao).update(state=TaskState.DONE)
    own = world.demand(actor=world.citizen)
    manager = make_user("manager2", Role.SERVICE_MANAGER, world.changxindian)
    assigned = transition(dispatched(world), "assign", world.officer_lgq, assignee=manager.pk)
    world.demand()  # received, seen by the centre only
    users = [world.officer_lgq, world.officer_cxd, world.officer_dept, world.officer_dept2]
    users += [world.citizen, manager, world.dispatcher, world.leadership]
    for user in users:
        listed = set(demands_visible_to(user).values_list("pk", flat=True))
        counted = demands_visible_to(user, read_all=True)
        assert set(counted.values_list("pk", flat=True)) == listed, user
        assert counted.count() == len(listed), user
    assert set(demands_visible_to(world.officer_lgq).values_list("pk", flat=True)) == {
        led.pk,
        redispatched.pk,
        assigned.pk,
    }
    assert led.pk in set(demands_visible_to(world.officer_dept, read_all=True).values_list("pk", flat=True))
    assert own.pk in set(demands_visible_to(world.citizen, read_all=True).values_list("pk", flat=True))
    assert assigned.pk in set(demands_visible_to(manager, read_all=True).values_list("pk", flat=True))
