"""The network check ("analyse" before training): shapes, parameter counts and every
problem of a design together with its dataset, as the builder window lists them and the
command line's ``check`` prints them (the size caps of ``core.design.limits`` included).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.design.edit import LayerPath, all_paths, input_shape, layer_at
from core.design.limits import size_problems
from core.design.outputs import outputs_problem
from core.design.shapes import USE_DATA_SHAPE, Shape, ShapeError, shape_words, size
from core.design.spec import Design
from core.engine.losses import LOSSES
from core.errors import Problem


@dataclass(frozen=True)
class LayerRow:
    """One layer of the check: where it is, what it is, its shapes and parameters.

    ``in_shape``/``out_shape`` are per sample (``(n,)`` or ``(C, H, W)``; empty when
    unknown because a layer before cannot take its input); ``inputs``/``outputs`` are
    their sizes (0 when unknown)."""

    path: LayerPath
    summary: str
    inputs: int
    outputs: int
    parameters: int
    in_shape: Shape = ()
    out_shape: Shape = ()


@dataclass(frozen=True)
class DataShape:
    """What the check needs of a dataset: its task and sizes."""

    task: str
    n_features: int
    n_outputs: int  # classes for classification, targets for regression
    n_samples: int | None = None  # rows of the larger split, when known (memory check)
    # (precision, message) per training precision the data cannot be trained in
    # (``core.datasets.precision_problem``), e.g. a target too large for float32.
    precision_problems: tuple[tuple[str, str], ...] = ()
    image_shape: Shape | None = None  # (C, H, W) of an image dataset's samples


def layer_rows(design: Design) -> list[LayerRow]:
    """Every layer (residual children after their block) with shapes and parameter count."""
    rows = []
    net = design.network
    for path in all_paths(net):
        layer = layer_at(net, path)
        try:
            shape = input_shape(net, path)
            out = layer.output_shape(shape)
            rows.append(LayerRow(path, layer.summary(), size(shape), size(out),
                                 layer.parameters_for(shape), shape, out))
        except (TypeError, ShapeError):  # reported by validate()
            rows.append(LayerRow(path, layer.summary(), 0, 0, 0))
    return rows


def check(design: Design, data: DataShape | None, need_dataset: bool = True) -> list[Problem]:
    """Every problem that keeps ``design`` from training on ``data`` (None: no dataset,
    itself a problem when ``need_dataset``), the size caps included."""
    problems = design.validate(task=data.task if data else None)
    if not problems:  # the caps are computed from a well-formed design only
        problems += size_problems(design, data.n_samples if data else None)
    net = design.network
    if data is None:
        if need_dataset:  # chosen but not (yet) loaded: still reading, or refused
            problems.append(Problem("dataset", "no dataset is chosen" if design.dataset is None
                                    else "the dataset is not loaded (yet)"))
        return problems
    unfit = dict(data.precision_problems).get(design.training.dtype)
    if unfit:
        problems.append(Problem("training.dtype", unfit, field="dtype"))
    if net.inputs != data.n_features:
        problems.append(Problem("network.inputs", f"the network takes {net.inputs} inputs but "
                                f"the dataset has {data.n_features} features", field="inputs"))
    elif net.uses_images() and tuple(net.input_shape) != tuple(data.image_shape or ()):
        has = (f"each sample of the dataset is {shape_words(data.image_shape)}"
               if data.image_shape else "the dataset's samples are features, not images")
        takes = shape_words(net.input_shape) if net.input_shape else "features"
        problems.append(Problem("network.input_shape", f"the network takes {takes} but "
                                f"{has}", field="input_shape",
                                fix=USE_DATA_SHAPE if data.image_shape else ""))
    if not net.layers or any(p.layer is not None for p in problems):
        return problems
    try:
        mismatch = outputs_problem(net, data.task, data.n_outputs,
                                   LOSSES.get(design.training.loss))
    except TypeError:  # a width of the wrong type
        return problems
    if mismatch is not None:
        problems.append(mismatch)
    return problems
