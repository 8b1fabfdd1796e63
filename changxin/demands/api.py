"""REST routes of the 接诉即办 engine: demands (intake, list, detail, every transition), categories.

Thin: parse, call `selectors`/`services`, shape the answer. Scoping is the UI's (`get_demand_for`,
`list_demands`); a demand outside the caller's scope is a 404. Personal data is masked unless the
caller needs it for this demand (the centre, the lead unit who must call back, the requester
themself), and an unmasked answer is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Header, Path, Query, Router, Schema

from changxin.api.errors import ApiError
from changxin.api.schemas import ERRORS, READ_ERRORS, PageMeta, Ref
from changxin.api.types import Date, Id, Text, choice, text
from changxin.core import audit, roles
from changxin.core.models import OrgUnit
from changxin.core.privacy import mask_name, mask_phone
from changxin.core.scope import get_visible_or_404, restrict
from changxin.demands import lookups, selectors, services, workflow
from changxin.demands.models import (
    Category,
    Channel,
    Demand,
    DemandType,
    DisputeReason,
    RequesterKind,
    Resolution,
    Satisfaction,
    State,
    Urgency,
)
from changxin.demands.workflow import ASSIGNEE, CENTRE, LEAD, MACHINE, REQUESTER

router = Router(tags=["demands"])

API_CHANNELS = tuple(c for c in Channel.values if c not in (Channel.OPEN311, Channel.IMPORT))
PERSONAL_FIELDS = ["requester_name", "requester_phone"]
NEEDS_PERSONAL_DATA = frozenset({CENTRE, LEAD, ASSIGNEE, REQUESTER})
TransitionName = Literal.__getitem__(tuple(workflow.TRANSITIONS))


# --- schemas ---------------------------------------------------------------------------------


class DemandIn(Schema):
    demand_type: choice(DemandType)
    title: Text = text(120, min_length=1)
    content: Text = text(5000, min_length=1)
    urgency: choice(Urgency) = Urgency.NORMAL.value
    channel: Literal.__getitem__(API_CHANNELS) = Channel.API.value
    category: Id | None = Field(None, description="Category id (GET /categories).")
    requester_kind: choice(RequesterKind) = RequesterKind.PERSON.value
    requester_name: Text = text(60, default="")
    requester_phone: Text = text(20, default="")
    enterprise_name: Text = text(120, default="")
    address: Text = text(200, default="")
    street: Id | None = Field(None, description="Org unit id of the street/town.")
    community: Id | None = Field(None, description="Org unit id of the community/village.")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    external_id: Text = text(64, default="", description="The caller's own id for this demand.")


class CategoryOut(Schema):
    id: int
    name: str
    full_name: str
    level: int
    parent_id: int | None
    is_active: bool


class CategoryPage(PageMeta):
    items: list[CategoryOut]


class TaskOut(Schema):
    id: int
    unit: Ref
    role: str
    state: str
    assigned_at: dt.datetime
    due_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    done_at: dt.datetime | None
    request_note: str
    result_note: str


class EventOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    actor_name: str
    actor_unit: Ref | None
    note: str
    automatic: bool


class ActionOut(Schema):
    name: str
    label: str
    needs_note: bool


class DemandOut(Schema):
    id: int
    number: str
    channel: str
    demand_type: str
    urgency: str
    title: str
    state: str
    state_label: str
    version: int
    category: Ref | None
    street: Ref | None
    community: Ref | None
    lead_unit: Ref | None
    address: str
    latitude: float | None
    longitude: float | None
    requester_kind: str
    requester_name: str
    requester_phone: str
    enterprise_name: str
    personal_data_masked: bool
    received_at: dt.datetime
    dispatched_at: dt.datetime | None
    contact_due: dt.datetime | None
    finish_due: dt.datetime | None
    deadline_estimated: bool
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    updated_at: dt.datetime


class DemandDetailOut(DemandOut):
    content: str
    tracking_code: str | None = Field(None, description="Shown to the centre and the requester only.")
    acknowledged_at: dt.datetime | None
    contacted_at: dt.datetime | None
    visited_at: dt.datetime | None
    extension_state: str
    extension_days: int
    supervision_count: int
    reply: str
    resolution: str
    satisfaction: str
    rating_excluded: bool
    reopen_count: int
    master_id: int | None
    external_id: str
    tasks: list[TaskOut]
    events: list[EventOut]
    available_actions: list[ActionOut]


class DemandPage(PageMeta):
    items: list[DemandOut]


class DemandFilterIn(Schema):
    """The query of GET /demands: the one `DemandFilter`, typed."""

    q: Text = text(100, default="", description="Number, title or address contains.")
    state: choice(State, blank=True) = ""
    demand_type: choice(DemandType, blank=True) = ""
    urgency: choice(Urgency, blank=True) = ""
    channel: choice(Channel, blank=True) = ""
    category: Id | None = None
    street: Id | None = None
    lead_unit: Id | None = None
    received_from: Date | None = None
    received_to: Date | None = None
    due: Literal["", "overdue", "soon"] = ""
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class TransitionIn(Schema):
    """Data of a transition; each action reads the fields it needs (see GET /workflow)."""

    note: Text = text(5000, default="")
    expected_version: int | None = Field(
        None, ge=0, le=2**31 - 1, description="Refuse (409 stale) if the demand changed since this version."
    )
    lead_unit: Id | None = Field(None, description="dispatch, redispatch")
    co_units: list[Id] = Field(default_factory=list, max_length=20, description="dispatch, redispatch")
    reason: choice(DisputeReason) | None = Field(None, description="dispute")
    days: int | None = Field(None, ge=0, le=365, description="request_extension")
    units: list[Id] = Field(default_factory=list, max_length=20, description="whistle")
    due_days: float | None = Field(None, ge=0, le=365, description="whistle")
    task: Id | None = Field(None, description="task_acknowledge, task_complete, withdraw_task")
    resolution: choice(Resolution) | None = Field(None, description="return_visit")
    satisfaction: choice(Satisfaction) | None = Field(None, description="return_visit")
    comment: str | None = Field(
        None, max_length=1000, description="return_visit: the requester's comment (default: the note)"
    )
    master: Id | None = Field(None, description="merge: id of the master demand")
    category: Id | None = Field(None, description="recategorise: id of the category (GET /categories)")
    assignee: Id | None = Field(None, description="assign: id of the person (none takes the task back)")


class GuardOut(Schema):
    code: str
    message: str


class TransitionOut(Schema):
    name: str
    label: str
    sources: list[str]
    target: str | None
    actors: list[str]
    needs_note: bool
    guards: list[GuardOut] = Field(description="Data preconditions; a refusal answers 409 with this code.")


# --- shaping ---------------------------------------------------------------------------------


def _ref(obj) -> dict | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _summary(demand: Demand, *, unmasked: bool) -> dict:
    return {
        "id": demand.pk,
        "number": demand.number,
        "channel": demand.channel,
        "demand_type": demand.demand_type,
        "urgency": demand.urgency,
        "title": demand.title,
        "state": demand.state,
        "state_label": str(demand.get_state_display()),
        "version": demand.version,
        "category": {"id": demand.category_id, "name": demand.category.full_name}
        if demand.category_id
        else None,
        "street": _ref(demand.street),
        "community": _ref(demand.community) if demand.community_id else None,
        "lead_unit": _ref(demand.lead_unit),
        "address": demand.address,
        "latitude": _float(demand.latitude),
        "longitude": _float(demand.longitude),
        "requester_kind": demand.requester_kind,
        "requester_name": demand.requester_name if unmasked else mask_name(demand.requester_name),
        "requester_phone": demand.requester_phone if unmasked else mask_phone(demand.requester_phone),
        "enterprise_name": demand.enterprise_name,
        "personal_data_masked": not unmasked,
        "received_at": demand.received_at,
        "dispatched_at": demand.dispatched_at,
        "contact_due": demand.contact_due,
        "finish_due": demand.finish_due,
        "deadline_estimated": demand.deadline_estimated,
        "replied_at": demand.replied_at,
        "closed_at": demand.closed_at,
        "updated_at": demand.updated_at,
    }


def _rows(demand: Demand, name: str, *related: str):
    """A demand's tasks or events: the rows already at hand (create_demand knows a new demand's),
    else one query with their related rows."""
    manager = getattr(demand, name)
    if name in getattr(demand, "_prefetched_objects_cache", {}):
        return manager.all()
    return manager.select_related(*related)


def demand_detail(request, demand: Demand, *, just_created: bool = False) -> dict:
    """`just_created`: the caller is echoed the demand it sent in this very request — the CREATE
    audit entry records that; showing a caller its own input is no view of stored personal data."""
    user = request.user
    relations = services.relations_of(user, demand)
    unmasked = bool(relations & NEEDS_PERSONAL_DATA)
    if unmasked and not just_created and (demand.requester_name or demand.requester_phone):
        audit.record_personal_view(user, demand, PERSONAL_FIELDS, request=request)
    data = _summary(demand, unmasked=unmasked)
    data.update(
        content=demand.content,
        tracking_code=demand.tracking_code if relations & {CENTRE, REQUESTER} else None,
        acknowledged_at=demand.acknowledged_at,
        contacted_at=demand.contacted_at,
        visited_at=demand.visited_at,
        extension_state=demand.extension_state,
        extension_days=demand.extension_days,
        supervision_count=demand.supervision_count,
        reply=demand.reply,
        resolution=demand.resolution,
        satisfaction=demand.satisfaction,
        rating_excluded=demand.rating_excluded,
        reopen_count=demand.reopen_count,
        master_id=demand.master_id,
        external_id=demand.external_id,
        tasks=[
            {
                "id": t.pk,
                "unit": _ref(t.unit),
                "role": t.role,
                "state": t.state,
                "assigned_at": t.assigned_at,
                "due_at": t.due_at,
                "acknowledged_at": t.acknowledged_at,
                "done_at": t.done_at,
                "request_note": t.request_note,
                "result_note": t.result_note,
            }
            for t in _rows(demand, "tasks", "unit")
        ],
        events=[
            {
                "at": e.at,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor_name": e.actor_name,
                "actor_unit": _ref(e.actor_unit),
                "note": e.note,
                "automatic": e.automatic,
            }
            for e in _rows(demand, "events", "actor_unit")
        ],
        available_actions=[
            {"name": t.name, "label": str(t.label), "needs_note": t.needs_note}
            for t in MACHINE.available(demand, relations)
        ],
    )
    return data


# --- intake helpers (parsing references into objects; rules stay in create_demand) -------------


def _unit_ref(pk: int | None, field: str, kinds: tuple[str, ...]) -> OrgUnit | None:
    if pk is None:
        return None
    unit = lookups.active_unit(pk, kinds)
    if unit is None:
        raise ValidationError({field: ValidationError(_("Choose a valid unit."), code="invalid_choice")})
    return unit


def intake_data(payload: DemandIn) -> dict:
    data = payload.dict()
    if data["category"] is not None:
        category = lookups.active_category(data["category"])
        if category is None:
            raise ValidationError(
                {"category": ValidationError(_("Choose a valid category."), code="invalid_choice")}
            )
        data["category"] = category
    data["street"] = _unit_ref(data["street"], "street", roles.STREET_LEVEL_KINDS)
    data["community"] = _unit_ref(data["community"], "community", roles.COMMUNITY_KINDS)
    for name in ("latitude", "longitude"):
        if data[name] is not None:
            data[name] = Decimal(str(round(data[name], 6)))
    return data


def scoped_idempotency_key(user, key: str | None) -> str | None:
    """Keys are per caller: the same text from two users never returns the other's demand."""
    if key is None or key == "":
        return None
    if len(key) > 200:
        raise ApiError(422, "invalid", _("The Idempotency-Key header is too long."), field="Idempotency-Key")
    return f"api:{user.pk}:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:48]}"


