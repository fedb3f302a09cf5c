"""Writing a design as PyTorch: the text of ``model.py`` (an ``nn.Module`` that rebuilds the
design layer by layer, as a person would write it) and the state dict it loads.

The module keeps our layer names: its layers sit in an ``nn.Sequential`` called ``layers``,
so our ``layers.3.weight`` is PyTorch's ``layers.3.weight``, and a residual block is a small
module with its own ``layers`` and ``projection``. Two things differ, both as PyTorch keeps
them: Dense weights (in, out) become ``nn.Linear`` weights (out, in), and a feature
projection matrix ``layers.3.projection`` (in, out) becomes the bias-free
``nn.Linear`` ``layers.3.projection.weight`` (out, in). A final softmax or sigmoid is left
out: the module returns logits, the PyTorch convention for its losses.
"""

from __future__ import annotations

import keyword
import re
import textwrap
from dataclasses import dataclass, field

import numpy as np

from core.engine.activations import ELU_ALPHA, LEAKY_SLOPE
from core.engine.conv import Conv2D
from core.engine.layers import Activation, BatchNorm, Dense, Dropout, Layer, Residual
from core.engine.network import Network
from core.engine.pooling import AvgPool2D, Flatten, GlobalAvgPool, MaxPool2D
from core.export.source import ExportError

# Activations as PyTorch modules; softmax only ever ends a design and is left out there.
_ACTIVATIONS = {
    "relu": "nn.ReLU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "leaky_relu": "nn.LeakyReLU()" if LEAKY_SLOPE == 0.01 else f"nn.LeakyReLU({LEAKY_SLOPE!r})",
    "elu": "nn.ELU()" if ELU_ALPHA == 1.0 else f"nn.ELU({ELU_ALPHA!r})",
    "gelu": 'nn.GELU(approximate="tanh")',  # ours is the tanh approximation
    "softplus": "nn.Softplus()",
    "linear": "nn.Identity()",
    "softmax": "nn.Softmax(dim=1)",
}
# The losses that take logits in place of a final activation's output.
LOGIT_LOSSES = {"softmax": "nn.CrossEntropyLoss", "sigmoid": "nn.BCEWithLogitsLoss"}
PROBABILITIES = {"softmax": "torch.softmax(logits, dim=1)", "sigmoid": "torch.sigmoid(logits)"}

_HELPERS = {
    "Residual": '''
class Residual(nn.Module):
    """A skip connection: ``layers(x) + x``, or ``layers(x) + projection(x)`` when the
    block changes the shape."""

    def __init__(self, *layers: nn.Module, projection: nn.Module | None = None) -> None:
        super().__init__()
        self.layers = nn.Sequential(*layers)
        self.projection = projection

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.projection is None else self.projection(x)
        return self.layers(x) + skip
''',
    "PaddedConv2d": '''
class PaddedConv2d(nn.Conv2d):
    """A convolution after zero padding ``pad`` = (left, right, top, bottom): "same"
    padding with a stride can need more on one side than the other, which ``padding=``
    cannot say. The smaller half goes before."""

    def __init__(self, *args: int, pad: tuple[int, int, int, int], **kwargs: bool) -> None:
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pad))
''',
    "GlobalAvgPool": '''
class GlobalAvgPool(nn.Module):
    """The mean of each channel's map: (batch, C, H, W) -> (batch, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))
''',
}


def class_name(design_name: str) -> str:
    """A Python class name from a design's name: its words before any "(" or ":",
    capitalised and joined (at most six), e.g. "Conv net on digits (8x8)" ->
    "ConvNetOnDigits"; "Model" when nothing usable is left."""
    head = re.split(r"[(:]", design_name, maxsplit=1)[0]
    words = re.findall(r"[A-Za-z0-9]+", head)[:6]
    name = "".join(w[0].upper() + w[1:] for w in words)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = "Model" + name
    return name


def final_activation(network: Network) -> str | None:
    """"softmax" or "sigmoid" when the design ends in it (left out of the module), else
    None."""
    last = network.layers[-1] if network.layers else None
    if isinstance(last, Activation) and last.info.name in LOGIT_LOSSES:
        return last.info.name
    return None


