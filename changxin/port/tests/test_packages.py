from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from changxin.port import services
from changxin.port.models import EnterpriseEvent, PackageItem

pytestmark = pytest.mark.django_db


def test_standard_package_is_idempotent(port_world):
    ours = port_world["ours"]
    assert services.give_standard_package(ours, actor=None, titles=["政策推送", "融资对接"]) == 2
    assert services.give_standard_package(ours, actor=None, titles=["政策推送", "人才服务"]) == 1
    assert ours.package_items.count() == 3


def test_incentive_needs_an_amount_and_only_the_manager_or_centre_add(port_world):
    ours = port_world["ours"]
    with pytest.raises(ValidationError):
        services.add_package_item(
            ours, {"kind": "incentive", "title": "落户奖励"}, actor=port_world["manager"]
        )
    with pytest.raises(ValidationError):
        services.add_package_item(
            ours, {"kind": "custom", "title": "x", "amount": 1}, actor=port_world["manager"]
        )
    for name in ("leader", "enterprise", "lugouqiao"):
        with pytest.raises(PermissionDenied):
            services.add_package_item(ours, {"kind": "custom", "title": "扩租"}, actor=port_world[name])
    item = services.add_package_item(
        ours,
        {"kind": "incentive", "title": "落户奖励", "amount": Decimal("300"), "conditions": "三年不迁出"},
        actor=port_world["dispatcher"],
    )
    services.set_package_status(item, "delivered", actor=port_world["manager"])
    item.refresh_from_db()
    assert item.status == "delivered"
    assert list(EnterpriseEvent.objects.filter(enterprise=ours).values_list("action", flat=True))[-2:] == [
        "package_item",
        "package_status",
    ]


def test_package_screens(client, port_world):
    ours = port_world["ours"]
    client.force_login(port_world["manager"])
    url = reverse("port:packages", args=[ours.pk])
    assert client.post(url, {"kind": "custom", "title": "研发用房扩租"}).status_code == 302
    item = PackageItem.objects.get()
    assert client.post(url, {"item": item.pk, "status": "in_progress"}).status_code == 302
    item.refresh_from_db()
    assert item.status == "in_progress"
    client.post(url, {"kind": "incentive", "title": "奖励"})  # no amount: refused, shown as a message
    assert PackageItem.objects.count() == 1
    client.force_login(port_world["enterprise"])
    page = client.get(reverse("port:home")).content.decode()
    assert "研发用房扩租" in page and 'id="package-form"' not in page
    assert client.post(url, {"kind": "custom", "title": "自己加"}).status_code == 403
