"""The one NinjaAPI at /api/v1/. Each domain app adds its own routes from its `api.py`.

An app contributes routes by defining `router = ninja.Router(...)` in `<app>/api.py` (optionally
`ROUTER_PREFIX`, default ""). Apps are visited in INSTALLED_APPS order, so the schema is stable.
"""

from __future__ import annotations

import importlib
import importlib.util

from django.apps import apps
from ninja import NinjaAPI

from changxin.api import errors
from changxin.api.auth import API_AUTH

DESCRIPTION = """\
长辛先锋 · Changxin Pioneer REST API.

Authenticate with an API key (`X-API-Key: cx_…` or `Authorization: Bearer cx_…`) or a logged-in
browser session (send the CSRF token on writes). A key acts as its user: every list and object is
scoped exactly as in the web UI. Errors are `{"errors": [{"field", "code", "message"}]}`.
"""


def discover_routers() -> list[tuple[str, object, str]]:
    """(prefix, router, module) for every installed app with an `api.py` that defines `router`."""
    found = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.api"
        if config.name == "changxin.api" or importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        router = getattr(module, "router", None)
        if router is not None:
            found.append((getattr(module, "ROUTER_PREFIX", ""), router, module_name))
    return found


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Changxin Pioneer API",
        version="1",
        description=DESCRIPTION,
        auth=API_AUTH,
        urls_namespace="api-v1",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    errors.install(api)
    for prefix, router, _module in discover_routers():
        api.add_router(prefix, router)
    return api


api = build_api()
