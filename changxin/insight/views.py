"""Thin views: parse the request, call metrics/rankings/dashboard/selectors, render."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from changxin.core import audit, params, roles
from changxin.core.errors import DomainError
from changxin.core.models import AuditAction, RankingGroup
from changxin.demands.models import AppealMetric, RankingAppeal
from changxin.demands.selectors import DemandFilter, list_demands
from changxin.insight import appeals, dashboard, exports, metrics, selectors
from changxin.insight.metrics import Period, add_months, parse_month, this_month
from changxin.insight.rankings import monthly_rankings

DRILL_PARAMS = ("unit", "month", "metric", "part")


def insight_view(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not roles.may_see_insight(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _pct(value) -> float | None:
    return None if value is None else round(float(value) * 100, 2)


def _month_param(request) -> dt.date:
    return parse_month(request.GET.get("month"))


@insight_view
def home(request):
    user = request.user
    month = _month_param(request)
    group = request.GET.get("group") or RankingGroup.STREET
    if group not in RankingGroup.values:
        group = RankingGroup.STREET
    rankings = monthly_rankings(month)
    ranking = rankings[group]
    appeal_counts = appeals.counts_by_unit(month)
    today = timezone.localdate()
    last90 = Period.days(today - dt.timedelta(days=89), today + dt.timedelta(days=1))
    daily = dashboard.daily_volume(user, 90, today)
    ranked = ranking.ranked
    streets = dashboard.by_street(user, last90)[:30]
    charts = {
        "ranking": {
            "units": [row.unit.short_name or row.unit.name for row in ranked],
            "codes": [row.unit.code for row in ranked],
            "composite": [_pct(row.rates.composite) for row in ranked],
        },
        "daily": {"days": [d.isoformat() for d, _n in daily], "counts": [n for _d, n in daily]},
        "categories": [{"name": name, "value": n} for name, n in dashboard.by_top_category(user, last90)],
        "streets": {"names": [name for name, _n in streets], "counts": [n for _name, n in streets]},
        "overdue": [
            {"unit": name, "contact": c, "finish": f} for name, c, f in dashboard.overdue_by_unit(user)
        ],
    }
    context = {
        "month": month,
        "month_str": f"{month:%Y-%m}",
        "prev_month": f"{add_months(month, -1):%Y-%m}",
        "next_month": f"{add_months(month, 1):%Y-%m}" if month < this_month() else "",
        "group": group,
        # the tab's count is the number of rows of its ranking table (the ranked units)
        "groups": [(g, RankingGroup(g).label, len(rankings[g].ranked)) for g in RankingGroup.values],
        "min_demands": settings.CHANGXIN_RANKING_MIN_DEMANDS,
        "close_days": settings.CHANGXIN_RANKING_CLOSE_WORKING_DAYS,
        "ranking": ranking,
        "rows": [
            {
                "row": row,
                "drill": selectors.may_drill_fully(user, row.unit),
                "appeals": appeal_counts.get(row.unit.pk, 0),
            }
            for row in ranking.rows
        ],
        "weights": ranking.weights,
        "charts": charts,
        "cards": {
            "month": dashboard.month_count(user, this_month()),
            "open": dashboard.open_count(user),
            "overdue": dashboard.overdue_count(user),
            "last90": sum(n for _d, n in daily),
        },
        "demand_list_url": _demand_list_url(),
    }
    return render(request, "insight/home.html", context)


def _demand_list_url() -> str | None:
    try:
        return reverse("demands:queue")
    except NoReverseMatch:
        return None


def _detail_prefix() -> str | None:
    try:
        return reverse("demands:detail", args=[0]).rsplit("0/", 1)[0]
    except NoReverseMatch:
        return None


def _drill_args(request):
    """(unit or None, month, metric, part) from the request; None when the figure is unknown."""
    metric = request.GET.get("metric", "")
    part = request.GET.get("part", "")
    if (metric, part) not in metrics.CONDITIONS:
        return None
    code = params.text(request.GET.get("unit"), 32)
    unit = selectors.get_assessed_unit(code) if code else None
    return unit, _month_param(request), metric, part


@insight_view
def drill(request):
    args = _drill_args(request)
    if args is None:
        return HttpResponseBadRequest(_("Unknown figure: choose a metric and a part."))
    unit, month, metric, part = args
    flt = DemandFilter.from_params(request.GET)
    demands = selectors.drill_demands(
        request.user, flt, period=Period.month(month), metric=metric, part=part, unit=unit
    ).order_by("-received_at", "-id")
    page = Paginator(demands, 50).get_page(request.GET.get("page"))
    total = None
    if not selectors.may_drill_fully(request.user, unit):
        total = metrics.demands_behind(Period.month(month), metric, part, unit).count()
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "insight/drill.html",
        {
            "unit": unit,
            "month_str": f"{month:%Y-%m}",
            "metric": metric,
            "metric_label": metrics.METRICS[metric],
            "part_label": metrics.PART_LABELS[part],
            "page": page,
            "scoped_total": total,
            "export_url": reverse("insight:export-demands") + "?" + query.urlencode(),
            "detail_prefix": _detail_prefix(),
        },
    )


@insight_view
def unit_detail(request, code):
    unit = selectors.get_assessed_unit(params.text(code, 32))
    month = _month_param(request)
    trend = metrics.monthly_trend(unit, month, 12)
    rows = [
        {"month": f"{m:%Y-%m}", "rates": r, "drill": selectors.may_drill_fully(request.user, unit)}
        for m, r in trend
    ]
    chart = {
        "months": [row["month"] for row in rows],
        "response": [_pct(row["rates"].response_rate) for row in rows],
        "resolution": [_pct(row["rates"].resolution_rate) for row in rows],
        "satisfaction": [_pct(row["rates"].satisfaction_rate) for row in rows],
        "composite": [_pct(row["rates"].composite) for row in rows],
    }
    relations = appeals.relations_of(request.user)
    return render(
        request,
        "insight/unit.html",
        {
            "unit": unit,
            "rows": list(reversed(rows)),
            "chart": chart,
            "month_str": f"{month:%Y-%m}",
            "appeals": [
                {"appeal": a, "actions": appeals.MACHINE.available(a, relations)}
                for a in appeals.appeals_of(unit)
            ],
            "may_appeal": appeals.may_appeal(request.user, unit),
            "appeal_metrics": AppealMetric.choices,
        },
    )


@require_POST
@insight_view
def appeal(request, code):
    """A unit's staff appeal one of its ranking figures."""
    unit = selectors.get_assessed_unit(code)
    if not appeals.may_appeal(request.user, unit):
        raise PermissionDenied
    sentinel = dt.date.min
    month = parse_month(request.POST.get("month"), default=sentinel)
    try:
        if month is sentinel:
            raise DomainError("invalid", _("Choose the month."), "month")
        appeals.submit(
            request.user, unit, month, request.POST.get("metric", ""), request.POST.get("reason", "")
        )
    except DomainError as error:
        return HttpResponseBadRequest(str(error.message))
    messages.success(request, _("Your appeal has been submitted to the centre."))
    return redirect(reverse("insight:unit", args=[unit.code]) + f"?month={month:%Y-%m}#appeals")


