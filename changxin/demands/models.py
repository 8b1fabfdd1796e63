"""接诉即办: demands, their per-unit tasks, the event timeline, deadlines policy and ranking weights."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changxin.core import roles, scope
from changxin.core.models import OrgUnit, phone_validator
from changxin.core.scope import ScopedQuerySet


class Category(models.Model):
    """The 3-level demand taxonomy (level 1 → 2 → 3)."""

    name = models.CharField(_("name"), max_length=50)
    level = models.PositiveSmallIntegerField(
        _("level"), validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    full_name = models.CharField(_("full name"), max_length=160, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Scope:
        district_roles = roles.ALL_ROLES  # the taxonomy is public reference data

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.full_name = f"{self.parent.full_name} / {self.name}" if self.parent_id else self.name
        super().save(*args, **kwargs)

    @property
    def top(self) -> Category:
        node = self
        while node.parent_id:
            node = node.parent
        return node


CONTENT_MAX_LENGTH = 5000  # a demand's content and any note or reply written on it
NOTE_MAX_LENGTH = 5000


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")
    WEB = "web", _("Web portal")
    MINI_PROGRAM = "mini_program", _("Mini-program")
    LEADER_MAILBOX = "leader_mailbox", _("Leader mailbox")
    MEDIA = "media", _("Media")
    ENTERPRISE_PORTAL = "enterprise_portal", _("Enterprise portal")
    PROACTIVE = "proactive", _("Proactive discovery")
    OPEN311 = "open311", _("Open311 client")
    API = "api", _("API integration")
    IMPORT = "import", _("Historical import")


class DemandType(models.TextChoices):
    CONSULT = "consult", _("Consultation")
    HELP = "help", _("Request for help")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")
    # 主动治理 / 未诉先办: a task the platform sets itself from a hot spot (insight/proactive.py), not a
    # citizen's demand: never filed through intake, not assessed in 三率, not shown to the public
    PROACTIVE = "proactive", _("Proactive governance (主动治理)")


# the types a demand is filed as (every intake form, Open311): all but the proactive task
FILED_DEMAND_TYPES = tuple(t.value for t in DemandType if t != DemandType.PROACTIVE)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Ordinary")
    URGENT = "urgent", _("Urgent (risk to life or property)")
    UTILITY = "utility", _("Water, power, gas or heating outage")


class RequesterKind(models.TextChoices):
    PERSON = "person", _("Person")
    ENTERPRISE = "enterprise", _("Enterprise")
    ANONYMOUS = "anonymous", _("Anonymous")


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    DISPATCHED = "dispatched", _("Dispatched")
    DISPUTED = "disputed", _("Dispatch disputed")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CONTACTED = "contacted", _("Requester contacted")
    IN_PROGRESS = "in_progress", _("In progress")
    REPLIED = "replied", _("Replied")
    VISITED = "visited", _("Return visit done")
    ARCHIVED = "archived", _("Archived")
    MERGED = "merged", _("Merged into another demand")


OPEN_STATES = frozenset(
    {State.RECEIVED, State.DISPATCHED, State.DISPUTED, State.ACKNOWLEDGED, State.CONTACTED, State.IN_PROGRESS}
)
CLOSED_STATES = frozenset({State.REPLIED, State.VISITED, State.ARCHIVED, State.MERGED})


class Resolution(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    PARTLY = "partly", _("Partly resolved")
    UNRESOLVED = "unresolved", _("Unresolved")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
    UNRATED = "unrated", _("Not rated (unreachable)")


class ExtensionState(models.TextChoices):
    NONE = "", _("None")
    PENDING = "pending", _("Requested")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")


class ReviewKind(models.TextChoices):
    """What an officer submitted to the unit leader for approval (审核) before it leaves the unit."""

    NONE = "", _("None")
    REPLY = "reply", _("Reply")
    DISPUTE = "dispute", _("Dispute")
    EXTENSION = "extension", _("Extension request")


class DisputeReason(models.TextChoices):
    NOT_OUR_DUTY = "not_our_duty", _("Not within our duties")
    WRONG_PLACE = "wrong_place", _("Location is outside our area")
    WRONG_CATEGORY = "wrong_category", _("Wrong category")
    COURT_OR_PETITION = "legal_process", _("Belongs to a legal or petition process")
    OTHER = "other", _("Other")


TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


# A unit sees a demand through a task it holds or held and finished; a task withdrawn from it
# (re-dispatch after an upheld dispute, merge) no longer shows it the requester's data.
LIVE_TASK_STATES = ["pending", "acknowledged", "done"]


class RecordIsPermanent(Exception):
    """Raised on any attempt to delete a demand or a row of its history: the record is archived,
    never deleted (not from the admin, not from code). Test teardown is unaffected: Django's flush
    empties tables with TRUNCATE/DELETE SQL, not through models."""

    def __init__(self, model):
        super().__init__(
            f"{model._meta.label} rows are a permanent record and are never deleted; "
            "archive the demand instead (transition 'archive')."
        )


class PermanentQuerySet(ScopedQuerySet):
    """`.delete()` refuses for the whole queryset (bulk deletes included)."""

    def delete(self):
        raise RecordIsPermanent(self.model)

    delete.alters_data = True
    delete.queryset_only = True


class PermanentRecord(models.Model):
    """Instances refuse `.delete()`; their queryset refuses bulk deletes."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise RecordIsPermanent(type(self))


