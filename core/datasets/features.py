"""Input feature preparation: derived features and standardisation.

Derived features are the extra inputs TensorFlow Playground offers for its 2-D sets
(``x1^2``, ``x2^2``, ``x1*x2``, ``sin(x1)``, ``sin(x2)``), computed from the raw
coordinates and appended after them. Standardisation shifts and scales every input
column with statistics fitted on the training split only, so validation data stays
unseen. Both steps are pure functions so :meth:`Dataset.transform` can replay them on
new raw points (a grid for a decision-boundary heatmap, say).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from core.errors import DatasetError

__all__ = [
    "DERIVED_FEATURES",
    "check_derived",
    "derive_features",
    "fit_standardizer",
    "standardize",
]

# Each entry: (raw columns the feature needs, function of the raw (n, k) array -> (n,)).
_DERIVED: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    "x1^2": (1, lambda x: x[:, 0] ** 2),
    "x2^2": (2, lambda x: x[:, 1] ** 2),
    "x1*x2": (2, lambda x: x[:, 0] * x[:, 1]),
    "sin(x1)": (1, lambda x: np.sin(x[:, 0])),
    "sin(x2)": (2, lambda x: np.sin(x[:, 1])),
}

#: Names of the derived features, in the order a GUI should offer them.
DERIVED_FEATURES: tuple[str, ...] = tuple(_DERIVED)


def check_derived(derived: Sequence[object], n_raw: int) -> list[tuple[int, str]]:
    """Return the problems with a list of derived-feature names (empty list if none).

    Parameters
    ----------
    derived : sequence
        Requested derived features, e.g. ``["x1^2", "x1*x2"]``.
    n_raw : int
        Number of raw input columns of the dataset (2 for the 2-D sets, 1 for ``sine``).

    Returns
    -------
    list of (int, str)
        Position in ``derived`` and message, per problem: not text, unknown name,
        duplicate, or a feature that needs an input the dataset lacks (``x2`` of a 1-D set).
    """
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, name in enumerate(derived):
        if not isinstance(name, str):
            problems.append((i, f"must be a derived feature name, got {name!r}"))
        elif name not in _DERIVED:
            known = ", ".join(DERIVED_FEATURES)
            problems.append((i, f"unknown derived feature {name!r} (known: {known})"))
        elif name in seen:
            problems.append((i, f"derived feature {name!r} is listed twice"))
        elif _DERIVED[name][0] > n_raw:
            problems.append(
                (
                    i,
                    f"derived feature {name!r} needs input x{_DERIVED[name][0]}, "
                    f"but the dataset has {n_raw} input feature(s)",
                )
            )
        if isinstance(name, str):
            seen.add(name)
    return problems


def derive_features(x_raw: np.ndarray, derived: Sequence[str]) -> np.ndarray:
    """Append derived feature columns to raw inputs.

    Parameters
    ----------
    x_raw : ndarray, shape (n, n_raw), float64
        Raw inputs.
    derived : sequence of str
        Names from :data:`DERIVED_FEATURES`, in the column order wanted.

    Returns
    -------
    ndarray, shape (n, n_raw + len(derived)), float64
        Raw columns first, then one column per derived feature; ``x_raw`` itself (not a
        copy) when nothing is derived.
    """
    problems = check_derived(derived, x_raw.shape[1])
    if problems:
        raise DatasetError("; ".join(message for _, message in problems))
    if not derived:
        return x_raw.astype(np.float64, copy=False)
    columns = [x_raw] + [_DERIVED[name][1](x_raw)[:, None] for name in derived]
    return np.concatenate(columns, axis=1).astype(np.float64, copy=False)


def fit_standardizer(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit per-column mean and standard deviation on training inputs.

    Parameters
    ----------
    x_train : ndarray, shape (n_train, n_features), float64
        Training inputs; ``n_train`` must be at least 1.

    Returns
    -------
    mean : ndarray, shape (n_features,), float64
    std : ndarray, shape (n_features,), float64
        Population standard deviation; columns that are (numerically) constant get 1.0
        so that standardising them yields zeros rather than NaN or huge values.
    """
    # Huge values overflow here (std = inf); build_dataset refuses them by line and column.
    with np.errstate(over="ignore", invalid="ignore"):
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
    # A relative threshold: a column like 1e6 + tiny rounding jitter is constant too.
    tiny = 1e-12 * np.maximum(1.0, np.abs(mean))
    std = np.where(std > tiny, std, 1.0)
    return mean.astype(np.float64), std.astype(np.float64)


def standardize(x: np.ndarray, mean: np.ndarray, std: np.ndarray,
                out: np.ndarray | None = None) -> np.ndarray:
    """Apply a fitted standardisation.

    Parameters
    ----------
    x : ndarray, shape (n, n_features)
    mean, std : ndarray, shape (n_features,)
    out : ndarray, shape (n, n_features), float64, optional
        Where to write the result (may be ``x`` itself: no temporary array).

    Returns
    -------
    ndarray, shape (n, n_features), float64
        ``(x - mean) / std``.
    """
    # Overflow to inf is possible for huge values; the caller checks the result.
    with np.errstate(over="ignore", invalid="ignore"):
        if out is None:
            return ((x - mean) / std).astype(np.float64, copy=False)
        np.subtract(x, mean, out=out)
        np.divide(out, std, out=out)
    return out
