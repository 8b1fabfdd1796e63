"""Benchmark of the demand-text classifier (a script, not a test).

    .venv/bin/python bench/triage_bench.py --data ../shared/data/messages_train.csv

For each method: training time, held-out accuracy / macro-F1 / per-class F1 / calibration on a
stratified split that keeps near-duplicates on one side, and single-message latency.  For the
default method also: the cost of a model load, ``classify_demand`` latency, and the throughput of the
real ``changxin triage classify`` command on 10,000 rows sampled from the data file (run as a
subprocess, timed end to end: interpreter start, Django, model load, CSV in and out).

The data are read from the path given; nothing of them is written outside a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings_test")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from changxin.triage import classifier, csvio  # noqa: E402
from changxin.triage.grouping import held_out_split, near_duplicate_groups  # noqa: E402
from changxin.triage.methods import DEFAULT_METHOD, METHODS, LinearTextModel, softmax  # noqa: E402
from changxin.triage.metrics import classification_report, expected_calibration_error  # noqa: E402

COMPARE = ["nbsvm-char-title", "svc-char-title", "svc-char", "lr-char-title", "cnb-char-title", "svc-word"]


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs ({usable} usable){memory}, {platform.system()} {platform.release()}"


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def latency_ms(model: LinearTextModel, texts: list[str], n: int, seed: int) -> tuple[float, float]:
    sample = random.Random(seed).sample(texts, min(n, len(texts)))
    model.predict_proba(sample[:5])  # warm (index built, code paths touched)
    times = []
    for text in sample:
        started = time.perf_counter()
        model.predict_proba([text])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 95)


def print_report(name: str, report: dict) -> None:
    per_class = "  ".join(f"{label} {row['f1']:.3f}" for label, row in report["per_class"].items())
    print(
        f"  {name}: accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
        f"ECE {report['ece']:.4f}  Brier {report['brier']:.4f}  log loss {report['log_loss']:.4f}"
    )
    print(f"    per-class F1: {per_class}")


def compare_methods(texts, labels, groups, train_idx, test_idx, methods, args) -> dict:
    results = {}
    train_texts = [texts[i] for i in train_idx]
    train_labels = [labels[i] for i in train_idx]
    test_texts = [texts[i] for i in test_idx]
    test_labels = [labels[i] for i in test_idx]
    for method in methods:
        print(f"\n[{method}] {METHODS[method].description}", flush=True)
        started = time.perf_counter()
        model = LinearTextModel.fit(
            train_texts, train_labels, groups=groups[train_idx], method=method, seed=args.seed
        )
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        proba = model.predict_proba(test_texts)
        batch_ms = (time.perf_counter() - started) * 1000 / len(test_texts)
        report = classification_report(test_labels, model.classes, proba)
        median, p95 = latency_ms(model, test_texts, args.latency_n, args.seed)
        print(
            f"  training {fit_seconds:.1f} s on {len(train_texts)} rows (features + scorer + 3 calibration fits), "
            f"{model.n_features} features, temperature {model.temperature:.4f}"
        )
        print_report("held-out", report)
        print(
            f"  latency per message: median {median:.2f} ms, p95 {p95:.2f} ms (single calls); batch {batch_ms:.3f} ms"
        )
        results[method] = {"model": model, "report": report, "fit": fit_seconds, "median": median, "p95": p95}
    return results


def calibration_compare(texts, labels, groups, train_idx, test_idx, model: LinearTextModel, args) -> None:
    """Temperature scaling vs no calibration vs scikit-learn's CalibratedClassifierCV (sigmoid)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    test_labels = [labels[i] for i in test_idx]
    scores = model.decision_function([texts[i] for i in test_idx])
    print("\n[calibration of the default method's scores on the held-out rows]")
    truth = np.searchsorted(model.classes, test_labels)
    for name, proba in (
        ("softmax, T = 1 (uncalibrated)", softmax(scores, 1.0)),
        (f"temperature scaling, T = {model.temperature:.4f}", softmax(scores, model.temperature)),
    ):
        report = classification_report(test_labels, model.classes, proba)
        print(
            f"  {name}: ECE {report['ece']:.4f}  Brier {report['brier']:.4f}  log loss {report['log_loss']:.4f}"
        )
    if True:  # scikit-learn's calibration of a plain LinearSVC on the same features, for reference
        X_train = model.features([texts[i] for i in train_idx])
        X_test = model.features([texts[i] for i in test_idx])
        started = time.perf_counter()
        calibrated = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=args.seed), method="sigmoid", cv=3)
        calibrated.fit(X_train, [labels[i] for i in train_idx])
        proba = calibrated.predict_proba(X_test)
        order = [list(calibrated.classes_).index(c) for c in model.classes]
        report = classification_report(test_labels, model.classes, proba[:, order])
        print(
            f"  CalibratedClassifierCV(LinearSVC, sigmoid, cv=3): accuracy {report['accuracy']:.4f} "
            f"macro-F1 {report['macro_f1']:.4f} ECE {report['ece']:.4f}  Brier {report['brier']:.4f}  "
            f"log loss {report['log_loss']:.4f}  (fit {time.perf_counter() - started:.1f} s, 3 SVMs at inference)"
        )
    confidence = softmax(scores, model.temperature).max(axis=1)
    best = scores.argmax(axis=1)
    print("  reliability (temperature scaling): confidence bin → n, mean confidence, accuracy")
    for row in classification_report(test_labels, model.classes, softmax(scores, model.temperature))[
        "reliability"
    ]:
        print(f"    {row['bin']}: n={row['n']:>5}  conf {row['confidence']:.3f}  acc {row['accuracy']:.3f}")
    ece = expected_calibration_error(confidence, best == truth)
    print(f"  ECE (15 bins) {ece:.4f}")


