"""Contacts in free text (core/privacy.scrub_contacts): every way people write a Chinese phone number
or an e-mail address is masked before the text goes public."""

import pytest

from changxin.core.privacy import scrub_contacts

WRITTEN = [
    ("联系电话13812345678。", "13812345678", "138****5678"),
    ("请打+8613812345678", "+8613812345678", "138****5678"),
    ("电话 0086 138 1234 5678 谢谢", "1234", "138****5678"),
    ("call 138-1234-5678 now", "138-1234-5678", "138****5678"),
    ("手机138 1234 5678", "138 1234 5678", "138****5678"),
    ("座机(010)63812345", "63812345", "010-****2345"),
    ("座机010-63812345", "63812345", "010-****2345"),
    ("座机 010 6381 2345", "6381", "010-****2345"),
    ("邮箱zhang.wei@example.com谢谢", "zhang.wei@", "z********@example.com"),
    ("QQ邮箱 13812345678@qq.com", "13812345678", "1**********@qq.com"),
    ("身份证110106199001011234", "110106199001011234", "110106********1234"),
]


@pytest.mark.parametrize("text,secret,masked", WRITTEN)
def test_contacts_are_masked(text, secret, masked):
    scrubbed = scrub_contacts(text)
    assert secret not in scrubbed
    assert masked in scrubbed


@pytest.mark.parametrize(
    "text", ["拨打12345热线反映", "2025年3月4日 10:00", "编号FT250304000012", "面积120平方米", ""]
)
def test_other_numbers_stay(text):
    assert scrub_contacts(text) == text


def test_none_and_long_text():
    assert scrub_contacts(None) == ""
    long = "噪音扰民。" * 1000 + "13812345678"
    assert scrub_contacts(long).endswith("138****5678")
