"""A legend beside or under a plot (never over a curve), whose entries can hide and show
their curves with a click."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.colors import PLOT_TEXT as TEXT


@dataclass
class LegendEntry:
    """One row of a :class:`Legend`: a line sample drawn with ``pen`` (and a marker when
    ``symbol`` is "filled" or "hollow") followed by ``text``."""

    key: str
    text: str
    pen: QPen
    symbol: str = ""
    tooltip: str = ""
    visible: bool = True
    hidden_curve: bool = field(default=False)


class Legend(QWidget):
    """A legend outside the plot, so it never covers a curve.

    Vertical legends list one entry per row (layers); horizontal ones flow entries on
    lines under a plot. With ``clickable`` a click on an entry hides or shows its curves
    (``toggled`` says which and whether it is now hidden).
    """

    toggled = Signal(str, bool)

    SAMPLE = 26
    GAP = 6

    def __init__(self, vertical: bool, clickable: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vertical = vertical
        self.clickable = clickable
        self.entries: list[LegendEntry] = []
        self._rects: list[tuple[QRectF, LegendEntry]] = []
        if vertical:
            self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        else:
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(clickable)

    # ---------------------------------------------------------------- content
    def set_entries(self, entries: list[LegendEntry]) -> None:
        self.entries = entries
        self._changed()

    def entry(self, key: str) -> LegendEntry | None:
        return next((e for e in self.entries if e.key == key), None)

    def set_visible_entry(self, key: str, visible: bool) -> None:
        e = self.entry(key)
        if e is not None and e.visible != visible:
            e.visible = visible
            self._changed()

    def set_entry_text(self, key: str, text: str, tooltip: str | None = None) -> None:
        """Change entry ``key``'s text (and tooltip); re-laid out only on a change."""
        e = self.entry(key)
        if e is None or (e.text == text and (tooltip is None or e.tooltip == tooltip)):
            return
        e.text = text
        if tooltip is not None:
            e.tooltip = tooltip
        self._changed()

    def _changed(self) -> None:
        self.updateGeometry()
        self._relayout()
        self.update()

    # ----------------------------------------------------------------- layout
    def _row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 4

    def _entry_width(self, e: LegendEntry) -> int:
        return self.SAMPLE + self.GAP + QFontMetrics(self.font()).horizontalAdvance(e.text)

    def _shown(self) -> list[LegendEntry]:
        return [e for e in self.entries if e.visible]

    def _positions(self, width: int) -> list[tuple[QRectF, LegendEntry]]:
        h = self._row_height()
        out = []
        x = y = 0
        for e in self._shown():
            w = self._entry_width(e)
            if self.vertical:
                out.append((QRectF(0, y, max(w, width), h), e))
                y += h
                continue
            if x and x + w > width:
                x, y = 0, y + h
            out.append((QRectF(x, y, w, h), e))
            x += w + 3 * self.GAP
        return out

    def _relayout(self) -> None:
        self._rects = self._positions(max(self.width(), 1))
        if not self.vertical:
            rows = {r.top() for r, _ in self._rects}
            self.setFixedHeight(max(len(rows), 1) * self._row_height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._relayout()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        shown = self._shown()
        h = self._row_height()
        if self.vertical:
            w = max((self._entry_width(e) for e in shown), default=60)
            return QSize(w + 8, h * max(len(shown), 1))
        w = sum(self._entry_width(e) + 3 * self.GAP for e in shown)
        return QSize(w, h)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        if self.vertical:
            return self.sizeHint()
        return QSize(60, self._row_height())

    # ------------------------------------------------------------------ paint
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        for rect, e in self._rects:
            y = rect.center().y()
            pen = QPen(e.pen)
            pen.setCosmetic(True)
            if e.hidden_curve:
                pen.setColor(QColor("#cccccc"))
            painter.setPen(pen)
            x0 = rect.left() + 1
            painter.drawLine(QPointF(x0, y), QPointF(x0 + self.SAMPLE - 2, y))
            if e.symbol:
                painter.setPen(QPen(pen.color(), 1.4))
                painter.setBrush(pen.color() if e.symbol == "filled" else QColor("#ffffff"))
                painter.drawEllipse(QPointF(x0 + (self.SAMPLE - 2) / 2, y), 3.5, 3.5)
            painter.setPen(QColor("#aaaaaa" if e.hidden_curve else TEXT))
            text_x = rect.left() + self.SAMPLE + self.GAP
            text = fm.elidedText(e.text, Qt.TextElideMode.ElideMiddle,
                                 int(max(self.width() - text_x, 10)))
            painter.drawText(QRectF(text_x, rect.top(), self.width() - text_x, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.end()

    # ------------------------------------------------------------------ mouse
    def _entry_at(self, pos: QPointF) -> LegendEntry | None:
        return next((e for r, e in self._rects if r.contains(pos)), None)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        e = self._entry_at(event.position()) if self.clickable else None
        if e is None:
            super().mousePressEvent(event)
            return
        e.hidden_curve = not e.hidden_curve
        self.update()
        self.toggled.emit(e.key, e.hidden_curve)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            e = self._entry_at(QPointF(event.pos()))
            tip = (e.tooltip or e.text) if e is not None else self.toolTip()
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
