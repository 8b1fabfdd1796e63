"""CSV input and output of the ``triage`` command: UTF-8 (BOM tolerated), header row, quoted fields."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

# Message bodies can be long; the csv module's default limit (128 KiB) is not a limit we want.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

OUTPUT_COLUMNS = ("id", "category", "confidence")


class CsvInputError(ValueError):
    """The input file is unreadable or lacks a required column."""


def read_rows(path: str | Path, required: Sequence[str]) -> list[dict[str, str]]:
    """All rows of a CSV file as dicts; fails naming every required column that is missing.

    Column names are matched after stripping spaces (and a BOM, via ``utf-8-sig``); other columns
    are kept but ignored by the caller.  Empty cells read as ``""``.
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise CsvInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise CsvInputError(f"{path}: {exc.strerror}") from None
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise CsvInputError(
                    f"{path}: the file is empty; expected a header row with {', '.join(required)}"
                )
            names = [name.strip().lstrip("\ufeff") for name in header]
            missing = [column for column in required if column not in names]
            if missing:
                found = ", ".join(name for name in names if name) or "(none)"
                plural = "s" if len(missing) > 1 else ""
                raise CsvInputError(
                    f"{path}: required column{plural} {', '.join(repr(m) for m in missing)} missing "
                    f"from the header (found: {found})"
                )
            rows = []
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                if len(row) < len(names):
                    row = row + [""] * (len(names) - len(row))
                rows.append(dict(zip(names, row, strict=False)))
            return rows
        except UnicodeDecodeError as exc:
            raise CsvInputError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
        except csv.Error as exc:
            raise CsvInputError(f"{path}: malformed CSV near line {reader.line_num}: {exc}") from None


def write_predictions(path: str | Path, ids: Iterable[str], predictions: Iterable[tuple[str, float]]) -> int:
    """Write ``id,category,confidence`` rows (confidence with 4 decimals); returns the row count."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        for row_id, (category, confidence) in zip(ids, predictions, strict=True):
            writer.writerow((row_id, category, f"{confidence:.4f}"))
            count += 1
    return count


def iter_column(rows: Iterable[dict[str, str]], column: str) -> Iterator[str]:
    for row in rows:
        yield row.get(column, "")
