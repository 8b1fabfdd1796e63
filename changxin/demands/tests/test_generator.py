"""`changxin generate`: counts, valid rows, deadlines, rankings, determinism, corpus, bad arguments."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from changxin.core import events as bus
from changxin.core.models import EventCursor
from changxin.demands import deadlines
from changxin.demands import events as payloads
from changxin.demands.generator import (
    Generator,
    GeneratorError,
    Options,
    bulk_load,
    compile_formatter,
    copy_text,
    generate,
)
from changxin.demands.models import Demand, DemandEvent, DemandTask, State

pytestmark = pytest.mark.django_db
END = dt.datetime(2025, 6, 20, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def run(n=400, seed=5, **kw):
    return generate(Options(demands=n, months=3, seed=seed, end=END, batch_size=150, **kw), workers=0)


class _Rollback(Exception):
    pass


def snapshot():
    demands = list(
        Demand.objects.order_by("number").values_list(
            "number",
            "tracking_code",
            "state",
            "title",
            "lead_unit__code",
            "received_at",
            "contact_due",
            "finish_due",
            "satisfaction",
            "resolution",
            "closed_at",
        )
    )
    events = list(
        DemandEvent.objects.order_by("demand__number", "id").values_list(
            "demand__number", "action", "at", "to_state"
        )
    )
    return demands, events


def test_counts_states_and_valid_rows():
    summary = run()
    assert Demand.objects.count() == summary.demands == 400
    assert DemandEvent.objects.count() == summary.events
    assert DemandTask.objects.count() == summary.tasks
    assert summary.events > 5 * summary.demands  # a whole lifecycle each, mostly
    states = set(Demand.objects.values_list("state", flat=True))
    assert {State.ARCHIVED, State.REPLIED} <= states
    assert (
        Demand.objects.filter(
            state__in=[
                State.DISPATCHED,
                State.ACKNOWLEDGED,
                State.CONTACTED,
                State.IN_PROGRESS,
                State.RECEIVED,
            ]
        ).count()
        == summary.open
        > 0
    )
    actions = set(DemandEvent.objects.values_list("action", flat=True))
    assert {"receive", "dispatch", "acknowledge", "contact", "reply", "return_visit", "archive"} <= actions
    assert Demand.objects.filter(received_at__lte=END).count() == 400
    assert not DemandEvent.objects.filter(at__gt=END).exists()
    for demand in Demand.objects.order_by("?")[:40]:
        demand.full_clean()
        timeline = list(demand.events.order_by("at", "id"))
        assert timeline[0].action == "receive" and timeline[-1].to_state == demand.state
        assert demand.version == len(timeline) - 1
        for previous, event in zip(timeline, timeline[1:], strict=False):
            assert event.from_state == previous.to_state
        for task in demand.tasks.all():
            task.full_clean()
    for event in DemandEvent.objects.order_by("?")[:300]:
        event.full_clean()
        payload = payloads.read(event)  # every payload reads back as its typed class
        names = {f.name for f in dataclasses.fields(payload)}
        assert set(event.data) == names | {"generated"}, event.action


def test_deadlines_as_the_engine_computes_them():
    run(n=200)
    checked = 0
    for demand in Demand.objects.filter(dispatched_at__isnull=False, extension_state="").order_by("number")[
        :60
    ]:
        due = deadlines.compute(demand, demand.dispatched_at)
        assert (demand.contact_due, demand.finish_due) == (due.contact_due, due.finish_due), demand.number
        assert demand.deadline_estimated == due.estimated
        checked += 1
    assert checked > 30
    for demand in Demand.objects.filter(extension_state="approved"):
        event = demand.events.get(action="approve_extension")
        assert demand.finish_due == dt.datetime.fromisoformat(event.data["finish_due"])


def test_rankings_compute_from_the_events():
    from changxin.insight.metrics import Period, demands_behind, rates_for_unit
    from changxin.insight.rankings import monthly_rankings

    run(n=600)
    rankings = monthly_rankings(dt.date(2025, 5, 1))
    ranked = rankings["street"].ranked
    assert ranked, "streets with enough demands are ranked"
    district = rates_for_unit(None, Period.month(dt.date(2025, 5, 1)))
    assert 0.7 < float(district.response_rate) <= 1
    assert 0.5 < float(district.satisfaction_rate) <= 1
    top = ranked[0]
    behind = demands_behind(Period.month(dt.date(2025, 5, 1)), "response", "numerator", top.unit).count()
    assert behind == top.rates.responded


def test_deterministic_by_seed():
    try:
        with transaction.atomic():
            run(n=250, seed=9)
            first = snapshot()
            raise _Rollback
    except _Rollback:
        pass
    assert not Demand.objects.exists()
    run(n=250, seed=9)
    assert snapshot() == first
    with pytest.raises(GeneratorError, match="seed 9"):
        run(n=10, seed=9)
    run(n=10, seed=10)  # another seed adds to the data set
    assert Demand.objects.count() == 260


def test_copy_text_from_worker_batches_matches_rows():
    generator = Generator(Options(demands=30, months=2, seed=3, end=END))
    generator._setup()
    ids, tasks = list(range(1, 31)), list(range(1, 80))
    rows = generator._batch(0, 0, 30, ids, tasks, text=False)
    text = generator._batch(0, 0, 30, ids, tasks, text=True)
    for table_rows, table_text in zip(rows[:3], text[:3], strict=False):
        assert copy_text(table_rows) == table_text
    fmt = compile_formatter(generator.events)
    assert (
        fmt(["1", None, None, "a\tb\\c\nd", None, "x", "", "", "", "{}", True]).split("\t")[3]
        == "a\\tb\\\\c\\nd"
    )


def _schema():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, i.relname, x.indisunique, x.indkey::text, x.indnkeyatts, x.indpred IS NULL,
                      i.relam, x.indclass::text
                 FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
                WHERE c.relname LIKE 'demands_demand%%' ORDER BY 1, 2"""
        )  # (not pg_get_indexdef: a re-created partial index's predicate is printed differently)
        indexes = cursor.fetchall()
        cursor.execute(
            """SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
                 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                WHERE c.relname LIKE 'demands_demand%%' ORDER BY 1, 2"""
        )
        return indexes, cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="bulk_load drops and rebuilds on PostgreSQL")
