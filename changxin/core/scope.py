"""The one scoping mechanism.

Every list, search, export, admin page and API goes through `restrict(queryset, user)` (or the
queryset method `.visible_to(user)`), and every object view through `get_visible_or_404`.

A model declares how its rows relate to units and owners with an inner `Scope` class:

    class Demand(models.Model):
        class Scope:
            unit_fields = ("lead_unit", ("tasks__unit", {"tasks__state__in": [...]}))
                                   # paths to OrgUnit FKs ("" = the row itself), optionally with
                                   # conditions on the same related row
            owner_fields = ("requester_user",)           # paths to User FKs, conditions as above
            district_roles = None                        # optional: roles that see every row

A child model seen exactly as its parent declares it once, through its foreign key; the parent's
paths are prefixed, conditions included, and its extensions follow:

    class DemandEvent(models.Model):
        demand = models.ForeignKey(Demand, ...)
        Scope = scope.through("demand")                  # optionally + unit_fields=/owner_fields=

Other apps widen a model's scope without editing it (in their AppConfig.ready()):

    scope.extend(Demand, owner_fields=("enterprise_link__enterprise__members",))
    scope.extend(Demand, rule=lambda user: Q(...) if ... else None)   # (user) -> Q | None

`extend` returns a handle whose `remove()` undoes it; it is also a context manager, for tests.

Rules:
- superusers, district admins, operators and leadership see everything (leadership read-only);
- unit roles (officer, leader, service manager, inspector, party staff) see rows attached to any
  unit in their unit's subtree;
- citizens and enterprise users see only rows they own;
- extensions add rows for the users their fields or rules name;
- anyone else (anonymous, a unit role without a unit) sees nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import In
from django.http import Http404

from changxin.core import roles

if TYPE_CHECKING:
    from changxin.core.models import User

Rule = Callable[["User"], "Q | None"]


def _scope_of(model) -> type:
    scope = getattr(model, "Scope", None)
    if scope is None:
        raise TypeError(f"{model.__name__} declares no Scope; it cannot be listed with scoping.")
    return scope


def _prefixed(path: str, via: str) -> str:
    return via if path in ("", "pk") else f"{via}__{path}"


def _prefix_entry(entry, via: str):
    if isinstance(entry, tuple):
        field, conditions = entry
        return (_prefixed(field, via), {_prefixed(k, via): v for k, v in conditions.items()})
    return _prefixed(entry, via)


def _prefix_q(q: Q, via: str) -> Q:
    """The same condition, asked of the row behind the foreign key `via`."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    out.children = [
        _prefix_q(child, via) if isinstance(child, Q) else (_prefixed(child[0], via), child[1])
        for child in q.children
    ]
    return out


class through:  # noqa: N801 — reads as a declaration: `Scope = scope.through("demand")`
    """The Scope of a child model: its rows are seen by whoever sees the parent row behind the
    foreign key `field` (the parent's paths prefixed, conditions and district roles included, and
    the parent's extensions too), plus the child's own `unit_fields` / `owner_fields`."""

    def __init__(self, field: str, *, unit_fields: tuple = (), owner_fields: tuple = ()):
        self.field = field
        self.own_unit_fields = tuple(unit_fields)
        self.own_owner_fields = tuple(owner_fields)
        self.model: type | None = None

    def __set_name__(self, owner, name):
        self.model = owner

    @property
    def parent(self) -> type:
        return self.model._meta.get_field(self.field).related_model

    @property
    def unit_fields(self) -> tuple:
        inherited = getattr(_scope_of(self.parent), "unit_fields", ())
        return tuple(_prefix_entry(e, self.field) for e in inherited) + self.own_unit_fields

    @property
    def owner_fields(self) -> tuple:
        inherited = getattr(_scope_of(self.parent), "owner_fields", ())
        return tuple(_prefix_entry(f, self.field) for f in inherited) + self.own_owner_fields

    @property
    def district_roles(self):
        return getattr(_scope_of(self.parent), "district_roles", None)


# --- extensions registered by other apps ------------------------------------------------------


@dataclass(eq=False)
class Extension:
    """Rows of `model` that more users see: through more unit/owner paths, or a rule (user) -> Q."""

    model: type
    unit_fields: tuple = ()
    owner_fields: tuple = ()
    rule: Rule | None = None

    def remove(self) -> None:
        registered = _EXTENSIONS.get(self.model, [])
        if self in registered:
            registered.remove(self)

    def __enter__(self) -> Extension:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


_EXTENSIONS: dict[type, list[Extension]] = {}


def _key(model) -> type:
    return model._meta.concrete_model


