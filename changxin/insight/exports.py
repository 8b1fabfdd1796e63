"""Excel workbooks (openpyxl): monthly rankings and demand lists (personal data masked)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from changxin.core.privacy import mask_name, mask_phone
from changxin.core.spreadsheets import xlsx_row
from changxin.demands.models import Demand
from changxin.insight.rankings import Ranking

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = getattr(settings, "CHANGXIN_EXPORT_MAX_ROWS", 200_000)


def _local(value: dt.datetime | None):
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


def _pct(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value) * 100, 2)


def _header(sheet, labels: Iterable[str]) -> None:
    sheet.append(xlsx_row(sheet, [str(label) for label in labels], font=Font(bold=True)))


def _append(sheet, values: Iterable) -> None:
    """Every row goes through `xlsx_row`: a text a citizen typed never becomes a live formula."""
    sheet.append(xlsx_row(sheet, values))


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ranking_headers() -> list[str]:
    return [
        _("Rank"),
        _("Unit"),
        _("Code"),
        _("Dispatched"),
        _("Contacted on time"),
        _("Response rate (%)"),
        _("Resolution answers"),
        _("Resolved"),
        _("Partly resolved"),
        _("Unresolved"),
        _("Resolution rate (%)"),
        _("Satisfaction answers"),
        _("Satisfied"),
        _("Basically satisfied"),
        _("Dissatisfied"),
        _("Not rated"),
        _("Ratings excluded"),
        _("Satisfaction rate (%)"),
        _("Composite score"),
    ]


def rankings_workbook(rankings: dict[str, Ranking]) -> bytes:
    """One sheet per ranking group, plus the month's weights."""
    book = Workbook(write_only=True)
    weights = None
    for ranking in rankings.values():
        weights = ranking.weights
        sheet = book.create_sheet(title=str(ranking.label)[:31])
        _append(sheet, [_("Monthly ranking %(month)s") % {"month": f"{ranking.month:%Y-%m}"}])
        _header(sheet, ranking_headers())
        for row in ranking.rows:
            r = row.rates
            _append(
                sheet,
                [
                    row.rank,
                    row.unit.name,
                    row.unit.code,
                    r.dispatched,
                    r.responded,
                    _pct(r.response_rate),
                    r.resolution_answers,
                    r.resolved,
                    r.partly,
                    r.unresolved,
                    _pct(r.resolution_rate),
                    r.satisfaction_answers,
                    r.satisfied,
                    r.basic,
                    r.dissatisfied,
                    r.unrated,
                    r.excluded,
                    _pct(r.satisfaction_rate),
                    _pct(r.composite),
                ],
            )
    if weights is not None:
        sheet = book.create_sheet(title=str(_("Weights"))[:31])
        _header(sheet, [_("Item"), _("Value")])
        for label, value in (
            (_("Response weight"), weights.response_weight),
            (_("Resolution weight"), weights.resolution_weight),
            (_("Satisfaction weight"), weights.satisfaction_weight),
            (_("Credit for partly resolved"), weights.partly_resolved_credit),
            (_("Credit for basically satisfied"), weights.basic_satisfied_credit),
        ):
            _append(sheet, [str(label), float(value)])
    return _save(book)


def demand_headers() -> list[str]:
    return [
        _("Number"),
        _("Received at"),
        _("Channel"),
        _("Type"),
        _("Urgency"),
        _("Title"),
        _("Category"),
        _("Street/town"),
        _("Address"),
        _("Lead unit"),
        _("State"),
        _("Requester"),
        _("Phone"),
        _("Dispatched at"),
        _("Contact due"),
        _("Contacted at"),
        _("Finish due"),
        _("Replied at"),
        _("Resolution"),
        _("Satisfaction"),
    ]


def demands_workbook(demands: QuerySet[Demand], title: str = "") -> tuple[bytes, int]:
    """The demand list with requester names and phones masked. Returns (xlsx bytes, rows written)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=str(_("Demands")))
    if title:
        _append(sheet, [title])
    _header(sheet, demand_headers())
    count = 0
    rows = demands.select_related("category", "lead_unit", "street")[:MAX_ROWS]
    for d in rows.iterator(chunk_size=2000):
        _append(
            sheet,
            [
                d.number,
                _local(d.received_at),
                d.get_channel_display(),
                d.get_demand_type_display(),
                d.get_urgency_display(),
                d.title,
                d.category.full_name if d.category_id else "",
                d.street.name if d.street_id else "",
                d.address,
                d.lead_unit.name if d.lead_unit_id else "",
                d.get_state_display(),
                mask_name(d.requester_name),
                mask_phone(d.requester_phone),
                _local(d.dispatched_at),
                _local(d.contact_due),
                _local(getattr(d, "first_contact_at", d.contacted_at)),
                _local(d.finish_due),
                _local(d.replied_at),
                d.get_resolution_display() if d.resolution else "",
                d.get_satisfaction_display() if d.satisfaction else "",
            ],
        )
        count += 1
    return _save(book), count
