"""The wings not built yet (today 多点; earlier also 先丰港 and 先锋者) say what is coming when tapped
(issue 14, point 17)."""

import pytest

from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("key", ["brands"])
def test_a_tap_on_a_coming_section_says_what_is_coming_on_a_phone(phone_page, live_server, demo_world, key):
    page = phone_page
    page.goto(live_server.url + "/station/")
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


def test_the_coming_sections_open_with_a_click_on_the_desktop(page, live_server, demo_world):
    login(page, live_server, "dispatcher")
    page.click("#nav-brands > summary")
    assert "品牌" in page.locator("#nav-brands .coming-text").inner_text()
    assert_fits(page)
    shot(page, "coming-brands-1366")
    assert_accessible(page)
