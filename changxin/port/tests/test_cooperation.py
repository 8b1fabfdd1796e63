"""合作方向清单: matching by text similarity (with the reason), the match lifecycle on the machine,
scope (an enterprise sees only its items and the matches involving it), contacts after both accept."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation

from changxin.core.tests.builders import unit
from changxin.core.workflow import WorkflowError
from changxin.notifications.models import Notification
from changxin.port import cooperation
from changxin.port.machines import MATCH
from changxin.port.models import CooperationItem, Match, MatchEvent, MatchState

pytestmark = pytest.mark.django_db

DRONE_NEED = {
    "kind": "need",
    "title": "寻求无人机巡检服务",
    "field": "低空技术",
    "description": "园区楼宇外立面和屋顶设备需要无人机巡检，希望对接低空技术企业。",
}
DRONE_OFFER = {
    "kind": "offer",
    "title": "无人机巡检与航拍测绘",
    "field": "低空技术",
    "description": "提供无人机巡检、航拍测绘服务，可承接楼宇外立面巡检和河道巡检。",
}
FLOWERS_OFFER = {
    "kind": "offer",
    "title": "花卉绿植租摆",
    "field": "花卉",
    "description": "提供办公室花卉绿植租摆和养护。",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def posted(port_world):
    need = cooperation.post_item(port_world["ours"], DRONE_NEED, actor=port_world["enterprise"])
    offer = cooperation.post_item(port_world["theirs"], DRONE_OFFER, actor=port_world["enterprise3"])
    flowers = cooperation.post_item(port_world["theirs"], FLOWERS_OFFER, actor=port_world["enterprise3"])
    return {"need": need, "offer": offer, "flowers": flowers}


def test_tokens_drop_stop_words_digits_and_single_characters():
    words = cooperation.tokens("我们企业需要无人机巡检服务2025年，的")
    assert "无人机" in words and "巡检" in words
    assert not {"我们", "企业", "需要", "服务", "2025", "的"} & set(words)


def test_similar_texts_match_with_shared_terms_and_unrelated_ones_do_not(port_world, posted):
    match = Match.objects.get(offer=posted["offer"], need=posted["need"])
    assert match.state == MatchState.PROPOSED and match.score >= cooperation.MIN_SCORE
    assert {"无人机", "巡检"} <= set(match.terms)
    assert not Match.objects.filter(offer=posted["flowers"]).exists()
    assert MatchEvent.objects.filter(match=match, action="propose").exists()


def test_an_enterprise_never_matches_itself(port_world):
    cooperation.post_item(port_world["ours"], DRONE_NEED, actor=port_world["enterprise"])
    cooperation.post_item(port_world["ours"], DRONE_OFFER, actor=port_world["enterprise"])
    assert not Match.objects.exists()


def test_offers_match_city_scenarios_and_expired_scenarios_are_left_out(port_world, posted):
    live = cooperation.publish_scenario(
        {
            "title": "永定河无人机河道巡检",
            "field": "低空技术",
            "description": "开展无人机河道巡检试点。",
            "owner_unit": unit("110106D11"),
            "deadline": timezone.localdate() + dt.timedelta(days=30),
        },
        actor=port_world["dispatcher"],
    )
    old = cooperation.publish_scenario(
        {
            "title": "无人机巡检旧场景",
            "description": "无人机巡检",
            "owner_unit": unit("110106D11"),
            "deadline": timezone.localdate() - dt.timedelta(days=1),
        },
        actor=port_world["dispatcher"],
    )
    assert Match.objects.filter(offer=posted["offer"], scenario=live).exists()
    assert not Match.objects.filter(scenario=old).exists()
    with pytest.raises(PermissionDenied):
        cooperation.publish_scenario(
            {"title": "x", "description": "y", "owner_unit": unit("110106D11")}, actor=port_world["manager"]
        )


def test_refresh_is_idempotent(port_world, posted):
    before = Match.objects.count()
    assert cooperation.refresh_matches() == {"created": 0, "updated": 0}
    assert Match.objects.count() == before


def test_only_the_enterprise_its_manager_and_the_centre_post(port_world):
    with pytest.raises(PermissionDenied):
        cooperation.post_item(port_world["ours"], DRONE_NEED, actor=port_world["enterprise3"])
    with pytest.raises(PermissionDenied):
        cooperation.post_item(port_world["ours"], DRONE_NEED, actor=port_world["leader"])
    cooperation.post_item(port_world["ours"], DRONE_NEED, actor=port_world["manager"])
    cooperation.post_item(port_world["theirs"], DRONE_NEED, actor=port_world["dispatcher"])


def test_lifecycle_send_accept_by_both_sides_connects_and_notifies(port_world, posted):
    match = Match.objects.get(offer=posted["offer"], need=posted["need"])
    ours, theirs = port_world["enterprise"], port_world["enterprise3"]
    assert not cooperation.may_see_contacts(ours, match)
    cooperation.apply_match(match, "send", port_world["manager"])  # the manager of the need's side
    assert match.state == MatchState.SENT
    assert Notification.objects.filter(recipient=theirs, kind="port.match_send").exists()
    assert Notification.objects.filter(recipient=ours, kind="port.match_send").exists()
    cooperation.apply_match(match, "accept", ours)
    assert match.state == MatchState.SENT and match.other_answer == "accept"
    with pytest.raises(WorkflowError) as refused:
        cooperation.apply_match(match, "accept", ours)
    assert refused.value.code == "already_answered"
    cooperation.apply_match(match, "accept", theirs)
    assert match.state == MatchState.CONNECTED
    assert cooperation.may_see_contacts(ours, match) and cooperation.may_see_contacts(theirs, match)
    assert Notification.objects.filter(recipient=ours, kind="port.match_connect").exists()
    assert list(match.events.values_list("action", flat=True)) == [
        "propose",
        "send",
        "accept",
        "accept",
        "connect",
    ]


def test_a_decline_ends_it_and_others_may_not_act(port_world, posted):
    match = Match.objects.get(offer=posted["offer"], need=posted["need"])
    with pytest.raises(WorkflowError) as refused:
        cooperation.apply_match(match, "send", port_world["leader"])
    assert refused.value.code == "not_allowed"
    cooperation.apply_match(match, "send", port_world["enterprise3"])
    cooperation.apply_match(match, "decline", port_world["enterprise"])
    assert match.state == MatchState.DECLINED
    assert not MATCH.offered_by_table(match.state, {"offer_side", "other_side", "staff"})


def test_scope_enterprise_sees_its_items_and_its_matches_only(port_world, posted):
    from changxin.core.models import Role
    from changxin.core.tests.builders import make_user

    stranger = make_user("enterprise9", Role.ENTERPRISE)
    assert set(cooperation.items_visible_to(port_world["enterprise"])) == {posted["need"]}
    assert cooperation.matches_visible_to(port_world["enterprise"]).count() == 1
    assert not cooperation.matches_visible_to(stranger).exists()
    assert not cooperation.items_visible_to(stranger).exists()


def test_views_post_a_need_and_see_the_match_with_its_reason(client, port_world, posted):
    client.force_login(port_world["enterprise"])
    page = client.get(reverse("port:cooperation")).content.decode()
    assert "无人机巡检与航拍测绘" in page and "巡检" in page
    port_world["theirs"].contact_phone = "13910002002"
    port_world["theirs"].save()
    match = Match.objects.get(offer=posted["offer"], need=posted["need"])
    detail = client.get(reverse("port:match", args=[match.pk])).content.decode()
    assert "13910002002" not in detail and "13910001001" in detail  # the other side's, masked; its own
    cooperation.apply_match(match, "send", port_world["manager"])
    cooperation.apply_match(match, "accept", port_world["enterprise"])
    cooperation.apply_match(match, "accept", port_world["enterprise3"])
    assert "13910002002" in client.get(reverse("port:match", args=[match.pk])).content.decode()
    # another enterprise's item ids are not reachable
    other = Match.objects.create(
        offer=posted["flowers"],
        scenario=None,
        need=CooperationItem.objects.create(
            enterprise=port_world["theirs"], kind="need", title="x", description="y"
        ),
        score=0.5,
    )
    assert client.get(reverse("port:match", args=[other.pk])).status_code == 404
    assert client.post(reverse("port:match", args=[other.pk]), {"action": "send"}).status_code == 404


def test_read_only_leadership_cannot_post_or_act(client, port_world, posted):
    client.force_login(port_world["leader"])
    assert client.get(reverse("port:cooperation")).status_code == 200
    assert client.get(reverse("port:cooperation-new")).status_code == 403
    match = Match.objects.get(offer=posted["offer"], need=posted["need"])
    assert client.post(reverse("port:match", args=[match.pk]), {"action": "send"}).status_code == 403
    match.refresh_from_db()
    assert match.state == MatchState.PROPOSED
