"""Profile intake in-process: N `POST /api/v1/demands` through the WSGI application, PostgreSQL.

    .venv/bin/python bench/intake_profile.py                 # 300 requests, top 35 by own time
    .venv/bin/python bench/intake_profile.py -n 500 --sort cumulative --top 60

The same settings as bench/intake_bench.py's intake server (DEBUG off, production middleware, an
operator's API key, jobs to a throwaway Redis queue), the same request bodies, each request a
full WSGI call (middleware, routing, auth, the route, the response) — what one gunicorn worker
does per request, minus the socket. Prints CPU ms per request (process time), then cProfile's
table. The database `changxin_bench_profile` is created and dropped here.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake_bench import (  # noqa: E402
    PG_ADMIN_URL,
    demand_body,
    flush_queue,
    intake_env,
    pg,
    prepare_intake,
    recreate,
)

DB = "changxin_bench_profile"


def child(args) -> int:
    """Runs inside the prepared environment: warm up, then measure and profile."""
    import cProfile
    import pstats

    from changxin.wsgi import application

    world = json.loads(os.environ["BENCH_WORLD"])
    rng = random.Random(1)

    def call(body: dict) -> int:
        payload = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/demands",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(payload)),
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_API_KEY": world["key"],
            "wsgi.input": io.BytesIO(payload),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status = []
        body_iter = application(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(body_iter)
        if hasattr(body_iter, "close"):
            body_iter.close()
        return int(status[0].split()[0])

    bodies = [demand_body(rng, world["streets"]) for _ in range(args.n + 50)]
    for body in bodies[:50]:  # warm: caches, connections, lazy imports
        code = call(body)
        assert code == 201, code
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for body in bodies[50:]:
        call(body)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"{args.n} intakes: {1000 * cpu / args.n:.2f} ms CPU, {1000 * wall / args.n:.2f} ms wall per request"
    )
    profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    more = [demand_body(rng, world["streets"]) for _ in range(args.n)]
    profiler.enable()
    for body in more:
        call(body)
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats(args.sort)
    stats.print_stats(args.top)
    if args.callers:
        stats.print_callers(args.callers)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--cpu", action="store_true", help="profile process time, not wall time")
    parser.add_argument("--callers", default="", help="also print the callers of functions matching this")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    if args.child:
        return child(args)
    url = recreate(args.pg_admin_url, DB)
    env = intake_env(url, f"bench-profile-{os.getpid()}", args.redis_url)
    try:
        world = prepare_intake(env)
        env["BENCH_WORLD"] = json.dumps({"key": world["key"], "streets": world["streets"]})
        argv = [sys.executable, __file__, "--child", "-n", str(args.n), "--sort", args.sort]
        argv += ["--cpu"] * args.cpu + (["--callers", args.callers] if args.callers else [])
        return subprocess.call([*argv, "--top", str(args.top)], env=env, cwd=ROOT)
    finally:
        flush_queue(env)
        pg(args.pg_admin_url, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    raise SystemExit(main())
