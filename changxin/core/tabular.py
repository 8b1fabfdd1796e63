"""Reading CSV and Excel files row by row, with per-row errors: the shared part of every import.

Used by `import-demands`, triage's CSV commands, and the enterprise and party-member imports. A
file is declared as a list of `Column`s; `open_table` streams its rows as `Row`s whose values are
already parsed, each bad cell recorded as a `RowError` (line, column as written, translated
message). `ImportRun` applies the house policy: all or nothing by default, `keep_good`, dry run,
errors streamed to the caller but capped, one `ImportReport` printed the same way by every
command (`print_report`). The user-facing description is docs/IMPORT.md.

    COLUMNS = [
        Column("name", ("企业名称", "company"), required=True, parse=text(120)),
        Column("founded", ("成立日期",), parse=date()),
        Column("listed", ("是否上市",), parse=boolean()),
    ]
    with open_table(path, columns=COLUMNS) as table:
        for row in table:
            row.line, row["name"], row.errors; row.error("founded", _("is in the future"))

Files: .csv/.tsv/.txt in UTF-8, UTF-8 with BOM or GB18030/GBK (detected over the whole file, or
given), comma- or tab-separated; .xlsx/.xlsm through openpyxl's read-only mode. The first row is
the header; headers match a column's name or aliases ignoring case, spaces, underscores, hyphens
and brackets. Line numbers are the file's physical lines (a quoted cell over three lines counts
three) or the sheet's row numbers. Cells are never evaluated: text that looks like a formula
(``=1+1``) stays text, and an Excel formula cell gives the value Excel saved with it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

# Message bodies can be long; the csv module's default cell limit (128 KiB) is not ours.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

MAX_ERRORS = 10_000  # errors kept in a report and printed; the rest are counted
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_UNSET: Any = object()


# --- errors ----------------------------------------------------------------------------------


class TableError(Exception):
    """The file as a whole cannot be read: not found, undecodable, empty, a required column missing…

    `code` says which (`not_found`, `format`, `encoding`, `empty`, `malformed`, `no_sheet`,
    `missing_columns`, `duplicate_column`); `file` is the file's name; `line` is set for
    `encoding` and `malformed`; `missing` lists the missing `Column`s and `headers` the file's
    header (for `missing_columns`). The message is translated and starts with the file's name.
    """

    def __init__(
        self, message: str, *, code: str, file: str = "", line: int | None = None, missing=(), headers=()
    ):
        super().__init__(f"{file}: {message}" if file else message)
        self.code = code
        self.file = file
        self.line = line
        self.missing: list[Column] = list(missing)
        self.headers: list[str] = list(headers)


class CellError(ValueError):
    """A cell's value is wrong. Parsers raise it with the message only; row checks name the column.

    `CellError(_("is not a number"))` in a parser; `CellError(_("is required"), field="phone")`
    (or `row.error("phone", …)`) in a check across columns.
    """

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = str(message)
        self.field = field


@dataclass(frozen=True)
class RowError:
    """One problem of one row: its line, the column as written in the file, the message."""

    line: int
    field: str
    message: str
    column: str = ""  # the Column's name (field is the header as written)

    def __str__(self) -> str:
        return _("line %(line)s: %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


# --- cell parsers ----------------------------------------------------------------------------
# A parser takes one non-empty cell (text, or a number/date from Excel) and returns the value or
# raises CellError. Its `empty` attribute is the value of an empty cell (the Column can override).


def cell_text(value) -> str:
    """A cell as text: Excel's 13900001234.0 → "13900001234", dates as ISO, stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _parser(function: Callable, empty=None) -> Callable:
    function.empty = empty
    return function


def text(max_length: int | None = None, *, strip: bool = True) -> Callable[[Any], str]:
    """Text of at most `max_length` characters (`strip=False` keeps a CSV cell as written)."""

    def parse(value) -> str:
        if type(value) is str:
            result = value.strip() if strip else value
        else:
            result = cell_text(value)
        if max_length and len(result) > max_length:
            raise CellError(
                _("at most %(max)s characters allowed (this has %(length)s)")
                % {"max": max_length, "length": len(result)}
            )
        return result

    return _parser(parse, "")


