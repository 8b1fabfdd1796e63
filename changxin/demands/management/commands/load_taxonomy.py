from pathlib import Path

from django.core.management.base import BaseCommand

from changxin.demands.taxonomy import TAXONOMY_FILE, load_taxonomy


class Command(BaseCommand):
    help = "Load the 3-level demand category tree from a level1,level2,level3 CSV (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=TAXONOMY_FILE)

    def handle(self, *args, **opts):
        created = load_taxonomy(opts["file"])
        self.stdout.write(f"categories created: {created}")
