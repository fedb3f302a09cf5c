"""One export, start to end, for the command line and the window alike: check the
target, write the files through the format's ``write``, then run the exported model on
verification inputs through the format's ``verify`` and report both.

An export whose verification fails keeps its files (a user can look at what differs)
but its result says FAILED, and the command line exits 1; nothing calls it done. An
export is verified on the validation inputs of the design's dataset when it can be
loaded without a download, else on seeded random inputs, and the result says which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.design.spec import Design
from core.errors import StudioError
from core.export.formats import EXPORT_FORMATS, ExportFormat
from core.export.source import ExportError, ExportSource
from core.export.verify import Verification, verification_inputs

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is happening)

# An existing folder is replaced by a new export only when it looks like an earlier
# export (a model.py and a few files, no subfolders but Python's cache): never a
# user's folder of other things given as --out by mistake.
_EARLIER_EXPORT_MAX_FILES = 8


class ExportCancelled(ExportError):
    """The user cancelled before the files were written; nothing was written."""


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and how it compared: ``paths`` the files written,
    ``verification`` the comparison, ``inputs`` where its inputs came from (words),
    ``trained`` False when the initial weights were exported."""

    format: str
    paths: tuple[Path, ...]
    verification: Verification
    inputs: str
    trained: bool

    @property
    def ok(self) -> bool | None:
        """True verified, False FAILED, None not verified (``verification.skipped``)."""
        return self.verification.ok


def export_format(key: str) -> ExportFormat:
    """The format called ``key``, or ``ExportError`` naming the ones there are."""
    fmt = EXPORT_FORMATS.get(key)
    if fmt is None:
        raise ExportError(f"unknown export format {key!r}; choose one of "
                          f"{', '.join(EXPORT_FORMATS)}")
    return fmt


def default_target(fmt: ExportFormat, beside: Path | None, name: str,
                   folder: Path | None = None) -> Path:
    """Where an export goes unless the user says otherwise: beside the project file
    (``beside``; else in ``folder``, else the working folder), named after it (else
    ``name``), as ``<stem>-<format>`` for a folder or ``<stem>.onnx`` for a file."""
    folder = beside.parent if beside is not None else (folder or Path.cwd())
    stem = beside.stem if beside is not None else (_file_stem(name) or "model")
    return folder / (f"{stem}{fmt.suffix}" if not fmt.folder else f"{stem}-{fmt.key}")


def _file_stem(name: str) -> str:
    """``name`` with only letters, digits, '-' and '_' kept (spaces as '-')."""
    text = "-".join(name.split())
    return "".join(c for c in text if c.isalnum() or c in "-_")


def checked_target(fmt: ExportFormat, target: Path) -> Path:
    """``target`` as the export will write it: a one-file format gets its suffix
    (``model`` becomes ``model.onnx``); ``ExportError`` when the target is the wrong
    kind of thing or an existing folder that is not an earlier export."""
    target = Path(target)
    if not fmt.folder:
        if target.is_dir():
            raise ExportError(f"{target} is a folder; give a file name ending in {fmt.suffix}")
        return target if target.suffix.lower() == fmt.suffix else target.with_name(
            target.name + fmt.suffix)
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} is a file; give a folder for the {fmt.label} export")
    if target.is_dir() and not _is_earlier_export(target):
        raise ExportError(f"{target} already holds other files; choose a new or empty "
                          f"folder (only an earlier export's folder is replaced)")
    return target


def _is_earlier_export(folder: Path) -> bool:
    try:
        entries = [e for e in folder.iterdir() if e.name != "__pycache__"]
    except OSError as e:
        raise ExportError(f"cannot read {folder}: {e.strerror or e}") from None
    if not entries:
        return True
    return (len(entries) <= _EARLIER_EXPORT_MAX_FILES and all(e.is_file() for e in entries)
            and any(e.name == "model.py" for e in entries))


def layer_labels(design: Design) -> dict[str, str]:
    """Each top-level layer's runtime name (``layers.3``) with its summary ("Dense 10"),
    for the per-layer rows of a verification."""
    return {f"layers.{i}": layer.summary() for i, layer in enumerate(design.network.layers)}


def dataset_inputs(design: Design, base_dir: Path | None) -> tuple[np.ndarray | None, str]:
    """The validation inputs (n, inputs) of ``design``'s dataset, loaded as training
    loads it (relative paths from ``base_dir``; nothing is downloaded), with words for
    where they came from; (None, why not) when there are none to use."""
    from core.datasets import DatasetSpec, load_dataset

    if design.dataset is None:
        return None, "the design names no dataset"
    try:
        spec = DatasetSpec.from_dict(design.dataset)
        dataset = load_dataset(spec, base_dir)
    except StudioError as e:
        return None, f"its dataset could not be loaded: {e}"
    except OSError as e:
        return None, f"its dataset could not be read: {e.strerror or e}"
    return data_inputs(dataset, design)


def data_inputs(dataset, design: Design) -> tuple[np.ndarray | None, str]:
    """The validation inputs of a loaded ``dataset`` (the training inputs when it has
    no validation part) if they fit ``design``'s inputs, with words; else (None, why)."""
    name = dataset.name or "the dataset"
    if dataset.n_features != design.network.inputs:
        return None, (f"{name} has {dataset.n_features} inputs and the design "
                      f"{design.network.inputs}")
    if len(dataset.x_val):
        return dataset.x_val, f"validation inputs of {name}"
    if len(dataset.x_train):
        return dataset.x_train, f"training inputs of {name} (it has no validation part)"
    return None, f"{name} has no rows"


def export_model(source: ExportSource, fmt: str, target: Path, x: np.ndarray | None = None,
                 progress: Progress | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 x_words: str = "validation inputs") -> ExportResult:
    """Export ``source`` as format ``fmt`` to ``target`` and verify it on ``x`` (n,
    inputs; None: seeded random inputs, ``x_words`` saying why there is no data).

    ``progress(fraction, words)`` hears of each stage; ``cancelled()`` True before the
    files are written raises ``ExportCancelled`` (nothing written); after, verification
    is skipped and the result says so. ``ExportError`` says what is wrong and where (a
    read-only folder, a full disk: nothing partial is left)."""
    report = progress or (lambda _f, _w: None)
    stop = cancelled or (lambda: False)
    form = export_format(fmt)
    target = checked_target(form, Path(target))
    network = source.network()
    inputs = verification_inputs(network, x)
    words = (f"the first {len(inputs):,} {x_words}" if x is not None and len(x)
             else f"{len(inputs):,} seeded random inputs ({x_words or 'no dataset'})")
    if stop():
        raise ExportCancelled("export cancelled; nothing was written")
    report(0.1, f"Writing {form.label} files…")
    paths = tuple(Path(p) for p in form.write(source, target))
    if stop():
        skipped = Verification(form.key, 0, skipped="cancelled before verifying")
        return ExportResult(form.key, paths, skipped, words, source.trained)
    report(0.5, f"Verifying on {words}…")
    # Named by the format's key, as --format spells it, whatever the module calls it.
    verification = replace(form.verify(source, list(paths), inputs), format=form.key)
    report(1.0, verification.summary())
    return ExportResult(form.key, paths, verification, words, source.trained)
