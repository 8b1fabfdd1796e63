"""CSV input and output of the ``triage`` command: a header row, quoted fields, streamed.

Reading goes through the shared reader (``changxin.core.tabular``): UTF-8 with or without BOM, or
GB18030 as Chinese offices export (detected), headers matched ignoring case and spaces. The
command's messages stay the plain English ones of its contract (``CsvInputError``).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from changxin.core.spreadsheets import csv_row
from changxin.core.tabular import Column, TableError, open_table, text

OUTPUT_COLUMNS = ("id", "category", "confidence")
OPTIONAL_COLUMNS = ("label", "segmented")  # read when present (training data)


class CsvInputError(ValueError):
    """The input file is unreadable or lacks a required column."""


def _input_error(path: Path, exc: TableError) -> CsvInputError:
    if exc.code == "not_found":
        return CsvInputError(f"{path}: no such file")
    if exc.code == "encoding" and exc.line is not None:
        return CsvInputError(f"{path}: not UTF-8 or GB18030 text (near line {exc.line})")
    if exc.code == "missing_columns":
        missing = [column.name for column in exc.missing]
        found = ", ".join(name for name in exc.headers if name) or "(none)"
        plural = "s" if len(missing) > 1 else ""
        return CsvInputError(
            f"{path}: required column{plural} {', '.join(repr(m) for m in missing)} missing "
            f"from the header (found: {found})"
        )
    if exc.code == "empty":
        return CsvInputError(f"{path}: the file is empty; expected a header row")
    return CsvInputError(str(exc))


@contextmanager
def csv_rows(path: str | Path, required: Sequence[str]) -> Iterator[Iterator[dict[str, str]]]:
    """Open a CSV file, check its header and yield an iterator over its rows as dicts (streamed).

    Fails naming every required column that is missing. The dicts hold the required columns and,
    when the file has them, ``label`` and ``segmented``; empty cells and cells missing at the end
    of a short row read as ``""``; blank lines are skipped, rows of empty cells are kept (the
    output of ``classify`` has one row per input row).
    """
    path = Path(path)
    columns = [Column(name, header_required=True, parse=text(strip=False)) for name in required]
    columns += [Column(name, parse=text(strip=False)) for name in OPTIONAL_COLUMNS if name not in required]
    try:
        table = open_table(path, columns=columns, name=str(path), skip_empty_rows=False)
    except TableError as exc:
        raise _input_error(path, exc) from None
    with table:

        def rows() -> Iterator[dict[str, str]]:
            try:
                for row in table:
                    yield row.values
            except TableError as exc:
                raise _input_error(path, exc) from None

        yield rows()


def read_rows(path: str | Path, required: Sequence[str]) -> list[dict[str, str]]:
    """All rows of a CSV file (see :func:`csv_rows`)."""
    with csv_rows(path, required) as rows:
        return list(rows)


def batched(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class PredictionWriter:
    """Writes ``id,category,confidence`` (confidence with 4 decimals) to a temporary file next to the
    target and renames it into place on success, so a failed run leaves no half-written output."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0

    def __enter__(self) -> PredictionWriter:
        try:
            handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as exc:
            raise CsvInputError(f"{self.path}: cannot write there ({exc.strerror})") from None
        self._temporary = Path(name)
        self._handle = os.fdopen(handle, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(OUTPUT_COLUMNS)
        return self

    def write(self, ids: Iterable[str], predictions: Iterable[tuple[str, float]]) -> None:
        for row_id, (category, confidence) in zip(ids, predictions, strict=True):
            self._writer.writerow(csv_row((row_id, category, f"{confidence:.4f}")))
            self.count += 1

    def __exit__(self, exc_type, exc, traceback) -> None:
        self._handle.close()
        if exc_type is None:
            os.replace(self._temporary, self.path)
        else:
            self._temporary.unlink(missing_ok=True)
