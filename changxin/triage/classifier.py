"""Demand-text classifier: the first-level category of a citizen message, with a calibrated confidence.

Public API (other apps call these; keep the names):

* :func:`classify_texts` — ``[(category, confidence), …]`` for a batch of texts;
* :func:`classify_demand` — a :class:`Prediction` for one demand, or ``None`` when no model exists;
* :func:`train` — fit a new versioned model from labelled rows and make it current;
* :func:`evaluate` — accuracy, macro-F1, per-class F1, confusion matrix and calibration on labelled rows.

Every method is a linear model over TF-IDF features (see ``methods.py``), so inference is one sparse
matrix product plus a softmax whose temperature was fitted on out-of-fold scores.  Inference imports
numpy and scipy only; scikit-learn is imported when training.  See docs/TRIAGE.md for the numbers.

Models live in ``CHANGXIN_TRIAGE_MODEL_DIR`` (default ``VAR_DIR/models/triage``)::

    <dir>/<version>/model.joblib   the fitted model
    <dir>/<version>/meta.json      version, created, data hash, method, classes, metrics, …
    <dir>/current                  the current version's name (replaced atomically)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .features import normalize_text
from .methods import DEFAULT_METHOD, LinearTextModel
from .metrics import classification_report

MODEL_FORMAT = 1
DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo_training.csv"
MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
CURRENT_FILE = "current"


class NoModelError(RuntimeError):
    """No model has been trained in the model directory yet."""

    def __init__(self, directory: Path) -> None:
        super().__init__(
            f"No triage model in {directory}: train one first with "
            "`changxin triage train --data FILE.csv` (columns id,title,content,label)."
        )
        self.directory = directory


class ModelFormatError(RuntimeError):
    """The stored model was written by an incompatible version of this code."""


class TrainingDataError(ValueError):
    """The labelled rows cannot train a model (too few, unknown labels, …)."""


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float  # calibrated probability of ``category``, in [0, 1]
    model_version: str
    alternatives: tuple[tuple[str, float], ...] = ()  # the top categories with their probabilities


@dataclass(frozen=True)
class ModelInfo:
    version: str
    path: Path
    created: str
    method: str
    classes: list[str]
    n_train: int
    train_seconds: float
    data_hash: str
    metrics: dict = field(default_factory=dict)

    @classmethod
    def from_meta(cls, path: Path, meta: Mapping) -> ModelInfo:
        return cls(
            version=meta["version"],
            path=path,
            created=meta["created"],
            method=meta["method"],
            classes=list(meta["classes"]),
            n_train=meta["n_train"],
            train_seconds=meta["train_seconds"],
            data_hash=meta["data_hash"],
            metrics=meta.get("metrics", {}),
        )


# --- texts -------------------------------------------------------------------------------------


def demand_text(title: str | None, content: str | None) -> str:
    """The model input for a demand: the title on the first line, then the content.

    Line breaks inside the title are replaced by spaces, so the first line is always the title.
    """
    title = " ".join((title or "").splitlines())
    return f"{title}\n{content or ''}"


def row_text(row: Mapping[str, str]) -> str:
    """The model input of a labelled row: ``title + "\\n" + content``.

    A row whose ``content`` is empty may carry ``segmented`` (title and body cut by jieba into
    space-separated words, stop words removed, as in the public training data).  Its leading words
    that spell the title are dropped and the rest, spaces removed, stands in for the body.  (The
    vectoriser drops whitespace anyway, so at inference a demand's title and content meet the same
    normalisation; only the missing stop words differ.)
    """
    title, content = row.get("title") or "", row.get("content") or ""
    if not content.strip():
        segmented = (row.get("segmented") or "").split()
        if segmented:
            content = "".join(segmented[_title_prefix(title, segmented) :])
    return demand_text(title, content)


def _title_prefix(title: str, words: Sequence[str]) -> int:
    """How many leading words occur in the title, in order (the title part of a segmented text)."""
    title = normalize_text(title)
    position = 0
    for count, word in enumerate(words):
        word = normalize_text(word)
        found = title.find(word, position) if word else -1
        if found < 0:
            return count
        position = found + len(word)
    return len(words)


def _data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1f")
        digest.update(label.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


# --- model store -------------------------------------------------------------------------------


def model_dir() -> Path:
    from django.conf import settings

    return Path(getattr(settings, "CHANGXIN_TRIAGE_MODEL_DIR", settings.VAR_DIR / "models" / "triage"))


def current_version(directory: Path | None = None) -> str | None:
    pointer = (directory or model_dir()) / CURRENT_FILE
    try:
        version = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version or None


def model_info(version: str | None = None, directory: Path | None = None) -> ModelInfo | None:
    """Metadata of a stored model (the current one by default), or None."""
    directory = directory or model_dir()
    version = version or current_version(directory)
    if version is None:
        return None
    path = directory / version
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    return ModelInfo.from_meta(path, meta)


def _save(model: LinearTextModel, meta: dict, directory: Path, make_current: bool) -> ModelInfo:
    """Write ``<version>/model.joblib`` and ``meta.json`` into a staging folder, rename it into place
    (atomic; a name taken meanwhile by another process gets a suffix), then swap ``current``."""
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    try:
        joblib.dump(model, staging / MODEL_FILE, compress=3)
        base = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{meta['data_hash'][:8]}"
        for attempt in range(1, 1000):
            version = base if attempt == 1 else f"{base}-{attempt}"
            if (directory / version).exists():
                continue
            meta = {"format": MODEL_FORMAT, **meta, "version": version}
            text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
            (staging / META_FILE).write_text(text, encoding="utf-8")
            try:
                staging.rename(directory / version)
            except OSError:  # created by another process between the check and the rename
                continue
            break
        else:
            raise RuntimeError(f"could not find a free version name in {directory}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if make_current:
        pointer = directory / f".{CURRENT_FILE}-{os.getpid()}.tmp"
        pointer.write_text(version + "\n", encoding="utf-8")
        os.replace(pointer, directory / CURRENT_FILE)
    return ModelInfo.from_meta(directory / version, meta)


_lock = threading.Lock()
_loaded: dict[tuple[str, str], LinearTextModel] = {}


def load_model(version: str | None = None, directory: Path | None = None) -> tuple[str, LinearTextModel]:
    """(version, model); the current model by default.  Loaded once per process and version.

    Raises :class:`NoModelError` when there is none.  The ``current`` pointer is re-read on every
    call (one small file read), so a long-running process picks up a model trained meanwhile.
    """
    directory = directory or model_dir()
    version = version or current_version(directory)
    if version is None:
        raise NoModelError(directory)
    key = (str(directory), version)
    model = _loaded.get(key)
    if model is None:
        with _lock:
            model = _loaded.get(key)
            if model is None:
                import joblib

                path = directory / version / MODEL_FILE
                if not path.exists():
                    raise NoModelError(directory)
                meta = json.loads((path.parent / META_FILE).read_text(encoding="utf-8"))
                if meta.get("format") != MODEL_FORMAT:
                    raise ModelFormatError(
                        f"model {version} has format {meta.get('format')}, this code reads format "
                        f"{MODEL_FORMAT}: retrain with `changxin triage train`"
                    )
                model = joblib.load(path)
                _loaded[key] = model
    return version, model


def clear_cache() -> None:
    with _lock:
        _loaded.clear()


# --- inference ---------------------------------------------------------------------------------


def classify_texts(
    texts: Sequence[str], *, version: str | None = None, batch_size: int = 2000
) -> list[tuple[str, float]]:
    """(category, calibrated confidence) per text, in order.  Raises NoModelError without a model.

    A text is ``demand_text(title, content)``: the first line is read as the title (which the model
    weighs separately); a text without a line break is read as content without a title.
    ``version`` pins a stored model (default: the current one).
    """
    _, model = load_model(version)
    results: list[tuple[str, float]] = []
    for start in range(0, len(texts), batch_size):
        proba = model.predict_proba(texts[start : start + batch_size])
        best = proba.argmax(axis=1)
        results.extend(
            (model.classes[i], float(p)) for i, p in zip(best, proba[np.arange(len(best)), best], strict=True)
        )
    return results


def classify_demand(title: str, content: str, *, top: int = 3) -> Prediction | None:
    """The suggested category of one demand, or None when no model has been trained."""
    try:
        version, model = load_model()
    except NoModelError:
        return None
    proba = model.predict_proba([demand_text(title, content)])[0]
    order = np.argsort(-proba)[: max(top, 1)]
    alternatives = tuple((model.classes[i], float(proba[i])) for i in order)
    return Prediction(alternatives[0][0], alternatives[0][1], version, alternatives)


# --- training and evaluation -------------------------------------------------------------------


def _texts_and_labels(rows: Iterable[Mapping[str, str]]) -> tuple[list[str], list[str], list[str]]:
    titles, texts, labels = [], [], []
    for row in rows:
        label = (row.get("label") or "").strip()
        titles.append(row.get("title") or "")
        texts.append(row_text(row))
        labels.append(label)
    return titles, texts, labels


def _group_texts(rows: Sequence[Mapping[str, str]], texts: Sequence[str]) -> list[str]:
    """Texts to find near-duplicates by: the jieba ``segmented`` form when every row has one (the
    same representation for rows with and without a body), else the model's texts."""
    if rows and all((row.get("segmented") or "").strip() for row in rows):
        return ["".join(row["segmented"].split()) for row in rows]
    return list(texts)


