"""The COPY path of `import-demands` (PostgreSQL) writes exactly what the ORM path writes.

A ~200-row file with every kind of history (received only, answered at intake, dispatched,
acknowledged, contacted, in progress, replied, visited, archived; anonymous and enterprise
requesters; coordinates; texts with tabs, backslashes, newlines and quotes, which COPY's text
format must escape) is imported by each path in turn on PostgreSQL and compared field by field:
demands, their lead tasks and their events. The policy tests (every bad row by line with nothing
written, --keep-good, a second import of the same file) run on both databases, with the path the
database uses by default.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from changxin.core.models import AuditEntry
from changxin.core.tests.builders import divisions_and_calendar
from changxin.demands import importer as importer_module
from changxin.demands.importer import DemandImporter
from changxin.demands.models import Demand, DemandEvent, DemandTask
from changxin.demands.tests.test_import import HEADER_EN, row, write_csv

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY FROM STDIN is PostgreSQL's"
)
HEADER = HEADER_EN + ["visited_at", "state", "urgency", "requester_kind", "enterprise_name"]
HEADER += ["latitude", "longitude", "external_id"]
NOW = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)

# (street, community) pairs of Fengtai and units that lead
PLACES = [
    ("卢沟桥街道", "小瓦窑西里社区"),
    ("110106011", ""),
    ("", "小瓦窑西里社区"),
    ("", ""),
]
LEADS = ["卢沟桥街道", "区住建委", "区城管委", "110106D01"]
TEXTS = [
    "小区东侧工地每天夜里十一点后仍在施工，噪音很大，影响休息。",
    "楼下\t垃圾桶站\\满溢，气味很大。",  # a tab and a backslash: escaped in COPY text
    "第一行\n第二行\r\n第三行",  # newlines inside a cell
    '他说："暖气不热"，室温只有十五度。',
    "\\N 不是空值",  # COPY's NULL marker as text
]


def fixture_rows(n: int = 200, seed: int = 7) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = []
    start = dt.datetime(2024, 3, 1, 8, 0)
    for i in range(n):
        received = start + dt.timedelta(minutes=rnd.randint(0, 60 * 24 * 200))
        stage = i % 9  # 0 received … 8 archived with an explicit state
        street, community = PLACES[i % len(PLACES)]
        dispatched = received + dt.timedelta(minutes=rnd.randint(1, 600)) if stage >= 2 else None
        contacted = dispatched + dt.timedelta(hours=rnd.uniform(0.1, 60)) if stage >= 4 else None
        replied = None
        if stage == 1:
            replied = received + dt.timedelta(minutes=5)  # answered at intake
        elif stage >= 6:
            replied = (contacted or dispatched) + dt.timedelta(days=rnd.uniform(0.2, 12))
        visited = replied + dt.timedelta(days=1) if stage >= 7 and i % 2 else None

        def f(moment):
            return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""

        state = {3: "已签收", 5: "办理中", 8: "已回访" if i % 2 else "归档"}.get(stage, "")
        kind = ["个人", "企业", "匿名"][i % 3]
        values = {
            "received_at": f(received),
            "type": ["投诉", "求助", "咨询", "建议", "举报"][i % 5],
            "title": "" if i % 4 == 0 else f"标题{i}",
            "content": TEXTS[i % len(TEXTS)] + f"（{i}）",
            "channel": ["12345", "网站", "", "小程序"][i % 4],
            "category": ["噪音污染", "城乡建设/城市建设和市政管理/冬季采暖", ""][i % 3],
            "requester_name": f'王"{i}"',
            "phone": "13900001234" if i % 5 else "010-63812345",
            "address": f"丰台路{i}号\t3单元",
            "street": street,
            "community": community,
            "lead_unit": LEADS[i % len(LEADS)] if dispatched else "",
            "dispatched_at": f(dispatched),
            "contacted_at": f(contacted),
            "replied_at": f(replied),
            "reply": f"已处理\\完毕 {i}" if replied else "",
            "resolution": ["已解决", "部分解决", "未解决"][i % 3] if stage >= 7 else "",
            "satisfaction": ["满意", "基本满意", "不满意", "未评价"][i % 4] if stage >= 7 else "",
        }
        extra = [
            f(visited),
            state,
            ["一般", "紧急", "水电气热"][i % 3] if i % 7 == 0 else "",
            kind,
            f"丰台{i}科技有限公司" if kind == "企业" else "",
            f"{39.8 + i / 10000:.6f}" if i % 2 else "",
            f"{116.3 + i / 10000:.6f}" if i % 2 else "",
            f"EXT-{i}" if i % 3 else "",
        ]
        rows.append(row(f"C{i:05d}", **values) + extra)
    return rows


def lines_of(rows: list[list[str]]) -> list[int]:
    """Each row's first physical line in the file (the header is line 1; cells may hold newlines)."""
    lines, line = [], 2
    for cells in rows:
        lines.append(line)
        line += 1 + sum(len(re.findall(r"\r\n|\r|\n", c)) for c in cells)
    return lines


