"""Tracking by code: public timeline without personal data, rating exactly once, brute-force limit."""

import pytest
from django.test import override_settings

from changxin.core.tests.builders import station_demand, station_replied_demand
from changxin.demands import services as demand_services
from changxin.demands.models import Resolution, Satisfaction, State
from changxin.demands.workflow import WorkflowError
from changxin.station import services

RATING = {"resolution": Resolution.RESOLVED, "satisfaction": Satisfaction.SATISFIED}


def url(demand):
    return f"/station/track/{demand.tracking_code}/"


def test_track_form_redirects_to_the_status_page(client, demo_world):
    demand = station_demand()
    code = demand.tracking_code
    response = client.get("/station/track/", {"code": f" {code[:5].lower()}-{code[5:]} "})
    assert response.status_code == 302 and response.url == url(demand)


def test_status_page_shows_progress_without_personal_data(client, demo_world):
    demand = station_replied_demand(demo_world)
    response = client.get(url(demand))
    assert response.status_code == 200
    text = response.text
    assert demand.number in text
    assert str(State.REPLIED.label) in text
    assert "卢沟桥街道" in text  # the lead unit's name
    assert demand.reply in text  # the official reply
    assert [e.label for e in response.context["timeline"]] == [
        str(State.RECEIVED.label),
        str(State.DISPATCHED.label),
        str(State.ACKNOWLEDGED.label),
        str(State.CONTACTED.label),
        str(State.REPLIED.label),
    ]
    assert response.context["timeline"][1].unit == "卢沟桥街道"
    # no requester name/phone, no officer names, no internal notes
    for secret in ("韩梅梅", "13912345678", "5678", "李强", "lugouqiao", "dispatcher", "约定上门"):
        assert secret not in text, secret
    assert response.context["demand"].finish_due.strftime("%Y-%m-%d") in text


def test_unknown_and_malformed_codes_look_the_same(client, demo_world):
    station_demand()
    unknown = client.get("/station/track/ABCDEFGHJK/")
    malformed = client.get("/station/track/x'--/")
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.context["error"] == malformed.context["error"]


def test_requester_rates_by_code_exactly_once(client, demo_world):
    demand = station_replied_demand(demo_world)
    page = client.get(url(demand))
    assert page.context["can_rate"] and 'name="resolution"' in page.text
    response = client.post(url(demand), RATING)  # not signed in: the code is enough
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.state == State.VISITED
    assert (demand.resolution, demand.satisfaction) == (Resolution.RESOLVED, Satisfaction.SATISFIED)
    event = demand.events.get(action="return_visit")
    assert event.actor is None and event.actor_name == "requester"  # proven by the code, not signed in
    after = client.get(url(demand))
    assert 'name="resolution"' not in after.text
    # a second rating is refused and changes nothing
    again = client.post(url(demand), {"resolution": "unresolved", "satisfaction": "dissatisfied"})
    assert again.status_code == 302
    demand.refresh_from_db()
    assert demand.satisfaction == Satisfaction.SATISFIED
    assert demand.events.filter(action="return_visit").count() == 1
    with pytest.raises(WorkflowError) as err:
        services.rate_by_tracking_code(demand.tracking_code, **RATING)
    assert err.value.code == "illegal_state"


def test_rating_only_when_replied(client, demo_world):
    demand = station_demand(actor=demo_world["citizen"])
    page = client.get(url(demand))
    assert page.context["rating_form"] is None and 'name="resolution"' not in page.text
    client.post(url(demand), RATING)
    demand.refresh_from_db()
    assert demand.state == State.RECEIVED and demand.resolution == ""
    with pytest.raises(WorkflowError):
        services.rate_by_tracking_code(demand.tracking_code, **RATING)


def test_rating_needs_both_answers(client, demo_world):
    demand = station_replied_demand(demo_world)
    response = client.post(url(demand), {"resolution": "resolved"})
    assert response.status_code == 400
    assert list(response.context["rating_form"].errors) == ["satisfaction"]
    demand.refresh_from_db()
    assert demand.state == State.REPLIED


def test_demand_without_account_is_rated_by_the_tracking_code_holder(client, demo_world):
    demand = station_replied_demand(demo_world, by_citizen=False)
    page = client.get(url(demand))
    assert page.context["can_rate"] and 'name="resolution"' in page.text
    services.rate_by_tracking_code(demand.tracking_code, **RATING)
    demand.refresh_from_db()
    assert demand.state == State.VISITED
    event = demand.events.get(action="return_visit")
    assert event.actor is None and event.actor_name == "requester" and not event.automatic
    with pytest.raises(WorkflowError):  # exactly once
        services.rate_by_tracking_code(demand.tracking_code, **RATING)


def test_answered_at_intake_consultation_shows_the_centre(client, demo_world):
    demand = station_demand(actor=demo_world["citizen"], demand_type="consult")
    demand_services.transition(demand, "answer", demo_world["dispatcher"], note="办理居住证请到社区服务站。")
    response = client.get(url(demand))
    assert "办理居住证请到社区服务站。" in response.text
    assert response.context["timeline"][-1].label != str(State.REPLIED.label)  # "answered at intake"
    assert response.context["can_rate"]


@override_settings(CHANGXIN_STATION_TRACK_RATE="5/h")
def test_code_lookups_are_rate_limited_per_ip(client, demo_world):
    demand = station_demand()
    for i in range(5):
        assert client.get(f"/station/track/ABCDEFGH{i}K/").status_code == 404
    blocked = client.get(url(demand))  # even the right code, once the address is blocked
    assert blocked.status_code == 429
    assert demand.number not in blocked.text
    assert client.get(url(demand), REMOTE_ADDR="10.9.8.7").status_code == 200