def train(
    rows: Iterable[Mapping[str, str]],
    *,
    method: str = DEFAULT_METHOD,
    holdout: float = 0.2,
    seed: int = 0,
    allowed_labels: Iterable[str] | None = None,
    make_current: bool = True,
    directory: Path | None = None,
    source: str = "",
) -> ModelInfo:
    """Fit a new model on labelled rows (``title, content, label[, segmented]``), store it, make it current.

    With ``holdout`` > 0 a model is first fitted on a stratified split that keeps near-duplicates
    on one side (``grouping.py``) and scored on the held-out part; those metrics go into meta.json.
    The stored model is then fitted on all rows.
    """
    from .grouping import held_out_split, near_duplicate_groups
    from .taxonomy import LEVEL1

    rows = list(rows)
    titles, texts, labels = _texts_and_labels(rows)
    allowed = set(LEVEL1 if allowed_labels is None else allowed_labels)
    if any(not label for label in labels):
        line = labels.index("") + 2
        raise TrainingDataError(f"row {line}: the label is empty")
    unknown = sorted(set(labels) - allowed)
    if unknown:
        raise TrainingDataError(
            f"labels not in the first-level taxonomy: {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise TrainingDataError("need rows of at least two categories")
    if counts.min() < 2:
        raise TrainingDataError(f"need at least 2 rows per category; {classes[counts.argmin()]} has 1")

    started = time.perf_counter()
    groups = near_duplicate_groups(titles, _group_texts(rows, texts))
    metrics: dict = {}
    if holdout and counts.min() >= round(1 / holdout):
        train_idx, test_idx = held_out_split(labels, groups, test_size=holdout, seed=seed)
        fold_started = time.perf_counter()
        probe = LinearTextModel.fit(
            [texts[i] for i in train_idx],
            [labels[i] for i in train_idx],
            groups=groups[train_idx],
            method=method,
            seed=seed,
        )
        fit_seconds = time.perf_counter() - fold_started
        proba = probe.predict_proba([texts[i] for i in test_idx])
        metrics = classification_report([labels[i] for i in test_idx], probe.classes, proba)
        metrics.update(
            split={
                "test_size": holdout,
                "seed": seed,
                "n_train": len(train_idx),
                "n_test": len(test_idx),
                "groups": int(groups.max()) + 1,
                "grouping": "near-duplicates (equal title or char 5-gram shingles) kept on one side",
            },
            fit_seconds=round(fit_seconds, 2),
        )
    model = LinearTextModel.fit(texts, labels, groups=groups, method=method, seed=seed)
    train_seconds = time.perf_counter() - started
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": method,
        "method_description": model.description,
        "classes": list(model.classes),
        "n_train": len(texts),
        "n_features": model.n_features,
        "temperature": model.temperature,
        "train_seconds": round(train_seconds, 2),
        "data_hash": _data_hash(texts, labels),
        "source": source,
        "metrics": metrics,
        "versions": _library_versions(),
    }
    return _save(model, meta, directory or model_dir(), make_current)


