"""`changxin port check-uscc CODE…` and `changxin port import-enterprises FILE`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from changxin.core.tabular import TableError, add_import_arguments, format_columns, print_report
from changxin.port import uscc
from changxin.port.importer import COLUMNS, import_enterprises


class Command(BaseCommand):
    help = "先丰港: check unified social credit codes; import the enterprise registry."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        check = sub.add_parser(
            "check-uscc",
            help="print OK or the reason for each code; exit 1 if any is invalid",
            called_from_command_line=getattr(parser, "called_from_command_line", None),
        )
        check.add_argument("codes", nargs="+", metavar="CODE")
        imp = sub.add_parser(
            "import-enterprises",
            help="import enterprises from CSV/Excel (all or nothing unless --keep-good)",
            epilog=format_columns(COLUMNS),
            called_from_command_line=getattr(parser, "called_from_command_line", None),
        )
        imp.add_argument("file")
        add_import_arguments(imp)
        from changxin.port.coop_import import POLICY_COLUMNS, SCENARIO_COLUMNS

        for name, columns, what in (
            ("import-scenarios", SCENARIO_COLUMNS, "city application scenarios"),
            ("import-policies", POLICY_COLUMNS, "policies"),
        ):
            more = sub.add_parser(
                name,
                help=f"import {what} from CSV/Excel (all or nothing unless --keep-good)",
                epilog=format_columns(columns),
                called_from_command_line=getattr(parser, "called_from_command_line", None),
            )
            more.add_argument("file")
            add_import_arguments(more)

    def handle(self, *args, subcommand, **options):
        if subcommand == "check-uscc":
            return self.check_uscc(options["codes"])
        if subcommand in ("import-scenarios", "import-policies"):
            return self.import_more(subcommand, options)
        return self.import_enterprises(options)

    def check_uscc(self, codes):
        bad = 0
        for code in codes:
            reason = uscc.problem(code)
            if reason:
                bad += 1
                self.stdout.write(f"{code}\t{reason}")
            else:
                self.stdout.write(f"{code}\tOK")
        if bad:
            raise CommandError(
                _("%(bad)s of %(count)s codes are invalid.") % {"bad": bad, "count": len(codes)}, returncode=1
            )

    def import_enterprises(self, options):
        try:
            report = import_enterprises(
                options["file"],
                keep_good=options["keep_good"],
                dry_run=options["dry_run"],
                encoding=options["encoding"],
                sheet=options["sheet"],
                max_errors=options["max_errors"],
                on_error=lambda e: self.stderr.write(str(e)),
            )
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        print_report(
            self,
            report,
            summary=_("%(rows)s rows checked: %(good)s good, %(bad)s bad; %(written)s enterprises written."),
        )

    def import_more(self, subcommand, options):
        from changxin.port.coop_import import import_policies, import_scenarios

        run = import_scenarios if subcommand == "import-scenarios" else import_policies
        try:
            report = run(
                options["file"],
                keep_good=options["keep_good"],
                dry_run=options["dry_run"],
                encoding=options["encoding"],
                sheet=options["sheet"],
                max_errors=options["max_errors"],
            )
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        print_report(self, report)
