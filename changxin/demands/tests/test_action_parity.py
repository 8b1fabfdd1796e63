"""The screens, the REST API and the citizen portal offer exactly the same actions — the workflow
machine's — for every demand of the demo, to every demo login."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from changxin.core import roles
from changxin.core.tests.builders import station_demand, station_replied_demand
from changxin.demands.demo import load_demo
from changxin.demands.models import Demand
from changxin.demands.selectors import demands_visible_to
from changxin.demands.services import available_actions

BUTTON = re.compile(r'name="do" value="([a-z_]+)"')
# one login per way of relating to a demand: centre, read-only, street and department staff, a
# unit leader, a service manager, the public
USERS = ["admin", "dispatcher", "leader", "lugouqiao", "lugouqiao_lead", "chengguan", "manager", "citizen"]


@pytest.fixture
def demo(demo_world, settings):
    settings.RATELIMIT_ENABLE = False  # the walk looks up hundreds of tracking codes from one address
    load_demo(None)
    # the demo demands come by phone; the citizen files two on the portal, one of them answered
    station_demand(actor=demo_world["citizen"])
    station_replied_demand(demo_world)
    return demo_world


def _screen_actions(client: Client, demand: Demand) -> set[str]:
    response = client.get(reverse("demands:detail", args=[demand.pk]))
    assert response.status_code == 200, (demand.number, response.status_code)
    return set(BUTTON.findall(response.content.decode()))


def _api_actions(client: Client, demand: Demand) -> set[str]:
    response = client.get(f"/api/v1/demands/{demand.pk}")
    assert response.status_code == 200, (demand.number, response.status_code)
    return {a["name"] for a in response.json()["available_actions"]}


def test_screen_and_api_offer_the_machines_actions_for_every_demand(demo):
    for username in USERS:
        _walk(demo[username])


def _walk(user):
    username = user.username
    client = Client()
    client.force_login(user)
    demands = list(demands_visible_to(user).select_related("lead_unit"))
    assert demands, f"{username} sees no demo demand"
    offered_somewhere = False
    for demand in demands:
        expected = {t.name for t in available_actions(user, demand)}
        offered_somewhere |= bool(expected)
        assert _api_actions(client, demand) == expected, (username, demand.number, demand.state)
        if roles.is_staff_side(user):
            assert _screen_actions(client, demand) == expected, (username, demand.number, demand.state)
    if not roles.is_read_only(user):
        assert offered_somewhere, f"{username} has nothing to do in the whole demo"


def test_the_portal_offers_rating_exactly_when_the_machine_lets_the_requester_rate(demo):
    client = Client()
    rateable = 0
    for demand in Demand.objects.all():
        machine = "return_visit" in {
            t.name for t in available_actions(None, demand, requester_code=demand.tracking_code)
        }
        page = client.get(reverse("station:track-status", args=[demand.tracking_code]))
        assert page.status_code == 200
        shows_form = 'id="rating-form"' in page.content.decode()
        assert shows_form == machine, (demand.number, demand.state)
        rateable += machine
    assert rateable > 0
