"""Which validation samples a classifier gets wrong, and how sure it was.

:func:`misclassified` reads validation outputs already computed: the training process
takes the latest epoch's (the ones its loss, accuracy and confusion matrix came from,
kept as ``Trainer.val_outputs``) when it sends the model views, about four times a
second, so no pass over the data is added; a reopened run computes them once from its
saved weights (``core.files.saved_run.replay_batch``). The result is a small
:class:`Misclassified`: the most confidently wrong samples first, because those are the
ones worth looking at (a mislabelled sample, a class the model confuses with another),
capped so it stays cheap to send.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.training.targets import predicted_classes

__all__ = ["MAX_SHOWN", "Misclassified", "class_probabilities", "misclassified"]

# Samples kept per list: a gallery shows a few dozen; more would only cost pickling.
MAX_SHOWN = 60


@dataclass(frozen=True, eq=False)
class Misclassified:
    """Validation samples the model gets wrong, most confidently wrong first.

    ``index`` (k,) int64: rows of the validation split; ``true``, ``predicted`` (k,)
    int64: class indices; ``probability`` (k,) float64: the probability the model gives
    its predicted class (NaN for non-finite outputs, listed last); ``total``: how many
    validation samples are wrong (k <= total).
    """

    index: np.ndarray
    true: np.ndarray
    predicted: np.ndarray
    probability: np.ndarray
    total: int

    def __len__(self) -> int:
        return int(self.index.shape[0])


def class_probabilities(outputs: np.ndarray, logits: bool) -> np.ndarray:
    """Probabilities (n, classes) float64 from network outputs (n, outputs).

    Logits (a loss with a fused activation) go through the softmax, or the sigmoid for
    a single output. Other outputs are taken as the final activation made them: one
    output is the probability of class 1 (clipped to [0, 1], as ``predicted_classes``
    thresholds it at 0.5); several are clipped at 0 and divided by their sum (exact for a
    softmax layer, a share of the scores otherwise; a row with no positive score is
    uniform). Two columns come out for a single output. A row with a non-finite output
    (a diverged run) is NaN."""
    z = np.asarray(outputs, dtype=np.float64)
    if z.shape[1] == 1:
        p1 = 0.5 * (1.0 + np.tanh(0.5 * z[:, 0])) if logits else np.clip(z[:, 0], 0.0, 1.0)
        probs = np.column_stack([1.0 - p1, p1])
    elif logits:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
    else:
        pos = np.clip(z, 0.0, None)
        sums = pos.sum(axis=1, keepdims=True)
        uniform = np.full_like(pos, 1.0 / z.shape[1])
        probs = np.divide(pos, sums, out=uniform, where=sums > 0)
    probs[~np.isfinite(z).all(axis=1)] = np.nan
    return probs


def misclassified(outputs: np.ndarray, labels: np.ndarray, logits: bool,
                  cap: int = MAX_SHOWN) -> Misclassified:
    """The samples whose predicted class (``predicted_classes``, the rule accuracy and
    the confusion matrix use) differs from ``labels`` (n,), sorted by the probability of
    the predicted class, highest first (ties by index), at most ``cap`` of them.
    ``outputs`` (n, outputs) are the network's outputs for the same rows."""
    labels = np.asarray(labels, dtype=np.int64)
    pred = predicted_classes(outputs, logits)
    wrong = np.flatnonzero(pred != labels)
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged run's outputs
        probs = class_probabilities(outputs[wrong], logits)
    p = probs[np.arange(wrong.size), pred[wrong]]
    key = np.where(np.isnan(p), -np.inf, p)  # non-finite outputs: last
    order = np.lexsort((wrong, -key))[:max(cap, 0)]
    index = wrong[order]
    return Misclassified(index, labels[index], pred[index].astype(np.int64), p[order],
                         int(wrong.size))
