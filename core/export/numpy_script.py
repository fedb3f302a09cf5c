"""The text of a standalone NumPy ``model.py`` for one design: its forward pass written
out layer by layer, with small helper functions only for the layer kinds the design uses.

The script needs only NumPy (1.20 or newer, for ``sliding_window_view``). It reads the
weights from ``weights.npz`` beside it, by the names our networks give them
(``layers.3.weight``), and computes in float32 as our engine does, with the same
formulas (the sigmoid through tanh, GELU's tanh approximation), so its numbers match ours
to round-off. ``predict(x)`` returns the design's output, a final softmax or sigmoid
included; ``predict(x, keep=True)`` returns every top-level layer's output by its runtime
name, which is what verification compares layer by layer.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from core.engine.activations import ELU_ALPHA, LEAKY_SLOPE
from core.engine.conv import Conv2D
from core.engine.layers import Activation, BatchNorm, Dense, Dropout, Layer, Residual
from core.engine.network import Network
from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D
from core.export.source import ExportError, ExportSource

_ALPHA = "" if ELU_ALPHA == 1 else f"{ELU_ALPHA!r} * "  # ELU's factor, unwritten when 1
LINE_LENGTH = 100  # the project's ruff limit, which the script is held to

# Helper functions by name, in the order the script defines them; each is included only
# when a layer of the design calls it (``windows`` when a conv or pool does).
HELPERS: dict[str, str] = {
    "windows": '''
def windows(x, size, stride):
    """Every (kh, kw) window of images x (n, C, H, W), moved by stride:
    a view (n, C, Ho, Wo, kh, kw), no copy."""
    return sliding_window_view(x, size, axis=(2, 3))[:, :, ::stride, ::stride]
''',
    "dense": '''
def dense(x, name):
    """x (n, inputs) times the weight (inputs, outputs), plus the bias (outputs,)."""
    return x @ W[name + ".weight"] + W.get(name + ".bias", 0)
''',
    "conv2d": '''
def conv2d(x, name, stride, pad):
    """Cross-correlation, as PyTorch's Conv2d: x (n, C, H, W) padded with zeros by
    pad (top, bottom, left, right), weight (F, C, kh, kw) -> (n, F, Ho, Wo)."""
    top, bottom, left, right = pad
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    w = W[name + ".weight"]
    y = np.einsum("nchwij,fcij->nfhw", windows(x, w.shape[2:], stride), w, optimize=True)
    if name + ".bias" in W:
        y += W[name + ".bias"][:, None, None]
    return y
''',
    "max_pool": '''
def max_pool(x, size, stride):
    """The largest value of each size x size window: (n, C, H, W) -> (n, C, Ho, Wo)."""
    return windows(x, (size, size), stride).max(axis=(4, 5))
''',
    "avg_pool": '''
def avg_pool(x, size, stride):
    """The mean of each size x size window: (n, C, H, W) -> (n, C, Ho, Wo)."""
    return windows(x, (size, size), stride).mean(axis=(4, 5))
''',
    "batch_norm": '''
def batch_norm(x, name, eps):
    """Evaluation mode: normalise with the running statistics, per feature of (n, F)
    or per channel of (n, C, H, W), then scale and shift."""
    shape = (-1,) + (1,) * (x.ndim - 2)  # broadcast over an image's height and width
    mean, var = W[name + ".running_mean"], W[name + ".running_var"]
    normal = (x - mean.reshape(shape)) * (1 / np.sqrt(var + eps)).reshape(shape)
    return normal * W[name + ".weight"].reshape(shape) + W[name + ".bias"].reshape(shape)
''',
    "sigmoid": '''
def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))  # 1 / (1 + exp(-x)), without overflow
''',
    "relu": '''
def relu(x):
    return np.maximum(x, 0)
''',
    "leaky_relu": f'''
def leaky_relu(x):
    return np.maximum(x, {LEAKY_SLOPE!r} * x)
''',
    "elu": f'''
def elu(x):
    return np.where(x > 0, x, {_ALPHA}np.expm1(np.minimum(x, 0)))
''',
    "gelu": '''
def gelu(x):
    """The tanh approximation of GELU (as the app computes it)."""
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
''',
    "softplus": '''
def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))  # log(1 + exp(x))
''',
    "softmax": '''
def softmax(x):
    """Each row's probabilities (they sum to 1); shifted by the row's largest value
    so exp never overflows."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
