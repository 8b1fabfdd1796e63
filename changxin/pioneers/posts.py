"""先锋岗 (vanguard posts at service stations and windows) and 先锋者说 (sharing sessions).

Posts: party staff over the organisation or its secretary create a post (name, place — the unit of
the station or window, inside the organisation's street —, the members on duty, a period) and change
its members or period; every change is an audit row. A post's page shows, for each member on duty,
the open demands and proactive tasks (主动治理) of their responsibility areas and what they handled
(their ledger entries with sources).

Sharing sessions: recorded by the same keepers: date, topic, speakers and the members present (all
of the organisation's subtree), a summary; the member page lists the sessions they spoke at.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit, scope
from changxin.core.errors import FORBIDDEN, DomainError
from changxin.core.models import AuditAction, OrgUnit
from changxin.pioneers.models import PartyMember, PartyOrganisation, SharingSession, VanguardPost

PROACTIVE = "proactive"  # a proactive task is a demand of type 主动治理 (or found by the proactive channel)


def may_keep(user, organisation: PartyOrganisation) -> bool:
    from changxin.pioneers.services import relations_of

    return bool(relations_of(user, organisation))


def _check_keeper(actor, organisation) -> None:
    if actor is not None and not may_keep(actor, organisation):
        raise DomainError(
            "not_allowed",
            _("Only party staff over the organisation or its secretary keep its posts and sessions."),
            kind=FORBIDDEN,
        )


def places_of(organisation: PartyOrganisation):
    """Where the organisation's posts may be: units of its street (or of its own unit's subtree)."""
    root = organisation.unit.street() or organisation.unit
    return OrgUnit.objects.filter(path__startswith=root.path).order_by("path")


def members_of(organisation: PartyOrganisation):
    return PartyMember.objects.filter(organisation__path__startswith=organisation.path).order_by("name", "pk")


def _members(organisation, members, field: str, *, required: bool = False) -> list[PartyMember]:
    ids = {getattr(m, "pk", m) for m in members}
    found = list(members_of(organisation).filter(pk__in=ids))
    if len(found) != len(ids):
        raise DomainError("foreign_member", _("Choose members of this organisation only."), field)
    if required and not found:
        raise DomainError("required", _("Choose at least one member."), field)
    return found


def _period(starts_on: dt.date, ends_on: dt.date | None) -> None:
    if starts_on is None or starts_on.year < 2000:
        raise DomainError("required", _("Give the date the post starts."), "starts_on")
    if ends_on is not None and ends_on < starts_on:
        raise DomainError("period", _("Rule: a post ends on or after the day it starts."), "ends_on")


@transaction.atomic
def create_post(
    organisation: PartyOrganisation,
    *,
    name: str,
    place: OrgUnit,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    window: str = "",
    members=(),
    actor=None,
) -> VanguardPost:
    _check_keeper(actor, organisation)
    name = (name or "").strip()
    if not name:
        raise DomainError("required", _("Name the post."), "name")
    if place is None or not places_of(organisation).filter(pk=place.pk).exists():
        raise DomainError(
            "place_outside",
            _("Rule: a post stands at a station or window of the organisation's street."),
            "place",
        )
    _period(starts_on, ends_on)
    on_duty = _members(organisation, members, "members")
    post = VanguardPost.objects.create(
        organisation=organisation,
        name=name[:80],
        place=place,
        window=(window or "").strip()[:80],
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    post.members.set(on_duty)
    audit.record(actor, AuditAction.CREATE, post, detail=f"members {sorted(m.pk for m in on_duty)}")
    return post


@transaction.atomic
def change_post(post: VanguardPost, *, members, starts_on: dt.date, ends_on: dt.date | None, actor=None):
    """The members on duty and the period; the audit row names what changed."""
    locked = (
        VanguardPost.objects.select_for_update(of=("self",))
        .select_related("organisation__unit")
        .get(pk=post.pk)
    )
    _check_keeper(actor, locked.organisation)
    _period(starts_on, ends_on)
    on_duty = _members(locked.organisation, members, "members")
    before = sorted(locked.members.values_list("pk", flat=True))
    after = sorted(m.pk for m in on_duty)
    changed = []
    if before != after:
        changed.append(f"members {before} → {after}")
    if (locked.starts_on, locked.ends_on) != (starts_on, ends_on):
        changed.append(f"period {locked.starts_on}–{locked.ends_on or ''} → {starts_on}–{ends_on or ''}")
    locked.starts_on, locked.ends_on = starts_on, ends_on
    locked.save(update_fields=["starts_on", "ends_on"])
    locked.members.set(on_duty)
    if changed:
        audit.record(
            actor,
            AuditAction.UPDATE,
            locked,
            fields=["members", "starts_on", "ends_on"],
            detail="; ".join(changed),
        )
    return locked


def posts_visible_to(user):
    return scope.restrict(
        VanguardPost.objects.select_related("organisation", "place").prefetch_related("members"), user
    )


def get_post_for(user, pk: int) -> VanguardPost:
    return scope.get_visible_or_404(
        VanguardPost.objects.select_related("organisation__unit", "place").prefetch_related("members"),
        user,
        pk=pk,
    )


def on_duty(post: VanguardPost, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return post.starts_on <= today and (post.ends_on is None or post.ends_on >= today)


def is_proactive() -> Q:
    return Q(demand_type=PROACTIVE) | Q(channel=PROACTIVE)


def area_work(viewer, member: PartyMember, *, limit: int = 20) -> dict:
    """The open demands and proactive tasks of the member's responsibility areas (as far as the
    viewer sees them) and what the member handled (their ledger entries from the demand stream)."""
    from changxin.pioneers import selectors

    open_in_area = selectors.demands_in_area(viewer, member)
    return {
        "demands": list(open_in_area.exclude(is_proactive())[:limit]),
        "proactive": list(open_in_area.filter(is_proactive())[:limit]),
        "handled": list(
            member.point_entries.filter(demand__isnull=False)
            .select_related("rule", "demand")
            .order_by("-at", "-id")[:limit]
        ),
    }


# --- 先锋者说 -----------------------------------------------------------------------------------------


@transaction.atomic
def record_session(
    organisation: PartyOrganisation,
    *,
    held_on: dt.date,
    topic: str,
    speakers,
    attendees=(),
    summary: str = "",
    actor=None,
) -> SharingSession:
    _check_keeper(actor, organisation)
    topic = (topic or "").strip()
    if not topic:
        raise DomainError("required", _("Give the topic."), "topic")
    if held_on is None or held_on > timezone.localdate() or held_on.year < 2000:
        raise DomainError(
            "date_in_future", _("A session is recorded on or after the day it was held."), "held_on"
        )
    talking = _members(organisation, speakers, "speakers", required=True)
    present = _members(organisation, attendees, "attendees")
    session = SharingSession.objects.create(
        organisation=organisation,
        held_on=held_on,
        topic=topic[:200],
        summary=(summary or "").strip(),
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    session.speakers.set(talking)
    # a speaker was there
    session.attendees.set({m.pk: m for m in [*present, *talking]}.values())
    audit.record(
        actor,
        AuditAction.CREATE,
        session,
        detail=f"speakers {sorted(m.pk for m in talking)}; present {session.attendees.count()}",
    )
    return session


def sessions_visible_to(user):
    return scope.restrict(SharingSession.objects.select_related("organisation"), user)


def get_session_for(user, pk: int) -> SharingSession:
    return scope.get_visible_or_404(
        SharingSession.objects.select_related("organisation__unit", "recorded_by").prefetch_related(
            "speakers", "attendees"
        ),
        user,
        pk=pk,
    )
