import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_lists_are_scoped_and_contacts_masked_for_leadership(client, port_world):
    ours = port_world["ours"]
    client.force_login(port_world["admin"])
    changelist = client.get(reverse("admin:port_enterprise_changelist"))
    assert changelist.status_code == 200 and "139****1001" in changelist.content.decode()
    assert (
        "13910001001" in client.get(reverse("admin:port_enterprise_change", args=[ours.pk])).content.decode()
    )
    client.force_login(port_world["leader"])
    page = client.get(reverse("admin:port_enterprise_change", args=[ours.pk]))
    assert page.status_code == 200
    assert "13910001001" not in page.content.decode() and "139****1001" in page.content.decode()
    client.force_login(port_world["changxindian"])  # another street's officer: not in scope
    assert client.get(reverse("admin:port_enterprise_change", args=[ours.pk])).status_code == 404
