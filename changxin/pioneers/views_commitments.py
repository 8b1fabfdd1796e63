"""承诺践诺 and 容错纠错 screens (thin: parse, check, call one service, render). Phone-first.

The member's page of commitments and relief is scoped like the member page (party staff over the
organisation, the branch secretary, the member); the community's commitment wall is public and
read-only (names masked), with a rating form for residents signed in.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, Prefetch
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from changxin.core import params, roles, scope
from changxin.core.errors import CONFLICT, FORBIDDEN, INVALID, DomainError
from changxin.core.models import OrgUnit
from changxin.core.privacy import mask_name
from changxin.pioneers import commitments, selectors
from changxin.pioneers.models import (
    Commitment,
    CommitmentProgress,
    CommitmentState,
    PointEntry,
    ReliefApplication,
    ResidentRating,
)

STATUS = {FORBIDDEN: 403, CONFLICT: 409, INVALID: 400}


def _year(request) -> int:
    return params.parse_int(
        request.GET.get("year"), min_value=2000, max_value=2100, default=timezone.localdate().year
    )


def _communities(member):
    """The communities a member's commitment may be shown in: those of the organisation's street."""
    unit = member.organisation.unit
    root = unit.street() or unit
    return OrgUnit.objects.filter(kind__in=roles.COMMUNITY_KINDS, path__startswith=root.path).order_by("path")


def _page(request, member, *, refusal=None, status=200):
    user = request.user
    relations = commitments.relations_of(user, member)
    rows = [
        {"c": c, "actions": commitments.available(user, c)}
        for c in member.commitments.select_related("community")
        .prefetch_related("progress")
        .annotate(residents=Count("resident_ratings"), resident_avg=Avg("resident_ratings__stars"))
    ]
    applications = {
        a.penalty_id: a for a in ReliefApplication.objects.filter(member=member).select_related("penalty")
    }
    for application in applications.values():
        application.acting_user = user
        application.decisions = commitments.RELIEF_MACHINE.available(application, relations)
    penalties = [
        {"entry": e, "application": applications.get(e.pk)}
        for e in PointEntry.objects.filter(member=member, points__lt=0)
        .select_related("demand")
        .order_by("-at")[:50]
    ]
    return render(
        request,
        "pioneers/commitments.html",
        {
            "member": member,
            "rows": rows,
            "may_keep": bool(relations),
            "penalties": penalties,
            "refusal": refusal,
            "year": timezone.localdate().year,
            "communities": _communities(member),
        },
        status=status,
    )


@require_GET
@login_required
def member_commitments(request, pk: int):
    return _page(request, selectors.get_member_for(request.user, pk))


@require_POST
@login_required
def commitment_new(request, pk: int):
    member = selectors.get_member_for(request.user, pk)
    year = params.parse_int(request.POST.get("year"), min_value=2000, max_value=2100, field="year")
    community_id = params.parse_int(request.POST.get("community"), min_value=1, field="community")
    title = (request.POST.get("title") or "").strip()
    if year is None or not title:
        return HttpResponseBadRequest(_("Give the year and the commitment."))
    community = OrgUnit.objects.filter(pk=community_id).first() if community_id else None
    try:
        commitments.create_commitment(
            member, year=year, title=title, content=request.POST.get("content", ""), community=community,
            actor=request.user,
        )  # fmt: skip
    except DomainError as exc:
        return _page(request, member, refusal=exc, status=STATUS[exc.kind])
    messages.success(request, _("Commitment saved as a draft."))
    return redirect("pioneers:commitments", member.pk)


def _commitment_for(request, pk: int) -> Commitment:
    visible = scope.restrict(Commitment.objects.select_related("member__organisation__unit"), request.user)
    return get_object_or_404(visible, pk=pk)


@require_POST
@login_required
def commitment_step(request, pk: int):
    commitment = _commitment_for(request, pk)
    name = request.POST.get("action")
    if name not in commitments.MACHINE.table:
        return HttpResponseBadRequest(_("Choose an action."))
    rating = params.parse_int(request.POST.get("rating"), min_value=1, max_value=5, field="rating")
    version = params.parse_int(request.POST.get("version"), min_value=0, field="version")
    try:
        commitments.step(
            commitment,
            name,
            request.user,
            rating=rating,
            note=request.POST.get("note", ""),
            expected_version=version,
        )
    except DomainError as exc:
        return _page(request, commitment.member, refusal=exc, status=STATUS[exc.kind])
    messages.success(request, _("Done."))
    return redirect("pioneers:commitments", commitment.member_id)


@require_POST
@login_required
def commitment_progress(request, pk: int):
    commitment = _commitment_for(request, pk)
    on = params.parse_date(request.POST.get("on"), field="on")
    if on is None:
        return HttpResponseBadRequest(_("Give the date of the progress."))
    try:
        commitments.add_progress(commitment, on=on, text=request.POST.get("text", ""), actor=request.user)
    except DomainError as exc:
        return _page(request, commitment.member, refusal=exc, status=STATUS[exc.kind])
    messages.success(request, _("Progress added."))
    return redirect("pioneers:commitments", commitment.member_id)


@require_POST
@login_required
def relief_apply(request, pk: int):
    member = selectors.get_member_for(request.user, pk)
    penalty_id = params.parse_int(request.POST.get("penalty"), min_value=1, field="penalty")
    penalty = PointEntry.objects.filter(pk=penalty_id, member=member).first() if penalty_id else None
    if penalty is None:
        return HttpResponseBadRequest(_("Choose one of the member's penalties."))
    try:
        commitments.apply_for_relief(penalty, reason=request.POST.get("reason", ""), actor=request.user)
    except DomainError as exc:
        return _page(request, member, refusal=exc, status=STATUS[exc.kind])
    messages.success(request, _("Relief applied for; party staff decide."))
    return redirect("pioneers:commitments", member.pk)


@require_POST
@login_required
def relief_decide(request, pk: int):
    visible = scope.restrict(ReliefApplication.objects.select_related("member"), request.user)
    application = get_object_or_404(visible, pk=pk)
    name = request.POST.get("action")
    if name not in commitments.RELIEF_MACHINE.table:
        return HttpResponseBadRequest(_("Choose an action."))
    version = params.parse_int(request.POST.get("version"), min_value=0, field="version")
    try:
        commitments.decide_relief(
            application,
            name,
            request.user,
            decision=request.POST.get("decision", ""),
            expected_version=version,
        )
    except DomainError as exc:
        return _page(request, application.member, refusal=exc, status=STATUS[exc.kind])
    messages.success(request, _("Done."))
    return redirect("pioneers:commitments", application.member_id)


@require_GET
def wall(request, code: str):
    """The community's commitment wall: public, read-only, names masked."""
    community = get_object_or_404(OrgUnit, code=code, kind__in=roles.COMMUNITY_KINDS)
    year = _year(request)
    shown = (
        Commitment.objects.filter(community=community, year=year)
        .exclude(state=CommitmentState.DRAFT)
        .select_related("member__organisation")
        .prefetch_related(Prefetch("progress", queryset=CommitmentProgress.objects.order_by("on", "id")))
        .annotate(residents=Count("resident_ratings"), resident_avg=Avg("resident_ratings__stars"))
        .order_by("state", "id")
    )
    rows = [{"c": c, "name": mask_name(c.member.name)} for c in shown]
    may_rate = request.user.is_authenticated and roles.is_public(request.user)
    rated = set()
    if may_rate:
        rated = set(
            ResidentRating.objects.filter(
                user=request.user, commitment__in=[r["c"] for r in rows]
            ).values_list("commitment_id", flat=True)
        )
    return render(
        request,
        "pioneers/wall.html",
        {"community": community, "year": year, "rows": rows, "may_rate": may_rate, "rated": rated},
    )


@require_POST
@login_required
def commitment_rate(request, pk: int):
    commitment = get_object_or_404(
        Commitment.objects.exclude(state=CommitmentState.DRAFT).select_related("member", "community"), pk=pk
    )
    stars = params.parse_int(request.POST.get("stars"), min_value=1, max_value=5, field="stars")
    if stars is None:
        return HttpResponseBadRequest(_("Give 1 to 5 stars."))
    try:
        commitments.rate(commitment, request.user, stars)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("pioneers:wall", commitment.community.code)
    messages.success(request, _("Thank you for your rating."))
    return redirect("pioneers:wall", commitment.community.code)
