"""先丰站 reads.

Public reads (tracking by code, divisions, categories) carry no personal data: the tracking code is
the requester's capability for their own demand and nothing else. Staff reads (repeat callers) go
through the scoped demand selectors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from changxin.core import audit, roles
from changxin.core.models import OrgUnit
from changxin.core.params import parse_int
from changxin.demands.models import TRACKING_ALPHABET, Category, Demand, State
from changxin.demands.selectors import demands_visible_to, unscoped_demands

TRACKING_CODE_RE = re.compile(rf"^[{TRACKING_ALPHABET}]{{10}}$")
REPEAT_CALLER_LIMIT = 5

# Timeline labels for actions whose state label alone would mislead the requester.
ACTION_LABELS = {
    "answer": _("Answered at intake"),
    "redispatch": _("Passed to another unit"),
    "reject_dispute": _("Dispatch confirmed"),
    "reopen": _("Reopened for further handling"),
    "approve_extension": _("Deadline extended"),
}
# Actions shown on the public timeline besides state changes.
PUBLIC_ACTIONS_WITHOUT_STATE_CHANGE = {"approve_extension"}


def normalise_tracking_code(code: str | None) -> str:
    return re.sub(r"[\s\-]", "", code or "").upper()


def find_by_tracking_code(code: str | None) -> Demand | None:
    """The demand a tracking code belongs to, or None (malformed and unknown codes look the same)."""
    code = normalise_tracking_code(code)
    if not TRACKING_CODE_RE.match(code):
        return None
    return (
        unscoped_demands()
        .citizen()  # a proactive task (主动治理) has no requester and no public page
        .select_related("lead_unit", "street", "community", "master", "requester_user")
        .filter(tracking_code=code)
        .first()
    )


def get_submitted(pk: int | None) -> Demand | None:
    """The demand this browser session just filed (its pk is kept in the session, never in the URL)."""
    if not pk:
        return None
    return unscoped_demands().select_related("street", "community").filter(pk=pk).first()


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    label: str
    unit: str = ""


def public_timeline(demand: Demand) -> list[TimelineEntry]:
    """State changes and their times, with public unit names only: no actors, notes or personal data."""
    entries = []
    for event in demand.events.order_by("at", "id"):
        changed = event.from_state != event.to_state
        if not changed and event.action not in PUBLIC_ACTIONS_WITHOUT_STATE_CHANGE:
            continue
        label = ACTION_LABELS.get(event.action) or (State(event.to_state).label if event.to_state else "")
        if not label:
            continue
        unit = ""
        if event.action in ("dispatch", "redispatch"):
            unit = (event.data or {}).get("lead_unit_name", "")
        entries.append(TimelineEntry(at=event.at, label=str(label), unit=unit))
    return entries


def streets() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.streets_and_towns().filter(is_active=True).order_by("path")


def communities_of(street_id) -> QuerySet[OrgUnit]:
    street_id = parse_int(street_id, min_value=1)
    if street_id is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(
        parent_id=street_id, kind__in=roles.COMMUNITY_KINDS, is_active=True
    ).order_by("path")


def all_communities() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(kind__in=roles.COMMUNITY_KINDS, is_active=True)


def leaf_categories(q: str = "") -> QuerySet[Category]:
    categories = Category.objects.filter(level=3, is_active=True).order_by("full_name")
    q = (q or "").strip()[:50]
    if q:  # by the names at every level and by everyday synonyms (垃圾 → 环境卫生 …)
        from changxin.demands.taxonomy import search_categories

        found = [option.category.pk for option in search_categories(q, limit=50)]
        categories = categories.filter(Q(full_name__icontains=q) | Q(pk__in=found))
    return categories


def own_demands(user) -> QuerySet[Demand]:
    """A signed-in citizen's or enterprise's own demands (scoping shows them nothing else)."""
    if not getattr(user, "is_authenticated", False):
        return unscoped_demands().none()
    return demands_visible_to(user).filter(requester_user=user).order_by("-received_at")


def last_enterprise_name(user) -> str:
    """The enterprise name an enterprise user gave last time, to fill in the next form."""
    last = own_demands(user).exclude(enterprise_name="").values_list("enterprise_name", flat=True).first()
    return last or ""


def repeat_caller_demands(
    user, phone: str, *, request=None, limit: int = REPEAT_CALLER_LIMIT
) -> list[Demand]:
    """The caller's latest demands, for the operator to spot repeat callers.

    The operator is shown the callers' unmasked name and phone, so every shown demand is logged as
    a personal-data view.
    """
    phone = (phone or "").strip()
    if len(phone) < 5:
        return []
    demands = list(
        demands_visible_to(user)
        .filter(requester_phone=phone)
        .select_related("lead_unit", "street")
        .order_by("-received_at")[:limit]
    )
    for demand in demands:
        audit.record_personal_view(user, demand, ["requester_name", "requester_phone"], request=request)
    return demands
