"""一码检查 / 无事不扰: the rules, the one writer of inspections (their machine is
`port.inspection_workflow.INSPECTION`), the scoped reads and the 无事不扰 report.

Rules (RULES.md, Enterprises), configurable in `settings.CHANGXIN_PORT_INSPECTION_RULES` (merged over
`DEFAULT_RULES`): planned inspection visits per enterprise per year by credit-risk grade (A 1, B 2,
C 4, D no cap; a joint visit counts once; triggered inspections are always allowed and recorded with
their trigger); the period in which several departments' inspections of one enterprise are merged
into one joint visit (a month); the rectification deadline (15 working days).

Every change writes an `InspectionEvent` (published as the "inspections" stream) and an audit row.
A refused registration is kept too (state `refused`, the rule in `refused_rule`): the report counts
them per department.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import audit, roles, workcalendar
from changxin.core import events as bus
from changxin.core.models import AuditAction, OrgUnit, User
from changxin.core.privacy import mask_name
from changxin.core.scope import restrict
from changxin.core.workflow import WorkflowError
from changxin.port.inspection_workflow import DEPARTMENT, ENTERPRISE, INSPECTION, INSPECTOR, Facts
from changxin.port.models import (
    Enterprise,
    Inspection,
    InspectionEvent,
    InspectionPlan,
    InspectionState,
    InspectorCertificate,
    JointVisit,
    Result,
    Trigger,
)

S = InspectionState

DEFAULT_RULES = {
    # planned inspection visits per enterprise per calendar year, by credit-risk grade (None: no cap)
    "caps": {"A": 1, "B": 2, "C": 4, "D": None},
    # several departments' inspections of one enterprise in one calendar month make one joint visit
    "joint_period": "month",
    # working days to rectify a finding (整改) before the re-check (复查)
    "rectification_working_days": 15,
}

# inspections that happened or will happen (not refused, not cancelled)
LIVE = [S.REGISTERED, S.IN_PROGRESS, S.RECORDED, S.RECTIFYING, S.CLOSED]
# what the enterprise's code shows: a visit registered for now, or under way
CURRENT = [S.REGISTERED, S.IN_PROGRESS]


def rules() -> dict:
    configured = getattr(settings, "CHANGXIN_PORT_INSPECTION_RULES", {}) or {}
    merged = {**DEFAULT_RULES, **configured}
    merged["caps"] = {**DEFAULT_RULES["caps"], **configured.get("caps", {})}
    return merged


def cap_for(grade: str) -> int | None:
    return rules()["caps"].get(grade or "B")


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def same_period(a: dt.datetime, b: dt.datetime) -> bool:
    a, b = _local(a), _local(b)
    if rules()["joint_period"] == "year":
        return a.year == b.year
    return (a.year, a.month) == (b.year, b.month)


# --- who -------------------------------------------------------------------------------------------


def may_register(user) -> bool:
    """A user of an inspecting unit (above community level) registers its inspections."""
    return (
        roles.works_in_unit(user)
        and not roles.is_read_only(user)
        and user.role == roles.Role.INSPECTOR
        and not roles.works_at_community_level(user)
    )


def may_use_inspections(user) -> bool:
    """The inspection pages: inspectors, enterprise accounts, service managers, the district roles."""
    if not roles.is_active(user):
        return False
    return roles.is_district_wide(user) or user.role in (
        roles.Role.INSPECTOR,
        roles.Role.ENTERPRISE,
        roles.Role.SERVICE_MANAGER,
    )


def relations(user, inspection: Inspection) -> set[str]:
    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    found = set()
    if roles.works_in_unit(user) and user.unit_id == inspection.department_id and may_register(user):
        found.add(DEPARTMENT)
    if inspection.pk and inspection.certificates.filter(user=user).exists():
        found.add(INSPECTOR)
    if user.role == roles.Role.ENTERPRISE and inspection.enterprise.members.filter(pk=user.pk).exists():
        found.add(ENTERPRISE)
    return found


def actions(user, inspection: Inspection, names=None):
    """The transitions the inspection page offers this user now (table, relation and guards)."""
    offered = INSPECTION.available(inspection, relations(user, inspection))
    return [t for t in offered if names is None or t.name in names]


# --- facts -----------------------------------------------------------------------------------------


def certificate_on(user: User, *days: dt.date) -> InspectorCertificate | None:
    for certificate in user.inspector_certificates.all():
        if all(certificate.valid_on(day) for day in days):
            return certificate
    return None


def _display(user: User) -> str:
    return user.full_name or user.get_username()


def visits_counted(enterprise: Enterprise, year: int, *, exclude: int | None = None) -> set:
    """The planned visits of the enterprise in `year`: one key per joint visit, one per lone
    inspection (only live, planned inspections count)."""
    qs = Inspection.objects.filter(
        enterprise=enterprise, state__in=LIVE, plan__isnull=False, trigger="", planned_from__year=year
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    return {("joint", j) if j else ("lone", pk) for pk, j in qs.values_list("pk", "joint_id")}


def joint_partner(inspection: Inspection) -> Inspection | None:
    """Another department's registered inspection of the enterprise in the same period."""
    candidates = (
        Inspection.objects.filter(enterprise=inspection.enterprise, state=S.REGISTERED)
        .exclude(department=inspection.department)
        .select_related("joint")
        .order_by("planned_from", "id")
    )
    for other in candidates:
        if same_period(other.planned_from, inspection.planned_from):
            return other
    return None


