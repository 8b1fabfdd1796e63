"""Location: the gazetteer on realistic Fengtai addresses."""

import time

import pytest

from changxin.core.models import OrgUnit
from changxin.triage import gazetteer
from changxin.triage.gazetteer import locate, seed_aliases
from changxin.triage.models import PlaceAlias


@pytest.fixture
def world(demo_world):
    seed_aliases()
    gazetteer.invalidate()
    return demo_world


def street(name):
    return OrgUnit.objects.get(name=name)


@pytest.mark.parametrize(
    "address, street_name, community_name",
    [
        ("北京市丰台区卢沟桥街道莲玉嘉园社区3号楼", "卢沟桥街道", "莲玉嘉园社区"),
        ("丰台区长辛店镇北关社区", "长辛店街道", "北关社区"),
        ("北宫镇大灰厂村东口", "北宫镇", "大灰厂村"),
        ("方庄芳城园一区第二社区12号楼下", "方庄街道", "芳城园一区第二社区"),
        ("宋家庄地铁站附近", "石榴庄街道", "宋家庄社区"),
        ("丰台区青塔东里5号楼", "青塔街道", "青塔东里社区"),
    ],
)
def test_official_names_and_short_forms(world, address, street_name, community_name):
    location = locate(address)
    assert location.street_name == street_name
    assert location.community_name == community_name
    assert location.confidence >= 0.85


def test_community_implies_its_street(world):
    location = locate("槐房社区西门垃圾堆放")  # no street named, and 槐房 has a 社区 and a 村 in 南苑
    assert location.street_name == "南苑街道"
    assert location.confidence >= 0.85


def test_street_short_form_without_community(world):
    location = locate("丰台区北宫路边")
    assert location.street_name == "北宫镇"
    assert location.community_id is None
    assert 0.8 <= location.confidence < 0.95


def test_district_name_does_not_count_as_a_place(world):
    """丰台 is a street's short form in theory, but every address says 丰台区."""
    location = locate("北京市丰台区")
    assert not location.found


def test_seeded_aliases_resolve_landmarks(world):
    assert locate("新发地市场门口占道经营").street_name == "花乡街道"
    assert locate("世界公园南门").street_name == "花乡街道"
    assert locate("宛平城内").street_name == "宛平街道"
    assert locate("南苑机场旧址").street_name == "南苑街道"


def test_longest_match_wins(world):
    # 卢沟桥村 (a village of 宛平街道) must not be read as 卢沟桥 (the street's short form).
    location = locate("卢沟桥村委会门前")
    assert location.street_name == "宛平街道"
    assert location.community_name == "卢沟桥村"


def test_conflicting_names_lower_the_confidence(world):
    clear = locate("卢沟桥街道")
    ambiguous = locate("卢沟桥")  # the street's short form, and the bridge in 宛平街道
    assert clear.street_name == "卢沟桥街道" and clear.confidence >= 0.95
    assert ambiguous.ambiguous
    assert ambiguous.confidence <= 0.5
    # the same name spanning two streets (an admin alias pointing at both)
    spans = locate("木樨园批发市场")
    assert spans.ambiguous and spans.confidence <= 0.5
    # and two different streets named in one text
    mixed = locate("方庄街道和青塔街道交界处")
    assert mixed.confidence <= 0.5


def test_community_name_shared_by_a_community_and_a_village(world):
    # 时村社区 and 时村 (the village) are both in 大红门街道: no conflict about the street.
    location = locate("时村")
    assert location.street_name == "大红门街道"
    assert location.community_name == "时村"


def test_other_district_lowers_confidence(world):
    location = locate("朝阳区方庄")
    assert location.outside
    assert location.confidence < 0.6


def test_admin_alias_takes_effect_immediately(world):
    compound = OrgUnit.objects.get(name="北关社区")
    assert not locate("锦绣华庭小区").found
    PlaceAlias.objects.create(alias="锦绣华庭", unit=compound, kind="compound")
    location = locate("锦绣华庭小区停车难")
    assert location.street_name == "长辛店街道"
    assert location.community_name == "北关社区"


def test_address_counts_more_than_free_text(world):
    location = gazetteer.locate("青塔东里", "上周去方庄办事时看到")
    assert location.street_name == "青塔街道"


def test_nothing_found(world):
    location = locate("小区门口路灯坏了")
    assert not location.found and location.confidence == 0


def test_seed_is_idempotent(world):
    assert seed_aliases() == 0
    assert PlaceAlias.objects.filter(alias="新发地").count() == 1


def test_scan_is_fast(world):
    gz = gazetteer.get_gazetteer()
    text = "我是丰台区卢沟桥街道莲玉嘉园社区的居民，" * 20
    started = time.perf_counter()
    for _ in range(100):
        gz.locate(text)
    assert (time.perf_counter() - started) / 100 < 0.01
