"""多点: the pioneer brand matrix. A brand (治理先锋, 教育先锋 …) belongs to a party organisation and a
street or town; its practice cases tell what it did in an area over a period, and their results are
the platform's own figures for that area and period (demand counts, the 三率), never typed in.

Brands and cases run on the workflow machine (brands/workflow.py): drafted by the owner
organisation's secretary or party staff, submitted, published by party staff other than the one who
submitted (four eyes), returned or withdrawn with a reason. Every change is a BrandEvent (the
published stream "brands") and an audit row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from changxin.core import scope
from changxin.core.models import TimelineEvent
from changxin.core.scope import ScopedQuerySet


class BrandField(models.TextChoices):
    """The fields of the seed's brand matrix (多点)."""

    GOVERNANCE = "governance", _("Governance pioneers (治理先锋)")
    EDUCATION = "education", _("Education pioneers (教育先锋)")
    HEALTH = "health", _("Health pioneers (卫健先锋)")
    NEW_SECTORS = "new_sectors", _('"Two new" pioneers ("两新"先锋)')
    VOLUNTEER = "volunteer", _("Volunteer pioneers (志愿先锋)")
    SAFETY = "safety", _("Safety pioneers (平安先锋)")
    ECOLOGY = "ecology", _("Ecology pioneers (生态先锋)")
    ENTERPRISE = "enterprise", _("Enterprise service pioneers (服务企业先锋)")


class BrandState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    field = models.CharField(_("field"), max_length=16, choices=BrandField.choices)
    owner = models.ForeignKey(
        "pioneers.PartyOrganisation",
        verbose_name=_("owner organisation"),
        on_delete=models.PROTECT,
        related_name="brands",
    )
    street = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("street/town"),
        on_delete=models.PROTECT,
        related_name="brands",
    )
    slogan = models.CharField(_("slogan"), max_length=80, blank=True)
    description = models.TextField(_("description"))
    state = models.CharField(_("state"), max_length=12, choices=BrandState.choices, default=BrandState.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    Scope = scope.through("owner")

    class Meta:
        verbose_name = _("pioneer brand")
        verbose_name_plural = _("pioneer brands")
        ordering = ["field", "name"]
        indexes = [models.Index(fields=["state", "field", "street"], name="brand_state_field_street_idx")]

    def __str__(self) -> str:
        return self.name


class PracticeCase(models.Model):
    """What a brand did in an area (a street/town or a community/village) from `starts_on` to
    `ends_on`, optionally on one demand category (and everything below it). Its results are worked
    out from the demands of that area and period (brands/figures.py)."""

    brand = models.ForeignKey(Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("title"), max_length=80)
    summary = models.TextField(_("what was done"))
    area = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("area"), on_delete=models.PROTECT, related_name="practice_cases"
    )
    category = models.ForeignKey(
        "demands.Category",
        verbose_name=_("demand category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    state = models.CharField(_("state"), max_length=12, choices=BrandState.choices, default=BrandState.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    Scope = scope.through("brand")

    class Meta:
        verbose_name = _("practice case")
        verbose_name_plural = _("practice cases")
        ordering = ["-starts_on", "id"]

    def __str__(self) -> str:
        return self.title


class BrandEvent(TimelineEvent):
    """One row per change of a brand or of one of its cases: the published stream "brands"."""

    brand = models.ForeignKey(Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="events")
    case = models.ForeignKey(
        PracticeCase,
        verbose_name=_("practice case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    from_state = models.CharField(_("from state"), max_length=12, choices=BrandState.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=12, choices=BrandState.choices, blank=True)

    Scope = scope.through("brand")

    class Meta:
        verbose_name = _("brand event")
        verbose_name_plural = _("brand events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.action} {self.at:%Y-%m-%d}"
