"""一码检查 / 无事不扰 screens: thin — parse, check, call port.inspections, render."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from changxin.core import audit, params, roles
from changxin.core.errors import DomainError
from changxin.core.models import AuditAction
from changxin.core.scope import get_visible_or_404, restrict
from changxin.core.spreadsheets import csv_row
from changxin.core.tabular import TableError
from changxin.port import inspections
from changxin.port.inspection_forms import (
    ActionForm,
    InspectionRatingForm,
    PlanUploadForm,
    RegisterForm,
    ResultForm,
)
from changxin.port.inspection_import import COLUMNS as PLAN_COLUMNS
from changxin.port.inspection_import import import_plans
from changxin.port.inspection_workflow import INSPECTION, MANUAL
from changxin.port.models import Enterprise, InspectionPlan, InspectionState


def _gate(user) -> None:
    if not inspections.may_use_inspections(user):
        raise PermissionDenied


def _year(request) -> int:
    return params.parse_int(
        request.GET.get("year"), min_value=2000, max_value=2100, default=timezone.localdate().year
    )


@login_required
@require_GET
def inspection_list(request):
    """The inspections the viewer may see: its department's, its enterprise's, all (district)."""
    user = request.user
    _gate(user)
    year = _year(request)
    state = request.GET.get("state", "")
    qs = inspections.inspections_visible_to(user).filter(planned_from__year=year)
    if state in InspectionState.values:
        qs = qs.filter(state=state)
    rows = list(qs.order_by("-planned_from", "-id")[:200])
    return render(
        request,
        "port/inspections/list.html",
        {
            "inspections": rows,
            "year": year,
            "years": range(timezone.localdate().year - 3, timezone.localdate().year + 2),
            "state": state,
            "states": [c for c in InspectionState.choices if c[0] != InspectionState.NEW],
            "may_register": inspections.may_register(user),
            "staff_view": roles.is_staff_side(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    """Register an inspection of the viewer's department against an enterprise's code."""
    user = request.user
    if not inspections.may_register(user):
        raise PermissionDenied
    initial = {}
    code = params.text(request.GET.get("code"), max_length=40) if request.method == "GET" else ""
    if code:
        enterprise = Enterprise.objects.filter(public_code=code, is_active=True).first()
        if enterprise is not None:
            initial["credit_code"] = enterprise.credit_code
    form = RegisterForm(request.POST or None, user=user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                inspection = inspections.register_inspection(
                    form.enterprise, actor=user, **form.service_kwargs()
                )
            except DomainError as exc:
                form.add_error(None, f"{exc.message}")
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                if inspection.joint_id:
                    messages.success(
                        request,
                        _("Registered and merged into a joint visit with another department, on %(when)s.")
                        % {"when": timezone.localtime(inspection.planned_from).strftime("%Y-%m-%d %H:%M")},
                    )
                else:
                    messages.success(request, _("The inspection is registered against the enterprise code."))
                return redirect("port:inspection", pk=inspection.pk)
        status = 400
    return render(request, "port/inspections/register.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, pk):
    """An inspection: what the code shows, its history, and what the machine offers this user."""
    user = request.user
    _gate(user)
    inspection = get_visible_or_404(inspections.inspections_visible_to(user), user, pk=pk)
    relations = inspections.relations(user, inspection)
    if request.method == "POST":
        if not relations:
            raise PermissionDenied
        return _post(request, inspection)
    offered = INSPECTION.available(inspection, relations)
    names = {t.name for t in offered}
    return render(
        request,
        "port/inspections/detail.html",
        {
            "inspection": inspection,
            "inspectors": inspections.public_inspectors(inspection),
            "events": inspection.events.order_by("at", "id"),
            "buttons": [t for t in offered if t.name in MANUAL],
            # the result is the form's data (its guard is asked when it is sent)
            "may_record": any(
                t.name == "record_result" for t in INSPECTION.offered_by_table(inspection.state, relations)
            ),
            "may_rate": "rate" in names,
            "result_form": ResultForm(),
            "rating_form": InspectionRatingForm(),
            "staff_view": roles.is_staff_side(user),
        },
    )


def _post(request, inspection):
    user = request.user
    version = request.POST.get("version")
    try:
        if "result" in request.POST:
            form = ResultForm(request.POST)
            if not form.is_valid():
                raise DomainError("result_required", _("Record the result: no findings, or the findings."))
            inspections.record_result(inspection, user, expected_version=version, **form.cleaned_data)
        elif "rating" in request.POST:
            form = InspectionRatingForm(request.POST)
            if not form.is_valid():
                raise DomainError("rating", _("Rate from 1 to 5."))
            inspections.rate(inspection, user, **form.cleaned_data)
        else:
            form = ActionForm(request.POST)
            if not form.is_valid() or form.cleaned_data["action"] not in MANUAL:
                raise DomainError("unknown_transition", _("Choose an action."))
            inspections.act(
                inspection,
                form.cleaned_data["action"],
                user,
                note=form.cleaned_data["note"],
                expected_version=version,
            )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Saved."))
    return redirect("port:inspection", pk=inspection.pk)


def code_context(request, enterprise) -> dict:
    """What the enterprise code shows about inspections (port.views.public_code): the visits
    registered for today — department, inspectors masked with their certificate numbers, legal basis,
    window — and, to one of their inspectors signed in, the button that starts it on site."""
    current = inspections.current_at_code(enterprise)
    visits = []
    for inspection in current:
        start = None
        if roles.is_active(request.user) and request.user.role == roles.Role.INSPECTOR:
            offered = inspections.actions(request.user, inspection, names={"start"})
            start = offered[0] if offered else None
        visits.append(
            {
                "inspection": inspection,
                "inspectors": inspections.public_inspectors(inspection),
                "start": start,
            }
        )
    return {"visits": visits, "may_register": inspections.may_register(request.user)}


@login_required
@require_GET
def report(request):
    """无事不扰 per department: inspections, share planned, joint visits, ratings, rectifications."""
    user = request.user
    _gate(user)
    if not roles.is_staff_side(user):
        raise PermissionDenied
    year = _year(request)
    quarter = params.parse_int(request.GET.get("quarter"), min_value=0, max_value=4, default=0)
    rows = inspections.report(user, year, quarter or None)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="inspections-{year}-q{quarter}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(csv_row(str(label) for _key, label in inspections.REPORT_COLUMNS))
        for row in rows:
            writer.writerow(
                csv_row("" if row[k] is None else row[k] for k, _label in inspections.REPORT_COLUMNS)
            )
        audit.record(user, AuditAction.EXPORT, None, detail=f"port.inspection_report {year} q{quarter}")
        return response
    chart = {
        "departments": [r["department"] for r in rows],
        "planned": [r["planned"] for r in rows],
        "triggered": [r["total"] - r["planned"] for r in rows],
        "joint": [r["joint"] for r in rows],
        "rating": [r["rating"] for r in rows],
    }
    return render(
        request,
        "port/inspections/report.html",
        {
            "rows": rows,
            "chart": chart,
            "year": year,
            "quarter": quarter,
            "years": range(timezone.localdate().year - 3, timezone.localdate().year + 2),
            "quarters": range(1, 5),
        },
    )


def _may_import_plans(user) -> bool:
    return inspections.may_register(user) and user.unit.kind == roles.UnitKind.DEPARTMENT


@login_required
@require_http_methods(["GET", "POST"])
def plans(request):
    """The annual inspection plans (the viewer's department; the district sees all) and the import."""
    user = request.user
    if not (roles.is_district_wide(user) or (roles.is_active(user) and user.role == roles.Role.INSPECTOR)):
        raise PermissionDenied
    form = None
    report = None
    status = 200
    if _may_import_plans(user):
        form = PlanUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST":
            status = 400
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    report = import_plans(upload, department=user.unit, actor=user, name=upload.name)
                except TableError as exc:
                    form.add_error("file", str(exc))
                else:
                    if report.ok and report.written:
                        messages.success(
                            request, _("%(count)s plan items imported.") % {"count": report.written}
                        )
                        return redirect("port:inspection-plans")
    elif request.method == "POST":
        raise PermissionDenied
    year = _year(request)
    rows = list(
        restrict(InspectionPlan.objects.select_related("department", "enterprise"), user)
        .filter(year=year)
        .order_by("month", "department__code", "id")[:500]
    )
    return render(
        request,
        "port/inspections/plans.html",
        {
            "plans": rows,
            "form": form,
            "report": report,
            "columns": PLAN_COLUMNS,
            "year": year,
            "years": range(timezone.localdate().year - 3, timezone.localdate().year + 2),
        },
        status=status,
    )
