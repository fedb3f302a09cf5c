"""Project files: a design, its dataset choice, trained weights and the run's metric
history, in one safetensors file.

The project's JSON (design, dataset choice, per-epoch history) sits in the safetensors
``__metadata__``; the weights are tensors named ``weights.<dotted name>`` and the step
history is the tensor ``history.steps`` (steps, 2) of [step, loss]. Version 2 adds where
the run stands (``core.training.train_state``): counters and random streams under "train_state"
in the JSON, the optimizer's arrays as tensors ``optimizer.<slot>``; a project without
it is still written as version 1, and version 1 files load. PyTorch's safetensors
loader reads the weights directly. Loading checks everything (format, version, design,
dataset choice, every weight's name, shape and dtype against the design, finite values in
the design's precision) before returning, and raises only ``FileFormatError``. The header
is checked before any tensor data is read, and the design's parameter shapes are computed
from the spec (``core.design.limits``), never by building its network.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.design.limits import parameter_problems, state_shapes
from core.design.spec import Design
from core.errors import FileFormatError, StudioError
from core.files.safetensors import (
    MAX_FILE_BYTES,
    Header,
    TensorEntry,
    decode_header,
    decode_tensors,
    encode,
    read_safetensors,
)
from core.records.history import HISTORY_KEYS
from core.records.record import RunRecord
from core.storage.checked_io import MAX_JSON_BYTES, atomic_write_bytes, parse_json
from core.training.train_state import OPTIMIZER_PREFIX, TrainState, state_from_parts, state_to_parts

PROJECT_FORMAT = "backprop-studio-project"
PROJECT_VERSION = 2  # the newest this program reads; 1 is written when it is enough
PROJECT_SUFFIX = ".bpsproj"


@dataclass
class Project:
    """Everything a saved experiment holds.

    ``weights`` maps dotted parameter names to arrays (None before training);
    ``history`` is one dict per epoch with ``HISTORY_KEYS`` (NaN where not measured);
    ``steps`` is (n, 2) float64 of [step, batch loss], possibly thinned; ``runs`` the
    run history (``core.records.record.RunRecord``), saved in the JSON body under "runs" (files
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


def _parse_body(metadata: dict[str, str], source: str) -> tuple[Design, dict[str, Any]]:
    """The project header: format, version, and the JSON body with its design checked."""
    if metadata.get("format") != PROJECT_FORMAT:
        raise _fail(source, "not a Backprop Studio project (no project header)")
    version = metadata.get("version", "")
    # ASCII digits only, and few of them: int() takes "²"-like digits badly and refuses
    # more than 4300 digits, both with ValueError.
    if (not (version.isascii() and version.isdigit() and len(version) <= 9)
            or not 1 <= int(version) <= PROJECT_VERSION):
        raise _fail(source, f"unknown project version {version!r}; this program reads "
                            f"version {PROJECT_VERSION}")
    text = metadata.get("project", "")
    if len(text) > MAX_JSON_BYTES:
        raise _fail(source, "project description is too large")
    body = parse_json(text.encode("utf-8"), source)  # parse_json left no lone surrogates
    if not isinstance(body, dict) or set(body) - {"design", "history", "runs", "train_state"}:
        raise _fail(source, "project description must be an object with design and history "
                            "(and optionally runs and train_state)")
    try:
        design = Design.from_dict(body.get("design"))
    except StudioError as exc:
        raise _fail(source, f"the design is invalid:\n{exc}") from None
    if design.dataset is not None:
        from core.datasets import DatasetSpec  # deferred: the datasets package is larger

        try:
            DatasetSpec.from_dict(design.dataset)
        except StudioError as exc:
            raise _fail(source, f"the dataset choice is invalid:\n{exc}") from None
    return design, body


def _check_declared(design: Design, header: Header, source: str) -> None:
    """Every tensor the file declares against what the design needs, from the header
    alone: names, shapes and dtypes, before any tensor byte is read or any weight made."""
    entries = header.entries
    steps = entries.get("history.steps")
    if steps is not None and (len(steps.shape) != 2 or steps.shape[1] != 2
                              or steps.dtype != np.float64):
        raise _fail(source, f"history.steps must be (n, 2) float64, got {steps.shape} "
                            f"{steps.dtype}")
    unknown = [k for k in entries if k != "history.steps" and not k.startswith("weights.")
               and not k.startswith(OPTIMIZER_PREFIX)]
    if unknown:
        raise _fail(source, f"unknown tensor {unknown[0]!r}")
    weights = {k[len("weights."):]: e for k, e in entries.items() if k.startswith("weights.")}
    if weights:
        _check_weight_entries(design, weights, source)


def _check_weight_entries(design: Design, weights: dict[str, TensorEntry],
                          source: str) -> None:
    problems = design.network.validate()
    if not problems:
        problems = parameter_problems(design.network)
    if problems:
        lines = "\n".join(str(p) for p in problems)
        raise _fail(source, f"weights are saved for a design that cannot be built:\n{lines}")
    params, buffers = state_shapes(design.network)
    wanted = {**params, **buffers}
    precision = design.training.dtype
    found = []
    for name, entry in weights.items():
        if name not in wanted:
            found.append(f"{name}: no such parameter in this network")
        elif entry.shape != wanted[name]:
            found.append(f"{name}: shape {entry.shape} does not match the network's "
                         f"{wanted[name]}")
        elif entry.dtype.kind != "f":
            found.append(f"{name}: dtype {entry.dtype.name}, but weights must be floating "
                         f"point ({precision} for this design)")
    found += [f"{n}: missing" for n in params if n not in weights]
    if found:
        raise _fail(source, f"the weights do not match the design: {'; '.join(found)}")


def _finite_weights(design: Design, tensors: dict[str, np.ndarray],
                    source: str) -> dict[str, np.ndarray] | None:
    """The weights in the design's precision; refused if any value is not finite there
    (NaN, inf, or a float64 1e300 that overflows float32)."""
    dtype = np.dtype(design.training.dtype)
    weights = {}
    bad = []
    for key, arr in tensors.items():
        name = key[len("weights."):]
        with np.errstate(over="ignore", invalid="ignore"):
            cast = arr.astype(dtype, copy=False)
        if not np.all(np.isfinite(cast)):
            overflow = bool(np.all(np.isfinite(arr)))
            bad.append(f"{name}: contains NaN or infinite values" + (
                f" in {dtype.name} (values up to {np.max(np.abs(arr)):.3g} overflow it)"
                if overflow else ""))
        weights[name] = cast
    if bad:
        raise _fail(source, f"the weights do not match the design: {'; '.join(bad)}")
    return weights or None


def _project_from(design: Design, body: dict[str, Any], tensors: dict[str, np.ndarray],
                  source: str) -> Project:
    history = _parse_history(body.get("history", []), source)
    steps = tensors.pop("history.steps", np.zeros((0, 2)))
    optimizer = {k: tensors.pop(k) for k in list(tensors) if k.startswith(OPTIMIZER_PREFIX)}
    weights = _finite_weights(design, tensors, source)
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


def parse_project(data: bytes, source: str) -> Project:
    """Parse and fully check project bytes; ``FileFormatError`` on any problem."""
    header = decode_header(data, source)
    design, body = _parse_body(header.metadata, source)
    _check_declared(design, header, source)
    tensors = decode_tensors(header, memoryview(data)[header.data_start:], source)
    return _project_from(design, body, tensors, source)


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


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and check a project file; ``FileFormatError`` names what is wrong.

    The header is read and checked first (design, every declared weight's name, shape and
    dtype against the design, computed without building it): a small file declaring a
    huge network is refused before its tensor data is read or any weight allocated.
    """
    source = Path(path).name
    parsed: list[tuple[Design, dict[str, Any]]] = []

    def check(header: Header) -> None:
        parsed.append(_parse_body(header.metadata, source))
        _check_declared(parsed[0][0], header, source)

    tensors, _ = read_safetensors(path, MAX_FILE_BYTES, check, source)
    design, body = parsed[0]
    return _project_from(design, body, tensors, source)
