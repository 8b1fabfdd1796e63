"""Dispatch suggestion (category × location → unit) and the intake triage that stores it.

`suggest_dispatch(demand)` explains itself: every step adds a translated reason. Its confidence
multiplies the confidences of what decided the route: the category's (1.0 when the operator chose
it, else the classifier's) when a category rule or the default rule decided, and the location's
when a street rule or the default rule ("a local matter goes to the street/town where it
happens") decided. A demand without any category gets the default rule at a discount, so it never
dispatches itself.

`triage_demand(demand_id)` runs after intake (the `triage.intake` subscriber, triage/subscribers.py,
in a worker): it stores the
suggestion, the location and the likely duplicates in `Demand.triage` and, when
`CHANGXIN_AUTO_DISPATCH` is on and the suggestion is confident enough
(`CHANGXIN_AUTO_DISPATCH_CONFIDENCE`), dispatches through the transition service as the system.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from changxin.core.models import OrgUnit
from changxin.demands.models import Category, Demand, State
from changxin.demands.selectors import unscoped_demands
from changxin.triage import gazetteer
from changxin.triage.routing import route

log = logging.getLogger(__name__)

UNKNOWN_CATEGORY_FACTOR = 0.7  # the default rule, applied without knowing what the demand is about
MIN_LEAF_SCORE = 0.5


@dataclass
class Suggestion:
    unit: OrgUnit | None
    confidence: float
    reasons: list[str] = field(default_factory=list)
    category: Category | None = None  # the category routing used (level 3 when found, else the top)
    street: OrgUnit | None = None
    community: OrgUnit | None = None
    top_category: Category | None = None
    category_confidence: float | None = None
    leaf_category: Category | None = None
    location: gazetteer.Location | None = None


def _percent(value: float) -> int:
    return round(100 * value)


def _classify(title: str, content: str):
    """The classifier's (top-level name, confidence), or None when it is absent or has no model."""
    try:
        from changxin.triage.classifier import classify_demand
    except ImportError:
        return None
    try:
        prediction = classify_demand(title, content)
    except Exception:  # noqa: BLE001 — a broken model must not break intake
        log.exception("classifier failed")
        return None
    if prediction is None:
        return None
    name = getattr(prediction, "category", None) or getattr(prediction, "name", None)
    name = getattr(name, "name", name)
    confidence = getattr(prediction, "confidence", None)
    if not name or confidence is None:
        return None
    return str(name), float(confidence)


def best_leaf(top: Category, text: str) -> Category | None:
    """The level-3 category under `top` whose name words the text mentions most (None if none does)."""
    import jieba

    best, best_score = None, 0.0
    for leaf in Category.objects.filter(parent__parent=top, level=3, is_active=True).select_related("parent"):
        if leaf.name == "其他":
            continue
        words = [w for w in jieba.lcut(leaf.name) if len(w) >= 2] or [leaf.name]
        score = sum(len(w) for w in words if w in text) / sum(len(w) for w in words)
        if leaf.parent.name in text:
            score += 0.25
        if score > best_score or (
            score == best_score and best is not None and len(leaf.name) > len(best.name)
        ):
            best, best_score = leaf, score
    return best if best_score >= MIN_LEAF_SCORE else None


def suggest_dispatch(demand: Demand, *, location: gazetteer.Location | None = None) -> Suggestion:
    reasons: list[str] = []
    text = f"{demand.title}\n{demand.content}"

    # 1. What is it about?
    top = leaf = None
    category_confidence: float | None = None
    if demand.category_id:
        leaf = demand.category if demand.category.level == 3 else None
        top, category_confidence = demand.category.top, 1.0
        reasons.append(
            _("Category chosen at intake: %(category)s.") % {"category": demand.category.full_name}
        )
    else:
        predicted = _classify(demand.title, demand.content)
        if predicted is None:
            reasons.append(_("No category: the classifier has no trained model."))
        else:
            name, category_confidence = predicted
            top = Category.objects.filter(level=1, name=name).first()
            if top is None:
                category_confidence = None
                reasons.append(
                    _("The classifier suggested an unknown category “%(category)s”.") % {"category": name}
                )
            else:
                reasons.append(
                    _("The classifier suggests %(category)s (%(confidence)s%%).")
                    % {"category": top.name, "confidence": _percent(category_confidence)}
                )
                leaf = best_leaf(top, text)
                if leaf is not None:
                    reasons.append(_("Keywords point to %(category)s.") % {"category": leaf.full_name})
    routing_category = leaf or (demand.category if demand.category_id else top)

    # 2. Where is it?
    street = community = None
    if demand.street_id:
        street, community = demand.street, demand.community
        location_confidence = 1.0
        where = f"{street.name} / {community.name}" if community else street.name
        reasons.append(_("Location given at intake: %(place)s.") % {"place": where})
        location = location or gazetteer.Location(
            street.pk,
            street.name,
            community.pk if community else None,
            community.name if community else "",
            1.0,
        )
    else:
        location = location or gazetteer.locate(demand.address, text)
        location_confidence = location.confidence
        if location.found:
            units = OrgUnit.objects.in_bulk([pk for pk in (location.street_id, location.community_id) if pk])
            street, community = units.get(location.street_id), units.get(location.community_id)
            where = (
                f"{location.street_name} / {location.community_name}" if community else location.street_name
            )
            reasons.append(
                _("Location %(place)s from “%(names)s” (%(confidence)s%%).")
                % {
                    "place": where,
                    "names": "、".join(location.matches[:5]),
                    "confidence": _percent(location_confidence),
                }
            )
            if location.ambiguous:
                reasons.append(
                    _("Other possible streets/towns: %(streets)s.")
                    % {"streets": "、".join(name for name, _share in location.candidates[1:])}
                )
        else:
            reasons.append(_("No Fengtai street, community or known place was found in the address or text."))
        if location.outside:
            reasons.append(_("The text names another district; the demand may be outside Fengtai."))

    # 3. Who should lead?
    chosen = route(routing_category, street)
    if chosen is None:
        reasons.append(_("No routing rule applies and the place is unknown: a dispatcher must choose."))
        return Suggestion(
            None, 0.0, reasons, routing_category, street, community, top, category_confidence, leaf, location
        )
    confidence = 1.0
    if chosen.rule is not None:
        reasons.append(_("Routing rule: %(rule)s.") % {"rule": str(chosen.rule)})
        if chosen.uses_category:
            confidence *= category_confidence or 0.0
    else:
        reasons.append(_("Default rule: a local matter goes to the street/town where it happens."))
        confidence *= category_confidence if category_confidence is not None else UNKNOWN_CATEGORY_FACTOR
    if chosen.uses_street:
        confidence *= location_confidence
    return Suggestion(
        chosen.unit,
        round(confidence, 3),
        reasons,
        routing_category,
        street,
        community,
        top,
        category_confidence,
        leaf,
        location,
    )


