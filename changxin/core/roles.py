"""Who is who: the roles, the kinds of unit, and the predicates every screen, API, admin and
service asks. One module, used everywhere; `core/tests/test_conventions.py` fails on a copy.

    from changxin.core import roles

    if roles.is_centre(request.user): ...            # the district 接诉即办 centre
    if roles.covers(user, demand.lead_unit): ...      # the unit lies in the user's subtree
    OrgUnit.objects.filter(kind__in=roles.DISPATCHABLE_KINDS)

This module imports nothing of the project, so models, scope and migrations can all use it
(`changxin.core.models` re-exports `Role` and `UnitKind`). Predicates accept any user object,
anonymous users and None included, and answer False for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from changxin.core.models import OrgUnit, User


class UnitKind(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street (街道)")
    TOWN = "town", _("Town (乡镇)")
    COMMUNITY = "community", _("Community (社区)")
    VILLAGE = "village", _("Village (村)")
    DEPARTMENT = "department", _("District department (委办局)")
    COMPANY = "company", _("Public-service company")
    CENTRE = "centre", _("Hotline centre (接诉即办中心)")
    OTHER = "other", _("Other unit")


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    ENTERPRISE = "enterprise", _("Enterprise user")
    OPERATOR = "operator", _("Operator / dispatcher")
    OFFICER = "officer", _("Unit officer")
    LEADER = "leader", _("Unit leader")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    INSPECTOR = "inspector", _("Inspector")
    PARTY_STAFF = "party_staff", _("Party-organisation staff")
    ADMIN = "admin", _("District administrator")
    LEADERSHIP = "leadership", _("District leadership (read-only)")


# --- role sets -----------------------------------------------------------------------------------

# Roles that work inside a unit and see that unit's subtree.
UNIT_ROLES = frozenset({Role.OFFICER, Role.LEADER, Role.SERVICE_MANAGER, Role.INSPECTOR, Role.PARTY_STAFF})
# Roles that see the whole district.
DISTRICT_ROLES = frozenset({Role.OPERATOR, Role.ADMIN, Role.LEADERSHIP})
# Roles that only ever see their own records.
PUBLIC_ROLES = frozenset({Role.CITIZEN, Role.ENTERPRISE})
# The district 接诉即办 centre: takes calls, dispatches, decides disputes and extensions.
CENTRE_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
# Unit staff who handle demands (acknowledge, contact, reply) for their unit.
UNIT_STAFF_ROLES = frozenset({Role.OFFICER, Role.LEADER})
# Roles that read everything they see and change nothing.
READ_ONLY_ROLES = frozenset({Role.LEADERSHIP})
# who a lead unit may hand its task to in person (the ASSIGNEE of the demand workflow)
ASSIGNABLE_ROLES = frozenset({Role.OFFICER, Role.LEADER, Role.SERVICE_MANAGER})
ALL_ROLES = frozenset(Role)

# --- unit-kind sets (tuples in the order of UnitKind: stable in queries and migrations) -----------

STREET_LEVEL_KINDS = (UnitKind.STREET, UnitKind.TOWN)  # 街道 and 乡镇
COMMUNITY_KINDS = (UnitKind.COMMUNITY, UnitKind.VILLAGE)  # 社区 and 村
PLACE_KINDS = STREET_LEVEL_KINDS + COMMUNITY_KINDS  # where a demand happens
WHISTLE_KINDS = (UnitKind.DEPARTMENT, UnitKind.COMPANY)  # called in by a street (吹哨报到)
DISPATCHABLE_KINDS = STREET_LEVEL_KINDS + WHISTLE_KINDS  # may lead or co-handle a demand
RANKED_KINDS = DISPATCHABLE_KINDS  # 四类排名: streets, towns, departments, companies


# --- predicates ----------------------------------------------------------------------------------


def _role(user) -> str | None:
    return getattr(user, "role", None)


def is_active(user) -> bool:
    """A logged-in, active account."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff_side(user: User | None) -> bool:
    """Anyone working for the district (every role but citizens and enterprises), and superusers."""
    return is_active(user) and (user.is_superuser or _role(user) not in PUBLIC_ROLES)


def is_public(user: User | None) -> bool:
    """A citizen or an enterprise user: sees only their own records."""
    return is_active(user) and not user.is_superuser and _role(user) in PUBLIC_ROLES


def is_centre(user: User | None) -> bool:
    """The district 接诉即办 centre: operators/dispatchers, district administrators, superusers."""
    return is_active(user) and (user.is_superuser or _role(user) in CENTRE_ROLES)


def is_district_admin(user: User | None) -> bool:
    """District administrators and superusers: the only ones who add, change and delete in the admin."""
    return is_active(user) and (user.is_superuser or _role(user) == Role.ADMIN)


def is_district_wide(user: User | None) -> bool:
    """Sees the whole district: the centre, district leadership, superusers."""
    return is_active(user) and (user.is_superuser or _role(user) in DISTRICT_ROLES)


def is_read_only(user: User | None) -> bool:
    """District leadership: reads everywhere, writes nowhere."""
    return _role(user) in READ_ONLY_ROLES


def works_in_unit(user: User | None) -> bool:
    """A unit role (officer, leader, service manager, inspector, party staff) attached to a unit:
    sees that unit's subtree and has a workbench."""
    return is_active(user) and _role(user) in UNIT_ROLES and bool(user.unit_id)


def is_unit_staff(user: User | None) -> bool:
    """An officer or leader of a unit: handles the demands and tasks of that unit's subtree."""
    return is_active(user) and _role(user) in UNIT_STAFF_ROLES and bool(user.unit_id)


def is_unit_leader(user: User | None) -> bool:
    """A unit leader: approves what the unit's officers send out when the unit has a review step."""
    return is_unit_staff(user) and _role(user) == Role.LEADER


def covers(user: User | None, unit: OrgUnit | None) -> bool:
    """`unit` lies in the subtree of the user's unit (the unit itself included)."""
    return bool(user is not None and getattr(user, "unit_id", None) and unit is not None) and (
        user.unit.is_ancestor_of(unit)
    )


def may_see_insight(user: User | None) -> bool:
    """Rankings and dashboards are published to every staff role; the public has its own pages."""
    return is_staff_side(user)


def works_at_community_level(user: User | None) -> bool:
    """Staff of a community or village (社区/村): community workers and grid workers (网格员)."""
    unit = getattr(user, "unit", None) if getattr(user, "unit_id", None) else None
    return is_active(user) and unit is not None and unit.kind in COMMUNITY_KINDS


def may_inspect(user: User | None) -> bool:
    """May be named as an inspector (执法人员) of an enterprise inspection (一码检查): an active
    inspector of a unit above community level. Grid workers, community workers and volunteers never
    may (RULES.md, Enterprises): community-level staff are refused by their unit, volunteers hold no
    staff role. The law-enforcement certificate valid on the day is checked by the port wing."""
    return (
        is_active(user)
        and _role(user) == Role.INSPECTOR
        and bool(user.unit_id)
        and not works_at_community_level(user)
    )
