"""The export formats, as a table: each is a module with ``write(source, target) ->
list[Path]`` (the files written; ``target`` is the ``.onnx`` file, or the folder of a
code export) and ``verify(source, paths, x) -> Verification`` (the exported model run on
the inputs ``x`` (n, inputs) against ours). Modules load when used, so start-up and the
command line pay only for the format asked for."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import numpy as np

from core.export.source import ExportSource
from core.export.verify import Verification


@dataclass(frozen=True)
class ExportFormat:
    """One format: its key (``--format``), label, what it writes, and its module."""

    key: str
    label: str
    description: str
    module: str
    folder: bool  # True: the target is a folder of files; False: one file (``suffix``)
    suffix: str = ""

    def write(self, source: ExportSource, target: Path) -> list[Path]:
        return import_module(self.module).write(source, target)

    def verify(self, source: ExportSource, paths: list[Path], x: np.ndarray) -> Verification:
        return import_module(self.module).verify(source, paths, x)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("pytorch", "PyTorch",
                     "A readable model.py defining an nn.Module layer by layer, and "
                     "weights.safetensors (batch-norm statistics included).",
                     "core.export.pytorch_export", folder=True),
        ExportFormat("onnx", "ONNX",
                     "One .onnx file for ONNX Runtime, Netron and other tools; evaluation "
                     "mode (dropout off, running batch-norm statistics).",
                     "core.export.onnx_export", folder=False, suffix=".onnx"),
        ExportFormat("numpy", "NumPy script",
                     "One standalone model.py that needs only NumPy, with weights.npz "
                     "(no pickle): the whole forward pass to read.",
                     "core.export.numpy_export", folder=True),
    )
}
