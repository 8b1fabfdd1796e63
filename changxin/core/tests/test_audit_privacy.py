"""The audit log (admin writes, personal-data views, who may read it) and personal-data masking."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from changxin.core import audit
from changxin.core.models import AuditAction, AuditEntry, OrgUnit
from changxin.core.privacy import mask_email, mask_id_number, mask_name, mask_phone


def test_admin_save_writes_an_audit_entry(client, demo_world):
    admin = demo_world["admin"]
    client.force_login(admin)
    unit = OrgUnit.objects.get(code="110106011001")
    response = client.post(
        reverse("admin:core_orgunit_change", args=[unit.pk]),
        {
            "code": unit.code,
            "name": "南墙缝社区（测试）",
            "short_name": "",
            "kind": unit.kind,
            "parent": unit.parent_id,
            "phone": "010-83800000",
            "source": unit.source,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    entry = audit.entries_for(unit).get()
    assert entry.actor == admin and entry.actor_name == "admin"
    assert entry.action == AuditAction.UPDATE
    assert set(entry.fields) == {"name", "phone"}
    assert entry.object_repr == "南墙缝社区（测试）"
    assert entry.ip == "127.0.0.1"


def test_admin_add_and_delete_are_audited(client, demo_world):
    client.force_login(demo_world["admin"])
    parent = OrgUnit.objects.get(code="110106011")
    response = client.post(
        reverse("admin:core_orgunit_add"),
        {
            "code": "110106011999",
            "name": "试点社区",
            "kind": "community",
            "parent": parent.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(code="110106011999")
    assert unit.path == "/110106/110106011/110106011999/"
    assert audit.entries_for(unit).get().action == AuditAction.CREATE
    response = client.post(reverse("admin:core_orgunit_delete", args=[unit.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not OrgUnit.objects.filter(code="110106011999").exists()
    assert AuditEntry.objects.filter(object_id=str(unit.pk), action=AuditAction.DELETE).exists()


def test_record_personal_view_logs_who_saw_what(demo_world):
    officer = demo_world["lugouqiao"]
    citizen = demo_world["citizen"]
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    entry = audit.record_personal_view(officer, citizen, ["phone"], request=request)
    entry.refresh_from_db()
    assert entry.action == AuditAction.VIEW_PERSONAL
    assert entry.actor == officer and entry.actor_name == "lugouqiao"
    assert entry.fields == ["phone"] and entry.object_id == str(citizen.pk)
    assert entry.ip == "10.1.2.3"
    assert list(audit.entries_for(citizen)) == [entry]


def test_anonymous_actor_is_named(db):
    entry = audit.record(AnonymousUser(), AuditAction.EXPORT, detail="public export")
    assert entry.actor is None and entry.actor_name == "anonymous"


def test_user_admin_logs_an_administrators_view_of_personal_data(client, demo_world):
    admin, subject = demo_world["admin"], demo_world["lugouqiao_lead"]
    client.force_login(admin)
    response = client.get(reverse("admin:core_user_change", args=[subject.pk]))
    assert response.status_code == 200
    assert subject.phone in response.content.decode()
    entry = audit.entries_for(subject).get(action=AuditAction.VIEW_PERSONAL)
    assert entry.actor == admin and entry.fields == ["phone"]


def test_user_admin_masks_personal_data_for_unit_staff(client, demo_world):
    officer, subject = demo_world["lugouqiao"], demo_world["lugouqiao_lead"]
    client.force_login(officer)
    response = client.get(reverse("admin:core_user_change", args=[subject.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert subject.phone not in html
    assert mask_phone(subject.phone) in html
    assert not audit.entries_for(subject).filter(action=AuditAction.VIEW_PERSONAL).exists()
    # view-only: a POST changes nothing
    response = client.post(reverse("admin:core_user_change", args=[subject.pk]), {"phone": "13900000000"})
    assert response.status_code == 403


def test_audit_admin_is_searchable_by_administrators(client, demo_world):
    audit.record_personal_view(demo_world["lugouqiao"], demo_world["citizen"], ["phone"])
    audit.record(demo_world["changxindian"], AuditAction.EXPORT, detail="monthly ranking")
    client.force_login(demo_world["admin"])
    response = client.get(reverse("admin:core_auditentry_changelist"), {"q": "lugouqiao"})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [r.actor_name for r in rows] == ["lugouqiao"]
    response = client.get(reverse("admin:core_auditentry_changelist"), {"q": "monthly"})
    assert [r.actor_name for r in response.context["cl"].result_list] == ["changxindian"]
    entry = rows[0]
    assert client.get(reverse("admin:core_auditentry_change", args=[entry.pk])).status_code == 200
    # the log is append-only, even for administrators
    assert (
        client.post(reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("username", ["lugouqiao", "leader", "dispatcher", "party"])
def test_audit_admin_is_closed_to_everyone_else(client, demo_world, username):
    client.force_login(demo_world[username])
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 403
    index = client.get(reverse("admin:index"))
    assert reverse("admin:core_auditentry_changelist") not in index.content.decode()


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("张三丰", "张**"), ("韩梅", "韩*"), ("Alice Smith", "A**** S****"), ("", ""), (None, "")],
)
def test_mask_name(raw, masked):
    assert mask_name(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("010-63812345", "010-****2345"),
        ("63812345", "****2345"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


def test_mask_id_number_and_email():
    assert mask_id_number("110106199001011234") == "110106********1234"
    assert mask_id_number("1234") == "****"
    assert mask_email("zhang.wei@example.com") == "z********@example.com"
    assert mask_email("") == ""


def test_masks_never_reveal_more_than_the_ends():
    phone = "13912345678"
    masked = mask_phone(phone)
    assert len(masked) == len(phone) and masked.count("*") == 4
    assert phone[3:7] not in masked