def _refuse_read_only(user) -> None:
    if user.is_read_only:
        raise ApiError(403, "read_only", _("Your role is read-only."))


# --- routes ----------------------------------------------------------------------------------


@router.post(
    "/demands",
    response={200: DemandDetailOut, 201: DemandDetailOut, **ERRORS},
    summary="Create a demand (idempotent with an Idempotency-Key header)",
)
def create_demand(
    request,
    payload: DemandIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Repeat a submission safely: 201 the first time, 200 after.",
    ),
):
    user = request.user
    _refuse_read_only(user)
    demand, created = services.create_demand(
        intake_data(payload), actor=user, idempotency_key=scoped_idempotency_key(user, idempotency_key)
    )
    if demand.created_by_id != user.pk:  # pragma: no cover - keys are per user
        demand = selectors.get_demand_for(user, pk=demand.pk)
    # The answer is built field by field in DemandDetailOut's order from typed values, so it is
    # rendered as is: validating it again through the schema cost ≈ 8 % of an intake's CPU.
    # api/tests/test_intake_budget.py holds the rendered body equal to the validated one.
    from changxin.api.site import api  # the NinjaAPI this router is mounted on, its renderer

    return api.create_response(
        request, demand_detail(request, demand, just_created=created), status=201 if created else 200
    )


