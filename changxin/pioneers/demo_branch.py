"""Demo branch life, dues, a transfer in progress and volunteer activities, through the services.

The branches of the demo organisations hold a year of meetings (the last twelve months), with a
few missed so the compliance page flags them and absences with reasons; dues bases for this year
by the brackets, payments with some arrears; one transfer waiting for the receiving branch's
confirmation; volunteer activities: one past (sign-ups, check-ins credited to the ledger with the
check-in as source), one about to start, one next week. Texts: data/demo/branch_life.json.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from changxin.core.demodata import demo_data
from changxin.core.models import User
from changxin.pioneers import branch_life, dues, transfers, volunteering
from changxin.pioneers.models import (
    DuesBase,
    Meeting,
    MeetingKind,
    PartyMember,
    PartyOrganisation,
    Transfer,
    VolunteerActivity,
)

# the day of the month each kind is held on (主题党日 on a fixed day)
DAY = {
    "committee": 5,
    "theme_day": 15,
    "group": 20,
    "assembly": 25,
    "lecture": 26,
    "life_meeting": 12,
    "appraisal": 13,
}


def _months(today: dt.date) -> list[dt.date]:
    """The first days of the last twelve months, this month included."""
    months, month = [], today.replace(day=1)
    for _ in range(12):
        months.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return sorted(months)


def _meetings(org, plan, data, staff, today) -> int:
    members = list(PartyMember.objects.filter(organisation=org).order_by("pk"))
    reasons = data["absence_reasons"]
    skip = plan.get("skip", {})
    made = 0
    for index, month in enumerate(_months(today)):
        quarter = f"Q{(month.month - 1) // 3 + 1}"
        kinds = ["committee", "theme_day"] + (["group"] if plan.get("groups") else [])
        if month.month % 3 == 2:  # mid-quarter: the members' meeting and the party lecture
            kinds += ["assembly", "lecture"]
        if month.month == 1:
            kinds += ["life_meeting", "appraisal"]
        for kind in kinds:
            if month.month in skip.get(kind, []) or quarter in skip.get(kind, []):
                continue
            held_on = month.replace(day=DAY[kind])
            if held_on > today:
                continue
            topics = data["topics"][kind]
            attendance = {}
            for n, m in enumerate(members):
                absent = len(members) > 1 and (index + n + made) % 7 == 3
                attendance[m.pk] = (not absent, reasons[(index + n) % len(reasons)] if absent else "")
            ratings = None
            if kind == MeetingKind.APPRAISAL:
                ratings = {m.pk: ("excellent" if n % 3 == 0 else "qualified") for n, m in enumerate(members)}
            branch_life.record_meeting(
                org,
                kind=kind,
                held_on=held_on,
                topic=topics[(index + made) % len(topics)],
                minutes="会议由支部书记主持，与会党员逐一发言，形成会议决定。",
                attendance=attendance,
                appraisals=ratings,
                actor=staff,
            )
            made += 1
    return made


def _dues(data, staff, today) -> int:
    year = today.year
    made = 0
    for n, member in enumerate(PartyMember.objects.order_by("pk")):
        if DuesBase.objects.filter(member=member, year=year).exists():
            continue
        retired = member.birth_date is not None and member.birth_date.year < year - 60
        income = Decimal(data["incomes"][n % len(data["incomes"])])
        dues.set_base(
            member,
            year,
            category="retired" if retired else "wage",
            monthly_income=income * Decimal("0.6") if retired else income,
            actor=staff,
        )
        owed = dues.due_months(year, today, member.joined_on)
        behind = data["arrears"].get(member.name, 0)
        for month in owed[: len(owed) - behind] if behind else owed:
            dues.record_payment(member, month, paid_on=month.replace(day=10), actor=staff)
        made += 1
    return made


def _transfer(data, orgs, staff, today) -> Transfer | None:
    spec = data["transfer"]
    member = PartyMember.objects.filter(name=spec["member"]).first()
    if member is None or Transfer.objects.filter(member=member).exists():
        return None
    transfer = transfers.request_transfer(
        member,
        orgs[spec["to"]],
        on=today - dt.timedelta(days=spec["requested_days_ago"]),
        reason=spec["reason"],
        actor=staff,
    )
    return transfers.apply(
        transfer,
        "issue_letter",
        staff,
        on=today - dt.timedelta(days=spec["letter_days_ago"]),
        letter_number=spec["letter_number"],
    )


def _activities(data, orgs, staff) -> int:
    now = timezone.localtime()
    made = 0
    for spec in data["activities"]:
        if VolunteerActivity.objects.filter(title=spec["title"]).exists():
            continue
        day = now + dt.timedelta(days=spec["days_from_now"])
        if spec["hour"] is None:  # about to start: sign-up open, check-in from half an hour before
            start = (now + dt.timedelta(minutes=20)).replace(second=0, microsecond=0)
        else:
            start = day.replace(hour=spec["hour"], minute=0, second=0, microsecond=0)
        end = start + dt.timedelta(hours=spec["hours_long"])
        activity = volunteering.create_activity(
            orgs[spec["org"]],
            title=spec["title"],
            place=spec["place"],
            starts_at=start,
            ends_at=end,
            capacity=spec["capacity"],
            description=spec["description"],
            actor=staff,
        )
        before = min(start - dt.timedelta(days=2), now)
        volunteering.change(activity, "publish", staff, now=before)
        for n, username in enumerate(spec["signups"]):
            volunteering.sign_up(
                activity, User.objects.get(username=username), now=before + dt.timedelta(minutes=n)
            )
        token = volunteering.checkin_token(activity)
        for n, username in enumerate(spec["checkins"]):
            volunteering.check_in(
                token, User.objects.get(username=username), now=start + dt.timedelta(minutes=5 + n)
            )
        if spec["close"]:
            volunteering.change(activity, "close", staff, now=end)
        made += 1
    return made


def load_branch_demo(orgs: dict[str, PartyOrganisation], stdout=None) -> None:
    data = demo_data("pioneers", "branch_life.json")
    volunteering.ensure_rule()
    staff = User.objects.get(username="party")
    today = timezone.localdate()
    meetings = 0
    for key, plan in data["branches"].items():
        org = orgs.get(key)
        if org is not None and not Meeting.objects.filter(organisation=org).exists():
            meetings += _meetings(org, plan, data, staff, today)
    bases = _dues(data, staff, today)
    transfer = _transfer(data, orgs, staff, today)
    activities = _activities(data, orgs, staff)
    if stdout is not None:
        stdout.write(
            f"demo branch life: {meetings} meetings, {bases} dues bases, "
            f"{'a transfer awaiting confirmation' if transfer else 'no new transfer'}, {activities} volunteer activities"
        )
