"""Autosave and crash recovery in the window: the copy follows the document (timer,
finished runs), goes away on save and close, and the start-up prompt restores, discards
or keeps what a killed instance left (driven through its buttons, never blocking)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core import build_network
from core.files.project import Project, parse_project, project_bytes
from core.files.recovery import RecoveryInfo, RecoveryStore
from core.records.record import RunRecord
from gui.project.recovery_prompt import format_saved_at, start_recovery

pytestmark = pytest.mark.skipif(os.name != "posix", reason="flock")
SHOTS = Path(os.environ.get("RECOVERY_SHOTS", "/tmp"))


@pytest.fixture
def window(shown_window):
    shown_window.open_example("xor.json")
    return shown_window


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "recovery"


def files(folder: Path) -> list[str]:
    return sorted(p.suffix for p in folder.iterdir())


def edit(window, lr: float = 0.123) -> None:
    d = window.document.design
    window.document.set_design(replace(d, training=replace(d.training, learning_rate=lr)),
                               "Learning rate")


def written_copy(saver) -> Project:
    return parse_project(saver.session.project_path.read_bytes(), "copy")


def crashed_instance(folder: Path, window, runs: int = 2, name: str = "orig.bpsproj",
                     original: Path | None = None, data: bytes | None = None) -> Project:
    """Leave what a killed instance leaves: a session whose lock nobody holds."""
    design = replace(window.document.design, name="recovered design")
    weights = build_network(design.network, seed=7, dtype=np.float32).state_dict()
    project = Project(design, weights, [], np.zeros((0, 2)),
                      [RunRecord(design, name=f"Run {i + 1}") for i in range(runs)])
    session = RecoveryStore(folder).start_session()
    session.write(project_bytes(project) if data is None else data,
                  RecoveryInfo(name, str(original) if original else None, time.time() - 120))
    os.close(session._fd)  # the process "dies": the kernel drops its lock
    return project


# ---------------------------------------------------------------------- autosave


def test_nothing_is_written_without_unsaved_changes_or_with_nothing_new(qtbot, window,
                                                                        folder):
    assert start_recovery(window, folder, interval_s=3600) is None
    saver = window.autosaver
    assert saver.autosave() is False  # the example, unmodified
    assert files(folder) == [".lock"]
    edit(window)
    with qtbot.waitSignal(saver.written, timeout=10000):
        assert saver.autosave() is True
    assert written_copy(saver).design == window.document.design
    assert saver.autosave() is False  # nothing new since
    mtime = saver.session.project_path.stat().st_mtime_ns
    edit(window, 0.5)
    edit(window, 0.123)  # changed, and changed back: the same bytes
    with qtbot.waitSignal(saver.unchanged, timeout=10000):
        assert saver.autosave() is True
    assert saver.session.project_path.stat().st_mtime_ns == mtime
    edit(window, 0.5)
    with qtbot.waitSignal(saver.written, timeout=10000):
        assert saver.autosave() is True
    assert written_copy(saver).design.training.learning_rate == 0.5


def test_the_timer_writes_the_copy_and_then_nothing_while_nothing_changes(qtbot, window,
                                                                          folder):
    start_recovery(window, folder, interval_s=0.1)
    saver = window.autosaver
    writes = []
    saver.written.connect(writes.append)
    edit(window)
    qtbot.waitUntil(lambda: len(writes) == 1, timeout=10000)
    assert written_copy(saver).design == window.document.design
    mtime = saver.session.project_path.stat().st_mtime_ns
    qtbot.wait(600)  # several ticks
    assert len(writes) == 1
    assert saver.session.project_path.stat().st_mtime_ns == mtime


def test_a_finished_run_is_autosaved_with_its_weights(qtbot, window, folder):
    start_recovery(window, folder, interval_s=3600)
    saver = window.autosaver
    window.training.train_action.trigger()
    qtbot.waitUntil(lambda: window.plots.history_points() >= 5, timeout=15000)
    with qtbot.waitSignal(saver.written, timeout=20000):
        window.training.stop_action.trigger()
    copy = written_copy(saver)
    assert len(copy.runs) == 1
    assert copy.weights is not None
    for k, v in window.document.model.latest.weights.items():
        np.testing.assert_array_equal(copy.weights[k], v)


def test_a_live_run_is_autosaved_as_it_stands_though_nothing_else_changed(qtbot, window,
                                                                           folder, tmp_path):
    from core.files.design_file import save_design

    long_run = tmp_path / "long.json"
    d = window.document.design
    save_design(replace(d, training=replace(d.training, epochs=100_000)), long_run)
    assert window.files.open_path(long_run, ask=False)
    start_recovery(window, folder, interval_s=3600)
    saver = window.autosaver
    assert not window.document.modified
    assert saver.autosave() is False  # nothing to save: the file has it all
    window.training.train_action.trigger()
    qtbot.waitUntil(lambda: window.plots.history_points() >= 5, timeout=15000)
    with qtbot.waitSignal(saver.written, timeout=20000):
        assert saver.autosave() is True
    (run,) = written_copy(saver).runs
    assert run.end_reason == "unfinished" and run.steps > 0
    assert written_copy(saver).weights is not None
    with qtbot.waitSignal(window.training.controller.run_finished, timeout=20000):
        window.training.stop_action.trigger()


def test_saving_and_closing_remove_the_copy(qtbot, window, folder, tmp_path):
    start_recovery(window, folder, interval_s=3600)
    saver = window.autosaver
    edit(window)
    with qtbot.waitSignal(saver.written, timeout=10000):
        saver.autosave()
    with qtbot.waitSignal(saver.cleared, timeout=10000):
        assert window.files._write(tmp_path / "mine.bpsproj")
    assert files(folder) == [".lock"]
    edit(window, 0.7)
    with qtbot.waitSignal(saver.written, timeout=10000):
        saver.autosave()
    assert files(folder) == [".bpsproj", ".json", ".lock"]
    window.close()  # unsaved-changes question answers Discard: a normal close
    assert list(folder.iterdir()) == []


def test_a_failed_write_is_reported_and_tried_again(qtbot, window, folder):
    start_recovery(window, folder, interval_s=3600)
    saver = window.autosaver

    def full(*_a):
        raise OSError(28, "No space left on device")

    saver.session.write = full  # the disk is full
    edit(window)
    with qtbot.waitSignal(saver.failed, timeout=10000) as blocker:
        saver.autosave()
    assert "No space left on device" in blocker.args[0]
    assert "No space left" in window.statusBar().currentMessage()
    del saver.session.write  # space again
    with qtbot.waitSignal(saver.written, timeout=10000):
        assert saver.autosave() is True  # the same content again: it was never written


# ----------------------------------------------------------------------- restore


def test_restore_brings_back_design_runs_and_weights_unsaved_with_the_original_path(
        qtbot, window, folder, tmp_path):
    original = tmp_path / "orig.bpsproj"
    saved = crashed_instance(folder, window, runs=2, original=original)
    prompt = start_recovery(window, folder, interval_s=3600)
    assert prompt is not None and prompt.box.isVisible()
    text = prompt.box.text() + "\n" + prompt.box.informativeText()
    assert "orig.bpsproj" in text
    assert "today at" in text or "yesterday at" in text
    assert "2 minutes ago" in text
    assert "the design, 2 runs and trained weights" in text
    qtbot.wait(50)
    window.grab().save(str(SHOTS / "recovery_prompt_window.png"))
    prompt.box.grab().save(str(SHOTS / "recovery_prompt_box.png"))
    with qtbot.waitSignal(prompt.finished, timeout=5000):
        prompt.restore_button.click()
    doc = window.document
    assert doc.design == saved.design
    assert doc.modified and window.isWindowModified()
    assert doc.path == original
    assert window.windowTitle().startswith("orig.bpsproj")
    assert [r.name for r in window.runs_panel.runs()] == ["Run 1", "Run 2"]
    kept = doc.snapshot()
    for k, v in saved.weights.items():
        np.testing.assert_array_equal(kept.weights[k], v)
    # The copy is now this instance's: not offered to another, and not lost.
    qtbot.wait(200)  # whatever opening queued has run
    assert RecoveryStore(folder).leftovers() == []
    assert files(folder) == [".bpsproj", ".json", ".lock"]
    assert written_copy(window.autosaver).design == saved.design
    window.grab().save(str(SHOTS / "recovery_restored_window.png"))
    # Saving writes the user's file and removes the copy.
    with qtbot.waitSignal(window.autosaver.cleared, timeout=10000):
        assert window.files.save()
    assert parse_project(original.read_bytes(), "o").design == saved.design
    assert files(folder) == [".lock"]


def test_declining_deletes_the_copy_and_keeps_the_window_as_it_was(qtbot, window, folder):
    before = window.document.design
    crashed_instance(folder, window)
    prompt = start_recovery(window, folder, interval_s=3600)
    with qtbot.waitSignal(prompt.finished, timeout=5000):
        prompt.discard_button.click()
    assert window.document.design == before and not window.document.modified
    assert files(folder) == [".lock"]  # ours only


def test_not_now_keeps_the_copy_for_the_next_start(qtbot, window, folder):
    crashed_instance(folder, window)
    prompt = start_recovery(window, folder, interval_s=3600)
    with qtbot.waitSignal(prompt.finished, timeout=5000):
        prompt.box.reject()  # Escape or the window's close button
    assert not window.document.modified
    (entry,) = RecoveryStore(folder).leftovers()
    assert entry.project is not None
    entry.release()


def test_a_corrupt_copy_is_offered_only_for_discarding(qtbot, window, folder):
    before = window.document.design
    crashed_instance(folder, window, data=b"\x00garbage" * 50)
    prompt = start_recovery(window, folder, interval_s=3600)
    assert prompt.restore_button is None
    assert "cannot be read" in prompt.box.text()
    assert sorted(b.text() for b in prompt.box.buttons()) == ["Discard", "Keep"]
    prompt.box.grab().save(str(SHOTS / "recovery_corrupt_box.png"))
    with qtbot.waitSignal(prompt.finished, timeout=5000):
        prompt.discard_button.click()
    assert window.document.design == before
    assert files(folder) == [".lock"]


def test_after_a_restore_the_other_leftovers_wait_for_the_next_start(qtbot, window, folder):
    crashed_instance(folder, window, runs=1)
    crashed_instance(folder, window, runs=3)
    prompt = start_recovery(window, folder, interval_s=3600)
    with qtbot.waitSignal(prompt.finished, timeout=5000):
        prompt.restore_button.click()
    (other,) = RecoveryStore(folder).leftovers()
    assert len(other.project.runs) + len(window.runs_panel.runs()) == 4
    other.release()


def test_a_running_instances_copy_is_not_offered(qtbot, window, folder):
    live = RecoveryStore(folder).start_session()
    live.write(b"anything", RecoveryInfo("x.json", None, time.time()))
    assert start_recovery(window, folder, interval_s=3600) is None
    assert live.project_path.exists()
    live.close()


def test_an_unwritable_folder_turns_autosave_off_with_a_message(window, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert start_recovery(window, blocker / "recovery", interval_s=3600) is None
    assert window.autosaver is None
    assert "Autosave is off" in window.statusBar().currentMessage()


def test_saved_at_is_said_in_words():
    now = time.mktime((2026, 11, 29, 17, 40, 0, 0, 0, -1))
    assert format_saved_at(now - 240, now) == "today at 17:36 (4 minutes ago)"
    assert format_saved_at(now - 20, now) == "today at 17:39 (less than a minute ago)"
    assert format_saved_at(now - 86400, now) == "yesterday at 17:40"
    assert format_saved_at(now - 3 * 86400, now) == "Thu 26 Nov 2026 at 17:40"
