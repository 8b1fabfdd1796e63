"""承诺践诺 (yearly commitments) and 容错纠错 (relief from a penalty), on the workflow machine.

Commitments:
    draft ─publish→ public ─keep→ kept            (evaluated: the organisation's rating 1–5)
                        └─not_keep (note)→ not_kept
- the member (their own login), their branch's secretary or party staff over it draft and publish;
  progress is added while public; the secretary or party staff evaluate — never the member
  themselves (a secretary's own commitment is evaluated by party staff);
- residents (public accounts) rate a public or evaluated commitment once, 1–5, on the community's
  wall (`/pioneers/wall/<community code>/`, no login needed to read; names masked);
- "keep" publishes a CommitmentEvent; the ledger's subscriber `pioneers.commitments` credits the
  rule `commitment_kept` from it (source: that event) and the audit re-derives it.

Relief (容错纠错):
    applied ─grant (decision)→ granted   (a counter-entry cancels the penalty; source: the application)
            └refuse (decision)→ refused  (the penalty stands)
- the member, their secretary or party staff apply against one penalty entry (negative points) of
  the member's ledger; party staff decide, never the one who applied.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit, roles
from changxin.core import events as bus
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction, OrgUnit
from changxin.core.workflow import Guard, Machine, WorkflowError
from changxin.core.workflow import transition as t
from changxin.pioneers import ledger
from changxin.pioneers.models import (
    Commitment,
    CommitmentEvent,
    CommitmentProgress,
    CommitmentState,
    PartyMember,
    PointEntry,
    PointRule,
    ReliefApplication,
    ReliefState,
    ResidentRating,
)
from changxin.pioneers.pipeline import SECRETARY, STAFF

STREAM = "commitments"
RELIEF = "relief"
SELF = "self"
RULE_CODE = "commitment_kept"
DEFAULT_RULE = (RULE_CODE, "承诺践诺（承诺兑现）", "service", STREAM, "keep", "3")
MIN_CONTENT = 10

C = CommitmentState


def relations_of(user, member: PartyMember) -> set[str]:
    from changxin.pioneers.services import relations_of as org_relations

    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    relations = set(org_relations(user, member.organisation))
    if member.user_id and member.user_id == user.pk:
        relations.add(SELF)
        relations.discard(SECRETARY)  # a secretary does not evaluate their own commitment
    return relations


# --- the machines --------------------------------------------------------------------------------


def _year_open(c, now) -> bool:
    today = timezone.localdate(now) if isinstance(now, dt.datetime) else now
    return c.year in (today.year, today.year + 1)


YEAR_OPEN = Guard(
    _year_open,
    "commitment_year",
    _("Rule: a commitment is made for this year or the next (%(year)s is past)."),
    field="year",
    params=lambda c: {"year": c.year},
)
DESCRIBED = Guard(
    lambda c, now: len((c.content or "").strip()) >= MIN_CONTENT,
    "commitment_content",
    _("Rule: a public commitment says what will be done in at least %(n)s characters."),
    field="content",
    params=lambda c: {"n": MIN_CONTENT},
)
HAS_PROGRESS = Guard(
    lambda c, now: c.progress.exists(),
    "progress_required",
    _("Rule: a commitment is evaluated on its recorded progress; add at least one progress update first."),
)
RATED = Guard(
    lambda c, now: getattr(c, "rating_given", None) in (1, 2, 3, 4, 5),
    "rating_required",
    _("Rule: the organisation's evaluation gives a rating from 1 to 5."),
    field="rating",
)

MACHINE = Machine(
    name="commitment",
    states=CommitmentState,
    noun=_("commitment"),
    transitions=[
        t(
            "publish",
            _("Make public"),
            [C.DRAFT],
            C.PUBLIC,
            {SELF, SECRETARY, STAFF},
            False,
            [YEAR_OPEN, DESCRIBED],
        ),
        t("keep", _("Kept"), [C.PUBLIC], C.KEPT, {SECRETARY, STAFF}, False, [HAS_PROGRESS, RATED]),
        t("not_keep", _("Not kept"), [C.PUBLIC], C.NOT_KEPT, {SECRETARY, STAFF}, True, [RATED]),
    ],
)

NOT_APPLICANT = Guard(
    lambda a, now: getattr(a, "acting_user", None) is None or a.applied_by_id != a.acting_user.pk,
    "four_eyes",
    _("Rule: the one who applied does not decide; another member of party staff does."),
)
RELIEF_MACHINE = Machine(
    name="relief",
    states=ReliefState,
    noun=_("relief application"),
    transitions=[
        t(
            "grant",
            _("Grant relief"),
            [ReliefState.APPLIED],
            ReliefState.GRANTED,
            {STAFF},
            True,
            [NOT_APPLICANT],
        ),
        t(
            "refuse",
            _("Refuse relief"),
            [ReliefState.APPLIED],
            ReliefState.REFUSED,
            {STAFF},
            True,
            [NOT_APPLICANT],
        ),
    ],
)


# --- commitments ---------------------------------------------------------------------------------


def _event(commitment, actor, action, *, from_state="", to_state="", note="", data=None) -> CommitmentEvent:
    authenticated = getattr(actor, "is_authenticated", False)
    event = CommitmentEvent.objects.create(
        commitment=commitment,
        member=commitment.member,
        at=timezone.now(),
        actor=actor if authenticated else None,
        actor_name=(actor.get_username() if authenticated else "system")[:150],
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note[:300],
        data=data or {},
    )
    bus.publish(STREAM, event)
    return event


def _check_relations(actor, member, wanted: set[str], message) -> None:
    if actor is not None and not (relations_of(actor, member) & wanted):
        raise WorkflowError("not_allowed", message)


def community_of(member: PartyMember) -> OrgUnit | None:
    """The member's first responsibility area, else the community their organisation hangs off."""
    area = member.areas.filter(kind__in=roles.COMMUNITY_KINDS).order_by("path").first()
    if area is not None:
        return area
    unit = member.organisation.unit
    return unit if unit.kind in roles.COMMUNITY_KINDS else None


