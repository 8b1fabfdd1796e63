"""The insight app's appeals (申诉) against a monthly ranking figure, a small instance of the

    submitted ──accept (centre, decision note)──▶ accepted
              └─reject (centre, decision note)──▶ rejected

A unit's staff (officer or leader of the unit) submits; the district centre decides. An appeal is
recorded and shown beside the figure; an accepted appeal does **not** change a closed month's
snapshot (RULES.md: the snapshot never changes afterwards) — the centre corrects the demands
themselves (e.g. excludes an unreasonable rating) while the month is open.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import audit, roles
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction, OrgUnit, User
from changxin.core.workflow import Machine, WorkflowError
from changxin.core.workflow import transition as _t
from changxin.demands.models import AppealMetric, AppealState, RankingAppeal

CENTRE = "centre"

MACHINE = Machine(
    name="ranking_appeal",
    states=AppealState,
    noun=gettext_lazy("appeal"),
    transitions=[
        _t(
            "accept",
            gettext_lazy("Accept the appeal"),
            [AppealState.SUBMITTED],
            AppealState.ACCEPTED,
            {CENTRE},
            True,
        ),
        _t(
            "reject",
            gettext_lazy("Reject the appeal"),
            [AppealState.SUBMITTED],
            AppealState.REJECTED,
            {CENTRE},
            True,
        ),
    ],
)


def relations_of(user: User | None) -> set[str]:
    if roles.is_centre(user) and not roles.is_read_only(user):
        return {CENTRE}
    return set()


def may_appeal(user: User | None, unit: OrgUnit) -> bool:
    """Staff (officer or leader) of the unit itself or a unit above it."""
    return roles.is_unit_staff(user) and roles.covers(user, unit)


def submit(user: User, unit: OrgUnit, month: dt.date, metric: str, reason: str) -> RankingAppeal:
    if not may_appeal(user, unit):
        raise DomainError(
            "not_allowed", _("Only the unit's own staff may appeal its figures."), kind=FORBIDDEN
        )
    if metric not in AppealMetric.values:
        raise DomainError("invalid", _("Choose the figure you appeal."), "metric")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("invalid", _("Say why the figure is wrong."), "reason")
    month = month.replace(day=1)
    if month > timezone.localdate().replace(day=1):
        raise DomainError("invalid", _("A month that has not begun cannot be appealed."), "month")
    appeal = RankingAppeal.objects.create(
        month=month,
        unit=unit,
        metric=metric,
        reason=reason[:2000],
        submitted_by=user,
        submitted_at=timezone.now(),
    )
    audit.record(user, AuditAction.CREATE, appeal, detail=f"appeal {unit.code} {month:%Y-%m} {metric}")
    return appeal


def decide(appeal: RankingAppeal | int, name: str, user: User, note: str) -> RankingAppeal:
    """Accept or reject (the machine decides who and when); a decision note is required."""
    pk = getattr(appeal, "pk", appeal)
    note = (note or "").strip()
    with transaction.atomic():
        locked = RankingAppeal.objects.select_for_update().get(pk=pk)
        step = MACHINE.check(name, locked, relations_of(user))
        if step.needs_note and not note:
            raise WorkflowError("note_required", _("Please write the decision."), field="note")
        before = locked.state
        locked.state = step.target
        locked.decision_note, locked.decided_by, locked.decided_at = note, user, timezone.now()
        locked.save(update_fields=["state", "decision_note", "decided_by", "decided_at"])
        audit.record(user, AuditAction.STATE, locked, detail=f"{name}: {before} → {locked.state}")
    return locked


def appeals_of(unit: OrgUnit, month: dt.date | None = None):
    appeals = RankingAppeal.objects.filter(unit=unit).select_related("submitted_by", "decided_by")
    return appeals.filter(month=month.replace(day=1)) if month else appeals


def counts_by_unit(month: dt.date) -> dict[int, int]:
    """{unit id: appeals on the month's figures} — the mark beside a unit's figures."""
    from django.db.models import Count

    rows = (
        RankingAppeal.objects.filter(month=month.replace(day=1))
        .values("unit_id")
        .annotate(n=Count("pk"))
        .values_list("unit_id", "n")
    )
    return dict(rows)
