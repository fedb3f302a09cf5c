"""The step-through panel: one training step of backpropagation, one stage at a time.

For a small design it builds the float64 network with the design's training seed, takes
the first mini-batch training would take (or a fixed example batch without a dataset)
and asks ``core.teach.stepthrough.walk_step`` for the stages: forward layer by layer, the
error E, backward layer by layer, the update. Next/Previous (or the Left/Right keys)
move through them; the stage's explanation shows the formulas with the first sample's
numbers, and a small diagram of its own (neurons with their values and gradients,
connections with their weights) highlights the neurons and connections the stage
involves. The panel only displays: the arithmetic is the engine's.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core import (
    ActivationSpec,
    DenseSpec,
    Design,
    NetworkSpec,
    StudioError,
    TrainConfig,
    build_network,
)
from core.datasets import Dataset, DatasetSpec, load_dataset
from core.engine.layers import Activation, Dense
from core.teach.stepthrough import (
    Stage,
    column_of_layers,
    column_widths,
    first_batch,
    image_layers,
    walk_step,
)
from core.words import plural
from gui.panels.step_diagram import StepDiagram
from gui.plain_text import plain

#: Largest design the step-through explains (more would not fit the diagram or the text).
MAX_UNITS = 8
MAX_PARAM_LAYERS = 4

class StepThroughPanel(QWidget):
    """Walks through one training step of a small design, stage by stage.

    ``small_example_requested`` fires when the user asks for the small example (offered
    with the message for a design too large to step through); the window loads it as
    the Lessons menu does."""

    small_example_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stages: list[Stage] = []
        self.index = 0
        self.batch_note = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.message = plain(QLabel())  # quotes the design's problems
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMargin(24)
        self.small_button = QPushButton("Load the small example (2-3-1)")
        self.small_button.setObjectName("load_small_example")
        self.small_button.setToolTip("Open the 2-3-1 lesson design (two inputs, three "
                                     "sigmoid neurons, one output) to step through; asks "
                                     "first if there are unsaved changes.")
        self.small_button.clicked.connect(self._on_small_clicked)
        message_page = QWidget()
        message_box = QVBoxLayout(message_page)
        message_box.addStretch(1)
        message_box.addWidget(self.message)
        message_box.addWidget(self.small_button, 0, Qt.AlignmentFlag.AlignHCenter)
        message_box.addStretch(1)

        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() + 2)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.counter = QLabel()
        self.counter.setToolTip("Which stage of the step is shown: forward pass, error, "
                                "backward pass, update.")
        self.diagram = StepDiagram()
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        # Left/Right belong to the panel's navigation, not to the text's cursor.
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.text.setToolTip("What happens in this stage, with the formulas filled in with the "
                             "first sample of the mini-batch.")
        self.previous_button = QPushButton("◀ Previous")
        self.previous_button.setToolTip("Go back one stage (Left arrow key).")
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Go on to the next stage of the step (Right arrow key).")
        for button in (self.previous_button, self.next_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.previous_button.clicked.connect(self._on_previous_clicked)
        self.next_button.clicked.connect(self._on_next_clicked)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.counter)
        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addStretch(1)
        self.note = QLabel()
        self.note.setStyleSheet("color: #666666;")
        nav.addWidget(self.note)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        content = QWidget()
        box = QVBoxLayout(content)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(head)
        box.addWidget(self.diagram, 2)
        box.addWidget(self.text, 3)
        box.addLayout(nav)

        self.pages = QStackedWidget()
        self.pages.addWidget(message_page)
        self.pages.addWidget(content)
        outer = QVBoxLayout(self)
        outer.addWidget(self.pages)
        self._show_message("Open a design to step through one training step of "
                           "backpropagation.")

    # ------------------------------------------------------------------ public
    @staticmethod
    def tiny_design() -> Design:
        """The lesson design: a 2-3-1 sigmoid network on a 20-sample XOR, MSE, SGD 0.5."""
        network = NetworkSpec(inputs=2, layers=(
            DenseSpec(units=3), ActivationSpec(function="sigmoid"),
            DenseSpec(units=1), ActivationSpec(function="sigmoid")))
        training = TrainConfig(loss="mse", optimizer="sgd", learning_rate=0.5, batch_size=4,
                               epochs=200, seed=0, dtype="float64")
        dataset = DatasetSpec.synthetic("xor", samples=20).to_dict()
        return Design(network, training, dataset, "2-3-1 backpropagation lesson")

    def set_design(self, design: Design, dataset: Dataset | None = None) -> None:
        """Take one step of ``design`` apart; ``dataset`` gives the mini-batch (when None,
        the design's own small synthetic set or a fixed example batch)."""
        self.stages, self.index = [], 0
        problem = self._too_large(design)
        if problem:
            self._show_message(problem + " Try the 2-3-1 lesson design: two inputs, three "
                               "sigmoid hidden neurons, one output.", offer_small=True)
            return
        problems = design.validate()
        if problems:
            self._show_message("This design cannot be trained yet: " + problems[0].message)
            return
        try:
            network = build_network(design.network, seed=design.training.seed,
                                    dtype=np.float64)
            if dataset is None:
                dataset = self._design_dataset(design)
            X, Y, self.batch_note = first_batch(design, network, dataset)
            self.stages = walk_step(network, X, Y, design.training.loss,
                                    design.training.learning_rate)
        except (StudioError, ValueError, KeyError) as exc:
            self._show_message(f"Cannot step through this design: {exc}")
            return
        self.diagram.set_network(column_widths(network), self._headings(network))
        self.note.setText(self.batch_note)
        self.pages.setCurrentIndex(1)
        self._show_stage()

    def go_next(self) -> None:
        if self.index < len(self.stages) - 1:
            self.index += 1
            self._show_stage()

    def go_previous(self) -> None:
        if self.index > 0:
            self.index -= 1
            self._show_stage()

    def current_stage(self) -> Stage | None:
        return self.stages[self.index] if self.stages else None

    def highlight(self) -> tuple[tuple[int, ...], int | None]:
        """(highlighted neuron columns, highlighted connection set) of the shown stage."""
        stage = self.diagram.stage
        return (stage.columns, stage.connections) if stage else ((), None)

    def message_text(self) -> str:
        """The message shown instead of the stages ('' while stages are shown)."""
        return self.message.text() if self.pages.currentIndex() == 0 else ""

    # ---------------------------------------------------------------- internals
    @staticmethod
    def _too_large(design: Design) -> str:
        net = design.network
        images = image_layers(net)
        if images:
            # Before any size arithmetic: image layers have no neurons to draw one by one.
            return ("The step-through follows dense networks only, neuron by neuron; this "
                    f"design works on images ({', '.join(images)}). The Network check lists "
                    "its layers with their shapes.")
        n, param_layers, widest = net.inputs, 0, net.inputs
        try:
            for layer in net.layers:
                if layer.parameter_count(n):
                    param_layers += 1
                n = layer.output_features(n)
                widest = max(widest, n)
        except Exception:  # a malformed layer: validate() says what is wrong
            return ""
        if any(layer.kind == "residual" for layer in net.layers):
            return "The step-through shows plain stacks of layers; residual blocks are not " \
                   "shown."
        if widest > MAX_UNITS or param_layers > MAX_PARAM_LAYERS:
            return (f"This design is too large to follow by hand "
                    f"({plural(widest, 'neuron')} in its widest layer, "
                    f"{plural(param_layers, 'layer')} with weights; the step-through shows "
                    f"at most {plural(MAX_UNITS, 'neuron')} per layer and "
                    f"{plural(MAX_PARAM_LAYERS, 'layer')} with weights).")
        return ""

    @staticmethod
    def _design_dataset(design: Design) -> Dataset | None:
        if not design.dataset or design.dataset.get("kind") != "synthetic":
            return None  # only small generated sets are made here; files stay unread
        try:
            return load_dataset(DatasetSpec.from_dict(dict(design.dataset)))
        except StudioError:
            return None

    @staticmethod
    def _headings(network) -> list[str]:
        headings = ["inputs x"]
        acts: dict[int, str] = {}
        k = 0
        for layer, col in zip(network.layers, column_of_layers(network), strict=True):
            if isinstance(layer, Dense):
                k += 1
                headings.append(f"Dense {k}")
            elif isinstance(layer, Activation):
                acts[col] = layer.info.label
            elif col == len(headings):
                headings.append(layer.label)
        return [f"{h} + {acts[c]}" if c in acts else h for c, h in enumerate(headings)]

    def _show_message(self, text: str, offer_small: bool = False) -> None:
        self.message.setText(text)
        self.small_button.setVisible(offer_small)
        self.pages.setCurrentIndex(0)
        self.diagram.set_stage(None)

    def _show_stage(self) -> None:
        stage = self.stages[self.index]
        self.title.setText(stage.title)
        self.counter.setText(f"Stage {self.index + 1} of {len(self.stages)}")
        self.text.setHtml(stage_html(stage))
        self.diagram.set_stage(stage)
        self.previous_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(self.stages) - 1)

    # ------------------------------------------------------------------- slots
    def _on_next_clicked(self, _checked: bool = False) -> None:
        self.go_next()

    def _on_previous_clicked(self, _checked: bool = False) -> None:
        self.go_previous()

    def _on_small_clicked(self, _checked: bool = False) -> None:
        self.small_example_requested.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Right:
            self.go_next()
        elif event.key() == Qt.Key.Key_Left:
            self.go_previous()
        else:
            super().keyPressEvent(event)


def stage_html(stage: Stage) -> str:
    """The stage's text as rich text: prose paragraphs, formula lines in a shaded block."""
    parts = []
    for para in stage.text.split("\n\n"):
        body = "<br>".join(html.escape(line) for line in para.split("\n"))
        formula = "=" in para and not para.rstrip().endswith((".", ":"))
        if formula:
            parts.append('<table width="100%" cellpadding="6" bgcolor="#F6F1EA">'
                         f'<tr><td style="font-size: 10pt">{body}</td></tr>'
                         '</table>')
        else:
            parts.append(f"<p>{body}</p>")
    return "".join(parts)


__all__ = ["MAX_PARAM_LAYERS", "MAX_UNITS", "StepDiagram", "StepThroughPanel", "stage_html"]
