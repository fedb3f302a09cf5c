"""Importing a folder of images, one subfolder per class, as an image :class:`Dataset`.

The layout is ``FOLDER/<class name>/<image>.png|.jpg|.jpeg``; class names are the
subfolder names, sorted. Each image becomes one flat row of ``C*H*W`` pixel values,
channel-major, scaled to [0, 1] (not standardised, so a zero is black: see
``core.datasets.augment``), with ``image_shape`` ``(C, H, W)``: ``C`` is 1 (grayscale)
or 3 (RGB). Images are resized to ``size`` (height, width) when one is given, otherwise
they must all have one size. Alpha channels are dropped; 16-bit grayscale is scaled
from its full range. Names starting with ``.`` (``.DS_Store``, hidden folders) are not
part of the data and are ignored.

Refusals (``DatasetError``, naming the file relative to the folder): a corrupt image
(whatever Pillow's decoder raises), a file that is not PNG or JPEG inside although its
name says so, mixed sizes without resizing (naming two files and their sizes), an empty
class folder, fewer than two classes, files that are not images (:class:`NonImageFiles`
lists them; they are skipped only with ``skip_non_images``), and a folder over the
limits below. Each image's size is read from its header before it is decoded, and the
whole dataset's size is known before the first pixel is: memory stays bounded.

Limits: at most :data:`MAX_FILES` images holding :data:`MAX_TOTAL_BYTES` bytes on
disk; at most :data:`MAX_IMAGE_PIXELS` pixels per image as stored (Pillow's own
decompression-bomb check is turned into a refusal too); at most :data:`MAX_VALUES`
pixel values in the dataset (images x channels x height x width after resizing: 160 MB
per float64 copy; the dataset holds two, the scaled rows and the raw rows for previews).

Pillow is imported here only, when a folder is read, so start-up does not pay for it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.csv_table import ImportCancelled
from core.datasets.dataset import Dataset, build_dataset
from core.datasets.split import check_seed, check_val_fraction
from core.errors import DatasetError
from core.storage.checked_io import open_user_file, size_text
from core.words import plural

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_FILES",
    "MAX_IMAGE_PIXELS",
    "MAX_SIDE",
    "MAX_TOTAL_BYTES",
    "MAX_VALUES",
    "FolderScan",
    "NonImageFiles",
    "load_image_folder",
    "scan_image_folder",
]

#: File name endings taken as images (compared without case).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg")
#: Most images a folder may hold.
MAX_FILES = 60_000
#: Most bytes the images may take on disk together (1 GiB).
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
#: Most pixels one stored image may have (its header's width x height).
MAX_IMAGE_PIXELS = 25_000_000
#: Most pixel values in the whole dataset (images x C x H x W after resizing).
MAX_VALUES = 20_000_000
#: Largest height or width an image may be resized to.
MAX_SIDE = 1024

# Pillow's names of the formats accepted (MPO: a JPEG from a camera, with extra frames).
_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG"}
_SHOWN = 8  # files named in a message before "and N more"

#: ``progress(done, total)``: images decoded so far, of all.
FileProgress = Callable[[int, int], None]


class NonImageFiles(DatasetError):
    """The folder holds files that are not PNG or JPEG images; ``files`` lists them
    (relative to the folder, ``/`` separated; a folder inside a class folder ends in
    ``/``). Importing again with ``skip_non_images`` leaves them out."""

    def __init__(self, message: str, files: tuple[str, ...]) -> None:
        super().__init__(message)
        self.files = files


@dataclass(frozen=True)
class FolderScan:
    """What a folder holds, before any image is opened.

    ``classes``: class names, sorted; ``images``: (relative path, class index, bytes)
    per image, class by class, each class's files sorted by name; ``others``: relative
    paths of everything that is not an image (see :class:`NonImageFiles`).
    """

    folder: Path
    classes: tuple[str, ...]
    images: tuple[tuple[str, int, int], ...]
    others: tuple[str, ...]


def _listing(names: list[str], more_word: str = "more") -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown} and {len(names) - _SHOWN} {more_word}"


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot read the folder ({exc.strerror or exc})") from None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def scan_image_folder(folder: str | Path) -> FolderScan:
    """List a folder's classes, images and other files; refuse a folder that is not
    one, with no class subfolders, fewer than two classes, or an empty class folder.
    Opens no image."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "not a folder"
        raise DatasetError(f"{folder}: {what}; choose a folder with one subfolder per class")
    name = folder.name or str(folder)
    classes: list[str] = []
    images: list[tuple[str, int, int]] = []
    others: list[str] = []
    empty: list[str] = []
    for entry in _entries(folder):
        if not _is_dir(entry):
            others.append(entry.name)
            continue
        index, found = len(classes), 0
        classes.append(entry.name)
        for item in _entries(Path(entry.path)):
            rel = f"{entry.name}/{item.name}"
            if _is_dir(item):
                others.append(rel + "/")
            elif item.name.lower().endswith(IMAGE_SUFFIXES):
                try:
                    size = item.stat().st_size
                except OSError as exc:
                    raise DatasetError(f"{name}: cannot read {rel} "
                                       f"({exc.strerror or exc})") from None
                images.append((rel, index, size))
                found += 1
            else:
                others.append(rel)
        if not found:
            empty.append(entry.name + "/")
    if not classes:
        raise DatasetError(f"{name} has no subfolders: put each class's images in a "
                           f"subfolder named after the class")
    if len(classes) < 2:
        raise DatasetError(f"{name} has only one class folder ({classes[0]}/); a classifier "
                           f"needs at least two")
    if empty:
        which = ("the class folder" if len(empty) == 1 else
                 f"{plural(len(empty), 'class folder')}:")
        raise DatasetError(f"{name}: {which} {_listing(empty)} "
                           f"{'holds' if len(empty) == 1 else 'hold'} no PNG or JPEG images")
    return FolderScan(folder, tuple(classes), tuple(images), tuple(others))