DEMAND_SKIP = {"id", "tracking_code", "updated_at"}
CHILD_SKIP = {"id", "demand"}


def snapshot() -> dict:
    """Every demand by number with its tasks and events, field by field (ids and the random
    tracking code aside)."""
    fields = [f.attname for f in Demand._meta.concrete_fields if f.name not in DEMAND_SKIP]
    task_fields = [f.attname for f in DemandTask._meta.concrete_fields if f.name not in CHILD_SKIP]
    event_fields = [f.attname for f in DemandEvent._meta.concrete_fields if f.name not in CHILD_SKIP]
    result = {}
    for demand in Demand.objects.order_by("number"):
        result[demand.number] = {
            "demand": {name: getattr(demand, name) for name in fields},
            "tasks": list(DemandTask.objects.filter(demand=demand).order_by("id").values(*task_fields)),
            "events": list(DemandEvent.objects.filter(demand=demand).order_by("id").values(*event_fields)),
        }
    return result


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    divisions_and_calendar([2024, 2025])


@pytest.fixture
def history_file(tmp_path):
    return write_csv(tmp_path / "history 2024.csv", fixture_rows(), header=HEADER)


def test_copy_needs_postgresql(db):
    if connection.vendor == "postgresql":
        assert DemandImporter().copy and not DemandImporter(copy=False).copy
    else:
        assert not DemandImporter().copy
        with pytest.raises(ValueError):
            DemandImporter(copy=True)


@postgres_only
@pytest.mark.parametrize("batch_size", [1000, 37])
def test_copy_writes_exactly_what_the_orm_writes(world, history_file, batch_size):
    with transaction.atomic():
        result = DemandImporter(copy=False, now=NOW, batch_size=batch_size).run(history_file)
        assert result.ok and result.written == 200, result.errors[:3]
        orm = snapshot()
        transaction.set_rollback(True)
    assert not Demand.objects.exists()

    before = timezone.now()
    result = DemandImporter(copy=True, now=NOW, batch_size=batch_size).run(history_file)
    assert result.ok and result.written == 200, result.errors[:3]
    copied = snapshot()

    assert len(orm) == 200 and list(copied) == list(orm)
    for number in orm:
        assert copied[number]["demand"] == orm[number]["demand"], number
        assert copied[number]["tasks"] == orm[number]["tasks"], number
        assert copied[number]["events"] == orm[number]["events"], number
    states = {d["demand"]["state"] for d in orm.values()}
    assert states >= {"received", "replied", "dispatched", "acknowledged", "in_progress", "archived"}
    assert sum(len(d["events"]) for d in orm.values()) > 700
    assert DemandEvent.objects.count() == sum(len(d["events"]) for d in orm.values())
    assert DemandTask.objects.count() == sum(len(d["tasks"]) for d in orm.values())
    # tracking codes are fresh and unique, updated_at is the time of writing
    codes = list(Demand.objects.values_list("tracking_code", flat=True))
    assert len(set(codes)) == 200 and all(len(c) == 10 for c in codes)
    assert all(d.updated_at >= before for d in Demand.objects.all())
    # the sequence is past the reserved ids: an ordinary insert afterwards does not collide
    later = write_csv(history_file.parent / "later.csv", [row("LATER", **{})])
    assert DemandImporter(copy=False).run(later).written == 1
    assert AuditEntry.objects.filter(detail__contains="history 2024.csv: 200 demands").count() == 1


