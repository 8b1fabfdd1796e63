"""Fuzz every GET parameter of every HTML view, API route and Open311 route, as every role: never a 5xx.

The endpoints come from the URL conf (the permission matrix's declarations for HTML views, the
generated OpenAPI schema for the API, the Open311 URL names) and the parameter names from the code
that reads them: `DemandFilter.FIELDS`, the insight drill-down's parameters, the fields of the forms
bound to the query string, every `request.GET.get("…")` in a view module, the schema's query
parameters and the GeoReport v2 filters. Values are hypothesis strategies built around what broke
before: digits `isdigit()` accepts and `int()` does not, huge numbers, dates in years 0001 and 9999,
empty and very long strings, NUL, SQL-ish and spreadsheet-formula text.

Bounded and deterministic for CI (derandomized, a few hundred examples in all); runs on SQLite and,
with DATABASE_URL, on PostgreSQL — where NUL characters and out-of-range integers reach the driver.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changxin.core.models import OrgUnit
from changxin.core.tests.builders import LUGOUQIAO
from changxin.core.tests.test_view_matrix import (  # noqa: F401 (fixture)
    PARTY_TARGETS,
    ROLES,
    VIEWS,
    _kwargs,
    targets,
)
from changxin.demands.models import Category
from changxin.demands.selectors import DemandFilter
from changxin.insight.views import DRILL_PARAMS
from changxin.station.forms import TrackForm

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# --- parameter names, from the code that reads them --------------------------------------------

GET_READ = re.compile(r"""GET(?:\.get\(|\[)\s*["']([A-Za-z_][\w]*)["']""")


def html_param_names() -> list[str]:
    names = set(DemandFilter.FIELDS) | set(DRILL_PARAMS) | set(TrackForm.base_fields) | {"page", "next"}
    modules = set()
    for spec_name in VIEWS:
        match = get_resolver().resolve(_example_path(spec_name)) if _example_path(spec_name) else None
        if match is not None:
            modules.add(inspect.getmodule(inspect.unwrap(match.func)))
    for module in modules:
        names |= set(GET_READ.findall(inspect.getsource(module)))
    for spec in VIEWS.values():
        names |= set(spec.query)
    return sorted(names)


def _example_path(name: str) -> str | None:
    spec = VIEWS[name]
    kwargs = dict(spec.args)
    if spec.target in ("demand", "attachment") and not spec.pk_in_body:
        kwargs[spec.pk_kwarg] = 1
    if spec.target == "attachment":
        kwargs["attachment_pk"] = 1
    if spec.target in ("unit", "tracking", "enterprise_code"):
        kwargs["code"] = "X"
    if spec.target in (
        "hotspot",
        "enterprise",
        "project",
        "match",
        "suggestion",
        "policy",
        "inspection",
        "proactive",
        "problem",
        *PARTY_TARGETS,
    ):
        kwargs["pk" if spec.target == "hotspot" else spec.pk_kwarg] = 1
    return reverse(name, kwargs=kwargs)


def api_get_routes() -> dict[str, list[str]]:
    from changxin.api.site import api

    schema = api.get_openapi_schema()
    return {
        path: [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method == "get"
    }


OPEN311_PARAMS = [
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "jurisdiction_id",
    "api_key",
]
OPEN311_ROUTES = [
    "discovery",
    "services",
    "services/{service_code}",
    "requests",
    "requests/{id}",
    "tokens/{token}",
]

# --- values ------------------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "١٢٣",  # Arabic-Indic digits: isdigit() and int() both accept
    "²",  # isdigit() accepts, int() refuses
    "１２３",
    "-1",
    "0",
    "9" * 40,
    str(2**63),
    "1e309",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "9999-12",
    "0000-00",
    "2025-02-30",
    "٢٠٢٥-٠٣",
    "2025-03-04T25:61:00+99:00",
    "9999-12-31T23:59:59+14:00",
    "' OR 1=1 --",
    '"; DROP TABLE demands_demand; --',
    '=HYPERLINK("http://evil.example","点击")',
    "@SUM(1,1)",
    "x" * 5000,
    "长" * 2000,
    "\x00",
    "a\x00b",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "%",
    "_",
    "\\",
    "true",
    "overdue",
    "2025-03",
    "2025-03-04",
]
text_values = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
number_values = st.integers(min_value=-(10**30), max_value=10**30).map(str)
date_values = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat)
month_values = date_values.map(lambda day: day[:7])
VALUES = st.one_of(st.sampled_from(HOSTILE), text_values, number_values, date_values, month_values)


def params_for(data, names: list[str]) -> dict[str, str]:
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(6, len(names)), unique=True))
    return {name: data.draw(VALUES, label=name) for name in chosen}


