"""Dashboard figures, every one scoped to the viewer (`list_demands`) and computed by aggregate queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core.models import User
from changxin.demands import deadlines
from changxin.demands.models import Category
from changxin.demands.selectors import DemandFilter, list_demands, unscoped_demands
from changxin.insight.metrics import Period, this_month


def scoped(user: User):
    return list_demands(user, DemandFilter()).order_by()


def received_between(user: User, period: Period):
    return scoped(user).filter(received_at__gte=period.start, received_at__lt=period.end)


def daily_volume(user: User, days: int = 90, today: dt.date | None = None) -> list[tuple[dt.date, int]]:
    """Demands received per day over the last `days` days (today included), zero days too."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    period = Period.days(first, today + dt.timedelta(days=1))
    counts = dict(
        received_between(user, period)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return [(first + dt.timedelta(days=i), counts.get(first + dt.timedelta(days=i), 0)) for i in range(days)]


def by_top_category(user: User, period: Period, limit: int = 10) -> list[tuple[str, int]]:
    """Demands per top-level category (uncategorised last), largest first."""
    per_category = (
        received_between(user, period)
        .values("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    names = dict(Category.objects.filter(level=1).values_list("pk", "name"))
    totals: dict[str, int] = {}
    for category_id, n in per_category:
        node = category_id
        while node is not None and parents.get(node) is not None:
            node = parents[node]
        name = names.get(node) if node else None
        key = name or str(_("Uncategorised"))
        totals[key] = totals.get(key, 0) + n
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def by_street(user: User, period: Period) -> list[tuple[str, int]]:
    rows = (
        received_between(user, period)
        .values("street__name")
        .annotate(n=Count("pk"))
        .values_list("street__name", "n")
    )
    return sorted(((name or str(_("No street")), n) for name, n in rows), key=lambda kv: (-kv[1], kv[0]))


def overdue_by_unit(
    user: User, now: dt.datetime | None = None, limit: int = 15
) -> list[tuple[str, int, int]]:
    """Open overdue demands per lead unit: (unit, contact overdue, finish overdue), most first."""
    now = now or timezone.now()
    contact_late = Q(contacted_at__isnull=True, contact_due__lt=now)
    rows = (
        deadlines.list_overdue(scoped(user), now)
        .values("lead_unit__name")
        .annotate(contact=Count("pk", filter=contact_late), finish=Count("pk", filter=Q(finish_due__lt=now)))
        .values_list("lead_unit__name", "contact", "finish")
    )
    result = [(name or str(_("Not dispatched")), c, f) for name, c, f in rows]
    return sorted(result, key=lambda r: (-(r[1] + r[2]), r[0]))[:limit]


def overdue_count(user: User, now: dt.datetime | None = None) -> int:
    return deadlines.list_overdue(scoped(user), now).count()


def month_count(user: User, month: dt.date | None = None) -> int:
    return received_between(user, Period.month(month or this_month())).count()


def open_count(user: User) -> int:
    return unscoped_demands().open().filter(pk__in=scoped(user).values("pk")).count()
