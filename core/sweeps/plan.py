"""What a sweep is asked to do: its space, budget, workers and where its study is kept.

A local study is a SQLite file that only the one process driving it writes (Optuna's FAQ
warns against several processes writing one SQLite file: "database is locked", optuna
#820 and #4002); a shared one is a database URL (PostgreSQL or MySQL), Optuna's set-up
for a study run from many machines. No Optuna here: the window imports this to build its
form.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.storage.user_folder import user_data_folder
from core.sweeps.space import Space, SpaceError

HEARTBEAT = 2  # seconds between a running trial's heartbeats (Optuna takes whole seconds)
GRACE = 3 * HEARTBEAT  # a trial silent this long on a shared database counts as dead
SUFFIX = ".sweeps.db"
_URL = re.compile(r"^[a-z][a-z0-9+]*://")


def default_workers() -> int:
    """Parallel trials by default: one per core, leaving one for the window (at least 1)."""
    return max(1, (os.cpu_count() or 1) - 1)


def default_storage(project_path: str | Path | None) -> str:
    """Where a sweep's study is kept by default: ``<stem>.sweeps.db`` beside a saved
    project, or ``sweeps/untitled.sweeps.db`` in the user's data folder."""
    if project_path is None:
        return str(user_data_folder() / "sweeps" / f"untitled{SUFFIX}")
    path = Path(project_path)
    return str(path.with_name(path.stem + SUFFIX))


def is_url(storage: str) -> bool:
    """Whether ``storage`` is a database URL (``postgresql://…``) rather than a file."""
    return bool(_URL.match(storage))


@dataclass(frozen=True)
class SweepPlan:
    """A sweep to run: ``trials`` finished trials the study should hold (complete, pruned
    or failed; None: only the time limit counts), ``time_limit`` seconds after which no
    trial starts, ``workers`` trials trained at once, the study's name and storage (a
    file path or a database URL; "" for ``default_storage(None)``)."""

    space: Space
    trials: int | None = 20
    time_limit: float | None = None
    workers: int = field(default_factory=default_workers)
    study_name: str = "sweep"
    storage: str = ""

    @property
    def where(self) -> str:
        """The storage, with the default filled in."""
        return self.storage or default_storage(None)

    def check(self) -> None:
        """``SpaceError`` naming what cannot run: no budget, too few trials or workers,
        a grid the trials cannot cover, an empty study name."""
        if self.trials is None and self.time_limit is None:
            raise SpaceError("give a number of trials, a time limit, or both")
        if self.trials is not None and self.trials < 1:
            raise SpaceError(f"the number of trials must be at least 1, not {self.trials}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise SpaceError(f"the time limit must be more than 0 seconds, not "
                             f"{self.time_limit}")
        if self.workers < 1:
            raise SpaceError(f"at least one worker is needed, not {self.workers}")
        if not self.study_name.strip():
            raise SpaceError("the study needs a name")
        if self.trials is not None:
            self.space.check_budget(self.trials)
