"""关怀版 for older citizens on the public pages: larger text, higher contrast, a simpler layout,
remembered per browser (issue 14, point 18)."""

import pytest

from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot

pytestmark = pytest.mark.browser


def font_size(page, selector="main p"):
    return page.evaluate(f"parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)")


def test_care_mode_is_larger_simpler_and_remembered_on_a_phone(phone_page, live_server, demo_world):
    page = phone_page
    page.goto(live_server.url + "/station/")
    toggle = page.locator("#care-toggle")
    assert toggle.inner_text() == "关怀版"
    standard = font_size(page)
    assert page.is_visible("section.care-extra")

    toggle.tap()
    assert page.evaluate("document.documentElement.classList.contains('care')")
    assert toggle.inner_text() == "标准版"  # the way back
    assert font_size(page) >= standard * 1.2
    assert not page.is_visible("section.care-extra")
    assert_fits(page)
    assert_accessible(page)
    shot(page, "care-station-home-390")

    # remembered by the browser: the next pages come in care mode from the server
    page.goto(live_server.url + "/station/submit/")
    assert page.evaluate("document.documentElement.classList.contains('care')")
    assert_fits(page)
    assert_accessible(page)
    shot(page, "care-submit-390")

    page.locator("#care-toggle").tap()
    page.reload()
    assert not page.evaluate("document.documentElement.classList.contains('care')")


def test_staff_screens_do_not_offer_care_mode(page, live_server, demo_world):
    login(page, live_server, "dispatcher")
    assert page.locator("#care-toggle").count() == 0
