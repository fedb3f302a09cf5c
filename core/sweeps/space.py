"""A sweep's search space (a SPACE.json file): which design settings vary and how, what
is optimised, and with which sampler and pruner.

The format::

    {"parameters": {"training.learning_rate": {"low": 1e-4, "high": 10, "log": true},
                    "layers[0].units": {"low": 4, "high": 64},
                    "training.optimizer": {"choices": ["sgd", "adam"]}},
     "objective": "val_loss", "sampler": "tpe", "pruner": "median"}

A name is ``training.FIELD`` or ``layers[i].FIELD`` (``layers[i].layers[j].FIELD`` inside
a residual block); it is checked against the design's field tables (``FieldInfo``), so
a sweep can only try values the design itself accepts. ``apply`` is the one way a trial's
settings go into a design. NumPy-free, Qt-free; Optuna is not imported here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.design.edit import layer_at, replace_layer
from core.design.fields import FieldInfo, field_infos, show_value
from core.design.spec import Design
from core.errors import LayerPath, StudioError

OBJECTIVES = {"val_loss": "minimize", "val_accuracy": "maximize", "r2": "maximize"}
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "median", "halving")
_LAYER_NAME = re.compile(r"layers\[(\d+)\]((?:\.layers\[\d+\])*)\.(\w+)$")


class SpaceError(StudioError):
    """A search space that cannot be used; the message names the parameter."""


@dataclass(frozen=True)
class Parameter:
    """One varied setting: a range (``low``..``high``, ``log`` spaced) or ``choices``.

    ``kind`` is ``int``, ``float`` or ``choice`` (how a sampler draws it); ``layer`` is
    the layer path for a layer field, None for ``training.FIELD``.
    """

    name: str
    field: str
    layer: LayerPath | None
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def grid_values(self) -> tuple[Any, ...]:
        """The values a grid sampler tries; only choices and integer ranges have them."""
        if self.kind == "choice":
            return self.choices
        if self.kind == "int":
            return tuple(range(int(self.low), int(self.high) + 1))
        raise SpaceError(f"{self.name}: a grid needs a list of choices or an integer range, "
                         f"not a range of numbers")


@dataclass(frozen=True)
class Space:
    """A checked search space: parameters in file order, objective, sampler, pruner."""

    parameters: tuple[Parameter, ...]
    objective: str = "val_loss"
    sampler: str = "tpe"
    pruner: str = "none"

    @property
    def direction(self) -> str:
        """``minimize`` or ``maximize``, as Optuna names it."""
        return OBJECTIVES[self.objective]

    def grid(self) -> dict[str, list[Any]]:
        """Every parameter's grid values (for the grid sampler)."""
        return {p.name: list(p.grid_values()) for p in self.parameters}

    def to_dict(self) -> dict[str, Any]:
        """The SPACE.json object of this space (``parse_space`` reads it back equal)."""
        params: dict[str, Any] = {}
        for p in self.parameters:
            if p.kind == "choice":
                params[p.name] = {"choices": list(p.choices)}
            else:
                params[p.name] = {"low": p.low, "high": p.high, "log": p.log}
        return {"parameters": params, "objective": self.objective, "sampler": self.sampler,
                "pruner": self.pruner}

    def check_budget(self, trials: int) -> None:
        """Refuse a grid that the trial budget cannot cover."""
        if self.sampler != "grid":
            return
        size = math.prod(len(v) for v in self.grid().values())
        if size > trials:
            raise SpaceError(f"the grid has {size:,} combinations but only {trials:,} "
                             f"trials; give --trials {size} or fewer values")


def _field_info(design: Design, name: str) -> tuple[FieldInfo, str, LayerPath | None]:
    """The ``FieldInfo`` of the setting ``name`` names in ``design``, its field name and
    its layer path (None for a training setting)."""
    if name.startswith("training."):
        field = name[len("training."):]
        info = field_infos(design.training).get(field)
        if info is None:
            raise SpaceError(f"{name}: unknown training setting; known: "
                             f"{', '.join(field_infos(design.training))}")
        return info, field, None
    match = _LAYER_NAME.match(name.removeprefix("network."))
    if match is None:
        raise SpaceError(f"{name}: unknown parameter; use training.SETTING or "
                         f"layers[i].SETTING")
    path = (int(match.group(1)),) + tuple(int(i) for i in re.findall(r"\d+", match.group(2)))
    field = match.group(3)
    try:
        layer = layer_at(design.network, path)
    except (IndexError, ValueError):
        raise SpaceError(f"{name}: the design has no such layer") from None
    info = field_infos(layer).get(field)
    if info is None:
        raise SpaceError(f"{name}: a {type(layer).__name__} has no setting {field!r}; known: "
                         f"{', '.join(field_infos(layer)) or 'none'}")
    return info, field, path


