"""Every read of the party wing, already scoped to the viewer (core/scope.py: one mechanism).

Who sees what:
- district-wide roles (the centre, administrators, leadership) see every organisation;
- party staff (组织部门) see the organisations hung off their unit's subtree, and their members;
- a branch secretary (a member flagged `is_secretary` whose login is linked) sees their branch;
- a member with a linked login sees their own record.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet, Sum

from changxin.core import roles, scope
from changxin.core.models import Role, User
from changxin.pioneers.models import (
    DevelopmentCase,
    DevelopmentRecord,
    PartyMember,
    PartyOrganisation,
    PipelineEvent,
    PointAdjustment,
    PointEntry,
    PointTotal,
)


def _party_staff_rule(user) -> Q | None:
    """Party staff see the organisations hung off their unit's subtree (officers do not: the unit
    path alone does not open personal data of party members)."""
    if user.role == Role.PARTY_STAFF and user.unit_id:
        return Q(unit__path__startswith=user.unit.path)
    return None


_registered = None


def register_scope() -> None:
    global _registered
    if _registered is None:
        _registered = scope.extend(PartyOrganisation, rule=_party_staff_rule)


def is_party_staff(user) -> bool:
    return roles.is_active(user) and user.role == Role.PARTY_STAFF and bool(user.unit_id)


def member_of(user) -> PartyMember | None:
    """The party member whose login `user` is (None when not linked)."""
    if not roles.is_active(user):
        return None
    return PartyMember.objects.select_related("organisation").filter(user=user).first()


def may_open_pioneers(user) -> bool:
    """The navigation entry: party staff, the district-wide roles, and members with a linked login."""
    if not roles.is_active(user):
        return False
    if is_party_staff(user) or roles.is_district_wide(user):
        return True
    return PartyMember.objects.filter(user=user).exists()


def organisations_visible_to(user: User) -> QuerySet[PartyOrganisation]:
    return scope.restrict(PartyOrganisation.objects.select_related("unit", "parent"), user)


def get_organisation_for(user: User, pk: int) -> PartyOrganisation:
    return scope.get_visible_or_404(PartyOrganisation.objects.select_related("unit", "parent"), user, pk=pk)


def members_visible_to(user: User) -> QuerySet[PartyMember]:
    return scope.restrict(PartyMember.objects.select_related("organisation", "user"), user)


def get_member_for(user: User, pk: int) -> PartyMember:
    return scope.get_visible_or_404(
        PartyMember.objects.select_related("organisation__unit", "user"), user, pk=pk
    )


def list_members(user: User, organisation: PartyOrganisation) -> QuerySet[PartyMember]:
    return members_visible_to(user).filter(organisation=organisation).order_by("-is_secretary", "name")


def list_cases(user: User, organisation: PartyOrganisation) -> QuerySet[DevelopmentCase]:
    return (
        scope.restrict(DevelopmentCase.objects.all(), user)
        .filter(organisation=organisation)
        .exclude(stage__in=["full", "cancelled"])
        .select_related("organisation")
        .prefetch_related(Prefetch("records", queryset=DevelopmentRecord.objects.order_by("on", "id")))
        .order_by("stage", "applied_on", "pk")
    )


def get_case_for(user: User, pk: int) -> DevelopmentCase:
    return scope.get_visible_or_404(
        DevelopmentCase.objects.select_related("organisation__unit").prefetch_related("records__sponsor"),
        user,
        pk=pk,
    )


def list_case_events(case: DevelopmentCase) -> QuerySet[PipelineEvent]:
    return case.events.order_by("at", "id")


def list_entries(member: PartyMember, year: int | None = None) -> QuerySet[PointEntry]:
    entries = member.point_entries.select_related("rule", "demand").order_by("-at", "-id")
    return entries.filter(year=year) if year else entries


def list_adjustments(member: PartyMember) -> QuerySet[PointAdjustment]:
    return member.point_adjustments.select_related("requested_by", "decided_by")


def ranking(user: User, organisation: PartyOrganisation, year: int) -> list[dict]:
    """Yearly ranking of the members of `organisation`'s subtree: totals read from the cached
    PointTotal rows (recomputed by the ledger service), members without points at 0."""
    members = members_visible_to(user).filter(organisation__path__startswith=organisation.path)
    totals = dict(
        PointTotal.objects.filter(member__in=members.values("pk"), year=year).values_list(
            "member_id", "total"
        )
    )
    rows = [{"member": m, "total": totals.get(m.pk, 0)} for m in members]
    rows.sort(key=lambda r: (-r["total"], r["member"].name))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def total_of(member: PartyMember, year: int) -> int:
    row = PointTotal.objects.filter(member=member, year=year).first()
    return row.total if row else 0


def sum_of_entries(member: PartyMember, year: int):
    return member.point_entries.filter(year=year).aggregate(s=Sum("points"))["s"] or 0


def demands_in_area(viewer: User, member: PartyMember, since: dt.datetime | None = None):
    """Open demands in the member's responsibility areas, as far as the viewer may see them."""
    from changxin.demands.models import OPEN_STATES
    from changxin.demands.selectors import demands_visible_to

    areas = list(member.areas.values_list("pk", flat=True))
    if not areas:
        return demands_visible_to(viewer).none()
    return (
        demands_visible_to(viewer)
        .filter(community_id__in=areas, state__in=sorted(OPEN_STATES))
        .select_related("community", "lead_unit")
        .order_by("-received_at")
    )


def ranking_chart(rows: list[dict], year: int) -> dict:
    """The top of a ranking, their points of `year` stacked by vanguard kind (one query)."""
    from changxin.pioneers.models import VanguardKind

    ids = [r["member"].pk for r in rows]
    sums = {
        (m, k): float(p)
        for m, k, p in PointEntry.objects.filter(member_id__in=ids, year=year)
        .values("member_id", "kind")
        .annotate(p=Sum("points"))
        .values_list("member_id", "kind", "p")
    }
    return {
        "names": [r["member"].name for r in rows],
        "series": [
            {"name": str(label), "data": [sums.get((pk, value), 0) for pk in ids]}
            for value, label in VanguardKind.choices
        ],
    }
