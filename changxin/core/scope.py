"""The one scoping mechanism.

Every list, search, export, admin page and API goes through `restrict(queryset, user)` (or the
queryset method `.visible_to(user)`), and every object view through `get_visible_or_404`.

A model declares how its rows relate to units and owners with an inner `Scope` class:

    class Demand(models.Model):
        class Scope:
            unit_fields = ("lead_unit", ("tasks__unit", {"tasks__state__in": [...]}))
                                   # paths to OrgUnit FKs ("" = the row itself), optionally with
                                   # conditions on the same related row
            owner_fields = ("requester_user",)           # paths to User FKs
            district_roles = None                        # optional: roles that see every row

Rules:
- superusers, district admins, operators and leadership see everything (leadership read-only);
- unit roles (officer, leader, service manager, inspector, party staff) see rows attached to any
  unit in their unit's subtree;
- citizens and enterprise users see only rows they own;
- anyone else (anonymous, a unit role without a unit) sees nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.http import Http404

if TYPE_CHECKING:
    from changxin.core.models import User


def _scope_of(model) -> type:
    scope = getattr(model, "Scope", None)
    if scope is None:
        raise TypeError(f"{model.__name__} declares no Scope; it cannot be listed with scoping.")
    return scope


def _sees_district(user, model) -> bool:
    from changxin.core.models import DISTRICT_ROLES

    if user.is_superuser:
        return True
    roles = getattr(_scope_of(model), "district_roles", None)
    return user.role in (DISTRICT_ROLES if roles is None else roles)


def scope_filter(model, user: User) -> Q | None:
    """The Q that keeps `model` rows visible to `user`; None means everything is visible."""
    from changxin.core.models import PUBLIC_ROLES, UNIT_ROLES

    scope = _scope_of(model)
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if _sees_district(user, model):
        return None
    q = Q(pk__in=[])
    if user.role in UNIT_ROLES and user.unit_id:
        prefix = user.unit.path
        for entry in getattr(scope, "unit_fields", ()):
            field, conditions = entry if isinstance(entry, tuple) else (entry, {})
            lookup = f"{field}__path__startswith" if field else "path__startswith"
            # extra conditions sit in the same Q, so they hold for the same related row
            q |= Q(**{lookup: prefix, **conditions})
    if user.role in PUBLIC_ROLES or user.role in UNIT_ROLES:
        for field in getattr(scope, "owner_fields", ()):
            q |= Q(**{field: user.pk})
    return q


def restrict(queryset: models.QuerySet, user: User) -> models.QuerySet:
    q = scope_filter(queryset.model, user)
    if q is None:
        return queryset
    scope = _scope_of(queryset.model)
    fields = [e[0] if isinstance(e, tuple) else e for e in getattr(scope, "unit_fields", ())]
    multi_valued = any("__" in f for f in fields + list(getattr(scope, "owner_fields", ())))
    if multi_valued:
        # Joins through to-many relations would duplicate rows; filter by a subquery instead.
        return queryset.filter(pk__in=queryset.model._base_manager.filter(q).values("pk"))
    return queryset.filter(q)


def can_view(user: User, obj: models.Model) -> bool:
    return restrict(type(obj)._base_manager.filter(pk=obj.pk), user).exists()


def can_write(user: User, obj: models.Model | None = None) -> bool:
    """Leadership reads everywhere and writes nowhere; others write what they can see."""
    if user is None or not user.is_authenticated or getattr(user, "is_read_only", False):
        return False
    return obj is None or can_view(user, obj)


def get_visible_or_404(queryset_or_model, user: User, **lookup) -> models.Model:
    """Fetch one object the user may see; 404 otherwise (never 403: existence is not disclosed)."""
    queryset = (
        queryset_or_model._default_manager.all() if isinstance(queryset_or_model, type) else queryset_or_model
    )
    try:
        return restrict(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404(str(queryset.model._meta.verbose_name)) from exc


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> models.QuerySet:
        return restrict(self, user)
