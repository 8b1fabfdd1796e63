"""Deadlines from the policy table, computed on the work calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from changxin.core.workcalendar import add_working_time
from changxin.demands.models import OPEN_STATES, DeadlinePolicy, Demand, DemandType, TimeUnit, Urgency

# RULES.md defaults; seeded into DeadlinePolicy by a data migration and editable in the admin.
DEFAULT_POLICIES = [
    # demand_type, urgency, contact amount, unit, finish amount, unit
    ("", Urgency.NORMAL, 1, TimeUnit.WORKING_DAYS, 7, TimeUnit.WORKING_DAYS),
    ("", Urgency.URGENT, 2, TimeUnit.CLOCK_HOURS, 24, TimeUnit.CLOCK_HOURS),
    ("", Urgency.UTILITY, 2, TimeUnit.CLOCK_HOURS, 24, TimeUnit.CLOCK_HOURS),
    (DemandType.CONSULT, Urgency.NORMAL, 1, TimeUnit.WORKING_DAYS, 1, TimeUnit.WORKING_DAYS),
]


@dataclass(frozen=True)
class Deadlines:
    contact_due: dt.datetime
    finish_due: dt.datetime
    estimated: bool
    policy: DeadlinePolicy


def policy_for(demand_type: str, urgency: str) -> DeadlinePolicy:
    policies = {(p.demand_type, p.urgency): p for p in DeadlinePolicy.objects.filter(urgency=urgency)}
    policy = policies.get((demand_type, urgency)) or policies.get(("", urgency))
    if policy is None:
        for d_type, d_urgency, c_amount, c_unit, f_amount, f_unit in DEFAULT_POLICIES:
            if d_type == "" and d_urgency == urgency:
                return DeadlinePolicy(
                    demand_type="",
                    urgency=urgency,
                    contact_amount=Decimal(c_amount),
                    contact_unit=c_unit,
                    finish_amount=Decimal(f_amount),
                    finish_unit=f_unit,
                )
        raise LookupError(f"no deadline policy for urgency {urgency}")
    return policy


def add_time(start: dt.datetime, amount, unit: str) -> tuple[dt.datetime, bool]:
    amount = float(amount)
    if unit == TimeUnit.CLOCK_HOURS:
        return start + dt.timedelta(hours=amount), False
    if unit == TimeUnit.WORKING_HOURS:
        answer = add_working_time(start, hours=amount)
    else:
        answer = add_working_time(start, days=amount)
    return answer.value, answer.is_estimate


def compute(demand: Demand, start: dt.datetime) -> Deadlines:
    policy = policy_for(demand.demand_type, demand.urgency)
    contact_due, est1 = add_time(start, policy.contact_amount, policy.contact_unit)
    finish_due, est2 = add_time(start, policy.finish_amount, policy.finish_unit)
    return Deadlines(contact_due, max(finish_due, contact_due), est1 or est2, policy)


def overdue_q(now: dt.datetime) -> Q:
    """Open demands past their contact deadline (not yet contacted) or past their finish deadline."""
    return Q(state__in=OPEN_STATES) & (
        Q(finish_due__lt=now) | Q(contacted_at__isnull=True, contact_due__lt=now)
    )


def list_overdue(demands: QuerySet, now: dt.datetime | None = None) -> QuerySet:
    return demands.filter(overdue_q(now or timezone.now()))


def list_nearly_overdue(demands: QuerySet, now: dt.datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    horizon = add_working_time(now, hours=settings.CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS).value
    return (
        demands.filter(state__in=OPEN_STATES)
        .exclude(overdue_q(now))
        .filter(Q(finish_due__lte=horizon) | Q(contacted_at__isnull=True, contact_due__lte=horizon))
    )
