"""The party wing's screens (thin: parse, check, call one service, render). Phone-first."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from changxin.core import params, roles
from changxin.core.errors import DomainError
from changxin.pioneers import pipeline, selectors, services
from changxin.pioneers.forms import AdjustmentForm, RecordForm, StepForm, TakeForm
from changxin.pioneers.models import MemberStatus, RecordKind, VanguardKind
from changxin.pioneers.views_honours import member_extras


def _year(request) -> int:
    """The year asked for (ASCII digits, 2000–2100), else this year (core/params.py)."""
    return params.parse_int(
        request.GET.get("year"), min_value=2000, max_value=2100, default=timezone.localdate().year
    )


@require_GET
@login_required
def home(request):
    """Party staff and the district: the organisation tree. A member: their own page."""
    user = request.user
    if not (selectors.is_party_staff(user) or roles.is_district_wide(user)):
        member = selectors.member_of(user)
        if member is None:
            raise PermissionDenied(_("The party wing is for party staff and members."))
        secretary_of = selectors.organisations_visible_to(user).first()
        return redirect(
            "pioneers:organisation" if secretary_of else "pioneers:member",
            secretary_of.pk if secretary_of else member.pk,
        )
    organisations = selectors.organisations_visible_to(user).annotate(
        full=Count("members", filter=Q(members__status=MemberStatus.FULL)),
        probationary=Count("members", filter=Q(members__status=MemberStatus.PROBATIONARY)),
    )
    return render(request, "pioneers/home.html", {"organisations": organisations})


def _board(request, organisation):
    today = timezone.localdate()
    rows = []
    for case in selectors.list_cases(request.user, organisation):
        step = pipeline.NEXT_STEP.get(case.stage)
        rows.append(
            {
                "case": case,
                "next": pipeline.MACHINE.get(step) if step else None,
                "earliest": pipeline.earliest_next(case),
                "missing": pipeline.missing_for_next(case, today),
            }
        )
    return rows


@require_GET
@login_required
def organisation(request, pk: int):
    org = selectors.get_organisation_for(request.user, pk)
    year = _year(request)
    ranking = selectors.ranking(request.user, org, year)[:20]
    return render(
        request,
        "pioneers/organisation.html",
        {
            "org": org,
            "children": selectors.organisations_visible_to(request.user).filter(parent=org),
            "members": selectors.list_members(request.user, org),
            "board": _board(request, org),
            "ranking": ranking,
            "chart": selectors.ranking_chart(ranking[:10], year),
            "year": year,
            "may_keep": bool(services.relations_of(request.user, org)),
        },
    )


def _member_context(request, member, *, unmasked=None):
    year = _year(request)
    entries = list(selectors.list_entries(member))
    totals = {}
    for entry in entries:
        if entry.year == year:
            totals[entry.kind] = totals.get(entry.kind, 0) + entry.points
    from changxin.pioneers.posts import is_proactive

    in_area = selectors.demands_in_area(request.user, member)
    area_demands = list(in_area.exclude(is_proactive())[:20])
    proactive = list(in_area.filter(is_proactive())[:20])
    from changxin.demands.services import may

    takeable = {
        d.pk for d in [*area_demands, *proactive] if member.user_id and may(request.user, d, "assign")
    }
    return {
        "member": member,
        "unmasked": unmasked,
        "may_unmask": services.may_unmask(request.user, member),
        "year": year,
        "total": selectors.total_of(member, year),
        "by_kind": [(label, totals.get(value, 0)) for value, label in VanguardKind.choices],
        "entries": entries[:50],
        "adjustments": selectors.list_adjustments(member),
        "areas": member.areas.all(),
        "area_demands": area_demands,
        "proactive": proactive,
        "takeable": takeable,
        "case": getattr(member, "development_case", None),
        "may_adjust": services.is_staff_for(request.user, member.organisation),
        "kinds": VanguardKind.choices,
        "proactive_offers": _proactive_offers(request.user, member),
        **member_extras(member, year),
    }


def _proactive_offers(viewer, member) -> list[dict]:
    """未诉先办 tasks in the member's area (insight/proactive.py); the member takes one themselves."""
    from changxin.insight import proactive

    own = member.user_id is not None and member.user_id == viewer.pk
    return [
        {
            "task": task,
            "assignee": proactive.assignee_of(task),
            "may_take": own and proactive.take_refusal(task, viewer) is None,
        }
        for task in proactive.offers_for_member(viewer, member)
    ]


@require_GET
@login_required
def member(request, pk: int):
    member = selectors.get_member_for(request.user, pk)
    return render(request, "pioneers/member.html", _member_context(request, member))


@require_POST
@login_required
def reveal(request, pk: int):
    """Show the member's ID number and phone to a viewer who needs them; audited."""
    if not (selectors.is_party_staff(request.user) or selectors.member_of(request.user)):
        raise PermissionDenied(_("You may not see this member's personal data."))
    member = selectors.get_member_for(request.user, pk)
    try:
        shown = services.unmask_member(request.user, member, request=request)
    except DomainError as exc:
        raise PermissionDenied(str(exc.message)) from exc
    return render(request, "pioneers/member.html", _member_context(request, member, unmasked=shown))


