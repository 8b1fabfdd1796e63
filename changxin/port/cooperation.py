"""合作方向清单: offers and needs posted by enterprises, city application scenarios published by the
district, and the matches between them.

Matching (`refresh_matches`): TF-IDF cosine over jieba words (the tokenizer triage already uses,
`triage.methods.jieba_tokens`) of title + field + description; every open offer is compared with
the open needs of *other* enterprises and with the open scenarios. A pair at or above `MIN_SCORE`
(at most `PER_OFFER` per offer) is a proposed `Match`, its reason the shared key terms (the words
contributing most to the cosine) and the score. A match is sent to both sides (staff or a side),
each side accepts or declines, and when both accepted the platform connects them: only then does
either side see the other's contact. Each step: `MatchEvent`, audit, notifications to both sides.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import audit, roles
from changxin.core.models import AuditAction
from changxin.core.scope import restrict
from changxin.core.workflow import WorkflowError
from changxin.port.machines import (
    ACCEPT,
    DECLINE,
    MATCH,
    OFFER_SIDE,
    OTHER_SIDE,
    STAFF,
    SYSTEM,
)
from changxin.port.models import (
    CooperationItem,
    CooperationKind,
    Enterprise,
    Match,
    MatchEvent,
    MatchState,
    Scenario,
)

MIN_SCORE = 0.12  # cosine below this is noise for short texts (see tests/test_cooperation.py)
PER_OFFER = 5  # the best matches kept per offer
TERMS = 5  # key terms shown as the reason

# words that say nothing about what is offered or sought
STOPWORDS = frozenset(
    [
        "我们",
        "企业",
        "公司",
        "需要",
        "需求",
        "提供",
        "寻求",
        "希望",
        "进行",
        "开展",
        "相关",
        "可以",
        "能够",
        "以及",
        "一个",
        "一批",
        "具有",
        "具备",
        "拥有",
        "其他",
        "目前",
        "支持",
        "合作",
        "有限公司",
        "有限责任",
        "我司",
        "本公司",
        "方面",
        "领域",
        "服务",
    ]
)
WORD = re.compile(r"[\w]{2,}", re.UNICODE)


def tokens(text: str) -> list[str]:
    """The words of a text for matching: jieba's words (as triage), lower-cased, two characters or
    more, neither digits only nor a stop word."""
    from changxin.triage.methods import jieba_tokens

    return [
        w
        for w in (t.strip().lower() for t in jieba_tokens(text or ""))
        if WORD.fullmatch(w) and not w.isdigit() and w not in STOPWORDS
    ]


# --- relations and permissions -----------------------------------------------------------------


def _member(user, enterprise: Enterprise | None) -> bool:
    return (
        enterprise is not None
        and getattr(user, "role", None) == roles.Role.ENTERPRISE
        and enterprise.members.filter(pk=user.pk).exists()
    )


def may_post(user, enterprise: Enterprise) -> bool:
    """An enterprise's own accounts, its service manager and the centre post its offers and needs."""
    if not roles.is_active(user) or roles.is_read_only(user) or not enterprise.is_active:
        return False
    return roles.is_centre(user) or enterprise.manager_id == user.pk or _member(user, enterprise)


def may_publish_scenarios(user) -> bool:
    return roles.is_active(user) and roles.is_centre(user)


def _answers_for(user, enterprise: Enterprise | None) -> bool:
    """Who answers a match for an enterprise: its own accounts; for an enterprise without accounts,
    its service manager (who relays the match to it)."""
    if enterprise is None:
        return False
    if _member(user, enterprise):
        return True
    return enterprise.manager_id == user.pk and not enterprise.members.exists()


def _side_for(rels: set[str], match: Match) -> str:
    """The side the user answers for: the first of theirs still unanswered."""
    sides = [s for s in (OFFER_SIDE, OTHER_SIDE) if s in rels]
    for side in sides:
        if not (match.offer_answer if side == OFFER_SIDE else match.other_answer):
            return side
    return sides[0] if sides else OTHER_SIDE


def match_relations(user, match: Match) -> set[str]:
    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    rels = set()
    offer_ent = match.offer.enterprise
    other_ent = match.need.enterprise if match.need_id else None
    if roles.is_centre(user) or user.pk in (offer_ent.manager_id, getattr(other_ent, "manager_id", None)):
        rels.add(STAFF)
    if _answers_for(user, offer_ent):
        rels.add(OFFER_SIDE)
    if _answers_for(user, other_ent):
        rels.add(OTHER_SIDE)
    if match.scenario_id and (
        roles.is_centre(user) or (roles.is_unit_staff(user) and roles.covers(user, match.scenario.owner_unit))
    ):
        rels.add(OTHER_SIDE)
    return rels


def match_actions(user, match: Match):
    rels = match_relations(user, match)
    out = []
    for step in MATCH.offered_by_table(match.state, rels):
        if step.name in (ACCEPT, DECLINE):
            match.pending_side = _side_for(rels, match)
        if step.failed_guard(match) is None:
            out.append(step)
    match.pending_side = ""
    return out


