"""The one rule by which every export is judged: run the exported model on the same
inputs as our own network (evaluation mode) and compare, overall and per layer where
the format can expose a layer's output.

An export fails when any value differs by more than ``ATOL + RTOL·|ours|`` (float32).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.engine.network import Network

ATOL = 1e-5
RTOL = 1e-4


@dataclass(frozen=True)
class Difference:
    """Largest absolute and relative differences between ours and theirs for one output
    (the model's, or one layer's: ``name`` is our runtime layer name, "output" for the
    model's)."""

    name: str
    max_abs: float
    max_rel: float
    ok: bool


@dataclass(frozen=True)
class Verification:
    """How one exported model compared on ``samples`` inputs. ``skipped`` says why it
    could not be run (e.g. PyTorch is not installed); then ``ok`` is None. ``problem``
    says why the exported model failed to run (its error, first line in words, then any
    detail); then ``ok`` is False."""

    format: str
    samples: int
    output: Difference | None = None
    layers: tuple[Difference, ...] = field(default=())
    skipped: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool | None:
        if self.problem:
            return False
        if self.skipped or self.output is None:
            return None
        return self.output.ok and all(d.ok for d in self.layers)

    def summary(self) -> str:
        """One line for a status bar or a terminal."""
        if self.problem:
            return f"{self.format}: FAILED verification: {self.problem.splitlines()[0]}"
        if self.skipped:
            return f"{self.format}: not verified ({self.skipped})"
        assert self.output is not None
        word = "verified" if self.ok else "FAILED verification"
        return (f"{self.format}: {word} on {self.samples:,} samples: largest difference "
                f"{self.output.max_abs:.2g} (relative {self.output.max_rel:.2g}); "
                f"tolerance {ATOL:g} + {RTOL:g}·|value|")


def compare(name: str, ours: np.ndarray, theirs: np.ndarray) -> Difference:
    """The differences of ``theirs`` from ``ours`` (same shape; a shape mismatch or a
    non-finite value fails)."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        return Difference(name, float("inf"), float("inf"), False)
    if a.size == 0:
        return Difference(name, 0.0, 0.0, True)
    diff = np.abs(a - b)
    if not np.all(np.isfinite(diff)):
        return Difference(name, float("inf"), float("inf"), False)
    rel = diff / np.maximum(np.abs(a), 1e-12)
    ok = bool(np.all(diff <= ATOL + RTOL * np.abs(a)))
    return Difference(name, float(diff.max()), float(rel.max()), ok)


def layer_outputs(network: Network, x: np.ndarray) -> dict[str, np.ndarray]:
    """Each top-level layer's evaluation-mode output for ``x`` (n, inputs), by runtime
    name (``layers.3``), as new arrays of shape (n, *layer output shape); the last is the
    model's output."""
    h = np.asarray(x, dtype=network.dtype)
    if network.input_shape:
        h = h.reshape(h.shape[0], *network.input_shape)
    out: dict[str, np.ndarray] = {}
    for layer in network.layers:
        h = layer.forward(h, False)
        out[layer.name] = h.copy()
    return out


def verification_inputs(network: Network, x: np.ndarray | None, samples: int = 256,
                        seed: int = 0) -> np.ndarray:
    """The inputs to verify on: ``x`` (the validation inputs, at most ``samples`` rows)
    or, without data, seeded standard-normal rows (float32, (n, inputs))."""
    if x is not None and len(x):
        return np.ascontiguousarray(np.asarray(x, dtype=np.float32)[:samples])
    rng = np.random.default_rng(seed)
    return rng.standard_normal((samples, network.inputs)).astype(np.float32)
