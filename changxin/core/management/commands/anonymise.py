from django.conf import settings
from django.core.management.base import BaseCommand

from changxin.core import retention


class Command(BaseCommand):
    help = (
        "Anonymise the personal data of closed (archived or merged) demands older than "
        "CHANGXIN_RETENTION_YEARS: requester name and phone, contacts in free text, attachment files. "
        "The demands and their timeline stay. Dry run unless --apply; --apply writes one audit entry."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="list what would change (the default)")
        mode.add_argument("--apply", action="store_true", help="anonymise")
        parser.add_argument(
            "--years", type=int, default=settings.CHANGXIN_RETENTION_YEARS, help="retention period in years"
        )

    def handle(self, *args, **opts):
        report = retention.anonymise(apply=opts["apply"], years=opts["years"])
        verb = "anonymised" if opts["apply"] else "would anonymise (dry run; --apply to do it)"
        self.stdout.write(f"closed before {report.cutoff}: {verb} {report.demands} demands")
        for name, count in report.counts().items():
            if name not in ("cutoff", "demands"):
                self.stdout.write(f"  {name}: {count}")
        if opts["verbosity"] > 1:
            for number in report.numbers:
                self.stdout.write(f"  {number}")
