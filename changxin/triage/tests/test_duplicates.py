"""Duplicates of open demands at intake, similar closed cases, and their htmx partial."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core.models import OrgUnit
from changxin.demands.models import Demand
from changxin.demands.services import create_demand, transition
from changxin.triage.duplicates import (
    find_duplicates,
    maintain_index,
    shingles,
    similar_closed_cases,
    similarity,
)
from changxin.triage.gazetteer import seed_aliases

TEXT = "莲玉嘉园社区5号楼楼道长期堆放杂物，电动车在楼道充电，存在严重消防隐患，请物业尽快清理。"


@pytest.fixture
def world(demo_world):
    seed_aliases()
    return demo_world


def intake(world, capture, *, received_at=None, **data):
    values = {
        "demand_type": "complaint",
        "title": "楼道堆放杂物",
        "content": TEXT,
        "channel": "hotline",
    } | data
    with capture(execute=True):
        demand, _ = create_demand(values, actor=world["dispatcher"], received_at=received_at)
    demand.refresh_from_db()
    return demand


def test_similarity_measures():
    a = shingles("楼道堆放杂物存在消防隐患")
    assert similarity(a, a) == 1.0
    assert similarity(a, shingles("楼道堆放杂物，存在消防隐患！")) == 1.0  # punctuation ignored
    assert similarity(a, shingles("路灯不亮")) == 0.0
    long = shingles(TEXT)
    quoted = shingles("再次反映：" + TEXT + "上次反映后至今没有处理。")
    assert similarity(long, quoted) >= 0.8  # containment catches a re-submission quoting the first


def test_repeat_in_the_same_place_is_flagged_at_intake(world, django_capture_on_commit_callbacks):
    first = intake(world, django_capture_on_commit_callbacks)
    second = intake(
        world,
        django_capture_on_commit_callbacks,
        content="再次反映：" + TEXT.replace("尽快", "马上"),
    )
    assert [d["id"] for d in second.triage["duplicates"]] == [first.pk]
    assert second.triage["duplicates"][0]["number"] == first.number
    assert second.triage["duplicates"][0]["score"] >= 0.5
    assert first.triage["duplicates"] == []


def test_same_text_elsewhere_or_long_ago_or_closed_is_not_a_duplicate(
    world, django_capture_on_commit_callbacks
):
    elsewhere = intake(
        world, django_capture_on_commit_callbacks, content=TEXT.replace("莲玉嘉园", "青塔东里")
    )
    old = intake(
        world, django_capture_on_commit_callbacks, received_at=timezone.now() - dt.timedelta(days=10)
    )
    merged = intake(world, django_capture_on_commit_callbacks)
    master = intake(
        world,
        django_capture_on_commit_callbacks,
        title="另一件事",
        content="卢沟桥街道莲玉嘉园社区门口路灯不亮。",
    )
    transition(merged, "merge", world["dispatcher"], note="重复", master=master)
    new = intake(world, django_capture_on_commit_callbacks)
    ids = {d.pk for d, _ in find_duplicates(new)}
    assert elsewhere.pk not in ids and old.pk not in ids and merged.pk not in ids and master.pk not in ids


def test_different_communities_in_one_street_are_different_places(world):
    lugouqiao = OrgUnit.objects.get(name="卢沟桥街道")
    a, b = lugouqiao.children.order_by("code")[:2]
    now = timezone.now()
    create_demand(
        {
            "demand_type": "complaint",
            "title": "楼道堆放杂物",
            "content": TEXT,
            "street": lugouqiao,
            "community": a,
        },
        actor=world["dispatcher"],
    )
    maintain_index()  # triage did not run (no commit): the periodic job indexes the demand
    new = Demand(title="楼道堆放杂物", content=TEXT, street=lugouqiao, community=b, received_at=now)
    assert find_duplicates(new) == []
    new.community = a
    assert len(find_duplicates(new)) == 1


def test_window_setting(world, settings):
    create_demand(
        {"demand_type": "complaint", "title": "楼道堆放杂物", "content": TEXT, "address": "莲玉嘉园社区"},
        actor=world["dispatcher"],
        received_at=timezone.now() - dt.timedelta(days=3),
    )
    maintain_index()  # triage did not run (no commit): the periodic job indexes the demand
    new = Demand(title="楼道堆放杂物", content=TEXT, address="莲玉嘉园社区", received_at=timezone.now())
    assert len(find_duplicates(new)) == 1
    settings.CHANGXIN_DUPLICATE_WINDOW_DAYS = 2
    assert find_duplicates(new) == []


def close_with_reply(world, demand, reply):
    lugouqiao = OrgUnit.objects.get(name="卢沟桥街道")
    officer = world["lugouqiao"]
    transition(demand, "dispatch", world["dispatcher"], lead_unit=lugouqiao)
    transition(demand, "acknowledge", officer)
    transition(demand, "contact", officer, note="已电话联系")
    transition(demand, "reply", officer, note=reply)
    demand.refresh_from_db()
    return demand


def test_similar_closed_cases_are_scoped_and_ranked(world):
    def make(title, content):
        demand, _ = create_demand(
            {"demand_type": "complaint", "title": title, "content": content}, actor=world["dispatcher"]
        )
        return demand

    close_with_reply(world, make("楼道堆放杂物", TEXT), "已协调物业于3日内清理楼道杂物，并张贴禁止充电告示。")
    close_with_reply(
        world, make("路灯不亮", "小区门口路灯不亮两周了。"), "已联系路灯管理所维修，现已恢复照明。"
    )
    query = make("楼道里堆满杂物", "5号楼楼道堆放杂物和电动车充电，担心火灾。")
    cases = similar_closed_cases(query, world["lugouqiao"])
    assert [c.demand.title for c in cases][:1] == ["楼道堆放杂物"]
    assert all(c.demand.reply for c in cases)
    assert similar_closed_cases(query, world["changxindian"]) == []  # another street's officer sees none


def test_similar_partial_view(world, client):
    demand, _ = create_demand(
        {"demand_type": "complaint", "title": "楼道堆放杂物", "content": TEXT}, actor=world["dispatcher"]
    )
    closed, _ = create_demand(
        {"demand_type": "complaint", "title": "楼道堆放杂物", "content": TEXT}, actor=world["dispatcher"]
    )
    close_with_reply(world, closed, "已协调物业清理楼道杂物。")
    transition(demand, "dispatch", world["dispatcher"], lead_unit=OrgUnit.objects.get(name="卢沟桥街道"))
    url = reverse("triage:similar", args=[demand.pk])
    client.force_login(world["lugouqiao"])
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "已协调物业清理楼道杂物" in body and "<html" not in body
    assert "<html" in client.get(url).content.decode()  # without htmx: a whole page
    client.force_login(world["changxindian"])
    assert client.get(url).status_code == 404
    client.force_login(world["citizen"])
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
