"""Duplicates of open demands, and similar closed cases with their replies.

Duplicates (flagged at intake): an OPEN demand is a likely repeat of a new one when it is in the
same place and received within a window (default 7 days, `CHANGXIN_DUPLICATE_WINDOW_DAYS`), and
their texts are nearly the same: character 3-gram shingle Jaccard (or, for longer texts, 0.9 ×
containment, which catches "再次反映：…" re-submissions that quote the first) at or above
`CHANGXIN_DUPLICATE_THRESHOLD` (default 0.5).

Why shingles over a filtered candidate set and not MinHash/LSH (`datasketch`): MinHash pays off
when the candidate set is large and unfiltered. Here the place × window filter leaves a few
hundred candidates even for a busy week (Fengtai: a few thousand demands a day over 26 streets),
and the Jaccard of all of them is computed in one vectorised numpy pass (shingles hashed to 32
bits: a collision inside one text is a one-in-ten-million event, so the score is exact for all
practical purposes) in tens of milliseconds — no index to keep in sync, no sampling error, no
dependency. `bench/triage_duplicates.py` measures it with 10,000 open demands.

Place: the same street/town (given at intake or located by triage); two demands that name
different communities are different places. A demand with no place is compared by address
similarity when it has an address, else by text alone with a stricter threshold.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Q

from changxin.demands.models import CLOSED_STATES, OPEN_STATES, Demand, State
from changxin.demands.selectors import unscoped_demands

SHINGLE = 3
_NOT_WORD = re.compile(r"[\W_]+")  # whitespace, punctuation, symbols; keeps CJK, letters, digits


def window_days() -> float:
    return float(getattr(settings, "CHANGXIN_DUPLICATE_WINDOW_DAYS", 7))


def threshold() -> float:
    return float(getattr(settings, "CHANGXIN_DUPLICATE_THRESHOLD", 0.5))


def normalise(text: str) -> str:
    """NFKC (full-width → ASCII), lower case, without whitespace, punctuation, symbols and masks."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text or "").lower())


@functools.cache
def _table() -> np.ndarray:
    """Code point → normalised code point for the Basic Multilingual Plane (0 = drop), the same
    normalisation as `normalise()`, as a lookup table so that shingling is vectorised."""
    table = np.zeros(0x10000, dtype=np.int64)
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates
        mapped = unicodedata.normalize("NFKC", chr(cp)).lower()
        if len(mapped) == 1 and ord(mapped) < 0x10000 and not _NOT_WORD.match(mapped):
            table[cp] = ord(mapped)
    return table


