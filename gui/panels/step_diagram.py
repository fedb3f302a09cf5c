"""The step-through's small diagram: columns of neurons (value inside, gradient below)
joined by weighted connections, the current stage's part in colour, the rest faded.

The weights of the highlighted connections are labelled where a label fits: each label
sits on its own line, at the first of several points along it where it overlaps no
other label, neuron, gradient or heading (``place_labels``); a weight whose line has no
free point is left unlabelled and shown when the pointer rests on its line. So labels
never overlap, however many connections a stage has (up to 8 × 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from core.teach.stepthrough import Stage, fmt
from core.words import plural
from gui import colors

_HIGHLIGHT = QColor("#E67E22")
_DIM = QColor("#B0B0B0")
_TEXT = QColor("#222222")
_GRAD = QColor("#8E44AD")
#: Where along its line (0 = source neuron's edge, 1 = target's) a weight label may sit,
#: nearest the preferred point first.
LABEL_POINTS = (0.5, 0.36, 0.64, 0.24, 0.76, 0.14, 0.86)
HOVER_DISTANCE = 5.0  # pixels from a line that still count as pointing at it


def place_labels(lines: list[tuple[QPointF, QPointF, float]], sizes: list[tuple[float, float]],
                 blocked: list[QRectF]) -> list[QRectF | None]:
    """Rectangles for labels on ``lines`` (start, end, preferred point t in [0, 1]), of
    ``sizes`` (width, height), overlapping neither each other nor ``blocked``: each at the
    first free point of ``LABEL_POINTS`` nearest its preferred one, None where no point is
    free. Greedy, in the given order."""
    placed: list[QRectF] = []
    out: list[QRectF | None] = []
    for (a, b, preferred), (w, h) in zip(lines, sizes, strict=True):
        chosen = None
        for t in sorted(LABEL_POINTS, key=lambda p: abs(p - preferred)):
            rect = QRectF(0.0, 0.0, w, h)
            rect.moveCenter(a + (b - a) * t)
            if not any(rect.intersects(r) for r in placed) and not any(
                    rect.intersects(r) for r in blocked):
                chosen = rect
                break
        out.append(chosen)
        if chosen is not None:
            placed.append(chosen)
    return out


@dataclass(frozen=True)
class WeightLabel:
    """One highlighted connection: its line, weight and label (``rect`` None: no room,
    shown on hover)."""

    start: QPointF
    end: QPointF
    source: int  # neuron index in the column before
    target: int  # neuron index in the column after
    value: float
    text: str
    color: QColor
    rect: QRectF | None


class StepDiagram(QWidget):
    """Columns of neurons (value inside, gradient below) joined by weighted connections;
    the current stage's neurons and connections are drawn in colour, the rest faded."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.widths: list[int] = []
        self.headings: list[str] = []
        self.stage: Stage | None = None
        self.setMinimumHeight(150)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._tip = ("The network of this step: each circle is a neuron showing the first "
                     "sample's value (and ∂E/∂ below it once known); lines are weights, "
                     "blue positive, red negative. The stage's part is highlighted; rest "
                     "the pointer on a highlighted line to see its weight.")

    def set_network(self, widths: list[int], headings: list[str]) -> None:
        self.widths, self.headings = list(widths), list(headings)
        # Room for every neuron of the tallest column at a legible size.
        self.setMinimumHeight(max(150, 60 + 50 * max(self.widths, default=1)))
        self.update()

    def set_stage(self, stage: Stage | None) -> None:
        self.stage = stage
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(680, 200)

    # ------------------------------------------------------------------ geometry
    def centers(self) -> list[list[QPointF]]:
        """Neuron centres per column, for the current size."""
        if not self.widths:
            return []
        w, h = self.width(), self.height()
        top, bottom = 34.0, 22.0
        n = len(self.widths)
        xs = [w * (i + 0.5) / n for i in range(n)]
        out = []
        for x, count in zip(xs, self.widths, strict=True):
            span = h - top - bottom
            out.append([QPointF(x, top + span * (j + 0.5) / count) for j in range(count)])
        return out

    def radius(self) -> float:
        tallest = max(self.widths, default=1)
        return max(12.0, min(20.0, (self.height() - 56) / (2.5 * tallest)))

    def label_font(self) -> QFont:
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, self.font().pointSizeF() - 1.5))
        return small

    def _grad_rect(self, center: QPointF, radius: float) -> QRectF:
        return QRectF(center.x() - 40, center.y() + radius, 80,
                      QFontMetricsF(self.label_font()).height())

    @staticmethod
    def _heading_rect(x: float) -> QRectF:
        return QRectF(x - 90, 4, 180, 18)

    def blocked_rects(self) -> list[QRectF]:
        """What labels must not cover: the neurons, their gradients and the headings."""
        radius = self.radius()
        out = []
        stage = self.stage
        for c, column in enumerate(self.centers()):
            grads = stage is not None and c < len(stage.neuron_grads) and \
                stage.neuron_grads[c] is not None
            for center in column:
                out.append(QRectF(center.x() - radius, center.y() - radius, 2 * radius,
                                  2 * radius))
                if grads:
                    out.append(self._grad_rect(center, radius))
            if column:
                out.append(self._heading_rect(column[0].x()))
        return out

    def weight_labels(self) -> list[WeightLabel]:
        """The highlighted connections with their labels' places (none without a stage
        or weights). Labels prefer the end where the lines spread out (the wider column),
        staggered along the lines by neuron so neighbours start apart."""
        stage, centers = self.stage, self.centers()
        k = stage.connections if stage is not None else None
        if k is None or not 0 < k < len(centers) or k >= len(stage.weights) or \
                stage.weights[k] is None:
            return []
        weights, radius = stage.weights[k], self.radius()
        metrics = QFontMetricsF(self.label_font())
        n_in, n_out = len(centers[k - 1]), len(centers[k])
        lines, sizes, found = [], [], []
        for r, a in enumerate(centers[k - 1]):
            for j, b in enumerate(centers[k]):
                value = float(weights[r, j])
                start, end = QPointF(a.x() + radius, a.y()), QPointF(b.x() - radius, b.y())
                text = fmt(value, 3)
                box = metrics.boundingRect(text)
                lines.append((start, end, _preferred_point(r, j, n_in, n_out)))
                sizes.append((box.width() + 4, box.height() + 2))
                color = QColor(colors.POSITIVE if value >= 0 else colors.NEGATIVE)
                found.append((start, end, r, j, value, text, color))
        rects = place_labels(lines, sizes, self.blocked_rects())
        return [WeightLabel(*item, rect) for item, rect in zip(found, rects, strict=True)]

    def connection_at(self, pos: QPointF) -> WeightLabel | None:
        """The highlighted connection whose line passes within ``HOVER_DISTANCE`` of
        ``pos`` (the nearest), or None."""
        best, best_d = None, HOVER_DISTANCE
        for label in self.weight_labels():
            d = _distance_to_segment(pos, label.start, label.end)
            if d <= best_d:
                best, best_d = label, d
        return best

    # ------------------------------------------------------------------ events
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            hit = self.connection_at(QPointF(event.pos()))
            if hit is not None:
                k = self.stage.connections if self.stage is not None else 0
                heading = self.headings[k] if k is not None and k < len(self.headings) else ""
                QToolTip.showText(event.globalPos(),
                                  f"Weight from neuron {hit.source + 1} to neuron "
                                  f"{hit.target + 1} of {heading.split(' + ')[0]}: "
                                  f"{fmt(hit.value)}", self)
            else:
                QToolTip.showText(event.globalPos(), self._tip, self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        stage = self.stage
        centers = self.centers()
        if not centers or stage is None:
            return
        radius = self.radius()
        small = self.label_font()
        tiny = QFont(small)
        tiny.setPointSizeF(small.pointSizeF() - 0.5)
        metrics = QFontMetricsF(small)
        painter.setFont(small)
        # Connections: faded unless the stage is about them.
        for k in range(1, len(centers)):
            weights = stage.weights[k] if k < len(stage.weights) else None
            lit = stage.connections == k
            biggest = float(np.max(np.abs(weights))) if weights is not None else 1.0
            for r, a in enumerate(centers[k - 1]):
                for j, b in enumerate(centers[k]):
                    value = float(weights[r, j]) if weights is not None else 0.0
                    color = QColor(colors.POSITIVE if value >= 0 else colors.NEGATIVE)
                    if weights is None:
                        color = QColor(_DIM)
                    strength = abs(value) / biggest if biggest > 0 else 0.0
                    if not lit:
                        color.setAlpha(60)
                    painter.setPen(QPen(color, (1.0 + 2.5 * strength) if lit else 1.0))
                    painter.drawLine(QPointF(a.x() + radius, a.y()),
                                     QPointF(b.x() - radius, b.y()))
        labels = self.weight_labels()
        for label in labels:
            if label.rect is None:
                continue
            painter.fillRect(label.rect, QColor(255, 255, 255, 225))
            painter.setPen(label.color.darker(130))
            painter.drawText(label.rect, Qt.AlignmentFlag.AlignCenter, label.text)
        # Neurons.
        for c, column in enumerate(centers):
            lit = c in stage.columns
            values = stage.neuron_values[c] if c < len(stage.neuron_values) else None
            grads = stage.neuron_grads[c] if c < len(stage.neuron_grads) else None
            for j, center in enumerate(column):
                painter.setPen(QPen(_HIGHLIGHT if lit else _DIM, 2.5 if lit else 1.2))
                painter.setBrush(QColor("#FDEBD0") if lit else QColor("#F4F4F4"))
                painter.drawEllipse(center, radius, radius)
                if values is not None:
                    painter.setFont(tiny)
                    painter.setPen(_TEXT)
                    text = f"{float(values[j]):.2f}".replace("-", "−")
                    rect = QRectF(center.x() - radius - 6, center.y() - 8, 2 * radius + 12, 16)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
                    painter.setFont(small)
                if grads is not None:
                    painter.setPen(_GRAD)
                    painter.drawText(self._grad_rect(center, radius),
                                     Qt.AlignmentFlag.AlignHCenter, "∂ " + fmt(float(grads[j])))
            # Column heading.
            painter.setPen(_HIGHLIGHT.darker(120) if lit else _TEXT)
            heading = self.headings[c] if c < len(self.headings) else ""
            painter.drawText(self._heading_rect(column[0].x()), Qt.AlignmentFlag.AlignCenter,
                             heading)
        hidden = sum(label.rect is None for label in labels)
        if hidden:
            painter.setPen(_TEXT)
            note = (f"{plural(hidden, 'weight')} not labelled (no room): rest the pointer "
                    "on a line to see it")
            painter.drawText(QRectF(4, self.height() - metrics.height() - 2,
                                    self.width() - 8, metrics.height()),
                             Qt.AlignmentFlag.AlignLeft, note)
        painter.end()


def _preferred_point(r: int, j: int, n_in: int, n_out: int) -> float:
    """Where along the line from neuron ``r`` (of ``n_in``) to ``j`` (of ``n_out``) its
    label is best read: near the wider column, where the lines are apart."""
    if n_out > n_in:  # fanning out: near the targets, staggered by source
        return 0.55 + 0.3 * (r + 0.5) / n_in
    if n_in > n_out:  # fanning in: near the sources, staggered by target
        return 0.15 + 0.3 * (j + 0.5) / n_out
    return 0.22 + 0.5 * (r + 0.5) / n_in


def _distance_to_segment(p: QPointF, a: QPointF, b: QPointF) -> float:
    """Distance in pixels from ``p`` to the segment from ``a`` to ``b``."""
    ab, ap = b - a, p - a
    length2 = ab.x() ** 2 + ab.y() ** 2
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, (ap.x() * ab.x() + ap.y() * ab.y())
                                               / length2))
    closest = a + ab * t
    return float(np.hypot(p.x() - closest.x(), p.y() - closest.y()))


__all__ = ["LABEL_POINTS", "StepDiagram", "WeightLabel", "place_labels"]
