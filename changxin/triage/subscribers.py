"""Triage subscribes to the demand timeline: every new demand is located, given a dispatch
suggestion and checked for duplicates by a worker after intake commits — never inside the intake
request (core/events.py delivers the "receive" event through the job queue)."""

from __future__ import annotations

import logging

from django.db import transaction

from changxin.core import events

log = logging.getLogger(__name__)


@events.subscriber("triage.intake", stream="demands", actions={"receive"}, start="now")
def triage_new_demand(event) -> None:
    """Triage is advice: a failure is logged and never retried forever nor blocks later demands.
    Historical imports are not triaged (their demands were handled long ago)."""
    if (event.data or {}).get("imported"):
        return
    from changxin.triage.suggest import triage_demand

    try:
        with transaction.atomic():  # a failure rolls back triage's own writes, not the receipt
            triage_demand(event.demand_id)
    except Exception:  # noqa: BLE001
        log.exception("triage of demand %s failed", event.demand_id)
