"""Benchmark: demands created per second through the REST API, against the limit and a peer.

    .venv/bin/python bench/intake_bench.py                    # print the figures
    .venv/bin/python bench/intake_bench.py --record           # and record them (bench/results.json)
    .venv/bin/python bench/intake_bench.py --seconds 5 --rounds 2 --flat-open 20000   # quicker

Three gunicorn servers, each with 2 sync workers on loopback (`--threads N`: 2 gthread workers
× N threads, the same for all three), each on its own throwaway PostgreSQL
database (created here, dropped afterwards; the limit shares the intake's):

- intake: changxin (production settings, DEBUG off), `POST /api/v1/demands` with an API key of
  an operator (the 12345 integration's role); jobs go to a Redis queue of this run's own name
  (no worker runs meanwhile: the request's share is what is measured; the queue is deleted after);
- limit: bench/limit_site.py, a bare Django view inserting one row (same database, same body);
- peer: django-helpdesk 2.6.1, `POST /api/tickets/` with a DRF token of a staff user, in its own
  virtualenv (bench/.peer-venv, built on first use from PyPI) with a minimal project generated in
  a temporary directory.

20 client threads (stdlib http.client, a new connection per request, as gunicorn's sync workers
close it) send for `--seconds` per round; rounds alternate intake, limit, peer `--rounds` times,
so a load change on the shared machine hits all three alike. Then the database is topped up to
`--flat-open` open demands (bulk SQL copying a template row) and intake/limit rounds alternate
again: flatness = intake demands/s at 100 k open ÷ at 1 k open.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# BENCH_DB_SUFFIX keeps two checkouts' runs on one PostgreSQL apart
INTAKE_DB = "changxin_bench_intake" + os.environ.get("BENCH_DB_SUFFIX", "")
PEER_DB = "changxin_bench_helpdesk" + os.environ.get("BENCH_DB_SUFFIX", "")
PEER_VENV = ROOT / "bench" / ".peer-venv"
PEER_REQUIREMENTS = ["django-helpdesk==2.6.1", "psycopg[binary]>=3.2", "gunicorn>=22"]
WORKERS = 2
THREADS = 1

TITLES = [
    ("小区路灯不亮", "{place}门口的路灯坏了{n}天，晚上出行很不方便，请尽快维修。"),
    ("夜间施工噪音扰民", "{place}附近工地每天夜里十一点以后还在施工，噪音很大，影响休息，已持续{n}天。"),
    ("楼道堆放杂物", "{place}{n}号楼楼道里堆满了杂物，存在消防隐患，希望物业清理。"),
    ("餐馆油烟扰民", "{place}底商餐馆油烟直排，{n}楼住户无法开窗，请相关部门处理。"),
    ("道路破损", "{place}南侧道路有一个大坑，约{n}厘米深，下雨积水，车辆和行人经过很危险。"),
    ("共享单车乱停放", "{place}地铁站出口共享单车堆放{n}多辆，堵塞盲道和人行道。"),
    ("供暖温度不达标", "{place}{n}号楼室内温度只有十五度左右，供暖不达标，请协调热力公司。"),
    ("垃圾清运不及时", "{place}垃圾桶已经满了{n}天没人清运，气味很大，招来很多蚊蝇。"),
    ("违规占道经营", "{place}路口每天早上有{n}个摊贩占道经营，影响交通，请城管处理。"),
    ("小区停车难", "{place}小区车位不足，外来车辆随意停放，{n}辆车堵住了消防通道。"),
]
PLACES = [
    "长辛店大街",
    "卢沟桥小井村",
    "宛平城",
    "新村街道育仁里",
    "丰台东大街",
    "方庄芳星园",
    "大红门西路",
    "马家堡东路",
]


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one round (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each server (default 3)")
    parser.add_argument("--open", type=int, default=1000, help="open demands at the start (default 1000)")
    parser.add_argument("--flat-open", type=int, default=100_000, help="open demands for flatness (100000)")
    parser.add_argument(
        "--threads",
        type=int,
        default=THREADS,
        help=f"threads per gunicorn worker, the same for all three servers (default {THREADS}; "
        "above 1 the gthread worker class, 1 the sync workers)",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip django-helpdesk")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--record", action="store_true", help="record into bench/results.json")
    return parser.parse_args()


# --- databases -----------------------------------------------------------------------------------


def pg(url: str, sql: str, params=None, fetch=False):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if fetch else None


def db_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def recreate(admin_url: str, name: str) -> str:
    pg(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    pg(admin_url, f"CREATE DATABASE {name}")
    return db_url(admin_url, name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the three servers ------------------------------------------------------------------------


def intake_env(url: str, queue: str, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHANGXIN_", "REDIS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="changxin.settings",
        CHANGXIN_ENV_FILE="",  # never a checkout's .env.local (DEBUG=1)
        DEBUG="0",
        SECRET_KEY="bench-intake-" + queue,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=url,
        CHANGXIN_JOBS_URL=redis_url,
        CHANGXIN_JOBS_QUEUE=queue,
        CHANGXIN_VAR_DIR=tempfile.mkdtemp(prefix="changxin-bench-intake-"),
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare_intake(env: dict) -> dict:
    """Migrate, load Fengtai's divisions and the taxonomy, make an operator's API key."""
    script = r"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
call_command("load_divisions", verbosity=0)
call_command("load_taxonomy", verbosity=0)
from changxin.api import keys
from changxin.core.models import OrgUnit, UnitKind
key, raw = keys.create_key("bench intake")
streets = list(OrgUnit.objects.filter(kind__in=[UnitKind.STREET, UnitKind.TOWN]).values_list("pk", flat=True))
print(json.dumps({"key": raw, "streets": streets}))
"""
    return run_json([sys.executable, "-c", script], env, ROOT)


