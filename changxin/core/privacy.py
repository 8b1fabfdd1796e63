"""Masking of personal data (PIPL: show it only to those who need it)."""

from __future__ import annotations

import re


def mask_name(name: str | None) -> str:
    """张三丰 → 张**; Alice Smith → A**** S****."""
    if not name:
        return ""
    name = name.strip()
    if re.search(r"[\u4e00-\u9fff]", name):
        return name[0] + "*" * max(1, len(name) - 1)
    return " ".join(part[0] + "*" * max(1, len(part) - 1) for part in name.split())


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678; 010-63812345 → 010-****2345."""
    if not phone:
        return ""
    digits = phone.strip()
    area, sep, local = digits.rpartition("-")
    if sep and area:  # landline with area code: the area code is not personal
        return f"{area}-{mask_phone(local)}"
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else max(0, len(digits) - 8)
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def mask_email(email: str | None) -> str:
    """zhang.wei@example.com → z*******@example.com."""
    if not email:
        return ""
    local, _, domain = email.strip().partition("@")
    masked = local[:1] + "*" * max(1, len(local) - 1)
    return f"{masked}@{domain}" if domain else masked


def mask_id_number(number: str | None) -> str:
    """110106199001011234 → 110106********1234."""
    if not number:
        return ""
    number = number.strip()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
