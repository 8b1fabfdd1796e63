"""发展党员: the statutory minimums are guards; an early step or one without its record is refused
with the rule named, and every step writes an event row (published) and an audit row."""

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core.audit import entries_for
from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, party_member, party_organisation
from changxin.core.workflow import WorkflowError
from changxin.pioneers import events as payloads
from changxin.pioneers import pipeline, services
from changxin.pioneers.models import MemberStatus, PipelineEvent, RecordKind, Stage

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=3 * 365)


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


@pytest.fixture
def branch(demo_world):
    org = party_organisation(LUGOUQIAO, "小井村党支部", field="rural")
    party_member(org, "书记", user=demo_world["lugouqiao"], secretary=True)
    return org


@pytest.fixture
def staff(demo_world):
    return demo_world["party"]


@pytest.fixture
def case(branch, staff):
    return services.record_application(
        branch, name="申请人甲", birth_date=dt.date(1995, 5, 1), applied_on=day(0), actor=staff
    )


def refused(case, name, actor, on, code):
    with pytest.raises(WorkflowError) as caught:
        services.take_step(case, name, actor, on=on)
    assert caught.value.code == code, caught.value
    return str(caught.value.message)


def test_an_applicant_under_eighteen_is_refused(branch, staff):
    with pytest.raises(WorkflowError) as caught:
        services.record_application(
            branch, name="少年", birth_date=day(-17 * 365), applied_on=day(0), actor=staff
        )
    assert caught.value.code == "applicant_under_18"


def test_no_activist_without_the_talk(case, staff):
    message = refused(case, "make_activist", staff, day(10), "talk_required")
    assert "规定" in message or "Rule" in message
    services.add_record(case, RecordKind.TALK, day(20), actor=staff)
    services.take_step(case, "make_activist", staff, on=day(30))
    assert case.stage == Stage.ACTIVIST and case.activist_on == day(30)


def test_development_target_only_after_a_year_of_training(case, staff):
    services.add_record(case, RecordKind.TALK, day(20), actor=staff)
    services.take_step(case, "make_activist", staff, on=day(30))
    services.add_record(case, RecordKind.TRAINING, day(100), actor=staff)
    message = refused(case, "make_target", staff, day(200), "activist_one_year")
    assert pipeline.add_years(day(30), 1).isoformat() in message  # the earliest date is named
    assert case.stage == Stage.ACTIVIST and not PipelineEvent.objects.filter(action="make_target").exists()
    services.take_step(case, "make_target", staff, on=pipeline.add_years(day(30), 1))
    assert case.stage == Stage.TARGET


def test_training_record_is_required_even_after_a_year(case, staff):
    services.add_record(case, RecordKind.TALK, day(20), actor=staff)
    services.take_step(case, "make_activist", staff, on=day(30))
    refused(case, "make_target", staff, day(400), "training_required")


def walk_to_target(case, staff):
    services.add_record(case, RecordKind.TALK, day(20), actor=staff)
    services.take_step(case, "make_activist", staff, on=day(30))
    services.add_record(case, RecordKind.TRAINING, day(100), actor=staff)
    services.take_step(case, "make_target", staff, on=day(400))


def test_admission_needs_every_record_in_order(case, staff, branch):
    walk_to_target(case, staff)
    refused(case, "admit", staff, day(500), "political_review_required")
    services.add_record(case, RecordKind.POLITICAL_REVIEW, day(410), actor=staff)
    services.add_record(case, RecordKind.CENTRAL_TRAINING, day(420), actor=staff)
    refused(case, "admit", staff, day(500), "two_sponsors_required")
    for name in ("介绍人甲", "介绍人乙"):
        services.add_record(
            case, RecordKind.SPONSOR, day(430), actor=staff, sponsor=party_member(branch, name)
        )
    # a notice of two days is too short
    services.add_record(case, RecordKind.PUBLIC_NOTICE, day(440), until=day(441), actor=staff)
    refused(case, "admit", staff, day(500), "public_notice_required")
    services.add_record(case, RecordKind.PUBLIC_NOTICE, day(442), until=day(452), actor=staff)
    refused(case, "admit", staff, day(500), "branch_vote_required")
    services.add_record(case, RecordKind.BRANCH_VOTE, day(460), actor=staff)
    refused(case, "admit", staff, day(500), "superior_approval_required")
    services.add_record(case, RecordKind.SUPERIOR_APPROVAL, day(460 + 100), actor=staff)
    refused(case, "admit", staff, day(570), "approval_within_three_months")
    services.add_record(case, RecordKind.SUPERIOR_APPROVAL, day(480), actor=staff)
    # judged at the step's date: the late approval is not yet on the record on day 500
    services.take_step(case, "admit", staff, on=day(500))
    assert case.stage == Stage.PROBATIONARY
    assert case.probationary_on == day(460) and case.probation_ends_on == pipeline.add_years(day(460), 1)
    assert case.member.status == MemberStatus.PROBATIONARY and case.member.organisation == branch

    message = refused(case, "confirm", staff, day(700), "probation_one_year")
    assert case.probation_ends_on.isoformat() in message
    refused(case, "confirm", staff, case.probation_ends_on, "confirmation_vote_required")
    services.add_record(case, RecordKind.CONFIRMATION_VOTE, case.probation_ends_on, actor=staff)
    services.take_step(case, "confirm", staff, on=case.probation_ends_on + dt.timedelta(days=3))
    case.member.refresh_from_db()
    assert case.stage == Stage.FULL and case.member.status == MemberStatus.FULL


