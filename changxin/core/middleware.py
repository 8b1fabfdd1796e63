"""Request/response hygiene every page gets: no caching of personal data, idle session expiry."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils.cache import add_never_cache_headers

IDLE_KEY = "changxin_last_seen"
# The session is written at most every five minutes for the idle clock, not on every request (the
# clock starts at login: core.security stamps the new session).
IDLE_RESOLUTION_SECONDS = 300


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response of a signed-in user and on the API/Open311/tracking
    paths (CHANGXIN_NO_STORE_PREFIXES): they may carry personal data, which no browser cache or proxy
    may keep. Static files are served by WhiteNoise before this runs and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "CHANGXIN_NO_STORE_PREFIXES", ()))

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path_info.startswith(self.prefixes):
            add_never_cache_headers(response)
        return response


class SessionIdleTimeoutMiddleware:
    """Log a signed-in user out after CHANGXIN_SESSION_IDLE_MINUTES without a request (0: never).
    The absolute limit is SESSION_COOKIE_AGE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        idle_minutes = getattr(settings, "CHANGXIN_SESSION_IDLE_MINUTES", 0)
        user = getattr(request, "user", None)
        if idle_minutes and user is not None and user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(IDLE_KEY)
            if last_seen is not None and now - last_seen > idle_minutes * 60:
                logout(request)
            elif last_seen is None or now - last_seen > IDLE_RESOLUTION_SECONDS:
                request.session[IDLE_KEY] = now
        return self.get_response(request)
