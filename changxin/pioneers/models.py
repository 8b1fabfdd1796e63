"""先锋者: party organisations hung off the org units, members, the 发展党员 pipeline and the points ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from changxin.core import scope
from changxin.core.models import TimelineEvent
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


class PipelineEvent(TimelineEvent):
    """One row per pipeline change (a step or a record): the published stream "pipeline"."""

    case = models.ForeignKey(
        DevelopmentCase, verbose_name=_("development case"), on_delete=models.PROTECT, related_name="events"
    )
    from_stage = models.CharField(_("from stage"), max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=16, choices=Stage.choices, blank=True)

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


# --- 支部生活: 三会一课, 主题党日, 组织生活会, 民主评议党员 (branch_life.py) -----------------------


class MeetingKind(models.TextChoices):
    """The meetings of branch life (RULES.md, "Branch life, dues and transfers")."""

    ASSEMBLY = "assembly", _("Branch members' meeting (支部党员大会)")
    COMMITTEE = "committee", _("Branch committee meeting (支委会)")
    GROUP = "group", _("Party group meeting (党小组会)")
    LECTURE = "lecture", _("Party lecture (党课)")
    THEME_DAY = "theme_day", _("Theme party day (主题党日)")
    LIFE_MEETING = "life_meeting", _("Organisational life meeting (组织生活会)")
    APPRAISAL = "appraisal", _("Democratic appraisal of members (民主评议党员)")


class Meeting(models.Model):
    """One meeting of a branch: date, kind, topic, minutes; its attendance rows say who was there
    (and why the absent were absent). Written by branch_life.record_meeting only."""

    organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="meetings"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MeetingKind.choices)
    held_on = models.DateField(_("held on"), db_index=True)
    topic = models.CharField(_("topic"), max_length=200)
    minutes = models.TextField(_("minutes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    Scope = scope.through("organisation")

    class Meta:
        verbose_name = _("branch meeting")
        verbose_name_plural = _("branch meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on} {self.topic}"


class Attendance(models.Model):
    """A member at a meeting: present, or absent with the reason."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attendance"
    )
    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="attendance"
    )
    present = models.BooleanField(_("present"), default=True)
    absence_reason = models.CharField(_("reason for absence"), max_length=200, blank=True)

    Scope = scope.through("meeting", owner_fields=("member__user",))

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "member__name", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.member} {'✓' if self.present else '✗'}"


class AppraisalRating(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent (优秀)")
    QUALIFIED = "qualified", _("Qualified (合格)")
    BASIC = "basic", _("Basically qualified (基本合格)")
    UNQUALIFIED = "unqualified", _("Unqualified (不合格)")


class Appraisal(models.Model):
    """A member's rating at the yearly 民主评议党员 meeting."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="appraisals"
    )
    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="appraisals"
    )
    rating = models.CharField(_("rating"), max_length=12, choices=AppraisalRating.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    Scope = scope.through("meeting", owner_fields=("member__user",))

    class Meta:
        verbose_name = _("appraisal rating")
        verbose_name_plural = _("appraisal ratings")
        ordering = ["meeting", "member__name", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="appraisal_once")]

    def __str__(self) -> str:
        return f"{self.member} {self.get_rating_display()}"


# --- 党费 (dues.py) ------------------------------------------------------------------------------


class DuesCategory(models.TextChoices):
    WAGE = "wage", _("On wages (在职)")
    RETIRED = "retired", _("Retired (离退休)")
    LOW = "low", _("Without wages or on low income (学生、无工资收入、低保等)")


class DuesBase(models.Model):
    """A member's dues base for a year: the category, the after-tax monthly income and the monthly
    amount the brackets give (computed by dues.compute_monthly, stored so a later change of the
    brackets does not rewrite the past)."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="dues_bases"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    category = models.CharField(_("category"), max_length=8, choices=DuesCategory.choices)
    monthly_income = models.DecimalField(_("after-tax monthly income"), max_digits=10, decimal_places=2)
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    monthly_due = models.DecimalField(_("monthly dues"), max_digits=8, decimal_places=2)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set at"), auto_now=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("dues base")
        verbose_name_plural = _("dues bases")
        ordering = ["-year", "member__name"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="dues_base_once_per_year")]

    def __str__(self) -> str:
        return f"{self.member} {self.year}"  # no amount: with the name, the dues give the income away


