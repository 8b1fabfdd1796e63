"""The API and Open311 answer every failure in their own error shape — a database that cannot be
reached (503), an unexpected exception (500, no traceback) — never Django's HTML error page."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory, override_settings

from changxin.api import errors
from changxin.demands import selectors
from changxin.open311 import services as open311_services

pytestmark = pytest.mark.django_db


def _raise(exc):
    def boom(*args, **kwargs):
        raise exc

    return boom


@pytest.mark.parametrize(
    "exc,status,code",
    [
        (OperationalError("server closed the connection unexpectedly"), 503, "database_unavailable"),
        (InterfaceError("connection already closed"), 503, "database_unavailable"),
        (RuntimeError("secret internals"), 500, "internal_error"),
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_api_errors_are_json(world, api_as, monkeypatch, exc, status, code, debug):
    api = api_as("dispatcher")
    monkeypatch.setattr(selectors.DemandFilter, "apply", _raise(exc))
    with override_settings(DEBUG=debug):
        response = api.get("/demands")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["errors"][0]["code"] == code and body["errors"][0]["field"] is None
    assert (
        "secret internals" not in response.content.decode() and "Traceback" not in response.content.decode()
    )


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    "exc,status", [(OperationalError("gone"), 503), (ValueError("secret internals"), 500)]
)
def test_open311_errors_keep_the_spec_format(world, monkeypatch, fmt, exc, status):
    monkeypatch.setattr(open311_services, "find_requests", _raise(exc))
    response = Client().get(f"/open311/v2/requests.{fmt}")
    assert response.status_code == status
    text = response.content.decode()
    assert "secret internals" not in text and "<html" not in text.lower()
    if fmt == "xml":
        assert ET.fromstring(response.content).findtext("error/code") == str(status)
    else:
        assert json.loads(text)[0]["code"] == status


@pytest.mark.parametrize(
    "path,kind", [("/api/v1/demands", "json"), ("/open311/v2/requests.xml", "xml"), ("/demands/", "html")]
)
def test_handler500_answers_in_each_paths_format(path, kind):
    response = errors.server_error(RequestFactory().get(path))
    assert response.status_code == 500
    if kind == "json":
        assert json.loads(response.content)["errors"][0]["code"] == "internal_error"
    elif kind == "xml":
        assert ET.fromstring(response.content).findtext("error/code") == "500"
    else:
        assert response["Content-Type"].startswith("text/html")