@transaction.atomic
def create_commitment(
    member: PartyMember, *, year: int, title: str, content: str, community: OrgUnit | None = None, actor=None
) -> Commitment:
    _check_relations(
        actor, member, {SELF, SECRETARY, STAFF}, _("You may not keep this member's commitments.")
    )
    title, content = (title or "").strip(), (content or "").strip()
    if not title:
        raise DomainError("required", _("Write the commitment."), "title")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError("invalid_year", _("Give a year between 2000 and 2100."), "year")
    community = community or community_of(member)
    if community is None or community.kind not in roles.COMMUNITY_KINDS:
        raise DomainError(
            "community_required", _("Choose the community whose wall shows the commitment."), "community"
        )
    commitment = Commitment.objects.create(
        member=member, year=year, title=title[:80], content=content, community=community
    )
    _event(commitment, actor, "create", to_state=commitment.state)
    audit.record(actor, AuditAction.CREATE, commitment)
    return commitment


@transaction.atomic
def add_progress(commitment: Commitment, *, on: dt.date, text: str, actor=None) -> CommitmentProgress:
    locked = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("member__organisation")
        .get(pk=commitment.pk)
    )
    _check_relations(
        actor, locked.member, {SELF, SECRETARY, STAFF}, _("You may not keep this member's commitments.")
    )
    if locked.state != C.PUBLIC:
        raise WorkflowError(
            "illegal_state", _("Progress is added to a public commitment that is not evaluated yet.")
        )
    text = (text or "").strip()
    if not text:
        raise DomainError("required", _("Write what was done."), "text")
    if on > timezone.localdate() or on.year < 2000:
        raise DomainError("date_in_future", _("A progress update is dated on or before today."), "on")
    progress = CommitmentProgress.objects.create(commitment=locked, on=on, text=text[:300])
    _event(locked, actor, "progress", note=text, data={"on": on.isoformat()})
    audit.record(actor, AuditAction.CREATE, progress)
    return progress


def available(user, commitment: Commitment):
    """The actions to offer: allowed by the table and every guard but the rating, which the
    evaluation form itself asks for."""
    offered = MACHINE.offered_by_table(commitment.state, relations_of(user, commitment.member))
    return [t for t in offered if t.failed_guard(commitment) in (None, RATED)]


