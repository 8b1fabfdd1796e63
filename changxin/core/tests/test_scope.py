"""Scoping: who sees which rows, in views, selectors and the admin."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from changxin.core import selectors
from changxin.core.models import OrgUnit, Role, User
from changxin.core.scope import can_view, can_write, get_visible_or_404, restrict

LUGOUQIAO = "110106017"
CHANGXINDIAN = "110106011"


def community_of(street_code):
    return OrgUnit.objects.filter(parent__code=street_code).order_by("code").first()


def test_officer_sees_exactly_their_own_subtree(demo_world):
    officer = demo_world["lugouqiao"]
    visible = set(OrgUnit.objects.visible_to(officer).values_list("code", flat=True))
    expected = set(
        OrgUnit.objects.filter(path__startswith=f"/110106/{LUGOUQIAO}/").values_list("code", flat=True)
    )
    assert visible == expected
    assert len(visible) == 1 + OrgUnit.objects.filter(parent__code=LUGOUQIAO).count()
    assert CHANGXINDIAN not in visible and "110106" not in visible
    assert not any(code.startswith(CHANGXINDIAN) for code in visible)


def test_officer_lists_only_own_users(demo_world):
    officer = demo_world["lugouqiao"]
    users = set(restrict(User.objects.all(), officer).values_list("username", flat=True))
    assert users == {"lugouqiao", "lugouqiao_lead"}


@pytest.mark.parametrize("username", ["admin", "leader", "dispatcher"])
def test_district_roles_see_everything(demo_world, username):
    user = demo_world[username]
    assert OrgUnit.objects.visible_to(user).count() == OrgUnit.objects.count()


def test_leadership_reads_everything_but_writes_nothing(demo_world):
    leader = demo_world["leader"]
    unit = community_of(CHANGXINDIAN)
    assert can_view(leader, unit)
    assert not can_write(leader, unit)
    assert not can_write(leader)
    officer = demo_world["changxindian"]
    assert can_write(officer, unit)
    assert not can_write(demo_world["lugouqiao"], unit)


def test_citizen_sees_only_their_own_records(demo_world):
    citizen = demo_world["citizen"]
    assert not OrgUnit.objects.visible_to(citizen).exists()
    assert list(restrict(User.objects.all(), citizen)) == [citizen]


def test_anonymous_and_unitless_staff_see_nothing(demo_world):
    assert not OrgUnit.objects.visible_to(AnonymousUser()).exists()
    assert not restrict(User.objects.all(), AnonymousUser()).exists()
    assert not can_write(AnonymousUser())
    stray = User.objects.create_user("stray", password="x", role=Role.OFFICER)
    assert not OrgUnit.objects.visible_to(stray).exists()
    inactive = demo_world["admin"]
    inactive.is_active = False
    assert not OrgUnit.objects.visible_to(inactive).exists()


def test_get_visible_or_404(demo_world):
    officer = demo_world["lugouqiao"]
    own = community_of(LUGOUQIAO)
    other = community_of(CHANGXINDIAN)
    assert get_visible_or_404(OrgUnit, officer, code=own.code) == own
    with pytest.raises(Http404):
        get_visible_or_404(OrgUnit, officer, code=other.code)
    with pytest.raises(Http404):
        get_visible_or_404(OrgUnit.objects.all(), AnonymousUser(), code=own.code)


@translation.override("en")
def test_home_cards_count_what_the_user_sees(demo_world):
    cards = {str(c["label"]): c["value"] for c in selectors.home_cards(demo_world["admin"])}
    assert cards["Streets and towns"] == 26
    assert cards["Communities and villages"] == 440
    officer_cards = {str(c["label"]): c["value"] for c in selectors.home_cards(demo_world["lugouqiao"])}
    assert officer_cards["Streets and towns"] == 1
    assert officer_cards["Communities and villages"] == OrgUnit.objects.filter(parent__code=LUGOUQIAO).count()


def test_list_units_search_stays_in_scope(demo_world):
    officer = demo_world["lugouqiao"]
    assert not selectors.list_units(officer, q="长辛店").exists()
    assert not selectors.list_units(officer, q=CHANGXINDIAN).exists()
    found = selectors.list_units(officer, q=LUGOUQIAO)
    assert found.count() == 1 + OrgUnit.objects.filter(parent__code=LUGOUQIAO).count()


# --- views -----------------------------------------------------------------------------------


def test_unit_pages_are_scoped(client, demo_world):
    client.force_login(demo_world["lugouqiao"])
    own = community_of(LUGOUQIAO)
    other = community_of(CHANGXINDIAN)
    assert client.get(reverse("unit-detail", args=[own.code])).status_code == 200
    assert client.get(reverse("unit-detail", args=[other.code])).status_code == 404
    assert client.get(reverse("unit-detail", args=[CHANGXINDIAN])).status_code == 404
    listing = client.get(reverse("units"), {"kind": "community"}).content.decode()
    assert own.name in listing and other.name not in listing


def test_unit_pages_need_login(client, demo_world):
    response = client.get(reverse("units"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- admin -----------------------------------------------------------------------------------


def test_admin_change_page_outside_scope_is_404(client, demo_world):
    client.force_login(demo_world["lugouqiao"])
    own = community_of(LUGOUQIAO)
    other = community_of(CHANGXINDIAN)
    assert client.get(reverse("admin:core_orgunit_change", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:core_orgunit_change", args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:core_orgunit_history", args=[other.pk])).status_code == 404
    other_user = demo_world["changxindian"]
    assert client.get(reverse("admin:core_user_change", args=[other_user.pk])).status_code == 404
    assert client.get(reverse("admin:auth_user_password_change", args=[other_user.pk])).status_code == 404


def test_admin_changelist_lists_only_scope(client, demo_world):
    client.force_login(demo_world["lugouqiao"])
    response = client.get(reverse("admin:core_orgunit_changelist"), {"all": ""})
    assert response.status_code == 200
    shown = set(response.context["cl"].result_list.values_list("code", flat=True))
    expected = set(
        OrgUnit.objects.filter(path__startswith=f"/110106/{LUGOUQIAO}/").values_list("code", flat=True)
    )
    assert shown == expected
    assert community_of(CHANGXINDIAN).name not in response.content.decode()


def test_admin_autocomplete_is_scoped(client, demo_world):
    client.force_login(demo_world["admin"])
    assert client.get(reverse("admin:core_orgunit_changelist")).status_code == 200
    client.force_login(demo_world["lugouqiao"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "社区", "app_label": "core", "model_name": "user", "field_name": "unit"},
    )
    if response.status_code == 200:
        names = {r["text"] for r in response.json()["results"]}
        assert community_of(CHANGXINDIAN).name not in names
    else:
        assert response.status_code == 403


def test_unit_staff_cannot_change_or_add_in_admin(client, demo_world):
    client.force_login(demo_world["lugouqiao"])
    own = community_of(LUGOUQIAO)
    response = client.post(
        reverse("admin:core_orgunit_change", args=[own.pk]),
        {"code": own.code, "name": "改名", "kind": own.kind, "parent": own.parent_id},
    )
    assert response.status_code == 403
    assert OrgUnit.objects.get(pk=own.pk).name == own.name
    assert client.get(reverse("admin:core_orgunit_add")).status_code == 403


def test_leadership_admin_is_read_only(client, demo_world):
    client.force_login(demo_world["leader"])
    unit = community_of(CHANGXINDIAN)
    assert client.get(reverse("admin:core_orgunit_change", args=[unit.pk])).status_code == 200
    response = client.post(
        reverse("admin:core_orgunit_change", args=[unit.pk]),
        {"code": unit.code, "name": "改名", "kind": unit.kind, "parent": unit.parent_id},
    )
    assert response.status_code == 403
    assert OrgUnit.objects.get(pk=unit.pk).name == unit.name


def test_public_roles_never_reach_the_admin(client, demo_world):
    for username in ("citizen", "enterprise"):
        client.force_login(demo_world[username])
        response = client.get(reverse("admin:core_orgunit_changelist"))
        assert response.status_code == 302 and "login" in response["Location"]


@translation.override("en")
def test_citizens_get_no_org_tree_cards(demo_world):
    labels = {str(c["label"]) for c in selectors.home_cards(demo_world["citizen"])}
    assert not labels & {"Streets and towns", "Communities and villages", "Users"}
