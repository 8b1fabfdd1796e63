"""Who files through which channel is the service's rule (demands/services.may_file_through), so the
API cannot do what the screens reserve: only the centre files hotline calls."""

import pytest

from changxin.api.tests.test_demands_api import INTAKE
from changxin.core.tests.builders import ensure_taxonomy
from changxin.demands import services
from changxin.demands.models import Channel, Demand

pytestmark = pytest.mark.django_db

CENTRE_CHANNELS = ["hotline", "leader_mailbox", "media", "import"]


@pytest.mark.parametrize("username", ["citizen", "enterprise", "lugouqiao", "lugouqiao_lead", "manager"])
@pytest.mark.parametrize("channel", ["hotline", "leader_mailbox", "media"])
def test_only_the_centre_files_hotline_calls_over_the_api(world, api_as, username, channel):
    response = api_as(username).post("/demands", {**INTAKE, "channel": channel})
    assert response.status_code == 403, response.content
    error = response.json()["errors"][0]
    assert error["code"] == "channel_not_allowed" and error["field"] == "channel"
    assert not Demand.objects.exists()


@pytest.mark.parametrize("username", ["dispatcher", "admin"])
def test_the_centre_files_hotline_calls(world, api_as, username):
    response = api_as(username).post("/demands", {**INTAKE, "channel": "hotline"})
    assert response.status_code == 201 and response.json()["channel"] == "hotline"


@pytest.mark.parametrize("username", ["citizen", "lugouqiao"])
def test_open_channels_are_open(world, api_as, username):
    assert api_as(username).post("/demands", {**INTAKE, "channel": "web"}).status_code == 201
    assert api_as(username).post("/demands", INTAKE).json()["channel"] == "api"


def test_the_rule_table(world):
    ensure_taxonomy()
    users = world
    assert services.may_file_through(None, Channel.HOTLINE)  # the system: imports, demo
    for channel in CENTRE_CHANNELS:
        assert services.may_file_through(users["dispatcher"], channel)
        assert not services.may_file_through(users["citizen"], channel)
        assert not services.may_file_through(users["lugouqiao"], channel)
    assert services.may_file_through(users["enterprise"], Channel.ENTERPRISE_PORTAL)
    assert not services.may_file_through(users["citizen"], Channel.ENTERPRISE_PORTAL)
    assert services.may_file_through(users["lugouqiao"], Channel.PROACTIVE)
    assert not services.may_file_through(users["citizen"], Channel.PROACTIVE)
    for channel in Channel.values:  # read-only leadership never files, through any channel
        assert not services.may_file_through(users["leader"], channel)


def test_leadership_cannot_file_on_the_portal(client, world):
    client.force_login(world["leader"])
    page = client.get("/station/submit/")
    data = {
        "demand_type": "complaint",
        "title": "路灯不亮",
        "content": "小井村北口路灯坏了。",
        "address": "卢沟桥街道小井村北口",
        "requester_name": "领导",
        "requester_phone": "13900001111",
        "token": page.context["form"].initial["token"],
    }
    response = client.post("/station/submit/", data)
    assert response.status_code == 403
    assert not Demand.objects.exists()