@dataclass
class _Writer:
    """Turns runtime layers into PyTorch expressions, noting the helpers they use."""

    image: bool  # whether the next layer's input is an image (batch, C, H, W)
    helpers: set[str] = field(default_factory=set)
    matrix_projections: list[str] = field(default_factory=list)  # our keys, renamed

    def conv(self, layer: Conv2D, kernel: tuple[int, int] | None = None) -> str:
        c, f = layer.in_shape[0], layer.filters
        args = [str(c), str(f), _size(kernel or layer.kernel)]
        if layer.stride != (1, 1):
            args.append(f"stride={_size(layer.stride)}")
        (top, bottom), (left, right) = layer.pad_h, layer.pad_w
        if not layer.has_bias:
            args.append("bias=False")
        if top == bottom and left == right:
            if top or left:
                args.insert(3 if layer.stride == (1, 1) else 4,
                            f"padding={_size((top, left))}")
            return f"nn.Conv2d({', '.join(args)})"
        self.helpers.add("PaddedConv2d")
        args.append(f"pad=({left}, {right}, {top}, {bottom})")
        return f"PaddedConv2d({', '.join(args)})"

    def lines(self, layer: Layer, indent: str) -> list[str]:
        """``layer`` as lines of code at ``indent``, each ending in a comma."""
        if isinstance(layer, Residual):
            inner = indent + "    "
            body = [line for child in layer.layers for line in self.lines(child, inner)]
            children = layer.children()
            if layer.has_projection:
                if isinstance(children[0], Conv2D):  # an image block: a 1×1 convolution
                    projection = self.conv(children[0])
                else:
                    projection = f"nn.Linear({layer.n_in}, {layer.n_out}, bias=False)"
                    self.matrix_projections.append(f"{layer.name}.projection")
                body.append(f"{inner}projection={projection},")
            self.helpers.add("Residual")
            return [f"{indent}Residual(", *body, f"{indent}),"]
        return [f"{indent}{self.expression(layer)},"]

    def expression(self, layer: Layer) -> str:
        if isinstance(layer, Dense):
            bias = "" if layer.has_bias else ", bias=False"
            return f"nn.Linear({layer.n_in}, {layer.n_out}{bias})"
        if isinstance(layer, Conv2D):
            return self.conv(layer)
        if isinstance(layer, Activation):
            return _ACTIVATIONS[layer.info.name]
        if isinstance(layer, Dropout):
            return f"nn.Dropout({layer.rate!r})"
        if isinstance(layer, BatchNorm):
            kind = "nn.BatchNorm2d" if self.image else "nn.BatchNorm1d"
            args = [str(layer.features)]
            if layer.epsilon != 1e-5:
                args.append(f"eps={layer.epsilon!r}")
            momentum = round(1.0 - layer.momentum, 12)  # PyTorch weighs the batch
            if momentum != 0.1:
                args.append(f"momentum={momentum!r}")
            return f"{kind}({', '.join(args)})"
        if isinstance(layer, MaxPool2D | AvgPool2D):
            kind = "nn.MaxPool2d" if isinstance(layer, MaxPool2D) else "nn.AvgPool2d"
            stride = "" if layer.stride == layer.size else f", stride={_size(layer.stride)}"
            return f"{kind}({_size(layer.size)}{stride})"
        if isinstance(layer, Flatten):
            self.image = False
            return "nn.Flatten()"
        if isinstance(layer, GlobalAvgPool):
            self.image = False
            self.helpers.add("GlobalAvgPool")
            return "GlobalAvgPool()"
        raise ExportError(f"{layer.name}: the PyTorch export cannot write {layer.label} "
                          "layers yet")


def _size(pair: tuple[int, int]) -> str:
    """``3`` for a square (3, 3), else ``(3, 5)``: as a person writes kernel sizes."""
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def _renamed(keys: list[str]) -> str:
    """Words for the feature projections stored under another key, or ""."""
    if not keys:
        return ""
    return (f"; the residual projection {keys[0]}, a matrix (in, out) in the studio, is "
            f"the nn.Linear {keys[0]}.weight here" + (", and so on" if len(keys) > 1 else ""))


def _docstring_text(text: str) -> str:
    """``text`` on one line, safe inside a triple-quoted docstring."""
    return " ".join(text.replace("\\", "/").replace('"""', "'''").split())


