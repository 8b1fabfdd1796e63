"""Pre-aggregates behind the dashboards (docs/DASHBOARDS.md "Aggregates").

`DailyDemandCount`: the demands *received* on a day (Beijing time) counted per lead unit × street ×
top-level category × channel × type. The counts describe the demands as they are now (a demand
received on 3 March and replied on 9 March counts as closed in 3 March's row), so a day's rows
change whenever one of its demands changes; the events subscriber (`insight/subscribers.py`, every
demand action, start="beginning" so imports and history count) marks the demand's day dirty and
`refresh()` (a job queued on commit, and the periodic `insight.refresh_aggregates` every minute)
rebuilds each dirty day with one GROUP BY over that day's demands. `rebuild()` rebuilds any range
(`changxin insight aggregates --rebuild`).

Definitions (`raw_counts()` is the same thing computed from the demand table, for the tests):
    received            every demand received that day (merged duplicates included)
    open                state is one of OPEN_STATES
    closed              replied, visited or archived
    contacted           has a first contact (contacted_at)
    contacted_on_time   contacted_at ≤ contact_due (or no contact deadline)
    finished_on_time    replied_at ≤ finish_due (or no finish deadline)
    finished_late       replied_at > finish_due
    rated               a satisfaction answer (satisfied, basic, dissatisfied), rating not excluded
    satisfied           satisfied or basically satisfied, rating not excluded
    dissatisfied        dissatisfied, rating not excluded

Narrower tables rebuilt from the same cells: `DistrictDailySlice` / `UnitDailySlice` (per day and
dimension, read through `Figures`); per month, the enterprise demands (`rebuild_enterprise`).
Overdue open demands depend on the clock, not on events: the every-minute job recounts them
(`refresh_overdue`). 三率 use their own definition (the month of dispatch, the contact event's
on_time) and are cached per month in `RankingCache`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from changxin.core import roles
from changxin.core.scope import restrict
from changxin.demands.models import CLOSED_STATES, OPEN_STATES, Category, Satisfaction, State
from changxin.demands.selectors import unscoped_demands
from changxin.insight.models import (
    AggregateDirtyDay,
    DailyDemandCount,
    DistrictDailySlice,
    EnterpriseMonthCount,
    EnterpriseUnitMonthCount,
    OverdueCount,
    RankingCache,
    UnitDailySlice,
)

COUNTS = (
    "received",
    "open",
    "closed",
    "contacted",
    "contacted_on_time",
    "finished_on_time",
    "finished_late",
    "rated",
    "satisfied",
    "dissatisfied",
)
KEYS = ("lead_unit_id", "street_id", "category_id", "channel", "demand_type")
_DONE = [s for s in CLOSED_STATES if s != State.MERGED]
_RATED = Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED])
CONDITIONS: dict[str, Q] = {
    "received": Q(pk__isnull=False),
    "open": Q(state__in=OPEN_STATES),
    "closed": Q(state__in=_DONE),
    "contacted": Q(contacted_at__isnull=False),
    "contacted_on_time": Q(contacted_at__isnull=False)
    & (Q(contact_due__isnull=True) | Q(contacted_at__lte=F("contact_due"))),
    "finished_on_time": Q(replied_at__isnull=False)
    & (Q(finish_due__isnull=True) | Q(replied_at__lte=F("finish_due"))),
    "finished_late": Q(replied_at__isnull=False, finish_due__isnull=False, replied_at__gt=F("finish_due")),
    "rated": _RATED & Q(rating_excluded=False),
    "satisfied": Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC], rating_excluded=False),
    "dissatisfied": Q(satisfaction=Satisfaction.DISSATISFIED, rating_excluded=False),
}


def _tz():
    return timezone.get_default_timezone()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first 00:00, last+1 00:00) in Beijing time."""
    tz = _tz()
    return dt.datetime.combine(first, dt.time.min, tz), dt.datetime.combine(
        last + dt.timedelta(days=1), dt.time.min, tz
    )


def top_categories() -> dict[int, int]:
    """{category id: its top-level ancestor's id} for the whole (small) taxonomy."""
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    tops = {}
    for pk in parents:
        node = pk
        while parents.get(node) is not None:
            node = parents[node]
        tops[pk] = node
    return tops


