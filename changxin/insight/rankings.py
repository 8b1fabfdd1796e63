"""四类排名: monthly rankings by group (streets, towns, departments, public-service companies).

RULES.md "三率 decisions":
- Ranked: units with enough to rank (`UnitRates.rankable`: at least CHANGXIN_RANKING_MIN_DEMANDS
  demands, a resolution and a satisfaction answer). The others are shown apart with their figures,
  not ranked; a composite is never rescaled over the rates that exist.
- Ties: composite, then satisfaction, resolution, response (higher first), then more demands first;
  units still equal share a rank (1, 2, 2, 4).
- A closed month is read from its stored snapshot (`snapshots.py`), never recomputed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from changxin.core.models import KIND_RANKING_GROUP, OrgUnit, RankingGroup
from changxin.demands.models import RankingSnapshot, RankingWeights
from changxin.insight.metrics import Period, UnitRates, rates_by_unit, task_on_time_by_unit, weights_for_month

GROUP_KINDS = {
    group: [kind for kind, g in KIND_RANKING_GROUP.items() if g == group] for group in RankingGroup
}


@dataclass
class RankingRow:
    unit: OrgUnit
    rates: UnitRates
    rank: int | None = None
    tasks: tuple[int, int] | None = None  # co-unit/called-in tasks (on time, due): shown, not scored


@dataclass
class Ranking:
    month: dt.date
    group: str
    weights: RankingWeights
    rows: list[RankingRow]
    snapshot: RankingSnapshot | None = None

    @property
    def label(self) -> str:
        return RankingGroup(self.group).label

    @property
    def ranked(self) -> list[RankingRow]:
        return [row for row in self.rows if row.rank is not None]

    @property
    def apart(self) -> list[RankingRow]:
        """Units with demands in the month but too few to rank: shown apart with their figures."""
        return [row for row in self.rows if row.rank is None and row.rates.demands]

    @property
    def idle(self) -> list[RankingRow]:
        """Units with no assessed demand in the month."""
        return [row for row in self.rows if row.rank is None and not row.rates.demands]

    @property
    def closed(self) -> bool:
        return self.snapshot is not None


def _key(rates: UnitRates) -> tuple:
    def value(x: Decimal | None) -> Decimal:
        return x if x is not None else Decimal(-1)

    return (
        value(rates.composite),
        value(rates.satisfaction_rate),
        value(rates.resolution_rate),
        value(rates.response_rate),
        rates.demands,
    )


def rank_rows(rows: list[RankingRow]) -> list[RankingRow]:
    ranked = sorted(
        (r for r in rows if r.rates.rankable),
        key=lambda r: (tuple(-v for v in _key(r.rates)), r.unit.code),
    )
    previous = None
    for position, row in enumerate(ranked, start=1):
        key = _key(row.rates)
        row.rank = previous[1] if previous and previous[0] == key else position
        previous = (key, row.rank)
    unranked = sorted(
        (r for r in rows if not r.rates.rankable), key=lambda r: (not r.rates.demands, r.unit.code)
    )
    for row in unranked:
        row.rank = None
    return ranked + unranked


def _units(kinds, with_figures) -> list[OrgUnit]:
    units = OrgUnit.objects.filter(kind__in=kinds).filter(is_active=True) | OrgUnit.objects.filter(
        kind__in=kinds, pk__in=list(with_figures)
    )
    return list(units.order_by("path"))


def live_rankings(month: dt.date, groups=None, now: dt.datetime | None = None) -> dict[str, Ranking]:
    """All groups' rankings for `month` computed from the demands now (one aggregate query)."""
    month = month.replace(day=1)
    weights = weights_for_month(month)
    rates = rates_by_unit(Period.month(month), weights, now=now)
    tasks = task_on_time_by_unit(Period.month(month), now=now)
    groups = list(groups or RankingGroup.values)
    kinds = [kind for group in groups for kind in GROUP_KINDS[group]]
    by_group: dict[str, list[RankingRow]] = {group: [] for group in groups}
    for unit in _units(kinds, rates):
        unit_rates = rates.get(unit.pk) or UnitRates(unit_id=unit.pk, weights=weights)
        unit_rates.unit = unit
        row = RankingRow(unit=unit, rates=unit_rates, tasks=tasks.get(unit.pk))
        by_group[unit.ranking_group].append(row)
    return {group: Ranking(month, group, weights, rank_rows(rows)) for group, rows in by_group.items()}


def stored_rankings(snapshot: RankingSnapshot, groups=None) -> dict[str, Ranking]:
    """A closed month's rankings exactly as stored."""
    from changxin.insight.metrics import COUNTED

    weights = snapshot.weights
    groups = list(groups or RankingGroup.values)
    stored = {row["unit"]: row for row in snapshot.rows if row["group"] in groups}
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=list(stored))}
    by_group: dict[str, list[RankingRow]] = {group: [] for group in groups}
    for pk, row in stored.items():
        unit = units.get(pk)
        if unit is None:
            continue
        rates = UnitRates(unit_id=pk, weights=weights, unit=unit, **{k: row.get(k, 0) for k in COUNTED})
        stored_tasks = tuple(row["tasks"]) if row.get("tasks") else None
        by_group[row["group"]].append(
            RankingRow(unit=unit, rates=rates, rank=row["rank"], tasks=stored_tasks)
        )
    for rows in by_group.values():
        rows.sort(key=lambda r: (r.rank is None, r.rank or 0, not r.rates.demands, r.unit.code))
    return {
        group: Ranking(snapshot.month, group, weights, rows, snapshot) for group, rows in by_group.items()
    }


def monthly_rankings(month: dt.date, groups=None) -> dict[str, Ranking]:
    """All groups' rankings for `month`: the stored snapshot once the month is closed, else live.
    Keys: RankingGroup values."""
    snapshot = RankingSnapshot.objects.select_related("weights").filter(month=month.replace(day=1)).first()
    if snapshot is not None:
        return stored_rankings(snapshot, groups)
    return live_rankings(month, groups)


def monthly_ranking(month: dt.date, group: str) -> Ranking:
    return monthly_rankings(month, [group])[group]
