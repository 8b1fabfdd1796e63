"""Import of historical demands (12345 work orders) from CSV or Excel.

Reading the file, parsing cells, per-row errors and the all-or-nothing policy are the shared ones
of `changxin.core.tabular` (the enterprise and party-member imports use the same): the rows are
streamed, every row is validated here (types, divisions, units, categories, the order of the
timestamps, duplicates in the file and in the database), and good rows are written in batches:
the Demand; the DemandEvents each row's history implies (receive, dispatch, acknowledge, contact,
reply, return visit, archive — as the transition service writes them, marked `"imported": true`);
and, when dispatched, the lead unit's DemandTask. On PostgreSQL with one COPY per table per batch
(`_CopyWriter`, on the generator's COPY helpers; ids reserved from the sequence), streamed by a
background thread while the next batch is parsed (`_CopyStream`), with `rebuild_indexes` into
tables whose secondary indexes and foreign keys are rebuilt at the end; on SQLite (or
`copy=False`) with `bulk_create` and executemany. Both write the same rows (test_import_copy.py).
Memory stays bounded: only one batch of rows is held, plus the work-order numbers seen so far (to
report duplicates within the file).

All or nothing by default: the whole import runs in ONE transaction; as soon as a row is bad,
writing stops, the remaining rows are still validated (so every bad row is reported) and at the
end the transaction is rolled back. With `keep_good=True` the good rows are committed and the bad
ones reported. A dry run validates everything (including duplicates against the database) and
writes nothing.

The column format is documented in docs/IMPORT.md and in `changxin import-demands --help`; both
come from COLUMNS below.
"""

from __future__ import annotations

