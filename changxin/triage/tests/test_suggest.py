"""Dispatch suggestion, the intake hook and automatic dispatch."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from changxin.core.models import OrgUnit
from changxin.demands.models import Category, Demand, DemandEvent, State
from changxin.demands.services import create_demand
from changxin.triage import suggest
from changxin.triage.gazetteer import seed_aliases
from changxin.triage.models import RoutingRule
from changxin.triage.routing import seed_demo_rules

TRIAGE_KEYS = {
    "category",
    "confidence",
    "category_id",
    "street_id",
    "street_name",
    "community_id",
    "community_name",
    "location_confidence",
    "unit",
    "unit_name",
    "reasons",
    "duplicates",
    "auto_dispatched",
}


@pytest.fixture
def world(demo_world):
    seed_aliases()
    seed_demo_rules()
    return demo_world


@pytest.fixture
def classifier(monkeypatch):
    """Stand in for the text classifier (another module, trained separately) with a fixed answer."""
    answer = {}

    def fake(title, content):
        return (answer["name"], answer["confidence"]) if answer else None

    monkeypatch.setattr(suggest, "_classify", fake)
    return answer


def intake(world, django_capture_on_commit_callbacks, **data):
    values = {"demand_type": "complaint", "title": "问题", "content": "内容", "channel": "hotline"} | data
    with django_capture_on_commit_callbacks(execute=True):
        demand, _ = create_demand(values, actor=world["dispatcher"])
    demand.refresh_from_db()
    return demand


def unit(name):
    return OrgUnit.objects.get(name=name)


def test_local_matter_goes_to_the_street_of_the_location(
    world, classifier, django_capture_on_commit_callbacks
):
    classifier.update(name="城乡建设", confidence=0.95)
    demand = intake(
        world,
        django_capture_on_commit_callbacks,
        title="小区楼道堆放杂物",
        content="卢沟桥街道莲玉嘉园社区5号楼楼道长期堆放杂物，存在消防隐患。",
    )
    triage = demand.triage
    assert set(triage) >= TRIAGE_KEYS
    assert triage["street_name"] == "卢沟桥街道" and triage["community_name"] == "莲玉嘉园社区"
    assert triage["unit"] == unit("卢沟桥街道").pk and triage["unit_name"] == "卢沟桥街道"
    assert triage["category"] == "城乡建设" and triage["confidence"] == 0.95
    assert triage["auto_dispatched"] is False  # the switch is off by default
    assert demand.state == State.RECEIVED and demand.street_id is None  # advice only
    assert any("卢沟桥街道" in r for r in triage["reasons"])
    assert 0.8 < triage["dispatch_confidence"] <= 0.95


def test_routing_rule_for_utilities_beats_the_default(world, classifier):
    classifier.update(name="城乡建设", confidence=0.9)
    demand = Demand(
        title="自来水供应中断",
        content="丰台区方庄芳城园三区社区停水两天，自来水供应一直没有恢复。",
        received_at=timezone.now(),
    )
    suggestion = suggest.suggest_dispatch(demand)
    assert suggestion.leaf_category.name == "自来水供应"
    assert suggestion.unit.code == "110106C01"
    assert suggestion.street.name == "方庄街道"
    # the rule is district-wide, so only the category's confidence counts
    assert suggestion.confidence == pytest.approx(0.9)


def test_most_specific_rule_wins(world):
    water = Category.objects.get(name="自来水供应", parent__name="城市建设和市政管理")
    top = water.top
    fangzhuang, qingta = unit("方庄街道"), unit("青塔街道")
    department = OrgUnit.objects.get(code="110106D11")
    RoutingRule.objects.create(category=top, unit=department)  # level 1: less specific than the seed rule
    RoutingRule.objects.create(category=water, street=fangzhuang, unit=fangzhuang, priority=0)
    demand = Demand(title="停水", content="", category=water, street=fangzhuang, received_at=timezone.now())
    assert suggest.suggest_dispatch(demand).unit == fangzhuang  # category and street rule
    demand.street = qingta
    assert suggest.suggest_dispatch(demand).unit.code == "110106C01"  # category rule, any street
    other = Category.objects.filter(parent__parent=top, level=3).exclude(pk=water.pk).first()
    demand.category = other
    assert suggest.suggest_dispatch(demand).unit == department  # only the level-1 rule matches
    RoutingRule.objects.filter(unit=department).update(is_active=False)
    assert suggest.suggest_dispatch(demand).unit == qingta  # default rule


def test_operator_given_category_and_street_are_certain(world, classifier):
    classifier.update(name="环境保护", confidence=0.4)  # ignored: the operator chose
    category = Category.objects.filter(level=3, parent__parent__name="环境保护").first()
    street = unit("青塔街道")
    demand = Demand(
        title="夜间施工", content="", category=category, street=street, received_at=timezone.now()
    )
    suggestion = suggest.suggest_dispatch(demand)
    assert suggestion.unit == street
    assert suggestion.confidence == 1.0


def test_no_classifier_and_no_place(world, classifier):
    demand = Demand(title="咨询政策", content="想咨询一下相关政策。", received_at=timezone.now())
    suggestion = suggest.suggest_dispatch(demand)
    assert suggestion.unit is None and suggestion.confidence == 0
    assert any("classifier" in r or "分类" in r for r in suggestion.reasons)


def test_unknown_category_discounts_the_default_rule(world, classifier):
    demand = Demand(title="路灯不亮", content="丰台区青塔东里5号楼前路灯不亮", received_at=timezone.now())
    suggestion = suggest.suggest_dispatch(demand)
    assert suggestion.unit == unit("青塔街道")
    assert suggestion.confidence == pytest.approx(
        suggest.UNKNOWN_CATEGORY_FACTOR * suggestion.location.confidence
    )


def test_automatic_dispatch_when_on_and_confident(
    world, classifier, settings, django_capture_on_commit_callbacks
):
    settings.CHANGXIN_AUTO_DISPATCH = True
    settings.CHANGXIN_AUTO_DISPATCH_CONFIDENCE = 0.9
    classifier.update(name="城乡建设", confidence=0.99)
    demand = intake(
        world,
        django_capture_on_commit_callbacks,
        title="燃气供应问题",
        content="丰台区方庄街道芳城园一区第一社区燃气供应中断。",
        address="方庄街道芳城园一区第一社区",
    )
    assert demand.state == State.DISPATCHED
    assert demand.lead_unit.code == "110106C03"
    assert demand.triage["auto_dispatched"] is True
    event = DemandEvent.objects.get(demand=demand, action="dispatch")
    assert event.automatic and event.actor is None and event.actor_name == "system"
    assert event.data["reasons"]


def test_no_automatic_dispatch_below_threshold(
    world, classifier, settings, django_capture_on_commit_callbacks
):
    settings.CHANGXIN_AUTO_DISPATCH = True
    classifier.update(name="城乡建设", confidence=0.6)
    demand = intake(
        world, django_capture_on_commit_callbacks, title="燃气供应问题", content="方庄街道燃气供应中断。"
    )
    assert demand.state == State.RECEIVED
    assert demand.triage["auto_dispatched"] is False
    assert demand.triage["unit_name"] == "北京燃气集团丰台分公司"


def test_the_intake_subscriber_never_raises_and_skips_imported_demands(world, monkeypatch):
    from changxin.triage.subscribers import triage_new_demand

    called = []

    def boom(demand_id):
        called.append(demand_id)
        raise RuntimeError("model file corrupt")

    monkeypatch.setattr(suggest, "triage_demand", boom)
    triage_new_demand(SimpleNamespace(demand_id=123456, data={"channel": "web"}))  # logged, not raised
    triage_new_demand(SimpleNamespace(demand_id=654321, data={"channel": "web", "imported": True}))
    assert called == [123456]


def test_hook_keeps_other_triage_keys(world, classifier, django_capture_on_commit_callbacks):
    demand = intake(world, django_capture_on_commit_callbacks, title="路灯不亮", content="青塔东里路灯不亮")
    Demand.objects.filter(pk=demand.pk).update(triage={**demand.triage, "hotspot": 7})
    suggest.triage_demand(demand.pk)
    demand.refresh_from_db()
    assert demand.triage["hotspot"] == 7 and demand.triage["street_name"] == "青塔街道"


def test_hook_is_fast(world, classifier, django_capture_on_commit_callbacks):
    demand = intake(
        world,
        django_capture_on_commit_callbacks,
        title="小区楼道堆放杂物",
        content="卢沟桥街道莲玉嘉园社区5号楼楼道长期堆放杂物，存在消防隐患。" * 5,
    )
    suggest.triage_demand(demand.pk)  # warm caches (gazetteer, jieba)
    data = suggest.triage_demand(demand.pk)
    assert data["triage_ms"] < 200  # typically a few ms; generous for slow CI machines
