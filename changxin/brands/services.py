"""Every change of the brand wing: validate, check the machine (table, actor, guards), write, leave a
BrandEvent (published stream "brands") and an audit row, in one transaction. Views and the import
call these, never the models directly.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.brands.models import Brand, BrandEvent, BrandField, BrandState, PracticeCase
from changxin.brands.workflow import BRAND_MACHINE, CASE_MACHINE
from changxin.core import audit, roles
from changxin.core import events as bus
from changxin.core.errors import DomainError
from changxin.core.models import AuditAction, OrgUnit
from changxin.core.workflow import WorkflowError
from changxin.pioneers import services as pioneer_services
from changxin.pioneers.models import PartyOrganisation
from changxin.pioneers.pipeline import STAFF

MIN_YEAR, MAX_YEAR = 2000, 2100


def relations_of(user, brand: Brand) -> set[str]:
    """party_staff over the owner organisation's unit, and the owner branch's secretary."""
    return pioneer_services.relations_of(user, brand.owner)


def may_draft_for(user, organisation: PartyOrganisation) -> bool:
    return bool(pioneer_services.relations_of(user, organisation))


def _check_actor(actor, organisation: PartyOrganisation) -> None:
    if actor is not None and not may_draft_for(actor, organisation):
        raise WorkflowError("not_allowed", _("You may not keep the brands of this party organisation."))


def _event(brand, actor, action, *, case=None, from_state="", to_state="", note="", data=None) -> BrandEvent:
    authenticated = getattr(actor, "is_authenticated", False)
    event = BrandEvent.objects.create(
        brand=brand,
        case=case,
        at=timezone.now(),
        actor=actor if authenticated else None,
        actor_name=(actor.get_username() if authenticated else "system")[:150],
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
    )
    bus.publish("brands", event)
    return event


def _clean_text(value, field: str, label: str, max_length: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError("required", _("%(field)s is required.") % {"field": label}, field)
    if len(text) > max_length:
        raise DomainError(
            "too_long",
            _("%(field)s is longer than %(n)s characters.") % {"field": label, "n": max_length},
            field,
        )
    return text


def _street_of(organisation: PartyOrganisation, street: OrgUnit | None) -> OrgUnit:
    street = street or organisation.unit.street()
    if street is None or not street.is_street_level:
        raise DomainError(
            "street_required",
            _("Name the street or town the brand serves (the owner organisation is not in one)."),
            "street",
        )
    return street


@transaction.atomic
def create_brand(
    *,
    owner: PartyOrganisation,
    name: str,
    field: str,
    description: str,
    slogan: str = "",
    street: OrgUnit | None = None,
    actor=None,
) -> Brand:
    _check_actor(actor, owner)
    name = _clean_text(name, "name", _("Name"), 60)
    if field not in BrandField.values:
        raise DomainError("invalid_field", _("Choose one of the brand fields."), "field")
    if Brand.objects.filter(name=name).exists():
        raise DomainError("duplicate_name", _("A brand with this name exists."), "name")
    brand = Brand.objects.create(
        owner=owner,
        name=name,
        field=field,
        street=_street_of(owner, street),
        slogan=_clean_text(slogan, "slogan", _("Slogan"), 80, required=False),
        description=_clean_text(description, "description", _("Description"), 4000),
    )
    _event(brand, actor, "create", to_state=brand.state, data={"field": field, "street": brand.street_id})
    audit.record(actor, AuditAction.CREATE, brand)
    return brand


def _check_dates(starts_on: dt.date, ends_on: dt.date) -> None:
    for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not isinstance(day, dt.date) or not (MIN_YEAR <= day.year <= MAX_YEAR):
            raise DomainError(
                "invalid_date",
                _("Give a date between %(a)s and %(b)s.") % {"a": MIN_YEAR, "b": MAX_YEAR},
                name,
            )
    if ends_on < starts_on:
        raise DomainError("period_reversed", _("The period ends before it starts."), "ends_on")


@transaction.atomic
def add_case(
    brand: Brand,
    *,
    title: str,
    summary: str,
    area: OrgUnit,
    starts_on: dt.date,
    ends_on: dt.date,
    category=None,
    actor=None,
) -> PracticeCase:
    brand = (
        Brand.objects.select_for_update(of=("self",)).select_related("owner__unit", "street").get(pk=brand.pk)
    )
    _check_actor(actor, brand.owner)
    if brand.state == BrandState.WITHDRAWN:
        raise WorkflowError("illegal_state", _("A withdrawn brand takes no new practice cases."))
    if area is None or area.kind not in roles.PLACE_KINDS or not brand.street.is_ancestor_of(area):
        raise DomainError(
            "area_outside_street",
            _("The area is the brand's street or town, or a community or village in it."),
            "area",
        )
    _check_dates(starts_on, ends_on)
    case = PracticeCase.objects.create(
        brand=brand,
        title=_clean_text(title, "title", _("Title"), 80),
        summary=_clean_text(summary, "summary", _("What was done"), 4000),
        area=area,
        category=category,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    _event(brand, actor, "add_case", case=case, to_state=case.state, data={"case": case.pk, "area": area.pk})
    audit.record(actor, AuditAction.CREATE, case)
    return case


def available_brand_actions(user, brand: Brand):
    brand.acting_user = user
    return BRAND_MACHINE.available(brand, relations_of(user, brand)) if not roles.is_read_only(user) else []


def blocked_brand_actions(user, brand: Brand) -> list[tuple[object, object]]:
    """(transition, failed guard) of the actions the user's role may take but the rules refuse now:
    the screen says what is still missing instead of hiding the action silently."""
    if roles.is_read_only(user):
        return []
    brand.acting_user = user
    offered = BRAND_MACHINE.offered_by_table(brand.state, relations_of(user, brand))
    return [(t, guard) for t in offered if (guard := t.failed_guard(brand)) is not None]


def available_case_actions(user, case: PracticeCase):
    case.acting_user = user
    return (
        CASE_MACHINE.available(case, relations_of(user, case.brand)) if not roles.is_read_only(user) else []
    )


def _apply(machine, obj, brand, name, actor, note, expected_version, *, case=None):
    note = (note or "").strip()
    if expected_version is not None and obj.version != int(expected_version):
        raise WorkflowError("stale", _("Someone else changed this a moment ago. Reload it and try again."))
    if actor is not None and roles.is_read_only(actor):
        raise WorkflowError("read_only", _("Your account is read-only."))
    relations = {STAFF} if actor is None else relations_of(actor, brand)
    obj.acting_user = actor
    step = machine.check(name, obj, relations)
    if step.needs_note and not note:
        raise WorkflowError("note_required", _("Please write a note for this action."), field="note")
    from_state = obj.state
    obj.state = step.target or obj.state
    obj.version += 1
    fields = ["state", "version", "updated_at"]
    if name == "submit":
        obj.submitted_by = actor if getattr(actor, "is_authenticated", False) else None
        fields.append("submitted_by")
    if name == "publish" and case is None:
        obj.published_at = timezone.now()
        fields.append("published_at")
    obj.save(update_fields=fields)
    _event(
        brand,
        actor,
        name if case is None else f"case_{name}",
        case=case,
        from_state=from_state,
        to_state=obj.state,
        note=note,
        data={"case": case.pk} if case is not None else {},
    )
    audit.record(actor, AuditAction.STATE, obj, detail=f"{name}: {from_state} → {obj.state}")
    return obj


@transaction.atomic
def brand_step(brand: Brand | int, name: str, actor, *, note: str = "", expected_version=None) -> Brand:
    """Apply `name` to the brand; WorkflowError naming the rule, and nothing changed, if refused."""
    locked = (
        Brand.objects.select_for_update(of=("self",))
        .select_related("owner__unit", "street")
        .prefetch_related("cases")
        .get(pk=getattr(brand, "pk", brand))
    )
    _apply(BRAND_MACHINE, locked, locked, name, actor, note, expected_version)
    if name == "publish":
        # the cases submitted with it are approved with it (each still by its own guards)
        relations = {STAFF} if actor is None else relations_of(actor, locked)
        for case in locked.cases.select_for_update().filter(state=BrandState.SUBMITTED):
            case.brand = locked
            case.acting_user = actor
            if CASE_MACHINE.allows("publish", case, relations):
                _apply(CASE_MACHINE, case, locked, "publish", actor, "", None, case=case)
    return locked


@transaction.atomic
def case_step(
    case: PracticeCase | int, name: str, actor, *, note: str = "", expected_version=None
) -> PracticeCase:
    locked = (
        PracticeCase.objects.select_for_update(of=("self",))
        .select_related("brand__owner__unit")
        .get(pk=getattr(case, "pk", case))
    )
    return _apply(CASE_MACHINE, locked, locked.brand, name, actor, note, expected_version, case=locked)