def _parameter(design: Design, name: Any, d: Any) -> Parameter:
    if not isinstance(name, str):
        raise SpaceError(f"parameter names must be strings, got {show_value(name)}")
    info, field, layer = _field_info(design, name)
    if not isinstance(d, dict):
        raise SpaceError(f"{name}: must be an object with low and high, or choices")
    unknown = set(d) - {"low", "high", "log", "choices"}
    if unknown:
        raise SpaceError(f"{name}: unknown key {sorted(unknown)[0]!r}; use low, high, log "
                         f"or choices")
    if "choices" in d:
        choices = d["choices"]
        if set(d) != {"choices"}:
            raise SpaceError(f"{name}: give either choices or low and high, not both")
        if not isinstance(choices, list) or not choices:
            raise SpaceError(f"{name}: choices must be a non-empty list")
        for value in choices:
            why = info.check(value)
            if why:
                raise SpaceError(f"{name}: choice {show_value(value)} {why}")
        if len(set(map(json.dumps, choices))) != len(choices):
            raise SpaceError(f"{name}: a choice is listed twice")
        return Parameter(name, field, layer, "choice", choices=tuple(choices))
    if info.type not in ("int", "float"):
        raise SpaceError(f"{name}: is a {info.type} setting; give a list of choices")
    if "low" not in d or "high" not in d:
        raise SpaceError(f"{name}: needs low and high (or choices)")
    low, high, log = d["low"], d["high"], d.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"{name}: log must be true or false")
    for key, value in (("low", low), ("high", high)):
        why = info.check(value)
        if why:
            raise SpaceError(f"{name}: {key} {why}")
    if low >= high:
        raise SpaceError(f"{name}: low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise SpaceError(f"{name}: a log range must be positive, low is {low}")
    value_low = float(low) if info.type == "float" else low
    value_high = float(high) if info.type == "float" else high
    return Parameter(name, field, layer, info.type, value_low, value_high, log)


def parse_space(d: Any, design: Design) -> Space:
    """A checked ``Space`` from a SPACE.json object, its names checked against ``design``;
    ``SpaceError`` names the first thing wrong."""
    if not isinstance(d, dict):
        raise SpaceError("the space must be a JSON object with \"parameters\"")
    unknown = set(d) - {"parameters", "objective", "sampler", "pruner"}
    if unknown:
        raise SpaceError(f"unknown key {sorted(unknown)[0]!r}; use parameters, objective, "
                         f"sampler, pruner")
    params = d.get("parameters")
    if not isinstance(params, dict) or not params:
        raise SpaceError("\"parameters\" must be an object naming at least one setting")
    space = Space(tuple(_parameter(design, name, spec) for name, spec in params.items()),
                  d.get("objective", "val_loss"), d.get("sampler", "tpe"),
                  d.get("pruner", "none"))
    for key, value, allowed in (("objective", space.objective, tuple(OBJECTIVES)),
                                ("sampler", space.sampler, SAMPLERS),
                                ("pruner", space.pruner, PRUNERS)):
        if value not in allowed:
            raise SpaceError(f"{key}: unknown {show_value(value)}; choose one of "
                             f"{', '.join(allowed)}")
    if space.sampler == "grid":
        space.grid()  # refuses a range of floats
    return space


def load_space(path: str | Path, design: Design) -> Space:
    """Read and check a SPACE.json file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpaceError(f"cannot read the space file {path}: {exc.strerror}") from None
    try:
        d = json.loads(text)
    except ValueError as exc:
        raise SpaceError(f"{Path(path).name} is not valid JSON: {exc}") from None
    return parse_space(d, design)


def apply(design: Design, params: dict[str, Any]) -> Design:
    """``design`` with a trial's ``params`` (parameter name -> value) set; pure.
    ``SpaceError`` for a name the design does not have or a value its field refuses."""
    training, network = design.training, design.network
    for name, value in params.items():
        info, field, layer = _field_info(dataclasses.replace(design, network=network), name)
        why = info.check(value)
        if why:
            raise SpaceError(f"{name}: {why}")
        if info.type == "float":
            value = float(value)
        if layer is None:
            training = dataclasses.replace(training, **{field: value})
        else:
            changed = dataclasses.replace(layer_at(network, layer), **{field: value})
            network = replace_layer(network, layer, changed)
    return dataclasses.replace(design, training=training, network=network)


def params_text(params: dict[str, Any]) -> str:
    """Short words for a trial's settings: ``learning_rate 0.01, units 16``."""
    def short(value: Any) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{name.rsplit('.', 1)[-1]} {short(v)}" for name, v in params.items())
