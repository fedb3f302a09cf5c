"""The dataset panel's controls, built from the dataset tables: the grouped chooser of
every built-in dataset (and the CSV and image-folder entries), the generation options,
the derived-feature boxes and the CSV task chooser, and the one-line summary of a loaded
dataset. The panel (``gui.editor.dataset_panel``) connects them.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from core.datasets import (
    CSV_TASKS,
    DATASETS,
    DERIVED_FEATURES,
    DOWNLOADED,
    MAX_SAMPLES,
    MAX_VAL_FRACTION,
    MIN_SAMPLES,
    Dataset,
)
from core.words import plural
from gui.colors import ERROR

CSV_ENTRY = "csv"  # item data of the "CSV file…" combo entry (dataset names are the others)
IMAGES_ENTRY = "images"  # item data of the "Image folder…" entry
_GROUPS = (("synthetic", "Synthetic (2-D playground sets)"), ("builtin", "Shipped data"),
           ("download", "Downloaded on request"))
_TASK_TIPS = {
    "auto": "Decide from the target column: text or few distinct whole numbers mean "
            "classification, anything else regression.",
    "classification": "Each distinct target value is a class.",
    "regression": "Predict the target column's numbers.",
}
_MAX_SEED = 2**31 - 1


def feature_label(name: str) -> str:
    """How a derived feature is shown: ``x1^2`` as ``x1²``, ``x1*x2`` as ``x1·x2``."""
    return name.replace("^2", "²").replace("*", "·")


def raw_inputs(name: str) -> int:
    """How many raw inputs a built-in dataset has (2 for an unknown name)."""
    info = DATASETS.get(name)
    return info.n_features if info is not None else 2


def set_value(spin: QSpinBox | QDoubleSpinBox, value: float) -> None:
    """Show ``value`` in ``spin``, only when it differs: re-setting the value being
    typed would disturb the editor."""
    if abs(spin.value() - value) > 1e-9:
        spin.setValue(value)


def dataset_chooser() -> QComboBox:
    """Every built-in dataset under its group's title, then "CSV file…" and "Image
    folder…"; each item's UserRole data is the dataset's name (``CSV_ENTRY`` and
    ``IMAGES_ENTRY`` for the imports)."""
    combo = QComboBox()
    combo.setPlaceholderText("Choose a dataset…")
    combo.setToolTip("The data the network learns from. Synthetic sets are generated 2-D "
                     "point clouds; shipped sets are small real datasets; MNIST and "
                     "Fashion-MNIST are downloaded when first chosen; or import your "
                     "own CSV file.")
    model = QStandardItemModel(combo)
    for kind, title in _GROUPS:
        header = QStandardItem(title)
        header.setFlags(Qt.ItemFlag.NoItemFlags)  # a group title, not a choice
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        model.appendRow(header)
        for info in DATASETS.values():
            if info.kind != kind:
                continue
            item = QStandardItem(info.name)
            item.setData(info.name, Qt.ItemDataRole.UserRole)
            tip = f"{info.description} ({info.task}, {plural(info.n_features, 'input')})"
            if info.kind == "download":
                tip += (f". Choosing it downloads {DOWNLOADED[info.name].download_bytes / 1e6:.0f}"
                        " MB once (progress shown, can be cancelled); it is kept for next time.")
            item.setToolTip(tip)
            model.appendRow(item)
    csv_item = QStandardItem("CSV file…")
    csv_item.setData(CSV_ENTRY, Qt.ItemDataRole.UserRole)
    csv_item.setToolTip("Import a table of numbers: one column is the target, the others "
                        "are the inputs. The first line must name the columns.")
    model.appendRow(csv_item)
    images_item = QStandardItem("Image folder…")
    images_item.setData(IMAGES_ENTRY, Qt.ItemDataRole.UserRole)
    images_item.setToolTip("Import a folder of PNG or JPEG images with one subfolder per "
                           "class, named after it.")
    model.appendRow(images_item)
    combo.setModel(model)
    return combo


def file_row() -> tuple[QWidget, QLineEdit, QPushButton]:
    """(row, path, Browse…): the read-only path of the imported CSV file or image folder
    and the button that chooses another."""
    path_edit = QLineEdit()
    path_edit.setReadOnly(True)
    path_edit.setPlaceholderText("no file")
    path_edit.setToolTip("The CSV file or image folder; relative paths are relative to the "
                         "design file's folder.")
    browse = QPushButton("Browse…")
    browse.setToolTip("Choose a CSV file or image folder to import.")
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(path_edit, 1)
    layout.addWidget(browse)
    return row, path_edit, browse


def target_chooser() -> QComboBox:
    """The CSV target column's chooser (filled with the file's header)."""
    combo = QComboBox()
    combo.setToolTip("The column the network learns to predict; every other column is an "
                     "input.")
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


def error_label() -> QLabel:
    """A hidden label for an import's error: red plain text, selectable, wrapped."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(f"color: {ERROR.name()};")
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    label.hide()
    return label


