"""The sweep driver: the one process that drives a study with Optuna's ask-and-tell
interface while worker processes train its trials.

Each worker is a ``core.training.process.TrainingProcess``, the window's own seam to a
training child; the driver starts a trial in a free worker, takes the child's progress
batches, records them with the one ``RunRecorder``, reports each epoch's objective to the
trial (so a pruner can stop it: the driver then sends "stop"), and tells Optuna the
outcome. Workers only train and report through their pipes; only the driver writes the
storage. ``in_process=True`` trains each trial in the driver's own process with
``run_session`` instead (lessons' headless checks, small tests). A trial's value is its
last epoch's objective: what its trained weights give.

The driver runs on one thread (the CLI's main thread, or a thread of the window); other
threads read ``status()`` and ``take_results()`` and call ``stop()``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import optuna
from optuna.trial import TrialState

from core.datasets.dataset import Dataset
from core.datasets.source import DatasetSource
from core.design.spec import Design
from core.records.record import RunRecord
from core.records.recorder import RunRecorder
from core.records.snapshots import EpochSnapshot, RunEnd
from core.sweeps.plan import HEARTBEAT, SweepPlan
from core.sweeps.space import Space, SpaceError, apply, params_text
from core.sweeps.status import LiveTrial, SweepStatus, TrialRow
from core.sweeps.storage import (
    STOP,
    OpenStorage,
    budget_count,
    importances,
    open_storage,
    recover,
    trial_row,
)
from core.sweeps.study import check_task, grid_size, open_study, suggest
from core.sweeps.thresholds import prune_threshold
from core.training.process import TrainingProcess
from core.training.run_progress import RunProgress
from core.training.session import run_session
from core.training.trainer import Trainer, TrainingControl

POLL = 0.02  # seconds between the driver's passes over its workers
REFRESH = 0.5  # seconds between re-reading the study's trials (other machines add some)


@dataclass(frozen=True)
class TrialResult:
    """One trial this driver finished: Optuna's number, settings, objective (the last
    epoch's; NaN if none), state (``complete``, ``pruned``, ``fail``), seconds, and its
    run record (None when it never trained)."""

    number: int
    params: dict[str, Any]
    value: float
    state: str
    seconds: float
    record: RunRecord | None = field(default=None, repr=False)


def objective_of(snap: EpochSnapshot, objective: str) -> float:
    """An epoch's objective; without a validation split the training set's stands in."""
    if objective == "val_loss":
        return snap.val_loss if not math.isnan(snap.val_loss) else snap.train_loss
    return snap.val_metric if not math.isnan(snap.val_metric) else snap.train_metric


REPORTS = 16  # at most about this many objective values of a trial go to the storage


def report_every(epochs: int) -> int:
    """Report every k-th epoch's objective to the storage: one report costs a database
    write (about 1 ms on SQLite in WAL mode, 20 ms with a sync per commit), so a trial of
    many short epochs reports about ``REPORTS`` of them. Trials of the same length report
    the same epochs, so a pruner compares them at equal steps."""
    return max(1, math.ceil(epochs / REPORTS))


class _Trial:
    """One trial as it trains: its recorder, reported values and prune decision."""

    def __init__(self, study: optuna.Study, trial: optuna.Trial, params: dict[str, Any],
                 design: Design, worker: str) -> None:
        self.study, self.trial, self.params, self.design = study, trial, params, design
        self.worker = worker
        self.recorder: RunRecorder | None = None
        self.values: list[tuple[int, float]] = []
        self.pruned_step: int | None = None
        self.pruned_at: datetime | None = None  # when the pruner decided (thresholds)
        self.interrupted = False  # ended by a stop: retried when the sweep resumes
        self.every = report_every(design.training.epochs)
        self.prunes = True  # the driver says whether the space has a pruner
        self.started, self.t0 = datetime.now(), time.perf_counter()
        trial.set_user_attr("worker", worker)

    def feed(self, item, objective: str, layer_names: tuple[str, ...] = ()) -> bool:
        """Record a snapshot or a ``ProgressBatch``; True when the pruner says stop."""
        if self.recorder is None:
            self.recorder = RunRecorder(getattr(item, "layer_names", layer_names))
        self.recorder.add(item)
        snaps = [item] if isinstance(item, EpochSnapshot) else \
            getattr(item, "epoch_snapshots", [])
        for snap in snaps:
            value = objective_of(snap, objective)
            if not math.isfinite(value) or self.pruned_step is not None or self.interrupted:
                continue  # an ended trial reports no more (each report is a write)
            self.values.append((snap.epoch, value))
            if snap.epoch % self.every:
                continue
            self.trial.report(value, snap.epoch)
            # Asking costs a storage read (about 10 ms on SQLite): only with a pruner.
            if self.prunes and self.trial.should_prune():
                self.pruned_step, self.pruned_at = snap.epoch, datetime.now()
                return True
        return False

    def live(self) -> LiveTrial | None:
        if self.recorder is None:
            return None
        loss, grads = self.recorder.curves()
        return LiveTrial(self.trial.number, self.params, self.recorder.layer_names, loss,
                         grads)

    def finish(self, end: RunEnd | None, error: str, opened: OpenStorage,
               space: Space, study_name: str) -> TrialResult:
        """Tell Optuna how the trial ended and make its run record."""
        seconds = time.perf_counter() - self.t0
        value = self.values[-1][1] if self.values else math.nan
        number = self.trial.number
        record = None
        if self.recorder is not None and not error:
            name = f"Sweep {study_name} #{number}: {params_text(self.params)}"
            record = dataclasses.replace(
                self.recorder.finish(end, self.design, self.started, seconds, name=name),
                sweep=study_name, trial=number)
        if self.interrupted:
            opened.retry(self.study, self.trial._trial_id)
            return TrialResult(number, self.params, math.nan, "fail", seconds, None)
        if self.pruned_step is not None:
            threshold = prune_threshold(self.study, number, self.pruned_step, space,
                                        at=self.pruned_at)
            self.trial.set_user_attr("pruned_step", self.pruned_step)
            if threshold is not None:
                self.trial.set_user_attr("threshold", threshold)
            if record is not None:  # the run says it was pruned, not stopped by a user
                record = dataclasses.replace(record, end_reason="pruned", end_message=(
                    f"Pruned by the sweep at epoch {self.pruned_step}: {space.objective} "
                    f"{value:.4g}" + (f" against the pruner's threshold {threshold:.4g}"
                                      if threshold is not None else "") + "."))
            self.study.tell(self.trial, state=TrialState.PRUNED)
            return TrialResult(number, self.params, value, "pruned", seconds, record)
        if error or end is None or end.reason == "diverged" or math.isnan(value):
            why = error or (end.message if end is not None else "it did not finish")
            self.trial.set_user_attr("why", why[:500])
            self.study.tell(self.trial, state=TrialState.FAIL)
            return TrialResult(number, self.params, value, "fail", seconds, record)
        self.study.tell(self.trial, value)
        return TrialResult(number, self.params, value, "complete", seconds, record)


class _InlineFeed:
    """A run consumer for a trial trained in the driver's process: stops the run when
    the pruner or the user says so."""

    def __init__(self, trial: _Trial, objective: str, control: TrainingControl,
                 stop: threading.Event) -> None:
        self.trial, self.objective, self.control, self.stop = trial, objective, control, stop

    def add(self, snap) -> None:
        if self.trial.feed(snap, self.objective) or self.stop.is_set():
            self.control.stop()


class _Slot:
    """A worker: a training child process and the trial it trains (if any)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.process = TrainingProcess()
        self.trial: _Trial | None = None
        self.progress: RunProgress | None = None


