"""``changxin report monthly --month YYYY-MM --output DIR``: the monthly report (insight/reports.py):
an Excel workbook and a printable HTML page, written atomically into DIR."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from changxin.core import params
from changxin.insight import reports


class Command(BaseCommand):
    help = "Reports (subcommand: monthly)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{monthly}")
        monthly = sub.add_parser("monthly", help="the monthly report of one month: Excel and printable HTML")
        monthly.add_argument("--month", required=True, help="the month, YYYY-MM")
        monthly.add_argument(
            "--output", required=True, type=Path, help="directory the two files are written to"
        )

    def handle(self, *args, **options):
        getattr(self, f"do_{options['action']}")(options)

    def do_monthly(self, options):
        try:
            month = params.parse_month(options["month"], strict=True, field="month")
        except params.ParamError as error:
            raise CommandError(f"--month {options['month']!r}: {error.message}") from None
        if month is None:
            raise CommandError("--month: enter a month as YYYY-MM.")
        output = options["output"]
        if output.exists() and not output.is_dir():
            raise CommandError(f"--output {output}: not a directory.")

        def progress(percent: int, step: str) -> None:
            if options["verbosity"] > 1:
                self.stderr.write(f"{percent:3d}% {step}")

        xlsx, html = reports.build(month, output, progress=progress)
        self.stdout.write(f"{xlsx}\n{html}\n")
