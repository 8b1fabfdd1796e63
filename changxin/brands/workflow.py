"""The lifecycles of a brand and of a practice case, as workflow machine instances (pure: no writes).

    draft ─submit→ submitted ─publish→ published ─withdraw→ withdrawn
      ↑               │                                        │
      └──── return ───┘                      revise (back to draft)

Actors (worked out by services.relations_of from the owner organisation): party staff over the
owner's unit ("party_staff"; district administrators too) and the owner branch's secretary
("secretary"). Publishing is party staff's alone, and never by the person who submitted (four
eyes). The guards name the rule they enforce.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.brands.models import BrandState
from changxin.core.workflow import Guard, Machine
from changxin.core.workflow import transition as t
from changxin.pioneers.pipeline import SECRETARY, STAFF

MIN_DESCRIPTION = 20  # characters: what the brand is and does, in a sentence or two

S = BrandState


def _has_case(brand, now) -> bool:
    return any(case.state in (S.SUBMITTED, S.PUBLISHED) for case in brand.cases.all())


def _not_submitter(obj, now) -> bool:
    """`acting_user` is set on the object by the service asking (the machine itself is pure)."""
    approver = getattr(obj, "acting_user", None)
    return approver is None or obj.submitted_by_id is None or obj.submitted_by_id != approver.pk


def _brand_published(case, now) -> bool:
    return case.brand.state == S.PUBLISHED


def _case_period_started(case, now) -> bool:
    today = timezone.localdate(now) if isinstance(now, dt.datetime) else now
    return case.starts_on <= today


DESCRIBED = Guard(
    lambda b, now: len((b.description or "").strip()) >= MIN_DESCRIPTION,
    "brand_description_required",
    _("Rule: a brand says what it is and does in at least %(n)s characters before it is submitted."),
    field="description",
    params=lambda b: {"n": MIN_DESCRIPTION},
)
HAS_CASE = Guard(
    _has_case,
    "brand_case_required",
    _(
        "Rule: a brand is published with at least one practice case submitted or published "
        "(品牌以实践案例为据)."
    ),
)
FOUR_EYES = Guard(
    _not_submitter,
    "four_eyes",
    _("Rule: the one who submitted it may not publish it; another member of party staff approves."),
)
BRAND_PUBLISHED = Guard(
    _brand_published,
    "brand_not_published",
    _("Rule: a practice case is published under a published brand; publish the brand first."),
)
PERIOD_STARTED = Guard(
    _case_period_started,
    "case_not_started",
    _("Rule: a practice case is submitted once its period has begun (its results come from real demands)."),
    field="starts_on",
)

BRAND_MACHINE = Machine(
    name="brand",
    states=BrandState,
    state_field="state",
    noun=_("pioneer brand"),
    transitions=[
        t("submit", _("Submit for approval"), [S.DRAFT], S.SUBMITTED, {STAFF, SECRETARY}, False, [DESCRIBED]),
        t("publish", _("Publish"), [S.SUBMITTED], S.PUBLISHED, {STAFF}, False, [FOUR_EYES, HAS_CASE]),
        t("return", _("Return for changes"), [S.SUBMITTED], S.DRAFT, {STAFF}, True),
        t("withdraw", _("Withdraw"), [S.PUBLISHED], S.WITHDRAWN, {STAFF}, True),
        t("revise", _("Revise"), [S.WITHDRAWN], S.DRAFT, {STAFF, SECRETARY}, False),
    ],
)

CASE_MACHINE = Machine(
    name="practice_case",
    states=BrandState,
    state_field="state",
    noun=_("practice case"),
    transitions=[
        t(
            "submit",
            _("Submit for approval"),
            [S.DRAFT],
            S.SUBMITTED,
            {STAFF, SECRETARY},
            False,
            [PERIOD_STARTED],
        ),
        t("publish", _("Publish"), [S.SUBMITTED], S.PUBLISHED, {STAFF}, False, [FOUR_EYES, BRAND_PUBLISHED]),
        t("return", _("Return for changes"), [S.SUBMITTED], S.DRAFT, {STAFF}, True),
        t("withdraw", _("Withdraw"), [S.PUBLISHED], S.WITHDRAWN, {STAFF}, True),
        t("revise", _("Revise"), [S.WITHDRAWN], S.DRAFT, {STAFF, SECRETARY}, False),
    ],
)
