"""Builders shared by the REST and Open311 tests: demo world, keys, demands in given states."""

from __future__ import annotations

import json

from django.test import Client

from changxin.api import keys
from changxin.core.models import OrgUnit
from changxin.demands.models import Category
from changxin.demands.services import create_demand, transition
from changxin.demands.taxonomy import load_taxonomy

LUGOUQIAO, CHANGXINDIAN, CHENGGUAN = "110106017", "110106011", "110106D01"


def ensure_taxonomy() -> Category:
    """Categories come from a data migration, but a transactional test may have flushed them."""
    load_taxonomy()
    return Category.objects.filter(level=3, is_active=True).order_by("pk").first()


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def key_for(user, name: str = "test key") -> str:
    return keys.create_key(name, user=user)[1]


def new_demand(actor, *, street_code: str | None = None, category=None, **data):
    """A demand received by `actor` (an operator), dispatched to `street_code` when given."""
    fields = {
        "channel": "hotline",
        "demand_type": "complaint",
        "title": "楼下餐馆油烟扰民",
        "content": "每天晚上油烟很大，联系电话13812345678。",
        "requester_name": "张三丰",
        "requester_phone": "13812345678",
        "address": "卢沟桥街道小井村",
        "category": category or ensure_taxonomy(),
    }
    fields.update(data)
    demand, _ = create_demand(fields, actor=actor)
    if street_code:
        demand = transition(demand, "dispatch", actor, lead_unit=unit(street_code).pk)
    return demand


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