''',
}

# Activations by our name: the expression applied to ``h`` (None: h passes unchanged).
# Every activation of core.engine.activations must be here (a test checks).
ACTIVATION_CODE: dict[str, str | None] = {
    "sigmoid": "sigmoid(h)", "tanh": "np.tanh(h)", "relu": "relu(h)",
    "leaky_relu": "leaky_relu(h)", "elu": "elu(h)", "gelu": "gelu(h)",
    "softplus": "softplus(h)", "linear": None, "softmax": "softmax(h)",
}


@dataclass
class _Writer:
    """The body of ``predict`` as it is written, and the helpers it has called."""

    lines: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)

    def call(self, helper: str, args: str) -> str:
        self.helpers.add(helper)
        if helper in ("conv2d", "max_pool", "avg_pool"):
            self.helpers.add("windows")
        return f"{helper}({args})"

    def add(self, line: str) -> None:
        self.lines.append(_fit("    " + line))

    def comment(self, name: str, words: str) -> None:
        """``# name: words``, or only the words when a deeply nested name makes that
        too long."""
        line = f"    # {name}: {words}"
        self.lines.append(line if len(line) <= LINE_LENGTH else f"    # {words}")


def _fit(line: str) -> str:
    """``line``, with its call's arguments on a line of their own when it is longer
    than the limit (only very deeply nested names are)."""
    if len(line) <= LINE_LENGTH or "(" not in line or not line.endswith(")"):
        return line
    indent = line[:len(line) - len(line.lstrip())]
    head, args = line.split("(", 1)
    return f"{head}(\n{indent}    {args[:-1]},\n{indent})"


def _square(layer: Layer, pair: tuple[int, int]) -> int:
    """One number for a (height, width) pair; designs only make square ones."""
    if pair[0] != pair[1]:
        raise ExportError(f"{layer.name}: the NumPy script writes square windows and "
                          f"strides only, not {pair[0]}×{pair[1]}")
    return pair[0]


def _step(layer: Layer, out: _Writer, depth: int) -> tuple[str | None, str]:
    """Write what ``layer`` (inside ``depth`` residual blocks) needs before its result
    and return the expression for its output from ``h`` (None: ``h`` unchanged) and a
    comment saying why when unchanged."""
    name = layer.name
    if isinstance(layer, Conv2D):
        (top, bottom), (left, right) = layer.pad_h, layer.pad_w
        return out.call("conv2d", f'h, "{name}", stride={_square(layer, layer.stride)}, '
                                  f"pad={(top, bottom, left, right)}"), ""
    if isinstance(layer, Dense):
        return out.call("dense", f'h, "{name}"'), ""
    if isinstance(layer, Activation):
        code = ACTIVATION_CODE.get(layer.info.name, "")
        if code == "":
            raise ExportError(f"{name}: the NumPy script has no code for the "
                              f"{layer.info.label} activation yet")
        if code is None:
            return None, f"{layer.info.label}: passes its input unchanged"
        if "(" in code and not code.startswith("np."):
            out.helpers.add(code.split("(")[0])
        return code, ""
    if isinstance(layer, Dropout):
        return None, f"Dropout({layer.rate:g}): off when predicting"
    if isinstance(layer, BatchNorm):
        return out.call("batch_norm", f'h, "{name}", eps={layer.epsilon!r}'), ""
    if isinstance(layer, MaxPool2D | AvgPool2D):
        helper = "max_pool" if isinstance(layer, MaxPool2D) else "avg_pool"
        size, stride = _square(layer, layer.size), _square(layer, layer.stride)
        return out.call(helper, f"h, size={size}, stride={stride}"), ""
    if isinstance(layer, GlobalAvgPool):
        return "h.mean(axis=(2, 3))", ""
    if isinstance(layer, Flatten):
        return "h.reshape(len(h), -1)", ""
    if isinstance(layer, Residual):
        return _residual(layer, out, depth + 1), ""
    raise ExportError(f"{name}: the NumPy script cannot express a {layer.label} layer")


def _residual(block: Residual, out: _Writer, depth: int) -> str:
    """Write the block's skip path and branch; return the sum that is its output."""
    skip = "skip" if depth == 1 else f"skip{depth}"
    children = block.children()
    out.comment(block.name, "a residual block; its input is added back to its output")
    if len(children) > len(block.layers):  # images: a 1x1 convolution projects the input
        projection = children[0]
        assert isinstance(projection, Conv2D)
        rows, cols = projection.stride
        # A 1x1 kernel with stride (rows, cols) reads every rows-th row and cols-th column;
        # written so when they differ (pooled rectangles), as conv2d takes one stride.
        x, stride = ("h", rows) if rows == cols else (f"h[:, :, ::{rows}, ::{cols}]", 1)
        out.add(f"{skip} = " + out.call(
            "conv2d", f'{x}, "{projection.name}", stride={stride}, pad=(0, 0, 0, 0)')
            + "  # a 1x1 projection")
    elif block.has_projection:
        out.add(f'{skip} = h @ W["{block.name}.projection"]  # a learned projection')
    else:
        out.add(f"{skip} = h")
    for child in block.layers:
        expr, why = _step(child, out, depth)
        if expr is None:
            out.comment(child.name, why)
        else:
            out.add(f"h = {expr}")
    return f"h + {skip}"


def _docstring_text(text: str) -> str:
    """``text`` safe inside a one-line docstring (no quotes run, backslash or newline)."""
    return " ".join(text.replace("\\", "/").replace('"""', "'''").split())


