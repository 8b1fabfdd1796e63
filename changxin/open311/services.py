"""GeoReport v2 over the demands engine: the catalogue, the mapping of demands, intake and queries.

- A service is a leaf of the category taxonomy; `service_code` is the category's id (stable).
- A service request is a demand; `service_request_id` is the demand number; `agency_responsible`
  is the lead unit's name. Intake goes through `create_demand` (channel `open311`).
- Who sees which requests: a caller with an api_key sees exactly what the key's user sees in the UI;
  without a key, the public sees the requests that were filed through Open311 (nothing else).
- Responses never carry the requester's name, phone, email or account, and phone numbers, e-mail
  addresses and ID numbers written into a description are masked (`core.privacy.scrub_contacts`).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core import params
from changxin.core.errors import DomainError
from changxin.core.params import parse_int
from changxin.core.privacy import scrub_contacts
from changxin.core.scope import restrict
from changxin.demands import services as demand_services
from changxin.demands.models import (
    CLOSED_STATES,
    FILED_DEMAND_TYPES,
    OPEN_STATES,
    Category,
    Channel,
    Demand,
    DemandType,
    RequesterKind,
    State,
    Urgency,
)
from changxin.demands.selectors import unscoped_demands
from changxin.open311.models import RequestToken

DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
DEFAULT_DEMAND_TYPE = DemandType.COMPLAINT
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+08:00"


def jurisdiction_id() -> str:
    return getattr(settings, "CHANGXIN_OPEN311_JURISDICTION", "fengtai.beijing.gov.cn")


class Open311Error(Exception):
    """A request the spec answers with an error: the HTTP status and a description."""

    def __init__(self, status: int, description):
        super().__init__(str(description))
        self.status, self.description = status, str(description)


def check_jurisdiction(value: str | None) -> None:
    if value and value != jurisdiction_id():
        raise Open311Error(404, _("Unknown jurisdiction_id “%(id)s”.") % {"id": value[:100]})


# --- the catalogue ---------------------------------------------------------------------------


def services_queryset() -> QuerySet[Category]:
    """Active leaves of the taxonomy (reference data every caller may read)."""
    active_child = Category.objects.filter(parent=OuterRef("pk"), is_active=True)
    return (
        Category.objects.filter(is_active=True)
        .annotate(has_children=Exists(active_child))
        .filter(has_children=False)
        .select_related("parent", "parent__parent")
        .order_by("full_name")
    )


def get_service(code: str | None) -> Category:
    if not code:
        raise Open311Error(400, _("service_code is required."))
    pk = parse_int(code, min_value=1)
    category = services_queryset().filter(pk=pk).first() if pk is not None else None
    if category is None:
        raise Open311Error(404, _("Unknown service_code “%(code)s”.") % {"code": str(code)[:40]})
    return category


def service_dict(category: Category) -> dict:
    group = category.parent.full_name if category.parent_id else category.name
    return {
        "service_code": str(category.pk),
        "service_name": category.name,
        "description": category.full_name,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(part.strip() for part in category.full_name.split("/")[:-1]),
        "group": group,
    }


def list_services() -> list[dict]:
    return [service_dict(c) for c in services_queryset()]


def attribute_definitions() -> list[dict]:
    return [
        {
            "variable": True,
            "code": "demand_type",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("Choose one; complaint when not given."),
            "order": 1,
            "description": _("What kind of request this is"),
            "values": [
                {"key": value, "name": str(label)}
                for value, label in DemandType.choices
                if value in FILED_DEMAND_TYPES
            ],
        },
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("Choose one; ordinary when not given."),
            "order": 2,
            "description": _("How urgent it is"),
            "values": [{"key": value, "name": str(label)} for value, label in Urgency.choices],
        },
        {
            "variable": True,
            "code": "title",
            "datatype": "string",
            "required": False,
            "datatype_description": _("Up to 120 characters; the start of the description when not given."),
            "order": 3,
            "description": _("A short title"),
            "values": [],
        },
    ]


def service_definition(category: Category) -> dict:
    return {"service_code": str(category.pk), "attributes": attribute_definitions()}


# --- requests out ------------------------------------------------------------------------------


def _status_notes(demand: Demand) -> str:
    notes = {
        State.RECEIVED: _("Received by the 12345 centre; waiting to be assigned to the responsible unit."),
        State.DISPATCHED: _("Assigned to the responsible unit."),
        State.DISPUTED: _("The assigned unit asked the centre to reassign it; the centre is deciding."),
        State.ACKNOWLEDGED: _("The responsible unit has taken it on."),
        State.CONTACTED: _("The responsible unit has contacted the requester."),
        State.IN_PROGRESS: _("The responsible unit is working on it."),
        State.REPLIED: _("The responsible unit has finished and replied; a return visit follows."),
        State.VISITED: _("Finished; the requester was asked whether it was resolved."),
        State.ARCHIVED: _("Finished and closed."),
        State.MERGED: _("Closed: handled together with an earlier request about the same matter."),
    }
    return notes.get(demand.state, "")


def _iso(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _coordinate(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def request_dict(demand: Demand) -> dict:
    """A demand as a GeoReport service request — no personal data."""
    return {
        "service_request_id": demand.number,
        "status": "open" if demand.state in OPEN_STATES else "closed",
        "status_notes": _status_notes(demand),
        "service_name": demand.category.name if demand.category_id else "",
        "service_code": str(demand.category_id) if demand.category_id else "",
        "description": scrub_contacts(demand.content),
        "agency_responsible": demand.lead_unit.name if demand.lead_unit_id else "",
        "service_notice": "",
        "requested_datetime": _iso(demand.received_at),
        "updated_datetime": _iso(demand.updated_at),
        "expected_datetime": _iso(demand.finish_due),
        "address": scrub_contacts(demand.address),
        "address_id": "",
        "zipcode": "",
        "lat": _coordinate(demand.latitude),
        "long": _coordinate(demand.longitude),
        "media_url": "",
    }


def requests_visible_to(user) -> QuerySet[Demand]:
    """With a key: the key's user's scope. Without: the requests filed through Open311."""
    demands = unscoped_demands().select_related("category", "lead_unit")
    if user is not None and user.is_authenticated:
        return restrict(demands, user)
    return demands.filter(channel=Channel.OPEN311)


def _moment(value: str, name: str) -> dt.datetime:
    text = value.strip()
    if "T" in text:
        text = text.replace(" ", "+")  # a "+" in a query string arrives as a space
    moment = params.parse_datetime(text)
    if moment is None:
        raise Open311Error(
            400,
            _("%(name)s must be an ISO 8601 date and time between %(min)d and %(max)d.")
            % {"name": name, "min": params.MIN_YEAR, "max": params.MAX_YEAR},
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in params.text(value, 40_000).split(",") if part.strip()]


def find_requests(user, params) -> list[Demand]:
    """GET requests with the spec's filters. service_request_id overrides every other filter."""
    demands = requests_visible_to(user)
    ids = _comma_list(params.get("service_request_id"))
    if ids:
        return list(demands.filter(number__in=ids[:MAX_RESULTS]).order_by("-received_at")[:MAX_RESULTS])
    codes = _comma_list(params.get("service_code"))
    if codes:
        pks = [parse_int(code, min_value=1) for code in codes]
        if None in pks:
            raise Open311Error(400, _("service_code must be one or more service codes, comma separated."))
        demands = demands.filter(category_id__in=pks)
    statuses = _comma_list(params.get("status"))
    if statuses:
        if not set(statuses) <= {"open", "closed"}:
            raise Open311Error(400, _("status must be open, closed or both, comma separated."))
        states = (OPEN_STATES if "open" in statuses else frozenset()) | (
            CLOSED_STATES if "closed" in statuses else frozenset()
        )
        demands = demands.filter(state__in=states)
    end = _moment(params["end_date"], "end_date") if params.get("end_date") else None
    start = _moment(params["start_date"], "start_date") if params.get("start_date") else None
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - DEFAULT_WINDOW
    demands = demands.filter(received_at__gte=start)
    if end is not None:
        if end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        demands = demands.filter(received_at__lte=end)
    return list(demands.order_by("-received_at", "-id")[:MAX_RESULTS])