@postgres_only
def test_a_batch_made_ahead_is_made_again_without_the_rows_already_in_the_database(world, tmp_path):
    """The COPY path makes a batch's rows before the duplicate check answers (while the previous
    COPY runs); rows the check then takes out leave the batch made again from the rest, with the
    same rows, tasks and events the ORM path writes."""
    rows = fixture_rows(60)
    whole = write_csv(tmp_path / "whole.csv", rows, header=HEADER)
    with transaction.atomic():
        assert DemandImporter(copy=False, now=NOW).run(whole).written == 60
        orm = snapshot()
        transaction.set_rollback(True)
    # rows 10–29 are already in: they fall in the first and second batches of 16
    first = DemandImporter(copy=True, now=NOW, batch_size=16)
    assert first.run(write_csv(tmp_path / "part.csv", rows[10:30], header=HEADER)).written == 20
    earlier = snapshot()
    result = DemandImporter(copy=True, now=NOW, batch_size=16, keep_good=True).run(whole)
    assert result.written == 40 and result.bad == 20
    assert [e.line for e in result.errors] == lines_of(rows)[10:30]
    copied = snapshot()
    assert list(copied) == list(orm)
    for number in orm:
        # the 20 already in are untouched (their events name the file they came from)
        assert copied[number] == earlier.get(number, orm[number]), number


def test_bad_rows_are_reported_by_line_and_nothing_is_written(world, tmp_path):
    rows = fixture_rows(120)
    rows[10][HEADER.index("phone")] = "999"
    rows[80][HEADER.index("street")] = "火星街道"  # in a later batch
    rows[119][HEADER.index("received_at")] = "2024-13-40"  # the last one
    result = DemandImporter(batch_size=25).run(write_csv(tmp_path / "bad.csv", rows, header=HEADER))
    line = lines_of(rows)
    assert [e.line for e in result.errors] == [line[10], line[80], line[119]]
    assert result.bad == 3 and result.rolled_back and result.written == 0
    assert not Demand.objects.exists()
    assert not DemandEvent.objects.exists() and not DemandTask.objects.exists()
    assert not AuditEntry.objects.filter(detail__startswith="import-demands").exists()


def test_keep_good_writes_only_the_good_rows(world, tmp_path):
    rows = fixture_rows(60)
    rows[5][HEADER.index("phone")] = "abc"
    rows[40][HEADER.index("type")] = "???"
    result = DemandImporter(batch_size=16, keep_good=True).run(
        write_csv(tmp_path / "mixed.csv", rows, header=HEADER)
    )
    assert [e.line for e in result.errors] == [lines_of(rows)[5], lines_of(rows)[40]]
    assert result.written == 58 and not result.rolled_back
    numbers = set(Demand.objects.values_list("number", flat=True))
    assert numbers == {f"C{i:05d}" for i in range(60)} - {"C00005", "C00040"}
    assert DemandEvent.objects.filter(action="receive").count() == 58
    assert not DemandEvent.objects.filter(demand__number__in=["C00005", "C00040"]).exists()


def test_a_second_import_of_the_same_file_is_refused(world, history_file):
    assert DemandImporter().run(history_file).written == 200
    events = DemandEvent.objects.count()
    again = DemandImporter().run(history_file)
    assert again.bad == 200 and again.written == 0 and again.rolled_back
    assert "already exists in the database" in again.errors[0].message
    assert Demand.objects.count() == 200 and DemandEvent.objects.count() == events


TABLES = ["demands_demand", "demands_demandevent", "demands_demandtask"]


def indexes_and_keys() -> tuple[list, list]:
    """The three tables' index definitions (a partial index's predicate by what it means: PostgreSQL
    prints a re-created one's casts differently) and constraint definitions, sorted."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
                WHERE c.relname = ANY(%s) ORDER BY 1""",
            [TABLES],
        )
        indexes = sorted(re.sub(r"::[a-z ]+(\[\])?|[()]", "", r[0]) for r in cursor.fetchall())
        cursor.execute(
            """SELECT conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
                 JOIN pg_class c ON c.oid = k.conrelid WHERE c.relname = ANY(%s) ORDER BY 1""",
            [TABLES],
        )
        keys = cursor.fetchall()
    return indexes, keys