def _output_words(network: Network) -> str:
    last = network.layers[-1]
    if isinstance(last, Activation) and last.info.name in ("softmax", "sigmoid"):
        return (f"predict returns the design's output, its final {last.info.label} "
                "applied: probabilities, where the PyTorch export's module returns the "
                "logits before it.")
    return "predict returns the design's output: its last layer's values."


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=88, break_on_hyphens=False)


def script(source: ExportSource) -> str:
    """The whole ``model.py`` for ``source`` (its weights go to ``weights.npz``)."""
    network = source.network()
    body = _Writer()
    shape = network.input_shape or (network.inputs,)
    body.add(f"h = np.asarray(x, dtype=np.float32).reshape(len(x), {', '.join(map(str, shape))})")
    body.add("outputs = {}")
    for layer in network.layers:
        expr, why = _step(layer, body, 0)
        if expr is None:
            body.add(f'outputs["{layer.name}"] = h  # {why}')
        else:
            body.add(f'h = outputs["{layer.name}"] = {expr}')
    body.add("return outputs if keep else h")

    if network.input_shape:
        c, hh, ww = network.input_shape
        takes = f"(n, {network.inputs}) rows or (n, {c}, {hh}, {ww}) images"
    else:
        takes = f"(n, {network.inputs}) rows"
    weights = "its trained weights" if source.trained else \
        "its INITIAL weights (it had not been trained)"
    imports = ["import sys", "from pathlib import Path", "", "import numpy as np"]
    if "windows" in body.helpers:
        imports.append("from numpy.lib.stride_tricks import sliding_window_view")
    helpers = "\n".join(f"\n{HELPERS[h].strip()}\n" for h in HELPERS if h in body.helpers)
    header = _paragraph(f"{_docstring_text(source.name)}: a Backprop Studio design as a "
                        f"NumPy forward pass, exported with {weights}.")
    needs = _paragraph("Needs only NumPy (1.20 or newer) and weights.npz beside this file, "
                       "whose arrays keep the app's names (\"layers.0.weight\"; a Dense "
                       "weight is (inputs, outputs), so rows times weights).")
    return f'''"""{header}

{needs}

    import model
    y = model.predict(x)  # x: {takes}

or from a shell: python model.py INPUTS.npy [PREDICTIONS.npy]

{_paragraph(_output_words(network))}
"""

{chr(10).join(imports)}

with np.load(Path(__file__).with_name("weights.npz"), allow_pickle=False) as npz:
    W = {{name: npz[name] for name in npz.files}}

{helpers}

def predict(x, keep=False):
    """The design's output for x: {takes}{" (channels first)" if network.input_shape else ""}.
    keep=True returns every layer's output by name instead (the last is the output)."""
{chr(10).join(body.lines)}


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python model.py INPUTS.npy [PREDICTIONS.npy]")
    predictions = predict(np.load(sys.argv[1], allow_pickle=False))
    if len(sys.argv) == 3:
        np.save(sys.argv[2], predictions)
    else:
        np.savetxt(sys.stdout, predictions, fmt="%.6g")
'''


__all__ = ["ACTIVATION_CODE", "HELPERS", "script"]
