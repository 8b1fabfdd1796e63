"""Background work of the insight app (see changxin/core/jobs.py)."""

from changxin.core import jobs
from changxin.insight import snapshots


@jobs.periodic(minute="15", hour="*")
def monthly_close() -> dict:
    """Fix this month's ranking weights; store the ranking of a month whose close date has passed."""
    return snapshots.run()


@jobs.periodic(hour="*/1", minute="7")
def refresh_hot_spots() -> dict:
    """Every hour: today's hot spots and rising problems, replacing the previous run of the day."""
    from changxin.insight import services

    return services.refresh_hot_spots()


@jobs.periodic(hour="3", minute="20")
def refresh_proactive_counts() -> dict:
    """Every night: the before/after counts of the proactive tasks (未诉先办) on the list page."""
    from changxin.insight import proactive

    return proactive.refresh_counts()


@jobs.periodic(minute="*")
def refresh_aggregates() -> dict:
    """Every minute (and queued after demand events): rebuild the dirty days of the dashboards'
    daily counts, recompute the stale live rankings and the overdue counts (docs/DASHBOARDS.md)."""
    from changxin.insight import aggregates

    result = aggregates.refresh()
    result["rankings"] = aggregates.refresh_rankings()
    result["overdue"] = aggregates.refresh_overdue()
    return result


@jobs.task(retries=0)
def build_monthly_report(report_id: int) -> None:
    """A monthly report requested in the UI (insight/reports.py)."""
    from changxin.insight import reports

    reports.build_requested(report_id)
