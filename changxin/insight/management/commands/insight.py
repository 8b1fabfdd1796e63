"""``changxin insight hotspots --input IN.csv --output OUT.csv [--as-of YYYY-MM-DD]``.

Reads demands (id, received_at, title, content, street; optional community, address, category,
requester, urgent, dissatisfied), groups the window's demands into problems, marks the rising ones
and writes one row per problem: problem, rising, heat, street, category, demand_ids, label.
Bad rows are reported with their line; by default nothing is written then (exit status 1), with
--keep-good the good rows are analysed. The method: docs/HOTSPOTS.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from changxin.core import tabular
from changxin.insight import hotspot_files, hotspots


class Command(BaseCommand):
    help = "Data insight from the command line (subcommand: hotspots)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{hotspots,aggregates}")
        agg = sub.add_parser("aggregates", help="rebuild the dashboards' daily counts (docs/DASHBOARDS.md)")
        agg.add_argument("--rebuild", action="store_true", help="rebuild every day from the demand table")
        hot = sub.add_parser(
            "hotspots",
            help="group demands into problems and detect rising ones",
            epilog="Input columns:\n" + tabular.format_columns(hotspot_files.COLUMNS),
        )
        hot.add_argument("--input", required=True, type=Path, help="CSV or Excel file of demands")
        hot.add_argument("--output", required=True, type=Path, help="CSV written, one row per problem")
        hot.add_argument(
            "--as-of", type=dt.date.fromisoformat, help="last day of the period (default: the latest demand)"
        )
        hot.add_argument("--days", type=int, default=hotspots.DEFAULT.window_days, help="period length")
        hot.add_argument("--similarity", type=float, default=hotspots.DEFAULT.similarity)
        hot.add_argument("--min-size", type=int, default=hotspots.DEFAULT.min_size)
        hot.add_argument(
            "--link-days",
            type=int,
            default=hotspots.DEFAULT.link_days,
            help="linked demands arrived at most this many days apart",
        )
        hot.add_argument("--keep-good", action="store_true", help="analyse the good rows despite bad ones")

    def handle(self, *args, **options):
        getattr(self, f"do_{options['action']}")(options)

    def do_aggregates(self, options):
        from changxin.insight import aggregates

        if options["rebuild"]:
            rows = aggregates.rebuild_all()
            self.stdout.write(f"daily counts: {rows} rows\n")
        result = aggregates.refresh()
        result["rankings"] = aggregates.refresh_rankings()
        self.stdout.write(f"refreshed: {result}\n")

    def do_hotspots(self, options):
        started = time.perf_counter()
        try:
            items, errors, rows = hotspot_files.read_items(options["input"])
        except tabular.TableError as exc:
            raise CommandError(str(exc)) from None
        for error in errors[: tabular.MAX_ERRORS]:
            self.stderr.write(str(error))
        if errors and not options["keep_good"]:
            raise CommandError(
                f"{len({e.line for e in errors})} bad row(s) of {rows}; nothing written (use --keep-good)"
            )
        params = dataclasses.replace(
            hotspots.DEFAULT,
            window_days=options["days"],
            similarity=options["similarity"],
            min_size=options["min_size"],
            link_days=options["link_days"],
        )
        result = hotspots.find_hot_spots(items, as_of=options["as_of"], params=params)
        hotspot_files.write_problems(options["output"], result.problems)
        rising = sum(p.rising for p in result.problems)
        self.stdout.write(
            f"{len(items)} demands read, {result.start}…{result.as_of}: {len(result.problems)} problems "
            f"({rising} rising), {sum(c.rising for c in result.cells.values())} rising street × category "
            f"cells; {time.perf_counter() - started:.1f} s → {options['output']}"
        )
