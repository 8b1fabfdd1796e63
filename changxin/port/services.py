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
        reasons=[
            _("Enterprise demand: to the street of %(name)s, for its service manager")
            % {"name": enterprise.name}
        ],
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


# --- investment projects ------------------------------------------------------------------------

STAGE_DATES = {"signed": "signed_on", "started": "started_on", "completed": "completed_on"}


def project_relations(user, project) -> set[str]:
    from changxin.port.workflow import CENTRE, MANAGER

    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    relations = set()
    if roles.is_centre(user):
        relations.add(CENTRE)
    if project.manager_id and project.manager_id == user.pk:
        relations.add(MANAGER)
    return relations


def project_actions(user, project, *, with_reason: bool = False):
    """The moves to offer: without a reason only the next stage (the guard), with one every move
    the table allows this user."""
    from changxin.port.workflow import PROJECT

    relations = project_relations(user, project)
    if with_reason:
        return PROJECT.offered_by_table(project.stage, relations)
    project.pending_reason = ""
    return PROJECT.available(project, relations)


def _project_event(project, actor, action, from_stage, to_stage, *, note="", at=None, **data):
    from changxin.core import events as bus
    from changxin.port.models import ProjectEvent

    event = ProjectEvent.objects.create(
        project=project,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if getattr(actor, "is_authenticated", False) else "system")[:150],
        action=action,
        from_stage=from_stage,
        to_stage=to_stage,
        note=note,
        data=data,
    )
    bus.publish("projects", event)
    return event


@transaction.atomic
def register_project(data: dict[str, Any], *, actor, at: dt.datetime | None = None):
    from changxin.port.models import Project, Stage

    if (
        actor is not None
        and not roles.is_centre(actor)
        and getattr(actor, "role", None) != roles.Role.SERVICE_MANAGER
    ):
        raise PermissionDenied(_("Only the centre and service managers register projects."))
    at = at or timezone.now()
    project = Project(**data, stage=Stage.RESERVE, reserved_on=timezone.localdate(at))
    project.full_clean()
    project.save()
    _project_event(project, actor, "register", "", Stage.RESERVE, at=at, amount=str(project.amount))
    audit.record(actor, AuditAction.CREATE, project, detail="port.project")
    return project


def move_project(
    project, name: str, actor, *, note: str = "", now: dt.datetime | None = None, expected_version=None
):
    """Apply a stage move of the project machine (row lock, guards, stage dates, event, audit)."""
    from changxin.core.workflow import WorkflowError
    from changxin.port.models import STAGE_ORDER, Project
    from changxin.port.workflow import PROJECT

    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if expected_version is not None and locked.version != int(expected_version):
            raise WorkflowError(
                "stale", _("Someone else changed this project a moment ago. Reload it and try again.")
            )
        locked.pending_reason = note
        step = PROJECT.check(name, locked, project_relations(actor, locked), now)
        from_stage, to_stage = locked.stage, step.target
        changed = {"stage", "version", "updated_at"}
        locked.stage = to_stage
        day = timezone.localdate(now)
        for stage, field in STAGE_DATES.items():
            if STAGE_ORDER.index(stage) > STAGE_ORDER.index(to_stage) and getattr(locked, field):
                setattr(locked, field, None)  # moved back: the later stage has not happened (yet)
                changed.add(field)
        if to_stage in STAGE_DATES:
            setattr(locked, STAGE_DATES[to_stage], day)
            changed.add(STAGE_DATES[to_stage])
        locked.version += 1
        locked.save(update_fields=sorted(changed))
        skipped = STAGE_ORDER.index(to_stage) - STAGE_ORDER.index(from_stage)
        _project_event(
            locked,
            actor,
            name,
            from_stage,
            to_stage,
            note=note,
            at=now,
            kind="next" if skipped == 1 else ("skip" if skipped > 1 else "back"),
        )
        audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {from_stage} → {to_stage}")
    project.refresh_from_db()
    return locked


# --- 一卡三包 --------------------------------------------------------------------------------------


def may_manage_packages(user, enterprise: Enterprise) -> bool:
    """The enterprise's service manager and the centre keep its packages."""
    return (
        roles.is_active(user)
        and not roles.is_read_only(user)
        and (
            roles.is_centre(user) or (enterprise.manager_id is not None and enterprise.manager_id == user.pk)
        )
    )


@transaction.atomic
def give_standard_package(enterprise: Enterprise, *, actor, titles) -> int:
    """The standard items every package enterprise gets (idempotent: existing titles are kept)."""
    from changxin.port.models import PackageItem, PackageKind

    have = set(enterprise.package_items.filter(kind=PackageKind.STANDARD).values_list("title", flat=True))
    new = [
        PackageItem(enterprise=enterprise, kind=PackageKind.STANDARD, title=t)
        for t in titles
        if t not in have
    ]
    PackageItem.objects.bulk_create(new)
    if new:
        record_event(enterprise, actor, "standard_package", titles=[i.title for i in new])
        audit.record(actor, AuditAction.CREATE, enterprise, detail=f"port.standard_package: {len(new)}")
    return len(new)


@transaction.atomic
def add_package_item(enterprise: Enterprise, data: dict[str, Any], *, actor):
    from changxin.port.models import PackageItem

    if not may_manage_packages(actor, enterprise):
        raise PermissionDenied(_("Only the enterprise's service manager and the centre keep its packages."))
    item = PackageItem(enterprise=enterprise, **data)
    item.full_clean()
    item.save()
    record_event(enterprise, actor, "package_item", item=item.pk, kind=item.kind, title=item.title)
    audit.record(actor, AuditAction.CREATE, item, detail="port.package_item")
    return item


@transaction.atomic
def set_package_status(item, status: str, *, actor, note: str = ""):
    from changxin.port.models import PackageItem, PackageStatus

    if not may_manage_packages(actor, item.enterprise):
        raise PermissionDenied(_("Only the enterprise's service manager and the centre keep its packages."))
    if status not in PackageStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    locked = PackageItem.objects.select_for_update().get(pk=item.pk)
    previous = locked.status
    if previous == status:
        return locked
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    record_event(
        locked.enterprise,
        actor,
        "package_status",
        note=note,
        item=locked.pk,
        previous=previous,
        status=status,
    )
    audit.record(actor, AuditAction.STATE, locked, detail=f"package: {previous} → {status}")
    item.refresh_from_db()
    return locked


def may_see_contacts(user, enterprise: Enterprise) -> bool:
    """Contacts unmasked for those who need them: the service manager, the enterprise's own
    accounts and the centre. Leadership and others see them masked."""
    return (
        enterprise.manager_id == user.pk
        or roles.is_centre(user)
        or (user.role == roles.Role.ENTERPRISE and enterprise.members.filter(pk=user.pk).exists())
    )
