"""支部生活: 三会一课, 主题党日, 组织生活会 and 民主评议党员, and each branch's compliance with the
required frequencies (RULES.md, "Branch life, dues and transfers").

    record_meeting(org, kind=, held_on=, topic=, minutes=, attendance={member_id: (present, reason)},
                   appraisals={member_id: rating}, actor=)      → Meeting (audited)
    compliance(org, year, today=None)                           → Compliance: each kind × period
    frequencies()                                               → the required frequencies in force

The frequencies are a setting, `CHANGXIN_PIONEERS_MEETING_FREQUENCIES`
({kind: (period, times)}, period "month" / "quarter" / "year"), with the defaults of the 2018
《中国共产党支部工作条例（试行）》 below. A period that has ended without the required meetings is
flagged as missed; the running period is "due" until it ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction
from changxin.pioneers.models import (
    Appraisal,
    AppraisalRating,
    Attendance,
    Meeting,
    MeetingKind,
    OrgKind,
    PartyMember,
    PartyOrganisation,
)

MONTH, QUARTER, YEAR = "month", "quarter", "year"
# RULES.md: 支部党员大会 once a quarter; 支委会 and 党小组会 once a month; 党课 at least once a quarter;
# 主题党日 once a month; 组织生活会 and 民主评议党员 once a year
DEFAULT_FREQUENCIES = {
    MeetingKind.ASSEMBLY: (QUARTER, 1),
    MeetingKind.COMMITTEE: (MONTH, 1),
    MeetingKind.GROUP: (MONTH, 1),
    MeetingKind.LECTURE: (QUARTER, 1),
    MeetingKind.THEME_DAY: (MONTH, 1),
    MeetingKind.LIFE_MEETING: (YEAR, 1),
    MeetingKind.APPRAISAL: (YEAR, 1),
}
# 支部委员会: a branch of 7 or more members sets up a committee (条例 art. 9); smaller branches have a
# secretary and hold no 支委会. 党小组: larger branches are divided into party groups. Both settings.
DEFAULT_MIN_MEMBERS = {MeetingKind.COMMITTEE: 7, MeetingKind.GROUP: 10}
REASON_MAX = 200


def frequencies() -> dict[str, tuple[str, int]]:
    """The required frequency of each kind of meeting: the setting over the defaults."""
    configured = getattr(settings, "CHANGXIN_PIONEERS_MEETING_FREQUENCIES", None) or {}
    merged = {str(k): v for k, v in DEFAULT_FREQUENCIES.items()}
    merged.update({str(k): tuple(v) for k, v in configured.items()})
    return merged


def min_members() -> dict[str, int]:
    """The branch size from which a kind of meeting is required (smaller branches are not flagged)."""
    configured = getattr(settings, "CHANGXIN_PIONEERS_MEETING_MIN_MEMBERS", None)
    if configured is None:
        return {str(k): v for k, v in DEFAULT_MIN_MEMBERS.items()}
    return {str(k): int(v) for k, v in configured.items()}


# --- who keeps a branch's records ----------------------------------------------------------------


def may_keep(user, organisation: PartyOrganisation) -> bool:
    """Party staff over the organisation and the branch's own secretary keep its meeting records."""
    from changxin.pioneers.services import relations_of

    return bool(relations_of(user, organisation))


def _check_keeper(actor, organisation) -> None:
    if actor is not None and not may_keep(actor, organisation):
        raise DomainError(
            "not_allowed",
            _("Only party staff over the branch or its secretary keep its records."),
            kind=FORBIDDEN,
        )


# --- recording a meeting ---------------------------------------------------------------------------


@transaction.atomic
def record_meeting(
    organisation: PartyOrganisation,
    *,
    kind: str,
    held_on: dt.date,
    topic: str,
    minutes: str = "",
    attendance: dict[int, tuple[bool, str]] | None = None,
    appraisals: dict[int, str] | None = None,
    actor=None,
) -> Meeting:
    """Record a meeting held by a branch with who attended. `attendance` maps each member id to
    (present, reason); a member left out counts as absent without a reason given — so every
    member of the branch is on the list. Absences need a reason. Ratings only at 民主评议党员."""
    _check_keeper(actor, organisation)
    if organisation.kind != OrgKind.BRANCH and kind == MeetingKind.GROUP:
        raise DomainError("invalid", _("Party groups meet within a branch."), "kind")
    if kind not in MeetingKind.values:
        raise DomainError("invalid", _("Choose the kind of meeting."), "kind")
    topic = (topic or "").strip()
    if not topic:
        raise DomainError("topic_required", _("A meeting has a topic."), "topic")
    if held_on > timezone.localdate():
        raise DomainError("date_in_future", _("A meeting is recorded once it has been held."), "held_on")
    members = {m.pk: m for m in PartyMember.objects.filter(organisation=organisation)}
    attendance = attendance or {}
    strangers = set(attendance) - set(members)
    if strangers:
        raise DomainError(
            "invalid", _("Only members of this branch are on its attendance list."), "attendance"
        )
    rows = []
    for pk in members:
        present, reason = attendance.get(pk, (False, ""))
        reason = (reason or "").strip()[:REASON_MAX]
        if not present and not reason:
            raise DomainError(
                "absence_reason_required",
                _("Rule: an absent member's reason is recorded (%(name)s).") % {"name": members[pk].name},
                "attendance",
            )
        rows.append((pk, bool(present), "" if present else reason))
    appraisals = appraisals or {}
    if appraisals and kind != MeetingKind.APPRAISAL:
        raise DomainError("invalid", _("Ratings are given at the democratic appraisal only."), "appraisals")
    if set(appraisals) - set(members) or set(appraisals.values()) - set(AppraisalRating.values):
        raise DomainError("invalid", _("Rate members of this branch with one of the ratings."), "appraisals")
    meeting = Meeting.objects.create(
        organisation=organisation,
        kind=kind,
        held_on=held_on,
        topic=topic[:200],
        minutes=minutes or "",
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, member_id=pk, present=present, absence_reason=reason)
        for pk, present, reason in rows
    )
    Appraisal.objects.bulk_create(
        Appraisal(meeting=meeting, member_id=pk, rating=rating) for pk, rating in appraisals.items()
    )
    present = sum(1 for _pk, p, _r in rows if p)
    audit.record(
        actor, AuditAction.CREATE, meeting, detail=f"{kind} {held_on}: {present}/{len(rows)} present"
    )
    return meeting