def extend(model, *, unit_fields=(), owner_fields=(), rule: Rule | None = None) -> Extension:
    """Widen `model`'s scope (and that of every model declared `through` it). `unit_fields` and
    `owner_fields` are read like the model's own; `rule(user)` returns a Q of extra rows for that
    user, or None. Register in an AppConfig.ready(); tests use the returned handle as a context
    manager, so the extension is gone after the test."""
    extension = Extension(_key(model), tuple(unit_fields), tuple(owner_fields), rule)
    _EXTENSIONS.setdefault(extension.model, []).append(extension)
    return extension


def _extensions(model) -> list[Extension]:
    """The model's extensions and, for a `through` scope, its parent's (prefixed)."""
    found = list(_EXTENSIONS.get(_key(model), ()))
    scope = _scope_of(model)
    if isinstance(scope, through):
        via = scope.field
        for ext in _extensions(scope.parent):
            rule = ext.rule
            found.append(
                Extension(
                    _key(model),
                    tuple(_prefix_entry(e, via) for e in ext.unit_fields),
                    tuple(_prefix_entry(f, via) for f in ext.owner_fields),
                    (lambda user, rule=rule: None if (q := rule(user)) is None else _prefix_q(q, via))
                    if rule
                    else None,
                )
            )
    return found


# --- the filter ---------------------------------------------------------------------------------


def _sees_district(user, model) -> bool:
    if user.is_superuser:
        return True
    district = getattr(_scope_of(model), "district_roles", None)
    return user.role in (roles.DISTRICT_ROLES if district is None else district)


def _subtree_ids(user: User) -> list[int]:
    """The ids of the units in the user's unit's subtree, looked up once per user object (a request's
    user lives for the request). A list, not a subquery: the planner then knows which units, and so
    how many rows they hold, and starts from the right index (docs/PERFORMANCE.md, "officer list")."""
    from changxin.core.models import OrgUnit

    path = user.unit.path
    cached = getattr(user, "_scope_subtree", None)
    if cached is None or cached[0] != path:
        ids = list(OrgUnit.objects.filter(path__startswith=path).order_by().values_list("pk", flat=True))
        cached = user._scope_subtree = (path, ids)
    return cached[1]


def _terms(model, user: User) -> list[tuple[Q, bool]] | None:
    """The alternatives that make a row visible, each with whether it crosses a to-many relation
    (its join would repeat rows). None: everything is visible; []: nothing is."""
    scope = _scope_of(model)
    if not roles.is_active(user):
        return []
    if _sees_district(user, model):
        return None
    extensions = _extensions(model)
    unit_fields = [*getattr(scope, "unit_fields", ()), *(e for x in extensions for e in x.unit_fields)]
    owner_fields = [*getattr(scope, "owner_fields", ()), *(f for x in extensions for f in x.owner_fields)]
    terms: list[tuple[Q, bool]] = []
    if roles.works_in_unit(user):
        subtree = _subtree_ids(user)
        for entry in unit_fields:
            field, conditions = entry if isinstance(entry, tuple) else (entry, {})
            # the subtree's unit ids first (by `core_orgunit.path`), then the rows by their unit's id:
            # an index on the unit foreign key serves it, no join to the unit table per row; extra
            # conditions sit in the same Q, so they hold for the same related row
            lookup = f"{field}__in" if field else "pk__in"
            terms.append((Q(**{lookup: subtree, **conditions}), _crosses_to_many(model, field)))
    if user.role in roles.PUBLIC_ROLES or user.role in roles.UNIT_ROLES:
        for entry in owner_fields:
            field, conditions = entry if isinstance(entry, tuple) else (entry, {})
            terms.append((Q(**{field: user.pk, **conditions}), _crosses_to_many(model, field)))
    for extension in extensions:
        extra = extension.rule(user) if extension.rule else None
        if extra is not None:
            terms.append((extra, True))  # a rule's Q may join anything: always its own subquery
    return terms


def scope_filter(model, user: User) -> Q | None:
    """The Q that keeps `model` rows visible to `user`; None means everything is visible."""
    terms = _terms(model, user)
    if terms is None:
        return None
    q = Q(pk__in=[])
    for term, _many in terms:
        q |= term
    return q


def _crosses_to_many(model, path: str) -> bool:
    """Whether the lookup path passes a to-many relation (a reverse FK or a many-to-many, "members"
    as well as "tasks__unit"), where a join would repeat rows. Unknown parts count as to-many."""
    current = model
    for part in path.split("__") if path else ():
        if part == "pk":
            return False
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return True
        if field.many_to_many or field.one_to_many:
            return True
        if not field.is_relation:
            return False
        current = field.related_model
    return False


