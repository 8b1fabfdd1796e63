"""Login protection: lockout per account and per IP (django-axes), the audit trail, argon2, sessions."""

import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.core.management import call_command
from django.test import override_settings

from changxin import settings as production_settings
from changxin.core.middleware import IDLE_KEY
from changxin.core.models import AuditAction, AuditEntry, Role
from changxin.core.tests.builders import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def post_login(client, username, password, *, path="/login/", ip="198.51.100.7"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_a_hundred_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(client, settings):
    user = make_user("officer1", Role.OFFICER)
    for i in range(100):
        response = post_login(client, "officer1", f"wrong-{i}")
        assert response.status_code in (200, 429)
    assert response.status_code == 429
    response = post_login(client, "officer1", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert 'id="locked-out"' in page
    assert "登录失败次数过多" in page  # the Chinese lockout message (zh-hans by default)
    # From another address the account stays locked (per account), and its right password too.
    assert post_login(client, "officer1", PASSWORD, ip="203.0.113.9").status_code == 429

    failures = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, actor_name="officer1")
    assert failures.count() == 102
    assert set(failures.values_list("ip", flat=True)) == {"198.51.100.7", "203.0.113.9"}
    assert failures.filter(detail__contains="locked out").exists()
    assert failures.first().object_id == str(user.pk)
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN).exists()


def test_lockout_is_lifted_by_an_administrator_and_success_is_audited(client, settings):
    make_user("officer2", Role.OFFICER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "officer2", "wrong")
    assert post_login(client, "officer2", PASSWORD).status_code == 429

    call_command("axes_reset_username", "officer2")
    response = post_login(client, "officer2", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert (entry.actor_name, entry.ip, entry.detail) == ("officer2", "198.51.100.7", "/login/")


def test_one_address_guessing_many_accounts_is_locked_per_ip(client, settings):
    make_user("victim", Role.OFFICER)
    for i in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, f"nobody{i}", "wrong", ip="192.0.2.50")
    # A real account with its right password, from the same address: refused.
    assert post_login(client, "victim", PASSWORD, ip="192.0.2.50").status_code == 429
    # The same account from another address: let in (the account itself was never guessed).
    assert post_login(client, "victim", PASSWORD, ip="192.0.2.51").status_code == 302


def test_admin_login_is_protected_and_audited_too(client, settings):
    make_user("admin1", Role.ADMIN)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "admin1", "wrong", path="/admin/login/")
    assert post_login(client, "admin1", PASSWORD, path="/admin/login/").status_code == 429
    assert AccessAttempt.objects.filter(username="admin1").exists()
    assert (
        AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, detail__startswith="/admin/login/").count()
        == settings.AXES_FAILURE_LIMIT + 1
    )


def test_failures_below_the_limit_are_forgotten_after_a_success(client, settings):
    make_user("officer3", Role.OFFICER)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "officer3", "wrong")
    assert post_login(client, "officer3", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "officer3", "wrong")
    assert post_login(client, "officer3", PASSWORD).status_code == 302


def test_passwords_are_hashed_with_argon2_and_old_hashes_upgrade_at_login(client):
    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        assert get_hasher().algorithm == "argon2"
        assert make_password("x").startswith("argon2$")
        user = make_user("legacy", Role.OFFICER)
        user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
        user.save(update_fields=["password"])
        assert post_login(client, "legacy", PASSWORD).status_code == 302
        user.refresh_from_db()
        assert user.password.startswith("argon2$")
        assert check_password(PASSWORD, user.password)


def test_sessions_end_after_a_working_day_or_when_idle(client, settings):
    assert production_settings.SESSION_COOKIE_AGE == 8 * 3600
    make_user("officer4", Role.OFFICER)
    assert post_login(client, "officer4", PASSWORD).status_code == 302
    assert client.get("/units/").status_code == 200
    assert client.session[IDLE_KEY] > time.time() - 5
    session = client.session
    session[IDLE_KEY] = time.time() - settings.CHANGXIN_SESSION_IDLE_MINUTES * 60 - 1
    session.save()
    response = client.get("/units/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert "_auth_user_id" not in client.session
