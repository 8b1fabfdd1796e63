"""Measure duplicate detection: quality on synthetic near-duplicates of real messages, and the time
of one intake's duplicate search with 10,000 open demands.

    .venv/bin/python bench/triage_duplicates.py [--data /work/shared/data] [--open 10000] [--queries 300]

Texts come from messages_hot.csv in the shared data folder (never copied into the project). A
throwaway SQLite database under a temporary directory is migrated and filled with `--open` open
demands received over the last 7 days, spread over Fengtai's 26 streets/towns.

Quality: for `--queries` pool demands a re-submission is made the way people repeat themselves
(prefix "再次反映", a sentence added, ~8 % of characters dropped, punctuation changed) and placed in
the same street; recall = the source is found; precision = share of returned demands that are the
source (other returned demands are counted as false alarms even when the data itself repeats).
Separately, the pair-level score is computed for random distinct messages (false-alarm rate).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="changxin-dupbench-")
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings_test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from changxin.core.divisions import load_divisions  # noqa: E402
from changxin.core.models import OrgUnit, UnitKind  # noqa: E402
from changxin.demands.models import Demand, State  # noqa: E402
from changxin.triage.duplicates import find_duplicates, shingles, similarity, threshold  # noqa: E402


def resubmit(text: str, rng: random.Random) -> str:
    chars = [c for c in text if rng.random() > 0.08]
    out = "".join(chars).replace("，", ",").replace("。", "！")
    return (
        rng.choice(["再次反映：", "还是没人管，", "", "第二次反映，"])
        + out
        + rng.choice(["请尽快处理。", "", "谢谢！"])
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.environ.get("CHANGXIN_SHARED_DATA", "/work/shared/data"))
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    path = Path(args.data) / "messages_hot.csv"
    if not path.exists():
        sys.exit(f"{path} not found")
    with open(path, encoding="utf-8") as handle:
        messages = [
            (r["title"][:120], r["content"][:5000]) for r in csv.DictReader(handle) if len(r["content"]) >= 40
        ]
    rng = random.Random(args.seed)

    # pair level
    pairs = [rng.sample(messages, 2) for _ in range(5000)]
    random_scores = [similarity(shingles(a[0] + a[1]), shingles(b[0] + b[1])) for a, b in pairs]
    bar = threshold()
    print(
        f"threshold {bar}; random distinct pairs scoring ≥ threshold: "
        f"{sum(s >= bar for s in random_scores) / len(random_scores):.2%} of {len(random_scores)}"
    )
    sources = rng.sample(messages, 1000)
    variant_scores = [
        similarity(shingles(t + c), shingles(resubmit(t, rng) + resubmit(c, rng))) for t, c in sources
    ]
    print(
        f"synthetic re-submissions scoring ≥ threshold: {sum(s >= bar for s in variant_scores) / 1000:.1%}; "
        f"median score {statistics.median(variant_scores):.2f}"
    )

    # database
    call_command("migrate", verbosity=0)
    load_divisions()
    streets = list(OrgUnit.objects.filter(kind__in=[UnitKind.STREET, UnitKind.TOWN]))
    now = timezone.now()
    rows = []
    for i in range(args.open):
        title, content = messages[i % len(messages)]
        rows.append(
            Demand(
                number=f"B{i:08d}",
                tracking_code=f"T{i:09d}",
                demand_type="complaint",
                title=title,
                content=content,
                street=streets[i % len(streets)],
                state=State.RECEIVED,
                received_at=now - dt.timedelta(minutes=rng.randrange(7 * 24 * 60)),
            )
        )
    Demand.objects.bulk_create(rows, batch_size=1000)
    pool = list(Demand.objects.values_list("pk", "title", "content", "street_id"))
    queries = rng.sample(pool[: len(messages)], args.queries)  # sources whose text occurs once in the pool
    found = returned = correct = 0
    times, cpus = [], []
    for pk, title, content, street_id in queries:
        new = Demand(
            title=resubmit(title, rng)[:120],
            content=resubmit(content, rng),
            street_id=street_id,
            received_at=now,
        )
        started, cpu = time.perf_counter(), time.process_time()
        hits = find_duplicates(new)
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        ids = [d.pk for d, _ in hits]
        found += pk in ids
        returned += len(ids)
        correct += pk in ids
    times.sort()
    cpus.sort()
    print(f"open demands: {args.open} over {len(streets)} streets/towns, window 7 days")
    print(
        f"intake search: recall {found / len(queries):.1%}, precision {correct / max(returned, 1):.1%} "
        f"({returned} returned for {len(queries)} queries)"
    )
    print(
        f"time per intake: median {1000 * statistics.median(times):.1f} ms, "
        f"p95 {1000 * times[int(0.95 * len(times))]:.1f} ms; CPU median {1000 * statistics.median(cpus):.1f} ms "
        f"(wall time depends on the machine's load: {os.getloadavg()[0]:.1f} load average now)"
    )
    # no place known: compared by text over the whole window (the slow path)
    slow = []
    for _pk, title, content, _street in queries[:20]:
        new = Demand(title=title, content=resubmit(content, rng), received_at=now)
        started = time.process_time()
        find_duplicates(new)
        slow.append(time.process_time() - started)
    print(
        f"time per intake without a place (text over the whole window, capped): "
        f"CPU median {1000 * statistics.median(slow):.0f} ms"
    )


if __name__ == "__main__":
    main()