def evaluate(rows: Iterable[Mapping[str, str]], *, version: str | None = None) -> dict:
    """Score the current (or given) model on labelled rows: see :func:`metrics.classification_report`."""
    _, texts, labels = _texts_and_labels(rows)
    if not texts:
        raise TrainingDataError("no rows to evaluate")
    if any(not label for label in labels):
        raise TrainingDataError(f"row {labels.index('') + 2}: the label is empty")
    version, model = load_model(version)
    report = classification_report(labels, model.classes, model.predict_proba(texts))
    report["model_version"] = version
    return report


def ensure_demo_model(stdout=None) -> ModelInfo | None:
    """Train on the hand-written demo set (``data/demo_training.csv``) unless a model exists.

    For ``changxin demo``; never replaces a model trained on real data.
    """
    if current_version() is not None:
        return None
    from .csvio import read_rows

    info = train(
        read_rows(DEMO_DATA, ("id", "title", "content", "label")), holdout=0, source="demo_training.csv"
    )
    if stdout is not None:
        stdout.write(
            f"triage: demo classifier {info.version} trained on {info.n_train} hand-written messages\n"
        )
    return info


def _library_versions() -> dict:
    import scipy
    import sklearn

    return {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__}


def info_dict(info: ModelInfo) -> dict:
    data = asdict(info)
    data["path"] = str(info.path)
    return data
