"""REST route of the 三率 rankings (四类排名): the same computation and access rule as the insight pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from changxin.api.errors import ApiError
from changxin.api.schemas import READ_ERRORS, Ref
from changxin.api.types import choice
from changxin.core import roles
from changxin.core.models import RankingGroup
from changxin.insight.rankings import monthly_ranking

router = Router(tags=["rankings"])


class RatesOut(Schema):
    dispatched: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    composite: float | None


class RankingRowOut(Schema):
    rank: int | None = Field(
        description="Null: not ranked — too few demands or answers this month (shown apart), or none."
    )
    unit: Ref
    rates: RatesOut


class WeightsOut(Schema):
    response_weight: float
    resolution_weight: float
    satisfaction_weight: float
    partly_resolved_credit: float
    basic_satisfied_credit: float


class RankingOut(Schema):
    month: str
    group: str
    group_label: str
    weights: WeightsOut
    rows: list[RankingRowOut]


def _f(value) -> float | None:
    return None if value is None else float(value)


@router.get("/rankings", response={200: RankingOut, **READ_ERRORS}, summary="Monthly 三率 ranking of a group")
def rankings(
    request,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    group: Annotated[choice(RankingGroup), Query()] = RankingGroup.STREET.value,
):
    if not roles.may_see_insight(request.user):
        raise ApiError(403, "not_allowed", _("You may not see rankings."))
    year, number = (int(part) for part in month.split("-"))
    if not 2000 <= year <= 2999:
        raise ApiError(422, "invalid", _("Choose a month between 2000 and 2999."), field="month")
    ranking = monthly_ranking(dt.date(year, number, 1), group)
    w = ranking.weights
    return {
        "month": month,
        "group": group,
        "group_label": str(ranking.label),
        "weights": {
            name: float(getattr(w, name))
            for name in (
                "response_weight",
                "resolution_weight",
                "satisfaction_weight",
                "partly_resolved_credit",
                "basic_satisfied_credit",
            )
        },
        "rows": [
            {
                "rank": row.rank,
                "unit": {"id": row.unit.pk, "name": row.unit.name},
                "rates": {
                    "dispatched": row.rates.dispatched,
                    "response_rate": _f(row.rates.response_rate),
                    "resolution_rate": _f(row.rates.resolution_rate),
                    "satisfaction_rate": _f(row.rates.satisfaction_rate),
                    "composite": _f(row.rates.composite),
                },
            }
            for row in ranking.rows
        ],
    }
