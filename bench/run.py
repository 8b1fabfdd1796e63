"""`make bench`: run every benchmark in turn, each recording into bench/results.json, then print the table.

    .venv/bin/python bench/run.py                 # all of them
    .venv/bin/python bench/run.py --only intake   # one (repeatable)
    .venv/bin/python bench/run.py --list

Each entry below is a script in bench/ that measures one thing and calls ``bench.results.record``.
The PostgreSQL ones need the server from README (127.0.0.1:5432, user postgres); they create and
drop their own databases and never touch the dev or test database. A benchmark that fails is
reported and the others still run; the command exits non-zero if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import table  # noqa: E402

PY = sys.executable

# (name, argv). Order matters: the 1M-demand database is generated once and reused by the ones after it.
BENCHES: list[tuple[str, list[str]]] = [
    # generates changxin_bench_1m (1 M demands) and keeps it for the benchmarks after it
    ("scale", [PY, "bench/scale_bench.py", "--keep", "--record"]),
    ("triage", [PY, "bench/triage_bench.py", "--record"]),
    ("hotspots", [PY, "bench/hotspots_bench.py", "--record"]),
    ("intake", [PY, "bench/intake_bench.py", "--record"]),
    ("partitioning", [PY, "bench/partition_bench.py"]),
    ("dashboards", [PY, "bench/dashboards_bench.py"]),  # its own PostgreSQL database, 1 M demands
    # 100 k synthetic rows through `import-demands` (COPY) into a throwaway PostgreSQL database
    ("import", [PY, "bench/import_bench.py", "--backends", "postgresql", "--rows", "100000", "--record"]),
    # the same file as a first load with --rebuild-indexes (locks the tables; recorded as rebuild_*)
    (
        "import-first-load",
        [
            PY,
            "bench/import_bench.py",
            "--backends",
            "postgresql",
            "--rows",
            "100000",
            "--rebuild-indexes",
            "--record",
        ],
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="run only this benchmark (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args()
    if args.list:
        for name, argv in BENCHES:
            print(f"{name:<12} {' '.join(argv[1:])}")
        return 0
    unknown = set(args.only) - {name for name, _ in BENCHES}
    if unknown:
        parser.error(f"--only: unknown benchmark {', '.join(sorted(unknown))}")
    failed = []
    for name, argv in BENCHES:
        if args.only and name not in args.only:
            continue
        print(f"\n== {name}: {' '.join(argv[1:])}", flush=True)
        started = time.monotonic()
        code = subprocess.call(argv, cwd=ROOT)
        print(f"== {name}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    print()
    print(table())
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
