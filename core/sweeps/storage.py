"""Where a sweep's study is kept: opening an Optuna RDB storage (a local SQLite file or a
database URL) with heartbeats, one driver per local file, trials left running by a dead
driver failed and retried, and reading a study back (its design and space, its trials as
``TrialRow``s, a stop request).

A local file is written only by the one process that drives it: it holds an exclusive
lock on ``FILE.lock`` while it does, so a second window or command on the same file is
refused with words rather than meeting "database is locked". Every running trial found on
opening a local file was left by a driver that is gone (it held the lock), so it is failed
and re-enqueued at once; on a shared database a running trial belongs to a worker
elsewhere, and only Optuna's heartbeat (``fail_stale_trials``) says it has died.
"""

from __future__ import annotations

import copy
import math
import os
import re
import time
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from optuna.storages import RDBStorage, RetryFailedTrialCallback
from optuna.trial import FrozenTrial, TrialState

from core.design.spec import Design
from core.errors import StudioError
from core.storage.locks import close_quietly, lock_fd
from core.sweeps.plan import GRACE, HEARTBEAT, SweepPlan, is_url
from core.sweeps.space import Space, SpaceError, parse_space
from core.sweeps.status import SweepStatus, TrialRow

ATTR = "backprop_studio"  # the study's user attribute holding design, space and budget
STOP = "stop_requested"  # the study's user attribute a window sets to end every worker
MAX_RETRY = 3  # a trial whose worker died is tried again at most this often
_STATES = {TrialState.WAITING: "waiting", TrialState.RUNNING: "running",
           TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
           TrialState.FAIL: "fail"}


def shown(storage: str) -> str:
    """``storage`` fit to show: a URL's password hidden."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", storage)


@dataclass
class OpenStorage:
    """An open storage: Optuna's ``RDBStorage``, whether it is a local file, and the lock
    held on it (released by ``close``)."""

    rdb: RDBStorage
    where: str
    local: bool
    _lock: int | None = None

    def close(self) -> None:
        """Release the local file's lock (the storage itself needs no closing)."""
        close_quietly(self._lock)
        self._lock = None

    @contextmanager
    def ask_lock(self, study_name: str) -> Iterator[None]:
        """Held while a driver checks the budget and asks for a trial, so workers on
        several machines cannot both take the last trial of a budget: PostgreSQL's
        advisory lock, keyed by the study's name. A local file has one driver and needs
        none (nor does another database: there the budget may overshoot by a trial or
        two, as with Optuna's own ``MaxTrialsCallback``)."""
        engine = self.rdb.engine
        if self.local or engine.dialect.name != "postgresql":
            yield
            return
        key = zlib.crc32(study_name.encode("utf-8"))
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"),
                             {"key": key})

    def retry(self, study: optuna.Study, trial_id: int) -> None:
        """Fail a trial that was running and enqueue its settings again (Optuna's
        ``RetryFailedTrialCallback``, as its heartbeat does for a dead worker's trial)."""
        self.rdb.set_trial_state_values(trial_id, TrialState.FAIL)
        callback = self.rdb.failed_trial_callback
        if callback is not None:
            callback(study, copy.deepcopy(self.rdb.get_trial(trial_id)))


def _local_url(path: Path) -> str:
    if path.is_dir():
        raise SpaceError(f"the sweep storage {path} is a folder; give a file such as "
                         f"{path / 'study.sweeps.db'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpaceError(f"cannot create the folder {path.parent} for the sweep storage: "
                         f"{exc.strerror or exc}") from None
    return f"sqlite:///{path.resolve()}"