import datetime as dt
import queue
import re
import secrets
import threading
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import audit, tabular
from changxin.core.models import AuditAction, OrgUnit
from changxin.core.roles import COMMUNITY_KINDS, DISPATCHABLE_KINDS
from changxin.core.roles import STREET_LEVEL_KINDS as STREET_KINDS
from changxin.core.tabular import (
    MAX_ERRORS,
    Column,
    ImportReport,
    ImportRun,
    Parsed,
    Row,
    RowError,
    choice,
    describe_choices,
    detect_encoding,
    normalize,
    parse_datetime,
    text,
)
from changxin.core.workcalendar import WorkCalendar
from changxin.demands import deadlines
from changxin.demands import events as payloads
from changxin.demands.generator import _Ids, _json, _Table, _Writer, bulk_load
from changxin.demands.models import (
    TRACKING_ALPHABET,
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
MAX_KEPT_ERRORS = MAX_ERRORS  # errors are streamed to the caller; the result keeps the first ones only

ImportFileError = tabular.TableError  # the file as a whole cannot be imported
ImportResult = ImportReport


# --- the column format -----------------------------------------------------------------------

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


def _coordinate(name: str, aliases: tuple[str, ...], limit: int, doc: str) -> Column:
    message = gettext_lazy("“%(value)s” is not a coordinate")
    return Column(
        name,
        aliases,
        False,
        tabular.decimal(places=6, min_value=-limit, max_value=limit, message=message),
        doc,
    )


COLUMNS: list[Column] = [
    Column(
        "number",
        ("工单编号", "工单号", "编号", "work order", "no"),
        True,
        text(32),
        "Original work-order number; unique in the file and in the database (at most 32 characters).",
    ),
    Column(
        "received_at",
        ("受理时间", "来电时间", "received", "received at"),
        True,
        tabular.datetime(),
        "When the demand was received. YYYY-MM-DD HH:MM[:SS] (also 2024/3/5 9:05, 2024年3月5日 9时5分, or an Excel date).",
    ),
    Column(
        "type",
        ("类型", "诉求类型", "demand_type", "demand type"),
        True,
        choice(TYPE_VALUES),
        "Type: " + describe_choices(TYPE_VALUES) + ".",
    ),
    Column(
        "title",
        ("标题", "诉求标题", "subject"),
        False,
        text(120),
        "Title (at most 120 characters); the first 30 characters of the content when empty.",
    ),
    Column(
        "content",
        ("内容", "诉求内容", "问题描述", "text", "description"),
        True,
        text(5000),
        "What the requester said (at most 5000 characters).",
    ),
    Column(
        "channel",
        ("渠道", "来源", "来源渠道", "source"),
        False,
        choice(CHANNEL_VALUES),
        "Channel, default import: " + describe_choices(CHANNEL_VALUES) + ".",
        default=Channel.IMPORT,
    ),
    Column(
        "urgency",
        ("紧急程度", "urgency level"),
        False,
        choice(URGENCY_VALUES),
        "Urgency, default normal: " + describe_choices(URGENCY_VALUES) + ".",
        default=Urgency.NORMAL,
    ),
    Column(
        "category",
        ("分类", "诉求分类", "问题分类", "category path"),
        False,
        text(),
        "Category: a level-3 name (the full path when the name is ambiguous) or the path “l1/l2/l3”, e.g. "
        "城乡建设/城市建设和市政管理/冬季采暖.",
    ),
    Column(
        "requester_kind",
        ("诉求人类型", "来电人类型", "requester type"),
        False,
        choice(KIND_VALUES),
        "Requester kind, default person: " + describe_choices(KIND_VALUES) + ".",
        default=RequesterKind.PERSON,
    ),
    Column(
        "requester_name",
        ("诉求人", "来电人", "姓名", "name", "requester"),
        False,
        text(60),
        "Requester's name (at most 60 characters).",
    ),
    Column(
        "phone",
        ("联系电话", "电话", "手机", "来电号码", "requester_phone", "requester phone"),
        False,
        tabular.phone(),
        "Requester's phone: an 11-digit mobile number starting with 1, or a landline (010-63812345).",
    ),
    Column(
        "enterprise_name",
        ("企业名称", "enterprise", "company"),
        False,
        text(120),
        "Enterprise name when the requester is an enterprise.",
    ),
    Column(
        "address",
        ("地址", "事发地址", "诉求地址", "location"),
        False,
        text(200),
        "Address text (at most 200 characters).",
    ),
    Column(
        "street",
        ("街乡镇", "街道", "乡镇", "所属街道", "street/town", "town"),
        False,
        text(),
        "Street/town by name (卢沟桥街道, also 卢沟桥) or statistical code (110106017).",
    ),
    Column(
        "community",
        ("社区村", "社区", "村", "村居", "community/village", "village"),
        False,
        text(),
        "Community/village by name or code; must lie in the street given (which it implies when empty).",
    ),
    Column(
        "lead_unit",
        ("主办单位", "承办单位", "责任单位", "lead unit", "unit"),
        False,
        text(),
        "Lead unit by name, short name (区城管委) or code (110106D01): a street/town, department or "
        "public-service company. Required when dispatched_at is given.",
    ),
    Column(
        "dispatched_at",
        ("派单时间", "dispatched", "dispatched at"),
        False,
        tabular.datetime(),
        "When it was dispatched to the lead unit. Required with a lead unit; deadlines are computed from it.",
    ),
    Column(
        "contacted_at",
        ("联系时间", "首次联系时间", "响应时间", "contacted", "contacted at"),
        False,
        tabular.datetime(),
        "When the lead unit first contacted the requester (响应).",
    ),
    Column(
        "replied_at",
        ("办结时间", "答复时间", "replied", "replied at"),
        False,
        tabular.datetime(),
        "When the unit replied and finished.",
    ),
    Column(
        "reply", ("答复内容", "办理结果", "处理结果", "reply text"), False, text(5000), "The unit's reply."
    ),
    Column(
        "visited_at",
        ("回访时间", "visited", "visited at"),
        False,
        tabular.datetime(),
        "When the return visit was made (default: the reply time).",
    ),
    Column(
        "resolution",
        ("解决情况", "是否解决"),
        False,
        choice(RESOLUTION_VALUES),
        "Return visit, resolved?: " + describe_choices(RESOLUTION_VALUES) + ".",
    ),
    Column(
        "satisfaction",
        ("满意度", "满意情况", "是否满意"),
        False,
        choice(SATISFACTION_VALUES),
        "Return visit, satisfied?: " + describe_choices(SATISFACTION_VALUES) + ".",
    ),
    Column(
        "state",
        ("状态", "工单状态", "status"),
        False,
        choice(STATE_VALUES),
        "Final state; derived from the timestamps when empty (a return-visit result → archived, a reply "
        "→ replied, a contact → contacted, a dispatch → dispatched, else received): "
        + describe_choices(STATE_VALUES)
        + ".",
    ),
    _coordinate("latitude", ("纬度", "lat"), 90, "Latitude (decimal degrees)."),
    _coordinate("longitude", ("经度", "lng", "lon"), 180, "Longitude (decimal degrees)."),
    Column(
        "external_id",
        ("外部编号", "原系统编号", "external id"),
        False,
        text(64),
        "An identifier in the source system (at most 64 characters).",
    ),
]
COLUMN_BY_KEY = {c.name: c for c in COLUMNS}
DATE_KEYS = ("received_at", "dispatched_at", "contacted_at", "replied_at", "visited_at")


def format_help() -> str:
    """The column format as plain text (the command's --help)."""
    return tabular.format_columns(COLUMNS)


# --- lookups ---------------------------------------------------------------------------------


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
                self.by_name.setdefault(normalize(name), []).append(unit)
        self.by_id = {u.pk: u for u in self.units.values()}
        self._found: dict[tuple, OrgUnit | list[OrgUnit] | None] = {}
        self.categories: dict[str, list[Category]] = {}
        self.category_paths: dict[str, Category] = {}
        for category in Category.objects.filter(is_active=True):
            self.category_paths[normalize(category.full_name.replace(" / ", "/"))] = category
            self.categories.setdefault(normalize(category.name), []).append(category)
        # level 3 first, so a level-3 name wins over a same-named level-1/2 node
        for found in self.categories.values():
            found.sort(key=lambda c: -c.level)

    def unit(
        self, text: str, kinds: set[str], within: OrgUnit | None = None
    ) -> OrgUnit | list[OrgUnit] | None:
        """The unit, or a list of candidates when the name is ambiguous, or None (remembered: a
        file names the same few hundred units over and over)."""
        if not isinstance(kinds, tuple | frozenset):
            return self._unit(text, kinds, within)
        key = (text, kinds, within.pk if within is not None else None)
        found = self._found.get(key, self)
        if found is self:
            found = self._unit(text, kinds, within)
            if len(self._found) < 100_000:
                self._found[key] = found
        return found

    def _unit(self, text: str, kinds, within: OrgUnit | None) -> OrgUnit | list[OrgUnit] | None:
        unit = self.units.get(text.strip())
        if unit is not None:
            return unit if unit.kind in kinds else None
        found = [u for u in self.by_name.get(normalize(text), []) if u.kind in kinds]
        if within is not None:
            found = [u for u in found if within.is_ancestor_of(u)] or found
        if len(found) == 1:
            return found[0]
        return found or None

    def category(self, text: str) -> Category | list[Category] | None:
        parts = [p for p in re.split(r"\s*[/>＞／]\s*", text.strip()) if p]
        if len(parts) > 1:
            return self.category_paths.get(normalize("/".join(parts)))
        found = self.categories.get(normalize(text), [])
        if not found:
            return None
        best = [c for c in found if c.level == found[0].level]
        return best[0] if len(best) == 1 else best


# --- the importer ----------------------------------------------------------------------------


class _Draft:
    """A demand as a row made it: the fields the import sets, by attname (`vars()`); every other
    field keeps the model's default. Plain attributes: building a Demand instance per row (its
    sixty fields' defaults) cost more than the COPY path's whole write; the ORM path makes one
    with `Demand(**draft.values())`."""

    pk = None
    acknowledged_at = visited_at = closed_at = contact_due = finish_due = None
    lead_assigned_at = lead_first_contact_at = lead_first_contact_on_time = None
    category_id = street_id = community_id = lead_unit_id = None
    visit_attempts = 0
    deadline_estimated = False

    def __init__(self, number: str):
        self.number = number
        self.version = 0

    def values(self) -> dict:
        return vars(self)


@dataclass
class _Good:
    line: int
    demand: _Draft


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
        max_errors: int = MAX_KEPT_ERRORS,
        copy: bool | None = None,
        rebuild_indexes: bool = False,
    ):
        postgres = connection.vendor == "postgresql"
        if copy and not postgres:
            raise ValueError("copy=True needs PostgreSQL (COPY FROM STDIN)")
        self.copy = postgres if copy is None else copy
        if rebuild_indexes and not self.copy:
            raise ValueError("rebuild_indexes needs PostgreSQL's COPY path")
        self.rebuild_indexes = rebuild_indexes
        self._stream: _CopyStream | None = None
        self.keep_good = keep_good
        self.dry_run = dry_run
        self.batch_size = max(1, batch_size)
        self.actor = actor
        self.now = now or timezone.now()
        self._run = ImportRun(
            keep_good=keep_good,
            dry_run=dry_run,
            batch_size=self.batch_size,
            max_errors=max_errors,
            on_error=on_error,
            progress=progress,
        )
        self.result = self._run.report
        self._seen: dict[str, int] = {}
        self._copier: _CopyWriter | None = None
        self._prepared: _Prepared | None = None  # the COPY texts of the batch being checked
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
        with tabular.open_table(path, columns=COLUMNS, encoding=encoding, sheet=sheet) as table:
            self._table = table
            if total_hook is not None:
                total_hook(table.total)
            self._lookups = _Lookups()
            self._calendar = WorkCalendar.from_database()
            self._load_policies()
            run = self._run
            run.report.encoding = table.encoding
            run.report.warnings.extend(table.warnings)
            with run.transaction(self._finish), self._writing():
                run.consume(
                    table,
                    parse=self._parse,
                    check=self._check_existing,
                    write=lambda batch: self._write([_Good(p.line, p.value) for p in batch]),
                )
        return self.result

    def _load_policies(self) -> None:
        """Every deadline policy up front: while the COPY stream runs, parsing sends no query (a
        query would wait for the connection, or fail as "transaction aborted" after a failed COPY)."""
        for demand_type in DemandType.values:
            for urgency in Urgency.values:
                with suppress(LookupError):  # raised again if a row asks for it
                    self._policies[(demand_type, urgency)] = deadlines.policy_for(demand_type, urgency)

    @contextmanager
    def _writing(self):
        """Inside the import's transaction: on PostgreSQL's COPY path, the background COPY stream
        (see `_CopyStream`), the foreign keys checked as each COPY runs rather than all at commit,
        and with `rebuild_indexes` the tables' secondary indexes and foreign keys dropped for the
        load and built again at the end."""
        if not self.copy or self.dry_run:
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        try:
            with ExitStack() as stack:
                if self.rebuild_indexes:
                    stack.enter_context(bulk_load([Demand, DemandEvent, DemandTask]))
                self._stream = stack.enter_context(_CopyStream())
                self._copy_writer()
                yield
        finally:
            self._stream = None
        # back to Django's default (its foreign keys are INITIALLY DEFERRED) for the rest of an
        # enclosing transaction; not reached when the import failed (the transaction is aborted)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _finish(self, result: ImportResult) -> None:
        if self._stream is not None:
            self._stream.drain()
        self._audit(result)

    @property
    def writing(self) -> bool:
        return self._run.writing

    def _audit(self, result: ImportResult) -> None:
        if result.written:
            audit.record(
                self.actor,
                AuditAction.CREATE,
                None,
                detail=f"import-demands {self._file}: {result.written} demands",
            )

    def _name(self, key: str) -> str:
        return self._table.header_of(key)

    def _check_existing(self, batch: list[Parsed]) -> list[RowError]:
        """Rows whose work-order number is already in the database (one query per batch).

        On the COPY path the batch's COPY texts are made first (`_CopyWriter.prepare`, Python
        only: its ids were reserved while the connection was last free), while the previous batch's
        COPY still runs on the server; then the query waits for that COPY (it needs the
        connection), and the ids of the next batch are reserved before the connection is busy
        again. So the server loads one batch while this process parses and formats the next."""
        copier = self._copier if self._stream is not None and self.writing else None
        if copier is not None:
            # no ids reserved yet (the first batch, or a bigger one): reserve them now, after
            # waiting for any COPY in flight, since the reservation is a query
            if not copier.ids.has(len(batch)):
                self._stream.sync()
                copier.ids.reserve(len(batch))
            self._prepared = copier.prepare(self, [_Good(p.line, p.value) for p in batch])
        if self._stream is not None:
            # the previous batch's COPY first (this query would wait for it anyway, as it needs the
            # connection), so that a failed COPY is raised as itself, not as an aborted transaction
            self._stream.sync()
        numbers = [item.value.number for item in batch]
        existing = set(Demand.objects.filter(number__in=numbers).values_list("number", flat=True))
        if copier is not None:
            copier.ids.reserve(self.batch_size)
        return [
            RowError(
                item.line,
                self._name("number"),
                _("“%(value)s” already exists in the database") % {"value": item.value.number},
                "number",
            )
            for item in batch
            if item.value.number in existing
        ]

    def _write(self, good: list[_Good]) -> int:
        if self.copy:
            copier = self._copy_writer()
            prepared, self._prepared = self._prepared, None
            if prepared is None or prepared.lines != [item.line for item in good]:
                # nothing made ahead, or the check took rows out (duplicates): the connection is
                # free here (the check waited for the last COPY), so ids may be reserved
                copier.ids.reserve(len(good))
                prepared = copier.prepare(self, good)
            return copier.send(prepared, self._stream)
        demands = Demand.objects.bulk_create(
            [Demand(**g.demand.values()) for g in good], batch_size=self.batch_size
        )
        events, tasks = [], []
        for item, demand in zip(good, demands, strict=True):
            events.extend(self._history(item.line, demand))
            task = self._lead_task(demand)
            if task is not None:
                tasks.append(DemandTask(**task))
        self._insert_events(events)
        if tasks:
            DemandTask.objects.bulk_create(tasks, batch_size=self.batch_size)
        return len(demands)

    def _copy_writer(self) -> _CopyWriter:
        if self._copier is None:
            self._copier = _CopyWriter()
        return self._copier

    @staticmethod
    def _lead_task(demand: Demand | _Draft) -> dict | None:
        """The lead unit's task of a dispatched demand (field values by attname), in the state the
        demand's history left it."""
        if not demand.lead_unit_id:
            return None
        done = demand.state in (State.REPLIED, State.VISITED, State.ARCHIVED)
        return {
            "demand_id": demand.pk,
            "unit_id": demand.lead_unit_id,
            "role": TaskRole.LEAD,
            "state": TaskState.DONE
            if done
            else (TaskState.ACKNOWLEDGED if demand.acknowledged_at else TaskState.PENDING),
            "assigned_at": demand.dispatched_at,
            "due_at": demand.finish_due,
            "acknowledged_at": demand.acknowledged_at,
            "done_at": demand.replied_at if done else None,
            "result_note": demand.reply if done else "",
        }

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

    def _history(self, line: int, d: Demand | _Draft, make: Callable | None = None) -> list:
        """The timeline the row's history implies, oldest first, as the transition service writes it.

        Same `action` names, states and `data` keys as `services.transition` (so the 三率, the
        timeline and the public tracking page read imported demands like live ones), plus
        `"imported": true`; actor None, actor_name "import", automatic False. The "receive" event is
        the import marker: it also records the file, the line and when the import ran. Timestamps
        were checked to be in order, so the list is in time order; steps at the same moment keep
        this order through their ids (they are inserted in list order). Returns the rows as column
        values by attname, for `_insert_events` (or what `make(demand_id, at, action, from_state,
        to_state, note, data)` makes of each: the COPY path's text lines).
        """
        events: list = []
        state = ""
        make = make or _event_values

        def step(at: dt.datetime, to_state: str, payload: payloads.Payload, note: str = "") -> None:
            nonlocal state
            events.append(make(d.pk, at, payload.action, state, to_state, note, payload.data(imported=True)))
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

    def _parse(self, row: Row) -> _Draft | None:
        err = row.error
        number = row["number"]
        if number:
            first = self._seen.get(number)
            if first is not None:
                err(
                    "number",
                    _("“%(value)s” already appears on line %(line)s") % {"value": number, "line": first},
                )
            else:
                self._seen[number] = row.line

        d = _Draft(number)
        d.demand_type = row["type"]
        d.content = row["content"]
        d.title = row["title"] or d.content[:30]
        d.channel = row["channel"]
        d.urgency = row["urgency"]
        d.requester_kind = row["requester_kind"]
        d.requester_name = row["requester_name"]
        d.requester_phone = row["phone"]
        if d.requester_kind == RequesterKind.ANONYMOUS:
            d.requester_name = d.requester_phone = ""
        d.enterprise_name = row["enterprise_name"]
        d.address = row["address"]
        d.external_id = row["external_id"]
        d.reply = row["reply"]
        d.latitude = row["latitude"]
        d.longitude = row["longitude"]

        category_text = row["category"]
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

        street = self._unit(row["street"], "street", STREET_KINDS, err)
        community = self._unit(row["community"], "community", COMMUNITY_KINDS, err, within=street)
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
        lead = self._unit(row["lead_unit"], "lead_unit", DISPATCHABLE_KINDS, err)
        d.lead_unit_id = lead.pk if lead else None

        for key in DATE_KEYS:
            if row[key] is not None and row[key] > self.now:
                err(key, _("“%(value)s” is in the future") % {"value": row.raw(key)})
        d.received_at = row["received_at"]
        d.dispatched_at = row["dispatched_at"]
        d.contacted_at = row["contacted_at"]
        d.replied_at = row["replied_at"]
        visited_at = row["visited_at"]
        d.resolution = row["resolution"]
        d.satisfaction = row["satisfaction"]
        explicit_state = row["state"]

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

        if d.dispatched_at and not lead and not row.has_error("lead_unit"):
            err(
                "lead_unit", _("is required when %(other)s is given") % {"other": self._name("dispatched_at")}
            )
        if lead and not d.dispatched_at and not row.has_error("dispatched_at"):
            err(
                "dispatched_at", _("is required when %(other)s is given") % {"other": self._name("lead_unit")}
            )
        if d.contacted_at and not d.dispatched_at and not row.has_error("dispatched_at"):
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
        if row.errors:
            return None
        if d.dispatched_at:
            self._deadlines(d)
            # the 三率's round, as the transition service keeps it from the events `_history` writes
            d.lead_assigned_at = d.dispatched_at
            if d.contacted_at:
                d.lead_first_contact_at = d.contacted_at
                d.lead_first_contact_on_time = d.contact_due is None or d.contacted_at <= d.contact_due
        d.updated_at = self.now
        return d

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


