"""The image datasets downloaded on request: MNIST and Fashion-MNIST.

Each is four gzip'd IDX files (training images and labels, test images and labels)
fetched from public mirrors into ``datasets/<name>/`` in the user's data folder
(``core.storage.user_folder``), each checked against its published SHA-256 (the sums
TensorFlow Datasets publishes in ``tensorflow_datasets/url_checksums/mnist.txt`` and
``fashion_mnist.txt``, with the sizes). MNIST's original site (yann.lecun.com) is gone;
its files are served byte for byte by the mirror torchvision uses (ossci-datasets on S3)
and the one TensorFlow uses (cvdf-datasets on Google Cloud Storage). Fashion-MNIST comes
from Zalando's own S3 site and GitHub repository.

Loaded, a set keeps its standard split (the 10,000 test images are the validation part;
the seed and validation share of its spec are not used). To keep 60,000 images cheap
the pixels are float32 in [0, 1], not standardised, and the "raw" arrays the previews
read are the same arrays (no second copy): 60,000 x 784 float32 is 188 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.datasets.cells import frozen
from core.datasets.dataset import Dataset
from core.datasets.downloads import (
    DownloadProgress,
    RemoteFile,
    cached_ok,
    fetch_files,
    mirrors_for,
)
from core.datasets.idx import read_idx
from core.errors import DatasetError
from core.storage.user_folder import user_data_folder

__all__ = ["DOWNLOADED", "DownloadedSet", "dataset_folder", "download", "is_downloaded",
           "load_downloaded", "not_downloaded_message"]

OFFLINE_HINT = "The shipped datasets (digits, iris, diabetes) still work."


@dataclass(frozen=True)
class DownloadedSet:
    """One downloadable image dataset: what it is, its files and where they are."""

    title: str
    description: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    n_train: int
    n_test: int
    #: Training images, training labels, test images, test labels.
    files: tuple[RemoteFile, RemoteFile, RemoteFile, RemoteFile]
    mirrors: tuple[str, ...]

    @property
    def download_bytes(self) -> int:
        return sum(f.size for f in self.files)


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

#: Every downloadable dataset by its name in specs and on the command line.
DOWNLOADED: dict[str, DownloadedSet] = {
    "mnist": DownloadedSet(
        title="MNIST",
        description="28x28 images of handwritten digits 0-9 (60,000 training, 10,000 "
                    "test), downloaded on request",
        class_names=tuple(str(d) for d in range(10)),
        image_shape=(1, 28, 28),
        n_train=60_000,
        n_test=10_000,
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", 9_912_422,
                       "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            RemoteFile("train-labels-idx1-ubyte.gz", 28_881,
                       "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            RemoteFile("t10k-images-idx3-ubyte.gz", 1_648_877,
                       "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            RemoteFile("t10k-labels-idx1-ubyte.gz", 4_542,
                       "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ),
        mirrors=_MNIST_MIRRORS,
    ),
    "fashion_mnist": DownloadedSet(
        title="Fashion-MNIST",
        description="28x28 images of clothing in ten classes (60,000 training, 10,000 "
                    "test), downloaded on request",
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                     "Shirt", "Sneaker", "Bag", "Ankle boot"),
        image_shape=(1, 28, 28),
        n_train=60_000,
        n_test=10_000,
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", 26_421_880,
                       "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            RemoteFile("train-labels-idx1-ubyte.gz", 29_515,
                       "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            RemoteFile("t10k-images-idx3-ubyte.gz", 4_422_102,
                       "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            RemoteFile("t10k-labels-idx1-ubyte.gz", 5_148,
                       "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ),
        mirrors=_FASHION_MIRRORS,
    ),
}


def _lookup(name: str) -> DownloadedSet:
    if name not in DOWNLOADED:
        raise DatasetError(f"unknown downloadable dataset {name!r} "
                           f"(known: {', '.join(DOWNLOADED)})")
    return DOWNLOADED[name]


def dataset_folder(name: str, data_dir: str | Path | None = None) -> Path:
    """Where ``name``'s files are cached: ``<data folder>/datasets/<name>``."""
    base = Path(data_dir) if data_dir is not None else user_data_folder()
    return base / "datasets" / name


