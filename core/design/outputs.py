"""Whether a network's outputs fit a dataset's targets: the one rule the network check
and the trainer's target encoding (``core.training.targets``) both apply.

Classification targets are laid out as one-hot rows (one output per class; always for
a loss whose ``LossInfo.one_hot`` says so) or, for two classes, as one 0/1 column;
regression targets need one output per target.
"""

from __future__ import annotations

from typing import Literal

from core.design.spec import DenseSpec, NetworkSpec
from core.engine.losses import LossInfo
from core.errors import LayerPath, Problem, layer_location

TargetLayout = Literal["values", "one-hot", "binary"]


def target_layout(task: str, n_data: int, outputs: int,
                  loss: LossInfo | None) -> TargetLayout | None:
    """How targets are encoded for a network with ``outputs`` outputs trained with
    ``loss``, or None when they cannot be: ``n_data`` is the number of classes
    (classification) or targets (regression)."""
    if task == "regression":
        return "values" if outputs == n_data else None
    if outputs == n_data:
        return "one-hot"
    if outputs == 1 and n_data == 2 and not (loss is not None and loss.one_hot):
        return "binary"
    return None


def outputs_mismatch(task: str, n_data: int, outputs: int, loss: LossInfo | None) -> str:
    """The words for a network whose outputs do not fit (``target_layout`` is None)."""
    if task == "regression":
        noun, hint = "target(s)", ""
    else:
        noun = "classes"
        binary_ok = n_data == 2 and not (loss is not None and loss.one_hot)
        hint = "1 (two classes) or " if binary_ok else ""
    return (f"the dataset has {n_data} {noun} but the network has {outputs} output(s); "
            f"set the last Dense layer's units to {hint}{n_data}")


def output_location(net: NetworkSpec) -> tuple[LayerPath, str]:
    """Where to change the number of outputs: (the last top-level Dense layer, "units"),
    or ((), "") (the layers as a whole) when there is none."""
    dense = [i for i, layer in enumerate(net.layers) if isinstance(layer, DenseSpec)]
    return ((dense[-1],), "units") if dense else ((), "")


def outputs_problem(net: NetworkSpec, task: str, n_data: int,
                    loss: LossInfo | None) -> Problem | None:
    """The problem of a network (with well-formed layers) whose outputs do not fit a
    dataset of ``task`` with ``n_data`` classes or targets, located at the layer to
    change; None when they fit."""
    outputs = net.outputs
    if target_layout(task, n_data, outputs, loss) is not None:
        return None
    layer, field = output_location(net)
    return Problem(layer_location(layer, field, "network.layers"),
                   outputs_mismatch(task, n_data, outputs, loss), layer, field)