def registration_facts(inspection: Inspection, inspectors, *, join: bool, now: dt.datetime) -> Facts:
    enterprise = inspection.enterprise
    days = (_local(inspection.planned_from).date(), _local(inspection.planned_until).date())
    facts = Facts(grade=enterprise.credit_grade, cap=cap_for(enterprise.credit_grade))
    facts.period = _("the year %(year)s") % {"year": days[0].year}
    facts.not_inspectors = [_display(u) for u in inspectors if not roles.may_inspect(u)]
    facts.without_certificate = [
        _display(u) for u in inspectors if roles.may_inspect(u) and certificate_on(u, *days) is None
    ]
    if not inspectors:
        facts.without_certificate = [_("(no inspector named)")]
    plan = inspection.plan
    facts.plan_mismatch = plan is not None and (
        plan.department_id != inspection.department_id
        or plan.enterprise_id != enterprise.pk
        or plan.year != days[0].year
    )
    facts.window_ok = inspection.planned_until > inspection.planned_from and inspection.planned_until > now
    partner = joint_partner(inspection)
    facts.partner = partner is not None
    facts.joining = facts.partner and join
    counted = visits_counted(enterprise, days[0].year)
    facts.visits_before = len(counted)
    if facts.joining:
        key = ("joint", partner.joint_id) if partner.joint_id else ("lone", partner.pk)
        facts.adds_visit = key not in counted
    return facts


# --- timeline -------------------------------------------------------------------------------------


def _event(inspection, actor, action, from_state, to_state, *, note="", at=None, **data):
    event = InspectionEvent.objects.create(
        inspection=inspection,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if getattr(actor, "is_authenticated", False) else "system")[:150],
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data,
    )
    bus.publish("inspections", event)
    return event


# --- registration ---------------------------------------------------------------------------------


def find_plan(
    department: OrgUnit, enterprise: Enterprise, planned_from: dt.datetime
) -> InspectionPlan | None:
    """The department's plan item for the enterprise in the year: the one of the month first, then
    any not yet used by a live inspection."""
    local = _local(planned_from)
    plans = list(
        InspectionPlan.objects.filter(department=department, enterprise=enterprise, year=local.year)
        .annotate(used=Count("inspections", filter=Q(inspections__state__in=LIVE)))
        .order_by("id")
    )
    plans.sort(key=lambda p: (p.used > 0, p.month != local.month, abs(p.month - local.month)))
    return plans[0] if plans else None


def find_demand(number: str):
    from changxin.demands.selectors import unscoped_demands

    number = (number or "").strip()
    return unscoped_demands().filter(number=number).first() if number else None