def cross_validate(texts, labels, groups, methods, folds: int, seed: int) -> None:
    from sklearn.model_selection import StratifiedGroupKFold

    print(f"\n[{folds}-fold cross-validation, near-duplicate groups kept together, no calibration fits]")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.zeros(len(labels)), labels, groups))
    for method in methods:
        scores = []
        for train_idx, test_idx in splits:
            model = LinearTextModel.fit(
                [texts[i] for i in train_idx],
                [labels[i] for i in train_idx],
                method=method,
                seed=seed,
                calibration_folds=0,
            )
            proba = model.predict_proba([texts[i] for i in test_idx])
            scores.append(
                classification_report([labels[i] for i in test_idx], model.classes, proba)["macro_f1"]
            )
        print(
            f"  {method}: macro-F1 {np.mean(scores):.4f} ± {np.std(scores):.4f}  "
            f"(folds: {', '.join(f'{s:.4f}' for s in scores)})",
            flush=True,
        )


def design_checks(texts, labels, groups, train_idx, test_idx, args) -> None:
    """The measurements behind three design choices (docs/TRIAGE.md)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedShuffleSplit

    from changxin.triage.features import CharNgramTfidf, normalize_text
    from changxin.triage.methods import jieba_tokens

    print("\n[design checks]")
    # 1. A split that ignores near-duplicates flatters the score.
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=len(test_idx), random_state=args.seed)
    naive_train, naive_test = next(splitter.split(np.zeros(len(labels)), labels))
    leaked = np.isin(groups[naive_test], groups[naive_train]).sum()
    model = LinearTextModel.fit(
        [texts[i] for i in naive_train],
        [labels[i] for i in naive_train],
        method=args.method,
        calibration_folds=0,
    )
    report = classification_report(
        [labels[i] for i in naive_test], model.classes, model.predict_proba([texts[i] for i in naive_test])
    )
    print(
        f"  plain stratified split (duplicates ignored): macro-F1 {report['macro_f1']:.4f}; "
        f"{leaked} of {len(naive_test)} test rows have a near-duplicate in training"
    )
    # 2. The vectoriser: scikit-learn's char analyser vs ours, on all texts.
    normalised = [normalize_text(t, 1000) for t in texts]
    reference = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=False
    )
    started = time.perf_counter()
    reference.fit(normalised)
    fit_ref = time.perf_counter() - started
    started = time.perf_counter()
    reference.transform(normalised)
    transform_ref = time.perf_counter() - started
    ours = CharNgramTfidf((1, 2), min_df=2, max_chars=1000)
    started = time.perf_counter()
    ours.fit(texts)
    fit_ours = time.perf_counter() - started
    ours.transform(texts[:10])
    started = time.perf_counter()
    ours.transform(texts)
    transform_ours = time.perf_counter() - started
    print(
        f"  char 1-2-gram TF-IDF of {len(texts)} texts: scikit-learn fit {fit_ref:.2f} s, transform "
        f"{transform_ref:.2f} s; CharNgramTfidf fit {fit_ours:.2f} s, transform {transform_ours:.2f} s "
        f"(same vocabulary: {len(reference.vocabulary_) == ours.n_features})"
    )
    # 3. jieba's cost per character.
    jieba_tokens("预热")
    sample = texts[:2000]
    started = time.perf_counter()
    for text in sample:
        jieba_tokens(normalize_text(text, 1000))
    seconds = time.perf_counter() - started
    chars = sum(len(normalize_text(t, 1000)) for t in sample)
    print(
        f"  jieba.lcut(HMM=False) of {len(sample)} texts ({chars / 1e3:.0f} k chars): {seconds:.2f} s "
        f"= {chars / seconds / 1e3:.0f} k chars/s"
    )


def command_throughput(rows: list[dict], args) -> None:
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        tmp = Path(tmp)
        var = tmp / "var"
        print(f"\n[`changxin triage classify` on {args.rows} rows]")
        started = time.perf_counter()
        info = classifier.train(
            rows,
            method=args.method,
            holdout=0,
            seed=args.seed,
            directory=var / "models" / "triage",
            source="bench",
        )
        print(
            f"  model {info.version} trained on all {len(rows)} rows in {time.perf_counter() - started:.1f} s"
        )

        model_file = info.path / classifier.MODEL_FILE
        print(f"  model file {model_file.stat().st_size / 2**20:.1f} MiB")
        started = time.perf_counter()
        classifier.clear_cache()
        version, model = classifier.load_model(directory=var / "models" / "triage")
        print(
            f"  model load (joblib, in-process, libraries already imported): {time.perf_counter() - started:.3f} s"
        )

        rng = random.Random(args.seed)
        sample = [rows[rng.randrange(len(rows))] for _ in range(args.rows)]
        source = tmp / "in.csv"
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "title", "content", "extra"])
            for i, row in enumerate(sample):
                writer.writerow([f"b{i}", row["title"], row["content"], "ignored"])
        chars = sum(len(row["title"]) + len(row["content"]) for row in sample)
        print(f"  input: {source.stat().st_size / 2**20:.1f} MiB, {chars / 1e6:.2f} M characters")

        executable = Path(sys.executable).with_name("changxin")
        command = [str(executable)] if executable.exists() else [sys.executable, str(ROOT / "manage.py")]
        env = {**os.environ, "CHANGXIN_VAR_DIR": str(var), "CHANGXIN_ALLOW_INSECURE_KEY": "1"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        times = []
        for run in range(args.runs):
            target = tmp / f"out{run}.csv"
            started = time.perf_counter()
            subprocess.run(
                [*command, "triage", "classify", "--input", str(source), "--output", str(target)],
                check=True,
                env=env,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
            with target.open(encoding="utf-8", newline="") as handle:
                out = list(csv.reader(handle))
            assert out[0] == list(csvio.OUTPUT_COLUMNS), out[0]
            assert [r[0] for r in out[1:]] == [f"b{i}" for i in range(args.rows)], "order or count differs"
            assert {r[1] for r in out[1:]} <= set(info.classes)
        print(
            f"  wall time per run (subprocess start to exit): {', '.join(f'{t:.2f} s' for t in times)}; "
            f"median {statistics.median(times):.2f} s = {args.rows / statistics.median(times):,.0f} rows/s"
        )

        from django.test import override_settings

        with override_settings(CHANGXIN_TRIAGE_MODEL_DIR=var / "models" / "triage"):
            started = time.perf_counter()
            classifier.classify_texts([classifier.demand_text(r["title"], r["content"]) for r in sample])
            print(f"  in-process classify_texts of the same rows: {time.perf_counter() - started:.2f} s")
            picks = rng.sample(sample, min(args.latency_n, len(sample)))
            classifier.classify_demand("预热", "预热")
            times = []
            for row in picks:
                started = time.perf_counter()
                classifier.classify_demand(row["title"], row["content"])
                times.append((time.perf_counter() - started) * 1000)
        print(
            f"  classify_demand (one message per call, model cached): median {statistics.median(times):.2f} ms, "
            f"p95 {percentile(times, 95):.2f} ms over {len(times)} calls"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = Path(os.environ.get("CHANGXIN_SHARED_DATA") or ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--data",
        type=Path,
        default=shared / "messages_train.csv",
        help="the labelled messages (default: $CHANGXIN_SHARED_DATA or ../shared/data, never committed)",
    )
    parser.add_argument("--methods", nargs="*", default=COMPARE, choices=sorted(METHODS))
    parser.add_argument(
        "--method", default=DEFAULT_METHOD, help="the method timed end to end (default: %(default)s)"
    )
    parser.add_argument("--rows", type=int, default=10_000, help="rows for the classify command")
    parser.add_argument("--runs", type=int, default=3, help="runs of the classify command")
    parser.add_argument("--latency-n", type=int, default=500, help="single-message calls timed")
    parser.add_argument("--cv", type=int, default=0, help="also k-fold cross-validate the methods (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-command", action="store_true")
    parser.add_argument("--skip-design", action="store_true", help="skip the design checks")
    parser.add_argument(
        "--record",
        action="store_true",
        help="record the default method's median ms per message in bench/results.json (implies --methods "
        "METHOD --skip-design)",
    )
    args = parser.parse_args()
    if args.record:
        args.methods, args.skip_design = [args.method], True

    import scipy
    import sklearn

    print(f"machine: {machine()}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}; load average at start: {load()}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")

    rows = csvio.read_rows(args.data, ("id", "title", "content", "label"))
    titles, texts, labels = classifier._texts_and_labels(rows)
    started = time.perf_counter()
    groups = near_duplicate_groups(titles, classifier._group_texts(rows, texts))
    n_groups = int(groups.max()) + 1
    in_groups = int((np.bincount(groups) > 1)[groups].sum())
    print(
        f"\ndata: {len(rows)} rows, {len(set(labels))} classes; near-duplicate grouping "
        f"{time.perf_counter() - started:.1f} s: {n_groups} groups, {in_groups} rows in groups of 2+"
    )
    train_idx, test_idx = held_out_split(labels, groups, test_size=0.2, seed=args.seed)
    print(f"held-out split: {len(train_idx)} train / {len(test_idx)} test rows (seed {args.seed})")

    methods = list(dict.fromkeys([args.method, *args.methods]))
    results = compare_methods(texts, labels, groups, train_idx, test_idx, methods, args)
    calibration_compare(texts, labels, groups, train_idx, test_idx, results[args.method]["model"], args)

    print("\nsummary (held-out split):")
    print("  method               accuracy  macro-F1   ECE     Brier   train s  median ms  p95 ms")
    for method, result in results.items():
        report = result["report"]
        print(
            f"  {method:20} {report['accuracy']:.4f}    {report['macro_f1']:.4f}    {report['ece']:.4f}  "
            f"{report['brier']:.4f}  {result['fit']:7.1f}  {result['median']:9.2f}  {result['p95']:6.2f}"
        )

    if args.record:
        from bench.results import record

        best = results[args.method]
        record("triage", {"ms_per_message": round(best["median"], 3), "p95_ms": round(best["p95"], 3)})
    if not args.skip_design:
        design_checks(texts, labels, groups, train_idx, test_idx, args)
    if args.cv:
        cross_validate(texts, labels, groups, methods, args.cv, args.seed)
    if not args.skip_command:
        command_throughput(rows, args)
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