def _check_limits(scan: FolderScan) -> None:
    name = scan.folder.name or str(scan.folder)
    n = len(scan.images)
    if n > MAX_FILES:
        raise DatasetError(f"{name} holds {n:,} images, over the limit of {MAX_FILES:,}")
    total = sum(size for _, _, size in scan.images)
    if total > MAX_TOTAL_BYTES:
        raise DatasetError(f"{name}: its images take {size_text(total)}, over the limit of "
                           f"{size_text(MAX_TOTAL_BYTES)}")


def _check_values(name: str, n: int, shape: tuple[int, int, int]) -> None:
    values = n * shape[0] * shape[1] * shape[2]
    if values > MAX_VALUES:
        c, h, w = shape
        raise DatasetError(
            f"{name}: {n:,} images of {c}x{h}x{w} are {values:,} pixel values, over the "
            f"limit of {MAX_VALUES:,}; resize to a smaller size, use grayscale, or use "
            f"fewer images")


def _check_size(size: object) -> tuple[int, int] | None:
    if size is None:
        return None
    if (not isinstance(size, tuple | list) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
            or not all(1 <= v <= MAX_SIDE for v in size)):
        raise DatasetError(f"size must be (height, width) in whole pixels from 1 to "
                           f"{MAX_SIDE}, got {size!r}")
    return int(size[0]), int(size[1])


