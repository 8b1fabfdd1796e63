"""`changxin rank --month YYYY-MM [--group street]`: print the monthly 四类排名."""

from django.core.management.base import BaseCommand, CommandError

from changxin.core.models import RankingGroup
from changxin.insight.metrics import parse_month
from changxin.insight.rankings import monthly_rankings


def _pct(value) -> str:
    return "—" if value is None else f"{float(value) * 100:.2f}"


class Command(BaseCommand):
    help = "Print the monthly ranking of every group (or one) with the three rates and the composite."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--group", choices=RankingGroup.values, help="only this ranking group")

    def handle(self, *args, month, group=None, **opts):
        sentinel = object()
        parsed = parse_month(month, default=sentinel)
        if parsed is sentinel:
            raise CommandError("--month must look like 2025-03")
        rankings = monthly_rankings(parsed, [group] if group else None)
        for ranking in rankings.values():
            w = ranking.weights
            self.stdout.write(
                f"== {ranking.label} {parsed:%Y-%m} "
                f"(weights {w.response_weight}/{w.resolution_weight}/{w.satisfaction_weight}, "
                f"partly {w.partly_resolved_credit}, basic {w.basic_satisfied_credit})"
            )
            self.stdout.write(
                f"{'rank':>4}  {'code':<10} {'unit':<16} {'disp':>6} {'resp%':>7} {'resol%':>7} "
                f"{'satis%':>7} {'score':>7}"
            )
            for row in ranking.rows:
                r = row.rates
                self.stdout.write(
                    f"{row.rank or '-':>4}  {row.unit.code:<10} {(row.unit.short_name or row.unit.name)[:14]:<16}"
                    f" {r.dispatched:>6} {_pct(r.response_rate):>7} {_pct(r.resolution_rate):>7}"
                    f" {_pct(r.satisfaction_rate):>7} {_pct(r.composite):>7}"
                )
