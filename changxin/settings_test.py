"""Test settings: the real settings with a throwaway key, fast password hashing and in-memory jobs."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# A checkout's .env.local (make setup) must not change what the tests see.
os.environ["CHANGXIN_ENV_FILE"] = ""

from changxin.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True

# Jobs run inside the process that queues them, in memory, so a test sees their effect at once; the
# `queued_jobs` fixture switches to a real (in-memory) queue that `jobs.drain()` empties.
HUEY = {
    "name": "changxin-test",
    "huey_class": "huey.MemoryHuey",
    "immediate": True,
    "results": False,
    "utc": False,
}

# Intake's per-process lookups (demands/lookups.py) off: ids are reused after each rolled-back test.
CHANGXIN_LOOKUP_CACHE_SECONDS = 0
# The per-process cache of authenticated API keys (api/keys.py) off for the same reason.
CHANGXIN_API_KEY_CACHE_SECONDS = 0
