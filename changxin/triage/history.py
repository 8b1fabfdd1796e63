"""Training rows from the platform's own closed demands: a district's history is its real training set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import F
from django.db.models.functions import Coalesce

from changxin.demands.models import State
from changxin.demands.selectors import unscoped_demands

CLOSED_WITH_CATEGORY = (State.REPLIED, State.VISITED, State.ARCHIVED)


def rows_from_closed_demands(since: dt.date | None = None) -> Iterator[dict[str, str]]:
    """`id, title, content, label` for every replied/visited/archived demand with a category, the label
    being its first-level category (the level the classifier predicts). Merged duplicates are left out."""
    demands = unscoped_demands().filter(
        state__in=CLOSED_WITH_CATEGORY, category__isnull=False, master__isnull=True
    )
    if since is not None:
        demands = demands.filter(received_at__date__gte=since)
    top = Coalesce(F("category__parent__parent__name"), F("category__parent__name"), F("category__name"))
    for pk, title, content, label in (
        demands.annotate(top=top).order_by("pk").values_list("pk", "title", "content", "top").iterator()
    ):
        yield {"id": str(pk), "title": title, "content": content, "label": label}