@require_POST
@insight_view
def appeal_decide(request, pk, action):
    """The centre accepts or rejects an appeal, with a decision note."""
    if not appeals.relations_of(request.user):
        raise PermissionDenied
    appeal = get_object_or_404(RankingAppeal, pk=pk)
    try:
        appeals.decide(appeal, action, request.user, request.POST.get("note", ""))
    except DomainError as error:
        return HttpResponseBadRequest(str(error.message))
    messages.success(request, _("The appeal has been decided."))
    return redirect(reverse("insight:unit", args=[appeal.unit.code]) + f"?month={appeal.month:%Y-%m}#appeals")


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@insight_view
def export_rankings(request):
    month = _month_param(request)
    rankings = monthly_rankings(month)
    content = exports.rankings_workbook(rankings)
    audit.record(request.user, AuditAction.EXPORT, detail=f"rankings {month:%Y-%m}", request=request)
    return _xlsx(content, f"rankings-{month:%Y-%m}.xlsx")


@insight_view
def export_demands(request):
    """The demand list (same DemandFilter params as the list page), or the list behind a figure."""
    flt = DemandFilter.from_params(request.GET)
    if any(request.GET.get(name) for name in ("metric", "part")):
        args = _drill_args(request)
        if args is None:
            return HttpResponseBadRequest(_("Unknown figure: choose a metric and a part."))
        unit, month, metric, part = args
        demands = selectors.drill_demands(
            request.user, flt, period=Period.month(month), metric=metric, part=part, unit=unit
        )
        title = f"{unit.name if unit else _('District')} {month:%Y-%m} {metrics.METRICS[metric]} · {metrics.PART_LABELS[part]}"
    else:
        demands = list_demands(request.user, flt)
        title = ""
    content, count = exports.demands_workbook(demands.order_by("-received_at", "-id"), title)
    params = {k: v for k, v in request.GET.items() if v and (k in DemandFilter.FIELDS or k in DRILL_PARAMS)}
    audit.record(
        request.user,
        AuditAction.EXPORT,
        detail=f"demands rows={count} {urlencode(sorted(params.items()))}".strip(),
        request=request,
    )
    return _xlsx(content, f"demands-{timezone.localtime():%Y%m%d-%H%M}.xlsx")


@insight_view
def hot_spots(request):
    """The latest run's hot spots in the user's scope, hottest first; ?rising=1 keeps the rising."""
    as_of = selectors.latest_hot_spot_day()
    rising_only = request.GET.get("rising") == "1"
    spots = selectors.hot_spots_visible_to(request.user, as_of=as_of, rising_only=rising_only)
    page = Paginator(spots.order_by("number"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "insight/hot_spots.html",
        {"page": page, "as_of": as_of, "rising_only": rising_only},
    )


@insight_view
def hot_spot(request, pk):
    return hot_spot_page(request, selectors.get_hot_spot(request.user, pk))


def hot_spot_page(request, spot, *, status=200, **extra):
    """The hot spot's page; `extra` (a refused form's errors) from insight/proactive_views.py."""
    from changxin.insight.proactive_views import spot_context

    days = []
    day = spot.period_start
    while day <= spot.as_of:
        days.append(day.isoformat())
        day += dt.timedelta(days=1)
    chart = {"days": days, "counts": [spot.daily.get(d, 0) for d in days]}
    demands = selectors.hot_spot_demands(request.user, spot)
    return render(
        request,
        "insight/hot_spot.html",
        {
            "spot": spot,
            "chart": chart,
            "table": [(d, n) for d, n in zip(days, chart["counts"], strict=True) if n],
            "demands": demands[:200],
            "hidden": spot.demand_count - demands.count(),
            "detail_prefix": _detail_prefix(),
            **spot_context(request, spot),
            **extra,
        },
        status=status,
    )
