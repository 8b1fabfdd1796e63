"""`changxin brands import FILE`: brands from CSV or Excel, every bad row reported by line."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from changxin.core.tabular import MAX_ERRORS, TableError, add_import_arguments, format_columns, print_report


class Command(BaseCommand):
    help = "多点 pioneer brands: import brands."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        brands = sub.add_parser("import", help="import brands (as drafts) from CSV or Excel")
        brands.add_argument("file")
        add_import_arguments(brands)
        from changxin.brands.importer import COLUMNS

        brands.epilog = format_columns(COLUMNS)

    def handle(self, *args, **opts):
        from changxin.brands.importer import BrandImport

        try:
            report = BrandImport(file_name=opts["file"]).run(
                opts["file"],
                keep_good=opts["keep_good"],
                dry_run=opts["dry_run"],
                encoding=opts["encoding"],
                sheet=opts["sheet"],
                max_errors=opts.get("max_errors") or MAX_ERRORS,
                on_error=lambda e: self.stderr.write(str(e)),
            )
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        print_report(
            self,
            report,
            summary=_("%(rows)s rows checked: %(good)s good, %(bad)s bad; %(written)s brands written."),
        )