def integer(*, min_value: int | None = None, max_value: int | None = None) -> Callable[[Any], int]:
    def parse(value) -> int:
        raw = cell_text(value).replace(",", "")
        try:
            number = int(raw)
        except ValueError:
            raise CellError(_("“%(value)s” is not a whole number") % {"value": raw}) from None
        _check_range(raw, number, min_value, max_value)
        return number

    return _parser(parse)


def decimal(
    *,
    places: int | None = None,
    min_value=None,
    max_value=None,
    message: str | Promise | None = None,
) -> Callable[[Any], Decimal]:
    """A decimal number, rounded to `places`; `message` (with %(value)s) replaces the default one."""

    def parse(value) -> Decimal:
        raw = cell_text(value).replace(",", "")
        try:
            number = Decimal(raw)
            if not number.is_finite():
                raise InvalidOperation
            if places is not None:
                number = number.quantize(Decimal(1).scaleb(-places))
        except InvalidOperation:
            raise CellError(str(message or _("“%(value)s” is not a number")) % {"value": raw}) from None
        if message is not None and not _in_range(number, min_value, max_value):
            raise CellError(str(message) % {"value": raw})
        _check_range(raw, number, min_value, max_value)
        return number

    return _parser(parse)


def _in_range(number, low, high) -> bool:
    return (low is None or number >= low) and (high is None or number <= high)


def _check_range(raw: str, number, low, high) -> None:
    if not _in_range(number, low, high):
        raise CellError(
            _("“%(value)s” is not between %(min)s and %(max)s")
            % {"value": raw, "min": "…" if low is None else low, "max": "…" if high is None else high}
        )


_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2}(?:\.\d+)?)\s*秒?|分)?)?$"
)


def _aware(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        return timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def parse_datetime(value) -> dt.datetime | None:
    """An aware datetime from text or an Excel cell; naive values are local (Beijing) time.

    Accepts ISO (2024-03-05 09:05[:00], 2024-03-05T09:05), 2024/3/5 9:05, 2024.3.5 9:05:00,
    2024年3月5日 9时5分[3秒], a date alone (midnight) and Excel date cells. Raises ValueError.
    """
    if type(value) is str and len(value) == 19 and value[10] == " " and value[16] == ":":
        # the common cell "2024-03-05 09:05:00" (local time): straight to the cached zone
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.get_default_timezone())
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _aware(value)
    if isinstance(value, dt.date):
        return _aware(dt.datetime.combine(value, dt.time.min))
    raw = str(value).strip()
    if not raw:
        return None
    try:
        return _aware(dt.datetime.fromisoformat(raw))
    except ValueError:
        pass
    match = _DATE_RE.match(raw)
    if not match:
        raise ValueError(raw)
    year, month, day, hour, minute, second = match.groups()
    seconds = float(second or 0)
    return _aware(
        dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(seconds),
            int(round((seconds % 1) * 1_000_000)) if seconds % 1 else 0,
        )
    )


def datetime() -> Callable[[Any], dt.datetime]:
    """A date and time (see `parse_datetime`), aware."""

    def parse(value) -> dt.datetime:
        try:
            return parse_datetime(value)
        except (ValueError, OverflowError):
            raise CellError(
                _("“%(value)s” is not a date and time (use YYYY-MM-DD HH:MM)") % {"value": cell_text(value)}
            ) from None

    return _parser(parse)


def date() -> Callable[[Any], dt.date]:
    """A date: 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, or an Excel date cell."""

    def parse(value) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raw = cell_text(value)
        match = _DATE_RE.match(raw)
        try:
            if not match or match.group(4) is not None:
                raise ValueError(raw)
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise CellError(_("“%(value)s” is not a date (use YYYY-MM-DD)") % {"value": raw}) from None

    return _parser(parse)


def normalize(name) -> str:
    """Headers and choice labels compare ignoring case, spaces, underscores, hyphens, brackets."""
    return re.sub(r"[\s_\-()（）]+", "", str(name or "")).lower()


