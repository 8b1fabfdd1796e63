"""Reads for the insight pages: who may see what, and the drill-down lists (always scoped)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, QuerySet
from django.http import Http404

from changxin.core import roles
from changxin.core.models import OrgUnit, UnitKind, User
from changxin.core.scope import get_visible_or_404, restrict
from changxin.demands.models import Demand
from changxin.demands.selectors import DemandFilter, list_demands
from changxin.insight.metrics import Period, demands_behind, first_contact_at
from changxin.insight.models import HotSpot


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


def latest_hot_spot_day() -> dt.date | None:
    """The day of the latest hot-spot run (reference data: which run the list shows)."""
    return HotSpot.objects.aggregate(day=Max("as_of"))["day"]


def hot_spots_visible_to(
    user: User, *, as_of: dt.date | None, rising_only: bool = False
) -> QuerySet[HotSpot]:
    """The hot spots of the run of `as_of` that `user` may see (a street's staff: their street's)."""
    spots = restrict(HotSpot.objects.filter(as_of=as_of), user).select_related("street", "category")
    return spots.filter(rising=True) if rising_only else spots


def get_hot_spot(user: User, pk: int) -> HotSpot:
    return get_visible_or_404(HotSpot.objects.select_related("street", "category"), user, pk=pk)


def hot_spot_demands(user: User, spot: HotSpot) -> QuerySet[Demand]:
    """The hot spot's demands that `user` may see, newest first."""
    return list_demands(user).filter(pk__in=spot.demands.values("pk")).order_by("-received_at", "-id")
