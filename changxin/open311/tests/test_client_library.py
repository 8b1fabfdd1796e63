"""An unmodified third-party client, `georeport` 0.3.1 from PyPI, against a live server.

georeport reads (services, service definitions, requests) in JSON and XML (it parses XML with
xmltodict); it has no method to post, so the request is posted with `requests`, form-encoded per
the spec, and then read back through the library.
"""

import pytest
import requests

georeport = pytest.importorskip("georeport")

PERSONAL = ["王小明", "13912345678", "wang@example.com", "acct-77"]


@pytest.fixture
def server(live_server, world, integration_key):
    return live_server.url + "/open311/v2", integration_key


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_what_a_spec_post_created(server, fmt):
    root, key = server
    client = georeport.GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    assert len(services) > 400
    code = services[0]["service_code"]
    definition = client.get_service_definition(code)
    assert definition["service_code"] == code

    posted = requests.post(
        f"{root}/requests.{fmt}",
        data={
            "api_key": key,
            "service_code": code,
            "lat": "39.8512",
            "long": "116.2412",
            "description": "路灯不亮，联系13912345678",
            "first_name": "王",
            "last_name": "小明",
            "phone": "13912345678",
            "email": "wang@example.com",
            "account_id": "acct-77",
            "attribute[demand_type]": "complaint",
        },
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    request_id = posted.json()[0]["service_request_id"] if fmt == "json" else None
    if fmt == "xml":
        import xml.etree.ElementTree as ET

        request_id = ET.fromstring(posted.content).findtext("request/service_request_id")

    one = client.get_service_request(request_id)
    assert one["service_request_id"] == request_id
    assert one["service_code"] == code and one["status"] == "open"
    listed = client.get_service_requests(status="open")
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one element is a dict
    assert request_id in [r["service_request_id"] for r in listed]
    assert client.get_service_requests(service_request_id=request_id)
    assert not any(p in str(one) + str(listed) for p in PERSONAL)
