"""Benchmark: rank a month of N demands (default 100,000 — a busy district month).

    .venv/bin/python bench/insight_rankings.py                 # throwaway SQLite file in a temp dir
    .venv/bin/python bench/insight_rankings.py --postgres      # creates and drops database changxin_bench
    .venv/bin/python bench/insight_rankings.py -n 20000 --repeat 5

Seeds demands and their event rows with bulk_create (realistic shares: on-time/late/no contact,
re-dispatch after disputes, answers, unrated, excluded ratings, praise, merged duplicates), then
times `monthly_rankings()` (all four groups, one aggregate query), the district total and one
drill-down count. Never touches the dev database or another engineer's test database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "changxin_bench"


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=100_000, help="demands in the month (default 100000)")
    parser.add_argument("--postgres", action="store_true", help=f"use PostgreSQL database {PG_BENCH_DB}")
    parser.add_argument(
        "--pg-admin-url", default=PG_ADMIN_URL, help="where to CREATE/DROP the bench database"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--no-index-comparison",
        action="store_true",
        help="skip the second timing with a (action, at) index on the event table",
    )
    return parser.parse_args()


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def setup_database(args) -> tuple[str, callable]:
    if args.postgres:
        pg_admin(args.pg_admin_url, f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        pg_admin(args.pg_admin_url, f"CREATE DATABASE {PG_BENCH_DB}")
        url = args.pg_admin_url.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"

        def cleanup():
            from django.db import connections

            connections.close_all()
            if not args.keep:
                pg_admin(args.pg_admin_url, f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")

        return url, cleanup
    tmp = Path(tempfile.mkdtemp(prefix="changxin-bench-"))
    os.environ["CHANGXIN_VAR_DIR"] = str(tmp)

    def cleanup():
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    return f"sqlite:///{tmp / 'bench.sqlite3'}", cleanup


def seed(n: int, month: dt.date, rng: random.Random) -> None:
    from django.db import transaction
    from django.utils import timezone

    from changxin.core.models import OrgUnit, UnitKind
    from changxin.demands.models import Demand, DemandEvent, Satisfaction, State
    from changxin.insight.metrics import Period

    period = Period.month(month)
    seconds = int((period.end - period.start).total_seconds())
    streets = list(OrgUnit.objects.filter(kind__in=[UnitKind.STREET, UnitKind.TOWN]))
    departments = list(OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT))
    companies = list(OrgUnit.objects.filter(kind=UnitKind.COMPANY))
    street_weights = [rng.uniform(0.3, 3.0) for _ in streets]  # busy and quiet streets
    dispatchable = streets + departments + companies

    def pick_unit():
        roll = rng.random()
        if roll < 0.75:
            return rng.choices(streets, street_weights)[0]
        return rng.choice(departments) if roll < 0.95 else rng.choice(companies)

    batch = 5000
    made = 0
    tz = timezone.get_default_timezone()
    while made < n:
        size = min(batch, n - made)
        demands, plans = [], []
        for i in range(size):
            dispatched = period.start + dt.timedelta(seconds=rng.randrange(seconds))
            received = dispatched - dt.timedelta(minutes=rng.uniform(1, 8))
            unit = pick_unit()
            redispatched = rng.random() < 0.02
            first_unit = rng.choice(dispatchable) if redispatched else unit
            assigned = dispatched + dt.timedelta(hours=2) if redispatched else dispatched
            contact_due = assigned + dt.timedelta(days=1)
            roll = rng.random()
            contacted = (
                assigned + dt.timedelta(hours=rng.uniform(0.2, 20))
                if roll < 0.92
                else (assigned + dt.timedelta(hours=rng.uniform(25, 72)) if roll < 0.97 else None)
            )
            answered = contacted is not None and rng.random() < 0.85
            resolution = (
                rng.choices(["resolved", "partly", "unresolved"], [70, 15, 15])[0] if answered else ""
            )
            satisfaction = (
                rng.choices(["satisfied", "basic", "dissatisfied", "unrated"], [75, 12, 8, 5])[0]
                if answered
                else ""
            )
            if satisfaction == Satisfaction.UNRATED:
                resolution = ""
            excluded = satisfaction == "dissatisfied" and rng.random() < 0.2
            demand_type = (
                "praise" if rng.random() < 0.02 else rng.choice(["complaint", "help", "report", "consult"])
            )
            state = State.VISITED if answered else (State.CONTACTED if contacted else State.DISPATCHED)
            number = f"B{month:%y%m}{made + i:07d}"
            demands.append(
                Demand(
                    number=number,
                    tracking_code=number[-10:].rjust(10, "X"),
                    channel="hotline",
                    demand_type=demand_type,
                    title="路灯不亮",
                    content="小区门口路灯坏了",
                    street=rng.choice(streets),
                    state=state,
                    lead_unit=unit,
                    received_at=received,
                    dispatched_at=assigned,
                    contacted_at=contacted,
                    contact_due=contact_due,
                    finish_due=assigned + dt.timedelta(days=9),
                    resolution=resolution,
                    satisfaction=satisfaction,
                    rating_excluded=excluded,
                    visited_at=contacted + dt.timedelta(days=2) if answered else None,
                )
            )
            plans.append((received, dispatched, first_unit, unit, assigned, contact_due, contacted, answered))
        with transaction.atomic():
            created = Demand.objects.bulk_create(demands)
            events = []
            for demand, (received, dispatched, first_unit, unit, assigned, due, contacted, answered) in zip(
                created, plans, strict=True
            ):

                def ev(action, at, _pk=demand.pk, **data):
                    return DemandEvent(demand_id=_pk, at=at, actor_name="bench", action=action, data=data)

                events.append(ev("receive", received))
                first_due = (dispatched + dt.timedelta(days=1)).astimezone(tz)
                events.append(
                    ev("dispatch", dispatched, lead_unit=first_unit.pk, contact_due=first_due.isoformat())
                )
                if first_unit != unit:
                    events.append(ev("dispute", dispatched + dt.timedelta(hours=1), unit=first_unit.pk))
                    events.append(
                        ev(
                            "redispatch",
                            assigned,
                            lead_unit=unit.pk,
                            contact_due=due.isoformat(),
                            dispute_upheld_for=first_unit.pk,
                        )
                    )
                events.append(ev("acknowledge", assigned + dt.timedelta(minutes=5)))
                if contacted:
                    events.append(ev("contact", contacted, on_time=contacted <= due, unit=unit.pk))
                if answered:
                    events.append(ev("reply", contacted + dt.timedelta(days=1)))
                    events.append(
                        ev(
                            "return_visit",
                            demand.visited_at,
                            resolution=demand.resolution,
                            satisfaction=demand.satisfaction,
                            unit=unit.pk,
                        )
                    )
            DemandEvent.objects.bulk_create(events, batch_size=5000)
            # 3 % of the batch are duplicates merged into the batch's first demand
            merged = [d.pk for d in created[1:] if rng.random() < 0.03]
            Demand.objects.filter(pk__in=merged).update(master=created[0].pk, state=State.MERGED)
        made += size
        print(f"  seeded {made:,} demands", end="\r", flush=True)
    print()


def main() -> None:
    args = parse_args()
    url, cleanup = setup_database(args)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings_test")
    import django

    django.setup()
    try:
        run(args)
    finally:
        cleanup()


def time_rankings(month, repeat: int, label: str):
    from changxin.insight.rankings import monthly_rankings

    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        rankings = monthly_rankings(month)
        timings.append(time.perf_counter() - started)
    ranked = sum(len(r.ranked) for r in rankings.values())
    print(
        f"monthly_rankings, {label} (4 groups, {ranked} units ranked): "
        f"min {min(timings):.2f}s, median {statistics.median(timings):.2f}s over {repeat} runs"
    )
    return rankings


def run(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from changxin.core.divisions import load_divisions
    from changxin.core.models import OrgUnit
    from changxin.demands.models import DemandEvent
    from changxin.insight.metrics import Period, demands_behind, rates_for_unit, weights_for_month

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")  # a throwaway file: durability does not matter
    call_command("migrate", verbosity=0)
    load_divisions()
    month = dt.date(2025, 3, 1)
    started = time.perf_counter()
    seed(args.n, month, random.Random(args.seed))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {args.n:,} demands, {DemandEvent.objects.count():,} events in {time.perf_counter() - started:.1f}s"
    )

    rankings = time_rankings(month, args.repeat, "as migrated")
    if not args.no_index_comparison:
        # The index requested from the demands owner: first-dispatch lookups by (action, at).
        with connection.cursor() as cursor:
            cursor.execute("CREATE INDEX bench_event_action_at ON demands_demandevent (action, at)")
            cursor.execute("ANALYZE")
        time_rankings(month, args.repeat, "with index (action, at)")
    period = Period.month(month)
    started = time.perf_counter()
    district = rates_for_unit(OrgUnit.objects.get(code="110106"), period, weights_for_month(month))
    print(
        f"district total: dispatched {district.dispatched:,}, response {float(district.response_rate):.4f}, "
        f"resolution {float(district.resolution_rate):.4f}, satisfaction {float(district.satisfaction_rate):.4f}, "
        f"composite {float(district.composite):.4f} ({time.perf_counter() - started:.2f}s)"
    )
    top = rankings["street"].ranked[0]
    started = time.perf_counter()
    behind = demands_behind(period, "response", "numerator", top.unit).count()
    assert behind == top.rates.responded
    print(f"drill-down count for {top.unit.name}: {behind:,} ({time.perf_counter() - started:.2f}s)")
    for row in rankings["street"].ranked[:5]:
        print(f"  {row.rank:>2} {row.unit.name:<10} composite {float(row.rates.composite) * 100:.2f}")


if __name__ == "__main__":
    main()
