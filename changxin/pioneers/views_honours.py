"""先锋岗, 先锋者荣, 先锋者说 and the evaluation sheets (thin: parse, check, call one service, render).

Pages are scoped like the organisation and member pages; writes are for the keepers (party staff
over the organisation, its secretary); the honour roll is public (name, organisation, honour only).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from changxin.core import audit, params, roles
from changxin.core.errors import CONFLICT, FORBIDDEN, INVALID, DomainError
from changxin.core.models import AuditAction, OrgUnit
from changxin.pioneers import evaluation, honours, posts, selectors, services
from changxin.pioneers.forms_honours import (
    HonourStepForm,
    NominateForm,
    PostChangeForm,
    PostForm,
    SessionForm,
)
from changxin.pioneers.models import HonourState, PartyMember
from changxin.pioneers.views_branch import _keeper_gate, _keeper_of

STATUS = {FORBIDDEN: 403, CONFLICT: 409, INVALID: 400}


def _year(request) -> int:
    return params.parse_int(
        request.GET.get("year"), min_value=2000, max_value=2100, default=timezone.localdate().year
    )


# --- 先锋岗 ----------------------------------------------------------------------------------------


def _posts_page(request, org, *, form=None, status=200):
    keeper = posts.may_keep(request.user, org)
    today = timezone.localdate()
    rows = [
        {"post": p, "on_duty": posts.on_duty(p, today)}
        for p in posts.posts_visible_to(request.user).filter(organisation__path__startswith=org.path)
    ]
    return render(
        request,
        "pioneers/posts.html",
        {"org": org, "rows": rows, "form": (form or PostForm(org)) if keeper else None},
        status=status,
    )


@require_GET
@login_required
def post_list(request, pk: int):
    org = selectors.get_organisation_for(request.user, pk)
    return _posts_page(request, org)


@require_POST
@login_required
def post_new(request, pk: int):
    _keeper_gate(request.user)
    org = selectors.get_organisation_for(request.user, pk)
    _keeper_of(request.user, org)
    form = PostForm(org, request.POST)
    if not form.is_valid():
        return _posts_page(request, org, form=form, status=400)
    data = form.cleaned_data
    try:
        post = posts.create_post(
            org,
            name=data["name"],
            place=OrgUnit.objects.filter(pk=data["place"]).first(),
            window=data["window"],
            members=data["members"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            actor=request.user,
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return _posts_page(request, org, form=form, status=STATUS.get(exc.kind, 409))
    messages.success(request, _("Post created."))
    return redirect("pioneers:post", post.pk)


def _post_page(request, post, *, form=None, status=200):
    duty = [{"member": m, **posts.area_work(request.user, m, limit=10)} for m in post.members.all()]
    keeper = posts.may_keep(request.user, post.organisation)
    if keeper and form is None:
        form = PostChangeForm(
            post.organisation,
            initial={
                "members": [m.pk for m in post.members.all()],
                "starts_on": post.starts_on,
                "ends_on": post.ends_on,
            },
        )
    return render(
        request,
        "pioneers/post.html",
        {"post": post, "duty": duty, "form": form if keeper else None, "on_duty": posts.on_duty(post)},
        status=status,
    )


@require_GET
@login_required
def post(request, pk: int):
    return _post_page(request, posts.get_post_for(request.user, pk))


@require_POST
@login_required
def post_change(request, pk: int):
    _keeper_gate(request.user)
    post = posts.get_post_for(request.user, pk)
    _keeper_of(request.user, post.organisation)
    form = PostChangeForm(post.organisation, request.POST)
    if not form.is_valid():
        return _post_page(request, post, form=form, status=400)
    data = form.cleaned_data
    try:
        posts.change_post(
            post,
            members=data["members"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            actor=request.user,
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return _post_page(request, post, form=form, status=STATUS.get(exc.kind, 409))
    messages.success(request, _("Post changed."))
    return redirect("pioneers:post", post.pk)


# --- 先锋者荣 --------------------------------------------------------------------------------------


@require_GET
@login_required
def honour_board(request, pk: int):
    """The organisation's ranking with a nomination form for the top N, and its honours of the year."""
    org = selectors.get_organisation_for(request.user, pk)
    year = _year(request)
    keeper = posts.may_keep(request.user, org)
    nominated = {
        h.member_id: h
        for h in honours.honours_visible_to(request.user).filter(
            year=year, member__organisation__path__startswith=org.path
        )
    }
    ranking = selectors.ranking(request.user, org, year)
    ranks = {}
    for row in ranking:  # the rank in the member's own organisation, which the rule reads
        ranks.setdefault(row["member"].organisation_id, []).append(row)
    rows = []
    for own in ranks.values():
        for position, row in enumerate(own):
            rank = 1 + sum(1 for other in own[:position] if other["total"] > row["total"])
            rows.append({**row, "own_rank": rank})
    rows.sort(key=lambda r: r["rank"])
    board, relations = [], {}
    for honour in nominated.values():
        org_id = honour.member.organisation_id
        if org_id not in relations:
            relations[org_id] = services.relations_of(request.user, honour.member.organisation)
        board.append({"h": honour, "actions": honours.available(request.user, honour, relations[org_id])})
    return render(
        request,
        "pioneers/honours.html",
        {
            "org": org,
            "year": year,
            "rows": rows[:50],
            "top_n": honours.top_n(),
            "nominated": nominated,
            "board": sorted(board, key=lambda r: (r["h"].state, r["h"].rank)),
            "may_nominate": keeper,
        },
    )


