"""Benchmark at scale: generate 1 M demands (`changxin generate`), then time the monthly 三率 ranking
and the officer workbench list through the ORM and as hand-written SQL of the same result.

    .venv/bin/python bench/scale_bench.py [--demands 1000000] [--keep] [--reuse] [--record]

On a throwaway PostgreSQL database `changxin_bench_1m` (dropped afterwards unless --keep; --reuse
times an existing one without generating). Records generate.seconds_per_million, ranking.ms,
ranking.ratio_to_sql, workbench.ms and workbench.ratio_to_sql (the centre's list with filters) and
workbench.officer_ms / officer_ratio_to_sql (a street officer's, through the scope) into
bench/results.json (--record).
Each timing is the best of --repeat runs (a warm cache: the pages are read many times a day);
the ORM's and SQL's results are asserted equal. The ranking's SQL reads the round stored on the
demand (`lead_assigned_at`, `lead_first_contact_*`, as metrics.py does); the same figures derived from
the events by correlated subqueries (what both did before) are checked once, untimed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DB = os.environ.get("CHANGXIN_SCALE_DB", "changxin_bench_1m")
END = "2025-06-20"  # the data set's "now": 12 months up to mid-June 2025; May 2025 is ranked

RANKING_SQL = """
WITH m AS (
    SELECT d.lead_unit_id, d.resolution, d.satisfaction, d.rating_excluded,
           CASE WHEN d.reopen_count = 0
                THEN d.contacted_at IS NOT NULL AND (d.contact_due IS NULL OR d.contacted_at <= d.contact_due)
                ELSE coalesce(d.lead_first_contact_on_time, false)
           END AS responded,
           (d.contact_due > %(now)s AND d.contacted_at IS NULL
            AND (d.reopen_count = 0 OR d.lead_first_contact_at IS NULL)) AS not_yet_due,
           (d.resolution IN ('resolved', 'partly', 'unresolved') AND NOT d.rating_excluded) AS answered,
           (d.satisfaction IN ('satisfied', 'basic', 'dissatisfied') AND NOT d.rating_excluded) AS rated
      FROM demands_demand d
     WHERE d.lead_assigned_at >= %(start)s AND d.lead_assigned_at < %(end)s
       AND d.lead_unit_id IS NOT NULL AND d.master_id IS NULL
       AND d.demand_type NOT IN ('praise', 'proactive') AND d.state <> 'merged'
)
SELECT lead_unit_id,
       count(*) AS demands,
       count(*) FILTER (WHERE not_yet_due) AS not_yet_due,
       count(*) FILTER (WHERE NOT not_yet_due) AS dispatched,
       count(*) FILTER (WHERE NOT not_yet_due AND responded) AS responded,
       count(*) FILTER (WHERE answered) AS resolution_answers,
       count(*) FILTER (WHERE answered AND resolution = 'resolved') AS resolved,
       count(*) FILTER (WHERE answered AND resolution = 'partly') AS partly,
       count(*) FILTER (WHERE answered AND resolution = 'unresolved') AS unresolved,
       count(*) FILTER (WHERE rated) AS satisfaction_answers,
       count(*) FILTER (WHERE rated AND satisfaction = 'satisfied') AS satisfied,
       count(*) FILTER (WHERE rated AND satisfaction = 'basic') AS basic,
       count(*) FILTER (WHERE rated AND satisfaction = 'dissatisfied') AS dissatisfied,
       count(*) FILTER (WHERE satisfaction = 'unrated') AS unrated,
       count(*) FILTER (WHERE rating_excluded) AS excluded
  FROM m GROUP BY lead_unit_id
