"""Personal data in the Django admin: masked values cannot be rebuilt through the change list's
filters or search, and tracking codes are shown to the centre only (core/admin_scope.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from changxin.core.tests.builders import LUGOUQIAO, new_demand

pytestmark = pytest.mark.django_db

PHONE = "13812345678"

# (lookup, value that matches the demand's requester): each would tell "a row exists" apart from
# "no row" and so leak the value one guess at a time.
DEMAND_LOOKUPS = [
    ("requester_phone__startswith", PHONE[:4]),
    ("requester_phone__regex", "^1381"),
    ("requester_phone__contains", "1234"),
    ("requester_phone", PHONE),
    ("requester_name__regex", "^张"),
    ("requester_name__startswith", "张"),
    ("tracking_code__startswith", "A"),
    ("idempotency_key__isnull", "False"),
]


@pytest.fixture
def demand(demo_world):
    return new_demand(demo_world["dispatcher"], street_code=LUGOUQIAO, content="每天晚上油烟很大。")


@pytest.mark.parametrize("username", ["leader", "lugouqiao"])
@pytest.mark.parametrize("lookup,value", DEMAND_LOOKUPS)
def test_demand_changelist_refuses_lookups_on_personal_fields(
    client, demo_world, demand, username, lookup, value
):
    client.force_login(demo_world[username])
    url = reverse("admin:demands_demand_changelist")
    assert client.get(url).status_code == 200  # the list itself is open to them
    response = client.get(url, {lookup: value})
    assert response.status_code == 400


@pytest.mark.parametrize("lookup", ["demand__requester_phone__startswith", "demand__requester_name__regex"])
def test_lookups_through_a_relation_are_refused_too(client, demo_world, demand, lookup):
    client.force_login(demo_world["leader"])
    response = client.get(reverse("admin:notifications_outboundmessage_changelist"), {lookup: "1"})
    assert response.status_code == 400


@pytest.mark.parametrize("username", ["leader", "lugouqiao"])
def test_user_changelist_refuses_lookups_on_phone_and_email(client, demo_world, username):
    subject = demo_world["lugouqiao_lead"]
    client.force_login(demo_world[username])
    url = reverse("admin:core_user_changelist")
    for lookup, value in [
        ("phone__startswith", subject.phone[:3]),
        ("phone__regex", "^1"),
        ("phone__contains", subject.phone[-4:]),
        ("phone", subject.phone),
        ("email__startswith", "a"),
    ]:
        assert client.get(url, {lookup: value}).status_code == 400, lookup


def test_search_never_matches_personal_fields(client, demo_world):
    subject = demo_world["lugouqiao_lead"]
    assert subject.phone
    client.force_login(demo_world["lugouqiao"])
    response = client.get(reverse("admin:core_user_changelist"), {"q": subject.phone})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_district_administrators_may_filter_on_what_they_see(client, demo_world):
    subject = demo_world["lugouqiao_lead"]
    client.force_login(demo_world["admin"])
    response = client.get(reverse("admin:core_user_changelist"), {"phone": subject.phone})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [subject]


@pytest.mark.parametrize("username", ["leader", "lugouqiao", "lugouqiao_lead"])
def test_tracking_code_is_hidden_from_all_but_the_centre(client, demo_world, demand, username):
    client.force_login(demo_world[username])
    response = client.get(reverse("admin:demands_demand_change", args=[demand.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert demand.tracking_code not in html
    assert PHONE not in html and "张三丰" not in html


def test_centre_sees_the_tracking_code_but_never_the_unmasked_requester(client, demo_world, demand):
    client.force_login(demo_world["admin"])
    html = client.get(reverse("admin:demands_demand_change", args=[demand.pk])).content.decode()
    assert demand.tracking_code in html
    assert PHONE not in html and "138****5678" in html
    # not even the centre filters on the masked requester fields in the admin
    response = client.get(reverse("admin:demands_demand_changelist"), {"requester_phone__startswith": "138"})
    assert response.status_code == 400
