"""Project files: a design, its dataset choice, trained weights and the run's metric
history, in one safetensors file.

The project's JSON (design, dataset choice, per-epoch history) sits in the safetensors
``__metadata__``; the weights are tensors named ``weights.<dotted name>`` and the step
history is the tensor ``history.steps`` (steps, 2) of [step, loss]. Version 2 adds where
the run stands (``core.train_state``): counters and random streams under "train_state"
in the JSON, the optimizer's arrays as tensors ``optimizer.<slot>``; a project without
it is still written as version 1, and version 1 files load. PyTorch's safetensors
loader reads the weights directly. Loading checks everything (format, version, design,
dataset choice, every weight's name and shape against the design) before returning, and
raises only ``FileFormatError``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .build import build_network
from .errors import FileFormatError, StudioError
from .io import MAX_JSON_BYTES, atomic_write_bytes, parse_json, read_bytes
from .runs import RunRecord
from .safetensors_format import MAX_FILE_BYTES, decode, encode
from .spec import Design
from .train_state import OPTIMIZER_PREFIX, TrainState, state_from_parts, state_to_parts

PROJECT_FORMAT = "backprop-studio-project"
PROJECT_VERSION = 2  # the newest this program reads; 1 is written when it is enough
PROJECT_SUFFIX = ".bpsproj"
HISTORY_KEYS = ("epoch", "step", "train_loss", "val_loss", "train_metric", "val_metric")


@dataclass
class Project:
    """Everything a saved experiment holds.

    ``weights`` maps dotted parameter names to arrays (None before training);
    ``history`` is one dict per epoch with ``HISTORY_KEYS`` (NaN where not measured);
    ``steps`` is (n, 2) float64 of [step, batch loss], possibly thinned; ``runs`` the
    run history (``core.runs.RunRecord``), saved in the JSON body under "runs" (files
    without it load with no runs). ``train_state`` (needs ``weights``; its own
    ``weights`` are these) lets training continue where it stood; None in older files.
    """

    design: Design
    weights: dict[str, np.ndarray] | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    steps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    runs: list[RunRecord] = field(default_factory=list)
    train_state: TrainState | None = None


def _json_number(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def project_bytes(project: Project) -> bytes:
    """The project serialised as safetensors bytes."""
    body = {
        "design": project.design.to_dict(),
        "history": [{k: _json_number(row.get(k, math.nan)) for k in HISTORY_KEYS}
                    for row in project.history],
    }
    if project.runs:
        body["runs"] = [run.to_dict() for run in project.runs]
    tensors = {f"weights.{k}": np.asarray(v) for k, v in (project.weights or {}).items()}
    steps = np.asarray(project.steps, dtype=np.float64).reshape(-1, 2)
    tensors["history.steps"] = steps
    version = 1
    if project.train_state is not None and project.weights is not None:
        body["train_state"], optimizer = state_to_parts(project.train_state)
        tensors.update(optimizer)
        version = 2
    meta = {"format": PROJECT_FORMAT, "version": str(version),
            "project": json.dumps(body, allow_nan=False)}
    return encode(tensors, meta)


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Save atomically: on failure (``OSError``) the previous file is untouched."""
    atomic_write_bytes(path, project_bytes(project))


def _fail(source: str, message: str) -> FileFormatError:
    return FileFormatError(f"{source}: {message}")


