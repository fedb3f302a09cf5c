"""The table of every built-in dataset, for listings and pickers.

One row per synthetic and shipped dataset with its task, a one-line description and its
input and output widths. The command line's ``datasets`` listing and the GUI's dataset
combo box both read :data:`DATASETS`, which is derived from the generator and reader
tables themselves, so a new dataset appears everywhere once it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.datasets.dataset import Task
from core.datasets.downloaded import DOWNLOADED
from core.datasets.shipped import SHIPPED
from core.datasets.synthetic import SYNTHETIC
from core.errors import DatasetError

__all__ = ["DATASETS", "DatasetInfo", "dataset_info", "list_datasets"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a built-in dataset is, without loading it.

    Attributes
    ----------
    name : str
        The name used in specs and on the command line.
    kind : {"synthetic", "builtin", "download"}
        Generated on demand, read from a shipped file, or downloaded on request
        (MNIST, Fashion-MNIST; named in specs as ``builtin`` sets).
    task : {"classification", "regression"}
    description : str
        One line for a listing or tooltip.
    n_features : int
        Raw input columns (synthetic sets can add derived features on top).
    n_outputs : int
        Classes for classification, targets for regression.
    n_samples : int or None
        Fixed size of a shipped set; None when the user chooses it (synthetic).
    image_shape : tuple of int, optional
        ``(channels, height, width)`` when the inputs are images.
    class_names : tuple of str
        The classes' names, when known without loading (image sets).
    """

    name: str
    kind: Literal["synthetic", "builtin", "download"]
    task: Task
    description: str
    n_features: int
    n_outputs: int
    n_samples: int | None = None
    image_shape: tuple[int, int, int] | None = None
    class_names: tuple[str, ...] = ()


def _build_table() -> dict[str, DatasetInfo]:
    table: dict[str, DatasetInfo] = {}
    for name, synthetic in SYNTHETIC.items():
        table[name] = DatasetInfo(
            name=name,
            kind="synthetic",
            task=synthetic.task,
            description=synthetic.description,
            n_features=len(synthetic.raw_feature_names),
            n_outputs=len(synthetic.class_names) if synthetic.task == "classification" else 1,
        )
    for name, shipped in SHIPPED.items():
        table[name] = DatasetInfo(
            name=name,
            kind="builtin",
            task=shipped.task,
            description=shipped.description,
            n_features=shipped.n_features,
            n_outputs=shipped.n_outputs,
            n_samples=shipped.n_samples,
            image_shape=shipped.image_shape,
        )
    for name, downloaded in DOWNLOADED.items():
        table[name] = DatasetInfo(
            name=name,
            kind="download",
            task="classification",
            description=downloaded.description,
            n_features=int(np.prod(downloaded.image_shape)),
            n_outputs=len(downloaded.class_names),
            n_samples=downloaded.n_train + downloaded.n_test,
            image_shape=downloaded.image_shape,
            class_names=downloaded.class_names,
        )
    return table


#: Every built-in dataset by name: synthetic sets first, then shipped ones, then the
#: downloadable ones.
DATASETS: dict[str, DatasetInfo] = _build_table()


def list_datasets(kind: str | None = None) -> list[DatasetInfo]:
    """Return the built-in datasets in display order, optionally only one kind.

    Parameters
    ----------
    kind : {"synthetic", "builtin", "download"}, optional
    """
    if kind not in (None, "synthetic", "builtin", "download"):
        raise DatasetError(f"kind must be 'synthetic', 'builtin' or 'download', "
                           f"got {kind!r}")
    return [info for info in DATASETS.values() if kind is None or info.kind == kind]


def dataset_info(name: str) -> DatasetInfo:
    """Return the registry row of ``name``; DatasetError lists the known names otherwise."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
    return DATASETS[name]
