"""The blow-up rule: a run whose loss has grown far past where it started is diverging,
even when no number has become infinite yet.

With a learning rate of 1e4 the loss of XOR, spiral or the deep sigmoid network jumps
from about 0.7 to 1e3-1e5 within a step or two and stays there, accuracy at chance,
without ever overflowing. The rule (numbers shown to users in the README):

- the *starting loss* is the loss of the weights the run starts from (initial, or
  saved when it continues a run) on (up to ``START_ROWS`` of) the training set in
  evaluation mode, at least ``START_FLOOR``
  (a run that starts almost perfect is not called diverging over a loss of 1e-3);
- the *smoothed loss* is a moving geometric mean of the batch losses: an exponential
  moving average of their logarithms (``EMA_WEIGHT`` on each new step, about a ten-step
  memory). On the log scale one wild batch moves it little (a single loss 10^4 times
  the start raises it about 2.5 times), while a loss that stays high pulls it up
  within a few steps;
- the run is diverging once the smoothed loss has been above ``FACTOR`` (100) times the
  starting loss for ``STEPS`` (20) consecutive steps.

A healthy run's loss falls, and even a noisy one stays within a few times its start;
100× for 20 steps is a margin that no example design or lesson comes near (measured in
``tests/core/engine/test_blowup.py``). What happens then is the ``blow_up`` training setting
(``BLOW_UP_ACTIONS``): stop the run as diverged, warn once, or nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FACTOR = 100.0
STEPS = 20
EMA_WEIGHT = 0.1
START_FLOOR = 0.01
START_ROWS = 1024
_TINY = 1e-30  # a batch loss of exactly 0 counts as this (log 0 is -inf)


@dataclass(frozen=True)
class BlowUpAction:
    """One choice of the ``blow_up`` setting."""

    name: str
    label: str
    description: str


BLOW_UP_ACTIONS: dict[str, BlowUpAction] = {
    a.name: a for a in (
        BlowUpAction("stop", "Stop the run", "End the run as diverged, with what to try "
                     "(a command-line run exits with code 3)."),
        BlowUpAction("warn", "Warn and go on", "Say that the run is diverging and what to "
                     "try, and keep training."),
        BlowUpAction("off", "Do nothing", "Only losses or updates that become infinite or "
                     "NaN end a run."),
    )
}


class BlowUpWatch:
    """Follows a run's batch losses; ``update(loss)`` returns True on the step at which
    the rule fires (once: later steps return False)."""

    def __init__(self, start_loss: float) -> None:
        start = start_loss if math.isfinite(start_loss) else START_FLOOR
        self.start = max(start, START_FLOOR)
        self.threshold = FACTOR * self.start
        self._log_threshold = math.log(self.threshold)
        self._log = math.nan  # the moving average of log(loss)
        self.above = 0  # consecutive steps with the smoothed loss above the threshold
        self.fired = False

    @property
    def smoothed(self) -> float:
        """The smoothed loss (NaN before the first step)."""
        return math.exp(self._log)

    def update(self, loss: float) -> bool:
        """Take the batch loss of one more (finite) step; True when the rule fires."""
        x = math.log(loss if loss > _TINY else _TINY)
        s = self._log
        s = x if s != s else s + EMA_WEIGHT * (x - s)  # s != s: the first step
        self._log = s
        if s > self._log_threshold:
            self.above += 1
            if self.above >= STEPS and not self.fired:
                self.fired = True
                return True
        else:
            self.above = 0
        return False

    def describe(self) -> str:
        """What was seen, for the message: "the smoothed loss 8.3e+03 has been above
        100× its starting value 0.707 for 20 steps"."""
        return (f"the smoothed loss {self.smoothed:.3g} has been above {FACTOR:g}× its "
                f"starting value {self.start:.3g} for {self.above} steps")


def blowup_index(losses, start_loss: float | None = None) -> int | None:
    """Where a loss curve blew up by this module's rule, or None if it did not.

    ``losses`` (n,) are batch losses in step order (a recorded curve may be thinned: the
    rule then counts rows, not steps). ``start_loss`` is the run's starting loss; by
    default the first finite loss stands in for it. The curve blew up at its first
    non-finite loss, or where a :class:`BlowUpWatch` fed the losses fires; for the
    watch the index returned is where the loss last rose above the watch's threshold
    before it fired (where the blow-up began), so everything before the index is the
    healthy part of the run. Plots use it to keep a diverged curve from setting their
    axes.
    """
    values = [float(v) for v in losses]
    if start_loss is None:
        start_loss = next((v for v in values if math.isfinite(v)), math.nan)
    watch = BlowUpWatch(start_loss)
    rose = 0  # where the loss last went above the threshold
    above = False  # the previous loss was above it
    for i, v in enumerate(values):
        if not math.isfinite(v):
            return rose if above else i
        if v > watch.threshold and not above:
            rose = i
        above = v > watch.threshold
        if watch.update(v):
            return rose
    return None
