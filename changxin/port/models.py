"""先丰港: the enterprise registry, the link of an enterprise demand, 走访 visits and the wing's
event timeline."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from changxin.core import roles, scope
from changxin.core.models import OrgUnit, TimelineEvent, phone_validator
from changxin.core.scope import ScopedQuerySet
from changxin.port import uscc


class Zone(models.TextChoices):
    """The “4+4”: four key functional zones and four functional clusters."""

    SOUTH_AXIS = "south_axis", _("South Central Axis Area")
    XISHAN_YONGDING = "xishan_yongding", _("Xishan–Yongding River Cultural Zone")
    LIZE = "lize", _("Lize Financial Business District")
    ZGC_FENGTAI = "zgc_fengtai", _("Zhongguancun Fengtai Park")
    HEXI = "hexi", _("Hexi Area")
    FENGTAI_STATION = "fengtai_station", _("Beijing Fengtai Station Area")
    WULIDIAN = "wulidian", _("Wulidian Area")
    XINFADI = "xinfadi", _("Xinfadi Area")


KEY_ZONES = (Zone.SOUTH_AXIS, Zone.XISHAN_YONGDING, Zone.LIZE, Zone.ZGC_FENGTAI)


class Size(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class Flag(models.TextChoices):
    """The flags an enterprise may carry (stored as booleans, listed here for rules and imports)."""

    KEY = "is_key", _("Key enterprise (重点)")
    SPECIALISED = "is_specialised", _("Specialised and innovative (专精特新)")
    HIGH_TECH = "is_high_tech", _("High-tech (高新)")
    LISTED = "is_listed", _("Listed (上市)")


def validate_uscc(value: str) -> None:
    reason = uscc.problem(value)
    if reason:
        raise ValidationError(reason, code="invalid_uscc")


def new_public_code() -> str:
    return secrets.token_urlsafe(12)


class EnterpriseQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(is_active=True)


class Enterprise(models.Model):
    name = models.CharField(_("name"), max_length=120)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, default=Size.SMALL)
    street = models.ForeignKey(
        OrgUnit,
        verbose_name=_("street/town"),
        on_delete=models.PROTECT,
        related_name="enterprises",
        limit_choices_to={"kind__in": roles.STREET_LEVEL_KINDS},
    )
    zone = models.CharField(_("functional zone"), max_length=20, choices=Zone.choices, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_title = models.CharField(_("contact's position"), max_length=60, blank=True)
    contact_phone = models.CharField(
        _("contact phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    is_key = models.BooleanField(_("key enterprise (重点)"), default=False)
    is_specialised = models.BooleanField(_("specialised and innovative (专精特新)"), default=False)
    is_high_tech = models.BooleanField(_("high-tech (高新)"), default=False)
    is_listed = models.BooleanField(_("listed (上市)"), default=False)
    # figures for the policies' thresholds (optional: without one, a policy with that threshold
    # does not match — port/policies.py says so in its reason)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue (10,000 yuan)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    credit_grade = models.CharField(
        _("credit-risk grade"),
        max_length=1,
        choices=[("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")],
        default="B",
        help_text=_("A (best) to D: the better the grade, the fewer planned inspections (无事不扰)."),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_enterprises",
        limit_choices_to={"role": roles.Role.SERVICE_MANAGER},
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enterprise accounts"),
        blank=True,
        related_name="enterprises",
        limit_choices_to={"role": roles.Role.ENTERPRISE},
    )
    visit_interval_days = models.PositiveSmallIntegerField(
        _("visit every (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: by the visit rules for its flags and size."),
    )
    public_code = models.CharField(
        _("public code"), max_length=24, unique=True, default=new_public_code, editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EnterpriseQuerySet.as_manager()

    class Scope:
        # the street it lies in, its service manager, its own enterprise accounts
        unit_fields = ("street",)
        # (restrict filters through a subquery for the to-many "members", so an enterprise with
        # several accounts is listed once)
        owner_fields = ("manager", "members")

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["zone", "street"], name="enterprise_zone_street_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        self.credit_code = uscc.normalise(self.credit_code)
        if self.street_id and self.street.kind not in roles.STREET_LEVEL_KINDS:
            raise ValidationError({"street": _("Choose a street or town.")})
        if self.manager_id and self.manager.role != roles.Role.SERVICE_MANAGER:
            raise ValidationError({"manager": _("Choose a user with the service-manager role.")})

    @property
    def flags(self) -> list[str]:
        return [str(label) for value, label in Flag.choices if getattr(self, value)]


class EnterpriseDemand(models.Model):
    """The link between a demand (an ordinary 接诉即办 demand) and the enterprise that filed it."""

    demand = models.OneToOneField(
        "demands.Demand", verbose_name=_("demand"), on_delete=models.PROTECT, related_name="enterprise_link"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="demand_links"
    )
    visit = models.ForeignKey(
        "port.Visit",
        verbose_name=_("raised during visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demand_links",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    Scope = scope.through("demand")

    class Meta:
        verbose_name = _("enterprise demand")
        verbose_name_plural = _("enterprise demands")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.demand_id}"


class Visit(models.Model):
    """A 走访 visit record by the service manager."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="visits"
    )
    visited_on = models.DateField(_("visited on"))
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visited by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    people_met = models.CharField(_("people met"), max_length=200)
    raised = models.TextField(_("what was raised"), max_length=3000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    Scope = scope.through("enterprise")

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.visited_on}"


