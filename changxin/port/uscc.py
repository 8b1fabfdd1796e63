"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters from a 31-character alphabet (digits and upper-case letters without I, O, Z, S, V):

    position 1       registration authority (登记管理部门代码)
    position 2       organisation type (机构类别代码)
    positions 3–8    administrative division code (登记管理机关行政区划码): digits
    positions 9–17   organisation code (主体标识码, GB 11714)
    position 18      check character over positions 1–17

The check character: each of the first 17 characters has its value in the alphabet (0–30); the
values are weighted by 3^(i-1) mod 31 (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30,
28), summed, and the check value is 31 − (sum mod 31), where 31 is written 0.

    problem("91110106MA01ABCD2X")   # None when valid, else a translated reason naming the position
"""

from __future__ import annotations

from django.utils.translation import gettext as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


def normalise(code: str | None) -> str:
    """Spaces removed, upper case: what people paste from a licence."""
    return "".join((code or "").split()).upper()


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (all in the alphabet)."""
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str | None) -> str | None:
    """None when `code` is a valid 统一社会信用代码, else why not (naming the position)."""
    code = normalise(code)
    if not code:
        return _("The code is empty.")
    if len(code) != LENGTH:
        return _("The code has %(count)s characters; it must have 18.") % {"count": len(code)}
    for position, char in enumerate(code, start=1):
        if char not in VALUES:
            return _(
                "Character %(position)s (“%(char)s”) is not allowed: only digits and upper-case "
                "letters other than I, O, Z, S and V."
            ) % {"position": position, "char": char}
        if 3 <= position <= 8 and not char.isdigit():
            return _(
                "Character %(position)s (“%(char)s”) must be a digit: positions 3–8 are the "
                "administrative division code."
            ) % {"position": position, "char": char}
    expected = check_character(code[:17])
    if code[17] != expected:
        return _("Character 18 (the check character) is “%(found)s”; it should be “%(expected)s”.") % {
            "found": code[17],
            "expected": expected,
        }
    return None


def is_valid(code: str | None) -> bool:
    return problem(code) is None


def complete(first17: str) -> str:
    """The full code for 17 characters (demo data, tests)."""
    first17 = normalise(first17)
    return first17 + check_character(first17)
