"""Text normalisation and a fast character n-gram TF-IDF vectoriser.

Why not scikit-learn's ``TfidfVectorizer(analyzer="char")``?  Its analyser builds one Python string
per n-gram: on this project's 2-core reference machine that costs ~8 s to transform the 7,600
training messages (2.5 M characters), and unpickling its 400k-entry vocabulary dict costs more at
every model load.  Here texts are turned into one array of code points, normalised with a lookup
table, every n-gram becomes an integer (code points packed into 21-bit fields) and is looked up in an
open-addressing hash table - all vectorised numpy over a whole batch at once.  The vocabulary is one
sorted ``int64`` array.  The weighting is scikit-learn's (smooth idf, optional sublinear tf, l2 row
norm); ``tests/test_features.py`` checks that the two agree.

Only numpy and scipy are imported, so the inference path does not pay scikit-learn's import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

_BITS = 21  # every Unicode code point fits in 21 bits, so a trigram fits in 63 bits of an int64
_DROP = 0


def _build_table() -> np.ndarray:
    """Code point → normalised code point for the Basic Multilingual Plane (0 = drop the char).

    Full-width ASCII → ASCII, A-Z → a-z, every digit → ``0`` (numbers are dates, house numbers and
    amounts: their value says little about the category), whitespace, zero-width characters and
    ``*`` masks dropped (some bodies of the training data had them removed already).
    """
    table = np.arange(0x10000, dtype=np.int64)
    fullwidth = np.arange(0xFF01, 0xFF5F)
    table[fullwidth] = fullwidth - 0xFEE0
    upper = table[:0xFF5F]
    upper[(upper >= ord("A")) & (upper <= ord("Z"))] += 32
    upper[(upper >= ord("0")) & (upper <= ord("9"))] = ord("0")
    drop = [0, *range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200C)]
    drop += [0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF, ord("*")]
    table[drop] = _DROP
    table[0xFF0A] = _DROP  # full-width asterisk
    return table


_TABLE = _build_table()


def encode_texts(texts: Sequence[str], max_chars: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Normalised code points of all texts as one int64 array, and each position's document index.

    With ``max_chars``, only the first ``max_chars`` normalised characters of each text are kept.
    """
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    doc_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    bmp = codes < 0x10000
    codes[bmp] = _TABLE[codes[bmp]]
    keep = codes != _DROP
    codes, doc_of = codes[keep], doc_of[keep]
    if max_chars is not None and len(codes):
        counts = np.bincount(doc_of, minlength=len(texts))
        starts = np.cumsum(counts) - counts
        position = np.arange(len(codes)) - starts[doc_of]
        keep = position < max_chars
        codes, doc_of = codes[keep], doc_of[keep]
    return codes, doc_of


def normalize_text(text: str, max_chars: int | None = None) -> str:
    """The normalised form of one text, as the vectoriser sees it (for tests, grouping, debugging)."""
    codes, _ = encode_texts([text], max_chars)
    return codes.astype(np.uint32).tobytes().decode("utf-32-le")


