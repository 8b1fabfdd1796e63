"""Retention: `changxin anonymise` clears old closed demands' personal data, keeps the record."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from changxin.core import retention
from changxin.core.models import AuditAction, AuditEntry
from changxin.core.tests.builders import LUGOUQIAO, build_world, demand_in_state
from changxin.demands.models import DemandAttachment, DemandEvent
from changxin.demands.selectors import unscoped_demands

pytestmark = pytest.mark.django_db

LATER = timezone.now() + dt.timedelta(days=4 * 366)


@pytest.fixture
def world():
    return build_world(calendar_years=(timezone.localdate().year, timezone.localdate().year + 1))


def archived(world, **data):
    return demand_in_state(
        "archived",
        operator=world.dispatcher,
        officer=world.officer_lgq,
        street_code=LUGOUQIAO,
        requester_name="韩梅梅",
        requester_phone="13912345678",
        content="韩梅梅反映：楼下油烟很大，请回电 139-1234-5678 或 +86 139 1234 5678，邮箱 hmm@example.com。",
        **data,
    )


def test_scrub_text_finds_numbers_in_every_shape_and_addresses():
    text = (
        "电话13812345678、+8613812345678、138-1234-5678、138 1234 5678、(010)63812345，邮件 a.b@example.com。"
    )
    scrubbed = retention.scrub_text(text)
    assert scrubbed == "电话***、***、***、***、***，邮件 ***。"
    assert retention.scrub_text("编号 2025-0301 共 3 件", ()) == "编号 2025-0301 共 3 件"
    assert retention.scrub_text("韩梅梅来电", ("韩梅梅",)) == "***来电"


def test_dry_run_changes_nothing_and_apply_anonymises_once(world, django_capture_on_commit_callbacks):
    demand = archived(world)
    recent = archived(world)
    open_demand = world.demand(requester_name="李雷", requester_phone="13700000000")
    attachment = DemandAttachment.objects.create(
        demand=demand,
        file=SimpleUploadedFile("p.png", b"\x89PNG"),
        original_name="p.png",
        content_type="image/png",
        size=4,
    )
    stored = attachment.file.name
    storage = DemandAttachment.file.field.storage
    assert storage.exists(stored)
    # Only `demand` is old enough: `recent` was archived "now" relative to a cutoff 3 years before LATER
    # — push its archive time forward so it is inside the retention period.
    unscoped_demands().filter(pk=recent.pk).update(closed_at=LATER - dt.timedelta(days=30))

    out = StringIO()
    call_command("anonymise", stdout=out)  # dry run by default
    assert "dry run" in out.getvalue()
    report = retention.anonymise(apply=False, now=LATER)
    assert report.demands == 1 and report.numbers == [demand.number]
    assert report.attachments == 1 and report.texts >= 1
    demand.refresh_from_db()
    assert demand.requester_phone == "13912345678"
    assert not AuditEntry.objects.filter(action=AuditAction.ANONYMISE).exists()

    events_before = DemandEvent.objects.filter(demand=demand).count()
    with django_capture_on_commit_callbacks(execute=True):
        report = retention.anonymise(apply=True, now=LATER)
    assert report.demands == 1
    demand.refresh_from_db()
    assert demand.requester_name == retention.marker() and demand.requester_phone == ""
    assert demand.requester_user_id is None
    assert "13912345678" not in demand.content and "1234" not in demand.content
    assert "hmm@example.com" not in demand.content and "韩梅梅" not in demand.content
    assert "油烟很大" in demand.content  # the substance stays
    assert demand.state == "archived"
    assert DemandEvent.objects.filter(demand=demand).count() == events_before  # the timeline stays
    for note in DemandEvent.objects.filter(demand=demand).values_list("note", flat=True):
        assert "韩梅梅" not in note and "13912345678" not in note
    attachment.refresh_from_db()
    assert not attachment.file and attachment.original_name == "p.png"
    assert not storage.exists(stored)

    entry = AuditEntry.objects.get(action=AuditAction.ANONYMISE)
    assert json.loads(entry.detail)["demands"] == 1 and json.loads(entry.detail)["attachments"] == 1
    recent.refresh_from_db()
    open_demand.refresh_from_db()
    assert recent.requester_phone == "13912345678" and open_demand.requester_phone == "13700000000"

    # A second run finds nothing left to do.
    assert retention.anonymise(apply=True, now=LATER).demands == 0
    assert AuditEntry.objects.filter(action=AuditAction.ANONYMISE).count() == 2


def test_the_retention_period_is_a_setting(world, settings):
    demand = archived(world)
    settings.CHANGXIN_RETENTION_YEARS = 10
    assert retention.anonymise(apply=False, now=LATER).demands == 0
    settings.CHANGXIN_RETENTION_YEARS = 3
    assert retention.anonymise(apply=False, now=LATER).numbers == [demand.number]
