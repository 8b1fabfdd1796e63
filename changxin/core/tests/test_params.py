"""Bad parameters are a field error or ignored, never a 500 (core/params.py and where it is used)."""

import datetime as dt

import pytest
from django.test import Client

from changxin.core import params
from changxin.core.tests.builders import LUGOUQIAO, new_demand

UNREADABLE_NUMBERS = ["١٢٣", "²", "１２３", "12a", "1e3", " ", "-", "9" * 40, "0x10", "1_000"]
OUT_OF_RANGE_DATES = ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01", "2025-02-30", "٢٠٢٥-٠١-٠١"]


@pytest.mark.parametrize("value", UNREADABLE_NUMBERS)
def test_parse_int_refuses_what_int_would_misread(value):
    assert params.parse_int(value) is None
    if value.strip():  # blank is "not given", even when strict
        with pytest.raises(params.ParamError) as err:
            params.parse_int(value, strict=True, field="unit")
        assert err.value.field == "unit"


def test_parse_int_bounds_and_defaults():
    assert params.parse_int("42") == 42
    assert params.parse_int(" 7 ", min_value=1, max_value=10) == 7
    assert params.parse_int("0", min_value=1) is None
    assert params.parse_int("-3", min_value=-5) == -3
    assert params.parse_int(str(2**63), default=5) == 5
    assert params.parse_int("", strict=True) is None
    assert params.is_id("12") and not params.is_id("١٢") and not params.is_id("0")


@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES)
def test_parse_date_and_month_keep_years_in_range(value):
    assert params.parse_date(value) is None
    assert params.parse_month(value[:7]) is None or value == "2025-02-30"
    with pytest.raises(params.ParamError):
        params.parse_date(value, strict=True, field="from")


def test_parse_dates_in_range():
    assert params.parse_date("2025-03-04") == dt.date(2025, 3, 4)
    assert params.parse_month("2025-03") == dt.date(2025, 3, 1)
    assert params.parse_month("2025-03-17") == dt.date(2025, 3, 1)
    assert params.parse_datetime("2025-03-04T10:00:00+08:00").utcoffset() == dt.timedelta(hours=8)
    assert params.parse_datetime("2025-03-04") == dt.datetime(2025, 3, 4)
    assert params.parse_datetime("9999-12-31T23:59:59") is None
    assert params.parse_datetime("２０２５-03-04T10:00") is None


BAD = UNREADABLE_NUMBERS[:4] + OUT_OF_RANGE_DATES[:2]


@pytest.mark.django_db
@pytest.mark.parametrize("bad", BAD)
def test_pages_named_in_the_probe_never_answer_500(demo_world, bad):
    demand = new_demand(demo_world["dispatcher"], street_code=LUGOUQIAO)
    operator, officer = Client(), Client()
    operator.force_login(demo_world["dispatcher"])
    officer.force_login(demo_world["lugouqiao"])
    anonymous = Client()
    filters = dict.fromkeys(("category", "street", "lead_unit", "received_from", "received_to"), bad)
    checks = [
        (operator, "get", "/demands/", filters),
        (operator, "get", "/demands/queue/", filters),
        (operator, "get", "/demands/overdue/", filters),
        (operator, "get", "/insight/", {"month": bad}),
        (operator, "get", "/insight/", {"month": bad[:7]}),
        (
            operator,
            "get",
            "/insight/drill/",
            {"month": bad[:7], "metric": "response", "part": "all", **filters},
        ),
        (operator, "get", "/insight/export/rankings/", {"month": bad[:7]}),
        (operator, "get", "/insight/export/demands/", filters),
        (operator, "get", f"/insight/units/{LUGOUQIAO}/", {"month": bad[:7]}),
        (anonymous, "get", "/station/options/communities/", {"street": bad}),
        (anonymous, "get", "/open311/v2/requests.json", {"service_code": bad}),
        (anonymous, "get", "/open311/v2/requests.json", {"start_date": bad}),
        (anonymous, "get", "/open311/v2/requests.xml", {"end_date": bad}),
        (anonymous, "get", f"/open311/v2/services/{bad}.json", {}),
        (officer, "post", "/triage/reply-check/", {"demand_id": bad, "reply": "已处理"}),
        (officer, "post", f"/demands/{demand.pk}/act/task_acknowledge/", {"task": bad}),
    ]
    for client, method, url, data in checks:
        response = getattr(client, method)(url, data)
        assert response.status_code < 500, (url, data, response.status_code)
    assert anonymous.get("/open311/v2/requests.json", {"start_date": bad}).status_code == 400


@pytest.mark.django_db
def test_ids_past_64_bits_in_the_path_are_not_found(demo_world):
    client = Client()
    client.force_login(demo_world["dispatcher"])
    huge = 10**20
    for url in (
        f"/demands/{huge}/",
        f"/demands/{huge}/quick-dispatch/",
        f"/demands/{huge}/attachments/1/",
        f"/triage/similar/{huge}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/demands/{huge}/act/supervise/").status_code == 404
