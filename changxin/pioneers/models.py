"""先锋者: party organisations hung off the org units, members, the 发展党员 pipeline and the points ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from changxin.core import scope
from changxin.core.privacy import mask_id_number, mask_phone
from changxin.core.scope import ScopedQuerySet


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Party committee (党委)")
    GENERAL_BRANCH = "general_branch", _("General branch (党总支)")
    BRANCH = "branch", _("Branch (党支部)")


class OrgField(models.TextChoices):
    ORGAN = "organ", _("Government organ (机关)")
    COMMUNITY = "community", _("Community (社区)")
    RURAL = "rural", _("Rural (农村)")
    ENTERPRISE = "enterprise", _("Enterprise (企业)")
    NEW_SECTORS = "new_sectors", _("New economic and social organisations (两新)")
    BUILDING = "building", _("Office building (楼宇)")
    PARK = "park", _("Industrial park (园区)")
    CHAIN = "chain", _("Industrial chain (产业链)")


class PartyOrganisation(models.Model):
    """A 党委 / 党总支 / 党支部, hung off the org unit it belongs to.

    `path` is the materialised path of ids ("/3/17/42/"), so a subtree is one prefix query, as for
    OrgUnit. Scope: district-wide roles see all; party staff see the organisations hung off their
    unit's subtree (PioneersConfig.ready registers that rule); a branch secretary sees their own.
    """

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=OrgKind.choices)
    field = models.CharField(_("field"), max_length=16, choices=OrgField.choices)
    unit = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.PROTECT,
        related_name="party_organisations",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("tree path"), max_length=255, db_index=True, editable=False, blank=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        owner_fields = (("members__user", {"members__is_secretary": True}),)

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        with transaction.atomic():
            if self.pk is None:
                super().save(*args, **kwargs)
                kwargs = {}
            old_path = self.path
            self.path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
            self.depth = self.path.count("/") - 2
            super().save(update_fields=["path", "depth"] if not kwargs else None, **kwargs)
            if old_path and old_path != self.path:
                for child in PartyOrganisation.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                    child.path = self.path + child.path[len(old_path) :]
                    child.depth = child.path.count("/") - 2
                    child.save(update_fields=["path", "depth"])

    def subtree(self) -> models.QuerySet:
        """This organisation and every one under it (one prefix query on the path)."""
        return PartyOrganisation.objects.filter(path__startswith=self.path)


class MemberStatus(models.TextChoices):
    FULL = "full", _("Full member (正式党员)")
    PROBATIONARY = "probationary", _("Probationary member (预备党员)")


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")


class PartyMember(models.Model):
    """A party member of one organisation. The ID number and phone are personal data: shown masked,
    unmasked only to those who need them (services.may_unmask), and every unmasking is audited."""

    name = models.CharField(_("name"), max_length=60)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=MemberStatus.choices)
    organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="members"
    )
    joined_on = models.DateField(_("joined the party on"), null=True, blank=True)
    posts = models.CharField(
        _("posts"), max_length=200, blank=True, help_text=_("Party posts, e.g. 支部书记.")
    )
    is_secretary = models.BooleanField(_("branch secretary"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_member",
    )
    areas = models.ManyToManyField(
        "core.OrgUnit",
        verbose_name=_("responsibility areas (责任区)"),
        blank=True,
        related_name="responsible_members",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    # seen with their organisation (party staff, the branch secretary), and by the member themselves
    Scope = scope.through("organisation", owner_fields=("user",))

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["organisation__path", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=~models.Q(id_number=""), name="party_member_id_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


# --- 发展党员: the development pipeline ----------------------------------------------------------


class Stage(models.TextChoices):
    APPLICANT = "applicant", _("Applicant (入党申请人)")
    ACTIVIST = "activist", _("Activist (入党积极分子)")
    TARGET = "target", _("Development target (发展对象)")
    PROBATIONARY = "probationary", _("Probationary member (预备党员)")
    FULL = "full", _("Full member (正式党员)")
    CANCELLED = "cancelled", _("Probation cancelled")


class RecordKind(models.TextChoices):
    """The dated records the statutory steps require (RULES.md, 发展党员)."""

    TALK = "talk", _("Talk with the applicant (谈话)")
    TRAINING = "training", _("Activist training and observation (培养考察)")
    POLITICAL_REVIEW = "political_review", _("Political review (政治审查)")
    CENTRAL_TRAINING = "central_training", _("Centralised training (集中培训)")
    SPONSOR = "sponsor", _("Sponsor (入党介绍人)")
    PUBLIC_NOTICE = "public_notice", _("Public notice (公示)")
    BRANCH_VOTE = "branch_vote", _("Branch meeting vote (支部大会讨论)")
    SUPERIOR_APPROVAL = "superior_approval", _("Approval by the higher committee (上级党委审批)")
    CONFIRMATION_VOTE = "confirmation_vote", _("Branch vote at the end of probation (转正讨论)")


class DevelopmentCase(models.Model):
    """One person's way from application to full membership. The stage changes only through
    pipeline.services.take_step (the workflow machine pipeline.MACHINE, its guards are the rules)."""

    organisation = models.ForeignKey(
        PartyOrganisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="development_cases",
    )
    name = models.CharField(_("name"), max_length=60)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"))
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.APPLICANT)
    applied_on = models.DateField(_("applied on"))
    activist_on = models.DateField(_("activist since"), null=True, blank=True)
    target_on = models.DateField(_("development target since"), null=True, blank=True)
    probationary_on = models.DateField(_("probation from"), null=True, blank=True)
    probation_ends_on = models.DateField(_("probation ends on"), null=True, blank=True)
    extended = models.BooleanField(_("probation extended"), default=False)
    full_on = models.DateField(_("full member since"), null=True, blank=True)
    member = models.OneToOneField(
        PartyMember,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="development_case",
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    Scope = scope.through("organisation")

    class Meta:
        verbose_name = _("development case")
        verbose_name_plural = _("development cases")
        ordering = ["organisation__path", "applied_on", "id"]

    def __str__(self) -> str:
        return f"{self.name} · {self.get_stage_display()}"

    # the records the guards read; prefetch "records" on lists
    def records_of(self, kind: str) -> list[DevelopmentRecord]:
        return sorted((r for r in self.records.all() if r.kind == kind), key=lambda r: (r.on, r.pk))


class DevelopmentRecord(models.Model):
    """A dated record of the pipeline: a talk, training, review, notice, vote, approval, a sponsor."""

    case = models.ForeignKey(
        DevelopmentCase, verbose_name=_("development case"), on_delete=models.PROTECT, related_name="records"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RecordKind.choices)
    on = models.DateField(_("date"))
    until = models.DateField(_("until"), null=True, blank=True, help_text=_("End of a public notice."))
    sponsor = models.ForeignKey(
        PartyMember,
        verbose_name=_("sponsor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sponsored_records",
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    Scope = scope.through("case")

    class Meta:
        verbose_name = _("development record")
        verbose_name_plural = _("development records")
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on}"


class PipelineEvent(models.Model):
    """One row per pipeline change (a step or a record): the published stream "pipeline"."""

    case = models.ForeignKey(
        DevelopmentCase, verbose_name=_("development case"), on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, db_index=True)
    from_stage = models.CharField(_("from stage"), max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=16, choices=Stage.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    Scope = scope.through("case")

    class Meta:
        verbose_name = _("pipeline event")
        verbose_name_plural = _("pipeline events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d}"


# --- 先锋者上: the points ledger ----------------------------------------------------------------


class VanguardKind(models.TextChoices):
    """The seed's four kinds of vanguard."""

    REFORM = "reform", _("Reform and innovation (改革创新)")
    HARDSHIP = "hardship", _("Tackling hard problems (攻坚克难)")
    SERVICE = "service", _("Serving the people (服务群众)")
    INTEGRITY = "integrity", _("Integrity (廉洁奉公)")


