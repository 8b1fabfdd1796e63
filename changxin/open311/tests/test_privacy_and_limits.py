"""Open311 publishes descriptions with every written contact masked, and its intake enforces the same
limits as the portal (the model's validators, through create_demand)."""

import pytest
from django.core.exceptions import ValidationError

from changxin.core.tests.builders import new_demand, station_demand
from changxin.demands.models import Channel, Demand
from changxin.open311 import services
from changxin.open311.tests.test_georeport import get, post_request

pytestmark = pytest.mark.django_db

CONTACTS = {
    "+8613812345678": "138****5678",
    "138-1234-5678": "138****5678",
    "138 1234 5678": "138****5678",
    "(010)63812345": "010-****2345",
    "zhang.wei@example.com": "z********@example.com",
}


@pytest.fixture
def service_code(world):
    return services.list_services()[0]["service_code"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("written,masked", list(CONTACTS.items()))
def test_get_masks_every_written_contact(world, integration_key, service_code, fmt, written, masked):
    response = post_request(integration_key, service_code, description=f"井盖缺失，请联系 {written} 谢谢")
    assert response.status_code == 200
    number = response.json()[0]["service_request_id"]
    text = get(f"requests/{number}", fmt).content.decode("utf-8")
    assert written not in text and "63812345" not in text and "1234 5678" not in text
    assert masked in text


def test_post_over_the_content_limit_is_refused_and_stores_nothing(world, integration_key, service_code):
    response = post_request(integration_key, service_code, description="很" * 600_000)
    assert response.status_code == 400
    assert (
        "description" in response.json()[0]["description"] or "content" in response.json()[0]["description"]
    )
    assert not Demand.objects.exists()
    huge = post_request(integration_key, service_code, description="很" * 1_000_000)  # past Django's cap
    assert huge.status_code == 413 and huge.json()[0]["code"] == 413
    assert not Demand.objects.exists()
    at_limit = post_request(integration_key, service_code, description="很" * 5000)
    assert at_limit.status_code == 200


def test_no_intake_path_stores_more_than_the_limit(world):
    with pytest.raises(ValidationError) as err:
        station_demand(content="长" * 5001)
    assert "content" in err.value.message_dict
    with pytest.raises(ValidationError):
        new_demand(world["dispatcher"], content="长" * 5001)
    assert not Demand.objects.exists()


def test_public_tracking_page_masks_contacts_in_title_and_reply(client, world):
    demand = station_demand(title="请回电138-1234-5678", channel=Channel.WEB)
    text = client.get(f"/station/track/{demand.tracking_code}/").content.decode()
    assert "138-1234-5678" not in text and "138****5678" in text