def ngram_keys(
    codes: np.ndarray, doc_of: np.ndarray, ngram_range: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(document index, n-gram key) for every character n-gram that lies within one document.

    Keys of different orders never collide: an n-gram's key is at least 2**(21*(n-1)) because code
    point 0 never survives :func:`encode_texts`.
    """
    low, high = ngram_range
    if not 1 <= low <= high <= 3:
        raise ValueError("ngram_range must lie within (1, 3)")
    docs, keys = [], []
    total = len(codes)
    for n in range(low, high + 1):
        if total < n:
            continue
        width = total - n + 1
        key = codes[:width].copy()
        for offset in range(1, n):
            key <<= _BITS
            key |= codes[offset : offset + width]
        same_doc = doc_of[:width] == doc_of[n - 1 : n - 1 + width]
        docs.append(doc_of[:width][same_doc])
        keys.append(key[same_doc])
    if not keys:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(docs), np.concatenate(keys)


def decode_key(key: int) -> str:
    """The n-gram that a key stands for (to explain a model's features)."""
    chars = []
    while key:
        chars.append(chr(key & ((1 << _BITS) - 1)))
        key >>= _BITS
    return "".join(reversed(chars))


class KeyIndex:
    """Vectorised open-addressing hash table (linear probing) from int64 keys to their positions.

    ``np.searchsorted`` into a 400k-key vocabulary costs ~0.9 s per 7 M look-ups on the reference
    machine; here the first probe (one gather) settles almost every query because the table is
    kept at most a quarter full, and only the few collisions go round the loop again.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
    _EMPTY = -1  # never a valid key: keys are non-negative

    def __init__(self, keys: np.ndarray) -> None:
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        bits = max(4, int(np.ceil(np.log2(max(len(keys), 1) * 4))))
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        slot_keys = np.full(1 << bits, self._EMPTY, dtype=np.int64)
        slot_pos = np.full(1 << bits, -1, dtype=np.int64)
        home = self._home(keys)
        pending = np.arange(len(keys))
        probe = 0
        while len(pending):
            slots = (home[pending] + probe) & self._mask
            free = np.flatnonzero(slot_keys[slots] == self._EMPTY)
            won_slots, first = np.unique(slots[free], return_index=True)
            winners = pending[free[first]]
            slot_keys[won_slots] = keys[winners]
            slot_pos[won_slots] = winners
            placed = np.zeros(len(pending), dtype=bool)
            placed[free[first]] = True
            pending = pending[~placed]
            probe += 1
        self._slot_keys, self._slot_pos, self._max_probe = slot_keys, slot_pos, probe

    def _home(self, keys: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            hashed = keys.astype(np.uint64) * self._MULTIPLIER
        return (hashed >> self._shift).astype(np.int64)

    def lookup(self, queries: np.ndarray) -> np.ndarray:
        """Position of each query among the keys, or -1."""
        queries = np.asarray(queries, dtype=np.int64)
        slots = self._home(queries)
        result = np.full(len(queries), -1, dtype=np.int64)
        active = np.arange(len(queries))
        for _ in range(self._max_probe):
            found = self._slot_keys[slots]
            hit = found == queries
            result[active[hit]] = self._slot_pos[slots[hit]]
            again = ~hit & (found != self._EMPTY)  # another key sits here: probe the next slot
            if not again.any():
                break
            active, queries = active[again], queries[again]
            slots = (slots[again] + 1) & self._mask
        return result


@dataclass(frozen=True)
class Entries:
    """A sparse documents × features matrix as sorted (row, column, value) triples.

    Scoring a linear model straight from these skips building a SciPy matrix, whose fixed cost
    dominates when one message is classified at a time.
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]

    def csr(self) -> sparse.csr_matrix:
        indptr = np.searchsorted(self.rows, np.arange(self.shape[0] + 1))
        return sparse.csr_matrix((self.values, self.cols, indptr), shape=self.shape)


def count_entries(docs: np.ndarray, columns: np.ndarray, n_docs: int, n_columns: int) -> Entries:
    """How often each (document, column) pair occurs, sorted by document then column."""
    pairs = docs * n_columns + columns
    pairs.sort()
    starts = np.flatnonzero(np.diff(pairs, prepend=-1))
    counts = np.diff(np.append(starts, len(pairs))).astype(np.float64)
    rows, cols = np.divmod(pairs[starts], n_columns)
    return Entries(rows, cols, counts, (n_docs, n_columns))


class CharNgramTfidf:
    """TF-IDF over character n-grams (see the module docstring).  Texts are normalised inside."""

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 2,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        max_chars: int | None = None,
    ) -> None:
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.max_chars = max_chars
        self.vocabulary_: np.ndarray | None = None  # sorted int64 keys
        self.idf_: np.ndarray | None = None
        self._index: KeyIndex | None = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_index"] = None  # derived; rebuilt on first use
        return state

    @property
    def n_features(self) -> int:
        return 0 if self.vocabulary_ is None else len(self.vocabulary_)

    def _keys(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        codes, doc_of = encode_texts(texts, self.max_chars)
        return ngram_keys(codes, doc_of, self.ngram_range)

    def fit(self, texts: Sequence[str]) -> CharNgramTfidf:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        docs, keys = self._keys(texts)
        n_docs = len(texts)
        uniq, column = np.unique(keys, return_inverse=True)
        column = column.ravel()
        df = np.bincount(count_entries(docs, column, n_docs, len(uniq)).cols, minlength=len(uniq))
        keep = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and len(keep) > self.max_features:
            # Most frequent first; ties broken by key so that the result is deterministic.
            order = np.lexsort((uniq[keep], -df[keep]))[: self.max_features]
            keep = np.sort(keep[order])
        self.vocabulary_ = uniq[keep]
        self.idf_ = np.log((1.0 + n_docs) / (1.0 + df[keep])) + 1.0
        self._index = None
        # Renumber the kept columns and weigh them exactly as transform() does.
        renumber = np.full(len(uniq), -1, dtype=np.int64)
        renumber[keep] = np.arange(len(keep))
        column = renumber[column]
        found = column >= 0
        return self._weigh(count_entries(docs[found], column[found], n_docs, len(keep))).csr()

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.transform_entries(texts).csr()

    def transform_entries(self, texts: Sequence[str]) -> Entries:
        if self.vocabulary_ is None:
            raise RuntimeError("CharNgramTfidf is not fitted")
        if self._index is None:
            self._index = KeyIndex(self.vocabulary_)
        docs, keys = self._keys(texts)
        column = self._index.lookup(keys)
        found = column >= 0
        return self._weigh(count_entries(docs[found], column[found], len(texts), self.n_features))

    def _weigh(self, counts: Entries) -> Entries:
        """Sublinear tf × idf, then unit length per document (scikit-learn's TfidfVectorizer)."""
        values = counts.values
        if self.sublinear_tf:
            values = np.log(values) + 1.0
        values = values * self.idf_[counts.cols]
        norms = np.sqrt(np.bincount(counts.rows, weights=values**2, minlength=counts.shape[0]))
        norms[norms == 0.0] = 1.0
        return Entries(counts.rows, counts.cols, values / norms[counts.rows], counts.shape)

    def feature_names(self, indices: Sequence[int]) -> list[str]:
        return [decode_key(int(self.vocabulary_[i])) for i in indices]