@require_POST
@login_required
def nominate(request, pk: int):
    _keeper_gate(request.user)
    member = selectors.get_member_for(request.user, pk)
    _keeper_of(request.user, member.organisation)
    form = NominateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Give the year of the ranking."))
    data = form.cleaned_data
    try:
        honours.nominate(
            member, data["year"], title=data["title"], citation=data["citation"], actor=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(name)s nominated.") % {"name": member.name})
    return redirect(reverse("pioneers:honours", args=[member.organisation_id]) + f"?year={data['year']}")


@require_POST
@login_required
def honour_step(request, pk: int):
    honour = honours.get_honour_for(request.user, pk)
    form = HonourStepForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose an action."))
    data = form.cleaned_data
    try:
        honours.step(
            honour, data["action"], request.user, note=data["note"], expected_version=data["version"]
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Honour updated."))
    return redirect(
        reverse("pioneers:honours", args=[honour.member.organisation_id]) + f"?year={honour.year}"
    )


@require_GET
def honour_roll(request):
    """Public: the published honours of a year (name, organisation, honour and citation only)."""
    years = honours.roll_years()
    year = params.parse_int(
        request.GET.get("year"),
        min_value=2000,
        max_value=2100,
        default=years[0] if years else timezone.localdate().year,
    )
    return render(
        request, "pioneers/roll.html", {"year": year, "years": years, "honours": honours.roll(year)}
    )


# --- 先锋者说 --------------------------------------------------------------------------------------


def _sessions_page(request, org, *, form=None, status=200):
    keeper = posts.may_keep(request.user, org)
    sessions = (
        posts.sessions_visible_to(request.user)
        .filter(organisation__path__startswith=org.path)
        .prefetch_related("speakers")
        .order_by("-held_on", "-id")[:100]
    )
    return render(
        request,
        "pioneers/sharing.html",
        {"org": org, "sessions": sessions, "form": (form or SessionForm(org)) if keeper else None},
        status=status,
    )


@require_GET
@login_required
def sessions(request, pk: int):
    return _sessions_page(request, selectors.get_organisation_for(request.user, pk))


@require_POST
@login_required
def session_new(request, pk: int):
    _keeper_gate(request.user)
    org = selectors.get_organisation_for(request.user, pk)
    _keeper_of(request.user, org)
    form = SessionForm(org, request.POST)
    if not form.is_valid():
        return _sessions_page(request, org, form=form, status=400)
    data = form.cleaned_data
    try:
        session = posts.record_session(
            org,
            held_on=data["held_on"],
            topic=data["topic"],
            speakers=data["speakers"],
            attendees=data["attendees"],
            summary=data["summary"],
            actor=request.user,
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return _sessions_page(request, org, form=form, status=STATUS.get(exc.kind, 409))
    messages.success(request, _("Session recorded."))
    return redirect("pioneers:session", session.pk)


@require_GET
@login_required
def session(request, pk: int):
    s = posts.get_session_for(request.user, pk)
    return render(
        request,
        "pioneers/session.html",
        {"s": s, "speakers": s.speakers.all(), "attendees": s.attendees.all()},
    )


# --- the evaluation sheet (考核评价) -----------------------------------------------------------------


@require_GET
@login_required
def member_evaluation(request, pk: int):
    member = selectors.get_member_for(request.user, pk)
    year = _year(request)
    return render(
        request, "pioneers/evaluation.html", {"s": evaluation.sheet(member, year), "member": member}
    )


@require_GET
@login_required
def evaluation_export(request, pk: int):
    """The organisation's sheets in Excel: party staff over it, its secretary, district-wide roles."""
    org = selectors.get_organisation_for(request.user, pk)
    if not (services.relations_of(request.user, org) or roles.is_district_wide(request.user)):
        raise PermissionDenied(
            _("Only party staff over the organisation or its secretary export its sheets.")
        )
    year = _year(request)
    members = (
        selectors.members_visible_to(request.user)
        .filter(organisation__path__startswith=org.path)
        .order_by("organisation__path", "name", "pk")
    )
    content = evaluation.workbook(org, members, year)
    audit.record(request.user, AuditAction.EXPORT, org, detail=f"evaluation sheets {year}", request=request)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="evaluation-{org.pk}-{year}.xlsx"'
    return response


def member_extras(member: PartyMember, year: int) -> dict:
    """For the member page: their posts, the sessions they spoke at, their honours."""
    return {
        "posts": member.vanguard_posts.select_related("place").order_by("-starts_on"),
        "talks": member.talks.order_by("-held_on")[:20],
        "honours": member.honours.exclude(state=HonourState.REJECTED).order_by("-year"),
    }
