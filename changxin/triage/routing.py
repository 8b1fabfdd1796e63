"""The routing table: category × street/town → the unit that should lead a demand."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from changxin.core.models import OrgUnit
from changxin.demands.models import Category
from changxin.triage.models import RoutingRule


@dataclass
class Route:
    unit: OrgUnit
    rule: RoutingRule | None  # None: the default rule (the street/town where it happens)
    uses_category: bool  # did the category decide it (so its confidence matters)?
    uses_street: bool  # did the location decide it?


def ancestors(category: Category | None) -> list[Category]:
    """The category and its parents, deepest first."""
    chain: list[Category] = []
    node = category
    while node is not None:
        chain.append(node)
        node = node.parent if node.parent_id else None
    return chain


def specificity(rule: RoutingRule, depth_of: dict[int, int]) -> tuple:
    return (depth_of.get(rule.category_id, 0), rule.street_id is not None, rule.priority, -rule.pk)


def match_rule(category: Category | None, street: OrgUnit | None) -> RoutingRule | None:
    """The most specific active rule for this category and street, if any."""
    chain = ancestors(category)
    depth_of = {c.pk: c.level for c in chain}
    place = Q(street__isnull=True) | (Q(street=street) if street is not None else Q(pk__in=[]))
    rules = list(
        RoutingRule.objects.filter(is_active=True, unit__is_active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=list(depth_of)))
        .filter(place)
        .select_related("unit", "category", "street")
    )
    if not rules:
        return None
    return max(rules, key=lambda r: specificity(r, depth_of))


def route(category: Category | None, street: OrgUnit | None) -> Route | None:
    """Where a demand of this category at this street should go; None when nothing decides it."""
    rule = match_rule(category, street)
    if rule is not None:
        return Route(
            rule.unit,
            rule,
            uses_category=rule.category_id is not None,
            uses_street=rule.street_id is not None,
        )
    if street is not None and street.is_active:
        return Route(street, None, uses_category=False, uses_street=True)
    return None


# Demo routing: utilities go to the public-service company; the rest follows the default rule
# (the street/town where it happens). Level-3 category names from the taxonomy → unit code.
DEMO_RULES = [
    ("城乡建设", "城市建设和市政管理", "自来水供应", "110106C01"),
    ("城乡建设", "城市建设和市政管理", "电力供应", "110106C02"),
    ("城乡建设", "城市建设和市政管理", "燃气供应", "110106C03"),
    ("城乡建设", "城市建设和市政管理", "冬季采暖", "110106C04"),
]


def seed_demo_rules() -> int:
    created = 0
    for level1, level2, level3, code in DEMO_RULES:
        category = Category.objects.filter(
            name=level3, parent__name=level2, parent__parent__name=level1
        ).first()
        unit = OrgUnit.objects.filter(code=code).first()
        if category is None or unit is None:
            continue
        _, new = RoutingRule.objects.get_or_create(category=category, street=None, unit=unit)
        created += new
    return created