"""
# the same figures derived from the events, as metrics.py did before the round was stored on the
# demand (migration 0016): run once, untimed, to check the stored round against the events
RANKING_FROM_EVENTS_SQL = """
WITH assessed AS (
    SELECT d.id, d.lead_unit_id, d.contacted_at, d.contact_due, d.reopen_count, d.resolution,
           d.satisfaction, d.rating_excluded,
           (SELECT e.at FROM demands_demandevent e
             WHERE e.demand_id = d.id AND e.action IN ('dispatch', 'redispatch')
             ORDER BY e.at DESC, e.id DESC LIMIT 1) AS assigned_at
      FROM demands_demand d
     WHERE d.id IN (SELECT demand_id FROM demands_demandevent
                     WHERE action IN ('dispatch', 'redispatch') AND at >= %(start)s AND at < %(end)s)
       AND d.lead_unit_id IS NOT NULL AND d.master_id IS NULL
       AND d.demand_type NOT IN ('praise', 'proactive') AND d.state <> 'merged'
), round AS (
    SELECT a.*,
           (SELECT e.id FROM demands_demandevent e
             WHERE e.demand_id = a.id AND e.action = 'contact' AND e.at >= a.assigned_at
             ORDER BY e.at, e.id LIMIT 1) AS first_contact
      FROM assessed a WHERE a.assigned_at >= %(start)s AND a.assigned_at < %(end)s
), m AS (
    SELECT r.*,
           CASE WHEN r.reopen_count = 0
                THEN r.contacted_at IS NOT NULL AND (r.contact_due IS NULL OR r.contacted_at <= r.contact_due)
                ELSE EXISTS (SELECT 1 FROM demands_demandevent e
                              WHERE e.id = r.first_contact AND e.data -> 'on_time' = 'true'::jsonb)
           END AS responded,
           (r.contact_due > %(now)s AND r.contacted_at IS NULL
            AND (r.reopen_count = 0 OR r.first_contact IS NULL)) AS not_yet_due,
           (r.resolution IN ('resolved', 'partly', 'unresolved') AND NOT r.rating_excluded) AS answered,
           (r.satisfaction IN ('satisfied', 'basic', 'dissatisfied') AND NOT r.rating_excluded) AS rated
      FROM round r
)
SELECT lead_unit_id,
       count(*) AS demands,
       count(*) FILTER (WHERE not_yet_due) AS not_yet_due,
       count(*) FILTER (WHERE NOT not_yet_due) AS dispatched,
       count(*) FILTER (WHERE NOT not_yet_due AND responded) AS responded,
       count(*) FILTER (WHERE answered) AS resolution_answers,
       count(*) FILTER (WHERE answered AND resolution = 'resolved') AS resolved,
       count(*) FILTER (WHERE answered AND resolution = 'partly') AS partly,
       count(*) FILTER (WHERE answered AND resolution = 'unresolved') AS unresolved,
       count(*) FILTER (WHERE rated) AS satisfaction_answers,
       count(*) FILTER (WHERE rated AND satisfaction = 'satisfied') AS satisfied,
       count(*) FILTER (WHERE rated AND satisfaction = 'basic') AS basic,
       count(*) FILTER (WHERE rated AND satisfaction = 'dissatisfied') AS dissatisfied,
       count(*) FILTER (WHERE satisfaction = 'unrated') AS unrated,
       count(*) FILTER (WHERE rating_excluded) AS excluded
  FROM m GROUP BY lead_unit_id
"""
TASKS_SQL = """
SELECT unit_id,
       count(*) FILTER (WHERE state = 'done' AND (due_at IS NULL OR done_at <= due_at)) AS on_time,
       count(*) FILTER (WHERE state = 'done' OR due_at < %(now)s) AS due
  FROM demands_demandtask
 WHERE role IN ('co', 'whistle') AND assigned_at >= %(start)s AND assigned_at < %(end)s AND state <> 'withdrawn'
 GROUP BY unit_id
"""
UNITS_SQL = """
SELECT id, code FROM core_orgunit
 WHERE kind IN ('street', 'town', 'department', 'company') AND (is_active OR id = ANY(%(with_figures)s))
 ORDER BY path
"""
# the columns a row of the list shows (demands.selectors.ROW_FIELDS), as the page loads them
ROW_COLUMNS = """
SELECT d.id, d.number, d.title, d.state, d.demand_type, d.urgency, d.channel, d.received_at,
       d.contact_due, d.contacted_at, d.finish_due, d.street_id, d.category_id, d.lead_unit_id,
       c.id, c.full_name, u.id, u.name, s.id, s.name
"""
# the workbench: the centre's demand list with typical filters (one street, complaints, the last
# 30 days, newest first), first page of 50 and the per-state counts of the chips (their sum is the
# total, as on the queue page)
WORKBENCH_PAGE_SQL = (
    ROW_COLUMNS
    + """  FROM demands_demand d
  LEFT JOIN demands_category c ON c.id = d.category_id
  LEFT JOIN core_orgunit u ON u.id = d.lead_unit_id
  LEFT JOIN core_orgunit s ON s.id = d.street_id
 WHERE d.street_id = %(street)s AND d.demand_type = 'complaint'
   AND d.received_at >= %(start)s AND d.received_at < %(end)s
 ORDER BY d.received_at DESC, d.id DESC LIMIT 50
