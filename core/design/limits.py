"""How large a design may be, computed from its spec alone, before anything is allocated.

A design file of a few hundred bytes can describe a network of billions of weights
(``MAX_UNITS`` Dense layers in a row). Everything that would allocate for a design checks
it here first: the network check (``core.design.check``, the window's Network check panel
and the command line's ``check``), ``build_network``, the trainer, and project loading
(which compares saved weights with ``state_shapes`` instead of building the network).

The two caps, documented in the README:

- ``MAX_PARAMETERS``: learnable parameters of the whole network (each costs its value,
  its gradient, a decay mask and up to two optimizer moments: 20 bytes in float32).
- ``MAX_ACTIVATION_BYTES``: the activations and their gradients the layers keep for one
  training batch, plus one evaluation chunk's forward pass, in the design's precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from core.design.shapes import Shape, is_image, size
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    Conv2DSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
)
from core.errors import LayerPath, Problem, layer_location, layer_problem

MAX_PARAMETERS = 50_000_000
MAX_ACTIVATION_BYTES = 1 << 30  # 1 GiB
EVAL_CHUNK_ROWS = 4096  # rows per evaluation forward pass: core.training.trainer.EVAL_CHUNK
_ITEMSIZE = {"float32": 4, "float64": 8}


def _walk(layers: tuple[LayerSpec, ...], shape: Shape, name: str, parent: LayerPath = ()
          ) -> Iterator[tuple[LayerSpec, Shape, Shape, str, LayerPath]]:
    """(layer, input shape, output shape, dotted name, layer path) for every layer,
    residual blocks before their children, as ``build_network`` names them."""
    for i, layer in enumerate(layers):
        out = layer.output_shape(shape)
        dotted, here = f"{name}.{i}", (*parent, i)
        yield layer, shape, out, dotted, here
        if isinstance(layer, ResidualSpec):
            yield from _walk(layer.layers, shape, f"{dotted}.layers", here)
        shape = out


def state_shapes(spec: NetworkSpec) -> tuple[dict[str, tuple[int, ...]],
                                             dict[str, tuple[int, ...]]]:
    """The shapes ``build_network(spec)`` gives its parameters and its buffers (batch-norm
    running statistics), by dotted name (``layers.0.weight``), without allocating.

    ``spec`` must be valid (``spec.validate()`` empty).
    """
    params: dict[str, tuple[int, ...]] = {}
    buffers: dict[str, tuple[int, ...]] = {}
    for layer, shape, out, name, _ in _walk(spec.layers, spec.in_shape, "layers"):
        if isinstance(layer, DenseSpec):
            params[f"{name}.weight"] = (shape[0], layer.units)
            if layer.bias:
                params[f"{name}.bias"] = (layer.units,)
        elif isinstance(layer, Conv2DSpec):
            params[f"{name}.weight"] = (layer.filters, shape[0], layer.kernel, layer.kernel)
            if layer.bias:
                params[f"{name}.bias"] = (layer.filters,)
        elif isinstance(layer, BatchNormSpec):
            params[f"{name}.weight"] = params[f"{name}.bias"] = (shape[0],)
            buffers[f"{name}.running_mean"] = buffers[f"{name}.running_var"] = (shape[0],)
        elif isinstance(layer, ResidualSpec) and layer.projection and out != shape:
            if is_image(shape):  # a 1×1 convolution (``core.training.build``)
                params[f"{name}.projection.weight"] = (out[0], shape[0], 1, 1)
            else:
                params[f"{name}.projection"] = (shape[0], out[0])
    return params, buffers


def _own_parameters(layer: LayerSpec, shape: Shape, out: Shape) -> int:
    """Parameters of the layer itself (a residual block's children are counted apart)."""
    if isinstance(layer, ResidualSpec):
        if not layer.projection or out == shape:
            return 0
        return shape[0] * out[0] if is_image(shape) else size(shape) * size(out)
    return layer.parameters_for(shape)


def _values_per_sample(layer: LayerSpec, shape: Shape, out: Shape) -> tuple[int, int]:
    """Values a layer keeps per sample (training: outputs, input gradients, masks and
    scratch, as ``core.engine`` allocates them; evaluation: its output only). A residual
    block counts its own output and input gradient; its children count themselves."""
    n_in, n_out = size(shape), size(out)
    if isinstance(layer, Conv2DSpec):  # + the unfolded windows (im2col) and their gradient
        return n_in + n_out + 2 * shape[0] * layer.kernel ** 2 * size(out[1:]), n_out
    if isinstance(layer, DenseSpec | ResidualSpec):
        return n_in + n_out, n_out
    if isinstance(layer, ActivationSpec):
        return 2 * n_in, n_in
    if isinstance(layer, DropoutSpec):
        return 3 * n_in, 0
    if isinstance(layer, BatchNormSpec):
        return 5 * n_in, n_in
    return 2 * n_in, n_out


def _layer_words(rows: list[tuple[int, LayerPath, str]], unit: str) -> str:
    top = sorted(rows, key=lambda r: -r[0])[:3]
    return ", ".join(f"{layer_location(where)} ({words}) {n:,} {unit}"
                     for n, where, words in top)


def dataset_rows(dataset: Mapping[str, Any] | None) -> int | None:
    """Samples in a design's dataset choice when known without reading it (synthetic:
    its ``samples``; shipped: its fixed size); None for a CSV file or no choice."""
    if not isinstance(dataset, Mapping):
        return None
    kind = dataset.get("kind")
    if kind == "synthetic":
        samples = dataset.get("samples")
        return samples if isinstance(samples, int) and not isinstance(samples, bool) \
            and samples > 0 else None
    if kind == "builtin":
        from core.datasets import DATASETS  # deferred: the datasets package is larger

        info = DATASETS.get(dataset.get("name"))  # type: ignore[arg-type]
        return info.n_samples if info is not None else None
    return None


def parameter_problems(spec: NetworkSpec) -> list[Problem]:
    """The parameter cap, for a network without ``validate()`` problems."""
    rows = [(_own_parameters(layer, shape, out), where, layer.summary())
            for layer, shape, out, _, where in _walk(spec.layers, spec.in_shape, "layers")]
    total = sum(n for n, _, _ in rows)
    if total <= MAX_PARAMETERS:
        return []
    biggest = max(rows, key=lambda r: r[0])[1]
    return [layer_problem(biggest, "", f"the network has {total:,} parameters, more than "
                          f"the cap of {MAX_PARAMETERS:,} (largest: "
                          f"{_layer_words(rows, 'parameters')}); use fewer units")]


def activation_bytes(design: Design, n_samples: int | None = None) -> int:
    """Bytes of activations and their gradients for one training batch, plus one
    evaluation chunk's forward pass (``n_samples``, when known, bounds both)."""
    return sum(n for n, _, _ in _activation_rows(design, n_samples))


def _activation_rows(design: Design, n_samples: int | None
                     ) -> list[tuple[int, LayerPath, str]]:
    net, cfg = design.network, design.training
    item = _ITEMSIZE.get(cfg.dtype, 8)
    train = cfg.batch_size if n_samples is None else min(cfg.batch_size, n_samples)
    evaluate = EVAL_CHUNK_ROWS if n_samples is None else min(EVAL_CHUNK_ROWS, n_samples)
    rows = []
    for layer, shape, out, _, where in _walk(net.layers, net.in_shape, "layers"):
        kept = _values_per_sample(layer, shape, out)
        rows.append(((train * kept[0] + evaluate * kept[1]) * item, where, layer.summary()))
    return rows


def size_problems(design: Design, n_samples: int | None = None) -> list[Problem]:
    """Both caps for a design whose ``validate()`` is empty; ``n_samples`` is the
    dataset's size when known (else the design's own choice tells, if it can)."""
    problems = parameter_problems(design.network)
    if n_samples is None:
        n_samples = dataset_rows(design.dataset)
    rows = _activation_rows(design, n_samples)
    total = sum(n for n, _, _ in rows)
    if total > MAX_ACTIVATION_BYTES:
        biggest = max(rows, key=lambda r: r[0])[1]
        batch = design.training.batch_size
        problems.append(layer_problem(biggest, "", (
            f"the layers' activations need about {_gib(total)} for a batch of {batch:,} "
            f"samples ({design.training.dtype}), more than the cap of "
            f"{_gib(MAX_ACTIVATION_BYTES)} (largest: {_layer_words_bytes(rows)}); use "
            "fewer units or a smaller batch size")))
    return problems


def _gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB" if n_bytes >= 2**30 / 10 else \
        f"{math.ceil(n_bytes / 2**20):,} MiB"


def _layer_words_bytes(rows: list[tuple[int, LayerPath, str]]) -> str:
    top = sorted(rows, key=lambda r: -r[0])[:3]
    return ", ".join(f"{layer_location(where)} ({words}) {_gib(n)}"
                     for n, where, words in top)
