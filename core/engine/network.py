"""The runtime network: ordered layers over one flat parameter and gradient buffer.

Every parameter is a view into ``flat_params`` and every gradient a view into
``flat_grads``, each layer's slice contiguous. That makes the optimizer update a few
whole-vector calls and the per-layer gradient norms one ``reduceat``, whatever the
depth. Only ``core.training.build.build_network`` creates a Network from a design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.engine.layers import Activation, BatchNorm, Layer, Residual
from core.engine.norms import stable_norm


@dataclass(frozen=True)
class ActivationStats:
    """Statistics of one activation layer's output over the last training batch.

    ``dead_fraction`` is the share of units that output exactly zero for every sample
    (dead ReLUs); 0 for activations that cannot die.
    """

    mean: float
    std: float
    dead_fraction: float


@dataclass(frozen=True)
class ParamGroup:
    """The contiguous slice ``[start, stop)`` of the flat buffers owned by one layer."""

    layer: str
    start: int
    stop: int


class Network:
    """A built network. Create with ``core.build_network``.

    Shapes: inputs ``(batch, inputs)``, outputs ``(batch, outputs)``. A network of image
    layers has ``input_shape`` ``(C, H, W)`` (C·H·W == inputs): it views each flat input
    row as an image, so data stays ``(batch, inputs)`` everywhere outside it.
    """

    def __init__(self, layers: list[Layer], inputs: int, dtype: np.dtype,
                 flat_params: np.ndarray, flat_grads: np.ndarray,
                 param_index: dict[str, tuple[Layer, str]], groups: list[ParamGroup],
                 decay_mask: np.ndarray, fused_final: Activation | None,
                 input_shape: tuple[int, ...] = ()) -> None:
        self.layers = layers
        self.inputs = inputs
        self.input_shape = input_shape
        self.outputs = layers[-1].n_out if layers else inputs
        self.dtype = dtype
        self.flat_params = flat_params
        self.flat_grads = flat_grads
        self.decay_mask = decay_mask
        self.groups = groups
        self._param_index = param_index
        self._group_starts = np.array([g.start for g in groups], dtype=np.intp)
        self._slices = [(g.start, g.stop) for g in groups]
        self._sq = np.empty_like(flat_grads)
        # A layer's input gradient is needed only if some earlier layer has parameters.
        needs, seen = [], False
        for layer in layers:
            needs.append(seen)
            seen = seen or _has_params(layer)
        self._needs_input_grad = needs
        self._fused_final = fused_final
        self._skipped_final = False

    @property
    def fused_final(self) -> bool:
        """Whether the last layer is a sigmoid/softmax a fused loss may absorb
        (``forward(..., logits=True)`` skips it)."""
        return self._fused_final is not None

    # ------------------------------------------------------------------ passes
    def forward(self, X: np.ndarray, training: bool = True, logits: bool = False) -> np.ndarray:
        """Run the forward pass on ``X`` (batch, inputs); return a new (batch, outputs) array.

        With ``logits=True`` a final sigmoid/softmax that the loss absorbs is skipped and
        its input returned (see ``core.engine.losses``); the next ``backward`` then starts there.
        """
        return self.forward_buffer(X, training, logits).copy()

    def forward_buffer(self, X: np.ndarray, training: bool = True,
                       logits: bool = False) -> np.ndarray:
        """As ``forward`` but returns the network's own output buffer (no copy): it is
        overwritten by the next forward pass. The training loop uses this."""
        x = np.asarray(X, dtype=self.dtype)
        if self.input_shape:
            x = x.reshape(x.shape[0], *self.input_shape)
        layers = self.layers
        skip = logits and self._fused_final is not None
        self._skipped_final = skip
        for i in range(len(layers) - 1 if skip else len(layers)):
            x = layers[i].forward(x, training)
        return x

    def backward(self, grad: np.ndarray, input_grad: bool = False) -> np.ndarray | None:
        """Back-propagate dE/doutput ``grad`` (batch, outputs), filling every gradient.

        ``grad`` may be overwritten. Returns dE/dX (batch, inputs) if ``input_grad``.
        """
        g: np.ndarray | None = np.asarray(grad, dtype=self.dtype)
        layers, needs = self.layers, self._needs_input_grad
        last = len(layers) - 2 if self._skipped_final else len(layers) - 1
        for i in range(last, -1, -1):
            if g is None:
                # Layer i+1 was told no input gradient is needed: no layer up to i has
                # parameters, so stop (a parameter-free residual block would get None).
                break
            g = layers[i].backward(g, needs[i] or input_grad)
        if not input_grad or g is None:
            return None
        return g.reshape(g.shape[0], self.inputs) if self.input_shape else g

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Evaluation-mode outputs (dropout off, running batch-norm statistics), a new array."""
        return self.forward(X, training=False)

    # -------------------------------------------------------------- parameters
    def parameters(self) -> dict[str, np.ndarray]:
        """Learnable parameters by dotted name (``layers.0.weight``); live views."""
        return {name: layer.params[local] for name, (layer, local) in self._param_index.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        """Gradients from the last ``backward``, same names as ``parameters()``; live views."""
        return {name: layer.grads[local] for name, (layer, local) in self._param_index.items()}

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-learned state saved with the weights (batch-norm running statistics)."""
        out: dict[str, np.ndarray] = {}
        for layer in self.all_layers():
            if isinstance(layer, BatchNorm):
                for local, arr in layer.buffers().items():
                    out[f"{layer.name}.{local}"] = arr
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of parameters and buffers by dotted name: what a weights file stores."""
        return {k: v.copy() for k, v in {**self.parameters(), **self.buffers()}.items()}

    def set_parameters(self, values: dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy ``values`` into the network's parameters (and buffers) by dotted name.

        Checks everything before changing anything: an unknown name, a missing name (with
        ``strict``) or a shape mismatch raises ``ValueError`` naming the layer and shapes.
        """
        targets = {**self.parameters(), **self.buffers()}
        problems = []
        for name, value in values.items():
            if name not in targets:
                problems.append(f"{name}: no such parameter in this network")
                continue
            shape = np.shape(value)
            if shape != targets[name].shape:
                problems.append(f"{name}: shape {shape} does not match the network's "
                                f"{targets[name].shape}")
            elif not np.all(np.isfinite(value)):
                problems.append(f"{name}: contains NaN or infinite values")
        if strict:
            problems += [f"{n}: missing" for n in self.parameters() if n not in values]
        if problems:
            raise ValueError("; ".join(problems))
        for name, value in values.items():
            np.copyto(targets[name], np.asarray(value), casting="unsafe")

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        self.flat_grads.fill(0.0)

    def all_layers(self) -> list[Layer]:
        """Every layer, residual blocks followed by their children, in order."""
        out: list[Layer] = []

        def walk(layers: list[Layer]) -> None:
            for layer in layers:
                out.append(layer)
                walk(layer.children())

        walk(self.layers)
        return out

    @property
    def parameter_count(self) -> int:
        return int(self.flat_params.size)

    # -------------------------------------------------------------- diagnostics
    @property
    def group_names(self) -> list[str]:
        """Names of the layers that own parameters, in the order of the norm arrays."""
        return [g.layer for g in self.groups]

    def group_sq_norms(self, flat: np.ndarray) -> np.ndarray:
        """Sum of squares of each parameter group's slice of ``flat`` (n,) -> (groups,)
        float64. Their total is the squared global norm, so clipping and the per-layer
        norms share one pass. The fast path: in float32 it overflows to inf once a
        layer's norm passes about 1.8e19 (``group_norms`` then recomputes it)."""
        if not self.groups:
            return np.zeros(0)
        if flat.size > 65_536:
            # Large layers: one BLAS dot per layer beats a full-size temporary.
            return np.array([float(np.dot(flat[a:b], flat[a:b])) for a, b in self._slices])
        sq = self._sq
        np.multiply(flat, flat, out=sq)
        return np.add.reduceat(sq, self._group_starts).astype(np.float64)

    def group_norms(self, flat: np.ndarray) -> np.ndarray:
        """L2 norm of each parameter group's slice of ``flat`` (n,) -> (groups,) float64.

        Finite for every group whose elements are finite: a sum of squares that overflowed
        the fast path is recomputed for that group with ``stable_norm``."""
        sq = self.group_sq_norms(flat)
        norms = np.sqrt(sq)
        if not np.isfinite(sq).all():
            for i in np.flatnonzero(~np.isfinite(sq)):
                a, b = self._slices[i]
                norms[i] = stable_norm(flat[a:b])
        return norms

    def nonfinite_groups(self, flat: np.ndarray) -> list[str]:
        """Names of the layers whose slice of ``flat`` (n,) holds a NaN or infinite
        element, input side first (for divergence messages; not for the hot path)."""
        return [g.layer for g, (a, b) in zip(self.groups, self._slices, strict=True)
                if not np.isfinite(flat[a:b]).all()]

    def layer_grad_norms(self) -> dict[str, float]:
        """L2 norm of each layer's gradients, by layer name (layers with parameters only)."""
        return dict(zip(self.group_names, self.group_norms(self.flat_grads).tolist(), strict=True))

    def layer_weight_norms(self) -> dict[str, float]:
        """L2 norm of each layer's parameters, by layer name."""
        return dict(zip(self.group_names, self.group_norms(self.flat_params).tolist(),
                        strict=True))

    def activation_stats(self) -> dict[str, ActivationStats]:
        """Mean, std and dead-unit fraction of each activation layer's last output.

        Computed on demand from the last forward pass, so asking costs nothing per step.
        """
        stats: dict[str, ActivationStats] = {}
        for layer in self.all_layers():
            if isinstance(layer, Activation) and layer.last_output is not None:
                y = layer.last_output
                dead = 0.0
                if layer.info.can_die:
                    dead = float(np.mean(~np.any(y > 0, axis=0)))
                stats[layer.name] = ActivationStats(float(y.mean()), float(y.std()), dead)
        return stats

    def __repr__(self) -> str:
        inner = "\n  ".join(repr(layer) for layer in self.layers)
        return (f"Network({self.inputs}->{self.outputs}, {self.parameter_count} parameters, "
                f"{np.dtype(self.dtype).name})\n  {inner}")


def _has_params(layer: Layer) -> bool:
    if layer.declare():
        return True
    return any(_has_params(c) for c in layer.children())


__all__ = ["ActivationStats", "Network", "ParamGroup", "Residual"]
