from pathlib import Path

from django.core.management.base import BaseCommand

from changxin.core.divisions import DATA_DIR, load_divisions


class Command(BaseCommand):
    help = "Load a district's streets/towns, communities/villages and departments (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--district-code", default="110106")
        parser.add_argument("--district-name", default="丰台区")
        parser.add_argument("--streets", type=Path, default=DATA_DIR / "fengtai_streets.csv")
        parser.add_argument("--communities", type=Path, default=DATA_DIR / "fengtai_communities.csv")
        parser.add_argument("--departments", type=Path, default=DATA_DIR / "fengtai_departments.csv")

    def handle(self, *args, **opts):
        result = load_divisions(
            district_code=opts["district_code"],
            district_name=opts["district_name"],
            streets=opts["streets"],
            communities=opts["communities"],
            departments=opts["departments"],
        )
        self.stdout.write(
            f"units created: {result.created}, updated: {result.updated}, unchanged: {result.unchanged}"
        )