"""
)
WORKBENCH_STATES_SQL = """
SELECT d.state, count(d.id) FROM demands_demand d
 WHERE d.street_id = %(street)s AND d.demand_type = 'complaint'
   AND d.received_at >= %(start)s AND d.received_at < %(end)s
 GROUP BY d.state
"""

# the officer's workbench list: a street officer's demands (led by a unit of the street's subtree, a
# live task of one, or the officer's own), complaints of the last 30 days, newest first
OFFICER_SCOPE = """
(d.lead_unit_id = ANY(%(units)s)
 OR d.id IN (SELECT t.demand_id FROM demands_demandtask t
              WHERE t.unit_id = ANY(%(units)s) AND t.state IN ('pending', 'acknowledged', 'done'))
 OR d.requester_user_id = %(user)s
 OR d.id IN (SELECT t.demand_id FROM demands_demandtask t
              WHERE t.assignee_id = %(user)s AND t.state IN ('pending', 'acknowledged', 'done')))
AND d.demand_type = 'complaint' AND d.received_at >= %(start)s AND d.received_at < %(end)s
"""
# the counts read every visible row: the task alternatives as arrays, so the scope is a BitmapOr of
# index scans (lead unit and time; the ids of my units' live tasks; requester; assignee)
OFFICER_SCOPE_ALL = """
(d.lead_unit_id = ANY(%(units)s)
 OR d.id = ANY(ARRAY(SELECT t.demand_id FROM demands_demandtask t
              WHERE t.unit_id = ANY(%(units)s) AND t.state IN ('pending', 'acknowledged', 'done')))
 OR d.requester_user_id = %(user)s
 OR d.id = ANY(ARRAY(SELECT t.demand_id FROM demands_demandtask t
              WHERE t.assignee_id = %(user)s AND t.state IN ('pending', 'acknowledged', 'done'))))
