"""Benchmark: each dashboard's server time over N demands (default 1,000,000) in PostgreSQL.

    .venv/bin/python bench/dashboards_bench.py                  # 1 M demands, records into bench/results.json
    .venv/bin/python bench/dashboards_bench.py -n 200000 --repeat 5 --no-record

Creates its own database `changxin_bench_dashboards` (dropped afterwards unless --keep), seeds the
demands of the last 12 months with one INSERT … SELECT generate_series (plus their dispatch and
contact events for the current month, which the live 三率 need), enterprises, enterprise demands,
projects, party organisations, members and points with bulk inserts; builds the pre-aggregates
(`insight.aggregates.rebuild_all`, the cached ranking), checks that the aggregate equals the raw
query on the month, then renders every dashboard through the Django test client (warm; median of
--repeat runs) and records `dashboards.max_ms` and `dashboards.<name>_ms`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "changxin_bench_dashboards"


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1_000_000, help="demands over the last 12 months")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.json")
    parser.add_argument("--db", default=PG_BENCH_DB, help="the bench database's name")
    parser.add_argument("--seed-only", action="store_true", help="seed, keep the database and stop")
    parser.add_argument(
        "--keep-daily",
        action="store_true",
        help="with --reuse: keep the daily tables built before, rebuild only the enterprise counts (development)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use a database seeded before (--seed-only or --keep): migrate, rebuild the aggregates, measure",
    )
    return parser.parse_args()


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _fill(cursor, table: str, given: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions: `given`, and a neutral value for every other NOT NULL
    column without a database default (Django keeps its defaults in Python)."""
    cursor.execute(
        "SELECT column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns "
        "WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    neutral = {
        "boolean": "false",
        "integer": "0",
        "smallint": "0",
        "bigint": "0",
        "jsonb": "'{}'::jsonb",
        "numeric": "0",
    }
    columns, values = [], []
    for name, data_type, nullable, default, identity in cursor.fetchall():
        if identity == "YES":
            continue
        if name in given:
            columns.append(name)
            values.append(given[name])
        elif nullable == "NO" and default is None:
            columns.append(name)
            values.append(neutral.get(data_type, "''"))
    return ", ".join(columns), ", ".join(values)