def register_inspection(
    enterprise: Enterprise,
    *,
    actor: User,
    inspectors,
    legal_basis: str,
    items: str,
    planned_from: dt.datetime,
    planned_until: dt.datetime,
    trigger: str = "",
    trigger_ref: str = "",
    plan: InspectionPlan | None = None,
    join: bool = True,
    now: dt.datetime | None = None,
) -> Inspection:
    """Register an inspection of the actor's department before it starts, by the 无事不扰 rules (the
    machine's `register` guards). Another department's inspection of the enterprise in the same
    period: this one joins its joint visit (and its window). A refusal is kept (state `refused`,
    the rule's code) and raised as the WorkflowError naming the rule."""
    now = now or timezone.now()
    if not may_register(actor):
        raise PermissionDenied(_("Only inspectors of an inspecting department register inspections."))
    if trigger and trigger not in Trigger.values:
        raise ValidationError({"trigger": _("Choose a trigger.")})
    inspectors = list(inspectors)
    inspection = Inspection(
        enterprise=enterprise,
        department=actor.unit,
        legal_basis=(legal_basis or "").strip(),
        items=(items or "").strip(),
        planned_from=planned_from,
        planned_until=planned_until,
        trigger=trigger,
        trigger_ref=(trigger_ref or "").strip(),
        created_by=actor,
    )
    if trigger:
        inspection.trigger_demand = find_demand(trigger_ref) if trigger == Trigger.COMPLAINT else None
    else:
        inspection.plan = plan or find_plan(actor.unit, enterprise, planned_from)
    inspection.full_clean(exclude=["certificates", "state"])
    with transaction.atomic():
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()  # one registration at a time
        inspection.facts = registration_facts(inspection, inspectors, join=join, now=now)
        try:
            INSPECTION.check("register", inspection, {DEPARTMENT}, now)
        except WorkflowError as refusal:
            refused = refusal
        else:
            refused = None
            if inspection.facts.joining:
                _join(inspection)
            inspection.state = S.REGISTERED
            inspection.save()
            inspection.certificates.set(
                [
                    certificate_on(u, _local(planned_from).date(), _local(planned_until).date())
                    for u in inspectors
                ]
            )
            _event(
                inspection,
                actor,
                "register",
                S.NEW,
                S.REGISTERED,
                at=now,
                planned=inspection.is_planned,
                trigger=inspection.trigger,
                joint=inspection.joint_id,
            )
            audit.record(actor, AuditAction.CREATE, inspection, detail="port.inspection.register")
    if refused is not None:
        _keep_refusal(inspection, inspectors, refused, actor, now)
        raise refused
    return inspection


def _join(inspection: Inspection) -> None:
    partner = joint_partner(inspection)
    joint = partner.joint
    if joint is None:
        joint = JointVisit.objects.create(
            enterprise=inspection.enterprise,
            planned_from=partner.planned_from,
            planned_until=partner.planned_until,
        )
        Inspection.objects.filter(pk=partner.pk).update(joint=joint)
        _event(partner, None, "joint", partner.state, partner.state, joint=joint.pk)
    inspection.joint = joint
    inspection.planned_from, inspection.planned_until = joint.planned_from, joint.planned_until


@transaction.atomic
def _keep_refusal(inspection, inspectors, refusal: WorkflowError, actor, now) -> None:
    inspection.state = S.REFUSED
    inspection.refused_rule = refusal.code
    inspection.joint = None
    inspection.save()
    inspection.certificates.set(
        [c for u in inspectors if roles.may_inspect(u) for c in u.inspector_certificates.all()[:1]]
    )
    _event(
        inspection, actor, "refused", S.NEW, S.REFUSED, note=str(refusal.message), at=now, rule=refusal.code
    )
    audit.record(actor, AuditAction.CREATE, inspection, detail=f"port.inspection.refused: {refusal.code}")


# --- the lifecycle --------------------------------------------------------------------------------


