"""志愿先锋: volunteer activities on the workflow machine, sign-ups, QR check-in, hours to the ledger.

    draft ─publish→ published ─close→ closed          (organisers: party staff, the secretary)
    published: sign_up / withdraw / check_in           (members with a login; the state stays)

The activity page shows a QR code of a check-in URL carrying a signed, expiring token
(django.core.signing, salt "pioneers.checkin", `CHANGXIN_PIONEERS_CHECKIN_TOKEN_MINUTES`, default
10; the page renews it). A member who scans it checks in — refused, with the rule named, outside the
time window (from `CHANGXIN_PIONEERS_CHECKIN_EARLY_MINUTES` before the start to the end), without a
sign-up, twice, or with a token that is forged or expired. A check-in writes a VolunteerEvent
(stream "volunteering") and, in the same transaction, the member's point entry: rule
`volunteer_hours` (points per hour) × the activity's hours, its source that event. The audit
(`changxin pioneers audit-points`) re-derives it from the event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit
from changxin.core import events as bus
from changxin.core.errors import CONFLICT, FORBIDDEN, DomainError
from changxin.core.models import AuditAction
from changxin.core.workflow import Guard, Machine, WorkflowError
from changxin.core.workflow import transition as t
from changxin.demands.events import Payload
from changxin.pioneers.models import (
    ActivityState,
    PartyMember,
    PartyOrganisation,
    PointEntry,
    PointRule,
    VolunteerActivity,
    VolunteerEvent,
    VolunteerSignup,
)

STREAM = "volunteering"
RULE_CODE = "volunteer_hours"
# (code, name, kind, stream, action, points per hour): created by the migration and ensure_rule
DEFAULT_RULE = (RULE_CODE, "志愿服务时长（每小时）", "service", STREAM, "check_in", "1")
SALT = "pioneers.checkin"
ORGANISER = "organiser"
MEMBER = "member"


def token_minutes() -> int:
    return int(getattr(settings, "CHANGXIN_PIONEERS_CHECKIN_TOKEN_MINUTES", 10))


def early_minutes() -> int:
    return int(getattr(settings, "CHANGXIN_PIONEERS_CHECKIN_EARLY_MINUTES", 30))


# --- payloads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changed(Payload):
    action = "change"  # create, publish, close
    step: str
    state: str


@dataclass(frozen=True)
class SignedUp(Payload):
    action = "sign_up"  # sign_up, withdraw
    member: int
    step: str = "sign_up"


@dataclass(frozen=True)
class CheckedIn(Payload):
    action = "check_in"
    member: int
    hours: str
    points: str | None = None


# --- the machine -------------------------------------------------------------------------------


def _now(now) -> dt.datetime:
    return now if isinstance(now, dt.datetime) else timezone.now()


def _window_opens(a) -> dt.datetime:
    return a.starts_at - dt.timedelta(minutes=early_minutes())


VALID_WINDOW = Guard(
    lambda a, now: a.ends_at > a.starts_at and a.capacity > 0 and a.hours > 0,
    "activity_incomplete",
    _("Rule: an activity has a time window that ends after it starts, a capacity and its hours."),
)
NOT_OVER = Guard(
    lambda a, now: _now(now) < a.ends_at,
    "activity_over",
    _("Rule: sign-up closes when the activity ends (%(end)s)."),
    params=lambda a: {"end": timezone.localtime(a.ends_at).strftime("%Y-%m-%d %H:%M")},
)
HAS_ROOM = Guard(
    lambda a, now: getattr(a, "taken", 0) < a.capacity,
    "capacity_full",
    _("Rule: the activity is full (%(capacity)s places)."),
    params=lambda a: {"capacity": a.capacity},
)
NOT_SIGNED = Guard(
    lambda a, now: getattr(a, "signup", None) is None,
    "already_signed_up",
    _("Rule: a member signs up once for an activity."),
)
SIGNED = Guard(
    lambda a, now: getattr(a, "signup", None) is not None,
    "not_signed_up",
    _("Rule: only members who signed up check in. Sign up first."),
)
NOT_CHECKED_IN = Guard(
    lambda a, now: getattr(a, "signup", None) is None or a.signup.checked_in_at is None,
    "already_checked_in",
    _("Rule: a member checks in once; you checked in already."),
)
NOT_STARTED = Guard(
    lambda a, now: _now(now) < a.starts_at,
    "activity_started",
    _("Rule: a sign-up is withdrawn before the activity starts."),
)
IN_WINDOW = Guard(
    lambda a, now: _window_opens(a) <= _now(now) <= a.ends_at,
    "outside_time_window",
    _("Rule: check-in is open from %(opens)s to %(ends)s, at the place and time of the activity."),
    params=lambda a: {
        "opens": timezone.localtime(_window_opens(a)).strftime("%Y-%m-%d %H:%M"),
        "ends": timezone.localtime(a.ends_at).strftime("%Y-%m-%d %H:%M"),
    },
)

MACHINE = Machine(
    name="volunteer_activity",
    states=ActivityState,
    noun=_("activity"),
    transitions=[
        t(
            "publish",
            _("Publish"),
            [ActivityState.DRAFT],
            ActivityState.PUBLISHED,
            {ORGANISER},
            False,
            [VALID_WINDOW, NOT_OVER],
        ),
        t(
            "close",
            _("Close"),
            [ActivityState.DRAFT, ActivityState.PUBLISHED],
            ActivityState.CLOSED,
            {ORGANISER},
        ),
        t(
            "sign_up",
            _("Sign up"),
            [ActivityState.PUBLISHED],
            None,
            {MEMBER},
            False,
            [NOT_OVER, NOT_SIGNED, HAS_ROOM],
        ),
        t(
            "withdraw",
            _("Withdraw"),
            [ActivityState.PUBLISHED],
            None,
            {MEMBER},
            False,
            [SIGNED, NOT_CHECKED_IN, NOT_STARTED],
        ),
        t(
            "check_in",
            _("Check in"),
            [ActivityState.PUBLISHED],
            None,
            {MEMBER},
            False,
            [SIGNED, NOT_CHECKED_IN, IN_WINDOW],
        ),
    ],
)


def relations_of(user, activity: VolunteerActivity) -> set[str]:
    from changxin.pioneers.services import relations_of as org_relations

    relations = set()
    if org_relations(user, activity.organisation):
        relations.add(ORGANISER)
    if PartyMember.objects.filter(user=user).exists() if getattr(user, "is_authenticated", False) else False:
        relations.add(MEMBER)
    return relations


def _with_member(activity: VolunteerActivity, member: PartyMember | None) -> VolunteerActivity:
    """The facts the member guards read: places taken, the member's own sign-up."""
    activity.taken = activity.signups.count()
    activity.signup = activity.signups.filter(member=member).first() if member else None
    return activity