class EnterpriseEvent(TimelineEvent):
    """The wing's timeline: one row per change (registered, updated, demand filed, visit…)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="events"
    )

    Scope = scope.through("enterprise")

    class Meta:
        verbose_name = _("enterprise event")
        verbose_name_plural = _("enterprise events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


# --- 投资项目清单: investment projects through stages ------------------------------------------


class Stage(models.TextChoices):
    RESERVE = "reserve", _("Reserve (储备)")
    TALKS = "talks", _("In talks (在谈)")
    SIGNED = "signed", _("Signed (签约)")
    STARTED = "started", _("Works started (开工)")
    COMPLETED = "completed", _("Completed, in production (建成投产)")


STAGE_ORDER = list(Stage.values)


class Project(models.Model):
    """An investment project of the 投资项目清单; its stage moves only through
    `services.move_project` (the `port.workflow.PROJECT` machine)."""

    name = models.CharField(_("name"), max_length=120)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("investor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    zone = models.CharField(_("functional zone"), max_length=20, choices=Zone.choices)
    street = models.ForeignKey(
        OrgUnit,
        verbose_name=_("street/town"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind__in": roles.STREET_LEVEL_KINDS},
    )
    amount = models.DecimalField(_("investment (10,000 yuan)"), max_digits=12, decimal_places=2)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.RESERVE)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_projects",
        limit_choices_to={"role": roles.Role.SERVICE_MANAGER},
    )
    expected_start = models.DateField(_("expected start of works"), null=True, blank=True)
    expected_completion = models.DateField(_("expected completion"), null=True, blank=True)
    reserved_on = models.DateField(_("entered the reserve on"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    started_on = models.DateField(_("works started on"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        unit_fields = ("street",)
        owner_fields = ("manager", "enterprise__members")

    class Meta:
        verbose_name = _("investment project")
        verbose_name_plural = _("investment projects")
        ordering = ["zone", "name", "id"]
        indexes = [models.Index(fields=["zone", "stage"], name="project_zone_stage_idx")]

    def __str__(self) -> str:
        return self.name

    # set by the service before the machine is asked; read by the REASON guard
    pending_reason = ""


class ProjectEvent(TimelineEvent):
    """A project's stage history: one row per move (and its registration), published as the
    "projects" stream."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="events"
    )
    from_stage = models.CharField(_("from stage"), max_length=10, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=10, choices=Stage.choices, blank=True)

    Scope = scope.through("project")

    class Meta:
        verbose_name = _("project event")
        verbose_name_plural = _("project events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.action} {self.at:%Y-%m-%d}"


# --- 一卡三包: the standard, custom and incentive packages --------------------------------------


class PackageKind(models.TextChoices):
    STANDARD = "standard", _("Standard package (标准包)")
    CUSTOM = "custom", _("Custom package (定制包)")
    INCENTIVE = "incentive", _("Incentive package (激励包)")


class PackageStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DELIVERED = "delivered", _("Delivered")
    DECLINED = "declined", _("Declined")


class PackageItem(models.Model):
    """One item of an enterprise's 三包: a standard item every package enterprise gets, a custom
    item, or an incentive (amount and conditions)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="package_items"
    )
    kind = models.CharField(_("package"), max_length=10, choices=PackageKind.choices)
    title = models.CharField(_("item"), max_length=120)
    status = models.CharField(
        _("status"), max_length=12, choices=PackageStatus.choices, default=PackageStatus.PLANNED
    )
    amount = models.DecimalField(
        _("amount (10,000 yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    conditions = models.TextField(_("conditions"), max_length=2000, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    Scope = scope.through("enterprise")

    class Meta:
        verbose_name = _("package item")
        verbose_name_plural = _("package items")
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "title"], name="package_item_unique_title"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.title}"

    def clean(self):
        super().clean()
        if self.kind == PackageKind.INCENTIVE and self.amount is None:
            raise ValidationError({"amount": _("An incentive needs its amount.")})
        if self.kind != PackageKind.INCENTIVE and self.amount is not None:
            raise ValidationError({"amount": _("Only an incentive has an amount.")})


# --- 合作方向清单: offers, needs, city application scenarios and their matches -------------------


class CooperationKind(models.TextChoices):
    OFFER = "offer", _("Offer (供给)")
    NEED = "need", _("Need (需求)")


class CooperationItem(models.Model):
    """What an enterprise offers or seeks (合作方向), posted by its own accounts or its manager."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="cooperation_items"
    )
    kind = models.CharField(_("offer or need"), max_length=8, choices=CooperationKind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=3000)
    field = models.CharField(_("field"), max_length=60, blank=True)
    is_open = models.BooleanField(_("open"), default=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    Scope = scope.through("enterprise")

    class Meta:
        verbose_name = _("cooperation item")
        verbose_name_plural = _("cooperation items")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.title}"

    def text(self) -> str:
        return " ".join([self.title, self.field, self.description])


