"""``changxin triage train | classify | evaluate | info`` — the classifier's command-line contract.

train     --data FILE.csv       (id,title,content,label[,segmented]) → new versioned model, made current
classify  --input IN --output OUT   (id,title,content) → id,category,confidence in input order
evaluate  --input FILE.csv      (id,title,content,label) → accuracy, macro-F1, per-class F1, confusion
info                            the current model's metadata

Exit status 1 with a message naming the problem on bad input or when no model has been trained.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from changxin.triage import classifier, csvio
from changxin.triage.methods import DEFAULT_METHOD, METHODS

BATCH_ROWS = 5000  # rows read, classified and written at a time: memory stays flat for any file size


class Command(BaseCommand):
    help = (
        "Train, apply and evaluate the demand-text classifier (subcommands: train, classify, evaluate, info)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{train,classify,evaluate,info}")

        train = sub.add_parser("train", help="train a new model and make it current")
        train.add_argument("--data", type=Path, help="CSV with id,title,content,label[,segmented]")
        train.add_argument(
            "--from-demands",
            action="store_true",
            help="also (or only) train on the platform's own closed demands with a category",
        )
        train.add_argument(
            "--since",
            type=date.fromisoformat,
            help="with --from-demands: only demands received since YYYY-MM-DD",
        )
        train.add_argument(
            "--method", default=DEFAULT_METHOD, choices=sorted(METHODS), help="default: %(default)s"
        )
        train.add_argument(
            "--holdout",
            type=float,
            default=0.2,
            help="share of rows held out (near-duplicates kept together) for the reported metrics; 0 skips "
            "the check (default: %(default)s)",
        )
        train.add_argument("--seed", type=int, default=0)

        classify = sub.add_parser("classify", help="classify a CSV of messages")
        classify.add_argument("--input", required=True, type=Path, help="CSV with id,title,content")
        classify.add_argument(
            "--output", required=True, type=Path, help="CSV written: id,category,confidence"
        )

        evaluate = sub.add_parser("evaluate", help="score the current model on labelled messages")
        evaluate.add_argument("--input", required=True, type=Path, help="CSV with id,title,content,label")
        evaluate.add_argument("--json", action="store_true", help="print the full report as JSON")

        sub.add_parser("info", help="show the current model's metadata")

    def handle(self, *args, **options):
        try:
            getattr(self, f"do_{options['action']}")(options)
        except (
            csvio.CsvInputError,
            classifier.TrainingDataError,
            classifier.NoModelError,
            classifier.ModelFormatError,
        ) as exc:
            raise CommandError(str(exc)) from None

    # --- subcommands ---------------------------------------------------------------------------

    def do_train(self, options):
        if not options["data"] and not options["from_demands"]:
            raise CommandError("give --data FILE, --from-demands, or both")
        rows, sources = [], []
        if options["data"]:
            rows += csvio.read_rows(options["data"], ("id", "title", "content", "label"))
            sources.append(str(options["data"]))
        if options["from_demands"]:
            from changxin.triage.history import rows_from_closed_demands

            history = list(rows_from_closed_demands(options["since"]))
            self.stdout.write(f"{len(history)} closed demands with a category from the platform")
            rows += history
            sources.append("closed demands" + (f" since {options['since']}" if options["since"] else ""))
        if not rows:
            raise CommandError(f"{' + '.join(sources)}: no data rows")
        options["data"] = " + ".join(sources)
        holdout = options["holdout"]
        if not 0 <= holdout < 1:
            raise CommandError("--holdout must be at least 0 and below 1")
        self.stdout.write(f"training {options['method']} on {len(rows)} rows from {options['data']} …")
        info = classifier.train(
            rows, method=options["method"], holdout=holdout, seed=options["seed"], source=str(options["data"])
        )
        self.stdout.write(f"model version: {info.version}")
        self.stdout.write(f"stored in:     {info.path}")
        self.stdout.write(f"method:        {info.method}")
        self.stdout.write(f"classes:       {', '.join(info.classes)}")
        metrics = info.metrics
        extra = " (including the held-out check)" if metrics else ""
        self.stdout.write(f"training time: {info.train_seconds:.1f} s{extra}")
        if metrics:
            split = metrics["split"]
            self.stdout.write(
                f"held-out check ({split['n_test']} rows, {split['test_size']:.0%}, near-duplicates kept on one "
                f"side): accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
                f"ECE {metrics['ece']:.4f}, Brier {metrics['brier']:.4f}"
            )
            self._per_class(metrics)
        else:
            self.stdout.write("held-out check skipped (--holdout 0, or too few rows per class)")

    def do_classify(self, options):
        started = time.perf_counter()
        with csvio.csv_rows(options["input"], ("id", "title", "content")) as rows:  # checks the header
            version, _ = classifier.load_model()  # before writing anything; one version for all rows
            with csvio.PredictionWriter(options["output"]) as writer:
                for batch in csvio.batched(rows, BATCH_ROWS):
                    texts = [classifier.demand_text(row["title"], row["content"]) for row in batch]
                    predictions = classifier.classify_texts(texts, version=version)
                    writer.write((row["id"] for row in batch), predictions)
        self.stderr.write(
            f"classified {writer.count} rows with model {version} in {time.perf_counter() - started:.2f} s "
            f"→ {options['output']}"
        )

    def do_evaluate(self, options):
        rows = csvio.read_rows(options["input"], ("id", "title", "content", "label"))
        report = classifier.evaluate(rows)
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"model {report['model_version']} on {report['n']} rows of {options['input']}")
        self.stdout.write(f"accuracy  {report['accuracy']:.4f}")
        self.stdout.write(f"macro-F1  {report['macro_f1']:.4f}")
        self.stdout.write(
            f"calibration: ECE {report['ece']:.4f}, Brier {report['brier']:.4f}, log loss {report['log_loss']:.4f}"
        )
        self._per_class(report)
        self._confusion(report)

    def do_info(self, options):
        info = classifier.model_info()
        if info is None:
            raise classifier.NoModelError(classifier.model_dir())
        self.stdout.write(json.dumps(classifier.info_dict(info), ensure_ascii=False, indent=2))

    # --- printing ------------------------------------------------------------------------------

    def _per_class(self, report):
        self.stdout.write("per-class:   precision  recall     F1  support")
        for label, row in report["per_class"].items():
            self.stdout.write(
                f"  {_pad(label, 14)} {row['precision']:.4f}  {row['recall']:.4f} {row['f1']:.4f}  {row['support']:>7}"
            )

    def _confusion(self, report):
        labels = report["labels"]
        self.stdout.write("confusion matrix (rows: true label, columns: predicted, in this order):")
        for i, label in enumerate(labels):
            self.stdout.write(f"  [{i}] {label}")
        self.stdout.write("      " + "".join(f"{f'[{j}]':>6}" for j in range(len(labels))))
        for i, row in enumerate(report["confusion"]):
            self.stdout.write(f"  {f'[{i}]':<4}" + "".join(f"{n:>6}" for n in row))


def _pad(text: str, width: int) -> str:
    """Left-align text to a display width, counting CJK characters as two columns."""
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(width - shown, 0)
