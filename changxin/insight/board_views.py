"""Dashboards and the monthly report (docs/DASHBOARDS.md): thin views over boards.py and reports.py."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from changxin.core import audit, params
from changxin.core.models import AuditAction
from changxin.core.scope import get_visible_or_404, restrict
from changxin.core.spreadsheets import csv_row
from changxin.insight import boards, reports
from changxin.insight.metrics import add_months, parse_month, this_month
from changxin.insight.models import MonthlyReport
from changxin.insight.views import insight_view


def _nav(user) -> list[tuple[str, str]]:
    items = [("district", reverse("insight:dashboard"))]
    if boards.streets_for(user).exists():
        items.append(("street", reverse("insight:dashboard-streets")))
    if boards.may_open_enterprise(user):
        items.append(("enterprise", reverse("insight:dashboard-enterprise")))
    if boards.may_open_party(user):
        items.append(("party", reverse("insight:dashboard-party")))
    if reports.may_request(user):
        items.append(("reports", reverse("insight:reports")))
    return items


def _nav_context(user, current: str) -> dict:
    titles = dict(boards.BOARD_TITLES, reports=_("Monthly report"))
    return {"nav": [(key, str(titles[key]), url) for key, url in _nav(user)], "current": current}


def _render(request, board: boards.Board, month=None, extra=None):
    wanted = request.GET.get("csv")
    if wanted is not None:
        chart = board.chart(params.text(wanted, 40))
        if chart is None:
            raise Http404
        return _csv(chart, f"{board.key}-{chart.key}")
    context = {
        "board": board,
        "charts_data": [c.data() for c in board.charts],
        "month_str": f"{month:%Y-%m}" if month else "",
        **_nav_context(request.user, board.key),
        **(extra or {}),
    }
    return render(request, "insight/board.html", context)


def _csv(chart: boards.Chart, name: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_row(chart.columns))
    for row in chart.rows:
        writer.writerow(csv_row(["" if v is None else v for v in row]))
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@insight_view
def district(request):
    month = parse_month(request.GET.get("month"))
    return _render(request, boards.district(request.user, month), month)


@insight_view
def streets(request):
    """The street boards the viewer may open (a street's staff: their own)."""
    allowed = list(boards.streets_for(request.user))
    if not allowed:
        raise PermissionDenied
    return render(
        request,
        "insight/board_streets.html",
        {"streets": allowed, **_nav_context(request.user, "street")},
    )


def street(request, code):
    """One street's board: 404 for a street outside the viewer's (as for any object out of scope)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    unit = boards.streets_for(request.user).filter(code=params.text(code, 32)).first()
    if unit is None:
        raise Http404
    month = parse_month(request.GET.get("month"))
    return _render(request, boards.street(request.user, unit, month), month, {"street": unit})


@insight_view
def enterprise(request):
    if not boards.may_open_enterprise(request.user):
        raise PermissionDenied
    month = parse_month(request.GET.get("month"))
    return _render(request, boards.enterprise(request.user, month), month)


@insight_view
def party(request):
    if not boards.may_open_party(request.user):
        raise PermissionDenied
    return _render(request, boards.party(request.user))


# --- the monthly report ---------------------------------------------------------------------------


@insight_view
def report_list(request):
    if not reports.may_request(request.user):
        raise PermissionDenied
    mine = restrict(MonthlyReport.objects.select_related("requested_by"), request.user)[:20]
    return render(
        request,
        "insight/reports.html",
        {
            "reports": mine,
            "default_month": f"{add_months(this_month(), -1):%Y-%m}",
            **_nav_context(request.user, "reports"),
        },
    )


@require_POST
@insight_view
def report_request(request):
    if not reports.may_request(request.user):
        raise PermissionDenied
    try:
        month = params.parse_month(request.POST.get("month"), strict=True, field="month")
    except params.ParamError as error:
        return HttpResponseBadRequest(str(error.message))
    if month is None:
        return HttpResponseBadRequest(_("Enter a month as YYYY-MM."))
    report = reports.request(request.user, month)
    messages.success(request, _("The report is being built; this page shows its progress."))
    return redirect("insight:report", pk=report.pk)


@insight_view
def report_status(request, pk):
    if not reports.may_request(request.user):
        raise PermissionDenied
    report = get_visible_or_404(MonthlyReport, request.user, pk=pk)
    return render(
        request,
        "insight/report.html",
        {
            "report": report,
            **_nav_context(request.user, "reports"),
        },
    )


@insight_view
def report_file(request, pk, kind):
    if not reports.may_request(request.user):
        raise PermissionDenied
    report = get_visible_or_404(MonthlyReport, request.user, pk=pk)
    path = reports.file_of(report, kind)
    if path is None:
        raise Http404
    audit.record(
        request.user,
        AuditAction.EXPORT,
        detail=f"monthly report {report.month:%Y-%m} {kind}",
        request=request,
    )
    if kind == "html":
        # the file's one <style> gets this response's CSP nonce; it has no script at all
        text = path.read_text(encoding="utf-8").replace("<style>", f'<style nonce="{request.csp_nonce}">', 1)
        return HttpResponse(text, content_type="text/html; charset=utf-8")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
