"""One training run's progress as it arrives from the training process.

The training process's reader thread (``core.training.process.TrainingProcess``) is the
only writer: it files each message here as it arrives. The owner of the run (the window's
GUI thread, or a test) is the only reader: it takes what has arrived with
``take_batch`` on its own clock and waits on ``state_arrived``/``done``. Everything the
two threads share is behind one lock or is a ``threading.Event``, and ``end`` and
``error`` are written before ``done`` is set and never after, so they are read only once
``done`` is set.
"""

from __future__ import annotations

import threading

from core.training.progress import ProgressBatch, merge_batches
from core.training.trainer import RunEnd


class RunProgress:
    """The progress of one run, as received.

    ``take_batch()`` returns everything received since the last call. Once ``done`` is
    set nothing more arrives: ``end`` holds the ``RunEnd`` (None if the run could not
    start or broke off, and then ``error`` says so in a sentence for the user: whether it
    started, at which step it stopped, and why).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[ProgressBatch] = []
        self.end: RunEnd | None = None
        self.error = ""
        # Set when a batch with the run's TrainState arrives, or the run is over (so an
        # owner waiting for the state to save never waits for nothing).
        self.state_arrived = threading.Event()
        self.done = threading.Event()  # nothing more will arrive
        self.last_step = 0  # the newest step received

    def take_batch(self, through_state: bool = False) -> ProgressBatch | None:
        """Everything received since the last call, as one batch (None if nothing).
        With ``through_state``, only up to the first batch carrying a ``TrainState``: a
        saved run must end where its state stands, not at steps that arrived after it."""
        with self._lock:
            cut = len(self._pending)
            if through_state:
                cut = next((i + 1 for i, b in enumerate(self._pending)
                            if b.train_state is not None), cut)
            pending, self._pending = self._pending[:cut], self._pending[cut:]
        return merge_batches(pending)

    def expect_state(self) -> None:
        """Before asking for the run's state: clear ``state_arrived`` (a run already over
        keeps it set, as its last batch carried the state)."""
        self.state_arrived.clear()
        if self.done.is_set():
            self.state_arrived.set()

    # ------------------------------------------------- the reader thread's side
    def receive(self, message: tuple) -> bool:
        """File one message from the training process; True once the run is over."""
        if message[0] == "batch":
            batch: ProgressBatch = message[1]
            if batch.steps.size:
                self.last_step = int(batch.steps[-1])
            with self._lock:
                self._pending.append(batch)
            if batch.train_state is not None:
                self.state_arrived.set()
            return False
        if message[0] == "done":
            _, end, error = message
            self.end = end
            if error:
                self.error = (f"Training stopped at step {self.last_step:,}: {error}"
                              if self.last_step else f"Training could not start: {error}")
            self.finish()
            return True
        return False

    def break_off(self, how: str) -> None:
        """The training process went away mid-run; ``how``: "killed by signal SIGKILL",
        "exit code 1", or "" if unknown."""
        where = f"at step {self.last_step:,}" if self.last_step else "before its first step"
        self.error = (f"The training process stopped unexpectedly {where}"
                      + (f" ({how})" if how else "")
                      + ". The next run starts a new training process.")
        self.finish()

    def finish(self) -> None:
        """Nothing more will arrive (also wakes an owner waiting for the state)."""
        self.done.set()
        self.state_arrived.set()
