"""A loaded dataset's description, to load it again in another process.

The window loads the design's dataset for its previews and plots; the training process
needs the same arrays. Sending the ``Dataset`` itself means pickling every array on the
window's thread (a 50 MB CSV file blocks the window for seconds), so the window sends a
``DatasetSource`` instead: the ``DatasetSpec``, the folder a relative CSV path is relative
to, and a fingerprint of what the window loaded. The training process loads the spec and
refuses data whose fingerprint differs (a CSV file edited since the window read it), so it
never trains on other data than the window shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.dataset import Dataset
from core.datasets.spec import DatasetSpec, load_dataset
from core.errors import DatasetError, StudioError

__all__ = ["DatasetSource", "fingerprint", "to_send"]


def fingerprint(dataset: Dataset) -> tuple[tuple, tuple[float, ...]]:
    """What identifies ``dataset``'s arrays, cheaply: (the task, shapes and names; the
    standardisation, i.e. the inputs' mean and spread, and the targets' sums). One pass
    over the targets; nothing is copied."""
    structure = (dataset.task, dataset.x_train.shape, dataset.x_val.shape,
                 dataset.class_names, dataset.feature_names)
    numbers = np.concatenate([dataset.feature_mean, dataset.feature_std,
                              [np.sum(dataset.y_train, dtype=np.float64),
                               np.sum(dataset.y_val, dtype=np.float64)]])
    return structure, tuple(numbers.tolist())


def _same(a: tuple[tuple, tuple[float, ...]], b: tuple[tuple, tuple[float, ...]]) -> bool:
    """Fingerprints of the same data: equal structure, numbers equal to rounding."""
    return a[0] == b[0] and np.allclose(a[1], b[1], rtol=1e-9, atol=1e-12)


@dataclass(frozen=True)
class DatasetSource:
    """How to make a loaded dataset again: ``spec``, the folder ``base_dir`` a relative
    CSV or image-folder path is relative to (None: the current folder), and the loaded data's
    ``fingerprint``. Small, plain and picklable."""

    spec: DatasetSpec
    base_dir: str | None
    fingerprint: tuple[tuple, tuple[float, ...]]

    @classmethod
    def of(cls, spec: DatasetSpec, base_dir: str | Path | None,
           dataset: Dataset) -> DatasetSource:
        """The description of ``dataset``, loaded from ``spec`` (in ``base_dir``, which
        only a CSV or image-folder path reads)."""
        reads_files = spec.kind in ("csv", "images")
        folder = str(base_dir) if base_dir is not None and reads_files else None
        return cls(spec, folder, fingerprint(dataset))

    def load(self) -> Dataset:
        """Load the data again. Raises ``DatasetError`` if it cannot be read, or if it is
        not what was described (the file changed since)."""
        dataset = load_dataset(self.spec, self.base_dir)
        if not _same(fingerprint(dataset), self.fingerprint):
            what = {"csv": f"the file {self.spec.path}",
                    "images": f"the image folder {self.spec.path}"}.get(self.spec.kind,
                                                                         "the dataset")
            raise DatasetError(f"{what} changed since the window loaded it; choose the "
                               f"dataset again to reload it")
        return dataset


def to_send(dataset: Dataset, choice: Mapping[str, Any] | None,
            base_dir: str | Path | None) -> Dataset | DatasetSource:
    """What to hand another process for ``dataset``, loaded from a design's dataset
    ``choice`` (its JSON-ready dict, in ``base_dir``): its description, or the dataset
    itself when it has none (data made in memory)."""
    if choice is None:
        return dataset
    try:
        return DatasetSource.of(DatasetSpec.from_dict(choice), base_dir, dataset)
    except StudioError:  # cannot happen for data loaded from it; send the data then
        return dataset
