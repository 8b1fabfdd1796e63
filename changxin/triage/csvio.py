"""CSV input and output of the ``triage`` command: UTF-8 (BOM tolerated), header row, quoted fields."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

# Message bodies can be long; the csv module's default limit (128 KiB) is not a limit we want.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

OUTPUT_COLUMNS = ("id", "category", "confidence")


class CsvInputError(ValueError):
    """The input file is unreadable or lacks a required column."""


@contextmanager
def csv_rows(path: str | Path, required: Sequence[str]) -> Iterator[Iterator[dict[str, str]]]:
    """Open a CSV file, check its header and yield an iterator over its rows as dicts (streamed).

    Fails naming every required column that is missing.  Column names are matched after stripping
    spaces (and a BOM, via ``utf-8-sig``); other columns are kept but ignored by the caller.  Empty
    cells and cells missing at the end of a short row read as ``""``; blank lines are skipped.
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise CsvInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise CsvInputError(f"{path}: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)

        def failing(exc: Exception) -> CsvInputError:
            if isinstance(exc, UnicodeDecodeError):
                return CsvInputError(f"{path}: not UTF-8 ({exc.reason} near line {reader.line_num + 1})")
            return CsvInputError(f"{path}: malformed CSV near line {reader.line_num}: {exc}")

        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise failing(exc) from None
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

        def rows() -> Iterator[dict[str, str]]:
            try:
                for row in reader:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # blank line
                    if len(row) < len(names):
                        row = row + [""] * (len(names) - len(row))
                    yield dict(zip(names, row, strict=False))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise failing(exc) from None

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
            self._writer.writerow((row_id, category, f"{confidence:.4f}"))
            self.count += 1

    def __exit__(self, exc_type, exc, traceback) -> None:
        self._handle.close()
        if exc_type is None:
            os.replace(self._temporary, self.path)
        else:
            self._temporary.unlink(missing_ok=True)
