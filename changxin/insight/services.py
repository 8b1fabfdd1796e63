"""Writes of the insight app: the hot-spot run (`refresh_hot_spots`), called by the periodic job."""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from changxin.demands.models import Satisfaction, Urgency
from changxin.demands.selectors import unscoped_demands
from changxin.insight import hotspots
from changxin.insight.hotspots import Item, Params
from changxin.insight.models import HotSpot

DISSATISFIED = {Satisfaction.DISSATISFIED: True, Satisfaction.SATISFIED: False, Satisfaction.BASIC: False}


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _key(street_id, category_id) -> tuple[str, str]:
    return (str(street_id or ""), str(category_id or ""))


def _cell_verdicts(as_of: dt.date, params: Params) -> dict[tuple[str, str], hotspots.Cell]:
    """The rising detector on the daily counts per street × category, counted in the database."""
    import numpy as np

    start = hotspots.history_start(as_of, params)
    rows = (
        unscoped_demands()
        .citizen()  # a proactive task is no demand of its own problem
        .filter(received_at__gte=_aware(start), received_at__lt=_aware(as_of + dt.timedelta(days=1)))
        .annotate(day=TruncDate("received_at"))
        .values("street_id", "category_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    keys: dict[tuple[str, str], int] = {}
    entries = []
    for row in rows:
        index = keys.setdefault(_key(row["street_id"], row["category_id"]), len(keys))
        entries.append((index, (row["day"] - start).days, row["n"]))
    matrix = np.zeros((len(keys), (as_of - start).days + 1), dtype=np.int32)
    for index, offset, n in entries:
        matrix[index, offset] += n
    return hotspots.judge_cells(list(keys), matrix, start, as_of, params)


def _window_items(start: dt.date, as_of: dt.date, params: Params) -> list[Item]:
    rows = (
        unscoped_demands()
        .citizen()  # a proactive task is no demand of its own problem
        .filter(received_at__gte=_aware(start), received_at__lt=_aware(as_of + dt.timedelta(days=1)))
        .annotate(text=Substr("content", 1, params.content_chars))
        .values_list(
            "id",
            "received_at",
            "title",
            "text",
            "street_id",
            "category_id",
            "community_id",
            "address",
            "requester_user_id",
            "requester_phone",
            "urgency",
            "satisfaction",
        )
        .order_by("received_at", "id")
    )
    return [
        Item(
            id=str(pk),
            day=timezone.localtime(received).date(),
            title=title,
            content=text or "",
            street=str(street or ""),
            category=str(category or ""),
            community=str(community or ""),
            address=address,
            requester=f"u{user}" if user else phone,
            urgent=urgency != Urgency.NORMAL,
            dissatisfied=DISSATISFIED.get(satisfaction),
        )
        for pk, received, title, text, street, category, community, address, user, phone, urgency, satisfaction in rows
    ]


def refresh_hot_spots(as_of: dt.date | None = None, params: Params = hotspots.DEFAULT) -> dict:
    """Find the hot spots of the period ending on `as_of` (default today) in every demand and
    store them, replacing that day's earlier run. Idempotent; returns a summary."""
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    start = as_of - dt.timedelta(days=params.window_days - 1)
    cells = _cell_verdicts(as_of, params)
    items = _window_items(start, as_of, params)
    result = hotspots.find_hot_spots(items, as_of=as_of, params=params, cells=cells)
    now = timezone.now()
    with transaction.atomic():
        HotSpot.objects.filter(as_of=as_of).delete()
        spots = HotSpot.objects.bulk_create(
            [_hot_spot(problem, result, now) for problem in result.problems], batch_size=500
        )
        through = HotSpot.demands.through
        through.objects.bulk_create(
            [
                through(hotspot_id=spot.pk, demand_id=int(item.id))
                for spot, problem in zip(spots, result.problems, strict=True)
                for item in problem.items
            ],
            batch_size=2000,
        )
    return {
        "as_of": as_of.isoformat(),
        "demands": len(items),
        "hot_spots": len(spots),
        "rising": sum(p.rising for p in result.problems),
        "rising_cells": sum(c.rising for c in cells.values()),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _hot_spot(problem: hotspots.Problem, result: hotspots.Result, now: dt.datetime) -> HotSpot:
    cell = result.cells.get((problem.street, problem.category))
    return HotSpot(
        as_of=result.as_of,
        period_start=result.start,
        number=problem.number,
        street_id=int(problem.street) if problem.street else None,
        category_id=int(problem.category) if problem.category else None,
        label=problem.label[:120],
        heat=problem.heat,
        rising=problem.rising,
        demand_count=len(problem.items),
        requester_count=problem.requesters,
        recent_count=problem.recent,
        prior_count=problem.prior,
        first_day=problem.first_day,
        last_day=problem.last_day,
        daily={day.isoformat(): n for day, n in problem.daily_counts().items()},
        cell_observed=cell.observed if cell else 0,
        cell_expected=cell.expected if cell else 0.0,
        cell_cusum=cell.cusum if cell else 0.0,
        computed_at=now,
    )
