"""Every write of 先丰港. Each leaves an `EnterpriseEvent` (the wing's timeline) and an audit row.

Enterprise demands are ordinary demands: `file_enterprise_demand` calls
`demands.services.create_demand(channel=ENTERPRISE_PORTAL)` and stores the `EnterpriseDemand` link
in the same transaction; the platform then dispatches it to the enterprise's street and assigns the
lead task to the enterprise's service manager (both as SYSTEM, through `transition`), so the manager
is the first responder (ASSIGNEE) and the demand's deadlines, 三率 and rankings are the engine's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core import audit, roles
from changxin.core.models import AuditAction, User
from changxin.demands import services as demand_services
from changxin.demands.models import Channel, Demand, RequesterKind
from changxin.port.models import Enterprise, EnterpriseDemand, EnterpriseEvent, Visit

# fields an enterprise user fills on the portal (the rest comes from the enterprise)
DEMAND_FIELDS = ("demand_type", "title", "content", "category", "urgency")


def record_event(enterprise: Enterprise, actor: User | None, action: str, *, note="", at=None, **data):
    """One row of the enterprise's timeline."""
    return EnterpriseEvent.objects.create(
        enterprise=enterprise,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if getattr(actor, "is_authenticated", False) else "system")[:150],
        action=action,
        note=note,
        data=data,
    )


# --- registry ---------------------------------------------------------------------------------


def may_manage_registry(user) -> bool:
    """The district centre keeps the registry (admins and operators); managers edit their own
    enterprises' contacts in the admin later — not yet."""
    return roles.is_centre(user)


@transaction.atomic
def register_enterprise(data: dict[str, Any], *, actor: User | None, members=()) -> Enterprise:
    """A new enterprise, validated whole (the credit code by its check character)."""
    enterprise = Enterprise(**data)
    enterprise.full_clean(exclude=["public_code"])
    enterprise.save()
    if members:
        set_members(enterprise, members, actor=actor, record=False)
    record_event(enterprise, actor, "register", credit_code=enterprise.credit_code)
    audit.record(actor, AuditAction.CREATE, enterprise, detail="port.register")
    return enterprise


def set_members(enterprise: Enterprise, users, *, actor, record=True) -> None:
    users = list(users)
    wrong = [u.username for u in users if u.role != roles.Role.ENTERPRISE]
    if wrong:
        raise ValidationError(
            {"members": _("Only enterprise accounts can be members: %(names)s") % {"names": ", ".join(wrong)}}
        )
    enterprise.members.add(*users)
    if record:
        record_event(enterprise, actor, "members", added=[u.pk for u in users])
        audit.record(actor, AuditAction.UPDATE, enterprise, fields=["members"], detail="port.members")


@transaction.atomic
def assign_manager(enterprise: Enterprise, manager: User | None, *, actor) -> Enterprise:
    if manager is not None and manager.role != roles.Role.SERVICE_MANAGER:
        raise ValidationError({"manager": _("Choose a user with the service-manager role.")})
    previous = enterprise.manager_id
    enterprise.manager = manager
    enterprise.save(update_fields=["manager", "updated_at"])
    record_event(enterprise, actor, "assign_manager", previous=previous, manager=getattr(manager, "pk", None))
    audit.record(actor, AuditAction.UPDATE, enterprise, fields=["manager"], detail="port.assign_manager")
    return enterprise


# --- enterprise demands -------------------------------------------------------------------------


def may_file_for(user, enterprise: Enterprise) -> bool:
    """Only the enterprise's own accounts file demands in its name (and never read-only roles)."""
    return (
        roles.is_active(user)
        and user.role == roles.Role.ENTERPRISE
        and enterprise.is_active
        and enterprise.members.filter(pk=user.pk).exists()
    )


def file_enterprise_demand(
    enterprise: Enterprise,
    data: dict[str, Any],
    *,
    actor: User,
    token: str | None = None,
    visit: Visit | None = None,
    now: dt.datetime | None = None,
) -> tuple[Demand, bool]:
    """An enterprise demand: created through the engine (channel enterprise portal), linked to the
    enterprise, dispatched to its street and assigned to its service manager — one transaction.

    `actor`: an enterprise account of the enterprise, or (with `visit`) the service manager who
    recorded the need during a visit. Returns (demand, created); a repeated `token` returns the first.
    """
    if visit is None and not may_file_for(actor, enterprise):
        raise PermissionDenied(_("Only the enterprise's own accounts file demands for it."))
    if visit is not None and not may_record_visit(actor, enterprise):
        raise PermissionDenied(_("Only the enterprise's service manager records its visits."))
    fields = {k: v for k, v in data.items() if k in DEMAND_FIELDS and v not in (None, "")}
    fields.update(
        channel=Channel.ENTERPRISE_PORTAL,
        requester_kind=RequesterKind.ENTERPRISE,
        enterprise_name=enterprise.name,
        requester_name=(actor.full_name or actor.get_username())
        if visit is None
        else enterprise.contact_name or enterprise.name[:60],
        requester_phone=(actor.phone or enterprise.contact_phone)
        if visit is None
        else enterprise.contact_phone,
        street=enterprise.street,
        address=enterprise.address,
    )
    key = f"port:{token}" if token else None
    with transaction.atomic():
        demand, created = demand_services.create_demand(
            fields, actor=actor, idempotency_key=key, received_at=now
        )
        if not created:
            return demand, False
        EnterpriseDemand.objects.create(demand=demand, enterprise=enterprise, visit=visit)
        record_event(
            enterprise,
            actor,
            "demand_filed",
            demand=demand.pk,
            number=demand.number,
            visit=getattr(visit, "pk", None),
        )
        route_to_manager(demand, enterprise, now=now)
    demand.refresh_from_db()
    return demand, True


def route_to_manager(demand: Demand, enterprise: Enterprise, *, now: dt.datetime | None = None) -> None:
    """Dispatch to the enterprise's street and hand the lead task to its service manager (SYSTEM).
    Without a manager the street's staff handle it as any demand; the centre can still re-dispatch."""
    demand_services.transition(
        demand,
        "dispatch",
        None,
        now=now,
        lead_unit=enterprise.street_id,
        automatic=True,
        reasons=["enterprise_street"],
    )
    if enterprise.manager_id and enterprise.manager.is_active:
        demand_services.transition(demand, "assign", None, now=now, assignee=enterprise.manager_id)


# --- visits -------------------------------------------------------------------------------------


def may_record_visit(user, enterprise: Enterprise) -> bool:
    return roles.is_active(user) and not roles.is_read_only(user) and enterprise.manager_id == user.pk


@transaction.atomic
def record_visit(
    enterprise: Enterprise,
    *,
    actor: User,
    visited_on: dt.date,
    people_met: str,
    raised: str = "",
    need: dict[str, Any] | None = None,
) -> tuple[Visit, Demand | None]:
    """A visit record; a need raised during it (`need`: title, content, demand_type…) becomes an
    enterprise demand in the same step."""
    if not may_record_visit(actor, enterprise):
        raise PermissionDenied(_("Only the enterprise's service manager records its visits."))
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("A visit cannot be in the future.")})
    visit = Visit(
        enterprise=enterprise, visited_on=visited_on, visitor=actor, people_met=people_met, raised=raised
    )
    visit.full_clean()
    visit.save()
    record_event(enterprise, actor, "visit", visit=visit.pk, visited_on=visited_on.isoformat())
    audit.record(actor, AuditAction.CREATE, visit, detail="port.visit")
    demand = None
    if need:
        demand, _created = file_enterprise_demand(enterprise, need, actor=actor, visit=visit)
    return visit, demand