def get_request(user, service_request_id: str) -> Demand:
    demand = requests_visible_to(user).filter(number=params.text(service_request_id, 32)).first()
    if demand is None:
        raise Open311Error(404, _("Unknown service_request_id “%(id)s”.") % {"id": service_request_id[:40]})
    return demand


def get_token(token: str) -> RequestToken:
    found = RequestToken.objects.select_related("demand").filter(token=params.text(token, 64)).first()
    if found is None:
        raise Open311Error(404, _("Unknown token."))
    return found


# --- requests in -------------------------------------------------------------------------------

ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def parse_attributes(post) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    for key, values in post.lists():
        match = ATTRIBUTE.match(key)
        if match:
            attributes.setdefault(match.group(1), []).extend(v for v in values if v != "")
    return attributes


def _single(attributes: dict, code: str, allowed: list[str], default: str) -> str:
    values = attributes.get(code) or []
    if not values:
        return default
    if len(values) > 1 or values[0] not in allowed:
        raise Open311Error(
            400,
            _("attribute[%(code)s] must be one of: %(values)s.")
            % {"code": code, "values": ", ".join(allowed)},
        )
    return values[0]


def _decimal(value: str, name: str, limit: int) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) > limit:
        raise Open311Error(
            400,
            _("%(name)s must be a number between -%(limit)s and %(limit)s.") % {"name": name, "limit": limit},
        )
    return number.quantize(Decimal("0.000001"))


