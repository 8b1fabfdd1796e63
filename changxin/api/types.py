"""Input types that reject what the database cannot store (NUL, lone surrogates, out-of-range ids)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

MAX_ID = 2**63 - 1


def _storable(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return text


NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_only(value):
    """Refuse pydantic's lax reading of numbers as Unix timestamps: dates are ISO 8601 text."""
    if isinstance(value, int | float) or (isinstance(value, str) and NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date or date-time")
    return value


def _sane_date(value: dt.date) -> dt.date:
    if not 1900 <= value.year <= 2999:
        raise ValueError("year must be between 1900 and 2999")
    return value


def _sane_datetime(value: dt.datetime) -> dt.datetime:
    _sane_date(value.date())
    return value


Text = Annotated[str, AfterValidator(_storable)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Date = Annotated[dt.date, BeforeValidator(_iso_only), AfterValidator(_sane_date)]
DateTime = Annotated[dt.datetime, BeforeValidator(_iso_only), AfterValidator(_sane_datetime)]


def choice(choices_class, *, blank: bool = False):
    """A Literal of a TextChoices' values (plus "" when `blank`), so the schema lists them."""
    values = tuple(v for v in choices_class.values if v) + (("",) if blank else ())
    return Literal.__getitem__(values)


def text(max_length: int, *, min_length: int = 0, default=..., description: str = ""):
    """A Text field with length bounds (the model's max_length)."""
    return Field(default, min_length=min_length, max_length=max_length, description=description or None)
