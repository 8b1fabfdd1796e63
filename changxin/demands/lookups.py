"""Per-process caches of the reference rows every intake names: categories and units.

Intake turns the ids a caller sends (category, street, community) into rows; they change a few
times a year, so each app process keeps the active ones it has looked up for
`CHANGXIN_LOOKUP_CACHE_SECONDS` (default 60; 0 turns the cache off, as the tests do). Safe because:

- saving or deleting a Category or an OrgUnit clears this process's cache at once (signals in
  demands/apps.py); another process sees the change within the lifetime above — a unit
  deactivated a minute ago may still receive a demand, as it could have a minute earlier;
- only what a miss would also return is cached (the active row, with the parents intake reads),
  and a caller gets its own copy, never the shared instance;
- the database still enforces every foreign key.
"""

from __future__ import annotations

import copy
import threading
import time

from django.conf import settings

from changxin.core.models import OrgUnit
from changxin.demands.models import Category

_lock = threading.Lock()
_rows: dict[tuple, tuple[float, object]] = {}


def lifetime() -> float:
    return float(getattr(settings, "CHANGXIN_LOOKUP_CACHE_SECONDS", 60))


def clear(*args, **kwargs) -> None:
    with _lock:
        _rows.clear()


def _cached(key: tuple, load):
    ttl = lifetime()
    if ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _rows.get(key)
    if hit is not None and now - hit[0] < ttl:
        return copy.copy(hit[1]) if hit[1] is not None else None
    row = load()
    if row is not None:  # a miss is not remembered: a row created a moment ago must be found
        with _lock:
            _rows[key] = (now, row)
        row = copy.copy(row)
    return row


def active_category(pk: int) -> Category | None:
    """The active category `pk` with its parents (its full name and top need no query), or None."""
    return _cached(
        ("category", pk),
        lambda: Category.objects.filter(pk=pk, is_active=True).select_related("parent__parent").first(),
    )


def active_unit(pk: int, kinds: tuple[str, ...]) -> OrgUnit | None:
    """The active unit `pk` of one of `kinds` with its parent, or None."""
    return _cached(
        ("unit", pk, tuple(kinds)),
        lambda: (
            OrgUnit.objects.filter(pk=pk, kind__in=kinds, is_active=True).select_related("parent").first()
        ),
    )
