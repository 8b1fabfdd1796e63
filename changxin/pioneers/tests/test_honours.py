"""先锋岗, 先锋者荣, 先锋者说 and the evaluation sheet: the rules named when refused, four eyes, the
public honour roll (published only, name and organisation only), scope and read-only accounts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core import events
from changxin.core.errors import DomainError
from changxin.core.models import AuditEntry, Role
from changxin.core.tests.builders import (
    CHANGXINDIAN,
    LUGOUQIAO,
    make_user,
    party_member,
    party_organisation,
    unit,
)
from changxin.pioneers import branch_life, dues, evaluation, honours, ledger, posts
from changxin.pioneers.models import Honour, HonourEvent, PointEntry

YEAR = timezone.localdate().year


def give_points(member, points, kind="service", year=YEAR):
    PointEntry.objects.create(
        member=member, kind=kind, points=Decimal(points), at=timezone.now(), year=year,
        source_stream="demands", source_event_id=member.pk * 1000 + PointEntry.objects.count(),
    )  # fmt: skip
    ledger.recompute_total(member, year)


@pytest.fixture
def world(demo_world, settings):
    settings.PIONEERS_HONOUR_TOP_N = 2
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    secretary = party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    member = party_member(branch, "周婷", user=demo_world["lugouqiao_lead"])
    third = party_member(branch, "王芳")
    give_points(member, "9")
    give_points(secretary, "5", kind="reform")
    give_points(third, "2")
    other = party_organisation(CHANGXINDIAN, "长辛店机关党支部", field="organ")
    stranger = party_member(other, "张伟", user=demo_world["changxindian"], secretary=True)
    party2 = make_user("party_two", Role.PARTY_STAFF, unit("110106"))
    return {
        **demo_world,
        "branch": branch,
        "secretary": secretary,
        "member": member,
        "third": third,
        "other": other,
        "stranger": stranger,
        "party2": party2,
    }


def refused(code, call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, str(caught.value.message))
    return caught.value


# --- 先锋者荣 ---------------------------------------------------------------------------------------


def test_only_the_top_of_the_ranking_is_nominated(world):
    error = refused("top_of_ranking", honours.nominate, world["third"], YEAR, actor=world["party"])
    assert "2" in str(error.message) and ("rank 3" in str(error.message) or "第 3 名" in str(error.message))
    refused(
        "top_of_ranking", honours.nominate, world["branch"].members.create(name="新人", status="full"), YEAR
    )
    refused("honour_year", honours.nominate, world["member"], YEAR + 1, actor=world["party"])
    h = honours.nominate(world["member"], YEAR, actor=world["party"], citation="接诉即办表现突出")
    assert (h.rank, h.points, h.state) == (1, Decimal("9"), "nominated")
    refused("honour_once_a_year", honours.nominate, world["member"], YEAR, actor=world["lugouqiao"])
    refused("not_allowed", honours.nominate, world["secretary"], YEAR, actor=world["changxindian"])
    assert honours.nominate(world["secretary"], YEAR, actor=world["lugouqiao"]).rank == 2  # the secretary


def test_four_eyes_then_published_on_the_public_roll(world, client):
    h = honours.nominate(world["member"], YEAR, actor=world["party"], citation="接诉即办表现突出")
    refused("four_eyes", honours.step, h, "approve", world["party"])
    refused("not_allowed", honours.step, h, "approve", world["lugouqiao"])  # a secretary does not approve
    refused("illegal_state", honours.step, h, "publish", world["party2"])
    honours.step(h, "approve", world["party2"])
    honours.step(h, "publish", world["party"])  # publishing is not a second decision
    h.refresh_from_db()
    assert (h.state, h.decided_by, h.published_at is not None) == ("published", world["party2"], True)
    assert list(HonourEvent.objects.filter(honour=h).values_list("action", flat=True)) == [
        "nominate", "approve", "publish",
    ]  # fmt: skip
    assert AuditEntry.objects.filter(object_id=str(h.pk), action="state").count() == 2
    rejected = honours.nominate(world["secretary"], YEAR, actor=world["party"])
    refused("note_required", honours.step, rejected, "reject", world["party2"])
    honours.step(rejected, "reject", world["party2"], note="积分来源待核实")
    body = client.get(reverse("pioneers:roll"), {"year": YEAR}).content.decode()
    assert "周婷" in body and "卢沟桥机关党支部" in body and "接诉即办表现突出" in body
    assert "李强" not in body  # rejected: not on the roll
    assert world["member"].masked_phone not in body or not world["member"].phone
    odd = client.get(reverse("pioneers:roll"), {"year": "２０２５"})  # not ASCII digits: the latest year
    assert odd.status_code == 200 and "周婷" in odd.content.decode()


def test_honour_views_nominate_and_decide(world, client):
    client.force_login(world["party"])
    page = client.get(reverse("pioneers:honours", args=[world["branch"].pk]))
    assert page.status_code == 200 and "周婷" in page.content.decode()
    r = client.post(reverse("pioneers:nominate", args=[world["third"].pk]), {"year": YEAR})
    assert r.status_code == 302 and not Honour.objects.exists()  # refused with the rule, nothing written
    client.post(reverse("pioneers:nominate", args=[world["member"].pk]), {"year": YEAR})
    h = Honour.objects.get()
    client.post(reverse("pioneers:honour-step", args=[h.pk]), {"action": "approve", "version": h.version})
    assert Honour.objects.get().state == "nominated"  # four eyes
    client.force_login(world["party2"])
    client.post(reverse("pioneers:honour-step", args=[h.pk]), {"action": "approve", "version": h.version})
    assert Honour.objects.get().state == "approved"
    # another street's party staff and the read-only leadership
    lgq_party = make_user("cxd_party", Role.PARTY_STAFF, unit(CHANGXINDIAN))
    client.force_login(lgq_party)
    assert client.get(reverse("pioneers:honours", args=[world["branch"].pk])).status_code == 404
    assert (
        client.post(
            reverse("pioneers:honour-step", args=[h.pk]), {"action": "publish", "version": 2}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("pioneers:nominate", args=[world["member"].pk]), {"year": YEAR}).status_code
        == 404
    )
    client.force_login(world["leader"])
    assert (
        client.post(reverse("pioneers:nominate", args=[world["member"].pk]), {"year": YEAR}).status_code
        == 403
    )
    client.post(reverse("pioneers:honour-step", args=[h.pk]), {"action": "publish", "version": 2})
    assert Honour.objects.get().state == "approved"


# --- 先锋岗 -----------------------------------------------------------------------------------------


def test_posts_rules_audit_and_scope(world, client):
    station = unit(LUGOUQIAO).children.order_by("path").first()
    refused(
        "place_outside", posts.create_post, world["branch"], name="便民窗口", place=unit(CHANGXINDIAN),
        starts_on=timezone.localdate(), actor=world["party"],
    )  # fmt: skip
    refused(
        "foreign_member", posts.create_post, world["branch"], name="便民窗口", place=station,
        starts_on=timezone.localdate(), members=[world["stranger"]], actor=world["party"],
    )  # fmt: skip
    refused(
        "period", posts.create_post, world["branch"], name="便民窗口", place=station,
        starts_on=timezone.localdate(), ends_on=timezone.localdate() - dt.timedelta(days=1), actor=world["party"],
    )  # fmt: skip
    refused(
        "not_allowed", posts.create_post, world["branch"], name="便民窗口", place=station,
        starts_on=timezone.localdate(), actor=world["changxindian"],
    )  # fmt: skip
    post = posts.create_post(
        world["branch"], name="党员先锋岗", place=station, window="1号窗口", members=[world["member"]],
        starts_on=timezone.localdate(), actor=world["lugouqiao"],
    )  # fmt: skip
    posts.change_post(
        post,
        members=[world["member"], world["third"]],
        starts_on=post.starts_on,
        ends_on=None,
        actor=world["party"],
    )
    change = AuditEntry.objects.get(object_id=str(post.pk), action="update")
    assert "members" in change.detail
    client.force_login(world["party"])
    page = client.get(reverse("pioneers:post", args=[post.pk])).content.decode()
    assert "周婷" in page and "王芳" in page and 'id="duty-' in page
    assert "党员先锋岗" in client.get(reverse("pioneers:member", args=[world["member"].pk])).content.decode()
    client.force_login(world["changxindian"])  # another branch's secretary
    assert client.get(reverse("pioneers:post", args=[post.pk])).status_code == 404
    assert client.post(reverse("pioneers:post-change", args=[post.pk]), {}).status_code == 404
    client.force_login(world["leader"])
    assert client.post(reverse("pioneers:post-change", args=[post.pk]), {}).status_code == 403
    assert client.get(reverse("pioneers:post", args=[post.pk])).status_code == 200


def test_post_form_creates_and_reports_errors(world, client):
    station = unit(LUGOUQIAO).children.order_by("path").first()
    client.force_login(world["lugouqiao"])  # the branch secretary
    url = reverse("pioneers:post-new", args=[world["branch"].pk])
    bad = client.post(url, {"name": "窗口", "place": station.pk, "starts_on": "2025-13-01"})
    assert bad.status_code == 400
    r = client.post(
        url,
        {"name": "窗口岗", "place": station.pk, "members": [world["member"].pk], "starts_on": "2025-03-01"},
    )
    assert r.status_code == 302
    assert (
        client.get(reverse("pioneers:posts", args=[world["branch"].pk])).content.decode().count("窗口岗") == 1
    )


# --- 先锋者说 ---------------------------------------------------------------------------------------


def test_sessions_recorded_and_listed_on_the_speakers_page(world, client):
    refused(
        "required", posts.record_session, world["branch"], held_on=timezone.localdate(), topic="接诉即办经验",
        speakers=[], actor=world["party"],
    )  # fmt: skip
    refused(
        "foreign_member", posts.record_session, world["branch"], held_on=timezone.localdate(), topic="经验",
        speakers=[world["stranger"]], actor=world["party"],
    )  # fmt: skip
    refused(
        "date_in_future", posts.record_session, world["branch"], held_on=timezone.localdate() + dt.timedelta(days=1),
        topic="经验", speakers=[world["member"]], actor=world["party"],
    )  # fmt: skip
    s = posts.record_session(
        world["branch"], held_on=timezone.localdate(), topic="接诉即办经验分享", speakers=[world["member"]],
        attendees=[world["third"]], summary="讲述了老旧小区停车问题的解决过程。", actor=world["lugouqiao"],
    )  # fmt: skip
    assert set(s.attendees.values_list("name", flat=True)) == {"周婷", "王芳"}  # the speaker was there
    client.force_login(world["lugouqiao_lead"])  # the member themselves
    assert (
        "接诉即办经验分享"
        in client.get(reverse("pioneers:member", args=[world["member"].pk])).content.decode()
    )
    client.force_login(world["changxindian"])
    assert client.get(reverse("pioneers:session", args=[s.pk])).status_code == 404
    client.force_login(world["party"])
    r = client.post(
        reverse("pioneers:session-new", args=[world["branch"].pk]),
        {
            "held_on": timezone.localdate().isoformat(),
            "topic": "廉洁奉公",
            "speakers": [world["secretary"].pk],
        },
    )
    assert r.status_code == 302


# --- the evaluation sheet ---------------------------------------------------------------------------


def test_evaluation_sheet_reads_every_record(world, client):
    m = world["member"]
    branch_life.record_meeting(
        world["branch"], kind="theme_day", held_on=timezone.localdate().replace(day=1), topic="主题党日",
        attendance={m.pk: (True, ""), world["third"].pk: (False, "病假"), world["secretary"].pk: (True, "")},
    )  # fmt: skip
    dues.set_base(m, YEAR, category="wage", monthly_income=Decimal("5000"))
    posts.record_session(world["branch"], held_on=timezone.localdate(), topic="经验", speakers=[m])
    s = evaluation.sheet(m, YEAR)
    service = next(k for k in s["kinds"] if k["kind"] == "service")
    assert (s["total"], service["points"], service["streams"]) == (
        Decimal("9"),
        Decimal("9"),
        [(evaluation.stream_label("demands"), 1)],
    )
    assert (s["meetings_attended"], s["meetings_held"], len(s["talks"])) == (1, 1, 1)
    assert s["has_dues_base"] and s["dues_due"] == s["dues_arrears"]  # nothing paid yet
    client.force_login(world["lugouqiao_lead"])
    page = client.get(reverse("pioneers:evaluation", args=[m.pk]), {"year": YEAR}).content.decode()
    assert "data-print" in page and 'id="sheet-total">9' in page
    assert client.get(reverse("pioneers:evaluation", args=[m.pk]), {"year": "20x5"}).status_code == 200
    assert (
        client.get(reverse("pioneers:evaluation", args=[world["third"].pk])).status_code == 404
    )  # not theirs


def test_excel_export_is_formula_safe_and_audited(world, client):
    from openpyxl import load_workbook

    party_member(world["branch"], '=HYPERLINK("http://x")')
    client.force_login(world["lugouqiao_lead"])  # a member, not a keeper
    assert client.get(reverse("pioneers:evaluation-export", args=[world["branch"].pk])).status_code in (
        403,
        404,
    )
    client.force_login(world["party"])
    r = client.get(reverse("pioneers:evaluation-export", args=[world["branch"].pk]), {"year": YEAR})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)
    names = [row[0].value for row in ws.iter_rows(min_row=3)]
    assert "周婷" in names and "张伟" not in names
    assert AuditEntry.objects.filter(action="export", object_id=str(world["branch"].pk)).exists()


def test_organisation_page_has_the_ranking_chart(world, client):
    client.force_login(world["party"])
    body = client.get(reverse("pioneers:organisation", args=[world["branch"].pk])).content.decode()
    assert 'id="chart-ranking"' in body and 'id="ranking-data"' in body and "周婷" in body


def test_honour_events_are_a_published_stream(world):
    honours.nominate(world["member"], YEAR, actor=world["party"])
    assert HonourEvent.objects.count() == 1
    events.catch_up()  # no subscriber fails on the new stream


# --- query budgets of the lists (rows do not add queries) --------------------------------------------


def _count(client, url, **query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, query).status_code == 200
    return len(queries)


def test_lists_do_not_grow_with_rows(world, client):
    station = unit(LUGOUQIAO).children.order_by("path").first()
    branch = world["branch"]
    client.force_login(world["party"])
    urls = [
        reverse("pioneers:posts", args=[branch.pk]),
        reverse("pioneers:sessions", args=[branch.pk]),
        reverse("pioneers:honours", args=[branch.pk]),
        reverse("pioneers:evaluation-export", args=[branch.pk]),
    ]

    def add(n):
        for i in range(n):
            m = party_member(branch, f"党员{n}-{i}")
            posts.create_post(
                branch, name=f"岗{n}-{i}", place=station, members=[m], starts_on=timezone.localdate()
            )
            posts.record_session(branch, held_on=timezone.localdate(), topic=f"说{n}-{i}", speakers=[m])

    add(2)
    honours.nominate(world["member"], YEAR, actor=world["party"])
    for url in urls:
        client.get(url)  # warm
    few = [_count(client, url) for url in urls]
    add(6)
    honours.nominate(world["secretary"], YEAR, actor=world["party"])
    many = [_count(client, url) for url in urls]
    assert many == few, (few, many)
    assert max(many) <= 20, many  # the export: a fixed set of aggregate queries