def may_see_contacts(user, match: Match) -> bool:
    """The other side's contact: only once both sides accepted, and only for those involved."""
    return match.state == MatchState.CONNECTED and bool(match_relations(user, match))


# --- reads -------------------------------------------------------------------------------------


def items_visible_to(user):
    return restrict(CooperationItem.objects.select_related("enterprise"), user)


def matches_visible_to(user):
    return restrict(
        Match.objects.select_related("offer__enterprise", "need__enterprise", "scenario__owner_unit"),
        user,
    )


def open_scenarios(today: dt.date | None = None):
    today = today or timezone.localdate()
    return (
        Scenario.objects.filter(is_open=True)
        .filter(Q(deadline__isnull=True) | Q(deadline__gte=today))
        .select_related("owner_unit")
    )


# --- writes ------------------------------------------------------------------------------------


def _event(match: Match, actor, action: str, *, note="", at=None, **data) -> MatchEvent:
    return MatchEvent.objects.create(
        match=match,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if getattr(actor, "is_authenticated", False) else "system")[:150],
        action=action,
        note=note,
        data=data,
    )


@transaction.atomic
def post_item(
    enterprise: Enterprise, data: dict[str, Any], *, actor, refresh: bool = True
) -> CooperationItem:
    """An offer or a need of `enterprise`; its matches are computed at once."""
    from changxin.port.services import record_event

    if not may_post(actor, enterprise):
        raise PermissionDenied(
            _("Only the enterprise's own accounts, its service manager and the centre post for it.")
        )
    item = CooperationItem(enterprise=enterprise, posted_by=actor, **data)
    item.full_clean(exclude=["posted_by"])
    item.save()
    record_event(enterprise, actor, "cooperation", item=item.pk, kind=item.kind, title=item.title)
    audit.record(actor, AuditAction.CREATE, item, detail="port.cooperation")
    if refresh:
        refresh_matches()
    return item


@transaction.atomic
def close_item(item: CooperationItem, *, actor) -> CooperationItem:
    from changxin.port.services import record_event

    if not may_post(actor, item.enterprise):
        raise PermissionDenied(
            _("Only the enterprise's own accounts, its service manager and the centre post for it.")
        )
    if item.is_open:
        item.is_open = False
        item.save(update_fields=["is_open"])
        record_event(item.enterprise, actor, "cooperation_closed", item=item.pk)
        audit.record(actor, AuditAction.UPDATE, item, fields=["is_open"], detail="port.cooperation_closed")
    return item


@transaction.atomic
def publish_scenario(data: dict[str, Any], *, actor) -> Scenario:
    if actor is not None and not may_publish_scenarios(actor):
        raise PermissionDenied(_("Only the district centre publishes city application scenarios."))
    scenario = Scenario(published_by=actor, **data)
    scenario.full_clean(exclude=["published_by"])
    scenario.save()
    audit.record(actor, AuditAction.CREATE, scenario, detail="port.scenario")
    refresh_matches()
    return scenario


def _fit(texts: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=tokens, sublinear_tf=True, norm="l2")
    return vectorizer, vectorizer.fit_transform(texts)


def score_pairs(left: list[str], right: list[str]) -> list[tuple[int, int, float, list[str]]]:
    """(i, j, cosine, shared key terms) for every pair of left × right texts with a positive score."""
    if not left or not right:
        return []
    try:
        vectorizer, matrix = _fit(left + right)
    except ValueError:  # no words at all
        return []
    names = vectorizer.get_feature_names_out()
    a, b = matrix[: len(left)], matrix[len(left) :]
    sims = (a @ b.T).tocoo()
    out = []
    for i, j, value in zip(sims.row, sims.col, sims.data, strict=True):
        if value <= 0:
            continue
        product = a[i].multiply(b[j]).tocoo()
        order = sorted(zip(product.data, product.col, strict=True), reverse=True)[:TERMS]
        out.append((int(i), int(j), float(value), [str(names[c]) for _v, c in order]))
    return out


def candidates(today: dt.date | None = None) -> list[dict]:
    """The pairs worth proposing: each open offer's best needs (of other enterprises) and scenarios."""
    offers = list(
        CooperationItem.objects.filter(kind=CooperationKind.OFFER, is_open=True, enterprise__is_active=True)
    )
    needs = list(
        CooperationItem.objects.filter(kind=CooperationKind.NEED, is_open=True, enterprise__is_active=True)
    )
    scenarios = list(open_scenarios(today))
    others = [("need", n) for n in needs] + [("scenario", s) for s in scenarios]
    pairs: dict[int, list[dict]] = {}
    for i, j, score, terms in score_pairs([o.text() for o in offers], [x.text() for _k, x in others]):
        offer = offers[i]
        kind, other = others[j]
        if score < MIN_SCORE or (kind == "need" and other.enterprise_id == offer.enterprise_id):
            continue
        pairs.setdefault(offer.pk, []).append(
            {"offer": offer, kind: other, "score": round(score, 4), "terms": terms}
        )
    out = []
    for found in pairs.values():
        found.sort(key=lambda p: -p["score"])
        out.extend(found[:PER_OFFER])
    return out