def test_sponsors_must_be_full_members(case, staff, branch):
    walk_to_target(case, staff)
    for name in ("预备甲", "预备乙"):
        member = party_member(branch, name, status=MemberStatus.PROBATIONARY)
        services.add_record(case, RecordKind.SPONSOR, day(430), actor=staff, sponsor=member)
    services.add_record(case, RecordKind.POLITICAL_REVIEW, day(410), actor=staff)
    services.add_record(case, RecordKind.CENTRAL_TRAINING, day(420), actor=staff)
    refused(case, "admit", staff, day(500), "two_sponsors_required")


def test_every_step_writes_a_typed_event_and_an_audit_row_and_is_published(
    case, staff, django_capture_on_commit_callbacks
):
    from changxin.core import events

    seen = []
    services.add_record(case, RecordKind.TALK, day(20), actor=staff)
    with (
        events.subscribed("test.pipeline", lambda e: seen.append(e.pk), stream="pipeline"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.take_step(case, "make_activist", staff, on=day(30))
    event = PipelineEvent.objects.get(action="make_activist")
    assert seen == [event.pk]
    assert (event.from_stage, event.to_stage, event.actor) == (Stage.APPLICANT, Stage.ACTIVIST, staff)
    assert payloads.read(event) == payloads.StepTaken(step="make_activist", on=day(30).isoformat())
    assert entries_for(case).filter(action="state").count() == 1
    assert [e.action for e in case.events.order_by("pk")] == ["apply", "record", "make_activist"]


def test_actors_are_party_staff_over_the_unit_and_the_branch_secretary(case, demo_world):
    services.add_record(case, RecordKind.TALK, day(20), actor=demo_world["lugouqiao"])  # the secretary
    for outsider in (demo_world["changxindian"], demo_world["leader"]):
        with pytest.raises(WorkflowError) as caught:
            services.take_step(case, "make_activist", outsider, on=day(30))
        assert caught.value.code == "not_allowed"
    other_staff_org = party_organisation(CHANGXINDIAN)
    assert services.relations_of(demo_world["lugouqiao"], other_staff_org) == set()
    services.take_step(case, "make_activist", demo_world["lugouqiao"], on=day(30))


def test_no_step_in_the_future(case, staff):
    services.add_record(case, RecordKind.TALK, day(20), actor=staff)
    with pytest.raises(Exception) as caught:
        services.take_step(case, "make_activist", staff, on=TODAY + dt.timedelta(days=2))
    assert caught.value.code == "date_in_future"


def test_the_board_says_what_is_due_next(case, staff):
    assert pipeline.earliest_next(case) == day(0)
    assert [g.code for g in pipeline.missing_for_next(case, TODAY)] == ["talk_required"]
    walk_to_target(case, staff)
    assert pipeline.earliest_next(case) == day(400)
    assert "political_review_required" in [g.code for g in pipeline.missing_for_next(case, TODAY)]


def test_machine_offers_only_steps_whose_guards_hold(case, staff):
    assert services.available_steps(staff, case) == []
    services.add_record(case, RecordKind.TALK, day(20), actor=staff)
    assert [t.name for t in services.available_steps(staff, case)] == ["make_activist"]
