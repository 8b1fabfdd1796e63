"""Reading query-string and form parameters: one place, so a bad value is a field error or ignored,
never a 500.

`str.isdigit()` is true for "١٢٣" (Arabic-Indic digits, which `int()` reads) and for "²" (which it
does not), and a date in year 9999 or 0001 overflows as soon as a day is added or a time zone
applied. Every view, filter, export and the Open311 adapter read numbers and dates through here:

    unit_id = params.parse_int(request.GET.get("unit"), min_value=1)             # None when bad
    day = params.parse_date(request.GET.get("from"))                             # None when bad
    month = params.parse_month(request.GET.get("month"), default=this_month())
    try:
        day = params.parse_date(raw, strict=True, field="start_date")
    except params.ParamError as exc:                                             # exc.field, exc.message
        ...

Numbers are ASCII digits only (an optional leading minus where `min_value` allows it); years are
kept between `min_year` and `max_year` (2000–2100 by default: no demand is older, no deadline later).
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.dateparse import parse_datetime as _django_parse_datetime
from django.utils.translation import gettext as _

MAX_ID = 2**63 - 1
MIN_YEAR, MAX_YEAR = 2000, 2100
_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})", re.ASCII)
_ASCII_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|[+-][0-9]{2}(:?[0-9]{2})?)?", re.ASCII
)


class ParamError(ValueError):
    """A parameter that cannot be read: the field and a translated message for the caller."""

    def __init__(self, field: str | None, message):
        super().__init__(str(message))
        self.field, self.message = field, message


def _refuse(strict: bool, field: str | None, message, default):
    if strict:
        raise ParamError(field, message)
    return default


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def parse_int(
    value,
    *,
    min_value: int | None = None,
    max_value: int | None = MAX_ID,
    default=None,
    strict: bool = False,
    field: str | None = None,
):
    """An integer written in ASCII digits within [min_value, max_value]; else `default`
    (or ParamError when `strict`). Empty is `default` even when strict."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        number = value
    else:
        text = _text(value)
        if not text:
            return default
        if not _INTEGER.fullmatch(text):
            return _refuse(strict, field, _("Enter a whole number."), default)
        number = int(text)
    if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
        return _refuse(strict, field, _("This number is out of range."), default)
    return number


def is_id(value) -> bool:
    """A database id (1 … 2⁶³−1) written in ASCII digits."""
    return parse_int(value, min_value=1) is not None


def _year_ok(year: int, min_year: int, max_year: int) -> bool:
    return min_year <= year <= max_year


def parse_date(
    value,
    *,
    min_year: int = MIN_YEAR,
    max_year: int = MAX_YEAR,
    default=None,
    strict: bool = False,
    field: str | None = None,
):
    """YYYY-MM-DD (ASCII digits) with a year in [min_year, max_year]; else `default`."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        text = _text(value)
        if not text:
            return default
        match = _DATE.fullmatch(text)
        try:
            day = dt.date(*(int(part) for part in match.groups())) if match else None
        except ValueError:
            day = None
        if day is None:
            return _refuse(strict, field, _("Enter a date as YYYY-MM-DD."), default)
    if not _year_ok(day.year, min_year, max_year):
        return _refuse(strict, field, _year_message(min_year, max_year), default)
    return day


def parse_month(
    value,
    *,
    min_year: int = MIN_YEAR,
    max_year: int = MAX_YEAR,
    default=None,
    strict: bool = False,
    field: str | None = None,
):
    """YYYY-MM (a longer date is cut to its month) → the month's first day; else `default`."""
    if isinstance(value, dt.date):
        month = value.replace(day=1)
    else:
        text = _text(value)
        if not text:
            return default
        match = _MONTH.match(text)
        try:
            month = dt.date(int(match.group(1)), int(match.group(2)), 1) if match else None
        except ValueError:
            month = None
        if month is None:
            return _refuse(strict, field, _("Enter a month as YYYY-MM."), default)
    if not _year_ok(month.year, min_year, max_year):
        return _refuse(strict, field, _year_message(min_year, max_year), default)
    return month


def parse_datetime(
    value,
    *,
    min_year: int = MIN_YEAR,
    max_year: int = MAX_YEAR,
    default=None,
    strict: bool = False,
    field: str | None = None,
):
    """An ISO 8601 date-time (or a date: its midnight) in ASCII digits with a year in range; naive
    values are returned naive (the caller applies its time zone)."""
    text = _text(value)
    if not text:
        return default
    moment = None
    if _ASCII_DATETIME.fullmatch(text):
        try:
            moment = _django_parse_datetime(text)
        except ValueError:
            moment = None
    if moment is None:
        day = parse_date(text, min_year=1, max_year=9999)
        moment = dt.datetime.combine(day, dt.time.min) if day else None
    if moment is None:
        return _refuse(strict, field, _("Enter an ISO 8601 date and time."), default)
    if not _year_ok(moment.year, min_year, max_year):
        return _refuse(strict, field, _year_message(min_year, max_year), default)
    return moment


def _year_message(min_year: int, max_year: int) -> str:
    return _("Choose a year between %(min)d and %(max)d.") % {"min": min_year, "max": max_year}


def text(value, max_length: int = 200) -> str:
    """A free-text parameter fit for a query: NUL characters (which PostgreSQL refuses) and lone
    surrogates removed, surrounding space stripped, cut to `max_length`."""
    if value is None:
        return ""
    cleaned = str(value).replace("\x00", "")
    cleaned = cleaned.encode("utf-8", "ignore").decode("utf-8") if _has_surrogate(cleaned) else cleaned
    return cleaned.strip()[:max_length]


def _has_surrogate(value: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in value)
