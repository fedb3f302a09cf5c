"""The Lessons panel: the seed's claims as one-click experiments.

With no lesson open it lists them all (a start page). Opening one shows its claim, one
button per variant ("too high", "good", ...) and "Run all variants", then what to look at
with the measured check on the runs made so far (``core.teach.checks``: "Final
validation loss 0.99 with dropout ... vs 6.30 without: dropout helped"), then the
plain-words explanation. The page scrolls, so the panel never forces the window taller.
A sweep lesson ("Learning rate, measured") has "Run the sweep" instead, and under its
check the plot of the final loss against the swept value with the three regions
(``gui.panels.lesson_sweep_plot``, built when first needed: pyqtgraph stays out of
start-up). What the buttons do is ``gui.panels.lesson_runner``'s: the panel only asks.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.teach.checks import Verdict
from core.teach.lessons import LESSONS, Lesson, LessonVariant
from core.teach.sweep_lesson import SweepPoint

# Verdict.shown -> (mark, colours) of the check box.
_MARKS = {True: ("✔ Shown", "#e8f5e9", "#1b5e20"),
          False: ("✘ Not shown", "#fdecea", "#8a1c1c"),
          None: ("… Not measured yet", "#f3f3f3", "#444444")}


def _quoted(text: str) -> str:
    text = text.strip()
    return text if text[:1] in "“\"" else f"“{text}”"


class LessonPanel(QWidget):
    """Lists the lessons and shows the open one.

    Signals: ``variant_requested(lesson, variant)`` asks to load a variant's design;
    ``run_all_requested(lesson)`` asks to train every variant in turn (or, while that
    runs, to cancel it); ``sweep_requested(lesson)`` asks to run a sweep lesson's sweep
    (or, while it runs, to stop it); ``lesson_opened(lesson)`` after the page shows a
    lesson.
    """

    variant_requested = Signal(object, object)
    run_all_requested = Signal(object)
    sweep_requested = Signal(object)
    lesson_opened = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesson: Lesson | None = None
        self.variant_buttons: dict[str, QPushButton] = {}
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)

        start = QWidget()
        start_layout = QVBoxLayout(start)
        start_layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel("<b>Lessons</b><br>Each lesson turns one claim about "
                       "backpropagation into an experiment you can run. Double-click one.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        for i, lesson in enumerate(LESSONS.values(), start=1):
            item = QListWidgetItem(f"{i}. {lesson.title}")
            item.setData(Qt.ItemDataRole.UserRole, lesson.key)
            item.setToolTip(lesson.claim)
            self.list.addItem(item)
        self.list.itemActivated.connect(self._on_item_activated)
        start_layout.addWidget(intro)
        start_layout.addWidget(self.list, 1)
        self.stack.addWidget(start)

        page = QWidget()
        self.page_layout = QVBoxLayout(page)
        self.page_layout.setContentsMargins(0, 0, 4, 0)
        self.back = QPushButton("← All lessons")
        self.back.setToolTip("Back to the list of lessons")
        self.back.clicked.connect(lambda _checked=False: self.show_list())
        self.title = self._rich_label()
        self.buttons = QVBoxLayout()
        self.run_all = QPushButton("Run all variants")
        self.run_all.setToolTip("Train each variant in turn, then overlay their runs in the "
                                "Runs panel")
        self.run_all.clicked.connect(lambda _checked=False: self._on_run_all())
        self.run_sweep = QPushButton("Run the sweep")
        self.run_sweep.clicked.connect(lambda _checked=False: self._on_run_sweep())
        self.watch = self._rich_label()
        self.check = self._rich_label()
        self.check.setFrameShape(QFrame.Shape.StyledPanel)
        self.sweep_plot = None  # a SweepLessonPlot, made when a sweep lesson shows one
        self.text = self._rich_label()
        self.page_layout.addWidget(self.back, 0, Qt.AlignmentFlag.AlignLeft)
        self.page_layout.addWidget(self.title)
        self.page_layout.addLayout(self.buttons)
        self.page_layout.addWidget(self.run_all)
        self.page_layout.addWidget(self.run_sweep)
        self.page_layout.addWidget(self.watch)
        self.page_layout.addWidget(self.check)
        self._plot_index = self.page_layout.count()  # where the sweep plot goes
        self.page_layout.addWidget(self.text)
        self.page_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(page)
        self.scroll = scroll
        self.stack.addWidget(scroll)

    @staticmethod
    def _rich_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAlignment(Qt.AlignmentFlag.AlignTop)
        return label

    # --------------------------------------------------------------- showing
    def show_list(self) -> None:
        self.lesson = None
        self.stack.setCurrentIndex(0)

    def open_lesson(self, key: str) -> Lesson:
        """Show lesson ``key`` (a key of ``core.teach.lessons.LESSONS``)."""
        lesson = LESSONS[key]
        self.lesson = lesson
        number = list(LESSONS).index(key) + 1
        self.title.setText(
            f"<h3>{number}. {html.escape(lesson.title)}</h3>"
            f"<p><i>{html.escape(_quoted(lesson.claim))}</i></p>")
        self.text.setText(f"<p>{html.escape(lesson.explanation)}</p>"
                          "<p>Each run stays in the <b>Runs</b> panel; select several to "
                          "overlay their curves. Ctrl+Z goes back to the previous "
                          "variant.</p>")
        while self.buttons.count():
            widget = self.buttons.takeAt(0).widget()
            if widget is not None:
                widget.hide()  # at once: deleteLater waits for the event loop
                widget.deleteLater()
        self.variant_buttons = {}
        for variant in lesson.variants:
            button = QPushButton(f"Open “{variant.name}”")
            button.setToolTip(variant.note)
            button.setCheckable(True)
            button.clicked.connect(
                lambda _checked=False, v=variant: self._on_variant_clicked(v))
            self.buttons.addWidget(button)
            self.variant_buttons[variant.name] = button
        self.run_all.setVisible(len(lesson.variants) > 1 and lesson.sweep is None)
        self.run_sweep.setVisible(lesson.sweep is not None)
        if lesson.sweep is not None:
            self.run_sweep.setToolTip(
                f"Train the network once for each of {len(lesson.sweep.values)} learning "
                "rates (several at once), then plot each one's final training loss")
        self.set_running_all(False)
        self.set_sweeping(False)
        self.show_check("", Verdict(None, ""))
        if self.sweep_plot is not None:
            self.sweep_plot.setVisible(False)
        self.stack.setCurrentIndex(1)
        self.lesson_opened.emit(lesson)
        return lesson

    def set_current_variant(self, name: str | None) -> None:
        """Mark the variant whose design is in the editor (None: none of them)."""
        for variant, button in self.variant_buttons.items():
            button.setChecked(variant == name)

    def show_check(self, watch: str, verdict: Verdict) -> None:
        """Show what to look at and the measured check on the runs so far."""
        self.watch.setText(f"<b>Look at:</b> {html.escape(watch)}" if watch else "")
        self.watch.setVisible(bool(watch))
        mark, background, colour = _MARKS[verdict.shown]
        self.check.setText(f"<b>{mark}.</b> {html.escape(verdict.text)}")
        self.check.setStyleSheet(f"QLabel {{ background:{background}; color:{colour}; "
                                 "padding:6px; border-radius:4px; }")
        self.check.setVisible(bool(verdict.text))

    def show_sweep(self, points: list[SweepPoint]) -> None:
        """Plot a sweep lesson's points (the plot is made on first use)."""
        lesson = self.lesson
        if lesson is None or lesson.sweep is None:
            return
        if self.sweep_plot is None:
            from gui.panels.lesson_sweep_plot import SweepLessonPlot

            self.sweep_plot = SweepLessonPlot()
            # About as tall as the dock is at 1280x720, so all of it shows at once.
            self.sweep_plot.setMinimumHeight(220)
            self.sweep_plot.setMaximumHeight(300)
            self.page_layout.insertWidget(self._plot_index, self.sweep_plot)
        self.sweep_plot.show_points(points, lesson.sweep.values)
        self.sweep_plot.setVisible(True)

    def reveal_sweep(self) -> None:
        """Scroll the page so the sweep plot shows (after the layout has settled)."""
        if self.sweep_plot is not None and self.sweep_plot.isVisibleTo(self):
            QTimer.singleShot(0, self._scroll_to_plot)

    def _scroll_to_plot(self) -> None:
        # Not ensureWidgetVisible: a plot (a QGraphicsView) reports a cursor rectangle
        # at its corner, so Qt would only make its top-left corner visible.
        plot, bar = self.sweep_plot, self.scroll.verticalScrollBar()
        top = plot.mapTo(self.scroll.widget(), plot.rect().topLeft()).y()
        height = self.scroll.viewport().height()
        want = top + plot.height() - height if plot.height() < height else top
        if want > bar.value():
            bar.setValue(min(want, bar.maximum()))

    def set_sweeping(self, running: bool, can_start: bool = True) -> None:
        """While the lesson's sweep runs its button stops it."""
        self.run_sweep.setText("Stop the sweep" if running else "Run the sweep")
        self.run_sweep.setEnabled(running or can_start)
        for button in self.variant_buttons.values():
            button.setEnabled(not running)

    def set_running_all(self, running: bool, can_start: bool = True) -> None:
        """While every variant is being trained the button cancels it."""
        self.run_all.setText("Cancel run all" if running else "Run all variants")
        self.run_all.setEnabled(running or can_start)
        for button in self.variant_buttons.values():
            button.setEnabled(not running)

    # -------------------------------------------------------------- requests
    def request(self, variant: LessonVariant) -> None:
        """Ask for ``variant`` of the open lesson (as its button does)."""
        self.variant_requested.emit(self.lesson, variant)

    def _on_variant_clicked(self, variant: LessonVariant) -> None:
        # The button shows the variant in the editor, not its own toggling.
        self.variant_buttons[variant.name].setChecked(False)
        self.request(variant)

    def _on_run_all(self) -> None:
        if self.lesson is not None:
            self.run_all_requested.emit(self.lesson)

    def _on_run_sweep(self) -> None:
        if self.lesson is not None and self.lesson.sweep is not None:
            self.sweep_requested.emit(self.lesson)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.open_lesson(item.data(Qt.ItemDataRole.UserRole))