def _grouped(first: dt.date, last: dt.date, demands=None) -> dict[tuple, dict[str, int]]:
    """{(day, lead unit, street, top category, channel, type): counts} of the demands received
    between `first` and `last` (inclusive), from the demand table."""
    start, end = day_bounds(first, last)
    demands = unscoped_demands() if demands is None else demands
    rows = (
        demands.filter(received_at__gte=start, received_at__lt=end)
        .order_by()
        .annotate(day=TruncDate("received_at", tzinfo=_tz()))
        .values("day", *KEYS)
        .annotate(**{name: Count("pk", filter=q) for name, q in CONDITIONS.items()})
    )
    tops = top_categories()
    cells: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for row in rows:
        category = tops.get(row["category_id"]) if row["category_id"] else None
        key = (
            row["day"],
            row["lead_unit_id"],
            row["street_id"],
            category,
            row["channel"],
            row["demand_type"],
        )
        cell = cells[key]
        for name in COUNTS:
            cell[name] += row[name]
    return cells


_DIMENSION_INDEX = {"channel": 4, "demand_type": 5, "category_id": 3, "street_id": 2}


def _slices(cells: dict[tuple, dict[str, int]]) -> tuple[list, list]:
    """The district's and each lead unit's slices (`SliceCounts`) of `_grouped`'s cells: per day,
    the total and the sums per channel, type, top category and street. A demand without a lead unit
    is in the district's slices only (no unit's staff count it, as `lead_scope` says)."""
    district: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    units: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for key, counts in cells.items():
        day, lead = key[0], key[1]
        slots = [("total", "")] + [
            (name, "" if key[i] is None else str(key[i])) for name, i in _DIMENSION_INDEX.items()
        ]
        for dimension, value in slots:
            targets = [district[(day, dimension, value)]]
            if lead is not None:
                targets.append(units[(day, lead, dimension, value)])
            for target in targets:
                for name in COUNTS:
                    target[name] += counts[name]
    return (
        [DistrictDailySlice(day=d, dimension=dim, key=k, **c) for (d, dim, k), c in district.items()],
        [
            UnitDailySlice(day=d, lead_unit_id=u, dimension=dim, key=k, **c)
            for (d, u, dim, k), c in units.items()
        ],
    )


def rebuild(first: dt.date, last: dt.date, *, chunk_days: int = 31) -> int:
    """Replace the rows of every day from `first` to `last` with counts from the demand table.
    Returns the number of rows written. Idempotent."""
    written = 0
    day = first
    while day <= last:
        until = min(last, day + dt.timedelta(days=chunk_days - 1))
        cells = _grouped(day, until)
        rows = [
            DailyDemandCount(
                day=key[0],
                lead_unit_id=key[1],
                street_id=key[2],
                category_id=key[3],
                channel=key[4],
                demand_type=key[5],
                **counts,
            )
            for key, counts in cells.items()
        ]
        district, units = _slices(cells)
        with transaction.atomic():
            for model in (DailyDemandCount, DistrictDailySlice, UnitDailySlice):
                model.objects.filter(day__gte=day, day__lte=until).delete()
            DailyDemandCount.objects.bulk_create(rows, batch_size=2000)
            DistrictDailySlice.objects.bulk_create(district, batch_size=2000)
            UnitDailySlice.objects.bulk_create(units, batch_size=2000)
        written += len(rows)
        day = until + dt.timedelta(days=1)
    return written


def rebuild_all() -> int:
    """Every day that has demands (and drop rows of days that have none), and every month's
    enterprise counts."""
    span = unscoped_demands().order_by().aggregate(first=Min("received_at"), last=Max("received_at"))
    daily = (DailyDemandCount, DistrictDailySlice, UnitDailySlice)
    if span["first"] is None:
        for model in (*daily, EnterpriseMonthCount, EnterpriseUnitMonthCount):
            model.objects.all().delete()
        return 0
    first = timezone.localtime(span["first"]).date()
    last = timezone.localtime(span["last"]).date()
    for model in daily:
        model.objects.exclude(day__gte=first, day__lte=last).delete()
    written = rebuild(first, last)
    months = _months(first, last)
    for model in (EnterpriseMonthCount, EnterpriseUnitMonthCount):
        model.objects.exclude(month__in=months).delete()
    for month in months:
        rebuild_enterprise(month)
    return written


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    from changxin.insight.metrics import add_months

    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


