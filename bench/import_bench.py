"""Benchmark `import-demands`: a synthetic 100k-row CSV, imported on PostgreSQL (COPY) and SQLite.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--batch-size 1000] [--backends postgresql,sqlite]
    .venv/bin/python bench/import_bench.py --backends postgresql --record   # what `make bench` runs
    .venv/bin/python bench/import_bench.py --backends postgresql --orm      # the ORM path on PostgreSQL

The CSV is synthetic (generated from templates, Fengtai's divisions and the category tree; no real
citizen messages). Each backend runs in its own process against a throwaway database (a temporary
SQLite file; on PostgreSQL a temporary database created on the server of DATABASE_URL when it is a
PostgreSQL URL, else the one in README (127.0.0.1:5432, user postgres), and dropped after), so the
peak RSS printed is that import's own. Prints rows/s and peak RSS (resource.getrusage). With
--record, the PostgreSQL figure is recorded into bench/results.json as import.rows_per_s (with
--orm as import.orm_rows_per_s instead: the ORM path forced, for comparison).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "changxin" / "core" / "data"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TAXONOMY = ROOT / "changxin" / "demands" / "data" / "taxonomy.csv"

HEADER = [
    "工单编号", "受理时间", "类型", "标题", "内容", "渠道", "紧急程度", "分类", "诉求人", "联系电话", "地址",
    "街乡镇", "社区村", "主办单位", "派单时间", "联系时间", "办结时间", "答复内容", "解决情况", "满意度",
]  # fmt: skip

PROBLEMS = [
    ("噪音污染", "夜间施工噪音扰民", "附近工地晚上十点以后还在打桩，噪音很大，老人孩子休息不好。"),
    ("小区管理", "小区停车位紧张", "小区内车位不够，外来车辆随意停放，消防通道经常被堵。"),
    ("冬季采暖", "家中暖气不热", "供暖开始后家里暖气一直不热，室温只有十五度左右。"),
    ("环境卫生", "垃圾分类桶站满溢", "楼下垃圾桶站每天下午就满了，清运不及时，气味很大。"),
    ("城管执法", "占道经营", "路口早晚有商贩占道摆摊，行人只能走机动车道。"),
    ("特种设备管理", "老旧小区电梯故障", "楼里电梯这周坏了三次，楼上有行动不便的老人。"),
    ("物业服务", "物业费收取问题", "物业今年上调物业费但没有公示，服务也没有改善。"),
    ("自来水供应", "突然停水", "今天早上开始停水，没有提前通知，什么时候恢复？"),
    ("城市公共设施", "路灯不亮", "小区外道路的路灯坏了一个多月，晚上出行不安全。"),
    ("工资发放", "拖欠工资", "在一家装修公司干了三个月，老板一直拖欠工资不给。"),
    ("招生录取", "入学政策咨询", "孩子今年上小学，想咨询非京籍入学需要哪些材料。"),
    ("城镇居民医疗保险", "医保报销咨询", "想咨询门诊费用医保报销比例和起付线。"),
]
REPLIES = [
    "已联系诉求人，现场核实后督促责任单位整改，问题已解决。",
    "经协调，相关单位已于本周完成维修，诉求人表示认可。",
    "已向诉求人解释相关政策，并告知办理渠道和所需材料。",
    "已约谈物业公司，要求按规定公示收费标准，持续跟进。",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
DEPARTMENTS = [
    "区城管委",
    "区住建委",
    "区市场监管局",
    "区生态环境局",
    "区教委",
    "区人力社保局",
    "区医保局",
    "区水务局",
]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def generate(path: Path, rows: int, seed: int = 12345) -> None:
    rnd = random.Random(seed)
    streets = {r["code"]: r["name"] for r in read_csv(DATA / "fengtai_streets.csv")}
    communities = [r for r in read_csv(DATA / "fengtai_communities.csv") if r["street_code"] in streets]
    level3 = {r["level3"] for r in read_csv(TAXONOMY)}
    start = dt.datetime(2023, 1, 3, 8, 0)
    span = (dt.datetime(2024, 12, 20) - start).total_seconds()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            category, title, content = rnd.choice(PROBLEMS)
            category = category if category in level3 else ""
            community = rnd.choice(communities)
            street = streets[community["street_code"]]
            received = start + dt.timedelta(seconds=rnd.random() * span)
            kind = rnd.choices(["咨询", "求助", "投诉", "举报", "建议"], [20, 25, 40, 5, 10])[0]
            lead = street if rnd.random() < 0.7 else rnd.choice(DEPARTMENTS)
            stage = rnd.choices([0, 1, 2, 3, 4], [3, 3, 4, 10, 80])[0]  # received … archived
            dispatched = received + dt.timedelta(minutes=rnd.randint(3, 60)) if stage >= 1 else None
            contacted = dispatched + dt.timedelta(hours=rnd.uniform(0.5, 30)) if stage >= 2 else None
            replied = contacted + dt.timedelta(days=rnd.uniform(0.5, 9)) if stage >= 3 else None
            resolution = rnd.choices(["已解决", "部分解决", "未解决"], [70, 18, 12])[0] if stage >= 4 else ""
            satisfaction = rnd.choices(["满意", "基本满意", "不满意"], [65, 22, 13])[0] if stage >= 4 else ""

            def fmt(moment):
                return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""

            writer.writerow(
                [
                    f"FT{received:%y%m%d}{i:07d}",
                    fmt(received),
                    kind,
                    title,
                    f"{community['name']}居民反映：{content}",
                    rnd.choice(["12345", "12345", "12345", "网站", "小程序"]),
                    rnd.choices(["一般", "紧急"], [97, 3])[0],
                    category,
                    rnd.choice(SURNAMES) + rnd.choice(["先生", "女士"]),
                    f"139{rnd.randint(0, 99):02d}00{rnd.randint(0, 9999):04d}",
                    f"{street}{community['name'].removesuffix('社区').removesuffix('村')}{rnd.randint(1, 30)}号楼",
                    street,
                    community["code"],
                    lead if stage >= 1 else "",
                    fmt(dispatched),
                    fmt(contacted),
                    fmt(replied),
                    rnd.choice(REPLIES) if replied else "",
                    resolution,
                    satisfaction,
                ]
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def worker(
    file: Path, batch_size: int, *, orm: bool = False, rebuild: bool = False, record_figures: bool = False
) -> None:
    """Runs in a child process with DATABASE_URL pointing at a throwaway database."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from changxin.core.divisions import load_divisions
    from changxin.core.workcalendar import seed_from_chinese_calendar
    from changxin.demands.importer import DemandImporter
    from changxin.demands.models import Demand

    call_command("migrate", verbosity=0)
    load_divisions()
    seed_from_chinese_calendar([2023, 2024])
    rss_before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    importer = DemandImporter(batch_size=batch_size, copy=False if orm else None, rebuild_indexes=rebuild)
    server = server_cpu()
    result = importer.run(file)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    server = server_cpu() - server if server is not None else None
    assert result.bad == 0, result.errors[:5]
    assert Demand.objects.count() == result.written
    rate = result.written / elapsed
    load = os.getloadavg()[0]
    path = ("COPY+rebuild" if rebuild else "COPY") if importer.copy else "ORM"
    both = ""
    if server is not None:
        both = (
            f"; PostgreSQL backend CPU {server:.1f}s, together "
            f"{result.written / (cpu + server):,.0f} rows per CPU-second"
        )
    print(
        f"{connection.vendor:10} {path:4} rows={result.written} time={elapsed:.1f}s rows/s={rate:,.0f} "
        f"(CPU {cpu:.1f}s: {result.written / cpu:,.0f} rows per CPU-second{both}; load average {load:.1f}) "
        f"peak RSS={peak_rss_mb():.0f} MB (before import {rss_before:.0f} MB)",
        flush=True,
    )
    if record_figures and connection.vendor == "postgresql":
        from bench.results import record

        prefix = "orm_" if orm else "rebuild_" if rebuild else ""
        record(
            "import",
            {
                f"{prefix}rows_per_s": round(rate),
                f"{prefix}rows": result.written,
                f"{prefix}rows_per_cpu_s": round(result.written / cpu),
                f"{prefix}peak_rss_mb": round(peak_rss_mb()),
                f"{prefix}load_average": round(load, 1),
                **({f"{prefix}server_cpu_s": round(server, 1)} if server is not None else {}),
                # each path keeps its own note: the default and the --rebuild-indexes runs share the section
                f"{prefix}note": f"{path} path, batch {batch_size}, {result.written:,} synthetic rows; "
                f"load average {load:.1f}",
            },
        )