@transaction.atomic
def refresh_matches(today: dt.date | None = None) -> dict:
    """Store the candidates as proposed matches (new pairs) or update a still-proposed match's score
    and terms. Idempotent; the periodic job runs it nightly, posting an item runs it at once."""
    created = updated = 0
    for pair in candidates(today):
        lookup = {"offer": pair["offer"]}
        if "need" in pair:
            lookup["need"] = pair["need"]
        else:
            lookup["scenario"] = pair["scenario"]
        match = Match.objects.filter(**lookup).first()
        if match is None:
            match = Match.objects.create(**lookup, score=pair["score"], terms=pair["terms"])
            _event(match, None, "propose", score=pair["score"], terms=pair["terms"])
            created += 1
        elif match.state == MatchState.PROPOSED and (
            match.score != pair["score"] or match.terms != pair["terms"]
        ):
            match.score, match.terms = pair["score"], pair["terms"]
            match.save(update_fields=["score", "terms", "updated_at"])
            updated += 1
    return {"created": created, "updated": updated}


def _side_users(match: Match) -> tuple[list[int], list[int]]:
    """(offer side, other side) recipients: the enterprises' accounts and managers; for a scenario
    the owner unit's staff."""
    from changxin.notifications.services import unit_staff

    def of(enterprise):
        ids = list(enterprise.members.filter(is_active=True).values_list("pk", flat=True))
        return ids + ([enterprise.manager_id] if enterprise.manager_id else [])

    offer = of(match.offer.enterprise)
    other = (
        of(match.need.enterprise)
        if match.need_id
        else [u.pk for u in unit_staff([match.scenario.owner_unit_id])]
    )
    return offer, other


TITLES = {
    "send": gettext_lazy("Cooperation match: %(offer)s ↔ %(other)s"),
    "connect": gettext_lazy("Connected: %(offer)s ↔ %(other)s"),
    "decline": gettext_lazy("Match declined: %(offer)s ↔ %(other)s"),
}
BODIES = {
    "send": gettext_lazy("A possible partner for your cooperation item; accept or decline it."),
    "connect": gettext_lazy("Both sides accepted: the contacts are now shown on the match."),
    "decline": gettext_lazy("The match was declined."),
}


def _notify(match: Match, name: str, event: MatchEvent, actor) -> None:
    from changxin.notifications.services import notify

    offer, other = _side_users(match)
    notify(
        offer + other,
        f"port.match_{name}",
        TITLES[name],
        BODIES[name],
        url=reverse("port:match", args=[match.pk]),
        event_id=event.pk,
        params={"offer": match.offer.title, "other": match.other_title},
        exclude=[getattr(actor, "pk", None)],
    )


def apply_match(match: Match, name: str, actor, *, note: str = "", now=None, expected_version=None) -> Match:
    """send / accept / decline a match (row lock, guards, event, audit, notifications); after the
    second acceptance the platform connects both sides."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Match.objects.select_for_update(of=("self",))  # need/scenario are nullable: outer joins
            .select_related("offer__enterprise", "need__enterprise", "scenario__owner_unit")
            .get(pk=match.pk)
        )
        if expected_version not in (None, "") and str(locked.version) != str(expected_version):
            raise WorkflowError(
                "stale", _("Someone else changed this match a moment ago. Reload it and try again.")
            )
        rels = match_relations(actor, locked)
        side = _side_for(rels, locked)
        if name in (ACCEPT, DECLINE):
            locked.pending_side = side
        step = MATCH.check(name, locked, rels, now)
        previous = locked.state
        if name in (ACCEPT, DECLINE):
            setattr(locked, "offer_answer" if side == OFFER_SIDE else "other_answer", name)
        if step.target:
            locked.state = step.target
        locked.version += 1
        locked.save()
        event = _event(locked, actor, name, note=note, at=now, side=side if name in (ACCEPT, DECLINE) else "")
        audit.record(actor, AuditAction.STATE, locked, detail=f"match {name}: {previous} → {locked.state}")
        if name in ("send", DECLINE):
            _notify(locked, name, event, actor)
        if name == ACCEPT and MATCH.allows("connect", locked, {SYSTEM}, now):
            locked.state = MatchState.CONNECTED
            locked.version += 1
            locked.save()
            event = _event(locked, None, "connect", at=now)
            audit.record(None, AuditAction.STATE, locked, detail="match connect")
            _notify(locked, "connect", event, None)
    match.refresh_from_db()
    return locked


def validation_message(exc: ValidationError) -> str:
    return " ".join(str(m) for messages in exc.message_dict.values() for m in messages)
