"""Working-time arithmetic over the official calendar.

Deadlines in 接诉即办 count working days and working hours. The calendar knows a year when a
`CalendarYear` row exists (seeded from the `chinese-calendar` package, or entered by an admin when
the State Council publishes a new schedule); its `CalendarDay` rows are the exceptions to the
Monday-to-Friday rule (holidays on weekdays, 调休 make-up working weekends).

For a year the calendar does not know, arithmetic does not fail: it falls back to weekends-only and
every answer says which years were estimated (`CalendarAnswer.fallback_years`).

One working day is the length of the configured office hours (settings.CHANGXIN_OFFICE_HOURS,
default 09:00-12:00 and 13:00-17:00, i.e. 7 hours), so `add_working_time(t, days=1)` lands at the
same office time on the next working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

CACHE_VERSION_KEY = "changxin:workcalendar:version"
MAX_SPAN_DAYS = 366 * 20


@dataclass(frozen=True)
class CalendarAnswer:
    """A result and the years for which the calendar had to assume weekends-only."""

    value: object
    fallback_years: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_estimate(self) -> bool:
        return bool(self.fallback_years)


def _parse_hhmm(text: str) -> dt.time:
    hour, minute = text.strip().split(":")
    return dt.time(int(hour), int(minute))


def office_periods() -> list[tuple[dt.time, dt.time]]:
    periods = sorted((_parse_hhmm(a), _parse_hhmm(b)) for a, b in settings.CHANGXIN_OFFICE_HOURS)
    for start, end in periods:
        if not start < end:
            raise ValueError(f"office period {start}-{end} is empty")
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        if start < end:
            raise ValueError("office periods overlap")
    return periods


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def minutes_per_working_day() -> int:
    return sum(_minutes(b) - _minutes(a) for a, b in office_periods())


class WorkCalendar:
    """An in-memory snapshot of the calendar tables; cheap to query, rebuilt when they change."""

    def __init__(self, known_years: set[int], exceptions: dict[dt.date, bool]):
        self.known_years = frozenset(known_years)
        self.exceptions = exceptions
        self.periods = office_periods()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self._periods: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = {}

    @classmethod
    def from_database(cls) -> WorkCalendar:
        from changxin.core.models import CalendarDay, CalendarYear

        years = set(CalendarYear.objects.values_list("year", flat=True))
        days = dict(CalendarDay.objects.values_list("date", "is_workday"))
        return cls(years, days)

    def is_workday(self, day: dt.date, used: set[int] | None = None) -> bool:
        if day.year not in self.known_years:
            if used is not None:
                used.add(day.year)
            return day.weekday() < 5
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if timezone.is_naive(moment):
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def _day_periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        periods = self._periods.get(day)  # cached: an import computes deadlines for every row
        if periods is None:
            if len(self._periods) > 20_000:
                self._periods.clear()
            periods = self._periods[day] = [
                (dt.datetime.combine(day, a, self.tz), dt.datetime.combine(day, b, self.tz))
                for a, b in self.periods
            ]
        return periods

    def add_working_time(self, start: dt.datetime, *, days: float = 0, hours: float = 0) -> CalendarAnswer:
        if days < 0 or hours < 0:
            raise ValueError("working time to add must not be negative")
        # a working day is this calendar's office periods (read from settings once, in __init__)
        per_day = sum(_minutes(b) - _minutes(a) for a, b in self.periods) if days else 0
        remaining = dt.timedelta(minutes=days * per_day + hours * 60)
        cursor = self._local(start)
        used: set[int] = set()
        day = cursor.date()
        for _ in range(MAX_SPAN_DAYS):
            if self.is_workday(day, used):
                for begin, end in self._day_periods(day):
                    # Office periods are closed intervals: a moment at closing time is still inside,
                    # so adding nothing to it stays put and add(add(t, x), y) == add(t, x + y).
                    if end < cursor:
                        continue
                    begin = max(begin, cursor)
                    if remaining <= end - begin:
                        return CalendarAnswer(begin + remaining, frozenset(used))
                    remaining -= end - begin
                    cursor = end
            day += dt.timedelta(days=1)
        raise ValueError("working time too long to compute")

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> CalendarAnswer:
        """Working time from a to b (negative when b is before a)."""
        a, b = self._local(a), self._local(b)
        if b < a:
            answer = self.working_time_between(b, a)
            return CalendarAnswer(-answer.value, answer.fallback_years)
        used: set[int] = set()
        total = dt.timedelta(0)
        day = a.date()
        if (b.date() - day).days > MAX_SPAN_DAYS:
            raise ValueError("span too long to compute")
        while day <= b.date():
            if self.is_workday(day, used):
                for begin, end in self._day_periods(day):
                    lo, hi = max(begin, a), min(end, b)
                    if hi > lo:
                        total += hi - lo
            day += dt.timedelta(days=1)
        return CalendarAnswer(total, frozenset(used))

    def working_days_between(self, a: dt.datetime, b: dt.datetime) -> CalendarAnswer:
        answer = self.working_time_between(a, b)
        days = answer.value.total_seconds() / 60 / minutes_per_working_day()
        return CalendarAnswer(days, answer.fallback_years)


_snapshot: tuple[object, WorkCalendar] | None = None


def _fingerprint() -> tuple:
    """A cheap summary of the calendar tables (one query): any add, delete or edit changes it."""
    from django.db.models import Count, Max, Q

    from changxin.core.models import CalendarDay, CalendarYear

    years = CalendarYear.objects.aggregate(n=Count("year"), changed=Max("updated_at"))
    days = CalendarDay.objects.aggregate(
        n=Count("id"), last=Max("id"), workdays=Count("id", filter=Q(is_workday=True))
    )
    return (years["n"], years["changed"], days["n"], days["last"], days["workdays"])


def get_calendar() -> WorkCalendar:
    """The current calendar, kept per process and rebuilt when the tables change.

    The check is one aggregate query (the tables' fingerprint) instead of reloading every row, so
    deadline arithmetic inside every transition stays cheap; it also stays correct inside test
    transactions and right after an admin edit in another process.
    """
    global _snapshot
    key = (cache.get(CACHE_VERSION_KEY, 0), _fingerprint())
    if _snapshot is None or _snapshot[0] != key:
        _snapshot = (key, WorkCalendar.from_database())
    return _snapshot[1]


def calendar_changed() -> None:
    global _snapshot
    _snapshot = None
    try:
        cache.incr(CACHE_VERSION_KEY)
    except ValueError:
        cache.set(CACHE_VERSION_KEY, 1, None)


def add_working_time(start: dt.datetime, *, days: float = 0, hours: float = 0) -> CalendarAnswer:
    return get_calendar().add_working_time(start, days=days, hours=hours)


def working_time_between(a: dt.datetime, b: dt.datetime) -> CalendarAnswer:
    return get_calendar().working_time_between(a, b)


def working_days_between(a: dt.datetime, b: dt.datetime) -> CalendarAnswer:
    return get_calendar().working_days_between(a, b)


def is_workday(day: dt.date) -> bool:
    return get_calendar().is_workday(day)


@transaction.atomic
def seed_from_chinese_calendar(years: list[int] | None = None) -> list[int]:
    """Load the official schedule of every year the chinese-calendar package knows. Idempotent."""
    import chinese_calendar

    from changxin.core.models import CalendarDay, CalendarYear

    by_year: dict[int, dict[dt.date, tuple[bool, str]]] = {}
    for day, name in chinese_calendar.holidays.items():
        by_year.setdefault(day.year, {})[day] = (False, getattr(name, "value", str(name)).split(",")[-1])
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5:  # only 调休 weekends are exceptions worth storing
            by_year.setdefault(day.year, {})[day] = (True, getattr(name, "value", str(name)).split(",")[-1])
    loaded = []
    for year in sorted(by_year):
        if years and year not in years:
            continue
        cal_year, _ = CalendarYear.objects.get_or_create(
            year=year, defaults={"source": CalendarYear.Source.PACKAGE}
        )
        if cal_year.source != CalendarYear.Source.PACKAGE:
            continue  # an administrator's entry wins over the package
        for day, (is_workday, name) in by_year[year].items():
            CalendarDay.objects.update_or_create(
                date=day, defaults={"is_workday": is_workday, "name": name, "year": cal_year}
            )
        loaded.append(year)
    transaction.on_commit(calendar_changed)
    return loaded
