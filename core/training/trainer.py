"""The trainer: mini-batch training as a stream of small immutable snapshots.

``Trainer.run(control)`` is a generator: it yields a ``StepSnapshot`` after every step, an
``EpochSnapshot`` after every epoch, a ``RunWarning`` when the loss blows up under the
``blow_up="warn"`` setting (see ``core.engine.blowup``), and one ``RunEnd`` last; between steps
it obeys a
``TrainingControl`` (stop, pause, single step, new settings, re-initialise) that another
thread may drive. Snapshots (``core.records.snapshots``, re-exported here) hold Python
floats and tuples, never live arrays, so they can cross threads and be kept. Each step is
``core.training.step.TrainStep.run``; the trainer owns what a failed step means (the
run ends as diverged, with the layer and what to try) and the blow-up rule. Code that
consumes a run iterates it through ``core.training.session.run_session``. The same
design, data and seed give bit-identical numbers in the window and on the command line:
both run this code.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from core.design.limits import size_problems
from core.design.spec import Design, TrainConfig
from core.engine.blowup import START_ROWS, BlowUpWatch
from core.engine.network import Network
from core.engine.schedules import SCHEDULES
from core.errors import DesignError
from core.records.snapshots import EpochSnapshot, RunEnd, RunWarning, Snapshot, StepSnapshot
from core.training.build import build_network
from core.training.misclassified import Misclassified, misclassified
from core.training.shuffle import epoch_order, shuffle_generator
from core.training.step import TrainStep
from core.training.targets import accuracy, confusion_matrix, encode_targets, r2_score
from core.training.train_state import TrainState
from core.words import plural

EVAL_CHUNK = 4096
# Image layers keep their outputs and im2col columns per batch size (about 200 kB per
# 28x28 sample in a LeNet-style net): an image network evaluates in chunks whose layer
# outputs hold about this many values (at least 64 rows), so evaluating beside training
# costs tens of MB, not a GB (bench/conv_memory.py).
EVAL_IMAGE_VALUES = 1 << 20


def evaluation_rows(network: Network) -> int:
    """Rows per evaluation forward pass: ``EVAL_CHUNK``, fewer for image networks."""
    if not network.input_shape:
        return EVAL_CHUNK
    per_row = sum(layer.n_out for layer in network.all_layers())
    return max(64, min(EVAL_CHUNK, EVAL_IMAGE_VALUES // max(per_row, 1)))
# Settings a live run cannot change: they need a new run (a new network or optimizer).
FIXED_SETTINGS = ("loss", "optimizer", "dtype", "seed", "batch_size")
DIVERGENCE_HINT = ("Try a lower learning rate, gradient clipping (clip norm), batch "
                   "normalisation, or a smaller initial gain.")


class DatasetLike(Protocol):
    """What the trainer needs of a dataset (see ``core.datasets.Dataset``)."""

    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @property
    def n_classes(self) -> int: ...


# ----------------------------------------------------------------------- control


class TrainingControl:
    """Thread-safe commands for a running ``Trainer``, checked between steps.

    ``pause()`` blocks the trainer before its next step until ``resume()``, ``step()`` or
    ``stop()``; ``step(n)`` lets exactly ``n`` more steps run, then pauses again.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._stop = False
        self._paused = False
        self._budget = 0  # steps allowed while paused
        self._config: TrainConfig | None = None
        self._reinit = False
        # Called (on the trainer's thread) just before it blocks while paused, so a
        # viewer can deliver the steps it has gathered before the wait.
        self.before_wait: Callable[[], None] | None = None
        # Called (on the trainer's thread, between steps) once after each
        # request_state(), e.g. to send Trainer.state() to a window that saves the run.
        self.state_hook: Callable[[], None] | None = None
        self._state_wanted = False

    def request_state(self) -> None:
        """Ask for one call of ``state_hook`` before the next step (also when paused)."""
        with self._cond:
            self._state_wanted = True
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._budget = 0

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        with self._cond:
            self._paused = True
            self._budget += n
            self._cond.notify_all()

    def set_config(self, config: TrainConfig) -> None:
        """New settings, taken at the next step (see ``Trainer.apply_config``)."""
        with self._cond:
            self._config = config
            self._cond.notify_all()

    def reinitialise(self) -> None:
        """Draw the initial weights again from the seed and start over at step 0."""
        with self._cond:
            self._reinit = True
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stop

    @property
    def paused(self) -> bool:
        return self._paused

    def wait_turn(self) -> tuple[bool, bool, TrainConfig | None, bool]:
        """Called by the trainer before every step. Blocks while paused with no step
        budget and nothing to apply. Returns (go on?, run a step now?, new config or
        None, re-initialise?); with "run a step" false the trainer applies what it got
        and asks again."""
        if self._state_wanted and self.state_hook is not None:
            self._state_wanted = False
            self.state_hook()
        hook = self.before_wait
        if hook is not None and self._paused and self._budget == 0:
            hook()
        with self._cond:
            while (self._paused and self._budget == 0 and not self._stop
                   and not self._reinit and self._config is None
                   and not (self._state_wanted and self.state_hook is not None)):
                self._cond.wait()
            cfg, self._config = self._config, None
            reinit, self._reinit = self._reinit, False
            if self._stop:
                return False, False, cfg, reinit
            if not self._paused:
                return True, True, cfg, reinit
            if self._budget > 0:
                self._budget -= 1
                return True, True, cfg, reinit
            return True, False, cfg, reinit