def run_json(argv: list[str], env: dict, cwd: Path) -> dict:
    """Run a setup script; its last line of output is JSON. Shows its output when it fails."""
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-5000:])
        raise RuntimeError(f"setup script failed with exit {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


PEER_SETTINGS = """
import os
import dj_database_url
BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = "bench-peer-helpdesk"
DEBUG = False
ALLOWED_HOSTS = ["*"]
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages"]},
}]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_ROOT = os.path.join(BASE_DIR, "media")
# Mail is rendered and handed to a backend as in production, kept in memory here.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HELPDESK_TEAMS_MODE_ENABLED = False  # teams need pinax-teams; a district's ticket desk does without
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
}
"""

PEER_URLS = """
from django.contrib import admin
from django.urls import include, path
urlpatterns = [path("admin/", admin.site.urls), path("", include("helpdesk.urls", namespace="helpdesk"))]
"""

PEER_PREPARE = r"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue
user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password")
queue = Queue.objects.create(title="12345", slug="hotline", email_address="hotline@example.com")
print(json.dumps({"token": Token.objects.create(user=user).key, "queue": queue.pk}))
"""


def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists() or subprocess.call(
        [str(python), "-c", "import helpdesk, rest_framework, psycopg, gunicorn, dj_database_url"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ):
        print(f"building the peer's virtualenv in {PEER_VENV} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS, "dj-database-url>=2.2"],
            check=True,
        )
    return python


def prepare_peer(url: str, project: Path) -> tuple[dict, dict]:
    (project / "peer_settings.py").write_text(PEER_SETTINGS, encoding="utf-8")
    (project / "peer_urls.py").write_text(PEER_URLS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))}
    env.update(DJANGO_SETTINGS_MODULE="peer_settings", DATABASE_URL=url, PYTHONPATH=str(project))
    return run_json([str(peer_python()), "-c", PEER_PREPARE], env, project), env


def worker_args(threads: int) -> list[str]:
    """The same worker model for every server: sync, or gthread with `threads` per worker."""
    return ["--workers", str(WORKERS)] + (
        ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    )


class Server:
    def __init__(self, name: str, gunicorn: str, app: str, env: dict, cwd: Path, log: Path, threads: int = 1):
        self.name, self.port = name, free_port()
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [
                gunicorn,
                app,
                *worker_args(threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} server did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


# --- load ------------------------------------------------------------------------------------------


class Target:
    def __init__(self, name: str, port: int, path: str, headers: dict, body):
        self.name, self.port, self.path, self.headers, self.body = name, port, path, headers, body


def demand_body(rng: random.Random, streets: list[int]) -> dict:
    title, content = rng.choice(TITLES)
    place = rng.choice(PLACES)
    body = {
        "demand_type": rng.choice(["complaint", "help", "report", "consult"]),
        "title": title,
        "content": content.format(place=place, n=rng.randint(2, 30)),
        "requester_name": rng.choice(["王", "李", "张", "刘", "陈"])
        + rng.choice(["伟", "芳", "娜", "敏", "静"]),
        "requester_phone": f"139{rng.randint(0, 99_999_999):08d}",
        "address": f"丰台区{place}{rng.randint(1, 40)}号",
    }
    if rng.random() < 0.5 and streets:
        body["street"] = rng.choice(streets)
    return body


def run_round(target: Target, clients: int, seconds: float, seed: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline_box: list[float] = []

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        mine, bad = [], []
        start_gate.wait()
        deadline = deadline_box[0]
        while time.perf_counter() < deadline:
            payload = json.dumps(target.body(rng)).encode()
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=60)
                conn.request(
                    "POST", target.path, payload, {"Content-Type": "application/json", **target.headers}
                )
                response = conn.getresponse()
                data = response.read()
                conn.close()
            except OSError as exc:
                bad.append(repr(exc))
                continue
            if response.status in (200, 201):
                mine.append(time.perf_counter() - started)
            else:
                bad.append(f"{response.status} {data[:200]!r}")
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline_box.append(time.perf_counter() + seconds)
    began = time.perf_counter()
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"ok": len(latencies), "errors": errors, "elapsed": elapsed, "latencies": latencies}


def summarise(rounds: list[dict]) -> dict:
    latencies = sorted(x for r in rounds for x in r["latencies"])
    ok = sum(r["ok"] for r in rounds)
    elapsed = sum(r["elapsed"] for r in rounds)
    errors = [e for r in rounds for e in r["errors"]]

    def pct(p):
        return (
            1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")
        )

    return {
        "per_s": ok / elapsed if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "requests": ok,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "rounds_per_s": [round(r["ok"] / r["elapsed"], 1) for r in rounds],
    }


def count_open(url: str) -> int:
    open_states = ("received", "dispatched", "disputed", "acknowledged", "contacted", "in_progress")
    return pg(
        url, "SELECT count(*) FROM demands_demand WHERE state = ANY(%s)", [list(open_states)], fetch=True
    )[0][0]


def seed_open(url: str, total: int) -> int:
    """Top the database up to `total` open demands: copies of one demand made through the API,
    received over the last six days (inside the duplicate window), in one INSERT … SELECT."""
    have = count_open(url)
    missing = total - have
    if missing <= 0:
        return have
    columns = [
        row[0]
        for row in pg(
            url,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'demands_demand' "
            "AND column_name NOT IN ('id', 'number', 'tracking_code', 'idempotency_key', 'received_at') "
            "ORDER BY ordinal_position",
            fetch=True,
        )
    ]
    template, offset = pg(url, "SELECT min(id), max(id) FROM demands_demand", fetch=True)[0]
    cols = ", ".join(f'"{c}"' for c in columns)
    pg(
        url,
        f"INSERT INTO demands_demand ({cols}, number, tracking_code, received_at) "
        f"SELECT {cols}, 'SEED' || lpad(g::text, 10, '0'), 'S' || lpad(g::text, 10, '0'), "
        f"now() - (g %% 518400) * interval '1 second' "
        f"FROM demands_demand d, generate_series(%s::bigint, %s::bigint) g WHERE d.id = %s",
        [offset + 1, offset + missing, template],
    )
    pg(url, "VACUUM ANALYZE demands_demand")
    return count_open(url)


def flush_queue(env: dict) -> None:
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from huey.contrib.djhuey import HUEY; HUEY.flush()",
        ],
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
    )


def main() -> int:
    args = parse_args()
    bindir = Path(sys.executable).parent
    gunicorn = str(bindir / "gunicorn")
    queue = f"bench-intake-{os.getpid()}"
    logs = Path(tempfile.mkdtemp(prefix="changxin-bench-intake-logs-"))
    project = Path(tempfile.mkdtemp(prefix="changxin-bench-peer-"))
    servers: list[Server] = []
    intake_url = recreate(args.pg_admin_url, INTAKE_DB)
    env = intake_env(intake_url, queue, args.redis_url)
    try:
        print("preparing changxin …", flush=True)
        world = prepare_intake(env)
        from bench.limit_site import CREATE_TABLE

        pg(intake_url, CREATE_TABLE)
        limit_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.limit_site"}
        servers.append(
            Server(
                "intake",
                gunicorn,
                "changxin.wsgi:application",
                env,
                ROOT,
                logs / "intake.log",
                args.threads,
            )
        )
        servers.append(
            Server(
                "limit",
                gunicorn,
                "bench.limit_site:application",
                limit_env,
                ROOT,
                logs / "limit.log",
                args.threads,
            )
        )
        targets = {
            "intake": Target(
                "intake",
                servers[0].port,
                "/api/v1/demands",
                {"X-API-Key": world["key"]},
                lambda rng: demand_body(rng, world["streets"]),
            ),
            "limit": Target("limit", servers[1].port, "/insert", {}, lambda rng: demand_body(rng, [])),
        }
        if not args.no_peer:
            print("preparing django-helpdesk 2.6.1 …", flush=True)
            peer_url = recreate(args.pg_admin_url, PEER_DB)
            peer, peer_env = prepare_peer(peer_url, project)
            peer_gunicorn = str(PEER_VENV / "bin" / "gunicorn")
            servers.append(
                Server(
                    "peer",
                    peer_gunicorn,
                    "django.core.wsgi:get_wsgi_application()",
                    peer_env,
                    project,
                    logs / "peer.log",
                    args.threads,
                )
            )

            def ticket(rng, queue_id=peer["queue"]):
                body = demand_body(rng, [])
                return {
                    "queue": queue_id,
                    "title": body["title"],
                    "description": body["content"],
                    "submitter_email": f"caller{rng.randint(1, 10**6)}@example.com",
                    "priority": 3,
                }

            targets["peer"] = Target(
                "peer", servers[2].port, "/api/tickets/", {"Authorization": f"Token {peer['token']}"}, ticket
            )
        for server in servers:
            server.wait_ready("/")
        # a few requests to each server first (workers warm): the seed copies the first demand
        warm = {name: run_round(t, 2, 1.0, 0) for name, t in targets.items()}
        for name, result in warm.items():
            if result["errors"] or not result["ok"]:
                raise RuntimeError(f"{name}: warm-up failed: {result['errors'][:1]}")
        opened = seed_open(intake_url, args.open)
        print(f"open demands: {opened}", flush=True)

        results: dict[str, list[dict]] = {name: [] for name in targets}
        for r in range(args.rounds):
            for name, target in targets.items():
                results[name].append(run_round(target, args.clients, args.seconds, seed=r + 1))
                print(
                    f"  round {r + 1} {name:<6} {results[name][-1]['ok'] / results[name][-1]['elapsed']:8.1f}/s",
                    flush=True,
                )
        low_open = count_open(intake_url)
        flat_low = summarise(results["intake"])
        flat_low_limit = summarise(results["limit"])

        print(f"seeding {args.flat_open:,} open demands …", flush=True)
        opened = seed_open(intake_url, args.flat_open)
        print(f"open demands: {opened:,}", flush=True)
        high: dict[str, list[dict]] = {"intake": [], "limit": []}
        for r in range(args.rounds):
            for name in ("intake", "limit"):
                high[name].append(run_round(targets[name], args.clients, args.seconds, seed=100 + r))
                print(
                    f"  round {r + 1} {name:<6} {high[name][-1]['ok'] / high[name][-1]['elapsed']:8.1f}/s",
                    flush=True,
                )
        flat_high = summarise(high["intake"])
        flat_high_limit = summarise(high["limit"])
    finally:
        for server in servers:
            server.stop()
        flush_queue(env)
        shutil.rmtree(project, ignore_errors=True)
        shutil.rmtree(env["CHANGXIN_VAR_DIR"], ignore_errors=True)
        if not args.keep:
            pg(args.pg_admin_url, f"DROP DATABASE IF EXISTS {INTAKE_DB} WITH (FORCE)")
            pg(args.pg_admin_url, f"DROP DATABASE IF EXISTS {PEER_DB} WITH (FORCE)")

    intake = summarise(results["intake"])
    limit = summarise(results["limit"])
    peer = summarise(results["peer"]) if "peer" in results else None
    flatness = flat_high["per_s"] / flat_low["per_s"] if flat_low["per_s"] else 0.0
    flatness_vs_limit = (
        (flat_high["per_s"] / flat_high_limit["per_s"]) / (flat_low["per_s"] / flat_low_limit["per_s"])
        if flat_low["per_s"] and flat_high_limit["per_s"]
        else 0.0
    )
    print()
    for name, s in (("intake", intake), ("limit", limit), ("peer", peer), ("intake@100k", flat_high)):
        if s:
            print(
                f"{name:<12} {s['per_s']:8.1f}/s  p50 {s['p50_ms']:6.1f} ms  p99 {s['p99_ms']:6.1f} ms  "
                f"{s['requests']} ok, {s['errors']} errors {s['first_error'][:120]}  rounds {s['rounds_per_s']}"
            )
    figures = {
        "per_s": round(intake["per_s"], 1),
        "p50_ms": round(intake["p50_ms"], 1),
        "p99_ms": round(intake["p99_ms"], 1),
        "limit_per_s": round(limit["per_s"], 1),
        "ratio_to_limit": round(intake["per_s"] / limit["per_s"], 3),
        "flatness": round(flatness, 3),
        "flatness_vs_limit": round(flatness_vs_limit, 3),
        "open_low": low_open,
        "open_high": opened,
        "per_s_at_high": round(flat_high["per_s"], 1),
        "p99_ms_at_high": round(flat_high["p99_ms"], 1),
        "errors": intake["errors"] + flat_high["errors"],
        "clients": args.clients,
        "workers": WORKERS,
        "threads_per_worker": args.threads,
    }
    if peer:
        figures.update(
            peer_per_s=round(peer["per_s"], 1), ratio_to_peer=round(intake["per_s"] / peer["per_s"], 3)
        )
        figures["peer_p99_ms"] = round(peer["p99_ms"], 1)
    figures["limit_p99_ms"] = round(limit["p99_ms"], 1)
    print(json.dumps(figures, indent=2))
    if args.record:
        from bench.results import record

        record(
            "intake",
            figures,
            note=f"{args.clients} clients, {args.rounds}×{args.seconds:g} s rounds interleaved; gunicorn "
            + (
                f"{WORKERS} gthread workers × {args.threads} threads"
                if args.threads > 1
                else f"{WORKERS} sync workers"
            )
            + "; no job worker during the rounds",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
