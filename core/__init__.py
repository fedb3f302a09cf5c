"""Backprop Studio's engine: designs, a NumPy network with backpropagation, optimizers.

Imports numpy and the standard library only (never Qt), so everything the window can do
to a network can be done headless. The public API:

- ``build_network(spec, seed=0, dtype=numpy.float32) -> Network``
- ``Network.forward``, ``Network.backward``, ``parameters()``, ``gradients()``,
  ``set_parameters()``, ``layer_grad_norms()``
- ``LOSSES`` / ``get_loss(name)``: value and gradient w.r.t. the network output
- ``NetworkSpec``, ``TrainConfig``, ``Design`` with ``from_dict``/``to_dict``/``validate``
- ``load_design`` / ``save_design`` for design files (JSON, atomic save)
"""

from __future__ import annotations

from core.design.spec import (
    LAYER_KINDS,
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.engine.activations import ACTIVATIONS, get_activation
from core.engine.initializers import INITIALIZERS
from core.engine.losses import LOSSES, get_loss
from core.engine.network import Network
from core.engine.optimizers import OPTIMIZERS, make_optimizer
from core.engine.schedules import SCHEDULES
from core.errors import DatasetError, DesignError, FileFormatError, Problem, StudioError
from core.training.build import build_network

__all__ = [
    "ACTIVATIONS", "INITIALIZERS", "LAYER_KINDS", "LOSSES", "OPTIMIZERS", "SCHEDULES",
    "ActivationSpec", "BatchNormSpec", "DatasetError", "DenseSpec", "Design", "DesignError",
    "DropoutSpec", "FileFormatError", "LayerSpec", "Network", "NetworkSpec", "Problem",
    "ResidualSpec", "StudioError", "TrainConfig", "build_network", "get_activation",
    "get_loss", "make_optimizer",
]
