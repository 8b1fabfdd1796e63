"""承诺践诺 and 容错纠错: the machine's rules named when refused, points from the "keep" event (and
its audit), residents' ratings on the public wall, relief that cancels a penalty."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core import events
from changxin.core.errors import DomainError
from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, party_member, party_organisation, unit
from changxin.pioneers import commitments, ledger
from changxin.pioneers.models import (
    Commitment,
    CommitmentEvent,
    PointEntry,
    PointTotal,
    ReliefApplication,
    ResidentRating,
)

CONTENT = "每周两次到同馨家园巡查楼道堆物，帮助独居老人代购生活用品。"


@pytest.fixture
def world(demo_world):
    ledger.ensure_default_rules()
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    secretary = party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    member = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    other = party_organisation(CHANGXINDIAN, "长辛店机关党支部", field="organ")
    party_member(other, "张伟", user=demo_world["changxindian"], secretary=True)
    community = unit(LUGOUQIAO).children.order_by("path").first()
    return {**demo_world, "branch": branch, "secretary": secretary, "member": member, "community": community}


def _commitment(world, *, member=None, actor=None, year=None):
    member = member or world["member"]
    return commitments.create_commitment(
        member,
        year=year or timezone.localdate().year,
        title="楼道清洁守护",
        content=CONTENT,
        community=world["community"],
        actor=actor or member.user,
    )


def _refused(code, call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, str(caught.value.message))
    return caught.value


def test_a_kept_commitment_earns_its_points_from_the_event(world):
    c = _commitment(world)
    commitments.step(c, "publish", world["lugouqiao_lead"])  # the member publishes their own
    commitments.add_progress(
        c, on=timezone.localdate(), text="清理楼道堆物3处", actor=world["lugouqiao_lead"]
    )
    _refused("not_allowed", commitments.step, c, "keep", world["lugouqiao_lead"], rating=5)  # not their own
    commitments.step(c, "keep", world["lugouqiao"], rating=4, note="按期兑现")
    c.refresh_from_db()
    assert (c.state, c.org_rating, c.evaluated_by) == ("kept", 4, world["lugouqiao"])
    assert events.catch_up()["pioneers.commitments"] == 1
    entry = PointEntry.objects.get(member=world["member"], source_stream="commitments")
    keep = CommitmentEvent.objects.get(commitment=c, action="keep")
    assert (entry.source_event_id, entry.points, entry.rule.code) == (
        keep.pk,
        Decimal("3"),
        "commitment_kept",
    )
    assert events.catch_up()["pioneers.commitments"] == 0  # once
    assert PointTotal.objects.get(member=world["member"], year=timezone.localdate().year).total == Decimal(
        "3"
    )
    result = ledger.audit_points()
    assert result.mismatches == 0, result.problems
    PointEntry.objects.filter(pk=entry.pk).update(points=Decimal("30"))  # typed by hand: found
    assert ledger.audit_points().mismatches >= 1


def test_each_rule_is_named_when_refused(world):
    last_year = _commitment(world, year=timezone.localdate().year - 1)
    _refused("commitment_year", commitments.step, last_year, "publish", world["lugouqiao"])
    c = _commitment(world)
    _refused(
        "illegal_state",
        commitments.add_progress,
        c,
        on=timezone.localdate(),
        text="x",
        actor=world["lugouqiao"],
    )
    commitments.step(c, "publish", world["lugouqiao"])
    _refused("progress_required", commitments.step, c, "keep", world["lugouqiao"], rating=5)
    commitments.add_progress(c, on=timezone.localdate(), text="代购两次", actor=world["lugouqiao"])
    _refused("rating_required", commitments.step, c, "keep", world["lugouqiao"])
    _refused("note_required", commitments.step, c, "not_keep", world["lugouqiao"], rating=2)
    future = timezone.localdate() + dt.timedelta(days=1)
    assert (
        _refused(
            "date_in_future", commitments.add_progress, c, on=future, text="x", actor=world["lugouqiao"]
        ).field
        == "on"
    )
    # a secretary's own commitment is evaluated by party staff, not by the secretary
    own = _commitment(world, member=world["secretary"])
    commitments.step(own, "publish", world["lugouqiao"])
    commitments.add_progress(own, on=timezone.localdate(), text="完成", actor=world["lugouqiao"])
    _refused("not_allowed", commitments.step, own, "keep", world["lugouqiao"], rating=5)
    commitments.step(own, "keep", world["party"], rating=5)


def test_others_may_not_keep_a_members_commitments(world):
    _refused("not_allowed", _commitment, world, actor=world["changxindian"])  # another branch's secretary
    _refused("not_allowed", _commitment, world, actor=world["leader"])  # read-only leadership
    c = _commitment(world)
    _refused("not_allowed", commitments.step, c, "publish", world["changxindian"])


def test_residents_rate_once_on_the_wall_which_masks_names(world, client):
    c = _commitment(world)
    draft = _commitment(world)
    _refused("illegal_state", commitments.rate, draft, world["citizen"], 5)
    c = commitments.step(c, "publish", world["lugouqiao"])
    _refused("not_allowed", commitments.rate, c, world["dispatcher"], 5)  # staff are not residents
    _refused("invalid_rating", commitments.rate, c, world["citizen"], 6)
    commitments.rate(c, world["citizen"], 5)
    _refused("already_rated", commitments.rate, c, world["citizen"], 1)
    assert ResidentRating.objects.filter(commitment=c).count() == 1

    url = reverse("pioneers:wall", args=[world["community"].code])
    page = client.get(url).content.decode()  # no login needed
    assert "楼道清洁守护" in page and f"wall-{c.pk}" in page and f"wall-{draft.pk}" not in page
    assert "周婷" not in page and "周*" in page
    assert client.get(url + "?year=١٢٣").status_code == 200
    assert (
        client.get(reverse("pioneers:wall", args=["110106017"])).status_code == 404
    )  # a street, not a community
    client.force_login(world["citizen"])
    page = client.get(url).content.decode()
    assert "rate-form" not in page  # rated already
    response = client.post(reverse("pioneers:commitment-rate", args=[draft.pk]), {"stars": "5"})
    assert response.status_code == 404


_source_ids = iter(range(900000, 999999))


def _penalty(world, points="-1"):
    rule = ledger.PointRule.objects.get(code="reply_late")
    return PointEntry.objects.create(
        member=world["member"],
        rule=rule,
        kind=rule.kind,
        points=Decimal(points),
        at=timezone.now(),
        year=timezone.localdate().year,
        source_stream="demands",
        source_event_id=next(_source_ids),
    )


def test_relief_granted_cancels_the_penalty_with_a_traced_entry(world):
    penalty = _penalty(world)
    ledger.recompute_total(world["member"], penalty.year)
    _refused(
        "reason_required", commitments.apply_for_relief, penalty, reason="太短", actor=world["lugouqiao_lead"]
    )
    application = commitments.apply_for_relief(
        penalty, reason="超期因暴雨封路，已提前报备街道。", actor=world["lugouqiao_lead"]
    )
    _refused(
        "already_applied",
        commitments.apply_for_relief,
        penalty,
        reason="再次申请容错纠错说明",
        actor=world["lugouqiao"],
    )
    _refused(
        "not_allowed", commitments.decide_relief, application, "grant", world["lugouqiao"], decision="同意"
    )  # secretary
    _refused("note_required", commitments.decide_relief, application, "grant", world["party"], decision="")
    commitments.decide_relief(application, "grant", world["party"], decision="情况属实，予以容错")
    counter = PointEntry.objects.get(source_stream="relief")
    assert (counter.points, counter.source_event_id, counter.year) == (
        Decimal("1"),
        application.pk,
        penalty.year,
    )
    assert PointTotal.objects.get(member=world["member"], year=penalty.year).total == Decimal("0")
    problems = [p for p in ledger.audit_points().problems if "relief" in p or f"entry {counter.pk}" in p]
    assert problems == []


def test_relief_is_for_penalties_and_not_decided_by_the_applicant(world):
    bonus = _penalty(world, points="2")
    _refused(
        "not_a_penalty",
        commitments.apply_for_relief,
        bonus,
        reason="这不是扣分，不应申请容错。",
        actor=world["party"],
    )
    penalty = _penalty(world)
    application = commitments.apply_for_relief(
        penalty, reason="由组织部门代为申请容错纠错。", actor=world["party"]
    )
    _refused("four_eyes", commitments.decide_relief, application, "grant", world["party"], decision="同意")
    commitments.decide_relief(application, "refuse", world["admin"], decision="理由不充分")
    application.refresh_from_db()
    assert application.state == "refused" and not PointEntry.objects.filter(source_stream="relief").exists()


def test_pages_are_scoped_and_read_only_posts_change_nothing(world, client):
    c = _commitment(world)
    url = reverse("pioneers:commitments", args=[world["member"].pk])
    client.force_login(world["changxindian"])  # another branch's secretary
    assert client.get(url).status_code == 404
    assert (
        client.post(reverse("pioneers:commitment-step", args=[c.pk]), {"action": "publish"}).status_code
        == 404
    )
    client.force_login(world["leader"])
    assert client.get(url).status_code == 200
    response = client.post(
        reverse("pioneers:commitment-step", args=[c.pk]), {"action": "publish", "version": "0"}
    )
    assert response.status_code == 403
    assert Commitment.objects.get(pk=c.pk).state == "draft"
    client.force_login(world["lugouqiao_lead"])  # the member
    response = client.post(
        reverse("pioneers:commitment-new", args=[world["member"].pk]),
        {"year": "2026x", "title": "承诺"},
    )
    assert response.status_code == 400
    response = client.post(
        reverse("pioneers:commitment-new", args=[world["member"].pk]),
        {
            "year": str(timezone.localdate().year),
            "title": "新承诺",
            "content": CONTENT,
            "community": str(world["community"].pk),
        },
    )
    assert response.status_code == 302 and Commitment.objects.filter(title="新承诺").exists()
    assert ReliefApplication.objects.count() == 0
