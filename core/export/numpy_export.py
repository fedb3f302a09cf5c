"""The NumPy export: a folder with one standalone ``model.py`` (its text is made by
``core.export.numpy_script``) and ``weights.npz`` (``np.savez``: plain float32 arrays by
our weight names, loaded with ``allow_pickle=False``), verified by running the script.

Verification runs the written ``model.py`` in a subprocess of ``sys.executable`` in
isolated mode (``-I``: no PYTHONPATH, no user site), from a temporary working folder,
with the inputs and outputs passed as ``.npy``/``.npz`` files, and compares its output
and each top-level layer's (``predict(x, keep=True)``) with ours. A frozen app has no
Python to start (``sys.executable`` is the app itself), so there the script runs
in-process instead, through ``runpy`` in a namespace of its own; it cannot be timed out
there.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from core.export.numpy_script import script
from core.export.output import write_staged
from core.export.source import ExportError, ExportSource
from core.export.verify import Difference, Verification, compare, layer_outputs

LABEL = "NumPy script"
SCRIPT = "model.py"
WEIGHTS = "weights.npz"
OURS = (SCRIPT, WEIGHTS, "__pycache__")  # what an earlier export's folder may hold
TIMEOUT_S = 120.0  # the subprocess's limit; verifying LeNet on 256 images takes about 3 s
STDERR_LINES = 12  # the tail of the script's error output kept in the report

# Run in the subprocess: load model.py by path (it is not on sys.path: -I, another cwd),
# then save its output and every layer's output. Arguments: script, inputs, two outputs.
_DRIVER = """\
import runpy, sys
import numpy as np
predict = runpy.run_path(sys.argv[1], run_name="exported_model")["predict"]
x = np.load(sys.argv[2], allow_pickle=False)
np.save(sys.argv[3], predict(x))
np.savez(sys.argv[4], **predict(x, keep=True))
"""


class _ScriptFailed(Exception):
    """The script did not run to the end; the message says how, for the user."""


def write(source: ExportSource, target: Path) -> list[Path]:
    """Write ``model.py`` and ``weights.npz`` into the folder ``target`` (replacing it
    only once both are complete); returns their paths."""
    target = Path(target)
    _check_replaceable(target)
    code = script(source)  # first, so a design the script cannot express writes nothing
    weights = {name: np.ascontiguousarray(value, dtype=np.float32)
               for name, value in source.weights.items()}

    def fill(folder: Path) -> list[Path]:
        (folder / SCRIPT).write_text(code, encoding="utf-8")
        with open(folder / WEIGHTS, "wb") as f:
            np.savez(f, **weights)
        return [folder / SCRIPT, folder / WEIGHTS]

    return write_staged(target, fill, folder=True)


def _check_replaceable(target: Path) -> None:
    """``ExportError`` unless ``target`` is new, empty or an earlier NumPy export (with
    the ``__pycache__`` an ``import model`` leaves): the export replaces the folder whole,
    and must never take a folder of the user's files chosen by mistake."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ExportError(f"cannot export into {target}: it is a file, not a folder")
    try:
        others = sorted(p.name for p in target.iterdir() if p.name not in OURS)
    except OSError as e:
        raise ExportError(f"cannot read the folder {target}: {e.strerror or e}") from None
    if others:
        more = ", ..." if len(others) > 3 else ""
        raise ExportError(f"cannot export into {target}: it already holds other files "
                          f"({', '.join(others[:3])}{more}); choose a new or empty folder")


def verify(source: ExportSource, paths: list[Path], x: np.ndarray) -> Verification:
    """Run the exported ``model.py`` on ``x`` (n, inputs) and compare its output and each
    top-level layer's with our network's; a script that fails, hangs or returns something
    unreadable gives a failed ``Verification`` whose ``problem`` says so."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = len(x)
    failed = Difference("output", float("inf"), float("inf"), False)
    model = next((Path(p) for p in paths if Path(p).name == SCRIPT), None)
    if model is None:
        return Verification(LABEL, n, failed, problem=f"no {SCRIPT} among the exported files")
    ours = layer_outputs(source.network(), x)
    try:
        output, theirs = _run(model, x)
    except _ScriptFailed as e:
        return Verification(LABEL, n, failed, problem=str(e))
    layers = tuple(compare(name, value, theirs[name]) if name in theirs
                   else Difference(name, float("inf"), float("inf"), False)
                   for name, value in ours.items())
    return Verification(LABEL, n, compare("output", list(ours.values())[-1], output), layers)


def _run(model: Path, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``predict(x)`` and ``predict(x, keep=True)`` of the script ``model``."""
    if getattr(sys, "frozen", False):
        return _run_in_process(model, x)
    with tempfile.TemporaryDirectory(prefix="bps-numpy-check-") as tmp:
        folder = Path(tmp)
        files = [folder / name for name in ("inputs.npy", "output.npy", "layers.npz")]
        np.save(files[0], x)
        command = [sys.executable, "-I", "-c", _DRIVER, str(model.resolve()),
                   *map(str, files)]
        try:
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                                  timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise _ScriptFailed(f"{model.name} did not finish within {TIMEOUT_S:g} s "
                                f"on {len(x):,} samples") from None
        except OSError as e:
            raise _ScriptFailed(f"could not start Python ({sys.executable}) to run "
                                f"{model.name}: {e.strerror or e}") from None
        if done.returncode != 0:
            raise _ScriptFailed(_failure_words(model.name, done.returncode, done.stderr))
        try:
            output = np.load(files[1], allow_pickle=False)
            with np.load(files[2], allow_pickle=False) as npz:
                layers = {name: npz[name] for name in npz.files}
        except (OSError, ValueError) as e:
            raise _ScriptFailed(f"{model.name} ran but its outputs could not be read: "
                                f"{e}") from None
    return output, layers


def _run_in_process(model: Path, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """As the subprocess does, in this process (a frozen app has no Python to start)."""
    try:
        predict = runpy.run_path(str(model), run_name="exported_model")["predict"]
        output = np.asarray(predict(x))
        layers = {name: np.asarray(v) for name, v in dict(predict(x, keep=True)).items()}
    except (Exception, SystemExit) as e:  # the script's failure, reported as such
        raise _ScriptFailed(f"{model.name} failed: {type(e).__name__}: {e}") from None
    return output, layers


def _failure_words(name: str, code: int, stderr: str) -> str:
    """A first line saying what went wrong (the error's last line), then the end of what
    the script wrote to stderr."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else "it printed nothing"
    tail = "\n".join(lines[-STDERR_LINES:])
    return f"{name} stopped with exit status {code}: {last}" + (f"\n{tail}" if tail else "")


__all__ = ["LABEL", "TIMEOUT_S", "verify", "write"]
