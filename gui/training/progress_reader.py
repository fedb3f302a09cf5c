"""The window's side of a training run: a background thread that receives the training
process's progress, and hands it to the GUI thread when that asks.

The trainer itself runs in a child process (``core.training.process``: why, with the measured
figures). The ``TrainingWorker`` lives on a QThread for the length of one run: it
blocks on the progress pipe (holding no lock and no interpreter time while it waits),
collects the batches that arrive about fifty times a second, and ends its thread when
the run is over. The GUI thread pulls what has been collected on its own frame timer
(``take_batch``), so no signal is sent per step and the window draws at its own pace.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Slot

from core.records.snapshots import RunEnd
from core.training.process import TrainerProcess
from core.training.progress import ProgressBatch, merge_batches


class TrainingWorker(QObject):
    """Receives one run's progress. Create, move to a QThread, connect ``run`` to the
    thread's start, then start the thread once the run has been sent to the process.

    The GUI pulls progress with ``take_batch()`` (thread-safe). When the thread has
    finished, ``end`` holds the ``RunEnd`` (None if the run could not start or broke off,
    and then ``error`` says so in a sentence for the user: whether it started, at which
    step it stopped, and why).
    """

    def __init__(self, process: TrainerProcess) -> None:
        super().__init__()
        self._process = process
        self._lock = threading.Lock()
        self._pending: list[ProgressBatch] = []
        self.end: RunEnd | None = None
        self.error = ""
        # Set when a batch with the run's TrainState arrives, or the run is over (so a
        # window waiting for the state to save never waits for nothing).
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

    @Slot()
    def run(self) -> None:
        try:
            self._receive()
        finally:
            # End the thread's event loop from here: the GUI thread may be blocked in
            # QThread.wait() (closing the window) and unable to run a quit() slot.
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()

    def _receive(self) -> None:
        process = self._process
        try:
            self._receive_messages(process)
        finally:
            self.done.set()
            self.state_arrived.set()

    def _receive_messages(self, process: TrainerProcess) -> None:
        try:
            while True:
                message = process.recv()
                if message[0] == "batch":
                    batch = message[1]
                    if batch.steps.size:
                        self.last_step = int(batch.steps[-1])
                    with self._lock:
                        self._pending.append(batch)
                    if batch.train_state is not None:
                        self.state_arrived.set()
                elif message[0] == "done":
                    _, self.end, error = message
                    if error:
                        self.error = (f"Training stopped at step {self.last_step:,}: {error}"
                                      if self.last_step else
                                      f"Training could not start: {error}")
                    process.touch()
                    return
        except (EOFError, OSError):
            how = process.how_it_ended()
            where = (f"at step {self.last_step:,}" if self.last_step
                     else "before its first step")
            self.error = (f"The training process stopped unexpectedly {where}"
                          + (f" ({how})" if how else "")
                          + ". The next run starts a new training process.")
            process.discard()