# ----------------------------------------------------------------------- trainer


def resume_offset(state: TrainState, config: TrainConfig) -> int:
    """Epochs a run continued from ``state`` counts from: 0 while the state has epochs
    of ``config.epochs`` left (it trains to ``config.epochs``), else the state's epoch
    (it trains ``config.epochs`` more)."""
    return state.epoch if state.position == 0 and state.epoch >= config.epochs else 0


@dataclass
class _Best:
    loss: float = math.inf
    epoch: int = -1
    state: dict[str, np.ndarray] = field(default_factory=dict)


class Trainer:
    """Trains ``design`` on ``dataset``; ``run()`` yields snapshots.

    ``detail_every`` records per-layer gradient/weight norms and update ratios every
    that many steps (1: every step); other steps carry the loss only, which keeps the
    per-step cost of tiny networks down when a window shows a decimated history anyway.

    ``resume`` continues a run from a ``TrainState`` (``Trainer.state()``, or one read
    from a project file): its weights, optimizer state, counters and random streams, so
    the steps that follow are those the original run would have taken. A resumed run
    trains until epoch ``epochs``; if the state has already reached it, ``epochs`` more
    (``epoch_offset`` is then the state's epoch, and schedules count from there).
    """

    def __init__(self, design: Design, dataset: DatasetLike, detail_every: int = 1,
                 resume: TrainState | None = None) -> None:
        problems = design.validate(task=dataset.task)
        if not problems:  # the size caps, before anything is allocated
            problems = size_problems(design, max(len(dataset.x_train), len(dataset.x_val)))
        if problems:
            raise DesignError(problems)
        self.design = design
        self.config = design.training
        cfg = self.config
        self.dtype = np.dtype(cfg.dtype)
        # Values that overflow in this precision (a 1e39 target in float32) are refused by
        # line and column before anything is built (deferred: the datasets package is large).
        from core.datasets.cells import check_precision

        check_precision(dataset, self.dtype)
        self.network: Network = build_network(design.network, seed=cfg.seed, dtype=self.dtype)
        self.dataset = dataset
        n_features = dataset.x_train.shape[1]
        if n_features != design.network.inputs:
            raise DesignError(f"network.inputs: the dataset has {n_features} input features "
                              f"but the network expects {design.network.inputs}")
        self.stepper = TrainStep(self.network, cfg)
        loss = self.stepper.loss
        n_classes = dataset.n_classes if dataset.task == "classification" else 0
        outputs = self.network.outputs
        dense = [i for i, spec in enumerate(design.network.layers) if spec.kind == "dense"]
        layer = f"network.layers[{dense[-1]}].units" if dense else "network.layers"
        self.X = np.ascontiguousarray(dataset.x_train, dtype=self.dtype)
        self.Y = encode_targets(dataset.y_train, dataset.task, n_classes, outputs, loss,
                                self.dtype, layer)
        self.Xv = np.ascontiguousarray(dataset.x_val, dtype=self.dtype)
        self.Yv = encode_targets(dataset.y_val, dataset.task, n_classes, outputs, loss,
                                 self.dtype, layer)
        if self.X.shape[0] == 0:
            raise DesignError("dataset: the training split is empty")
        # Shifts and flips of image training batches, if the dataset asks for them
        # (deferred import, as above).
        from core.datasets.augment import batch_augmenter

        self.augment = batch_augmenter(design.dataset, getattr(dataset, "image_shape", None),
                                       cfg.seed)
        self.detail_every = max(1, int(detail_every))
        self.layer_names = tuple(self.network.group_names)
        self._reset_counters()
        if resume is not None:
            self._resume(resume)

    def _reset_counters(self) -> None:
        self.epoch = 0
        self.step_count = 0
        self.epoch_offset = 0
        self._shuffle_rng = shuffle_generator(self.config.seed)
        self._order_state: dict | None = None  # shuffle state before this epoch's order
        self._pos = 0  # samples of the current epoch's order trained; 0 at a boundary
        self._best = _Best()
        self._since_best = 0
        self.blow_up: BlowUpWatch | None = None  # made when the run starts
        # The last epoch's validation outputs (n_val, outputs), for views that read them
        # (the misclassified samples); None until an epoch ends or once the weights
        # change otherwise (restored, drawn again).
        self.val_outputs: np.ndarray | None = None

    def _watch_blow_up(self) -> BlowUpWatch:
        """A fresh blow-up watch whose reference is the loss of the weights as they are
        now (the run's start) on the first ``START_ROWS`` training rows."""
        with np.errstate(over="ignore", invalid="ignore"):
            start, _ = self.evaluate(self.X[:START_ROWS], self.Y[:START_ROWS])
        self.blow_up = BlowUpWatch(start)
        return self.blow_up

    # ------------------------------------------------------------ continuing
    def _dropout_rng(self) -> np.random.Generator | None:
        # One generator shared by every dropout layer (see core.training.build).
        return next((layer.rng for layer in self.network.all_layers()
                     if hasattr(layer, "rng")), None)

    def state(self) -> TrainState:
        """Where the run stands, as copies (call between steps: from the loop that
        iterates ``run()``, or a ``TrainingControl.state_hook``)."""
        opt = self.stepper.optimizer
        n = self.X.shape[0]
        mid_epoch = 0 < self._pos < n and self._order_state is not None
        dropout = self._dropout_rng()
        return TrainState(
            epoch=self.epoch, step=self.step_count, weights=self.network.state_dict(),
            optimizer=opt.name, iterations=opt.iterations, optimizer_state=opt.state(),
            position=self._pos if mid_epoch else 0,
            shuffle_rng=(self._order_state if mid_epoch
                         else self._shuffle_rng.bit_generator.state),
            dropout_rng=dropout.bit_generator.state if dropout is not None else None)

    def _resume(self, state: TrainState) -> None:
        try:
            self.network.set_parameters(state.weights, strict=True)
        except ValueError as exc:
            raise DesignError(f"the saved weights do not fit this network: {exc}") from None
        opt = self.stepper.optimizer
        if state.optimizer_state or state.iterations:
            if state.optimizer != opt.name:
                raise DesignError(f"training.optimizer: the saved run used {state.optimizer}, "
                                  f"this design uses {opt.name}")
            try:
                opt.load_state(state.iterations, state.optimizer_state)
            except ValueError as exc:
                raise DesignError(f"the saved optimizer state does not fit: {exc}") from None
        n = self.X.shape[0]
        if state.position >= n:
            raise DesignError(f"the saved run stopped {state.position} samples into an epoch "
                              f"of {n}: the dataset has changed")
        if state.shuffle_rng is not None:
            self._shuffle_rng.bit_generator.state = state.shuffle_rng
        dropout = self._dropout_rng()
        if dropout is not None and state.dropout_rng is not None:
            dropout.bit_generator.state = state.dropout_rng
        self.epoch, self.step_count = state.epoch, state.step
        self._pos = state.position
        self.epoch_offset = resume_offset(state, self.config)

    # --------------------------------------------------------------- settings
    def apply_config(self, config: TrainConfig) -> list[str]:
        """Take new settings at the next step. Optimizer settings, penalties, clipping,
        schedule, epochs and stopping rules change live; the loss, optimizer kind, batch
        size, precision and seed need a new run. Returns the names of settings ignored."""
        problems = config.validate()
        if problems:
            raise DesignError(problems)
        ignored = [k for k in FIXED_SETTINGS if getattr(config, k) != getattr(self.config, k)]
        keep = {k: getattr(self.config, k) for k in FIXED_SETTINGS}
        self.config = replace(config, **keep)
        self.stepper.apply_settings(self.config)
        return ignored

    def reinitialise(self) -> None:
        """Draw the initial weights from the seed again and restart at epoch 0, step 0."""
        fresh = build_network(self.design.network, seed=self.config.seed, dtype=self.dtype)
        self.network.set_parameters(fresh.state_dict())
        self.stepper.optimizer.reset()
        # Dropout masks must repeat too: reset the shared dropout generator.
        for layer, new in zip(self.network.all_layers(), fresh.all_layers(), strict=True):
            if hasattr(layer, "rng"):
                layer.rng = new.rng
        self._reset_counters()

    def learning_rate_for(self, epoch: int) -> float:
        """The scheduled learning rate in ``epoch`` (0-based, counted from
        ``epoch_offset``)."""
        c = self.config
        return SCHEDULES[c.schedule].rate(c.learning_rate, epoch - self.epoch_offset,
                                          c.epochs, c.step_size, c.gamma)

    # ------------------------------------------------------------- evaluation
    def evaluate(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
        """Evaluation-mode loss over all rows of X (n, inputs) and the outputs (n, outputs)
        (logits for a fused loss), computed in chunks."""
        if X.shape[0] == 0:
            return float("nan"), np.zeros((0, self.network.outputs))
        logits, rows = self.stepper.logits, evaluation_rows(self.network)
        outs = [self.network.forward(X[i:i + rows], False, logits)
                for i in range(0, X.shape[0], rows)]
        out = np.concatenate(outs) if len(outs) > 1 else outs[0]
        total = 0.0
        for i in range(0, X.shape[0], rows):
            part = out[i:i + rows]
            total += self.stepper.loss.value(part, Y[i:i + rows]) * part.shape[0]
        return total / X.shape[0], out

    def _metric(self, out: np.ndarray, Y: np.ndarray, y_raw: np.ndarray) -> float:
        if out.shape[0] == 0:
            return float("nan")
        if self.dataset.task == "classification":
            return accuracy(out, y_raw, self.stepper.logits)
        return r2_score(out, Y)

    def _epoch_snapshot(self, lr: float, started: float) -> EpochSnapshot:
        train_loss, out = self.evaluate(self.X, self.Y)
        val_loss, out_v = self.evaluate(self.Xv, self.Yv)
        self.val_outputs = out_v
        data = self.dataset
        metric = "accuracy" if data.task == "classification" else "r2"
        return EpochSnapshot(
            self.epoch, self.step_count, train_loss, val_loss,
            self._metric(out, self.Y, data.y_train),
            self._metric(out_v, self.Yv, data.y_val),
            metric, lr, time.perf_counter() - started, self.confusion(out_v))

    def confusion(self, out_v: np.ndarray | None = None) -> np.ndarray | None:
        """Counts (classes, classes) of true (rows) against predicted (columns) validation
        classes for multi-class classification, else None; ``out_v`` are the validation
        outputs if already computed."""
        data = self.dataset
        if data.task != "classification" or data.n_classes <= 2 or not self.Xv.shape[0]:
            return None
        if out_v is None:
            out_v = self.evaluate(self.Xv, self.Yv)[1]
        return confusion_matrix(out_v, data.y_val, data.n_classes, self.stepper.logits)

    def misclassified(self, out_v: np.ndarray | None = None) -> Misclassified | None:
        """The validation samples predicted wrong, most confident first (classification
        with a validation split, else None); ``out_v`` as for ``confusion``."""
        data = self.dataset
        if data.task != "classification" or not self.Xv.shape[0]:
            return None
        if out_v is None:
            out_v = self.evaluate(self.Xv, self.Yv)[1]
        return misclassified(out_v, data.y_val, self.stepper.logits)

    # --------------------------------------------------------------- divergence
    def _diverged(self, what: str, layers: Sequence[str], lr: float) -> RunEnd:
        """The end of a run whose ``what`` became non-finite, first in ``layers[0]``."""
        layer = layers[0] if layers else ""
        where = f" in {layer}" if layer else ""
        if len(layers) > 1:
            others = len(layers) - 1
            where += f" (and {plural(others, 'more layer')})"
        msg = (f"Training diverged at step {self.step_count + 1} (epoch {self.epoch + 1}): "
               f"the {what} became non-finite{where} (learning rate {lr:g}). "
               f"The weights are left at their last finite values. {DIVERGENCE_HINT}")
        return RunEnd("diverged", self.epoch, self.step_count, msg, what, layer, DIVERGENCE_HINT)

    def _blew_up(self, delta: np.ndarray, lr: float,
                 watch: BlowUpWatch) -> RunEnd | RunWarning:
        """The blow-up rule fired at this step: a ``RunEnd`` (setting "stop") or a
        ``RunWarning`` ("warn") naming the layer whose weights moved most relative to
        their size in this step."""
        net = self.network
        layer = ""
        if self.layer_names:
            wn = net.group_norms(net.flat_params)
            ratios = np.divide(net.group_norms(delta), wn, out=np.full_like(wn, np.inf),
                               where=wn > 0)
            layer = self.layer_names[int(np.argmax(ratios))]
        where = (f"; the largest weight updates relative to the weights are in {layer}"
                 if layer else "")
        stop = self.config.blow_up == "stop"
        what = (f"at step {self.step_count} (epoch {self.epoch + 1}): "
                f"{watch.describe()} (learning rate {lr:g}){where}.")
        if stop:
            msg = (f"Training diverged {what} The run was stopped (setting Loss blow-up: "
                   f"stop). {DIVERGENCE_HINT}")
            return RunEnd("diverged", self.epoch, self.step_count, msg, "smoothed loss",
                          layer, DIVERGENCE_HINT)
        msg = f"Training is diverging {what} {DIVERGENCE_HINT}"
        return RunWarning(self.epoch, self.step_count, msg, layer, DIVERGENCE_HINT)

    # ---------------------------------------------------------------------- run
    def run(self, control: TrainingControl | None = None) -> Iterator[Snapshot]:
        """Train until a stop condition; yield snapshots (see the module docstring)."""
        control = control or TrainingControl()
        started = time.perf_counter()
        net, stepper = self.network, self.stepper
        n = self.X.shape[0]
        Xs = np.empty_like(self.X)
        Ys = np.empty_like(self.Y)
        pos = n  # position in the shuffled epoch; n means "start a new epoch"
        if self._pos:  # resumed mid-epoch: draw that epoch's order again
            self._order_state = self._shuffle_rng.bit_generator.state
            perm = epoch_order(self._shuffle_rng, n)
            np.take(self.X, perm, axis=0, out=Xs)
            np.take(self.Y, perm, axis=0, out=Ys)
            pos = self._pos
        lr = self.learning_rate_for(self.epoch)
        watch = self._watch_blow_up()
        while True:
            if pos >= n and self.epoch >= self.epoch_offset + self.config.epochs:
                no_val = (" There is no validation set (validation share 0), so no "
                          "validation loss or metric was computed."
                          if self.Xv.shape[0] == 0 else "")
                yield RunEnd("finished", self.epoch, self.step_count,
                             f"Finished {self.epoch} epochs ({self.step_count} steps).{no_val}")
                return
            go, run_step, cfg, reinit = control.wait_turn()
            if reinit:
                self.reinitialise()
                pos = n
                watch = self._watch_blow_up()
            if cfg is not None:
                self.apply_config(cfg)
                lr = self.learning_rate_for(self.epoch)
                stepper.optimizer.learning_rate = lr
            if not go:
                yield RunEnd("stopped", self.epoch, self.step_count,
                             f"Stopped in epoch {self.epoch + 1} after step {self.step_count}.")
                return
            if not run_step:
                continue
            if pos >= n:
                if self.epoch >= self.epoch_offset + self.config.epochs:
                    continue
                lr = self.learning_rate_for(self.epoch)
                stepper.optimizer.learning_rate = lr
                self._order_state = self._shuffle_rng.bit_generator.state
                perm = epoch_order(self._shuffle_rng, n)
                np.take(self.X, perm, axis=0, out=Xs)
                np.take(self.Y, perm, axis=0, out=Ys)
                pos = 0
            batch = self.config.batch_size
            xb, yb = Xs[pos:pos + batch], Ys[pos:pos + batch]
            if self.augment is not None:  # training batches only, seeded per step
                xb = self.augment(xb, self.step_count)
            pos += batch
            self._pos = pos if pos < n else 0  # for state() between steps
            result = stepper.run(xb, yb)
            if result.failed:
                yield self._diverged(result.failed, result.layers, lr)
                return
            loss, penalty, gnorm = result.loss, result.penalty, result.grad_norm
            delta = stepper.last_delta
            self.step_count += 1
            blew_up = self.config.blow_up != "off" and watch.update(loss)
            if self.step_count % self.detail_every == 0:
                gn = stepper.last_grad_norms
                wn = net.group_norms(net.flat_params)
                dn = net.group_norms(delta)
                ratios = np.divide(dn, wn, out=np.zeros_like(dn), where=wn > 0)
                yield StepSnapshot(self.epoch, self.step_count, loss, penalty, lr, gnorm,
                                   tuple(gn.tolist()), tuple(wn.tolist()),
                                   tuple(ratios.tolist()))
            else:
                yield StepSnapshot(self.epoch, self.step_count, loss, penalty, lr, gnorm)
            if blew_up:
                event = self._blew_up(delta, lr, watch)
                yield event
                if isinstance(event, RunEnd):
                    return
            if pos >= n:
                self.epoch += 1
                snap = self._epoch_snapshot(lr, started)
                yield snap
                end = self._check_stopping(snap)
                if end is not None:
                    yield end
                    return

    def _check_stopping(self, snap: EpochSnapshot) -> RunEnd | None:
        c = self.config
        if c.target_loss and snap.train_loss <= c.target_loss:
            return RunEnd("target_reached", self.epoch, self.step_count,
                          f"Reached the target loss {c.target_loss:g} after {self.epoch} "
                          f"epochs (training loss {snap.train_loss:.4g}).")
        if not c.patience:
            return None
        watched = snap.val_loss if math.isfinite(snap.val_loss) else snap.train_loss
        if watched < self._best.loss:
            self._best = _Best(watched, self.epoch,
                               self.network.state_dict() if c.restore_best else {})
            self._since_best = 0
            return None
        self._since_best += 1
        if self._since_best < c.patience:
            return None
        restored = ""
        if c.restore_best and self._best.state:
            self.network.set_parameters(self._best.state)
            self.val_outputs = None
            restored = f"; restored the weights of epoch {self._best.epoch}"
        return RunEnd("early_stopped", self.epoch, self.step_count,
                      f"Stopped early after {self.epoch} epochs: no better validation loss "
                      f"for {c.patience} epochs (best {self._best.loss:.4g} at epoch "
                      f"{self._best.epoch}{restored}).")
