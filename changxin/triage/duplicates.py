"""Duplicates of open demands, and similar closed cases with their replies.

Duplicates (flagged at intake): an OPEN demand is a likely repeat of a new one when it is in the
same place and received within a window (default 7 days, `CHANGXIN_DUPLICATE_WINDOW_DAYS`), and
their texts are nearly the same: character 3-gram shingle Jaccard (or, for longer texts, 0.9 ×
containment, which catches "再次反映：…" re-submissions that quote the first) at or above
`CHANGXIN_DUPLICATE_THRESHOLD` (default 0.5).

Why exact shingles and not MinHash (`datasketch`): MinHash/LSH pays off when the candidate set is
large and unfiltered. Here the place × window filter leaves a few hundred candidates even for a
whole district's busy week (Fengtai: a few thousand demands a day over 26 streets), and exact
Jaccard over those costs a few milliseconds, has no false negatives from hashing, needs no index to
keep in sync and no dependency. `bench/triage_duplicates.py` measures it with 10,000 open demands.

Place: the same street/town (given at intake or located by triage); two demands that name
different communities are different places. A demand with no place is compared by address
similarity when it has an address, else by text alone with a stricter threshold.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from changxin.demands.models import CLOSED_STATES, OPEN_STATES, Demand, State

SHINGLE = 3


def window_days() -> float:
    return float(getattr(settings, "CHANGXIN_DUPLICATE_WINDOW_DAYS", 7))


def threshold() -> float:
    return float(getattr(settings, "CHANGXIN_DUPLICATE_THRESHOLD", 0.5))


def normalise(text: str) -> str:
    """NFKC (full-width → ASCII), lower case, without whitespace, punctuation, symbols and masks."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def shingles(text: str, size: int = SHINGLE) -> frozenset[str]:
    text = normalise(text)
    if len(text) <= size:
        return frozenset([text]) if text else frozenset()
    return frozenset(text[i : i + size] for i in range(len(text) - size + 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard, or 0.9 × containment when both texts are long enough for containment to mean much."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    if not shared:
        return 0.0
    jaccard = shared / (len(a) + len(b) - shared)
    if min(len(a), len(b)) >= 20:
        return max(jaccard, 0.9 * shared / min(len(a), len(b)))
    return jaccard


def demand_text(title: str, content: str) -> str:
    return f"{title}\n{content}"


def _place(demand: Demand, street_id=None, community_id=None) -> tuple[int | None, int | None]:
    triage = demand.triage or {}
    street_id = street_id or demand.street_id or triage.get("street_id")
    community_id = community_id or demand.community_id or triage.get("community_id")
    return street_id, community_id


def find_duplicates(
    demand: Demand,
    *,
    street_id: int | None = None,
    community_id: int | None = None,
    limit: int = 5,
    candidates=None,
) -> list[tuple[Demand, float]]:
    """Open demands that this one probably repeats, best first: [(demand, score)].

    `street_id`/`community_id`: the place when the caller located it (intake triage); otherwise
    the demand's own fields or its stored triage suggestion. `candidates`: a queryset to search
    instead of all demands (tests, benchmarks).
    """
    street_id, community_id = _place(demand, street_id, community_id)
    window = dt.timedelta(days=window_days())
    pool = (Demand.objects.all() if candidates is None else candidates).filter(
        state__in=OPEN_STATES,
        master__isnull=True,
        received_at__gte=demand.received_at - window,
        received_at__lte=demand.received_at + window,
    )
    if demand.pk:
        pool = pool.exclude(pk=demand.pk)
    bar = threshold()
    if street_id:
        pool = pool.filter(Q(street_id=street_id) | Q(street__isnull=True, triage__street_id=street_id))
    elif demand.address:
        pool = pool.exclude(address="")
    else:
        bar = min(1.0, bar + 0.2)
    limit_candidates = int(getattr(settings, "CHANGXIN_DUPLICATE_MAX_CANDIDATES", 3000))
    rows = pool.order_by("-received_at").values_list(
        "pk", "title", "content", "address", "community_id", "triage"
    )[:limit_candidates]
    mine = shingles(demand_text(demand.title, demand.content))
    my_address = shingles(demand.address) if not street_id and demand.address else None
    scored: list[tuple[int, float]] = []
    for pk, title, content, address, their_community, their_triage in rows:
        theirs_community = their_community or (their_triage or {}).get("community_id")
        if community_id and theirs_community and theirs_community != community_id:
            continue  # both name a community, and not the same one: a different place
        if my_address is not None and similarity(my_address, shingles(address)) < 0.5:
            continue
        score = similarity(mine, shingles(demand_text(title, content)))
        if score >= bar:
            scored.append((pk, round(score, 3)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    scored = scored[:limit]
    found = Demand.objects.in_bulk([pk for pk, _ in scored])
    return [(found[pk], score) for pk, score in scored if pk in found]


# --- similar closed cases for the officer's reply screen ----------------------------------------


@dataclass
class SimilarCase:
    demand: Demand
    score: float


def similar_closed_cases(demand: Demand, user, limit: int = 5) -> list[SimilarCase]:
    """Closed demands with a reply that read like this one (TF-IDF over character 2–3-grams, cosine),
    among those `user` may see."""
    from changxin.demands.selectors import demands_visible_to

    pool = (
        demands_visible_to(user)
        .filter(state__in=CLOSED_STATES - {State.MERGED})
        .exclude(reply="")
        .exclude(pk=demand.pk)
        .order_by("-replied_at", "-pk")
    )
    cap = int(getattr(settings, "CHANGXIN_SIMILAR_MAX_CANDIDATES", 3000))
    rows = list(pool.values_list("pk", "title", "content")[:cap])
    if not rows:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [normalise(demand_text(t, c)) for _, t, c in rows]
    query = normalise(demand_text(demand.title, demand.content))
    vectoriser = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, min_df=1)
    matrix = vectoriser.fit_transform([*texts, query])
    scores = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    order = scores.argsort()[::-1][:limit]
    picked = [(rows[i][0], float(scores[i])) for i in order if scores[i] > 0.1]
    found = pool.select_related("lead_unit", "category").in_bulk([pk for pk, _ in picked])
    return [SimilarCase(found[pk], round(score, 3)) for pk, score in picked if pk in found]
