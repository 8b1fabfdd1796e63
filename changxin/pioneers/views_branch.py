"""Screens of branch life, dues, transfers and volunteering (thin: parse, check, call one service,
render). Phone-first: attendance is taken on a phone at the meeting, check-in by scanning a QR code.

Gates, in order: who may open the page at all (403), the object in the viewer's scope (404), then
whether the viewer keeps the branch's records (403) — so another branch's ids answer 404.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changxin.core import params, roles
from changxin.core.errors import DomainError
from changxin.core.privacy import mask_name
from changxin.pioneers import branch_life, dues, selectors, services, transfers, volunteering
from changxin.pioneers import selectors_branch as reads
from changxin.pioneers.forms_branch import (
    ActivityForm,
    DuesBaseForm,
    DuesPaymentForm,
    MeetingForm,
    TransferForm,
    TransferStepForm,
)
from changxin.pioneers.models import AppraisalRating, DuesCategory, MeetingKind


def _year(request) -> int:
    return params.parse_int(
        request.GET.get("year"), min_value=2000, max_value=2100, default=timezone.localdate().year
    )


def _open_gate(user) -> None:
    """Party staff, the district-wide roles and members with a login open the party wing."""
    if not selectors.may_open_pioneers(user):
        raise PermissionDenied(_("The party wing is for party staff and members."))


def _keeper_gate(user) -> None:
    """Who may keep records at all: party staff, district administrators, branch secretaries."""
    member = selectors.member_of(user)
    if not (
        selectors.is_party_staff(user)
        or roles.is_district_admin(user)
        or (member is not None and member.is_secretary)
    ):
        raise PermissionDenied(_("Only party staff over the branch or its secretary keep its records."))


def _keeper_of(user, organisation) -> None:
    if not services.relations_of(user, organisation):
        raise PermissionDenied(_("Only party staff over the branch or its secretary keep its records."))


def _name(member, shown: bool) -> str:
    return member.name if shown else mask_name(member.name)


# --- 三会一课: the compliance overview, a branch's page, meetings -----------------------------------------


@require_GET
@login_required
def compliance(request):
    """Every branch in scope: compliance with the required meetings this year, missed periods, arrears."""
    _open_gate(request.user)
    year = _year(request)
    branches = reads.branches_visible_to(request.user)
    results = branch_life.compliance_of_branches(branches, year)
    members = selectors.members_visible_to(request.user).filter(
        organisation__in=[r.organisation for r in results]
    )
    figures = dues.branch_dues(members, year)
    arrears: dict[int, Decimal] = {}
    for row in figures["rows"]:
        org_id = row["member"].organisation_id
        arrears[org_id] = arrears.get(org_id, Decimal(0)) + row["arrears"]
    rows = [{"c": r, "arrears": arrears.get(r.organisation.pk, Decimal(0))} for r in results]
    chart = {
        "names": [r.organisation.name for r in results],
        "rates": [r.rate for r in results],
        "missed": [r.missed for r in results],
    }
    return render(
        request,
        "pioneers/branch/compliance.html",
        {"rows": rows, "year": year, "chart": chart, "kinds": MeetingKind.choices},
    )


@require_GET
@login_required
def branch(request, pk: int):
    """A branch's life this year: each required meeting by period (missed ones flagged), its meetings."""
    org = selectors.get_organisation_for(request.user, pk)
    year = _year(request)
    return render(
        request,
        "pioneers/branch/branch.html",
        {
            "org": org,
            "year": year,
            "compliance": branch_life.compliance(org, year),
            "meetings": reads.meetings_of(request.user, org, year),
            "may_keep": bool(services.relations_of(request.user, org)),
            "transfers": reads.transfers_visible_to(request.user).filter(from_organisation=org)[:20],
        },
    )


