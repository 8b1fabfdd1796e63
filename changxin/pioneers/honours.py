"""先锋者荣: honours nominated from the yearly ranking, approved by other party staff, published.

    nominated ─approve→ approved ─publish→ published    (the public honour roll of the year)
        └──────reject (note)──┴→ rejected

- the nomination is party staff's or the branch secretary's, for a member in the top N
  (settings.PIONEERS_HONOUR_TOP_N, default 10) of their own organisation's ranking of the year,
  with points above zero: guard `top_of_ranking`; once per member and year (`honour_once_a_year`);
- approval and rejection are party staff's, never the nominator's (guard `four_eyes`); publication
  is party staff's;
- every change is an HonourEvent (stream "honours") and an audit row;
- the honour roll (`/pioneers/honours/roll/?year=`) is public: name, organisation, honour, citation —
  honours are public by nature; nothing else about the member.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit, scope
from changxin.core import events as bus
from changxin.core.errors import DomainError
from changxin.core.models import AuditAction
from changxin.core.workflow import Guard, Machine, WorkflowError
from changxin.core.workflow import transition as t
from changxin.pioneers.models import Honour, HonourEvent, HonourState, PartyMember, PointTotal
from changxin.pioneers.pipeline import SECRETARY, STAFF

STREAM = "honours"
H = HonourState
DEFAULT_TITLE = "优秀先锋者"


def top_n() -> int:
    return int(getattr(settings, "PIONEERS_HONOUR_TOP_N", 10))


def relations_of(user, member: PartyMember) -> set[str]:
    from changxin.pioneers.services import relations_of as org_relations

    return set(org_relations(user, member.organisation))


def standing(member: PartyMember, year: int) -> tuple[int, Decimal]:
    """The member's rank in their own organisation's ranking of `year` (ties share a rank) and points."""
    totals = dict(
        PointTotal.objects.filter(member__organisation_id=member.organisation_id, year=year).values_list(
            "member_id", "total"
        )
    )
    mine = totals.get(member.pk, Decimal(0))
    return 1 + sum(1 for total in totals.values() if total > mine), mine


def _in_top(h, now) -> bool:
    return h.points > 0 and h.rank <= top_n()


IN_TOP = Guard(
    _in_top,
    "top_of_ranking",
    _(
        "Rule: only a member in the top %(n)s of their organisation's ranking of %(year)s, with points, "
        "is nominated (rank %(rank)s, %(points)s points)."
    ),
    field="member",
    params=lambda h: {"n": top_n(), "year": h.year, "rank": h.rank, "points": h.points},
)
NOT_NOMINATOR = Guard(
    lambda h, now: getattr(h, "acting_user", None) is None or h.nominated_by_id != h.acting_user.pk,
    "four_eyes",
    _("Rule: the one who nominated does not approve or reject; another member of party staff does."),
)
YEAR_DONE_OR_RUNNING = Guard(
    lambda h, now: h.year <= timezone.localdate(now).year,
    "honour_year",
    _("Rule: an honour is given for this year or a past one."),
    field="year",
)

MACHINE = Machine(
    name="honour",
    states=HonourState,
    noun=_("honour"),
    transitions=[
        t("approve", _("Approve"), [H.NOMINATED], H.APPROVED, {STAFF}, False, [NOT_NOMINATOR]),
        t("publish", _("Publish"), [H.APPROVED], H.PUBLISHED, {STAFF}, False, []),
        t("reject", _("Reject"), [H.NOMINATED, H.APPROVED], H.REJECTED, {STAFF}, True, [NOT_NOMINATOR]),
    ],
)


def _event(honour, actor, action, *, from_state="", to_state="", note="", data=None) -> HonourEvent:
    authenticated = getattr(actor, "is_authenticated", False)
    event = HonourEvent.objects.create(
        honour=honour,
        at=timezone.now(),
        actor=actor if authenticated else None,
        actor_name=(actor.get_username() if authenticated else "system")[:150],
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=(note or "")[:300],
        data=data or {},
    )
    bus.publish(STREAM, event)
    return event


@transaction.atomic
def nominate(member: PartyMember, year: int, *, title: str = "", citation: str = "", actor=None) -> Honour:
    """Nominate `member` for `year`; refused with the rule named unless they are in the top N."""
    if actor is not None and not (relations_of(actor, member) & {STAFF, SECRETARY}):
        raise WorkflowError(
            "not_allowed", _("Only party staff over the organisation or its secretary nominate.")
        )
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError("invalid_year", _("Give a year between 2000 and 2100."), "year")
    rank, points = standing(member, year)
    honour = Honour(
        member=member,
        year=year,
        title=((title or "").strip() or DEFAULT_TITLE)[:60],
        citation=(citation or "").strip()[:300],
        rank=rank,
        points=points,
        nominated_by=actor if getattr(actor, "is_authenticated", False) else None,
        nominated_at=timezone.now(),
    )
    for guard in (YEAR_DONE_OR_RUNNING, IN_TOP):
        if not guard.test(honour, timezone.now()):
            raise guard.refusal(honour)
    try:
        with transaction.atomic():
            honour.save()
    except IntegrityError:
        raise DomainError(
            "honour_once_a_year",
            _("Rule: a member is nominated once a year; %(year)s has one.") % {"year": year},
            "member",
        ) from None
    _event(honour, actor, "nominate", to_state=honour.state, data={"rank": rank, "points": str(points)})
    audit.record(actor, AuditAction.CREATE, honour, detail=f"rank {rank}, {points} points")
    return honour


def available(user, honour: Honour, relations: set[str] | None = None):
    """The actions to offer (`relations` may be passed in when a page shows many honours)."""
    honour.acting_user = user
    return MACHINE.available(honour, relations_of(user, honour.member) if relations is None else relations)


@transaction.atomic
def step(honour: Honour | int, name: str, actor, *, note: str = "", expected_version=None) -> Honour:
    locked = (
        Honour.objects.select_for_update(of=("self",))
        .select_related("member__organisation__unit")
        .get(pk=getattr(honour, "pk", honour))
    )
    if expected_version is not None and locked.version != int(expected_version):
        raise WorkflowError("stale", _("Someone else changed this a moment ago. Reload it and try again."))
    locked.acting_user = actor
    relations = {STAFF} if actor is None else relations_of(actor, locked.member)
    transition = MACHINE.check(name, locked, relations)
    note = (note or "").strip()
    if transition.needs_note and not note:
        raise WorkflowError("note_required", _("Please write a note for this action."), field="note")
    from_state = locked.state
    locked.state = transition.target
    locked.version += 1
    fields = ["state", "version"]
    if name in ("approve", "reject"):
        locked.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.decided_at = timezone.now()
        fields += ["decided_by", "decided_at"]
    if name == "publish":
        locked.published_at = timezone.now()
        fields.append("published_at")
    locked.save(update_fields=fields)
    _event(locked, actor, name, from_state=from_state, to_state=locked.state, note=note)
    audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {from_state} → {locked.state}")
    return locked


def honours_visible_to(user):
    return scope.restrict(Honour.objects.select_related("member__organisation", "nominated_by"), user)


def get_honour_for(user, pk: int) -> Honour:
    return scope.get_visible_or_404(Honour.objects.select_related("member__organisation__unit"), user, pk=pk)


def roll(year: int):
    """The public honour roll of `year`: published honours only, with name and organisation."""
    return (
        Honour.objects.filter(year=year, state=H.PUBLISHED)
        .select_related("member__organisation")
        .only("title", "citation", "year", "published_at", "member__name", "member__organisation__name")
        .order_by("member__organisation__name", "rank", "id")
    )


def roll_years() -> list[int]:
    return sorted(set(Honour.objects.filter(state=H.PUBLISHED).values_list("year", flat=True)), reverse=True)
