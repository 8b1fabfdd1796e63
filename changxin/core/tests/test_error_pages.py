"""Every error page (403, 404, 429, 500, CSRF failure) wears the site's layout and speaks Chinese."""

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error
from django_ratelimit.exceptions import Ratelimited

from changxin.core import views
from changxin.core.tests.builders import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def assert_site_page(html: str):
    assert 'class="site-header"' in html and "长辛先锋" in html
    assert "<footer" in html
    assert "Forbidden" not in html and "Not Found" not in html


def test_404_is_chinese_in_the_site_layout(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_site_page(html)
    assert "页面不存在" in html and "返回首页" in html


def test_403_for_a_citizen_opening_data_is_chinese_and_data_is_not_offered(client):
    client.force_login(make_user("zhang", "citizen", password=PASSWORD))
    home = client.get("/").content.decode()
    assert 'id="nav-insight"' not in home  # navigation does not offer 数据 to the public
    response = client.get("/insight/")
    assert response.status_code == 403
    html = response.content.decode()
    assert_site_page(html)
    assert "此页面不对您的账号开放" in html


def test_ratelimited_answers_429_in_the_site_layout(rf: RequestFactory):
    request = rf.get("/station/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = views.permission_denied(request, Ratelimited())
    assert response.status_code == 429
    html = response.content.decode()
    assert_site_page(html)
    assert "请求过于频繁" in html


def test_csrf_failure_is_chinese_in_the_site_layout():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert_site_page(html)
    assert "表单已过期" in html


def test_500_renders_without_a_request_or_the_database(rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert 'class="site-header"' in html and "长辛先锋" in html
    assert "服务器出错了" in html and "Server Error" not in html