@router.get("/demands", response={200: DemandPage, **READ_ERRORS}, summary="List demands in your scope")
def list_demands(request, filters: Query[DemandFilterIn]):
    params = filters.dict()
    limit, offset = params.pop("limit"), params.pop("offset")
    flt = selectors.DemandFilter(**params)
    demands = selectors.list_demands(request.user, flt).select_related("community")
    count = selectors.list_demands(request.user, flt, read_all=True).count()  # the scope as index scans
    items = [_summary(d, unmasked=False) for d in demands[offset : offset + limit]]
    return {"count": count, "limit": limit, "offset": offset, "items": items}


@router.get("/demands/{demand_id}", response={200: DemandDetailOut, **READ_ERRORS}, summary="One demand")
def get_demand(request, demand_id: Annotated[int, Path(ge=1, le=2**63 - 1)]):
    return demand_detail(request, selectors.get_demand_for(request.user, pk=demand_id))


@router.post(
    "/demands/{demand_id}/transitions/{name}",
    response={200: DemandDetailOut, **ERRORS},
    summary="Apply a workflow transition",
    description="403 not allowed for you, 404 outside your scope, 409 wrong state or stale version, "
    "422 bad data (the error names the field).",
)
def apply_transition(
    request,
    payload: TransitionIn,
    demand_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    name: Annotated[TransitionName, Path()],
):
    user = request.user
    demand = selectors.get_demand_for(user, pk=demand_id)
    _refuse_read_only(user)
    data = payload.dict()
    note, expected_version = data.pop("note"), data.pop("expected_version")
    if data.get("master") is not None:
        data["master"] = selectors.demands_visible_to(user).filter(pk=data["master"]).first()
    data = {k: v for k, v in data.items() if v not in (None, [])}
    services.transition(demand, name, user, note=note, expected_version=expected_version, **data)
    return demand_detail(request, selectors.get_demand_for(user, pk=demand_id))