@transaction.atomic
def step(
    commitment: Commitment | int, name: str, actor, *, rating=None, note: str = "", expected_version=None
):
    """Apply `name`; WorkflowError naming the rule, and nothing changed, when refused."""
    locked = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("member__organisation__unit")
        .get(pk=getattr(commitment, "pk", commitment))
    )
    if expected_version is not None and locked.version != int(expected_version):
        raise WorkflowError("stale", _("Someone else changed this a moment ago. Reload it and try again."))
    relations = {STAFF} if actor is None else relations_of(actor, locked.member)
    locked.rating_given = rating
    transition = MACHINE.check(name, locked, relations)
    note = (note or "").strip()
    if transition.needs_note and not note:
        raise WorkflowError("note_required", _("Please write a note for this action."), field="note")
    from_state = locked.state
    locked.state = transition.target
    locked.version += 1
    fields = ["state", "version", "updated_at"]
    if name in ("keep", "not_keep"):
        locked.org_rating, locked.evaluation = rating, note[:200]
        locked.evaluated_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.evaluated_at = timezone.now()
        fields += ["org_rating", "evaluation", "evaluated_by", "evaluated_at"]
    locked.save(update_fields=fields)
    _event(
        locked, actor, name, from_state=from_state, to_state=locked.state, note=note, data={"rating": rating}
    )
    audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {from_state} → {locked.state}")
    return locked


@transaction.atomic
def rate(commitment: Commitment, user, stars) -> ResidentRating:
    """A resident rates a public or evaluated commitment on the wall, once, 1–5."""
    if not roles.is_active(user) or not roles.is_public(user):
        raise DomainError(
            "not_allowed", _("Residents rate commitments with their own account."), kind=FORBIDDEN
        )
    if commitment.state == C.DRAFT:
        raise WorkflowError("illegal_state", _("Only public commitments are rated."))
    if commitment.member.user_id == user.pk:
        raise DomainError("not_allowed", _("Members do not rate their own commitments."), kind=FORBIDDEN)
    if stars not in (1, 2, 3, 4, 5):
        raise DomainError("invalid_rating", _("Give 1 to 5 stars."), "stars")
    try:
        with transaction.atomic():
            rating = ResidentRating.objects.create(
                commitment=commitment, user=user, stars=stars, at=timezone.now()
            )
    except IntegrityError:
        raise DomainError("already_rated", _("You rated this commitment already."), "stars") from None
    _event(commitment, user, "rate", data={"stars": stars})
    audit.record(user, AuditAction.CREATE, rating)
    return rating


# --- the ledger: a kept commitment earns its rule's points ---------------------------------------------


def ensure_rule() -> PointRule:
    code, name, kind, stream, action, points = DEFAULT_RULE
    rule, _created = PointRule.objects.get_or_create(
        code=code,
        defaults={"name": name, "kind": kind, "stream": stream, "action": action, "points": Decimal(points)},
    )
    return rule


def credit(event: CommitmentEvent) -> int:
    """Write the entries a commitment event earns (once per member, rule and event)."""
    written = 0
    for rule in PointRule.objects.filter(stream=STREAM, is_active=True):
        if not rule.applies_to(event.action, event.data or {}):
            continue
        try:
            with transaction.atomic():
                PointEntry.objects.create(
                    member_id=event.member_id,
                    rule=rule,
                    kind=rule.kind,
                    points=rule.points,
                    at=event.at,
                    year=ledger.year_of(event.at),
                    source_stream=STREAM,
                    source_event_id=event.pk,
                    reason=str(event.commitment)[:200],
                )
        except IntegrityError:
            continue
        written += 1
    if written:
        ledger.recompute_total(event.member, ledger.year_of(event.at))
    return written


