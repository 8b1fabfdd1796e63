"""The evaluation sheet per member and year for 考核评价, and the organisation's sheets in Excel.

Every figure is read from the records that produce it (never typed): the ledger's entries by
vanguard kind with their sources counted by stream, meetings attended against those held by the
member's organisation, dues paid against due, the year's commitments and their evaluation,
volunteer hours checked in, 先锋者说 talks and honours. `sheets(members, year)` computes them for many
members in a fixed number of queries; the Excel export writes every text cell formula-safe
(core/spreadsheets.py).
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

from django.db.models import Avg, Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core.spreadsheets import xlsx_row
from changxin.pioneers import dues
from changxin.pioneers.models import (
    Attendance,
    Commitment,
    Honour,
    Meeting,
    PartyMember,
    PointEntry,
    PointTotal,
    SharingSession,
    VanguardKind,
    VolunteerSignup,
)

STREAM_LABELS = {
    "demands": gettext_lazy("demands handled"),
    "volunteering": gettext_lazy("volunteer check-ins"),
    "commitments": gettext_lazy("commitments kept"),
    "relief": gettext_lazy("relief granted"),
    "adjustments": gettext_lazy("approved adjustments"),
}


def stream_label(stream: str) -> str:
    return str(STREAM_LABELS.get(stream, stream))


def sheets(members, year: int, today=None) -> list[dict]:
    """One sheet per member of `members` (a queryset or list, already scoped by the caller)."""
    today = today or timezone.localdate()
    members = list(members)
    ids = [m.pk for m in members]
    points: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: {"points": Decimal(0), "streams": {}}))
    for row in (
        PointEntry.objects.filter(member_id__in=ids, year=year)
        .values("member_id", "kind", "source_stream")
        .annotate(points=Sum("points"), n=Count("id"))
    ):
        cell = points[row["member_id"]][row["kind"]]
        cell["points"] += row["points"]
        cell["streams"][row["source_stream"]] = row["n"]
    totals = dict(PointTotal.objects.filter(member_id__in=ids, year=year).values_list("member_id", "total"))
    held = dict(
        Meeting.objects.filter(organisation_id__in={m.organisation_id for m in members}, held_on__year=year)
        .values("organisation_id")
        .annotate(n=Count("id"))
        .values_list("organisation_id", "n")
    )
    attended = dict(
        Attendance.objects.filter(member_id__in=ids, meeting__held_on__year=year, present=True)
        .values("member_id")
        .annotate(n=Count("id"))
        .values_list("member_id", "n")
    )
    dues_rows = {r["member"].pk: r for r in dues.branch_dues(members, year, today)["rows"]}
    commitments = defaultdict(list)
    for c in (
        Commitment.objects.filter(member_id__in=ids, year=year)
        .annotate(resident_avg=Avg("resident_ratings__stars"), residents=Count("resident_ratings"))
        .order_by("id")
    ):
        commitments[c.member_id].append(c)
    hours = dict(
        VolunteerSignup.objects.filter(
            member_id__in=ids, checked_in_at__isnull=False, activity__starts_at__year=year
        )
        .values("member_id")
        .annotate(h=Sum("activity__hours"))
        .values_list("member_id", "h")
    )
    honours = defaultdict(list)
    for h in Honour.objects.filter(member_id__in=ids, year=year).order_by("id"):
        honours[h.member_id].append(h)
    talks = defaultdict(list)
    for s in SharingSession.speakers.through.objects.filter(
        partymember_id__in=ids, sharingsession__held_on__year=year
    ).select_related("sharingsession"):
        talks[s.partymember_id].append(s.sharingsession)
    result = []
    for m in members:
        kinds = points.get(m.pk, {})
        due_row = dues_rows.get(m.pk)
        due = (
            (due_row["base"].monthly_due * len(dues.due_months(year, today, m.joined_on)))
            if (due_row and due_row["base"])
            else Decimal(0)
        )
        result.append(
            {
                "member": m,
                "year": year,
                "total": totals.get(m.pk, Decimal(0)),
                "kinds": [
                    {
                        "kind": value,
                        "label": label,
                        "points": kinds.get(value, {}).get("points", Decimal(0)),
                        "streams": [
                            (stream_label(stream), n)
                            for stream, n in sorted(kinds.get(value, {}).get("streams", {}).items())
                        ],
                    }
                    for value, label in VanguardKind.choices
                ],
                "meetings_held": held.get(m.organisation_id, 0),
                "meetings_attended": attended.get(m.pk, 0),
                "dues_paid": due_row["paid_total"] if due_row else Decimal(0),
                "dues_due": due,
                "dues_arrears": due_row["arrears"] if due_row else Decimal(0),
                "has_dues_base": bool(due_row and due_row["base"]),
                "commitments": commitments.get(m.pk, []),
                "volunteer_hours": hours.get(m.pk) or Decimal(0),
                "honours": honours.get(m.pk, []),
                "talks": talks.get(m.pk, []),
            }
        )
    return result


def sheet(member: PartyMember, year: int, today=None) -> dict:
    return sheets([member], year, today)[0]


def workbook(organisation, members, year: int) -> bytes:
    """The organisation's sheets, one row per member; formula-like text stored as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    ws = book.create_sheet(title=str(year))
    bold = Font(bold=True)
    ws.append(xlsx_row(ws, [f"{organisation.name} · {_('Evaluation sheets')} {year}"], font=bold))
    header = [
        _("name"),
        _("party organisation"),
        _("status"),
        _("points"),
        *[str(label) for _value, label in VanguardKind.choices],
        _("meetings attended"),
        _("meetings held"),
        _("dues paid"),
        _("dues due"),
        _("commitments kept"),
        _("commitments"),
        _("organisation's rating"),
        _("volunteer hours"),
        _("talks (先锋者说)"),
        _("honours"),
    ]
    ws.append(xlsx_row(ws, header, font=bold))
    for s in sheets(members, year):
        m = s["member"]
        kept = [c for c in s["commitments"] if c.state == "kept"]
        rated = [c.org_rating for c in s["commitments"] if c.org_rating]
        ws.append(
            xlsx_row(
                ws,
                [
                    m.name,
                    m.organisation.name,
                    m.get_status_display(),
                    float(s["total"]),
                    *[float(k["points"]) for k in s["kinds"]],
                    s["meetings_attended"],
                    s["meetings_held"],
                    float(s["dues_paid"]),
                    float(s["dues_due"]),
                    len(kept),
                    len(s["commitments"]),
                    round(sum(rated) / len(rated), 1) if rated else None,
                    float(s["volunteer_hours"]),
                    len(s["talks"]),
                    "、".join(f"{h.title}（{h.get_state_display()}）" for h in s["honours"]),
                ],
            )
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
