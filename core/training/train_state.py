"""Where a run stands: everything needed to continue it as if it had never stopped.

A ``TrainState`` holds the network's weights and buffers, the optimizer's per-parameter
state (momentum, Adam's moments) and iteration count, the step and epoch counters, how
far into the current epoch's shuffled order the run is, and the random generators'
states (the shuffle and the dropout masks). ``core.training.trainer.Trainer.state()`` takes one
between steps and ``Trainer(..., resume=state)`` continues from it; project files store
it (``state_to_parts`` / ``state_from_parts``: JSON for the counters, tensors for the
arrays), so a reopened project continues where it was saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.design.spec import Design
from core.engine.optimizers import _CLASSES as OPTIMIZER_CLASSES
from core.errors import FileFormatError

OPTIMIZER_PREFIX = "optimizer."
_STATE_KEYS = {"epoch", "step", "position", "optimizer", "iterations", "shuffle_rng",
               "dropout_rng", "run_id"}
_RNG_INT_DIGITS = 40  # a PCG64 state and increment are below 2**128 (39 digits)


@dataclass
class TrainState:
    """A run between two steps.

    ``weights``: ``Network.state_dict()`` (parameters and batch-norm buffers);
    ``optimizer_state``: ``Optimizer.state()`` arrays (n,) (empty: a fresh optimizer, as
    for weights saved without it); ``position``: samples of the current epoch already
    trained (0 at an epoch boundary); ``shuffle_rng``: the shuffle generator's
    ``bit_generator.state`` before the current epoch's order was drawn (at a boundary:
    now; None: drawn from the seed); ``dropout_rng`` likewise for dropout masks;
    ``run_id``: the ``RunRecord`` the state belongs to ("" if none).
    """

    epoch: int
    step: int
    weights: dict[str, np.ndarray] = field(repr=False)
    optimizer: str = ""
    iterations: int = 0
    optimizer_state: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    position: int = 0
    shuffle_rng: dict[str, Any] | None = None
    dropout_rng: dict[str, Any] | None = None
    run_id: str = ""


def state_to_parts(state: TrainState) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON-ready counters and the tensors (``optimizer.<slot>``) of ``state``; the
    weights are not included (the project stores them as its weights)."""
    body = {"epoch": state.epoch, "step": state.step, "position": state.position,
            "optimizer": state.optimizer, "iterations": state.iterations,
            "shuffle_rng": _rng_to_json(state.shuffle_rng),
            "dropout_rng": _rng_to_json(state.dropout_rng), "run_id": state.run_id}
    tensors = {OPTIMIZER_PREFIX + k: np.asarray(v) for k, v in state.optimizer_state.items()}
    return body, tensors


def state_from_parts(body: Any, tensors: dict[str, np.ndarray], weights: dict[str, np.ndarray],
                     design: Design, where: str = "train_state") -> TrainState:
    """Check and rebuild a state from ``state_to_parts`` output; ``FileFormatError``
    names the field. Optimizer arrays must be (parameters,) in the design's precision."""
    if not isinstance(body, dict):
        raise FileFormatError(f"{where}: must be an object")
    unknown = sorted(set(body) - _STATE_KEYS)
    if unknown:
        raise FileFormatError(f"{where}.{unknown[0]}: unknown key")

    def count(key: str) -> int:
        v = body.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**53:
            raise FileFormatError(f"{where}.{key}: must be a non-negative integer, got {v!r}"
                                  [:200])
        return v

    name = body.get("optimizer", "")
    if not isinstance(name, str) or (name and name not in OPTIMIZER_CLASSES):
        raise FileFormatError(f"{where}.optimizer: unknown optimizer {name!r}"[:200])
    run_id = body.get("run_id", "")
    if not isinstance(run_id, str) or len(run_id) > 64:
        raise FileFormatError(f"{where}.run_id: must be a run id")
    slots = set(OPTIMIZER_CLASSES[name].state_slots) if name else set()
    arrays = {k[len(OPTIMIZER_PREFIX):]: v for k, v in tensors.items()}
    if arrays and set(arrays) != slots:
        raise FileFormatError(f"{where}: optimizer {name or '(none)'} keeps "
                              f"{', '.join(sorted(slots)) or 'no state'}, the file has "
                              f"{', '.join(sorted(arrays))}")
    size = design.network.parameter_count()
    dtype = np.dtype(design.training.dtype)
    for k, v in arrays.items():
        if v.shape != (size,) or v.dtype != dtype:
            raise FileFormatError(f"{OPTIMIZER_PREFIX}{k}: must be ({size},) {dtype.name} "
                                  f"like the design's parameters, got {v.shape} {v.dtype}")
        if not np.all(np.isfinite(v)):
            raise FileFormatError(f"{OPTIMIZER_PREFIX}{k}: contains NaN or infinite values")
    return TrainState(
        epoch=count("epoch"), step=count("step"), weights=weights, optimizer=name,
        iterations=count("iterations"), optimizer_state=arrays, position=count("position"),
        shuffle_rng=_rng_from_json(body.get("shuffle_rng"), f"{where}.shuffle_rng"),
        dropout_rng=_rng_from_json(body.get("dropout_rng"), f"{where}.dropout_rng"),
        run_id=run_id)


def _rng_to_json(state: dict[str, Any] | None) -> dict[str, Any] | None:
    # 128-bit integers as decimal strings: JSON readers elsewhere keep 53 bits only.
    if state is None:
        return None
    inner = state["state"]
    return {"bit_generator": state["bit_generator"],
            "state": str(inner["state"]), "inc": str(inner["inc"]),
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}


def _rng_from_json(d: Any, where: str) -> dict[str, Any] | None:
    if d is None:
        return None
    if not isinstance(d, dict) or set(d) != {"bit_generator", "state", "inc", "has_uint32",
                                             "uinteger"}:
        raise FileFormatError(f"{where}: must be null or an object with bit_generator, "
                              f"state, inc, has_uint32 and uinteger")
    if d["bit_generator"] != "PCG64":
        raise FileFormatError(f"{where}.bit_generator: must be \"PCG64\"")
    big = {}
    for key in ("state", "inc"):
        v = d[key]
        if not (isinstance(v, str) and v.isascii() and v.isdigit()
                and len(v) <= _RNG_INT_DIGITS and int(v) < 2**128):
            raise FileFormatError(f"{where}.{key}: must be a decimal string below 2**128")
        big[key] = int(v)
    if d["has_uint32"] not in (0, 1) or isinstance(d["has_uint32"], bool):
        raise FileFormatError(f"{where}.has_uint32: must be 0 or 1")
    u = d["uinteger"]
    if isinstance(u, bool) or not isinstance(u, int) or not 0 <= u < 2**32:
        raise FileFormatError(f"{where}.uinteger: must be an integer in [0, 2**32)")
    return {"bit_generator": "PCG64", "state": big, "has_uint32": d["has_uint32"],
            "uinteger": u}