# --- the requests ------------------------------------------------------------------------------


def client_as(demo_world, role) -> Client:
    client = Client()
    if ROLES[role]:
        client.force_login(demo_world[ROLES[role]])
    return client


def assert_no_server_error(response, url, params):
    assert response.status_code < 500, f"{response.status_code} on GET {url} {params!r}"


@pytest.fixture
def html_urls(targets):  # noqa: F811 (the matrix's fixture)
    """Every HTML view answering GET, with real objects in its path."""
    demand = targets["own_of"]["citizen"]
    urls = []
    for name, spec in VIEWS.items():
        if spec.method != "get":
            continue
        urls.append((reverse(name, kwargs=_kwargs(spec, demand, LUGOUQIAO)), dict(spec.query)))
    return urls


@pytest.mark.parametrize("role", list(ROLES))
def test_html_views(demo_world, html_urls, role):
    client = client_as(demo_world, role)
    names = html_param_names()

    @FUZZ
    @given(data=st.data())
    def run(data):
        url, base = data.draw(st.sampled_from(html_urls), label="view")
        params = {**base, **params_for(data, names)}
        assert_no_server_error(client.get(url, params), url, params)

    run()


@pytest.fixture
def api_urls(targets):  # noqa: F811
    demand = targets["own_of"]["citizen"]
    ids = {
        "demand_id": demand.pk,
        "unit_id": OrgUnit.objects.get(code=LUGOUQIAO).pk,
        "category_id": Category.objects.order_by("pk").first().pk,
        "enterprise_id": demand.port_enterprise.pk,
        "project_id": demand.port_project.pk,
        "suggestion_id": demand.port_coop["suggestion"].pk,
        "inspection_id": demand.port_inspection.pk,
        "match_id": demand.port_coop["match"].pk,
    }
    return [(path.format(**ids), names or ["q"]) for path, names in api_get_routes().items()]


@pytest.mark.parametrize("role", list(ROLES))
def test_api_routes(demo_world, api_urls, role):
    client = client_as(demo_world, role)

    @FUZZ
    @given(data=st.data())
    def run(data):
        url, names = data.draw(st.sampled_from(api_urls), label="route")
        params = params_for(data, names)
        response = client.get(url, params)
        assert_no_server_error(response, url, params)
        assert response["Content-Type"].startswith("application/json"), url

    run()


@pytest.fixture
def open311_urls(targets):  # noqa: F811
    from changxin.open311.models import RequestToken
    from changxin.open311.services import list_services

    demand = targets["own_of"]["citizen"]
    token = RequestToken.objects.create(demand=demand)
    values = {"service_code": list_services()[0]["service_code"], "id": demand.number, "token": token.token}
    return [
        f"/open311/v2/{route.format(**values)}.{fmt}" for route in OPEN311_ROUTES for fmt in ("xml", "json")
    ]


@pytest.mark.parametrize("role", list(ROLES))
def test_open311_routes(demo_world, open311_urls, role):
    from changxin.api import keys

    user = demo_world[ROLES[role]] if ROLES[role] else None
    api_key = keys.create_key("fuzz", user=user)[1] if user else ""
    client = Client()

    @FUZZ
    @given(data=st.data())
    def run(data):
        url = data.draw(st.sampled_from(open311_urls), label="route")
        params = params_for(data, OPEN311_PARAMS)
        if api_key and "api_key" not in params:
            params["api_key"] = api_key
        response = client.get(url, params)
        assert_no_server_error(response, url, params)
        assert response["Content-Type"].split(";")[0] in ("text/xml", "application/json"), url

    run()


# One of each kind of value that broke something before, for the deterministic sweep.
SWEEP = [
    "١٢٣",
    "²",
    "9" * 40,
    "9999-12-31",
    "0001-01-01",
    "9999-12",
    "' OR 1=1 --",
    "=1+1",
    "x" * 5000,
    "a\x00b",
]


def test_every_parameter_name_and_hostile_value_once(demo_world, html_urls, api_urls, open311_urls):
    """A deterministic sweep as the centre operator (the widest reader): every endpoint with all its
    parameters set to each kind of hostile value at once."""
    client = client_as(demo_world, "operator")
    html_names = html_param_names()
    endpoints = [(url, html_names) for url, _base in html_urls]
    endpoints += api_urls
    endpoints += [(url, OPEN311_PARAMS) for url in open311_urls]
    for value in SWEEP:
        for url, names in endpoints:
            params = dict.fromkeys(names, value)
            assert_no_server_error(client.get(url, params), url, {"*": value})