def _event_values(demand_id, at, action, from_state, to_state, note, data) -> dict:
    """One imported event's column values by attname (the ORM path's rows)."""
    return {
        "demand_id": demand_id,
        "at": at,
        "actor_id": None,
        "actor_name": "import",
        "actor_unit_id": None,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "note": note,
        "data": data,
        "automatic": False,
    }


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]").search
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """Text in COPY's text format (backslash, tab, newline and carriage return escaped)."""
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL(value) else value


class _CopyWriter:
    """PostgreSQL: one batch written with one COPY per table (demands, lead tasks, events).

    The rows are exactly the ORM path's: each column the model's default (the generator's
    `_Table`) unless the row's draft sets it; ids reserved from the demand table's sequence in one
    query (`nextval` over `generate_series`, so the events and tasks can name them); a fresh random
    tracking code each (as the field's default makes one); `updated_at` as `auto_now` would set it;
    the lead tasks of `_lead_task` and the event rows of `_history`. The COPY text is made by the
    generator's compiled formatters (`_Writer`). COPY runs inside the import's transaction, so the
    all-or-nothing rollback covers it; the events' and tasks' ids come from their sequences'
    defaults in row order, so steps at the same moment keep their order.
    """

    def __init__(self):
        self.demands = _Writer(_Table(Demand, with_id=True))
        self.tasks = _Writer(_Table(DemandTask, with_id=False))
        self.events = _Writer(_Table(DemandEvent, with_id=False))
        self.ids = _IdPool(Demand)
        table = self.demands.table
        self._demand_index = table.index
        self._tracking = table.index["tracking_code"]
        self._updated = table.index["updated_at"]
        self._pk = table.index["id"]
        self.event_line = self._event_line_maker()

    def _event_line_maker(self) -> Callable[..., str]:
        """`make` for `_history`: one event's COPY line straight from its varying values. The other
        columns are `_event_values`' constants and the model's defaults, formatted once by the
        table's own formatter, so the line is the one `_fill` and that formatter would make."""
        writer, table = self.events, self.events.table
        index = table.index
        constant = table.row()
        varying = ("demand_id", "at", "action", "from_state", "to_state", "note", "data")
        for key, value in _event_values(0, None, "", "", "", "", {}).items():
            constant[index[key]] = None if key in varying else value
        base = writer.format(constant)[:-1].split("\t")  # escaped text holds no raw tab
        if len(base) != len(table.fields):
            raise AssertionError("COPY line template does not split into the table's columns")
        i_demand, i_at, i_action, i_from, i_to, i_note, i_data = (index[key] for key in varying)

        def make(demand_id, at, action, from_state, to_state, note, data) -> str:
            parts = base.copy()
            parts[i_demand] = str(demand_id)
            parts[i_at] = "\\N" if at is None else at.isoformat()
            parts[i_action] = _copy_text(action)
            parts[i_from] = _copy_text(from_state)
            parts[i_to] = _copy_text(to_state)
            parts[i_note] = _copy_text(note)
            parts[i_data] = _copy_text(_json(data))
            return "\t".join(parts) + "\n"

        return make

    @staticmethod
    def _fill(writer: _Writer, values: dict) -> list:
        row = writer.table.row()
        index = writer.table.index
        for key, value in values.items():
            row[index[key]] = value
        return row

    def prepare(self, importer: DemandImporter, good: list[_Good]) -> _Prepared:
        """The batch's COPY texts (demands, lead tasks, events). Python only: the ids come from the
        pool (`_IdPool.reserve` beforehand), so this runs while a COPY holds the connection."""
        now = timezone.now()  # what auto_now gives the ORM path's bulk_create
        ids = self.ids.take(len(good))
        codes = tracking_codes(len(good))
        demands, tasks, events = [], [], []
        for item, pk, code in zip(good, ids, codes, strict=True):
            draft = item.demand
            if "pk" in vars(draft):  # made before, for the batch the duplicate check then cut
                del draft.pk
            row = self._fill(self.demands, draft.values())
            draft.pk = pk  # after: not a column name
            row[self._pk], row[self._tracking], row[self._updated] = pk, code, now
            demands.append(row)
            task = importer._lead_task(draft)
            if task is not None:
                tasks.append(self._fill(self.tasks, task))
            events.extend(importer._history(item.line, draft, self.event_line))
        texts = (
            (self.demands.copy_sql, "".join(map(self.demands.format, demands))),
            (self.tasks.copy_sql, "".join(map(self.tasks.format, tasks))),
            (self.events.copy_sql, "".join(events)),
        )
        return _Prepared([item.line for item in good], [(sql, body) for sql, body in texts if body])

    @staticmethod
    def send(prepared: _Prepared, stream: _CopyStream | None) -> int:
        """COPY the texts: through the background stream, or here and now without one."""
        for sql, body in prepared.texts:
            if stream is None:
                with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                    copy.write(body)
            else:
                stream.send(sql, body)
        return len(prepared.lines)