def _pixels(image: Any, grayscale: bool) -> np.ndarray:
    """The decoded image as (C, H, W) float32 in [0, 1]."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        gray = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode != "F" else max(float(gray.max()), 1.0)
        gray = np.clip(gray / top, 0.0, 1.0)[None]
        return gray if grayscale else np.repeat(gray, 3, axis=0)
    data = np.asarray(image.convert("L" if grayscale else "RGB"), dtype=np.float32) / 255.0
    return data[None] if grayscale else data.transpose(2, 0, 1)


def _read_image(path: Path, rel: str, name: str, size: tuple[int, int] | None,
                grayscale: bool, first: tuple[str, tuple[int, int]] | None
                ) -> tuple[np.ndarray, tuple[int, int]]:
    """Open ``path``, check its header, decode it: ((C, H, W) pixels, stored (h, w))."""
    from PIL import Image

    where = f"{name}: {rel}"
    try:
        with warnings.catch_warnings():
            # Pillow warns above its MAX_IMAGE_PIXELS and raises above twice that: both
            # are refusals here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open_user_file(path) as fh, Image.open(fh) as image:
                fmt = _FORMATS.get(image.format or "")
                if fmt is None:
                    raise DatasetError(f"{where} is a {image.format or 'unknown'} image, not "
                                       f"PNG or JPEG")
                w, h = image.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise DatasetError(f"{where} is {w}x{h} pixels, over the limit of "
                                       f"{MAX_IMAGE_PIXELS:,} pixels per image")
                if size is None and first is not None and first[1] != (h, w):
                    h0, w0 = first[1]
                    raise DatasetError(
                        f"{name}: images differ in size: {first[0]} is {w0}x{h0} pixels "
                        f"(width x height) but {rel} is {w}x{h}; choose a size to resize "
                        f"them to")
                if size is not None and fmt == "JPEG":
                    # Decode at a reduced scale when shrinking a lot: less memory and time.
                    image.draft("L" if grayscale else "RGB", (size[1], size[0]))
                image.load()
                if size is not None and image.size != (size[1], size[0]):
                    image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                return _pixels(image, grayscale), (h, w)
    except DatasetError:
        raise
    except Image.DecompressionBombWarning:
        raise DatasetError(f"{where} is too large to decode safely (over "
                           f"{Image.MAX_IMAGE_PIXELS:,} pixels)") from None
    except Exception as exc:  # noqa: BLE001 - a corrupt file may raise anything in Pillow
        reason = str(exc) or type(exc).__name__
        raise DatasetError(f"{where} is not a readable image ({reason})") from None


def load_image_folder(
    folder: str | Path,
    size: tuple[int, int] | None = None,
    grayscale: bool = False,
    val_fraction: float = 0.2,
    seed: int = 0,
    skip_non_images: bool = False,
    progress: FileProgress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Dataset:
    """Read an image folder (layout and limits in the module docstring) as a dataset.

    Parameters
    ----------
    folder : str or pathlib.Path
        One subfolder per class, holding PNG or JPEG files.
    size : (height, width), optional
        Resize every image to it (bilinear); None keeps the images' own size, which must
        then be the same for all.
    grayscale : bool
        One channel (luminance) instead of three (RGB).
    val_fraction, seed
        The validation share and the seed of the split (``core.datasets.split``,
        stratified by class).
    skip_non_images : bool
        Leave out files that are not images instead of refusing the folder.
    progress : callable, optional
        ``progress(done, total)`` after each image decoded.
    cancelled : callable, optional
        Checked before each image; once it returns True the import stops with
        ``ImportCancelled``.

    Returns
    -------
    Dataset
        Classification; ``x`` rows of shape (C*H*W,) in [0, 1] (``feature_mean`` 0,
        ``feature_std`` 1); ``image_shape`` (C, H, W); ``class_names`` the folder names.

    Raises
    ------
    DatasetError
        A refusal listed in the module docstring (:class:`NonImageFiles` for files
        that are not images).
    ImportCancelled
        ``cancelled`` returned True.
    """
    check_val_fraction(val_fraction)
    check_seed(seed)
    size = _check_size(size)
    scan = scan_image_folder(folder)
    name = scan.folder.name or str(scan.folder)
    if scan.others and not skip_non_images:
        count = plural(len(scan.others), "file")
        what = ("is not a PNG or JPEG image" if len(scan.others) == 1 else
                "are not PNG or JPEG images")
        raise NonImageFiles(f"{name}: {count} {what}: {_listing(list(scan.others))}",
                            scan.others)
    _check_limits(scan)
    channels = 1 if grayscale else 3
    n = len(scan.images)
    if size is not None:
        _check_values(name, n, (channels, *size))
    pixels: np.ndarray | None = None
    first: tuple[str, tuple[int, int]] | None = None
    labels = np.fromiter((label for _, label, _ in scan.images), dtype=np.int64, count=n)
    for i, (rel, _, _) in enumerate(scan.images):
        if cancelled is not None and cancelled():
            raise ImportCancelled(f"reading {name} was cancelled")
        image, stored = _read_image(scan.folder / rel, rel, name, size, grayscale, first)
        if pixels is None:  # the first image fixes the shape; check the total first
            first = (rel, stored)
            _check_values(name, n, image.shape)
            pixels = np.empty((n, image.size), dtype=np.float64)
        pixels[i] = image.reshape(-1)
        if progress is not None:
            progress(i + 1, n)
    assert pixels is not None and first is not None  # at least two classes, none empty
    shape = (channels, *(size if size is not None else first[1]))
    h, w = shape[1], shape[2]
    channel_names = ("gray",) if grayscale else ("red", "green", "blue")
    feature_names = tuple(f"{c}_{r}_{col}" for c in channel_names
                          for r in range(h) for col in range(w))
    kind = "grayscale" if grayscale else "RGB"
    skipped = (f"{plural(len(scan.others), 'file')} that are not images skipped",) \
        if scan.others else ()
    handed = [pixels]  # handed over, so build_dataset can free it once split
    del pixels
    return build_dataset(
        name=name,
        task="classification",
        x_raw=handed.pop(),
        y=labels,
        raw_feature_names=feature_names,
        target_names=("class",),
        class_names=scan.classes,
        val_fraction=val_fraction,
        seed=seed,
        standardize_inputs=False,
        image_shape=shape,  # type: ignore[arg-type]  # (C, H, W): see Dataset.image_shape
        description=f"{name}: {plural(n, 'image')} of {w}x{h} {kind} in "
                    f"{plural(len(scan.classes), 'class')}",
        notes=skipped,
    )
