"""REST routes of the core: org units (scoped like the UI) and the work calendar."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from changxin.api.errors import ApiError
from changxin.api.schemas import READ_ERRORS, PageMeta, Ref
from changxin.api.types import Date, DateTime, Text, choice
from changxin.core import workcalendar
from changxin.core.models import CalendarDay, OrgUnit, UnitKind
from changxin.core.scope import get_visible_or_404
from changxin.core.selectors import list_units

router = Router()

MAX_CALENDAR_SPAN = 366


class UnitOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    kind_label: str
    parent: Ref | None
    depth: int
    path: str
    phone: str
    is_active: bool
    child_count: int


class UnitPage(PageMeta):
    items: list[UnitOut]


class DayOut(Schema):
    date: dt.date
    is_workday: bool
    name: str = Field("", description="Holiday or make-up workday name, when official.")
    estimated: bool = Field(description="The calendar does not know this year: weekends-only assumed.")


class CalendarOut(Schema):
    known_years: list[int]
    days: list[DayOut]


class WorkingTimeOut(Schema):
    start: dt.datetime
    result: dt.datetime
    estimated: bool
    fallback_years: list[int]


class WorkingSpanOut(Schema):
    start: dt.datetime
    end: dt.datetime
    working_hours: float
    working_days: float
    estimated: bool
    fallback_years: list[int]


def _unit(unit: OrgUnit, child_count: int | None = None) -> dict:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind,
        "kind_label": str(unit.get_kind_display()),
        "parent": {"id": unit.parent_id, "name": unit.parent.name} if unit.parent_id else None,
        "depth": unit.depth,
        "path": unit.path,
        "phone": unit.phone,
        "is_active": unit.is_active,
        "child_count": child_count if child_count is not None else getattr(unit, "child_count", 0),
    }


@router.get(
    "/units", response={200: UnitPage, **READ_ERRORS}, tags=["org units"], summary="Org units in scope"
)
def units(
    request,
    kind: Annotated[choice(UnitKind, blank=True), Query()] = "",
    q: Annotated[Text, Query("", max_length=50)] = "",
    parent: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
):
    parent_unit = get_visible_or_404(OrgUnit, request.user, pk=parent) if parent else None
    rows = list_units(request.user, kind=kind, q=q, parent=parent_unit)
    count = rows.count()
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "items": [_unit(u) for u in rows[offset : offset + limit]],
    }


@router.get("/units/{unit_id}", response={200: UnitOut, **READ_ERRORS}, tags=["org units"])
def unit(request, unit_id: Annotated[int, Path(ge=1, le=2**63 - 1)]):
    found = get_visible_or_404(OrgUnit.objects.select_related("parent"), request.user, pk=unit_id)
    return _unit(found, found.children.count())


@router.get("/calendar/days", response={200: CalendarOut, **READ_ERRORS}, tags=["work calendar"])
def calendar_days(request, start: Annotated[Date, Query()], end: Annotated[Date, Query()]):
    """Working days and official holidays from `start` to `end` (at most 366 days)."""
    if end < start:
        raise ApiError(422, "invalid", _("The end date is before the start date."), field="end")
    if (end - start).days >= MAX_CALENDAR_SPAN:
        raise ApiError(
            422, "invalid", _("Ask for at most %(days)s days.") % {"days": MAX_CALENDAR_SPAN}, field="end"
        )
    calendar = workcalendar.get_calendar()
    # The official calendar is public reference data (no Scope): everyone may read it.
    names = dict(CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "name"))
    days = []
    day = start
    while day <= end:
        days.append(
            {
                "date": day,
                "is_workday": calendar.is_workday(day),
                "name": names.get(day, ""),
                "estimated": day.year not in calendar.known_years,
            }
        )
        day += dt.timedelta(days=1)
    return {"known_years": sorted(calendar.known_years), "days": days}


def _aware(moment: dt.datetime) -> dt.datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@router.get("/calendar/add", response={200: WorkingTimeOut, **READ_ERRORS}, tags=["work calendar"])
def calendar_add(
    request,
    start: Annotated[DateTime, Query()],
    days: Annotated[float, Query(ge=0, le=60)] = 0,
    hours: Annotated[float, Query(ge=0, le=480)] = 0,
):
    """The moment `days` working days and `hours` working hours after `start` (office hours only)."""
    start = _aware(start)
    answer = workcalendar.add_working_time(start, days=days, hours=hours)
    return {
        "start": start,
        "result": answer.value,
        "estimated": answer.is_estimate,
        "fallback_years": sorted(answer.fallback_years),
    }


@router.get("/calendar/between", response={200: WorkingSpanOut, **READ_ERRORS}, tags=["work calendar"])
def calendar_between(request, start: Annotated[DateTime, Query()], end: Annotated[DateTime, Query()]):
    """Working time between two moments (negative when `end` is before `start`)."""
    start, end = _aware(start), _aware(end)
    if abs((end - start).days) > MAX_CALENDAR_SPAN * 5:
        raise ApiError(422, "invalid", _("The span is too long."), field="end")
    answer = workcalendar.working_time_between(start, end)
    hours = answer.value.total_seconds() / 3600
    return {
        "start": start,
        "end": end,
        "working_hours": round(hours, 4),
        "working_days": round(hours * 60 / workcalendar.minutes_per_working_day(), 4),
        "estimated": answer.is_estimate,
        "fallback_years": sorted(answer.fallback_years),
    }
