"""core/roles.py: one answer per role to every predicate, the subtree test, and the shared sets."""

import pytest
from django.contrib.auth.models import AnonymousUser

from changxin.core import roles
from changxin.core.models import KIND_RANKING_GROUP, OrgUnit, Role, User
from changxin.core.tests.builders import build_world

# role → (staff_side, public, centre, district_admin, district_wide, read_only, works_in_unit, unit_staff)
EXPECTED = {
    Role.CITIZEN: (False, True, False, False, False, False, False, False),
    Role.ENTERPRISE: (False, True, False, False, False, False, False, False),
    Role.OPERATOR: (True, False, True, False, True, False, False, False),
    Role.ADMIN: (True, False, True, True, True, False, False, False),
    Role.LEADERSHIP: (True, False, False, False, True, True, False, False),
    Role.OFFICER: (True, False, False, False, False, False, True, True),
    Role.LEADER: (True, False, False, False, False, False, True, True),
    Role.SERVICE_MANAGER: (True, False, False, False, False, False, True, False),
    Role.INSPECTOR: (True, False, False, False, False, False, True, False),
    Role.PARTY_STAFF: (True, False, False, False, False, False, True, False),
}
PREDICATES = (
    roles.is_staff_side,
    roles.is_public,
    roles.is_centre,
    roles.is_district_admin,
    roles.is_district_wide,
    roles.is_read_only,
    roles.works_in_unit,
    roles.is_unit_staff,
)


@pytest.fixture
def world(db):
    return build_world(calendar_years=(2026,))


def test_every_role_is_in_the_table():
    assert set(EXPECTED) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_predicates_by_role(world, role):
    person = User.objects.create_user(username=f"u-{role}", role=role, unit=world.lugouqiao)
    assert tuple(p(person) for p in PREDICATES) == EXPECTED[role]
    # a unit role without a unit has no workbench and sees no subtree
    person.unit = None
    assert not roles.works_in_unit(person) and not roles.is_unit_staff(person)
    assert not roles.covers(person, world.lugouqiao)


def test_nobody_logged_in_or_inactive_is_nothing(world):
    inactive = world.dispatcher
    inactive.is_active = False
    for nobody in (None, AnonymousUser(), inactive):
        assert not any(p(nobody) for p in PREDICATES)


def test_a_superuser_is_centre_and_district_wide_whatever_the_role(world):
    root = User.objects.create_superuser("root", password="pw", role=Role.CITIZEN)
    assert roles.is_staff_side(root) and roles.is_centre(root) and roles.is_district_wide(root)
    assert roles.is_district_admin(root) and not roles.is_public(root)


def test_covers_is_the_users_subtree(world):
    officer = world.officer_lgq
    assert roles.covers(officer, world.lugouqiao) and roles.covers(officer, world.community_lgq)
    assert not roles.covers(officer, world.changxindian) and not roles.covers(officer, world.district)
    assert not roles.covers(officer, None) and not roles.covers(world.citizen, world.lugouqiao)


def test_is_ancestor_of_includes_itself_and_never_a_name_prefix(world):
    assert world.lugouqiao.is_ancestor_of(world.lugouqiao)
    assert world.district.is_ancestor_of(world.community_lgq)
    assert not world.community_lgq.is_ancestor_of(world.lugouqiao)
    lookalike = OrgUnit.objects.create(code="1101060170", name="x", kind="other", parent=world.district)
    assert lookalike.path.startswith(world.lugouqiao.path.rstrip("/"))
    assert not world.lugouqiao.is_ancestor_of(lookalike)
    unsaved = OrgUnit(code="new", name="new", kind="other")
    assert not unsaved.is_ancestor_of(world.lugouqiao) and not world.district.is_ancestor_of(None)


def test_the_role_sets_partition_the_roles():
    assert set(roles.RANKED_KINDS) == set(KIND_RANKING_GROUP)
    assert roles.UNIT_ROLES | roles.DISTRICT_ROLES | roles.PUBLIC_ROLES == roles.ALL_ROLES


def test_user_shorthands_follow_the_predicates(world):
    assert world.leadership.is_read_only and world.leadership.sees_district
    assert world.officer_lgq.is_unit_staff and not world.officer_lgq.sees_district
    assert world.dispatcher.is_staff  # staff-side roles reach the (scoped) admin
    assert not world.citizen.is_staff