def server_cpu() -> float | None:
    """CPU-seconds used so far by this connection's PostgreSQL backend (from /proc: the server
    runs on this machine in the benchmark's set-up), None when it cannot be read."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_backend(name: str, url: str, file: Path, batch_size: int, extra: list[str]) -> None:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-only")
    env.pop("DEBUG", None)  # DEBUG would keep a log of every query
    subprocess.run(
        [sys.executable, __file__, "--worker", str(file), "--batch-size", str(batch_size), *extra],
        env=env,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--backends", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite (default both)"
    )
    parser.add_argument("--orm", action="store_true", help="force the ORM path on PostgreSQL (no COPY)")
    parser.add_argument(
        "--rebuild-indexes",
        action="store_true",
        help="import with rebuild_indexes (PostgreSQL: drop and rebuild secondary indexes and foreign keys)",
    )
    parser.add_argument(
        "--record", action="store_true", help="record the PostgreSQL figure in bench/results.json"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(
            Path(args.worker),
            args.batch_size,
            orm=args.orm,
            rebuild=args.rebuild_indexes,
            record_figures=args.record,
        )
        return
    backends = {b.strip() for b in args.backends.split(",") if b.strip()}
    if backends - {"postgresql", "sqlite"}:
        parser.error(f"--backends: unknown {', '.join(sorted(backends - {'postgresql', 'sqlite'}))}")
    extra = (["--orm"] if args.orm else []) + (["--record"] if args.record else [])
    extra += ["--rebuild-indexes"] if args.rebuild_indexes else []

    with tempfile.TemporaryDirectory(prefix="changxin-import-bench-") as tmp:
        file = Path(tmp) / "demands.csv"
        started = time.perf_counter()
        generate(file, args.rows)
        print(
            f"generated {args.rows:,} rows ({file.stat().st_size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        if "sqlite" in backends:
            run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", file, args.batch_size, extra)

        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            url = PG_ADMIN_URL
        if "postgresql" in backends:
            import psycopg

            bench_db = f"changxin_bench_{os.getpid()}"
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{bench_db}"')
            try:
                run_backend(
                    "postgresql", url.rsplit("/", 1)[0] + "/" + bench_db, file, args.batch_size, extra
                )
            finally:
                with psycopg.connect(url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')


if __name__ == "__main__":
    main()
