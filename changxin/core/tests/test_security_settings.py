"""HTTPS settings from the environment, `check --deploy` clean, no-store on personal data, shared rate limits."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from changxin.core.models import Role
from changxin.core.tests.builders import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k7$Jd9!vQ2#pLm4@xR8^tW6&zN1*bY5(cH3)fG0_sE7+uA2-oI9=eK4~wD8|qT6",
    "ALLOWED_HOSTS": "changxin.example.gov.cn",
    "SECURE_COOKIES": "1",
}


def run_python(code_or_args, env_extra, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_", "REDIS_URL", "DEBUG", "SECRET_KEY"))
    }
    env.update(
        {"CHANGXIN_ENV_FILE": "", "CHANGXIN_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), **env_extra}
    )
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_under(env_extra, tmp_path, *names):
    code = (
        "import json; from changxin import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = run_python(["-c", code], env_extra, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_the_https_switch_turns_on_hsts_redirect_and_secure_cookies(tmp_path):
    names = (
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
    )
    on = settings_under({**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, tmp_path, *names)
    assert on["SECURE_HSTS_SECONDS"] >= 31536000
    assert on["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and on["SECURE_SSL_REDIRECT"]
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"]
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    off = settings_under({**PRODUCTION, "SECURE_COOKIES": "0"}, tmp_path, *names)
    assert off["SECURE_HSTS_SECONDS"] == 0 and not off["SECURE_SSL_REDIRECT"]
    assert not off["SESSION_COOKIE_SECURE"] and off["SECURE_PROXY_SSL_HEADER"] is None
    # Each switch on its own: HTTPS but HSTS shorter while trying it out.
    trial = settings_under({**PRODUCTION, "SECURE_HSTS_SECONDS": "300"}, tmp_path, *names)
    assert trial["SECURE_HSTS_SECONDS"] == 300 and trial["SECURE_SSL_REDIRECT"]


def test_the_rate_limit_counters_live_in_redis_when_redis_url_is_set(tmp_path):
    shared = settings_under(
        {**PRODUCTION, "REDIS_URL": "redis://127.0.0.1:6379/3"}, tmp_path, "CACHES", "RATELIMIT_USE_CACHE"
    )
    cache = shared["CACHES"][shared["RATELIMIT_USE_CACHE"]]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/3"
    alone = settings_under(PRODUCTION, tmp_path, "CACHES", "RATELIMIT_USE_CACHE")
    assert alone["CACHES"][alone["RATELIMIT_USE_CACHE"]]["BACKEND"].endswith("LocMemCache")


@pytest.mark.django_db
def test_pages_of_signed_in_users_and_api_answers_are_never_stored(client):
    anonymous = client.get("/")  # the public welcome page
    assert "no-store" not in anonymous.get("Cache-Control", "")
    assert "no-store" in client.get("/open311/v2/services.json")["Cache-Control"]
    assert "no-store" in client.get("/api/v1/demands").get("Cache-Control", "")
    assert "no-store" in client.get("/station/track/ABCD-1234/").get("Cache-Control", "")

    make_user("officer5", Role.OFFICER)
    client.post("/login/", {"username": "officer5", "password": PASSWORD})
    page = client.get("/units/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    assert "nonce-" in page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_static_files_stay_cacheable(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