# --- enterprise demands (先丰港), per month ---------------------------------------------------------


def _enterprise_links(demands=None):
    from changxin.port.models import EnterpriseDemand

    links = EnterpriseDemand.objects.all()
    if demands is not None:
        links = links.filter(demand__in=demands)
    return links.order_by()


def _enterprise_counts() -> dict[str, Count]:
    """port.selectors.enterprise_demand_ranking's counts, over EnterpriseDemand rows."""
    done = Q(demand__state__in=[State.REPLIED, State.VISITED, State.ARCHIVED])
    return {
        "total": Count("pk"),
        "done": Count("pk", filter=done),
        "on_time": Count("pk", filter=done & Q(demand__replied_at__lte=F("demand__finish_due"))),
        "rated": Count(
            "pk",
            filter=Q(
                demand__satisfaction__in=[
                    Satisfaction.SATISFIED,
                    Satisfaction.BASIC,
                    Satisfaction.DISSATISFIED,
                ]
            )
            & Q(demand__rating_excluded=False),
        ),
        "satisfied": Count(
            "pk",
            filter=Q(demand__satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC])
            & Q(demand__rating_excluded=False),
        ),
    }


ENTERPRISE_COUNTS = ("total", "done", "on_time", "rated", "satisfied")


def rebuild_enterprise(month: dt.date) -> int:
    """Replace `month`'s enterprise counts (demands received in it) from the link and demand tables."""
    from changxin.insight.metrics import add_months

    month = month.replace(day=1)
    start, end = day_bounds(month, add_months(month, 1) - dt.timedelta(days=1))
    links = _enterprise_links().filter(demand__received_at__gte=start, demand__received_at__lt=end)
    # one grouped query per month; the per-lead-unit rows are sums of it
    by_enterprise, units = [], defaultdict(lambda: dict.fromkeys(ENTERPRISE_COUNTS, 0))
    for row in links.values("enterprise", "demand__lead_unit").annotate(**_enterprise_counts()):
        enterprise, lead = row.pop("enterprise"), row.pop("demand__lead_unit")
        by_enterprise.append(
            EnterpriseMonthCount(month=month, enterprise_id=enterprise, lead_unit_id=lead, **row)
        )
        for name in ENTERPRISE_COUNTS:
            units[lead][name] += row[name]
    by_unit = [EnterpriseUnitMonthCount(month=month, lead_unit_id=lead, **c) for lead, c in units.items()]
    with transaction.atomic():
        EnterpriseMonthCount.objects.filter(month=month).delete()
        EnterpriseUnitMonthCount.objects.filter(month=month).delete()
        EnterpriseMonthCount.objects.bulk_create(by_enterprise, batch_size=2000)
        EnterpriseUnitMonthCount.objects.bulk_create(by_unit, batch_size=2000)
    return len(by_enterprise) + len(by_unit)


def _enterprise_rows(rows, key: str, label: str) -> list[dict]:
    """Rows shaped and sorted as port.selectors.enterprise_demand_ranking returns them."""
    return _shaped(
        rows.values(key, label).annotate(**{name: Sum(name) for name in ENTERPRISE_COUNTS}), key, label
    )


def links_ranking(links, *, by: str = "manager") -> list[dict]:
    """port's ranking over a given set of enterprise-demand links, from the raw tables (a service
    manager's board: the links of the enterprises they manage, a few hundred a month)."""
    key, label = (
        ("enterprise__manager", "enterprise__manager__full_name")
        if by == "manager"
        else ("demand__lead_unit", "demand__lead_unit__name")
    )
    return _shaped(links.order_by().values(key, label).annotate(**_enterprise_counts()), key, label)


def _shaped(grouped, key: str, label: str) -> list[dict]:
    out = []
    for row in grouped:
        if row[key] is None:
            continue
        total, done, on_time, rated, satisfied = (row[n] or 0 for n in ENTERPRISE_COUNTS)
        out.append(
            {
                "key": row[key],
                "name": row[label] or "—",
                "total": total,
                "done": done,
                "on_time": on_time,
                "on_time_rate": round(100 * on_time / done, 1) if done else None,
                "rated": rated,
                "satisfaction_rate": round(100 * satisfied / rated, 1) if rated else None,
            }
        )
    out.sort(
        key=lambda r: (-(r["satisfaction_rate"] or 0), -(r["on_time_rate"] or 0), -r["total"], r["name"])
    )
    return out


