"""The dataset of the open design, loaded and kept while the design's dataset choice is
unchanged. Panels read it for shapes, previews and the network check.

Built-in sets (synthetic and shipped) load synchronously: they take milliseconds. A CSV
file can take seconds (a 20 MB file about 4 s), so it loads on a worker thread and the
result is picked up on the GUI thread by polling; nothing crosses threads through Qt
signals. Loaded datasets are immutable, so a small cache lets undo/redo and the dataset
panel (which loads a file before committing it to the design) reuse them.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from core import DatasetError, StudioError
from core.datasets import Dataset, DatasetSpec, load_dataset, precision_error
from core.design.check import DataShape
from core.design.edit import fit_to_data
from core.design.fields import field_infos
from core.design.spec import NetworkSpec, TrainConfig
from gui.project.document import Document

# Two workers: a superseded load may still be running when the next one starts.
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dataset-load")
_POLL_MS = 25
# The training precisions the settings offer (the dtype field's choices).
_PRECISIONS = tuple(field_infos(TrainConfig)["dtype"].choices())  # type: ignore[misc]

Cells = frozenset[tuple[int, int]]  # (1-based file line, 1-based column) an error names


def resolve_csv_path(spec: DatasetSpec, base_dir: str | None) -> Path:
    """The file a CSV spec names: relative paths are relative to the design's folder."""
    path = Path(spec.path)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    return path


class ImportProgress:
    """Shared by the GUI thread and a worker reading a CSV file: the worker's reader calls
    it with the fraction read (``core.datasets.Progress``) and stops once ``cancel`` was
    called. Plain attributes: each is written by one thread only."""

    def __init__(self) -> None:
        self.fraction = 0.0
        self.cancelled = False

    def __call__(self, fraction: float) -> bool:
        self.fraction = fraction
        return not self.cancelled

    def cancel(self) -> None:
        self.cancelled = True


def error_cells(error: BaseException) -> Cells:
    """The file cells an error names (``DatasetError.cells``), read from the error's
    attributes, never from its text."""
    return frozenset(error.cells) if isinstance(error, DatasetError) else frozenset()


def load_quietly(spec: DatasetSpec, base_dir: str | None,
                 progress: ImportProgress | None = None
                 ) -> tuple[Dataset | None, str, Cells]:
    """Load ``spec``: (dataset, "", {}) or (None, message, the cells it names); never
    raises, so it can run on a worker thread. ``progress`` follows (and can cancel) the
    reading of a CSV file."""
    try:
        return load_dataset(spec, base_dir, progress), "", frozenset()
    except StudioError as exc:
        return None, str(exc), error_cells(exc)
    except (MemoryError, OSError, ValueError) as exc:  # not expected; say so plainly
        return None, f"could not load the dataset: {exc}", frozenset()


