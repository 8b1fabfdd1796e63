"""The classification methods compared in docs/TRIAGE.md, all reduced to one linear scorer.

A method is a list of feature blocks (TF-IDF vectorisers with a weight) and an estimator.  Whatever
the estimator (LinearSVC, NB-weighted LinearSVC, logistic regression, complement naive Bayes), the
fitted model is stored as ``coef`` (features × classes) and ``intercept``; probabilities are
``softmax(scores / temperature)`` with the temperature fitted on out-of-fold scores (temperature
scaling, Guo et al. 2017) — one parameter, so the argmax and hence accuracy are unchanged.

Inference needs numpy and scipy only (plus jieba and scikit-learn for the word-based methods).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .features import CharNgramTfidf, Entries, normalize_text

DEFAULT_METHOD = "nbsvm-char-title"
MAX_CHARS = 1000  # of title+content: longer messages rarely change category, and it caps the cost
TITLE_WEIGHT = 0.5
SMALL_BATCH = 32  # up to this many texts are scored without building a sparse matrix


# --- jieba word features (for comparison; see docs/TRIAGE.md for why they are not the default) -----

_jieba = None


def jieba_tokens(text: str) -> list[str]:
    """Words of a normalised text by jieba's precise mode without HMM (faster, and new-word
    discovery helps little for classification).  The dictionary is loaded once per process."""
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba.lcut(text, HMM=False)


class JiebaTfidf:
    """TF-IDF over jieba words (sublinear tf, min_df 2) of normalised texts."""

    def __init__(self, min_df: int = 2, max_chars: int | None = None) -> None:
        self.min_df = min_df
        self.max_chars = max_chars
        self.vectorizer = None

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        return [normalize_text(text, self.max_chars) for text in texts]

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(
            tokenizer=jieba_tokens, token_pattern=None, lowercase=False, sublinear_tf=True, min_df=self.min_df
        )
        return self.vectorizer.fit_transform(self._prepare(texts)).tocsr()

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.vectorizer.transform(self._prepare(texts)).tocsr()

    @property
    def n_features(self) -> int:
        return len(self.vectorizer.vocabulary_)


# --- estimators ----------------------------------------------------------------------------------


def _as_scorer(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features × classes, classes) from scikit-learn's (classes × features) — also for 2 classes,
    where scikit-learn keeps one row for the positive class."""
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
    if coef.shape[0] == 1:
        coef = np.vstack([-coef, coef])
        intercept = np.concatenate([-intercept, intercept])
    return coef.T, intercept


def fit_linear_svc(X, y, classes, seed, C: float = 1.0):
    from sklearn.svm import LinearSVC

    model = LinearSVC(C=C, random_state=seed).fit(X, y)
    return _align(model.classes_, classes, *_as_scorer(model.coef_, model.intercept_))


def fit_logistic(X, y, classes, seed, C: float = 30.0):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=1000, random_state=seed).fit(X, y)
    return _align(model.classes_, classes, *_as_scorer(model.coef_, model.intercept_))


def fit_complement_nb(X, y, classes, seed, alpha: float = 0.1):
    from sklearn.naive_bayes import ComplementNB

    model = ComplementNB(alpha=alpha).fit(X, y)
    coef = model.feature_log_prob_.T
    return _align(model.classes_, classes, coef, np.zeros(coef.shape[1]))