@dataclass
class _Prepared:
    """One batch's COPY texts, made ahead, and the file lines of its rows."""

    lines: list[int]
    texts: list[tuple[str, str]]


class _IdPool(_Ids):
    """Demand ids reserved ahead from the table's sequence (`_Ids`), so a batch's COPY texts can
    be made while the connection is busy with the previous COPY; `reserve` only when it is free."""

    def __init__(self, model):
        super().__init__(model)
        self._pool: list[int] = []

    def has(self, n: int) -> bool:
        return len(self._pool) >= n

    def reserve(self, n: int) -> None:
        if len(self._pool) < n:
            self._pool.extend(super().take(n - len(self._pool)))

    def take(self, n: int) -> list[int]:
        if len(self._pool) < n:
            raise AssertionError(f"{n} ids wanted, {len(self._pool)} reserved")
        ids, self._pool = self._pool[:n], self._pool[n:]
        return ids


class _CopyStream:
    """COPY texts written by a background thread on the import's own connection, so the server
    loads one batch while this process parses and formats the next (psycopg releases the GIL
    while it waits for the server). The psycopg connection's lock serialises the thread's COPY with the main
    thread's queries (the duplicate check, the id reservation), all in the one transaction. The
    duplicate check `sync`s first, so at most one batch is in flight and one more made ahead
    (`_CopyWriter.prepare`: memory stays bounded), and a
    failed COPY is raised in the main thread as itself (at `sync`, `send` or `drain`), so the
    transaction rolls back."""

    def __init__(self):
        connection.ensure_connection()
        self._raw = connection.connection  # the psycopg connection under Django's wrapper
        self._queue: queue.Queue = queue.Queue(maxsize=6)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="import-copy", daemon=True)

    def __enter__(self) -> _CopyStream:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.drain(raise_error=exc[0] is None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                sql, text = item
                try:
                    with self._raw.cursor() as cursor, cursor.copy(sql) as copy:
                        copy.write(text)
                except BaseException as exc:  # noqa: BLE001 — handed to the main thread
                    self._error = exc
            self._queue.task_done()
        self._queue.task_done()

    def sync(self) -> None:
        """Wait until every COPY sent so far has run; raise the error of one that failed."""
        self._queue.join()
        self._raise()

    def send(self, sql: str, text: str) -> None:
        self._raise()
        self._queue.put((sql, text))

    def drain(self, raise_error: bool = True) -> None:
        """Wait until every COPY sent has run (and stop the thread)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if raise_error:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            with connection.wrap_database_errors:  # psycopg's error as Django's (IntegrityError…)
                raise error


def tracking_codes(n: int) -> list[str]:
    """`n` random tracking codes like `models.new_tracking_code` (10 characters of its alphabet,
    from the OS's random source), made in bulk: bytes below 248 (8 × 31) map evenly onto the 31
    characters, the others are drawn again."""
    size, alphabet = 10, TRACKING_ALPHABET
    limit = len(alphabet) * (256 // len(alphabet))
    chars: list[str] = []
    while len(chars) < n * size:
        chars.extend(alphabet[b % len(alphabet)] for b in secrets.token_bytes(n * size + 16) if b < limit)
    return ["".join(chars[i : i + size]) for i in range(0, n * size, size)]


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
