"""Import of historical demands (12345 work orders) from CSV or Excel.

The rows are streamed: the file is read row by row, every row is validated, and good rows are
written in batches: `bulk_create` of Demand; the DemandEvents each row's history implies (receive,
dispatch, acknowledge, contact, reply, return visit, archive — as the transition service writes
them, marked `"imported": true`), inserted with executemany; and, when dispatched, the lead unit's
DemandTask. Memory stays bounded: only one batch of rows is held, plus the set of work-order
numbers seen so far (to report duplicates within the file).

All or nothing by default: the whole import runs in ONE transaction; as soon as a row is bad,
writing stops, the remaining rows are still validated (so every bad row is reported) and at the
end the transaction is rolled back. With `keep_good=True` the good rows are committed and the bad
ones reported. A dry run validates everything (including duplicates against the database) and
writes nothing.

The column format is documented in docs/IMPORT.md and in `changxin import-demands --help`; both
come from COLUMNS below.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core import audit
from changxin.core.models import AuditAction, OrgUnit, phone_validator
from changxin.core.roles import COMMUNITY_KINDS, DISPATCHABLE_KINDS
from changxin.core.roles import STREET_LEVEL_KINDS as STREET_KINDS
from changxin.core.workcalendar import WorkCalendar
from changxin.demands import deadlines
from changxin.demands import events as payloads
from changxin.demands.models import (
    Category,
    Channel,
    Demand,
    DemandEvent,
    DemandTask,
    DemandType,
    RequesterKind,
    Resolution,
    Satisfaction,
    State,
    TaskRole,
    TaskState,
    TimeUnit,
    Urgency,
)

DEFAULT_BATCH_SIZE = 1000
MAX_KEPT_ERRORS = 10_000  # errors are streamed to the caller; the result keeps the first ones only


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, unknown format, required column missing)."""


# --- the column format -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    zh: str  # the Chinese header
    aliases: tuple[str, ...]
    required: bool
    doc: str  # English description for --help and docs/IMPORT.md


