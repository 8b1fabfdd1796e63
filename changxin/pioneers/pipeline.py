"""发展党员: the development pipeline as a workflow machine instance (pure: no writes).

The statutory minimums of RULES.md ("Party member development") are the guards: a step taken
earlier than its minimum, or without its dated record, is refused with the rule named (the guard's
code and its translated message). A step is taken *on a date* (the date of the meeting or decision);
the guards are asked at that date, so a step recorded afterwards is judged by when it happened.

    applicant ─make_activist→ activist ─make_target→ target ─admit→ probationary ─confirm→ full
                                                                      │ extend (once) ↺
                                                                      └ cancel → cancelled
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core.workflow import Guard, Machine
from changxin.core.workflow import transition as t
from changxin.pioneers.models import MemberStatus, RecordKind, Stage

# actor relations (worked out by services.relations_of)
STAFF = "party_staff"  # party staff whose unit's subtree holds the organisation
SECRETARY = "secretary"  # the secretary of the case's own organisation

MIN_AGE = 18
TALK_WITHIN_MONTHS = 1
ACTIVIST_YEARS = 1
PROBATION_YEARS = 1
NOTICE_WORKING_DAYS = 5  # *default* in RULES.md
APPROVAL_WITHIN_MONTHS = 3


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _day(now: dt.datetime | dt.date) -> dt.date:
    if isinstance(now, dt.datetime):
        return timezone.localdate(now) if timezone.is_aware(now) else now.date()
    return now


def _records(case, kind, on: dt.date):
    return [r for r in case.records_of(kind) if r.on <= on]


def working_days(first: dt.date, last: dt.date) -> int:
    """Working days from `first` to `last`, both included (the official calendar)."""
    from changxin.core.workcalendar import is_workday

    count, day = 0, first
    while day <= last:
        count += is_workday(day)
        day += dt.timedelta(days=1)
    return count


# --- the rules, one guard each -----------------------------------------------------------------


def activist_ready_on(case) -> dt.date | None:
    return add_years(case.activist_on, ACTIVIST_YEARS) if case.activist_on else None


def probation_ends_on(case) -> dt.date | None:
    return case.probation_ends_on


def _notice_ok(case, on):
    return any(
        r.until and r.until < on and working_days(r.on, r.until) >= NOTICE_WORKING_DAYS
        for r in _records(case, RecordKind.PUBLIC_NOTICE, on)
    )


def _sponsors_ok(case, on):
    sponsors = {
        r.sponsor_id
        for r in _records(case, RecordKind.SPONSOR, on)
        if r.sponsor_id and r.sponsor.status == MemberStatus.FULL
    }
    return len(sponsors) >= 2


def _last(case, kind, on):
    found = _records(case, kind, on)
    return found[-1] if found else None


def _vote_after_notice(case, on):
    vote = _last(case, RecordKind.BRANCH_VOTE, on)
    notices = [r.until for r in _records(case, RecordKind.PUBLIC_NOTICE, on) if r.until]
    return vote is not None and bool(notices) and vote.on > max(notices)


def _approval_ok(case, on):
    vote = _last(case, RecordKind.BRANCH_VOTE, on)
    approval = _last(case, RecordKind.SUPERIOR_APPROVAL, on)
    return vote is not None and approval is not None and approval.on >= vote.on


def _approval_in_time(case, on):
    vote = _last(case, RecordKind.BRANCH_VOTE, on)
    approval = _last(case, RecordKind.SUPERIOR_APPROVAL, on)
    if vote is None or approval is None:
        return True  # the approval guard names the missing record
    return approval.on <= add_months(vote.on, APPROVAL_WITHIN_MONTHS)


def _confirmation_vote(case, on):
    ends = case.probation_ends_on
    return ends is not None and any(r.on >= ends for r in _records(case, RecordKind.CONFIRMATION_VOTE, on))


def _iso(day):
    return day.isoformat() if day else "—"


TALKED = Guard(
    lambda c, now: bool(_records(c, RecordKind.TALK, _day(now))),
    "talk_required",
    _(
        "Rule: the organisation talks with the applicant within one month of the application "
        "(谈话). Record the talk before making the applicant an activist."
    ),
)
ACTIVIST_ONE_YEAR = Guard(
    lambda c, now: c.activist_on is not None and _day(now) >= activist_ready_on(c),
    "activist_one_year",
    _(
        "Rule: an activist is trained and observed for at least one year before becoming a "
        "development target (培养考察一年以上). The earliest date is %(date)s."
    ),
    params=lambda c: {"date": _iso(activist_ready_on(c))},
)
TRAINED = Guard(
    lambda c, now: bool(_records(c, RecordKind.TRAINING, _day(now))),
    "training_required",
    _("Rule: an activist's training and observation (培养考察) must be recorded before the next step."),
)
POLITICAL_REVIEW = Guard(
    lambda c, now: bool(_records(c, RecordKind.POLITICAL_REVIEW, _day(now))),
    "political_review_required",
    _("Rule: a development target needs a political review (政治审查) before admission."),
)
CENTRAL_TRAINING = Guard(
    lambda c, now: bool(_records(c, RecordKind.CENTRAL_TRAINING, _day(now))),
    "central_training_required",
    _("Rule: a development target needs centralised training (集中培训) before admission."),
)
TWO_SPONSORS = Guard(
    lambda c, now: _sponsors_ok(c, _day(now)),
    "two_sponsors_required",
    _("Rule: two full members sponsor the development target (两名正式党员作入党介绍人)."),
)
PUBLIC_NOTICE = Guard(
    lambda c, now: _notice_ok(c, _day(now)),
    "public_notice_required",
    _(
        "Rule: the development target is publicly noticed (公示) for at least %(days)s working days, "
        "ended before the branch decides."
    ),
    params=lambda c: {"days": NOTICE_WORKING_DAYS},
)
BRANCH_VOTE = Guard(
    lambda c, now: _vote_after_notice(c, _day(now)),
    "branch_vote_required",
    _("Rule: the branch meeting votes on the admission (支部大会讨论) after the public notice has ended."),
)
SUPERIOR_APPROVAL = Guard(
    lambda c, now: _approval_ok(c, _day(now)),
    "superior_approval_required",
    _("Rule: the higher party committee approves the admission (上级党委审批) after the branch vote."),
)
APPROVAL_IN_TIME = Guard(
    lambda c, now: _approval_in_time(c, _day(now)),
    "approval_within_three_months",
    _("Rule: the higher committee decides within three months of the branch vote (三个月内审批)."),
)
PROBATION_ONE_YEAR = Guard(
    lambda c, now: c.probation_ends_on is not None and _day(now) >= c.probation_ends_on,
    "probation_one_year",
    _(
        "Rule: the probation lasts one year (预备期一年); the branch decides at its end, on "
        "%(date)s at the earliest."
    ),
    params=lambda c: {"date": _iso(c.probation_ends_on)},
)
CONFIRMATION_VOTE = Guard(
    lambda c, now: _confirmation_vote(c, _day(now)),
    "confirmation_vote_required",
    _("Rule: the branch meeting votes at the end of the probation (支部大会讨论转正)."),
)
NOT_EXTENDED = Guard(
    lambda c, now: not c.extended,
    "extension_once",
    _("Rule: a probation is extended at most once, by at most one year (延长预备期最多一年)."),
)

MACHINE = Machine(
    name="pipeline",
    states=Stage,
    state_field="stage",
    noun=_("development case"),
    transitions=[
        t(
            "make_activist",
            _("Make activist"),
            [Stage.APPLICANT],
            Stage.ACTIVIST,
            {STAFF, SECRETARY},
            False,
            [TALKED],
        ),
        t(
            "make_target",
            _("Make development target"),
            [Stage.ACTIVIST],
            Stage.TARGET,
            {STAFF, SECRETARY},
            False,
            [ACTIVIST_ONE_YEAR, TRAINED],
        ),
        t(
            "admit",
            _("Admit as probationary member"),
            [Stage.TARGET],
            Stage.PROBATIONARY,
            {STAFF, SECRETARY},
            False,
            [
                POLITICAL_REVIEW,
                CENTRAL_TRAINING,
                TWO_SPONSORS,
                PUBLIC_NOTICE,
                BRANCH_VOTE,
                SUPERIOR_APPROVAL,
                APPROVAL_IN_TIME,
            ],
        ),
        t(
            "confirm",
            _("Confirm as full member"),
            [Stage.PROBATIONARY],
            Stage.FULL,
            {STAFF, SECRETARY},
            False,
            [PROBATION_ONE_YEAR, CONFIRMATION_VOTE],
        ),
        t(
            "extend",
            _("Extend the probation"),
            [Stage.PROBATIONARY],
            None,
            {STAFF, SECRETARY},
            True,
            [PROBATION_ONE_YEAR, CONFIRMATION_VOTE, NOT_EXTENDED],
        ),
        t(
            "cancel",
            _("Cancel the probation"),
            [Stage.PROBATIONARY],
            Stage.CANCELLED,
            {STAFF, SECRETARY},
            True,
            [CONFIRMATION_VOTE],
        ),
    ],
)

# the next step of each stage, for the board
NEXT_STEP = {
    Stage.APPLICANT: "make_activist",
    Stage.ACTIVIST: "make_target",
    Stage.TARGET: "admit",
    Stage.PROBATIONARY: "confirm",
}


def earliest_next(case) -> dt.date | None:
    """The earliest date the case may take its next step by the minimum intervals alone (records
    still to come are listed by `missing_for_next`)."""
    if case.stage == Stage.APPLICANT:
        return case.applied_on
    if case.stage == Stage.ACTIVIST:
        return activist_ready_on(case)
    if case.stage == Stage.TARGET:
        return case.target_on
    if case.stage == Stage.PROBATIONARY:
        return case.probation_ends_on
    return None


def missing_for_next(case, on: dt.date) -> list[Guard]:
    """The guards of the next step that do not hold on `on`: what is still due."""
    name = NEXT_STEP.get(case.stage)
    if name is None:
        return []
    moment = dt.datetime.combine(on, dt.time(12))
    return [g for g in MACHINE.get(name).guards if not g.test(case, moment)]
