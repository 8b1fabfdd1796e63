"""htmx partials for the officer's reply screen: similar closed cases, and the reply check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from changxin.core.params import parse_int
from changxin.core.roles import is_staff_side
from changxin.demands.selectors import get_demand_for
from changxin.triage.duplicates import similar_closed_cases
from changxin.triage.replycheck import check_reply


def _staff_demand(request, pk):
    if not is_staff_side(request.user):
        raise Http404
    return get_demand_for(request.user, pk=pk)


@login_required
@require_GET
def similar(request, demand_pk: int):
    demand = _staff_demand(request, demand_pk)
    cases = similar_closed_cases(demand, request.user, limit=5)
    template = "triage/_similar.html" if request.htmx else "triage/similar.html"
    return render(request, template, {"demand": demand, "cases": cases})


@login_required
@require_POST
def reply_check(request):
    raw = request.POST.get("demand_id") or request.POST.get("demand") or ""
    demand_pk = parse_int(raw, min_value=1)
    if demand_pk is None:
        raise Http404
    demand = _staff_demand(request, demand_pk)
    text = request.POST.get("reply") or request.POST.get("note") or ""
    result = check_reply(demand.title, demand.content, text) if text.strip() else None
    return render(request, "triage/_reply_check.html", {"demand": demand, "check": result})