@router.get("/workflow", response={200: list[TransitionOut], **READ_ERRORS}, summary="The transition table")
def list_transitions(request):
    return [
        {
            "name": t.name,
            "label": str(t.label),
            "sources": [str(s) for s in t.sources],
            "target": t.target,
            "actors": sorted(t.actors),
            "needs_note": t.needs_note,
            "guards": [{"code": g.code, "message": str(g.message)} for g in t.guards],
        }
        for t in workflow.TRANSITIONS.values()
    ]


@router.get("/categories", response={200: CategoryPage, **READ_ERRORS}, tags=["categories"])
def list_categories(
    request,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    parent: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    q: Annotated[Text, Query("", max_length=50)] = "",
    include_inactive: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
):
    categories = restrict(Category.objects.all(), request.user)
    if not include_inactive:
        categories = categories.filter(is_active=True)
    if level:
        categories = categories.filter(level=level)
    if parent:
        categories = categories.filter(parent_id=parent)
    if q:
        categories = categories.filter(Q(name__icontains=q) | Q(full_name__icontains=q))
    count = categories.count()
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "items": list(categories[offset : offset + limit]),
    }


@router.get("/categories/{category_id}", response={200: CategoryOut, **READ_ERRORS}, tags=["categories"])
def get_category(request, category_id: Annotated[int, Path(ge=1, le=2**63 - 1)]):
    return get_visible_or_404(Category, request.user, pk=category_id)