def _choices(mapping: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{' / '.join(names)} → {value}" for value, names in mapping.items())


TYPE_VALUES = {
    DemandType.CONSULT: ("咨询", "consult", "consultation"),
    DemandType.HELP: ("求助", "help", "request for help"),
    DemandType.COMPLAINT: ("投诉", "complaint"),
    DemandType.REPORT: ("举报", "report"),
    DemandType.SUGGESTION: ("建议", "suggestion"),
    DemandType.PRAISE: ("表扬", "praise"),
}
CHANNEL_VALUES = {
    Channel.HOTLINE: ("12345", "12345热线", "热线", "电话", "hotline", "phone"),
    Channel.WEB: ("网站", "网络", "web", "web portal"),
    Channel.MINI_PROGRAM: ("小程序", "mini_program", "mini-program", "app"),
    Channel.LEADER_MAILBOX: ("领导信箱", "区长信箱", "书记信箱", "leader_mailbox", "leader mailbox"),
    Channel.MEDIA: ("媒体", "media"),
    Channel.ENTERPRISE_PORTAL: ("企业端", "企业服务平台", "enterprise_portal", "enterprise portal"),
    Channel.PROACTIVE: ("主动发现", "主动治理", "proactive"),
    Channel.OPEN311: ("open311",),
    Channel.API: ("接口", "api"),
    Channel.IMPORT: ("导入", "历史导入", "import"),
}
URGENCY_VALUES = {
    Urgency.NORMAL: ("一般", "普通", "normal", "ordinary"),
    Urgency.URGENT: ("紧急", "加急", "urgent"),
    Urgency.UTILITY: ("水电气热", "停水停电停气停热", "utility"),
}
KIND_VALUES = {
    RequesterKind.PERSON: ("个人", "自然人", "市民", "person"),
    RequesterKind.ENTERPRISE: ("企业", "法人", "enterprise"),
    RequesterKind.ANONYMOUS: ("匿名", "anonymous"),
}
RESOLUTION_VALUES = {
    Resolution.RESOLVED: ("已解决", "解决", "resolved"),
    Resolution.PARTLY: ("部分解决", "partly", "partly resolved"),
    Resolution.UNRESOLVED: ("未解决", "unresolved"),
}
SATISFACTION_VALUES = {
    Satisfaction.SATISFIED: ("满意", "satisfied"),
    Satisfaction.BASIC: ("基本满意", "basic", "basically satisfied"),
    Satisfaction.DISSATISFIED: ("不满意", "dissatisfied"),
    Satisfaction.UNRATED: ("未评价", "未接通", "unrated"),
}
# Imported records are history: the states a finished or still-open work order can be in.
STATE_VALUES = {
    State.RECEIVED: ("受理", "已受理", "received"),
    State.DISPATCHED: ("派单", "已派单", "dispatched"),
    State.ACKNOWLEDGED: ("签收", "已签收", "acknowledged"),
    State.CONTACTED: ("已联系", "contacted"),
    State.IN_PROGRESS: ("办理中", "in_progress", "in progress"),
    State.REPLIED: ("办结", "已办结", "replied"),
    State.VISITED: ("已回访", "回访", "visited"),
    State.ARCHIVED: ("归档", "已归档", "archived", "closed"),
}

COLUMNS: list[Column] = [
    Column(
        "number",
        "工单编号",
        ("工单号", "编号", "work order", "no"),
        True,
        "Original work-order number; unique in the file and in the database (at most 32 characters).",
    ),
    Column(
        "received_at",
        "受理时间",
        ("来电时间", "received", "received at"),
        True,
        "When the demand was received. YYYY-MM-DD HH:MM[:SS] (also 2024/3/5 9:05, 2024年3月5日 9时5分, or an Excel date).",
    ),
    Column(
        "type",
        "类型",
        ("诉求类型", "demand_type", "demand type"),
        True,
        "Type: " + _choices(TYPE_VALUES) + ".",
    ),
    Column(
        "title",
        "标题",
        ("诉求标题", "subject"),
        False,
        "Title (at most 120 characters); the first 30 characters of the content when empty.",
    ),
    Column(
        "content",
        "内容",
        ("诉求内容", "问题描述", "text", "description"),
        True,
        "What the requester said (at most 5000 characters).",
    ),
    Column(
        "channel",
        "渠道",
        ("来源", "来源渠道", "source"),
        False,
        "Channel, default import: " + _choices(CHANNEL_VALUES) + ".",
    ),
    Column(
        "urgency",
        "紧急程度",
        ("urgency level",),
        False,
        "Urgency, default normal: " + _choices(URGENCY_VALUES) + ".",
    ),
    Column(
        "category",
        "分类",
        ("诉求分类", "问题分类", "category path"),
        False,
        "Category: a level-3 name (the full path when the name is ambiguous) or the path “l1/l2/l3”, e.g. "
        "城乡建设/城市建设和市政管理/冬季采暖.",
    ),
    Column(
        "requester_kind",
        "诉求人类型",
        ("来电人类型", "requester type"),
        False,
        "Requester kind, default person: " + _choices(KIND_VALUES) + ".",
    ),
    Column(
        "requester_name",
        "诉求人",
        ("来电人", "姓名", "name", "requester"),
        False,
        "Requester's name (at most 60 characters).",
    ),
    Column(
        "phone",
        "联系电话",
        ("电话", "手机", "来电号码", "requester_phone", "requester phone"),
        False,
        "Requester's phone: an 11-digit mobile number starting with 1, or a landline (010-63812345).",
    ),
    Column(
        "enterprise_name",
        "企业名称",
        ("enterprise", "company"),
        False,
        "Enterprise name when the requester is an enterprise.",
    ),
    Column(
        "address",
        "地址",
        ("事发地址", "诉求地址", "location"),
        False,
        "Address text (at most 200 characters).",
    ),
    Column(
        "street",
        "街乡镇",
        ("街道", "乡镇", "所属街道", "street/town", "town"),
        False,
        "Street/town by name (卢沟桥街道, also 卢沟桥) or statistical code (110106017).",
    ),
    Column(
        "community",
        "社区村",
        ("社区", "村", "村居", "community/village", "village"),
        False,
        "Community/village by name or code; must lie in the street given (which it implies when empty).",
    ),
    Column(
        "lead_unit",
        "主办单位",
        ("承办单位", "责任单位", "lead unit", "unit"),
        False,
        "Lead unit by name, short name (区城管委) or code (110106D01): a street/town, department or "
        "public-service company. Required when dispatched_at is given.",
    ),
    Column(
        "dispatched_at",
        "派单时间",
        ("dispatched", "dispatched at"),
        False,
        "When it was dispatched to the lead unit. Required with a lead unit; deadlines are computed from it.",
    ),
    Column(
        "contacted_at",
        "联系时间",
        ("首次联系时间", "响应时间", "contacted", "contacted at"),
        False,
        "When the lead unit first contacted the requester (响应).",
    ),
    Column(
        "replied_at",
        "办结时间",
        ("答复时间", "replied", "replied at"),
        False,
        "When the unit replied and finished.",
    ),
    Column("reply", "答复内容", ("办理结果", "处理结果", "reply text"), False, "The unit's reply."),
    Column(
        "visited_at",
        "回访时间",
        ("visited", "visited at"),
        False,
        "When the return visit was made (default: the reply time).",
    ),
    Column(
        "resolution",
        "解决情况",
        ("是否解决",),
        False,
        "Return visit, resolved?: " + _choices(RESOLUTION_VALUES) + ".",
    ),
    Column(
        "satisfaction",
        "满意度",
        ("满意情况", "是否满意"),
        False,
        "Return visit, satisfied?: " + _choices(SATISFACTION_VALUES) + ".",
    ),
    Column(
        "state",
        "状态",
        ("工单状态", "status"),
        False,
        "Final state; derived from the timestamps when empty (a return-visit result → archived, a reply "
        "→ replied, a contact → contacted, a dispatch → dispatched, else received): "
        + _choices(STATE_VALUES)
        + ".",
    ),
    Column("latitude", "纬度", ("lat",), False, "Latitude (decimal degrees)."),
    Column("longitude", "经度", ("lng", "lon"), False, "Longitude (decimal degrees)."),
    Column(
        "external_id",
        "外部编号",
        ("原系统编号", "external id"),
        False,
        "An identifier in the source system (at most 64 characters).",
    ),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
DATE_KEYS = ("received_at", "dispatched_at", "contacted_at", "replied_at", "visited_at")


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-()（）]+", "", str(text or "")).lower()


HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.zh, *_column.aliases):
        HEADER_INDEX[_norm(_name)] = _column.key


