"""四类排名: monthly rankings by group (streets, towns, departments, public-service companies).

Order within a group: composite score, then satisfaction rate, resolution rate, response rate
(higher first), then the number of demands dispatched (more work first). Units equal on all of
these share a rank (1, 2, 2, 4). Units with no assessed demand in the month are listed after the
ranked ones, without a rank.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from changxin.core.models import KIND_RANKING_GROUP, OrgUnit, RankingGroup
from changxin.demands.models import RankingWeights
from changxin.insight.metrics import Period, UnitRates, rates_by_unit, weights_for_month

GROUP_KINDS = {
    group: [kind for kind, g in KIND_RANKING_GROUP.items() if g == group] for group in RankingGroup
}


@dataclass
class RankingRow:
    unit: OrgUnit
    rates: UnitRates
    rank: int | None = None


@dataclass
class Ranking:
    month: dt.date
    group: str
    weights: RankingWeights
    rows: list[RankingRow]

    @property
    def label(self) -> str:
        return RankingGroup(self.group).label

    @property
    def ranked(self) -> list[RankingRow]:
        return [row for row in self.rows if row.rank is not None]


def _key(rates: UnitRates) -> tuple:
    def value(x: Decimal | None) -> Decimal:
        return x if x is not None else Decimal(-1)

    return (
        value(rates.composite),
        value(rates.satisfaction_rate),
        value(rates.resolution_rate),
        value(rates.response_rate),
        rates.dispatched,
    )


def rank_rows(rows: list[RankingRow]) -> list[RankingRow]:
    ranked = sorted(
        (r for r in rows if r.rates.composite is not None),
        key=lambda r: (tuple(-v for v in _key(r.rates)), r.unit.code),
    )
    previous = None
    for position, row in enumerate(ranked, start=1):
        key = _key(row.rates)
        row.rank = previous[1] if previous and previous[0] == key else position
        previous = (key, row.rank)
    unranked = sorted((r for r in rows if r.rates.composite is None), key=lambda r: r.unit.code)
    for row in unranked:
        row.rank = None
    return ranked + unranked


def monthly_rankings(month: dt.date, groups=None) -> dict[str, Ranking]:
    """All groups' rankings for `month` from one aggregate query. Keys: RankingGroup values."""
    month = month.replace(day=1)
    weights = weights_for_month(month)
    rates = rates_by_unit(Period.month(month), weights)
    groups = list(groups or RankingGroup.values)
    kinds = [kind for group in groups for kind in GROUP_KINDS[group]]
    units = OrgUnit.objects.filter(kind__in=kinds).filter(is_active=True) | OrgUnit.objects.filter(
        kind__in=kinds, pk__in=list(rates)
    )
    by_group: dict[str, list[RankingRow]] = {group: [] for group in groups}
    for unit in units.order_by("path"):
        unit_rates = rates.get(unit.pk) or UnitRates(unit_id=unit.pk, weights=weights)
        unit_rates.unit = unit
        by_group[unit.ranking_group].append(RankingRow(unit=unit, rates=unit_rates))
    return {group: Ranking(month, group, weights, rank_rows(rows)) for group, rows in by_group.items()}


def monthly_ranking(month: dt.date, group: str) -> Ranking:
    return monthly_rankings(month, [group])[group]