def seed_demands(n: int, today: dt.date) -> None:
    """N demands received over the 365 days ending today (Beijing time), with a realistic mix."""
    from django.db import connection

    from changxin.core.models import OrgUnit, UnitKind
    from changxin.demands.models import Category

    streets = list(
        OrgUnit.objects.filter(kind__in=[UnitKind.STREET, UnitKind.TOWN]).values_list("pk", flat=True)
    )
    departments = list(OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT).values_list("pk", flat=True))
    communities = list(
        OrgUnit.objects.filter(kind__in=[UnitKind.COMMUNITY, UnitKind.VILLAGE]).values_list("pk", "parent_id")
    )
    categories = list(Category.objects.filter(level=3).values_list("pk", flat=True)[:200]) or [None]
    first = dt.datetime.combine(today - dt.timedelta(days=364), dt.time.min).isoformat()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE b_streets (i int, id bigint)")
        cursor.executemany("INSERT INTO b_streets VALUES (%s, %s)", list(enumerate(streets)))
        cursor.execute("CREATE TEMP TABLE b_depts (i int, id bigint)")
        cursor.executemany("INSERT INTO b_depts VALUES (%s, %s)", list(enumerate(departments)))
        cursor.execute("CREATE TEMP TABLE b_cats (i int, id bigint)")
        cursor.executemany("INSERT INTO b_cats VALUES (%s, %s)", list(enumerate(categories)))
        cursor.execute("CREATE TEMP TABLE b_comms (street bigint, i int, id bigint)")
        by_street: dict[int, list[int]] = {}
        for pk, parent in communities:
            by_street.setdefault(parent, []).append(pk)
        cursor.executemany(
            "INSERT INTO b_comms VALUES (%s, %s, %s)",
            [(s, i, c) for s, cs in by_street.items() for i, c in enumerate(cs)],
        )
        cursor.execute(
            "CREATE TEMP TABLE b_comm_n AS SELECT street, count(*) AS n FROM b_comms GROUP BY street"
        )
        given = {
            "number": "'BD' || lpad(g::text, 9, '0')",
            "tracking_code": "'T' || lpad(g::text, 11, '0')",
            "channel": "(ARRAY['hotline','hotline','hotline','hotline','web','mini_program','enterprise_portal','leader_mailbox'])[1 + (g % 8)]",
            "demand_type": "(ARRAY['complaint','complaint','help','report','consult','suggestion'])[1 + ((g / 8) % 6)]",
            "urgency": "'normal'",
            "title": "'路灯不亮'",
            "content": "'小区门口路灯坏了'",
            "requester_kind": "'person'",
            "street_id": "s.id",
            "community_id": "(SELECT c.id FROM b_comms c JOIN b_comm_n cn ON cn.street = c.street WHERE c.street = s.id AND c.i = (g % cn.n) LIMIT 1)",
            "category_id": "cat.id",
            "lead_unit_id": "CASE WHEN g % 10 < 8 THEN s.id ELSE d.id END",
            "state": "CASE WHEN r.at > now() - interval '10 days' AND g % 3 = 0 THEN 'in_progress' WHEN g % 97 = 0 THEN 'dispatched' ELSE (ARRAY['visited','archived','replied'])[1 + (g % 3)] END",
            "received_at": "r.at",
            "dispatched_at": "r.at + interval '10 minutes'",
            "contacted_at": "CASE WHEN g % 97 = 0 THEN NULL ELSE r.at + (interval '1 hour' * (1 + g % 30)) END",
            "contact_due": "r.at + interval '1 day'",
            "finish_due": "r.at + interval '9 days'",
            "replied_at": "CASE WHEN (r.at > now() - interval '10 days' AND g % 3 = 0) OR g % 97 = 0 THEN NULL ELSE r.at + (interval '1 hour' * (20 + g % 240)) END",
            "resolution": "CASE WHEN (r.at > now() - interval '10 days' AND g % 3 = 0) OR g % 97 = 0 THEN '' ELSE (ARRAY['resolved','resolved','resolved','partly','unresolved'])[1 + (g % 5)] END",
            "satisfaction": "CASE WHEN (r.at > now() - interval '10 days' AND g % 3 = 0) OR g % 97 = 0 THEN '' ELSE (ARRAY['satisfied','satisfied','satisfied','basic','dissatisfied','unrated'])[1 + ((g / 5) % 6)] END",
            "rating_excluded": "false",
            "updated_at": "now()",
        }
        columns, values = _fill(cursor, "demands_demand", given)
        n_streets, n_depts, n_cats = len(streets), len(departments), len(categories)
        step = 50_000
        for start in range(1, n + 1, step):
            stop = min(n, start + step - 1)
            cursor.execute(
                f"""
                INSERT INTO demands_demand ({columns})
                SELECT {values}
                FROM generate_series({start}::bigint, {stop}::bigint) AS g
                CROSS JOIN LATERAL (SELECT (timestamp '{first}' AT TIME ZONE 'Asia/Shanghai')
                    + (interval '1 second' * floor(((g * 7919) % {n}) * 365.0 * 86400 / {n}))) AS r(at)
                JOIN b_streets s ON s.i = (g * 31 + (g / 1000)) % {n_streets}
                JOIN b_depts d ON d.i = g % {n_depts}
                JOIN b_cats cat ON cat.i = (g * 17) % {n_cats}
                """
            )
            print(f"  seeded {stop:,} demands", end="\r", flush=True)
        print()
        # dispatch and contact events of the current month (the live 三率 read them)
        month_start = dt.datetime.combine(today.replace(day=1), dt.time.min).isoformat()
        for action, at, data in (
            ("dispatch", "d.dispatched_at", "jsonb_build_object('lead_unit', d.lead_unit_id)"),
            (
                "contact",
                "d.contacted_at",
                "jsonb_build_object('on_time', d.contacted_at <= d.contact_due)",
            ),
        ):
            ev_columns, ev_values = _fill(
                cursor,
                "demands_demandevent",
                {
                    "demand_id": "d.id",
                    "at": at,
                    "action": f"'{action}'",
                    "actor_name": "'bench'",
                    "data": data,
                },
            )
            cursor.execute(
                f"""INSERT INTO demands_demandevent ({ev_columns}) SELECT {ev_values} FROM demands_demand d
                WHERE d.received_at >= (timestamp '{month_start}' AT TIME ZONE 'Asia/Shanghai') AND {at} IS NOT NULL"""
            )


