"""Excel exports: open the workbook with openpyxl and check headers, rows, masking and the audit log."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from changxin.core.models import AuditAction, AuditEntry
from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, at
from changxin.insight.exports import demand_headers


@pytest.fixture
def march(world, settings):
    settings.CHANGXIN_RANKING_MIN_DEMANDS = 1  # rank the one- and two-demand units of this small month
    t = at(4, 10)
    return {
        "lug": world.handle(
            world.new(t, requester_name="张三丰", requester_phone="13812345678"),
            LUGOUQIAO,
            t,
            resolution="partly",
            satisfaction="basic",
        ),
        "cxd": world.handle(
            world.new(t, street=CHANGXINDIAN, requester_name="李四", requester_phone="13987654321"),
            CHANGXINDIAN,
            t,
            contact_after=dt.timedelta(hours=50),
        ),
    }


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment;" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content))


def rows_of(sheet):
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_demand_export_masks_and_follows_the_filter(client, world, march):
    client.force_login(world.operator)
    response = client.get(reverse("insight:export-demands"), {"street": world.unit(LUGOUQIAO).pk})
    book = workbook(response)
    rows = rows_of(book.worksheets[0])
    with translation.override(settings.LANGUAGE_CODE):  # the language the request was served in
        headers = [str(h) for h in demand_headers()]
    assert rows[0] == headers
    assert len(rows) == 2  # only Lugouqiao's demand
    record = dict(zip(headers, rows[1], strict=True))
    assert record[headers[0]] == march["lug"].number
    assert "张**" in rows[1] and "138****5678" in rows[1]
    assert "张三丰" not in rows[1] and "13812345678" not in rows[1]
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == world.operator and "rows=1" in entry.detail and "street=" in entry.detail


def test_demand_export_is_scoped(client, world, march):
    client.force_login(world.officer(CHANGXINDIAN))
    rows = rows_of(workbook(client.get(reverse("insight:export-demands"))).worksheets[0])
    assert [r[0] for r in rows[1:]] == [march["cxd"].number]
    assert "李*" in rows[1] and "139****4321" in rows[1]


def test_drill_export_equals_drill_list(client, world, march):
    client.force_login(world.leader)
    params = {"unit": LUGOUQIAO, "month": "2025-03", "metric": "resolution", "part": "partly"}
    rows = rows_of(workbook(client.get(reverse("insight:export-demands"), params)).worksheets[0])
    assert rows[0][0].startswith(world.unit(LUGOUQIAO).name)  # the title row names the figure
    assert [r[0] for r in rows[2:]] == [march["lug"].number]
    assert client.get(reverse("insight:export-demands"), {"metric": "bogus", "part": "x"}).status_code == 400


def test_rankings_export(client, world, march):
    client.force_login(world.leader)
    book = workbook(client.get(reverse("insight:export-rankings"), {"month": "2025-03"}))
    assert len(book.sheetnames) == 5  # four groups + weights
    streets = rows_of(book.worksheets[0])
    assert "2025-03" in streets[0][0]
    header = [str(h) for h in streets[1]]
    by_code = {row[2]: dict(zip(header, row, strict=True)) for row in streets[2:]}
    lug = by_code[LUGOUQIAO]
    values = list(lug.values())
    assert values[0] == 1 and values[3:11] == [1, 1, 100.0, 1, 0, 1, 0, 50.0]
    assert values[11:18] == [1, 0, 1, 0, 0, 0, 80.0]
    assert values[18] == pytest.approx(10 + 45 * 0.5 + 45 * 0.8)
    cxd = list(by_code[CHANGXINDIAN].values())
    # contacted late and never rated: shown apart, no composite (never rescaled over one rate)
    assert cxd[0] is None and cxd[3:6] == [1, 0, 0.0] and cxd[18] is None
    weights = rows_of(book.worksheets[-1])
    assert [r[1] for r in weights[1:]] == [0.1, 0.45, 0.45, 0.5, 0.8]
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, detail="rankings 2025-03").count() == 1


def test_rank_command(world, march, capsys):
    call_command("rank", "--month", "2025-03", "--group", "street")
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if LUGOUQIAO in line or CHANGXINDIAN in line]
    assert lines[0].split()[:2] == ["1", LUGOUQIAO] and lines[0].split()[-1] == "68.50"
    assert lines[1].split()[:2] == ["-", CHANGXINDIAN] and lines[1].split()[-1] == "—"
    call_command("rank", "--month", "2025-01")  # an empty month prints unranked units, no error
    assert "110106D01" in capsys.readouterr().out
