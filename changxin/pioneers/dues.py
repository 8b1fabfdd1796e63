"""党费: the monthly dues from the income base by the official brackets (2008 rules; RULES.md),
monthly payment records and each branch's arrears. Decimal arithmetic throughout.

    compute_monthly(category, income)        → (rate % or None, monthly amount, 2 places, half up)
    set_base(member, year, category=, monthly_income=, actor=)    → DuesBase (audited)
    record_payment(member, month, amount=None, paid_on=None, actor=)  → DuesPayment (audited)
    arrears(member_ids, year, today)         → {member id: [unpaid months before this month]}
    branch_dues(org, year)                   → rows per member and per month (paid vs due)

The brackets are settings with the defaults below: `CHANGXIN_PIONEERS_DUES_BRACKETS`
{category: [(upper bound or None, rate %), …]} (a bound is inclusive: "3,000–5,000" means above
3,000 up to and including 5,000), and `CHANGXIN_PIONEERS_DUES_LOW` (the fixed monthly amount of
members without wages: at least 0.2, at most 1 yuan).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit
from changxin.core.errors import CONFLICT, FORBIDDEN, DomainError
from changxin.core.models import AuditAction
from changxin.pioneers.models import DuesBase, DuesCategory, DuesPayment, PartyMember

CENT = Decimal("0.01")
DEFAULT_BRACKETS = {
    DuesCategory.WAGE: [
        (Decimal("3000"), Decimal("0.5")),
        (Decimal("5000"), Decimal("1")),
        (Decimal("10000"), Decimal("1.5")),
        (None, Decimal("2")),
    ],
    DuesCategory.RETIRED: [(Decimal("5000"), Decimal("0.5")), (None, Decimal("1"))],
}
DEFAULT_LOW = Decimal("0.5")
LOW_MIN, LOW_MAX = Decimal("0.2"), Decimal("1")


def brackets() -> dict[str, list[tuple[Decimal | None, Decimal]]]:
    configured = getattr(settings, "CHANGXIN_PIONEERS_DUES_BRACKETS", None) or {}
    merged = {str(k): v for k, v in DEFAULT_BRACKETS.items()}
    for category, rows in configured.items():
        merged[str(category)] = [
            (None if bound is None else Decimal(str(bound)), Decimal(str(rate))) for bound, rate in rows
        ]
    return merged


def low_amount() -> Decimal:
    amount = Decimal(str(getattr(settings, "CHANGXIN_PIONEERS_DUES_LOW", DEFAULT_LOW)))
    return min(max(amount, LOW_MIN), LOW_MAX)


def compute_monthly(category: str, income) -> tuple[Decimal | None, Decimal]:
    """(rate in %, monthly dues) for an after-tax monthly income; members without wages pay the
    fixed amount (rate None)."""
    if category == DuesCategory.LOW:
        return None, low_amount().quantize(CENT, ROUND_HALF_UP)
    table = brackets().get(str(category))
    if table is None:
        raise DomainError("invalid", _("Choose the dues category."), "category")
    income = Decimal(str(income))
    if income < 0:
        raise DomainError("invalid", _("The income cannot be negative."), "monthly_income")
    for bound, rate in table:
        if bound is None or income <= bound:
            return rate, (income * rate / Decimal(100)).quantize(CENT, ROUND_HALF_UP)
    raise DomainError("invalid", _("The dues brackets end without an open top bracket."))


def _check_keeper(actor, member: PartyMember) -> None:
    from changxin.pioneers.services import relations_of

    if actor is not None and not relations_of(actor, member.organisation):
        raise DomainError(
            "not_allowed",
            _("Only party staff over the branch or its secretary keep its dues."),
            kind=FORBIDDEN,
        )


@transaction.atomic
def set_base(member: PartyMember, year: int, *, category: str, monthly_income, actor=None) -> DuesBase:
    """Set (or review, once a year) the member's dues base; the monthly amount is computed."""
    _check_keeper(actor, member)
    if category not in DuesCategory.values:
        raise DomainError("invalid", _("Choose the dues category."), "category")
    income = Decimal(str(monthly_income or 0)).quantize(CENT, ROUND_HALF_UP)
    rate, due = compute_monthly(category, income)
    base, created = DuesBase.objects.update_or_create(
        member=member,
        year=year,
        defaults={
            "category": category,
            "monthly_income": income,
            "rate": rate,
            "monthly_due": due,
            "set_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    audit.record(
        actor,
        AuditAction.CREATE if created else AuditAction.UPDATE,
        base,
        fields=["category", "monthly_income", "monthly_due"],
        detail=f"{year} {category}: {due}",
    )
    return base


def first_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


@transaction.atomic
def record_payment(
    member: PartyMember, month: dt.date, *, amount=None, paid_on: dt.date | None = None, actor=None
) -> DuesPayment:
    """Record one month's dues (default: the amount of the year's base). Once per month."""
    _check_keeper(actor, member)
    month = first_of(month)
    today = timezone.localdate()
    paid_on = paid_on or today
    if paid_on > today:
        raise DomainError("date_in_future", _("A payment is recorded once it has been made."), "paid_on")
    base = DuesBase.objects.filter(member=member, year=month.year).first()
    if amount is None:
        if base is None:
            raise DomainError(
                "base_required",
                _("Rule: set the member's dues base for %(year)s first.") % {"year": month.year},
                "month",
            )
        amount = base.monthly_due
    amount = Decimal(str(amount)).quantize(CENT, ROUND_HALF_UP)
    if amount <= 0:
        raise DomainError("invalid", _("The amount paid is more than zero."), "amount")
    try:
        with transaction.atomic():
            payment = DuesPayment.objects.create(
                member=member,
                month=month,
                amount=amount,
                paid_on=paid_on,
                recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise DomainError(
            "already_paid",
            _("The dues of %(month)s are recorded already.") % {"month": f"{month:%Y-%m}"},
            "month",
            kind=CONFLICT,
        ) from None
    audit.record(actor, AuditAction.CREATE, payment, detail=f"{month:%Y-%m}: {amount}")
    return payment


# --- reading: paid vs due, arrears ---------------------------------------------------------------------


def due_months(year: int, today: dt.date, joined_on: dt.date | None = None) -> list[dt.date]:
    """The months of `year` whose dues are owed by now: before the running month (this month is
    not in arrears yet), from the month after joining."""
    months = []
    for m in range(1, 13):
        month = dt.date(year, m, 1)
        if month >= first_of(today):
            break
        if joined_on and month < first_of(joined_on):
            continue
        months.append(month)
    return months


def branch_dues(members, year: int, today: dt.date | None = None) -> dict:
    """Paid vs due for `members` (a scoped queryset) in `year`: per member (base, paid, owed months,
    arrears) and per month (due, paid) for the chart; three queries."""
    today = today or timezone.localdate()
    members = list(members)
    ids = [m.pk for m in members]
    bases = {b.member_id: b for b in DuesBase.objects.filter(member_id__in=ids, year=year)}
    paid: dict[int, dict[dt.date, Decimal]] = {}
    for p in DuesPayment.objects.filter(member_id__in=ids, month__year=year).only(
        "member_id", "month", "amount"
    ):
        paid.setdefault(p.member_id, {})[p.month] = p.amount
    rows, by_month = [], {dt.date(year, m, 1): {"due": Decimal(0), "paid": Decimal(0)} for m in range(1, 13)}
    for member in members:
        base = bases.get(member.pk)
        mine = paid.get(member.pk, {})
        owed = due_months(year, today, member.joined_on) if base else []
        unpaid = [m for m in owed if m not in mine]
        for month, amount in mine.items():
            by_month[month]["paid"] += amount
        for month in owed:
            by_month[month]["due"] += base.monthly_due
        rows.append(
            {
                "member": member,
                "base": base,
                "paid_total": sum(mine.values(), Decimal(0)),
                "paid_months": sorted(mine),
                "unpaid": unpaid,
                "arrears": (base.monthly_due * len(unpaid)) if base else Decimal(0),
            }
        )
    return {
        "rows": rows,
        "months": [
            {"month": month, "due": v["due"], "paid": v["paid"]} for month, v in sorted(by_month.items())
        ],
        "arrears": sum((r["arrears"] for r in rows), Decimal(0)),
        "without_base": [r["member"] for r in rows if r["base"] is None],
    }