def shingles(text: str, size: int = SHINGLE) -> np.ndarray:
    """The sorted distinct character 3-grams of the normalised text, each packed into one int64."""
    codes = np.frombuffer((text or "").encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    bmp = codes < 0x10000
    codes[bmp] = _table()[codes[bmp]]
    codes = codes[codes != 0]
    if len(codes) < size:
        return np.array([_pack(codes)] if len(codes) else [], dtype=np.int64)
    keys = codes[: len(codes) - size + 1].copy()
    for offset in range(1, size):
        keys = (keys << 21) | codes[offset : len(codes) - size + 1 + offset]
    keys.sort()  # sort + mask: several times faster than np.unique on small arrays
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _pack(codes: np.ndarray) -> int:
    key = 0
    for code in codes.tolist():
        key = (key << 21) | code
    return key


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard, or 0.9 × containment when both texts are long enough for containment to mean much."""
    if not len(a) or not len(b):
        return 0.0
    shared = len(np.intersect1d(a, b, assume_unique=True))
    if not shared:
        return 0.0
    jaccard = shared / (len(a) + len(b) - shared)
    if min(len(a), len(b)) >= 20:
        return max(jaccard, 0.9 * shared / min(len(a), len(b)))
    return jaccard


def _hash32(keys: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return ((keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)).astype(np.int64)


def similarities(mine: np.ndarray, texts: list[str], size: int = SHINGLE) -> np.ndarray:
    """`similarity(mine, shingles(t))` for every text, in one vectorised pass over all of them."""
    scores = np.zeros(len(texts))
    if not texts or not len(mine):
        return scores
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    doc_of = np.repeat(np.arange(len(texts)), lengths)
    bmp = codes < 0x10000
    codes[bmp] = _table()[codes[bmp]]
    keep = codes != 0
    codes, doc_of = codes[keep], doc_of[keep]
    width = len(codes) - size + 1
    if width <= 0:
        return scores
    keys = codes[:width].copy()
    for offset in range(1, size):
        keys = (keys << 21) | codes[offset : width + offset]
    same = doc_of[:width] == doc_of[size - 1 : width + size - 1]
    # One flat sort of (document, 32-bit hash of the shingle) instead of a two-key lexsort; a hash
    # collision between two of a document's ~400 shingles is a one-in-ten-million event.
    combined = np.sort((doc_of[:width][same] << 32) | _hash32(keys[same]))
    first = np.empty(len(combined), dtype=bool)
    first[:1] = True
    np.not_equal(combined[1:], combined[:-1], out=first[1:])
    combined = combined[first]
    docs, hashes = combined >> 32, combined & 0xFFFFFFFF
    mine = np.unique(_hash32(mine))
    sizes = np.bincount(docs, minlength=len(texts)).astype(float)
    position = np.minimum(np.searchsorted(mine, hashes), len(mine) - 1)
    shared = np.bincount(docs[mine[position] == hashes], minlength=len(texts)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(sizes > 0, shared / (sizes + len(mine) - shared), 0.0)
        containment = np.where(sizes > 0, shared / np.minimum(sizes, len(mine)), 0.0)
    long_enough = np.minimum(sizes, len(mine)) >= 20
    return np.where(long_enough, np.maximum(jaccard, 0.9 * containment), jaccard)


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
    indexed: bool = True,
    stats: dict | None = None,
) -> list[tuple[Demand, float]]:
    """Open demands that this one probably repeats, best first: [(demand, score)].

    `street_id`/`community_id`: the place when the caller located it (intake triage); otherwise
    the demand's own fields or its stored triage suggestion. `candidates`: a queryset to search
    instead of all demands (tests, benchmarks). `indexed=False`: read every open demand of the
    place and window instead of asking the index (the reference the index is tested against).
    `stats`: filled with how many candidate rows were read and scored.
    """
    street_id, community_id = _place(demand, street_id, community_id)
    window = dt.timedelta(days=window_days())
    pool = (unscoped_demands() if candidates is None else candidates).filter(
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
    if not street_id:
        limit_candidates //= 3  # the slow path (no place): only the most recent ones
    if indexed and candidates is None:
        # The index names the demands whose text is like this one; the filters above then apply
        # to those few rows only, however many demands are open.
        pool = pool.filter(pk__in=indexed_candidates(demand, window))
    rows = list(
        pool.order_by("-received_at").values_list(
            "pk", "title", "content", "address", "community_id", "triage"
        )[:limit_candidates]
    )
    if stats is not None:
        stats["candidates"] = len(rows)
    mine = shingles(demand_text(demand.title, demand.content))
    my_address = shingles(demand.address) if not street_id and demand.address else None
    kept: list[tuple[int, str]] = []
    for pk, title, content, address, their_community, their_triage in rows:
        theirs_community = their_community or (their_triage or {}).get("community_id")
        if community_id and theirs_community and theirs_community != community_id:
            continue  # both name a community, and not the same one: a different place
        if my_address is not None and similarity(my_address, shingles(address)) < 0.5:
            continue
        kept.append((pk, demand_text(title, content)))
    scores = similarities(mine, [text for _, text in kept])
    scored = [
        (pk, round(float(score), 3)) for (pk, _), score in zip(kept, scores, strict=True) if score >= bar
    ]
    scored.sort(key=lambda item: (-item[1], item[0]))
    scored = scored[:limit]
    found = unscoped_demands().in_bulk([pk for pk, _ in scored])
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


# --- the index: pg_trgm on PostgreSQL, MinHash LSH bands elsewhere ----------------------------------
#
# Both hold only recent open demands (`index_demand` when triage runs; `maintain_index`, a
# periodic job, adds missed ones and drops closed or old ones), so a lookup reads the few rows
# whose text resembles the new one — its cost follows the number of similar texts, not the number
# of open demands. Candidates are then scored exactly as without the index.

TRGM_CANDIDATE_SIMILARITY = 0.3  # pg_trgm similarity for a candidate; the exact score decides
INDEX_CANDIDATES = 500
BANDS, ROWS = 16, 2  # 32 MinHash values in 16 bands of 2: P(candidate) = 1 − (1 − J²)¹⁶
_MERSENNE = (1 << 61) - 1


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@functools.cache
def _minhash_params() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20260112)
    a = rng.integers(1, 1 << 30, size=BANDS * ROWS, dtype=np.int64)  # a·h < 2^62: no overflow
    b = rng.integers(0, 1 << 31, size=BANDS * ROWS, dtype=np.int64)
    return a, b


def band_keys(text: str) -> list[int]:
    """The text's 16 LSH band keys (signed 63-bit): MinHash over its 32-bit shingle hashes."""
    hashes = np.unique(_hash32(shingles(text)))
    if not len(hashes):
        return []
    a, b = _minhash_params()
    values = ((a[:, None] * hashes[None, :] + b[:, None]) % ((1 << 31) - 1)).min(axis=1)
    keys = []
    for band in range(BANDS):
        v1, v2 = (int(x) for x in values[band * ROWS : (band + 1) * ROWS])
        keys.append((((v1 << 31) | v2) ^ (band * 0x9E3779B97F4A7C15)) & ((1 << 63) - 1))
    return keys


def index_demand(demand: Demand) -> None:
    """Enter a demand's text in the duplicate index (idempotent)."""
    from changxin.triage.models import DuplicateBand, DuplicateText

    text = normalise(demand_text(demand.title, demand.content))
    if _postgres():
        DuplicateText.objects.update_or_create(demand_id=demand.pk, defaults={"text": text})
        return
    DuplicateBand.objects.filter(demand_id=demand.pk).delete()
    DuplicateBand.objects.bulk_create(
        DuplicateBand(demand_id=demand.pk, band=key)
        for key in band_keys(demand_text(demand.title, demand.content))
    )


def indexed_candidates(demand: Demand, window: dt.timedelta) -> list[int]:
    """Ids of indexed open demands whose text resembles this one's (a superset of its duplicates
    for any realistic threshold; the exact score is computed by the caller)."""
    from django.db import connection, transaction

    from changxin.triage.models import DuplicateBand

    if _postgres():
        text = normalise(demand_text(demand.title, demand.content))
        if not text:
            return []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [TRGM_CANDIDATE_SIMILARITY])
            cursor.execute(
                CANDIDATE_SQL,
                [text, demand.received_at - window, demand.received_at + window, text, INDEX_CANDIDATES],
            )
            return [row[0] for row in cursor.fetchall()]
    keys = band_keys(demand_text(demand.title, demand.content))
    if not keys:
        return []
    return list(
        DuplicateBand.objects.filter(band__in=keys)
        .values_list("demand_id", flat=True)
        .distinct()[:INDEX_CANDIDATES]
    )


