"""`changxin import-demands FILE`: load historical demands from CSV or Excel (see docs/IMPORT.md)."""

from __future__ import annotations

import argparse
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _
from tqdm import tqdm

from changxin.core.tabular import TableError, add_import_arguments, print_report
from changxin.demands.importer import DEFAULT_BATCH_SIZE, DemandImporter, format_help

EPILOG = f"""\
Columns (header names in Chinese or English, in any order; unknown columns are ignored):
{format_help()}

Every bad row is reported as "line N: <column>: <problem>" (at most --max-errors lines; the rest
are counted). By default nothing is written when any
row is bad (the import runs in one transaction and is rolled back); --keep-good writes the good rows
and still reports the bad ones. A work-order number that repeats in the file or already exists in
the database is a bad row.

Exit status: 0 when the rows were written (or, with --dry-run, when every row is good);
1 when rows were bad and nothing was written, or the file cannot be read.
"""


class Command(BaseCommand):
    help = (
        "Import historical demands (12345 work orders) from a CSV (UTF-8, UTF-8 with BOM or GB18030) "
        "or Excel .xlsx file, validating every row and writing them in batches."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = EPILOG
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or .xlsx file")
        add_import_arguments(parser)
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per INSERT batch"
        )
        parser.add_argument(
            "--rebuild-indexes",
            action="store_true",
            help="PostgreSQL, for a first load into an empty or small database: drop the demand, event "
            "and task tables' secondary indexes and foreign keys for the import and build them again "
            "at its end (faster; those tables are locked against readers and writers until it ends)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args, **opts):
        bar = tqdm(
            total=None,
            unit=" rows",
            file=sys.stderr,
            disable=True if opts["no_progress"] else None,  # None: only on a terminal
            dynamic_ncols=True,
        )

        def set_total(total):
            bar.total = total
            bar.refresh()

        def report(error):
            with tqdm.external_write_mode(file=sys.stderr):
                self.stderr.write(str(error))

        if opts["rebuild_indexes"] and connection.vendor != "postgresql":
            raise CommandError(_("--rebuild-indexes needs PostgreSQL."))
        importer = DemandImporter(
            keep_good=opts["keep_good"],
            dry_run=opts["dry_run"],
            batch_size=opts["batch_size"],
            on_error=report,
            progress=bar.update,
            max_errors=opts["max_errors"],
            rebuild_indexes=opts["rebuild_indexes"],
        )
        try:
            result = importer.run(
                opts["file"], encoding=opts["encoding"], sheet=opts["sheet"], total_hook=set_total
            )
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()

        print_report(
            self,
            result,
            summary=_("%(rows)s rows checked: %(good)s good, %(bad)s bad; %(written)s demands written."),
        )
