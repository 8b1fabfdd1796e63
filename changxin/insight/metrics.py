"""三率: response, resolution and satisfaction rates and the weighted composite (RULES.md).

Definitions (one place; the ranking page, the drill-down lists, the Excel export and `changxin
rank` all read them from here):

Which demands a period holds (RULES.md "三率 decisions")
    A demand counts for a unit in the month that unit **received it as lead**: its dispatch, or the
    re-dispatch to it after an upheld dispute (Beijing time). Reopening (重办) does not move it.
    Not assessed at all: demands never dispatched (answered at intake), praise (表扬: recorded, not
    assessed), proactive governance tasks (主动治理: the platform's own, not a citizen's) and
    duplicates merged into a master demand (the master is counted, once).

Which unit a demand counts for
    The unit that holds it as lead unit (主办) now. A dispute upheld (退单 → 改派) moves the demand to
    the new unit (and to the month of the re-dispatch); for the disputing unit it then counts neither
    way. A dispute still pending or rejected leaves it with the original unit. Co-units and called-in
    departments are not scored (their task on-time rate is shown beside the ranking).
    `rates_for_unit(unit)` counts demands led by the unit **or any unit below it**: demands are only
    dispatched to streets/towns, departments and companies, which have no dispatchable units below
    them, so for every ranked unit this is exactly the unit; for the district it is the total.

响应率 = responded on time ÷ dispatched
    Responded on time: the lead unit's first contact with the requester after the demand was
    (re-)dispatched to it was within the contact deadline (the `on_time` the contact event
    recorded). Reopening (重办) does not reset it: response uses the first contact.
    Not yet due: a demand not yet contacted whose contact deadline is still ahead is left out of the
    denominator until the deadline passes.
解决率 = (已解决 + partly credit × 部分解决) ÷ demands with a resolution answer
满意率 = (满意 + basic credit × 基本满意) ÷ demands with a satisfaction answer
    Unrated (未评价: unreachable) is not in the satisfaction denominator. A rating excluded as
    unreasonable removes the demand from both the resolution and the satisfaction figures.
    A reopened demand has no answer until its next return visit (the latest answer counts).
Composite = weighted sum of the three rates with the month's `RankingWeights`; never rescaled: a unit
    without all three rates has no composite. A unit with fewer than CHANGXIN_RANKING_MIN_DEMANDS
    demands, or without a resolution or a satisfaction answer, is shown apart and not ranked.

Closed months (`snapshots.py`): once a month is closed its figures are read from the stored
snapshot, never recomputed.

Counting and listing share one annotated queryset (`assessed_demands`) and one condition per
figure (`CONDITIONS`), so a figure and the list behind it always agree.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import params
from changxin.core.dbrouter import read_alias
from changxin.core.models import OrgUnit
from changxin.demands.models import (
    Demand,
    DemandType,
    RankingSnapshot,
    RankingWeights,
    Resolution,
    Satisfaction,
    State,
)
from changxin.demands.selectors import unscoped_demands

RESPONSE, RESOLUTION, SATISFACTION = "response", "resolution", "satisfaction"
METRICS = {
    RESPONSE: _("Response rate"),
    RESOLUTION: _("Resolution rate"),
    SATISFACTION: _("Satisfaction rate"),
}
ASSIGN_ACTIONS = ("dispatch", "redispatch")
RESOLUTION_ANSWERS = (Resolution.RESOLVED, Resolution.PARTLY, Resolution.UNRESOLVED)
SATISFACTION_ANSWERS = (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED)

_rated = Q(satisfaction__in=SATISFACTION_ANSWERS, rating_excluded=False)
_answered = Q(resolution__in=RESOLUTION_ANSWERS, rating_excluded=False)
_due = Q(m_not_yet_due=False)

# (metric, part) → the condition on `assessed_demands()` rows. Every figure is a count of one of these.
CONDITIONS: dict[tuple[str, str], Q] = {
    (RESPONSE, "all"): Q(pk__isnull=False),
    (RESPONSE, "denominator"): _due,
    (RESPONSE, "numerator"): _due & Q(m_responded=True),
    (RESPONSE, "missed"): _due & Q(m_responded=False),
    (RESPONSE, "not_yet_due"): Q(m_not_yet_due=True),
    (RESOLUTION, "denominator"): _answered,
    (RESOLUTION, "numerator"): _answered & Q(resolution__in=(Resolution.RESOLVED, Resolution.PARTLY)),
    (RESOLUTION, "resolved"): _answered & Q(resolution=Resolution.RESOLVED),
    (RESOLUTION, "partly"): _answered & Q(resolution=Resolution.PARTLY),
    (RESOLUTION, "unresolved"): _answered & Q(resolution=Resolution.UNRESOLVED),
    (SATISFACTION, "denominator"): _rated,
    (SATISFACTION, "numerator"): _rated & Q(satisfaction__in=(Satisfaction.SATISFIED, Satisfaction.BASIC)),
    (SATISFACTION, "satisfied"): _rated & Q(satisfaction=Satisfaction.SATISFIED),
    (SATISFACTION, "basic"): _rated & Q(satisfaction=Satisfaction.BASIC),
    (SATISFACTION, "dissatisfied"): _rated & Q(satisfaction=Satisfaction.DISSATISFIED),
    (SATISFACTION, "unrated"): Q(satisfaction=Satisfaction.UNRATED),
    (SATISFACTION, "excluded"): Q(rating_excluded=True),
}
PART_LABELS = {
    "all": _("all assessed demands"),
    "not_yet_due": _("not contacted yet, not yet due"),
    "denominator": _("denominator"),
    "numerator": _("numerator"),
    "missed": _("not contacted in time"),
    "resolved": _("resolved"),
    "partly": _("partly resolved"),
    "unresolved": _("unresolved"),
    "satisfied": _("satisfied"),
    "basic": _("basically satisfied"),
    "dissatisfied": _("dissatisfied"),
    "unrated": _("not rated"),
    "excluded": _("rating excluded"),
}


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end) in aware datetimes."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def month(cls, month: dt.date) -> Period:
        tz = timezone.get_default_timezone()
        first = month.replace(day=1)
        following = add_months(first, 1)
        return cls(
            dt.datetime.combine(first, dt.time.min, tz), dt.datetime.combine(following, dt.time.min, tz)
        )

    @classmethod
    def days(cls, start: dt.date, end: dt.date) -> Period:
        """The calendar days start … end-1 (end exclusive)."""
        tz = timezone.get_default_timezone()
        return cls(dt.datetime.combine(start, dt.time.min, tz), dt.datetime.combine(end, dt.time.min, tz))


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None, default: dt.date | None = None) -> dt.date:
    """'2025-03' → date(2025, 3, 1); anything unparsable or outside 2000–2100 → `default` (this month)."""
    return params.parse_month(text) or default or timezone.localdate().replace(day=1)


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


# --- weights -------------------------------------------------------------------------------------


def default_weights(month: dt.date) -> RankingWeights:
    """Unsaved weights from settings.CHANGXIN_RANKING_DEFAULTS (what the periodic job stores)."""
    defaults = {k: Decimal(str(v)) for k, v in settings.CHANGXIN_RANKING_DEFAULTS.items()}
    return RankingWeights(month=month.replace(day=1), **defaults)


def weights_for_month(month: dt.date) -> RankingWeights:
    """The month's frozen weights. Reading never writes: a month the job has not opened (the
    future, or before the platform ran) reads the defaults, unsaved."""
    month = month.replace(day=1)
    return RankingWeights.objects.filter(month=month).first() or default_weights(month)


def open_month(month: dt.date) -> RankingWeights:
    """Fix the month's weights (the periodic job, when the month opens): idempotent."""
    weights = default_weights(month)
    weights.full_clean(validate_unique=False)
    stored, _created = RankingWeights.objects.get_or_create(
        month=weights.month,
        defaults={f: getattr(weights, f) for f in settings.CHANGXIN_RANKING_DEFAULTS},
    )
    return stored


