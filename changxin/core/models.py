"""一核: the org tree, users and roles, the work calendar and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.roles import Role, UnitKind  # defined in roles; imported from here as ever
from changxin.core.scope import ScopedQuerySet

phone_validator = RegexValidator(
    r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$",
    _("Enter a mobile number (11 digits starting with 1) or a landline number."),
    code="invalid_phone",
)


class RankingGroup(models.TextChoices):
    """四类排名: units are ranked against their own kind."""

    STREET = "street", _("Streets")
    TOWN = "town", _("Towns")
    DEPARTMENT = "department", _("Departments")
    COMPANY = "company", _("Public-service companies")


KIND_RANKING_GROUP = {
    UnitKind.STREET: RankingGroup.STREET,
    UnitKind.TOWN: RankingGroup.TOWN,
    UnitKind.DEPARTMENT: RankingGroup.DEPARTMENT,
    UnitKind.COMPANY: RankingGroup.COMPANY,
}


class OrgUnitQuerySet(ScopedQuerySet):
    def streets_and_towns(self):
        return self.filter(kind__in=roles.STREET_LEVEL_KINDS)

    def subtree_of(self, unit: OrgUnit):
        return self.filter(path__startswith=unit.path)


class OrgUnit(models.Model):
    """A unit of the org tree, keyed by its statistical division code where it has one.

    `path` is the materialised path of codes ("/110106/110106001/110106001001/"), so a subtree is
    one indexed prefix query on both SQLite and PostgreSQL.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("tree path"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    source = models.CharField(_("data source"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = OrgUnitQuerySet.as_manager()

    class Scope:
        unit_fields = ("",)  # a unit is in scope when it is in the viewer's subtree

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def ranking_group(self) -> str | None:
        return KIND_RANKING_GROUP.get(self.kind)

    @property
    def is_street_level(self) -> bool:
        return self.kind in roles.STREET_LEVEL_KINDS

    def street(self) -> OrgUnit | None:
        """The street/town this unit lies in (itself when it is one)."""
        node: OrgUnit | None = self
        while node is not None and not node.is_street_level:
            node = node.parent
        return node

    def compute_path(self) -> str:
        return (self.parent.path if self.parent_id else "/") + f"{self.code}/"

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = self.compute_path()
        self.depth = self.path.count("/") - 2
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                for child in OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                    child.path = self.path + child.path[len(old_path) :]
                    child.depth = child.path.count("/") - 2
                    child.save(update_fields=["path", "depth"])

    def is_ancestor_of(self, other: OrgUnit | None) -> bool:
        """`other` lies in this unit's subtree (the unit itself included). An unsaved unit (no path
        yet) is the ancestor of nothing; paths end with "/", so "/1/2/" never claims "/1/23/"."""
        return bool(self.path and other is not None and other.path.startswith(self.path))


class ChangxinUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CITIZEN)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )

    objects = ChangxinUserManager()

    class Scope:
        unit_fields = ("unit",)
        owner_fields = ("pk",)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    # Shorthands for the predicates of core/roles.py (the one definition).
    @property
    def is_read_only(self) -> bool:
        return roles.is_read_only(self)

    @property
    def sees_district(self) -> bool:
        return roles.is_district_wide(self)

    @property
    def is_unit_staff(self) -> bool:
        return roles.is_unit_staff(self)

    def save(self, *args, **kwargs):
        # Staff-side roles reach the admin (scoped); the public never does.
        if not self.is_superuser:
            self.is_staff = self.role not in roles.PUBLIC_ROLES
        super().save(*args, **kwargs)


# --- Work calendar ---------------------------------------------------------------------------


class CalendarYear(models.Model):
    """A year whose official schedule the calendar knows.

    A year without a row here is unknown: arithmetic over it falls back to weekends-only and says so.
    """

    class Source(models.TextChoices):
        PACKAGE = "chinese_calendar", _("chinese-calendar package")
        ADMIN = "admin", _("Entered by an administrator")

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    notice = models.CharField(_("official notice"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Scope:
        district_roles = roles.DISTRICT_ROLES

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to the Monday-to-Friday rule: a holiday on a weekday or a 调休 working weekend."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=50, blank=True)
    year = models.ForeignKey(
        CalendarYear, verbose_name=_("calendar year"), on_delete=models.CASCADE, related_name="days"
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


# --- Audit log -------------------------------------------------------------------------------


class TimelineEvent(models.Model):
    """One row of a wing's timeline: who did what when, with a note and the action's data.

    Every wing's event table (enterprises, projects, matches, suggestions, inspections, the party
    pipeline, transfers, volunteering, commitments, honours, proactive tasks, problems of the month,
    brands) is this plus the foreign key to its subject, and the from/to state where the subject
    runs on a machine. The wing's service writes one per change and publishes it on the event bus.
    A subclass narrows a field by declaring it again (e.g. a shorter `note`) or drops it with
    `note = None`."""

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150)
    action = models.CharField(_("action"), max_length=32, db_index=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    STATE = "state", _("State changed")
    VIEW_PERSONAL = "view_personal", _("Viewed personal data")
    EXPORT = "export", _("Exported")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Login failed")
    ANONYMISE = "anonymise", _("Anonymised")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices, db_index=True)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("object type"), null=True, blank=True, on_delete=models.SET_NULL
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Scope:
        owner_fields = ("actor",)
        district_roles = frozenset({Role.ADMIN, Role.LEADERSHIP})

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"


# --- Published events: what each subscriber has handled ---------------------------------------


class EventCursor(models.Model):
    """A subscriber's place in an event stream: every event with id ≤ `position` has been handled.

    The cursor only moves past ids that were seen at least a grace period ago (`candidate`,
    `candidate_seen_at`), so an event committed late by a slow transaction is never skipped; events
    after the cursor are tracked one by one in EventReceipt.
    """

    subscriber = models.CharField(_("subscriber"), max_length=100, unique=True)
    stream = models.CharField(_("event stream"), max_length=50)
    position = models.BigIntegerField(_("handled up to event id"), default=0)
    candidate = models.BigIntegerField(_("next position"), null=True, blank=True)
    candidate_seen_at = models.DateTimeField(_("next position seen at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Scope:
        district_roles = frozenset({"admin"})

    class Meta:
        verbose_name = _("event subscriber cursor")
        verbose_name_plural = _("event subscriber cursors")
        ordering = ["subscriber"]

    def __str__(self) -> str:
        return f"{self.subscriber} @ {self.stream}:{self.position}"


class EventReceipt(models.Model):
    """One event handled by one subscriber, written in the same transaction as the handling: the
    unique key makes every subscriber idempotent (an event delivered twice is handled once)."""

    subscriber = models.CharField(_("subscriber"), max_length=100)
    stream = models.CharField(_("event stream"), max_length=50)
    event_id = models.BigIntegerField(_("event id"))
    at = models.DateTimeField(_("handled at"), auto_now_add=True)

    class Scope:
        district_roles = frozenset({"admin"})

    class Meta:
        verbose_name = _("event receipt")
        verbose_name_plural = _("event receipts")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "stream", "event_id"], name="event_receipt_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.stream}:{self.event_id}"


# --- Background jobs ---------------------------------------------------------------------------


class JobFailure(models.Model):
    """A background job that failed for the last time (its retries spent), kept for administrators.

    Written by changxin/core/jobs.py; the queue itself keeps nothing once a job is over.
    """

    job = models.CharField(_("job"), max_length=200, db_index=True)
    job_id = models.CharField(_("job id"), max_length=64, blank=True)
    arguments = models.TextField(_("arguments"), blank=True)
    error = models.TextField(_("error"))
    attempts = models.PositiveSmallIntegerField(_("attempts"))
    failed_at = models.DateTimeField(_("failed at"), auto_now_add=True, db_index=True)

    class Scope:
        district_roles = frozenset({"admin"})  # no unit or owner sees another's jobs

    class Meta:
        verbose_name = _("failed job")
        verbose_name_plural = _("failed jobs")
        ordering = ["-failed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.failed_at:%Y-%m-%d %H:%M} {self.job}"
