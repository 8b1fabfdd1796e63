"""Every write of the party wing: organisations, members, the development pipeline.

Each change of a development case goes through `take_step` (row lock, the machine's table and
guards at the step's date, the handler, a PipelineEvent published as stream "pipeline", an audit row).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit, roles
from changxin.core import events as bus
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction, OrgUnit, User
from changxin.core.workflow import WorkflowError
from changxin.pioneers import events as payloads
from changxin.pioneers import ledger
from changxin.pioneers.models import (
    AdjustmentState,
    DevelopmentCase,
    DevelopmentRecord,
    MemberStatus,
    OrgKind,
    PartyMember,
    PartyOrganisation,
    PipelineEvent,
    PointAdjustment,
    PointEntry,
    RecordKind,
    VanguardKind,
)
from changxin.pioneers.pipeline import (
    MACHINE,
    MIN_AGE,
    PROBATION_YEARS,
    SECRETARY,
    STAFF,
    add_years,
)

# --- who the actor is ---------------------------------------------------------------------------


def is_secretary_of(user, organisation: PartyOrganisation) -> bool:
    return bool(
        roles.is_active(user)
        and PartyMember.objects.filter(user=user, organisation=organisation, is_secretary=True).exists()
    )


def is_staff_for(user, organisation: PartyOrganisation) -> bool:
    """Party staff whose unit's subtree holds the organisation's unit (district admins too)."""
    if not roles.is_active(user) or roles.is_read_only(user):
        return False
    if roles.is_district_admin(user):
        return True
    return user.role == "party_staff" and roles.covers(user, organisation.unit)


def relations_of(user, organisation: PartyOrganisation) -> set[str]:
    relations = set()
    if is_staff_for(user, organisation):
        relations.add(STAFF)
    if is_secretary_of(user, organisation):
        relations.add(SECRETARY)
    return relations


def may_unmask(user, member: PartyMember) -> bool:
    """Who needs a member's ID number and phone: party staff over their organisation, the
    secretary of their branch, and the member themselves."""
    party_staff = (
        roles.is_active(user) and user.role == "party_staff" and roles.covers(user, member.organisation.unit)
    )
    return bool(
        party_staff
        or is_secretary_of(user, member.organisation)
        or (member.user_id and member.user_id == getattr(user, "pk", None))
    )


def unmask_member(user, member: PartyMember, *, request=None) -> dict:
    """The member's personal data unmasked, for a viewer who needs it; the viewing is audited."""
    if not may_unmask(user, member):
        raise DomainError("not_allowed", _("You may not see this member's personal data."), kind=FORBIDDEN)
    audit.record_personal_view(user, member, ["id_number", "phone"], request=request)
    return {"id_number": member.id_number, "phone": member.phone}


# --- organisations and members ----------------------------------------------------------------


@transaction.atomic
def create_organisation(
    *, name: str, kind: str, field: str, unit: OrgUnit, parent: PartyOrganisation | None = None, actor=None
) -> PartyOrganisation:
    if parent is not None and parent.kind == OrgKind.BRANCH:
        raise DomainError("invalid", _("A branch (党支部) has no organisations under it."), "parent")
    if kind == OrgKind.COMMITTEE and parent is not None and parent.kind != OrgKind.COMMITTEE:
        raise DomainError("invalid", _("A party committee sits only under another committee."), "parent")
    org = PartyOrganisation.objects.create(name=name, kind=kind, field=field, unit=unit, parent=parent)
    audit.record(actor, AuditAction.CREATE, org)
    return org


@transaction.atomic
def add_member(
    organisation: PartyOrganisation,
    *,
    name: str,
    status: str = MemberStatus.FULL,
    actor=None,
    user: User | None = None,
    areas=(),
    **fields,
) -> PartyMember:
    member = PartyMember.objects.create(
        organisation=organisation, name=name, status=status, user=user, **fields
    )
    if areas:
        member.areas.set(areas)
    audit.record(actor, AuditAction.CREATE, member)
    if user is not None:
        ledger.credit_history(member)  # what they handled before their login was linked counts
    return member


@transaction.atomic
def link_account(member: PartyMember, user: User | None, actor=None) -> PartyMember:
    """Link (or unlink) the member's login; the demands they handled are credited from history."""
    member.user = user
    member.save(update_fields=["user"])
    audit.record(actor, AuditAction.UPDATE, member, fields=["user"])
    if user is not None:
        ledger.credit_history(member)
    return member


@transaction.atomic
def set_areas(member: PartyMember, areas, actor=None) -> None:
    """The member's responsibility areas (责任区): communities/villages."""
    areas = list(areas)
    bad = [a for a in areas if a.kind not in roles.COMMUNITY_KINDS]
    if bad:
        raise DomainError("invalid", _("A responsibility area is a community or a village."), "areas")
    member.areas.set(areas)
    audit.record(actor, AuditAction.UPDATE, member, fields=["areas"])


