"""`changxin pioneers import-members FILE` and `changxin pioneers audit-points [--year YYYY]`."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from changxin.core.tabular import MAX_ERRORS, TableError, add_import_arguments, format_columns, print_report


class Command(BaseCommand):
    help = "The party wing: import members, audit the points ledger."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        members = sub.add_parser("import-members", help="import party members from CSV or Excel")
        members.add_argument("file")
        add_import_arguments(members)
        from changxin.pioneers.importer import COLUMNS

        members.epilog = format_columns(COLUMNS)
        dues_parser = sub.add_parser(
            "import-dues", help="import dues bases (income, category) from CSV or Excel"
        )
        dues_parser.add_argument("file")
        add_import_arguments(dues_parser)
        from changxin.pioneers.importer_dues import COLUMNS as DUES_COLUMNS

        dues_parser.epilog = format_columns(DUES_COLUMNS)
        points = sub.add_parser("audit-points", help="recompute every member's points from their sources")
        points.add_argument("--year", type=int)
        points.add_argument("--verbose-problems", action="store_true", help="list every mismatch")

    def handle(self, *args, **opts):
        if opts["subcommand"] == "import-members":
            return self.import_members(opts)
        if opts["subcommand"] == "import-dues":
            return self.import_dues(opts)
        return self.audit_points(opts)

    def import_members(self, opts):
        from changxin.pioneers.importer import MemberImport

        try:
            report = MemberImport(file_name=opts["file"]).run(
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
            summary=_("%(rows)s rows checked: %(good)s good, %(bad)s bad; %(written)s members written."),
        )

    def import_dues(self, opts):
        from changxin.pioneers.importer_dues import DuesImport

        try:
            report = DuesImport(file_name=opts["file"]).run(
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
            summary=_("%(rows)s rows checked: %(good)s good, %(bad)s bad; %(written)s dues bases written."),
        )

    def audit_points(self, opts):
        from changxin.pioneers.ledger import audit_points

        result = audit_points(opts["year"])
        for problem in result.problems if opts["verbose_problems"] else result.problems[:20]:
            self.stderr.write(problem)
        self.stdout.write(result.line)
        if result.mismatches:
            raise CommandError(
                _("%(n)s mismatches in the points ledger.") % {"n": result.mismatches}, returncode=1
            )