def act(
    inspection: Inspection,
    name: str,
    actor,
    *,
    note: str = "",
    now: dt.datetime | None = None,
    expected_version=None,
    **data: Any,
) -> Inspection:
    """Apply one transition (row lock, table, relation, guards, handler, event, audit)."""
    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        locked = (
            Inspection.objects.select_for_update(of=("self",))
            .select_related("enterprise")
            .get(pk=inspection.pk)
        )
        if expected_version not in (None, "") and str(locked.version) != str(expected_version):
            raise WorkflowError(
                "stale", _("Someone else changed this inspection a moment ago. Reload it and try again.")
            )
        step = INSPECTION.get(name)
        if step.needs_note and not note:
            raise WorkflowError("note_required", _("Say why (a note is required)."), "note")
        if name == "record_result":
            locked.result = data.get("result") or ""
            locked.findings = (data.get("findings") or "").strip()
            locked.needs_rectification = (
                bool(data.get("needs_rectification")) and locked.result == Result.FINDINGS
            )
        if name == "rate":
            rating = data.get("rating")
            if not isinstance(rating, int) or not 1 <= rating <= 5:
                raise WorkflowError("rating", _("Rate from 1 to 5."), "rating")
        INSPECTION.check(name, locked, relations(actor, locked), now)
        from_state = locked.state
        extra = {}
        if name == "start":
            locked.started_at = now
        elif name == "order_rectification" or name == "recheck_fail":
            due = workcalendar.add_working_time(now, days=rules()["rectification_working_days"]).value
            locked.rectification_due = _local(due).date()
            locked.rectification_overdue = False  # a new deadline: flagged again once it passes
            extra["due"] = locked.rectification_due.isoformat()
        elif name == "recheck_pass":
            locked.rechecked_at = now
            locked.rectified_on_time = _local(now).date() <= locked.rectification_due
            locked.closed_at = now
        elif name == "close":
            locked.closed_at = now
        elif name == "rate":
            locked.rating = data["rating"]
            locked.rating_comment = (data.get("comment") or "").strip()[:500]
            locked.rated_at = now
            extra["rating"] = locked.rating
        if step.target:
            locked.state = step.target
        locked.version += 1
        locked.save()
        _event(locked, actor, name, from_state, locked.state, note=note, at=now, **extra)
        audit.record(
            actor, AuditAction.STATE, locked, detail=f"inspection {name}: {from_state} → {locked.state}"
        )
    inspection.refresh_from_db()
    return locked


def record_result(
    inspection: Inspection,
    actor,
    *,
    result: str,
    findings: str = "",
    needs_rectification: bool = False,
    now: dt.datetime | None = None,
    expected_version=None,
) -> Inspection:
    """Record the result against the code, then through the same machine: closed, or a
    rectification deadline (整改) for findings that need it."""
    now = now or timezone.now()
    with transaction.atomic():
        done = act(
            inspection,
            "record_result",
            actor,
            now=now,
            expected_version=expected_version,
            result=result,
            findings=findings,
            needs_rectification=needs_rectification,
        )
        follow = "order_rectification" if done.needs_rectification else "close"
        return act(done, follow, actor, now=now)


def rate(inspection: Inspection, actor, *, rating: int, comment: str = "", now=None) -> Inspection:
    return act(inspection, "rate", actor, now=now, rating=rating, comment=comment)


# --- overdue rectifications -----------------------------------------------------------------------


def flag_overdue_rectifications(today: dt.date | None = None) -> int:
    """Mark inspections still rectifying (整改) past their deadline (`rectification_due` before
    today) and tell the inspecting department — its officers, leaders and inspectors — once per
    deadline (an event, an audit row; the notification key is the deadline). Idempotent: a flagged
    inspection is skipped until a re-check sets a new deadline."""
    from django.urls import reverse

    from changxin.notifications.services import notify, unit_staff

    today = today or timezone.localdate()
    flagged = 0
    with transaction.atomic():
        late = list(
            Inspection.objects.select_for_update(of=("self",))
            .filter(state=S.RECTIFYING, rectification_overdue=False, rectification_due__lt=today)
            .select_related("enterprise", "department")
            .order_by("id")
        )
        for inspection in late:
            inspection.rectification_overdue = True
            inspection.save(update_fields=["rectification_overdue"])
            due = inspection.rectification_due.isoformat()
            _event(inspection, None, "rectification_overdue", inspection.state, inspection.state, due=due)
            audit.record(
                None, AuditAction.STATE, inspection, detail=f"inspection rectification overdue: {due}"
            )
            inspectors = User.objects.filter(
                unit_id=inspection.department_id, role=roles.Role.INSPECTOR, is_active=True
            ).values_list("pk", flat=True)
            notify(
                [u.pk for u in unit_staff([inspection.department_id])] + list(inspectors),
                "port.rectification_overdue",
                gettext_lazy("Rectification overdue: %(name)s"),
                gettext_lazy("The rectification was due on %(due)s; re-check it."),
                url=reverse("port:inspection", args=[inspection.pk]),
                key=f"inspection:{inspection.pk}:rectification:{due}",
                params={"name": inspection.enterprise.name, "due": due},
            )
            flagged += 1
    return flagged


# --- reads ----------------------------------------------------------------------------------------


def inspections_visible_to(user):
    qs = restrict(Inspection.objects.select_related("enterprise", "department", "joint", "plan"), user)
    if getattr(user, "role", None) == roles.Role.ENTERPRISE:
        qs = qs.exclude(state__in=[S.REFUSED, S.NEW])
    return qs


