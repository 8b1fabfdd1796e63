"""Danger to life at intake: 12345 takes no emergencies — fire, rescue, medical and police calls go
to 119, 120 and 110 (RULES.md). The intake screen shows a visible hint with the referral when what
the caller says sounds like one, and the operator records the referral made on the demand."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SERVICES = {
    "119": _("119 fire and rescue"),
    "120": _("120 medical emergency"),
    "110": _("110 police"),
}

# Words that, in a caller's account, point to a danger to life and the service to refer to.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "119": (
        "着火",
        "火灾",
        "起火",
        "失火",
        "冒烟",
        "燃气泄漏",
        "煤气泄漏",
        "燃气味",
        "煤气味",
        "天然气味",
        "爆炸",
        "被困",
        "困在电梯",
    ),
    "120": ("昏迷", "晕倒", "不省人事", "呼吸困难", "大量出血", "煤气中毒", "中毒", "心脏病发作", "抽搐"),
    "110": ("打架", "斗殴", "持刀", "抢劫", "绑架", "家暴", "跳楼", "轻生"),
}


def referrals_for(*texts: str) -> list[str]:
    """The emergency numbers whose danger words occur in `texts`, in 119, 120, 110 order."""
    text = " ".join(t or "" for t in texts)
    return [number for number, words in KEYWORDS.items() if any(word in text for word in words)]