# The index finds similar texts (GIN, `%`), the join keeps those received in the window.
CANDIDATE_SQL = """
SELECT t.demand_id
  FROM triage_duplicatetext t
  JOIN demands_demand d ON d.id = t.demand_id
 WHERE t.text %% %s
   AND d.received_at BETWEEN %s AND %s
 ORDER BY similarity(t.text, %s) DESC
 LIMIT %s
"""


def maintain_index(now: dt.datetime | None = None) -> dict:
    """Drop closed, merged and out-of-window demands from the index; add open ones it lacks
    (imported, generated, or received while triage was down). Returns the counts."""
    from django.utils import timezone

    from changxin.triage.models import DuplicateBand, DuplicateText

    now = now or timezone.now()
    oldest = now - 2 * dt.timedelta(days=window_days())
    model = DuplicateText if _postgres() else DuplicateBand
    stale = model.objects.filter(
        Q(demand__received_at__lt=oldest)
        | ~Q(demand__state__in=OPEN_STATES)
        | Q(demand__master__isnull=False)
    )
    gone = list(stale.values_list("demand_id", flat=True).distinct())
    model.objects.filter(demand_id__in=gone).delete()
    dropped = len(gone)
    missing = (
        unscoped_demands()
        .filter(state__in=OPEN_STATES, master__isnull=True, received_at__gte=oldest)
        .exclude(pk__in=model.objects.values("demand_id"))
    )
    added = 0
    for demand in missing.only("pk", "title", "content").iterator(chunk_size=1000):
        index_demand(demand)
        added += 1
    return {"dropped": dropped, "added": added}
