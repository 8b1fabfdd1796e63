"""Reads for the insight pages: who may see what, and the drill-down lists (always scoped)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from changxin.core import roles
from changxin.core.models import OrgUnit, UnitKind, User
from changxin.demands.models import Demand
from changxin.demands.selectors import DemandFilter, list_demands
from changxin.insight.metrics import Period, demands_behind, first_contact_at


def may_drill_fully(user: User, unit: OrgUnit | None) -> bool:
    """Whether every demand behind `unit`'s figures is in the user's scope (district roles, own subtree)."""
    return roles.is_district_wide(user) or roles.covers(user, unit)


def get_assessed_unit(code: str) -> OrgUnit:
    """A unit whose figures are published: a ranked unit or the district. The org tree's names are
    reference data (published with the rankings); the demands behind the figures stay scoped."""
    unit = OrgUnit.objects.filter(code=code, kind__in=(*roles.RANKED_KINDS, UnitKind.DISTRICT)).first()
    if unit is None:
        raise Http404("unit")
    return unit


def drill_demands(
    user: User, flt: DemandFilter, *, period: Period, metric: str, part: str, unit: OrgUnit | None
) -> QuerySet[Demand]:
    """The demands behind one figure that `user` may see, narrowed by the list filters."""
    behind = demands_behind(period, metric, part, unit)
    return first_contact_at(list_demands(user, flt).filter(pk__in=behind.values("pk")))
