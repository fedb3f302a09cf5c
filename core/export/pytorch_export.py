"""The PyTorch export: a folder with ``model.py`` (see ``pytorch_code``) and
``weights.safetensors``, verified by running that very code with PyTorch in a separate
process (PyTorch is never imported into the studio itself).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from core.export.output import write_staged
from core.export.pytorch_code import class_name, final_activation, model_code, torch_weights
from core.export.source import ExportError, ExportSource
from core.export.verify import Verification, compare, layer_outputs
from core.files.safetensors import encode

FORMAT = "PyTorch"
MODEL_FILE = "model.py"
WEIGHTS_FILE = "weights.safetensors"
NOT_INSTALLED = "PyTorch is not installed"
TIMEOUT_SECONDS = 300  # importing torch alone takes seconds on a busy machine

# Runs in a fresh interpreter: argv = folder, class name, inputs .npy, output folder,
# final activation ("softmax", "sigmoid" or ""). Writes output.npy (probabilities when
# the design ends in softmax/sigmoid, as ours does) and layers.<i>.npy per top-level layer.
_RUNNER = """
import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch

folder, name, inputs, out, final = sys.argv[1:6]
torch.set_num_threads(1)
spec = importlib.util.spec_from_file_location("exported_model", Path(folder) / "model.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
try:
    from safetensors.torch import load_file
    state = load_file(str(Path(folder) / "weights.safetensors"))
except ImportError:  # the studio's own reader, as PyTorch users without safetensors
    from core.files.safetensors import load_safetensors
    state = {k: torch.from_numpy(v.copy()) for k, v in
             load_safetensors(Path(folder) / "weights.safetensors")[0].items()}
model = getattr(module, name)()
model.load_state_dict(state, strict=True)
model.eval()
captured = {}
for i, layer in enumerate(model.layers):
    layer.register_forward_hook(
        lambda _m, _i, y, key=f"layers.{i}": captured.__setitem__(key, y.detach()))
x = torch.from_numpy(np.load(inputs, allow_pickle=False))
with torch.no_grad():
    y = model(x)
if final == "softmax":
    y = torch.softmax(y, dim=1)
elif final == "sigmoid":
    y = torch.sigmoid(y)
np.save(Path(out) / "output.npy", y.numpy(), allow_pickle=False)
for key, value in captured.items():
    np.save(Path(out) / f"{key}.npy", value.numpy(), allow_pickle=False)
"""


def write(source: ExportSource, folder: Path) -> list[Path]:
    """Write ``model.py`` and ``weights.safetensors`` into ``folder`` (replacing it
    whole, or leaving nothing on failure); returns the two paths."""
    network = source.network()
    code = model_code(network, source.name, network.input_shape, source.trained)
    tensors = torch_weights(network, source.weights)
    metadata = {"format": "pt", "design": source.name, "class": class_name(source.name),
                "trained": str(source.trained).lower()}

    def fill(staging: Path) -> list[Path]:
        (staging / MODEL_FILE).write_text(code, encoding="utf-8")
        (staging / WEIGHTS_FILE).write_bytes(encode(tensors, metadata))
        return [staging / MODEL_FILE, staging / WEIGHTS_FILE]

    return write_staged(Path(folder), fill, folder=True)


def torch_available() -> bool:
    """Whether the exported model can be run here: PyTorch is installed and the studio is
    not a frozen (packaged) app, whose interpreter cannot run other code."""
    return not getattr(sys, "frozen", False) and importlib.util.find_spec("torch") is not None


def run_exported(folder: Path, x: np.ndarray, final: str | None,
                 design_name: str) -> dict[str, np.ndarray]:
    """Run the exported model in ``folder`` on ``x`` (n, inputs, reshaped to images when
    the model takes them) with PyTorch in a subprocess: its output (probabilities when
    ``final``) as "output", and each top-level layer's by name ("layers.3")."""
    root = Path(__file__).resolve().parents[2]  # so the runner can fall back on our reader
    with tempfile.TemporaryDirectory(prefix="bps-torch-") as tmp:
        inputs = Path(tmp) / "x.npy"
        np.save(inputs, np.ascontiguousarray(x, dtype=np.float32), allow_pickle=False)
        env = {**os.environ, "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                           os.environ.get("PYTHONPATH")]))}
        try:
            done = subprocess.run(
                [sys.executable, "-c", _RUNNER, str(folder), class_name(design_name),
                 str(inputs), tmp, final or ""],
                capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=env)
        except subprocess.TimeoutExpired:
            raise ExportError(f"PyTorch did not finish running {folder / MODEL_FILE} within "
                              f"{TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["(no message)"]
            raise ExportError(f"PyTorch could not run {folder / MODEL_FILE}: {lines[-1]}")
        return {p.stem: np.load(p, allow_pickle=False) for p in Path(tmp).glob("*.npy")
                if p != inputs}


def verify(source: ExportSource, paths: list[Path], x: np.ndarray) -> Verification:
    """Run the export written to ``paths`` on ``x`` (n, inputs) with PyTorch and compare
    its output, and each top-level layer's, with our float64 evaluation."""
    x = np.asarray(x, dtype=np.float32)
    if not torch_available():
        return Verification(FORMAT, len(x), skipped=NOT_INSTALLED)
    folder = Path(paths[0]).parent
    network = source.network(np.float64)
    ours = layer_outputs(network, x.astype(np.float64))
    final = final_activation(network)
    images = x.reshape(len(x), *network.input_shape) if network.input_shape else x
    theirs = run_exported(folder, images, final, source.name)
    output = compare("output", ours[network.layers[-1].name], theirs["output"])
    kept = network.layers[:-1] if final else network.layers  # a final activation is left out
    layers = tuple(compare(layer.name, ours[layer.name], theirs.get(layer.name, np.empty(0)))
                   for layer in kept)
    return Verification(FORMAT, len(x), output, layers)