def choice(options) -> Callable[[Any], str]:
    """One of `options`: a mapping {value: (label, other label, …)} or a Django Choices class.

    A cell matches a value or any of its labels (compared like headers). For a Choices class the
    labels are the English and the Chinese label. The value returned is the plain value (str).
    """
    index: dict[str, str] = {}
    shown: list[str] = []

    def build() -> None:
        mapping = _choice_mapping(options)
        for value, names in mapping.items():
            index[normalize(value)] = str(value)
            for name in names:
                index.setdefault(normalize(name), str(value))
            shown.append(f"{names[0]}/{value}" if names else str(value))

    seen: dict[str, str] = {}  # cells as written → value: a column holds a few distinct labels

    def parse(value) -> str:
        found = seen.get(value) if type(value) is str else None
        if found is not None:
            return found
        if not index:
            build()
        raw = cell_text(value)
        found = index.get(normalize(raw))
        if found is None:
            raise CellError(
                _("“%(value)s” is not one of: %(choices)s") % {"value": raw, "choices": ", ".join(shown)}
            )
        if type(value) is str and len(seen) < 1000:
            seen[value] = found
        return found

    parse.options = options
    return _parser(parse, "")


def _choice_mapping(options) -> dict[str, tuple[str, ...]]:
    if isinstance(options, Mapping):
        return {str(value): tuple(str(n) for n in names) for value, names in options.items()}
    mapping = {}
    for value, label in options.choices:
        names = []
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.append(str(label))
        mapping[str(value)] = tuple(dict.fromkeys(names))
    return mapping


def describe_choices(options) -> str:
    """ "label / label → value; …" for help texts and docs."""
    return "; ".join(f"{' / '.join(names)} → {value}" for value, names in _choice_mapping(options).items())


def phone() -> Callable[[Any], str]:
    """A mobile (11 digits starting with 1) or landline number; spaces and brackets are dropped."""
    from changxin.core.models import phone_validator

    # the validator's own pattern, resolved once (its lazy regex cost more than the match)
    search = None if phone_validator.inverse_match else phone_validator.regex.search

    def parse(value) -> str:
        raw = re.sub(r"[\s()（）]", "", cell_text(value))
        if search is None or not search(raw):
            try:
                phone_validator(raw)
            except ValidationError:
                raise CellError(_("“%(value)s” is not a valid phone number") % {"value": raw}) from None
        return raw[:20]

    return _parser(parse, "")


TRUE_WORDS = ("是", "有", "对", "yes", "y", "true", "1", "√", "✓")
FALSE_WORDS = ("否", "无", "不是", "没有", "no", "n", "false", "0", "×", "✗")


