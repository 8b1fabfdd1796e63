"""Reply check: rules on hand-written replies, the htmx endpoint, and (when the shared data folder is
present) the measurement on real message/reply pairs."""

import csv
import os
import random
from pathlib import Path

import pytest
from django.urls import reverse

from changxin.core.models import OrgUnit
from changxin.demands.services import create_demand, transition
from changxin.triage.replycheck import check_reply

TITLE = "莲玉嘉园小区楼道堆放杂物"
CONTENT = "莲玉嘉园5号楼楼道长期堆放杂物，电动车在楼道充电，存在消防隐患，物业不管，请尽快清理楼道杂物。"
DATA = Path(os.environ.get("CHANGXIN_SHARED_DATA", "/work/shared/data"))


def test_a_good_reply_passes():
    reply = "您好！您反映的莲玉嘉园5号楼楼道堆放杂物问题，街道已于6月3日协调物业清理完毕，并对电动车楼道充电进行劝导，今后将每周巡查。"
    result = check_reply(TITLE, CONTENT, reply)
    assert result.ok, result.warnings
    assert result.found["action"] and result.found["time"]


def test_an_acknowledgement_only_says_nothing_concrete():
    result = check_reply(TITLE, CONTENT, "您好，您反映的“莲玉嘉园小区楼道堆放杂物”问题已收悉，感谢您的关注。")
    assert "no_action" in result.codes
    assert "off_topic" in result.codes  # quoting the title does not count as answering it


def test_a_reply_about_something_else():
    reply = "您好！经核实，该路段路灯已由路灯管理所于5月10日修复，现已恢复照明。"
    result = check_reply(TITLE, CONTENT, reply)
    assert result.codes == ["off_topic"]
    assert "楼道" in result.warnings[0][1]


def test_a_promise_without_result_or_time():
    reply = "您好，关于楼道堆放杂物问题，社区将协调物业清理楼道杂物。"
    assert check_reply(TITLE, CONTENT, reply).codes == ["no_time"]


def test_basis_is_concrete():
    reply = "您好，根据《北京市物业管理条例》第五十五条，楼道属于共有部分，物业服务人应当清理楼道杂物，请向物业提出。"
    assert check_reply(TITLE, CONTENT, reply).ok


def test_empty_and_too_short():
    assert check_reply(TITLE, CONTENT, "  ").codes == ["empty"]
    assert "too_short" in check_reply(TITLE, CONTENT, "已处理。").codes


def test_the_reply_check_endpoint(demo_world, client):
    demand, _ = create_demand(
        {"demand_type": "complaint", "title": TITLE, "content": CONTENT}, actor=demo_world["dispatcher"]
    )
    transition(demand, "dispatch", demo_world["dispatcher"], lead_unit=OrgUnit.objects.get(name="卢沟桥街道"))
    url = reverse("triage:reply-check")
    client.force_login(demo_world["lugouqiao"])
    response = client.post(
        url, {"demand_id": demand.pk, "reply": "已收悉，感谢关注。"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-code="no_action"' in body and 'data-code="off_topic"' in body
    good = "街道已于6月3日协调物业清理完毕楼道杂物，并对楼道充电进行劝导。"
    assert 'data-code="ok"' in client.post(url, {"demand_id": demand.pk, "note": good}).content.decode()
    assert "data-code" not in client.post(url, {"demand_id": demand.pk, "reply": ""}).content.decode()
    assert client.get(url).status_code == 405
    assert client.post(url, {"demand_id": "x", "reply": good}).status_code == 404
    client.force_login(demo_world["changxindian"])  # another street: out of scope
    assert client.post(url, {"demand_id": demand.pk, "reply": good}).status_code == 404


@pytest.mark.skipif(not (DATA / "messages_replies.csv").exists(), reason="shared data folder absent")
def test_measured_on_real_replies():
    """Matched pairs mostly address their message; shuffled pairs almost never do."""
    with open(DATA / "messages_replies.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sample = random.Random(7).sample(rows, 300)
    substantive = [r for r in sample if len(r["reply"]) >= 150]
    matched_off = sum(
        "off_topic" in check_reply(r["title"], r["content"], r["reply"]).codes for r in substantive
    )
    shuffled = substantive[1:] + substantive[:1]
    mismatched_off = sum(
        "off_topic" in check_reply(r["title"], r["content"], s["reply"]).codes
        for r, s in zip(substantive, shuffled, strict=True)
    )
    assert matched_off / len(substantive) < 0.12
    assert mismatched_off / len(substantive) > 0.85
