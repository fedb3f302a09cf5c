"""How two designs differ, in words: ``learning rate: 0.1 -> 1.0``,
``activation function (layers[1]): sigmoid -> relu``, ``layers: 6 -> 8``."""

from __future__ import annotations

import difflib
import json
from typing import Any

from core.design.fields import field_infos
from core.design.spec import (
    LAYER_KINDS,
    Design,
    LayerSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.records.record import dataset_label

__all__ = ["design_diff", "format_value"]


def format_value(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if v is None:
        return "none"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(format_value(x) for x in v) + "]" if v else "none"
    return str(v)


def _field_diffs(a: Any, b: Any, where: str, out: list[str]) -> None:
    """Field-by-field differences of two specs of the same class."""
    kind = getattr(type(a), "kind", "")
    for name, info in field_infos(a).items():
        va, vb = getattr(a, name), getattr(b, name)
        if va == vb:
            continue
        label = info.label.lower()
        if kind:
            label = f"{LAYER_KINDS[kind].label.lower()} {label}"
        suffix = f" ({where})" if where else ""
        out.append(f"{label}{suffix}: {format_value(va)} -> {format_value(vb)}")


def _layer_diffs(a: tuple[LayerSpec, ...], b: tuple[LayerSpec, ...], path: str,
                 out: list[str]) -> None:
    if len(a) != len(b):
        out.append(f"{path}: {len(a)} -> {len(b)}")
    keys_a = [json.dumps(x.to_dict(), sort_keys=True) for x in a]
    keys_b = [json.dumps(x.to_dict(), sort_keys=True) for x in b]
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(pairs):
            la, lb = a[i1 + k], b[j1 + k]
            where = f"{path}[{j1 + k}]"
            if la.kind != lb.kind:
                out.append(f"{where}: {la.summary()} -> {lb.summary()}")
                continue
            _field_diffs(la, lb, where, out)
            if isinstance(la, ResidualSpec) and isinstance(lb, ResidualSpec):
                _layer_diffs(la.layers, lb.layers, f"{where}.layers", out)
        for i in range(i1 + pairs, i2):
            out.append(f"removed {path}[{i}]: {a[i].summary()}")
        for j in range(j1 + pairs, j2):
            out.append(f"added {path}[{j}]: {b[j].summary()}")


def design_diff(a: Design, b: Design) -> list[str]:
    """How design ``b`` differs from ``a``, one readable line per difference, e.g.
    ``activation function (layers[1]): sigmoid -> relu``, ``learning rate: 0.1 -> 1.0``,
    ``layers: 6 -> 8``, ``dataset noise: 0.1 -> 0.3``. Layer positions are ``b``'s
    (``a``'s for removed layers). Empty when the designs train alike."""
    out: list[str] = []
    na, nb = a.network, b.network
    _field_diffs(NetworkSpec(na.inputs, (), na.default_init),
                 NetworkSpec(nb.inputs, (), nb.default_init), "", out)
    _layer_diffs(na.layers, nb.layers, "layers", out)
    ta, tb = a.training, b.training
    if isinstance(ta, TrainConfig) and isinstance(tb, TrainConfig):
        _field_diffs(ta, tb, "", out)
    da, db = a.dataset, b.dataset
    if da != db:
        if not da or not db or da.get("kind") != db.get("kind"):
            words = [f"{dataset_label(x)} ({x.dataset.get('kind', '?')})" if x.dataset
                     else "none" for x in (a, b)]
            out.append(f"dataset: {words[0]} -> {words[1]}")
        else:
            for key in dict.fromkeys([*da, *db]):
                va, vb = da.get(key), db.get(key)
                if va != vb:
                    out.append(f"dataset {key.replace('_', ' ')}: {format_value(va)} -> "
                               f"{format_value(vb)}")
    return out