class SweepDriver:
    """Drives one study to its budget (see the module's docstring). ``design`` is already
    fitted to its data; ``data`` is a ``DatasetSource`` the workers load (or a dataset,
    sent whole). ``on_result`` is called on the driver's thread as each trial ends;
    without it results wait for ``take_results``. ``clear_stop``: forget an earlier stop
    request of the study (a window or command starting or resuming it does; a worker
    joining from another machine does not). ``worker_name``: how this driver's workers
    are named in the trial table (default: ``worker N``); ``task``: the task of data
    given as a ``DatasetSource``."""

    def __init__(self, design: Design, data: Dataset | DatasetSource, plan: SweepPlan,
                 *, in_process: bool = False,
                 on_result: Callable[[TrialResult], None] | None = None,
                 clear_stop: bool = True, worker_name: str = "",
                 task: str = "") -> None:
        plan.check()
        # The dataset's task, to refuse an objective it cannot give before any trial.
        self.task = data.task if isinstance(data, Dataset) else task
        self.design, self.data, self.plan = design, data, plan
        self.in_process, self.on_result, self.clear_stop = in_process, on_result, clear_stop
        self.worker_name = worker_name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._results: list[TrialResult] = []
        self._slots: list[_Slot] = []
        self._rows: tuple[TrialRow, ...] = ()
        self._importances: dict[str, float] = {}
        self._complete_seen = -1
        self._state, self._message = "starting", ""
        self._t0 = time.monotonic()
        self._full_until = 0.0
        # A grid is covered once: more trials would only repeat its points.
        sizes = [n for n in (plan.trials, grid_size(plan.space)) if n is not None]
        self._budget = min(sizes) if sizes else None
        self._status = self._make_status(())
        self.study: optuna.Study | None = None

    # ------------------------------------------------------------ other threads
    def stop(self) -> None:
        """Start no more trials and end the running ones (retried when resumed)."""
        self._stop.set()

    def status(self) -> SweepStatus:
        """The sweep as it stands (refreshed by the driver about every ``POLL``)."""
        with self._lock:
            return self._status

    def take_results(self) -> list[TrialResult]:
        """Trials finished since the last call (only without ``on_result``)."""
        with self._lock:
            results, self._results = self._results, []
        return results

    # ------------------------------------------------------------ the driver thread
    def run(self) -> None:
        """Drive the study until its budget is met, the time limit passes or ``stop``.
        ``SpaceError``: the space does not fit the data, or the storage cannot be used
        (the status then says so)."""
        opened: OpenStorage | None = None
        try:
            if self.task:
                check_task(self.plan.space, self.task)
            opened = open_storage(self.plan.where)
            study = open_study(opened, self.design, self.plan, self.clear_stop)
            if not self.clear_stop:
                # A worker joining a shared study: seeded as the others, it would draw
                # the very settings they draw.
                study.sampler.reseed_rng()
            self.study = study
            retried = recover(opened, study)
            self._message = (f"{retried} trial(s) left running earlier will be tried again"
                             if retried else "")
            self._state = "running"
            self._t0 = time.monotonic()
            self._loop(study, opened)
            self._state = "finished"
        except SpaceError as exc:
            self._state, self._message = "failed", str(exc)
            raise
        except BaseException as exc:
            self._state = "failed"
            self._message = f"the sweep stopped: {exc!r}"
            raise
        finally:
            self.close()
            if opened is not None:
                if self.study is not None:
                    self._refresh(self.study, force=True)
                opened.close()
            self._publish()

    def _out_of_time(self) -> bool:
        return self.plan.time_limit is not None and \
            time.monotonic() - self._t0 >= self.plan.time_limit

    def _budget_left(self, study: optuna.Study) -> bool:
        if self._stop.is_set() or self._out_of_time():
            return False
        budget = self._budget
        if budget is None:
            return True
        now = time.monotonic()
        if now < self._full_until:  # asked a moment ago: the study was full
            return False
        trials = study.get_trials(deepcopy=False)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        if budget_count(trials) + running < budget:
            return True
        # Full for now (a trial elsewhere may still fail and be retried): look again
        # later rather than reading the storage on every pass.
        self._full_until = now + REFRESH
        return False

    def _loop(self, study: optuna.Study, opened: OpenStorage) -> None:
        workers = 1 if self.in_process else self.plan.workers
        self._slots = [_Slot(i) for i in range(workers)] if not self.in_process else []
        last_beat = last_check = 0.0
        while True:
            now = time.monotonic()
            if now - last_check >= 1.0:
                last_check = now
                if study.user_attrs.get(STOP):
                    self._stop.set()
                if not opened.local:  # other machines' trials whose heartbeat stopped
                    recover(opened, study)
            if self._stop.is_set():
                self._state = "stopping"
                for slot in self._slots:
                    if slot.trial is not None and not slot.trial.interrupted:
                        slot.trial.interrupted = True
                        slot.process.send(("stop",))
            if self.in_process:
                if not self._budget_left(study):
                    return
                self._run_inline(study, opened)
                self._refresh(study, force=True)
                continue
            if now - last_beat >= HEARTBEAT / 2:
                last_beat = now
                for slot in self._slots:
                    if slot.trial is not None:
                        opened.rdb.record_heartbeat(slot.trial.trial._trial_id)
            busy = False
            for slot in self._slots:
                if slot.trial is not None:
                    self._poll(slot, opened)
                if slot.trial is None and self._budget_left(study):
                    self._start(slot, study, opened)
                busy = busy or slot.trial is not None
            self._refresh(study)
            if not busy and not self._others_running(study, opened):
                return
            time.sleep(POLL if busy else REFRESH)

    def _others_running(self, study: optuna.Study, opened: OpenStorage) -> bool:
        """Whether an idle driver on a shared database waits on: a trial another machine
        trains may yet die, and then this one retries it (the heartbeat check above
        fails it and queues it again), so it stays while any runs, unless stopped or out
        of time."""
        if opened.local or self._stop.is_set() or self._out_of_time():
            return False
        return bool(study.get_trials(deepcopy=False,
                                     states=(TrialState.RUNNING, TrialState.WAITING)))

    def _new_trial(self, study: optuna.Study, opened: OpenStorage,
                   worker: str) -> _Trial | None:
        """A new trial, or None when the budget has no room left. The check and the ask
        are one step for every machine on the study (``ask_lock``), so two workers
        cannot both take the budget's last trial."""
        with opened.ask_lock(self.plan.study_name), warnings.catch_warnings():
            if not self._budget_left(study):
                return None
            # "Heartbeat ... supposed to be used with Study.optimize": ask-and-tell is
            # deliberate here, and the driver records the heartbeats itself.
            warnings.simplefilter("ignore", UserWarning)
            trial = study.ask()
            if not opened.local and not self.in_process:
                # At once: a running trial with no heartbeat yet is never found stale, so
                # a machine dying before its first beat would leave it running for good.
                # (A trial trained in this process gets no beats while it trains.)
                opened.rdb.record_heartbeat(trial._trial_id)
        params = suggest(trial, self.plan.space)
        made = _Trial(study, trial, params, apply(self.design, params), worker)
        made.prunes = self.plan.space.pruner != "none"
        return made

    def _worker(self, index: int) -> str:
        prefix = self.worker_name or ""
        return f"{prefix}worker {index + 1}" if prefix == "" else f"{prefix} {index + 1}"

    def _start(self, slot: _Slot, study: optuna.Study, opened: OpenStorage) -> None:
        trial = self._new_trial(study, opened, self._worker(slot.index))
        if trial is None:
            return
        try:
            slot.progress = slot.process.start_run(trial.design, self.data, views=False)
        except OSError as exc:
            trial.study.tell(trial.trial, state=TrialState.FAIL)
            raise SpaceError(f"a training process could not start: {exc}") from None
        slot.trial = trial

    def _poll(self, slot: _Slot, opened: OpenStorage) -> None:
        trial, progress = slot.trial, slot.progress
        assert trial is not None and progress is not None
        done = progress.done.is_set()  # read first: nothing arrives after it is set
        batch = progress.take_batch()
        if batch is not None and trial.feed(batch, self.plan.space.objective):
            slot.process.send(("stop",))
        if done:
            slot.trial = slot.progress = None
            self._finished(trial.finish(progress.end, progress.error, opened,
                                        self.plan.space, self.plan.study_name))

    def _run_inline(self, study: optuna.Study, opened: OpenStorage) -> None:
        trial = self._new_trial(study, opened, self._worker(0))
        if trial is None:
            return
        control = TrainingControl()
        objective = self.plan.space.objective
        data = self.data.load() if isinstance(self.data, DatasetSource) else self.data
        error, end = "", None
        try:
            trainer = Trainer(trial.design, data)
        except Exception as exc:  # a design the space made invalid: this trial fails
            error = str(exc)
        else:
            trial.recorder = RunRecorder(trainer.layer_names)
            end = run_session(trainer, _InlineFeed(trial, objective, control, self._stop),
                              control=control)
            if self._stop.is_set():
                trial.interrupted = True
        self._finished(trial.finish(end, error, opened, self.plan.space,
                                    self.plan.study_name))

    def _finished(self, result: TrialResult) -> None:
        if self.on_result is not None:
            self.on_result(result)
        else:
            with self._lock:
                self._results.append(result)

    def _refresh(self, study: optuna.Study, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - getattr(self, "_read_at", 0.0) < REFRESH:
            self._publish()
            return
        self._read_at = now
        trials = study.get_trials(deepcopy=False)
        wall = time.time()
        self._rows = tuple(trial_row(t, wall) for t in trials)
        complete = sum(t.state == TrialState.COMPLETE for t in trials)
        if complete != self._complete_seen:
            self._complete_seen = complete
            self._importances = importances(study, len(self.plan.space.parameters))
        self._publish()

    def _publish(self) -> None:
        live = tuple(x for s in self._slots if s.trial is not None
                     for x in [s.trial.live()] if x is not None)
        status = self._make_status(live)
        with self._lock:
            self._status = status

    def _make_status(self, live: tuple[LiveTrial, ...]) -> SweepStatus:
        space = self.plan.space
        return SweepStatus(self.plan.study_name, self.plan.where, space.objective,
                           space.direction, space.parameters, self._rows, live,
                           dict(self._importances), self.plan.trials, self.plan.time_limit,
                           time.monotonic() - self._t0, self._state, self._message,
                           pruner=space.pruner)

    def close(self) -> None:
        """End the worker processes (running trials were told or are left running, and
        a later resume retries them)."""
        for slot in self._slots:
            slot.process.close(timeout=2.0)


def host_worker_name() -> str:
    """How a worker on another machine names itself: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"
