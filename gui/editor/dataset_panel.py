"""The dataset panel: choose the data the network trains on and see what it looks like.

A combo box offers every built-in dataset (synthetic sets, shipped data, sets downloaded
on request: ``core.datasets.DATASETS``), a CSV file and an image folder. Below it are the
choice's options (built in ``gui.editor.dataset_controls``; this module connects and
fills them), any error in red, a summary and a preview (``gui.editor.dataset_preview``).

Every choice is loaded *before* it is committed: built-in sets at once, files, folders
and downloads off the GUI thread with progress and Cancel (cancelling keeps the design's
dataset). Only a choice that loaded becomes one undoable edit, with the network's input
(``core.design.edit.fit_to_data``), so a bad file shows its error here and the design
keeps its dataset; a file not (yet) in the design is *pending*. The preview marks the
cells an error names, read from the error's ``cells``.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core import StudioError
from core.datasets import (
    DATASETS,
    DOWNLOADED,
    CsvTable,
    Dataset,
    DatasetSpec,
    precision_error,
)
from core.datasets.features import check_derived
from core.design.edit import fit_to_data
from gui.editor.augment_controls import AugmentControls
from gui.editor.csv_jobs import (
    PendingImport,
    file_stamp,
    import_job,
    read_preview_table,
    target_index,
)
from gui.editor.dataset_controls import (
    CSV_ENTRY,
    IMAGES_ENTRY,
    dataset_chooser,
    dataset_summary,
    error_label,
    feature_boxes,
    feature_label,
    feature_tip,
    file_row,
    option_spins,
    options_form,
    raw_inputs,
    set_value,
    summary_label,
    target_chooser,
    task_chooser,
)
from gui.editor.dataset_preview import DatasetPreview
from gui.editor.download_dialog import DownloadFlow
from gui.editor.image_folder_dialog import ask_image_folder
from gui.editor.import_progress_bar import ImportProgressBar
from gui.plain_text import plain, verbatim
from gui.project.dataset_state import (
    BackgroundCall,
    Cells,
    DatasetState,
    ImportProgress,
    load_now,
    resolve_csv_path,
)
from gui.project.document import Document

__all__ = ["DatasetPanel"]

_MAX_TABLES = 8  # preview tables kept (by file path, size and modification time)


class DatasetPanel(QWidget):
    """Choose the design's dataset, its options, and preview it.

    Parameters
    ----------
    document : Document
        Edited only through ``document.set_design``.
    dataset_state : DatasetState
        The design's loaded dataset (summary, preview, errors) and the shared cache.
    """

    def __init__(self, document: Document, dataset_state: DatasetState,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._state = document, dataset_state
        self._pending: PendingImport | None = None
        self._error_cells: Cells = frozenset()  # the cells the shown error names
        self._seen_choice: object = object()  # never equal to a design's dataset
        self._seen_dtype = document.design.training.dtype
        self._cancelled_name = ""  # a file whose import was just cancelled, for the summary
        self._tables: dict[tuple, tuple[CsvTable | None, str]] = {}
        self._import_call = BackgroundCall(self)
        self._table_call = BackgroundCall(self)
        self.downloads = DownloadFlow(self, self._on_download_failed, self._refresh,
                                      retry=lambda: self._apply_design_choice())
        self._build()
        document.designChanged.connect(self._on_design_changed)
        dataset_state.changed.connect(self._on_state_changed)
        self._on_design_changed()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.dataset_combo = dataset_chooser()
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_combo_changed)

        self.description = plain(QLabel())  # names the user's CSV file
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: #555555;")

        spins = option_spins()
        self.samples_spin, self.noise_spin = spins["samples"], spins["noise"]
        self.val_spin, self.seed_spin = spins["val"], spins["seed"]
        self.samples_spin.valueChanged.connect(self._on_samples_changed)
        self.noise_spin.valueChanged.connect(self._on_noise_changed)
        self.val_spin.valueChanged.connect(self._on_val_changed)
        self.seed_spin.valueChanged.connect(self._on_seed_changed)

        self.features_widget, self.feature_boxes = feature_boxes()
        for box in self.feature_boxes.values():
            box.toggled.connect(self._on_feature_toggled)

        path_row, self.path_edit, self.browse_button = file_row()
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.target_combo = target_chooser()
        self.target_combo.currentIndexChanged.connect(self._on_target_changed)
        self.task_combo = task_chooser()
        self.task_combo.currentIndexChanged.connect(self._on_task_changed)
        self.augment_controls = AugmentControls()
        self.augment_controls.edited.connect(self._on_augment_edited)

        rows = {"path": ("File", path_row), "target": ("Target", self.target_combo),
                "task": ("Task", self.task_combo), "samples": ("Samples", self.samples_spin),
                "noise": ("Noise", self.noise_spin), "val": ("Validation", self.val_spin),
                "seed": ("Seed", self.seed_spin),
                "features": ("Extra inputs", self.features_widget),
                "augment": ("Augment", self.augment_controls)}
        self.form = options_form(rows)
        self._rows = {key: widget for key, (_, widget) in rows.items()}

        self.error_label = error_label()
        self.import_progress = ImportProgressBar()
        self.summary_label = summary_label()
        self.preview = DatasetPreview()
        self.preview.setMinimumHeight(200)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.dataset_combo)
        layout.addWidget(self.description)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.downloads.button)
        layout.addWidget(self.import_progress)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.preview, 1)

    # ------------------------------------------------------------------ reading
    def _design_spec(self) -> DatasetSpec | None:
        data = self._doc.design.dataset
        if data is None:
            return None
        try:
            return DatasetSpec.from_dict(data)
        except StudioError:
            return None

    def current_spec(self) -> DatasetSpec | None:
        """The spec the controls show: a pending CSV import, else the design's choice."""
        return self._pending.spec if self._pending is not None else self._design_spec()

    def _csv_path(self, spec: DatasetSpec) -> Path:
        return resolve_csv_path(spec, self._state.base_dir())

    # ------------------------------------------------------------------ editing
    def _commit(self, spec: DatasetSpec, dataset: Dataset, text: str,
                merge_key: str | None) -> None:
        design = self._doc.design
        network = fit_to_data(design.network, dataset.n_features, dataset.image_shape)
        self._doc.set_design(replace(design, dataset=spec.to_dict(), network=network),
                             text, merge_key)

    def _apply(self, spec: DatasetSpec, text: str, merge_key: str | None = None) -> None:
        """Load ``spec`` and, if it loads, make it the design's dataset (one undo step)."""
        base_dir = self._state.base_dir()
        cached = spec.kind == "images" and self._state.cache.get(spec, base_dir) is not None
        if spec.kind not in ("csv", "images") or cached:  # no file to read: at once
            self._import_call.cancel()
            if spec.name in DOWNLOADED and self._state.cache.get(spec, None) is None:
                # Downloaded (if need be) and loaded off the GUI thread, then committed.
                self.downloads.start(spec, lambda data: self._on_downloaded(
                    spec, data, text, merge_key))
                return
            dataset, error, cells = load_now(self._state.cache, spec, base_dir)
            if dataset is not None:
                self._pending = None
                self._commit(spec, dataset, text, merge_key)
            else:  # not expected for built-in sets; say why rather than fail silently
                self._set_error(error, cells)
            return
        self._stop_import()  # a superseded read stops at its next chunk
        self._pending = PendingImport(spec)
        self._cancelled_name = ""
        need_table = spec.kind == "csv" and self._table_for(spec) is None
        progress = ImportProgress()
        self.import_progress.follow(progress, Path(spec.path).name)
        self._import_call.start(
            import_job, spec, base_dir, need_table, progress,
            done=lambda result: self._on_import_done(spec, base_dir, text, merge_key,
                                                     progress, *result))
        self._refresh()

    def _on_downloaded(self, spec: DatasetSpec, dataset: Dataset, text: str,
                       merge_key: str | None) -> None:
        self._state.cache.put(spec, None, dataset)
        self._pending = None
        if spec.to_dict() == self._doc.design.dataset:
            self._state.reload()  # the design already named it (it was not downloaded)
        else:
            self._commit(spec, dataset, text, merge_key)

    def _on_download_failed(self, message: str) -> None:
        self._refresh()
        self._set_error(message)

    def _apply_design_choice(self) -> None:
        if (spec := self._design_spec()) is not None:
            self._apply(spec, f"Choose dataset {spec.name}")

    def cancel_import(self) -> None:
        """Stop reading the CSV file being imported; the design keeps its dataset."""
        self.import_progress.cancel()

    def _stop_import(self) -> None:
        """Drop the import under way, if any, and tell its reader to stop."""
        self.import_progress.cancel()
        self.import_progress.finish()
        self._import_call.cancel()

    def _on_import_done(self, spec: DatasetSpec, base_dir: str | None, text: str,
                        merge_key: str | None, progress: ImportProgress,
                        table: CsvTable | None, table_error: str,
                        dataset: Dataset | None, error: str, cells: Cells) -> None:
        self.import_progress.finish()
        if table is not None or table_error:
            self._remember_table(file_stamp(resolve_csv_path(spec, base_dir)),
                                 (table, table_error))
        if progress.cancelled:
            self._pending = None
            self._cancelled_name = Path(spec.path).name
            self._refresh()
            return
        if dataset is not None:
            self._state.cache.put(spec, base_dir, dataset)
            unfit = precision_error(dataset, self._doc.design.training.dtype)
            if unfit is not None:
                dataset, error, cells = None, str(unfit), frozenset(unfit.cells)
        if dataset is None:
            self._pending = PendingImport(spec, loading=False, error=error, error_cells=cells)
            self._refresh()
            return
        self._pending = None
        if spec.to_dict() == self._doc.design.dataset:
            self._refresh()  # e.g. a re-import of the file already chosen
        else:
            self._commit(spec, dataset, text, merge_key)

    def _edit_option(self, text: str, key: str | None, **changes: object) -> None:
        spec = self.current_spec()
        if spec is None:
            return
        try:
            spec = replace(spec, **changes)
        except StudioError as exc:
            self._set_error(str(exc))
            return
        if self._pending is not None:  # not in the design yet: this edit imports it
            self._apply(spec, f"Import dataset {Path(spec.path).name}")
        else:
            self._apply(spec, text, key)

    def choose(self, name: str) -> None:
        """Make the built-in dataset ``name`` the design's, keeping the options that apply
        (seed, validation share; samples, noise and derived features between synthetic
        sets)."""
        info = DATASETS[name]
        base = self._design_spec()
        seed = base.seed if base is not None else 0
        val = base.val_fraction if base is not None else DatasetSpec.val_fraction
        if info.kind == "synthetic":
            if base is not None and base.kind == "synthetic":
                features = [f for f in base.features
                            if not check_derived([f], info.n_features)]
                spec = DatasetSpec.synthetic(name, base.samples, base.noise, seed, val, features)
            else:
                spec = DatasetSpec.synthetic(name, seed=seed, val_fraction=val)
        elif info.kind == "download":  # its standard split: no seed or share to keep
            spec = DatasetSpec.builtin(name)
        else:
            spec = DatasetSpec.builtin(name, seed, val)
        self._apply(spec, f"Choose dataset {name}")

    def import_csv(self, path: str | Path) -> None:
        """Read ``path`` (target: last column, task: auto) and, if it loads, make it the
        design's dataset; otherwise show why and keep the design's dataset."""
        # Stored absolute: a relative path would break when the design is saved elsewhere.
        path = Path(path).absolute()
        stored = str(path)
        base = self.current_spec()
        seed = base.seed if base is not None else 0
        val = base.val_fraction if base is not None else DatasetSpec.val_fraction
        self._apply(DatasetSpec.csv(stored, None, "auto", seed, val),
                    f"Import dataset {path.name}")

    def browse_images(self) -> bool:
        """Ask for an image folder and its options in a dialog that imports it; if it
        loads, make it the design's dataset. False if the dialog was cancelled."""
        imported = ask_image_folder(self.current_spec(), self)
        if imported is None:
            return False
        spec, dataset = imported
        self._stop_import()
        self._state.cache.put(spec, self._state.base_dir(), dataset)
        self._pending = None
        self._commit(spec, dataset, f"Import images {Path(spec.path).name}", None)
        return True

    def browse_csv(self) -> bool:
        """Ask for a CSV file and import it; False if the dialog was cancelled."""
        spec = self.current_spec()
        start = ""
        if spec is not None and spec.kind == "csv":
            start = str(self._csv_path(spec).parent)
        elif self._state.base_dir():
            start = self._state.base_dir() or ""
        path, _ = QFileDialog.getOpenFileName(
            self, "Import CSV dataset", start, "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if not path:
            return False
        self.import_csv(path)
        return True

    # ------------------------------------------------------------------ slots
    def _on_dataset_combo_changed(self, index: int) -> None:
        value = self.dataset_combo.itemData(index, Qt.ItemDataRole.UserRole)
        if value == CSV_ENTRY:
            spec = self.current_spec()
            if (spec is None or spec.kind != "csv") and not self.browse_csv():
                self._refresh()  # cancelled: show the design's choice again
        elif value == IMAGES_ENTRY:
            spec = self.current_spec()
            if (spec is None or spec.kind != "images") and not self.browse_images():
                self._refresh()
        elif isinstance(value, str):
            self.choose(value)

    def _on_browse_clicked(self) -> None:
        spec = self.current_spec()
        if spec is not None and spec.kind == "images":
            self.browse_images()
        else:
            self.browse_csv()

    def _on_samples_changed(self, value: int) -> None:
        self._edit_option("Change dataset samples", "dataset.samples", samples=value)

    def _on_noise_changed(self, value: float) -> None:
        self._edit_option("Change dataset noise", "dataset.noise", noise=round(value, 4))

    def _on_val_changed(self, value: float) -> None:
        self._edit_option("Change validation share", "dataset.val_fraction",
                          val_fraction=round(value, 4))

    def _on_augment_edited(self, augmentation: object, merge: bool) -> None:
        self._edit_option("Change augmentation", "dataset.augment" if merge else None,
                          augment=augmentation)

    def _on_seed_changed(self, value: int) -> None:
        self._edit_option("Change dataset seed", "dataset.seed", seed=value)

    def _on_feature_toggled(self, _checked: bool) -> None:
        features = tuple(name for name, box in self.feature_boxes.items()
                         if box.isChecked() and box.isEnabled())
        # A click is a discrete edit: each is its own undo step (no merge key).
        self._edit_option("Change derived features", None, features=features)

    def _on_target_changed(self, index: int) -> None:
        if index >= 0:
            self._edit_option("Change dataset target", "dataset.target",
                              target=self.target_combo.itemText(index))

    def _on_task_changed(self, index: int) -> None:
        if index >= 0:
            self._edit_option("Change dataset task", "dataset.task",
                              task=self.task_combo.itemData(index))

    def _on_design_changed(self) -> None:
        choice = self._doc.design.dataset
        if choice != self._seen_choice:
            # The design's dataset changed (a commit, undo, redo, open): a pending import
            # no longer applies.
            self._seen_choice = dict(choice) if choice is not None else None
            self._seen_dtype = self._doc.design.training.dtype
            self._pending = None
            self._cancelled_name = ""
            self._stop_import()
            self._refresh()
        elif self._doc.design.training.dtype != self._seen_dtype:
            # The precision decides whether the data's values fit (precision_error).
            self._seen_dtype = self._doc.design.training.dtype
            self._refresh()

    def _on_state_changed(self) -> None:
        if self._doc.design.dataset == self._seen_choice:  # else _on_design_changed will
            self._refresh()

    def _on_table_read(self, key: tuple, result: tuple[CsvTable | None, str]) -> None:
        self._remember_table(key, result)
        self._refresh()

    def _remember_table(self, key: tuple, result: tuple[CsvTable | None, str]) -> None:
        self._tables.pop(key, None)
        self._tables[key] = result
        while len(self._tables) > _MAX_TABLES:
            del self._tables[next(iter(self._tables))]

    # ------------------------------------------------------------------ showing
    def _set_error(self, text: str, cells: Cells = frozenset()) -> None:
        """Show ``text``; ``cells`` are the file cells it names, marked in the preview."""
        self._error_cells = cells if text else frozenset()
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _table_for(self, spec: DatasetSpec) -> tuple[CsvTable | None, str] | None:
        return self._tables.get(file_stamp(self._csv_path(spec)))

    def _refresh(self) -> None:
        """Show the current spec in the controls (without echoing edits), then the error,
        summary and preview."""
        spec = self.current_spec()
        widgets = [self.dataset_combo, self.samples_spin, self.noise_spin, self.val_spin,
                   self.seed_spin, self.target_combo, self.task_combo,
                   *self.feature_boxes.values()]
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            self._show_controls(spec)
        finally:
            del blockers
        self._show_status(spec)

    def _show_controls(self, spec: DatasetSpec | None) -> None:
        kind = spec.kind if spec is not None else None
        key = ({"csv": CSV_ENTRY, "images": IMAGES_ENTRY}.get(kind)
               or (spec.name if spec is not None else None))
        self.dataset_combo.setCurrentIndex(
            self.dataset_combo.findData(key, Qt.ItemDataRole.UserRole) if key else -1)
        if spec is None:
            self.description.setText("No dataset chosen: pick one above to train on.")
        elif kind == "csv":
            self.description.setText(f"Your own data from {Path(spec.path).name}; below are "
                                     "its first rows (numbered by file line).")
        elif kind == "images":
            self.description.setText(f"Your own images from the folder "
                                     f"{Path(spec.path).name}. Browse… changes the folder, "
                                     f"size or colours.")
        else:
            info = DATASETS[spec.name]
            self.description.setText(f"{info.description[:1].upper()}{info.description[1:]}.")
        self.form.setRowVisible(self._rows["path"], kind in ("csv", "images"))
        for row in ("target", "task"):
            self.form.setRowVisible(self._rows[row], kind == "csv")
        for row in ("samples", "noise", "features"):
            self.form.setRowVisible(self._rows[row], kind in ("synthetic", None))
        for row in ("val", "seed"):  # a downloaded set keeps its standard split
            self.form.setRowVisible(self._rows[row], spec is None or spec.name not in DOWNLOADED)
        images = (spec is not None and kind in ("builtin", "images") and (
            kind == "images" or DATASETS[spec.name].image_shape is not None))
        self.form.setRowVisible(self._rows["augment"], images)
        self.augment_controls.show_augmentation(spec.augment if spec is not None else None)
        for widget in self._rows.values():
            widget.setEnabled(spec is not None)
        defaults = spec if spec is not None else DatasetSpec()
        set_value(self.val_spin, defaults.val_fraction)
        set_value(self.seed_spin, defaults.seed)
        if kind == "synthetic" or spec is None:
            set_value(self.samples_spin, defaults.samples)
            set_value(self.noise_spin, defaults.noise)
            n_raw = raw_inputs(defaults.name) if spec is not None else 2
            for name, box in self.feature_boxes.items():
                usable = not check_derived([name], n_raw)
                box.setEnabled(spec is not None and usable)
                box.setChecked(name in defaults.features)
                box.setToolTip(feature_tip(name) if usable else
                               f"{feature_label(name)} needs input x2; {defaults.name} has "
                               "one input.")
        if kind == "images":
            assert spec is not None
            self.path_edit.setText(spec.path)
            self.path_edit.setCursorPosition(len(spec.path))
        if kind == "csv":
            assert spec is not None
            self.path_edit.setText(spec.path)
            self.path_edit.setCursorPosition(len(spec.path))  # show the file name end
            self.path_edit.setToolTip(verbatim(f"{self._csv_path(spec)}\n\nRelative paths "
                                               "are relative to the design file's folder."))
            self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(spec.task)))
            self.target_combo.clear()
            cached = self._table_for(spec)
            table = cached[0] if cached else None
            if table is not None:
                self.target_combo.addItems(list(table.header))
                index = target_index(spec, table)
                self.target_combo.setCurrentIndex(index if index is not None else -1)
            self.target_combo.setEnabled(table is not None)

    def _show_status(self, spec: DatasetSpec | None) -> None:
        pending, state = self._pending, self._state
        if pending is not None:
            name = Path(pending.spec.path).name
            self._set_error(pending.error, pending.error_cells)
            if pending.loading:
                self.summary_label.setText(f"Reading {html.escape(name)}… The design keeps "
                                           f"its dataset ({html.escape(self._choice_text())})"
                                           " until the file has loaded.")
            else:
                choice = self._design_spec()
                keeps = ("The design has no dataset yet." if choice is None else
                         f"The design keeps its dataset: {html.escape(self._choice_text())}.")
                self.summary_label.setText(f"<b>Not imported.</b> {keeps}")
        else:
            if state.error:
                self._set_error(state.error, state.error_cells)
            else:
                self._set_error(state.precision_error(), state.precision_cells())
            if state.loading and spec is not None:
                self.summary_label.setText(f"Loading {html.escape(self._choice_text())}…")
            elif state.dataset is not None:
                cancelled = (f"<b>Import of {html.escape(self._cancelled_name)} cancelled.</b> "
                             "The design keeps its dataset.<br>" if self._cancelled_name else "")
                self.summary_label.setText(cancelled + dataset_summary(state.dataset))
            elif spec is None:
                self.summary_label.setText("")
            else:
                self.summary_label.setText("No data loaded.")
        self.downloads.show_button(spec, pending is None and state.dataset is None
                                   and bool(state.error))
        self._show_preview(spec)

    def _choice_text(self) -> str:
        spec = self._design_spec()
        if spec is None:
            return "none"
        return Path(spec.path).name if spec.kind in ("csv", "images") else spec.name

    def _show_preview(self, spec: DatasetSpec | None) -> None:
        pending = self._pending
        if pending is not None and pending.loading and self._table_for(pending.spec) is None:
            self.preview.show_message(f"Reading {Path(pending.spec.path).name}…")
            return
        if spec is not None and spec.kind == "csv":
            cached = self._table_for(spec)
            if cached is None:
                key = file_stamp(self._csv_path(spec))
                if not self._table_call.busy:
                    self._table_call.start(
                        read_preview_table, self._csv_path(spec),
                        done=lambda result: self._on_table_read(key, result))
                self.preview.show_message(f"Reading {Path(spec.path).name}…")
                return
            table, error = cached
            if table is None:
                self.preview.show_message("No preview: the file could not be read.")
                if not self.error_label.text():
                    self._set_error(error)
                return
            self.preview.show_table(table, target_index(spec, table),
                                    self._error_cells)
            return
        dataset = self._state.dataset if self._pending is None else None
        if dataset is None:
            self.preview.show_message("" if spec is None else "Nothing to show.")
            return
        equal = spec is not None and spec.kind == "synthetic"
        self.preview.show_dataset(dataset, equal_aspect=equal)
