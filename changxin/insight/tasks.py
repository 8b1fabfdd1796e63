"""Background work of the insight app."""

from changxin.core import jobs


@jobs.periodic(hour="*/1", minute="7")
def refresh_hot_spots() -> dict:
    """Every hour: today's hot spots and rising problems, replacing the previous run of the day."""
    from changxin.insight import services

    return services.refresh_hot_spots()
