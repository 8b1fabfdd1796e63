"""Classification and calibration metrics in plain numpy (no scikit-learn import needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE: Σ_b (n_b / N) · |accuracy_b − mean confidence_b| over equal-width bins."""
    if not len(confidence):
        return 0.0
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total / len(confidence))


def reliability_table(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[dict]:
    """Rows (bin range, n, mean confidence, accuracy) for a reliability diagram."""
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
                    "n": int(mask.sum()),
                    "confidence": round(float(confidence[mask].mean()), 4),
                    "accuracy": round(float(correct[mask].mean()), 4),
                }
            )
    return rows


def classification_report(y_true: Sequence[str], classes: Sequence[str], proba: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1, confusion matrix, ECE, Brier, log loss.

    ``proba`` has one column per entry of ``classes``.  True labels the model does not know count
    as errors and appear in the confusion matrix.  Macro-F1 averages over the labels that occur in
    the true or the predicted labels (as scikit-learn does).
    """
    classes = list(classes)
    proba = np.asarray(proba, dtype=np.float64)
    best = proba.argmax(axis=1)
    labels = classes + sorted(set(y_true) - set(classes))
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index[label] for label in y_true], dtype=np.int64)
    n_labels = len(labels)
    confusion = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(confusion, (truth, best), 1)

    tp = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = (support > 0) | (predicted > 0)

    correct = best == truth
    confidence = proba[np.arange(len(best)), best]
    onehot = np.zeros_like(proba)
    known = truth < len(classes)
    onehot[np.flatnonzero(known), truth[known]] = 1.0
    p_true = np.where(known, proba[np.arange(len(truth)), np.minimum(truth, len(classes) - 1)], 0.0)

    return {
        "n": len(truth),
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(float(f1[present].mean()), 4),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion": confusion.tolist(),
        "ece": round(expected_calibration_error(confidence, correct), 4),
        "brier": round(float(((proba - onehot) ** 2).sum(axis=1).mean()), 4),
        "log_loss": round(float(-np.log(np.clip(p_true, 1e-15, None)).mean()), 4),
        "mean_confidence": round(float(confidence.mean()), 4),
        "reliability": reliability_table(confidence, correct),
    }
