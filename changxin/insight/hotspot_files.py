"""Hot spots from and to files: the input columns (read with `core.tabular`, errors per line) and
the output CSV (written to a temporary file and renamed, so nothing is ever half-written)."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from django.utils import timezone

from changxin.core import tabular
from changxin.core.spreadsheets import csv_row
from changxin.core.tabular import Column, RowError
from changxin.insight.hotspots import Item, Problem

COLUMNS = [
    Column("id", ("编号",), required=True, parse=tabular.text(64), doc="the demand's id"),
    Column(
        "received_at", ("受理时间", "time"), required=True, parse=tabular.datetime(), doc="when it came in"
    ),
    Column("title", ("标题",), required=True, parse=tabular.text(500), doc="title"),
    Column("content", ("内容",), header_required=True, parse=tabular.text(), doc="text (may be empty)"),
    Column("street", ("街道",), header_required=True, parse=tabular.text(60), doc="street/town"),
    Column("community", ("社区",), parse=tabular.text(60), doc="community/village (optional)"),
    Column("address", ("地址",), parse=tabular.text(200), doc="address (optional)"),
    Column("category", ("分类",), parse=tabular.text(160), doc="category (optional)"),
    Column("requester", ("诉求人", "user"), parse=tabular.text(64), doc="requester key (optional)"),
    Column("urgent", ("紧急",), parse=tabular.boolean(), default=False, doc="urgent: 1/0 (optional)"),
    Column("dissatisfied", ("不满意",), parse=tabular.boolean(), doc="dissatisfied: 1/0, empty = not rated"),
]

OUTPUT_COLUMNS = ("problem", "rising", "heat", "street", "category", "demand_ids", "label")


def read_items(path: str | Path) -> tuple[list[Item], list[RowError], int]:
    """The file's demands as `Item`s, the errors of its bad rows (by line) and the row count.
    Raises `tabular.TableError` when the file as a whole cannot be read."""
    items: list[Item] = []
    errors: list[RowError] = []
    rows = 0
    with tabular.open_table(path, columns=COLUMNS) as table:
        for row in table:
            rows += 1
            if not row.ok:
                errors.extend(row.errors)
                continue
            items.append(
                Item(
                    id=row["id"],
                    day=timezone.localtime(row["received_at"]).date(),
                    title=row["title"],
                    content=row["content"],
                    street=row["street"],
                    category=row["category"],
                    community=row["community"],
                    address=row["address"],
                    requester=row["requester"],
                    urgent=bool(row["urgent"]),
                    dissatisfied=row["dissatisfied"],
                )
            )
    return items, errors, rows


def problem_row(problem: Problem) -> dict[str, str]:
    return {
        "problem": str(problem.number),
        "rising": "1" if problem.rising else "0",
        "heat": f"{problem.heat:.1f}",
        "street": problem.street,
        "category": problem.category,
        "demand_ids": " ".join(problem.demand_ids),
        "label": problem.label,
    }


def write_problems(path: str | Path, problems: list[Problem]) -> None:
    """Write the problems as CSV (UTF-8, header row) atomically: a temporary file in the same
    folder, renamed over `path` once complete."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(OUTPUT_COLUMNS)
            for problem in problems:
                row = problem_row(problem)
                writer.writerow(csv_row(row[column] for column in OUTPUT_COLUMNS))  # labels stay text
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