def _value_index(mapping: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index = {}
    for value, names in mapping.items():
        index[_norm(value)] = str(value)
        for name in names:
            index[_norm(name)] = str(value)
    return index


VALUE_INDEX = {
    "type": (_value_index(TYPE_VALUES), TYPE_VALUES),
    "channel": (_value_index(CHANNEL_VALUES), CHANNEL_VALUES),
    "urgency": (_value_index(URGENCY_VALUES), URGENCY_VALUES),
    "requester_kind": (_value_index(KIND_VALUES), KIND_VALUES),
    "resolution": (_value_index(RESOLUTION_VALUES), RESOLUTION_VALUES),
    "satisfaction": (_value_index(SATISFACTION_VALUES), SATISFACTION_VALUES),
    "state": (_value_index(STATE_VALUES), STATE_VALUES),
}


def format_help() -> str:
    """The column format as plain text (the command's --help)."""
    lines = []
    for column in COLUMNS:
        need = "required" if column.required else "optional"
        names = ", ".join([column.key, column.zh, *column.aliases])
        lines.append(f"  {column.key} ({need}; headers: {names})\n      {column.doc}")
    return "\n".join(lines)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return _("line %(line)s: %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ImportResult:
    rows: int = 0
    good: int = 0
    bad: int = 0
    written: int = 0
    dry_run: bool = False
    rolled_back: bool = False
    encoding: str = ""
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.bad == 0


# --- reading files ---------------------------------------------------------------------------


def detect_encoding(path: Path, chunk_size: int = 1 << 20) -> str:
    """utf-8-sig (BOM), utf-16 (BOM), utf-8 if the whole file decodes as UTF-8, else gb18030.

    The whole file is checked (in chunks, constant memory): a GB18030 export can look like UTF-8
    for its first rows when they are ASCII only.
    """
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def is_excel(path: Path) -> bool:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return True
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        return False
    with open(path, "rb") as handle:
        return handle.read(2) == b"PK"


@dataclass
class Source:
    headers: list[str]
    rows: Iterator[tuple[int, list]]  # (line number, cell values)
    total: int | None  # an estimate for the progress bar
    encoding: str
    close: Callable[[], None]


def open_csv(path: Path, encoding: str | None = None) -> Source:
    encoding = encoding or detect_encoding(path)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 — closed by Source.close
    try:
        first = handle.readline()
    except UnicodeDecodeError as exc:
        handle.close()
        raise ImportFileError(
            _("The file is not in the %(encoding)s encoding.") % {"encoding": encoding}
        ) from exc
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    handle.seek(0)
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        handle.close()
        raise ImportFileError(_("The file is empty.")) from None

    def rows() -> Iterator[tuple[int, list]]:
        start = reader.line_num + 1
        try:
            for values in reader:
                if any(v.strip() for v in values):
                    yield start, values
                start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                _("Line %(line)s is not in the %(encoding)s encoding; give --encoding.")
                % {"line": start, "encoding": encoding}
            ) from exc
        except csv.Error as exc:
            raise ImportFileError(_("Line %(line)s: %(error)s") % {"line": start, "error": exc}) from exc

    return Source(headers, rows(), max(_count_lines(path) - 1, 0), encoding, handle.close)


def open_excel(path: Path, sheet: str | None = None) -> Source:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds for a broken file
        raise ImportFileError(_("Cannot read the Excel file: %(error)s") % {"error": exc}) from exc
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except KeyError:
        book.close()
        raise ImportFileError(_("The workbook has no sheet “%(sheet)s”.") % {"sheet": sheet}) from None
    iterator = ws.iter_rows(values_only=True)
    header_row = next(iterator, None)
    if header_row is None:
        book.close()
        raise ImportFileError(_("The file is empty."))
    headers = ["" if v is None else str(v) for v in header_row]

    def rows() -> Iterator[tuple[int, list]]:
        for number, values in enumerate(iterator, start=2):
            if any(v not in (None, "") and str(v).strip() for v in values):
                yield number, list(values)

    total = (ws.max_row - 1) if ws.max_row else None
    return Source(headers, rows(), total, "xlsx", book.close)


def open_source(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> Source:
    if not path.exists():
        raise ImportFileError(_("No such file: %(path)s") % {"path": path})
    return open_excel(path, sheet) if is_excel(path) else open_csv(path, encoding)


# --- parsing values --------------------------------------------------------------------------

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2}(?:\.\d+)?)\s*秒?|分)?)?$"
)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


