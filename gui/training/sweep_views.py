"""The live views of a hyperparameter sweep: what a ``core.sweeps.status.SweepStatus``
says, drawn.

Left, the trial table (``sweep_table``) and a list of why trials were pruned; right, tab
pages: *Progress* (the best-so-far curve and the parameter importances), *Parameters*
(the objective against each parameter), *Parallel coordinates*, and *Running trials*
(each running trial's loss and gradient norms, live). Above them a summary line with
**Apply best** and **Stop**, which only emit signals (``apply_best_requested(params)``,
``stop_requested``): the window owns the document and the driver (``gui.panels`` sits
above this package and does the applying).

``show_status`` is called on the frame clock (about 30 times a second) while a sweep runs.
It updates the table's changed rows, and marks what else changed: the finished trials
(every plot but the live one) or the running trials' curves. Only the visible page
draws, the live curves at most ``LIVE_INTERVAL`` apart; a page shown later draws then.
The tab pages hold pyqtgraph plots and are built after the window's first frame
(``gui.lazy_build``); until then a placeholder keeps their room and ``show_status`` only
keeps the newest status.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.sweeps.status import SweepStatus
from gui.colors import ERROR
from gui.lazy_build import LazyBuilder, Placeholder
from gui.training.sweep_table import TrialTable
from gui.training.sweep_text import parameter_labels, prune_text, settings_text, summary_text

if TYPE_CHECKING:
    from gui.training.sweep_live import LiveTrialsView
    from gui.training.sweep_parallel import ParallelCoordinates
    from gui.training.sweep_plots import BestSoFarPlot, ImportanceView, ParameterScatters

__all__ = ["SweepViews"]

PAGES_MIN_SIZE = QSize(420, 320)
LIVE_INTERVAL = 0.1  # seconds between redraws of the live curves
PAGES = ("progress", "parameters", "parallel", "live")


class SweepViews(QWidget):
    """The sweep's table, plots and buttons (see the module docstring)."""

    apply_best_requested = Signal(dict)  # the best trial's params, name -> value
    stop_requested = Signal()
    trial_selected = Signal(int)  # the selected trial's number, -1 for none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: SweepStatus | None = None
        self._dirty: set[str] = set()
        self._finished_key: tuple | None = None
        self._live_key: tuple | None = None
        self._pruned_key: tuple | None = None
        self._live_drawn_at = -math.inf
        self._selected: int | None = None
        self._built = False

        self.summary = QLabel("No sweep yet.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet(f"color: {ERROR.name()};")
        self.message.hide()
        self.apply_button = QPushButton("Apply best")
        self.apply_button.setToolTip("Put the best trial's settings into the design "
                                     "(one undoable edit).")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._on_apply)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the sweep: no new trials; the running ones end "
                                    "and are tried again when the sweep is resumed.")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_requested)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.summary)
        text.addWidget(self.message)
        head.addLayout(text, 1)
        head.addWidget(self.apply_button)
        head.addWidget(self.stop_button)

        self.table = TrialTable()
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection)
        self.pruned_list = QListWidget()
        self.pruned_list.setToolTip("Why each pruned trial was stopped early: its value at "
                                    "that epoch against the pruner's threshold there. "
                                    "Click one to select it.")
        self.pruned_list.setMaximumHeight(5 * (self.fontMetrics().height() + 6))
        self.pruned_list.setWordWrap(True)
        self.pruned_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pruned_list.itemClicked.connect(self._on_pruned_clicked)
        self.pruned_label = QLabel("Pruned trials")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.pruned_label)
        left_layout.addWidget(self.pruned_list)
        self.pruned_label.hide()
        self.pruned_list.hide()

        self._pages_box = QWidget()
        self._pages_layout = QVBoxLayout(self._pages_box)
        self._pages_layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = Placeholder(PAGES_MIN_SIZE)
        self._pages_layout.addWidget(self._placeholder)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self._pages_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self._split_set = False  # the first show gives the table its share

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.splitter, 1)
        self._builder = LazyBuilder(self, self._build_pages)

    # ------------------------------------------------------------------ build
    def ensure_built(self) -> None:
        """Build the plot pages now if they are not yet (see ``gui.lazy_build``)."""
        self._builder.ensure_built()

    def _build_pages(self) -> None:
        from gui.training.sweep_live import LiveTrialsView
        from gui.training.sweep_parallel import ParallelCoordinates
        from gui.training.sweep_plots import BestSoFarPlot, ImportanceView, ParameterScatters

        self.best_plot: BestSoFarPlot = BestSoFarPlot()
        self.importances: ImportanceView = ImportanceView()
        self.scatters: ParameterScatters = ParameterScatters()
        self.parallel: ParallelCoordinates = ParallelCoordinates()
        self.live: LiveTrialsView = LiveTrialsView()
        progress = QSplitter(Qt.Orientation.Vertical)
        progress.addWidget(self.best_plot)
        progress.addWidget(self.importances)
        progress.setChildrenCollapsible(False)
        progress.setStretchFactor(0, 3)
        progress.setStretchFactor(1, 2)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for widget, title, tip in (
                (progress, "Progress", "The best objective so far, trial by trial, and "
                                       "how much each parameter matters."),
                (self.scatters, "Parameters", "The objective against each parameter: "
                                              "filled dots completed, hollow ones pruned."),
                (self.parallel, "Parallel coordinates", "Every finished trial as a line "
                                                        "through its settings."),
                (self.live, "Running trials", "Each running trial's loss and gradient "
                                              "norms, live.")):
            self.tabs.setTabToolTip(self.tabs.addTab(widget, title), tip)
        self.tabs.currentChanged.connect(lambda _i: self._draw_visible())
        self._pages_layout.removeWidget(self._placeholder)
        self._placeholder.deleteLater()
        self._pages_layout.addWidget(self.tabs)
        self._built = True
        self._dirty = set(PAGES) if self.status is not None else set()
        self._draw_visible()

    # --------------------------------------------------------------- status
    def show_status(self, status: SweepStatus) -> None:
        """Show ``status`` (see the module docstring for what is redrawn when)."""
        self.status = status
        self._show_head(status)
        self.table.model_.set_status(status)
        finished = tuple((t.number, t.state, t.value, t.threshold, t.pruned_step)
                         for t in status.trials if t.state in ("complete", "pruned", "fail"))
        finished_key = (status.parameters, status.objective, finished,
                        tuple(sorted(status.importances.items())))
        if finished_key != self._finished_key:
            self._finished_key = finished_key
            self._dirty |= {"progress", "parameters", "parallel"}
            self._show_pruned(status)
        live_key = tuple((t.number, len(t.loss), len(t.grads),
                          float(t.loss[-1, 0]) if len(t.loss) else -1.0) for t in status.live)
        if live_key != self._live_key:
            self._live_key = live_key
            self._dirty.add("live")
        if self._built:
            self._draw_visible()

    def _show_head(self, status: SweepStatus) -> None:
        text = summary_text(status)
        if text != self.summary.text():
            self.summary.setText(text)
        message = status.message
        if message != self.message.text():
            self.message.setText(message)
            self.message.setVisible(bool(message))
        best = status.best
        self.apply_button.setEnabled(best is not None)
        if best is not None:
            tip = ("Put the best trial's settings into the design (one undoable edit): "
                   f"#{best.number}, {settings_text(best.params, self._labels(status))}.")
            if self.apply_button.toolTip() != tip:
                self.apply_button.setToolTip(tip)
        self.stop_button.setEnabled(status.state in ("starting", "running"))

    @staticmethod
    def _labels(status: SweepStatus) -> dict[str, str]:
        return parameter_labels(status.parameters)

    def _show_pruned(self, status: SweepStatus) -> None:
        lines = tuple((t.number, prune_text(t, status)) for t in status.trials
                      if t.state == "pruned")
        if lines == self._pruned_key:
            return
        self._pruned_key = lines
        self.pruned_list.clear()
        for number, text in lines:
            item = QListWidgetItem(text)
            item.setToolTip(text)
            item.setData(Qt.ItemDataRole.UserRole, number)
            self.pruned_list.addItem(item)
        self.pruned_label.setText(f"Pruned trials ({len(lines)}): why")
        self.pruned_label.setVisible(bool(lines))
        self.pruned_list.setVisible(bool(lines))

    def prune_lines(self) -> list[str]:
        """The pruned trials' lines as shown."""
        return [self.pruned_list.item(i).text() for i in range(self.pruned_list.count())]

    # ------------------------------------------------------------------ draw
    def _visible_page(self) -> str:
        return PAGES[self.tabs.currentIndex()]

    def _draw_visible(self) -> None:
        if not self._built or self.status is None or not self.isVisible():
            return
        page = self._visible_page()
        if page not in self._dirty:
            return
        if page == "live":
            now = time.monotonic()
            ending = self.status.state in ("finished", "failed")
            if now - self._live_drawn_at < LIVE_INTERVAL and not ending:
                return  # drawn on a later frame
            self._live_drawn_at = now
        self.draw_page(page)

    def draw_page(self, page: str) -> None:
        """Draw ``page`` from the newest status now, visible or not."""
        if self.status is None:
            return
        self.ensure_built()
        self._dirty.discard(page)
        status = self.status
        if page == "progress":
            self.best_plot.draw(status)
            self.importances.draw(status)
            self.best_plot.select(self._selected)
        elif page == "parameters":
            self.scatters.draw(status)
            self.scatters.select(self._selected)
        elif page == "parallel":
            self.parallel.draw(status)
            self.parallel.select(self._selected)
        else:
            live = {t.number for t in status.live}
            elsewhere = sum(t.state == "running" and t.number not in live
                            for t in status.trials)
            self.live.draw(status.live, self._labels(status), elsewhere)
            self.live.select(self._selected)

    def draw_all(self) -> None:
        """Draw every page now (tests, screenshots)."""
        for page in PAGES:
            self.draw_page(page)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._split_set and self.width() > 0:
            # Two fifths for the table (its columns fit at 1280 px), the rest the plots;
            # the user's dragging is kept after.
            self._split_set = True
            left = int(self.width() * 0.42)
            self.splitter.setSizes([left, max(self.width() - left, 1)])
        self._draw_visible()

    # ------------------------------------------------------------- selection
    def select_trial(self, number: int | None) -> None:
        """Select trial ``number`` in the table (and so in every plot)."""
        self.table.select_trial(number)

    def _on_table_selection(self, *_args) -> None:
        number = self.table.selected_trial()
        if number == self._selected:
            return
        self._selected = number
        if self._built:
            self.best_plot.select(number)
            self.scatters.select(number)
            self.parallel.select(number)
            self.live.select(number)
        self.trial_selected.emit(-1 if number is None else number)

    def _on_pruned_clicked(self, item: QListWidgetItem) -> None:
        self.select_trial(item.data(Qt.ItemDataRole.UserRole))

    def _on_apply(self) -> None:
        best = self.status.best if self.status is not None else None
        if best is not None:
            self.apply_best_requested.emit(dict(best.params))
