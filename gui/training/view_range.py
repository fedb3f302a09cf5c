"""How a live plot's view follows growing data without moving on every frame.

Every change of a pyqtgraph view range regenerates the axes' ticks and labels, which
costs more than drawing the curves (measured in ``bench/gui_latency.py``). So the view
keeps its range while the data stays well inside it and, when the data leaves it (or
shrinks to a small part of it), jumps to a new range with headroom in the direction the
data grows. Ranges are in view coordinates (log10 of the value on a log axis).

The data bounds count finite points only, and a plot may exclude what lies right of an
``x_limit`` from its y bounds: the part of a diverged run after it blew up is drawn
(clipped) but never sets the axes. A curve whose newest value is outside the view
anyway (the user zoomed, or the run diverged) is reported by :func:`off_scale`, so the
plot can say so rather than lose it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from core.engine.blowup import FACTOR, START_FLOOR, blowup_index

Range = tuple[float, float, float, float]  # x0, x1, y0, y1

X_HEADROOM = 0.25  # room to the right, as a fraction of the data's x span
# Room to the left: a curve touching the left edge would also repaint the axis there.
X_MARGIN = 0.02
Y_MARGIN = 0.08  # room above and below, as a fraction of the data's y span
MIN_FILL = 0.5  # refit when the data fills less than this fraction of an axis


def _fit(data: Range) -> Range:
    x0, x1, y0, y1 = data
    x_span = x1 - x0 if x1 > x0 else max(abs(x0), 1.0)
    y_span = y1 - y0 if y1 > y0 else max(abs(y0) * 0.1, 1e-9)
    margin = Y_MARGIN * y_span
    return x0 - X_MARGIN * x_span, x1 + X_HEADROOM * x_span, y0 - margin, y1 + margin


def _keeps(lo: float, hi: float, fit_lo: float, fit_hi: float, view_lo: float,
           view_hi: float) -> bool:
    """The data [lo, hi] is inside the view, and a fresh fit would not be much tighter."""
    return (view_lo <= lo and hi <= view_hi
            and fit_hi - fit_lo >= MIN_FILL * (view_hi - view_lo))


def follow_range(data: Range, view: Range | None) -> Range | None:
    """The view range to set for data bounds ``data``, or None to keep ``view``."""
    fit = _fit(data)
    if view is not None and _keeps(data[0], data[1], fit[0], fit[1], view[0], view[1]) \
            and _keeps(data[2], data[3], fit[2], fit[3], view[2], view[3]):
        return None
    return fit


def data_bounds(curves: Iterable[tuple[np.ndarray, np.ndarray]],
                x_limit: float | None = None) -> Range | None:
    """Bounds of the finite points of ``curves`` ((x (n,), y (n,)) pairs in view
    coordinates); y only from points left of ``x_limit`` when one is given (falling back
    to the points at it, then to none). None when there is no finite point."""
    xs: list[float] = []
    ys: list[float] = []
    at_limit: list[float] = []
    for x, y in curves:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            continue
        x, y = x[ok], y[ok]
        xs += [float(x.min()), float(x.max())]
        if x_limit is not None:
            at_limit += [float(v) for v in y[x == x_limit][:1]]
            keep = x < x_limit
            x, y = x[keep], y[keep]
        if y.size:
            ys += [float(y.min()), float(y.max())]
    if not xs:
        return None
    ys = ys or at_limit
    if not ys:
        return None
    return min(xs), max(xs), min(ys), max(ys)


def off_scale(latest: dict[str, tuple[float, float]], y0: float,
              y1: float) -> dict[str, str]:
    """Which newest values lie outside the view's y range [y0, y1]: ``latest`` maps a
    curve's name to (its newest value in view coordinates, the value shown to the user);
    the answer maps the names outside to "↑" (above, or NaN) or "↓" (below)."""
    out = {}
    for name, (view_y, _shown) in latest.items():
        if np.isnan(view_y) or view_y > y1:
            out[name] = "↑"
        elif view_y < y0:
            out[name] = "↓"
    return out


def blowup_cut(losses: np.ndarray, ended_diverged: bool = False) -> int | None:
    """Index into a loss curve ``losses`` (n,) where the run blew up, or None: the one
    blow-up rule (``core.engine.blowup.blowup_index``), where a run that ended as
    diverged counts as having taken a non-finite step after its last loss (the step
    that failed is not in the curve). Everything before the index is the healthy part,
    the part that may set a plot's axes. The rule only runs when a loss is beyond its
    threshold or not finite, so a healthy curve costs a few array operations."""
    losses = np.asarray(losses, dtype=np.float64)
    if not losses.size:
        return None
    finite = losses[np.isfinite(losses)]
    suspect = ended_diverged or finite.size < losses.size or bool(
        finite.size and finite.max() > FACTOR * max(float(finite[0]), START_FLOOR))
    if not suspect:
        return None
    where = blowup_index(np.append(losses, np.nan) if ended_diverged else losses)
    return None if where is None else min(where, losses.size - 1)


def blown_tail(x: np.ndarray, y: np.ndarray, cut: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of a curve ``x``, ``y`` (n,) from just before index ``cut`` (where it blew
    up) on, for drawing without setting the axes: values beyond a ceiling (a thousand
    times the healthy part's largest, at least 1000) or not finite are drawn at the
    ceiling, far outside the view, so the line leaves the plot upwards rather than
    vanishing (and no coordinate is huge enough to trouble the painter)."""
    start = max(cut - 1, 0)
    healthy = y[:cut][np.isfinite(y[:cut])]
    ceiling = 1e3 * max(float(np.abs(healthy).max()) if healthy.size else 1.0, 1.0)
    tail = y[start:]
    return x[start:], np.where(np.isfinite(tail), np.minimum(tail, ceiling), ceiling)
