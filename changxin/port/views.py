"""先丰港 screens: thin — parse, check, call one service, render."""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changxin.core import audit, params, roles
from changxin.core.privacy import mask_name, mask_phone
from changxin.core.scope import get_visible_or_404
from changxin.demands import selectors as demand_selectors
from changxin.demands import services as demand_services
from changxin.demands.workflow import WorkflowError
from changxin.port import pipeline, selectors, services
from changxin.port.forms import (
    EnterpriseDemandForm,
    PackageItemForm,
    PackageStatusForm,
    ProjectMoveForm,
    RatingForm,
    VisitForm,
)
from changxin.port.models import Enterprise, PackageStatus, Stage, Zone


def _gate(user) -> None:
    if not selectors.may_use_port(user):
        raise PermissionDenied


def _enterprise(request, pk) -> Enterprise:
    _gate(request.user)
    return get_visible_or_404(selectors.enterprises_visible_to(request.user), request.user, pk=pk)


def _add_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError shown on the form (under its field when the form has it)."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _contacts(request, enterprise: Enterprise) -> dict:
    if services.may_see_contacts(request.user, enterprise):
        if roles.is_staff_side(request.user) and (enterprise.contact_name or enterprise.contact_phone):
            audit.record_personal_view(
                request.user, enterprise, ["contact_name", "contact_phone"], request=request
            )
        return {"name": enterprise.contact_name, "phone": enterprise.contact_phone, "masked": False}
    return {
        "name": mask_name(enterprise.contact_name),
        "phone": mask_phone(enterprise.contact_phone),
        "masked": True,
    }


@login_required
@require_GET
def home(request):
    """Enterprise accounts: their enterprise's portal. Staff: their enterprises and visit plan."""
    user = request.user
    _gate(user)
    own = selectors.own_enterprises(user)
    if user.role == roles.Role.ENTERPRISE:
        mine = list(own[:2])
        if len(mine) == 1:
            return _portal(request, mine[0])
        return render(request, "port/enterprise_list.html", {"enterprises": mine, "plan": [], "zones": []})
    zone = request.GET.get("zone", "")
    if zone in Zone.values:
        own = own.filter(zone=zone)
    enterprises = list(own[:200])
    plan = selectors.visit_plan(enterprises) if user.role == roles.Role.SERVICE_MANAGER else []
    return render(
        request,
        "port/enterprise_list.html",
        {"enterprises": enterprises, "plan": plan, "zones": Zone.choices, "zone": zone},
    )


def _portal(request, enterprise: Enterprise, *, status=200):
    user = request.user
    links = list(selectors.demand_links(user, enterprise)[:50])
    rateable = selectors.rateable(user, [link.demand for link in links])
    visits = list(enterprise.visits.select_related("visitor")[:10]) if roles.is_staff_side(user) else []
    plan = selectors.visit_plan([enterprise])
    return render(
        request,
        "port/enterprise.html",
        {
            "enterprise": enterprise,
            "contacts": _contacts(request, enterprise),
            "links": links,
            "rateable": rateable,
            "rating_form": RatingForm(),
            "may_file": services.may_file_for(user, enterprise),
            "may_visit": services.may_record_visit(user, enterprise),
            "visits": visits,
            "plan": plan[0] if plan else None,
            # the visit plan is the manager's, not shown to the enterprise
            "staff_view": roles.is_staff_side(user),
            "packages": enterprise.package_items.all(),
            "may_package": services.may_manage_packages(user, enterprise),
            "package_form": PackageItemForm(),
            "statuses": PackageStatus.choices,
        },
        status=status,
    )


@login_required
@require_GET
def enterprise_detail(request, pk):
    return _portal(request, _enterprise(request, pk))


def public_url(enterprise: Enterprise) -> str:
    return settings.CHANGXIN_PUBLIC_URL.rstrip("/") + reverse("port:code", args=[enterprise.public_code])


