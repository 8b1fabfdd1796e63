"""The inspection lifecycle (一码检查 / 无事不扰): one instance of the core workflow machine. Pure:
no database; `port.inspections` computes the facts a registration is judged on (`Facts`, put on the
inspection as `inspection.facts`) and applies the machine.

    new ──register──▶ registered ──start──▶ in_progress ──record_result──▶ recorded
    recorded ──close──▶ closed                 (no rectification needed)
    recorded ──order_rectification──▶ rectifying ──recheck_fail──▶ rectifying (a new deadline)
    rectifying ──recheck_pass──▶ closed        closed ──rate──▶ closed (the enterprise, once)
    registered ──cancel──▶ cancelled

`register`'s guards are the 无事不扰 rules; a refusal names the rule (its code and, in the message,
its name). Relations: DEPARTMENT (a user of the inspecting department), INSPECTOR (a holder of one of
the inspection's certificates), ENTERPRISE (an account of the inspected enterprise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core.workflow import Guard, Machine
from changxin.core.workflow import transition as _t
from changxin.port.models import InspectionState as S
from changxin.port.models import Result

DEPARTMENT, INSPECTOR, ENTERPRISE = "department", "inspector", "enterprise"


@dataclass
class Facts:
    """What a registration is judged on (worked out from the database by `port.inspections`)."""

    not_inspectors: list[str] = field(default_factory=list)  # names: community level, volunteers…
    without_certificate: list[str] = field(default_factory=list)  # no certificate valid on the days
    plan_mismatch: bool = False  # the plan item is another department's, enterprise's or year's
    grade: str = "B"
    cap: int | None = None  # planned visits a year for the grade (None: no cap)
    visits_before: int = 0  # planned visits of the enterprise this year (a joint visit counts once)
    adds_visit: bool = True  # False when it joins a joint visit that already counts
    partner: bool = False  # another department inspects the enterprise in the same period
    joining: bool = False  # and this inspection joins that joint visit
    period: str = ""
    window_ok: bool = True
    result: str = ""  # record_result: the result given


def _facts(obj) -> Facts:
    return obj.facts or Facts()


def _names(names) -> str:
    return "、".join(names)


PLAN_OR_TRIGGER = Guard(
    lambda i, now: bool(i.plan_id) or bool(i.trigger),
    "plan_or_trigger",
    _(
        "Rule “no inspection without a plan or a trigger” (无事不扰): this department has no plan item "
        "for this enterprise in the period, and no trigger (complaint, referral, risk signal) is given."
    ),
    field="basis",
)
TRIGGER_SOURCE = Guard(
    lambda i, now: not i.trigger or bool(i.trigger_demand_id or (i.trigger_ref or "").strip()),
    "trigger_source",
    _("Rule “a trigger names its source”: give the demand number or the referral/risk document number."),
    field="trigger_ref",
)
COMPLAINT_DEMAND = Guard(
    lambda i, now: i.trigger != "complaint" or bool(i.trigger_demand_id),
    "complaint_demand",
    _("Rule “a complaint is a registered demand”: give the number of the complaint's demand."),
    field="trigger_ref",
)
PLAN_MATCHES = Guard(
    lambda i, now: not _facts(i).plan_mismatch,
    "plan_matches",
    _(
        "Rule “the plan is the department's own”: the plan item is for another department, enterprise or year."
    ),
    field="basis",
)
NEVER_INSPECTORS = Guard(
    lambda i, now: not _facts(i).not_inspectors,
    "not_an_inspector",
    _(
        "Rule “only law-enforcement staff inspect”: grid workers, community workers and volunteers "
        "may never inspect (%(names)s)."
    ),
    field="inspectors",
    params=lambda i: {"names": _names(_facts(i).not_inspectors)},
)
CERTIFICATE = Guard(
    lambda i, now: not _facts(i).without_certificate,
    "certificate_required",
    _("Rule “a valid law-enforcement certificate”: %(names)s hold no certificate valid on the planned days."),
    field="inspectors",
    params=lambda i: {"names": _names(_facts(i).without_certificate)},
)
WINDOW = Guard(
    lambda i, now: _facts(i).window_ok,
    "window",
    _(
        "Rule “registered before it starts”: the planned window must end after it starts, and not in the past."
    ),
    field="planned_from",
)
FREQUENCY_CAP = Guard(
    lambda i, now: (
        bool(i.trigger)
        or _facts(i).cap is None
        or _facts(i).visits_before + (1 if _facts(i).adds_visit else 0) <= _facts(i).cap
    ),
    "frequency_cap",
    _(
        "Rule “frequency cap” (无事不扰): an enterprise of credit grade %(grade)s gets at most "
        "%(cap)s planned inspection visits in %(period)s, and it has had %(count)s. Only a trigger "
        "(complaint, referral, risk signal) allows another."
    ),
    field="basis",
    params=lambda i: {
        "grade": _facts(i).grade,
        "cap": _facts(i).cap,
        "period": _facts(i).period,
        "count": _facts(i).visits_before,
    },
)
JOINT_VISIT = Guard(
    lambda i, now: not _facts(i).partner or _facts(i).joining,
    "joint_visit",
    _(
        "Rule “one joint visit” (进一次门、查多项事): another department inspects this enterprise in "
        "the same period; join its visit."
    ),
    field="planned_from",
)
RESULT_GIVEN = Guard(
    lambda i, now: i.result in Result.values and (i.result != Result.FINDINGS or bool(i.findings.strip())),
    "result_required",
    _("Record the result: no findings, or the findings."),
    field="findings",
)
NO_OPEN_RECTIFICATION = Guard(
    lambda i, now: not i.needs_rectification,
    "rectification_pending",
    _("Rule “整改 then 复查”: a finding that needs rectification is closed only by its re-check."),
)
FINDINGS = Guard(
    lambda i, now: i.result == Result.FINDINGS and i.needs_rectification,
    "findings_required",
    _("Only findings that need rectification get a rectification deadline."),
)
WITHIN_WINDOW = Guard(
    lambda i, now: (
        timezone.localtime(i.planned_from).date()
        <= timezone.localtime(now).date()
        <= timezone.localtime(i.planned_until).date()
    ),
    "outside_window",
    _("Rule “inspect in the registered window”: it is registered for %(window)s."),
    params=lambda i: {
        "window": f"{timezone.localtime(i.planned_from):%Y-%m-%d %H:%M}–"
        f"{timezone.localtime(i.planned_until):%Y-%m-%d %H:%M}"
    },
)
NOT_RATED = Guard(
    lambda i, now: i.rating is None,
    "rated_once",
    _("The enterprise rates an inspection once."),
)

# the 无事不扰 rules, in the order a refusal names them
REGISTRATION_RULES = [
    PLAN_OR_TRIGGER,
    TRIGGER_SOURCE,
    COMPLAINT_DEMAND,
    PLAN_MATCHES,
    NEVER_INSPECTORS,
    CERTIFICATE,
    WINDOW,
    JOINT_VISIT,
    FREQUENCY_CAP,
]

INSPECTION = Machine(
    name="inspection",
    states=S,
    noun=_("inspection"),
    transitions=[
        _t("register", _("Register"), [S.NEW], S.REGISTERED, {DEPARTMENT}, False, REGISTRATION_RULES),
        _t("start", _("Start on site"), [S.REGISTERED], S.IN_PROGRESS, {INSPECTOR}, False, [WITHIN_WINDOW]),
        _t("cancel", _("Cancel"), [S.REGISTERED], S.CANCELLED, {DEPARTMENT, INSPECTOR}, True),
        _t(
            "record_result",
            _("Record the result"),
            [S.IN_PROGRESS],
            S.RECORDED,
            {INSPECTOR},
            False,
            [RESULT_GIVEN],
        ),
        _t(
            "close",
            _("Close"),
            [S.RECORDED],
            S.CLOSED,
            {INSPECTOR, DEPARTMENT},
            False,
            [NO_OPEN_RECTIFICATION],
        ),
        _t(
            "order_rectification",
            _("Order rectification (整改)"),
            [S.RECORDED],
            S.RECTIFYING,
            {INSPECTOR, DEPARTMENT},
            False,
            [FINDINGS],
        ),
        _t(
            "recheck_pass",
            _("Re-check passed (复查)"),
            [S.RECTIFYING],
            S.CLOSED,
            {INSPECTOR, DEPARTMENT},
            True,
        ),
        _t(
            "recheck_fail",
            _("Re-check failed: new deadline"),
            [S.RECTIFYING],
            None,
            {INSPECTOR, DEPARTMENT},
            True,
        ),
        _t("rate", _("Rate"), [S.CLOSED], None, {ENTERPRISE}, False, [NOT_RATED]),
    ],
)

# what the inspection page offers as buttons (the others are applied by the services)
MANUAL = ("start", "cancel", "recheck_pass", "recheck_fail")