def boolean() -> Callable[[Any], bool]:
    """是/否 (also 有/无, yes/no, true/false, 1/0, √/×)."""

    def parse(value) -> bool:
        if isinstance(value, bool):
            return value
        raw = cell_text(value)
        key = raw.lower()
        if key in TRUE_WORDS:
            return True
        if key in FALSE_WORDS:
            return False
        raise CellError(_("“%(value)s” is not 是 or 否") % {"value": raw})

    return _parser(parse)


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of a file: its name, the headers that mean it, and how its cells are parsed.

    `aliases`: the headers accepted besides the name, the first one shown in messages (put the
    Chinese header first). `required`: the header must have the column and every row a value
    ("is required"); `header_required` asks only for the column (rows may leave it empty).
    `default`: the value of an empty cell or absent column (default: the parser's, e.g. "" for
    text, None for numbers and dates). `doc`: one line for --help and the docs.
    """

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parse: Callable[[Any], Any] = field(default_factory=text)
    doc: str = ""
    default: Any = _UNSET
    header_required: bool = False

    @property
    def label(self) -> str:
        """The header shown in messages: the first alias (the Chinese header), else the name."""
        return self.aliases[0] if self.aliases else self.name

    @property
    def empty(self):
        return getattr(self.parse, "empty", None) if self.default is _UNSET else self.default

    def describe(self) -> str:
        return f"{self.name} ({self.label})" if self.aliases else self.name


def format_columns(columns: Iterable[Column]) -> str:
    """The column format as plain text (a command's --help epilog)."""
    lines = []
    for column in columns:
        need = "required" if column.required else "optional"
        names = ", ".join([column.name, *column.aliases])
        lines.append(f"  {column.name} ({need}; headers: {names})\n      {column.doc}")
    return "\n".join(lines)


# --- rows ------------------------------------------------------------------------------------


class Row:
    """One data row: `line`, parsed values by column name (`row["x"]`), and its `errors`."""

    __slots__ = ("line", "cells", "values", "errors", "_table")

    def __init__(self, table: Table, line: int, cells: list):
        self._table = table
        self.line = line
        self.cells = cells
        self.values: dict[str, Any] = {}
        self.errors: list[RowError] = []
        values = self.values
        count = len(cells)
        for name, position, parse, empty, required in table.plan:
            raw = cells[position] if position is not None and position < count else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if required:
                    self.error(name, _("is required"))
                values[name] = empty
                continue
            try:
                values[name] = parse(raw)
            except CellError as exc:
                self.error(exc.field or name, exc.message)
                values[name] = empty

    def __getitem__(self, name: str):
        return self.values[name]

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def raw(self, name: str) -> str:
        """The cell as written (text), "" when absent."""
        position = self._table.positions.get(name)
        if position is None or position >= len(self.cells):
            return ""
        return cell_text(self.cells[position])

    def error(self, name: str, message: str) -> None:
        """Record a problem of column `name` (reported under its header as written)."""
        self.errors.append(RowError(self.line, self._table.header_of(name), str(message), name))

    def has_error(self, name: str) -> bool:
        return any(e.column == name for e in self.errors)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


# --- tables ----------------------------------------------------------------------------------


class Table:
    """An open file: `headers`, `encoding`, `warnings` (unknown columns), `total` (an estimate of
    the data rows, for progress bars); iterate for `Row`s. Close it, or use it as a context manager.
    """

    def __init__(
        self,
        *,
        name: str,
        headers: list,
        rows: Iterator[tuple[int, list]],
        columns: list[Column],
        encoding: str,
        total: int | None,
        close: Callable[[], None],
    ):
        self.name = name
        self.columns = list(columns)
        self.encoding = encoding
        self.total = total
        self.warnings: list[str] = []
        self._rows = rows
        self._close = close
        self.headers = [str(h or "").strip().lstrip("\ufeff") for h in headers]
        self.positions: dict[str, int] = {}
        self._headers: dict[str, str] = {}
        try:
            self._match_headers()
        except TableError:
            self.close()
            raise
        # per column, what Row needs (looked up once, not once per cell)
        self.plan = [(c.name, self.positions.get(c.name), c.parse, c.empty, c.required) for c in self.columns]

    def _match_headers(self) -> None:
        index = {}
        for column in self.columns:
            for header in (column.name, *column.aliases):
                index.setdefault(normalize(header), column.name)
        for position, header in enumerate(self.headers):
            name = index.get(normalize(header))
            if name is None:
                if header:
                    self.warnings.append(
                        _("Column “%(name)s” is not known and was ignored.") % {"name": header}
                    )
                continue
            if name in self.positions:
                raise TableError(
                    _("Columns “%(a)s” and “%(b)s” both mean %(key)s.")
                    % {"a": self._headers[name], "b": header, "key": name},
                    code="duplicate_column",
                    file=self.name,
                )
            self.positions[name] = position
            self._headers[name] = header
        missing = [
            c for c in self.columns if (c.required or c.header_required) and c.name not in self.positions
        ]
        if missing:
            raise TableError(
                _("Required columns missing: %(columns)s.")
                % {"columns": ", ".join(c.describe() for c in missing)},
                code="missing_columns",
                file=self.name,
                missing=missing,
                headers=self.headers,
            )

    def header_of(self, name: str) -> str:
        """The column's header as written in the file (its label when the file lacks it)."""
        if name in self._headers:
            return self._headers[name]
        for column in self.columns:
            if column.name == name:
                return column.label
        return name

    def __iter__(self) -> Iterator[Row]:
        for line, cells in self._rows:
            yield Row(self, line, cells)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(
    source: str | Path | IO[bytes],
    *,
    columns: list[Column],
    sheet: str | None = None,
    encoding: str | None = None,
    name: str | None = None,
    skip_empty_rows: bool = True,
) -> Table:
    """Open a CSV or Excel file (a path, or a binary file such as an upload) and match its header.

    `encoding` (CSV): default detected (UTF-8 with or without BOM, UTF-16 with BOM, else GB18030).
    `sheet` (Excel): default the first one. `name`: the file's name in messages (default the
    path's name). Rows whose cells are all empty are skipped unless `skip_empty_rows=False`
    (blank lines always are). Raises TableError; the rows are read as you iterate.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise TableError(_("no such file"), code="not_found", file=name)
        try:
            handle = open(path, "rb")  # noqa: SIM115 — closed by Table.close
        except OSError as exc:
            raise TableError(exc.strerror or str(exc), code="not_found", file=name) from None
        suffix = path.suffix.lower()
    else:
        handle = source
        name = name or Path(getattr(source, "name", "") or "upload").name
        suffix = Path(name).suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES or (suffix not in CSV_SUFFIXES and _starts_with(handle, b"PK")):
            return _open_excel(handle, name, columns, sheet, skip_empty_rows)
        return _open_csv(handle, name, columns, encoding, skip_empty_rows)
    except BaseException:
        if handle is not source:
            handle.close()
        raise


def _starts_with(handle: IO[bytes], magic: bytes) -> bool:
    head = handle.read(len(magic))
    handle.seek(0)
    return head == magic


def detect_encoding(source: str | Path | IO[bytes], chunk_size: int = 1 << 20) -> str:
    """utf-8-sig (BOM), utf-16 (BOM), utf-8 if the whole file decodes as UTF-8, else gb18030.

    The whole file is checked (in chunks, constant memory): a GB18030 export can look like UTF-8
    for its first rows when they are ASCII only.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            return detect_encoding(handle, chunk_size)
    start = source.tell()
    try:
        head = source.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        source.seek(start)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := source.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
        return "utf-8"
    finally:
        source.seek(start)


def _count_lines(handle: IO[bytes]) -> int:
    count = 0
    while chunk := handle.read(1 << 20):
        count += chunk.count(b"\n")
    handle.seek(0)
    return count


def _undecodable_line(handle: IO[bytes], encoding: str) -> int | None:
    """The physical line of the first byte that does not decode (the text layer reads ahead)."""
    if "16" in encoding or "32" in encoding:
        return None  # a newline byte may sit inside a character; keep the reader's estimate
    handle.seek(0)
    for number, raw in enumerate(handle, start=1):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            return number
        except LookupError:
            return None
    return None


def _open_csv(handle, name, columns, encoding, skip_empty_rows) -> Table:
    detected = not encoding
    encoding = encoding or detect_encoding(handle)
    shown = "UTF-8 / GB18030" if detected and encoding == "gb18030" else encoding

    def undecodable(line: int) -> TableError:
        line = _undecodable_line(stream.buffer, encoding) or line
        return TableError(
            _("line %(line)s is not %(encoding)s text; save the file as UTF-8 or give its encoding.")
            % {"line": line, "encoding": shown},
            code="encoding",
            file=name,
            line=line,
        )

    total = max(_count_lines(handle) - 1, 0)
    try:
        stream = io.TextIOWrapper(handle, encoding=encoding, newline="")
    except LookupError:
        raise TableError(
            _("unknown encoding “%(encoding)s”") % {"encoding": encoding}, code="encoding", file=name
        ) from None
    try:
        first = stream.readline()
    except UnicodeDecodeError:
        raise undecodable(1) from None
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    stream.seek(0)
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise TableError(_("The file is empty."), code="empty", file=name) from None
    except (UnicodeDecodeError, csv.Error):
        raise undecodable(1) from None

    def rows() -> Iterator[tuple[int, list]]:
        start = reader.line_num + 1
        try:
            for cells in reader:
                if cells and (not skip_empty_rows or any(c.strip() for c in cells)):
                    yield start, cells
                start = reader.line_num + 1
        except UnicodeDecodeError:
            raise undecodable(start) from None
        except csv.Error as exc:
            raise TableError(
                _("Line %(line)s: %(error)s") % {"line": start, "error": exc},
                code="malformed",
                file=name,
                line=start,
            ) from None

    return Table(
        name=name,
        headers=headers,
        rows=rows(),
        columns=columns,
        encoding=encoding,
        total=total,
        close=stream.close,
    )


def _open_excel(handle, name, columns, sheet, skip_empty_rows) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds for a broken file
        raise TableError(
            _("Cannot read the Excel file: %(error)s") % {"error": exc}, code="format", file=name
        ) from None

    def close() -> None:
        book.close()
        handle.close()

    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except (KeyError, IndexError):
        close()
        raise TableError(
            _("The workbook has no sheet “%(sheet)s”.") % {"sheet": sheet or ""}, code="no_sheet", file=name
        ) from None
    iterator = ws.iter_rows(values_only=True)
    header_row = next(iterator, None)
    if header_row is None:
        close()
        raise TableError(_("The file is empty."), code="empty", file=name)

    def rows() -> Iterator[tuple[int, list]]:
        for number, cells in enumerate(iterator, start=2):
            if not skip_empty_rows or any(v is not None and str(v).strip() for v in cells):
                yield number, list(cells)

    total = (ws.max_row - 1) if ws.max_row else None
    return Table(
        name=name,
        headers=["" if v is None else str(v) for v in header_row],
        rows=rows(),
        columns=columns,
        encoding="xlsx",
        total=total,
        close=close,
    )


# --- the import policy -----------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did; printed the same way by every command (`print_report`).

    `errors` keeps the first `max_errors` problems; `error_count` counts them all.
    """

    rows: int = 0
    good: int = 0
    bad: int = 0
    written: int = 0
    dry_run: bool = False
    keep_good: bool = False
    rolled_back: bool = False
    encoding: str = ""
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    max_errors: int = MAX_ERRORS

    @property
    def ok(self) -> bool:
        return self.bad == 0

    @property
    def omitted_errors(self) -> int:
        return self.error_count - len(self.errors)

    @property
    def failed(self) -> bool:
        """Exit status 1: rows were bad and nothing was written (or, dry run, any row was bad)."""
        return self.bad > 0 and self.written == 0


@dataclass
class Parsed:
    """A good row waiting in a batch: its line and what `parse` made of it."""

    line: int
    value: Any


class ImportRun:
    """The shared policy of every import, around a `Table`:

    - all or nothing by default: ONE transaction; after the first bad row nothing more is written,
      the remaining rows are still checked (every bad row is reported) and the transaction is
      rolled back at the end; `keep_good=True` commits the good rows; `dry_run=True` checks
      everything (including `check`) and writes nothing;
    - rows are parsed as the file streams by and written in batches of `batch_size`, so memory
      holds one batch, whatever the file's size;
    - every problem goes to `on_error` as it is found, at most `max_errors` of them (the report
      counts the rest); `progress(1)` after each row.

        report = ImportRun(keep_good=opts["keep_good"]).run(
            table, parse=parse_row, write=write_batch, check=check_batch, finish=audit)

    `parse(row) -> value | None`: the row's object; record problems with `row.error(...)` or raise
    CellError. `check(batch: list[Parsed]) -> list[RowError]`: problems only a batch can show
    (e.g. already in the database); those rows become bad. `write(batch) -> int` writes the good
    rows and returns how many objects it wrote. `finish(report)` runs inside the transaction
    before the rollback decision (audit entries).
    """

    def __init__(
        self,
        *,
        keep_good: bool = False,
        dry_run: bool = False,
        batch_size: int = 1000,
        max_errors: int = MAX_ERRORS,
        on_error: Callable[[RowError], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        self.keep_good = keep_good
        self.dry_run = dry_run
        self.batch_size = max(1, batch_size)
        self.on_error = on_error
        self.progress = progress
        self.report = ImportReport(dry_run=dry_run, keep_good=keep_good, max_errors=max(0, max_errors))

    @property
    def writing(self) -> bool:
        """Whether good rows are still written (not once a row was bad, unless keep_good)."""
        return not self.dry_run and (self.keep_good or self.report.bad == 0)

    def bad(self, errors: Iterable[RowError]) -> None:
        """Count one bad row and report its problems (streamed, kept up to the cap)."""
        report = self.report
        report.bad += 1
        for error in errors:
            report.error_count += 1
            if len(report.errors) < report.max_errors:
                report.errors.append(error)
                if self.on_error is not None:
                    self.on_error(error)

    @contextmanager
    def transaction(self, finish: Callable[[ImportReport], None] | None = None):
        """The all-or-nothing transaction (none for a dry run)."""
        if self.dry_run:
            yield
            return
        with transaction.atomic():
            yield
            if finish is not None:
                finish(self.report)
            if self.report.bad and not self.keep_good:
                transaction.set_rollback(True)
                self.report.rolled_back = True
                self.report.written = 0

    def run(
        self,
        table: Table,
        *,
        parse: Callable[[Row], Any],
        write: Callable[[list[Parsed]], int],
        check: Callable[[list[Parsed]], list[RowError]] | None = None,
        finish: Callable[[ImportReport], None] | None = None,
    ) -> ImportReport:
        self.report.encoding = table.encoding
        self.report.warnings.extend(table.warnings)
        with self.transaction(finish):
            self.consume(table, parse=parse, write=write, check=check)
        return self.report

    def consume(self, rows: Iterable[Row], *, parse, write, check=None) -> None:
        batch: list[Parsed] = []
        for row in rows:
            self.report.rows += 1
            value = None
            try:
                value = parse(row)
            except CellError as exc:
                row.error(exc.field, exc.message)
            if row.errors:
                self.bad(row.errors)
            elif value is not None:
                batch.append(Parsed(row.line, value))
                if len(batch) >= self.batch_size:
                    self._flush(batch, write, check)
                    batch = []
            if self.progress is not None:
                self.progress(1)
        self._flush(batch, write, check)

    def _flush(self, batch: list[Parsed], write, check) -> None:
        if not batch:
            return
        if check is not None:
            problems: dict[int, list[RowError]] = {}
            for error in check(batch):
                problems.setdefault(error.line, []).append(error)
            for line in sorted(problems):
                self.bad(problems[line])
            batch = [item for item in batch if item.line not in problems]
        self.report.good += len(batch)
        if self.writing and batch:
            self.report.written += write(batch)


# --- commands --------------------------------------------------------------------------------


def add_import_arguments(parser) -> None:
    """The options every import command shares (same names, same meaning)."""
    parser.add_argument(
        "--keep-good", action="store_true", help="write the good rows even when some rows are bad"
    )
    parser.add_argument("--dry-run", action="store_true", help="validate every row, write nothing")
    parser.add_argument("--encoding", help="CSV encoding (default: detected: UTF-8, UTF-8 BOM, GB18030)")
    parser.add_argument("--sheet", help="Excel sheet name (default: the first sheet)")
    parser.add_argument(
        "--max-errors",
        type=int,
        default=MAX_ERRORS,
        help="print at most this many problems; the rest are counted (default: %(default)s)",
    )


def print_report(command, report: ImportReport, *, summary: str | None = None) -> None:
    """Print a report on a management command's streams; CommandError (exit 1) when it failed.

    The problems themselves are streamed by `on_error` while importing (see `ImportRun`); this
    prints the ones not shown, the warnings, the summary and what happened. `summary` is a
    translated sentence with %(rows)s, %(good)s, %(bad)s and %(written)s.
    """
    from django.core.management.base import CommandError

    if report.omitted_errors:
        command.stderr.write(
            _("… and %(count)s more problems not shown (only the first %(shown)s are listed).")
            % {"count": report.omitted_errors, "shown": len(report.errors)}
        )
    for warning in report.warnings:
        command.stderr.write(warning)
    summary = summary or _("%(rows)s rows checked: %(good)s good, %(bad)s bad; %(written)s written.")
    command.stdout.write(
        summary % {"rows": report.rows, "good": report.good, "bad": report.bad, "written": report.written}
    )
    if report.dry_run:
        command.stdout.write(_("Dry run: nothing was written."))
    elif report.rolled_back:
        command.stdout.write(
            _("Nothing was written because %(bad)s rows are bad. Fix them, or use --keep-good.")
            % {"bad": report.bad}
        )
    if report.failed:
        raise CommandError(_("%(bad)s bad rows.") % {"bad": report.bad}, returncode=1)


__all__ = [
    "MAX_ERRORS",
    "CellError",
    "Column",
    "ImportReport",
    "ImportRun",
    "Parsed",
    "Row",
    "RowError",
    "Table",
    "TableError",
    "add_import_arguments",
    "boolean",
    "cell_text",
    "choice",
    "date",
    "datetime",
    "decimal",
    "describe_choices",
    "detect_encoding",
    "format_columns",
    "integer",
    "normalize",
    "open_table",
    "parse_datetime",
    "phone",
    "print_report",
    "text",
]