class _Lookups:
    """Org units and categories, loaded once (a few thousand rows at most)."""

    def __init__(self):
        self.units: dict[str, OrgUnit] = {}
        self.by_name: dict[str, list[OrgUnit]] = {}
        for unit in OrgUnit.objects.filter(is_active=True).only(
            "id", "code", "name", "short_name", "kind", "parent_id", "path"
        ):
            self.units[unit.code] = unit
            names = {unit.name, unit.short_name}
            if unit.kind in STREET_KINDS:
                names.add(re.sub(r"(街道|地区|镇|乡)$", "", unit.name))
            for name in filter(None, names):
                self.by_name.setdefault(_norm(name), []).append(unit)
        self.by_id = {u.pk: u for u in self.units.values()}
        self.categories: dict[str, list[Category]] = {}
        self.category_paths: dict[str, Category] = {}
        for category in Category.objects.filter(is_active=True):
            self.category_paths[_norm(category.full_name.replace(" / ", "/"))] = category
            self.categories.setdefault(_norm(category.name), []).append(category)
        # level 3 first, so a level-3 name wins over a same-named level-1/2 node
        for found in self.categories.values():
            found.sort(key=lambda c: -c.level)

    def unit(
        self, text: str, kinds: set[str], within: OrgUnit | None = None
    ) -> OrgUnit | list[OrgUnit] | None:
        """The unit, or a list of candidates when the name is ambiguous, or None."""
        unit = self.units.get(text.strip())
        if unit is not None:
            return unit if unit.kind in kinds else None
        found = [u for u in self.by_name.get(_norm(text), []) if u.kind in kinds]
        if within is not None:
            found = [u for u in found if within.is_ancestor_of(u)] or found
        if len(found) == 1:
            return found[0]
        return found or None

    def category(self, text: str) -> Category | list[Category] | None:
        parts = [p for p in re.split(r"\s*[/>＞／]\s*", text.strip()) if p]
        if len(parts) > 1:
            return self.category_paths.get(_norm("/".join(parts)))
        found = self.categories.get(_norm(text), [])
        if not found:
            return None
        best = [c for c in found if c.level == found[0].level]
        return best[0] if len(best) == 1 else best