def enterprise_ranking(since_month: dt.date, *, by: str = "manager", manager=None) -> list[dict]:
    """Enterprise demands received since `since_month` per service manager (the enterprise's
    current one) or per lead unit, from the monthly counts: the district's (what
    port.selectors.enterprise_demand_ranking(a district-wide user, by=…, since=…) returns), or with
    `manager` those of the enterprises that user manages (`links_ranking` over their links)."""
    if manager is not None:
        rows = EnterpriseMonthCount.objects.filter(month__gte=since_month, enterprise__manager=manager)
    elif by == "manager":
        rows = EnterpriseMonthCount.objects.filter(month__gte=since_month)
    else:
        rows = EnterpriseUnitMonthCount.objects.filter(month__gte=since_month)
    if by == "manager":
        return _enterprise_rows(rows.order_by(), "enterprise__manager", "enterprise__manager__full_name")
    return _enterprise_rows(rows.order_by(), "lead_unit", "lead_unit__name")


def enterprise_total(since_month: dt.date, *, manager=None) -> int:
    """Enterprise demands received since `since_month`: the district's, or of `manager`'s enterprises."""
    if manager is not None:
        rows = EnterpriseMonthCount.objects.filter(month__gte=since_month, enterprise__manager=manager)
    else:
        rows = EnterpriseUnitMonthCount.objects.filter(month__gte=since_month)
    return rows.order_by().aggregate(n=Sum("total"))["n"] or 0


# --- refreshing from events ----------------------------------------------------------------------


def mark_dirty(days: Iterable[dt.date], now: dt.datetime | None = None) -> bool:
    """Mark days for rebuilding and the live ranking caches stale. True when anything was newly
    marked (the caller then queues a refresh; otherwise one is pending already)."""
    now = now or timezone.now()
    newly = False
    for day in set(days):
        updated = AggregateDirtyDay.objects.filter(day=day).update(marked_at=now)
        if not updated:
            _row, created = AggregateDirtyDay.objects.get_or_create(day=day, defaults={"marked_at": now})
            newly = newly or created
    newly = bool(RankingCache.objects.filter(stale=False).update(stale=True)) or newly
    return newly


def refresh() -> dict:
    """Rebuild every dirty day; a day marked again while it was rebuilt stays dirty for the next run."""
    done = 0
    months = set()
    for row in list(AggregateDirtyDay.objects.order_by("day")):
        rebuild(row.day, row.day)
        months.add(row.day.replace(day=1))
        AggregateDirtyDay.objects.filter(pk=row.pk, marked_at=row.marked_at).delete()
        done += 1
    for month in sorted(months):
        rebuild_enterprise(month)
    return {"days": done, "enterprise_months": len(months)}


# --- reading ------------------------------------------------------------------------------------


def counts_for(user, first: dt.date, last: dt.date, *, street=None):
    """The viewer's rows between two days (inclusive), optionally of one street."""
    rows = restrict(DailyDemandCount.objects.all(), user).filter(day__gte=first, day__lte=last)
    if street is not None:
        rows = rows.filter(street=street)
    return rows.order_by()


def totals(rows) -> dict[str, int]:
    result = rows.aggregate(**{name: Sum(name) for name in COUNTS})
    return {name: result[name] or 0 for name in COUNTS}


def totals_by(rows, field: str) -> dict:
    """{value of `field`: counts} over `rows`."""
    out = {}
    for row in rows.values(field).annotate(**{name: Sum(name) for name in COUNTS}):
        out[row[field]] = {name: row[name] or 0 for name in COUNTS}
    return out


