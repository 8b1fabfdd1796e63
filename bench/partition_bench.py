"""Monthly partitioning of the event table at city scale: plain vs partitioned, 10 M rows.

    .venv/bin/python bench/partition_bench.py                 # 10,000,000 events over 24 months
    .venv/bin/python bench/partition_bench.py --rows 2000000  # quicker
    .venv/bin/python bench/partition_bench.py --no-record     # print only

In a throwaway PostgreSQL database (changxin_partition_bench, dropped at the end unless --keep)
builds an event table shaped like demands_demandevent (id, demand_id, at, action, data; indexes
on (demand_id, at), (action, at) and (at)) twice — plain, and PARTITION BY RANGE (at) with one partition
per month — from the same generate_series rows (five events per demand, a demand's events within
days of each other), then times the typical queries on both (median of 5 warm runs):

- month_aggregate: one month's counts by action (the 三率 and dashboards read a month);
- demand_timeline: one demand's events in order, by demand id only (no time bound: every
  partition's index is probed), and with the demand's receive time as a lower bound (pruned);
- recent_week: the last seven days' counts (hot spots, the daily dashboard);
- drop_old_month: removing the oldest month — DELETE on the plain table (plus the VACUUM that
  reclaims it) vs DETACH PARTITION + DROP TABLE.

Records the figures as section "partitioning" of bench/results.json (bench/results.py); the
numbers are quoted in docs/DEPLOY.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DB = "changxin_partition_bench"
EVENTS_PER_DEMAND = 5
START = "2024-01-01"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--no-record", action="store_true")
    return p.parse_args()


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def timed(conn, sql: str, params=None) -> float:
    started = time.perf_counter()
    conn.execute(sql, params).fetchall() if sql.lstrip().upper().startswith(
        ("SELECT", "WITH")
    ) else conn.execute(sql, params)
    return (time.perf_counter() - started) * 1000


def step(label: str, conn, sql: str) -> float:
    seconds = timed(conn, sql) / 1000
    print(f"  {label:<48} {seconds:7.1f} s", flush=True)
    return seconds


def build(conn, rows: int, months: int) -> dict:
    demands = rows // EVENTS_PER_DEMAND
    span_days = months * 30.4
    figures = {}
    conn.execute("SET maintenance_work_mem = '256MB'")
    conn.execute("SET synchronous_commit = off")
    columns = "id bigint NOT NULL, demand_id bigint NOT NULL, at timestamptz NOT NULL, action varchar(32) NOT NULL, data jsonb NOT NULL"
    conn.execute(f"CREATE TABLE ev_plain ({columns})")
    actions = "(ARRAY['receive','dispatch','contact','reply','visit'])"
    figures["load_plain_s"] = step(
        f"load {rows:,} rows into the plain table",
        conn,
        f"""INSERT INTO ev_plain
            SELECT g, (g - 1) / {EVENTS_PER_DEMAND} + 1,
                   timestamptz '{START}' + interval '1 day' * ({span_days} * ((g - 1) / {EVENTS_PER_DEMAND}) / {demands})
                     + interval '1 day' * ((g - 1) % {EVENTS_PER_DEMAND}),
                   {actions}[1 + (g - 1) % {EVENTS_PER_DEMAND}], '{{}}'::jsonb
            FROM generate_series(1, {rows}) AS g""",
    )
    figures["index_plain_s"] = sum(
        step(label, conn, sql)
        for label, sql in [
            ("plain: primary key", "ALTER TABLE ev_plain ADD PRIMARY KEY (id)"),
            ("plain: index (demand_id, at)", "CREATE INDEX ev_plain_demand_at ON ev_plain (demand_id, at)"),
            ("plain: index (action, at)", "CREATE INDEX ev_plain_action_at ON ev_plain (action, at)"),
            ("plain: index (at)", "CREATE INDEX ev_plain_at ON ev_plain (at)"),
        ]
    )
    conn.execute(f"CREATE TABLE ev_part ({columns}) PARTITION BY RANGE (at)")
    for m in range(months + 1):  # the last one holds the spill of the newest demands' later events
        conn.execute(
            f"CREATE TABLE ev_part_{m:03d} PARTITION OF ev_part FOR VALUES FROM "
            f"(timestamptz '{START}' + interval '{m} month') TO (timestamptz '{START}' + interval '{m + 1} month')"
        )
    figures["load_partitioned_s"] = step(
        "load the same rows into the partitioned table", conn, "INSERT INTO ev_part SELECT * FROM ev_plain"
    )
    figures["index_partitioned_s"] = sum(
        step(label, conn, sql)
        for label, sql in [
            ("partitioned: primary key (id, at)", "ALTER TABLE ev_part ADD PRIMARY KEY (id, at)"),
            (
                "partitioned: index (demand_id, at)",
                "CREATE INDEX ev_part_demand_at ON ev_part (demand_id, at)",
            ),
            ("partitioned: index (action, at)", "CREATE INDEX ev_part_action_at ON ev_part (action, at)"),
            ("partitioned: index (at)", "CREATE INDEX ev_part_at ON ev_part (at)"),
        ]
    )
    step("vacuum analyze both", conn, "VACUUM ANALYZE")
    return figures


def median_ms(conn, sql: str, params, repeat: int) -> float:
    timed(conn, sql, params)  # warm
    return statistics.median(timed(conn, sql, params) for _ in range(repeat))


def queries(conn, rows: int, months: int, repeat: int) -> dict:
    demands = rows // EVENTS_PER_DEMAND
    middle = months // 2
    month_from = conn.execute(f"SELECT timestamptz '{START}' + interval '{middle} month'").fetchone()[0]
    month_to = conn.execute(f"SELECT timestamptz '{START}' + interval '{middle + 1} month'").fetchone()[0]
    newest = conn.execute("SELECT max(at) FROM ev_plain").fetchone()[0]
    figures = {}
    # a handful of demands spread over the range; the timeline query runs for each, then the median
    sample = [demands // 7 * k + 3 for k in range(1, 6)]
    received = {
        d: conn.execute("SELECT min(at) FROM ev_plain WHERE demand_id = %s", [d]).fetchone()[0]
        for d in sample
    }
    for kind in ("plain", "part"):
        table = f"ev_{kind}"
        figures[f"{kind}_month_aggregate_ms"] = median_ms(
            conn,
            f"SELECT action, count(*) FROM {table} WHERE at >= %s AND at < %s GROUP BY action",
            [month_from, month_to],
            repeat,
        )
        figures[f"{kind}_demand_timeline_ms"] = statistics.median(
            median_ms(conn, f"SELECT * FROM {table} WHERE demand_id = %s ORDER BY at", [d], repeat)
            for d in sample
        )
        figures[f"{kind}_demand_timeline_bounded_ms"] = statistics.median(
            median_ms(
                conn,
                f"SELECT * FROM {table} WHERE demand_id = %s AND at >= %s ORDER BY at",
                [d, received[d]],
                repeat,
            )
            for d in sample
        )
        figures[f"{kind}_recent_week_ms"] = median_ms(
            conn,
            f"SELECT action, count(*) FROM {table} WHERE at >= %s::timestamptz - interval '7 days' GROUP BY action",
            [newest],
            repeat,
        )
        size = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relkind = 'r' AND (c.relname = %s OR c.relname LIKE %s)",
            [table, f"{table}\\_%"],
        ).fetchone()[0]
        figures[f"{kind}_total_mb"] = round(int(size) / 2**20)
    for label, key in [
        ("month aggregate", "month_aggregate_ms"),
        ("demand timeline (id only)", "demand_timeline_ms"),
        ("demand timeline (id + from)", "demand_timeline_bounded_ms"),
        ("last 7 days", "recent_week_ms"),
    ]:
        print(
            f"  {label:<32} plain {figures['plain_' + key]:9.2f} ms   partitioned {figures['part_' + key]:9.2f} ms"
        )
    # dropping the oldest month: DELETE (+ VACUUM to reclaim the space) vs DETACH + DROP
    first_to = conn.execute(f"SELECT timestamptz '{START}' + interval '1 month'").fetchone()[0]
    deleted = conn.execute("SELECT count(*) FROM ev_plain WHERE at < %s", [first_to]).fetchone()[0]
    figures["old_month_rows"] = deleted
    figures["plain_delete_month_ms"] = timed(conn, "DELETE FROM ev_plain WHERE at < %s", [first_to])
    figures["plain_vacuum_after_delete_ms"] = timed(conn, "VACUUM ev_plain")
    figures["part_detach_drop_month_ms"] = timed(
        conn, "ALTER TABLE ev_part DETACH PARTITION ev_part_000"
    ) + timed(conn, "DROP TABLE ev_part_000")
    print(
        f"  drop the oldest month ({deleted:,} rows): DELETE {figures['plain_delete_month_ms'] / 1000:.1f} s "
        f"+ VACUUM {figures['plain_vacuum_after_delete_ms'] / 1000:.1f} s; "
        f"DETACH + DROP {figures['part_detach_drop_month_ms']:.0f} ms"
    )
    return figures


def main() -> int:
    args = parse_args()
    url = args.pg_admin_url.rsplit("/", 1)[0] + f"/{DB}"
    with connect(args.pg_admin_url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    try:
        with connect(url) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0].split()[0]
            print(f"PostgreSQL {server}: {args.rows:,} events over {args.months} months", flush=True)
            figures = {"rows": args.rows, "months": args.months, "postgresql": server}
            figures.update(build(conn, args.rows, args.months))
            figures.update(queries(conn, args.rows, args.months, args.repeat))
        figures["month_aggregate_speedup"] = round(
            figures["plain_month_aggregate_ms"] / figures["part_month_aggregate_ms"], 2
        )
        figures["drop_month_speedup"] = round(
            (figures["plain_delete_month_ms"] + figures["plain_vacuum_after_delete_ms"])
            / figures["part_detach_drop_month_ms"]
        )
        if not args.no_record:
            from bench.results import record

            record(
                "partitioning", {k: (round(v, 2) if isinstance(v, float) else v) for k, v in figures.items()}
            )
            print("recorded section 'partitioning' in bench/results.json")
    finally:
        if not args.keep:
            with connect(args.pg_admin_url) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