def available(user, activity: VolunteerActivity, now: dt.datetime | None = None):
    member = (
        PartyMember.objects.filter(user=user).first() if getattr(user, "is_authenticated", False) else None
    )
    return MACHINE.available(
        _with_member(activity, member), relations_of(user, activity), now or timezone.now()
    )


# --- events and the lock -----------------------------------------------------------------------------


def _event(activity, actor, action, payload, member=None, at=None) -> VolunteerEvent:
    authenticated = getattr(actor, "is_authenticated", False)
    event = VolunteerEvent.objects.create(
        activity=activity,
        member=member,
        at=at or timezone.now(),
        actor=actor if authenticated else None,
        actor_name=(actor.get_username() if authenticated else "system")[:150],
        action=action,
        data=payload.data(),
    )
    bus.publish(STREAM, event)
    return event


def _locked(activity) -> VolunteerActivity:
    return (
        VolunteerActivity.objects.select_for_update(of=("self",))
        .select_related("organisation__unit")
        .get(pk=getattr(activity, "pk", activity))
    )


def _member_of(actor) -> PartyMember:
    member = (
        PartyMember.objects.filter(user=actor).first() if getattr(actor, "is_authenticated", False) else None
    )
    if member is None:
        raise WorkflowError("not_allowed", _("Volunteer activities are for party members with a login."))
    return member


