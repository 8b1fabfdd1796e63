import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core.models import AuditEntry
from changxin.demands.models import State
from changxin.notifications.models import Notification
from changxin.port import services
from changxin.port.models import EnterpriseDemand, Visit
from changxin.port.tasks import notify_overdue_visits

pytestmark = pytest.mark.django_db


def login(client, world, name):
    client.force_login(world[name])
    return client


def test_enterprise_home_is_its_own_portal(client, port_world):
    response = login(client, port_world, "enterprise").get(reverse("port:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert port_world["ours"].name in page and port_world["theirs"].name not in page
    assert port_world["manager"].full_name in page  # the contact card
    assert "13910001001" in page  # its own contact, unmasked for its own account


def test_file_a_demand_on_the_portal(client, port_world):
    client = login(client, port_world, "enterprise")
    url = reverse("port:file-demand", args=[port_world["ours"].pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"token": uuid.uuid4(), "demand_type": "help", "title": ""})
    assert bad.status_code == 400 and not EnterpriseDemand.objects.exists()
    response = client.post(
        url, {"token": uuid.uuid4(), "demand_type": "help", "title": "停车难", "content": "园区停车位不足。"}
    )
    assert response.status_code == 302
    link = EnterpriseDemand.objects.get()
    assert link.demand.state == State.DISPATCHED and link.enterprise == port_world["ours"]
    page = client.get(reverse("port:home")).content.decode()
    assert link.demand.number in page


def test_others_may_not_file_for_the_enterprise(client, port_world):
    url = reverse("port:file-demand", args=[port_world["ours"].pk])
    assert login(client, port_world, "enterprise3").get(url).status_code == 404  # not in their scope
    assert login(client, port_world, "manager").get(url).status_code == 403
    assert login(client, port_world, "citizen").get(url).status_code == 403


def test_rate_a_replied_demand(client, port_world, handle):
    demand, _ = services.file_enterprise_demand(
        port_world["ours"],
        {"demand_type": "help", "title": "停车难", "content": "停车位不足"},
        actor=port_world["enterprise"],
    )
    handle(demand, port_world["manager"])
    client = login(client, port_world, "enterprise")
    assert (
        f'action="{reverse("port:rate", args=[demand.pk])}"'
        in client.get(reverse("port:home")).content.decode()
    )
    response = client.post(
        reverse("port:rate", args=[demand.pk]), {"resolution": "resolved", "satisfaction": "satisfied"}
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.state == State.VISITED and demand.satisfaction == "satisfied"
    # a second rating is refused by the machine; nothing changes
    client.post(
        reverse("port:rate", args=[demand.pk]), {"resolution": "unresolved", "satisfaction": "dissatisfied"}
    )
    demand.refresh_from_db()
    assert demand.satisfaction == "satisfied"


def test_manager_list_visit_with_a_need_and_contacts_unmasked_with_audit(client, port_world):
    client = login(client, port_world, "manager")
    page = client.get(reverse("port:home")).content.decode()
    assert port_world["ours"].name in page and port_world["theirs"].name not in page
    assert 'id="visit-plan"' in page  # a key enterprise: a monthly plan
    detail = client.get(reverse("port:enterprise", args=[port_world["ours"].pk])).content.decode()
    assert "13910001001" in detail
    assert AuditEntry.objects.filter(action="view_personal", object_id=str(port_world["ours"].pk)).exists()
    response = client.post(
        reverse("port:visit", args=[port_world["ours"].pk]),
        {
            "visited_on": timezone.localdate().isoformat(),
            "people_met": "王丽",
            "raised": "扩产用地",
            "need_title": "扩产用地需求",
            "need_content": "企业扩产需要新增用地，希望协调。",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    link = EnterpriseDemand.objects.get(visit=visit)
    assert link.demand.tasks.filter(assignee=port_world["manager"]).exists()


def test_leadership_sees_contacts_masked(client, port_world):
    page = login(client, port_world, "leader").get(reverse("port:enterprise", args=[port_world["ours"].pk]))
    assert "13910001001" not in page.content.decode() and "139****1001" in page.content.decode()


def test_contact_card_has_a_qr_code_of_the_public_code_page(client, port_world):
    page = login(client, port_world, "enterprise").get(reverse("port:card", args=[port_world["ours"].pk]))
    assert page.status_code == 200 and b"<svg" in page.content
    code_url = reverse("port:code", args=[port_world["ours"].public_code])
    assert code_url.encode() in page.content
    client.logout()
    public = client.get(code_url)
    assert public.status_code == 200 and port_world["ours"].name in public.content.decode()
    assert client.get(reverse("port:code", args=["nope"])).status_code == 404


def test_ranking_page(client, port_world):
    services.file_enterprise_demand(
        port_world["ours"],
        {"demand_type": "help", "title": "停车难", "content": "停车位不足"},
        actor=port_world["enterprise"],
    )
    page = login(client, port_world, "dispatcher").get(reverse("port:ranking"))
    assert page.status_code == 200 and port_world["manager"].full_name in page.content.decode()
    assert login(client, port_world, "enterprise").get(reverse("port:ranking")).status_code == 403


def test_overdue_visits_notify_the_manager_once(port_world):
    ours = port_world["ours"]
    services.record_visit(
        ours,
        actor=port_world["manager"],
        visited_on=timezone.localdate() - dt.timedelta(days=40),
        people_met="王丽",
    )
    assert notify_overdue_visits() == {"notified": 1}
    assert notify_overdue_visits() == {"notified": 0}
    note = Notification.objects.get(kind="port.visit_overdue")
    assert note.recipient == port_world["manager"] and ours.name in note.title
    services.record_visit(
        ours, actor=port_world["manager"], visited_on=timezone.localdate(), people_met="王丽"
    )
    assert notify_overdue_visits() == {"notified": 0}
