"""Augmentation in the one training loop: seeded, training batches only, and it trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.datasets import DatasetSpec, load_dataset
from core.design.image_specs import Conv2DSpec, FlattenSpec, MaxPool2DSpec
from core.records.snapshots import EpochSnapshot, StepSnapshot
from core.training.trainer import Trainer

AUGMENT = {"shift": 1, "flip": True}


@pytest.fixture(scope="module")
def bars(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two classes of 8x8 grayscale images: a bright bar in the top or the bottom half."""
    root = tmp_path_factory.mktemp("bars")
    rng = np.random.default_rng(0)
    for label, rows in (("top", range(1, 3)), ("bottom", range(5, 7))):
        (root / label).mkdir()
        for i in range(40):
            image = rng.integers(0, 60, (8, 8))
            image[list(rows)] = 230
            Image.fromarray(image.astype(np.uint8), "L").save(root / label / f"{i}.png")
    return root


def design(folder: Path, augment: dict | None = AUGMENT, epochs: int = 15) -> Design:
    spec = DatasetSpec.images(str(folder), grayscale=True, seed=1, val_fraction=0.25)
    choice = spec.to_dict() | ({"augment": augment} if augment else {})
    net = NetworkSpec(64, (DenseSpec(16), ActivationSpec("tanh"), DenseSpec(2),
                           ActivationSpec("softmax")))
    cfg = TrainConfig(loss="softmax_cross_entropy", learning_rate=0.1, batch_size=10,
                      epochs=epochs, seed=3)
    return Design(net, cfg, dict(choice))


def run(trainer: Trainer) -> tuple[list[float], list[EpochSnapshot]]:
    snaps = list(trainer.run())
    return ([s.loss for s in snaps if isinstance(s, StepSnapshot)],
            [s for s in snaps if isinstance(s, EpochSnapshot)])


def test_one_seed_gives_bit_identical_runs_and_augmentation_changes_them(bars: Path) -> None:
    d = design(bars)
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    a, _ = run(Trainer(d, data))
    b, _ = run(Trainer(d, data))
    plain, _ = run(Trainer(design(bars, augment=None), data))
    assert a == b
    assert a != plain


def test_only_training_batches_are_augmented(bars: Path) -> None:
    d = design(bars, epochs=2)
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    trainer = Trainer(d, data)
    assert trainer.augment is not None
    seen: list[np.ndarray] = []
    augment = trainer.augment

    def recording(xb: np.ndarray, step: int) -> np.ndarray:
        seen.append(xb.copy())
        return augment(xb, step)

    trainer.augment = recording
    losses, epochs = run(trainer)
    assert len(seen) == len(losses)  # one call per step
    train_rows = {row.tobytes() for row in trainer.X}
    assert all(row.tobytes() in train_rows for xb in seen for row in xb)
    # The validation numbers are those of the unaugmented validation rows.
    val_loss, _ = trainer.evaluate(trainer.Xv, trainer.Yv)
    assert epochs[-1].val_loss == pytest.approx(val_loss, rel=1e-6)


def test_a_run_with_augmentation_learns(bars: Path) -> None:
    d = design(bars, epochs=20)
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    losses, epochs = run(Trainer(d, data))
    assert np.median(losses[-8:]) < 0.5 * np.median(losses[:8])
    assert max(e.val_metric for e in epochs[-5:]) >= 0.9


def test_a_continued_run_takes_the_uninterrupted_runs_augmented_batches(bars: Path) -> None:
    d = design(bars, epochs=2)
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    whole, _ = run(Trainer(d, data))
    first = Trainer(d, data)
    steps = first.run()
    head = []
    for snap in steps:
        if isinstance(snap, StepSnapshot):
            head.append(snap.loss)
            if len(head) == 9:  # mid-epoch (6 steps an epoch)
                break
    state = first.state()
    tail, _ = run(Trainer(d, data, resume=state))
    assert head + tail == whole


def test_a_conv_net_trains_on_an_augmented_image_folder(bars: Path) -> None:
    d = design(bars, epochs=12)
    net = NetworkSpec(64, (Conv2DSpec(4, 3), ActivationSpec("relu"), MaxPool2DSpec(2, 2),
                           FlattenSpec(), DenseSpec(2), ActivationSpec("softmax")),
                      input_shape=(1, 8, 8))
    d = Design(net, d.training, d.dataset)
    data = load_dataset(DatasetSpec.from_dict(d.dataset))
    assert data.image_shape == (1, 8, 8)
    a, epochs = run(Trainer(d, data))
    b, _ = run(Trainer(d, data))
    assert a == b
    assert np.median(a[-8:]) < 0.5 * np.median(a[:8])
    assert max(e.val_metric for e in epochs[-4:]) >= 0.9


def test_the_training_process_takes_the_same_augmented_steps(bars: Path) -> None:
    """The window's path: the child loads the folder from its description and trains
    with augmentation; its losses are bit-identical to a run in this process."""
    from core.datasets.source import DatasetSource
    from core.training.process import TrainingProcess
    from core.training.progress import merge_batches

    d = design(bars, epochs=2)
    spec = DatasetSpec.from_dict(d.dataset)
    data = load_dataset(spec)
    here, _ = run(Trainer(d, data))
    process = TrainingProcess()
    try:
        progress = process.start_run(d, DatasetSource.of(spec, None, data))
        assert progress.done.wait(60), "no 'done' from the training process"
        batch = progress.take_batch()
        assert progress.error == "" and batch is not None
        assert merge_batches([batch]).losses.tolist() == here
    finally:
        process.close()
