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

# --- dashboards: pre-aggregates and the monthly report (docs/DASHBOARDS.md) -----------------------


class DailyDemandCount(models.Model):
    """Pre-aggregate of the demands *received* on `day` (Beijing time), one row per lead unit ×
    street × top-level category × channel × type. Rebuilt a whole day at a time from the demand
    table (`insight/aggregates.py`) whenever a published demand event touches a demand of that day."""

    day = models.DateField(_("day"), db_index=True)
    lead_unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("lead unit"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    street = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("street/town"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "demands.Category", verbose_name=_("category"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20)
    demand_type = models.CharField(_("type"), max_length=12)
    received = models.PositiveIntegerField(_("received"), default=0)
    open = models.PositiveIntegerField(_("open"), default=0)
    closed = models.PositiveIntegerField(_("closed"), default=0)
    contacted = models.PositiveIntegerField(_("contacted"), default=0)
    contacted_on_time = models.PositiveIntegerField(_("contacted on time"), default=0)
    finished_on_time = models.PositiveIntegerField(_("replied on time"), default=0)
    finished_late = models.PositiveIntegerField(_("replied late"), default=0)
    rated = models.PositiveIntegerField(_("rated"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied or basically satisfied"), default=0)
    dissatisfied = models.PositiveIntegerField(_("dissatisfied"), default=0)

    class Scope:
        unit_fields = ("lead_unit",)  # a unit's staff count the demands their subtree leads

    class Meta:
        verbose_name = _("daily demand count")
        verbose_name_plural = _("daily demand counts")
        indexes = [models.Index(fields=["street", "day"], name="dailycount_street_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.demand_type}: {self.received}"


class SliceCounts(models.Model):
    """The counts of `DailyDemandCount`, for one value of one dimension on one day."""

    DIMENSIONS = ("total", "channel", "demand_type", "category_id", "street_id")

    day = models.DateField(_("day"))
    dimension = models.CharField(_("dimension"), max_length=12)
    key = models.CharField(_("value"), max_length=32, blank=True)
    received = models.PositiveIntegerField(_("received"), default=0)
    open = models.PositiveIntegerField(_("open"), default=0)
    closed = models.PositiveIntegerField(_("closed"), default=0)
    contacted = models.PositiveIntegerField(_("contacted"), default=0)
    contacted_on_time = models.PositiveIntegerField(_("contacted on time"), default=0)
    finished_on_time = models.PositiveIntegerField(_("replied on time"), default=0)
    finished_late = models.PositiveIntegerField(_("replied late"), default=0)
    rated = models.PositiveIntegerField(_("rated"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied or basically satisfied"), default=0)
    dissatisfied = models.PositiveIntegerField(_("dissatisfied"), default=0)

    class Meta:
        abstract = True


class DistrictDailySlice(SliceCounts):
    """The whole district's demands received on `day`, summed over every other key: one row for the
    day's total and one per channel, type, top-level category and street (≈ 50 rows a day instead of
    `DailyDemandCount`'s thousands). Read by the district-wide roles; rebuilt with the daily table."""

    class Meta:
        verbose_name = _("district daily slice")
        verbose_name_plural = _("district daily slices")
        indexes = [models.Index(fields=["dimension", "day"], name="districtslice_dim_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.key}: {self.received}"


class UnitDailySlice(SliceCounts):
    """The same per lead unit, for viewers scoped to a unit's subtree."""

    lead_unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("lead unit"), on_delete=models.CASCADE, related_name="+"
    )

    class Scope:
        unit_fields = ("lead_unit",)

    class Meta:
        verbose_name = _("unit daily slice")
        verbose_name_plural = _("unit daily slices")
        indexes = [models.Index(fields=["lead_unit", "dimension", "day"], name="unitslice_unit_dim_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.lead_unit_id} {self.dimension}={self.key}: {self.received}"


class EnterpriseCounts(models.Model):
    """Enterprise demands received in `month` (Beijing), as port's `enterprise_demand_ranking`
    counts them: all, replied (done), replied on time, rated, satisfied (+ basic)."""

    month = models.DateField(_("month"))
    total = models.PositiveIntegerField(_("demands"), default=0)
    done = models.PositiveIntegerField(_("replied"), default=0)
    on_time = models.PositiveIntegerField(_("replied on time"), default=0)
    rated = models.PositiveIntegerField(_("rated"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied or basically satisfied"), default=0)

    class Meta:
        abstract = True


class EnterpriseMonthCount(EnterpriseCounts):
    """Per month × enterprise × lead unit of the demand: the by-manager figures join the
    enterprise's *current* manager when read, so reassigning a manager needs no refresh; a service
    manager's board reads the rows of the enterprises they manage."""

    enterprise = models.ForeignKey(
        "port.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    lead_unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("lead unit"), null=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("enterprise demands per month")
        verbose_name_plural = _("enterprise demands per month")
        indexes = [models.Index(fields=["month"], name="enterprisemonth_month_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.enterprise_id}: {self.total}"


class EnterpriseUnitMonthCount(EnterpriseCounts):
    """Per lead unit of the demand and month (lead unit None: not dispatched)."""

    lead_unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("lead unit"), null=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("enterprise demands per lead unit and month")
        verbose_name_plural = _("enterprise demands per lead unit and month")
        indexes = [models.Index(fields=["month"], name="enterpriseunitmonth_month_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.lead_unit_id}: {self.total}"


class OverdueCount(models.Model):
    """Open demands overdue at `computed_at`, per lead unit × street (contact overdue, finish
    overdue, either): recomputed whole by the every-minute job, read by the boards while fresh
    (`aggregates.overdue_rows`); a row with no unit, no street and zero counts marks a run."""

    computed_at = models.DateTimeField(_("computed at"))
    lead_unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("lead unit"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    street = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("street/town"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    total = models.PositiveIntegerField(_("overdue"), default=0)
    contact = models.PositiveIntegerField(_("contact overdue"), default=0)
    finish = models.PositiveIntegerField(_("finish overdue"), default=0)

    class Scope:
        unit_fields = ("lead_unit",)

    class Meta:
        verbose_name = _("overdue count")
        verbose_name_plural = _("overdue counts")

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M} {self.lead_unit_id} {self.street_id}: {self.total}"


class AggregateDirtyDay(models.Model):
    """A day whose `DailyDemandCount` rows must be rebuilt (marked by the events subscriber)."""

    day = models.DateField(_("day"), unique=True)
    marked_at = models.DateTimeField(_("marked at"))

    class Meta:
        verbose_name = _("day to re-aggregate")
        verbose_name_plural = _("days to re-aggregate")

    def __str__(self) -> str:
        return str(self.day)


class RankingCache(models.Model):
    """The live (not yet closed) month's 三率 counts per unit, in the shape of a `RankingSnapshot`'s
    rows, so dashboards do not recompute the ranking on every view. Marked stale by demand events
    and recomputed by the job; a closed month is read from its snapshot instead."""

    month = models.DateField(_("month"), unique=True)
    computed_at = models.DateTimeField(_("computed at"))
    stale = models.BooleanField(_("stale"), default=False)
    rows = models.JSONField(_("rows"), default=list)

    class Meta:
        verbose_name = _("ranking cache")
        verbose_name_plural = _("ranking caches")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class ReportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class MonthlyReport(models.Model):
    """A monthly report requested in the UI and built by a background job (`insight/reports.py`)."""

    month = models.DateField(_("month"))
    requested_by = models.ForeignKey(
        "core.User", verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    state = models.CharField(
        _("state"), max_length=8, choices=ReportState.choices, default=ReportState.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("step"), max_length=120, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    directory = models.CharField(_("directory"), max_length=300, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Scope:
        owner_fields = ("requested_by",)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.get_state_display()})"
