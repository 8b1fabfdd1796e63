"""The REST API test client and API keys (the world and demands come from core/tests/builders.py)."""

from __future__ import annotations

import json

from django.test import Client

from changxin.api import keys


def key_for(user, name: str = "test key") -> str:
    return keys.create_key(name, user=user)[1]


class Api:
    """A Django test client speaking to /api/v1/ with a key (or none)."""

    def __init__(self, raw_key: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"X-API-Key": raw_key} if raw_key else {}

    def get(self, path, params=None, **headers):
        return self.client.get("/api/v1" + path, params or {}, headers={**self.headers, **headers})

    def post(self, path, body=None, **headers):
        return self.client.post(
            "/api/v1" + path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers={**self.headers, **headers},
        )