# --- compliance --------------------------------------------------------------------------------------


def periods(period: str, year: int) -> list[tuple[str, dt.date, dt.date]]:
    """(label, first day, last day) of each period of `year`."""
    if period == MONTH:
        return [(f"{year}-{m:02d}", dt.date(year, m, 1), _month_end(year, m)) for m in range(1, 13)]
    if period == QUARTER:
        return [(f"{year}Q{q}", dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q)) for q in range(1, 5)]
    return [(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))]


def _month_end(year: int, month: int) -> dt.date:
    return (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)


OK, MISSED, DUE, FUTURE = "ok", "missed", "due", "future"


@dataclass
class PeriodStatus:
    label: str
    first: dt.date
    last: dt.date
    held: int
    required: int
    status: str  # ok | missed | due (running) | future


@dataclass
class KindCompliance:
    kind: str
    label: str
    period: str
    required: int
    periods: list[PeriodStatus] = field(default_factory=list)

    @property
    def missed(self) -> list[PeriodStatus]:
        return [p for p in self.periods if p.status == MISSED]


@dataclass
class Compliance:
    organisation: PartyOrganisation
    year: int
    kinds: list[KindCompliance]

    @property
    def ended(self) -> int:
        return sum(1 for k in self.kinds for p in k.periods if p.status in (OK, MISSED))

    @property
    def missed(self) -> int:
        return sum(len(k.missed) for k in self.kinds)

    @property
    def rate(self) -> float | None:
        """Share of the ended periods that held the required meetings (None: none ended yet)."""
        return round(100 * (self.ended - self.missed) / self.ended, 1) if self.ended else None


def compliance_from_counts(
    organisation, year: int, counts: dict, today: dt.date, members: int | None = None
) -> Compliance:
    """Compliance from {(kind, held_on)} counts already read (the district list reads them at once);
    with the branch's member count, kinds required only of larger branches are left out."""
    kinds = []
    sizes = min_members()
    for kind, (period, required) in frequencies().items():
        if members is not None and members < sizes.get(kind, 0):
            continue
        try:
            label = MeetingKind(kind).label
        except ValueError:
            continue
        row = KindCompliance(kind, str(label), period, required)
        for name, first, last in periods(period, year):
            held = sum(n for (k, day), n in counts.items() if k == kind and first <= day <= last)
            if first > today:
                status = FUTURE
            elif held >= required:
                status = OK
            elif last >= today:
                status = DUE
            else:
                status = MISSED
            row.periods.append(PeriodStatus(name, first, last, held, required, status))
        kinds.append(row)
    return Compliance(organisation, year, kinds)


def meeting_counts(organisations, year: int) -> dict[int, dict]:
    """{organisation id: {(kind, held_on): n}} for the year, one query."""
    from django.db.models import Count

    counts: dict[int, dict] = {}
    rows = (
        Meeting.objects.filter(organisation__in=organisations, held_on__year=year)
        .values_list("organisation_id", "kind", "held_on")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for org_id, kind, day, n in rows:
        counts.setdefault(org_id, {})[(kind, day)] = n
    return counts


def compliance(organisation: PartyOrganisation, year: int, today: dt.date | None = None) -> Compliance:
    today = today or timezone.localdate()
    counts = meeting_counts([organisation.pk], year).get(organisation.pk, {})
    members = PartyMember.objects.filter(organisation=organisation).count()
    return compliance_from_counts(organisation, year, counts, today, members)


def compliance_of_branches(organisations, year: int, today: dt.date | None = None) -> list[Compliance]:
    """Compliance of each branch in `organisations` (a scoped queryset), two queries in all."""
    from django.db.models import Count

    today = today or timezone.localdate()
    branches = list(organisations.filter(kind=OrgKind.BRANCH).annotate(member_count=Count("members")))
    counts = meeting_counts([b.pk for b in branches], year)
    return [compliance_from_counts(b, year, counts.get(b.pk, {}), today, b.member_count) for b in branches]
