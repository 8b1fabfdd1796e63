"""REST routes of 先丰港 (`/api/v1/port/…`): enterprises (scoped, contacts masked), an enterprise's
demands and policy grants, investment projects (list, detail, stage moves through the project
machine), 意见建议 suggestions (list, detail, submit, transitions), 一码检查 inspections (list,
detail, register, transitions, the enterprise's rating), cooperation matches (list, detail,
send/accept/decline) and 免申即享 policies (with an enterprise's eligibility and the reasons). Thin: the UI's selectors and services, the same
scope (another unit's object is a 404), the same DomainError mapping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from changxin.api.errors import ApiError
from changxin.api.schemas import ERRORS, READ_ERRORS, ErrorOut, PageMeta, Ref
from changxin.api.types import DateTime, Id, Text, choice, text
from changxin.core import audit, roles
from changxin.core.errors import DomainError
from changxin.core.models import User
from changxin.core.privacy import mask_name, mask_phone
from changxin.core.scope import get_visible_or_404
from changxin.port import cooperation, inspections, policies, selectors, services, suggestions, uscc
from changxin.port.models import (
    Enterprise,
    Inspection,
    InspectionState,
    MatchState,
    Result,
    Stage,
    SuggestionState,
    Trigger,
    Zone,
)

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


# --- 一码检查 / 无事不扰: inspections -------------------------------------------------------------


class InspectionFilterIn(PageIn):
    year: int | None = Field(None, ge=1900, le=2999, description="Planned in this year.")
    state: choice(InspectionState, blank=True) = ""
    enterprise: Id | None = Field(None, description="One enterprise's inspections.")
    overdue: bool | None = Field(None, description="Rectifications past their deadline (flagged daily).")


class InspectorOut(Schema):
    name: str = Field(description="Masked (张**), as on the enterprise code.")
    number: str = Field(description="Law-enforcement certificate number.")


class InspectionEventOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    actor_name: str = Field(description="Staff only; empty for enterprise accounts.")
    note: str


class InspectionOut(Schema):
    id: int
    enterprise: Ref
    department: Ref
    state: str
    refused_rule: str
    planned: bool
    trigger: str
    trigger_ref: str
    legal_basis: str
    items: str
    planned_from: dt.datetime
    planned_until: dt.datetime
    joint_visit: int | None
    result: str
    findings: str
    needs_rectification: bool
    rectification_due: dt.date | None
    rectification_overdue: bool
    rectified_on_time: bool | None
    rating: int | None
    rating_comment: str
    version: int


class InspectionDetailOut(InspectionOut):
    inspectors: list[InspectorOut]
    history: list[InspectionEventOut]
    actions: list[str]


class InspectionPage(PageMeta):
    items: list[InspectionOut]


def _inspection_out(i) -> dict:
    return {
        "id": i.pk,
        "enterprise": {"id": i.enterprise_id, "name": i.enterprise.name},
        "department": {"id": i.department_id, "name": i.department.name},
        "state": i.state,
        "refused_rule": i.refused_rule,
        "planned": i.is_planned,
        "joint_visit": i.joint_id,
        **{
            f: getattr(i, f)
            for f in (
                "trigger",
                "trigger_ref",
                "legal_basis",
                "items",
                "planned_from",
                "planned_until",
                "result",
                "findings",
                "needs_rectification",
                "rectification_due",
                "rectification_overdue",
                "rectified_on_time",
                "rating",
                "rating_comment",
                "version",
            )
        },
    }


def _inspection_detail(user, i) -> dict:
    staff = roles.is_staff_side(user)
    return {
        **_inspection_out(i),
        "inspectors": inspections.public_inspectors(i),
        "history": [
            {
                "at": e.at,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor_name": e.actor_name if staff else "",
                "note": e.note,
            }
            for e in i.events.order_by("at", "id")
        ],
        "actions": [t.name for t in inspections.actions(user, i)],
    }


def _visible_inspection(user, inspection_id: int):
    if not inspections.may_use_inspections(user):
        raise Http404
    return get_visible_or_404(
        inspections.inspections_visible_to(user).prefetch_related("certificates__user"),
        user,
        pk=inspection_id,
    )


@router.get(
    "/inspections", response={200: InspectionPage, **READ_ERRORS}, summary="Inspections in your scope"
)
def list_inspections(request, filters: Query[InspectionFilterIn]):
    user = request.user
    if not inspections.may_use_inspections(user):
        qs = Inspection.objects.none()
    else:
        qs = inspections.inspections_visible_to(user)
    if filters.year:
        qs = qs.filter(planned_from__year=filters.year)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.enterprise:
        qs = qs.filter(enterprise_id=filters.enterprise)
    if filters.overdue is not None:
        qs = qs.filter(rectification_overdue=filters.overdue)
    count = qs.count()
    rows = qs.order_by("-planned_from", "-id")[filters.offset : filters.offset + filters.limit]
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_inspection_out(i) for i in rows],
    }


@router.get(
    "/inspections/{inspection_id}",
    response={200: InspectionDetailOut, **READ_ERRORS},
    summary="One inspection: inspectors (masked), history, the actions offered to you",
)
def get_inspection(request, inspection_id: PK):
    return _inspection_detail(request.user, _visible_inspection(request.user, inspection_id))


class RegisterIn(Schema):
    credit_code: Text = text(40, default="", description="The enterprise's 统一社会信用代码 …")
    public_code: Text = text(24, default="", description="… or the public code its QR code carries.")
    inspectors: list[Id] = Field(
        default_factory=list,
        max_length=20,
        description="Inspector user ids of your department (default: you).",
    )
    legal_basis: Text = text(300, min_length=1)
    items: Text = text(300, min_length=1)
    planned_from: DateTime
    planned_until: DateTime
    trigger: choice(Trigger, blank=True) = Field("", description="Empty: the annual plan.")
    trigger_ref: Text = text(60, default="", description="A complaint's demand number, a document number.")
    join: bool = Field(True, description="false: refuse rather than join another department's visit.")


def _aware(moment: dt.datetime) -> dt.datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@router.post(
    "/inspections",
    response={201: InspectionDetailOut, **ERRORS},
    summary="Register an inspection against an enterprise's code (inspectors)",
    description="The 无事不扰 rules are the machine's guards: a refusal answers the rule's code "
    "(`plan_or_trigger`, `trigger_source`, `complaint_demand`, `plan_matches`, `not_an_inspector`, "
    "`certificate_required`, `window`, `joint_visit`, `frequency_cap`) with its message, and the "
    "refused registration is kept for the report.",
)
def register_inspection(request, payload: RegisterIn):
    user = request.user
    if not inspections.may_register(user):
        raise PermissionDenied(_("Only inspectors of an inspecting department register inspections."))
    enterprise = None
    if payload.public_code:
        enterprise = Enterprise.objects.filter(public_code=payload.public_code, is_active=True).first()
    elif payload.credit_code:
        code = uscc.normalise(payload.credit_code)
        reason = uscc.problem(code)
        if reason:
            raise ApiError(422, "invalid_credit_code", reason, field="credit_code")
        enterprise = Enterprise.objects.filter(credit_code=code, is_active=True).first()
    if enterprise is None:
        raise ApiError(
            422, "enterprise_required", _("No registered enterprise has this code."), field="credit_code"
        )
    pool = User.objects.filter(unit_id=user.unit_id, role=roles.Role.INSPECTOR, is_active=True)
    wanted = set(payload.inspectors) or {user.pk}
    chosen = list(pool.filter(pk__in=wanted))
    if len(chosen) != len(wanted):
        raise ApiError(422, "invalid", _("Name inspectors of your own department."), field="inspectors")
    try:
        inspection = _register(user, enterprise, chosen, payload)
    except DomainError as refusal:
        # the form's "basis" (plan or trigger) is this body's `trigger`
        refusal.field = {"basis": "trigger"}.get(refusal.field, refusal.field)
        raise
    return 201, _inspection_detail(user, _visible_inspection(user, inspection.pk))


def _register(user, enterprise, chosen, payload):
    return inspections.register_inspection(
        enterprise,
        actor=user,
        inspectors=chosen,
        legal_basis=payload.legal_basis,
        items=payload.items,
        planned_from=_aware(payload.planned_from),
        planned_until=_aware(payload.planned_until),
        trigger=payload.trigger,
        trigger_ref=payload.trigger_ref,
        join=payload.join,
    )


class InspectionMoveIn(Schema):
    note: Text = text(1000, default="", description="recheck_fail, cancel: why.")
    result: choice(Result, blank=True) = Field("", description="record_result: the result.")
    findings: Text = text(3000, default="", description="record_result: the findings.")
    needs_rectification: bool = Field(False, description="record_result: order a rectification (整改).")
    expected_version: int | None = Field(None, ge=0, le=2**31 - 1)


@router.post(
    "/inspections/{inspection_id}/transitions/{name}",
    response={200: InspectionDetailOut, **ERRORS},
    summary="start / record_result / recheck_pass / recheck_fail / cancel an inspection",
    description="Through the inspection machine: `record_result` then closes it or orders the "
    "rectification; a refusal names the rule (e.g. 409/422 `outside_window`, `findings_required`).",
)
def move_inspection(
    request, payload: InspectionMoveIn, inspection_id: PK, name: Annotated[str, Path(max_length=40)]
):
    user = request.user
    inspection = _visible_inspection(user, inspection_id)
    if not inspections.relations(user, inspection):
        raise PermissionDenied(_("You may not act on this inspection."))
    if name == "rate":
        raise ApiError(422, "unknown_transition", _("Rate with POST …/rating."), field="name")
    if name == "record_result":
        if not payload.result:
            raise ApiError(
                422, "result_required", _("Record the result: no findings, or the findings."), field="result"
            )
        inspections.record_result(
            inspection,
            user,
            result=payload.result,
            findings=payload.findings,
            needs_rectification=payload.needs_rectification,
            expected_version=payload.expected_version,
        )
    else:
        inspections.act(inspection, name, user, note=payload.note, expected_version=payload.expected_version)
    return _inspection_detail(user, _visible_inspection(user, inspection_id))


class RatingIn(Schema):
    rating: int = Field(ge=1, le=5)
    comment: Text = text(500, default="")


@router.post(
    "/inspections/{inspection_id}/rating",
    response={200: InspectionDetailOut, **ERRORS},
    summary="The enterprise rates a closed inspection (once)",
)
def rate_inspection(request, payload: RatingIn, inspection_id: PK):
    user = request.user
    inspection = _visible_inspection(user, inspection_id)
    if not inspections.relations(user, inspection):
        raise PermissionDenied(_("Only the enterprise's own accounts rate its inspections."))
    inspections.rate(inspection, user, rating=payload.rating, comment=payload.comment)
    return _inspection_detail(user, _visible_inspection(user, inspection_id))


# --- 合作方向清单: matches -----------------------------------------------------------------------


class MatchFilterIn(PageIn):
    state: choice(MatchState, blank=True) = ""


class ContactOut(Schema):
    name: str
    phone: str
    masked: bool


class MatchSideOut(Schema):
    kind: str = Field(description="offer, need or scenario")
    id: int
    title: str
    enterprise: Ref | None
    contact: ContactOut | None = Field(description="Masked until both sides accepted (connected).")


class MatchOut(Schema):
    id: int
    state: str
    score: float
    terms: list[str] = Field(description="The shared key terms: the reason for the match.")
    offer: MatchSideOut
    other: MatchSideOut
    offer_answer: str
    other_answer: str
    version: int


class MatchEventOut(Schema):
    at: dt.datetime
    action: str
    actor_name: str
    note: str


class MatchDetailOut(MatchOut):
    history: list[MatchEventOut]
    actions: list[str]


class MatchPage(PageMeta):
    items: list[MatchOut]


def _contact(user, match, enterprise, *, detail: bool):
    if enterprise is None:
        return None
    show = detail and (
        cooperation.may_see_contacts(user, match) or services.may_see_contacts(user, enterprise)
    )
    if show:
        return {"name": enterprise.contact_name, "phone": enterprise.contact_phone, "masked": False}
    return {
        "name": mask_name(enterprise.contact_name),
        "phone": mask_phone(enterprise.contact_phone),
        "masked": True,
    }


def _match_out(user, m, *, detail: bool = False) -> dict:
    def side(kind, obj, enterprise):
        return {
            "kind": kind,
            "id": obj.pk,
            "title": obj.title,
            "enterprise": {"id": enterprise.pk, "name": enterprise.name} if enterprise else None,
            "contact": _contact(user, m, enterprise, detail=detail),
        }

    offer_ent = m.offer.enterprise
    if m.need_id:
        other = side("need", m.need, m.need.enterprise)
    else:
        other = side("scenario", m.scenario, None)
    return {
        "id": m.pk,
        "state": m.state,
        "score": m.score,
        "terms": [str(t) for t in m.terms or []],
        "offer": side("offer", m.offer, offer_ent),
        "other": other,
        "offer_answer": m.offer_answer,
        "other_answer": m.other_answer,
        "version": m.version,
    }


def _match_detail(user, m) -> dict:
    staff = roles.is_staff_side(user)
    return {
        **_match_out(user, m, detail=True),
        "history": [
            {
                "at": e.at,
                "action": e.action,
                "actor_name": e.actor_name if staff else "",
                "note": e.note,
            }
            for e in m.events.order_by("at", "id")
        ],
        "actions": [t.name for t in cooperation.match_actions(user, m)],
    }


@router.get(
    "/matches",
    response={200: MatchPage, **READ_ERRORS},
    summary="Cooperation matches of your enterprises (or those you manage / oversee)",
)
def list_matches(request, filters: Query[MatchFilterIn]):
    user = request.user
    qs = cooperation.matches_visible_to(user)
    if filters.state:
        qs = qs.filter(state=filters.state)
    count = qs.count()
    rows = qs.order_by("-score", "-id")[filters.offset : filters.offset + filters.limit]
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_match_out(user, m) for m in rows],
    }


@router.get(
    "/matches/{match_id}",
    response={200: MatchDetailOut, **READ_ERRORS},
    summary="One match: both sides, the reason, history, your actions",
)
def get_match(request, match_id: PK):
    user = request.user
    return _match_detail(user, get_visible_or_404(cooperation.matches_visible_to(user), user, pk=match_id))


class MatchMoveIn(Schema):
    note: Text = text(1000, default="")
    expected_version: int | None = Field(None, ge=0, le=2**31 - 1)


@router.post(
    "/matches/{match_id}/transitions/{name}",
    response={200: MatchDetailOut, **ERRORS},
    summary="send / accept / decline a match",
    description="Through the match machine: each side accepts or declines once (409 "
    "`already_answered`); after both accepted the platform connects them and the contacts show.",
)
def move_match(request, payload: MatchMoveIn, match_id: PK, name: Annotated[str, Path(max_length=40)]):
    user = request.user
    match = get_visible_or_404(cooperation.matches_visible_to(user), user, pk=match_id)
    if not cooperation.match_relations(user, match):
        raise PermissionDenied(_("You may not act on this match."))
    cooperation.apply_match(match, name, user, note=payload.note, expected_version=payload.expected_version)
    return _match_detail(user, get_visible_or_404(cooperation.matches_visible_to(user), user, pk=match_id))


# --- 免申即享: policies and grants --------------------------------------------------------------


class PolicyFilterIn(PageIn):
    enterprise: Id | None = Field(
        None, description="Whose eligibility to show (default: an enterprise account's own enterprise)."
    )
    eligible: bool | None = Field(None, description="true: only the policies the enterprise is eligible for.")


class CriterionOut(Schema):
    criterion: str
    ok: bool
    why: str


class GrantOut(Schema):
    id: int
    policy: Ref
    enterprise: Ref
    state: str
    reasons: list[str]
    amount: Decimal | None
    matched_on: dt.date
    notified_on: dt.date | None
    applied_on: dt.date | None
    granted_on: dt.date | None
    paid_on: dt.date | None
    version: int


class EligibilityOut(Schema):
    enterprise: Ref
    eligible: bool
    criteria: list[CriterionOut]
    grant: GrantOut | None


class PolicyOut(Schema):
    id: int
    title: str
    issuer: str
    summary: str
    industries: list[str]
    sizes: list[str]
    zones: list[str]
    flags: list[str]
    min_employees: int | None
    max_employees: int | None
    min_revenue: Decimal | None
    max_revenue: Decimal | None
    amount: Decimal | None
    without_application: bool
    valid_until: dt.date | None
    eligibility: EligibilityOut | None


class PolicyPage(PageMeta):
    enterprise: Ref | None
    items: list[PolicyOut]


def _grant_out(g) -> dict:
    return {
        "id": g.pk,
        "policy": {"id": g.policy_id, "name": g.policy.title},
        "enterprise": {"id": g.enterprise_id, "name": g.enterprise.name},
        "state": g.state,
        "reasons": [str(r) for r in g.reasons or []],
        **{
            f: getattr(g, f)
            for f in ("amount", "matched_on", "notified_on", "applied_on", "granted_on", "paid_on", "version")
        },
    }


def _policy_out(p, enterprise=None, grant=None) -> dict:
    out = {
        f: getattr(p, f)
        for f in (
            "title",
            "issuer",
            "summary",
            "min_employees",
            "max_employees",
            "min_revenue",
            "max_revenue",
            "amount",
            "without_application",
            "valid_until",
        )
    }
    out.update(
        id=p.pk,
        industries=list(p.industries or []),
        sizes=list(p.sizes or []),
        zones=list(p.zones or []),
        flags=list(p.flags or []),
        eligibility=None,
    )
    if enterprise is not None:
        rows = [{**r, "why": str(r["why"])} for r in policies.eligibility(p, enterprise)]
        out["eligibility"] = {
            "enterprise": {"id": enterprise.pk, "name": enterprise.name},
            "eligible": all(r["ok"] for r in rows),
            "criteria": rows,
            "grant": _grant_out(grant) if grant is not None else None,
        }
    return out


@router.get(
    "/policies",
    response={200: PolicyPage, 403: ErrorOut, **READ_ERRORS},
    summary="Active policies, with an enterprise's eligibility and the reason per criterion",
)
def list_policies(request, filters: Query[PolicyFilterIn]):
    user = request.user
    if not selectors.may_use_port(user):
        raise PermissionDenied(_("The policies are for the enterprise wing's users."))
    enterprise = None
    if filters.enterprise is not None:
        enterprise = get_visible_or_404(selectors.enterprises_visible_to(user), user, pk=filters.enterprise)
    elif user.role == roles.Role.ENTERPRISE:
        own = list(selectors.own_enterprises(user)[:2])
        enterprise = own[0] if len(own) == 1 else None
    items = list(policies.active_policies().order_by("-id"))
    if enterprise is not None and filters.eligible is not None:
        items = [p for p in items if (policies.reasons(p, enterprise) is not None) == filters.eligible]
    page = items[filters.offset : filters.offset + filters.limit]
    grants = {}
    if enterprise is not None:
        grants = {
            g.policy_id: g
            for g in policies.grants_visible_to(user).filter(
                enterprise=enterprise, policy__in=[p.pk for p in page]
            )
        }
    return {
        "count": len(items),
        "limit": filters.limit,
        "offset": filters.offset,
        "enterprise": {"id": enterprise.pk, "name": enterprise.name} if enterprise else None,
        "items": [_policy_out(p, enterprise, grants.get(p.pk)) for p in page],
    }


class GrantPage(PageMeta):
    items: list[GrantOut]


@router.get(
    "/enterprises/{enterprise_id}/grants",
    response={200: GrantPage, **READ_ERRORS},
    summary="An enterprise's policy grants (matched → notified → applied → granted → paid)",
)
def enterprise_grants(request, enterprise_id: PK, page: Query[PageIn]):
    user = request.user
    enterprise = get_visible_or_404(selectors.enterprises_visible_to(user), user, pk=enterprise_id)
    qs = policies.grants_visible_to(user).filter(enterprise=enterprise).order_by("-matched_on", "-id")
    count = qs.count()
    items = [_grant_out(g) for g in qs[page.offset : page.offset + page.limit]]
    return {"count": count, "limit": page.limit, "offset": page.offset, "items": items}