def _take_lock(path: Path) -> int:
    lock = Path(str(path) + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SpaceError(f"cannot use the sweep storage {path}: {exc.strerror or exc}") from None
    if not lock_fd(fd):
        os.close(fd)
        raise SpaceError(f"the sweep storage {path} is in use by another Backprop Studio "
                         f"window or command; wait for its sweep to end, or choose another "
                         f"storage file")
    return fd


def open_storage(storage: str, lock: bool = True) -> OpenStorage:
    """Open ``storage`` (a file path, made if missing, or a database URL) with heartbeats
    and retries of dead workers' trials. ``lock``: take the local file's lock (a driver
    does; a reader does not). ``SpaceError`` says why it cannot be used."""
    local = not is_url(storage)
    fd = None
    if local:
        path = Path(storage).expanduser()
        url = _local_url(path)
        if lock:
            fd = _take_lock(path)
        engine: dict[str, Any] = {"connect_args": {"timeout": 30}}
    else:
        url = storage
        if url.startswith("postgresql://"):  # psycopg 3 is the driver we install
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        engine = {"pool_pre_ping": True}
        if url.startswith("postgresql"):
            engine["connect_args"] = {"connect_timeout": 5}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # heartbeat options are "experimental"
            rdb = RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT,
                             grace_period=GRACE,
                             failed_trial_callback=RetryFailedTrialCallback(MAX_RETRY))
    except Exception as exc:  # SQLAlchemy's errors: unreachable, refused, no driver
        close_quietly(fd)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpaceError(f"cannot open the sweep storage {shown(storage)}: {first}") from None
    if local:
        _fast_commits(rdb)
    return OpenStorage(rdb, storage, local, fd)


def _fast_commits(rdb: RDBStorage) -> None:
    """SQLite in WAL mode with ``synchronous=NORMAL``: a commit no longer waits for the
    disk (measured: a trial's report 19 ms -> 1.2 ms, ask + tell 60-80 ms -> 22 ms,
    ``bench/sweep.py``). Safe for our one writer: a crash can lose the last commits, never
    corrupt the file; readers in other processes still see every committed trial."""
    from sqlalchemy import event

    def pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(rdb.engine, "connect", pragmas)
    rdb.engine.dispose()  # connections made while opening reconnect with the pragmas


def recover(opened: OpenStorage, study: optuna.Study) -> int:
    """Fail and retry the trials whose worker is gone; returns how many. On a local file
    (locked by this driver) that is every running trial; on a shared database those
    whose heartbeat stopped."""
    if not opened.local:
        before = len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "experimental", said once a second
            optuna.storages.fail_stale_trials(study)
        return len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,))) - before
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in running:
        opened.retry(study, t._trial_id)
    return len(running)


def budget_count(trials: list[FrozenTrial]) -> int:
    """Trials that count against the budget: complete, pruned, and failed ones that were
    not enqueued again (a retried trial counts once, as its retry)."""
    retried = {t.system_attrs.get("failed_trial") for t in trials}
    return sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED)
               or (t.state == TrialState.FAIL and t.number not in retried)
               for t in trials)


def trial_row(t: FrozenTrial, now: float | None = None) -> TrialRow:
    """One Optuna trial in our words."""
    state = _STATES.get(t.state, "fail")
    values = tuple(sorted((int(k), float(v)) for k, v in t.intermediate_values.items()))
    if t.state == TrialState.COMPLETE and t.value is not None:
        value = float(t.value)
    else:
        value = values[-1][1] if values else math.nan
    seconds = math.nan
    if t.datetime_start is not None:
        end = t.datetime_complete
        seconds = ((end - t.datetime_start).total_seconds() if end is not None
                   else (now or time.time()) - t.datetime_start.timestamp())
    attrs = t.user_attrs
    return TrialRow(t.number, dict(t.params), state, value, seconds, values,
                    attrs.get("pruned_step"), attrs.get("threshold"), attrs.get("worker", ""),
                    t.system_attrs.get("failed_trial"))


