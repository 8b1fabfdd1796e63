"""Scoping as a person sees it in the browser: two street officers, the admin, a phone."""

import csv
import os
from pathlib import Path

import pytest

from changxin.core.divisions import DATA_DIR
from changxin.core.models import OrgUnit
from changxin.core.tests.browser import login

pytestmark = pytest.mark.browser

STREETS = {"lugouqiao": "110106017", "changxindian": "110106011"}
OTHER = {"lugouqiao": "changxindian", "changxindian": "lugouqiao"}


def communities_of(street_code):
    with open(DATA_DIR / "fengtai_communities.csv", encoding="utf-8-sig", newline="") as handle:
        return [row["name"] for row in csv.DictReader(handle) if row["street_code"] == street_code]


@pytest.mark.parametrize("username", ["lugouqiao", "changxindian"])
def test_officer_sees_only_their_own_street(page, live_server, demo_world, username):
    own, other = STREETS[username], STREETS[OTHER[username]]
    login(page, live_server, username)

    page.goto(f"{live_server.url}/units/")  # one page: a street and its communities/villages
    table = page.locator("#unit-table").inner_text()
    own_names, other_names = communities_of(own), communities_of(other)
    assert own_names and other_names
    for name in own_names:
        assert name in table
    for name in other_names:
        assert name not in table

    other_unit = OrgUnit.objects.filter(parent__code=other).order_by("code").first()
    response = page.goto(f"{live_server.url}/units/{other_unit.code}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/units/{other}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/admin/core/orgunit/{other_unit.pk}/change/")
    assert response.status == 404

    own_unit = OrgUnit.objects.filter(parent__code=own).order_by("code").first()
    response = page.goto(f"{live_server.url}/units/{own_unit.code}/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == own_unit.name


def test_pico_css_is_served(page, live_server, demo_world):
    page.goto(f"{live_server.url}/login/")
    css = page.request.get(f"{live_server.url}/static/vendor/pico/pico.min.css")
    assert css.ok and "--pico" in css.text()
    # the stylesheet is applied: Pico gives buttons a coloured background
    background = page.locator("form button[type=submit]").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background not in ("", "rgba(0, 0, 0, 0)", "rgb(239, 239, 239)")


def test_login_works_on_a_phone(phone_page, live_server, demo_world):
    phone_page.goto(f"{live_server.url}/login/")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the login page scrolls sideways on a phone"
    login(phone_page, live_server, "citizen")
    assert phone_page.url.rstrip("/") == live_server.url.rstrip("/")
    assert phone_page.locator("form[action='/logout/'] button").count() == 1


def test_wrong_password_is_refused(page, live_server, demo_world):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "wrong")
    page.click("form button[type=submit]")
    assert "/login/" in page.url
    assert page.locator("[role=alert]").count() == 1


def test_home_shows_real_counts_to_the_admin(page, live_server, demo_world):
    login(page, live_server, "admin")
    cards = page.locator(".cards .card").all_inner_texts()
    text = " ".join(cards)
    assert "26" in text and "440" in text
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # refreshes the README's picture
        page.screenshot(path=str(Path(__file__).resolve().parents[3] / "docs" / "screenshot-home.png"))


def test_home_counts_for_an_officer(page, live_server, demo_world):
    login(page, live_server, "lugouqiao")
    values = page.locator(".cards .card .value").all_inner_texts()
    assert values[:2] == ["1", str(len(communities_of(STREETS["lugouqiao"])))]
