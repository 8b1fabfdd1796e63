"""The top navigation: entries declared in each AppConfig, shown to the roles that may open them."""

import pytest
from django.apps import apps
from django.urls import reverse

from changxin.core.apps import wing
from changxin.core.navigation import NavEntry, entries
from changxin.core.tests.builders import build_world


@pytest.fixture
def world(db):
    return build_world(calendar_years=(2026,))


def _nav(client, user=None) -> list[dict]:
    if user is not None:
        client.force_login(user)
    return client.get(reverse("home")).context["nav_sections"]


def test_sections_in_order():
    assert [e.key for e in entries()] == [
        "station",
        "port",
        "inspections",
        "pioneers",
        "brands",
        "insight",
        "notifications",
    ]


def test_the_public_sees_no_data_section(client, world):
    for user in (None, world.citizen):
        nav = _nav(client, user)
        # 先丰港 is for enterprise accounts and staff, 先锋者 for party staff, the district and linked
        # members: the public sees only the portal and the published brand matrix (多点)
        assert [s["key"] for s in nav] == ["station", "brands"]
        assert nav[0]["url"] == reverse("station:home")
        assert [s["url"] for s in nav[1:]] == [reverse("brands:home")]


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
    core, insight = apps.get_app_config("core"), apps.get_app_config("insight")
    placeholder = wing("later", "Later", "", 45, "coming later")
    monkeypatch.setattr(core, "navigation", [*core.navigation, placeholder])
    client.force_login(world.dispatcher)
    later = [s for s in client.get(reverse("home")).context["nav_sections"] if s["key"] == "later"]
    assert later[0]["url"] is None and later[0]["coming"] == "coming later"
    own = NavEntry("later", "Later", "", ("insight:home",), order=45, badge=lambda user: 7)
    monkeypatch.setattr(insight, "navigation", [*insight.navigation, own])
    response = client.get(reverse("home"))
    later = [s for s in response.context["nav_sections"] if s["key"] == "later"]
    assert later == [{**later[0], "url": reverse("insight:home"), "badge": 7, "coming": ""}]
    assert b'id="nav-later-badge"' in response.content and b">7</span>" in response.content


def test_two_apps_may_not_declare_the_same_entry(monkeypatch):
    config = apps.get_app_config("insight")
    monkeypatch.setattr(config, "navigation", [*config.navigation, NavEntry("station", "Again")])
    with pytest.raises(ValueError, match="station"):
        entries()
