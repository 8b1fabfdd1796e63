"""Dashboards and the monthly report: figures against the raw data, scope, CSV, query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from changxin.core import events
from changxin.core.models import Role, User
from changxin.core.tests.builders import (
    CHANGXINDIAN,
    LUGOUQIAO,
    at,
    hot_spot_in,
    party_member,
    party_organisation,
)
from changxin.demands.selectors import unscoped_demands
from changxin.insight import aggregates, tasks
from changxin.insight.metrics import Period
from changxin.insight.models import MonthlyReport, ReportState
from changxin.insight.rankings import monthly_rankings
from changxin.insight.tests.test_aggregates import FIRST, LAST, MARCH, data  # noqa: F401, F811 — the fixture

MONTH = "2025-03"


def board_of(response):
    return response.context["board"]


def card(board, label):
    return next(value for text, value in board.cards if str(text) == str(label))


RECEIVED_IN_MARCH = _("Received in %(month)s") % {"month": MONTH}


def test_district_board_equals_the_raw_figures(client, world, data):  # noqa: F811
    client.force_login(world.leader)
    response = client.get(reverse("insight:dashboard"), {"month": MONTH})
    assert response.status_code == 200
    board = board_of(response)
    raw = aggregates.raw_counts(world.leader, FIRST, LAST)
    assert card(board, RECEIVED_IN_MARCH) == raw["received"] == 6
    by_channel = board.chart("by_channel")
    assert sum(row[2] for row in by_channel.rows) == raw["received"]
    raw_by_type = aggregates.raw_counts(world.leader, FIRST, LAST, by="demand_type")
    assert sorted(row[2] for row in board.chart("by_demand_type").rows) == sorted(
        v["received"] for v in raw_by_type.values()
    )
    # 三率 by street: the same figures as the ranking page
    live = {r.unit.short_name or r.unit.name: r for r in monthly_rankings(MARCH)["street"].rows}
    for row in board.chart("rates_by_street").rows:
        if row[0] in live and live[row[0]].rates.composite is not None:
            assert row[1] == round(float(live[row[0]].rates.composite) * 100, 2)
    # the street "map": a tile per street, sized by the demands located there
    tiles = {row[0]: row[1] for row in board.chart("street_map").rows}
    assert sum(tiles.values()) == raw["received"]
    body = response.content.decode()
    for chart in board.charts:
        assert f'id="table-{chart.key}"' in body and f'id="csv-{chart.key}"' in body


def test_a_street_officer_sees_only_their_street(client, world, data):  # noqa: F811
    officer = world.officer(LUGOUQIAO)
    client.force_login(officer)
    board = board_of(client.get(reverse("insight:dashboard"), {"month": MONTH}))
    assert card(board, RECEIVED_IN_MARCH) == 3  # what Lugouqiao leads
    assert client.get(reverse("insight:dashboard-street", args=[CHANGXINDIAN])).status_code == 404
    own = client.get(reverse("insight:dashboard-street", args=[LUGOUQIAO]), {"month": MONTH})
    assert own.status_code == 200
    assert card(board_of(own), RECEIVED_IN_MARCH) == 3
    streets = client.get(reverse("insight:dashboard-streets"))
    assert list(streets.context["streets"]) == [world.unit(LUGOUQIAO)]
    # the district board's overdue and community figures stay in scope too
    overdue_units = {row[0] for row in board.chart("overdue").rows}
    assert overdue_units <= {world.unit(LUGOUQIAO).name}
    assert client.get(reverse("insight:dashboard-enterprise")).status_code == 403
    assert client.get(reverse("insight:dashboard-party")).status_code == 403


def test_the_street_board_counts_its_communities(client, world, data):  # noqa: F811
    client.force_login(world.leader)
    response = client.get(reverse("insight:dashboard-street", args=[LUGOUQIAO]), {"month": MONTH})
    board = board_of(response)
    period = Period.month(MARCH)
    located = unscoped_demands().filter(
        street=world.unit(LUGOUQIAO), received_at__gte=period.start, received_at__lt=period.end
    )
    assert sum(row[1] for row in board.chart("communities").rows) == located.count()
    assert card(board, RECEIVED_IN_MARCH) == located.count()


def test_csv_downloads_are_formula_safe(client, world, data):  # noqa: F811
    hot_spot_in(LUGOUQIAO, label='=HYPERLINK("http://evil.example","点我")')
    client.force_login(world.leader)
    response = client.get(reverse("insight:dashboard"), {"month": MONTH, "csv": "hot_spots"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][0].startswith("'=HYPERLINK")
    assert client.get(reverse("insight:dashboard"), {"csv": "nope"}).status_code == 404
    # odd parameters never break a board
    for month in ("２０２５-03", "9999-99", "2025-3x", "\x00"):
        assert client.get(reverse("insight:dashboard"), {"month": month}).status_code == 200


def test_query_count_does_not_grow_with_the_data(client, world, data):  # noqa: F811
    client.force_login(world.leader)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("insight:dashboard"), {"month": MONTH}).status_code == 200
        return len(queries)

    client.get(reverse("insight:dashboard"), {"month": MONTH})  # the ranking cache is built once
    before = count()
    for day in (10, 11, 12):
        for street in (LUGOUQIAO, CHANGXINDIAN):
            demand = world.new(at(day, 9), street=street, channel="web")
            world.dispatch(demand, street, at(day, 10))
    events.catch_up()
    tasks.refresh_aggregates()
    assert count() == before <= 40


def test_the_enterprise_and_party_boards(client, world, data):  # noqa: F811
    manager = User.objects.create_user(
        "mgr", password="pw", role=Role.SERVICE_MANAGER, unit=world.unit(LUGOUQIAO)
    )
    client.force_login(manager)
    response = client.get(reverse("insight:dashboard-enterprise"))
    assert response.status_code == 200
    assert board_of(response).chart("projects") is not None
    organisation = party_organisation(LUGOUQIAO)
    party_member(organisation, "党员甲")
    party_member(organisation, "党员乙")
    party_organisation(CHANGXINDIAN)
    staff = User.objects.create_user(
        "party1", password="pw", role=Role.PARTY_STAFF, unit=world.unit(LUGOUQIAO)
    )
    client.force_login(staff)
    board = board_of(client.get(reverse("insight:dashboard-party")))
    assert board.chart("members_by_org").rows == [[organisation.name, 2]]
    assert card(board, _("Party members")) == 2


# --- the monthly report ---------------------------------------------------------------------------


def test_report_command_writes_a_real_workbook(world, data, tmp_path):  # noqa: F811
    call_command("report", "monthly", "--month", MONTH, "--output", str(tmp_path))
    book = load_workbook(tmp_path / "monthly-report-2025-03.xlsx")
    assert book.sheetnames[:5] == [
        _("Rankings of the four groups"),
        _("Hot spots"),
        _("Overdue"),
        _("Category shares"),
        _("Enterprise demands"),
    ]
    ranking_rows = {
        row[2]: row for row in book[_("Rankings of the four groups")].iter_rows(min_row=5, values_only=True)
    }
    live = monthly_rankings(MARCH)["street"]
    for row in live.rows:
        if row.rates.demands:
            assert ranking_rows[row.unit.name][3] == row.rates.demands
            assert ranking_rows[row.unit.name][1] == row.rank
    shares = list(book[_("Category shares")].iter_rows(min_row=4, values_only=True))
    period = Period.month(MARCH)
    received = unscoped_demands().filter(received_at__gte=period.start, received_at__lt=period.end).count()
    assert sum(r[1] for r in shares) == received == 6
    html = (tmp_path / "monthly-report-2025-03.html").read_text(encoding="utf-8")
    assert "<svg" in html and "@media print" in html and "<script" not in html


def test_report_command_refuses_a_bad_month(world, tmp_path):
    for bad in ("2025-13", "25-03", "２０２５-03", "1999-01"):
        with pytest.raises(CommandError, match="--month"):
            call_command("report", "monthly", "--month", bad, "--output", str(tmp_path))


def test_a_leader_requests_the_report_in_the_ui(
    client,
    world,
    data,  # noqa: F811
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
):
    settings.CHANGXIN_REPORTS_DIR = tmp_path
    client.force_login(world.leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("insight:report-request"), {"month": MONTH})
    report = MonthlyReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("insight:report", args=[report.pk])
    assert report.state == ReportState.DONE and report.progress == 100
    page = client.get(reverse("insight:report", args=[report.pk]))
    assert b'id="report-xlsx"' in page.content
    xlsx = client.get(reverse("insight:report-file", args=[report.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert _("Overdue") in book.sheetnames
    html = client.get(reverse("insight:report-file", args=[report.pk, "html"]))
    assert b"<style nonce=" in html.content
    # nobody else's, and not for unit staff
    client.force_login(world.officer(LUGOUQIAO))
    assert client.post(reverse("insight:report-request"), {"month": MONTH}).status_code == 403
    assert client.get(reverse("insight:report", args=[report.pk])).status_code == 403
    client.force_login(world.operator)
    assert client.post(reverse("insight:report-request"), {"month": "2025-13"}).status_code == 400


def test_a_queued_report_shows_its_progress(client, world):
    report = MonthlyReport.objects.create(
        month=dt.date(2025, 3, 1), requested_by=world.leader, requested_at=at(31, 9), progress=40
    )
    client.force_login(world.leader)
    page = client.get(reverse("insight:report", args=[report.pk]))
    assert b'id="report-progress"' in page.content and b'value="40"' in page.content
    assert client.get(reverse("insight:report-file", args=[report.pk, "xlsx"])).status_code == 404
