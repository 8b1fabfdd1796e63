"""One machine-readable error body for every error: {"errors": [{"field", "code", "message"}]}.

4xx for what the caller can fix; 503 `database_unavailable` when the database cannot be reached
(retry later); 500 `internal_error` for anything unexpected — logged here, with no traceback in the
answer. `server_error` is the project's handler500: an error raised outside a view (in a middleware)
on /api/ or /open311/ is answered in that API's own format too.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from changxin.core.errors import CONFLICT, FORBIDDEN, DomainError

logger = logging.getLogger("changxin.api")

# Every app's services raise the one DomainError; its kind decides the status.
STATUS_OF_KIND = {FORBIDDEN: 403, CONFLICT: 409}


class ApiError(Exception):
    """Raised by handlers for a 4xx with a code (and field)."""

    def __init__(self, status: int, code: str, message, field: str | None = None):
        super().__init__(str(message))
        self.status, self.code, self.message, self.field = status, code, message, field


def body(code: str, message, field: str | None = None) -> dict:
    return {"errors": [{"field": field, "code": code, "message": str(message)}]}


def django_validation_items(exc: DjangoValidationError) -> list[dict]:
    items = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                items.append(
                    {
                        "field": None if field == "__all__" else field,
                        "code": error.code or "invalid",
                        "message": " ".join(error.messages),
                    }
                )
    else:
        for error in exc.error_list:
            items.append(
                {"field": None, "code": error.code or "invalid", "message": " ".join(error.messages)}
            )
    return items


def domain_status(exc: DomainError) -> int:
    """403 the actor may not, 409 the object is not in a state for it, 422 bad data."""
    return STATUS_OF_KIND.get(exc.kind, 422)


def database_unavailable_body() -> dict:
    return body("database_unavailable", _("The service is temporarily unavailable. Try again later."))


def internal_error_body() -> dict:
    return body("internal_error", _("Internal error. It has been logged."))


def server_error(request, *args, **kwargs):
    """handler500: the API's and Open311's own error shapes on their paths, the HTML page elsewhere."""
    path = request.path_info or ""
    if path.startswith("/api/"):
        return JsonResponse(internal_error_body(), status=500)
    if path.startswith("/open311/"):
        from changxin.open311 import render

        fmt = "xml" if path.endswith(".xml") else "json"
        return render.error(fmt, 500, _("Internal error."))
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request, *args, **kwargs)


def _field_of(loc) -> str | None:
    names = [str(part) for part in loc if isinstance(part, str)]
    return names[-1] if names else None


def install(api) -> None:
    """Register the handlers on a NinjaAPI."""

    @api.exception_handler(NinjaValidationError)
    def _schema_error(request, exc):
        items = [
            {
                "field": _field_of(err.get("loc", ())),
                "code": err.get("type", "invalid"),
                "message": err.get("msg", ""),
            }
            for err in exc.errors
        ]
        return api.create_response(request, {"errors": items}, status=422)

    @api.exception_handler(DjangoValidationError)
    def _model_error(request, exc):
        return api.create_response(request, {"errors": django_validation_items(exc)}, status=422)

    @api.exception_handler(DomainError)
    def _domain_error(request, exc):
        return api.create_response(request, body(exc.code, exc.message, exc.field), status=domain_status(exc))

    @api.exception_handler(ApiError)
    def _api_error(request, exc):
        return api.create_response(request, body(exc.code, exc.message, exc.field), status=exc.status)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        message = _(
            "Authentication required: send an API key (X-API-Key or Authorization: Bearer) or log in."
        )
        return api.create_response(request, body("not_authenticated", message), status=401)

    @api.exception_handler(AuthorizationError)
    def _forbidden(request, exc):
        return api.create_response(request, body("not_allowed", _("You may not do this.")), status=403)

    @api.exception_handler(PermissionDenied)
    def _permission_denied(request, exc):
        return api.create_response(
            request, body("not_allowed", str(exc) or _("You may not do this.")), status=403
        )

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return api.create_response(request, body("not_found", _("Not found.")), status=404)

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request, exc):
        return api.create_response(request, body("too_large", _("The request is too large.")), status=413)

    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request, exc):
        return api.create_response(request, body("bad_request", _("Bad request.")), status=400)

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def _database_unavailable(request, exc):
        logger.exception("API: database unavailable")
        return api.create_response(request, database_unavailable_body(), status=503)

    @api.exception_handler(Exception)
    def _unexpected(request, exc):
        logger.exception("API: unexpected error on %s", request.path)
        return api.create_response(request, internal_error_body(), status=500)

    @api.exception_handler(HttpError)
    def _http_error(request, exc):
        code = {400: "bad_request", 403: "not_allowed", 405: "method_not_allowed"}.get(
            exc.status_code, "error"
        )
        return api.create_response(request, body(code, str(exc)), status=exc.status_code)