def _storable(value: str, name: str) -> str:
    if "\x00" in value:
        raise Open311Error(400, _("%(name)s contains a NUL character.") % {"name": name})
    return value.strip()


def _validation_description(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
    return " ".join(exc.messages)


def create_request(user, category: Category, post) -> tuple[Demand, RequestToken]:
    """POST requests: validate per the spec and store a demand (channel open311) on behalf of the key's user."""
    values = {name: _storable(post.get(name, "") or "", name) for name in post}
    has_point = bool(values.get("lat")) and bool(values.get("long"))
    if not has_point and not values.get("address_string"):
        if values.get("address_id"):
            raise Open311Error(
                400, _("address_id is not supported here; send lat and long, or address_string.")
            )
        raise Open311Error(400, _("A location is required: lat and long, or address_string."))
    attributes = parse_attributes(post)
    description = values.get("description", "")
    title = (attributes.get("title") or [""])[0].strip() or description[:40] or category.name
    name = " ".join(part for part in (values.get("first_name", ""), values.get("last_name", "")) if part)
    data = {
        "channel": Channel.OPEN311,
        "demand_type": _single(attributes, "demand_type", list(FILED_DEMAND_TYPES), DEFAULT_DEMAND_TYPE),
        "urgency": _single(attributes, "urgency", list(Urgency.values), Urgency.NORMAL),
        "title": title[:120],
        "content": description or category.full_name,
        "category": category,
        "requester_kind": RequesterKind.PERSON if (name or values.get("phone")) else RequesterKind.ANONYMOUS,
        "requester_name": name[:60],
        "requester_phone": values.get("phone", ""),
        "address": values.get("address_string", "")[:200],
        "external_id": values.get("device_id", "")[:64],
    }
    if has_point:
        data["latitude"] = _decimal(values["lat"], "lat", 90)
        data["longitude"] = _decimal(values["long"], "long", 180)
    if values.get("media_url"):
        data["content"] += "\n\n" + values["media_url"][:500]
    try:
        demand, _created = demand_services.create_demand(data, actor=user)
    except ValidationError as exc:
        raise Open311Error(400, _validation_description(exc)) from exc
    except DomainError as exc:
        raise Open311Error(403, exc.message) from exc
    token = RequestToken.objects.create(demand=demand)
    return demand, token
