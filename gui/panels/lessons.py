"""The Lessons panel: the seed's claims as one-click experiments.

With no lesson open it lists them all (a start page). Opening one shows its claim and a
plain-words explanation (what to look at, what you should see, why) and one button per
variant ("too high", "good", ...): each loads that ready-made design, dataset and
settings as an untitled copy, ready to train. Training every variant records a run per
variant in the Runs panel, where selecting them overlays their curves.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.teach.lessons import LESSONS, Lesson, LessonVariant


def _quoted(text: str) -> str:
    text = text.strip()
    return text if text[:1] in "“\"" else f"“{text}”"


class LessonPanel(QWidget):
    """Lists the lessons and shows the open one. ``variant_requested(lesson, variant)``
    asks the window to load a variant's design."""

    variant_requested = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesson: Lesson | None = None
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
        self.page_layout.setContentsMargins(0, 0, 0, 0)
        self.back = QPushButton("← All lessons")
        self.back.setToolTip("Back to the list of lessons")
        self.back.clicked.connect(lambda _checked=False: self.show_list())
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.buttons = QVBoxLayout()
        self.page_layout.addWidget(self.back, 0, Qt.AlignmentFlag.AlignLeft)
        self.page_layout.addWidget(self.text)
        self.page_layout.addLayout(self.buttons)
        self.page_layout.addStretch(1)
        self.stack.addWidget(page)

    def show_list(self) -> None:
        self.lesson = None
        self.stack.setCurrentIndex(0)

    def open_lesson(self, key: str) -> Lesson:
        """Show lesson ``key`` (a key of ``core.teach.lessons.LESSONS``)."""
        lesson = LESSONS[key]
        self.lesson = lesson
        self.text.setText(
            f"<h3>{html.escape(lesson.title)}</h3>"
            f"<p><i>{html.escape(_quoted(lesson.claim))}</i></p>"
            f"<p>{html.escape(lesson.explanation)}</p>"
            "<p>Open a variant, press <b>Train</b> (F5), then open the next one and train "
            "it too: the <b>Runs</b> panel keeps each run; select several to overlay "
            "their curves.</p>")
        while self.buttons.count():
            widget = self.buttons.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for variant in lesson.variants:
            button = QPushButton(f"Open “{variant.name}”")
            button.setToolTip(variant.note)
            button.clicked.connect(
                lambda _checked=False, v=variant: self.variant_requested.emit(lesson, v))
            self.buttons.addWidget(button)
        self.stack.setCurrentIndex(1)
        return lesson

    def request(self, variant: LessonVariant) -> None:
        """Ask for ``variant`` of the open lesson (as its button does)."""
        self.variant_requested.emit(self.lesson, variant)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.open_lesson(item.data(Qt.ItemDataRole.UserRole))