def seed_wings(today: dt.date) -> dict:
    """Enterprises with managers, enterprise demands, projects; party organisations, members, points."""
    from django.db import connection

    from changxin.core.models import OrgUnit, Role, UnitKind, User
    from changxin.pioneers.models import PartyMember, PartyOrganisation, PointTotal
    from changxin.port.models import Enterprise, Project, Stage, Zone

    streets = list(OrgUnit.objects.filter(kind=UnitKind.STREET))
    district = OrgUnit.objects.get(code="110106")
    managers = [
        User.objects.create_user(
            f"bench_mgr{i}", role=Role.SERVICE_MANAGER, unit=streets[i % len(streets)], full_name=f"管家{i}"
        )
        for i in range(20)
    ]
    enterprises = Enterprise.objects.bulk_create(
        [
            Enterprise(
                name=f"企业{i}",
                credit_code=f"91110106{i:010d}",
                street=streets[i % len(streets)],
                zone=Zone.values[i % len(Zone.values)],
                manager=managers[i % len(managers)],
                is_key=i % 5 == 0,
            )
            for i in range(2000)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO port_enterprisedemand (demand_id, enterprise_id, created_at) "
            "SELECT d.id, e.id, now() FROM demands_demand d JOIN LATERAL (SELECT id FROM port_enterprise "
            "ORDER BY id OFFSET (d.id % 2000) LIMIT 1) e ON true WHERE d.channel = 'enterprise_portal'"
        )
    Project.objects.bulk_create(
        [
            Project(
                name=f"项目{i}",
                enterprise=enterprises[i],
                zone=Zone.values[i % len(Zone.values)],
                street=streets[i % len(streets)],
                amount=1000 + i,
                stage=Stage.values[i % len(Stage.values)],
                manager=managers[i % len(managers)],
                reserved_on=today - dt.timedelta(days=i),
            )
            for i in range(600)
        ]
    )
    root = PartyOrganisation.objects.create(name="区委", kind="committee", field="organ", unit=district)
    orgs = [
        PartyOrganisation.objects.create(
            name=f"支部{i}", kind="branch", field="community", unit=streets[i % len(streets)], parent=root
        )
        for i in range(200)
    ]
    members = PartyMember.objects.bulk_create(
        [
            PartyMember(name=f"党员{i}", status="full", organisation=orgs[i % len(orgs)])
            for i in range(20_000)
        ],
        batch_size=5000,
    )
    PointTotal.objects.bulk_create(
        [
            PointTotal(member=m, year=today.year, total=(i * 37) % 500, entries=i % 20)
            for i, m in enumerate(members)
        ],
        batch_size=5000,
    )
    viewers = {
        "leader": User.objects.create_user("bench_leader", role=Role.LEADERSHIP, unit=district),
        "officer": User.objects.create_user("bench_officer", role=Role.OFFICER, unit=streets[0]),
        "manager": managers[0],
        "party": User.objects.create_user("bench_party", role=Role.PARTY_STAFF, unit=district),
    }
    return {"viewers": viewers, "street": streets[0]}


def first_day() -> dt.date:
    from django.db.models import Min
    from django.utils import timezone

    from changxin.demands.selectors import unscoped_demands

    first = unscoped_demands().order_by().aggregate(first=Min("received_at"))["first"]
    return timezone.localtime(first).date()


def existing_world() -> dict:
    """The viewers and the street `seed_wings` made, in a database seeded before."""
    from changxin.core.models import OrgUnit, UnitKind, User

    names = {
        "leader": "bench_leader",
        "officer": "bench_officer",
        "manager": "bench_mgr0",
        "party": "bench_party",
    }
    viewers = {key: User.objects.get(username=name) for key, name in names.items()}
    return {"viewers": viewers, "street": OrgUnit.objects.filter(kind=UnitKind.STREET).first()}


def main() -> int:
    args = parse_args()
    if args.seed_only:
        args.keep = True
    if not args.reuse:
        pg_admin(args.pg_admin_url, f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
        pg_admin(args.pg_admin_url, f"CREATE DATABASE {args.db}")
    os.environ["DATABASE_URL"] = args.pg_admin_url.rsplit("/", 1)[0] + f"/{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings_test")
    import django

    django.setup()
    try:
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep and not args.reuse:
            pg_admin(args.pg_admin_url, f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")


def timed(fn, repeat: int) -> tuple[float, list[float]]:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), runs


def run(args) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from changxin.core.divisions import load_divisions
    from changxin.demands.selectors import unscoped_demands
    from changxin.insight import aggregates
    from changxin.insight.boards import month_days
    from changxin.insight.metrics import this_month

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    if args.reuse:
        world = existing_world()
        args.n = unscoped_demands().count()
        print(f"reusing {args.db}: {args.n:,} demands")
    else:
        load_divisions()
        started = time.perf_counter()
        seed_demands(args.n, today)
        world = seed_wings(today)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        seeded = time.perf_counter() - started
        print(f"seeded {args.n:,} demands and the wings in {seeded:.0f} s")
        if args.seed_only:
            return 0

    started = time.perf_counter()
    if args.reuse and args.keep_daily:
        from changxin.insight.models import DailyDemandCount

        for month in aggregates._months(first_day(), today):
            aggregates.rebuild_enterprise(month)
        rows = DailyDemandCount.objects.count()
    else:
        rows = aggregates.rebuild_all()
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    aggregates.cached_rankings(this_month())
    ranking_s = time.perf_counter() - started
    started = time.perf_counter()
    aggregates.refresh_overdue()
    overdue_ms = (time.perf_counter() - started) * 1000
    print(f"overdue counts (the every-minute job's part) in {overdue_ms:.0f} ms")
    from changxin.insight.models import DistrictDailySlice, EnterpriseMonthCount, UnitDailySlice

    sizes = {
        "district_slice_rows": DistrictDailySlice.objects.count(),
        "unit_slice_rows": UnitDailySlice.objects.count(),
        "enterprise_month_rows": EnterpriseMonthCount.objects.count(),
    }
    print(
        f"aggregates: {rows:,} daily rows in {build_s:.1f} s; live ranking cached in {ranking_s:.2f} s; {sizes}"
    )

    leader = world["viewers"]["leader"]
    first, last = month_days(this_month())
    started = time.perf_counter()
    raw = aggregates.raw_counts(leader, first, last)
    raw_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    agg = aggregates.Figures(leader, first, last).totals()
    agg_ms = (time.perf_counter() - started) * 1000
    assert agg == raw, (agg, raw)
    print(
        f"month totals equal: aggregate {agg_ms:.0f} ms vs raw query {raw_ms:.0f} ms ({agg['received']:,} demands)"
    )
    officer = world["viewers"]["officer"]
    assert aggregates.Figures(officer, first, last).by("channel") == aggregates.raw_counts(
        officer, first, last, by="channel"
    )
    from changxin.port.selectors import enterprise_demand_ranking

    since = aggregates.day_bounds(first, first)[0]
    started = time.perf_counter()
    raw_enterprise = enterprise_demand_ranking(leader, by="manager", since=since)
    enterprise_raw_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    agg_enterprise = aggregates.enterprise_ranking(first, by="manager")
    enterprise_agg_ms = (time.perf_counter() - started) * 1000
    assert agg_enterprise == raw_enterprise
    print(
        f"enterprise demands by manager equal: aggregate {enterprise_agg_ms:.0f} ms vs raw {enterprise_raw_ms:.0f} ms"
    )

    pages = {
        "district": ("leader", reverse("insight:dashboard")),
        "district_street_officer": ("officer", reverse("insight:dashboard")),
        "street": ("officer", reverse("insight:dashboard-street", args=[world["street"].code])),
        "enterprise": ("leader", reverse("insight:dashboard-enterprise")),
        "enterprise_manager": ("manager", reverse("insight:dashboard-enterprise")),
        "party": ("party", reverse("insight:dashboard-party")),
    }
    figures: dict[str, float] = {}
    for name, (who, url) in pages.items():
        client = Client()
        client.force_login(world["viewers"][who])

        def get(client=client, url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        median, runs = timed(get, args.repeat)
        figures[f"{name}_ms"] = round(median, 1)
        print(f"{name:<26} median {median:7.1f} ms  (runs: {', '.join(f'{r:.0f}' for r in runs)})")
    figures["max_ms"] = max(figures.values())  # the boards only: taken before the other figures
    figures["demands"] = args.n
    figures["aggregate_rows"] = rows
    figures.update(sizes)
    figures["aggregate_build_s"] = round(build_s, 1)
    figures["month_totals_raw_ms"] = round(raw_ms, 1)
    figures["month_totals_aggregate_ms"] = round(agg_ms, 1)
    figures["overdue_refresh_ms"] = round(overdue_ms, 1)
    figures["enterprise_month_raw_ms"] = round(enterprise_raw_ms, 1)
    figures["enterprise_month_aggregate_ms"] = round(enterprise_agg_ms, 1)
    print(f"max {figures['max_ms']:.1f} ms (target ≤ 500 ms)")
    if not args.no_record:
        from bench.results import record

        record(
            "dashboards",
            figures,
            note="bench/dashboards_bench.py; load average alongside",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