# --- intake ------------------------------------------------------------------------------------


def auto_dispatch_enabled() -> bool:
    return bool(getattr(settings, "CHANGXIN_AUTO_DISPATCH", False))


def triage_demand(demand_id: int) -> dict:
    """Compute and store the triage suggestion of a new demand; dispatch it when allowed and sure."""
    from changxin.demands.services import transition
    from changxin.demands.workflow import WorkflowError
    from changxin.triage.duplicates import find_duplicates, index_demand

    started = time.perf_counter()
    demand = unscoped_demands().select_related("category", "street", "community").get(pk=demand_id)
    index_demand(demand)  # first: a demand triaged after this one finds it
    with translation.override(settings.LANGUAGE_CODE):
        suggestion = suggest_dispatch(demand)
        location = suggestion.location
        duplicates = find_duplicates(
            demand,
            street_id=suggestion.street.pk if suggestion.street else None,
            community_id=suggestion.community.pk if suggestion.community else None,
        )
        reasons = list(suggestion.reasons)
        for other, score in duplicates:
            reasons.append(
                _("Possibly repeats open demand %(number)s (similarity %(score)s%%).")
                % {"number": other.number, "score": _percent(score)}
            )
        auto = False
        threshold = float(getattr(settings, "CHANGXIN_AUTO_DISPATCH_CONFIDENCE", 0.9))
        if (
            auto_dispatch_enabled()
            and suggestion.unit is not None
            and suggestion.confidence >= threshold
            and not duplicates
            and demand.state == State.RECEIVED
        ):
            note = _("Dispatched automatically: confidence %(confidence)s%% ≥ %(threshold)s%%.") % {
                "confidence": _percent(suggestion.confidence),
                "threshold": _percent(threshold),
            }
            try:
                transition(
                    demand.pk,
                    "dispatch",
                    None,
                    note=note,
                    lead_unit=suggestion.unit,
                    automatic=True,
                    reasons=reasons,
                )
                auto = True
                reasons.append(note)
            except (WorkflowError, ValidationError) as exc:
                reasons.append(
                    _("Automatic dispatch was refused: %(error)s")
                    % {"error": getattr(exc, "message", str(exc))}
                )
    data = {
        "category": suggestion.top_category.name if suggestion.top_category else None,
        "confidence": suggestion.category_confidence,
        "category_id": suggestion.leaf_category.pk if suggestion.leaf_category else None,
        "street_id": suggestion.street.pk if suggestion.street else None,
        "street_name": suggestion.street.name if suggestion.street else "",
        "community_id": suggestion.community.pk if suggestion.community else None,
        "community_name": suggestion.community.name if suggestion.community else "",
        "location_confidence": location.confidence if location else 0.0,
        "unit": suggestion.unit.pk if suggestion.unit else None,
        "unit_name": suggestion.unit.name if suggestion.unit else "",
        "dispatch_confidence": suggestion.confidence,
        "reasons": [str(r) for r in reasons],
        "duplicates": [{"id": d.pk, "number": d.number, "title": d.title, "score": s} for d, s in duplicates],
        "auto_dispatched": auto,
        "triage_ms": round(1000 * (time.perf_counter() - started), 1),
    }
    # Advisory data, not a change of the demand: the one write outside demands.services the house
    # allows. It never touches state, version or the official street/community fields.
    current = unscoped_demands().filter(pk=demand_id).values_list("triage", flat=True).first() or {}
    unscoped_demands().filter(pk=demand_id).update(triage={**current, **data})
    return data
