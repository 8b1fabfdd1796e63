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


def test_leadership_cannot_rebuild_a_contact_phone_through_admin_lookups(client, port_world):
    """The probe's attack on the enterprise admin: filters and search on the masked contact."""
    url = reverse("admin:port_enterprise_changelist")
    client.force_login(port_world["leader"])
    for query in ("contact_phone__startswith=139", "contact_phone__regex=^1", "contact_name__contains=王"):
        assert client.get(f"{url}?{query}").status_code == 400, query
    client.force_login(port_world["admin"])  # the centre may see contacts, so it may filter on them
    assert client.get(f"{url}?contact_phone__startswith=139").status_code == 200
