"""The dataset choice as plain data, for design and project files.

A :class:`DatasetSpec` says which data to train on: a ``synthetic`` set (name, samples,
noise, seed, validation share, derived features), a ``builtin`` set, shipped or
downloaded on request (name, seed, validation share), a ``csv`` file (path, target, task,
seed, validation share) or an ``images`` folder (path, size, grayscale, whether to skip
non-image files, seed, validation share). Image data (shipped or downloaded image sets and
image folders) may also carry ``augment`` (``core.datasets.augment``), which the trainer
applies. It
round-trips through JSON-ready dicts; validation collects every problem with its path
(``dataset.noise: must be between 0 and 1, got 3``) and raises them together as a
:class:`DatasetSpecError`. :func:`load_dataset` turns a spec into a :class:`Dataset`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeGuard

from core.datasets.augment import Augmentation, augment_problems
from core.datasets.csv_import import CSV_TASKS, load_csv
from core.datasets.csv_table import Progress
from core.datasets.dataset import Dataset
from core.datasets.downloaded import DOWNLOADED, load_downloaded
from core.datasets.features import check_derived
from core.datasets.image_folder import MAX_SIDE, load_image_folder
from core.datasets.shipped import SHIPPED, load_builtin
from core.datasets.split import MAX_VAL_FRACTION
from core.datasets.synthetic import MAX_SAMPLES, MIN_SAMPLES, SYNTHETIC, make_synthetic
from core.errors import DatasetError, Problem

__all__ = ["SPEC_KINDS", "DatasetSpec", "DatasetSpecError", "load_dataset"]

SPEC_KINDS: tuple[str, ...] = ("synthetic", "builtin", "csv", "images")

# The keys each kind writes and reads; the other fields must keep their defaults.
# ``augment`` is written only when set.
_KEYS: dict[str, tuple[str, ...]] = {
    "synthetic": ("kind", "name", "samples", "noise", "seed", "val_fraction", "features"),
    "builtin": ("kind", "name", "seed", "val_fraction", "augment"),
    "csv": ("kind", "path", "target", "task", "seed", "val_fraction"),
    "images": ("kind", "path", "size", "grayscale", "skip_non_images", "seed",
               "val_fraction", "augment"),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "synthetic": ("name",),
    "builtin": ("name",),
    "csv": ("path",),
    "images": ("path",),
}


class DatasetSpecError(DatasetError):
    """A dataset spec is invalid; ``problems`` lists every problem with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_name(name: object, table: Mapping[str, object], kind: str) -> str | None:
    if not isinstance(name, str):
        return f"must be a text name, got {name!r}"
    if name not in table:
        return f"unknown {kind} dataset {name!r} (known: {', '.join(table)})"
    return None


def _check_range(value: object, low: float, high: float, integer: bool) -> str | None:
    if not (_is_int(value) if integer else _is_number(value)):
        return f"must be {'an integer' if integer else 'a number'}, got {value!r}"
    if not low <= value <= high:  # type: ignore[operator]
        return f"must be between {low:g} and {high:g}, got {value}"
    return None


def _check_features(features: object, name: object, where: str) -> list[Problem]:
    if not isinstance(features, list | tuple):
        return [Problem(where, f"must be a list of feature names, got {features!r}")]
    known = isinstance(name, str) and name in SYNTHETIC
    n_raw = len(SYNTHETIC[name].raw_feature_names) if known else 2  # type: ignore[index]
    return [Problem(f"{where}[{i}]", message) for i, message in check_derived(features, n_raw)]


def _check_seed(value: object, kind: str) -> str | None:
    if _is_int(value) and value >= 0:
        return None
    return f"must be a non-negative integer, got {value!r}"


def _check_path(value: object, kind: str) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"must be a non-empty file path, got {value!r}"


def _check_target(value: object, kind: str) -> str | None:
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return None
    return f"must be a column name, a 0-based column index or null, got {value!r}"


def _check_task(value: object, kind: str) -> str | None:
    if value in CSV_TASKS:
        return None
    return f"must be one of {', '.join(CSV_TASKS)}, got {value!r}"


def _check_size(value: object, kind: str) -> str | None:
    if value is None:
        return None
    if (isinstance(value, list | tuple) and len(value) == 2
            and all(_is_int(v) and 1 <= v <= MAX_SIDE for v in value)):
        return None
    return (f"must be [height, width] in whole pixels from 1 to {MAX_SIDE}, or null to keep "
            f"the images' size, got {value!r}")


def _check_flag(value: object, kind: str) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def _augment_problems(values: Mapping[str, Any], where: str) -> list[Problem]:
    augment = values["augment"]
    if augment is None or isinstance(augment, Augmentation):
        problems = []
    else:
        problems = augment_problems(augment, f"{where}.augment")
    name = values.get("name")
    if (augment is not None and values["kind"] == "builtin" and name in SHIPPED
            and SHIPPED[name].image_shape is None):
        problems.append(Problem(f"{where}.augment", f"applies to image data only; {name} is "
                                                    f"not an image dataset"))
    return problems


