"""Pages every visitor meets: the landing and login pages and the error pages, in the site's layout,
at 1366 px and on a 390 px phone, accessible (WCAG 2.1 AA) — issue 14, points 12 and 18."""

import pytest

from changxin.core.tests.browser import assert_accessible, assert_fits, login, shot

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ["/", "/login/", "/station/", "/station/submit/", "/station/track/", "/no-such-page/"]


def visit_all(page, live_server, width):
    for path in PUBLIC_PAGES:
        page.goto(live_server.url + path)
        assert page.locator("header.site-header").count() == 1, path  # every page wears the layout
        assert_fits(page)
        assert_accessible(page)
        shot(page, f"pages-{path.strip('/').replace('/', '-') or 'welcome'}-{width}")


def test_public_pages_at_1366(page, live_server, demo_world):
    visit_all(page, live_server, "1366")


def test_public_pages_on_a_phone(phone_page, live_server, demo_world):
    visit_all(phone_page, live_server, "390")


def test_a_citizen_opening_data_gets_a_chinese_403_in_the_layout(phone_page, live_server, demo_world):
    page = phone_page
    login(page, live_server, "citizen")
    assert page.locator("#nav-insight").count() == 0  # not offered
    response = page.goto(live_server.url + "/insight/")
    assert response.status == 403
    assert "此页面不对您的账号开放" in page.inner_text("main")
    assert page.is_visible("header.site-header")
    assert_fits(page)
    assert_accessible(page)
    shot(page, "pages-403-390")


def test_the_404_page_is_chinese(page, live_server, demo_world):
    response = page.goto(live_server.url + "/demands/999999999/nothing/")
    assert response.status == 404
    assert page.inner_text("h1") == "页面不存在"
    page.click("text=返回首页")
    page.wait_for_url(live_server.url + "/")


def test_the_site_has_an_icon_and_the_browser_asks_for_nothing_missing(page, live_server, demo_world):
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(live_server.url + "/login/")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon.endswith("/img/favicon.svg")
    response = page.request.get(live_server.url + icon)
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    # a page that names no icon (the API's JSON): the browser's /favicon.ico goes to the same picture
    redirected = page.request.get(live_server.url + "/favicon.ico")
    assert redirected.ok and redirected.url.endswith("/img/favicon.svg")
    page.wait_for_load_state("networkidle")
    assert missing == []
