"""The field machinery of the design: each editable setting's ``FieldInfo`` (label,
range, choices, help), the check of one value against it, and parsing a JSON object into
a spec class field by field.

One table per spec class (``field_infos``) drives ``from_dict``, ``validate()`` and the
window's editors, so a range or a choice is written once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import HugeNumber, LayerPath, Problem


@dataclass(frozen=True)
class FieldInfo:
    """How one design field is shown, edited and checked.

    ``type`` is one of ``int``, ``float``, ``bool``, ``str``, ``choice``; ``choices``
    returns the table of allowed names for a ``choice``. ``minimum``/``maximum`` bound
    numbers (``exclusive_min`` makes the minimum itself invalid). ``log`` suggests a
    logarithmic editor (learning rates).
    """

    label: str
    help: str
    type: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_min: bool = False
    choices: Callable[[], Mapping[str, Any]] | None = None
    log: bool = False
    allow_zero: bool = False  # with exclusive_min: 0 means "off" and is allowed

    def check(self, value: Any) -> str | None:
        """Return why ``value`` is not acceptable for this field, or None."""
        t = self.type
        if t == "bool":
            if not isinstance(value, bool):
                return f"must be true or false, got {show_value(value)}"
            return None
        if isinstance(value, HugeNumber) and t in ("int", "float"):
            return f"must be {_range_words(self)}, got {value!r}"
        if t == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            return f"must be an integer, got {show_value(value)}"
        if t == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"must be a number, got {show_value(value)}"
        if t in ("str", "choice") and not isinstance(value, str):
            return f"must be a string, got {show_value(value)}"
        if t == "choice" and self.choices is not None:
            names = self.choices()
            if value not in names:
                return f"unknown choice {show_value(value)}; choose one of {', '.join(names)}"
        if t in ("int", "float"):
            if t == "float" and not _finite(value):
                return f"must be a finite number, got {value}"
            if self.allow_zero and value == 0:
                return None
            lo, hi = self.minimum, self.maximum
            if lo is not None and (value < lo or (self.exclusive_min and value == lo)):
                return f"must be {_range_words(self)}, got {value}"
            if hi is not None and value > hi:
                return f"must be {_range_words(self)}, got {value}"
        return None


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float (JSON allows 4300 digits)
        return False


def show_value(value: Any) -> str:
    if isinstance(value, str):  # a file may hold megabytes where a name belongs
        return repr(value) if len(value) <= 60 else \
            f"{value[:40]!r}… ({len(value):,} characters)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _range_words(info: FieldInfo) -> str:
    lo, hi = info.minimum, info.maximum
    noun = "an integer" if info.type == "int" else "a number"
    if info.type == "int" and lo == 1 and hi is None:
        return "a positive integer"
    parts = []
    if lo is not None:
        parts.append(f"{'>' if info.exclusive_min else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"<= {hi:g}")
    words = f"{noun} {' and '.join(parts)}"
    if info.allow_zero:
        words += " (or 0 for off)"
    return words


def setting(default: Any, info: FieldInfo) -> Any:
    """A dataclass field holding a setting with its ``FieldInfo``."""
    return field(default=default, metadata={"info": info})


def field_infos(cls_or_obj: Any) -> dict[str, FieldInfo]:
    """The ``FieldInfo`` of every editable field of a spec class, in declaration order."""
    return {
        f.name: f.metadata["info"] for f in dataclasses.fields(cls_or_obj) if "info" in f.metadata
    }


def parse_fields(cls: type, d: Any, path: str, problems: list[Problem],
                 skip: tuple[str, ...] = ("kind",), layer: LayerPath | None = None) -> Any:
    """An instance of the spec class ``cls`` from the object ``d``, or None with every
    unknown key and bad value added to ``problems`` (located under ``path``, and at
    ``layer`` for a layer of a network; keys in ``skip`` and fields without a
    ``FieldInfo`` are left to the caller)."""
    if not isinstance(d, dict):
        problems.append(Problem(path, f"must be an object, got {show_value(d)}", layer))
        return None
    infos = field_infos(cls)
    extra = {f.name for f in dataclasses.fields(cls)} - set(infos)
    values: dict[str, Any] = {}
    ok = True
    for key, value in d.items():
        if key in skip or key in extra:
            continue
        info = infos.get(key)
        if info is None:
            problems.append(Problem(f"{path}.{key}", f"unknown setting; known: "
                                    f"{', '.join(infos)}", layer, key))
            ok = False
            continue
        why = info.check(value)
        if why:
            problems.append(Problem(f"{path}.{key}", why, layer, key))
            ok = False
        else:
            values[key] = float(value) if info.type == "float" else value
    return cls(**values) if ok else None
