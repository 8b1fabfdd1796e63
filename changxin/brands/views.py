"""The 多点 screens (thin: parse, check, call one service, render). Phone-first."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changxin.brands import figures, selectors, services
from changxin.brands.forms import BrandForm, CaseForm
from changxin.brands.models import BrandField
from changxin.brands.workflow import BRAND_MACHINE, CASE_MACHINE
from changxin.core import params, roles
from changxin.core.errors import CONFLICT, FORBIDDEN, INVALID, DomainError
from changxin.core.spreadsheets import csv_row
from changxin.pioneers import selectors as pioneer_selectors

STATUS = {FORBIDDEN: 403, CONFLICT: 409, INVALID: 400}


def _draftable_organisations(user):
    if roles.is_read_only(user):
        return []
    return [o for o in pioneer_selectors.organisations_visible_to(user) if services.may_draft_for(user, o)]


@require_GET
@login_required
def home(request):
    field = request.GET.get("field") or ""
    if field and field not in BrandField.values:
        field = ""
    street_id = params.parse_int(request.GET.get("street"), min_value=1, field="street")
    brands = selectors.brands_visible_to(request.user)
    if field:
        brands = brands.filter(field=field)
    if street_id:
        brands = brands.filter(street_id=street_id)
    matrix = figures.matrix()
    chart = {
        "streets": [s.name for s in matrix.streets],
        "fields": [label for _v, label in matrix.fields],
        "cells": [
            [si, fi, matrix.count(value, street.pk)]
            for fi, (value, _label) in enumerate(matrix.fields)
            for si, street in enumerate(matrix.streets)
        ],
    }
    return render(
        request,
        "brands/home.html",
        {
            "matrix": matrix,
            "chart": chart,
            "brands": brands,
            "fields": BrandField.choices,
            "streets": matrix.streets,
            "field": field,
            "street_id": street_id,
            "may_create": bool(_draftable_organisations(request.user)),
        },
    )


@require_GET
@login_required
def matrix_csv(request):
    matrix = figures.matrix()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="brand-matrix.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(csv_row([_("Field"), *[s.name for s in matrix.streets], _("Total")]))
    for _value, label, counts, total in matrix.rows():
        writer.writerow(csv_row([label, *counts, total]))
    return response


@require_http_methods(["GET", "POST"])
@login_required
def brand_new(request):
    organisations = _draftable_organisations(request.user)
    if not organisations:
        raise PermissionDenied(_("Brands are kept by party staff and branch secretaries."))
    form = BrandForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            brand = services.create_brand(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Brand created as a draft."))
            return redirect("brands:brand", brand.pk)
    return render(request, "brands/brand_form.html", {"form": form}, status=400 if form.errors else 200)


def _brand_page(request, brand, *, case_form=None, refusal=None, status=200):
    cases = []
    for case in selectors.cases_visible_to(request.user, brand):
        cases.append(
            {
                "case": case,
                "results": figures.case_results(case),
                "actions": services.available_case_actions(request.user, case),
            }
        )
    in_scope = selectors.in_owner_scope(request.user, brand)
    may_edit = (
        in_scope and bool(services.relations_of(request.user, brand)) and not roles.is_read_only(request.user)
    )
    if may_edit and case_form is None:
        case_form = CaseForm(brand=brand)
    return render(
        request,
        "brands/brand.html",
        {
            "brand": brand,
            "cases": cases,
            "actions": services.available_brand_actions(request.user, brand),
            "blocked": services.blocked_brand_actions(request.user, brand),
            "timeline": selectors.timeline(request.user, brand)[:50],
            "case_form": case_form if may_edit else None,
            "refusal": refusal,
        },
        status=status,
    )


@require_GET
@login_required
def brand(request, pk: int):
    return _brand_page(request, selectors.get_brand_for(request.user, pk))


@require_POST
@login_required
def brand_step(request, pk: int):
    brand = selectors.get_brand_for(request.user, pk)
    if request.POST.get("action") not in BRAND_MACHINE.table:
        return HttpResponseBadRequest(_("Choose an action."))
    version = params.parse_int(request.POST.get("version"), min_value=0, field="version")
    try:
        services.brand_step(
            brand, request.POST.get("action", ""), request.user, note=request.POST.get("note", ""),
            expected_version=version,
        )  # fmt: skip
    except DomainError as exc:
        brand.refresh_from_db()
        return _brand_page(request, brand, refusal=exc, status=STATUS[exc.kind])
    messages.success(request, _("Done."))
    return redirect("brands:brand", brand.pk)


@require_POST
@login_required
def case_new(request, pk: int):
    brand = selectors.get_brand_for(request.user, pk)
    form = CaseForm(request.POST, brand=brand)
    if form.is_valid():
        if not services.relations_of(request.user, brand) or roles.is_read_only(request.user):
            raise PermissionDenied(_("You may not keep the brands of this party organisation."))
        try:
            services.add_case(brand, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Practice case added as a draft."))
            return redirect("brands:brand", brand.pk)
    return _brand_page(request, brand, case_form=form, status=400)


@require_POST
@login_required
def case_step(request, pk: int):
    case = selectors.get_case_for(request.user, pk)
    if request.POST.get("action") not in CASE_MACHINE.table:
        return HttpResponseBadRequest(_("Choose an action."))
    version = params.parse_int(request.POST.get("version"), min_value=0, field="version")
    try:
        services.case_step(
            case, request.POST.get("action", ""), request.user, note=request.POST.get("note", ""),
            expected_version=version,
        )  # fmt: skip
    except DomainError as exc:
        brand = selectors.get_brand_for(request.user, case.brand_id)
        return _brand_page(request, brand, refusal=exc, status=STATUS[exc.kind])
    messages.success(request, _("Done."))
    return redirect("brands:brand", case.brand_id)
