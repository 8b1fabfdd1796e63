"""Only the requester rates: a tracking code seen at work (or another citizen's account) does not make
anyone the requester, and read-only accounts never write, whatever the path (demands/services.py)."""

import pytest

from changxin.core.tests.builders import station_replied_demand
from changxin.demands import services as demand_services
from changxin.demands.models import Resolution, Satisfaction, State
from changxin.demands.workflow import WorkflowError
from changxin.station import services

RATING = {"resolution": Resolution.RESOLVED, "satisfaction": Satisfaction.SATISFIED}
STAFF = ["lugouqiao", "lugouqiao_lead", "leader", "dispatcher", "admin", "manager", "inspector", "party"]


def url(demand):
    return f"/station/track/{demand.tracking_code}/"


@pytest.mark.parametrize("username", STAFF)
@pytest.mark.parametrize("by_citizen", [True, False])
def test_staff_account_with_the_code_cannot_rate(client, demo_world, username, by_citizen):
    demand = station_replied_demand(demo_world, by_citizen=by_citizen)
    user = demo_world[username]
    client.force_login(user)
    page = client.get(url(demand))
    assert page.status_code == 200
    assert not page.context["can_rate"] and 'name="resolution"' not in page.text
    client.post(url(demand), RATING)
    with pytest.raises(WorkflowError):
        services.rate_by_tracking_code(demand.tracking_code, user=user, **RATING)
    assert not demand_services.may(user, demand, "return_visit", requester_code=demand.tracking_code)
    demand.refresh_from_db()
    assert demand.state == State.REPLIED and demand.satisfaction == ""
    assert not demand.events.filter(action="return_visit").exists()


def test_another_citizens_account_cannot_rate_with_the_code(client, demo_world):
    demand = station_replied_demand(demo_world)  # filed by the demo citizen
    client.force_login(demo_world["enterprise"])
    assert not client.get(url(demand)).context["can_rate"]
    client.post(url(demand), RATING)
    demand.refresh_from_db()
    assert demand.state == State.REPLIED


def test_the_requesters_own_account_rates(client, demo_world):
    demand = station_replied_demand(demo_world)
    client.force_login(demo_world["citizen"])
    assert client.get(url(demand)).context["can_rate"]
    assert client.post(url(demand), RATING).status_code == 302
    demand.refresh_from_db()
    assert demand.state == State.VISITED
    assert demand.events.get(action="return_visit").actor == demo_world["citizen"]


def test_a_signed_in_citizen_rates_an_anonymous_filing_with_its_code(client, demo_world):
    demand = station_replied_demand(demo_world, by_citizen=False)
    client.force_login(demo_world["citizen"])
    assert client.post(url(demand), RATING).status_code == 302
    demand.refresh_from_db()
    assert demand.state == State.VISITED
