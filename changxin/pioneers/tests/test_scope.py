"""Who sees which party organisations and members: one scoping mechanism (core/scope.py)."""

import pytest

from changxin.core.models import Role
from changxin.core.tests.builders import (
    CHANGXINDIAN,
    LUGOUQIAO,
    make_user,
    party_member,
    party_organisation,
    unit,
)
from changxin.pioneers import selectors, services
from changxin.pioneers.models import PartyMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(demo_world):
    committee = party_organisation(LUGOUQIAO, "卢沟桥街道党工委", kind="committee", field="organ")
    lgq = party_organisation(LUGOUQIAO, "小井村党支部", parent=committee, field="rural")
    lgq2 = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", parent=committee, field="organ")
    cxd = party_organisation(CHANGXINDIAN, "长辛店社区党支部")
    secretary = party_member(
        lgq, "书记甲", user=demo_world["lugouqiao"], secretary=True, id_number="110106199001011239"
    )
    plain = party_member(lgq, "党员乙", user=demo_world["lugouqiao_lead"])
    other = party_member(cxd, "党员丙", id_number="110106198501011234")
    sibling = party_member(lgq2, "党员丁")
    return {
        "committee": committee,
        "lgq": lgq,
        "lgq2": lgq2,
        "cxd": cxd,
        "secretary": secretary,
        "plain": plain,
        "other": other,
        "sibling": sibling,
    }


def test_tree_paths_give_subtrees(tree):
    committee, lgq = tree["committee"], tree["lgq"]
    assert lgq.path == f"{committee.path}{lgq.pk}/" and lgq.depth == 1
    assert set(committee.subtree()) == {committee, lgq, tree["lgq2"]}
    assert list(lgq.subtree()) == [lgq]


def test_branch_secretary_sees_their_branch_only(tree, demo_world):
    user = demo_world["lugouqiao"]
    assert list(selectors.organisations_visible_to(user)) == [tree["lgq"]]
    assert set(selectors.members_visible_to(user)) == {tree["secretary"], tree["plain"]}


def test_a_plain_member_sees_only_their_own_record(tree, demo_world):
    user = demo_world["lugouqiao_lead"]
    assert list(selectors.organisations_visible_to(user)) == []
    assert list(selectors.members_visible_to(user)) == [tree["plain"]]


def test_party_staff_see_the_organisations_of_their_units_subtree(tree, demo_world):
    district_staff = demo_world["party"]
    assert set(selectors.organisations_visible_to(district_staff)) == {
        tree["committee"],
        tree["lgq"],
        tree["lgq2"],
        tree["cxd"],
    }
    street_staff = make_user("lgq_party", Role.PARTY_STAFF, unit(LUGOUQIAO))
    assert set(selectors.organisations_visible_to(street_staff)) == {
        tree["committee"],
        tree["lgq"],
        tree["lgq2"],
    }
    assert tree["other"] not in selectors.members_visible_to(street_staff)


def test_officers_do_not_see_party_records_through_their_unit(tree, demo_world):
    officer = make_user("lgq_officer2", Role.OFFICER, unit(LUGOUQIAO))
    assert not selectors.organisations_visible_to(officer).exists()
    assert not selectors.members_visible_to(officer).exists()


def test_unmasking_is_for_those_who_need_it_and_audited(tree, demo_world):
    from changxin.core.audit import entries_for

    other = tree["other"]
    assert other.masked_id_number == "110106********1234"
    with pytest.raises(Exception) as refused:
        services.unmask_member(demo_world["lugouqiao"], other)
    assert refused.value.code == "not_allowed"
    shown = services.unmask_member(demo_world["party"], other)
    assert shown["id_number"] == "110106198501011234"
    entry = entries_for(other).get(action="view_personal")
    assert entry.actor == demo_world["party"] and entry.fields == ["id_number", "phone"]
    # the secretary of the member's branch needs it too
    assert services.may_unmask(demo_world["lugouqiao"], PartyMember.objects.get(pk=tree["plain"].pk))