# --- the pipeline ------------------------------------------------------------------------------


def _moment(on: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(on, dt.time(12)))


def _event(case, actor, action, payload, *, from_stage="", to_stage="", note="", at=None) -> PipelineEvent:
    event = PipelineEvent.objects.create(
        case=case,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if getattr(actor, "is_authenticated", False) else "system")[:150],
        action=action,
        from_stage=from_stage,
        to_stage=to_stage,
        note=note,
        data=payload.data(),
    )
    bus.publish("pipeline", event)
    return event


def _check_actor(actor, organisation) -> None:
    if actor is not None and not relations_of(actor, organisation):
        raise WorkflowError(
            "not_allowed", _("You may not keep the development records of this organisation.")
        )


def _check_date(on: dt.date, today: dt.date | None = None) -> None:
    if on > (today or timezone.localdate()):
        raise DomainError(
            "date_in_future", _("A record is dated on the day it happened, not in the future."), "on"
        )


@transaction.atomic
def record_application(
    organisation: PartyOrganisation,
    *,
    name: str,
    birth_date: dt.date,
    applied_on: dt.date,
    actor=None,
    **fields,
) -> DevelopmentCase:
    """An application to join the party (入党申请): the case starts as an applicant."""
    _check_actor(actor, organisation)
    _check_date(applied_on)
    if add_years(birth_date, MIN_AGE) > applied_on:
        raise WorkflowError(
            "applicant_under_18",
            _("Rule: an applicant is at least %(age)s years old on the day of the application.")
            % {"age": MIN_AGE},
            "birth_date",
        )
    case = DevelopmentCase.objects.create(
        organisation=organisation, name=name, birth_date=birth_date, applied_on=applied_on, **fields
    )
    _event(
        case,
        actor,
        "apply",
        payloads.Applied(on=applied_on, organisation=organisation.pk),
        to_stage=case.stage,
    )
    audit.record(actor, AuditAction.CREATE, case)
    return case


@transaction.atomic
def add_record(
    case: DevelopmentCase | int,
    kind: str,
    on: dt.date,
    *,
    actor=None,
    until: dt.date | None = None,
    sponsor: PartyMember | None = None,
    note: str = "",
) -> DevelopmentRecord:
    """A dated record the steps require (talk, training, review, notice, vote, approval, sponsor)."""
    case = (
        DevelopmentCase.objects.select_for_update()
        .select_related("organisation__unit")
        .get(pk=getattr(case, "pk", case))
    )
    _check_actor(actor, case.organisation)
    if kind not in RecordKind.values:
        raise DomainError("invalid", _("Unknown kind of record."), "kind")
    if kind == RecordKind.PUBLIC_NOTICE and (until is None or until < on):
        raise DomainError("invalid", _("A public notice has an end date on or after its start."), "until")
    if kind == RecordKind.SPONSOR and sponsor is None:
        raise DomainError("invalid", _("Name the sponsoring member."), "sponsor")
    if on < case.applied_on:
        raise DomainError("invalid", _("A record cannot predate the application."), "on")
    _check_date(on)
    record = DevelopmentRecord.objects.create(
        case=case, kind=kind, on=on, until=until, sponsor=sponsor, note=note, recorded_by=actor
    )
    _event(
        case,
        actor,
        "record",
        payloads.Recorded(
            record=record.pk, kind=kind, on=on, until=until, sponsor=sponsor.pk if sponsor else None
        ),
        from_stage=case.stage,
        to_stage=case.stage,
        note=note,
    )
    audit.record(actor, AuditAction.CREATE, record)
    return record


def available_steps(user, case: DevelopmentCase, on: dt.date | None = None):
    """The steps `user` may take on `case` on `on` (today): what the screens offer."""
    return MACHINE.available(case, relations_of(user, case.organisation), _moment(on or timezone.localdate()))


