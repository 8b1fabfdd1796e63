"""GeoReport v2 per docs OPEN311.md, in XML and JSON: every resource, errors, filters, privacy."""

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from changxin.core.tests.builders import LUGOUQIAO, new_demand
from changxin.demands.models import Channel, Demand
from changxin.demands.services import transition
from changxin.open311 import services

pytestmark = pytest.mark.django_db
BASE = "/open311/v2/"
PERSONAL = ["王小明", "13912345678", "wang@example.com", "acct-77"]


def get(path, fmt, **params):
    return Client().get(f"{BASE}{path}.{fmt}", params)


def parse(response, fmt):
    body = response.content
    if fmt == "xml":
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        return ET.fromstring(body)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(body.decode("utf-8"))


def post_request(key, service_code, fmt="json", **extra):
    data = {
        "api_key": key,
        "service_code": service_code,
        "lat": "39.851200",
        "long": "116.241200",
        "address_string": "卢沟桥街道小井村北口",
        "description": "井盖缺失，很危险。请联系我13912345678",
        "first_name": "王",
        "last_name": "小明",
        "phone": "13912345678",
        "email": "wang@example.com",
        "account_id": "acct-77",
        "attribute[demand_type]": "report",
        "attribute[urgency]": "urgent",
        **extra,
    }
    return Client().post(f"{BASE}requests.{fmt}", data)


