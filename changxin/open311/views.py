"""GeoReport v2 endpoints: thin — parse, call `services`, render XML or JSON."""

from __future__ import annotations

import functools
import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from changxin.api import keys
from changxin.core import params
from changxin.open311 import render, services
from changxin.open311.services import Open311Error

logger = logging.getLogger(__name__)


def geo_endpoint(methods: tuple[str, ...] = ("GET",)):
    """Answer every error in the spec's format (`<errors><error><code/><description/></error></errors>`
    or its JSON array), check the method and the jurisdiction. Unexpected failures are errors in that
    format too: 503 when the database is unavailable, 500 otherwise — never an HTML page or a trace."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, fmt, **kwargs):
            try:
                if request.method not in methods:
                    raise Open311Error(405, _("Method not allowed."))
                params = request.POST if request.method == "POST" else request.GET
                services.check_jurisdiction(
                    params.get("jurisdiction_id") or request.GET.get("jurisdiction_id")
                )
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                response = render.error(fmt, exc.status, exc.description)
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response
            except RequestDataTooBig:
                return render.error(fmt, 413, _("The request is too large."))
            except SuspiciousOperation:
                return render.error(fmt, 400, _("Bad request."))
            except (OperationalError, InterfaceError):
                logger.exception("Open311: database unavailable")
                return render.error(fmt, 503, _("The service is temporarily unavailable. Try again later."))
            except Exception:
                logger.exception("Open311: unexpected error")
                return render.error(fmt, 500, _("Internal error."))

        return csrf_exempt(wrapper)

    return decorate


def _key_user(request, *, required: bool):
    """The user an api_key acts as; None without a key (403 when required or when the key is bad)."""
    raw = request.POST.get("api_key") if request.method == "POST" else request.GET.get("api_key")
    raw = params.text(raw, 200)
    if not raw:
        if required:
            raise Open311Error(403, _("api_key is required."))
        return None
    user = keys.user_for_key(raw)
    if user is None:
        raise Open311Error(403, _("Invalid api_key."))
    return user


@geo_endpoint()
def discovery(request, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": services.CHANGESET,
        "contact": _("Fengtai District 12345 centre (北京市丰台区接诉即办中心)"),
        "key_service": _("Ask the district 12345 centre for an API key."),
        "endpoints": [
            {
                "specification": services.SPECIFICATION,
                "url": base,
                "changeset": services.CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render.respond(fmt, "discovery", data)


@geo_endpoint()
def service_list(request, fmt):
    return render.respond(fmt, "services", services.list_services(), "service")


@geo_endpoint()
def service_definition(request, fmt, service_code):
    category = services.get_service(service_code)
    return render.respond(fmt, "service_definition", services.service_definition(category))


@geo_endpoint(methods=("GET", "POST"))
def requests_collection(request, fmt):
    if request.method == "POST":
        user = _key_user(request, required=True)
        if user.is_read_only:
            raise Open311Error(403, _("This api_key may only read."))
        category = services.get_service(request.POST.get("service_code"))
        demand, token = services.create_request(user, category, request.POST)
        body = [
            {
                "service_request_id": demand.number,
                "token": token.token,
                "service_notice": "",
                "account_id": "",
            }
        ]
        return render.respond(fmt, "service_requests", body, "request")
    user = _key_user(request, required=False)
    found = services.find_requests(user, request.GET)
    return render.respond(fmt, "service_requests", [services.request_dict(d) for d in found], "request")


@geo_endpoint()
def request_detail(request, fmt, service_request_id):
    user = _key_user(request, required=False)
    demand = services.get_request(user, service_request_id)
    return render.respond(fmt, "service_requests", [services.request_dict(demand)], "request")


@geo_endpoint()
def token_detail(request, fmt, token):
    found = services.get_token(token)
    body = [{"service_request_id": found.demand.number, "token": found.token}]
    return render.respond(fmt, "service_requests", body, "request")
