"""One training step: forward, loss, backward, penalties, clipping, optimizer update.

``TrainStep`` binds a network, a loss and an optimizer built from ``TrainConfig`` and
runs one mini-batch with as few NumPy calls as possible. The trainer
(``core.training.trainer.Trainer.run``), the benchmarks and the tests all call
``TrainStep.run``, so the numbers a user watches are the numbers that are measured.

The step never applies a non-finite update: it says what went non-finite
(``StepResult.failed``) and in which layers, and leaves the weights as they were; what
that means for the run (a message, the end of it) is the trainer's business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.design.spec import TrainConfig
from core.engine.losses import get_loss
from core.engine.network import Network
from core.engine.norms import combine_norms
from core.engine.optimizers import Optimizer, apply_penalties, clip_gradients, make_optimizer


@dataclass(slots=True)
class StepResult:
    """What one step measured. ``grad_norm`` is the global gradient norm before clipping.

    ``failed`` is "" for a step that was applied, else what became non-finite ("loss",
    "gradient", "gradient norm", "weight update" or "weights"; the weights were then left
    unchanged), and ``layers`` the layers where, the one where it went wrong first
    leading (for the loss: the first layer whose output is non-finite).
    """

    loss: float
    penalty: float
    grad_norm: float
    failed: str = ""
    layers: tuple[str, ...] = ()


def optimizer_settings(config: TrainConfig) -> dict[str, float | bool]:
    """The optimizer keyword settings held in ``config``."""
    return {
        "learning_rate": config.learning_rate,
        "momentum": config.momentum,
        "nesterov": config.nesterov,
        "beta1": config.beta1,
        "beta2": config.beta2,
        "rho": config.rho,
        "epsilon": config.epsilon,
    }


class TrainStep:
    """Runs training steps of ``network`` under ``config``.

    ``run(X, Y)`` takes a batch X (batch, inputs) and encoded targets Y (batch, outputs)
    in the network's dtype and returns a ``StepResult``. Settings of ``optimizer`` and
    the penalty/clipping attributes may be changed between steps. ``last_delta`` is the
    last update Δw (n,) computed (a buffer of the optimizer's, valid until the next step).
    """

    def __init__(self, network: Network, config: TrainConfig) -> None:
        self.network = network
        self.loss = get_loss(config.loss)
        self.logits = self.loss.fused_activation is not None
        self.optimizer: Optimizer = make_optimizer(
            config.optimizer, network.flat_params.size, network.dtype,
            **optimizer_settings(config))
        self.l2 = config.l2
        self.l1 = config.l1
        self.clip_norm = config.clip_norm
        self.clip_value = config.clip_value
        self.last_delta: np.ndarray | None = None
        self._names = tuple(network.group_names)
        # Per-layer squared gradient norms of the last step, before clipping (so an
        # exploding layer stays visible even when clipping tames the update); when their
        # fast sum overflowed, the exactly recomputed norms instead (``last_grad_norms``).
        self._grad_sq = np.zeros(len(network.groups))
        self._grad_norms: np.ndarray | None = None

    @property
    def last_grad_norms(self) -> np.ndarray:
        """Each layer's gradient L2 norm (groups,) float64 in the last step, before
        clipping; finite for finite gradients."""
        if self._grad_norms is not None:
            return self._grad_norms
        return np.sqrt(self._grad_sq)

    def apply_settings(self, config: TrainConfig) -> None:
        """Take new optimizer, penalty and clipping settings for the next step (the
        optimizer kind and loss are fixed for a run)."""
        for key, value in optimizer_settings(config).items():
            setattr(self.optimizer, key, value)
        self.l2, self.l1 = config.l2, config.l1
        self.clip_norm, self.clip_value = config.clip_norm, config.clip_value

    def compute_gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, float, float]:
        """Forward, loss, backward, penalties and clipping, without the update.

        Returns (data loss, penalty, gradient norm before clipping)."""
        net = self.network
        out = net.forward_buffer(X, True, self.logits)
        loss, grad = self.loss.value_and_grad(out, Y)
        net.backward(grad)
        penalty = 0.0
        if self.l2 or self.l1:
            penalty = apply_penalties(net.flat_params, net.flat_grads, net.decay_mask,
                                      self.l2, self.l1)
        sq = net.group_sq_norms(net.flat_grads)
        self._grad_sq = sq
        total = float(sq.sum())
        if total < math.inf:  # the fast path: not NaN, no overflow
            self._grad_norms = None
            norm = math.sqrt(total)
        else:
            # Overflowed or non-finite: scaled norms are finite for finite gradients, so
            # clipping still works and only real infinities and NaNs end the run.
            self._grad_norms = net.group_norms(net.flat_grads)
            norm = combine_norms(self._grad_norms)
        if self.clip_norm or self.clip_value:
            clip_gradients(net.flat_grads, self.clip_norm, self.clip_value, norm)
        return loss, penalty, norm

    def run(self, X: np.ndarray, Y: np.ndarray) -> StepResult:
        """One full step on one mini-batch: gradients, Δw from the optimizer, and Δw
        added to the weights unless something became non-finite (see ``StepResult``)."""
        net = self.network
        loss, penalty, norm = self.compute_gradients(X, Y)
        if not math.isfinite(loss):
            return StepResult(loss, penalty, norm, "loss", (self._locate_loss(X),))
        if not math.isfinite(norm):  # the norm is finite for finite gradients
            return self._bad_gradient(loss, penalty, norm)
        delta = self.last_delta = self.optimizer.compute_update(net.flat_grads)
        # One cheap dot on the hot path; it overflows long before an element does, so
        # only then are the update and the new weights themselves checked.
        if not math.isfinite(delta.dot(delta)):
            bad = net.nonfinite_groups(delta)
            if bad:
                return StepResult(loss, penalty, norm, "weight update", tuple(bad))
            bad = net.nonfinite_groups(net.flat_params + delta)
            if bad:
                return StepResult(loss, penalty, norm, "weights", tuple(bad))
        np.add(net.flat_params, delta, out=net.flat_params)
        return StepResult(loss, penalty, norm)

    def _bad_gradient(self, loss: float, penalty: float, norm: float) -> StepResult:
        net = self.network
        bad = net.nonfinite_groups(net.flat_grads)
        what = "gradient"
        if not bad:  # float64 elements near 1e308: only their norm overflowed
            bad = [name for name, v in zip(self._names, self.last_grad_norms, strict=True)
                   if not math.isfinite(v)]
            what = "gradient norm"
        # Backpropagation runs output to input: the last bad layer went first.
        return StepResult(loss, penalty, norm, what, tuple(bad[::-1]))

    def _locate_loss(self, X: np.ndarray) -> str:
        """After a non-finite loss on ``X`` (batch, inputs): the first top-level layer
        whose output is non-finite; if none is, the loss overflowed on finite but huge
        outputs, and the output layer is named."""
        x = X
        for layer in self.network.layers:
            x = layer.forward(x, False)
            if not np.all(np.isfinite(x)):
                return layer.name
        return self.network.layers[-1].name
