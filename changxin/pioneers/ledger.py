"""先锋者上: the points ledger. Entries come from published events (subscribers.py) and approved
adjustments; totals are computed from the entries, never typed by hand.

    credit_from_demand_event(event) → entries written (idempotent: one per member, rule and event)
    recompute_total(member, year)   → the cached PointTotal, re-summed from the entries
    audit_points(year)              → AuditResult (the `changxin pioneers audit-points` command)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from changxin.pioneers.models import (
    AdjustmentState,
    PartyMember,
    PointAdjustment,
    PointEntry,
    PointRule,
    PointTotal,
)

DEMANDS = "demands"
ADJUSTMENTS = "adjustments"
# the default rules (migration 0002 and ensure_default_rules): code, name, kind, action, match, points
DEFAULT_RULES = [
    ("reply_on_time", "按时办结答复", "service", "reply", {"on_time": True}, "2"),
    ("reply_late", "超期答复", "service", "reply", {"on_time": False}, "-1"),
    ("visit_satisfied", "回访满意", "service", "return_visit", {"satisfaction": "satisfied"}, "3"),
    ("visit_basic", "回访基本满意", "service", "return_visit", {"satisfaction": "basic"}, "1"),
    ("visit_dissatisfied", "回访不满意", "service", "return_visit", {"satisfaction": "dissatisfied"}, "-1"),
    ("whistle_done_on_time", "吹哨报到按时完成", "hardship", "task_complete", {"on_time": True}, "2"),
]
# the demand actions the ledger reads (the subscriber's filter)
DEMAND_ACTIONS = frozenset({"reply", "return_visit", "task_complete"})
# other sources of entries (volunteer check-ins…): stream → verify(entries) -> {entry id: problem},
# registered in PioneersConfig.ready; the audit asks each to re-derive its entries from their source
VERIFIERS: dict = {}


def register_source(stream: str, verify) -> None:
    VERIFIERS[stream] = verify


def year_of(moment: dt.datetime) -> int:
    return timezone.localtime(moment).year if timezone.is_aware(moment) else moment.year


def handler_of(event):
    """The person who handled the demand for this event: for a reply or a task completed, who acted
    (the assignee of the lead task when it was assigned, else the unit's officer); for the return
    visit (acted on by the centre), whoever wrote the demand's last reply before it."""
    from changxin.demands.models import DemandEvent

    if event.action in ("reply", "task_complete"):
        return event.actor_id
    reply = (
        DemandEvent.objects.filter(demand_id=event.demand_id, action="reply", pk__lt=event.pk)
        .order_by("-pk")
        .values_list("actor_id", flat=True)
        .first()
    )
    return reply


def entries_for_event(event, rules=None) -> list[tuple[PartyMember, PointRule]]:
    """(member, rule) pairs a demand event earns: the reference the subscriber writes and the audit
    re-derives."""
    person = handler_of(event)
    if person is None:
        return []
    member = PartyMember.objects.filter(user_id=person).first()
    if member is None:
        return []
    rules = rules if rules is not None else PointRule.objects.filter(stream=DEMANDS, is_active=True)
    return [(member, rule) for rule in rules if rule.applies_to(event.action, event.data or {})]


def credit_from_demand_event(event) -> int:
    """Write the entries a demand event earns (none twice: unique per member, rule and event)."""
    written, years = 0, set()
    for member, rule in entries_for_event(event):
        try:
            with transaction.atomic():
                PointEntry.objects.create(
                    member=member,
                    rule=rule,
                    kind=rule.kind,
                    points=rule.points,
                    at=event.at,
                    year=year_of(event.at),
                    source_stream=DEMANDS,
                    source_event_id=event.pk,
                    demand_id=event.demand_id,
                )
        except IntegrityError:
            continue
        written += 1
        years.add((member, year_of(event.at)))
    for member, year in years:
        recompute_total(member, year)
    return written


def ensure_default_rules() -> int:
    """Create the default rules that are missing (after a flush of a test database); returns how many."""
    made = 0
    for code, name, kind, action, match, points in DEFAULT_RULES:
        _rule, created = PointRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "action": action,
                "match": match,
                "points": Decimal(points),
            },
        )
        made += created
    from changxin.pioneers import commitments, volunteering

    if not PointRule.objects.filter(code=commitments.RULE_CODE).exists():
        commitments.ensure_rule()
        made += 1
    if not PointRule.objects.filter(code=volunteering.RULE_CODE).exists():
        volunteering.ensure_rule()  # volunteer hours (stream "volunteering")
        made += 1
    return made


