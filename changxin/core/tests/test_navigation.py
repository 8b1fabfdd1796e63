"""The top navigation: entries declared in each AppConfig, shown to the roles that may open them."""

import pytest
from django.apps import apps
from django.urls import reverse

from changxin.core.navigation import NavEntry, entries
from changxin.core.tests.builders import build_world


@pytest.fixture
def world(db):
    return build_world(calendar_years=(2026,))


def _nav(client, user=None) -> list[dict]:
    if user is not None:
        client.force_login(user)
    return client.get(reverse("home")).context["nav_sections"]


def test_sections_in_order_with_placeholders_for_the_wings_to_come():
    assert [e.key for e in entries()] == ["station", "port", "pioneers", "brands", "insight", "notifications"]


def test_the_public_sees_no_data_section(client, world):
    for user in (None, world.citizen):
        nav = _nav(client, user)
        # 先丰港 is for enterprise accounts and staff, 先锋者 for party staff, the district and linked
        # members: the public sees only the portal and the coming 多点
        assert [s["key"] for s in nav] == ["station", "brands"]
        assert nav[0]["url"] == reverse("station:home")
        assert [s["url"] for s in nav[1:]] == [None]  # not yet available


def test_staff_see_data_and_reach_the_station_through_their_demand_screens(client, world):
    nav = {s["key"]: s for s in _nav(client, world.officer_lgq)}
    assert nav["insight"]["url"] == reverse("insight:home")
    assert nav["station"]["url"] == reverse("demands:index")
    assert client.get(nav["insight"]["url"]).status_code == 200


def test_the_current_section_is_marked(client, world):
    client.force_login(world.dispatcher)
    nav = client.get(reverse("insight:home")).context["nav_sections"]
    assert [s["key"] for s in nav if s["active"]] == ["insight"]


def test_a_badge_and_an_app_entry_replacing_a_placeholder(client, world, monkeypatch):
    config = apps.get_app_config("insight")
    own = NavEntry("brands", "Brands", "", ("insight:home",), order=40, badge=lambda user: 7)
    monkeypatch.setattr(config, "navigation", [*config.navigation, own])
    client.force_login(world.dispatcher)
    response = client.get(reverse("home"))
    brands = [s for s in response.context["nav_sections"] if s["key"] == "brands"]
    assert brands == [{**brands[0], "url": reverse("insight:home"), "badge": 7}]
    assert b'id="nav-brands-badge"' in response.content and b">7</span>" in response.content


def test_two_apps_may_not_declare_the_same_entry(monkeypatch):
    config = apps.get_app_config("insight")
    monkeypatch.setattr(config, "navigation", [*config.navigation, NavEntry("station", "Again")])
    with pytest.raises(ValueError, match="station"):
        entries()