@pytest.fixture
def service_code(world):
    return services.list_services()[0]["service_code"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_discovery(world, fmt):
    doc = parse(get("discovery", fmt), fmt)
    if fmt == "xml":
        assert doc.tag == "discovery"
        endpoint = doc.find("endpoints/endpoint")
        assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    else:
        assert doc["endpoints"][0]["url"].endswith("/open311/v2/")
        assert doc["endpoints"][0]["type"] == "production"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_services_and_definitions(world, fmt):
    doc = parse(get("services", fmt), fmt)
    if fmt == "xml":
        rows = [{child.tag: child.text for child in s} for s in doc.findall("service")]
    else:
        rows = doc
    assert len(rows) > 400  # the leaves of the taxonomy
    first = rows[0]
    assert set(first) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert str(first["metadata"]).lower() == "true" and first["type"] == "realtime"
    definition = parse(get(f"services/{first['service_code']}", fmt), fmt)
    if fmt == "xml":
        assert definition.findtext("service_code") == first["service_code"]
        attribute = definition.find("attributes/attribute")
        assert (
            attribute.findtext("code") == "demand_type"
            and attribute.findtext("datatype") == "singlevaluelist"
        )
        assert {v.findtext("key") for v in attribute.findall("values/value")} >= {"complaint", "report"}
    else:
        codes = [a["code"] for a in definition["attributes"]]
        assert codes == ["demand_type", "urgency", "title"]
        assert (
            definition["attributes"][1]["values"][0] == {"key": "normal", "name": "Ordinary"}
            or definition["attributes"][1]["values"][0]["key"] == "normal"
        )
    missing = get("services/999999999", fmt)
    assert missing.status_code == 404
    errors = parse(missing, fmt)
    if fmt == "xml":
        assert errors.tag == "errors" and errors.findtext("error/code") == "404"
    else:
        assert errors[0]["code"] == 404 and errors[0]["description"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_then_get_token_and_request_without_personal_data(world, integration_key, service_code, fmt):
    response = post_request(integration_key, service_code, fmt)
    assert response.status_code == 200, response.content
    body = parse(response, fmt)
    if fmt == "xml":
        request_id = body.findtext("request/service_request_id")
        token = body.findtext("request/token")
    else:
        request_id, token = body[0]["service_request_id"], body[0]["token"]
    demand = Demand.objects.get(number=request_id)
    assert demand.channel == Channel.OPEN311 and demand.demand_type == "report" and demand.urgency == "urgent"
    assert demand.requester_name == "王 小明" and demand.requester_phone == "13912345678"
    assert str(demand.category_id) == service_code and demand.latitude is not None

    by_token = parse(get(f"tokens/{token}", fmt), fmt)
    found = (
        by_token.findtext("request/service_request_id") if fmt == "xml" else by_token[0]["service_request_id"]
    )
    assert found == request_id

    one = get(f"requests/{request_id}", fmt)  # public: requests filed through Open311
    text = one.content.decode("utf-8")
    assert not any(p in text for p in PERSONAL), text
    doc = parse(one, fmt)
    item = {c.tag: c.text for c in doc.find("request")} if fmt == "xml" else doc[0]
    assert item["service_code"] == service_code and item["status"] == "open"
    assert item["status_notes"] and "139****5678" in item["description"]
    assert item["requested_datetime"].endswith("+08:00")
    assert set(item) >= {
        "service_request_id",
        "agency_responsible",
        "expected_datetime",
        "lat",
        "long",
        "zipcode",
    }


def test_post_errors(world, integration_key, service_code, key_of):
    assert post_request("", service_code).status_code == 403
    assert post_request("cx_bad_key", service_code).status_code == 403
    assert post_request(key_of("leader"), service_code).status_code == 403  # read-only
    assert post_request(integration_key, "999999999").status_code == 404
    assert post_request(integration_key, "").status_code == 400
    no_place = post_request(integration_key, service_code, lat="", long="", address_string="")
    assert no_place.status_code == 400 and "address_string" in no_place.json()[0]["description"]
    bad_attr = post_request(integration_key, service_code, **{"attribute[urgency]": "yesterday"})
    assert bad_attr.status_code == 400 and "urgency" in bad_attr.json()[0]["description"]
    bad_phone = post_request(integration_key, service_code, phone="12")
    assert bad_phone.status_code == 400 and "requester_phone" in bad_phone.json()[0]["description"]
    assert post_request(integration_key, service_code, lat="north").status_code == 400
    xml_error = post_request("", service_code, "xml")
    assert ET.fromstring(xml_error.content).findtext("error/code") == "403"
    assert not Demand.objects.exists()
    # address only, no attributes: defaults apply
    ok = post_request(integration_key, service_code, lat="", long="", **{"attribute[demand_type]": ""})
    assert ok.status_code == 200
    assert Demand.objects.get().demand_type == "complaint" and Demand.objects.get().latitude is None


def test_jurisdiction_and_method(world):
    assert get("services", "json", jurisdiction_id=services.jurisdiction_id()).status_code == 200
    assert get("services", "json", jurisdiction_id="").status_code == 200
    assert get("services", "json", jurisdiction_id="elsewhere.gov").status_code == 404
    refused = Client().post(f"{BASE}services.json")
    assert refused.status_code == 405 and refused.json()[0]["code"] == 405


def test_get_requests_filters_and_scope(world, integration_key, service_code, key_of):
    for _ in range(3):
        post_request(integration_key, service_code)
    first, second, third = Demand.objects.order_by("pk")
    transition(second, "answer", world["dispatcher"], note="已解答")  # closed
    Demand.objects.filter(pk=third.pk).update(received_at=timezone.now() - dt.timedelta(days=120))
    hotline = new_demand(world["dispatcher"], street_code=LUGOUQIAO)  # not public over Open311

    def ids(**params):
        return sorted(r["service_request_id"] for r in get("requests", "json", **params).json())

    assert ids() == sorted([first.number, second.number])  # default 90-day window
    assert ids(status="closed") == [second.number]
    assert ids(status="open,closed") == sorted([first.number, second.number])
    assert ids(service_request_id=f"{third.number},{hotline.number}") == [third.number]  # overrides window
    old = (timezone.now() - dt.timedelta(days=130)).isoformat()
    assert third.number in ids(start_date=old)
    assert ids(service_code="1") == []
    assert get("requests", "json", status="pending").status_code == 400
    assert get("requests", "json", start_date="last week").status_code == 400
    assert get(f"requests/{hotline.number}", "json").status_code == 404
    # a key sees the key user's scope: the street officer sees its hotline demand
    assert hotline.number in ids(api_key=key_of("lugouqiao"))
    assert first.number not in ids(api_key=key_of("lugouqiao"))
    assert get(f"requests/{hotline.number}", "xml", api_key=key_of("lugouqiao")).status_code == 200
    assert get("requests", "json", api_key="cx_nope_nope").status_code == 403
    assert get("tokens/unknown", "json").status_code == 404
    detail = get(f"requests/{hotline.number}", "json", api_key=key_of("lugouqiao")).json()[0]
    assert detail["agency_responsible"] == "卢沟桥街道" and "13812345678" not in json.dumps(detail)
