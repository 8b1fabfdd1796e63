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


# --- contacts written into free text ---------------------------------------------------------

# A strict e-mail shape (a finder, not a validator): each candidate is then checked with Django's
# EmailValidator. Phone numbers are found by Google's libphonenumber (the `phonenumbers` port),
# which knows every Chinese mobile and landline format: +86…, 0086…, 138-1234-5678,
# 138 1234 5678, (010)63812345, 010-63812345.
EMAIL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")  # 居民身份证号码
PHONE_REGION = "CN"


def _masked_email(match: re.Match) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    found = match.group(0)
    try:
        validate_email(found)
    except ValidationError:
        return found
    return mask_email(found)


def _masked_number(number) -> str:
    """A parsed phone number, masked as `mask_phone` masks a stored one (138****5678, 010-****2345)."""
    import phonenumbers

    national = phonenumbers.national_significant_number(number)
    area = phonenumbers.length_of_geographical_area_code(number)
    if number.country_code == 86 and area:
        return f"0{national[:area]}-{mask_phone(national[area:])}"
    return mask_phone(national)


def scrub_phone_numbers(text: str) -> str:
    import phonenumbers

    pieces, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, leniency=phonenumbers.Leniency.VALID):
        pieces.append(text[last : match.start])
        pieces.append(_masked_number(match.number))
        last = match.end
    pieces.append(text[last:])
    return "".join(pieces)


def scrub_contacts(text: str | None) -> str:
    """Free text fit to publish: ID numbers, e-mail addresses and phone numbers a requester wrote
    into it are masked (张三 13812345678 → 张三 138****5678). Names cannot be told from other
    words, so texts the public sees are written for the public (unit replies) or shown only to
    their author; this catches the contacts people type anyway.

    Used wherever free text goes public: Open311, the public tracking page, public pages.
    """
    if not text:
        return ""
    text = ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(1)), text)
    text = EMAIL_IN_TEXT.sub(_masked_email, text)
    return scrub_phone_numbers(text)
