import pytest

from changxin.core.tests.browser import login


@pytest.mark.browser
def test_login_and_pico_served(page, live_server, demo_world):
    login(page, live_server, "admin")
    css = page.request.get(live_server.url + "/static/vendor/pico/pico.min.css")
    assert css.ok
    assert "--pico" in css.text()