class PointRule(models.Model):
    """A configurable rule: points for an event of a stream whose payload matches `match`."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("vanguard kind"), max_length=16, choices=VanguardKind.choices)
    stream = models.CharField(_("event stream"), max_length=50, default="demands")
    action = models.CharField(_("event action"), max_length=32)
    match = models.JSONField(_("payload must match"), default=dict, blank=True)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=1)
    is_active = models.BooleanField(_("active"), default=True)

    class Scope:
        district_roles = None  # every district role reads the rules

    class Meta:
        verbose_name = _("point rule")
        verbose_name_plural = _("point rules")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.points:+})"

    def applies_to(self, action: str, data: dict) -> bool:
        return self.action == action and all(data.get(k) == v for k, v in (self.match or {}).items())


class PointEntry(models.Model):
    """One line of a member's ledger. Never typed by hand: written by the subscriber from a published
    event (source_stream + source_event_id) or by an approved adjustment (source_stream "adjustments")."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="point_entries"
    )
    rule = models.ForeignKey(
        PointRule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("vanguard kind"), max_length=16, choices=VanguardKind.choices)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=1)
    at = models.DateTimeField(_("time"), db_index=True)
    year = models.PositiveSmallIntegerField(_("year"), db_index=True)
    source_stream = models.CharField(_("source stream"), max_length=50)
    source_event_id = models.BigIntegerField(_("source event id"))
    demand = models.ForeignKey(
        "demands.Demand",
        verbose_name=_("demand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("point entry")
        verbose_name_plural = _("point entries")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "rule", "source_stream", "source_event_id"],
                name="point_entry_once_per_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.points:+} ({self.source_stream}:{self.source_event_id})"


class PointTotal(models.Model):
    """A member's cached total for a year: only points.services.recompute_total writes it."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.CASCADE, related_name="point_totals"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    total = models.DecimalField(_("total"), max_digits=8, decimal_places=1, default=0)
    entries = models.PositiveIntegerField(_("entries"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("yearly points total")
        verbose_name_plural = _("yearly points totals")
        ordering = ["-year", "-total"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="point_total_once_per_year")]

    def __str__(self) -> str:
        return f"{self.member} {self.year}: {self.total}"


class AdjustmentState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class PointAdjustment(models.Model):
    """A manual adjustment: a reason, a requester, and an approver (party staff) before it counts."""

    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="point_adjustments",
    )
    kind = models.CharField(_("vanguard kind"), max_length=16, choices=VanguardKind.choices)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=1)
    reason = models.CharField(_("reason"), max_length=200)
    state = models.CharField(
        _("state"), max_length=10, choices=AdjustmentState.choices, default=AdjustmentState.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("points adjustment")
        verbose_name_plural = _("points adjustments")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member} {self.points:+} ({self.get_state_display()})"
