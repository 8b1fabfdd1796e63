"""Triage reference data that administrators maintain: place aliases and the routing table."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.models import OrgUnit
from changxin.core.scope import ScopedQuerySet


class PlaceKind(models.TextChoices):
    COMPOUND = "compound", _("Residential compound")
    LANDMARK = "landmark", _("Landmark")
    ROAD = "road", _("Road")
    OTHER = "other", _("Other place")


class PlaceAlias(models.Model):
    """A name people use for a place (a compound, a landmark, a road) and the unit it lies in.

    The gazetteer reads the official names from the org tree; aliases add what the tree does not
    know. The same alias may point at two units (a road crossing two streets): the gazetteer then
    reports the place as ambiguous and lowers its confidence.
    """

    alias = models.CharField(_("alias"), max_length=60, db_index=True)
    kind = models.CharField(_("kind"), max_length=12, choices=PlaceKind.choices, default=PlaceKind.COMPOUND)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("street/town or community"),
        on_delete=models.CASCADE,
        related_name="place_aliases",
        limit_choices_to={"kind__in": roles.PLACE_KINDS},
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        unit_fields = ("unit",)

    class Meta:
        verbose_name = _("place alias")
        verbose_name_plural = _("place aliases")
        ordering = ["alias", "id"]
        constraints = [models.UniqueConstraint(fields=["alias", "unit"], name="place_alias_unique_per_unit")]

    def __str__(self) -> str:
        return f"{self.alias} → {self.unit}"

    def clean(self):
        self.alias = (self.alias or "").strip()
        if len(self.alias) < 2:
            raise ValidationError({"alias": _("An alias needs at least two characters.")})
        if self.unit_id and self.unit.kind not in roles.PLACE_KINDS:
            raise ValidationError({"unit": _("Choose a street/town, community or village.")})


class RoutingRule(models.Model):
    """Category × street/town → the unit that should lead. The most specific matching rule wins.

    Specificity: a deeper category beats a shallower one (level 3 > 2 > 1 > any), then a rule for
    the demand's street beats a rule for any street, then the higher priority. When no rule
    matches, a local matter goes to the street/town where it happens (the default rule).
    """

    category = models.ForeignKey(
        "demands.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("Any level; empty means any category."),
    )
    street = models.ForeignKey(
        OrgUnit,
        verbose_name=_("street/town"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind__in": roles.STREET_LEVEL_KINDS},
        help_text=_("Empty means anywhere in the district."),
    )
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("dispatch to"),
        on_delete=models.CASCADE,
        related_name="routing_rules",
        limit_choices_to={"kind__in": roles.DISPATCHABLE_KINDS},
    )
    priority = models.SmallIntegerField(
        _("priority"), default=0, help_text=_("Among equally specific rules, the higher priority wins.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        unit_fields = ("unit", "street")

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["category__full_name", "street__name", "-priority", "id"]

    def __str__(self) -> str:
        category = self.category.full_name if self.category_id else _("any category")
        street = self.street.name if self.street_id else _("anywhere")
        return f"{category} · {street} → {self.unit}"

    def clean(self):
        errors = {}
        if self.street_id and self.street.kind not in roles.STREET_LEVEL_KINDS:
            errors["street"] = _("Choose a street or town.")
        if self.unit_id and (self.unit.kind not in roles.DISPATCHABLE_KINDS or not self.unit.is_active):
            errors["unit"] = _("Choose an active street/town, department or public-service company.")
        if errors:
            raise ValidationError(errors)


# --- the duplicate check's index (triage/duplicates.py) --------------------------------------------


class DuplicateText(models.Model):
    """The normalised text of a recent open demand, under a pg_trgm GIN index on PostgreSQL: the
    duplicate check asks the index for similar texts instead of reading every open demand. Rows
    are written when triage runs and pruned (closed, merged, out of the window) by a periodic job."""

    demand = models.OneToOneField(
        "demands.Demand", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField()

    def __str__(self) -> str:
        return f"{self.demand_id}: {self.text[:30]}"

    class Meta:
        verbose_name = _("duplicate-check text")
        verbose_name_plural = _("duplicate-check texts")
        # Created CONCURRENTLY by migration 0002 on PostgreSQL only (SQLite uses DuplicateBand).
        indexes = [GinIndex(fields=["text"], name="triage_dup_text_trgm", opclasses=["gin_trgm_ops"])]


class DuplicateBand(models.Model):
    """One MinHash LSH band key of a recent open demand's text (SQLite's duplicate index): two
    texts share a band key with probability 1 − (1 − J²)¹⁶ for shingle Jaccard J."""

    demand = models.ForeignKey("demands.Demand", on_delete=models.CASCADE, related_name="+")
    band = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.demand_id}: {self.band}"

    class Meta:
        verbose_name = _("duplicate-check band")
        verbose_name_plural = _("duplicate-check bands")