class DemandQuerySet(PermanentQuerySet):
    def open(self):
        return self.filter(state__in=OPEN_STATES)

    def citizen(self):
        """Demands of the public: everything but the platform's own proactive tasks (主动治理)."""
        return self.exclude(demand_type=DemandType.PROACTIVE)


# the columns the 三率 read of an assessed demand (insight/metrics.py), in its covering index
RANKING_COLUMNS = [
    "id",
    "lead_unit",
    "master",
    "demand_type",
    "state",
    "contact_due",
    "contacted_at",
    "reopen_count",
    "lead_first_contact_at",
    "lead_first_contact_on_time",
    "resolution",
    "satisfaction",
    "rating_excluded",
]


class Demand(PermanentRecord):
    number = models.CharField(_("number"), max_length=32, unique=True, blank=True)
    tracking_code = models.CharField(
        _("tracking code"), max_length=16, unique=True, default=new_tracking_code
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.WEB)
    demand_type = models.CharField(_("type"), max_length=12, choices=DemandType.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("title"), max_length=120)
    # A TextField's max_length only sizes the form widget; the validator makes full_clean (and so
    # create_demand, behind every intake path: portal, hotline, API, Open311, import) enforce it.
    content = models.TextField(
        _("content"), max_length=CONTENT_MAX_LENGTH, validators=[MaxLengthValidator(CONTENT_MAX_LENGTH)]
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )

    requester_kind = models.CharField(
        _("requester kind"), max_length=12, choices=RequesterKind.choices, default=RequesterKind.PERSON
    )
    requester_name = models.CharField(_("requester name"), max_length=60, blank=True)
    requester_phone = models.CharField(
        _("requester phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    enterprise_name = models.CharField(_("enterprise name"), max_length=120, blank=True)
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demands",
    )

    address = models.CharField(_("address"), max_length=200, blank=True)
    street = models.ForeignKey(
        OrgUnit,
        verbose_name=_("street/town"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community = models.ForeignKey(
        OrgUnit,
        verbose_name=_("community/village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RECEIVED, db_index=True
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    lead_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_demands",
    )
    master = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )

    received_at = models.DateTimeField(_("received at"), db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    visited_at = models.DateTimeField(_("return visit at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    # The 三率's round (insight/metrics.py), kept by the transition service from the events it writes
    # (docs/PERFORMANCE.md): when the lead unit received the demand (the last dispatch
    # or re-dispatch; reopening does not move it) and that round's first contact with its `on_time`.
    lead_assigned_at = models.DateTimeField(_("received by the lead unit at"), null=True, blank=True)
    lead_first_contact_at = models.DateTimeField(_("first contact at"), null=True, blank=True)
    lead_first_contact_on_time = models.BooleanField(_("first contact on time"), null=True, blank=True)

    contact_due = models.DateTimeField(_("contact due"), null=True, blank=True, db_index=True)
    finish_due = models.DateTimeField(_("finish due"), null=True, blank=True, db_index=True)
    deadline_estimated = models.BooleanField(
        _("deadline estimated"),
        default=False,
        help_text=_("The work calendar did not know a year involved; weekends-only was assumed."),
    )
    extension_state = models.CharField(
        _("extension"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.NONE, blank=True
    )
    extension_days = models.PositiveSmallIntegerField(_("extension working days"), default=0)
    supervised_at = models.DateTimeField(_("supervised at"), null=True, blank=True)
    supervision_count = models.PositiveSmallIntegerField(_("supervision count"), default=0)
    supervision_note = models.CharField(_("supervision note"), max_length=500, blank=True)

    reply = models.TextField(_("reply"), blank=True)
    resolution = models.CharField(_("resolution"), max_length=12, choices=Resolution.choices, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=14, choices=Satisfaction.choices, blank=True
    )
    visit_attempts = models.PositiveSmallIntegerField(_("return-visit attempts"), default=0)
    rating_comment = models.TextField(_("comment on the rating"), max_length=1000, blank=True)
    rating_excluded = models.BooleanField(_("rating excluded"), default=False)
    rating_excluded_reason = models.CharField(_("reason for exclusion"), max_length=200, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    review_pending = models.CharField(
        _("awaiting the unit leader's approval"),
        max_length=10,
        choices=ReviewKind.choices,
        default=ReviewKind.NONE,
        blank=True,
    )
    review_note = models.TextField(_("text submitted for approval"), blank=True)
    review_data = models.JSONField(_("data submitted for approval"), default=dict, blank=True)

    emergency_referral = models.CharField(
        _("referred to emergency services"),
        max_length=20,
        blank=True,
        help_text=_("The emergency numbers (110, 119, 120) the caller was referred to at intake."),
    )
    triage = models.JSONField(_("triage suggestions"), default=dict, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True, db_index=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, null=True, blank=True, unique=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DemandQuerySet.as_manager()

    class Scope:
        unit_fields = ("lead_unit", ("tasks__unit", {"tasks__state__in": LIVE_TASK_STATES}))
        # the requester, and the person a task is assigned to (a service manager of another unit)
        owner_fields = ("requester_user", ("tasks__assignee", {"tasks__state__in": LIVE_TASK_STATES}))

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["lead_unit", "received_at"], name="demand_unit_received_idx"),
            models.Index(fields=["state", "finish_due"], name="demand_state_due_idx"),
            models.Index(fields=["street", "received_at"], name="demand_street_received_idx"),
            # docs/PERFORMANCE.md: the queue's views (a state, by time received); the overdue page
            # and the 督办 job read only open demands past a deadline (partial: a year of closed
            # demands is not in them). Built concurrently on PostgreSQL (migration 0014).
            models.Index(fields=["state", "received_at"], name="demand_state_received_idx"),
            # the month's assessed demands of the 三率 (insight/metrics.py; migration 0016): covering,
            # so the ranking's aggregate is an index-only scan of the month (PostgreSQL; SQLite
            # ignores `include`)
            models.Index(
                fields=["lead_assigned_at"],
                include=RANKING_COLUMNS,
                name="demand_lead_assigned_idx",
            ),
            models.Index(
                fields=["finish_due"],
                condition=Q(state__in=sorted(OPEN_STATES)),
                name="demand_open_finish_idx",
            ),
            models.Index(
                fields=["contact_due"],
                condition=Q(state__in=sorted(OPEN_STATES), contacted_at__isnull=True),
                name="demand_open_contact_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def top_category(self) -> Category | None:
        return self.category.top if self.category_id else None


class TaskRole(models.TextChoices):
    LEAD = "lead", _("Lead unit (主办)")
    CO = "co", _("Co-unit (协办)")
    WHISTLE = "whistle", _("Called in (吹哨报到)")


class TaskState(models.TextChoices):
    PENDING = "pending", _("Waiting for acknowledgement")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged / reported in")
    DONE = "done", _("Done")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DemandTask(PermanentRecord):
    """One unit's part in a demand: the lead unit, a co-unit, or a department called in by a whistle."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("demand"), on_delete=models.PROTECT, related_name="tasks"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="demand_tasks"
    )
    role = models.CharField(_("role"), max_length=10, choices=TaskRole.choices)
    state = models.CharField(_("state"), max_length=14, choices=TaskState.choices, default=TaskState.PENDING)
    assigned_at = models.DateTimeField(_("assigned at"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    request_note = models.TextField(_("what is asked"), blank=True)
    result_note = models.TextField(_("result"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.CharField(_("reason for withdrawal"), max_length=500, blank=True)
    called_by = models.ForeignKey(
        OrgUnit,
        verbose_name=_("called in by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        help_text=_("The person handling this task for the unit (a service manager, a party member…)."),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_demand_tasks",
    )

    objects = PermanentQuerySet.as_manager()

    # seen with its demand, and by its own unit even once withdrawn
    Scope = scope.through("demand", unit_fields=("unit",))

    class Meta:
        verbose_name = _("demand task")
        verbose_name_plural = _("demand tasks")
        ordering = ["assigned_at", "id"]
        # the workbench (a unit subtree's open tasks by deadline) and the demand scope's "a live task
        # of my unit" (docs/PERFORMANCE.md)
        indexes = [
            models.Index(fields=["unit", "state", "due_at"], name="demandtask_unit_state_due_idx"),
            # co-unit and called-in tasks given in a month, beside the ranking (insight/metrics.py)
            models.Index(
                fields=["assigned_at"],
                include=["unit", "state", "due_at", "done_at"],
                condition=Q(role__in=["co", "whistle"]),
                name="demandtask_side_assigned_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demand.number} · {self.unit} · {self.get_role_display()}"


class DemandEvent(PermanentRecord):
    """One row per change: the timeline of a demand, and the raw record the 三率 are computed from."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("demand"), on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    actor_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("actor unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32, db_index=True)
    from_state = models.CharField(_("from state"), max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, choices=State.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    automatic = models.BooleanField(_("automatic"), default=False)

    objects = PermanentQuerySet.as_manager()

    Scope = scope.through("demand")

    class Meta:
        verbose_name = _("demand event")
        verbose_name_plural = _("demand events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["action", "at"], name="demandevent_action_at_idx"),
            # one demand's timeline in order; the 三率's per-demand "last assignment / first contact"
            models.Index(fields=["demand", "at"], name="demandevent_demand_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


def attachment_path(instance: DemandAttachment, filename: str) -> str:
    return f"demands/{instance.demand_id}/{secrets.token_hex(8)}-{filename[-80:]}"


class DemandAttachment(PermanentRecord):
    demand = models.ForeignKey(
        Demand, verbose_name=_("demand"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = PermanentQuerySet.as_manager()

    Scope = scope.through("demand")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class UnitReview(models.Model):
    """A unit's review step (审核): with `requires_review`, its officers' replies, disputes and
    extension requests go to the unit leader for approval before they leave the unit. Units without
    a row (or with it off) send them directly."""

    unit = models.OneToOneField(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="review_setting"
    )
    requires_review = models.BooleanField(_("leader approves replies, disputes and extensions"), default=True)

    class Scope:
        district_roles = roles.DISTRICT_ROLES

    class Meta:
        verbose_name = _("unit review step")
        verbose_name_plural = _("unit review steps")

    def __str__(self) -> str:
        return str(self.unit)


def unit_requires_review(unit_id: int | None) -> bool:
    return bool(unit_id) and UnitReview.objects.filter(unit_id=unit_id, requires_review=True).exists()


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("working days")
    WORKING_HOURS = "working_hours", _("working hours")
    CLOCK_HOURS = "clock_hours", _("clock hours")


class DeadlinePolicy(models.Model):
    """Contact and finish deadlines per demand type and urgency (RULES.md defaults, editable)."""

    demand_type = models.CharField(
        _("type"), max_length=12, choices=DemandType.choices, blank=True, help_text=_("Empty: any type.")
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    contact_amount = models.DecimalField(_("contact within"), max_digits=6, decimal_places=1)
    contact_unit = models.CharField(_("contact time unit"), max_length=16, choices=TimeUnit.choices)
    finish_amount = models.DecimalField(_("finish within"), max_digits=6, decimal_places=1)
    finish_unit = models.CharField(_("finish time unit"), max_length=16, choices=TimeUnit.choices)
    max_extension_days = models.PositiveSmallIntegerField(
        _("longest extended term (working days)"), default=15
    )

    class Scope:
        district_roles = roles.DISTRICT_ROLES

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        constraints = [
            models.UniqueConstraint(fields=["demand_type", "urgency"], name="deadline_policy_unique"),
        ]

    def __str__(self) -> str:
        kind = self.get_demand_type_display() if self.demand_type else _("any type")
        return f"{kind} · {self.get_urgency_display()}"


class RankingWeights(models.Model):
    """三率 weights and partial-credit factors frozen per month, so old rankings never change."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    response_weight = models.DecimalField(_("response weight"), max_digits=4, decimal_places=3)
    resolution_weight = models.DecimalField(_("resolution weight"), max_digits=4, decimal_places=3)
    satisfaction_weight = models.DecimalField(_("satisfaction weight"), max_digits=4, decimal_places=3)
    partly_resolved_credit = models.DecimalField(
        _("credit for partly resolved"), max_digits=4, decimal_places=3
    )
    basic_satisfied_credit = models.DecimalField(
        _("credit for basically satisfied"), max_digits=4, decimal_places=3
    )

    class Scope:
        district_roles = roles.DISTRICT_ROLES

    class Meta:
        verbose_name = _("ranking weights")
        verbose_name_plural = _("ranking weights")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def is_closed(self) -> bool:
        """The month's ranking is stored (RankingSnapshot): its weights can no longer change."""
        return self.pk is not None and RankingSnapshot.objects.filter(month=self.month).exists()

    def clean(self):
        from decimal import Decimal

        from django.core.exceptions import ValidationError
        from django.utils import timezone

        errors = {}
        total = sum(
            (self.response_weight or 0, self.resolution_weight or 0, self.satisfaction_weight or 0),
            Decimal(0),
        )
        if total != 1:
            errors["response_weight"] = _(
                "The three weights must sum to 100 %% (they sum to %(total)s %%)."
            ) % {"total": f"{total * 100:g}"}
        for name in ("partly_resolved_credit", "basic_satisfied_credit"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                errors[name] = _("A credit is between 0 and 1.")
        if self.month and self.month.day != 1:
            errors["month"] = _("Give the first day of the month.")
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("month", flat=True).first()
            if stored and (stored < timezone.localdate().replace(day=1) or self.is_closed):
                errors["month"] = _("A past or closed month's weights cannot be edited.")
        if errors:
            raise ValidationError(errors)


class RankingSnapshot(PermanentRecord):
    """A closed month's ranking, stored by the monthly-close job (RULES.md "Monthly close"): the page,
    the export and the API read it, and nothing that later happens to the month's demands changes it.
    `rows`: [{"unit": id, "group": ranking group, "rank": int | None, <counts of metrics.COUNTED>}]."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    closed_at = models.DateTimeField(_("closed at"))
    weights = models.ForeignKey(
        RankingWeights, verbose_name=_("weights"), on_delete=models.PROTECT, related_name="+"
    )
    rows = models.JSONField(_("figures"), default=list)

    objects = PermanentQuerySet.as_manager()

    class Scope:
        district_roles = roles.DISTRICT_ROLES

    class Meta:
        verbose_name = _("monthly ranking snapshot")
        verbose_name_plural = _("monthly ranking snapshots")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class AppealState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class AppealMetric(models.TextChoices):
    RESPONSE = "response", _("Response rate")
    RESOLUTION = "resolution", _("Resolution rate")
    SATISFACTION = "satisfaction", _("Satisfaction rate")
    COMPOSITE = "composite", _("Composite score")


class RankingAppeal(models.Model):
    """A unit's appeal (申诉) against one of its monthly ranking figures; the centre accepts or
    rejects it with a decision note (insight/appeals.py, a workflow machine). Recorded and shown
    beside the figure; a closed month's snapshot is never changed by it (RULES.md)."""

    month = models.DateField(_("month"), help_text=_("First day of the month."))
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="appeals"
    )
    metric = models.CharField(_("figure"), max_length=14, choices=AppealMetric.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    state = models.CharField(
        _("state"), max_length=10, choices=AppealState.choices, default=AppealState.SUBMITTED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    decision_note = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Scope:
        unit_fields = ("unit",)
        district_roles = roles.DISTRICT_ROLES

    class Meta:
        verbose_name = _("ranking appeal")
        verbose_name_plural = _("ranking appeals")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m} {self.get_metric_display()}"
