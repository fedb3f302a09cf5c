"""The fixed input and output cards above and below the layer stack."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.colors import ERROR
from gui.editor.layer_card_delegate import (
    MARGIN_Y,
    PAD,
    RADIUS,
    bold_font,
    muted_color,
    small_font,
)


class EndCard(QWidget):
    """The fixed input or output card: a title and a detail line, in the error colour when
    it disagrees with the dataset. Not a layer: it can't be selected, moved or deleted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = ""
        self._detail = ""
        self._aside = ""
        self._error = False
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_content(self, title: str, detail: str, error: bool, tooltip: str,
                    aside: str = "") -> None:
        changed = (title, aside) != (self._title, self._aside)
        self._title, self._detail, self._aside, self._error = title, detail, aside, error
        self.setToolTip(tooltip)
        if changed:
            self.updateGeometry()
        self.update()

    def title(self) -> str:
        return self._title

    def detail(self) -> str:
        return self._detail

    def is_error(self) -> bool:
        return self._error

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        title = QFontMetrics(bold_font(self.font()))
        small = QFontMetrics(small_font(self.font()))
        return QSize(200, title.height() + small.height() + 3 + 2 * PAD + 2 * MARGIN_Y)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Wide enough for the title and the aside whole (the detail line may elide)."""
        fm_bold, fm_small = QFontMetrics(bold_font(self.font())), QFontMetrics(
            small_font(self.font()))
        aside = fm_small.horizontalAdvance(self._aside) + 8 if self._aside else 0
        width = fm_bold.horizontalAdvance(self._title) + aside + 2 * PAD + 12
        return QSize(max(120, width), self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        pal = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(self.rect()).adjusted(2.5, MARGIN_Y + 0.5, -4.5, -MARGIN_Y - 0.5)
        fill = QColor(pal.color(QPalette.ColorRole.Base))
        fill.setAlphaF(0.55)
        painter.setBrush(fill)
        if self._error:
            painter.setPen(QPen(ERROR, 1.6))
        else:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1.0, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(card, RADIUS, RADIUS)
        bold, small = bold_font(self.font()), small_font(self.font())
        fm_bold, fm_small = QFontMetrics(bold), QFontMetrics(small)
        left = card.left() + PAD + 4
        right = card.right() - PAD
        aside_w = fm_small.horizontalAdvance(self._aside) if self._aside else 0
        width = right - left - (aside_w + 8 if aside_w else 0)
        top = card.center().y() - (fm_bold.height() + fm_small.height() + 3) / 2
        painter.setFont(bold)
        painter.setPen(ERROR if self._error else pal.color(QPalette.ColorRole.Text))
        painter.drawText(QRectF(left, top, width, fm_bold.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_bold.elidedText(self._title, Qt.TextElideMode.ElideRight,
                                            int(width)))
        painter.setFont(small)
        painter.setPen(ERROR if self._error else muted_color(pal))
        detail_w = right - left
        painter.drawText(QRectF(left, top + fm_bold.height() + 3, detail_w, fm_small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText(self._detail, Qt.TextElideMode.ElideRight,
                                             int(detail_w)))
        if self._aside:
            painter.setPen(muted_color(pal))
            painter.drawText(QRectF(right - aside_w, top, aside_w, fm_bold.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             self._aside)
        painter.end()
