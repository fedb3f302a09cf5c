"""Gradient health: which layers' gradients are vanishing or exploding, and what to try.

Thresholds (shown to users in the README):
- *vanishing*: over the recent window, a layer's median gradient norm is below
  ``VANISHING_RATIO`` (1e-3) times the median norm of the last layer with parameters
  (the one nearest the loss). Its weights then move a thousand times more slowly.
- *exploding*: a layer's latest gradient norm is not finite, or is above
  ``EXPLODING_GROWTH`` (1e3) times its first recorded norm and above ``EXPLODING_MIN``
  (10), i.e. it has grown by orders of magnitude to a large value.
A window of recent rows (not one step) keeps single noisy steps from raising flags.
"""

from __future__ import annotations

import numpy as np

VANISHING_RATIO = 1e-3
EXPLODING_GROWTH = 1e3
EXPLODING_MIN = 10.0
WINDOW = 20

VANISHING_HINT = ("Gradients vanish before they reach {layers}: those layers barely learn. "
                  "Try ReLU-family activations with He initialisation, batch normalisation, "
                  "or residual connections.")
EXPLODING_HINT = ("Gradients explode in {layers}. Try gradient clipping (clip norm), a lower "
                  "learning rate, batch normalisation, or a smaller initial gain.")


def gradient_health(names: tuple[str, ...], recent: np.ndarray,
                    first: np.ndarray) -> dict[str, str]:
    """Status per layer: "ok", "vanishing" or "exploding".

    ``recent`` (m, layers) are the last recorded gradient norms (oldest first),
    ``first`` (layers,) the first recorded ones; columns follow ``names``, whose last
    entry is the layer nearest the output.
    """
    status = dict.fromkeys(names, "ok")
    if recent.shape[0] == 0 or not names:
        return status
    latest = recent[-1]
    with np.errstate(invalid="ignore"):
        med = np.median(recent[-WINDOW:], axis=0)
    reference = med[-1]
    for i, name in enumerate(names):
        if not np.isfinite(latest[i]) or (
                latest[i] > EXPLODING_MIN and first[i] > 0
                and latest[i] > EXPLODING_GROWTH * first[i]):
            status[name] = "exploding"
        elif (i < len(names) - 1 and np.isfinite(reference) and reference > 0
              and med[i] < VANISHING_RATIO * reference):
            status[name] = "vanishing"
    return status


def health_hint(status: dict[str, str], labels: dict[str, str] | None = None) -> str:
    """One or two sentences naming the affected layers and the seed's remedies."""
    labels = labels or {}
    parts = []
    for kind, text in (("exploding", EXPLODING_HINT), ("vanishing", VANISHING_HINT)):
        hit = [labels.get(n, n) for n, s in status.items() if s == kind]
        if hit:
            shown = ", ".join(hit[:4]) + (f" and {len(hit) - 4} more" if len(hit) > 4 else "")
            parts.append(text.format(layers=shown))
    return " ".join(parts)