class _InArray(In):
    """`pk IN (subquery)` that PostgreSQL can read through an index: `pk = ANY(ARRAY(subquery))`.

    The subquery runs once (an InitPlan) and its ids become an array, so an OR of such terms with
    the direct ones (`lead_unit_id = ANY(...)`, `requester_user_id = ...`) is a BitmapOr of index
    scans that reads only the visible rows. A hashed `IN` SubPlan cannot be an index condition: the
    planner has to read every row the other filters leave and test each. Elsewhere: plain `IN`."""

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def restrict(queryset: models.QuerySet, user: User, *, read_all: bool = False) -> models.QuerySet:
    """`queryset` cut to the rows `user` may see.

    A term that crosses a to-many relation (a demand's tasks, an enterprise's members) becomes its
    own `pk IN (subquery)`, so rows are never repeated; the direct terms stay plain conditions on
    the row. PostgreSQL computes each such subquery once (a hashed SubPlan) and keeps the list's
    index order — `ORDER BY received_at DESC LIMIT 50` stops after 50 visible rows — where one
    subquery joining every alternative was re-run for every row (docs/PERFORMANCE.md, "scope").

    `read_all=True` is for a query that reads every visible row anyway (a count, the state chips):
    the subqueries become `pk = ANY(ARRAY(subquery))` (`_InArray`), so the whole scope is a BitmapOr
    of index scans instead of a test of every row the filters leave (docs/PERFORMANCE.md, "Officer
    list"). Not for a page in index order: there the array would be searched row by row.
    The rows are the same either way.
    """
    terms = _terms(queryset.model, user)
    if terms is None:
        return queryset
    q = Q(pk__in=[])
    for term, many in terms:
        if not many:
            q |= term
        elif read_all:
            q |= Q(_InArray(F("pk"), _visible_pks(queryset.model, term)))
        else:
            q |= Q(pk__in=_visible_pks(queryset.model, term))
    return queryset.filter(q)


def _visible_pks(model, term: Q) -> models.QuerySet:
    """The ids of `model`'s rows matching a to-many `term`, as a subquery.

    A term on one reverse foreign key (`tasks__unit__in=…, tasks__state__in=…`: every lookup through
    the same `tasks`) is read from the related table alone — `SELECT demand_id FROM demands_demandtask
    WHERE unit_id IN … AND state IN …` — since its rows name their parent's id; joining the parent
    table back would look every id up in its primary key first. Any other term: the model's own ids.
    """
    via = _single_reverse_fk(model, term)
    if via is not None:
        related, fk = via
        inner = {lookup.split("__", 1)[1]: value for lookup, value in term.children}
        return related._base_manager.filter(**inner, **{f"{fk}__isnull": False}).order_by().values(fk)
    return model._base_manager.filter(term).order_by().values("pk")


def _single_reverse_fk(model, term: Q) -> tuple[type, str] | None:
    """(related model, its foreign key's attname) when every lookup of the plain AND `term` goes
    through the same reverse foreign key of `model` and on into the related row; else None."""
    if term.negated or term.connector != Q.AND or not term.children:
        return None
    firsts = set()
    for child in term.children:
        if not isinstance(child, tuple) or "__" not in child[0]:
            return None
        firsts.add(child[0].split("__", 1)[0])
    if len(firsts) != 1:
        return None
    try:
        relation = model._meta.get_field(firsts.pop())
    except FieldDoesNotExist:
        return None
    if not isinstance(relation, models.ForeignObjectRel) or not relation.one_to_many:
        return None  # a forward key, a many-to-many, a generic relation: the model's own ids
    return relation.related_model, relation.field.attname


def can_view(user: User, obj: models.Model) -> bool:
    return restrict(type(obj)._base_manager.filter(pk=obj.pk), user).exists()


def can_write(user: User, obj: models.Model | None = None) -> bool:
    """Leadership reads everywhere and writes nowhere; others write what they can see."""
    if not roles.is_active(user) or roles.is_read_only(user):
        return False
    return obj is None or can_view(user, obj)


def get_visible_or_404(queryset_or_model, user: User, **lookup) -> models.Model:
    """Fetch one object the user may see; 404 otherwise (never 403: existence is not disclosed)."""
    queryset = (
        queryset_or_model._default_manager.all() if isinstance(queryset_or_model, type) else queryset_or_model
    )
    if any(isinstance(value, int) and not -(2**63) <= value < 2**63 for value in lookup.values()):
        # an id from the path past 64 bits: no such row (the database would refuse the query)
        raise Http404(str(queryset.model._meta.verbose_name))
    try:
        return restrict(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404(str(queryset.model._meta.verbose_name)) from exc


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> models.QuerySet:
        return restrict(self, user)