@transaction.atomic
def take_step(
    case: DevelopmentCase | int,
    name: str,
    actor,
    *,
    on: dt.date | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> DevelopmentCase:
    """Apply pipeline step `name` on the date `on` (default today). Raises WorkflowError naming the
    rule (the guard's code and message) and changes nothing when the step is not allowed then."""
    on = on or timezone.localdate()
    note = (note or "").strip()
    locked = (
        DevelopmentCase.objects.select_for_update(of=("self",))
        .select_related("organisation__unit")
        .prefetch_related("records__sponsor")
        .get(pk=getattr(case, "pk", case))
    )
    if expected_version is not None and locked.version != int(expected_version):
        raise WorkflowError(
            "stale", _("Someone else changed this case a moment ago. Reload it and try again.")
        )
    _check_date(on)
    relations = {STAFF} if actor is None else relations_of(actor, locked.organisation)
    step = MACHINE.check(name, locked, relations, _moment(on))
    if step.needs_note and not note:
        raise WorkflowError("note_required", _("Please write a note for this action."), field="note")
    from_stage = locked.stage
    changed = HANDLERS[name](locked, on, actor)
    if step.target:
        locked.stage = step.target
    locked.version += 1
    locked.save(update_fields=sorted(set(changed) | {"stage", "version", "updated_at"}))
    _event(
        locked,
        actor,
        name,
        payloads.StepTaken(
            step=name,
            on=on,
            member=locked.member_id,
            probation_ends_on=locked.probation_ends_on.isoformat() if locked.probation_ends_on else None,
        ),
        from_stage=from_stage,
        to_stage=locked.stage,
        note=note,
    )
    audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {from_stage} → {locked.stage} on {on}")
    if isinstance(case, DevelopmentCase):
        case.refresh_from_db()
    return locked


def _make_activist(case, on, actor):
    case.activist_on = on
    return ["activist_on"]


def _make_target(case, on, actor):
    case.target_on = on
    return ["target_on"]


def _admit(case, on, actor):
    # the probation runs from the branch meeting's vote (支部大会通过之日)
    vote = case.records_of(RecordKind.BRANCH_VOTE)[-1]
    case.probationary_on = vote.on
    case.probation_ends_on = add_years(vote.on, PROBATION_YEARS)
    case.member = PartyMember.objects.create(
        organisation=case.organisation,
        name=case.name,
        gender=case.gender,
        birth_date=case.birth_date,
        id_number=case.id_number,
        status=MemberStatus.PROBATIONARY,
        joined_on=vote.on,
    )
    return ["probationary_on", "probation_ends_on", "member"]


def _confirm(case, on, actor):
    case.full_on = case.probation_ends_on
    member = case.member
    member.status = MemberStatus.FULL
    member.save(update_fields=["status"])
    return ["full_on"]


def _extend(case, on, actor):
    case.extended = True
    case.probation_ends_on = add_years(case.probation_ends_on, 1)
    return ["extended", "probation_ends_on"]


def _cancel(case, on, actor):
    return []


HANDLERS = {
    "make_activist": _make_activist,
    "make_target": _make_target,
    "admit": _admit,
    "confirm": _confirm,
    "extend": _extend,
    "cancel": _cancel,
}


# --- manual adjustments: requested → approved / rejected ---------------------------------------


def request_adjustment(member: PartyMember, *, points, kind: str, reason: str, actor) -> PointAdjustment:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("An adjustment needs a reason."), "reason")
    if kind not in VanguardKind.values:
        raise DomainError("invalid", _("Choose the kind of vanguard."), "kind")
    with transaction.atomic():
        adjustment = PointAdjustment.objects.create(
            member=member,
            points=Decimal(str(points)),
            kind=kind,
            reason=reason[:200],
            requested_by=actor,
            requested_at=timezone.now(),
        )
        audit.record(actor, AuditAction.CREATE, adjustment, detail=reason)
    return adjustment


def decide_adjustment(
    adjustment: PointAdjustment | int, *, approve: bool, actor, note: str = ""
) -> PointAdjustment:
    """Party staff over the member's organisation approve or reject; never the requester."""
    with transaction.atomic():
        locked = (
            PointAdjustment.objects.select_for_update(of=("self",))
            .select_related("member__organisation__unit")
            .get(pk=getattr(adjustment, "pk", adjustment))
        )
        if locked.state != AdjustmentState.REQUESTED:
            raise WorkflowError("illegal_state", _("This adjustment has been decided already."))
        if not is_staff_for(actor, locked.member.organisation):
            raise DomainError(
                "not_allowed", _("Only party staff over the organisation decide adjustments."), kind=FORBIDDEN
            )
        if locked.requested_by_id == actor.pk:
            raise DomainError(
                "four_eyes",
                _("An adjustment is approved by someone other than who asked for it."),
                kind=FORBIDDEN,
            )
        now = timezone.now()
        locked.state = AdjustmentState.APPROVED if approve else AdjustmentState.REJECTED
        locked.decided_by, locked.decided_at, locked.decision_note = actor, now, (note or "")[:200]
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        if approve:
            PointEntry.objects.create(
                member=locked.member,
                kind=locked.kind,
                points=locked.points,
                at=now,
                year=ledger.year_of(now),
                source_stream=ledger.ADJUSTMENTS,
                source_event_id=locked.pk,
                reason=locked.reason,
            )
            ledger.recompute_total(locked.member, ledger.year_of(now))
        audit.record(actor, AuditAction.STATE, locked, detail=f"{AdjustmentState.REQUESTED} → {locked.state}")
    return locked
