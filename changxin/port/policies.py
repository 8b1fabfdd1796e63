"""惠企政策 / 免申即享: policies with structured eligibility matched to the registry.

`eligibility(policy, enterprise)` says, criterion by criterion (industry, size, zone, each required
flag, the thresholds on employees and annual revenue), whether the enterprise meets it and why; an empty criterion admits everyone. `eligible_
enterprises(policy)` filters in the database and explains in Python; `sync_policy` records a
`PolicyGrant` (matched) for each newly eligible enterprise and — for a 免申即享 policy — notifies
its accounts and manager at once (matched → notified), so they learn without applying. The grant
then moves through `port.machines.GRANT`: applied (by the enterprise, when the policy needs an
application) → granted → paid, with amounts and dates; `totals(policy)` sums them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import audit, roles
from changxin.core.models import AuditAction
from changxin.core.scope import restrict
from changxin.core.workflow import WorkflowError
from changxin.port.machines import CENTRE, ENTERPRISE, GRANT, SYSTEM
from changxin.port.models import Enterprise, Flag, GrantState, Policy, PolicyGrant, Size, Zone

FLAG_LABELS = dict(Flag.choices)
SIZE_LABELS = dict(Size.choices)
ZONE_LABELS = dict(Zone.choices)


def may_manage(user) -> bool:
    return roles.is_active(user) and roles.is_centre(user)


def clean_criteria(data: dict[str, Any]) -> dict[str, Any]:
    """Lists of known values only (a bad one is a field error naming it)."""
    known = {"sizes": SIZE_LABELS, "zones": ZONE_LABELS, "flags": FLAG_LABELS}
    errors = {}
    for field, labels in known.items():
        values = [v for v in data.get(field) or [] if v]
        bad = [v for v in values if v not in labels]
        if bad:
            errors[field] = _("Unknown values: %(values)s") % {"values": ", ".join(map(str, bad))}
        data[field] = values
    data["industries"] = [str(v).strip() for v in data.get("industries") or [] if str(v).strip()]
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def register_policy(data: dict[str, Any], *, actor) -> Policy:
    if actor is not None and not may_manage(actor):
        raise PermissionDenied(_("Only the district centre registers policies."))
    policy = Policy(**clean_criteria(dict(data)))
    policy.full_clean()
    policy.save()
    audit.record(actor, AuditAction.CREATE, policy, detail="port.policy")
    return policy


def eligibility(policy: Policy, enterprise: Enterprise) -> list[dict]:
    """One row per criterion: {"criterion", "ok", "why"}."""
    rows = []
    if policy.industries:
        hit = [i for i in policy.industries if i and i in (enterprise.industry or "")]
        rows.append(
            {
                "criterion": "industry",
                "ok": bool(hit),
                "why": (_("industry %(value)s") % {"value": enterprise.industry or "—"})
                + (f" ∋ {'、'.join(hit)}" if hit else ""),
            }
        )
    if policy.sizes:
        rows.append(
            {
                "criterion": "size",
                "ok": enterprise.size in policy.sizes,
                "why": _("size: %(value)s") % {"value": SIZE_LABELS.get(enterprise.size, enterprise.size)},
            }
        )
    if policy.zones:
        rows.append(
            {
                "criterion": "zone",
                "ok": enterprise.zone in policy.zones,
                "why": _("zone: %(value)s") % {"value": ZONE_LABELS.get(enterprise.zone, "—")},
            }
        )
    for flag in policy.flags:
        rows.append(
            {"criterion": flag, "ok": bool(getattr(enterprise, flag, False)), "why": str(FLAG_LABELS[flag])}
        )
    rows.extend(threshold_rows(policy, enterprise))
    return rows


# (criterion, the enterprise's field, the policy's lower and upper bound, its label)
THRESHOLDS = [
    ("employees", "employees", "min_employees", "max_employees", gettext_lazy("employees")),
    ("revenue", "annual_revenue", "min_revenue", "max_revenue", gettext_lazy("revenue")),
]


def figure(value) -> str:
    """3200 → "3,200"; 3200.50 → "3,200.5" (the figures of a reason)."""
    if isinstance(value, Decimal):
        value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
    return f"{value:,}"


def threshold_rows(policy: Policy, enterprise: Enterprise) -> list[dict]:
    """One row per bound set: "revenue 3,200 ≥ 2,000"; an enterprise without the figure does not
    meet it ("revenue not on record (needs ≥ 2,000)")."""
    rows = []
    for criterion, field, low, high, label in THRESHOLDS:
        value = getattr(enterprise, field)
        for bound, sign, fail in ((getattr(policy, low), "≥", "<"), (getattr(policy, high), "≤", ">")):
            if bound is None:
                continue
            if value is None:
                ok = False
                why = _("%(figure)s not on record (needs %(sign)s %(limit)s)") % {
                    "figure": label,
                    "sign": sign,
                    "limit": figure(bound),
                }
            else:
                ok = value >= bound if sign == "≥" else value <= bound
                why = f"{label} {figure(value)} {sign if ok else fail} {figure(bound)}"
            rows.append({"criterion": criterion, "ok": ok, "why": why})
    return rows


def reasons(policy: Policy, enterprise: Enterprise) -> list[str] | None:
    """The reasons an enterprise is eligible (None: it is not)."""
    rows = eligibility(policy, enterprise)
    if not all(r["ok"] for r in rows):
        return None
    return [r["why"] for r in rows] or [_("open to every enterprise")]


def eligibility_q(policy: Policy) -> Q:
    q = Q(is_active=True)
    if policy.industries:
        any_industry = Q()
        for industry in policy.industries:
            any_industry |= Q(industry__contains=industry)
        q &= any_industry
    if policy.sizes:
        q &= Q(size__in=policy.sizes)
    if policy.zones:
        q &= Q(zone__in=policy.zones)
    for flag in policy.flags:
        q &= Q(**{flag: True})
    for _criterion, field, low, high, _label in THRESHOLDS:
        # a missing figure (NULL) never satisfies a comparison: not eligible, as eligibility() says
        if getattr(policy, low) is not None:
            q &= Q(**{f"{field}__gte": getattr(policy, low)})
        if getattr(policy, high) is not None:
            q &= Q(**{f"{field}__lte": getattr(policy, high)})
    return q


def eligible_enterprises(policy: Policy, user=None) -> list[tuple[Enterprise, list[str]]]:
    qs = Enterprise.objects.filter(eligibility_q(policy)).select_related("street")
    if user is not None:
        qs = restrict(qs, user)
    return [(e, reasons(policy, e) or []) for e in qs.order_by("name", "id")]


def eligible_policies(enterprise: Enterprise, today: dt.date | None = None) -> list[tuple[Policy, list[str]]]:
    today = today or timezone.localdate()
    out = []
    for policy in active_policies(today):
        why = reasons(policy, enterprise)
        if why is not None:
            out.append((policy, why))
    return out


def active_policies(today: dt.date | None = None):
    today = today or timezone.localdate()
    return Policy.objects.filter(is_active=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def get_policy_or_404(pk) -> Policy:
    """Policies are public to every port user (not scoped): any id, or 404."""
    from django.http import Http404

    policy = Policy.objects.filter(pk=pk).first()
    if policy is None:
        raise Http404
    return policy


def grants_visible_to(user):
    return restrict(PolicyGrant.objects.select_related("policy", "enterprise"), user)


# --- fulfilment -------------------------------------------------------------------------------


def grant_relations(user, grant: PolicyGrant) -> set[str]:
    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    rels = set()
    if roles.is_centre(user):
        rels.add(CENTRE)
    if (
        getattr(user, "role", None) == roles.Role.ENTERPRISE
        and grant.enterprise.members.filter(pk=user.pk).exists()
    ):
        rels.add(ENTERPRISE)
    return rels


def grant_actions(user, grant: PolicyGrant, relations: set[str] | None = None):
    """The moves to offer; `relations` when the caller already knows them (a list of one's own)."""
    return GRANT.offered_by_table(
        grant.state, grant_relations(user, grant) if relations is None else relations
    )


DATES = {
    GrantState.NOTIFIED: "notified_on",
    GrantState.APPLIED: "applied_on",
    GrantState.GRANTED: "granted_on",
    GrantState.PAID: "paid_on",
}


def move_grant(
    grant: PolicyGrant,
    name: str,
    actor,
    *,
    amount: Decimal | None = None,
    on: dt.date | None = None,
    now: dt.datetime | None = None,
    relations: set[str] | None = None,
) -> PolicyGrant:
    """notify / apply / grant (amount, default the policy's) / pay (amount, date)."""
    from changxin.port.services import record_event

    now = now or timezone.now()
    day = on or timezone.localdate(now)
    if on is not None and (on > timezone.localdate(now) or on.year < 2000):
        raise ValidationError({"on": _("Choose a date between 2000 and today.")})
    with transaction.atomic():
        locked = (
            PolicyGrant.objects.select_for_update(of=("self",))
            .select_related("policy", "enterprise")
            .get(pk=grant.pk)
        )
        rels = relations if relations is not None else grant_relations(actor, locked)
        GRANT.check_table(name, locked.state, rels)
        if name in ("grant", "pay"):
            if amount is not None and amount <= 0:
                raise WorkflowError("amount_required", _("Give the amount (10,000 yuan)."), "amount")
            locked.amount = amount if amount is not None else (locked.amount or locked.policy.amount)
        step = GRANT.check(name, locked, rels, now)
        previous = locked.state
        locked.state = step.target
        setattr(locked, DATES[step.target], day)
        locked.version += 1
        locked.save()
        record_event(
            locked.enterprise,
            actor,
            f"policy_{name}",
            policy=locked.policy_id,
            previous=previous,
            state=locked.state,
            amount=str(locked.amount) if locked.amount is not None else None,
        )
        audit.record(actor, AuditAction.STATE, locked, detail=f"grant {name}: {previous} → {locked.state}")
        if name == "notify":
            _tell(locked)
    grant.refresh_from_db()
    return locked


def _tell(grant: PolicyGrant) -> None:
    from changxin.notifications.services import notify

    enterprise = grant.enterprise
    ids = list(enterprise.members.values_list("pk", flat=True))
    if enterprise.manager_id:
        ids.append(enterprise.manager_id)
    body = (
        gettext_lazy("Your enterprise is eligible; it is granted without application (免申即享).")
        if grant.policy.without_application
        else gettext_lazy("Your enterprise is eligible; apply on the policies page.")
    )
    notify(
        ids,
        "port.policy",
        gettext_lazy("Policy for you: %(title)s"),
        body,
        url=reverse("port:policies"),
        key=f"grant:{grant.pk}:notify",
        params={"title": grant.policy.title},
    )


def sync_policy(policy: Policy, *, actor=None, notify: bool = True, now: dt.datetime | None = None) -> dict:
    """Record a grant (matched) for every enterprise newly eligible, and notify it (免申即享 or not,
    the enterprise is told; a policy without application is then granted by the centre). Idempotent."""
    now = now or timezone.now()
    if actor is not None and not may_manage(actor):
        raise PermissionDenied(_("Only the district centre matches policies."))
    have = set(policy.grants.values_list("enterprise_id", flat=True))
    created = notified = 0
    for enterprise, why in eligible_enterprises(policy):
        if enterprise.pk in have:
            continue
        grant = PolicyGrant.objects.create(
            policy=policy, enterprise=enterprise, reasons=why, matched_on=timezone.localdate(now)
        )
        created += 1
        if notify:
            move_grant(grant, "notify", actor, now=now, relations={SYSTEM})
            notified += 1
    if created:
        audit.record(actor, AuditAction.CREATE, policy, detail=f"port.policy_sync: {created}")
    return {"matched": created, "notified": notified}


def sync_all(now: dt.datetime | None = None) -> dict:
    total = {"matched": 0, "notified": 0}
    for policy in active_policies(timezone.localdate(now) if now else None):
        result = sync_policy(policy, now=now)
        for k in total:
            total[k] += result[k]
    return total


def totals(policies) -> dict[int, dict]:
    """Per policy: grants by state, and the amounts granted and paid (one query)."""
    rows = (
        PolicyGrant.objects.filter(policy__in=policies)
        .order_by()
        .values("policy")
        .annotate(
            matched=Count("pk"),
            notified=Count("pk", filter=~Q(state=GrantState.MATCHED)),
            applied=Count("pk", filter=Q(applied_on__isnull=False)),
            granted=Count("pk", filter=Q(state__in=[GrantState.GRANTED, GrantState.PAID])),
            paid=Count("pk", filter=Q(state=GrantState.PAID)),
            granted_amount=Sum("amount", filter=Q(state__in=[GrantState.GRANTED, GrantState.PAID])),
            paid_amount=Sum("amount", filter=Q(state=GrantState.PAID)),
        )
    )
    return {r["policy"]: r for r in rows}
