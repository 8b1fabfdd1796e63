"""未诉先办 and 每月一题: proactive governance tasks made from hot spots, and the month's chosen
problems (imported by insight/models.py; the services are insight/proactive.py and insight/monthly.py).

A proactive task *is* a demand of type 主动治理 (the demand engine runs it: dispatch, deadlines,
acknowledge … reply); `ProactiveTask` links that demand to the problem it was made from and keeps
the problem's place and demands, since hot-spot rows are replaced by every run of the job.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from changxin.core import roles, scope
from changxin.core.models import TimelineEvent


class ProactiveTask(models.Model):
    """A 未诉先办 task: the hot spot it came from, its place, and the demand that carries it."""

    demand = models.OneToOneField(
        "demands.Demand", verbose_name=_("demand"), on_delete=models.PROTECT, related_name="proactive_task"
    )
    hot_spot = models.ForeignKey(
        "insight.HotSpot",
        verbose_name=_("hot spot"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proactive_tasks",
        help_text=_("The hot-spot row it was made from (a later run of the job replaces the row)."),
    )
    label = models.CharField(_("problem"), max_length=120)
    spot_as_of = models.DateField(_("hot spot of"), null=True, blank=True)
    street = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("street/town"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("community/village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
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
    source_demands = models.ManyToManyField(
        "demands.Demand",
        verbose_name=_("the problem's demands"),
        related_name="+",
        blank=True,
    )
    monthly_problem = models.ForeignKey(
        "insight.MonthlyProblem",
        verbose_name=_("problem of the month"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))
    counts = models.JSONField(
        _("before/after counts"),
        default=dict,
        blank=True,
        help_text=_("Demands of the same cell and problem before the task and after it closed."),
    )

    # seen with its demand, by the hot spot's street, and by the party members whose
    # responsibility area (责任区) covers its community
    Scope = scope.through(
        "demand",
        unit_fields=("street",),
        owner_fields=("community__responsible_members__user",),
    )

    class Meta:
        verbose_name = _("proactive task")
        verbose_name_plural = _("proactive tasks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.demand_id})"


class ProactiveEvent(TimelineEvent):
    """The timeline of a proactive task beyond its demand's: created (from which hot spot), taken
    by a party member. Published as the stream "proactive"."""

    task = models.ForeignKey(
        ProactiveTask, verbose_name=_("proactive task"), on_delete=models.PROTECT, related_name="events"
    )

    Scope = scope.through("task")

    class Meta:
        verbose_name = _("proactive task event")
        verbose_name_plural = _("proactive task events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.action} {self.at:%Y-%m-%d}"


# --- 每月一题 -----------------------------------------------------------------------------------


class ProblemState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CHOSEN = "chosen", _("Chosen")
    IN_PROGRESS = "in_progress", _("In progress")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed without solving")


class MonthlyProblem(models.Model):
    """One of the month's chosen problems (每月一题): taken from a hot spot, with a lead unit,
    milestones, progress notes and the proactive tasks that work on it. Its title, description,
    lead unit, milestones and progress are published on the month's public page."""

    month = models.DateField(_("month"), db_index=True, help_text=_("First day of the month."))
    title = models.CharField(_("problem"), max_length=120)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=ProblemState.choices, default=ProblemState.PROPOSED
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    lead_unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("lead unit"), on_delete=models.PROTECT, related_name="+"
    )
    hot_spot = models.ForeignKey(
        "insight.HotSpot",
        verbose_name=_("hot spot"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="monthly_problems",
    )
    street = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("street/town"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("community/village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
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
    source_demands = models.ManyToManyField(
        "demands.Demand", verbose_name=_("the problem's demands"), related_name="+", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("proposed at"))
    chosen_at = models.DateTimeField(_("chosen at"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), max_length=2000, blank=True)

    class Scope:
        unit_fields = ("lead_unit", "street")
        district_roles = roles.DISTRICT_ROLES

    class Meta:
        verbose_name = _("problem of the month")
        verbose_name_plural = _("problems of the month")
        ordering = ["-month", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.title}"

    @property
    def is_public(self) -> bool:
        """Shown on the public page once chosen (a proposal that was never chosen is not)."""
        return self.chosen_at is not None


class Milestone(models.Model):
    problem = models.ForeignKey(
        MonthlyProblem,
        verbose_name=_("problem of the month"),
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    title = models.CharField(_("milestone"), max_length=120)
    due_on = models.DateField(_("due"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    Scope = scope.through("problem")

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class ProblemProgress(models.Model):
    """A dated progress note (public: written for citizens, contacts scrubbed on the page)."""

    problem = models.ForeignKey(
        MonthlyProblem,
        verbose_name=_("problem of the month"),
        on_delete=models.CASCADE,
        related_name="progress",
    )
    on = models.DateField(_("date"))
    text = models.TextField(_("progress"), max_length=1000)
    unit = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    Scope = scope.through("problem")

    class Meta:
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.on} {self.text[:40]}"


class ProblemEvent(TimelineEvent):
    """One row per change of a problem of the month; published as the stream "monthly"."""

    problem = models.ForeignKey(
        MonthlyProblem,
        verbose_name=_("problem of the month"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    from_state = models.CharField(_("from state"), max_length=12, choices=ProblemState.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=12, choices=ProblemState.choices, blank=True)

    Scope = scope.through("problem")

    class Meta:
        verbose_name = _("problem event")
        verbose_name_plural = _("problem events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.action} {self.at:%Y-%m-%d}"
