"""The window's one frame clock: it ticks while held or asked for a frame and is still
otherwise, delivers before it draws, and is the only pace the training view runs on."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.datasets import DatasetSpec, load_dataset
from core.files.design_file import load_design
from core.resources import resource_path
from core.training.progress import ProgressBatch
from gui.training.controller import TrainingController
from gui.training.frame_clock import FRAME_MS, FrameClock
from gui.training.plots import TrainingPlots


def test_a_request_gives_one_frame_then_the_clock_stops(qtbot):
    clock = FrameClock()
    phases: list[str] = []
    clock.deliver.connect(lambda: phases.append("deliver"))
    clock.draw.connect(lambda: phases.append("draw"))
    assert not clock.active
    clock.request()
    clock.request()  # two requests before a frame: one frame
    assert clock.active
    qtbot.waitUntil(lambda: phases == ["deliver", "draw"], timeout=2000)
    qtbot.waitUntil(lambda: not clock.active, timeout=2000)
    qtbot.wait(4 * FRAME_MS)
    assert phases == ["deliver", "draw"]  # nobody asked again


def test_a_hold_ticks_every_frame_until_released(qtbot):
    clock = FrameClock()
    holder = object()
    clock.hold(holder)
    qtbot.waitUntil(lambda: clock.ticks >= 3, timeout=3000)
    assert clock.active
    clock.release(holder)
    qtbot.waitUntil(lambda: not clock.active, timeout=2000)
    stopped_at = clock.ticks
    qtbot.wait(4 * FRAME_MS)
    assert clock.ticks == stopped_at


def test_a_receiver_that_asks_again_gets_the_next_frame(qtbot):
    clock = FrameClock()
    left = [3]

    def draw() -> None:  # like plots with a part not due yet
        left[0] -= 1
        if left[0]:
            clock.request()

    clock.draw.connect(draw)
    clock.request()
    qtbot.waitUntil(lambda: left[0] == 0, timeout=3000)
    qtbot.waitUntil(lambda: not clock.active, timeout=2000)
    assert clock.ticks == 3


def test_the_window_runs_on_one_clock(shown_window):
    controller = shown_window.training.controller
    assert controller.clock is shown_window.plots.clock
    assert controller.clock.interval_ms == FRAME_MS


def test_a_run_holds_the_shared_clock_and_lets_go_at_its_end(qtbot):
    design = load_design(resource_path("examples", "xor.json"))
    design = replace(design, training=replace(design.training, epochs=100000))
    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    clock = FrameClock()
    c = TrainingController(clock=clock)
    delivered_at: list[int] = []
    c.batch_received.connect(lambda _b: delivered_at.append(clock.ticks))
    try:
        with qtbot.waitSignal(c.batch_received, timeout=20000):
            assert c.start(design, data)
        assert clock.active
        qtbot.waitUntil(lambda: len(delivered_at) >= 3, timeout=10000)
        # At most one batch per frame: progress is handed over on the clock's ticks.
        assert len(set(delivered_at)) == len(delivered_at)
        with qtbot.waitSignal(c.run_finished, timeout=20000):
            c.stop()
        qtbot.waitUntil(lambda: not clock.active, timeout=2000)
    finally:
        c.close()


def _batch(first: int, n: int) -> ProgressBatch:
    steps = np.arange(first, first + n, dtype=np.float64)
    z = np.zeros(n)
    norms = np.ones((n, 1))
    return ProgressBatch(("layers.0",), steps, z, np.full(n, 0.5), z, z, steps, norms,
                         norms, norms * 1e-3)


def test_hidden_plots_do_not_keep_the_clock_ticking(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.start_run(("layers.0",), ("layers.0",), "regression", None)
    plots.add_batch(_batch(1, 50))
    qtbot.wait(4 * FRAME_MS)
    assert not plots.clock.active  # nothing visible to draw: no frames
    assert plots.drawn_points()["batch"] == 0
    plots.show()
    qtbot.waitUntil(lambda: plots.drawn_points()["batch"] == 50, timeout=2000)
    qtbot.waitUntil(lambda: not plots.clock.active, timeout=2000)


def test_plots_on_a_shared_clock_draw_what_was_delivered_in_the_same_frame(qtbot):
    clock = FrameClock()
    plots = TrainingPlots(clock=clock)
    qtbot.addWidget(plots)
    plots.show()
    qtbot.waitExposed(plots)
    plots.start_run(("layers.0",), ("layers.0",), "regression", None)
    qtbot.waitUntil(lambda: not clock.active, timeout=2000)
    drawn_in_tick: list[tuple[int, int]] = []
    pending = [_batch(1, 30)]
    # A source delivering on the clock, as the controller does.
    clock.deliver.connect(lambda: plots.add_batch(pending.pop()) if pending else None)
    clock.draw.connect(lambda: drawn_in_tick.append((clock.ticks,
                                                     plots.drawn_points()["batch"])))
    holder = object()
    clock.hold(holder)
    qtbot.waitUntil(lambda: len(drawn_in_tick) >= 2, timeout=3000)
    clock.release(holder)
    # The plots' draw slot ran before ours (connected first) in the very first frame.
    assert drawn_in_tick[0][1] == 30