@require_POST
@login_required
def take_demand(request, pk: int):
    """The lead unit hands a demand in the member's area to the member (the demand workflow's assign)."""
    member = selectors.get_member_for(request.user, pk)
    form = TakeForm(request.POST)
    if not form.is_valid() or not member.user_id:
        return HttpResponseBadRequest(_("Choose a demand in the member's area."))
    from changxin.demands.selectors import get_demand_for
    from changxin.demands.services import transition

    demand = get_demand_for(request.user, pk=form.cleaned_data["demand"])
    try:
        transition(demand, "assign", request.user, assignee=member.user_id)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("%(demand)s is now %(name)s's to handle.") % {"demand": demand.number, "name": member.name},
        )
    return redirect("pioneers:member", member.pk)


@require_GET
@login_required
def case(request, pk: int):
    case = selectors.get_case_for(request.user, pk)
    return render(request, "pioneers/case.html", _case_context(request, case))


def _case_context(request, case, *, step_form=None, record_form=None, error=None):
    step = pipeline.NEXT_STEP.get(case.stage)
    steps = [pipeline.MACHINE.get(step)] if step else []
    if case.stage == "probationary":
        steps += [pipeline.MACHINE.get("extend"), pipeline.MACHINE.get("cancel")]
    relations = services.relations_of(request.user, case.organisation)
    return {
        "case": case,
        "records": case.records.all(),
        "events": selectors.list_case_events(case),
        "steps": steps if relations else [],
        "may_keep": bool(relations),
        "earliest": pipeline.earliest_next(case),
        "missing": pipeline.missing_for_next(case, timezone.localdate()),
        "step_form": step_form or StepForm(initial={"version": case.version}),
        "record_form": record_form or RecordForm(),
        "record_kinds": RecordKind.choices,
        "sponsors": selectors.list_members(request.user, case.organisation).filter(status=MemberStatus.FULL),
        "error": error,
    }


@require_POST
@login_required
def step(request, pk: int):
    case = selectors.get_case_for(request.user, pk)
    form = StepForm(request.POST)
    if not form.is_valid():
        return render(request, "pioneers/case.html", _case_context(request, case, step_form=form), status=400)
    data = form.cleaned_data
    try:
        services.take_step(
            case,
            data["step"],
            request.user,
            on=data["on"],
            note=data["note"],
            expected_version=data["version"],
        )
    except DomainError as exc:
        case.refresh_from_db()
        return render(
            request, "pioneers/case.html", _case_context(request, case, step_form=form, error=exc), status=409
        )
    messages.success(request, _("Step recorded."))
    return redirect("pioneers:case", case.pk)


@require_POST
@login_required
def record(request, pk: int):
    case = selectors.get_case_for(request.user, pk)
    form = RecordForm(request.POST)
    if not form.is_valid():
        return render(
            request, "pioneers/case.html", _case_context(request, case, record_form=form), status=400
        )
    data = form.cleaned_data
    sponsor = None
    if data["sponsor"]:
        sponsor = selectors.list_members(request.user, case.organisation).filter(pk=data["sponsor"]).first()
    try:
        services.add_record(
            case,
            data["kind"],
            data["on"],
            actor=request.user,
            until=data["until"],
            sponsor=sponsor,
            note=data["note"],
        )
    except DomainError as exc:
        return render(
            request,
            "pioneers/case.html",
            _case_context(request, case, record_form=form, error=exc),
            status=409,
        )
    messages.success(request, _("Record added."))
    return redirect("pioneers:case", case.pk)


@require_POST
@login_required
def adjust(request, pk: int):
    """Party staff ask for a manual adjustment of a member's points (a reason; another approves)."""
    if not (selectors.is_party_staff(request.user) or roles.is_district_admin(request.user)):
        raise PermissionDenied(_("Only party staff over the organisation adjust points."))
    member = selectors.get_member_for(request.user, pk)
    if not services.is_staff_for(request.user, member.organisation):
        raise PermissionDenied(_("Only party staff over the organisation adjust points."))
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Give the points, the kind and a reason."))
    try:
        services.request_adjustment(member, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Adjustment requested; another member of party staff approves it."))
    return redirect("pioneers:member", member.pk)


@require_POST
@login_required
def decide(request, pk: int, adjustment_pk: int):
    member = selectors.get_member_for(request.user, pk)
    adjustment = selectors.list_adjustments(member).filter(pk=adjustment_pk).first()
    if adjustment is None or request.POST.get("decision") not in ("approve", "reject"):
        return HttpResponseBadRequest(_("Choose an adjustment and a decision."))
    try:
        services.decide_adjustment(
            adjustment,
            approve=request.POST["decision"] == "approve",
            actor=request.user,
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Adjustment decided."))
    return redirect("pioneers:member", member.pk)
