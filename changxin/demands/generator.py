"""A realistic data set of demands for benchmarks and demos at scale (`changxin generate`).

    changxin generate --demands 1000000 --months 12 [--corpus ../shared/data/messages_train.csv] [--seed 1]

What it writes, on Fengtai's real units (the divisions, departments and the centre as
`load_divisions()` creates them; loaded first when missing, like the category tree):

- demands received over the `months` months before `--end` (default now), by weekday and hour as
  a hotline receives them (busy Monday mornings, quiet nights and Sundays); channel, type, urgency
  and requester mixes; the street, community and an address; coordinates near the street;
- categories and texts: with `--corpus` (a CSV with `title` and `content` columns, e.g. the real
  message corpus in ../shared/data, read by path, never copied into the repository) the texts are
  the corpus's messages and the category mix follows its `label` column (a first-level category;
  a level-3 category under it is drawn); without it, built-in templates;
- each demand's lifecycle as the transition service writes it (`services.transition`): receive,
  answer at intake or dispatch (deadlines from the DeadlinePolicy table on the work calendar, as
  `deadlines.compute`), disputes (upheld → redispatch to another unit, or rejected), acknowledge,
  contact (mostly on time, some late, some never), start, extension requests (approved → the
  finish deadline moves; denied), co-units with their tasks (report in, complete), reply (on time
  or late), return visit (resolution, satisfaction; unreachable → unrated after the attempts),
  excluded ratings, archive; a few duplicates merged into an earlier demand. Steps after `end` are
  not written: recent demands are still open, in whatever state they reached.
- the rows: Demand (its fields as the last step left them, `version` = steps taken), DemandTask
  (lead and co-unit tasks, withdrawn on redispatch) and DemandEvent (one per step, `data` built
  with the same keys as `demands/events.py` payloads, plus `"generated": true`; actor_name
  "generator"; no actor account).

Speed: rows are built as plain tuples. On PostgreSQL they are written with COPY (psycopg3
`cursor.copy`) with ids reserved from the tables' sequences, so a million demands and their
~8 million events take minutes; on SQLite with executemany. The whole run is one transaction
(all or nothing). Deterministic: the same seed, end, size, corpus and database content give the
same rows (ids apart, which the database assigns).

Published events: generated events are history and are not published (no delivery job per
event). They hold no actor, so no subscriber has anything to do with them: the points ledger
(`pioneers.points`, start="beginning") credits members only for events an account acted on, and
notifications/triage (start="now") must not act on history. So after writing, every subscriber
cursor that had handled everything before the generated range is moved past it (on PostgreSQL
the event table is locked against other writers during the run, so the range holds generated
events only); a cursor still behind is left alone and catch-up hands it the events, harmlessly.
See docs/GENERATE.md.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from changxin.core.models import OrgUnit, UnitKind
from changxin.core.roles import COMMUNITY_KINDS, STREET_LEVEL_KINDS
from changxin.core.workcalendar import WorkCalendar
from changxin.demands import deadlines
from changxin.demands.models import (
    TRACKING_ALPHABET,
    Category,
    Channel,
    Demand,
    DemandEvent,
    DemandTask,
    DemandType,
    DisputeReason,
    ExtensionState,
    RequesterKind,
    Resolution,
    Satisfaction,
    State,
    TaskRole,
    TaskState,
    TimeUnit,
    Urgency,
)
from changxin.demands.selectors import unscoped_demands

MAX_DEMANDS = 50_000_000
MAX_MONTHS = 120
BULK_THRESHOLD = 50_000
ACTOR_NAME = "generator"
GENERATED_ONLY = '{"generated": true}'  # the data of an event whose payload is empty
CORPUS_MAX_ROWS = 200_000  # texts held in memory at most (a larger corpus is sampled)


class GeneratorError(ValueError):
    """A bad argument or a database the generator cannot write to; the message says which."""


@dataclass
class Options:
    demands: int
    months: int = 12
    seed: int = 1
    corpus: Path | None = None
    end: dt.datetime | None = None
    batch_size: int = 5000
    # PostgreSQL: drop and re-create the secondary indexes and foreign keys around the load
    # (None: when generating at least BULK_THRESHOLD demands)
    bulk: bool | None = None

    def check(self) -> None:
        if not isinstance(self.demands, int) or not 1 <= self.demands <= MAX_DEMANDS:
            raise GeneratorError(f"--demands must be a whole number from 1 to {MAX_DEMANDS:,}")
        if not isinstance(self.months, int) or not 1 <= self.months <= MAX_MONTHS:
            raise GeneratorError(f"--months must be a whole number from 1 to {MAX_MONTHS}")
        if not isinstance(self.seed, int) or not 0 <= self.seed <= 999_999:
            raise GeneratorError("--seed must be a whole number from 0 to 999999")
        if self.corpus is not None and not Path(self.corpus).is_file():
            raise GeneratorError(f"--corpus: no such file: {self.corpus}")
        if self.batch_size < 1:
            raise GeneratorError("batch size must be positive")


@dataclass
class Summary:
    demands: int = 0
    events: int = 0
    tasks: int = 0
    open: int = 0
    first_number: str = ""
    cursors_moved: list[str] = field(default_factory=list)
    # seconds: write (building and COPY), build_wait (of the writer for the builders), copy, and on a
    # bulk load indexes, unique, foreign_keys (their re-creation)
    timings: dict[str, float] = field(default_factory=dict)


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # the C encoder, built once


def _json(data: dict) -> str:
    """json.dumps(data, ensure_ascii=False) for the flat payloads: the json module's C encoder built
    once (json.dumps with a non-default argument builds a new encoder per call, and a hand-written
    encoder in Python cost more than the rest of an event's row)."""
    return _ENCODE(data)


# --- the mixes ------------------------------------------------------------------------------------

CHANNELS = [
    (Channel.HOTLINE, 70),
    (Channel.MINI_PROGRAM, 12),
    (Channel.WEB, 7),
    (Channel.ENTERPRISE_PORTAL, 3),
    (Channel.PROACTIVE, 3),
    (Channel.LEADER_MAILBOX, 2),
    (Channel.MEDIA, 1),
    (Channel.OPEN311, 1),
    (Channel.API, 1),
]
TYPES = [
    (DemandType.COMPLAINT, 36),
    (DemandType.HELP, 30),
    (DemandType.CONSULT, 18),
    (DemandType.SUGGESTION, 7),
    (DemandType.REPORT, 6),
    (DemandType.PRAISE, 3),
]
URGENCIES = [(Urgency.NORMAL, 96), (Urgency.URGENT, 3), (Urgency.UTILITY, 1)]
KINDS = [(RequesterKind.PERSON, 85), (RequesterKind.ENTERPRISE, 8), (RequesterKind.ANONYMOUS, 7)]
RESOLUTIONS = [(Resolution.RESOLVED, 72), (Resolution.PARTLY, 16), (Resolution.UNRESOLVED, 12)]
SATISFACTIONS = [(Satisfaction.SATISFIED, 68), (Satisfaction.BASIC, 20), (Satisfaction.DISSATISFIED, 12)]
# receipt by weekday (Monday first) and hour of day, as a hotline sees it
WEEKDAY_WEIGHTS = [1.25, 1.1, 1.05, 1.0, 1.0, 0.7, 0.6]
HOUR_WEIGHTS = [
    0.4, 0.25, 0.15, 0.1, 0.1, 0.2, 0.6, 2.0, 4.5, 6.5, 6.8, 6.0,
    4.2, 4.8, 5.8, 6.0, 5.6, 4.6, 3.6, 3.4, 3.2, 2.6, 1.6, 0.8,
]  # fmt: skip

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
TEMPLATES = [
    (
        "噪音污染",
        "夜间施工噪音扰民",
        "附近工地晚上十点以后还在施工，噪音很大，老人孩子休息不好，希望有关部门管一管。",
    ),
    ("小区管理", "小区停车位紧张", "小区内车位不够，外来车辆随意停放，消防通道经常被堵。"),
    ("冬季采暖", "家中暖气不热", "供暖开始后家里暖气一直不热，室温只有十五度左右，联系物业没有结果。"),
    ("环境卫生", "垃圾桶站满溢", "楼下垃圾桶站每天下午就满了，清运不及时，气味很大。"),
    ("城管执法", "占道经营", "路口早晚有商贩占道摆摊，行人只能走机动车道，存在安全隐患。"),
    ("特种设备管理", "老旧小区电梯故障", "楼里电梯这周坏了三次，楼上有行动不便的老人，希望尽快维修。"),
    ("物业服务", "物业费收取问题", "物业今年上调物业费但没有公示，服务也没有改善。"),
    ("自来水供应", "突然停水", "今天早上开始停水，没有提前通知，想知道什么时候恢复供水。"),
    ("城市公共设施", "路灯不亮", "小区外道路的路灯坏了一个多月，晚上出行不安全。"),
    ("工资发放", "拖欠工资", "在一家装修公司干了三个月，老板一直拖欠工资不给。"),
    ("招生录取", "入学政策咨询", "孩子今年上小学，想咨询非京籍入学需要哪些材料。"),
    ("城镇居民医疗保险", "医保报销咨询", "想咨询门诊费用医保报销比例和起付线。"),
    ("道路交通", "路口信号灯时间过短", "路口行人绿灯时间太短，老人过马路来不及。"),
    ("园林绿化", "树木遮挡窗户", "楼前的树长得太高，遮挡了低层住户的采光，希望修剪。"),
    ("供电", "小区频繁停电", "这个月小区已经停电三次，冰箱里的东西都坏了。"),
    ("燃气", "燃气费用异常", "这个月燃气费比平时高了很多，怀疑表计有问题。"),
]
REPLIES = [
    "已联系诉求人，现场核实后督促责任单位整改，问题已解决。",
    "经协调，相关单位已完成维修，诉求人表示认可。",
    "已向诉求人解释相关政策，并告知办理渠道和所需材料。",
    "已约谈物业公司，要求按规定公示收费标准，持续跟进。",
    "已安排执法人员现场检查，责令整改，后续加强巡查。",
    "经核实，该问题需纳入年度计划统筹解决，已向诉求人说明。",
]
INTAKE_ANSWERS = ["已向来电人解答相关政策。", "已告知办理流程和咨询电话。"]
ROADS = [
    "丰台路",
    "南三环西路",
    "西四环南路",
    "万丰路",
    "看丹路",
    "京开路",
    "马家堡路",
    "角门路",
    "方庄路",
    "丰葆路",
]
# Fengtai's rough extent (for coordinates near each street)
LAT_RANGE, LNG_RANGE = (39.78, 39.90), (116.10, 116.45)


def _cumulative(pairs) -> tuple[list, list[float]]:
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


class _Picker:
    """Weighted choice with precomputed cumulative weights (random.choices in a tight loop is slow),
    drawing from `owner.rng` (the generator's stream of the batch)."""

    def __init__(self, owner, pairs):
        self.owner = owner
        self.values, self.cum = _cumulative(pairs)
        self.total = self.cum[-1]

    def __call__(self):
        return self.values[bisect.bisect_right(self.cum, self.owner.rng.random() * self.total)]


# --- the reference data -----------------------------------------------------------------------------


@dataclass
class _Text:
    title: str
    content: str
    label: str = ""  # a first-level category name (corpus) or a level-3 name (templates)


def read_corpus(path: Path, rng: random.Random) -> list[_Text]:
    """Titles, contents and labels from a CSV with `title` and `content` (optional `label`, used for
    the category mix). Rows without text are skipped; at most CORPUS_MAX_ROWS are kept (a uniform
    sample of a larger file)."""
    kept: list[_Text] = []
    seen = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"title", "content"} <= set(reader.fieldnames):
                raise GeneratorError(
                    f"--corpus {path}: needs the columns title and content (and optionally label)"
                )
            for row in reader:
                title = re.sub(r"\s+", " ", (row.get("title") or "")).strip()
                content = (row.get("content") or "").strip() or title
                if not title or not content:
                    continue
                item = _Text(title[:120], content[:5000], (row.get("label") or "").strip())
                seen += 1
                if len(kept) < CORPUS_MAX_ROWS:
                    kept.append(item)
                else:
                    slot = rng.randrange(seen)
                    if slot < CORPUS_MAX_ROWS:
                        kept[slot] = item
    except UnicodeDecodeError as exc:
        raise GeneratorError(f"--corpus {path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise GeneratorError(f"--corpus {path}: not a readable CSV ({exc})") from None
    if not kept:
        raise GeneratorError(f"--corpus {path}: no rows with a title and content")
    return kept


class _Reference:
    """Units, categories and texts, loaded once."""

    def __init__(self, options: Options, rng: random.Random):
        from changxin.core.divisions import load_divisions
        from changxin.demands.taxonomy import load_taxonomy

        if not OrgUnit.objects.filter(kind__in=STREET_LEVEL_KINDS).exists():
            load_divisions()
        if not Category.objects.filter(level=3).exists():
            load_taxonomy()
        units = list(OrgUnit.objects.filter(is_active=True).only("id", "code", "name", "kind", "parent_id"))
        self.streets = [u for u in units if u.kind in STREET_LEVEL_KINDS]
        self.departments = [u for u in units if u.kind == UnitKind.DEPARTMENT]
        self.companies = [u for u in units if u.kind == UnitKind.COMPANY]
        self.centre = next((u for u in units if u.kind == UnitKind.CENTRE), None)
        if not self.streets or not self.departments:
            raise GeneratorError(
                "no streets/towns or departments in the database: run `changxin migrate` first"
            )
        communities: dict[int, list[OrgUnit]] = {}
        for u in units:
            if u.kind in COMMUNITY_KINDS:
                communities.setdefault(u.parent_id, []).append(u)
        self.communities = {
            s.pk: sorted(communities.get(s.pk, []), key=lambda u: u.code) for s in self.streets
        }
        self.streets.sort(key=lambda u: u.code)
        self.departments.sort(key=lambda u: u.code)
        self.companies.sort(key=lambda u: u.code)
        # busy and quiet streets; each street's rough centre
        self.street_weights = [rng.uniform(0.4, 3.0) for _ in self.streets]
        self.street_centre = {s.pk: (rng.uniform(*LAT_RANGE), rng.uniform(*LNG_RANGE)) for s in self.streets}
        categories = list(Category.objects.filter(is_active=True).only("id", "name", "level", "parent_id"))
        by_id = {c.pk: c for c in categories}
        self.level3 = sorted((c for c in categories if c.level == 3), key=lambda c: c.pk)
        self.level3_by_name = {c.name: c for c in self.level3}
        self.level3_by_top: dict[str, list[Category]] = {}
        for c in self.level3:
            top = c
            while top.parent_id:
                top = by_id[top.parent_id]
            self.level3_by_top.setdefault(top.name, []).append(c)
        self.texts = read_corpus(Path(options.corpus), rng) if options.corpus else None


class _WorkClock:
    """`WorkCalendar.add_working_time` for many starts: working time as an ordinal (microseconds of
    office time since the first day), so adding is a subtraction and a bisection instead of a
    walk over the days. Same answers (the earliest moment the working time is reached), checked
    against `deadlines.compute` in the tests."""

    def __init__(self, calendar: WorkCalendar, first: dt.date, last: dt.date):
        from changxin.core.workcalendar import office_periods

        self.calendar = calendar
        self.tz = calendar.tz
        self.periods = [
            ((a.hour * 60 + a.minute) * 60_000_000, (b.hour * 60 + b.minute) * 60_000_000)
            for a, b in office_periods()
        ]
        self.day_length = sum(b - a for a, b in self.periods)
        self.first = first
        self.days: list[dt.date] = []
        self.starts: list[int] = []  # office time before each day
        self.ends: list[int] = []
        total = 0
        day = first
        while day <= last:
            self.days.append(day)
            self.starts.append(total)
            if calendar.is_workday(day):
                total += self.day_length
            self.ends.append(total)
            day += DAY

    def ordinal(self, moment: dt.datetime) -> int:
        local = moment.astimezone(self.tz)
        index = (local.date() - self.first).days
        base = self.starts[index]
        if self.ends[index] == base:
            return base
        t = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
        for a, b in self.periods:  # (a loop, not sum() over a generator: called per deadline)
            if t <= a:
                break
            base += (t if t < b else b) - a
        return base

    def moment(self, ordinal: int) -> dt.datetime:
        index = bisect.bisect_left(self.ends, ordinal)
        rest = ordinal - self.starts[index]
        for a, b in self.periods:
            if rest <= b - a:
                micro = a + rest
                break
            rest -= b - a
        return dt.datetime.combine(self.days[index], dt.time.min, self.tz) + dt.timedelta(microseconds=micro)

    def add(self, start: dt.datetime, *, days: float = 0, hours: float = 0) -> tuple[dt.datetime, bool]:
        amount = round(days * self.day_length + hours * 3_600_000_000)
        if amount <= 0 or not self.first < start.astimezone(self.tz).date() < self.days[-1] - dt.timedelta(
            days=400
        ):
            answer = self.calendar.add_working_time(start, days=days, hours=hours)
            return answer.value, answer.is_estimate
        value = self.moment(self.ordinal(start) + amount)
        known = self.calendar.known_years
        estimated = any(y not in known for y in range(start.astimezone(self.tz).year, value.year + 1))
        return value, estimated


# --- ids --------------------------------------------------------------------------------------------


class _Ids:
    """Reserves primary keys before the rows are written (the events name their tasks)."""

    def __init__(self, model):
        self.table = model._meta.db_table
        self.postgres = connection.vendor == "postgresql"
        self.next = None

    def take(self, n: int) -> list[int]:
        if n == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, n],
                )
                return [r[0] for r in cursor.fetchall()]
            if self.next is None:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{self.table}"')  # noqa: S608
                self.next = cursor.fetchone()[0] + 1
        ids = list(range(self.next, self.next + n))
        self.next += n
        return ids


