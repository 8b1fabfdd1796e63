"""The routing table and place aliases: validation and their admin pages."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from changxin.core.models import OrgUnit
from changxin.demands.models import Category
from changxin.triage.models import PlaceAlias, RoutingRule
from changxin.triage.routing import match_rule, route


def test_rule_validation(demo_world):
    community = OrgUnit.objects.get(name="莲玉嘉园社区")
    centre = OrgUnit.objects.get(code="110106C00")
    with pytest.raises(ValidationError) as err:
        RoutingRule(street=community, unit=centre).full_clean()
    assert {"street", "unit"} <= set(err.value.message_dict)
    with pytest.raises(ValidationError):
        PlaceAlias(alias="X", unit=community).full_clean()
    with pytest.raises(ValidationError):
        PlaceAlias(alias="丰台区委", unit=centre).full_clean()


def test_route_without_street_or_rule_is_none(demo_world):
    category = Category.objects.filter(level=3).first()
    assert match_rule(category, None) is None
    assert route(category, None) is None
    street = OrgUnit.objects.get(name="青塔街道")
    assert route(category, street).unit == street and route(category, street).rule is None


def test_priority_breaks_ties(demo_world):
    category = Category.objects.filter(level=2).first()
    d1, d2 = OrgUnit.objects.filter(kind="department").order_by("code")[:2]
    RoutingRule.objects.create(category=category, unit=d1, priority=1)
    RoutingRule.objects.create(category=category, unit=d2, priority=5)
    leaf = category.children.first()
    assert match_rule(leaf, None).unit == d2


@pytest.mark.parametrize("model", ["placealias", "routingrule"])
def test_admin_pages(demo_world, client, model):
    street = OrgUnit.objects.get(name="卢沟桥街道")
    PlaceAlias.objects.create(alias="丽泽SOHO", unit=street, kind="landmark")
    RoutingRule.objects.create(street=street, unit=street)
    client.force_login(demo_world["admin"])
    url = reverse(f"admin:triage_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(reverse(f"admin:triage_{model}_add")).status_code == 200
    client.force_login(demo_world["changxindian"])  # unit staff: read-only, own area only
    response = client.get(url)
    assert response.status_code == 200 and "丽泽SOHO" not in response.content.decode()
    assert client.get(reverse(f"admin:triage_{model}_add")).status_code == 403


def test_admin_adds_an_alias(demo_world, client):
    client.force_login(demo_world["admin"])
    community = OrgUnit.objects.get(name="北关社区")
    response = client.post(
        reverse("admin:triage_placealias_add"),
        {"alias": "锦绣华庭", "kind": "compound", "unit": community.pk, "note": "", "is_active": "on"},
    )
    assert response.status_code == 302
    assert PlaceAlias.objects.filter(alias="锦绣华庭", unit=community).exists()