class Scenario(models.Model):
    """A city application scenario (城市应用场景) published by the district: what the city would
    let an enterprise build or try, with its owner unit and a deadline. Public to every port user."""

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=3000)
    field = models.CharField(_("field"), max_length=60, blank=True)
    owner_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    is_open = models.BooleanField(_("open"), default=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("city application scenario")
        verbose_name_plural = _("city application scenarios")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def text(self) -> str:
        return " ".join([self.title, self.field, self.description])


class MatchState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    SENT = "sent", _("Sent to both sides")
    CONNECTED = "connected", _("Connected")
    DECLINED = "declined", _("Declined")


class Match(models.Model):
    """An offer matched with another enterprise's need, or with a city scenario, by text similarity
    (`score`, the shared key `terms` are the reason). Lifecycle: `port.machines.MATCH`."""

    offer = models.ForeignKey(
        CooperationItem, verbose_name=_("offer"), on_delete=models.PROTECT, related_name="offer_matches"
    )
    need = models.ForeignKey(
        CooperationItem,
        verbose_name=_("need"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="need_matches",
    )
    scenario = models.ForeignKey(
        Scenario,
        verbose_name=_("scenario"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="matches",
    )
    score = models.FloatField(_("similarity"))
    terms = models.JSONField(_("shared key terms"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=MatchState.choices, default=MatchState.PROPOSED
    )
    offer_answer = models.CharField(_("offer side's answer"), max_length=8, blank=True)
    other_answer = models.CharField(_("other side's answer"), max_length=8, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Scope:
        unit_fields = ("offer__enterprise__street", "need__enterprise__street", "scenario__owner_unit")
        owner_fields = (
            "offer__enterprise__manager",
            "offer__enterprise__members",
            "need__enterprise__manager",
            "need__enterprise__members",
        )

    class Meta:
        verbose_name = _("cooperation match")
        verbose_name_plural = _("cooperation matches")
        ordering = ["-score", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "need"], name="match_offer_need_unique"),
            models.UniqueConstraint(fields=["offer", "scenario"], name="match_offer_scenario_unique"),
            models.CheckConstraint(
                condition=(models.Q(need__isnull=True) & models.Q(scenario__isnull=False))
                | (models.Q(need__isnull=False) & models.Q(scenario__isnull=True)),
                name="match_need_or_scenario",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer.title} ↔ {self.other_title}"

    @property
    def other_title(self) -> str:
        return self.need.title if self.need_id else self.scenario.title

    # set by the service before the machine is asked (which side answers); read by the guards
    pending_side = ""


class MatchEvent(TimelineEvent):
    match = models.ForeignKey(Match, verbose_name=_("match"), on_delete=models.PROTECT, related_name="events")

    Scope = scope.through("match")

    class Meta:
        verbose_name = _("match event")
        verbose_name_plural = _("match events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.match_id} {self.action}"


# --- 意见建议清单: suggestions with a responsible unit, a response and a deadline ---------------


class SuggestionState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ASSIGNED = "assigned", _("Assigned")
    RESPONDED = "responded", _("Responded")
    CLOSED = "closed", _("Closed")


class Suggestion(models.Model):
    """An enterprise's opinion or suggestion (意见建议); lifecycle `port.machines.SUGGESTION`."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="suggestions"
    )
    title = models.CharField(_("title"), max_length=120)
    content = models.TextField(_("content"), max_length=5000)
    state = models.CharField(
        _("state"), max_length=10, choices=SuggestionState.choices, default=SuggestionState.SUBMITTED
    )
    responsible_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("responsible unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    response = models.TextField(_("response"), max_length=5000, blank=True)
    response_due = models.DateTimeField(_("response due"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    is_overdue = models.BooleanField(_("overdue"), default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    version = models.PositiveIntegerField(_("version"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        unit_fields = ("responsible_unit", "enterprise__street")
        owner_fields = ("enterprise__manager", "enterprise__members")

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return self.title


class SuggestionEvent(TimelineEvent):
    suggestion = models.ForeignKey(
        Suggestion, verbose_name=_("suggestion"), on_delete=models.PROTECT, related_name="events"
    )
    from_state = models.CharField(_("from state"), max_length=10, blank=True)
    to_state = models.CharField(_("to state"), max_length=10, blank=True)

    Scope = scope.through("suggestion")

    class Meta:
        verbose_name = _("suggestion event")
        verbose_name_plural = _("suggestion events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.suggestion_id} {self.action}"


# --- 惠企政策 / 免申即享: policies with structured criteria and their fulfilment ----------------


class Policy(models.Model):
    """A policy with structured eligibility: an empty criterion admits every enterprise; flags
    must all hold; `industries` match by substring of the enterprise's industry."""

    title = models.CharField(_("title"), max_length=160)
    issuer = models.CharField(_("issuer"), max_length=120)
    summary = models.TextField(_("summary"), max_length=3000, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    sizes = models.JSONField(_("sizes"), default=list, blank=True)
    zones = models.JSONField(_("functional zones"), default=list, blank=True)
    flags = models.JSONField(_("required flags"), default=list, blank=True)
    amount = models.DecimalField(
        _("amount per enterprise (10,000 yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    without_application = models.BooleanField(_("granted without application (免申即享)"), default=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # thresholds on the enterprise's figures (inclusive; empty: no threshold)
    min_employees = models.PositiveIntegerField(_("employees at least"), null=True, blank=True)
    max_employees = models.PositiveIntegerField(_("employees at most"), null=True, blank=True)
    min_revenue = models.DecimalField(
        _("annual revenue at least (10,000 yuan)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    max_revenue = models.DecimalField(
        _("annual revenue at most (10,000 yuan)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    def clean(self):
        super().clean()
        errors = {}
        for low, high in (("min_employees", "max_employees"), ("min_revenue", "max_revenue")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                errors[high] = _("The upper bound is below the lower bound.")
        if errors:
            raise ValidationError(errors)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class GrantState(models.TextChoices):
    MATCHED = "matched", _("Matched")
    NOTIFIED = "notified", _("Notified")
    APPLIED = "applied", _("Applied")
    GRANTED = "granted", _("Granted")
    PAID = "paid", _("Paid")


class PolicyGrant(models.Model):
    """One enterprise's fulfilment of one policy: matched → notified → applied (or granted without
    application) → granted → paid, with amounts and dates (`port.machines.GRANT`)."""

    policy = models.ForeignKey(
        Policy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="grants"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="policy_grants"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=GrantState.choices, default=GrantState.MATCHED
    )
    reasons = models.JSONField(_("why eligible"), default=list, blank=True)
    amount = models.DecimalField(
        _("amount (10,000 yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    matched_on = models.DateField(_("matched on"))
    notified_on = models.DateField(_("notified on"), null=True, blank=True)
    applied_on = models.DateField(_("applied on"), null=True, blank=True)
    granted_on = models.DateField(_("granted on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)

    Scope = scope.through("enterprise")

    class Meta:
        verbose_name = _("policy grant")
        verbose_name_plural = _("policy grants")
        ordering = ["policy", "enterprise__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "enterprise"], name="policy_grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} · {self.enterprise}"


# --- 一码检查 / 无事不扰: inspections registered against the enterprise code -----------------------


class InspectorCertificate(models.Model):
    """A law-enforcement certificate (执法证): only its holder, on a day it is valid, may inspect."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder"),
        on_delete=models.PROTECT,
        related_name="inspector_certificates",
        limit_choices_to={"role": roles.Role.INSPECTOR},
    )
    number = models.CharField(_("certificate number"), max_length=40, unique=True)
    issued_by = models.CharField(_("issued by"), max_length=80, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    revoked = models.BooleanField(_("revoked"), default=False)

    class Scope:
        unit_fields = ("user__unit",)
        owner_fields = ("user",)

    class Meta:
        verbose_name = _("law-enforcement certificate")
        verbose_name_plural = _("law-enforcement certificates")
        ordering = ["user", "-valid_until", "id"]

    def __str__(self) -> str:
        return self.number

    def clean(self):
        super().clean()
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("A certificate ends after it starts.")})
        if self.user_id and not roles.may_inspect(self.user):
            raise ValidationError(
                {"user": _("Only inspectors above community level hold a law-enforcement certificate.")}
            )

    def valid_on(self, day) -> bool:
        return not self.revoked and self.valid_from <= day <= self.valid_until


class InspectionPlan(models.Model):
    """One row of a department's annual inspection plan: this enterprise, this month, these items."""

    department = models.ForeignKey(
        OrgUnit, verbose_name=_("department"), on_delete=models.PROTECT, related_name="inspection_plans"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="inspection_plans"
    )
    items = models.CharField(_("inspection items"), max_length=300)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        unit_fields = ("department",)

    class Meta:
        verbose_name = _("inspection plan item")
        verbose_name_plural = _("inspection plan items")
        ordering = ["year", "month", "department", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "year", "month", "enterprise"], name="inspection_plan_once_a_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.enterprise_id} {self.items}"


class JointVisit(models.Model):
    """进一次门、查多项事: the inspections of one enterprise by several departments in one period,
    made in one visit (the first one's window)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="joint_visits"
    )
    planned_from = models.DateTimeField(_("planned from"))
    planned_until = models.DateTimeField(_("planned until"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    Scope = scope.through("enterprise")

    class Meta:
        verbose_name = _("joint visit")
        verbose_name_plural = _("joint visits")
        ordering = ["-planned_from", "id"]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.planned_from:%Y-%m-%d}"


class InspectionState(models.TextChoices):
    NEW = "new", _("Not registered")
    REGISTERED = "registered", _("Registered")
    IN_PROGRESS = "in_progress", _("In progress")
    RECORDED = "recorded", _("Result recorded")
    RECTIFYING = "rectifying", _("Rectification (整改)")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUSED = "refused", _("Refused")


class Trigger(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    REFERRAL = "referral", _("Referral")
    RISK = "risk", _("Risk signal")


class Result(models.TextChoices):
    NO_FINDINGS = "no_findings", _("No findings")
    FINDINGS = "findings", _("Findings")


class Inspection(models.Model):
    """An inspection (一码检查), registered against the enterprise code before it starts; its state
    moves only through `port.inspections` (the `port.inspection_workflow.INSPECTION` machine)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="inspections"
    )
    department = models.ForeignKey(
        OrgUnit, verbose_name=_("department"), on_delete=models.PROTECT, related_name="inspections"
    )
    certificates = models.ManyToManyField(
        InspectorCertificate, verbose_name=_("inspectors' certificates"), related_name="inspections"
    )
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    items = models.CharField(_("inspection items"), max_length=300)
    plan = models.ForeignKey(
        InspectionPlan,
        verbose_name=_("plan item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, blank=True)
    trigger_ref = models.CharField(_("trigger source"), max_length=60, blank=True)
    trigger_demand = models.ForeignKey(
        "demands.Demand",
        verbose_name=_("triggering demand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    planned_from = models.DateTimeField(_("planned from"))
    planned_until = models.DateTimeField(_("planned until"))
    joint = models.ForeignKey(
        JointVisit,
        verbose_name=_("joint visit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    state = models.CharField(
        _("state"), max_length=12, choices=InspectionState.choices, default=InspectionState.NEW
    )
    refused_rule = models.CharField(_("refused by rule"), max_length=40, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True)
    findings = models.TextField(_("findings"), max_length=3000, blank=True)
    needs_rectification = models.BooleanField(_("needs rectification (整改)"), default=False)
    rectification_due = models.DateField(_("rectify by"), null=True, blank=True)
    # set by tasks.flag_overdue_rectifications once the deadline passed while rectifying
    rectification_overdue = models.BooleanField(_("rectification overdue"), default=False)
    rechecked_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)
    rectified_on_time = models.BooleanField(_("rectified on time"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating (1–5)"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    version = models.PositiveIntegerField(_("version"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        # the department that inspects; the enterprise's own accounts and its service manager
        unit_fields = ("department",)
        owner_fields = ("enterprise__members", "enterprise__manager", "certificates__user")

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-planned_from", "-id"]
        indexes = [models.Index(fields=["enterprise", "planned_from"], name="inspection_ent_from_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} · {self.department_id} · {self.planned_from:%Y-%m-%d}"

    @property
    def is_planned(self) -> bool:
        return self.plan_id is not None and not self.trigger

    # set by the service before the machine is asked; read by the guards
    facts = None


class InspectionEvent(TimelineEvent):
    """An inspection's history (registered, refused, started, result, rectification, re-check,
    closed, rated): published as the "inspections" stream."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.PROTECT, related_name="events"
    )
    from_state = models.CharField(_("from state"), max_length=12, choices=InspectionState.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=12, choices=InspectionState.choices, blank=True)

    Scope = scope.through("inspection")

    class Meta:
        verbose_name = _("inspection event")
        verbose_name_plural = _("inspection events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
