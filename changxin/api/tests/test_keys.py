"""API keys: hashed at rest, shown once, revocable, acting as their user; the command and the admin."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.test import Client

from changxin.api import keys
from changxin.api.models import ApiKey, ApiKeyKind
from changxin.api.tests.client import Api
from changxin.core.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


def test_key_is_stored_hashed_and_acts_as_its_user(world):
    key, raw = keys.create_key("mine", user=world["lugouqiao"])
    assert raw.startswith(f"cx_{key.prefix}_") and len(raw) > 40
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert keys.authenticate(raw).user == world["lugouqiao"]
    assert keys.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert keys.authenticate(f"cx_{key.prefix}_guess") is None
    assert keys.authenticate("not a key") is None
    response = Api(raw).get("/units", {"kind": "street"})
    assert response.status_code == 200
    assert [u["code"] for u in response.json()["items"]] == ["110106017"]  # the officer's own street
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_bearer_header_works_too(world):
    raw = keys.create_key("mine", user=world["dispatcher"])[1]
    response = Client().get("/api/v1/units", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200 and response.json()["count"] > 26


def test_revoked_key_and_inactive_user_are_refused(world):
    key, raw = keys.create_key("mine", user=world["lugouqiao"])
    keys.revoke_key(key)
    assert Api(raw).get("/units").status_code == 401
    key2, raw2 = keys.create_key("mine 2", user=world["changxindian"])
    world["changxindian"].is_active = False
    world["changxindian"].save()
    assert Api(raw2).get("/units").status_code == 401


def test_integration_client_gets_a_dedicated_operator(world):
    key, raw = keys.create_key("12345 hotline integration")
    assert key.kind == ApiKeyKind.INTEGRATION
    assert key.user.role == Role.OPERATOR and key.user.username == f"svc-{key.prefix}"
    assert not key.user.has_usable_password()
    assert Api(raw).get("/units").json()["count"] > 26  # district scope
    keys.revoke_key(key)
    key.user.refresh_from_db()
    assert not key.user.is_active
    assert AuditEntry.objects.filter(object_id=str(key.pk), detail="api key revoked").exists()


def test_apikey_command_create_list_revoke(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("apikey", "create", "station kiosk", "--user", "lugouqiao", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert keys.authenticate(raw).user.username == "lugouqiao"
    assert "not shown again" in err.getvalue()

    out = io.StringIO()
    call_command("apikey", "create", "12345 integration", stdout=out, stderr=io.StringIO())
    integration = keys.authenticate(out.getvalue().strip())
    assert integration.kind == "integration" and integration.user.role == "operator"

    out = io.StringIO()
    call_command("apikey", "list", stdout=out)
    listing = out.getvalue()
    assert "station kiosk" in listing and "12345 integration" in listing and raw not in listing

    prefix = keys.split_key(raw)[0]
    call_command("apikey", "revoke", prefix, stdout=io.StringIO())
    assert keys.authenticate(raw) is None
    out = io.StringIO()
    call_command("apikey", "list", stdout=out)
    assert "station kiosk" not in out.getvalue()
    out = io.StringIO()
    call_command("apikey", "list", "--all", stdout=out)
    assert "revoked" in out.getvalue()


def test_admin_creates_a_key_and_shows_it_once(world):
    client = Client()
    client.force_login(world["admin"])
    assert client.get("/admin/api/apikey/").status_code == 200
    response = client.post(
        "/admin/api/apikey/add/", {"name": "from admin", "user": world["lugouqiao"].pk}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word.rstrip("—").strip() for m in shown for word in m.split() if word.startswith("cx_"))
    assert keys.authenticate(raw).user == world["lugouqiao"]
    key = ApiKey.objects.get(name="from admin")
    response = client.post(
        "/admin/api/apikey/", {"action": "revoke_selected", "_selected_action": [key.pk]}, follow=True
    )
    assert keys.authenticate(raw) is None


def test_admin_page_is_for_district_admins_only(world):
    client = Client()
    client.force_login(world["lugouqiao"])
    assert client.get("/admin/api/apikey/").status_code == 403


@pytest.fixture
def key_cache(settings):
    """The per-process cache of authenticated keys on, as in production."""
    settings.CHANGXIN_API_KEY_CACHE_SECONDS = 60
    keys.forget()
    yield
    keys.forget()


def test_a_cached_key_costs_no_query_and_each_request_gets_its_own_user(
    world, key_cache, django_assert_num_queries
):
    key, raw = keys.create_key("mine", user=world["lugouqiao"])
    first = keys.authenticate(raw)  # looked up, last use stamped
    with django_assert_num_queries(0):
        second = keys.authenticate(raw)
    assert second.user == world["lugouqiao"] and second.user is not first.user and second is not first
    second.user.role = Role.ADMIN  # a request's own copy: nothing leaks to the next
    assert keys.authenticate(raw).user.role == world["lugouqiao"].role
    with django_assert_num_queries(1):  # a wrong secret is never answered from the cache
        assert keys.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None


def test_revoking_deactivating_or_changing_the_user_takes_effect_at_once(world, key_cache):
    key, raw = keys.create_key("mine", user=world["lugouqiao"])
    assert Api(raw).get("/units").status_code == 200
    keys.revoke_key(key)
    assert keys.authenticate(raw) is None and Api(raw).get("/units").status_code == 401
    key2, raw2 = keys.create_key("mine 2", user=world["changxindian"])
    assert Api(raw2).get("/units").status_code == 200
    officer = world["changxindian"]
    officer.role = Role.LEADERSHIP
    officer.save()
    assert keys.authenticate(raw2).user.role == Role.LEADERSHIP
    officer.is_active = False
    officer.save()
    assert Api(raw2).get("/units").status_code == 401