class Figures:
    """The demand counts a board shows to `user` between two days (inclusive), optionally of one
    street: `totals()` and `by(field)` (a field of KEYS except lead_unit_id, or "day"). Reads the
    narrowest table that answers: the district's slices for the district-wide roles, the lead
    units' slices for a unit's staff, the full daily table for one street."""

    def __init__(self, user, first: dt.date, last: dt.date, *, street=None):
        self.user, self.first, self.last, self.street = user, first, last, street

    def _slices(self):
        if roles.is_district_wide(self.user):
            rows = DistrictDailySlice.objects.all()
        else:
            rows = restrict(UnitDailySlice.objects.all(), self.user)
        return rows.filter(day__gte=self.first, day__lte=self.last).order_by()

    def totals(self) -> dict[str, int]:
        if self.street is not None:
            return totals(counts_for(self.user, self.first, self.last, street=self.street))
        return totals(self._slices().filter(dimension="total"))

    def by(self, field: str) -> dict:
        if self.street is not None:
            return totals_by(counts_for(self.user, self.first, self.last, street=self.street), field)
        if field == "day":
            return totals_by(self._slices().filter(dimension="total"), "day")
        found = totals_by(self._slices().filter(dimension=field), "key")
        if field in ("category_id", "street_id"):
            return {(int(k) if k else None): v for k, v in found.items()}
        return found


def lead_scope(demands, user):
    """Demands whose lead unit the viewer covers: the scope every aggregate-backed figure uses (a
    co-unit's task or a service manager's enterprises do not move a demand into these counts)."""
    if roles.is_district_wide(user):
        return demands
    if roles.works_in_unit(user):
        return demands.filter(lead_unit__path__startswith=user.unit.path)
    return demands.none()


# --- the same from the demand table (for tests and the benchmark's check) -----------------------


def raw_counts(user, first: dt.date, last: dt.date, *, by: str | None = None, street=None):
    """What `totals`/`totals_by` over the aggregate must equal, computed from the demand table with
    the same scope (lead unit in the viewer's subtree). `by`: a field of KEYS, "day" or None."""
    demands = lead_scope(unscoped_demands(), user)
    if street is not None:
        demands = demands.filter(street=street)
    if by is None:
        return _sum_cells(_grouped(first, last, demands).values())
    index = {"day": 0, "lead_unit_id": 1, "street_id": 2, "category_id": 3, "channel": 4, "demand_type": 5}[
        by
    ]
    out: dict = defaultdict(list)
    for key, counts in _grouped(first, last, demands).items():
        out[key[index]].append(counts)
    return {k: _sum_cells(v) for k, v in out.items()}


def _sum_cells(cells) -> dict[str, int]:
    total = dict.fromkeys(COUNTS, 0)
    for cell in cells:
        for name in COUNTS:
            total[name] += cell[name]
    return total


# --- overdue open demands, recomputed every minute ------------------------------------------------

OVERDUE_MAX_AGE = dt.timedelta(minutes=3)  # older (the job stopped), or another `now`: counted live


def overdue_grouped(demands, now: dt.datetime, *, by=("lead_unit",)):
    """{(values of `by`…): (total, contact overdue, finish overdue)} of the open demands overdue at
    `now` among `demands`: the live query."""
    from changxin.demands import deadlines

    contact_late = Q(contacted_at__isnull=True, contact_due__lt=now)
    rows = (
        deadlines.list_overdue(demands.order_by(), now)
        .values(*by)
        .annotate(
            n=Count("pk"),
            contact=Count("pk", filter=contact_late),
            finish=Count("pk", filter=Q(finish_due__lt=now)),
        )
    )
    return {tuple(row[f] for f in by): (row["n"], row["contact"], row["finish"]) for row in rows}


def refresh_overdue(now: dt.datetime | None = None) -> int:
    """Replace `OverdueCount` with the counts at `now` (per lead unit × street) and a run marker."""
    now = now or timezone.now()
    grouped = overdue_grouped(unscoped_demands(), now, by=("lead_unit", "street"))
    rows = [
        OverdueCount(computed_at=now, lead_unit_id=lead, street_id=street, total=n, contact=c, finish=f)
        for (lead, street), (n, c, f) in grouped.items()
    ]
    rows.append(OverdueCount(computed_at=now))
    with transaction.atomic():
        OverdueCount.objects.all().delete()
        OverdueCount.objects.bulk_create(rows, batch_size=2000)
    return len(rows) - 1


