"""Measure the reply check on the public message/reply pairs.

    .venv/bin/python bench/triage_replycheck.py [--data /work/shared/data] [--seed 1]

(a) matched pairs: how many official replies pass, and how often each warning fires — on all
    replies and on "substantive" ones (≥ 150 characters; the data also holds many replies that
    only acknowledge or forward, which the check should flag);
(b) mismatched pairs: each message paired with another message's reply (a random derangement);
    how often "off_topic" fires (it should, almost always);
(c) a hand-labelled random sample of 60 replies (bench/triage_replycheck_labels.csv: ids and labels
    only, 1 = the reply states a concrete action, result, time or basis; 0 = acknowledges,
    forwards or promises vaguely): precision/recall of the "no concrete content" warnings
    (no_action, no_time, too_short) for the label 0.
The messages themselves are read from the shared data folder and never copied into the project.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings_test")

import django  # noqa: E402

django.setup()

from changxin.triage.replycheck import check_reply  # noqa: E402

VAGUE = {"no_action", "no_time", "too_short", "empty"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CHANGXIN_SHARED_DATA", "/work/shared/data"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    path = Path(args.data) / "messages_replies.csv"
    if not path.exists():
        sys.exit(f"{path} not found (set --data or CHANGXIN_SHARED_DATA)")
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {r["id"]: r for r in rows}

    started = time.perf_counter()
    matched = [check_reply(r["title"], r["content"], r["reply"]) for r in rows]
    per_check = (time.perf_counter() - started) / len(rows)
    substantive = [i for i, r in enumerate(rows) if len(r["reply"]) >= 150]
    print(f"messages with official replies: {len(rows)} ({len(substantive)} replies ≥ 150 chars)")
    print(f"time per check: {1000 * per_check:.1f} ms")
    for name, idx in (("all", range(len(rows))), ("substantive", substantive)):
        idx = list(idx)
        codes = Counter(code for i in idx for code in matched[i].codes)
        passing = sum(matched[i].ok for i in idx) / len(idx)
        rates = ", ".join(f"{code} {codes[code] / len(idx):.1%}" for code in sorted(codes))
        print(f"(a) matched, {name}: pass {passing:.1%}; warnings: {rates}")

    rng = random.Random(args.seed)
    perm = list(range(len(rows)))
    while True:
        rng.shuffle(perm)
        if all(i != j for i, j in enumerate(perm)):
            break
    for name, idx in (("all", range(len(rows))), ("substantive", substantive)):
        judged = fired = 0
        for i in idx:
            result = check_reply(rows[i]["title"], rows[i]["content"], rows[perm[i]]["reply"])
            if result.coverage is not None:
                judged += 1
                fired += "off_topic" in result.codes
        matched_fired = sum("off_topic" in matched[i].codes for i in idx)
        print(
            f"(b) off_topic fires on {fired / judged:.1%} of mismatched pairs ({name}, n={judged}) "
            f"vs {matched_fired / len(list(idx)):.1%} of matched pairs"
        )

    labels_path = Path(__file__).with_name("triage_replycheck_labels.csv")
    with open(labels_path, encoding="utf-8") as handle:
        labels = [(r["id"], int(r["concrete"])) for r in csv.DictReader(handle)]
    tp = fp = fn = tn = 0
    for rid, concrete in labels:
        row = by_id[rid]
        flagged = bool(VAGUE & set(check_reply(row["title"], row["content"], row["reply"]).codes))
        vague = not concrete
        tp += flagged and vague
        fp += flagged and not vague
        fn += vague and not flagged
        tn += not flagged and not vague
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    print(
        f"(c) hand-labelled sample n={len(labels)} ({tp + fn} not concrete): "
        f"'not concrete' warnings precision {precision:.2f}, recall {recall:.2f} (tp {tp}, fp {fp}, fn {fn}, tn {tn})"
    )


if __name__ == "__main__":
    main()