def test_bulk_load_restores_the_schema_and_checks_it():
    with connection.cursor() as cursor:  # the units loaded in this test's transaction: checked now,
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # so their tables can be altered (as after a commit)
    before = _schema()
    assert any(kind == "u" for _t, _n, kind, _d in before[1])  # unique constraints are dropped too
    run(n=120, bulk=True)
    assert _schema() == before
    assert Demand.objects.count() == 120 and DemandEvent.objects.filter(demand__isnull=True).count() == 0
    first, second = Demand.objects.order_by("pk").values_list("pk", "number")[:2]
    # a duplicate or a dangling key written during the load fails the re-creation (all or nothing)
    for sql, params in [
        ("UPDATE demands_demand SET number = %s WHERE id = %s", [first[1], second[0]]),
        ("UPDATE demands_demandevent SET demand_id = %s WHERE demand_id = %s", [10**12, first[0]]),
    ]:
        with (
            pytest.raises(IntegrityError),
            transaction.atomic(),
            bulk_load([Demand, DemandTask, DemandEvent]),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
        assert _schema() == before


def test_corpus_texts_and_category_mix(tmp_path):
    corpus = tmp_path / "messages.csv"
    corpus.write_text(
        "id,title,content,label\n"
        '1,小区垃圾无人清运,"楼下垃圾三天没人清运，气味很大。",环境保护\n'
        "2,学校门口交通拥堵,上下学时间学校门口车辆乱停。,交通运输\n"
        "3,空行,,\n",
        encoding="utf-8",
    )
    run(n=120, corpus=corpus)
    titles = set(Demand.objects.values_list("title", flat=True))
    assert titles <= {"小区垃圾无人清运", "学校门口交通拥堵", "空行"}
    tops = {d.top_category.name for d in Demand.objects.select_related("category")[:60]}
    assert tops <= {"环境保护", "交通运输", *tops} and tops & {"环境保护", "交通运输"}
    for demand in Demand.objects.filter(title="小区垃圾无人清运")[:10]:
        assert demand.top_category.name == "环境保护"


def test_subscribers_skip_generated_history():
    from changxin.notifications.models import Notification

    run(n=80)
    last = DemandEvent.objects.order_by("-pk").first().pk
    for sub in bus.subscribers("demands"):
        assert EventCursor.objects.get(subscriber=sub.name).position == last
    handled = bus.catch_up()
    assert sum(handled.values()) == 0
    assert not Notification.objects.exists()


def test_command_and_bad_arguments(tmp_path, capsys):
    call_command(
        "generate", demands="60", months="2", seed="4", end="2025-06-20", workers="0", no_progress=True
    )
    assert Demand.objects.count() == 60
    assert "generated 60 demands" in capsys.readouterr().out
    bad = [
        ({"demands": "0"}, "--demands"),
        ({"demands": "abc"}, "not a whole number"),
        ({"demands": "10", "months": "0"}, "--months"),
        ({"demands": "10", "months": "500"}, "--months"),
        ({"demands": "10", "seed": "-1"}, "--seed"),
        ({"demands": "10", "end": "2025-13-01"}, "--end"),
        ({"demands": "10", "corpus": str(tmp_path / "missing.csv")}, "no such file"),
    ]
    for kwargs, message in bad:
        with pytest.raises(CommandError, match=message):
            call_command("generate", workers="0", no_progress=True, **kwargs)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="title and content"):
        call_command("generate", demands="5", corpus=str(wrong), workers="0", no_progress=True)
    assert Demand.objects.count() == 60
    assert connection.vendor in ("sqlite", "postgresql")
