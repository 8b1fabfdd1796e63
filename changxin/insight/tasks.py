"""Insight's periodic job (see changxin/core/jobs.py)."""

from changxin.core import jobs
from changxin.insight import snapshots


@jobs.periodic(minute="15", hour="*")
def monthly_close() -> dict:
    """Fix this month's ranking weights; store the ranking of a month whose close date has passed."""
    return snapshots.run()
