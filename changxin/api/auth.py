"""Who is calling: an API key (X-API-Key header or Authorization: Bearer) or the browser session.

A key acts as its user: `request.user` becomes the key's user, so every scoped read and every
workflow check is exactly the UI's.
"""

from __future__ import annotations

from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from changxin.api import keys


def _login(request, raw):
    key = keys.authenticate(raw)
    if key is None:
        return None
    request.user = key.user
    request.api_key = key
    return key.user


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key: cx_…`"""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return _login(request, key)


class BearerKeyAuth(HttpBearer):
    """`Authorization: Bearer cx_…`"""

    def authenticate(self, request, token):
        return _login(request, token)


class BrowserSessionAuth(SessionAuth):
    """The logged-in browser session (CSRF token required on writes)."""

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


API_AUTH = [ApiKeyAuth(), BearerKeyAuth(), BrowserSessionAuth()]