def qr_svg(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


@login_required
@require_GET
def contact_card(request, pk):
    """联系卡: the service manager and the contacts, printable, with the enterprise code's QR."""
    enterprise = _enterprise(request, pk)
    url = public_url(enterprise)
    return render(
        request,
        "port/card.html",
        {
            "enterprise": enterprise,
            "contacts": _contacts(request, enterprise),
            "qr": mark_safe(qr_svg(url)),  # noqa: S308 — our own SVG of our own URL
            "code_url": url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def file_demand(request, pk):
    enterprise = _enterprise(request, pk)
    if not services.may_file_for(request.user, enterprise):
        raise PermissionDenied
    status = 200
    form = EnterpriseDemandForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                demand, _created = services.file_enterprise_demand(
                    enterprise, form.demand_data(), actor=request.user, token=str(form.cleaned_data["token"])
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Demand %(number)s filed; your service manager will contact you.")
                    % {"number": demand.number},
                )
                return redirect("port:home")
        status = 400
    return render(request, "port/file_demand.html", {"enterprise": enterprise, "form": form}, status=status)


@login_required
@require_POST
def rate(request, pk):
    """The enterprise rates a replied demand (the engine's return visit by the REQUESTER)."""
    user = request.user
    if user.role != roles.Role.ENTERPRISE:
        raise PermissionDenied
    demand = demand_selectors.get_demand_for(user, pk=pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say whether the matter was resolved and how satisfied you are."))
        return redirect("port:home")
    try:
        demand_services.transition(demand, "return_visit", user, **form.cleaned_data)
    except WorkflowError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("Thank you: your rating of %(number)s is recorded.") % {"number": demand.number}
        )
    return redirect("port:home")


@login_required
@require_http_methods(["GET", "POST"])
def record_visit(request, pk):
    enterprise = _enterprise(request, pk)
    if not services.may_record_visit(request.user, enterprise):
        raise PermissionDenied
    status = 200
    form = VisitForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                _visit, demand = services.record_visit(
                    enterprise,
                    actor=request.user,
                    visited_on=form.cleaned_data["visited_on"],
                    people_met=form.cleaned_data["people_met"],
                    raised=form.cleaned_data["raised"],
                    need=form.need(),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if demand is not None:
                    messages.success(
                        request, _("Visit recorded; demand %(number)s filed.") % {"number": demand.number}
                    )
                else:
                    messages.success(request, _("Visit recorded."))
                return redirect("port:enterprise", pk=enterprise.pk)
        status = 400
    return render(request, "port/visit.html", {"enterprise": enterprise, "form": form}, status=status)


@login_required
@require_GET
def ranking(request):
    """Enterprise demands per service manager and per lead unit (of the demands the viewer sees)."""
    user = request.user
    _gate(user)
    if not roles.is_staff_side(user):
        raise PermissionDenied
    return render(
        request,
        "port/ranking.html",
        {
            "by_manager": selectors.enterprise_demand_ranking(user, by="manager"),
            "by_unit": selectors.enterprise_demand_ranking(user, by="unit"),
        },
    )


@require_GET
def public_code(request, code):
    """What the enterprise code (the QR on its card) shows anyone: which enterprise, its service
    manager (masked), and the inspections registered against the code for today (一码检查:
    `views_inspections.code_context`)."""
    from changxin.port.views_inspections import code_context

    enterprise = (
        Enterprise.objects.filter(public_code=code, is_active=True)
        .select_related("street", "manager")
        .first()
    )
    if enterprise is None:
        raise Http404
    manager = enterprise.manager
    return render(
        request,
        "port/code.html",
        {
            "enterprise": enterprise,
            "manager_name": mask_name(manager.full_name or manager.username) if manager else "",
            **code_context(request, enterprise),
        },
    )


# --- investment projects ------------------------------------------------------------------------


@login_required
@require_GET
def projects(request):
    """The board per zone (columns by stage) and the 储备/开工/建成 counts per zone for a year."""
    user = request.user
    _gate(user)
    zone = request.GET.get("zone", "")
    zone = zone if zone in Zone.values else ""
    year = params.parse_int(
        request.GET.get("year"), min_value=2000, max_value=2100, default=timezone.localdate().year
    )
    counts = selectors.batch_counts(user, year)
    rows = pipeline.pipeline(user, zone)
    return render(
        request,
        "port/projects.html",
        {
            "pipeline": rows,
            "pipeline_chart": pipeline.chart_data(rows),
            "stages": Stage.choices,
            "columns": selectors.project_board(user, zone),
            "counts": counts,
            "counts_max": max([1, *(max(r["reserved"], r["started"], r["completed"]) for r in counts)]),
            "zones": Zone.choices,
            "zone": zone,
            "year": year,
            "years": range(timezone.localdate().year - 3, timezone.localdate().year + 1),
        },
    )


@login_required
@require_GET
def projects_export(request):
    """The pipeline table as CSV: per zone, the projects and amounts (10,000 yuan) per stage."""
    import csv

    from django.http import HttpResponse

    from changxin.core.models import AuditAction
    from changxin.core.spreadsheets import csv_row

    user = request.user
    _gate(user)
    zone = request.GET.get("zone", "")
    zone = zone if zone in Zone.values else ""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="project-pipeline.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = csv.writer(response)
    stages = Stage.choices
    writer.writerow(
        csv_row(
            [_("Functional zone")]
            + [str(label) for _v, label in stages]
            + [_("%(stage)s amount") % {"stage": label} for _v, label in stages]
            + [_("Total")]
        )
    )
    for row in pipeline.pipeline(user, zone):
        writer.writerow(
            csv_row(
                [row["label"]]
                + [row["counts"][v] for v, _l in stages]
                + [row["amounts"][v] for v, _l in stages]
                + [row["total"]]
            )
        )
    audit.record(user, AuditAction.EXPORT, None, detail="port.pipeline.csv", request=request)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def project_detail(request, pk):
    """A project: its data, its stage history, and the moves the machine offers this user."""
    user = request.user
    _gate(user)
    project = get_visible_or_404(selectors.projects_visible_to(user), user, pk=pk)
    actions = services.project_actions(user, project, with_reason=True)
    if request.method == "POST" and not actions:
        raise PermissionDenied
    next_steps = services.project_actions(user, project)
    initial = {"action": next_steps[0].name} if next_steps else {}
    form = ProjectMoveForm(request.POST or None, actions=actions, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.move_project(
                    project,
                    form.cleaned_data["action"],
                    user,
                    note=form.cleaned_data["note"],
                    expected_version=request.POST.get("version"),
                )
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("The project moved on."))
                return redirect("port:project", pk=project.pk)
        status = 400
    return render(
        request,
        "port/project.html",
        {
            "project": project,
            "events": project.events.order_by("at", "id"),
            "next_steps": next_steps,
            "form": form if actions else None,
        },
        status=status,
    )


@login_required
@require_POST
def packages(request, pk):
    """一卡三包: add an item, or change an item's status (the service manager, the centre)."""
    enterprise = _enterprise(request, pk)
    if not services.may_manage_packages(request.user, enterprise):
        raise PermissionDenied
    try:
        if "item" in request.POST:
            form = PackageStatusForm(request.POST)
            if form.is_valid():
                item = get_visible_or_404(
                    enterprise.package_items.all(), request.user, pk=form.cleaned_data["item"]
                )
                services.set_package_status(item, form.cleaned_data["status"], actor=request.user)
        else:
            form = PackageItemForm(request.POST)
            if form.is_valid():
                services.add_package_item(enterprise, form.cleaned_data, actor=request.user)
    except ValidationError as exc:
        _add_errors(form, exc)
    if form.errors:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        messages.success(request, _("The package is updated."))
    return redirect("port:enterprise", pk=enterprise.pk)
