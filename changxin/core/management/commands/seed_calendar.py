from django.core.management.base import BaseCommand

from changxin.core.workcalendar import seed_from_chinese_calendar


class Command(BaseCommand):
    help = "Seed working days and holidays from the chinese-calendar package (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="*", type=int, help="only these years (default: all known)")

    def handle(self, *args, **opts):
        years = seed_from_chinese_calendar(opts["years"] or None)
        if years:
            self.stdout.write(f"calendar years loaded: {years[0]}–{years[-1]} ({len(years)})")
        else:
            self.stdout.write("no calendar years loaded")
