"""Every read of the brand wing, scoped to the viewer (core/scope.py, through the owner organisation).

Published brands and their published cases are public figures: every signed-in user sees them (the
matrix, the brand pages). Drafts, submissions and withdrawn ones are seen by whoever sees the owner
organisation (party staff over its unit, its secretary, the district-wide roles).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from changxin.brands.models import Brand, BrandEvent, BrandState, PracticeCase
from changxin.core import scope
from changxin.core.models import User


def _in_scope(user: User) -> QuerySet[Brand]:
    return scope.restrict(Brand.objects.all(), user)


def brands_visible_to(user: User) -> QuerySet[Brand]:
    visible = Q(state=BrandState.PUBLISHED) | Q(pk__in=_in_scope(user).values("pk"))
    return Brand.objects.filter(visible).select_related("owner", "street")


def get_brand_for(user: User, pk: int) -> Brand:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(brands_visible_to(user), pk=pk)


def in_owner_scope(user: User, brand: Brand) -> bool:
    return _in_scope(user).filter(pk=brand.pk).exists()


def cases_visible_to(user: User, brand: Brand) -> QuerySet[PracticeCase]:
    cases = brand.cases.select_related("area", "category")
    if in_owner_scope(user, brand):
        return cases
    return cases.filter(state=BrandState.PUBLISHED)


def get_case_for(user: User, pk: int) -> PracticeCase:
    from django.shortcuts import get_object_or_404

    case = get_object_or_404(PracticeCase.objects.select_related("brand__owner__unit", "area"), pk=pk)
    brand = get_brand_for(user, case.brand_id)
    if case.state != BrandState.PUBLISHED and not in_owner_scope(user, brand):
        from django.http import Http404

        raise Http404
    return case


def timeline(user: User, brand: Brand) -> QuerySet[BrandEvent]:
    """The brand's change history: for those who see the owner organisation only."""
    if not in_owner_scope(user, brand):
        return BrandEvent.objects.none()
    return brand.events.select_related("case").order_by("-at", "-id")
