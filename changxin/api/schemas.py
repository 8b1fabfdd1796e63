"""Schemas shared by every app's routes: the error body, pages, small references."""

from __future__ import annotations

from ninja import Field, Schema


class ErrorItem(Schema):
    field: str | None = Field(None, description="The input field the error is about (null: the request).")
    code: str = Field(..., description="Machine-readable error code.")
    message: str = Field(..., description="Human-readable message in the request's language.")


class ErrorOut(Schema):
    errors: list[ErrorItem]


class Ref(Schema):
    """A reference to another object by id, with its display name."""

    id: int
    name: str


# Every route documents these 4xx answers with the error body.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def page_params_doc() -> str:
    return "Paged with `limit` (1–200, default 50) and `offset`."


class PageMeta(Schema):
    count: int
    limit: int
    offset: int
