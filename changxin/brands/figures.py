"""The results of a practice case and the brand matrix, from the platform's own data.

A case's results are never typed in: they are the demands of its area (street/town or
community/village, and its demand category with everything below it, if it names one) received in
the case's period, against the same number of days just before it, with the 三率 of those demands
by the ranking's own rules (insight/metrics.py). A period still running is counted up to today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.brands.models import Brand, BrandField, BrandState, PracticeCase
from changxin.core import roles
from changxin.core.models import OrgUnit
from changxin.demands.models import State
from changxin.demands.selectors import unscoped_demands
from changxin.insight import metrics


@dataclass(frozen=True)
class Window:
    first: dt.date  # first day
    last: dt.date  # last day (included)
    demands: int
    rates: metrics.UnitRates

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class CaseResults:
    before: Window
    during: Window

    @property
    def windows(self) -> list[tuple[str, Window]]:
        return [
            (str(_("The same number of days before")), self.before),
            (str(_("During the case")), self.during),
        ]

    @property
    def change(self) -> float | None:
        """The change in demands during the case against the days before it, as a fraction."""
        if not self.before.demands:
            return None
        return (self.during.demands - self.before.demands) / self.before.demands


def area_demands(case: PracticeCase):
    demands = unscoped_demands().exclude(state=State.MERGED).filter(master__isnull=True)
    if case.area.kind in roles.COMMUNITY_KINDS:
        demands = demands.filter(community=case.area)
    else:
        demands = demands.filter(street=case.area)
    if case.category_id:
        c = case.category_id
        demands = demands.filter(
            Q(category_id=c) | Q(category__parent_id=c) | Q(category__parent__parent_id=c)
        )
    return demands


def _window(demands, first: dt.date, last: dt.date) -> Window:
    period = metrics.Period.days(first, last + dt.timedelta(days=1))
    count = demands.filter(received_at__gte=period.start, received_at__lt=period.end).count()
    return Window(first, last, count, metrics.rates_of_demands(demands, period))


def case_results(case: PracticeCase, today: dt.date | None = None) -> CaseResults | None:
    """Before/during figures of `case`; None while its period has not begun."""
    today = today or timezone.localdate()
    if case.starts_on > today:
        return None
    last = min(case.ends_on, today)
    days = (last - case.starts_on).days + 1
    demands = area_demands(case)
    before_last = case.starts_on - dt.timedelta(days=1)
    return CaseResults(
        before=_window(demands, before_last - dt.timedelta(days=days - 1), before_last),
        during=_window(demands, case.starts_on, last),
    )


@dataclass(frozen=True)
class Matrix:
    fields: list[tuple[str, str]]  # (value, label)
    streets: list[OrgUnit]
    cells: dict[tuple[str, int], int]  # (field, street id) → published brands
    cases: dict[tuple[str, int], int]  # (field, street id) → published cases

    def count(self, field: str, street_id: int) -> int:
        return self.cells.get((field, street_id), 0)

    def rows(self):
        """One row per field: (value, label, [count per street], total)."""
        for value, label in self.fields:
            counts = [self.count(value, s.pk) for s in self.streets]
            yield value, label, counts, sum(counts)

    def street_totals(self) -> list[int]:
        return [sum(self.count(v, s.pk) for v, _label in self.fields) for s in self.streets]


def matrix() -> Matrix:
    """Published brands per field × street/town (the 多点 matrix; public figures, no scope)."""
    streets = list(OrgUnit.objects.filter(kind__in=roles.STREET_LEVEL_KINDS, is_active=True).order_by("code"))
    published = Brand.objects.filter(state=BrandState.PUBLISHED)
    cells = {
        (f, s): n
        for f, s, n in published.order_by()
        .values("field", "street_id")
        .annotate(n=Count("pk"))
        .values_list("field", "street_id", "n")
    }
    cases = {
        (f, s): n
        for f, s, n in PracticeCase.objects.filter(
            state=BrandState.PUBLISHED, brand__state=BrandState.PUBLISHED
        )
        .order_by()
        .values("brand__field", "brand__street_id")
        .annotate(n=Count("pk"))
        .values_list("brand__field", "brand__street_id", "n")
    }
    return Matrix([(v, str(label)) for v, label in BrandField.choices], streets, cells, cases)
