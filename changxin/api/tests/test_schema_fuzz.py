"""Schemathesis fuzzes every operation of /api/v1/openapi.json through WSGI with a real key.

Bounded and deterministic (few examples, derandomized). Checks: no 5xx, every response conforms to
the generated schema (status code documented, body valid, content type), and schema-invalid input is
refused with a 4xx. Not checked: schemathesis' "schema-valid data must be accepted", because business
rules (a note this action requires, end before start, a unit that cannot take the demand) rightly
answer 4xx to input the schema alone cannot rule out.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from changxin.api.tests.client import key_for
from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, new_demand
from changxin.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Calls go through the real WSGI handler, whose request signals would close the test's database
    connection (fatal inside the test transaction on PostgreSQL). Django's test Client does the same."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_key(world):
    """A centre operator key (the widest write rights) and a few demands to read and act on."""
    for street in (LUGOUQIAO, CHANGXINDIAN, None):
        new_demand(world["dispatcher"], street_code=street)
    return key_for(world["dispatcher"])


# Loaded at collection: the schema endpoint touches no database. (The lazy
# `schemathesis.pytest.from_fixture` of schemathesis 4.32 fails under pytest 9: no `Function._nodeid`.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, fuzz_key):
    case.call_and_validate(headers={"X-API-Key": fuzz_key}, checks=CHECKS)
