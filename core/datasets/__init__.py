"""Datasets for Backprop Studio: synthetic 2-D sets, shipped real data, CSV and image-folder
import, and image sets downloaded on request (MNIST, Fashion-MNIST, read from IDX files).

Everything a trainer or the GUI needs comes from here: the :class:`Dataset` type (split
into training and validation parts, inputs standardised with training statistics, raw
inputs kept for plots), the loaders (:func:`make_synthetic`, :func:`load_builtin`,
:func:`load_csv`, :func:`load_image_folder`), seeded augmentation of image batches
(:class:`Augmentation`), the plain-data :class:`DatasetSpec` with :func:`load_dataset`, and the
registry of built-in datasets (:data:`DATASETS`, :func:`list_datasets`).
"""

from __future__ import annotations

from core.datasets.augment import Augmentation, augment_batch
from core.datasets.cells import CellOrigin, check_precision, precision_error, precision_problem
from core.datasets.csv_import import (
    CSV_TASKS,
    MAX_AUTO_CLASSES,
    detect_task,
    load_csv,
    read_csv_dataset,
)
from core.datasets.csv_table import (
    DEFAULT_MAX_BYTES,
    CsvTable,
    ImportCancelled,
    Progress,
    read_csv_table,
)
from core.datasets.dataset import TASKS, Dataset, Task, build_dataset
from core.datasets.downloaded import (
    DOWNLOADED,
    download,
    is_downloaded,
    load_downloaded,
    not_downloaded_message,
)
from core.datasets.downloads import DownloadCancelled, OfflineError
from core.datasets.features import DERIVED_FEATURES
from core.datasets.idx import read_idx
from core.datasets.image_folder import NonImageFiles, load_image_folder
from core.datasets.registry import DATASETS, DatasetInfo, dataset_info, list_datasets
from core.datasets.shipped import RawData, load_builtin, read_raw
from core.datasets.spec import SPEC_KINDS, DatasetSpec, DatasetSpecError, load_dataset
from core.datasets.split import MAX_VAL_FRACTION, Split, train_val_split
from core.datasets.synthetic import MAX_SAMPLES, MIN_SAMPLES, generate, make_synthetic

__all__ = [
    "CSV_TASKS",
    "Augmentation",
    "DATASETS",
    "DEFAULT_MAX_BYTES",
    "DERIVED_FEATURES",
    "DOWNLOADED",
    "MAX_AUTO_CLASSES",
    "MAX_SAMPLES",
    "MAX_VAL_FRACTION",
    "MIN_SAMPLES",
    "OfflineError",
    "NonImageFiles",
    "SPEC_KINDS",
    "TASKS",
    "CellOrigin",
    "CsvTable",
    "Dataset",
    "DatasetInfo",
    "DatasetSpec",
    "DatasetSpecError",
    "DownloadCancelled",
    "ImportCancelled",
    "Progress",
    "RawData",
    "Split",
    "Task",
    "build_dataset",
    "check_precision",
    "dataset_info",
    "detect_task",
    "download",
    "generate",
    "is_downloaded",
    "list_datasets",
    "load_builtin",
    "augment_batch",
    "load_csv",
    "load_image_folder",
    "load_dataset",
    "load_downloaded",
    "make_synthetic",
    "not_downloaded_message",
    "precision_error",
    "precision_problem",
    "read_csv_dataset",
    "read_csv_table",
    "read_idx",
    "read_raw",
    "train_val_split",
]