def fit_nbsvm(X, y, classes, seed, C: float = 1.0, alpha: float = 1.0):
    """NB-SVM (Wang & Manning 2012), one-vs-rest: for each class, features are scaled by the
    log-ratio of their (binarised) frequency in the class vs the rest, and a linear SVM is fitted on
    them.  Scaling then scoring is still linear, so the scorer is ``coef * ratio``."""
    from sklearn.svm import LinearSVC

    y = np.asarray(y)
    present = np.unique(y)
    binary = X.copy()
    binary.data[:] = 1.0
    coef = np.zeros((X.shape[1], len(present)))
    intercept = np.zeros(len(present))
    for k, label in enumerate(present):
        positive = y == label
        p = alpha + np.asarray(binary[positive].sum(axis=0)).ravel()
        q = alpha + np.asarray(binary[~positive].sum(axis=0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        svm = LinearSVC(C=C, random_state=seed).fit(X.multiply(ratio).tocsr(), positive.astype(int))
        coef[:, k] = svm.coef_.ravel() * ratio
        intercept[k] = svm.intercept_[0]
    return _align(present, classes, coef, intercept)


def _align(fitted: Sequence[str], classes: Sequence[str], coef: np.ndarray, intercept: np.ndarray):
    """Scorer columns in ``classes`` order; a class missing from a (cross-validation) fit never wins."""
    fitted = list(fitted)
    if fitted == list(classes):
        return coef, intercept
    full_coef = np.zeros((coef.shape[0], len(classes)))
    full_intercept = np.full(len(classes), -1e3)
    for k, label in enumerate(fitted):
        j = list(classes).index(label)
        full_coef[:, j] = coef[:, k]
        full_intercept[j] = intercept[k]
    return full_coef, full_intercept


@dataclass(frozen=True)
class Method:
    description: str
    blocks: Callable[[], list[tuple[str, object, float]]]  # [(field, vectoriser, weight)]
    fit: Callable


def _char(ngram_range=(1, 2)):
    return ("text", CharNgramTfidf(ngram_range=ngram_range, min_df=2, max_chars=MAX_CHARS), 1.0)


def _title(weight=TITLE_WEIGHT):
    return ("title", CharNgramTfidf(ngram_range=(1, 2), min_df=2), weight)


def _word():
    return ("text", JiebaTfidf(max_chars=MAX_CHARS), 1.0)


METHODS: dict[str, Method] = {
    "nbsvm-char-title": Method(
        "NB-SVM (one-vs-rest LinearSVC C=1 on NB log-count-ratio scaled features) over TF-IDF char "
        "1-2-grams of title+content and of the title (weight 0.5)",
        lambda: [_char(), _title()],
        fit_nbsvm,
    ),
    "svc-char-title": Method(
        "LinearSVC (C=1) over TF-IDF char 1-2-grams of title+content and of the title (weight 0.5)",
        lambda: [_char(), _title()],
        fit_linear_svc,
    ),
    "nbsvm-char": Method("NB-SVM over TF-IDF char 1-2-grams", lambda: [_char()], fit_nbsvm),
    "svc-char": Method("LinearSVC (C=1) over TF-IDF char 1-2-grams", lambda: [_char()], fit_linear_svc),
    "svc-char13": Method(
        "LinearSVC (C=1) over TF-IDF char 1-3-grams", lambda: [_char((1, 3))], fit_linear_svc
    ),
    "lr-char-title": Method(
        "Logistic regression (C=30) over TF-IDF char 1-2-grams of title+content and of the title",
        lambda: [_char(), _title()],
        fit_logistic,
    ),
    "cnb-char-title": Method(
        "Complement naive Bayes (alpha=0.1) over TF-IDF char 1-2-grams of title+content and of the title",
        lambda: [_char(), _title()],
        fit_complement_nb,
    ),
    "svc-word": Method("LinearSVC (C=1) over TF-IDF jieba words", lambda: [_word()], fit_linear_svc),
    "svc-char-word-title": Method(
        "LinearSVC (C=1) over TF-IDF char 1-2-grams + jieba words of title+content and char 1-2-grams of the title",
        lambda: [_char(), _word(), _title()],
        fit_linear_svc,
    ),
}


def _entries(vectorizer, texts: Sequence[str]) -> Entries:
    if hasattr(vectorizer, "transform_entries"):
        return vectorizer.transform_entries(texts)
    matrix = vectorizer.transform(texts).tocsr()
    matrix.sort_indices()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return Entries(rows, matrix.indices.astype(np.int64), matrix.data, matrix.shape)


def split_title(text: str) -> tuple[str, str]:
    """(title, content) of a model input: the title is the first line (see ``demand_text``); a
    text without a line break is all content."""
    title, newline, content = text.partition("\n")
    return (title, content) if newline else ("", text)


def _field(texts: Sequence[str], field: str) -> Sequence[str]:
    if field == "text":
        return texts
    if field == "title":
        return [split_title(text)[0] for text in texts]
    raise ValueError(f"unknown field {field!r}")


# --- the fitted model --------------------------------------------------------------------------------


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``softmax(scores / T)``."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        proba = softmax(scores, float(np.exp(log_t)))
        return float(-np.log(np.clip(proba[rows, truth], 1e-15, None)).mean())

    result = minimize_scalar(nll, bounds=(np.log(1e-3), np.log(1e3)), method="bounded")
    return float(np.exp(result.x))


def _calibration_folds(labels: np.ndarray, groups: np.ndarray | None, folds: int, seed: int):
    from sklearn.model_selection import StratifiedGroupKFold

    _, counts = np.unique(labels, return_counts=True)
    folds = int(min(folds, counts.min()))
    if folds < 2:
        return []
    groups = np.arange(len(labels)) if groups is None else groups
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels, groups))