_FIELD_CHECKS: dict[str, Callable[[Any, str], str | None]] = {
    "kind": lambda value, kind: None,
    "name": lambda value, kind: (
        _check_name(value, SYNTHETIC, "synthetic")
        if kind == "synthetic"
        else _check_name(value, {**SHIPPED, **DOWNLOADED}, "built-in")
    ),
    "samples": lambda value, kind: _check_range(value, MIN_SAMPLES, MAX_SAMPLES, True),
    "noise": lambda value, kind: _check_range(value, 0.0, 1.0, False),
    "seed": _check_seed,
    "val_fraction": lambda value, kind: _check_range(value, 0.0, MAX_VAL_FRACTION, False),
    "path": _check_path,
    "target": _check_target,
    "task": _check_task,
    "size": _check_size,
    "grayscale": _check_flag,
    "skip_non_images": _check_flag,
}


def _check_values(values: Mapping[str, Any], where: str) -> list[Problem]:
    """Check every field of one kind, in key order (``values`` holds each key of the kind)."""
    kind = values["kind"]
    problems: list[Problem] = []
    for key in _KEYS[kind]:
        if key == "features":
            problems += _check_features(values[key], values["name"], f"{where}.features")
        elif key == "augment":
            problems += _augment_problems(values, where)
        elif (message := _FIELD_CHECKS[key](values[key], kind)) is not None:
            problems.append(Problem(f"{where}.{key}", message))
    return problems


