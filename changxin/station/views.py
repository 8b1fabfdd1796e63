"""先丰站 views: thin. Parse with a form, call one service, render."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit

from changxin.core import params, roles
from changxin.core.errors import DomainError
from changxin.core.privacy import mask_name, mask_phone
from changxin.demands import emergency
from changxin.demands.models import State
from changxin.demands.workflow import WorkflowError
from changxin.station import selectors, services
from changxin.station.forms import (
    INTAKE_ACCESS_KEYS,
    CitizenDemandForm,
    EnterpriseDemandForm,
    IntakeForm,
    RatingForm,
    TrackForm,
)

SESSION_SUBMITTED = "station_submitted"


def _submit_rate(group, request):
    return getattr(settings, "CHANGXIN_STATION_SUBMIT_RATE", "10/h")


def _track_rate(group, request):
    return getattr(settings, "CHANGXIN_STATION_TRACK_RATE", "60/h")


def demand_detail_url(demand) -> str:
    try:
        return reverse("demands:detail", args=[demand.pk])
    except NoReverseMatch:
        return f"/demands/{demand.pk}/"


@require_GET
def home(request):
    return render(request, "station/home.html", {"own_demands": selectors.own_demands(request.user)[:10]})


def _submit_usage(request, *, increment: bool) -> dict | None:
    """Accepted submissions from this address in the current window (django-ratelimit's counter).

    Only accepted submissions count: a citizen who mistypes a phone number ten times is not locked
    out. The count is read before a submission and increased once it is stored."""
    return get_usage(
        request, group="station:submit", key="ip", rate=_submit_rate, method="POST", increment=increment
    )


def _retry_message(usage: dict) -> str:
    seconds = max(int(usage.get("time_left") or 0), 60)
    at = timezone.localtime(timezone.now() + dt.timedelta(seconds=seconds))
    return _(
        "Too many demands were filed from your network in a short time. You can send this one after "
        "%(time)s (in about %(minutes)s minutes); what you wrote is kept below. For something urgent "
        "call 12345 now."
    ) % {"time": date_format(at, "H:i"), "minutes": (seconds + 59) // 60}


def _demand_form(request, *args):
    """Enterprise users file with their enterprise's name and contact (EnterpriseDemandForm)."""
    if getattr(request.user, "role", None) == roles.Role.ENTERPRISE:
        return EnterpriseDemandForm(*args, user=request.user, session=request.session)
    return CitizenDemandForm(*args, session=request.session)


@require_http_methods(["GET", "POST"])
def submit(request):
    status = 200
    if request.method == "POST":
        form = _demand_form(request, request.POST, request.FILES)
        usage = _submit_usage(request, increment=False)
        if usage is not None and usage["count"] >= usage["limit"]:
            form.is_valid()
            form.add_error(None, _retry_message(usage))
            status = 429
        elif form.is_valid():
            try:
                demand, created = services.submit_demand(
                    form.demand_data(),
                    actor=request.user,
                    anonymous=form.cleaned_data["anonymous"],
                    token=form.cleaned_data["token"],
                    attachments=form.cleaned_data["attachments"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except DomainError as exc:  # e.g. read-only leadership: never writes, whatever the path
                form.add_error(None, str(exc.message))
                status = 403
            else:
                if created:
                    _submit_usage(request, increment=True)
                request.session[SESSION_SUBMITTED] = demand.pk
                return redirect("station:submitted")
        if form.errors and status == 200:
            status = 400
    else:
        form = _demand_form(request)
    # a browser cannot show chosen files again: say so when the form comes back with the files gone
    files_dropped = request.method == "POST" and bool(request.FILES.getlist(form.add_prefix("attachments")))
    return render(
        request,
        "station/submit.html",
        {"form": form, "files_dropped": files_dropped, "limited": status == 429},
        status=status,
    )


@require_GET
def submitted(request):
    demand = selectors.get_submitted(request.session.get(SESSION_SUBMITTED))
    if demand is None:
        return redirect("station:home")
    return render(
        request,
        "station/submitted.html",
        {
            "demand": demand,
            "masked_name": mask_name(demand.requester_name),
            "masked_phone": mask_phone(demand.requester_phone),
        },
    )


@require_GET
def track(request):
    form = TrackForm(request.GET or None)
    if form.is_bound and form.is_valid():
        code = selectors.normalise_tracking_code(form.cleaned_data["code"])
        if not selectors.TRACKING_CODE_RE.match(code):  # e.g. "../x": not a path segment either
            code = "-"
        return redirect("station:track-status", code=code)
    return render(request, "station/track.html", {"form": form})


@require_http_methods(["GET", "POST"])
@ratelimit(group="station:track", key="ip", rate=_track_rate, block=False)
def track_status(request, code):
    if getattr(request, "limited", False):
        return render(
            request,
            "station/track.html",
            {
                "form": TrackForm(),
                "error": _("Too many look-ups from your network. Please wait a while and try again."),
            },
            status=429,
        )
    demand = selectors.find_by_tracking_code(code)
    if demand is None:
        return render(
            request,
            "station/track.html",
            {
                "form": TrackForm(initial={"code": code}),
                "error": _("No demand matches this tracking code. Check the code and try again."),
            },
            status=404,
        )
    rating_form = None
    status = 200
    can_rate = services.can_rate(demand, request.user)  # the workflow machine decides, as for the API
    if can_rate:
        rating_form = RatingForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and rating_form.is_valid():
            try:
                services.rate_by_tracking_code(code, user=request.user, **rating_form.cleaned_data)
            except WorkflowError as exc:
                rating_form.add_error(
                    exc.field if exc.field in rating_form.fields else None, str(exc.message)
                )
            else:
                messages.success(request, _("Thank you: your rating has been recorded."))
                return redirect("station:track-status", code=demand.tracking_code)
        if rating_form.errors:
            status = 400
    elif request.method == "POST":
        messages.error(request, _("This demand cannot be rated now."))
        return redirect("station:track-status", code=demand.tracking_code)
    return render(
        request,
        "station/track_status.html",
        {
            "demand": demand,
            "timeline": selectors.public_timeline(demand),
            "rating_form": rating_form,
            "can_rate": can_rate,
        },
        status=status,
    )


# --- htmx helpers (public data only) -------------------------------------------------------


@require_GET
def community_options(request):
    return render(
        request,
        "station/_community_options.html",
        {"communities": selectors.communities_of(request.GET.get("street"))},
    )


@require_GET
def category_options(request):
    return render(
        request,
        "station/_category_options.html",
        {
            "categories": selectors.leaf_categories(params.text(request.GET.get("q"), 50)),
            "selected": request.GET.get("category", ""),
        },
    )


# --- hotline intake --------------------------------------------------------------------------


def _require_operator(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not services.can_take_calls(request.user):
        raise PermissionDenied(_("Only hotline operators take calls."))
    return None


@require_http_methods(["GET", "POST"])
def intake(request):
    refusal = _require_operator(request)
    if refusal:
        return refusal
    status = 200
    if request.method == "POST":
        form = IntakeForm(request.POST, session=request.session)
        if form.is_valid():
            try:
                demand, created = services.intake_call(
                    form.demand_data(),
                    actor=request.user,
                    anonymous=form.cleaned_data["anonymous"],
                    token=form.cleaned_data["token"],
                    answer=form.cleaned_data["answer"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                text = (
                    _("Demand %(number)s answered at intake.")
                    if demand.state == State.REPLIED
                    else _("Demand %(number)s saved.")
                ) % {"number": demand.number}
                messages.success(
                    request,
                    format_html(
                        '{} {} <strong id="intake-tracking-code">{}</strong> <a href="{}">{}</a>',
                        text,
                        _("Tracking code to read out to the caller:"),
                        " ".join(
                            demand.tracking_code[i : i + 5] for i in range(0, len(demand.tracking_code), 5)
                        ),
                        demand_detail_url(demand),
                        _("Open the demand"),
                    ),
                )
                return redirect("station:intake")
        status = 400
    else:
        form = IntakeForm(session=request.session)
    phone = form.data.get("requester_phone", "") if form.is_bound else ""
    return render(
        request,
        "station/intake.html",
        {
            "form": form,
            "emergency_services": list(emergency.SERVICES.items()),
            "emergency_keywords": {number: list(words) for number, words in emergency.KEYWORDS.items()},
            "access_keys": INTAKE_ACCESS_KEYS,
            "history": selectors.repeat_caller_demands(request.user, phone, request=request),
            "phone": phone,
        },
        status=status,
    )


@require_GET
def caller_history(request):
    refusal = _require_operator(request)
    if refusal:
        return refusal
    phone = params.text(request.GET.get("requester_phone"), 20)
    return render(
        request,
        "station/_caller_history.html",
        {
            "history": selectors.repeat_caller_demands(request.user, phone, request=request),
            "phone": phone,
        },
    )
