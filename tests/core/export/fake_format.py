"""A stand-in export format for testing the pipeline, the command line and the dialog
without the real formats: it writes the weights to ``weights.npz`` (and a ``model.py``
note) through ``write_staged`` and verifies by rebuilding our network from that file,
optionally nudged by ``error`` so that verification fails on purpose."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np

from core.export.formats import EXPORT_FORMATS, ExportFormat
from core.export.output import write_staged
from core.export.source import ExportSource, source_of
from core.export.verify import Verification, compare, layer_outputs

ERROR = {"value": 0.0}  # added to every exported output: > 1e-4 fails verification
SKIP = {"reason": ""}  # a reason makes verify skip, as PyTorch's check without torch
FULL = {"disk": False}  # True: the disk fills up after the first file


def write(source: ExportSource, target: Path) -> list[Path]:
    def fill(folder: Path) -> list[Path]:
        np.savez(folder / "weights.npz", **source.weights)
        (folder / "model.py").write_text('"""A fake export."""\n')
        if FULL["disk"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return [folder / "model.py", folder / "weights.npz"]

    return write_staged(target, fill, folder=True)


def verify(source: ExportSource, paths: list[Path], x: np.ndarray) -> Verification:
    if SKIP["reason"]:
        return Verification("fake", len(x), skipped=SKIP["reason"])
    with np.load(next(p for p in paths if p.suffix == ".npz")) as f:
        theirs = source_of(source.design, {k: f[k] for k in f.files}).network()
    ours = layer_outputs(source.network(), x)
    got = layer_outputs(theirs, x)
    layers = tuple(compare(k, ours[k], got[k] + ERROR["value"]) for k in ours)
    last = list(ours)[-1]
    output = compare("output", ours[last], got[last] + ERROR["value"])
    return Verification("fake", len(x), output, layers)


FAKE = ExportFormat("fake", "Fake", "A test format: weights.npz and a note.", __name__,
                    folder=True)


def install(monkeypatch) -> None:
    """Put the fake format in ``EXPORT_FORMATS`` for one test (as ``--format fake``)."""
    monkeypatch.setitem(EXPORT_FORMATS, "fake", FAKE)
    monkeypatch.setitem(ERROR, "value", 0.0)
    monkeypatch.setitem(SKIP, "reason", "")
    monkeypatch.setitem(FULL, "disk", False)
