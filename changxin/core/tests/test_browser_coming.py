"""A wing not built yet (earlier 先丰港, 先锋者 and 多点; today none) says what is coming when tapped
(issue 14, point 17). Core declares the placeholders (core/apps.py `wing`); the test adds one."""

import pytest
from django.apps import apps

from changxin.core.apps import wing
from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot

pytestmark = pytest.mark.browser

COMING = "A wing still to come, and what it will do."


@pytest.fixture
def coming_wing(monkeypatch):
    core = apps.get_app_config("core")
    monkeypatch.setattr(
        core, "navigation", [*core.navigation, wing("later", "Later", "Later wing", 45, COMING)]
    )
    return "later"


def test_a_tap_on_a_coming_section_says_what_is_coming_on_a_phone(
    phone_page, live_server, demo_world, coming_wing
):
    page = phone_page
    page.goto(live_server.url + "/station/")
    key = coming_wing
    text = page.locator(f"#nav-{key} .coming-text")
    assert not text.is_visible()
    page.tap(f"#nav-{key} > summary")
    text.wait_for(state="visible")
    assert "即将上线" in text.inner_text()
    box = text.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, f"coming-{key}-390")
    assert_accessible(page)
    page.tap(f"#nav-{key} > summary")  # a second tap closes it
    text.wait_for(state="hidden")


def test_the_coming_sections_open_with_a_click_on_the_desktop(page, live_server, demo_world, coming_wing):
    login(page, live_server, "dispatcher")
    page.click(f"#nav-{coming_wing} > summary")
    assert "即将上线" in page.locator(f"#nav-{coming_wing} .coming-text").inner_text()
    assert_fits(page)
    shot(page, "coming-later-1366")
    assert_accessible(page)