def parse_project(data: bytes, source: str) -> Project:
    """Parse and fully check project bytes; ``FileFormatError`` on any problem."""
    tensors, meta = decode(data, source)
    if meta.get("format") != PROJECT_FORMAT:
        raise _fail(source, "not a Backprop Studio project (no project header)")
    version = meta.get("version", "")
    # ASCII digits only, and few of them: int() takes "²"-like digits badly and refuses
    # more than 4300 digits, both with ValueError.
    if (not (version.isascii() and version.isdigit() and len(version) <= 9)
            or not 1 <= int(version) <= PROJECT_VERSION):
        raise _fail(source, f"unknown project version {version!r}; this program reads "
                            f"version {PROJECT_VERSION}")
    text = meta.get("project", "")
    if len(text) > MAX_JSON_BYTES:
        raise _fail(source, "project description is too large")
    # A JSON "\ud800" escape leaves a lone surrogate; parse_json then reports bad UTF-8.
    body = parse_json(text.encode("utf-8", "surrogatepass"), source)
    if not isinstance(body, dict) or set(body) - {"design", "history", "runs", "train_state"}:
        raise _fail(source, "project description must be an object with design and history "
                            "(and optionally runs and train_state)")
    try:
        design = Design.from_dict(body.get("design"))
    except StudioError as exc:
        raise _fail(source, f"the design is invalid:\n{exc}") from None
    if design.dataset is not None:
        from .datasets import DatasetSpec  # deferred: the datasets package is larger

        try:
            DatasetSpec.from_dict(design.dataset)
        except StudioError as exc:
            raise _fail(source, f"the dataset choice is invalid:\n{exc}") from None
    history = _parse_history(body.get("history", []), source)
    steps = tensors.pop("history.steps", np.zeros((0, 2)))
    if steps.ndim != 2 or steps.shape[1] != 2 or steps.dtype != np.float64:
        raise _fail(source, f"history.steps must be (n, 2) float64, got {steps.shape} "
                            f"{steps.dtype}")
    optimizer = {k: tensors.pop(k) for k in list(tensors) if k.startswith(OPTIMIZER_PREFIX)}
    unknown = [k for k in tensors if not k.startswith("weights.")]
    if unknown:
        raise _fail(source, f"unknown tensor {unknown[0]!r}")
    weights = {k[len("weights."):]: v for k, v in tensors.items()} or None
    if weights is not None:
        _check_weights(design, weights, source)
    if optimizer and "train_state" not in body:
        raise _fail(source, f"unknown tensor {next(iter(optimizer))!r} (optimizer state "
                            f"without a train_state)")
    state = None
    if "train_state" in body:
        if weights is None:
            raise _fail(source, "train_state needs the weights, and the file has none")
        try:
            state = state_from_parts(body.get("train_state"), optimizer, weights, design)
        except FileFormatError as exc:
            raise _fail(source, str(exc)) from None
    return Project(design, weights, history, steps, _parse_runs(body.get("runs", []), source),
                   state)


def _parse_runs(items: Any, source: str) -> list[RunRecord]:
    if not isinstance(items, list):
        raise _fail(source, "runs must be a list")
    try:
        runs = [RunRecord.from_dict(item, f"runs[{i}]") for i, item in enumerate(items)]
    except FileFormatError as exc:
        raise _fail(source, str(exc)) from None
    ids = [run.id for run in runs]
    if len(set(ids)) != len(ids):
        raise _fail(source, "runs: two runs have the same id")
    return runs


def _parse_history(rows: Any, source: str) -> list[dict[str, float]]:
    if not isinstance(rows, list):
        raise _fail(source, "history must be a list")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(HISTORY_KEYS):
            raise _fail(source, f"history[{i}] must have exactly {', '.join(HISTORY_KEYS)}")
        parsed = {}
        for k in HISTORY_KEYS:
            v = row[k]
            if v is None:
                parsed[k] = math.nan
            elif isinstance(v, int | float) and not isinstance(v, bool):
                parsed[k] = float(v)
            else:
                raise _fail(source, f"history[{i}].{k} must be a number or null")
        out.append(parsed)
    return out


def _check_weights(design: Design, weights: dict[str, np.ndarray], source: str) -> None:
    try:
        net = build_network(design.network, seed=0, dtype=np.dtype(design.training.dtype))
    except StudioError as exc:
        raise _fail(source, f"weights are saved for a design that cannot be built:\n{exc}") \
            from None
    try:
        net.set_parameters(weights, strict=True)
    except ValueError as exc:
        raise _fail(source, f"the weights do not match the design: {exc}") from None


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and check a project file; ``FileFormatError`` names what is wrong."""
    return parse_project(read_bytes(path, MAX_FILE_BYTES), Path(path).name)