def overdue_by_unit(user, now: dt.datetime, *, street=None) -> dict:
    """{lead unit id: (total, contact, finish)} of the overdue demands `user` counts (lead unit in
    their subtree), optionally located in one street: from `OverdueCount` when it was computed
    within OVERDUE_MAX_AGE before `now`, else live."""
    marker = OverdueCount.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    if marker is None or not (now - OVERDUE_MAX_AGE <= marker <= now):
        demands = lead_scope(unscoped_demands(), user)
        if street is not None:
            demands = demands.filter(street=street)
        return {key[0]: counts for key, counts in overdue_grouped(demands, now).items()}
    rows = (
        OverdueCount.objects.all()
        if roles.is_district_wide(user)
        else restrict(OverdueCount.objects.all(), user)
    )
    rows = rows.filter(computed_at=marker).exclude(total=0)
    if street is not None:
        rows = rows.filter(street=street)
    summed = rows.order_by().values("lead_unit").annotate(n=Sum("total"), c=Sum("contact"), f=Sum("finish"))
    return {row["lead_unit"]: (row["n"], row["c"], row["f"]) for row in summed}


# --- the live month's ranking, cached -------------------------------------------------------------

RANKING_MAX_AGE = dt.timedelta(minutes=10)  # "not yet due" moves with the clock: recompute this often


def _store_ranking(month: dt.date, now: dt.datetime | None = None) -> RankingCache:
    from changxin.insight.rankings import live_rankings

    now = now or timezone.now()
    rankings = live_rankings(month, now=now)
    rows = [
        {
            "unit": row.unit.pk,
            "group": group,
            "rank": row.rank,
            "tasks": list(row.tasks) if row.tasks else None,
            **row.rates.counts(),
        }
        for group, ranking in rankings.items()
        for row in ranking.rows
    ]
    cache, _created = RankingCache.objects.update_or_create(
        month=month, defaults={"computed_at": now, "stale": False, "rows": rows}
    )
    return cache


def cached_rankings(month: dt.date, groups=None):
    """Rankings for `month` as `rankings.monthly_rankings` returns them, without recomputing on
    every view: a closed month from its snapshot, a live month from `RankingCache` (computed here
    when missing; kept fresh by `refresh_rankings`)."""
    from changxin.core.models import OrgUnit, RankingGroup
    from changxin.demands.models import RankingSnapshot
    from changxin.insight.metrics import COUNTED, UnitRates, weights_for_month
    from changxin.insight.rankings import Ranking, RankingRow, stored_rankings

    month = month.replace(day=1)
    snapshot = RankingSnapshot.objects.select_related("weights").filter(month=month).first()
    if snapshot is not None:
        return stored_rankings(snapshot, groups)
    cache = RankingCache.objects.filter(month=month).first() or _store_ranking(month)
    weights = weights_for_month(month)
    groups = list(groups or RankingGroup.values)
    stored = [row for row in cache.rows if row["group"] in groups]
    units = OrgUnit.objects.in_bulk([row["unit"] for row in stored])
    by_group: dict[str, list] = {group: [] for group in groups}
    for row in stored:
        unit = units.get(row["unit"])
        if unit is None:
            continue
        rates = UnitRates(unit_id=unit.pk, weights=weights, unit=unit, **{k: row.get(k, 0) for k in COUNTED})
        by_group[row["group"]].append(
            RankingRow(
                unit=unit, rates=rates, rank=row["rank"], tasks=tuple(row["tasks"]) if row["tasks"] else None
            )
        )
    for rows in by_group.values():
        rows.sort(key=lambda r: (r.rank is None, r.rank or 0, not r.rates.demands, r.unit.code))
    return {group: Ranking(month, group, weights, rows) for group, rows in by_group.items()}


def refresh_rankings(now: dt.datetime | None = None) -> int:
    """Recompute the cached live months that are stale or older than RANKING_MAX_AGE; drop the
    caches of months that now have a snapshot. Returns how many were recomputed."""
    from changxin.demands.models import RankingSnapshot

    now = now or timezone.now()
    RankingCache.objects.filter(month__in=RankingSnapshot.objects.values("month")).delete()
    due = RankingCache.objects.filter(Q(stale=True) | Q(computed_at__lt=now - RANKING_MAX_AGE))
    months = list(due.values_list("month", flat=True))
    for month in months:
        _store_ranking(month, now)
    return len(months)