# --- organisers ---------------------------------------------------------------------------------------


@transaction.atomic
def create_activity(
    organisation: PartyOrganisation,
    *,
    title: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    hours=None,
    description: str = "",
    actor=None,
) -> VolunteerActivity:
    """A draft activity (hours default to the window's length, rounded to half hours)."""
    from changxin.pioneers.services import relations_of as org_relations

    if actor is not None and not org_relations(actor, organisation):
        raise DomainError(
            "not_allowed",
            _("Only party staff over the organisation or its secretary publish activities."),
            kind=FORBIDDEN,
        )
    title, place = (title or "").strip(), (place or "").strip()
    if not title or not place:
        raise DomainError(
            "invalid", _("An activity has a title and a place."), "title" if not title else "place"
        )
    if ends_at <= starts_at:
        raise DomainError("invalid", _("An activity ends after it starts."), "ends_at")
    if capacity is None or capacity < 1:
        raise DomainError("invalid", _("The capacity is at least one."), "capacity")
    if hours in (None, ""):
        hours = Decimal(round((ends_at - starts_at).total_seconds() / 1800)) / 2
    hours = Decimal(str(hours))
    if not Decimal("0.5") <= hours <= Decimal("24"):
        raise DomainError("invalid", _("Volunteer hours are between 0.5 and 24."), "hours")
    activity = VolunteerActivity.objects.create(
        organisation=organisation,
        title=title[:120],
        place=place[:120],
        description=description or "",
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        hours=hours,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _event(activity, actor, "create", Changed(step="create", state=activity.state))
    audit.record(actor, AuditAction.CREATE, activity)
    return activity


@transaction.atomic
def change(activity, name: str, actor, *, now: dt.datetime | None = None) -> VolunteerActivity:
    """publish or close (organisers)."""
    if name not in ("publish", "close"):
        raise WorkflowError("unknown_transition", _("Unknown action “%(name)s”.") % {"name": name})
    locked = _locked(activity)
    relations = {ORGANISER} if actor is None else relations_of(actor, locked)
    step = MACHINE.check(name, locked, relations, now or timezone.now())
    before = locked.state
    locked.state = step.target
    locked.version += 1
    locked.save(update_fields=["state", "version"])
    _event(locked, actor, name, Changed(step=name, state=locked.state))
    audit.record(actor, AuditAction.STATE, locked, detail=f"{name}: {before} → {locked.state}")
    return locked


# --- members ---------------------------------------------------------------------------------------------


@transaction.atomic
def sign_up(activity, actor, *, now: dt.datetime | None = None) -> VolunteerSignup:
    """The member behind `actor` takes a place (capacity enforced under the activity's row lock)."""
    now = now or timezone.now()
    member = _member_of(actor)
    locked = _with_member(_locked(activity), member)
    MACHINE.check("sign_up", locked, relations_of(actor, locked), now)
    try:
        with transaction.atomic():
            signup = VolunteerSignup.objects.create(activity=locked, member=member, signed_up_at=now)
    except IntegrityError:
        raise NOT_SIGNED.refusal(locked) from None
    _event(locked, actor, "sign_up", SignedUp(member=member.pk), member=member, at=now)
    audit.record(actor, AuditAction.CREATE, signup)
    return signup


@transaction.atomic
def withdraw(activity, actor, *, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    member = _member_of(actor)
    locked = _with_member(_locked(activity), member)
    MACHINE.check("withdraw", locked, relations_of(actor, locked), now)
    audit.record(actor, AuditAction.DELETE, locked.signup)
    locked.signup.delete()
    _event(locked, actor, "withdraw", SignedUp(member=member.pk, step="withdraw"), member=member, at=now)


def checkin_token(activity: VolunteerActivity) -> str:
    """The signed token of the activity's check-in QR code (expires: token_minutes())."""
    return signing.dumps({"a": activity.pk}, salt=SALT, compress=True)


def activity_from_token(token: str) -> int:
    """The activity id a check-in token names; refused (with the rule) when forged or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=dt.timedelta(minutes=token_minutes()))
    except signing.SignatureExpired:
        raise DomainError(
            "token_expired",
            _(
                "Rule: the check-in code is renewed every %(minutes)s minutes at the place; scan the code shown there now."
            )
            % {"minutes": token_minutes()},
            kind=CONFLICT,
        ) from None
    except signing.BadSignature:
        raise DomainError(
            "token_invalid", _("This is not a check-in code of an activity."), kind=CONFLICT
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise DomainError("token_invalid", _("This is not a check-in code of an activity."), kind=CONFLICT)
    return data["a"]


def rule() -> PointRule | None:
    return PointRule.objects.filter(code=RULE_CODE, stream=STREAM, is_active=True).first()


def points_for(rule_: PointRule, hours) -> Decimal:
    return (rule_.points * Decimal(str(hours))).quantize(Decimal("0.1"))


@transaction.atomic
def check_in(token: str, actor, *, now: dt.datetime | None = None) -> VolunteerSignup:
    """Check the member in with the scanned token: the guards name the rule when refused; the hours
    are credited to the ledger with the check-in event as the source."""
    from changxin.pioneers import ledger

    now = now or timezone.now()
    activity_id = activity_from_token(token)
    member = _member_of(actor)
    locked = _with_member(_locked(activity_id), member)
    MACHINE.check("check_in", locked, relations_of(actor, locked), now)
    signup = locked.signup
    signup.checked_in_at = now
    signup.save(update_fields=["checked_in_at"])
    points_rule = rule()
    points = points_for(points_rule, locked.hours) if points_rule else None
    event = _event(
        locked,
        actor,
        "check_in",
        CheckedIn(
            member=member.pk, hours=str(locked.hours), points=str(points) if points is not None else None
        ),
        member=member,
        at=now,
    )
    if points_rule is not None:
        PointEntry.objects.create(
            member=member,
            rule=points_rule,
            kind=points_rule.kind,
            points=points,
            at=now,
            year=ledger.year_of(now),
            source_stream=STREAM,
            source_event_id=event.pk,
            reason=locked.title[:200],
        )
        ledger.recompute_total(member, ledger.year_of(now))
    audit.record(actor, AuditAction.UPDATE, signup, fields=["checked_in_at"])
    return signup


# --- the ledger's audit of volunteer entries ------------------------------------------------------------


def verify_entries(entries) -> dict[int, str]:
    """{entry id: problem} for volunteer entries not earned by their source check-in event."""
    entries = list(entries)
    events = VolunteerEvent.objects.in_bulk({e.source_event_id for e in entries})
    rules = PointRule.objects.in_bulk({e.rule_id for e in entries if e.rule_id})
    problems = {}
    for entry in entries:
        event = events.get(entry.source_event_id)
        rule_ = rules.get(entry.rule_id)
        if event is None or event.action != "check_in":
            problems[entry.pk] = f"entry {entry.pk}: no check-in event {entry.source_event_id}"
        elif event.member_id != entry.member_id:
            problems[entry.pk] = f"entry {entry.pk}: check-in {event.pk} is another member's"
        elif rule_ is None or rule_.stream != STREAM or rule_.action != event.action:
            problems[entry.pk] = f"entry {entry.pk}: rule does not apply to check-in {event.pk}"
        elif points_for(rule_, (event.data or {}).get("hours", "0")) != entry.points:
            problems[entry.pk] = f"entry {entry.pk}: points differ from check-in {event.pk}"
    return problems


def ensure_rule() -> PointRule:
    code, name, kind, stream, action, points = DEFAULT_RULE
    rule_, _created = PointRule.objects.get_or_create(
        code=code,
        defaults={"name": name, "kind": kind, "stream": stream, "action": action, "points": Decimal(points)},
    )
    return rule_
