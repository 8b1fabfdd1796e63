"""The monthly report (docs/DASHBOARDS.md "Monthly report"): an Excel workbook and a printable HTML
page for one month, the district's view.

    changxin report monthly --month 2025-03 --output DIR     # the command
    reports.request(user, month)                             # the UI: a MonthlyReport row + a job

Sections: the rankings of the four groups, hot spots, overdue, category shares, enterprise demands
and 每月一题 (read only when that feature is installed: `monthly_problem_rows`). Every text cell is
written formula-safe (core.spreadsheets); both files are written to a temporary name and renamed.

The printable page draws its charts as inline SVG on the server (simple bars) beside the same
figures as tables, with print CSS; it has no script, so it opens offline, prints as it shows, and
needs no exception to the Content-Security-Policy.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core import roles
from changxin.core.models import RankingGroup, User
from changxin.core.spreadsheets import xlsx_row
from changxin.demands import deadlines
from changxin.demands.selectors import unscoped_demands
from changxin.insight import aggregates
from changxin.insight.metrics import Period
from changxin.insight.models import HotSpot, MonthlyReport, ReportState

XLSX_NAME = "monthly-report-{month}.xlsx"
HTML_NAME = "monthly-report-{month}.html"


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    note: str = ""
    bar: int | None = None  # the column drawn as bars in the printable page
    svg: str = field(default="", repr=False)


def _district_reader() -> User:
    """The report is the district's view: an unsaved read-only leadership account for the scoped
    selectors it reuses (it never logs in and is never stored)."""
    return User(username="monthly-report", role=roles.Role.LEADERSHIP, is_active=True)


def _pct(value) -> float | None:
    return None if value is None else round(float(value) * 100, 2)


def rankings_section(month: dt.date) -> Section:
    from changxin.insight.rankings import monthly_rankings

    rankings = monthly_rankings(month)
    rows = []
    for group in RankingGroup.values:
        ranking = rankings[group]
        for row in ranking.rows:
            if not row.rates.demands and row.rank is None:
                continue
            r = row.rates
            rows.append(
                [
                    str(ranking.label),
                    row.rank,
                    row.unit.name,
                    r.demands,
                    _pct(r.response_rate),
                    _pct(r.resolution_rate),
                    _pct(r.satisfaction_rate),
                    _pct(r.composite),
                ]
            )
    closed = any(r.closed for r in rankings.values())
    return Section(
        "rankings",
        _("Rankings of the four groups"),
        [
            _("Group"),
            _("Rank"),
            _("Unit"),
            _("Demands"),
            _("Response rate (%)"),
            _("Resolution rate (%)"),
            _("Satisfaction rate (%)"),
            _("Composite"),
        ],
        rows,
        note=_("Closed month: read from the stored snapshot.")
        if closed
        else _("Month not closed yet: live figures."),
        bar=7,
    )


def hot_spots_section(month: dt.date) -> Section:
    period = Period.month(month)
    last_run = (
        HotSpot.objects.filter(as_of__gte=period.start.date(), as_of__lt=period.end.date())
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    spots = (
        HotSpot.objects.filter(as_of=last_run).select_related("street", "category").order_by("number")[:30]
        if last_run
        else []
    )
    return Section(
        "hot_spots",
        _("Hot spots"),
        [_("Rank"), _("Problem"), _("Street/town"), _("Category"), _("Demands"), _("Heat"), _("Rising")],
        [
            [
                s.number,
                s.label,
                s.street.name if s.street else "",
                s.category.name if s.category else "",
                s.demand_count,
                round(s.heat, 1),
                _("yes") if s.rising else "",
            ]
            for s in spots
        ],
        note=(_("The last run of the month: %(day)s.") % {"day": last_run.isoformat()})
        if last_run
        else _("No hot-spot run in this month."),
        bar=4,
    )


def overdue_section(month: dt.date, now: dt.datetime) -> Section:
    """Per lead unit, of the demands received in the month: replied late, and still open and overdue now."""
    period = Period.month(month)
    demands = unscoped_demands().filter(received_at__gte=period.start, received_at__lt=period.end).order_by()
    overdue_now = deadlines.overdue_q(now)
    rows = (
        demands.filter(lead_unit__isnull=False)
        .values("lead_unit__name")
        .annotate(
            total=Count("pk"),
            late=Count("pk", filter=aggregates.CONDITIONS["finished_late"]),
            overdue=Count("pk", filter=overdue_now),
        )
        .filter(Q(late__gt=0) | Q(overdue__gt=0))
    )
    table = sorted(
        ([r["lead_unit__name"], r["total"], r["late"], r["overdue"]] for r in rows),
        key=lambda r: (-(r[2] + r[3]), r[0]),
    )
    return Section(
        "overdue",
        _("Overdue"),
        [_("Lead unit"), _("Demands received"), _("Replied late"), _("Open and overdue now")],
        table,
        note=_("Overdue now: at %(time)s.") % {"time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
        bar=2,
    )


def categories_section(month: dt.date) -> Section:
    period = Period.month(month)
    per_category = (
        unscoped_demands()
        .filter(received_at__gte=period.start, received_at__lt=period.end)
        .order_by()
        .values("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    from changxin.demands.models import Category

    tops = aggregates.top_categories()
    names = dict(Category.objects.filter(level=1).values_list("pk", "name"))
    totals: dict[str, int] = {}
    for category_id, n in per_category:
        name = names.get(tops.get(category_id)) if category_id else None
        key = name or _("Uncategorised")
        totals[key] = totals.get(key, 0) + n
    whole = sum(totals.values())
    return Section(
        "categories",
        _("Category shares"),
        [_("Category"), _("Demands"), _("Share (%)")],
        [
            [name, n, round(100 * n / whole, 1) if whole else 0]
            for name, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        bar=1,
    )


def enterprise_section(month: dt.date) -> Section:
    """Enterprise demands received in the month, per service manager of the filing enterprise."""
    from django.db.models import F

    from changxin.demands.models import Satisfaction, State
    from changxin.port import selectors as port

    period = Period.month(month)
    links = port.demand_links(_district_reader()).filter(
        demand__received_at__gte=period.start, demand__received_at__lt=period.end
    )
    done = Q(demand__state__in=[State.REPLIED, State.VISITED, State.ARCHIVED])
    rated = Q(
        demand__satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED],
        demand__rating_excluded=False,
    )
    satisfied = Q(
        demand__satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC], demand__rating_excluded=False
    )
    rows = (
        links.order_by()
        .values("enterprise__manager__full_name", "enterprise__manager__username")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=done),
            on_time=Count("pk", filter=done & Q(demand__replied_at__lte=F("demand__finish_due"))),
            rated=Count("pk", filter=rated),
            satisfied=Count("pk", filter=satisfied),
        )
    )

    def rate(part, whole):
        return round(100 * part / whole, 1) if whole else None

    table = sorted(
        (
            [
                r["enterprise__manager__full_name"]
                or r["enterprise__manager__username"]
                or _("No service manager"),
                r["total"],
                r["done"],
                rate(r["on_time"], r["done"]),
                rate(r["satisfied"], r["rated"]),
            ]
            for r in rows
        ),
        key=lambda r: (-r[1], r[0]),
    )
    return Section(
        "enterprise",
        _("Enterprise demands"),
        [_("Service manager"), _("Demands"), _("Replied"), _("On-time rate (%)"), _("Satisfaction rate (%)")],
        table,
        bar=1,
    )


def monthly_problem_rows(month: dt.date) -> tuple[list[str], list[list]] | None:
    """每月一题 hook: reads `changxin.insight.monthly.report_rows(month) -> (columns, rows)` when
    that module exists (the 每月一题 feature); None when it is not installed."""
    try:
        module = importlib.import_module("changxin.insight.monthly")
    except ImportError:
        return None
    report_rows = getattr(module, "report_rows", None)
    return report_rows(month) if callable(report_rows) else None


def monthly_problems_section(month: dt.date) -> Section:
    found = monthly_problem_rows(month)
    if found is None:
        return Section(
            "monthly_problems",
            _("Problem of the month (每月一题)"),
            [_("Note")],
            [[_("每月一题 is not installed in this version; this section fills in once it is.")]],
        )
    columns, rows = found
    return Section("monthly_problems", _("Problem of the month (每月一题)"), list(columns), list(rows))


SECTIONS: list[tuple[str, Callable]] = [
    ("rankings", lambda month, now: rankings_section(month)),
    ("hot_spots", lambda month, now: hot_spots_section(month)),
    ("overdue", overdue_section),
    ("categories", lambda month, now: categories_section(month)),
    ("enterprise", lambda month, now: enterprise_section(month)),
    ("monthly_problems", lambda month, now: monthly_problems_section(month)),
]


# --- writing ------------------------------------------------------------------------------------


def _atomic_write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def workbook(month: dt.date, sections: list[Section], now: dt.datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for section in sections:
        sheet = book.create_sheet(section.title[:31])
        sheet.append(xlsx_row(sheet, [section.title], font=bold))
        sheet.append(
            xlsx_row(
                sheet,
                [
                    _("Month %(month)s · built %(time)s")
                    % {"month": f"{month:%Y-%m}", "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")}
                ],
            )
        )
        if section.note:
            sheet.append(xlsx_row(sheet, [section.note]))
        sheet.append(xlsx_row(sheet, section.columns, font=bold))
        for row in section.rows:
            sheet.append(xlsx_row(sheet, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def bar_svg(section: Section, width: int = 640, bar_height: int = 18, limit: int = 20) -> str:
    """Horizontal bars of column `section.bar` labelled by the first text column (escaped)."""
    from django.utils.html import escape

    if section.bar is None or not section.rows:
        return ""
    label_col = next((i for i, c in enumerate(section.rows[0]) if isinstance(c, str) and i != section.bar), 0)
    data = [
        (str(r[label_col]), r[section.bar])
        for r in section.rows[:limit]
        if isinstance(r[section.bar], int | float)
    ]
    if not data:
        return ""
    top = max(v for _l, v in data) or 1
    label_w, gap = 180, 4
    height = len(data) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(section.title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" class="chart">'
    ]
    for i, (label, value) in enumerate(data):
        y = gap + i * (bar_height + gap)
        w = max(1, int((width - label_w - 70) * value / top))
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height - 4}" text-anchor="end" font-size="12">{escape(label[:16])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_height}" fill="#b3261e"></rect>'
            f'<text x="{label_w + w + 4}" y="{y + bar_height - 4}" font-size="12">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def printable(month: dt.date, sections: list[Section], now: dt.datetime) -> str:
    for section in sections:
        section.svg = bar_svg(section)
    return render_to_string(
        "insight/report_print.html",
        {"month": f"{month:%Y-%m}", "sections": sections, "built_at": timezone.localtime(now)},
    )


def build(
    month: dt.date,
    directory: Path,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> tuple[Path, Path]:
    """Write the workbook and the printable page for `month` into `directory`; returns both paths."""
    now = now or timezone.now()
    month = month.replace(day=1)
    sections = []
    for index, (key, make) in enumerate(SECTIONS):
        if progress:
            progress(int(90 * index / len(SECTIONS)), key)
        sections.append(make(month, now))
    if progress:
        progress(90, "files")
    directory = Path(directory)
    xlsx = directory / XLSX_NAME.format(month=f"{month:%Y-%m}")
    html = directory / HTML_NAME.format(month=f"{month:%Y-%m}")
    _atomic_write(xlsx, workbook(month, sections, now))
    _atomic_write(html, printable(month, sections, now).encode("utf-8"))
    return xlsx, html


# --- requested in the UI -------------------------------------------------------------------------


def may_request(user) -> bool:
    """The district's report: the district-wide roles (leadership included: it reads, it changes
    nothing but its own request row)."""
    return roles.is_district_wide(user)


def reports_dir() -> Path:
    return Path(getattr(settings, "CHANGXIN_REPORTS_DIR", settings.VAR_DIR / "reports"))


def request(user: User, month: dt.date) -> MonthlyReport:
    from changxin.core import jobs
    from changxin.insight import tasks

    report = MonthlyReport.objects.create(
        month=month.replace(day=1), requested_by=user, requested_at=timezone.now()
    )
    jobs.enqueue_on_commit(tasks.build_monthly_report, report.pk)
    return report


def build_requested(report_id: int) -> None:
    report = MonthlyReport.objects.filter(pk=report_id).first()
    if report is None or report.state == ReportState.DONE:
        return
    directory = reports_dir() / str(report.pk)

    def progress(percent: int, step: str) -> None:
        MonthlyReport.objects.filter(pk=report.pk).update(
            state=ReportState.RUNNING, progress=percent, step=step
        )

    try:
        build(report.month, directory, progress=progress)
    except Exception as error:  # noqa: BLE001 — recorded on the row the page shows
        MonthlyReport.objects.filter(pk=report.pk).update(
            state=ReportState.FAILED, error=str(error)[:500], finished_at=timezone.now()
        )
        raise
    MonthlyReport.objects.filter(pk=report.pk).update(
        state=ReportState.DONE, progress=100, step="", directory=str(directory), finished_at=timezone.now()
    )


def file_of(report: MonthlyReport, kind: str) -> Path | None:
    if report.state != ReportState.DONE or kind not in ("xlsx", "html") or not report.directory:
        return None
    name = (XLSX_NAME if kind == "xlsx" else HTML_NAME).format(month=f"{report.month:%Y-%m}")
    path = Path(report.directory) / name
    return path if path.is_file() else None