# --- the one query -------------------------------------------------------------------------------


def assessed_demands(
    period: Period, queryset: QuerySet[Demand] | None = None, now: dt.datetime | None = None
) -> QuerySet[Demand]:
    """Assessed demands their lead unit received in `period`, with the aliases `m_responded`,
    `m_not_yet_due` and `m_first_contact_at` (the first contact of the round, kept across 重办).

    The round is stored on the demand by the transition service from the events it writes
    (`lead_assigned_at`: the last dispatch or re-dispatch; `lead_first_contact_at` and `…_on_time`:
    the first contact at or after it and the `on_time` its event recorded), so this is one range of
    `demand_lead_assigned_idx` and no subquery per demand (docs/PERFORMANCE.md)."""
    demands = unscoped_demands() if queryset is None else queryset
    now = now or timezone.now()
    # The first contact after the final (re-)dispatch, judged by the `on_time` its event recorded.
    by_events = Q(lead_first_contact_on_time=True)
    # Shortcut, exact for demands never reopened: the row then still holds that contact and deadline
    # (contact is possible once per assignment, and only reopening starts a second round).
    by_row = ExpressionWrapper(
        Q(contacted_at__isnull=False) & (Q(contact_due__isnull=True) | Q(contacted_at__lte=F("contact_due"))),
        output_field=BooleanField(),
    )
    # Not yet due: no contact in this round and the contact deadline still ahead.
    not_yet_due = ExpressionWrapper(
        Q(contact_due__gt=now)
        & Q(contacted_at__isnull=True)
        & (Q(reopen_count=0) | Q(lead_first_contact_at__isnull=True)),
        output_field=BooleanField(),
    )
    return (
        demands.filter(
            lead_assigned_at__gte=period.start,
            lead_assigned_at__lt=period.end,
            lead_unit__isnull=False,
            master__isnull=True,
        )
        .exclude(demand_type__in=(DemandType.PRAISE, DemandType.PROACTIVE))
        .exclude(state=State.MERGED)
        .alias(m_first_contact_at=F("lead_first_contact_at"))
        .alias(
            m_responded=Case(
                When(reopen_count=0, then=by_row),
                default=ExpressionWrapper(by_events, output_field=BooleanField()),
                output_field=BooleanField(),
            )
        )
        .alias(m_not_yet_due=not_yet_due)
    )


