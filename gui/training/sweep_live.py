"""The running trials, live: each one's batch loss and each layer's gradient norm,
overlaid, one colour per trial (its number picks it, so it keeps it), the layers of a
trial told apart by line style; the gradient norms on a log axis as on the Gradients
page (pyqtgraph; imported by ``sweep_views`` when it builds its pages)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.sweeps.status import LiveTrial
from core.words import plural
from gui.colors import class_color
from gui.training.legend import Legend, LegendEntry
from gui.training.live_plot import TEXT, LivePlot
from gui.training.sweep_text import settings_text

LAYER_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
                Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)
POINTS = 600  # per curve: more than a small plot's pixels show nothing more


def trial_color(number: int) -> QColor:
    """The colour of trial ``number``'s live curves (the class palette: no grey, which
    would read as a background curve)."""
    return class_color(number)


def _thin(a: np.ndarray, limit: int = POINTS) -> np.ndarray:
    """Every k-th row of ``a`` (and its last) so at most about ``limit`` rows are drawn."""
    if len(a) <= limit:
        return a
    k = -(-len(a) // limit)
    return np.concatenate([a[::k], a[-1:]])


class LiveTrialsView(QWidget):
    """Loss and gradient-norm plots of the running trials with a legend by trial."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_widget = LivePlot("Batch loss of the running trials")
        self.loss_widget.plotItem.setLabel("left", "loss", color=TEXT)
        self.loss_widget.plotItem.setLabel("bottom", "step", color=TEXT)
        self.grad_widget = LivePlot("Gradient norm per layer ‖∂L/∂W‖₂")
        self.grad_widget.plotItem.setLogMode(y=True)
        self.grad_widget.plotItem.setLabel("left", "gradient L2 norm", color=TEXT)
        self.grad_widget.plotItem.setLabel("bottom", "step", color=TEXT)
        self.legend = Legend(vertical=False)
        self.note = QLabel("No trial is running.")
        self.note.setStyleSheet(f"color: {TEXT};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.loss_widget, 1)
        layout.addWidget(self.grad_widget, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.note)
        # trial number -> its loss curve and its gradient curves (one per layer)
        self.loss_curves: dict[int, pg.PlotDataItem] = {}
        self.grad_curves: dict[int, list[pg.PlotDataItem]] = {}
        self._legend_for: tuple = ()
        self._selected: int | None = None

    def draw(self, live: tuple[LiveTrial, ...], labels: dict[str, str],
             running_elsewhere: int = 0) -> None:
        """Show the running trials ``live``; curves of trials no longer running go.
        ``running_elsewhere``: trials running whose curves do not come here (another
        machine's workers), which the note names when nothing is drawn."""
        numbers = {t.number for t in live}
        for number in [n for n in self.loss_curves if n not in numbers]:
            self.loss_widget.plotItem.removeItem(self.loss_curves.pop(number))
            for curve in self.grad_curves.pop(number):
                self.grad_widget.plotItem.removeItem(curve)
        for t in live:
            self._draw_trial(t)
        self._set_legend(live, labels)
        note = ("No trial is running." if not running_elsewhere else
                f"{plural(running_elsewhere, 'trial')} running in other processes (a "
                f"sweep this window watches): their curves do not come here, only their "
                f"values per epoch, in the table.")
        if note != self.note.text():
            self.note.setText(note)
        self.note.setVisible(not live)
        self.loss_widget.follow()
        self.grad_widget.follow()

    def _pen(self, number: int, layer: int = 0) -> pg.QtGui.QPen:
        width = 2.5 if number == self._selected else 1.3
        return pg.mkPen(trial_color(number), width=width,
                        style=LAYER_STYLES[layer % len(LAYER_STYLES)])

    def _draw_trial(self, t: LiveTrial) -> None:
        loss_curve = self.loss_curves.get(t.number)
        if loss_curve is None:
            loss_curve = self.loss_widget.plotItem.plot(pen=self._pen(t.number))
            self.loss_curves[t.number] = loss_curve
            self.grad_curves[t.number] = []
        loss = _thin(np.asarray(t.loss, dtype=float).reshape(-1, 2))
        loss_curve.setData(loss[:, 0], loss[:, 1], connect="finite")
        grads = _thin(np.asarray(t.grads, dtype=float))
        layers = grads.shape[1] - 1 if grads.ndim == 2 and grads.shape[0] else 0
        curves = self.grad_curves[t.number]
        while len(curves) < layers:
            curves.append(self.grad_widget.plotItem.plot(
                pen=self._pen(t.number, len(curves))))
        for i, curve in enumerate(curves):
            if i >= layers:
                curve.setData([], [])
                continue
            y = grads[:, 1 + i]
            # Log axis: a zero or negative norm is left out, not drawn at -inf.
            curve.setData(grads[:, 0], np.where(y > 0, y, np.nan), connect="finite")

    def _set_legend(self, live: tuple[LiveTrial, ...], labels: dict[str, str]) -> None:
        layer_names = max((t.layer_names for t in live), key=len, default=())
        key = (tuple((t.number, tuple(t.params.items())) for t in live), layer_names,
               self._selected)
        if key == self._legend_for:
            return
        self._legend_for = key
        entries = []
        for t in sorted(live, key=lambda t: t.number):
            settings = settings_text(t.params, labels)
            entries.append(LegendEntry(f"trial{t.number}", f"#{t.number} {settings}",
                                       self._pen(t.number), tooltip=f"Trial #{t.number}: "
                                       f"{settings}"))
        for i, name in enumerate(layer_names):
            pen = pg.mkPen("#666666", width=1.3, style=LAYER_STYLES[i % len(LAYER_STYLES)])
            entries.append(LegendEntry(f"layer{i}", name, pen,
                                       tooltip=f"Gradient norm of {name}: this line style"))
        self.legend.set_entries(entries)

    def select(self, number: int | None) -> None:
        """Draw trial ``number``'s curves thick (None: none)."""
        if number == self._selected:
            return
        old, self._selected = self._selected, number
        for n in (old, number):
            if n in self.loss_curves:
                self.loss_curves[n].setPen(self._pen(n))
                for i, curve in enumerate(self.grad_curves[n]):
                    curve.setPen(self._pen(n, i))
        self._legend_for = ()

    def curve_counts(self) -> tuple[int, int]:
        """Loss curves and gradient curves drawn (for tests)."""
        return len(self.loss_curves), sum(len(c) for c in self.grad_curves.values())