class DuesPayment(models.Model):
    """One month's dues paid by a member."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="dues_payments"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month paid for."))
    amount = models.DecimalField(_("amount"), max_digits=8, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("dues payment")
        verbose_name_plural = _("dues payments")
        ordering = ["-month", "member__name"]
        constraints = [models.UniqueConstraint(fields=["member", "month"], name="dues_paid_once_per_month")]

    def __str__(self) -> str:
        return f"{self.member} {self.month:%Y-%m}"  # no amount, as DuesBase


# --- 组织关系转接 (transfers.py) --------------------------------------------------------------------


class TransferState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Letter issued")
    RECEIVED = "received", _("Received")
    RETURNED = "returned", _("Returned")


class Transfer(models.Model):
    """A member's move from one organisation to another (组织关系转接): the sending organisation's
    outgoing letter (number, date) and the receiving organisation's confirmation (date). Until it is
    confirmed the member stays with the old organisation. Changes only through transfers.apply."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="transfers"
    )
    from_organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("from"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("to"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=TransferState.choices, default=TransferState.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    requested_on = models.DateField(_("requested on"))
    letter_number = models.CharField(_("letter number"), max_length=40, blank=True)
    letter_issued_on = models.DateField(_("letter issued on"), null=True, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    # seen by the sending side (its party staff and secretary), the receiving side (PioneersConfig
    # widens it with the same rule on to_organisation) and the member
    Scope = scope.through(
        "from_organisation",
        owner_fields=(
            ("to_organisation__members__user", {"to_organisation__members__is_secretary": True}),
            "member__user",
        ),
    )

    class Meta:
        verbose_name = _("membership transfer")
        verbose_name_plural = _("membership transfers")
        ordering = ["-requested_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(state__in=["requested", "issued"]),
                name="transfer_one_open_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_organisation} → {self.to_organisation}"


class TransferEvent(TimelineEvent):
    """The transfer timeline: the published stream "transfers"."""

    transfer = models.ForeignKey(
        Transfer, verbose_name=_("transfer"), on_delete=models.PROTECT, related_name="events"
    )
    from_state = models.CharField(_("from state"), max_length=10, blank=True)
    to_state = models.CharField(_("to state"), max_length=10, blank=True)

    Scope = scope.through("transfer")

    class Meta:
        verbose_name = _("transfer event")
        verbose_name_plural = _("transfer events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.transfer_id} {self.action} {self.at:%Y-%m-%d}"


# --- 志愿先锋 (volunteering.py) ----------------------------------------------------------------------


class ActivityState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")


class VolunteerActivity(models.Model):
    """A volunteer activity an organisation publishes: place, time window, capacity and the hours a
    check-in credits. Published activities are open to every party member with a login."""

    organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="activities"
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("capacity"))
    hours = models.DecimalField(_("volunteer hours credited"), max_digits=4, decimal_places=1)
    state = models.CharField(
        _("state"), max_length=10, choices=ActivityState.choices, default=ActivityState.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    Scope = scope.through("organisation")

    class Meta:
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.title


class VolunteerSignup(models.Model):
    """A member signed up for an activity; `checked_in_at` once they checked in at the place."""

    activity = models.ForeignKey(
        VolunteerActivity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="signups"
    )
    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="volunteer_signups",
    )
    signed_up_at = models.DateTimeField(_("signed up at"))
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)

    # the member's organisation (party staff, the secretary) and the member themselves
    Scope = scope.through("member")

    class Meta:
        verbose_name = _("volunteer sign-up")
        verbose_name_plural = _("volunteer sign-ups")
        ordering = ["signed_up_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "member"], name="signup_once")]

    def __str__(self) -> str:
        return f"{self.member} @ {self.activity}"


class VolunteerEvent(TimelineEvent):
    """The volunteering timeline: the published stream "volunteering". A check-in event is the
    source of the member's volunteer-hours point entry."""

    activity = models.ForeignKey(
        VolunteerActivity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="events"
    )
    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    note = None  # a check-in carries no note

    Scope = scope.through("activity", owner_fields=("member__user",))

    class Meta:
        verbose_name = _("volunteer event")
        verbose_name_plural = _("volunteer events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.action} {self.at:%Y-%m-%d}"


# --- 承诺践诺: yearly commitments, progress, evaluation, the public wall --------------------------


class CommitmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLIC = "public", _("Public")
    KEPT = "kept", _("Kept")
    NOT_KEPT = "not_kept", _("Not kept")


class Commitment(models.Model):
    """A member's public commitment for a year (承诺), its progress and its evaluation (践诺): rated
    by the organisation (1–5) and by residents on the community's public wall."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="commitments"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("commitment"), max_length=80)
    content = models.TextField(_("what I will do"))
    community = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="commitments",
        help_text=_("The community whose public wall shows it."),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CommitmentState.choices, default=CommitmentState.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    org_rating = models.PositiveSmallIntegerField(_("organisation's rating"), null=True, blank=True)
    evaluation = models.CharField(_("evaluation"), max_length=200, blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["-year", "id"]
        indexes = [models.Index(fields=["community", "year", "state"], name="commitment_wall_idx")]

    def __str__(self) -> str:
        return self.title


class CommitmentProgress(models.Model):
    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.PROTECT, related_name="progress"
    )
    on = models.DateField(_("date"))
    text = models.CharField(_("progress"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    Scope = scope.through("commitment")

    class Meta:
        verbose_name = _("commitment progress")
        verbose_name_plural = _("commitment progress")
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.on} {self.text[:30]}"


class ResidentRating(models.Model):
    """A resident's rating of a public commitment on the wall: once per account."""

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.PROTECT, related_name="resident_ratings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="+"
    )
    stars = models.PositiveSmallIntegerField(_("stars"))
    at = models.DateTimeField(_("time"))

    Scope = scope.through("commitment")

    class Meta:
        verbose_name = _("resident rating")
        verbose_name_plural = _("resident ratings")
        constraints = [
            models.UniqueConstraint(fields=["commitment", "user"], name="resident_rating_once"),
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="resident_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commitment_id} {self.stars}★"


class CommitmentEvent(TimelineEvent):
    """One row per change of a commitment: the published stream "commitments" (the ledger credits
    a kept commitment from its "keep" event)."""

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.PROTECT, related_name="events"
    )
    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(_("from state"), max_length=10, blank=True)
    to_state = models.CharField(_("to state"), max_length=10, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    Scope = scope.through("commitment")

    class Meta:
        verbose_name = _("commitment event")
        verbose_name_plural = _("commitment events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.commitment_id} {self.action} {self.at:%Y-%m-%d}"


# --- 容错纠错: relief from a penalty, decided by party staff -------------------------------------


class ReliefState(models.TextChoices):
    APPLIED = "applied", _("Applied")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ReliefApplication(models.Model):
    """A member's 容错纠错 application against one penalty entry of the ledger. Granted, it cancels the
    penalty with a counter-entry whose source is this application; refused, the penalty stands."""

    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="relief_applications",
    )
    penalty = models.OneToOneField(
        PointEntry, verbose_name=_("penalty"), on_delete=models.PROTECT, related_name="relief"
    )
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=10, choices=ReliefState.choices, default=ReliefState.APPLIED
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("applied at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=300, blank=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("relief application (容错纠错)")
        verbose_name_plural = _("relief applications (容错纠错)")
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member} {self.penalty.points} ({self.get_state_display()})"


# --- 先锋岗: vanguard posts at service stations and windows ------------------------------------------


class VanguardPost(models.Model):
    """A 先锋岗 at a service station or window (its place an org unit), the members on duty there
    and the period; kept by party staff over the organisation or its secretary."""

    organisation = models.ForeignKey(
        PartyOrganisation,
        verbose_name=_("party organisation"),
        on_delete=models.PROTECT,
        related_name="posts",
    )
    name = models.CharField(_("post"), max_length=80)
    place = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("place"),
        on_delete=models.PROTECT,
        related_name="vanguard_posts",
        help_text=_("The service station or window's unit."),
    )
    window = models.CharField(_("station or window"), max_length=80, blank=True)
    members = models.ManyToManyField(
        PartyMember, verbose_name=_("members on duty"), related_name="vanguard_posts", blank=True
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    Scope = scope.through("organisation")

    class Meta:
        verbose_name = _("vanguard post (先锋岗)")
        verbose_name_plural = _("vanguard posts (先锋岗)")
        ordering = ["-starts_on", "name", "id"]

    def __str__(self) -> str:
        return self.name


# --- 先锋者荣: honours nominated from the ranking ------------------------------------------------------


class HonourState(models.TextChoices):
    NOMINATED = "nominated", _("Nominated")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")


class Honour(models.Model):
    """A member's honour for a year (先锋者荣): nominated from the yearly ranking of their
    organisation (top N only), approved by other party staff, published on the public honour roll."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="honours"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("honour"), max_length=60)
    citation = models.CharField(_("citation"), max_length=300, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank at nomination"))
    points = models.DecimalField(_("points at nomination"), max_digits=8, decimal_places=1)
    state = models.CharField(
        _("state"), max_length=10, choices=HonourState.choices, default=HonourState.NOMINATED
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("nominated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    nominated_at = models.DateTimeField(_("nominated at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    Scope = scope.through("member")

    class Meta:
        verbose_name = _("honour (先锋者荣)")
        verbose_name_plural = _("honours (先锋者荣)")
        ordering = ["-year", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="honour_once_a_year")]
        indexes = [models.Index(fields=["year", "state"], name="honour_roll_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.title}"


class HonourEvent(TimelineEvent):
    """One row per change of an honour: the published stream "honours"."""

    honour = models.ForeignKey(
        Honour, verbose_name=_("honour"), on_delete=models.PROTECT, related_name="events"
    )
    from_state = models.CharField(_("from state"), max_length=10, blank=True)
    to_state = models.CharField(_("to state"), max_length=10, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    Scope = scope.through("honour")

    class Meta:
        verbose_name = _("honour event")
        verbose_name_plural = _("honour events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.honour_id} {self.action} {self.at:%Y-%m-%d}"


# --- 先锋者说: sharing sessions ----------------------------------------------------------------------


class SharingSession(models.Model):
    """A 先锋者说 sharing session: date, topic, speakers, the members present and a summary."""

    organisation = models.ForeignKey(
        PartyOrganisation,
        verbose_name=_("party organisation"),
        on_delete=models.PROTECT,
        related_name="sharing_sessions",
    )
    held_on = models.DateField(_("held on"), db_index=True)
    topic = models.CharField(_("topic"), max_length=200)
    speakers = models.ManyToManyField(PartyMember, verbose_name=_("speakers"), related_name="talks")
    attendees = models.ManyToManyField(
        PartyMember, verbose_name=_("members present"), related_name="sharing_attended", blank=True
    )
    summary = models.TextField(_("summary"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    Scope = scope.through("organisation")

    class Meta:
        verbose_name = _("sharing session (先锋者说)")
        verbose_name_plural = _("sharing sessions (先锋者说)")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on} {self.topic}"