def is_downloaded(name: str, data_dir: str | Path | None = None) -> bool:
    """Whether every file of ``name`` is cached with its published size (cheap: the
    checksums are checked when the files are loaded)."""
    folder = dataset_folder(name, data_dir)
    return all(cached_ok(folder, f, verify=False) for f in _lookup(name).files)


def not_downloaded_message(name: str) -> str:
    """How to get ``name`` when it is not downloaded yet."""
    info = _lookup(name)
    size = info.download_bytes / 1e6
    return (f"{info.title} is not downloaded yet ({size:.0f} MB). Choose it in the "
            f"window's Dataset panel, or train with --dataset {name} on the command line, "
            f"to download it into {dataset_folder(name)}.")


def download(name: str, *, progress: DownloadProgress | None = None,
             mirror: str | None = None, data_dir: str | Path | None = None,
             timeout: float = 30.0) -> list[str]:
    """Download ``name``'s files that are not cached intact (see ``fetch_files``:
    ``progress(done, total)`` in bytes, returning False cancels; ``mirror`` replaces the
    public mirrors). Returns the names of the files fetched."""
    info = _lookup(name)
    return fetch_files(dataset_folder(name, data_dir), info.files,
                       mirrors_for(info.mirrors, mirror), progress=progress,
                       timeout=timeout, offline_hint=OFFLINE_HINT)


def _read_part(folder: Path, images: RemoteFile, labels: RemoteFile, info: DownloadedSet,
               part: str) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (n, C*H*W) float32 in [0, 1], labels (n,) int64) of one part."""
    for remote in (images, labels):
        if not cached_ok(folder, remote):
            raise DatasetError(f"{folder / remote.name}: the cached copy is missing or "
                               f"damaged (wrong size or checksum); choose {info.title} "
                               "again to download it again")
    raw = read_idx(folder / images.name)
    y = read_idx(folder / labels.name)
    c, h, w = info.image_shape
    if raw.ndim != 3 or raw.shape[1:] != (h, w) or raw.dtype != np.uint8:
        raise DatasetError(f"{folder / images.name}: expected {h}x{w} byte images, got "
                           f"shape {raw.shape} of {raw.dtype}")
    if y.shape != (raw.shape[0],) or (y.size and int(y.max()) >= len(info.class_names)):
        raise DatasetError(f"{folder / labels.name}: expected {raw.shape[0]:,} labels "
                           f"in 0..{len(info.class_names) - 1} for the {part} images")
    pixels = np.empty((raw.shape[0], c * h * w), dtype=np.float32)
    # Straight from bytes into float32: no float64 temporary of the whole set.
    np.multiply(raw.reshape(raw.shape[0], -1), np.float32(1 / 255), out=pixels,
                casting="unsafe")
    return pixels, y.astype(np.int64)


def load_downloaded(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load a downloaded set with its standard split (test images as validation).

    Returns
    -------
    Dataset
        ``x_train`` (n_train, 784) float32 pixels in [0, 1] (also ``x_train_raw``, the
        same array), ``y_train`` (n_train,) int64; the same for the test part as
        ``x_val``/``y_val``; ``image_shape`` (1, 28, 28).

    Raises
    ------
    DatasetError
        Not downloaded yet (saying how to get it), or a cached file is damaged.
    """
    info = _lookup(name)
    if not is_downloaded(name, data_dir):
        raise DatasetError(not_downloaded_message(name))
    folder = dataset_folder(name, data_dir)
    train_images, train_labels, test_images, test_labels = info.files
    x_train, y_train = _read_part(folder, train_images, train_labels, info, "training")
    x_val, y_val = _read_part(folder, test_images, test_labels, info, "test")
    c, h, w = info.image_shape
    n = c * h * w
    x_train, x_val = frozen(x_train), frozen(x_val)
    names = (tuple(f"pixel_{r}_{col}" for r in range(h) for col in range(w)) if c == 1
             else tuple(f"pixel_{k}" for k in range(n)))
    return Dataset(
        name=name,
        task="classification",
        x_train=x_train,
        y_train=frozen(y_train),
        x_val=x_val,
        y_val=frozen(y_val),
        feature_names=names,
        class_names=info.class_names,
        target_names=("class",),
        x_train_raw=x_train,
        x_val_raw=x_val,
        raw_feature_names=names,
        feature_mean=frozen(np.zeros(n)),
        feature_std=frozen(np.ones(n)),
        image_shape=info.image_shape,
        description=info.description,
    )
