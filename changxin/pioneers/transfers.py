"""组织关系转接: a member's move from one organisation to another, on the workflow machine.

    requested ─issue_letter (sending side: letter number and date)→ issued
              ─confirm (receiving side: date)→ received   (the member's organisation changes now)
              └return (receiving side: reason)→ returned   (the member stays where they were)

Until it is confirmed the member stays with the old organisation (RULES.md). Each step is dated on
its own side, publishes a TransferEvent (stream "transfers") and leaves an audit row. The guards
name the rule: the receiver must be another organisation; a letter has a number; nothing is
confirmed or returned before the letter's date; one open transfer per member.

    request_transfer(member, to_organisation, on=, reason=, actor=) → Transfer
    apply(transfer, "issue_letter" | "confirm" | "return", actor, on=, letter_number=, note=)
    available(user, transfer)                                         → the steps to offer
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit
from changxin.core import events as bus
from changxin.core.errors import CONFLICT
from changxin.core.models import AuditAction
from changxin.core.workflow import Guard, Machine, WorkflowError
from changxin.core.workflow import transition as t
from changxin.demands.events import Payload
from changxin.pioneers.models import PartyMember, PartyOrganisation, Transfer, TransferEvent, TransferState

STREAM = "transfers"
SENDER = "sender"  # party staff over the sending organisation, or its secretary
RECEIVER = "receiver"  # party staff over the receiving organisation, or its secretary


@dataclass(frozen=True)
class Requested(Payload):
    action = "request"
    member: int
    from_organisation: int
    to_organisation: int
    on: str


@dataclass(frozen=True)
class Stepped(Payload):
    action = "step"  # stored under the step's name
    step: str
    on: str
    letter_number: str = ""


def _day(now) -> dt.date:
    if isinstance(now, dt.datetime):
        return timezone.localdate(now) if timezone.is_aware(now) else now.date()
    return now


RECEIVER_DIFFERS = Guard(
    lambda tr, now: tr.to_organisation_id != tr.from_organisation_id,
    "receiver_must_differ",
    _("Rule: a transfer goes to another organisation than the member's own."),
    field="to_organisation",
)
LETTER_NUMBERED = Guard(
    lambda tr, now: bool((tr.letter_number or "").strip()),
    "letter_number_required",
    _("Rule: the outgoing letter (介绍信) has a number."),
    field="letter_number",
)
MEMBER_STILL_THERE = Guard(
    lambda tr, now: tr.member.organisation_id == tr.from_organisation_id,
    "member_not_in_sender",
    _("Rule: the letter is issued by the organisation the member belongs to."),
)
NOT_BEFORE_REQUEST = Guard(
    lambda tr, now: _day(now) >= tr.requested_on,
    "letter_after_request",
    _("Rule: the letter is dated on or after the request (%(date)s)."),
    field="on",
    params=lambda tr: {"date": tr.requested_on.isoformat()},
)
AFTER_LETTER = Guard(
    lambda tr, now: tr.letter_issued_on is not None and _day(now) >= tr.letter_issued_on,
    "confirm_after_letter",
    _(
        "Rule: the receiving organisation confirms (or returns) a transfer only after the outgoing "
        "letter, dated %(date)s."
    ),
    field="on",
    params=lambda tr: {"date": tr.letter_issued_on.isoformat() if tr.letter_issued_on else "—"},
)

MACHINE = Machine(
    name="transfer",
    states=TransferState,
    noun=_("transfer"),
    transitions=[
        t(
            "issue_letter",
            _("Issue the outgoing letter"),
            [TransferState.REQUESTED],
            TransferState.ISSUED,
            {SENDER},
            False,
            [RECEIVER_DIFFERS, MEMBER_STILL_THERE, NOT_BEFORE_REQUEST, LETTER_NUMBERED],
        ),
        t(
            "confirm",
            _("Confirm receipt"),
            [TransferState.ISSUED],
            TransferState.RECEIVED,
            {RECEIVER},
            False,
            [RECEIVER_DIFFERS, AFTER_LETTER],
        ),
        t(
            "return",
            _("Return the letter"),
            [TransferState.ISSUED],
            TransferState.RETURNED,
            {RECEIVER},
            True,
            [AFTER_LETTER],
        ),
    ],
)


def relations_of(user, transfer: Transfer) -> set[str]:
    from changxin.pioneers.services import relations_of as org_relations

    relations = set()
    if user is None:
        return relations
    if org_relations(user, transfer.from_organisation):
        relations.add(SENDER)
    if org_relations(user, transfer.to_organisation):
        relations.add(RECEIVER)
    return relations


def _moment(on: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(on, dt.time(12)))


def _event(transfer, actor, action, payload, *, from_state="", note="") -> TransferEvent:
    authenticated = getattr(actor, "is_authenticated", False)
    event = TransferEvent.objects.create(
        transfer=transfer,
        at=timezone.now(),
        actor=actor if authenticated else None,
        actor_name=(actor.get_username() if authenticated else "system")[:150],
        action=action,
        from_state=from_state,
        to_state=transfer.state,
        note=note,
        data=payload.data(),
    )
    bus.publish(STREAM, event)
    return event


@transaction.atomic
def request_transfer(
    member: PartyMember,
    to_organisation: PartyOrganisation,
    *,
    on: dt.date | None = None,
    reason: str = "",
    actor=None,
) -> Transfer:
    """The sending side opens a transfer of its member to another organisation."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise WorkflowError("date_in_future", _("A transfer is dated on the day it happened."), "on")
    member = (
        PartyMember.objects.select_for_update(of=("self",))
        .select_related("organisation__unit")
        .get(pk=member.pk)
    )
    transfer = Transfer(
        member=member,
        from_organisation=member.organisation,
        to_organisation=to_organisation,
        requested_on=on,
        reason=(reason or "").strip()[:200],
    )
    if actor is not None and SENDER not in relations_of(actor, transfer):
        raise WorkflowError("not_allowed", _("Only the member's own organisation starts a transfer."))
    if RECEIVER_DIFFERS.test(transfer, _moment(on)) is False:
        raise RECEIVER_DIFFERS.refusal(transfer)
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError:
        raise WorkflowError(
            "transfer_open", _("Rule: a member has one open transfer at a time."), kind=CONFLICT
        ) from None
    _event(
        transfer,
        actor,
        "request",
        Requested(
            member=member.pk,
            from_organisation=member.organisation_id,
            to_organisation=to_organisation.pk,
            on=on,
        ),
        note=transfer.reason,
    )
    audit.record(actor, AuditAction.CREATE, transfer, detail=f"→ {to_organisation} on {on}")
    return transfer


