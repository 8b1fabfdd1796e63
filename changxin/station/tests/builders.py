"""Builders for station tests: real demands through the real services."""

from __future__ import annotations

import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile

from changxin.core.models import OrgUnit
from changxin.demands import services
from changxin.demands.models import Demand


def street_and_community(street_code="110106017"):
    street = OrgUnit.objects.get(code=street_code)
    return street, street.children.order_by("path").first()


def other_community(street):
    return OrgUnit.objects.filter(kind__in=["community", "village"]).exclude(parent=street).first()


def png_bytes(padding: int = 0) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"tEXt", b"c\x00" + b"x" * padding) + chunk(b"IEND", b"")


def png_upload(name="photo.png", padding=0):
    return SimpleUploadedFile(name, png_bytes(padding), content_type="image/png")


def create(actor=None, **overrides) -> Demand:
    street, community = street_and_community()
    data = {
        "demand_type": "complaint",
        "title": "楼下餐馆油烟扰民",
        "content": "每天晚上油烟很大，窗户都不能开。",
        "street": street,
        "community": community,
        "address": "卢沟桥南里3号楼",
        "requester_name": "韩梅梅",
        "requester_phone": "13912345678",
        "channel": "web",
    }
    data.update(overrides)
    demand, _ = services.create_demand(data, actor=actor)
    return demand


def replied(users, *, by_citizen=True) -> Demand:
    """A demand walked through dispatch → acknowledge → contact → reply (lead: 卢沟桥街道)."""
    demand = create(actor=users["citizen"] if by_citizen else None)
    lead = OrgUnit.objects.get(code="110106017")
    services.transition(demand, "dispatch", users["dispatcher"], lead_unit=lead)
    officer = users["lugouqiao"]
    services.transition(demand, "acknowledge", officer)
    services.transition(demand, "contact", officer, note="电话联系了诉求人韩梅梅，约定上门。")
    services.transition(demand, "reply", officer, note="已约谈餐馆，加装油烟净化设备，经回访油烟问题已解决。")
    demand.refresh_from_db()
    return demand