AND d.demand_type = 'complaint' AND d.received_at >= %(start)s AND d.received_at < %(end)s
"""
OFFICER_PAGE_SQL = (
    ROW_COLUMNS
    + """  FROM demands_demand d
  LEFT JOIN demands_category c ON c.id = d.category_id
  LEFT JOIN core_orgunit u ON u.id = d.lead_unit_id
  LEFT JOIN core_orgunit s ON s.id = d.street_id
 WHERE """
    + OFFICER_SCOPE
    + " ORDER BY d.received_at DESC, d.id DESC LIMIT 50"
)
OFFICER_STATES_SQL = (
    "SELECT d.state, count(d.id) FROM demands_demand d WHERE " + OFFICER_SCOPE_ALL + " GROUP BY d.state"
)
OFFICER_UNITS_SQL = "SELECT id FROM core_orgunit WHERE path LIKE %(path)s"


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000, result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--demands", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DB} for other benchmarks")
    parser.add_argument("--reuse", action="store_true", help=f"time an existing {DB}, do not generate")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--corpus", help="messages CSV for the texts (e.g. ../shared/data/messages_train.csv)"
    )
    parser.add_argument("--record", action="store_true", help="record into bench/results.json")
    parser.add_argument(
        "--generate-only", action="store_true", help="generate (and time it), do not time the pages"
    )
    args = parser.parse_args()

    if not args.reuse:
        pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.pop("DEBUG", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    figures: dict[str, float] = {}
    try:
        if not args.reuse:
            call_command("migrate", verbosity=0)
            from changxin.core.divisions import load_divisions

            load_divisions()
            from changxin.demands.generator import Options, generate

            end = dt.datetime.combine(
                dt.date.fromisoformat(END), dt.time(18), timezone.get_default_timezone()
            )
            started = time.perf_counter()
            summary = generate(
                Options(demands=args.demands, months=12, seed=1, end=end, corpus=args.corpus),
                workers=args.workers,
                progress=_progress(args.demands),
            )
            seconds = time.perf_counter() - started
            print(
                f"\ngenerated {summary.demands:,} demands, {summary.events:,} events, {summary.tasks:,} tasks "
                f"in {seconds:.0f} s (load average {os.getloadavg()[0]:.1f}; "
                f"{', '.join(f'{k} {v:.0f} s' for k, v in summary.timings.items())})",
                flush=True,
            )
            figures["generate.seconds_per_million"] = seconds * 1_000_000 / summary.demands
            figures["generate.events"] = summary.events
            connection.ensure_connection()
            connection.connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        if not args.generate_only:
            figures.update(time_ranking(args.repeat))
            figures.update(time_workbench(args.repeat))
            figures.update(time_officer_list(args.repeat))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    for key, value in figures.items():
        print(f"{key:32} {value:,.2f}")
    if args.record:
        from bench.results import record

        sections: dict[str, dict] = {}
        for key, value in figures.items():
            section, name = key.split(".", 1)
            sections.setdefault(section, {})[name] = round(value, 2)
        note = f"bench/scale_bench.py on {args.demands:,} generated demands; load average alongside"
        for section, values in sections.items():
            record(section, values, note=note)
    return 0


def _progress(total: int):
    done = [0, time.perf_counter()]

    def update(n: int) -> None:
        done[0] += n
        if done[0] == total or time.perf_counter() - done[1] > 5:
            done[1] = time.perf_counter()
            print(f"\r  generating: {done[0]:,}/{total:,}", end="", file=sys.stderr, flush=True)

    return update


def time_ranking(repeat: int) -> dict[str, float]:
    from django.db import connection, transaction
    from django.utils import timezone

    from changxin.insight.metrics import COUNTED, Period
    from changxin.insight.rankings import monthly_rankings

    month = dt.date(2025, 5, 1)
    period = Period.month(month)
    now = timezone.now()
    orm_ms, rankings = best(lambda: monthly_rankings(month), repeat)

    def by_sql():
        params = {"start": period.start, "end": period.end, "now": now}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(RANKING_SQL, params)
            columns = [c.name for c in cursor.description]
            rates = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
            cursor.execute(TASKS_SQL, params)
            tasks = {unit: (ok, due) for unit, ok, due in cursor.fetchall() if due}
            cursor.execute(UNITS_SQL, {"with_figures": list(rates)})
            units = cursor.fetchall()
        return rates, tasks, units

    sql_ms, (rates, tasks, units) = best(by_sql, repeat)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(RANKING_FROM_EVENTS_SQL, {"start": period.start, "end": period.end, "now": now})
        columns = [c.name for c in cursor.description]
        from_events = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    assert from_events == rates, "the stored round gives the figures the events give"
    orm_rows = {row.unit.pk: row for ranking in rankings.values() for row in ranking.rows}
    assert set(orm_rows) == {pk for pk, _code in units}, "the same units"
    for pk, row in orm_rows.items():
        expected = rates.get(pk)
        counts = row.rates.counts()
        if expected is None:
            assert counts["demands"] == 0
            continue
        assert counts == {k: expected[k] for k in COUNTED}, (pk, counts, expected)
        assert row.tasks == tasks.get(pk)
    ranked = sum(len(r.ranked) for r in rankings.values())
    print(
        f"ranking {month:%Y-%m}: {ranked} units ranked; ORM {orm_ms:.0f} ms, SQL {sql_ms:.0f} ms", flush=True
    )
    return {"ranking.ms": orm_ms, "ranking.sql_ms": sql_ms, "ranking.ratio_to_sql": orm_ms / sql_ms}


def time_workbench(repeat: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from changxin.core.models import OrgUnit
    from changxin.core.roles import Role
    from changxin.demands import selectors
    from changxin.demands.views import CountedPaginator

    User = get_user_model()
    user = User.objects.filter(username="bench_dispatcher").first() or User.objects.create_user(
        username="bench_dispatcher",
        password="x",
        role=Role.OPERATOR,
        unit=OrgUnit.objects.get(code="110106C00"),
    )
    street = OrgUnit.objects.get(code="110106001")  # 右安门街道
    flt = selectors.DemandFilter(
        street=street.pk,
        demand_type="complaint",
        received_from=dt.date(2025, 5, 21),
        received_to=dt.date(2025, 6, 19),
    )

    def by_orm():
        # as the queue does (demands/views.py): one grouped count gives the chips and the total
        counts = selectors.counts_by_state(selectors.list_demands(user, flt, read_all=True))
        rows = selectors.list_rows(user, flt).order_by("-received_at", "-id")
        paginator = CountedPaginator(rows, 50, sum(counts.values()))
        page = selectors.row_page(paginator, 1)
        rows = [(d.pk, d.number, d.category, d.lead_unit and d.lead_unit.name) for d in page]
        return rows, page.paginator.count, counts

    tz = dt.timezone(dt.timedelta(hours=8))
    params = {
        "street": street.pk,
        "start": dt.datetime(2025, 5, 21, tzinfo=tz),
        "end": dt.datetime(2025, 6, 20, tzinfo=tz),
    }

    def by_sql():
        with connection.cursor() as cursor:
            cursor.execute(WORKBENCH_STATES_SQL, params)
            counts = dict(cursor.fetchall())
            total = sum(counts.values())  # the total is the chips' sum (the list has no state filter)
            cursor.execute(WORKBENCH_PAGE_SQL, params)
            page = cursor.fetchall()
        return page, total, counts

    orm_ms, (rows, total, counts) = best(by_orm, repeat)
    sql_ms, (page, sql_total, sql_counts) = best(by_sql, repeat)
    assert [r[0] for r in rows] == [p[0] for p in page] and total == sql_total and counts == sql_counts
    print(
        f"workbench: {total} demands, first page {len(rows)}; ORM {orm_ms:.1f} ms, SQL {sql_ms:.1f} ms",
        flush=True,
    )
    return {"workbench.ms": orm_ms, "workbench.sql_ms": sql_ms, "workbench.ratio_to_sql": orm_ms / sql_ms}


def time_officer_list(repeat: int) -> dict[str, float]:
    """The same list for a street officer: the scope (core/scope.py) on top of the filters."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from changxin.core.models import OrgUnit
    from changxin.core.roles import Role
    from changxin.demands import selectors
    from changxin.demands.views import CountedPaginator

    User = get_user_model()
    street = OrgUnit.objects.get(code="110106001")  # 右安门街道
    user = User.objects.filter(username="bench_officer").first() or User.objects.create_user(
        username="bench_officer", password="x", role=Role.OFFICER, unit=street
    )
    flt = selectors.DemandFilter(
        demand_type="complaint", received_from=dt.date(2025, 5, 21), received_to=dt.date(2025, 6, 19)
    )

    def by_orm():
        user.__dict__.pop("_scope_subtree", None)  # a new request: its user looks the subtree up again
        # as the queue does (demands/views.py): one grouped count gives the chips and the total
        counts = selectors.counts_by_state(selectors.list_demands(user, flt, read_all=True))
        rows = selectors.list_rows(user, flt).order_by("-received_at", "-id")
        paginator = CountedPaginator(rows, 50, sum(counts.values()))
        page = selectors.row_page(paginator, 1)
        rows = [(d.pk, d.number, d.category, d.lead_unit and d.lead_unit.name) for d in page]
        return rows, page.paginator.count, counts

    tz = dt.timezone(dt.timedelta(hours=8))
    params = {
        "user": user.pk,
        "start": dt.datetime(2025, 5, 21, tzinfo=tz),
        "end": dt.datetime(2025, 6, 20, tzinfo=tz),
    }

    def by_sql():
        with connection.cursor() as cursor:
            cursor.execute(OFFICER_UNITS_SQL, {"path": street.path + "%"})
            units = [row[0] for row in cursor.fetchall()]
            args = {**params, "units": units}
            cursor.execute(OFFICER_STATES_SQL, args)
            counts = dict(cursor.fetchall())
            total = sum(counts.values())
            cursor.execute(OFFICER_PAGE_SQL, args)
            page = cursor.fetchall()
        return page, total, counts

    orm_ms, (rows, total, counts) = best(by_orm, repeat)
    sql_ms, (page, sql_total, sql_counts) = best(by_sql, repeat)
    assert [r[0] for r in rows] == [p[0] for p in page] and total == sql_total and counts == sql_counts
    print(
        f"officer list: {total} demands, first page {len(rows)}; ORM {orm_ms:.1f} ms, SQL {sql_ms:.1f} ms",
        flush=True,
    )
    return {
        "workbench.officer_ms": orm_ms,
        "workbench.officer_sql_ms": sql_ms,
        "workbench.officer_ratio_to_sql": orm_ms / sql_ms,
    }


if __name__ == "__main__":
    raise SystemExit(main())
