"""The party wing's subscribers (autodiscovered by core/events.py).

`pioneers.points` starts at the beginning of the demand timeline: a new installation, and the
historical import, credit the members who handled those demands (the catch-up job hands it every
event it has not seen; its receipt and the entries' unique key make it exactly once).
"""

from changxin.core import events
from changxin.pioneers import ledger


@events.subscriber("pioneers.points", stream="demands", actions=ledger.DEMAND_ACTIONS, start="beginning")
def credit_points(event) -> None:
    ledger.credit_from_demand_event(event)


@events.subscriber("pioneers.commitments", stream="commitments", actions={"keep"}, start="beginning")
def credit_commitment(event) -> None:
    from changxin.pioneers import commitments

    commitments.credit(event)
