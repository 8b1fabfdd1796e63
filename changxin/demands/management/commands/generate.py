"""`changxin generate --demands N --months M`: a realistic data set at scale (see docs/GENERATE.md)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from changxin.demands.generator import GeneratorError, Options, generate


def _positive_int(text: str) -> int:
    try:
        return int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise CommandError(f"“{text}” is not a whole number") from None


def _end(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--end: “{text}” is not a date (YYYY-MM-DD)") from None
    if not 2000 <= day.year <= 2100:
        raise CommandError("--end: give a year from 2000 to 2100")
    return dt.datetime.combine(day, dt.time(18), timezone.get_default_timezone())


class Command(BaseCommand):
    help = (
        "Generate N realistic demands over M months on Fengtai's real units, with their tasks and "
        "event timelines (COPY on PostgreSQL). For benchmarks and demos; never on production data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demands", required=True, help="how many demands (e.g. 1000000)")
        parser.add_argument(
            "--months", default="12", help="received over this many months before --end (default 12)"
        )
        parser.add_argument(
            "--corpus",
            help="a CSV of real messages (title, content, optional label), e.g. "
            "../shared/data/messages_train.csv; read by path, never copied",
        )
        parser.add_argument(
            "--seed", default="1", help="random seed (default 1); the same seed gives the same data"
        )
        parser.add_argument("--end", help="the data set's 'now' (YYYY-MM-DD, 18:00 Beijing; default: now)")
        parser.add_argument("--batch-size", default="5000", help="demands per COPY batch (default 5000)")
        parser.add_argument(
            "--workers",
            default="2",
            help="PostgreSQL: processes building the rows while this one writes them (default 2; 0: none)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args, **opts):
        options = Options(
            demands=_positive_int(opts["demands"]),
            months=_positive_int(opts["months"]),
            seed=_positive_int(opts["seed"]),
            corpus=Path(opts["corpus"]) if opts["corpus"] else None,
            end=_end(opts["end"]) if opts["end"] else None,
            batch_size=_positive_int(opts["batch_size"]),
        )
        try:
            options.check()
        except GeneratorError as exc:
            raise CommandError(str(exc)) from exc
        bar = tqdm(
            total=options.demands,
            unit=" demands",
            file=sys.stderr,
            disable=True if opts["no_progress"] else None,
            dynamic_ncols=True,
        )
        started = time.perf_counter()
        try:
            summary = generate(options, progress=bar.update, workers=_positive_int(opts["workers"]))
        except GeneratorError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"generated {summary.demands:,} demands ({summary.open:,} still open), {summary.tasks:,} tasks, "
            f"{summary.events:,} events in {elapsed:.1f} s ({summary.demands / elapsed:,.0f} demands/s); "
            f"numbers start with {summary.first_number}"
        )
        if summary.cursors_moved:
            self.stdout.write(
                f"subscriber cursors moved past the generated history: {', '.join(summary.cursors_moved)}"
            )
