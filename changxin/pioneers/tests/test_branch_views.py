"""The screens of branch life, dues, transfers and volunteering: who may do what, another branch's
ids (404), read-only POSTs (nothing changes), masked names, the rule named on refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, party_member, party_organisation
from changxin.pioneers import branch_life, dues, ledger, transfers, volunteering
from changxin.pioneers.models import (
    DuesBase,
    DuesPayment,
    Meeting,
    PointEntry,
    Transfer,
    VolunteerActivity,
    VolunteerSignup,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_world):
    ledger.ensure_default_rules()
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    other = party_organisation(CHANGXINDIAN, "长辛店社区党支部")
    secretary = party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    member = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    plain = party_member(branch, "马晓东")
    outsider = party_member(other, "张卫东", user=demo_world["changxindian"], secretary=True)
    return {
        "branch": branch,
        "other": other,
        "secretary": secretary,
        "member": member,
        "plain": plain,
        "outsider": outsider,
        **demo_world,
    }


def _everyone(branch):
    return {m.pk: (True, "") for m in branch.members.all()}


def test_the_secretary_takes_attendance_on_the_form(client, world):
    client.force_login(world["lugouqiao"])
    url = reverse("pioneers:meeting-new", args=[world["branch"].pk])
    page = client.get(url)
    assert page.status_code == 200 and "马晓东" in page.content.decode()
    data = {
        "kind": "theme_day",
        "held_on": timezone.localdate().isoformat(),
        "topic": "主题党日：学习党章",
        "minutes": "学习讨论",
        "present": [world["secretary"].pk, world["member"].pk],
    }
    refused = client.post(url, data)
    assert refused.status_code == 409
    assert "absence_reason_required" in refused.content.decode() and not Meeting.objects.exists()
    data[f"reason-{world['plain'].pk}"] = "病假"
    done = client.post(url, data)
    meeting = Meeting.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("pioneers:meeting", args=[meeting.pk])
    assert meeting.attendance.get(member=world["plain"]).absence_reason == "病假"
    shown = client.get(done["Location"]).content.decode()
    assert "马晓东" in shown and "病假" in shown


def test_another_branchs_ids_are_not_found_and_plain_members_keep_nothing(client, world):
    meeting = branch_life.record_meeting(
        world["branch"],
        kind="lecture",
        held_on=dt.date(2026, 1, 9),
        topic="党课",
        attendance=_everyone(world["branch"]),
    )
    client.force_login(world["changxindian"])  # secretary of another branch
    for url in (
        reverse("pioneers:meeting-new", args=[world["branch"].pk]),
        reverse("pioneers:meeting", args=[meeting.pk]),
        reverse("pioneers:dues", args=[world["branch"].pk]),
        reverse("pioneers:branch", args=[world["branch"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("pioneers:dues-pay", args=[world["member"].pk]), {"month": "2026-01"})
    assert response.status_code == 404 and not DuesPayment.objects.exists()
    client.force_login(world["lugouqiao_lead"])  # a plain member
    assert client.get(reverse("pioneers:meeting-new", args=[world["branch"].pk])).status_code == 403
    assert (
        client.post(reverse("pioneers:dues-pay", args=[world["member"].pk]), {"month": "2026-01"}).status_code
        == 403
    )


def test_dues_page_masks_names_and_incomes_for_readers_and_refuses_their_posts(client, world):
    dues.set_base(world["member"], 2026, category="wage", monthly_income="8000", actor=world["party"])
    client.force_login(world["leader"])  # district leadership: reads, masked
    page = client.get(reverse("pioneers:dues", args=[world["branch"].pk]), {"year": 2026}).content.decode()
    assert "周婷" not in page and "8000" not in page and "120.00" in page
    before = (DuesBase.objects.count(), DuesPayment.objects.count())
    for name, data in (
        ("pioneers:dues-pay", {"month": "2026-01"}),
        ("pioneers:dues-base", {"year": 2026, "category": "wage", "monthly_income": "1"}),
        ("pioneers:transfer-new", {"to_organisation": world["other"].pk, "on": "2026-01-02"}),
    ):
        assert client.post(reverse(name, args=[world["member"].pk]), data).status_code == 403
    assert (DuesBase.objects.count(), DuesPayment.objects.count(), Transfer.objects.count()) == (*before, 0)
    client.force_login(world["party"])
    page = client.get(reverse("pioneers:dues", args=[world["branch"].pk]), {"year": 2026}).content.decode()
    assert "周婷" in page and "8000" in page


@pytest.mark.parametrize("username", ["leader", "party", "admin"])
def test_the_admin_never_ties_a_named_member_to_their_dues(client, world, username):
    """The dues page masks names for readers; the admin shows names, so it shows no amount: the
    monthly dues over the rate is the income (120.00 at 1.5% is 8000)."""
    dues.set_base(world["member"], 2026, category="wage", monthly_income="8000", actor=world["party"])
    dues.record_payment(
        world["member"], dt.date(2026, 1, 1), paid_on=dt.date(2026, 1, 5), actor=world["party"]
    )
    client.force_login(world[username])
    for model in ("duesbase", "duespayment"):
        url = reverse(f"admin:pioneers_{model}_changelist")
        page = client.get(url).content.decode()
        assert "周婷" in page and "120.00" not in page, model
        obj = (DuesBase if model == "duesbase" else DuesPayment).objects.get(member=world["member"])
        change = client.get(reverse(f"admin:pioneers_{model}_change", args=[obj.pk])).content.decode()
        assert "120.00" not in change and "8000" not in change, model
    base_url = reverse("admin:pioneers_duesbase_changelist")
    for lookup in ("monthly_due__gte", "rate", "monthly_income__gt", "member__dues_payments__amount__gte"):
        assert client.get(base_url, {lookup: "1"}).status_code == 400, lookup
    assert client.get(reverse("admin:pioneers_duespayment_changelist"), {"amount": "120"}).status_code == 400


def test_party_staff_record_dues_through_the_page(client, world):
    client.force_login(world["party"])
    year = timezone.localdate().year
    response = client.post(
        reverse("pioneers:dues-base", args=[world["member"].pk]),
        {"year": year, "category": "wage", "monthly_income": "5000"},
    )
    assert response.status_code == 302
    assert DuesBase.objects.get(member=world["member"]).monthly_due == Decimal("50.00")
    client.post(reverse("pioneers:dues-pay", args=[world["member"].pk]), {"month": f"{year}-01"})
    assert DuesPayment.objects.get().amount == Decimal("50.00")
    twice = client.post(
        reverse("pioneers:dues-pay", args=[world["member"].pk]), {"month": f"{year}-01"}, follow=True
    )
    assert "已" in twice.content.decode() or "already" in twice.content.decode()
    assert (
        client.post(
            reverse("pioneers:dues-pay", args=[world["member"].pk]), {"month": "２０２６-01"}
        ).status_code
        == 400
    )


def test_compliance_overview_flags_missed_meetings(client, world):
    year = timezone.localdate().year - 1
    branch_life.record_meeting(
        world["branch"],
        kind="theme_day",
        held_on=dt.date(year, 1, 9),
        topic="主题党日",
        attendance=_everyone(world["branch"]),
    )
    client.force_login(world["party"])
    page = client.get(reverse("pioneers:compliance"), {"year": year}).content.decode()
    assert f"branch-{world['branch'].pk}" in page and f"{year}-02" in page and "chart-compliance" in page
    detail = client.get(
        reverse("pioneers:branch", args=[world["branch"].pk]), {"year": year}
    ).content.decode()
    assert 'class="period missed"' in detail and 'class="period ok"' in detail
    for bad in ("abc", "99999", "٢٠٢٦", "2026\x00"):
        assert client.get(reverse("pioneers:compliance"), {"year": bad}).status_code == 200
    client.force_login(world["lugouqiao"])  # the secretary sees their branch only
    page = client.get(reverse("pioneers:compliance"), {"year": year}).content.decode()
    assert world["branch"].name in page and world["other"].name not in page
    client.force_login(world["citizen"])
    assert client.get(reverse("pioneers:compliance")).status_code == 403


def test_a_transfer_through_the_pages_names_the_rule(client, world):
    today = timezone.localdate()
    client.force_login(world["lugouqiao"])  # the sending secretary
    response = client.post(
        reverse("pioneers:transfer-new", args=[world["plain"].pk]),
        {
            "to_organisation": world["other"].pk,
            "on": (today - dt.timedelta(days=3)).isoformat(),
            "reason": "搬家",
        },
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302
    step = reverse("pioneers:transfer-step", args=[transfer.pk])
    refused = client.post(step, {"step": "issue_letter", "on": today.isoformat(), "version": 0})
    assert refused.status_code == 409 and "letter_number_required" in refused.content.decode()
    client.post(
        step,
        {"step": "issue_letter", "on": today.isoformat(), "letter_number": "卢组〔2026〕3号", "version": 0},
    )
    transfer.refresh_from_db()
    assert transfer.state == "issued"
    # the sending secretary cannot confirm; the receiving secretary can, not before the letter
    assert client.post(step, {"step": "confirm", "on": today.isoformat(), "version": 1}).status_code == 403
    client.force_login(world["changxindian"])
    assert client.get(reverse("pioneers:transfer", args=[transfer.pk])).status_code == 200
    early = client.post(
        step, {"step": "confirm", "on": (today - dt.timedelta(days=1)).isoformat(), "version": 1}
    )
    assert early.status_code == 409 and "confirm_after_letter" in early.content.decode()
    client.post(step, {"step": "confirm", "on": today.isoformat(), "version": 1})
    world["plain"].refresh_from_db()
    assert world["plain"].organisation == world["other"]


def test_volunteering_through_the_pages(client, world):
    client.force_login(world["party"])
    start = timezone.localtime() + dt.timedelta(minutes=5)
    response = client.post(
        reverse("pioneers:activity-new"),
        {
            "organisation": world["branch"].pk,
            "title": "敬老院陪伴",
            "place": "卢沟桥敬老院",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": 3,
        },
    )
    activity = VolunteerActivity.objects.get()
    assert response.status_code == 302 and activity.hours == Decimal("3.0")
    act = reverse("pioneers:activity-act", args=[activity.pk])
    client.post(act, {"action": "publish"})
    page = client.get(reverse("pioneers:activity", args=[activity.pk])).content.decode()
    assert "<svg" in page and "/pioneers/volunteer/check-in/" in page
    token = volunteering.checkin_token(activity)

    client.force_login(world["lugouqiao_lead"])  # a member
    listing = client.get(reverse("pioneers:activities")).content.decode()
    assert "敬老院陪伴" in listing
    checkin = reverse("pioneers:checkin", args=[token])
    refused = client.post(checkin)
    assert refused.status_code == 409 and "not_signed_up" in refused.content.decode()
    client.post(act, {"action": "sign_up"})
    assert VolunteerSignup.objects.filter(member=world["member"]).exists()
    assert client.post(act, {"action": "publish"}).status_code == 302  # refused with a message
    activity.refresh_from_db()
    assert activity.state == "published"
    assert (
        "check-in" in client.get(checkin).content.decode() or "签到" in client.get(checkin).content.decode()
    )
    done = client.post(checkin)
    assert done.status_code == 200 and 'id="credited"' in done.content.decode()
    entry = PointEntry.objects.get(member=world["member"])
    member_page = client.get(reverse("pioneers:member", args=[world["member"].pk])).content.decode()
    source = reverse("pioneers:volunteer-source", args=[entry.source_event_id])
    assert source in member_page and "敬老院陪伴" in member_page
    assert client.get(source)["Location"].startswith(reverse("pioneers:activity", args=[activity.pk]))
    bad = client.get(reverse("pioneers:checkin", args=["not-a-token"])).content.decode()
    assert "token_invalid" in bad


def test_members_do_not_see_drafts_nor_other_members_sign_ups(client, world):
    start = timezone.now() + dt.timedelta(days=2)
    draft = volunteering.create_activity(
        world["branch"],
        title="草稿活动",
        place="x",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=2,
    )
    published = volunteering.change(
        volunteering.create_activity(
            world["other"],
            title="长辛店活动",
            place="y",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=2,
        ),
        "publish",
        None,
    )
    volunteering.sign_up(published, world["changxindian"])
    client.force_login(world["lugouqiao_lead"])
    assert client.get(reverse("pioneers:activity", args=[draft.pk])).status_code == 404
    page = client.get(reverse("pioneers:activity", args=[published.pk])).content.decode()
    assert "长辛店活动" in page and "张卫东" not in page and 'id="signups"' not in page


def test_transfers_list_is_scoped(client, world):
    third = party_organisation(CHANGXINDIAN, "长辛店第二党支部")
    other_member = party_member(world["other"], "外支部党员")
    transfers.request_transfer(other_member, third, on=dt.date(2026, 1, 5))
    transfers.request_transfer(world["member"], world["other"], on=dt.date(2026, 1, 5))
    client.force_login(world["lugouqiao"])
    page = client.get(reverse("pioneers:transfers")).content.decode()
    assert "长辛店社区党支部" in page and "长辛店第二党支部" not in page
