"""Stored results of the hot-spot job: one row per problem found on a day (see insight/hotspots.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HotSpot(models.Model):
    """A problem found by the hot-spot job for the period ending on `as_of`: its demands, heat and
    whether its street × category cell is rising. A run replaces the rows of its own `as_of`."""

    as_of = models.DateField(_("as of"), db_index=True)
    period_start = models.DateField(_("period start"))
    number = models.PositiveIntegerField(_("rank"), help_text=_("1 = the hottest problem of the run"))
    street = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("street/town"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    category = models.ForeignKey(
        "demands.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    label = models.CharField(_("label"), max_length=120)
    heat = models.FloatField(_("heat"))
    rising = models.BooleanField(_("rising"), default=False)
    demand_count = models.PositiveIntegerField(_("demands"))
    requester_count = models.PositiveIntegerField(_("distinct requesters"))
    recent_count = models.PositiveIntegerField(_("demands in the last 7 days"))
    prior_count = models.PositiveIntegerField(_("demands in the 7 days before"))
    first_day = models.DateField(_("first demand"))
    last_day = models.DateField(_("last demand"))
    daily = models.JSONField(_("demands per day"), default=dict, help_text=_("ISO day → count"))
    cell_observed = models.PositiveIntegerField(_("street × category: demands in the last 14 days"))
    cell_expected = models.FloatField(_("street × category: expected in the last 14 days"))
    cell_cusum = models.FloatField(_("street × category: CUSUM"))
    demands = models.ManyToManyField("demands.Demand", verbose_name=_("demands"), related_name="+")
    computed_at = models.DateTimeField(_("computed at"))

    class Scope:
        unit_fields = ("street",)  # a street's staff see their street's hot spots

    class Meta:
        verbose_name = _("hot spot")
        verbose_name_plural = _("hot spots")
        ordering = ["-as_of", "number"]
        constraints = [models.UniqueConstraint(fields=["as_of", "number"], name="hotspot_run_number_unique")]

    def __str__(self) -> str:
        return f"{self.as_of} #{self.number} {self.label}"


# 未诉先办 and 每月一题 live in their own module (one import here, so Django finds them)
from changxin.insight.proactive_models import (  # noqa: E402, F401
    Milestone,
    MonthlyProblem,
    ProactiveEvent,
    ProactiveTask,
    ProblemEvent,
    ProblemProgress,
    ProblemState,
)
