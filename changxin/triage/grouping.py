"""Near-duplicate grouping and a held-out split that keeps every group on one side.

The public message data repeats itself: the same complaint posted twice, a follow-up that quotes
the first message, one template signed by several neighbours.  A random split would put copies on
both sides and flatter the score.  Two messages are linked when

* their normalised titles are equal (and at least ``min_title_chars`` long), or
* their normalised texts share many character 5-gram shingles: Jaccard >= ``jaccard`` or
  containment (shared / smaller set) >= ``containment`` — the latter catches a message that
  quotes or extends another;

groups are the connected components of these links.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .features import encode_texts

_PRIME = np.uint64(1_000_003)


def _shingle_matrix(texts: Sequence[str], size: int) -> sparse.csr_matrix:
    """Binary documents × shingles matrix (shingles hashed to 64 bits)."""
    codes, doc_of = encode_texts(texts)
    codes = codes.astype(np.uint64)
    total = len(codes)
    width = max(total - size + 1, 0)
    key = np.zeros(width, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(size):
            key = key * _PRIME + codes[offset : offset + width]
    same_doc = doc_of[:width] == doc_of[size - 1 : size - 1 + width]
    docs, keys = doc_of[:width][same_doc], key[same_doc]
    # A text shorter than one shingle is one shingle of its own.
    lengths = np.bincount(doc_of, minlength=len(texts))
    short = np.flatnonzero((lengths > 0) & (lengths < size))
    if len(short):
        extra = [hash(("short", "".join(map(chr, codes[doc_of == d].astype(np.int64))))) for d in short]
        docs = np.concatenate([docs, short])
        keys = np.concatenate([keys, np.array(extra, dtype=np.int64).astype(np.uint64)])
    _, column = np.unique(keys, return_inverse=True)
    matrix = sparse.csr_matrix(
        (np.ones(len(docs), dtype=np.int32), (docs, column.ravel())),
        shape=(len(texts), int(column.max()) + 1 if len(column) else 0),
    )
    matrix.data[:] = 1  # sets, not bags
    return matrix


def near_duplicate_groups(
    titles: Sequence[str],
    texts: Sequence[str],
    *,
    shingle: int = 5,
    jaccard: float = 0.1,
    containment: float = 0.5,
    min_title_chars: int = 8,
    chunk: int = 2000,
) -> np.ndarray:
    """A group id per text; near-duplicates share an id (see the module docstring)."""
    n = len(texts)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []

    by_title: dict[str, int] = {}
    for i, title in enumerate(titles):
        key = "".join(map(chr, encode_texts([title])[0]))
        if len(key) >= min_title_chars:
            first = by_title.setdefault(key, i)
            if first != i:
                rows.append(np.array([first]))
                cols.append(np.array([i]))

    shingles = _shingle_matrix(texts, shingle)
    sizes = np.asarray(shingles.sum(axis=1)).ravel()
    transposed = shingles.T.tocsr()
    for start in range(0, n, chunk):
        block = (shingles[start : start + chunk] @ transposed).tocoo()
        i, j, shared = block.row + start, block.col, block.data.astype(np.float64)
        upper = j > i
        i, j, shared = i[upper], j[upper], shared[upper]
        union = sizes[i] + sizes[j] - shared
        smaller = np.minimum(sizes[i], sizes[j])
        linked = (shared >= jaccard * union) | (shared >= containment * smaller)
        rows.append(i[linked])
        cols.append(j[linked])

    row = np.concatenate(rows) if rows else np.empty(0, np.int64)
    col = np.concatenate(cols) if cols else np.empty(0, np.int64)
    graph = sparse.csr_matrix((np.ones(len(row)), (row, col)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def held_out_split(
    labels: Sequence[str], groups: np.ndarray, *, test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): stratified by label, no group on both sides."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_splits = max(2, round(1 / test_size))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(labels)), np.asarray(labels), groups))
    return train, test
