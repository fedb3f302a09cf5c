"""How two designs differ: ``design_changes`` lists each difference as a ``Change``;
``design_diff`` words them, ``learning rate: 0.1 -> 1.0``,
``activation function (layers[1]): sigmoid -> relu``, ``layers: 6 -> 8``; the short run
names (``core.records.run_names``) are built from the same list."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
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

__all__ = ["Change", "design_changes", "design_diff", "format_value"]


@dataclass(frozen=True)
class Change:
    """One difference between two designs.

    ``kind``: "field" (a setting: ``label`` e.g. "learning rate", ``layer`` the layer
    kind's label for a layer's field, e.g. "dropout"), "count" (a layer list's length),
    "layer" (a layer replaced by another kind), "removed"/"added" (a layer; ``old``/``new``
    its summary, e.g. "Dropout 0.2"), "dataset" (another dataset) or "data" (one dataset
    option, ``label`` its key). ``where``: the layer's position (``layers[1]``), or "".
    """

    kind: str
    label: str
    old: Any
    new: Any
    where: str = ""
    layer: str = ""

    def words(self) -> str:
        """The change as ``design_diff`` words it."""
        if self.kind == "field":
            label = f"{self.layer} {self.label}" if self.layer else self.label
            suffix = f" ({self.where})" if self.where else ""
            return f"{label}{suffix}: {format_value(self.old)} -> {format_value(self.new)}"
        if self.kind in ("count", "layer"):
            return f"{self.where}: {self.old} -> {self.new}"
        if self.kind == "removed":
            return f"removed {self.where}: {self.old}"
        if self.kind == "added":
            return f"added {self.where}: {self.new}"
        if self.kind == "dataset":
            return f"dataset: {self.old} -> {self.new}"
        return f"dataset {self.label}: {format_value(self.old)} -> {format_value(self.new)}"


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


def _field_diffs(a: Any, b: Any, where: str, out: list[Change]) -> None:
    """Field-by-field differences of two specs of the same class."""
    kind = getattr(type(a), "kind", "")
    layer = LAYER_KINDS[kind].label.lower() if kind else ""
    for name, info in field_infos(a).items():
        va, vb = getattr(a, name), getattr(b, name)
        if va != vb:
            out.append(Change("field", info.label.lower(), va, vb, where, layer))


def _layer_diffs(a: tuple[LayerSpec, ...], b: tuple[LayerSpec, ...], path: str,
                 out: list[Change]) -> None:
    if len(a) != len(b):
        out.append(Change("count", path, len(a), len(b), path))
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
                out.append(Change("layer", la.kind, la.summary(), lb.summary(), where))
                continue
            _field_diffs(la, lb, where, out)
            if isinstance(la, ResidualSpec) and isinstance(lb, ResidualSpec):
                _layer_diffs(la.layers, lb.layers, f"{where}.layers", out)
        for i in range(i1 + pairs, i2):
            out.append(Change("removed", a[i].kind, a[i].summary(), None, f"{path}[{i}]"))
        for j in range(j1 + pairs, j2):
            out.append(Change("added", b[j].kind, None, b[j].summary(), f"{path}[{j}]"))


def design_diff(a: Design, b: Design) -> list[str]:
    """How design ``b`` differs from ``a``, one readable line per difference, e.g.
    ``activation function (layers[1]): sigmoid -> relu``, ``learning rate: 0.1 -> 1.0``,
    ``layers: 6 -> 8``, ``dataset noise: 0.1 -> 0.3``. Layer positions are ``b``'s
    (``a``'s for removed layers). Empty when the designs train alike."""
    return [change.words() for change in design_changes(a, b)]


def design_changes(a: Design, b: Design) -> list[Change]:
    """How design ``b`` differs from ``a``: network settings, then layers, training
    settings and the dataset, each as a ``Change``."""
    out: list[Change] = []
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
            out.append(Change("dataset", "dataset", words[0], words[1]))
        else:
            for key in dict.fromkeys([*da, *db]):
                va, vb = da.get(key), db.get(key)
                if va != vb:
                    out.append(Change("data", key.replace("_", " "), va, vb))
    return out
