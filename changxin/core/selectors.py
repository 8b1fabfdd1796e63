"""Reads of core data, already scoped to the user."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.models import OrgUnit, User
from changxin.core.scope import restrict


def units_visible_to(user: User) -> QuerySet[OrgUnit]:
    return restrict(OrgUnit.objects.all(), user)


def list_units(
    user: User, *, kind: str = "", q: str = "", parent: OrgUnit | None = None
) -> QuerySet[OrgUnit]:
    units = units_visible_to(user).select_related("parent").annotate(child_count=Count("children"))
    if kind:
        units = units.filter(kind=kind)
    if q:
        units = units.filter(name__icontains=q) | units.filter(code__startswith=q)
    if parent is not None:
        units = units.filter(parent=parent)
    return units.order_by("path")


def home_cards(user: User) -> list[dict]:
    """Real counts for the home page. Apps add their own cards with an AppConfig.home_cards(user)."""
    units = units_visible_to(user)
    if not roles.is_staff_side(user):
        cards = []  # citizens and enterprises see nothing of the org tree; their apps add their own cards
    else:
        cards = _unit_cards(user, units)
    for config in apps.get_app_configs():
        extra = getattr(config, "home_cards", None)
        if callable(extra):
            cards.extend(extra(user))
    return cards


def home_panels(user: User) -> list[dict]:
    """Each role's work on the home page: apps add panels with an AppConfig.home_panels(user), each a
    dict with the "template" that shows it, an "order" and that template's context."""
    panels = []
    for config in apps.get_app_configs():
        extra = getattr(config, "home_panels", None)
        if callable(extra):
            panels.extend(extra(user))
    return sorted(panels, key=lambda panel: panel.get("order", 100))


def _unit_cards(user: User, units: QuerySet[OrgUnit]) -> list[dict]:
    return [
        {
            "label": _("Streets and towns"),
            "value": units.filter(kind__in=roles.STREET_LEVEL_KINDS).count(),
            "url": "units",
        },
        {
            "label": _("Communities and villages"),
            "value": units.filter(kind__in=roles.COMMUNITY_KINDS).count(),
            "url": "units",
        },
        {"label": _("Users"), "value": restrict(User.objects.all(), user).count(), "url": ""},
    ]