# --- writing ----------------------------------------------------------------------------------------


class _Table:
    """One table's columns (every concrete field but those given by the database) and defaults."""

    def __init__(self, model, *, with_id: bool):
        fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.model = model
        self.fields = fields
        self.columns = [f.column for f in fields]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.defaults = []
        for f in fields:
            if f.primary_key:
                self.defaults.append(None)
                continue
            value = f.get_default() if f.has_default() else (None if f.null else "")
            if f.get_internal_type() == "JSONField":
                value = json.dumps(value, ensure_ascii=False)
            self.defaults.append(value)
        self.datetimes = [i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"]
        self.decimals = [i for i, f in enumerate(fields) if f.get_internal_type() == "DecimalField"]

    def row(self) -> list:
        return list(self.defaults)


class _Writer:
    def __init__(self, table: _Table):
        self.table = table
        ops = connection.ops
        self.postgres = connection.vendor == "postgresql"
        self.format = compile_formatter(table)
        self.copy_sql = "COPY {} ({}) FROM STDIN".format(
            ops.quote_name(table.model._meta.db_table), ", ".join(ops.quote_name(c) for c in table.columns)
        )
        self.insert_sql = "INSERT INTO {} ({}) VALUES ({})".format(
            ops.quote_name(table.model._meta.db_table),
            ", ".join(ops.quote_name(c) for c in table.columns),
            ", ".join(["%s"] * len(table.columns)),
        )

    def write_text(self, text: str) -> None:
        if text:
            with connection.cursor() as cursor, cursor.cursor.copy(self.copy_sql) as copy:
                copy.write(text)

    def write(self, rows: list[list]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                raw = cursor.cursor  # the psycopg cursor under Django's wrapper
                with raw.copy(self.copy_sql) as copy:
                    copy.write("".join(map(self.format, rows)))
                return
            ops = connection.ops
            for row in rows:
                for i in self.table.datetimes:
                    if row[i] is not None:
                        row[i] = ops.adapt_datetimefield_value(row[i])
                for i in self.table.decimals:
                    if row[i] is not None:
                        row[i] = str(row[i])
            cursor.executemany(self.insert_sql, rows)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_SPECIAL = re.compile(r"[\\\\\t\n\r]").search


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def copy_text(rows: list[list]) -> str:
    """Rows in PostgreSQL's COPY text format (tab-separated, \\N for NULL, escaped text)."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows)


def compile_formatter(table: _Table) -> Callable[[list], str]:
    """A function formatting one row of `table` as a COPY text line, with each column's conversion
    inlined (the generic `copy_text` calls a function per value; this is ~3x faster). The text
    columns of a row are checked for characters COPY must escape in one search over them all; a row
    without any (nearly all) is joined as is, one with some takes the escaping path."""
    plain, escaped, texts = [], [], []
    for i, f in enumerate(table.fields):
        kind = f.get_internal_type()
        v = f"r[{i}]"
        if kind in ("DateTimeField",):
            expr = f"('\\\\N' if {v} is None else {v}.isoformat())"
        elif kind == "BooleanField" and not f.null:
            expr = f"('t' if {v} else 'f')"
        elif kind == "BooleanField":
            expr = f"('\\\\N' if {v} is None else 't' if {v} else 'f')"
        elif kind in ("CharField", "TextField", "JSONField"):
            texts.append(v)
            plain.append(f"('\\\\N' if {v} is None else {v})")
            escaped.append(f"('\\\\N' if {v} is None else _escape({v}))")
            continue
        else:
            expr = f"('\\\\N' if {v} is None else str({v}))"
        plain.append(expr)
        escaped.append(expr)
    code = "def fmt(r):\n"
    if texts:
        code += "    if _special(f'" + "".join("{" + v + "}" for v in texts) + "'):\n"
        code += "        return " + " + '\\t' + ".join(escaped) + " + '\\n'\n"
    code += "    return " + " + '\\t' + ".join(plain) + " + '\\n'\n"
    namespace = {"_special": _SPECIAL, "_escape": _escape}
    exec(compile(code, f"<copy formatter {table.model._meta.db_table}>", "exec"), namespace)  # noqa: S102
    return namespace["fmt"]


@contextmanager
def bulk_load(models, timings: dict | None = None) -> Iterator[None]:
    """PostgreSQL: drop the tables' secondary indexes, unique constraints and foreign keys for a big
    load in the current transaction, and create them again afterwards (one sort per index and one
    join per key instead of maintaining them row by row; a duplicate or a dangling key fails the
    re-creation, so the transaction). Primary keys stay, and unique constraints that a foreign key of
    another table relies on. The tables are locked (ACCESS EXCLUSIVE) until the transaction ends.
    `timings` receives the seconds the re-creation took (indexes, unique, foreign_keys)."""
    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid)
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
                WHERE c.relname = ANY(%s) AND NOT x.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)""",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
                 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                WHERE c.relname = ANY(%s) AND k.contype = 'f'""",
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            """SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
                 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                WHERE c.relname = ANY(%s) AND k.contype = 'u'
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint f JOIN pg_class fc ON fc.oid = f.conrelid
                                   WHERE f.contype = 'f' AND f.conindid = k.conindid
                                     AND fc.relname <> ALL(%s))""",
            [tables, tables],
        )
        uniques = cursor.fetchall()
        qn = connection.ops.quote_name
        for table, name, _definition in keys + uniques:
            cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        for _table, name, _definition in indexes:
            cursor.execute(f"DROP INDEX {qn(name)}")
    yield
    timings = timings if timings is not None else {}
    with connection.cursor() as cursor:
        # one sort in memory per index (a million demands' events sort in well under 1 GB), and the
        # parallel maintenance workers the server allows (at least 2: the builders are idle by now)
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute(
            "SELECT set_config('max_parallel_maintenance_workers',"
            " greatest(current_setting('max_parallel_maintenance_workers')::int, 2)::text, true)"
        )
        started = time.perf_counter()
        for _table, _name, definition in indexes:
            cursor.execute(definition)
        timings["indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        for table, name, definition in uniques:
            cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
        timings["unique"] = time.perf_counter() - started
        started = time.perf_counter()
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
        timings["foreign_keys"] = time.perf_counter() - started


def _row_maker(table: _Table, params: list[str], **constants) -> Callable[..., list]:
    """A function taking `params` (attnames) and returning a row of `table` in column order, the
    other columns at `constants` or their defaults (one list display instead of copying the
    defaults and setting each column by its index)."""
    values = {}
    items = []
    for i, f in enumerate(table.fields):
        if f.attname in params:
            items.append(f.attname)
        else:
            values[f"_c{i}"] = constants.get(f.attname, table.defaults[i])
            items.append(f"_c{i}")
    code = f"def make({', '.join(params)}):\n    return [{', '.join(items)}]\n"
    exec(compile(code, f"<row maker {table.model._meta.db_table}>", "exec"), values)  # noqa: S102
    return values["make"]


# --- the generator ----------------------------------------------------------------------------------

WEEK = dt.timedelta(days=7)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


class Generator:
    def __init__(self, options: Options, *, progress: Callable[[int], None] | None = None, workers: int = 1):
        options.check()
        self.workers = workers
        self.options = options
        self.progress = progress
        self.rng = random.Random(options.seed)
        self.summary = Summary()
        self.timings = self.summary.timings
        self.timings.update(build_wait=0.0, copy=0.0)

    # -- set-up --

    def _setup(self) -> None:
        rng = self.rng
        self.calendar = WorkCalendar.from_database()
        self.tz = self.calendar.tz
        end = self.options.end or timezone.now()
        self.now = end.astimezone(self.tz)
        first = (self.now.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        for _ in range(self.options.months - 1):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        # the span: `months` whole months before the end's month, plus the end's month so far
        self.start = dt.datetime.combine(first, dt.time.min, self.tz)
        self._seed_calendar()
        self.clock = _WorkClock(
            self.calendar, self.start.date() - DAY, self.now.date() + dt.timedelta(days=800)
        )
        self.ref = _Reference(self.options, rng)
        self.pick_channel = _Picker(self, CHANNELS)
        self.pick_type = _Picker(self, TYPES)
        self.pick_urgency = _Picker(self, URGENCIES)
        self.pick_kind = _Picker(self, KINDS)
        self.pick_resolution = _Picker(self, RESOLUTIONS)
        self.pick_satisfaction = _Picker(self, SATISFACTIONS)
        self.pick_street = _Picker(self, list(zip(self.ref.streets, self.ref.street_weights, strict=True)))
        # receipt slots: every hour of the span, weighted by weekday and hour
        hours = int((self.now - self.start).total_seconds() // 3600) + 1
        slots = []
        for h in range(hours):
            moment = self.start + dt.timedelta(hours=h)
            weight = WEEKDAY_WEIGHTS[moment.weekday()] * HOUR_WEIGHTS[moment.hour]
            if not self.calendar.is_workday(moment.date()) and moment.weekday() < 5:
                weight *= 0.7  # a holiday
            slots.append((h, weight))
        self.pick_hour = _Picker(self, slots)
        if self.ref.texts:
            labels = {t.label for t in self.ref.texts}
            self.label_categories = {
                label: self.ref.level3_by_top.get(label) or self.ref.level3 for label in labels
            }
        self.policies: dict[tuple[str, str], object] = {}
        self.max_extension: dict[tuple[str, str], int] = {}
        self.number_prefix = f"G{self.options.seed}-"
        if unscoped_demands().filter(number__startswith=self.number_prefix).exists():
            raise GeneratorError(
                f"demands generated with seed {self.options.seed} are already in this database "
                f"(numbers {self.number_prefix}…); use another --seed"
            )
        self.demands = _Table(Demand, with_id=True)
        self.tasks = _Table(DemandTask, with_id=True)
        self.events = _Table(DemandEvent, with_id=False)
        self.demand_ids, self.task_ids = _Ids(Demand), _Ids(DemandTask)
        self.writers = [_Writer(self.demands), _Writer(self.tasks), _Writer(self.events)]
        self.make_event = _row_maker(
            self.events,
            [
                "demand_id",
                "at",
                "actor_unit_id",
                "action",
                "from_state",
                "to_state",
                "note",
                "data",
                "automatic",
            ],
            actor_name=ACTOR_NAME,
        )

    def _seed_calendar(self) -> None:
        """Load the official schedule of the span's years when the calendar lacks them (the package
        knows them up to its release), so deadlines count real holidays."""
        from changxin.core.workcalendar import seed_from_chinese_calendar

        years = set(range(self.start.year, self.now.year + 2)) - set(self.calendar.known_years)
        if years and seed_from_chinese_calendar(sorted(years)):
            self.calendar = WorkCalendar.from_database()
            self.tz = self.calendar.tz

    # -- deadlines --

    def _policy(self, demand_type: str, urgency: str):
        key = (demand_type, urgency)
        policy = self.policies.get(key)
        if policy is None:
            policy = self.policies[key] = deadlines.policy_for(demand_type, urgency)
            base = float(policy.finish_amount) if policy.finish_unit == TimeUnit.WORKING_DAYS else 0
            self.max_extension[key] = max(1, int(policy.max_extension_days - base))
        return policy

    def _add(self, start: dt.datetime, amount, unit: str) -> tuple[dt.datetime, bool]:
        amount = float(amount)
        if unit == TimeUnit.CLOCK_HOURS:
            return start + dt.timedelta(hours=amount), False
        if unit == TimeUnit.WORKING_HOURS:
            return self.clock.add(start, hours=amount)
        return self.clock.add(start, days=amount)

    def _deadlines(self, demand_type: str, urgency: str, start: dt.datetime):
        policy = self._policy(demand_type, urgency)
        contact, e1 = self._add(start, policy.contact_amount, policy.contact_unit)
        finish, e2 = self._add(start, policy.finish_amount, policy.finish_unit)
        return contact, max(finish, contact), e1 or e2

    def _office(self, moment: dt.datetime, delay_minutes: float) -> dt.datetime:
        """`delay_minutes` after `moment`, moved into the next office hours when outside them."""
        at = moment + dt.timedelta(minutes=delay_minutes)
        local = at.astimezone(self.tz)
        if self.calendar.is_workday(local.date()) and 9 <= local.hour < 17:
            return at
        day = local.date() + (DAY if local.hour >= 17 else dt.timedelta(0))
        while not self.calendar.is_workday(day):
            day += DAY
        return dt.datetime.combine(day, dt.time(9), self.tz) + dt.timedelta(minutes=self.rng.uniform(0, 90))

    # -- one demand --

    def _tracking_code(self, i: int) -> str:
        # a bijection of the run's counter onto 10 characters: unique within a run, deterministic
        n = ((self.options.seed * 7_919_104_729 + i) * 2_654_435_761) % (31**10)
        chars = []
        for _ in range(10):
            n, r = divmod(n, 31)
            chars.append(TRACKING_ALPHABET[r])
        return "".join(chars)

    def _demand(
        self, i: int, demand_id: int, task_ids: list[int], masters: list[tuple[int, str, dt.datetime]]
    ):
        """The rows of one demand: (demand row, [task rows], [event rows]). See the module docstring."""
        rng, ref, D, T = self.rng, self.ref, self.demands, self.tasks
        di = D.index
        d = D.row()
        received = (
            self.start + dt.timedelta(hours=self.pick_hour()) + dt.timedelta(seconds=rng.randrange(3600))
        )
        if received > self.now:
            received = self.now - dt.timedelta(seconds=rng.randrange(1, 3600))
        demand_type = self.pick_type()
        urgency = self.pick_urgency()
        channel = self.pick_channel()
        kind = self.pick_kind()
        street = self.pick_street()
        communities = ref.communities[street.id]
        community = communities[rng.randrange(len(communities))] if communities else None
        if ref.texts:
            text = ref.texts[rng.randrange(len(ref.texts))]
            options = self.label_categories[text.label]
            category = options[rng.randrange(len(options))]
            title, content = text.title, text.content
        else:
            cat_name, title, content = TEMPLATES[rng.randrange(len(TEMPLATES))]
            category = ref.level3_by_name.get(cat_name) or ref.level3[rng.randrange(len(ref.level3))]
            place = community.name if community else street.name
            content = f"{place}居民反映：{content}"
        if kind == RequesterKind.ENTERPRISE:
            channel = Channel.ENTERPRISE_PORTAL if rng.random() < 0.5 else channel
        lat, lng = ref.street_centre[street.id]
        local = received.astimezone(self.tz)

        d[di["id"]] = demand_id
        d[di["number"]] = f"{self.number_prefix}{local:%y%m%d}{i:07d}"
        d[di["tracking_code"]] = self._tracking_code(i)
        d[di["channel"]] = channel
        d[di["demand_type"]] = demand_type
        d[di["urgency"]] = urgency
        d[di["title"]] = title
        d[di["content"]] = content
        d[di["category_id"]] = category.id if category else None
        d[di["requester_kind"]] = kind
        if kind != RequesterKind.ANONYMOUS:
            d[di["requester_name"]] = SURNAMES[rng.randrange(len(SURNAMES))] + (
                "先生" if rng.random() < 0.5 else "女士"
            )
            d[di["requester_phone"]] = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        if kind == RequesterKind.ENTERPRISE:
            d[di["enterprise_name"]] = (
                f"北京{street.name[:2]}{rng.choice(['科技', '商贸', '建设', '物流', '餐饮'])}有限公司"
            )
        d[di["address"]] = (
            f"北京市丰台区{street.name}{ROADS[rng.randrange(len(ROADS))]}{rng.randint(1, 300)}号"
        )
        d[di["street_id"]] = street.id
        d[di["community_id"]] = community.id if community else None
        d[di["latitude"]] = f"{lat + rng.uniform(-0.01, 0.01):.6f}"
        d[di["longitude"]] = f"{lng + rng.uniform(-0.012, 0.012):.6f}"
        d[di["received_at"]] = received
        d[di["updated_at"]] = self.now

        events: list[list] = []
        tasks: list[list] = []
        make_event = self.make_event
        state = ""
        now = self.now
        centre_id = ref.centre.id if ref.centre else None

        def step(at, action, to_state, data, note="", unit_id=None, automatic=False) -> bool:
            nonlocal state
            if at > now:
                return False
            if data:
                data["generated"] = True
                text = _json(data)
            else:
                text = GENERATED_ONLY
            new = to_state or state
            events.append(make_event(demand_id, at, unit_id, action, state, new, note, text, automatic))
            state = new
            return True

        def finish():
            d[di["state"]] = state
            d[di["version"]] = len(events) - 1
            closed = d[di["state"]] in (State.REPLIED, State.VISITED, State.ARCHIVED, State.MERGED)
            for t in tasks:
                if closed and t[ti["state"]] in (TaskState.PENDING, TaskState.ACKNOWLEDGED):
                    t[ti["state"]] = TaskState.WITHDRAWN
                    t[ti["withdrawn_at"]] = d[di["replied_at"]] or d[di["closed_at"]]
                    t[ti["withdraw_reason"]] = "The demand was closed."
            return d, tasks, events

        ti = T.index
        step(
            received,
            "receive",
            State.RECEIVED,
            {"channel": channel, "file": None, "line": None, "imported_at": None, "imported_by": None},
            automatic=False,
            unit_id=centre_id,
        )

        # a duplicate of an earlier demand of the same street, merged within the hour
        if masters and rng.random() < 0.01:
            master_id, master_number, master_at = masters[rng.randrange(len(masters))]
            at = received + dt.timedelta(minutes=rng.uniform(5, 60))
            if master_at <= received and step(
                at,
                "merge",
                State.MERGED,
                {"master": master_id, "master_number": master_number},
                note="重复诉求",
                unit_id=centre_id,
            ):
                d[di["master_id"]] = master_id
                d[di["closed_at"]] = at
            return finish()

        # answered at intake: a share of consultations
        if demand_type == DemandType.CONSULT and rng.random() < 0.3:
            at = received + dt.timedelta(minutes=rng.uniform(3, 20))
            note = INTAKE_ANSWERS[rng.randrange(len(INTAKE_ANSWERS))]
            if step(at, "answer", State.REPLIED, {}, note=note, unit_id=centre_id):
                d[di["reply"]], d[di["replied_at"]] = note, at
            return finish()

        def pick_lead(exclude=None):
            while True:
                roll = rng.random()
                if roll < 0.7:
                    unit = street
                    if exclude is not None and unit.id == exclude:
                        unit = self.pick_street()
                elif roll < 0.93 or not ref.companies:
                    unit = ref.departments[rng.randrange(len(ref.departments))]
                else:
                    unit = ref.companies[rng.randrange(len(ref.companies))]
                if exclude is None or unit.id != exclude:
                    return unit

        def assign(action, at, lead, co_units, extra) -> bool:
            contact_due, finish_due, estimated = self._deadlines(demand_type, urgency, at)
            data = {
                "lead_unit": lead.id,
                "lead_unit_name": lead.name,
                "co_units": [u.id for u in co_units],
                "contact_due": contact_due.isoformat(),
                "finish_due": finish_due.isoformat(),
                "deadline_estimated": estimated,
                "automatic": False,
                "reasons": [],
                **extra,
            }
            for t in tasks:  # a new round withdraws the open tasks of the last one
                if t[ti["state"]] in (TaskState.PENDING, TaskState.ACKNOWLEDGED):
                    t[ti["state"]] = TaskState.WITHDRAWN
                    t[ti["withdrawn_at"]] = at
                    t[ti["withdraw_reason"]] = "Re-assigned: a new round of handling began."
            if not step(at, action, State.DISPATCHED, data, unit_id=centre_id):
                return False
            d[di["lead_unit_id"]] = lead.id
            d[di["dispatched_at"]] = d[di["lead_assigned_at"]] = at  # (re-)dispatch: the 三率's round
            d[di["acknowledged_at"]] = d[di["contacted_at"]] = None
            d[di["lead_first_contact_at"]] = d[di["lead_first_contact_on_time"]] = None
            d[di["contact_due"]], d[di["finish_due"]], d[di["deadline_estimated"]] = (
                contact_due,
                finish_due,
                estimated,
            )
            for role, unit in [(TaskRole.LEAD, lead)] + [(TaskRole.CO, u) for u in co_units]:
                t = T.row()
                t[ti["id"]] = task_ids.pop()
                t[ti["demand_id"]] = demand_id
                t[ti["unit_id"]] = unit.id
                t[ti["role"]] = role
                t[ti["state"]] = TaskState.PENDING
                t[ti["assigned_at"]] = at
                t[ti["due_at"]] = finish_due
                tasks.append(t)
            return True

        lead = pick_lead()
        co_units = []
        if rng.random() < 0.08:
            co_units = [u for u in rng.sample(ref.departments, rng.randint(1, 2)) if u.id != lead.id]
        at = self._office(received, rng.uniform(5, 90))
        if not assign("dispatch", at, lead, co_units, {}):
            return finish()
        lead_task = tasks[-1 - len(co_units)]

        # dispute within the window: upheld (redispatch) or rejected
        if rng.random() < 0.04:
            at = at + dt.timedelta(minutes=rng.uniform(10, 110))
            reason = rng.choice([DisputeReason.NOT_OUR_DUTY, DisputeReason.WRONG_PLACE, DisputeReason.OTHER])
            if not step(
                at,
                "dispute",
                State.DISPUTED,
                {"reason": reason, "unit": lead.id, "clock": "running"},
                note="不属于本单位职责",
                unit_id=lead.id,
            ):
                return finish()
            at = self._office(at, rng.uniform(30, 240))
            if rng.random() < 0.6:
                previous = lead.id
                lead = pick_lead(exclude=previous)
                if not assign("redispatch", at, lead, [], {"dispute_upheld_for": previous}):
                    return finish()
                lead_task = tasks[-1]
                co_units = []
            else:
                if not step(
                    at,
                    "reject_dispute",
                    State.ACKNOWLEDGED,
                    {"dispute_rejected_for": lead.id},
                    note="经核实属于该单位职责",
                    unit_id=centre_id,
                ):
                    return finish()
                d[di["acknowledged_at"]] = at
                lead_task[ti["state"]], lead_task[ti["acknowledged_at"]] = TaskState.ACKNOWLEDGED, at

        if state == State.DISPATCHED:
            at = at + dt.timedelta(minutes=rng.uniform(5, 120))
            if not step(at, "acknowledge", State.ACKNOWLEDGED, {}, unit_id=lead.id):
                return finish()
            d[di["acknowledged_at"]] = at
            lead_task[ti["state"]], lead_task[ti["acknowledged_at"]] = TaskState.ACKNOWLEDGED, at

        # co-units report in and complete their tasks
        co_tasks = tasks[len(tasks) - len(co_units) :] if co_units else []

        contact_due = d[di["contact_due"]]
        roll = rng.random()
        if roll < 0.90:  # on time
            span = max((contact_due - at).total_seconds(), 60)
            contact_at = at + dt.timedelta(seconds=rng.uniform(0.05, 0.95) * span)
        elif roll < 0.97:  # late
            contact_at = contact_due + dt.timedelta(hours=rng.uniform(1, 30))
        else:
            contact_at = None  # never recorded
        if contact_at is not None:
            on_time = contact_at <= contact_due
            if not step(
                contact_at,
                "contact",
                State.CONTACTED,
                {"on_time": on_time, "unit": lead.id},
                note="已电话联系诉求人",
                unit_id=lead.id,
            ):
                return finish()
            d[di["contacted_at"]] = at = contact_at
            d[di["lead_first_contact_at"]], d[di["lead_first_contact_on_time"]] = contact_at, on_time
            if rng.random() < 0.6:
                at = at + dt.timedelta(hours=rng.uniform(0.5, 24))
                if not step(at, "start", State.IN_PROGRESS, {}, unit_id=lead.id):
                    return finish()

        for t in co_tasks:
            ack = at + dt.timedelta(hours=rng.uniform(0.5, 8))
            if not step(
                ack,
                "task_acknowledge",
                None,
                {"task": t[ti["id"]], "unit": t[ti["unit_id"]]},
                unit_id=t[ti["unit_id"]],
            ):
                return finish()
            t[ti["state"]], t[ti["acknowledged_at"]] = TaskState.ACKNOWLEDGED, ack
            at = max(at, ack)

        finish_due = d[di["finish_due"]]
        key = (demand_type, urgency)
        if rng.random() < 0.05 and urgency == Urgency.NORMAL:
            days = rng.randint(1, min(10, self.max_extension[key]))
            at = at + dt.timedelta(hours=rng.uniform(2, 48))
            if not step(
                at,
                "request_extension",
                None,
                {"days": days},
                note="需协调多个部门，申请延期",
                unit_id=lead.id,
            ):
                return finish()
            d[di["extension_state"]], d[di["extension_days"]] = ExtensionState.PENDING, days
            at = self._office(at, rng.uniform(30, 480))
            if rng.random() < 0.7:
                extended, estimated = self.clock.add(finish_due, days=days)
                if not step(
                    at,
                    "approve_extension",
                    None,
                    {"days": days, "finish_due": extended.isoformat()},
                    unit_id=centre_id,
                ):
                    return finish()
                d[di["finish_due"]] = finish_due = extended
                d[di["deadline_estimated"]] = d[di["deadline_estimated"]] or estimated
                d[di["extension_state"]] = ExtensionState.APPROVED
                lead_task[ti["due_at"]] = finish_due
            else:
                if not step(at, "deny_extension", None, {}, note="不符合延期条件", unit_id=centre_id):
                    return finish()
                d[di["extension_state"]] = ExtensionState.DENIED

        for t in co_tasks:
            done = max(at, t[ti["acknowledged_at"]]) + dt.timedelta(hours=rng.uniform(2, 72))
            if not step(
                done,
                "task_complete",
                None,
                {"task": t[ti["id"]], "unit": t[ti["unit_id"]], "on_time": done <= t[ti["due_at"]]},
                note="已配合完成",
                unit_id=t[ti["unit_id"]],
            ):
                return finish()
            t[ti["state"]], t[ti["done_at"]], t[ti["result_note"]] = TaskState.DONE, done, "已配合完成"
            at = max(at, done)

        span = max((finish_due - at).total_seconds(), 600)
        reply_at = at + dt.timedelta(seconds=rng.uniform(0.1, 0.97 if rng.random() < 0.9 else 1.6) * span)
        reply = REPLIES[rng.randrange(len(REPLIES))]
        if not step(
            reply_at, "reply", State.REPLIED, {"on_time": reply_at <= finish_due}, note=reply, unit_id=lead.id
        ):
            return finish()
        d[di["reply"]], d[di["replied_at"]] = reply, reply_at
        lead_task[ti["state"]], lead_task[ti["done_at"]], lead_task[ti["result_note"]] = (
            TaskState.DONE,
            reply_at,
            reply,
        )
        lead_task[ti["acknowledged_at"]] = lead_task[ti["acknowledged_at"]] or reply_at

        # return visit by the centre: unreachable after the attempts → unrated
        at = self._office(reply_at, rng.uniform(60, 2880))
        if rng.random() < 0.05:
            from django.conf import settings

            attempts = settings.CHANGXIN_VISIT_MAX_ATTEMPTS
            for attempt in range(1, attempts + 1):
                last = attempt == attempts
                if not step(
                    at,
                    "visit_attempt",
                    State.VISITED if last else None,
                    {"attempt": attempt},
                    note="电话无人接听",
                    unit_id=centre_id,
                ):
                    return finish()
                d[di["visit_attempts"]] = attempt
                if last:
                    d[di["satisfaction"]], d[di["visited_at"]] = Satisfaction.UNRATED, at
                at = self._office(at, rng.uniform(120, 1440))
        else:
            resolution, satisfaction = self.pick_resolution(), self.pick_satisfaction()
            if resolution == Resolution.UNRESOLVED and satisfaction == Satisfaction.SATISFIED:
                satisfaction = Satisfaction.BASIC
            if not step(
                at,
                "return_visit",
                State.VISITED,
                {"resolution": resolution, "satisfaction": satisfaction, "unit": lead.id},
                unit_id=centre_id,
            ):
                return finish()
            d[di["resolution"]], d[di["satisfaction"]], d[di["visited_at"]] = resolution, satisfaction, at
            d[di["visit_attempts"]] = 1
            if satisfaction == Satisfaction.DISSATISFIED and rng.random() < 0.1:
                at = at + dt.timedelta(hours=rng.uniform(2, 48))
                if not step(at, "exclude_rating", None, {}, note="诉求人要求不合理", unit_id=centre_id):
                    return finish()
                d[di["rating_excluded"]] = True
                d[di["rating_excluded_reason"]] = "诉求人要求不合理"
        at = at + dt.timedelta(days=rng.uniform(1, 5))
        if step(at, "archive", State.ARCHIVED, {}, unit_id=centre_id, automatic=True):
            d[di["closed_at"]] = at
        return finish()

    # -- the run --

    def run(self) -> Summary:
        self._setup()
        postgres = connection.vendor == "postgresql"
        self.pool = None
        if not (postgres and self.workers):
            return self._run()
        import multiprocessing

        from django.db import connections

        global _ACTIVE
        _ACTIVE = self
        # fork with no database connection open: the workers only build text, never touch a socket
        connections.close_all()
        try:
            with multiprocessing.get_context("fork").Pool(self.workers) as self.pool:
                return self._run()
        finally:
            _ACTIVE = None
            self.pool = None

    def _run(self) -> Summary:
        options, summary = self.options, self.summary
        postgres = connection.vendor == "postgresql"
        with transaction.atomic():
            with connection.cursor() as cursor:
                if postgres:
                    # no other writer in the event table while we write: the generated range is ours
                    cursor.execute("LOCK TABLE demands_demandevent IN EXCLUSIVE MODE")
                    cursor.execute("SET LOCAL synchronous_commit = off")
                first_event = DemandEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            bulk = options.bulk if options.bulk is not None else options.demands >= BULK_THRESHOLD
            with bulk_load([Demand, DemandTask, DemandEvent], self.timings) if bulk else nullcontext():
                started = time.perf_counter()
                self._write_all(summary)
                self.timings["write"] = time.perf_counter() - started
            last_event = DemandEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            summary.cursors_moved = settle_subscribers(first_event, last_event)
        return summary

    def _batch(
        self, number: int, first: int, size: int, demand_ids: list[int], task_ids: list[int], text: bool
    ):
        """Build one batch of demands (its own random stream: the same whatever process builds it).
        Returns (demands, tasks, events, counts): rows, or COPY text when `text`."""
        self.rng = random.Random(f"{self.options.seed}-{number}")
        task_ids = list(reversed(task_ids))
        masters: list[tuple[int, str, dt.datetime]] = []
        d_rows, t_rows, e_rows = [], [], []
        si, ni, ri = (self.demands.index[k] for k in ("state", "number", "received_at"))
        opened = 0
        for k in range(size):
            d, tasks, events = self._demand(first + k, demand_ids[k], task_ids, masters)
            d_rows.append(d)
            t_rows.extend(tasks)
            e_rows.extend(events)
            if d[si] in OPEN:
                opened += 1
            if k % 50 == 0 and d[si] != State.MERGED:
                masters.append((d[0], d[ni], d[ri]))
        counts = (len(d_rows), len(t_rows), len(e_rows), opened)
        if text:
            return tuple(
                "".join(map(w.format, rows))
                for w, rows in zip(self.writers, (d_rows, t_rows, e_rows), strict=False)
            ) + (counts,)
        return d_rows, t_rows, e_rows, counts

    def _write_all(self, summary: Summary) -> None:
        """Batches are built in a worker process on PostgreSQL (while this one streams the previous
        batch into COPY, so building and PostgreSQL work at the same time), in-process on SQLite."""
        options = self.options
        batches = []
        done = 0
        while done < options.demands:
            size = min(options.batch_size, options.demands - done)
            batches.append((len(batches), done, size))
            done += size
        summary.first_number = self.number_prefix

        def reserve(batch):
            number, first, size = batch
            # a round has at most 3 tasks, and few demands have two rounds: ids to spare are skipped
            return number, first, size, self.demand_ids.take(size), self.task_ids.take(size * 2 + 20)

        def account(result) -> None:
            *_, (n_demands, n_tasks, n_events, opened) = result
            summary.demands += n_demands
            summary.tasks += n_tasks
            summary.events += n_events
            summary.open += opened
            if self.progress is not None:
                self.progress(n_demands)

        if self.pool is None:
            for batch in batches:
                result = self._batch(*reserve(batch), text=False)
                for writer, rows in zip(self.writers, result[:3], strict=False):
                    writer.write(rows)
                account(result)
            return
        pending = []
        pool = self.pool
        if True:
            queue = iter(batches)
            for batch in queue:
                pending.append(pool.apply_async(_build_text, reserve(batch)))
                if len(pending) > self.workers + 1:
                    break
            while pending:
                waited = time.perf_counter()
                result = pending.pop(0).get()
                self.timings["build_wait"] += time.perf_counter() - waited
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_build_text, reserve(nxt)))
                writing = time.perf_counter()
                for writer, text in zip(self.writers, result[:3], strict=False):
                    writer.write_text(text)
                self.timings["copy"] += time.perf_counter() - writing
                account(result)


_ACTIVE: Generator | None = None
OPEN = frozenset(
    {State.RECEIVED, State.DISPATCHED, State.DISPUTED, State.ACKNOWLEDGED, State.CONTACTED, State.IN_PROGRESS}
)


def _build_text(number, first, size, demand_ids, task_ids):
    """In the worker process (forked with the generator set up): one batch as COPY text."""
    return _ACTIVE._batch(number, first, size, demand_ids, task_ids, text=True)


def settle_subscribers(before: int, after: int) -> list[str]:
    """Move every subscriber cursor that had handled everything up to `before` past the generated
    events (`before`, `after`]; create missing cursors there when the table held nothing before.
    Returns the names of the cursors moved or created. See the module docstring."""
    from changxin.core import events as bus
    from changxin.core.models import EventCursor

    moved = []
    if after <= before:
        return moved
    for sub in bus.subscribers("demands"):
        cursor = EventCursor.objects.filter(subscriber=sub.name).first()
        if cursor is None:
            if before == 0 or sub.start == "now":
                EventCursor.objects.create(subscriber=sub.name, stream=sub.stream, position=after)
                moved.append(sub.name)
            continue
        if cursor.position >= before:
            EventCursor.objects.filter(pk=cursor.pk).update(
                position=after, candidate=None, candidate_seen_at=None
            )
            moved.append(sub.name)
    return moved


def generate(options: Options, progress: Callable[[int], None] | None = None, workers: int = 1) -> Summary:
    """Generate; `workers` processes build the batches on PostgreSQL (0: in this process)."""
    return Generator(options, progress=progress, workers=workers).run()