def importances(study: optuna.Study, parameters: int) -> dict[str, float]:
    """Each parameter's share of the objective's variation (Optuna's PED-ANOVA, which
    needs no scikit-learn); {} before 4 trials have completed."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 4 or parameters < 1:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.PedAnovaImportanceEvaluator())
    except (ValueError, RuntimeError, ZeroDivisionError):  # e.g. every value equal
        return {}
    return {name: float(v) for name, v in found.items() if math.isfinite(v)}


def _load(opened: OpenStorage, study_name: str) -> optuna.Study:
    try:
        return optuna.load_study(study_name=study_name, storage=opened.rdb)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened.rdb)]
        raise SpaceError(f"{shown(opened.where)} holds no study {study_name!r}"
                         + (f"; it holds {', '.join(names)}" if names else "")) from None


def _attrs(study: optuna.Study, where: str) -> dict[str, Any]:
    attrs = study.user_attrs.get(ATTR)
    if not isinstance(attrs, dict) or not {"design", "space"} <= set(attrs):
        raise SpaceError(f"the study {study.study_name!r} in {shown(where)} was not made by "
                         f"Backprop Studio (it holds no design and space)")
    return attrs


def sweep_of(study: optuna.Study, where: str) -> tuple[Design, Space, dict[str, Any]]:
    """The design, space and stored attributes of a study this program made."""
    attrs = _attrs(study, where)
    try:
        design = Design.from_dict(attrs["design"])
        space = parse_space(attrs["space"], design)
    except StudioError as exc:
        raise SpaceError(f"the study {study.study_name!r} in {shown(where)} holds a design "
                         f"or space this version cannot read: {exc}") from None
    return design, space, attrs


@dataclass(frozen=True)
class StudyInfo:
    """A study found in a storage: name, trials counting against the budget, the budget,
    the best value, and whether a stop was asked."""

    name: str
    finished: int
    budget: int | None
    best: float | None
    stop_requested: bool


def study_names(storage: str) -> list[StudyInfo]:
    """The studies this program made in ``storage`` (none if the file does not exist)."""
    if not is_url(storage) and not Path(storage).expanduser().is_file():
        return []
    opened = open_storage(storage, lock=False)
    out = []
    for summary in optuna.get_all_study_summaries(opened.rdb, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=opened.rdb)
        attrs = study.user_attrs.get(ATTR)
        if not isinstance(attrs, dict):
            continue
        trials = study.get_trials(deepcopy=False)
        complete = [t.value for t in trials if t.state == TrialState.COMPLETE]
        best = (min(complete) if study.direction.name == "MINIMIZE" else max(complete)) \
            if complete else None
        out.append(StudyInfo(summary.study_name, budget_count(trials), attrs.get("trials"),
                             best, bool(study.user_attrs.get(STOP, False))))
    return out


def load_sweep(storage: str, study_name: str) -> tuple[Design, Space, SweepPlan]:
    """The design, space and plan a study was made with (to resume it, or to join it from
    another machine); ``SpaceError`` for an unknown study or one not made here."""
    opened = open_storage(storage, lock=False)
    study = _load(opened, study_name)
    design, space, attrs = sweep_of(study, storage)
    plan = SweepPlan(space, trials=attrs.get("trials"), time_limit=attrs.get("time_limit"),
                     study_name=study_name, storage=storage)
    return design, space, plan


def request_stop(storage: str, study_name: str) -> None:
    """Ask every worker on the study to stop (they end their running trials, which are
    retried when the sweep is resumed)."""
    study = _load(open_storage(storage, lock=False), study_name)
    study.set_user_attr(STOP, True)


def read_status(storage: str, study_name: str) -> SweepStatus:
    """The study as it stands, for watching a sweep others run (no live curves)."""
    opened = open_storage(storage, lock=False)
    study = _load(opened, study_name)
    _, space, attrs = sweep_of(study, storage)
    trials = study.get_trials(deepcopy=False)
    # Waiting trials (retries of a stopped or dead worker's) run only when a worker
    # comes: on their own they do not make the study "running".
    running = any(t.state == TrialState.RUNNING for t in trials)
    budget = attrs.get("trials")
    stopping = bool(study.user_attrs.get(STOP, False))
    message = ""
    if running:
        state = "stopping" if stopping else "running"
    elif budget is not None and budget_count(trials) >= budget:
        state = "finished"
    elif stopping:
        state = "finished"
        message = "stopped before its budget; Resume Sweep continues it"
    else:
        state, message = "starting", "no trial is running: waiting for a worker"
    now = time.time()
    return SweepStatus(study_name, storage, space.objective, space.direction,
                       space.parameters, tuple(trial_row(t, now) for t in trials), (),
                       importances(study, len(space.parameters)), budget,
                       attrs.get("time_limit"), 0.0, state, message, pruner=space.pruner)