def recompute_total(member: PartyMember, year: int) -> PointTotal:
    """The one writer of PointTotal: the sum of the member's entries of the year."""
    figures = PointEntry.objects.filter(member=member, year=year).aggregate(s=Sum("points"), n=Count("pk"))
    total, _created = PointTotal.objects.update_or_create(
        member=member, year=year, defaults={"total": figures["s"] or Decimal(0), "entries": figures["n"]}
    )
    return total


# --- the audit -----------------------------------------------------------------------------------


@dataclass
class AuditResult:
    members: int = 0
    entries: int = 0
    from_demands: int = 0
    mismatches: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        return (
            f"members {self.members}, entries {self.entries}, from demands {self.from_demands}, "
            f"mismatches {self.mismatches}"
        )


def audit_points(year: int | None = None) -> AuditResult:
    """Re-derive every entry from its source and every total from the entries; count what differs.

    An entry from demands must match what its source event earns today (the event exists, the rule
    applies, the member handled it, the points agree); an adjustment entry must come from an approved
    adjustment with the same points; any other entry has no source. A stored total must equal the
    sum of its entries."""
    from changxin.demands.models import DemandEvent

    result = AuditResult()
    entries = PointEntry.objects.select_related("rule")
    totals = PointTotal.objects.all()
    if year:
        entries, totals = entries.filter(year=year), totals.filter(year=year)
    rules = list(PointRule.objects.filter(stream=DEMANDS))
    approved = dict(
        PointAdjustment.objects.filter(state=AdjustmentState.APPROVED).values_list("pk", "points")
    )
    event_ids = set(entries.filter(source_stream=DEMANDS).values_list("source_event_id", flat=True))
    events = DemandEvent.objects.in_bulk(event_ids)
    sums: dict[tuple[int, int], Decimal] = {}
    members: set[int] = set()
    by_source: dict[str, list[PointEntry]] = {}
    for entry in entries.iterator():
        result.entries += 1
        members.add(entry.member_id)
        sums[(entry.member_id, entry.year)] = (
            sums.get((entry.member_id, entry.year), Decimal(0)) + entry.points
        )
        if entry.source_stream == DEMANDS:
            result.from_demands += 1
            event = events.get(entry.source_event_id)
            earned = (
                {(m.pk, r.pk): r.points for m, r in entries_for_event(event, rules)}
                if event is not None
                else {}
            )
            if earned.get((entry.member_id, entry.rule_id)) != entry.points:
                result.mismatches += 1
                result.problems.append(
                    f"entry {entry.pk}: not earned by demands event {entry.source_event_id}"
                )
        elif entry.source_stream == ADJUSTMENTS:
            if approved.get(entry.source_event_id) != entry.points:
                result.mismatches += 1
                result.problems.append(f"entry {entry.pk}: no approved adjustment {entry.source_event_id}")
        elif entry.source_stream in VERIFIERS:
            by_source.setdefault(entry.source_stream, []).append(entry)
        else:
            result.mismatches += 1
            result.problems.append(f"entry {entry.pk}: no source")
    for stream, found in by_source.items():
        problems = VERIFIERS[stream](found)
        result.mismatches += len(problems)
        result.problems.extend(problems.values())
    stored = {(t.member_id, t.year): t.total for t in totals}
    for key in set(stored) | set(sums):
        members.add(key[0])
        if stored.get(key, Decimal(0)) != sums.get(key, Decimal(0)):
            result.mismatches += 1
            result.problems.append(
                f"member {key[0]} {key[1]}: stored total {stored.get(key, 0)} ≠ entries {sums.get(key, 0)}"
            )
    result.members = len(members)
    return result


def credit_history(member: PartyMember) -> int:
    """Credit a member whose login was linked after the events were delivered: replay the demand
    events they handled (the subscriber's own rule; idempotent, so nothing counts twice)."""
    from changxin.demands.models import DemandEvent

    if not member.user_id:
        return 0
    handled = DemandEvent.objects.filter(action__in=("reply", "task_complete"), actor_id=member.user_id)
    events = DemandEvent.objects.filter(
        action__in=DEMAND_ACTIONS, demand_id__in=handled.values("demand_id")
    ).order_by("pk")
    return sum(credit_from_demand_event(event) for event in events)