def public_inspectors(inspection: Inspection) -> list[dict]:
    """What the enterprise and the code show of the inspectors: name masked, certificate number."""
    return [{"name": mask_name(_display(c.user)), "number": c.number} for c in inspection.certificates.all()]


def current_at_code(enterprise: Enterprise, now: dt.datetime | None = None) -> list[Inspection]:
    """The visits the code shows: registered or under way, planned for today (local day)."""
    now = _local(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    return list(
        Inspection.objects.filter(
            enterprise=enterprise, state__in=CURRENT, planned_from__lt=end, planned_until__gte=start
        )
        .select_related("department", "joint")
        .prefetch_related("certificates__user")
        .order_by("planned_from", "id")
    )


def report(user, year: int, quarter: int | None = None) -> list[dict]:
    """无事不扰 per department, of the inspections `user` may see, registered in `year` (a quarter):
    inspections, share planned, joint visits, refusals, ratings, rectifications on time."""
    qs = restrict(Inspection.objects.all(), user).filter(planned_from__year=year)
    if quarter:
        qs = qs.filter(planned_from__month__gte=3 * quarter - 2, planned_from__month__lte=3 * quarter)
    live = Q(state__in=LIVE)
    rows = (
        qs.order_by()
        .values("department", "department__name")
        .annotate(
            total=Count("pk", filter=live),
            planned=Count("pk", filter=live & Q(plan__isnull=False, trigger="")),
            joint=Count("joint", filter=live, distinct=True),
            refused=Count("pk", filter=Q(state=S.REFUSED)),
            rated=Count("pk", filter=Q(rating__isnull=False)),
            rating=Avg("rating"),
            rectifications=Count("pk", filter=live & Q(rectification_due__isnull=False)),
            on_time=Count("pk", filter=Q(rectified_on_time=True)),
            rechecked=Count("pk", filter=Q(rechecked_at__isnull=False)),
        )
    )
    out = []
    for row in rows:
        out.append(
            {
                "department": row["department__name"],
                "total": row["total"],
                "planned": row["planned"],
                "planned_share": _share(row["planned"], row["total"]),
                "joint": row["joint"],
                "refused": row["refused"],
                "rated": row["rated"],
                "rating": round(row["rating"], 2) if row["rating"] is not None else None,
                "rectifications": row["rectifications"],
                "on_time": row["on_time"],
                "on_time_share": _share(row["on_time"], row["rechecked"]),
            }
        )
    out.sort(key=lambda r: (-r["total"], r["department"]))
    return out


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


REPORT_COLUMNS = [
    ("department", gettext_lazy("Department")),
    ("total", gettext_lazy("Inspections")),
    ("planned", gettext_lazy("Planned")),
    ("planned_share", gettext_lazy("Share planned (%)")),
    ("joint", gettext_lazy("Joint visits")),
    ("refused", gettext_lazy("Refused registrations")),
    ("rated", gettext_lazy("Rated")),
    ("rating", gettext_lazy("Average rating")),
    ("rectifications", gettext_lazy("Rectifications")),
    ("on_time", gettext_lazy("Rectified on time")),
    ("on_time_share", gettext_lazy("On time (%)")),
]


# --- certificates and grades (the admin and the demo) -------------------------------------------


@transaction.atomic
def issue_certificate(
    user: User, *, number: str, valid_from: dt.date, valid_until: dt.date, issued_by="", actor=None
):
    """A law-enforcement certificate; refused for anyone who may never inspect (model clean)."""
    certificate = InspectorCertificate(
        user=user, number=number, valid_from=valid_from, valid_until=valid_until, issued_by=issued_by
    )
    certificate.full_clean()
    certificate.save()
    audit.record(actor, AuditAction.CREATE, certificate, detail="port.inspector_certificate")
    return certificate


@transaction.atomic
def set_credit_grade(enterprise: Enterprise, grade: str, *, actor) -> Enterprise:
    from changxin.port.services import record_event

    if grade not in ("A", "B", "C", "D"):
        raise ValidationError({"credit_grade": _("Choose a grade from A to D.")})
    previous = enterprise.credit_grade
    enterprise.credit_grade = grade
    enterprise.save(update_fields=["credit_grade", "updated_at"])
    record_event(enterprise, actor, "credit_grade", previous=previous, grade=grade)
    audit.record(actor, AuditAction.UPDATE, enterprise, fields=["credit_grade"], detail="port.credit_grade")
    return enterprise