@postgres_only
def test_rebuild_indexes_writes_the_same_rows_and_restores_indexes_and_keys(world, history_file):
    before = indexes_and_keys()
    assert len(before[0]) > 30 and any("FOREIGN KEY" in d for _n, d in before[1])
    with transaction.atomic():
        result = DemandImporter(now=NOW).run(history_file)
        assert result.ok and result.written == 200
        plain = snapshot()
        transaction.set_rollback(True)

    result = DemandImporter(now=NOW, batch_size=37, rebuild_indexes=True).run(history_file)
    assert result.ok and result.written == 200, result.errors[:3]
    assert snapshot() == plain
    assert indexes_and_keys() == before
    # the rebuilt unique index still refuses a second import of the same file
    again = DemandImporter(rebuild_indexes=True).run(history_file)
    assert again.bad == 200 and again.rolled_back and Demand.objects.count() == 200
    assert indexes_and_keys() == before


@postgres_only
def test_rebuild_indexes_with_bad_rows_writes_nothing_and_keeps_indexes(world, tmp_path):
    before = indexes_and_keys()
    rows = fixture_rows(90)
    rows[70][HEADER.index("phone")] = "999"
    result = DemandImporter(batch_size=25, rebuild_indexes=True).run(
        write_csv(tmp_path / "bad.csv", rows, header=HEADER)
    )
    assert [e.line for e in result.errors] == [lines_of(rows)[70]]
    assert result.rolled_back and result.written == 0 and not Demand.objects.exists()
    assert not DemandEvent.objects.exists() and indexes_and_keys() == before


def test_rebuild_indexes_needs_postgresql(db):
    if connection.vendor != "postgresql":
        with pytest.raises(ValueError):
            DemandImporter(rebuild_indexes=True)
    with pytest.raises(ValueError):
        DemandImporter(copy=False, rebuild_indexes=True)


@postgres_only
def test_a_copy_failing_in_the_background_fails_the_import_as_itself(world, tmp_path, monkeypatch):
    """The COPY stream runs in a thread: its error (here a tracking code that collides, as the
    database's unique constraint sees it) comes out of `run` as the error it is, and nothing stays."""
    monkeypatch.setattr(importer_module, "tracking_codes", lambda n: ["SAMECODE00"] * n)
    path = write_csv(tmp_path / "clash.csv", fixture_rows(60), header=HEADER)
    with pytest.raises(IntegrityError, match="tracking_code"):
        DemandImporter(batch_size=20).run(path)
    assert not Demand.objects.exists() and not DemandEvent.objects.exists()


@postgres_only
def test_the_constraints_are_deferred_again_after_an_import(world, history_file):
    """Inside an enclosing transaction, the import's SET CONSTRAINTS ALL IMMEDIATE does not
    outlive it: a row naming a missing demand is still accepted until commit (Django's default)."""
    with transaction.atomic():
        assert DemandImporter(now=NOW).run(history_file).written == 200
        with connection.cursor() as cursor:  # a dangling key, legal until the transaction ends
            cursor.execute(
                "INSERT INTO demands_demandtask (demand_id, unit_id, role, state, assigned_at, "
                "request_note, result_note, withdraw_reason) SELECT -1, unit_id, role, state, "
                "assigned_at, '', '', '' FROM demands_demandtask LIMIT 1"
            )
        transaction.set_rollback(True)


def test_the_command_takes_rebuild_indexes_on_postgresql_only(world, history_file):
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            call_command("import_demands", str(history_file), "--rebuild-indexes", "--no-progress")
        assert not Demand.objects.exists()
        return
    before = indexes_and_keys()
    call_command(
        "import_demands", str(history_file), "--rebuild-indexes", "--no-progress", stdout=io.StringIO()
    )
    assert Demand.objects.count() == 200 and indexes_and_keys() == before