def options_form(rows: dict[str, tuple[str, QWidget]]) -> QFormLayout:
    """The dataset options as a form: one labelled row per ``key: (label, widget)``, in
    order, each label showing its field's tooltip."""
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    for text, widget in rows.values():
        form.addRow(text, widget)
        label = form.labelForField(widget)
        if label is not None:
            label.setToolTip(widget.toolTip())
    return form


def summary_label() -> QLabel:
    """The selectable line saying what the network sees of the loaded data."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setToolTip("What the network sees: task, inputs, outputs and how many rows "
                     "train and validate.")
    return label


def option_spins() -> dict[str, QSpinBox | QDoubleSpinBox]:
    """The generation options: "samples", "noise", "val" (validation share), "seed"."""
    samples = QSpinBox()
    samples.setRange(MIN_SAMPLES, MAX_SAMPLES)
    samples.setSingleStep(50)
    samples.setToolTip("How many points to generate (training and validation together).")
    noise = QDoubleSpinBox()
    noise.setRange(0.0, 1.0)
    noise.setSingleStep(0.05)
    noise.setDecimals(2)
    noise.setToolTip("How much the points are jittered, from 0 (clean pattern) to 1 "
                     "(classes overlap a lot); regression sets get noisy targets.")
    val = QDoubleSpinBox()
    val.setRange(0.0, MAX_VAL_FRACTION)
    val.setSingleStep(0.05)
    val.setDecimals(2)
    val.setToolTip("Share of the rows held out for validation (hollow points in the "
                   "preview); the network never trains on them.")
    seed = QSpinBox()
    seed.setRange(0, _MAX_SEED)
    seed.setToolTip("Seed of the random generation and of the training/validation split: "
                    "the same seed gives the same data.")
    return {"samples": samples, "noise": noise, "val": val, "seed": seed}


def feature_tip(name: str) -> str:
    """What a derived feature's check box does."""
    return (f"Add {feature_label(name)} as an extra input computed from the coordinates "
            "(as TensorFlow Playground offers); each adds one network input.")


def feature_boxes() -> tuple[QWidget, dict[str, QCheckBox]]:
    """A grid of one check box per derived feature (three a row), and the boxes by name."""
    boxes: dict[str, QCheckBox] = {}
    widget = QWidget()
    grid = QGridLayout(widget)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setHorizontalSpacing(8)
    grid.setVerticalSpacing(2)
    for i, name in enumerate(DERIVED_FEATURES):
        box = QCheckBox(feature_label(name))
        box.setToolTip(feature_tip(name))
        grid.addWidget(box, i // 3, i % 3)
        boxes[name] = box
    return widget, boxes


def task_chooser() -> QComboBox:
    """The CSV task: auto, classification or regression, each with its tooltip."""
    combo = QComboBox()
    for i, task in enumerate(CSV_TASKS):
        combo.addItem(task, task)
        combo.setItemData(i, _TASK_TIPS.get(task, ""), Qt.ItemDataRole.ToolTipRole)
    combo.setToolTip("Classification or regression; 'auto' decides from the target column.")
    return combo


def dataset_summary(dataset: Dataset) -> str:
    """One line on what the network sees (rich text)."""
    n_raw = len(dataset.raw_feature_names)
    n_derived = len(dataset.derived_features)
    inputs = plural(dataset.n_features, "input")
    if n_derived:
        inputs += f" ({n_raw} + {n_derived} derived)"
    if dataset.image_shape is not None:
        inputs += " ({} images)".format("×".join(map(str, dataset.image_shape)))
    if dataset.task == "classification":
        outputs = plural(dataset.n_classes, "class")
    else:
        outputs = plural(dataset.n_targets, "target")
    text = (f"<b>{dataset.task.capitalize()}</b> · {inputs} · {outputs} · "
            f"{dataset.n_train:,} training / {dataset.n_val:,} validation rows")
    notes = list(dataset.notes)
    if dataset.task_detected:
        other = "regression" if dataset.task == "classification" else "classification"
        notes.insert(0, f"The task was detected as {dataset.task} from the target "
                        f"column; choose “{other}” under Task above to override.")
    if notes:
        shown = "<br>".join(html.escape(note) for note in notes)
        text += f'<br><span style="color:#8a6d00">{shown}</span>'
    return text
