"""REST routes of 先丰港 (`/api/v1/port/…`): enterprises (scoped, contacts masked), an enterprise's
demands, investment projects (list, detail, stage moves through the project machine) and 意见建议
suggestions (list, detail, submit, transitions). Thin: the UI's selectors and services, the same
scope (another unit's object is a 404), the same DomainError mapping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from changxin.api.errors import ApiError
from changxin.api.schemas import ERRORS, READ_ERRORS, PageMeta, Ref
from changxin.api.types import Id, Text, choice, text
from changxin.core import audit, roles
from changxin.core.privacy import mask_name, mask_phone
from changxin.core.scope import get_visible_or_404
from changxin.port import selectors, services, suggestions
from changxin.port.models import Stage, SuggestionState, Zone

ROUTER_PREFIX = "/port"
router = Router(tags=["port"])

PK = Annotated[int, Path(ge=1, le=2**63 - 1)]


class PageIn(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class EnterpriseFilterIn(PageIn):
    zone: choice(Zone, blank=True) = ""
    q: Text = text(60, default="", description="Part of the name.")


class EnterpriseOut(Schema):
    id: int
    name: str
    credit_code: str
    industry: str
    size: str
    zone: str
    street: Ref
    manager: Ref | None
    flags: list[str]
    contact_name: str
    contact_phone: str
    personal_data_masked: bool


class EnterprisePage(PageMeta):
    items: list[EnterpriseOut]


def _enterprise_out(request, e, *, detail: bool = False) -> dict:
    unmasked = detail and services.may_see_contacts(request.user, e)
    if unmasked and roles.is_staff_side(request.user) and (e.contact_name or e.contact_phone):
        audit.record_personal_view(request.user, e, ["contact_name", "contact_phone"], request=request)
    return {
        "id": e.pk,
        "name": e.name,
        "credit_code": e.credit_code,
        "industry": e.industry,
        "size": e.size,
        "zone": e.zone,
        "street": {"id": e.street_id, "name": e.street.name},
        "manager": {"id": e.manager_id, "name": e.manager.full_name or e.manager.username}
        if e.manager_id
        else None,
        "flags": [f for f in ("is_key", "is_specialised", "is_high_tech", "is_listed") if getattr(e, f)],
        "contact_name": e.contact_name if unmasked else mask_name(e.contact_name),
        "contact_phone": e.contact_phone if unmasked else mask_phone(e.contact_phone),
        "personal_data_masked": not unmasked,
    }


@router.get(
    "/enterprises", response={200: EnterprisePage, **READ_ERRORS}, summary="Enterprises in your scope"
)
def list_enterprises(request, filters: Query[EnterpriseFilterIn]):
    qs = selectors.enterprises_visible_to(request.user)
    if filters.zone:
        qs = qs.filter(zone=filters.zone)
    if filters.q:
        qs = qs.filter(name__contains=filters.q)
    count = qs.count()
    items = [_enterprise_out(request, e) for e in qs[filters.offset : filters.offset + filters.limit]]
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": items}


@router.get(
    "/enterprises/{enterprise_id}", response={200: EnterpriseOut, **READ_ERRORS}, summary="One enterprise"
)
def get_enterprise(request, enterprise_id: PK):
    enterprise = get_visible_or_404(
        selectors.enterprises_visible_to(request.user), request.user, pk=enterprise_id
    )
    return _enterprise_out(request, enterprise, detail=True)


class EnterpriseDemandOut(Schema):
    id: int
    number: str
    title: str
    state: str
    received_at: dt.datetime
    finish_due: dt.datetime | None
    replied_at: dt.datetime | None
    satisfaction: str


class EnterpriseDemandPage(PageMeta):
    items: list[EnterpriseDemandOut]


@router.get(
    "/enterprises/{enterprise_id}/demands",
    response={200: EnterpriseDemandPage, **READ_ERRORS},
    summary="An enterprise's demands (企业需求清单)",
)
def enterprise_demands(request, enterprise_id: PK, page: Query[PageIn]):
    user = request.user
    enterprise = get_visible_or_404(selectors.enterprises_visible_to(user), user, pk=enterprise_id)
    links = selectors.demand_links(user, enterprise)
    count = links.count()
    items = [
        {
            "id": link.demand.pk,
            "number": link.demand.number,
            "title": link.demand.title,
            "state": link.demand.state,
            "received_at": link.demand.received_at,
            "finish_due": link.demand.finish_due,
            "replied_at": link.demand.replied_at,
            "satisfaction": link.demand.satisfaction or "",
        }
        for link in links[page.offset : page.offset + page.limit]
    ]
    return {"count": count, "limit": page.limit, "offset": page.offset, "items": items}


# --- investment projects ------------------------------------------------------------------------


class ProjectFilterIn(PageIn):
    zone: choice(Zone, blank=True) = ""
    stage: choice(Stage, blank=True) = ""


class ProjectEventOut(Schema):
    at: dt.datetime
    action: str
    from_stage: str
    to_stage: str
    actor_name: str
    note: str


class MoveOut(Schema):
    name: str
    label: str
    target: str
    needs_reason: bool


class ProjectOut(Schema):
    id: int
    name: str
    zone: str
    street: Ref
    enterprise: Ref | None
    amount: Decimal
    stage: str
    version: int
    reserved_on: dt.date
    signed_on: dt.date | None
    started_on: dt.date | None
    completed_on: dt.date | None
    expected_start: dt.date | None
    expected_completion: dt.date | None


class ProjectDetailOut(ProjectOut):
    history: list[ProjectEventOut]
    moves: list[MoveOut]


class ProjectPage(PageMeta):
    items: list[ProjectOut]


def _project_out(p) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "zone": p.zone,
        "street": {"id": p.street_id, "name": p.street.name},
        "enterprise": {"id": p.enterprise_id, "name": p.enterprise.name} if p.enterprise_id else None,
        "amount": p.amount,
        "stage": p.stage,
        "version": p.version,
        **{
            f: getattr(p, f)
            for f in (
                "reserved_on",
                "signed_on",
                "started_on",
                "completed_on",
                "expected_start",
                "expected_completion",
            )
        },
    }


def _project_detail(user, project) -> dict:
    from changxin.port.workflow import is_next

    return {
        **_project_out(project),
        "history": [
            {
                "at": e.at,
                "action": e.action,
                "from_stage": e.from_stage,
                "to_stage": e.to_stage,
                "actor_name": e.actor_name,
                "note": e.note,
            }
            for e in project.events.order_by("at", "id")
        ],
        "moves": [
            {
                "name": t.name,
                "label": str(t.label),
                "target": t.target,
                "needs_reason": not is_next(project.stage, t.target),
            }
            for t in services.project_actions(user, project, with_reason=True)
        ],
    }


@router.get(
    "/projects", response={200: ProjectPage, **READ_ERRORS}, summary="Investment projects in your scope"
)
def list_projects(request, filters: Query[ProjectFilterIn]):
    qs = selectors.projects_visible_to(request.user)
    if filters.zone:
        qs = qs.filter(zone=filters.zone)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    count = qs.count()
    items = [_project_out(p) for p in qs[filters.offset : filters.offset + filters.limit]]
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": items}


@router.get("/projects/{project_id}", response={200: ProjectDetailOut, **READ_ERRORS}, summary="One project")
def get_project(request, project_id: PK):
    project = get_visible_or_404(selectors.projects_visible_to(request.user), request.user, pk=project_id)
    return _project_detail(request.user, project)


class MoveIn(Schema):
    note: Text = text(
        2000, default="", description="The reason: required for a stage skipped or a move back."
    )
    expected_version: int | None = Field(None, ge=0, le=2**31 - 1)


@router.post(
    "/projects/{project_id}/transitions/{name}",
    response={200: ProjectDetailOut, **ERRORS},
    summary="Move a project to another stage",
    description="Names: to_reserve, to_talks, to_signed, to_started, to_completed. A stage skipped or a "
    "move back needs `note` (409 reason_required); 403 for who may not move it, 409 stale version.",
)
def move_project(request, payload: MoveIn, project_id: PK, name: Annotated[str, Path(max_length=40)]):
    user = request.user
    project = get_visible_or_404(selectors.projects_visible_to(user), user, pk=project_id)
    if not services.project_relations(user, project):
        raise PermissionDenied(_("You may not move this project."))
    services.move_project(project, name, user, note=payload.note, expected_version=payload.expected_version)
    project = get_visible_or_404(selectors.projects_visible_to(user), user, pk=project_id)
    return _project_detail(user, project)


# --- 意见建议清单 ----------------------------------------------------------------------------------


class SuggestionFilterIn(PageIn):
    state: choice(SuggestionState, blank=True) = ""
    overdue: bool | None = None


class SuggestionOut(Schema):
    id: int
    enterprise: Ref
    title: str
    content: str
    state: str
    responsible_unit: Ref | None
    response: str
    response_due: dt.datetime | None
    responded_at: dt.datetime | None
    is_overdue: bool
    submitted_at: dt.datetime
    version: int
    actions: list[str]


class SuggestionPage(PageMeta):
    items: list[SuggestionOut]


def _suggestion_out(user, s, *, actions: bool = False) -> dict:
    return {
        "id": s.pk,
        "enterprise": {"id": s.enterprise_id, "name": s.enterprise.name},
        "title": s.title,
        "content": s.content,
        "state": s.state,
        "responsible_unit": {"id": s.responsible_unit_id, "name": s.responsible_unit.name}
        if s.responsible_unit_id
        else None,
        "response": s.response,
        "response_due": s.response_due,
        "responded_at": s.responded_at,
        "is_overdue": s.is_overdue,
        "submitted_at": s.submitted_at,
        "version": s.version,
        "actions": [t.name for t in suggestions.actions(user, s)] if actions else [],
    }


@router.get(
    "/suggestions", response={200: SuggestionPage, **READ_ERRORS}, summary="Suggestions in your scope"
)
def list_suggestions(request, filters: Query[SuggestionFilterIn]):
    qs = suggestions.suggestions_visible_to(request.user)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.overdue is not None:
        qs = qs.filter(is_overdue=filters.overdue)
    count = qs.count()
    items = [_suggestion_out(request.user, s) for s in qs[filters.offset : filters.offset + filters.limit]]
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": items}


@router.get(
    "/suggestions/{suggestion_id}", response={200: SuggestionOut, **READ_ERRORS}, summary="One suggestion"
)
def get_suggestion(request, suggestion_id: PK):
    user = request.user
    s = get_visible_or_404(suggestions.suggestions_visible_to(user), user, pk=suggestion_id)
    return _suggestion_out(user, s, actions=True)


class SuggestionIn(Schema):
    title: Text = text(120, min_length=1)
    content: Text = text(5000, min_length=1)
    enterprise: Id | None = Field(None, description="Your enterprise's id (needed only with several).")


@router.post(
    "/suggestions",
    response={201: SuggestionOut, **ERRORS},
    summary="Submit a suggestion (enterprise accounts)",
)
def submit_suggestion(request, payload: SuggestionIn):
    user = request.user
    if getattr(user, "role", None) != roles.Role.ENTERPRISE:
        raise PermissionDenied(_("Only the enterprise's own accounts submit its suggestions."))
    own = selectors.own_enterprises(user)
    if payload.enterprise is not None:
        own = own.filter(pk=payload.enterprise)
    found = list(own[:2])
    if len(found) != 1:
        raise ApiError(422, "enterprise_required", _("Name your enterprise."), field="enterprise")
    s = suggestions.submit(found[0], {"title": payload.title, "content": payload.content}, actor=user)
    return 201, _suggestion_out(user, s, actions=True)


class SuggestionMoveIn(Schema):
    note: Text = text(5000, default="", description="respond: the response; reopen: why.")
    unit: Id | None = Field(None, description="assign: the responsible unit's id.")
    expected_version: int | None = Field(None, ge=0, le=2**31 - 1)


@router.post(
    "/suggestions/{suggestion_id}/transitions/{name}",
    response={200: SuggestionOut, **ERRORS},
    summary="assign / respond / close / reopen a suggestion",
)
def move_suggestion(
    request, payload: SuggestionMoveIn, suggestion_id: PK, name: Annotated[str, Path(max_length=40)]
):
    user = request.user
    s = get_visible_or_404(suggestions.suggestions_visible_to(user), user, pk=suggestion_id)
    if not suggestions.relations(user, s):
        raise PermissionDenied(_("You may not act on this suggestion."))
    unit = None
    if payload.unit is not None:
        unit = suggestions.responsible_units().filter(pk=payload.unit).first()
        if unit is None:
            raise ApiError(422, "invalid", _("Choose a street, town or department."), field="unit")
    suggestions.move(s, name, user, unit=unit, note=payload.note, expected_version=payload.expected_version)
    s = get_visible_or_404(suggestions.suggestions_visible_to(user), user, pk=suggestion_id)
    return _suggestion_out(user, s, actions=True)