@dataclass(frozen=True)
class DatasetSpec:
    """Which dataset to train on, as plain data.

    Attributes
    ----------
    kind : {"synthetic", "builtin", "csv"}
    name : str
        Synthetic set or shipped set name (synthetic and builtin kinds); the downloaded
        sets (``mnist``, ``fashion_mnist``) are builtin too, with their standard split.
    samples : int
        Number of generated points, in [10, 100000] (synthetic).
    noise : float
        Noise level in [0, 1] (synthetic).
    seed : int
        Non-negative seed of generation and split.
    val_fraction : float
        Validation share in [0, 0.9].
    features : tuple of str
        Derived features to append (synthetic), see ``DERIVED_FEATURES``.
    path : str
        CSV file; relative paths resolve against ``load_dataset``'s ``base_dir`` (csv).
    target : str or int or None
        Target column name or 0-based index; None for the last column (csv).
    task : {"auto", "classification", "regression"}
        Task of a CSV file (csv).
    size : (height, width) or None
        Size to resize every image to; None keeps the images' own (images).
    grayscale : bool
        One channel instead of RGB (images).
    skip_non_images : bool
        Leave out files that are not images instead of refusing the folder (images).
    augment : Augmentation or None
        Shifts and flips of training batches (builtin image sets, images); written only
        when set.

    Fields that do not apply to ``kind`` must keep their defaults. Constructing an
    invalid spec raises :class:`DatasetSpecError` listing every problem.
    """

    kind: str = "synthetic"
    name: str = "circle"
    samples: int = 500
    noise: float = 0.0
    seed: int = 0
    val_fraction: float = 0.2
    features: tuple[str, ...] = ()
    path: str = ""
    target: str | int | None = None
    task: str = "auto"
    size: tuple[int, int] | None = None
    grayscale: bool = False
    skip_non_images: bool = False
    augment: Augmentation | None = None

    def __post_init__(self) -> None:
        if isinstance(self.features, list):
            object.__setattr__(self, "features", tuple(self.features))
        if isinstance(self.size, list):
            object.__setattr__(self, "size", tuple(self.size))
        problems = self.problems()
        if problems:
            raise DatasetSpecError(problems)

    @classmethod
    def synthetic(
        cls,
        name: str,
        samples: int = 500,
        noise: float = 0.0,
        seed: int = 0,
        val_fraction: float = 0.2,
        features: Sequence[str] = (),
    ) -> DatasetSpec:
        """Spec of a synthetic set."""
        return cls("synthetic", name, samples, noise, seed, val_fraction, tuple(features))

    @classmethod
    def builtin(cls, name: str, seed: int = 0, val_fraction: float = 0.2) -> DatasetSpec:
        """Spec of a shipped set (``digits``, ``iris``, ``diabetes``) or a downloaded one
        (``mnist``, ``fashion_mnist``: their standard split; seed and share unused)."""
        return cls(kind="builtin", name=name, seed=seed, val_fraction=val_fraction)

    @classmethod
    def csv(
        cls,
        path: str,
        target: str | int | None = None,
        task: str = "auto",
        seed: int = 0,
        val_fraction: float = 0.2,
    ) -> DatasetSpec:
        """Spec of a CSV file."""
        return cls(
            kind="csv", path=path, target=target, task=task, seed=seed, val_fraction=val_fraction
        )

    @classmethod
    def images(
        cls,
        path: str,
        size: tuple[int, int] | None = None,
        grayscale: bool = False,
        seed: int = 0,
        val_fraction: float = 0.2,
        skip_non_images: bool = False,
    ) -> DatasetSpec:
        """Spec of an image folder (one subfolder per class)."""
        return cls(kind="images", path=path, size=size, grayscale=grayscale, seed=seed,
                   val_fraction=val_fraction, skip_non_images=skip_non_images)

    def problems(self, where: str = "dataset") -> list[Problem]:
        """Return every problem of this spec, each with a path below ``where``."""
        if self.kind not in SPEC_KINDS:
            return [
                Problem(
                    f"{where}.kind", f"must be one of {', '.join(SPEC_KINDS)}, got {self.kind!r}"
                )
            ]
        keys = _KEYS[self.kind]
        problems = [
            Problem(f"{where}.{f.name}", f"does not apply to a {self.kind} dataset")
            for f in fields(self)
            if f.name not in keys and getattr(self, f.name) != f.default
        ]
        return problems + _check_values({key: getattr(self, key) for key in keys}, where)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a JSON-ready dict holding only the keys of its kind."""
        data = {key: getattr(self, key) for key in _KEYS[self.kind]}
        if "features" in data:
            data["features"] = list(data["features"])
        if data.get("size") is not None:
            data["size"] = list(data["size"])
        if "augment" in data:
            if self.augment is None:
                del data["augment"]
            else:
                data["augment"] = self.augment.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: object, where: str = "dataset") -> DatasetSpec:
        """Build a spec from a dict such as :meth:`to_dict` returns.

        Parameters
        ----------
        data : mapping
            Must hold ``kind``, plus ``name`` (synthetic, builtin) or ``path`` (csv);
            other keys of that kind are optional and default as in the class.
        where : str
            Path prefix used in problem messages.

        Raises
        ------
        DatasetSpecError
            Listing every problem: unknown or missing keys, wrong types, bad values.
        """
        if not isinstance(data, Mapping):
            raise DatasetSpecError([Problem(where, f"must be a mapping, got {data!r}")])
        kind = data.get("kind")
        if kind not in SPEC_KINDS:
            message = "is required" if kind is None else f"got {kind!r}"
            raise DatasetSpecError(
                [Problem(f"{where}.kind", f"must be one of {', '.join(SPEC_KINDS)}; {message}")]
            )
        keys = _KEYS[kind]
        problems = [
            Problem(
                f"{where}.{key}", f"unknown key for a {kind} dataset (known: {', '.join(keys)})"
            )
            for key in data
            if key not in keys
        ]
        problems += [
            Problem(f"{where}.{key}", "is required") for key in _REQUIRED[kind] if key not in data
        ]
        defaults = {f.name: f.default for f in fields(cls)}
        values = {key: data.get(key, defaults[key]) for key in keys}
        problems += [
            p for p in _check_values(values, where) if not any(p.path == q.path for q in problems)
        ]
        if problems:
            raise DatasetSpecError(problems)
        if "features" in values:
            values["features"] = tuple(values["features"])
        if values.get("size") is not None:
            values["size"] = tuple(values["size"])
        if values.get("augment") is not None:
            values["augment"] = Augmentation.from_dict(values["augment"])
        return cls(**values)


def load_dataset(spec: DatasetSpec, base_dir: str | Path | None = None,
                 progress: Progress | None = None) -> Dataset:
    """Make the dataset a spec describes.

    Parameters
    ----------
    spec : DatasetSpec
    base_dir : str or pathlib.Path, optional
        Folder that a relative CSV or image-folder path is relative to (the project
        file's folder).
    progress : callable, optional
        ``progress(fraction) -> bool`` while a CSV file (see ``load_csv``) or an image
        folder (the share of images read) is read; returning False cancels with
        ``ImportCancelled``. Built-in sets do not call it.

    Returns
    -------
    Dataset
    """
    if spec.kind == "synthetic":
        return make_synthetic(
            spec.name, spec.samples, spec.noise, spec.seed, spec.val_fraction, spec.features
        )
    if spec.kind == "builtin" and spec.name in DOWNLOADED:
        return load_downloaded(spec.name)  # its standard split: seed and share unused
    if spec.kind == "builtin":
        return load_builtin(spec.name, spec.val_fraction, spec.seed)
    path = Path(spec.path)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if spec.kind == "images":
        going = [True]  # the last answer of ``progress``, checked before each image

        def files_done(done: int, total: int) -> None:
            if progress is not None:
                going[0] = progress(done / max(total, 1))

        return load_image_folder(path, spec.size, spec.grayscale, spec.val_fraction,
                                 spec.seed, spec.skip_non_images, progress=files_done,
                                 cancelled=lambda: not going[0])
    return load_csv(path, spec.target, spec.task, spec.val_fraction, spec.seed,
                    progress=progress)