class DatasetCache:
    """The last few loaded datasets by (spec, base folder); CSV entries also key on the
    file's size and modification time so an edited file is read again."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: OrderedDict[tuple, Dataset] = OrderedDict()

    @staticmethod
    def _key(spec: DatasetSpec, base_dir: str | None) -> tuple:
        stamp: tuple = ()
        if spec.kind == "csv":
            try:
                st = os.stat(resolve_csv_path(spec, base_dir))
                stamp = (st.st_size, st.st_mtime_ns)
            except OSError:
                stamp = ("missing",)
        return (spec, base_dir if spec.kind == "csv" else None, stamp)

    def get(self, spec: DatasetSpec, base_dir: str | None) -> Dataset | None:
        key = self._key(spec, base_dir)
        dataset = self._items.get(key)
        if dataset is not None:
            self._items.move_to_end(key)
        return dataset

    def put(self, spec: DatasetSpec, base_dir: str | None, dataset: Dataset) -> None:
        self._items[self._key(spec, base_dir)] = dataset
        self._items.move_to_end(self._key(spec, base_dir))
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class BackgroundCall(QObject):
    """Runs one function at a time on a worker thread and hands its result to ``done`` on
    the GUI thread (polled by a timer). ``start`` drops the result of any call still
    pending (cancel-on-start): the old call runs to its end, but nobody hears of it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: tuple[Future, Callable[[Any], None]] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(_POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def busy(self) -> bool:
        return self._job is not None

    def start(self, fn: Callable[..., Any], *args: Any, done: Callable[[Any], None]) -> None:
        self.cancel()
        self._job = (_EXECUTOR.submit(fn, *args), done)
        self._timer.start()

    def cancel(self) -> None:
        self._job = None
        self._timer.stop()

    def _on_timer_timeout(self) -> None:
        if self._job is None or not self._job[0].done():
            return
        future, done = self._job
        self.cancel()
        done(future.result())  # the functions run here catch their own errors


def load_now(cache: DatasetCache, spec: DatasetSpec,
             base_dir: str | None) -> tuple[Dataset | None, str, Cells]:
    """Load ``spec`` on this thread, through ``cache``: as ``load_quietly``."""
    dataset = cache.get(spec, base_dir)
    if dataset is not None:
        return dataset, "", frozenset()
    dataset, error, cells = load_quietly(spec, base_dir)
    if dataset is not None:
        cache.put(spec, base_dir, dataset)
    return dataset, error, cells


class DatasetState(QObject):
    """Loads ``document.design.dataset`` whenever it changes.

    ``dataset`` is the loaded ``Dataset`` or None; ``error`` says why loading failed
    (shown by the dataset panel) and ``error_cells`` which file cells it names;
    ``loading`` is True while a CSV file is read in the background (``dataset`` is None
    meanwhile); ``changed`` fires after any of them change.
    ``cache`` is shared with the dataset panel, which loads a choice before committing it.
    """

    changed = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._key: tuple | None = None
        self.dataset: Dataset | None = None
        self.error = ""
        self.error_cells: Cells = frozenset()
        self.cache = DatasetCache()
        self._precision: tuple[Dataset | None, tuple[tuple[str, DatasetError], ...]] = (
            None, ())
        self._call = BackgroundCall(self)
        document.designChanged.connect(self._on_design_changed)
        document.pathChanged.connect(self._on_design_changed)
        self._on_design_changed()

    @property
    def shape(self) -> DataShape | None:
        d = self.dataset
        if d is None:
            return None
        return DataShape(d.task, d.n_features, d.n_outputs,
                         n_samples=max(len(d.x_train), len(d.x_val)),
                         # MERGE: d.image_shape once it is (C, H, W) (imagedata)
                         image_shape=fit_to_data(NetworkSpec(), d.n_features,
                                                 d.image_shape).input_shape or None,
                         precision_problems=tuple((dtype, str(error)) for dtype, error
                                                  in self._precision_problems(d)))

    def _precision_problems(self, dataset: Dataset) -> tuple[tuple[str, DatasetError], ...]:
        """(precision, error) for each precision the data overflows in; computed once
        per dataset (a pass over its arrays)."""
        if self._precision[0] is not dataset:
            found = tuple((dtype, error) for dtype in _PRECISIONS
                          if (error := precision_error(dataset, dtype)) is not None)
            self._precision = (dataset, found)
        return self._precision[1]

    def _design_precision_error(self) -> DatasetError | None:
        if self.dataset is None:
            return None
        return dict(self._precision_problems(self.dataset)).get(
            self._doc.design.training.dtype)

    def precision_error(self) -> str:
        """Why the loaded data cannot train in the design's precision, or ""."""
        error = self._design_precision_error()
        return "" if error is None else str(error)

    def precision_cells(self) -> Cells:
        """The file cell ``precision_error`` names, if any."""
        error = self._design_precision_error()
        return frozenset() if error is None else error_cells(error)

    @property
    def loading(self) -> bool:
        return self._call.busy

    def base_dir(self) -> str | None:
        """The folder relative CSV paths are relative to (the design file's folder)."""
        return str(self._doc.path.parent) if self._doc.path else None

    def _on_design_changed(self) -> None:
        choice = self._doc.design.dataset
        choice = dict(choice) if choice is not None else None
        # A relative CSV path depends on where the design is saved, so that is part of it.
        is_csv = choice is not None and choice.get("kind") == "csv"
        key = (choice, self.base_dir() if is_csv else None)
        if key == self._key:
            return
        self._key = key
        self._call.cancel()
        self.dataset, self.error, self.error_cells = None, "", frozenset()
        if choice is None:
            self.changed.emit()
            return
        try:
            spec = DatasetSpec.from_dict(choice)
        except StudioError as exc:
            self.error = str(exc)
            self.changed.emit()
            return
        base_dir = self.base_dir()
        if spec.kind == "csv" and self.cache.get(spec, base_dir) is None:
            self._call.start(load_quietly, spec, base_dir,
                             done=lambda result: self._on_loaded(spec, base_dir, *result))
            self.changed.emit()  # tell panels a load is under way
            return
        self.dataset, self.error, self.error_cells = load_now(self.cache, spec, base_dir)
        self.changed.emit()

    def _on_loaded(self, spec: DatasetSpec, base_dir: str | None, dataset: Dataset | None,
                   error: str, cells: Cells) -> None:
        if dataset is not None:
            self.cache.put(spec, base_dir, dataset)
        self.dataset, self.error, self.error_cells = dataset, error, cells
        self.changed.emit()