def model_code(network: Network, design_name: str, input_shape: tuple[int, ...],
               trained: bool = True) -> str:
    """The text of ``model.py`` for ``network`` (its layers, not its weights; ``trained``
    says which weights the docstring promises)."""
    name = class_name(design_name)
    final = final_activation(network)
    layers = network.layers[:-1] if final else network.layers
    writer = _Writer(image=bool(input_shape))
    body = [line for layer in layers for line in writer.lines(layer, " " * 12)]
    if final:
        body += [f"            # layers.{len(layers)}, the {final}, is left out: the model "
                 f"returns logits, which",
                 f"            # {LOGIT_LOSSES[final]} expects (it applies the {final} "
                 f"itself, more accurately)"]
    if input_shape:
        c, h, w = input_shape
        takes = (f"``x``: images (batch, {c}, {h}, {w}) (channels, height, width); flat rows "
                 f"of {c * h * w} values\n    become images with ``x.reshape(-1, {c}, {h}, "
                 f"{w})``.")
        example_in = f"torch.zeros(1, {c}, {h}, {w})"
    else:
        takes = f"``x``: rows (batch, {network.inputs})."
        example_in = f"torch.zeros(1, {network.inputs})"
    if final:
        returns = (f"Returns logits (batch, {network.layers[-1].n_out}); probabilities are "
                   f"``{PROBABILITIES[final]}``.")
        use = f"    probabilities = {PROBABILITIES[final].replace('logits', 'model(x)')}\n"
    else:
        returns = f"Returns the outputs (batch, {network.layers[-1].n_out})."
        use = "    outputs = model(x)\n"
    imports = ["import torch", "from torch import nn"]
    if "PaddedConv2d" in writer.helpers:
        imports.append("from torch.nn import functional as F")
    helpers = [_HELPERS[h].strip() for h in ("GlobalAvgPool", "PaddedConv2d", "Residual")
               if h in writer.helpers]
    title = _docstring_text(design_name)
    intro = textwrap.fill(f"{title}: exported from Backprop Studio.", width=88) + "\n\n"
    intro += textwrap.fill(
        f"``{name}`` rebuilds the design layer by "
        f"layer; ``weights.safetensors`` beside this file holds its "
        f"{'trained' if trained else 'initial (untrained)'} weights, under the "
        f"studio's names (Dense weights transposed to (out, in), as ``nn.Linear`` keeps "
        f"them{_renamed(writer.matrix_projections)}). To load them "
        f"(``pip install safetensors``)::", width=88)
    summary = textwrap.fill(f"{title}.", width=84, initial_indent="",
                            subsequent_indent="    ")
    main = f'''class {name}(nn.Module):
    """{summary}

    {takes}
    {returns}
    """

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
{chr(10).join(body)}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
'''
    return f'''"""{intro}

    import torch
    from safetensors.torch import load_file

    from model import {name}

    model = {name}()
    model.load_state_dict(load_file("weights.safetensors"))
    model.eval()  # dropout off, batch norm with its running statistics
    x = {example_in}
{use}"""

from __future__ import annotations

{chr(10).join(imports)}


''' + "\n\n\n".join([*helpers, main])


def torch_weights(network: Network, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``weights`` (our ``state_dict`` for ``network``) under the module's keys, in the
    module's layouts (float32), with each batch norm's ``num_batches_tracked`` (0: the
    studio does not count batches; PyTorch reads it only when ``momentum`` is None)."""
    out: dict[str, np.ndarray] = {}

    def visit(layer: Layer) -> None:
        buffers = layer.buffers() if isinstance(layer, BatchNorm) else {}
        for param in [*layer.params, *buffers]:
            key = f"{layer.name}.{param}"
            value = np.asarray(weights[key], dtype=np.float32)
            if isinstance(layer, Dense) and param == "weight":
                out[key] = value.T.copy()
            elif isinstance(layer, Residual) and param == "projection":
                out[f"{key}.weight"] = value.T.copy()
            else:
                out[key] = value
        if isinstance(layer, BatchNorm):
            out[f"{layer.name}.num_batches_tracked"] = np.zeros((), dtype=np.int64)
        for child in layer.children():
            visit(child)

    for layer in network.layers:
        visit(layer)
    return out
