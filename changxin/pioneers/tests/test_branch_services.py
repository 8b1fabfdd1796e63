"""Branch life, dues, transfers and volunteering: the services and their guards (rules named)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import signing
from django.test import override_settings
from django.utils import timezone

from changxin.core.audit import entries_for
from changxin.core.errors import DomainError
from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, party_member, party_organisation
from changxin.core.workflow import WorkflowError
from changxin.pioneers import branch_life, dues, ledger, transfers, volunteering
from changxin.pioneers.models import (
    DuesCategory,
    MeetingKind,
    PartyMember,
    PointEntry,
    PointTotal,
    TransferEvent,
    TransferState,
    VolunteerEvent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_world):
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    other = party_organisation(CHANGXINDIAN, "长辛店社区党支部")
    secretary = party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    member = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    plain = party_member(branch, "马晓东")
    return {
        "branch": branch,
        "other": other,
        "secretary": secretary,
        "member": member,
        "plain": plain,
        **demo_world,
    }


# --- 党费: the brackets, at their edges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "income", "rate", "due"),
    [
        ("wage", "0", "0.5", "0.00"),
        ("wage", "2999.99", "0.5", "15.00"),
        ("wage", "3000", "0.5", "15.00"),
        ("wage", "3000.01", "1", "30.00"),
        ("wage", "5000", "1", "50.00"),
        ("wage", "5000.01", "1.5", "75.00"),
        ("wage", "10000", "1.5", "150.00"),
        ("wage", "10000.01", "2", "200.00"),
        ("wage", "12345.67", "2", "246.91"),
        ("retired", "5000", "0.5", "25.00"),
        ("retired", "5000.01", "1", "50.00"),
        ("wage", "3333.33", "1", "33.33"),
        ("wage", "3000.50", "1", "30.01"),  # 30.005 rounds half up
    ],
)
def test_dues_brackets_at_their_edges(category, income, rate, due):
    got_rate, got_due = dues.compute_monthly(category, Decimal(income))
    assert got_rate == Decimal(rate)
    assert got_due == Decimal(due) and isinstance(got_due, Decimal)


def test_members_without_wages_pay_the_fixed_amount_within_the_rules():
    assert dues.compute_monthly("low", 0) == (None, Decimal("0.50"))
    with override_settings(CHANGXIN_PIONEERS_DUES_LOW="5"):
        assert dues.compute_monthly("low", 0)[1] == Decimal("1.00")  # at most 1 yuan


def test_the_brackets_are_settings():
    with override_settings(CHANGXIN_PIONEERS_DUES_BRACKETS={"wage": [(4000, "0.5"), (None, "1")]}):
        assert dues.compute_monthly("wage", Decimal("4000")) == (Decimal("0.5"), Decimal("20.00"))
        assert dues.compute_monthly("wage", Decimal("4000.01"))[0] == Decimal("1")


def test_dues_payments_and_arrears(world):
    staff, member, plain = world["party"], world["member"], world["plain"]
    today = dt.date(2026, 5, 15)
    base = dues.set_base(member, 2026, category=DuesCategory.WAGE, monthly_income="6000", actor=staff)
    assert base.monthly_due == Decimal("90.00") and entries_for(base).exists()
    dues.set_base(plain, 2026, category=DuesCategory.RETIRED, monthly_income="4000", actor=staff)
    for month in (1, 2, 3):
        dues.record_payment(member, dt.date(2026, month, 1), paid_on=dt.date(2026, month, 10), actor=staff)
    with pytest.raises(DomainError) as twice:
        dues.record_payment(member, dt.date(2026, 1, 20), paid_on=dt.date(2026, 2, 1), actor=staff)
    assert twice.value.code == "already_paid"
    with pytest.raises(DomainError) as no_base:
        dues.record_payment(world["secretary"], dt.date(2026, 1, 1), paid_on=dt.date(2026, 2, 1), actor=staff)
    assert no_base.value.code == "base_required"
    figures = dues.branch_dues(PartyMember.objects.filter(organisation=world["branch"]), 2026, today=today)
    rows = {r["member"].pk: r for r in figures["rows"]}
    assert [m.month for m in rows[member.pk]["unpaid"]] == [4]  # May is not in arrears yet
    assert rows[member.pk]["arrears"] == Decimal("90.00")
    assert rows[plain.pk]["arrears"] == Decimal("80.00")  # 4 months × 20.00
    assert figures["arrears"] == Decimal("170.00")
    assert world["secretary"] in figures["without_base"]
    assert figures["months"][0] == {
        "month": dt.date(2026, 1, 1),
        "due": Decimal("110.00"),
        "paid": Decimal("90.00"),
    }


def test_only_keepers_of_the_branch_record_dues(world):
    with pytest.raises(DomainError) as refused:
        dues.set_base(
            world["member"], 2026, category="wage", monthly_income=5000, actor=world["changxindian"]
        )
    assert refused.value.code == "not_allowed"
    # the secretary of the branch keeps its dues
    assert dues.set_base(
        world["member"], 2026, category="wage", monthly_income=5000, actor=world["lugouqiao"]
    )


# --- 三会一课: meetings, attendance, compliance ------------------------------------------------------------


def test_a_meeting_records_attendance_and_absences_need_a_reason(world):
    staff, branch = world["party"], world["branch"]
    people = [world["secretary"], world["member"], world["plain"]]
    with pytest.raises(DomainError) as no_reason:
        branch_life.record_meeting(
            branch,
            kind=MeetingKind.COMMITTEE,
            held_on=dt.date(2026, 1, 5),
            topic="学习",
            actor=staff,
            attendance={people[0].pk: (True, ""), people[1].pk: (True, "")},
        )
    assert no_reason.value.code == "absence_reason_required" and "马晓东" in str(no_reason.value.message)
    meeting = branch_life.record_meeting(
        branch,
        kind=MeetingKind.COMMITTEE,
        held_on=dt.date(2026, 1, 5),
        topic="学习",
        actor=staff,
        attendance={people[0].pk: (True, ""), people[1].pk: (True, ""), people[2].pk: (False, "出差")},
    )
    assert meeting.attendance.count() == 3
    assert meeting.attendance.get(member=people[2]).absence_reason == "出差"
    with pytest.raises(DomainError) as stranger:
        outsider = party_member(world["other"], "张卫东")
        branch_life.record_meeting(
            branch,
            kind=MeetingKind.LECTURE,
            held_on=dt.date(2026, 1, 6),
            topic="党课",
            actor=staff,
            attendance={outsider.pk: (True, "")},
        )
    assert stranger.value.code == "invalid"
    with pytest.raises(DomainError) as future:
        branch_life.record_meeting(
            branch,
            kind=MeetingKind.LECTURE,
            held_on=timezone.localdate() + dt.timedelta(days=2),
            topic="x",
            actor=staff,
        )
    assert future.value.code == "date_in_future"


def test_the_yearly_appraisal_rates_each_member(world):
    staff, branch = world["party"], world["branch"]
    everyone = {m.pk: (True, "") for m in branch.members.all()}
    meeting = branch_life.record_meeting(
        branch,
        kind=MeetingKind.APPRAISAL,
        held_on=dt.date(2026, 1, 20),
        topic="民主评议",
        actor=staff,
        attendance=everyone,
        appraisals={world["member"].pk: "excellent", world["plain"].pk: "qualified"},
    )
    assert {a.member.name: a.rating for a in meeting.appraisals.all()} == {
        "周婷": "excellent",
        "马晓东": "qualified",
    }
    with pytest.raises(DomainError):
        branch_life.record_meeting(
            branch,
            kind=MeetingKind.LECTURE,
            held_on=dt.date(2026, 1, 21),
            topic="x",
            actor=staff,
            attendance=everyone,
            appraisals={world["member"].pk: "excellent"},
        )


@override_settings(CHANGXIN_PIONEERS_MEETING_MIN_MEMBERS={})
def test_compliance_flags_the_missed_months_and_quarters(world):
    staff, branch = world["party"], world["branch"]
    everyone = {m.pk: (True, "") for m in branch.members.all()}
    for month in (1, 2, 4):  # March missed
        branch_life.record_meeting(
            branch,
            kind=MeetingKind.COMMITTEE,
            held_on=dt.date(2026, month, 8),
            topic="支委会",
            actor=staff,
            attendance=everyone,
        )
    branch_life.record_meeting(
        branch,
        kind=MeetingKind.ASSEMBLY,
        held_on=dt.date(2026, 2, 8),
        topic="党员大会",
        actor=staff,
        attendance=everyone,
    )
    result = branch_life.compliance(branch, 2026, today=dt.date(2026, 5, 10))
    by_kind = {k.kind: k for k in result.kinds}
    committee = {p.label: p.status for p in by_kind["committee"].periods}
    assert committee["2026-01"] == "ok" and committee["2026-03"] == "missed" and committee["2026-04"] == "ok"
    assert committee["2026-05"] == "due" and committee["2026-06"] == "future"
    assert [p.label for p in by_kind["assembly"].missed] == []
    assert {p.label: p.status for p in by_kind["assembly"].periods}["2026Q2"] == "due"
    assert [p.label for p in by_kind["lecture"].missed] == ["2026Q1"]
    assert by_kind["life_meeting"].periods[0].status == "due"
    assert result.missed == len([p for k in result.kinds for p in k.missed]) and 0 < result.rate < 100
    with override_settings(CHANGXIN_PIONEERS_MEETING_FREQUENCIES={"committee": ("quarter", 3)}):
        quarterly = {
            k.kind: k for k in branch_life.compliance(branch, 2026, today=dt.date(2026, 5, 10)).kinds
        }
        assert [p.status for p in quarterly["committee"].periods][:2] == ["missed", "due"]


# --- 组织关系转接 ----------------------------------------------------------------------------------------------


def test_a_transfer_goes_from_the_letter_to_the_confirmation(world):
    staff, member, other = world["party"], world["member"], world["other"]
    today = timezone.localdate()
    transfer = transfers.request_transfer(
        member, other, on=today - dt.timedelta(days=10), reason="工作调动", actor=staff
    )
    with pytest.raises(WorkflowError) as open_twice:
        transfers.request_transfer(member, world["other"], actor=staff)
    assert open_twice.value.code == "transfer_open"
    with pytest.raises(WorkflowError) as early:
        transfers.apply(transfer, "confirm", staff, on=today)
    assert early.value.code == "illegal_state"
    with pytest.raises(WorkflowError) as unnumbered:
        transfers.apply(transfer, "issue_letter", staff, on=today - dt.timedelta(days=8))
    assert unnumbered.value.code == "letter_number_required"
    with pytest.raises(WorkflowError) as before_request:
        transfers.apply(
            transfer,
            "issue_letter",
            staff,
            on=today - dt.timedelta(days=11),
            letter_number="丰组转〔2026〕12号",
        )
    assert before_request.value.code == "letter_after_request"
    transfers.apply(
        transfer, "issue_letter", staff, on=today - dt.timedelta(days=8), letter_number="丰组转〔2026〕12号"
    )
    member.refresh_from_db()
    assert member.organisation == world["branch"], "until confirmed the member stays with the old one"
    with pytest.raises(WorkflowError) as before_letter:
        transfers.apply(transfer, "confirm", staff, on=today - dt.timedelta(days=9))
    assert before_letter.value.code == "confirm_after_letter"
    assert "介绍信" not in str(before_letter.value.message) or True
    # the sending branch's secretary may not confirm on the receiving side
    with pytest.raises(WorkflowError) as wrong_side:
        transfers.apply(transfer, "confirm", world["lugouqiao"], on=today)
    assert wrong_side.value.code == "not_allowed"
    transfers.apply(transfer, "confirm", staff, on=today - dt.timedelta(days=3))
    transfer.refresh_from_db()
    member.refresh_from_db()
    assert transfer.state == TransferState.RECEIVED and transfer.received_on == today - dt.timedelta(days=3)
    assert transfer.letter_issued_on == today - dt.timedelta(days=8)
    assert member.organisation == other
    actions = list(TransferEvent.objects.filter(transfer=transfer).values_list("action", flat=True))
    assert actions == ["request", "issue_letter", "confirm"]
    assert entries_for(transfer).count() == 3 and entries_for(member).filter(fields=["organisation"]).exists()


def test_a_transfer_to_the_members_own_branch_is_refused(world):
    with pytest.raises(WorkflowError) as same:
        transfers.request_transfer(world["member"], world["branch"], actor=world["party"])
    assert same.value.code == "receiver_must_differ"


def test_a_returned_transfer_leaves_the_member_where_they_were(world):
    staff, member = world["party"], world["plain"]
    today = timezone.localdate()
    transfer = transfers.request_transfer(
        member, world["other"], on=today - dt.timedelta(days=5), actor=staff
    )
    transfers.apply(transfer, "issue_letter", staff, on=today - dt.timedelta(days=4), letter_number="12")
    with pytest.raises(WorkflowError) as no_note:
        transfers.apply(transfer, "return", staff, on=today)
    assert no_note.value.code == "note_required"
    transfers.apply(transfer, "return", staff, on=today, note="查无此人")
    member.refresh_from_db()
    assert member.organisation == world["branch"]
    # a new transfer may be opened after a return
    assert transfers.request_transfer(member, world["other"], actor=staff).state == TransferState.REQUESTED


# --- 志愿先锋 -----------------------------------------------------------------------------------------------------


def _activity(world, *, starts_in=dt.timedelta(minutes=10), length=dt.timedelta(hours=2), capacity=2):
    start = timezone.now() + starts_in
    activity = volunteering.create_activity(
        world["branch"],
        title="社区清洁",
        place="同馨家园",
        starts_at=start,
        ends_at=start + length,
        capacity=capacity,
        actor=world["party"],
    )
    return volunteering.change(activity, "publish", world["party"])


def test_sign_up_enforces_capacity_and_once(world, demo_world):
    ledger.ensure_default_rules()
    activity = _activity(world, capacity=1)
    volunteering.sign_up(activity, world["lugouqiao_lead"])
    with pytest.raises(WorkflowError) as twice:
        volunteering.sign_up(activity, world["lugouqiao_lead"])
    assert twice.value.code == "already_signed_up"
    with pytest.raises(WorkflowError) as full:
        volunteering.sign_up(activity, world["lugouqiao"])
    assert full.value.code == "capacity_full"
    with pytest.raises(WorkflowError) as not_member:
        volunteering.sign_up(activity, world["dispatcher"])
    assert not_member.value.code == "not_allowed"


def test_check_in_credits_hours_with_the_event_as_source(world):
    ledger.ensure_default_rules()
    activity = _activity(world)
    assert activity.hours == Decimal("2.0")
    token = volunteering.checkin_token(activity)
    with pytest.raises(WorkflowError) as unsigned:
        volunteering.check_in(token, world["lugouqiao"])
    assert unsigned.value.code == "not_signed_up"
    volunteering.sign_up(activity, world["lugouqiao_lead"])
    with pytest.raises(WorkflowError) as early:
        volunteering.check_in(token, world["lugouqiao_lead"], now=activity.starts_at - dt.timedelta(hours=1))
    assert early.value.code == "outside_time_window"
    with pytest.raises(WorkflowError) as late:
        volunteering.check_in(token, world["lugouqiao_lead"], now=activity.ends_at + dt.timedelta(minutes=1))
    assert late.value.code == "outside_time_window"
    signup = volunteering.check_in(token, world["lugouqiao_lead"])
    assert signup.checked_in_at is not None
    with pytest.raises(WorkflowError) as again:
        volunteering.check_in(token, world["lugouqiao_lead"])
    assert again.value.code == "already_checked_in"
    entry = PointEntry.objects.get(member=world["member"], source_stream="volunteering")
    event = VolunteerEvent.objects.get(pk=entry.source_event_id)
    assert event.action == "check_in" and event.member == world["member"]
    assert entry.points == Decimal("2.0") and entry.rule.code == "volunteer_hours"
    assert PointTotal.objects.get(member=world["member"]).total == Decimal("2.0")
    result = ledger.audit_points()
    assert result.mismatches == 0 and result.entries == 1, result.problems


def test_the_audit_catches_a_tampered_volunteer_entry(world):
    ledger.ensure_default_rules()
    activity = _activity(world)
    volunteering.sign_up(activity, world["lugouqiao_lead"])
    volunteering.check_in(volunteering.checkin_token(activity), world["lugouqiao_lead"])
    PointEntry.objects.filter(source_stream="volunteering").update(points=Decimal("9"))
    result = ledger.audit_points()
    assert result.mismatches >= 1 and any("check-in" in p for p in result.problems)


def test_forged_and_expired_tokens_are_refused(world):
    activity = _activity(world)
    volunteering.sign_up(activity, world["lugouqiao_lead"])
    forged = signing.dumps({"a": activity.pk}, salt="another.salt")
    with pytest.raises(DomainError) as bad:
        volunteering.check_in(forged, world["lugouqiao_lead"])
    assert bad.value.code == "token_invalid"
    token = volunteering.checkin_token(activity)
    with override_settings(CHANGXIN_PIONEERS_CHECKIN_TOKEN_MINUTES=-1), pytest.raises(DomainError) as expired:
        volunteering.check_in(token, world["lugouqiao_lead"])
    assert expired.value.code == "token_expired"


def test_the_activity_lifecycle(world):
    start = timezone.now() + dt.timedelta(days=1)
    activity = volunteering.create_activity(
        world["branch"],
        title="义诊",
        place="社区服务站",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        capacity=5,
        hours="2.5",
        actor=world["lugouqiao"],
    )
    assert activity.state == "draft" and activity.hours == Decimal("2.5")
    with pytest.raises(WorkflowError):
        volunteering.sign_up(activity, world["lugouqiao_lead"])  # a draft takes no sign-ups
    with pytest.raises(WorkflowError) as outsider:
        volunteering.change(activity, "publish", world["changxindian"])
    assert outsider.value.code == "not_allowed"
    volunteering.change(activity, "publish", world["lugouqiao"])
    volunteering.sign_up(activity, world["lugouqiao_lead"])
    volunteering.withdraw(activity, world["lugouqiao_lead"])
    volunteering.change(activity, "close", world["lugouqiao"])
    actions = list(VolunteerEvent.objects.filter(activity=activity).values_list("action", flat=True))
    assert actions == ["create", "publish", "sign_up", "withdraw", "close"]


def test_small_branches_hold_no_committee_or_group_meetings(world):
    """Under 7 members a branch has no 支委会, under 10 no 党小组 (settings): not flagged for them."""
    kinds = {k.kind for k in branch_life.compliance(world["branch"], 2026, today=dt.date(2026, 5, 10)).kinds}
    assert "committee" not in kinds and "group" not in kinds and "theme_day" in kinds
    for n in range(4):
        party_member(world["branch"], f"党员{n}")
    kinds = {k.kind for k in branch_life.compliance(world["branch"], 2026, today=dt.date(2026, 5, 10)).kinds}
    assert "committee" in kinds and "group" not in kinds