def first_contact_at(queryset: QuerySet[Demand]) -> QuerySet[Demand]:
    """Annotate `first_contact_at`: the first contact after the lead unit received the demand (as
    the events recorded it; stored on the demand), so a reopened demand (重办) still shows its first
    round's contact."""
    return queryset.annotate(first_contact_at=F("lead_first_contact_at"))


def _for_unit(demands: QuerySet[Demand], unit: OrgUnit | None) -> QuerySet[Demand]:
    return demands if unit is None else demands.filter(lead_unit__path__startswith=unit.path)


def demands_behind(
    period: Period, metric: str, part: str, unit: OrgUnit | None = None, queryset=None
) -> QuerySet[Demand]:
    """The demands a figure counts (the drill-down list). Raises KeyError for an unknown figure."""
    condition = CONDITIONS[(metric, part)]
    return _for_unit(assessed_demands(period, queryset), unit).filter(condition)


# --- counting ------------------------------------------------------------------------------------

COUNTED = {
    "demands": (RESPONSE, "all"),
    "not_yet_due": (RESPONSE, "not_yet_due"),
    "dispatched": (RESPONSE, "denominator"),
    "responded": (RESPONSE, "numerator"),
    "resolution_answers": (RESOLUTION, "denominator"),
    "resolved": (RESOLUTION, "resolved"),
    "partly": (RESOLUTION, "partly"),
    "unresolved": (RESOLUTION, "unresolved"),
    "satisfaction_answers": (SATISFACTION, "denominator"),
    "satisfied": (SATISFACTION, "satisfied"),
    "basic": (SATISFACTION, "basic"),
    "dissatisfied": (SATISFACTION, "dissatisfied"),
    "unrated": (SATISFACTION, "unrated"),
    "excluded": (SATISFACTION, "excluded"),
}


@contextmanager
def _aggregate_session():
    """PostgreSQL's JIT compiles this query for seconds (the never-run event subqueries inflate its
    cost estimate) to save milliseconds; switch it off for the transaction that aggregates."""
    alias = read_alias()  # the replica inside replica_reads() (core/dbrouter.py): the same session
    if connections[alias].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def _aggregates() -> dict:
    return {name: Count("pk", filter=CONDITIONS[key]) for name, key in COUNTED.items()}


def _ratio(numerator: Decimal, denominator: int) -> Decimal | None:
    return numerator / Decimal(denominator) if denominator else None


@dataclass
class UnitRates:
    """Counts, numerators, denominators and rates (fractions 0…1, Decimal) of one unit and period."""

    unit_id: int | None
    weights: RankingWeights
    demands: int = 0
    not_yet_due: int = 0
    dispatched: int = 0
    responded: int = 0
    resolution_answers: int = 0
    resolved: int = 0
    partly: int = 0
    unresolved: int = 0
    satisfaction_answers: int = 0
    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0
    unrated: int = 0
    excluded: int = 0
    unit: OrgUnit | None = field(default=None, repr=False)

    @property
    def response_numerator(self) -> Decimal:
        return Decimal(self.responded)

    @property
    def resolution_numerator(self) -> Decimal:
        return self.resolved + self.weights.partly_resolved_credit * self.partly

    @property
    def satisfaction_numerator(self) -> Decimal:
        return self.satisfied + self.weights.basic_satisfied_credit * self.basic

    @property
    def response_rate(self) -> Decimal | None:
        return _ratio(self.response_numerator, self.dispatched)

    @property
    def resolution_rate(self) -> Decimal | None:
        return _ratio(self.resolution_numerator, self.resolution_answers)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return _ratio(self.satisfaction_numerator, self.satisfaction_answers)

    @property
    def composite(self) -> Decimal | None:
        """The weighted sum of the three rates; None unless all three exist (never rescaled)."""
        parts = [
            (self.weights.response_weight, self.response_rate),
            (self.weights.resolution_weight, self.resolution_rate),
            (self.weights.satisfaction_weight, self.satisfaction_rate),
        ]
        if any(rate is None for _w, rate in parts):
            return None
        return sum((w * r for w, r in parts), Decimal(0))

    @property
    def rankable(self) -> bool:
        """Enough to rank: at least CHANGXIN_RANKING_MIN_DEMANDS demands, a resolution and a
        satisfaction answer (RULES.md "Too few to rank")."""
        return (
            self.demands >= settings.CHANGXIN_RANKING_MIN_DEMANDS
            and self.resolution_answers > 0
            and self.satisfaction_answers > 0
            and self.composite is not None
        )

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTED}

    def rate(self, metric: str) -> Decimal | None:
        return getattr(self, f"{metric}_rate")

    def numerator(self, metric: str) -> Decimal:
        return getattr(self, f"{metric}_numerator")

    def denominator(self, metric: str) -> int:
        return {
            RESPONSE: self.dispatched,
            RESOLUTION: self.resolution_answers,
            SATISFACTION: self.satisfaction_answers,
        }[metric]