def _attendance_rows(request, members, data=None):
    rows = []
    for m in members:
        rows.append(
            {
                "member": m,
                "present": (str(m.pk) in data.getlist("present")) if data is not None else True,
                "reason": (data.get(f"reason-{m.pk}", "") if data is not None else "")[:200],
                "rating": data.get(f"rating-{m.pk}", "") if data is not None else "",
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
@login_required
def meeting_new(request, pk: int):
    """Record a meeting and take attendance (a card per member: present, or the reason)."""
    _keeper_gate(request.user)
    org = selectors.get_organisation_for(request.user, pk)
    _keeper_of(request.user, org)
    members = list(selectors.list_members(request.user, org))
    if request.method == "GET":
        form = MeetingForm(initial={"kind": request.GET.get("kind") or MeetingKind.THEME_DAY})
        return _meeting_form(request, org, form, _attendance_rows(request, members))
    form = MeetingForm(request.POST)
    rows = _attendance_rows(request, members, request.POST)
    if not form.is_valid():
        return _meeting_form(request, org, form, rows, status=400)
    data = form.cleaned_data
    try:
        meeting = branch_life.record_meeting(
            org,
            kind=data["kind"],
            held_on=data["held_on"],
            topic=data["topic"],
            minutes=data["minutes"],
            attendance={r["member"].pk: (r["present"], r["reason"]) for r in rows},
            appraisals={r["member"].pk: r["rating"] for r in rows if r["rating"] in AppraisalRating.values}
            if data["kind"] == MeetingKind.APPRAISAL
            else None,
            actor=request.user,
        )
    except DomainError as exc:
        return _meeting_form(request, org, form, rows, error=exc, status=409)
    messages.success(request, _("Meeting recorded."))
    return redirect("pioneers:meeting", meeting.pk)


def _meeting_form(request, org, form, rows, *, error=None, status=200):
    return render(
        request,
        "pioneers/branch/meeting_form.html",
        {"org": org, "form": form, "rows": rows, "error": error, "ratings": AppraisalRating.choices},
        status=status,
    )


@require_GET
@login_required
def meeting(request, pk: int):
    meeting = reads.get_meeting_for(request.user, pk)
    shown = reads.shows_names(request.user, meeting.organisation)
    attendance = [{"row": a, "name": _name(a.member, shown)} for a in meeting.attendance.all()]
    appraisals = [{"row": a, "name": _name(a.member, shown)} for a in meeting.appraisals.all()]
    return render(
        request,
        "pioneers/branch/meeting.html",
        {"meeting": meeting, "attendance": attendance, "appraisals": appraisals, "names_shown": shown},
    )


# --- 党费 --------------------------------------------------------------------------------------------------


@require_GET
@login_required
def dues_page(request, pk: int):
    org = selectors.get_organisation_for(request.user, pk)
    year = _year(request)
    shown = reads.shows_names(request.user, org)
    figures = dues.branch_dues(selectors.list_members(request.user, org), year)
    months = [dt.date(year, m, 1) for m in range(1, 13)]
    today = timezone.localdate()
    for row in figures["rows"]:
        row["name"] = _name(row["member"], shown)
        paid, unpaid = set(row["paid_months"]), set(row["unpaid"])
        row["cells"] = [
            "paid" if m in paid else "owed" if m in unpaid else "open" if m <= today else "future"
            for m in months
        ]
    chart = {
        "months": [f"{m['month']:%m}" for m in figures["months"]],
        "due": [float(m["due"]) for m in figures["months"]],
        "paid": [float(m["paid"]) for m in figures["months"]],
    }
    return render(
        request,
        "pioneers/branch/dues.html",
        {
            "org": org,
            "year": year,
            "figures": figures,
            "months": months,
            "shown": shown,
            "may_keep": bool(services.relations_of(request.user, org)),
            "categories": DuesCategory.choices,
            "chart": chart,
            "this_month": today.strftime("%Y-%m"),
        },
    )


@require_POST
@login_required
def dues_base(request, pk: int):
    _keeper_gate(request.user)
    member = selectors.get_member_for(request.user, pk)
    _keeper_of(request.user, member.organisation)
    form = DuesBaseForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Give the year, the category and the monthly income."))
    data = form.cleaned_data
    try:
        base = dues.set_base(
            member,
            data["year"],
            category=data["category"],
            monthly_income=data["monthly_income"] or 0,
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Dues base set: %(amount)s yuan a month.") % {"amount": base.monthly_due})
    return redirect(reverse("pioneers:dues", args=[member.organisation_id]) + f"?year={data['year']}")


@require_POST
@login_required
def dues_pay(request, pk: int):
    _keeper_gate(request.user)
    member = selectors.get_member_for(request.user, pk)
    _keeper_of(request.user, member.organisation)
    form = DuesPaymentForm(request.POST)
    month = params.parse_month(request.POST.get("month")) if form.is_valid() else None
    if month is None:
        return HttpResponseBadRequest(_("Give the month paid for as YYYY-MM."))
    try:
        dues.record_payment(member, month, paid_on=form.cleaned_data["paid_on"], actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Payment recorded."))
    return redirect(reverse("pioneers:dues", args=[member.organisation_id]) + f"?year={month.year}")


# --- 组织关系转接 ------------------------------------------------------------------------------------------------


@require_GET
@login_required
def transfer_list(request):
    _open_gate(request.user)
    return render(
        request,
        "pioneers/branch/transfers.html",
        {"transfers": reads.transfers_visible_to(request.user)[:100]},
    )


@require_POST
@login_required
def transfer_new(request, pk: int):
    _keeper_gate(request.user)
    member = selectors.get_member_for(request.user, pk)
    _keeper_of(request.user, member.organisation)
    form = TransferForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose the receiving organisation and the date."))
    data = form.cleaned_data
    target = reads.receiving_choices(member.organisation).filter(pk=data["to_organisation"]).first()
    if target is None:
        return HttpResponseBadRequest(_("Choose the receiving organisation and the date."))
    try:
        transfer = transfers.request_transfer(
            member, target, on=data["on"], reason=data["reason"], actor=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("pioneers:member", member.pk)
    messages.success(request, _("Transfer requested."))
    return redirect("pioneers:transfer", transfer.pk)


def _transfer_context(request, transfer, *, form=None, error=None):
    shown = reads.shows_names(request.user, transfer.from_organisation) or reads.shows_names(
        request.user, transfer.to_organisation
    )
    me = selectors.member_of(request.user)
    steps = [transfers.MACHINE.get(name) for name in ("issue_letter", "confirm", "return")]
    relations = transfers.relations_of(request.user, transfer)
    offered = [s for s in steps if transfer.state in s.sources and s.actors & relations]
    return {
        "transfer": transfer,
        "name": _name(transfer.member, shown or (me is not None and me.pk == transfer.member_id)),
        "events": [
            {
                "row": e,
                "label": transfers.MACHINE.get(e.action).label
                if e.action in transfers.MACHINE.table
                else _("Transfer requested."),
            }
            for e in transfer.events.all()
        ],
        "steps": offered,
        "form": form or TransferStepForm(initial={"version": transfer.version}),
        "error": error,
    }


@require_GET
@login_required
def transfer(request, pk: int):
    transfer = reads.get_transfer_for(request.user, pk)
    return render(request, "pioneers/branch/transfer.html", _transfer_context(request, transfer))


@require_POST
@login_required
def transfer_step(request, pk: int):
    _keeper_gate(request.user)
    transfer = reads.get_transfer_for(request.user, pk)
    form = TransferStepForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "pioneers/branch/transfer.html",
            _transfer_context(request, transfer, form=form),
            status=400,
        )
    data = form.cleaned_data
    try:
        transfers.apply(
            transfer,
            data["step"],
            request.user,
            on=data["on"],
            letter_number=data["letter_number"],
            note=data["note"],
            expected_version=data["version"],
        )
    except DomainError as exc:
        transfer = reads.get_transfer_for(request.user, pk)
        return render(
            request,
            "pioneers/branch/transfer.html",
            _transfer_context(request, transfer, form=form, error=exc),
            status=409 if exc.kind != "forbidden" else 403,
        )
    messages.success(request, _("Transfer updated."))
    return redirect("pioneers:transfer", pk)


# --- 志愿先锋 ------------------------------------------------------------------------------------------------------


@require_GET
@login_required
def activities(request):
    _open_gate(request.user)
    me = selectors.member_of(request.user)
    kept = reads.kept_organisations(request.user)
    return render(
        request,
        "pioneers/branch/activities.html",
        {
            "activities": reads.activities_visible_to(request.user)[:100],
            "mine": reads.my_signups(me),
            "kept": kept,
            "form": ActivityForm(),
        },
    )


@require_POST
@login_required
def activity_new(request):
    _keeper_gate(request.user)
    form = ActivityForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Give the organisation, title, place, time window and capacity."))
    data = form.cleaned_data
    org = reads.kept_organisations(request.user).filter(pk=data["organisation"]).first()
    if org is None:
        raise PermissionDenied(
            _("Only party staff over the organisation or its secretary publish activities.")
        )
    try:
        activity = volunteering.create_activity(
            org,
            title=data["title"],
            place=data["place"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            capacity=data["capacity"],
            hours=data["hours"],
            description=data["description"],
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("pioneers:activities")
    messages.success(request, _("Activity drafted; publish it to open sign-up."))
    return redirect("pioneers:activity", activity.pk)


def qr_svg(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


@require_GET
@login_required
def activity(request, pk: int):
    activity = reads.get_activity_for(request.user, pk)
    organiser = bool(services.relations_of(request.user, activity.organisation))
    me = selectors.member_of(request.user)
    offered = volunteering.available(request.user, activity)
    context = {
        "activity": activity,
        "organiser": organiser,
        "member_actions": [t for t in offered if t.name in ("sign_up", "withdraw")],
        "organiser_actions": [t for t in offered if t.name in ("publish", "close")],
        "my_signup": activity.signup,
        "my_events": list(activity.events.filter(member=me)) if me else [],
        "me": me,
    }
    if organiser or roles.is_district_wide(request.user):
        context["signups"] = [
            {"row": s, "name": _name(s.member, organiser)} for s in reads.signups_of(activity)
        ]
    if organiser and activity.state == "published":
        url = request.build_absolute_uri(
            reverse("pioneers:checkin", args=[volunteering.checkin_token(activity)])
        )
        context["checkin_url"] = url
        context["qr"] = mark_safe(qr_svg(url))  # noqa: S308 — our own SVG of our own URL
        context["refresh_seconds"] = max(60, volunteering.token_minutes() * 60 // 2)
    return render(request, "pioneers/branch/activity.html", context)


@require_POST
@login_required
def activity_act(request, pk: int):
    _open_gate(request.user)
    activity = reads.get_activity_for(request.user, pk)
    action = request.POST.get("action")
    if action not in ("publish", "close", "sign_up", "withdraw"):
        return HttpResponseBadRequest(_("Choose an action."))
    try:
        if action in ("publish", "close"):
            volunteering.change(activity, action, request.user)
        elif action == "sign_up":
            volunteering.sign_up(activity, request.user)
        else:
            volunteering.withdraw(activity, request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Done."))
    return redirect("pioneers:activity", activity.pk)


@require_http_methods(["GET", "POST"])
@login_required
def checkin(request, token: str):
    """The page a scanned QR code opens: the activity and a check-in button (POST checks in)."""
    member = selectors.member_of(request.user)
    if member is None:
        raise PermissionDenied(_("Volunteer activities are for party members with a login."))
    error, activity, done = None, None, None
    try:
        activity_id = volunteering.activity_from_token(token)
        activity = reads.activities_visible_to(request.user).filter(pk=activity_id).first()
        if activity is None:
            raise DomainError("token_invalid", _("This is not a check-in code of an activity."))
        if request.method == "POST":
            done = volunteering.check_in(token, request.user)
    except DomainError as exc:
        error = exc
    entry = None
    if done is not None:
        entry = member.point_entries.filter(source_stream=volunteering.STREAM).order_by("-pk").first()
    return render(
        request,
        "pioneers/branch/checkin.html",
        {
            "activity": activity,
            "error": error,
            "done": done,
            "entry": entry,
            "member": member,
            "token": token,
        },
        status=409 if error is not None and request.method == "POST" else 200,
    )


@require_GET
@login_required
def volunteer_source(request, pk: int):
    """The source of a volunteer point entry: the check-in event, shown on its activity."""
    event = reads.get_volunteer_event_for(request.user, pk)
    return redirect(reverse("pioneers:activity", args=[event.activity_id]) + f"#event-{event.pk}")