def verify_entries(entries) -> dict[int, str]:
    entries = list(entries)
    events = CommitmentEvent.objects.in_bulk({e.source_event_id for e in entries})
    rules = PointRule.objects.in_bulk({e.rule_id for e in entries if e.rule_id})
    problems = {}
    for entry in entries:
        event, rule = events.get(entry.source_event_id), rules.get(entry.rule_id)
        if event is None:
            problems[entry.pk] = f"entry {entry.pk}: no commitment event {entry.source_event_id}"
        elif event.member_id != entry.member_id:
            problems[entry.pk] = f"entry {entry.pk}: commitment event {event.pk} is another member's"
        elif rule is None or rule.stream != STREAM or not rule.applies_to(event.action, event.data or {}):
            problems[entry.pk] = f"entry {entry.pk}: rule does not apply to commitment event {event.pk}"
        elif rule.points != entry.points:
            problems[entry.pk] = f"entry {entry.pk}: points differ from rule {rule.code}"
    return problems


# --- 容错纠错 ------------------------------------------------------------------------------------------


@transaction.atomic
def apply_for_relief(penalty: PointEntry, *, reason: str, actor=None) -> ReliefApplication:
    member = penalty.member
    _check_relations(actor, member, {SELF, SECRETARY, STAFF}, _("You may not apply for this member."))
    if penalty.points >= 0:
        raise DomainError(
            "not_a_penalty", _("Relief is asked for a penalty (negative points) only."), "penalty"
        )
    if penalty.source_stream == RELIEF:
        raise DomainError(
            "not_a_penalty", _("Relief is asked for a penalty (negative points) only."), "penalty"
        )
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError(
            "reason_required",
            _("Explain in at least 10 characters why the penalty should be lifted."),
            "reason",
        )
    if ReliefApplication.objects.filter(penalty=penalty).exists():
        raise DomainError("already_applied", _("Relief was asked for this penalty already."), "penalty")
    application = ReliefApplication.objects.create(
        member=member,
        penalty=penalty,
        reason=reason,
        applied_by=actor if getattr(actor, "is_authenticated", False) else None,
        applied_at=timezone.now(),
    )
    audit.record(actor, AuditAction.CREATE, application, detail=f"penalty {penalty.pk} {penalty.points}")
    return application


@transaction.atomic
def decide_relief(
    application: ReliefApplication | int, name: str, actor, *, decision: str, expected_version=None
):
    locked = (
        ReliefApplication.objects.select_for_update(of=("self",))
        .select_related("member__organisation__unit", "penalty")
        .get(pk=getattr(application, "pk", application))
    )
    if expected_version is not None and locked.version != int(expected_version):
        raise WorkflowError("stale", _("Someone else changed this a moment ago. Reload it and try again."))
    locked.acting_user = actor
    relations = {STAFF} if actor is None else relations_of(actor, locked.member)
    transition = RELIEF_MACHINE.check(name, locked, relations)
    decision = (decision or "").strip()
    if transition.needs_note and not decision:
        raise WorkflowError("note_required", _("Write the decision and its grounds."), field="decision")
    from_state = locked.state
    locked.state = transition.target
    locked.version += 1
    locked.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.decided_at = timezone.now()
    locked.decision = decision[:300]
    locked.save(update_fields=["state", "version", "decided_by", "decided_at", "decision"])
    if locked.state == ReliefState.GRANTED:
        penalty = locked.penalty
        PointEntry.objects.create(
            member=locked.member,
            kind=penalty.kind,
            points=-penalty.points,
            at=locked.decided_at,
            year=penalty.year,  # cancels the penalty in the year it counted
            source_stream=RELIEF,
            source_event_id=locked.pk,
            reason=str(_("容错纠错: penalty %(id)s lifted") % {"id": penalty.pk})[:200],
        )
        ledger.recompute_total(locked.member, penalty.year)
    audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {from_state} → {locked.state}")
    return locked


def verify_relief_entries(entries) -> dict[int, str]:
    entries = list(entries)
    applications = ReliefApplication.objects.select_related("penalty").in_bulk(
        {e.source_event_id for e in entries}
    )
    problems = {}
    for entry in entries:
        application = applications.get(entry.source_event_id)
        if application is None or application.state != ReliefState.GRANTED:
            problems[entry.pk] = f"entry {entry.pk}: no granted relief application {entry.source_event_id}"
        elif application.member_id != entry.member_id or entry.points != -application.penalty.points:
            problems[entry.pk] = (
                f"entry {entry.pk}: does not cancel the penalty of application {application.pk}"
            )
    return problems
