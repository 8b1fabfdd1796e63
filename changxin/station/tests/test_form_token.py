"""The portal's submission token is tied to the browser session: a token seen elsewhere (another
session, a forged or a bare id) is refused, so it can neither file nor fetch someone's demand."""

import pytest
from django.test import Client

from changxin.core.tests.builders import street_and_community
from changxin.demands.models import Demand


@pytest.fixture
def data(demo_world):
    street, community = street_and_community()
    return {
        "demand_type": "complaint",
        "title": "小区路灯不亮",
        "content": "北门的路灯坏了一个星期。",
        "street": street.pk,
        "community": community.pk,
        "address": "卢沟桥南里北门",
        "requester_name": "韩梅梅",
        "requester_phone": "13912345678",
    }


def token_of(client, url="/station/submit/"):
    return client.get(url).context["form"].initial["token"]


def test_a_token_from_another_session_is_refused(data):
    victim, attacker = Client(), Client()
    token = token_of(victim)
    assert victim.post("/station/submit/", {**data, "token": token}).status_code == 302
    demand = Demand.objects.get()
    response = attacker.post("/station/submit/", {**data, "token": token})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert Demand.objects.count() == 1
    assert demand.tracking_code not in response.content.decode()
    assert attacker.get("/station/submit/done/").status_code == 302  # nothing submitted in this session


BARE = "2f1c7e0a-5b7d-4c1e-9a55-0d6f3c2b8e41"  # fixed: xdist workers must collect the same ids


@pytest.mark.parametrize("token", [BARE, BARE.replace("-", ""), "x" * 32 + ":forged", ""])
def test_bare_or_forged_tokens_are_refused(client, data, token):
    token_of(client)  # the session has its key
    response = client.post("/station/submit/", {**data, "token": token})
    assert response.status_code == 400
    assert not Demand.objects.exists()


def test_the_token_survives_logging_in(client, data, demo_world):
    token = token_of(client)
    client.force_login(demo_world["citizen"])
    assert client.post("/station/submit/", {**data, "token": token}).status_code == 302
    assert Demand.objects.get().requester_user == demo_world["citizen"]


def test_intake_tokens_are_tied_too(data, demo_world):
    operator, other = Client(), Client()
    operator.force_login(demo_world["dispatcher"])
    other.force_login(demo_world["admin"])
    token = token_of(operator, "/station/intake/")
    call = {**data, "urgency": "normal", "token": token}
    assert other.post("/station/intake/", call).status_code == 400
    assert operator.post("/station/intake/", call).status_code == 302
    assert Demand.objects.count() == 1
