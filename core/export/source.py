"""What an export takes: a design and the weights to put in it.

The weights are a network's ``state_dict`` (parameters and batch-norm running
statistics, by dotted name as ``core.training.build`` lays them out). ``trained`` says
whether they come from training; an untrained design exports its seeded initial weights
only when the caller asks (``allow_initial``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.design.spec import Design
from core.engine.network import Network
from core.errors import DesignError, StudioError
from core.training.build import build_network


class ExportError(StudioError):
    """An export could not be made or written; the message says what and where."""


@dataclass(frozen=True)
class ExportSource:
    """A design with the weights to export (``trained`` False: initial weights)."""

    design: Design
    weights: dict[str, np.ndarray]
    trained: bool

    @property
    def name(self) -> str:
        """A name for files and code: the design's name or "model"."""
        return self.design.name or "model"

    def network(self, dtype: type = np.float32) -> Network:
        """Our own network with these weights, in ``dtype`` (evaluation is
        ``network.predict``)."""
        net = build_network(self.design.network, seed=self.design.training.seed, dtype=dtype)
        net.set_parameters({k: np.asarray(v, dtype=dtype) for k, v in self.weights.items()})
        return net


def source_of(design: Design, weights: dict[str, np.ndarray] | None,
              allow_initial: bool = False) -> ExportSource:
    """``design`` with ``weights`` (a trained network's ``state_dict``), or, when there
    are none and ``allow_initial``, its seeded initial weights. ``ExportError`` says so
    when there are no trained weights and initial ones were not asked for, or when the
    design cannot be built."""
    problems = design.network.validate()
    if problems:
        raise ExportError("the design cannot be exported: " + str(DesignError(problems)))
    if weights is None:
        if not allow_initial:
            raise ExportError("the design has no trained weights yet; train it first, or "
                              "export its initial (untrained) weights")
        net = build_network(design.network, seed=design.training.seed)
        return ExportSource(design, net.state_dict(), trained=False)
    return ExportSource(design, {k: np.asarray(v) for k, v in weights.items()}, trained=True)


def load_source(path: str | os.PathLike[str], allow_initial: bool = False) -> ExportSource:
    """An ``ExportSource`` from a project (``.bpsproj``: its trained weights) or a design
    file (``.json``: initial weights, with ``allow_initial``)."""
    from core.files.design_file import load_design
    from core.files.project import load_project

    p = Path(path)
    if p.suffix.lower() == ".bpsproj":
        project = load_project(p)
        return source_of(project.design, project.weights, allow_initial)
    return source_of(load_design(p), None, allow_initial)