def _aware(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        return timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def parse_datetime(value) -> dt.datetime | None:
    """A naive or aware datetime from text or an Excel cell; naive values are Beijing time."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _aware(value)
    if isinstance(value, dt.date):
        return _aware(dt.datetime.combine(value, dt.time.min))
    text = str(value).strip()
    if not text:
        return None
    try:
        return _aware(dt.datetime.fromisoformat(text))
    except ValueError:
        pass
    match = _DATE_RE.match(text)
    if not match:
        raise ValueError(text)
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


# --- the importer ----------------------------------------------------------------------------


@dataclass
class _Good:
    line: int
    demand: Demand


class DemandImporter:
    """Validate and write one file of historical demands. See the module docstring."""

    def __init__(
        self,
        *,
        keep_good: bool = False,
        dry_run: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        actor=None,
        on_error: Callable[[RowError], None] | None = None,
        progress: Callable[[int], None] | None = None,
        now: dt.datetime | None = None,
    ):
        self.keep_good = keep_good
        self.dry_run = dry_run
        self.batch_size = max(1, batch_size)
        self.actor = actor
        self.on_error = on_error
        self.progress = progress
        self.now = now or timezone.now()
        self.result = ImportResult(dry_run=dry_run)
        self._seen: dict[str, int] = {}
        self._batch: list[_Good] = []
        self._policies: dict[tuple[str, str], object] = {}
        self._calendar: WorkCalendar | None = None
        self._file = ""
        self._imported_at = self.now.isoformat()
        authenticated = getattr(actor, "is_authenticated", False)
        self._imported_by = actor.get_username() if authenticated else None

    # -- entry points --

    def run(
        self, path, *, encoding: str | None = None, sheet: str | None = None, total_hook=None
    ) -> ImportResult:
        path = Path(path)
        self._file = path.name
        source = open_source(path, encoding=encoding, sheet=sheet)
        self.result.encoding = source.encoding
        try:
            if total_hook is not None:
                total_hook(source.total)
            self._map_headers(source.headers)
            self._lookups = _Lookups()
            self._calendar = WorkCalendar.from_database()
            if self.dry_run:
                self._consume(source.rows)
            else:
                with transaction.atomic():
                    self._consume(source.rows)
                    if self.result.written:
                        audit.record(
                            self.actor,
                            AuditAction.CREATE,
                            None,
                            detail=f"import-demands {self._file}: {self.result.written} demands",
                        )
                    if self.result.bad and not self.keep_good:
                        transaction.set_rollback(True)
                        self.result.rolled_back = True
                        self.result.written = 0
        finally:
            source.close()
        return self.result

    @property
    def writing(self) -> bool:
        return not self.dry_run and (self.keep_good or self.result.bad == 0)

    # -- headers --

    def _map_headers(self, headers: list[str]) -> None:
        self.positions: dict[str, int] = {}
        self.header_of: dict[str, str] = {}
        for position, header in enumerate(headers):
            text = str(header or "").strip().lstrip("\ufeff")
            key = HEADER_INDEX.get(_norm(text))
            if key is None:
                if text:
                    self.result.warnings.append(
                        _("Column “%(name)s” is not known and was ignored.") % {"name": text}
                    )
                continue
            if key in self.positions:
                raise ImportFileError(
                    _("Columns “%(a)s” and “%(b)s” both mean %(key)s.")
                    % {"a": self.header_of[key], "b": text, "key": key}
                )
            self.positions[key] = position
            self.header_of[key] = text
        missing = [c for c in COLUMNS if c.required and c.key not in self.positions]
        if missing:
            raise ImportFileError(
                _("Required columns missing: %(columns)s.")
                % {"columns": ", ".join(f"{c.key} ({c.zh})" for c in missing)}
            )

    def _name(self, key: str) -> str:
        return self.header_of.get(key, key)

    # -- rows --

    def _consume(self, rows: Iterator[tuple[int, list]]) -> None:
        for line, values in rows:
            self.result.rows += 1
            errors: list[RowError] = []
            demand = self._parse(line, values, errors)
            if errors:
                self._bad(errors)
            else:
                self._batch.append(_Good(line, demand))
                if len(self._batch) >= self.batch_size:
                    self._flush()
            if self.progress is not None:
                self.progress(1)
        self._flush()

    def _bad(self, errors: list[RowError]) -> None:
        self.result.bad += 1
        for error in errors:
            if len(self.result.errors) < MAX_KEPT_ERRORS:
                self.result.errors.append(error)
            if self.on_error is not None:
                self.on_error(error)

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        numbers = [g.demand.number for g in batch]
        existing = set(Demand.objects.filter(number__in=numbers).values_list("number", flat=True))
        good = []
        for item in batch:
            if item.demand.number in existing:
                self._bad(
                    [
                        RowError(
                            item.line,
                            self._name("number"),
                            _("“%(value)s” already exists in the database") % {"value": item.demand.number},
                        )
                    ]
                )
            else:
                good.append(item)
        self.result.good += len(good)
        if self.writing and good:
            self._write(good)

    def _write(self, good: list[_Good]) -> None:
        demands = Demand.objects.bulk_create([g.demand for g in good], batch_size=self.batch_size)
        events, tasks = [], []
        for item, demand in zip(good, demands, strict=True):
            events.extend(self._history(item.line, demand))
            if demand.lead_unit_id:
                done = demand.state in (State.REPLIED, State.VISITED, State.ARCHIVED)
                tasks.append(
                    DemandTask(
                        demand=demand,
                        unit_id=demand.lead_unit_id,
                        role=TaskRole.LEAD,
                        state=TaskState.DONE
                        if done
                        else (TaskState.ACKNOWLEDGED if demand.acknowledged_at else TaskState.PENDING),
                        assigned_at=demand.dispatched_at,
                        due_at=demand.finish_due,
                        acknowledged_at=demand.acknowledged_at,
                        done_at=demand.replied_at if done else None,
                        result_note=demand.reply if done else "",
                    )
                )
        self._insert_events(events)
        if tasks:
            DemandTask.objects.bulk_create(tasks, batch_size=self.batch_size)
        self.result.written += len(demands)

    def _insert_events(self, rows: list[dict]) -> None:
        """INSERT the event rows (column values by attname) with executemany, `batch_size` at a time.

        A row implies up to seven events; `DemandEvent.objects.bulk_create` spent most of the
        import's time building model instances and preparing their values field by field, and
        multi-row VALUES statements cost psycopg more to bind than they save. Here only the time
        (`at`) and `data` need preparing; columns the rows do not give get the field's default, so
        a field added to DemandEvent later does not break the import.
        """
        meta = DemandEvent._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        ops = connection.ops
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            ops.quote_name(meta.db_table),
            ", ".join(ops.quote_name(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        data_field = meta.get_field("data")
        defaults = {f.attname: f.get_db_prep_save(f.get_default(), connection) for f in fields}

        def value(f, row: dict):
            if f.attname not in row:
                return defaults[f.attname]
            if f.attname == "at":
                return ops.adapt_datetimefield_value(row["at"])
            if f.attname == "data":
                return data_field.get_db_prep_save(row["data"], connection)
            return row[f.attname]

        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start : start + self.batch_size]
                cursor.executemany(sql, [tuple(value(f, row) for f in fields) for row in chunk])

    def _history(self, line: int, d: Demand) -> list[dict]:
        """The timeline the row's history implies, oldest first, as the transition service writes it.

        Same `action` names, states and `data` keys as `services.transition` (so the 三率, the
        timeline and the public tracking page read imported demands like live ones), plus
        `"imported": true`; actor None, actor_name "import", automatic False. The "receive" event is
        the import marker: it also records the file, the line and when the import ran. Timestamps
        were checked to be in order, so the list is in time order; steps at the same moment keep
        this order through their ids (they are inserted in list order). Returns the rows as column
        values by attname, for `_insert_events`.
        """
        events: list[dict] = []
        state = ""

        def step(at: dt.datetime, to_state: str, payload: payloads.Payload, note: str = "") -> None:
            nonlocal state
            events.append(
                {
                    "demand_id": d.pk,
                    "at": at,
                    "actor_id": None,
                    "actor_name": "import",
                    "actor_unit_id": None,
                    "action": payload.action,
                    "from_state": state,
                    "to_state": to_state,
                    "note": note,
                    "data": payload.data(imported=True),
                    "automatic": False,
                }
            )
            state = to_state

        step(
            d.received_at,
            State.RECEIVED,
            payloads.Received(
                channel=d.channel,
                file=self._file,
                line=line,
                imported_at=self._imported_at,
                imported_by=self._imported_by,
            ),
            note=self._file[:200],
        )
        if d.dispatched_at:
            step(
                d.dispatched_at,
                State.DISPATCHED,
                payloads.Dispatched(
                    lead_unit=d.lead_unit_id,
                    lead_unit_name=self._lookups.by_id[d.lead_unit_id].name,
                    co_units=[],
                    contact_due=d.contact_due.isoformat(),
                    finish_due=d.finish_due.isoformat(),
                    deadline_estimated=d.deadline_estimated,
                ),
            )
        if d.acknowledged_at:  # the contact time, or the dispatch time for an acknowledged state
            step(d.acknowledged_at, State.ACKNOWLEDGED, payloads.Acknowledged())
        if d.contacted_at:
            on_time = d.contact_due is None or d.contacted_at <= d.contact_due
            step(d.contacted_at, State.CONTACTED, payloads.Contacted(on_time=on_time, unit=d.lead_unit_id))
            if d.state == State.IN_PROGRESS:
                step(d.contacted_at, State.IN_PROGRESS, payloads.Started())
        if d.replied_at:
            if d.dispatched_at:
                on_time = d.finish_due is None or d.replied_at <= d.finish_due
                step(d.replied_at, State.REPLIED, payloads.Replied(on_time=on_time), note=d.reply)
            else:  # answered at intake
                step(d.replied_at, State.REPLIED, payloads.Answered(), note=d.reply)
        if d.visited_at:
            step(
                d.visited_at,
                State.VISITED,
                payloads.Visited(resolution=d.resolution, satisfaction=d.satisfaction, unit=d.lead_unit_id),
            )
        if d.state == State.ARCHIVED:
            step(d.closed_at or d.visited_at or d.replied_at, State.ARCHIVED, payloads.Archived())
        return events

    # -- one row --

    def _get(self, values: list, key: str):
        position = self.positions.get(key)
        if position is None or position >= len(values):
            return None
        return values[position]

    def _parse(self, line: int, values: list, errors: list[RowError]) -> Demand | None:
        def err(key: str, message: str) -> None:
            errors.append(RowError(line, self._name(key), message))

        def text(key: str, max_length: int | None = None, required: bool = False) -> str:
            value = _text(self._get(values, key))
            if required and not value:
                err(key, _("is required"))
            if max_length and len(value) > max_length:
                err(
                    key,
                    _("at most %(max)s characters allowed (this has %(length)s)")
                    % {"max": max_length, "length": len(value)},
                )
                return value[:max_length]
            return value

        def choice(key: str, default: str = "", required: bool = False) -> str:
            value = _text(self._get(values, key))
            if not value:
                if required:
                    err(key, _("is required"))
                return default
            index, mapping = VALUE_INDEX[key]
            found = index.get(_norm(value))
            if found is None:
                accepted = ", ".join(f"{names[0]}/{value_}" for value_, names in mapping.items())
                err(key, _("“%(value)s” is not one of: %(choices)s") % {"value": value, "choices": accepted})
                return default
            return found

        def moment(key: str, required: bool = False) -> dt.datetime | None:
            raw = self._get(values, key)
            try:
                value = parse_datetime(raw)
            except (ValueError, OverflowError):
                err(
                    key,
                    _("“%(value)s” is not a date and time (use YYYY-MM-DD HH:MM)") % {"value": _text(raw)},
                )
                return None
            if value is None and required:
                err(key, _("is required"))
            if value is not None and value > self.now:
                err(key, _("“%(value)s” is in the future") % {"value": _text(raw)})
            return value

        def coordinate(key: str, limit: int) -> Decimal | None:
            value = _text(self._get(values, key))
            if not value:
                return None
            try:
                number = Decimal(value).quantize(Decimal("0.000001"))
            except InvalidOperation:
                number = None
            if number is None or not -limit <= number <= limit:
                err(key, _("“%(value)s” is not a coordinate") % {"value": value})
                return None
            return number

        number = text("number", 32, required=True)
        if number:
            first = self._seen.get(number)
            if first is not None:
                err(
                    "number",
                    _("“%(value)s” already appears on line %(line)s") % {"value": number, "line": first},
                )
            else:
                self._seen[number] = line

        d = Demand(number=number, version=0)
        d.demand_type = choice("type", required=True)
        d.content = text("content", 5000, required=True)
        d.title = text("title", 120) or d.content[:30]
        d.channel = choice("channel", Channel.IMPORT)
        d.urgency = choice("urgency", Urgency.NORMAL)
        d.requester_kind = choice("requester_kind", RequesterKind.PERSON)
        d.requester_name = text("requester_name", 60)
        phone = re.sub(r"[\s()（）]", "", text("phone"))
        if phone:
            try:
                phone_validator(phone)
            except ValidationError:
                err("phone", _("“%(value)s” is not a valid phone number") % {"value": phone})
        d.requester_phone = phone[:20]
        if d.requester_kind == RequesterKind.ANONYMOUS:
            d.requester_name = d.requester_phone = ""
        d.enterprise_name = text("enterprise_name", 120)
        d.address = text("address", 200)
        d.external_id = text("external_id", 64)
        d.reply = text("reply", 5000)
        d.latitude = coordinate("latitude", 90)
        d.longitude = coordinate("longitude", 180)

        category_text = text("category")
        if category_text:
            found = self._lookups.category(category_text)
            if isinstance(found, list):
                err(
                    "category",
                    _("“%(value)s” is ambiguous (%(options)s); give the full path l1/l2/l3")
                    % {"value": category_text, "options": "; ".join(c.full_name for c in found[:4])},
                )
            elif found is None:
                err("category", _("unknown category “%(value)s”") % {"value": category_text})
            else:
                d.category_id = found.pk

        street = self._unit(text("street"), "street", STREET_KINDS, err)
        community = self._unit(text("community"), "community", COMMUNITY_KINDS, err, within=street)
        if community is not None:
            community_street = self._street_of(community)
            if street is None:
                street = community_street
            elif community_street is None or community_street.pk != street.pk:
                err(
                    "community",
                    _("“%(community)s” is not in %(street)s")
                    % {"community": community.name, "street": street.name},
                )
        d.street_id = street.pk if street else None
        d.community_id = community.pk if community else None
        lead = self._unit(text("lead_unit"), "lead_unit", DISPATCHABLE_KINDS, err)
        d.lead_unit_id = lead.pk if lead else None

        d.received_at = moment("received_at", required=True)
        d.dispatched_at = moment("dispatched_at")
        d.contacted_at = moment("contacted_at")
        d.replied_at = moment("replied_at")
        visited_at = moment("visited_at")
        d.resolution = choice("resolution")
        d.satisfaction = choice("satisfaction")
        explicit_state = choice("state")

        # timestamps in order
        previous_key, previous = "received_at", d.received_at
        for key in ("dispatched_at", "contacted_at", "replied_at", "visited_at"):
            value = visited_at if key == "visited_at" else getattr(d, key)
            if value is None:
                continue
            if previous is not None and value < previous:
                err(
                    key,
                    _("is earlier than %(other)s") % {"other": self._name(previous_key)},
                )
            previous_key, previous = key, value

        if d.dispatched_at and not lead and not self._has_error(errors, "lead_unit"):
            err(
                "lead_unit", _("is required when %(other)s is given") % {"other": self._name("dispatched_at")}
            )
        if lead and not d.dispatched_at and not self._has_error(errors, "dispatched_at"):
            err(
                "dispatched_at", _("is required when %(other)s is given") % {"other": self._name("lead_unit")}
            )
        if d.contacted_at and not d.dispatched_at and not self._has_error(errors, "dispatched_at"):
            err(
                "dispatched_at",
                _("is required when %(other)s is given") % {"other": self._name("contacted_at")},
            )
        visit_given = bool(d.resolution or d.satisfaction or visited_at)
        if visit_given and not d.replied_at:
            err("replied_at", _("is required when a return-visit result is given"))

        state = explicit_state or self._derive_state(d, visit_given)
        if explicit_state:
            self._check_state(d, explicit_state, err)
        d.state = state
        if d.contacted_at or state in (State.ACKNOWLEDGED, State.CONTACTED, State.IN_PROGRESS):
            d.acknowledged_at = d.contacted_at or d.dispatched_at
        if state in (State.VISITED, State.ARCHIVED):
            d.visited_at = visited_at or d.replied_at
            d.visit_attempts = 1
        if state == State.ARCHIVED:
            d.closed_at = d.visited_at
        if errors:
            return None
        if d.dispatched_at:
            self._deadlines(d)
        d.updated_at = self.now
        return d

    @staticmethod
    def _has_error(errors: list[RowError], key: str) -> bool:
        return any(e.field == key for e in errors)

    def _unit(self, value: str, key: str, kinds, err, within=None) -> OrgUnit | None:
        if not value:
            return None
        found = self._lookups.unit(value, kinds, within)
        if isinstance(found, list):
            err(
                key,
                _("“%(value)s” is ambiguous (%(options)s); give the code")
                % {"value": value, "options": "; ".join(f"{u.code} {u.name}" for u in found[:4])},
            )
            return None
        if found is None:
            messages = {
                "street": _("unknown street/town “%(value)s”"),
                "community": _("unknown community/village “%(value)s”"),
                "lead_unit": _("unknown unit “%(value)s” (a street/town, department or company)"),
            }
            err(key, messages[key] % {"value": value})
        return found

    def _street_of(self, unit: OrgUnit) -> OrgUnit | None:
        node = unit
        while node is not None and node.kind not in STREET_KINDS:
            node = self._lookups.by_id.get(node.parent_id)
        return node

    @staticmethod
    def _derive_state(d: Demand, visit_given: bool) -> str:
        if visit_given:
            return State.ARCHIVED
        if d.replied_at:
            return State.REPLIED
        if d.contacted_at:
            return State.CONTACTED
        if d.dispatched_at:
            return State.DISPATCHED
        return State.RECEIVED

    def _check_state(self, d: Demand, state: str, err) -> None:
        needs = []
        if state not in (State.RECEIVED, State.REPLIED) and not d.dispatched_at:
            needs.append("dispatched_at")
        if state in (State.CONTACTED, State.IN_PROGRESS) and not d.contacted_at:
            needs.append("contacted_at")
        if state in (State.REPLIED, State.VISITED, State.ARCHIVED) and not d.replied_at:
            needs.append("replied_at")
        if state in (State.VISITED, State.ARCHIVED) and not d.satisfaction:
            needs.append("satisfaction")
        if state == State.RECEIVED and d.dispatched_at:
            err(
                "state",
                _("“%(state)s” contradicts %(other)s")
                % {"state": state, "other": self._name("dispatched_at")},
            )
        if state not in (State.REPLIED, State.VISITED, State.ARCHIVED) and d.replied_at:
            err(
                "state",
                _("“%(state)s” contradicts %(other)s") % {"state": state, "other": self._name("replied_at")},
            )
        for key in needs:
            err(key, _("is required for state “%(state)s”") % {"state": state})

    def _deadlines(self, d: Demand) -> None:
        """Contact and finish deadlines from the policy table, counted on the work calendar."""
        key = (d.demand_type, d.urgency)
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = deadlines.policy_for(d.demand_type, d.urgency)
        contact, est1 = self._add(d.dispatched_at, policy.contact_amount, policy.contact_unit)
        finish, est2 = self._add(d.dispatched_at, policy.finish_amount, policy.finish_unit)
        d.contact_due, d.finish_due = contact, max(finish, contact)
        d.deadline_estimated = est1 or est2

    def _add(self, start: dt.datetime, amount, unit: str) -> tuple[dt.datetime, bool]:
        amount = float(amount)
        if unit == TimeUnit.CLOCK_HOURS:
            return start + dt.timedelta(hours=amount), False
        if unit == TimeUnit.WORKING_HOURS:
            answer = self._calendar.add_working_time(start, hours=amount)
        else:
            answer = self._calendar.add_working_time(start, days=amount)
        return answer.value, answer.is_estimate


def import_demands(path, **options) -> ImportResult:
    """Convenience wrapper: `import_demands("file.csv", keep_good=True)`."""
    run_options = {k: options.pop(k) for k in ("encoding", "sheet") if k in options}
    return DemandImporter(**options).run(path, **run_options)


__all__ = [
    "COLUMNS",
    "DemandImporter",
    "ImportFileError",
    "ImportResult",
    "RowError",
    "detect_encoding",
    "format_help",
    "import_demands",
    "parse_datetime",
]