class LinearTextModel:
    """Feature blocks + a linear scorer + a softmax temperature.  Pickled with joblib."""

    def __init__(self, method, description, classes, blocks, coef, intercept, temperature):
        self.method = method
        self.description = description
        self.classes = list(classes)
        self.blocks = blocks  # [(field, vectoriser, weight)]
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)  # float32 would be upcast per call
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[0])

    @staticmethod
    def _stack(matrices: list[sparse.csr_matrix], weights: list[float]) -> sparse.csr_matrix:
        if len(matrices) == 1 and weights[0] == 1.0:
            return matrices[0]
        return sparse.hstack([m * w for m, w in zip(matrices, weights, strict=True)], format="csr")

    @classmethod
    def _features(cls, blocks, texts: Sequence[str], fit: bool = False) -> sparse.csr_matrix:
        """The weighted, stacked feature blocks; the one path for training and inference alike."""
        matrices = []
        for field, vectorizer, _ in blocks:
            values = _field(texts, field)
            matrices.append(vectorizer.fit_transform(values) if fit else vectorizer.transform(values))
        return cls._stack(matrices, [weight for *_, weight in blocks])

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self._features(self.blocks, texts)

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Scores (texts × classes).

        Small batches (a demand at intake) are scored straight from the feature triples —
        Σ value × coef[column] per text with ``np.add.reduceat`` — because building SciPy matrices
        costs more than the arithmetic there; large batches go through one sparse matrix product,
        which does not materialise an entries × classes array.
        """
        if len(texts) > SMALL_BATCH:
            return np.asarray(self.features(texts) @ self.coef) + self.intercept
        scores = np.tile(self.intercept, (len(texts), 1))
        offset = 0
        for field, vectorizer, weight in self.blocks:
            entries = _entries(vectorizer, _field(texts, field))
            if len(entries.rows):
                contributions = self.coef[entries.cols + offset] * (entries.values * weight)[:, None]
                starts = np.flatnonzero(np.diff(entries.rows, prepend=-1))
                scores[entries.rows[starts]] += np.add.reduceat(contributions, starts, axis=0)
            offset += entries.shape[1]
        return scores

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.decision_function(texts), self.temperature)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.classes[i] for i in self.decision_function(texts).argmax(axis=1)]

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        groups: np.ndarray | None = None,
        method: str = DEFAULT_METHOD,
        seed: int = 0,
        calibration_folds: int = 3,
    ) -> LinearTextModel:
        """Fit the features and the scorer on all rows; fit the temperature on out-of-fold scores
        (folds keep near-duplicate groups together, like the held-out split)."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        spec = METHODS[method]
        labels = np.asarray(labels)
        classes = sorted(set(labels.tolist()))
        truth = np.searchsorted(classes, labels)
        blocks = spec.blocks()
        X = cls._features(blocks, texts, fit=True)

        scores = np.zeros((len(labels), len(classes)))
        folds = _calibration_folds(labels, groups, calibration_folds, seed)
        for train_idx, test_idx in folds:
            coef, intercept = spec.fit(X[train_idx], labels[train_idx], classes, seed)
            scores[test_idx] = np.asarray(X[test_idx] @ coef) + intercept
        temperature = fit_temperature(scores, truth) if folds else 1.0

        coef, intercept = spec.fit(X, labels, classes, seed)
        return cls(method, spec.description, classes, blocks, coef, intercept, temperature)