def rates_by_unit(
    period: Period, weights: RankingWeights, queryset=None, now: dt.datetime | None = None
) -> dict[int, UnitRates]:
    """One GROUP BY lead unit query: {unit id: UnitRates} for every unit with assessed demands."""
    with _aggregate_session():
        rows = list(
            assessed_demands(period, queryset, now)
            .order_by()
            .values("lead_unit_id")
            .annotate(**_aggregates())
        )
    return {
        row["lead_unit_id"]: UnitRates(
            unit_id=row["lead_unit_id"], weights=weights, **{k: row[k] for k in COUNTED}
        )
        for row in rows
    }


def rates_for_unit(unit: OrgUnit | None, period: Period, weights: RankingWeights | None = None) -> UnitRates:
    """The rates of `unit` and everything below it (None: the whole district) in `period`."""
    weights = weights or weights_for_month(period.start.date())
    with _aggregate_session():
        row = _for_unit(assessed_demands(period), unit).order_by().aggregate(**_aggregates())
    return UnitRates(unit_id=unit.pk if unit else None, weights=weights, unit=unit, **row)


def monthly_trend(unit: OrgUnit, last_month: dt.date, months: int = 12) -> list[tuple[dt.date, UnitRates]]:
    """The unit's rates for each of the `months` months ending with `last_month` (oldest first)."""
    result = []
    for offset in range(months - 1, -1, -1):
        month = add_months(last_month, -offset)
        if month > this_month():
            continue
        stored = _stored_rates(unit, month)
        if stored is not None:
            result.append((month, stored))
            continue
        result.append((month, rates_for_unit(unit, Period.month(month), weights_for_month(month))))
    return result


def _stored_rates(unit: OrgUnit, month: dt.date) -> UnitRates | None:
    """The unit's figures from the month's snapshot once the month is closed."""
    snapshot = RankingSnapshot.objects.select_related("weights").filter(month=month).first()
    if snapshot is None:
        return None
    row = next((r for r in snapshot.rows if r["unit"] == unit.pk), {})
    counts = {k: row.get(k, 0) for k in COUNTED}
    return UnitRates(unit_id=unit.pk, weights=snapshot.weights, unit=unit, **counts)


def task_on_time_by_unit(period: Period, now: dt.datetime | None = None) -> dict[int, tuple[int, int]]:
    """Co-unit and called-in tasks (not scored in 三率; shown beside the ranking), per unit, of the
    tasks given in `period`: {unit id: (done on time, due)}. A task is due once done or past its
    due time; a withdrawn task counts neither way."""
    from changxin.demands.models import DemandTask, TaskRole, TaskState

    now = now or timezone.now()
    tasks = DemandTask.objects.filter(
        role__in=[TaskRole.CO, TaskRole.WHISTLE], assigned_at__gte=period.start, assigned_at__lt=period.end
    ).exclude(state=TaskState.WITHDRAWN)
    due = Q(state=TaskState.DONE) | Q(due_at__lt=now)
    on_time = Q(state=TaskState.DONE) & (Q(due_at__isnull=True) | Q(done_at__lte=F("due_at")))
    rows = (
        tasks.order_by()
        .values("unit_id")
        .annotate(due=Count("pk", filter=due), on_time=Count("pk", filter=on_time))
        .values_list("unit_id", "on_time", "due")
    )
    return {unit_id: (ok, total) for unit_id, ok, total in rows if total}


def rates_of_demands(
    queryset: QuerySet[Demand], period: Period, weights: RankingWeights | None = None
) -> UnitRates:
    """The 三率 of the demands in `queryset` (e.g. one area's, or one category's) assessed in `period`,
    by the same rules as a unit's (a brand's practice case shows these for its area)."""
    weights = weights or weights_for_month(period.start.date())
    with _aggregate_session():
        row = assessed_demands(period, queryset).order_by().aggregate(**_aggregates())
    return UnitRates(unit_id=None, weights=weights, **row)
