"""Reads of branch life, dues, transfers and volunteering, scoped to the viewer (core/scope.py).

Meetings, dues and transfers are seen with their organisation (party staff over it, the district,
its secretary); a member sees their own attendance, dues and transfers; a transfer is seen by the
receiving side too. Published volunteer activities are open to every member with a login.
Names and incomes are shown to those who keep the branch's records (party staff over it, its
secretary) and to the member themselves; everyone else sees them masked (`shows_names`).
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from changxin.core import roles, scope
from changxin.core.models import Role
from changxin.pioneers.models import (
    ActivityState,
    Meeting,
    PartyMember,
    PartyOrganisation,
    Transfer,
    VolunteerActivity,
    VolunteerEvent,
    VolunteerSignup,
)

_registered = None


def _receiving_staff(user) -> Q | None:
    """Party staff over the receiving organisation see the transfer (as the sender's see theirs)."""
    if user.role == Role.PARTY_STAFF and user.unit_id:
        return Q(to_organisation__unit__path__startswith=user.unit.path)
    return None


def _members_see_published(user) -> Q | None:
    if PartyMember.objects.filter(user=user).exists():
        return Q(state__in=[ActivityState.PUBLISHED, ActivityState.CLOSED])
    return None


def register_scope() -> None:
    global _registered
    if _registered is None:
        _registered = (
            scope.extend(Transfer, rule=_receiving_staff),
            scope.extend(VolunteerActivity, rule=_members_see_published),
        )


def kept_organisations(user) -> QuerySet[PartyOrganisation]:
    """The organisations whose records `user` keeps (services.relations_of, as one query): party
    staff over their unit's subtree, district administrators everywhere, a secretary their branch."""
    organisations = PartyOrganisation.objects.filter(is_active=True).order_by("path")
    if not roles.is_active(user) or roles.is_read_only(user):
        return organisations.none()
    if roles.is_district_admin(user):
        return organisations
    mine = Q(members__user=user, members__is_secretary=True)
    if user.role == Role.PARTY_STAFF and user.unit_id:
        mine |= Q(unit__path__startswith=user.unit.path)
    return organisations.filter(pk__in=PartyOrganisation.objects.filter(mine).values("pk"))


def shows_names(user, organisation: PartyOrganisation) -> bool:
    from changxin.pioneers.services import relations_of

    return bool(relations_of(user, organisation))


# --- meetings --------------------------------------------------------------------------------------


def meetings_of(user, organisation: PartyOrganisation, year: int | None = None) -> QuerySet[Meeting]:
    meetings = (
        scope.restrict(Meeting.objects.all(), user)
        .filter(organisation=organisation)
        .annotate(
            present=Count("attendance", filter=Q(attendance__present=True)),
            absent=Count("attendance", filter=Q(attendance__present=False)),
        )
        .order_by("-held_on", "-id")
    )
    return meetings.filter(held_on__year=year) if year else meetings


def get_meeting_for(user, pk: int) -> Meeting:
    return scope.get_visible_or_404(
        Meeting.objects.select_related("organisation__unit", "recorded_by").prefetch_related(
            "attendance__member", "appraisals__member"
        ),
        user,
        pk=pk,
    )


def branches_visible_to(user) -> QuerySet[PartyOrganisation]:
    return scope.restrict(PartyOrganisation.objects.select_related("unit", "parent"), user).filter(
        kind="branch"
    )


# --- transfers --------------------------------------------------------------------------------------


def transfers_visible_to(user) -> QuerySet[Transfer]:
    return scope.restrict(
        Transfer.objects.select_related("member", "from_organisation", "to_organisation"), user
    ).order_by("-requested_on", "-id")


def get_transfer_for(user, pk: int) -> Transfer:
    return scope.get_visible_or_404(
        Transfer.objects.select_related(
            "member__organisation", "from_organisation__unit", "to_organisation__unit"
        ).prefetch_related("events"),
        user,
        pk=pk,
    )


def receiving_choices(organisation: PartyOrganisation) -> QuerySet[PartyOrganisation]:
    """Where a member may be transferred: any other active branch (names are not personal data)."""
    return (
        PartyOrganisation.objects.filter(is_active=True, kind="branch")
        .exclude(pk=organisation.pk)
        .order_by("path")
    )


# --- volunteering ----------------------------------------------------------------------------------------


def activities_visible_to(user) -> QuerySet[VolunteerActivity]:
    return (
        scope.restrict(VolunteerActivity.objects.select_related("organisation"), user)
        .annotate(taken=Count("signups"))
        .order_by("-starts_at", "-id")
    )


def get_activity_for(user, pk: int) -> VolunteerActivity:
    return scope.get_visible_or_404(
        VolunteerActivity.objects.select_related("organisation__unit"), user, pk=pk
    )


def signups_of(activity: VolunteerActivity) -> QuerySet[VolunteerSignup]:
    """The activity's sign-ups: for its organisers (the view checks the relation first)."""
    return activity.signups.select_related("member__organisation").order_by("signed_up_at", "id")


def my_signups(member: PartyMember | None) -> dict[int, VolunteerSignup]:
    if member is None:
        return {}
    return {s.activity_id: s for s in VolunteerSignup.objects.filter(member=member)}


def get_volunteer_event_for(user, pk: int) -> VolunteerEvent:
    return scope.get_visible_or_404(VolunteerEvent.objects.select_related("activity"), user, pk=pk)
