"""Monthly close (RULES.md "三率 decisions"): *default* CHANGXIN_RANKING_CLOSE_WORKING_DAYS working
days after a month ends, its ranking is stored as a `RankingSnapshot` and never changes afterwards;
the page, the export and the API read the snapshot. The same job fixes each month's weights when
the month opens (`metrics.open_month`), so reading a ranking never writes anything.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from changxin.core.workcalendar import add_working_time
from changxin.demands.models import RankingSnapshot, RankingWeights
from changxin.insight.metrics import Period, add_months, open_month
from changxin.insight.rankings import live_rankings


def close_date(month: dt.date) -> dt.datetime:
    """When `month` closes: the configured number of working days after it ends."""
    end = Period.month(month).end
    return add_working_time(end, days=settings.CHANGXIN_RANKING_CLOSE_WORKING_DAYS).value


def close_month(month: dt.date, now: dt.datetime | None = None) -> RankingSnapshot:
    """Store `month`'s ranking (idempotent: an existing snapshot is returned untouched)."""
    month = month.replace(day=1)
    existing = RankingSnapshot.objects.filter(month=month).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    weights = RankingWeights.objects.filter(month=month).first() or open_month(month)
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
    try:
        with transaction.atomic():
            return RankingSnapshot.objects.create(month=month, closed_at=now, weights=weights, rows=rows)
    except IntegrityError:  # a concurrent run closed it first
        return RankingSnapshot.objects.get(month=month)


def run(now: dt.datetime | None = None) -> dict:
    """The periodic job's work: open this month's weights, close the months whose close date passed."""
    now = now or timezone.now()
    current = timezone.localtime(now).date().replace(day=1)
    open_month(current)
    closed = 0
    for back in (2, 1):  # a month closes within days of its end; two back covers a missed run
        month = add_months(current, -back)
        if now >= close_date(month) and not RankingSnapshot.objects.filter(month=month).exists():
            close_month(month, now)
            closed += 1
    return {"opened": f"{current:%Y-%m}", "closed": closed}


__all__ = ["close_date", "close_month", "run"]