def available(user, transfer: Transfer, on: dt.date | None = None):
    return MACHINE.available(transfer, relations_of(user, transfer), _moment(on or timezone.localdate()))


@transaction.atomic
def apply(
    transfer: Transfer | int,
    name: str,
    actor,
    *,
    on: dt.date | None = None,
    letter_number: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Transfer:
    """Apply step `name` on the date `on` (default today); a refusal names the rule and changes nothing."""
    on = on or timezone.localdate()
    note = (note or "").strip()
    locked = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("member", "from_organisation__unit", "to_organisation__unit")
        .get(pk=getattr(transfer, "pk", transfer))
    )
    if expected_version is not None and locked.version != int(expected_version):
        raise WorkflowError(
            "stale", _("Someone else changed this transfer a moment ago. Reload it and try again.")
        )
    if on > timezone.localdate():
        raise WorkflowError("date_in_future", _("A step is dated on the day it happened."), "on")
    relations = {SENDER, RECEIVER} if actor is None else relations_of(actor, locked)
    if name == "issue_letter":
        locked.letter_number = (letter_number or "").strip()[:40]
    step = MACHINE.check(name, locked, relations, _moment(on))
    if step.needs_note and not note:
        raise WorkflowError("note_required", _("Please write a note for this action."), field="note")
    from_state = locked.state
    changed = ["state", "version", "updated_at"]
    if name == "issue_letter":
        locked.letter_issued_on = on
        changed += ["letter_number", "letter_issued_on"]
    elif name == "confirm":
        locked.received_on = on
        changed.append("received_on")
        member = PartyMember.objects.select_for_update().get(pk=locked.member_id)
        member.organisation = locked.to_organisation
        member.is_secretary = False  # a secretary of the old branch is not one of the new
        member.save(update_fields=["organisation", "is_secretary"])
        audit.record(
            actor,
            AuditAction.UPDATE,
            member,
            fields=["organisation"],
            detail=f"{locked.from_organisation} → {locked.to_organisation} (transfer {locked.pk})",
        )
    elif name == "return":
        locked.returned_on, locked.return_reason = on, note[:200]
        changed += ["returned_on", "return_reason"]
    locked.state = step.target
    locked.version += 1
    locked.save(update_fields=changed)
    _event(
        locked,
        actor,
        name,
        Stepped(step=name, on=on, letter_number=locked.letter_number),
        from_state=from_state,
        note=note,
    )
    audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {from_state} → {locked.state} on {on}")
    if isinstance(transfer, Transfer):
        transfer.refresh_from_db()
    return locked
