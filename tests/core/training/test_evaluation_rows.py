"""Evaluation chunks: image networks evaluate in chunks small enough that the image
layers' per-batch buffers stay tens of MB (bench/conv_memory.py), with the same results
as one pass over all rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig, build_network
from core.datasets.dataset import build_dataset
from core.design.spec import Conv2DSpec, FlattenSpec
from core.training.trainer import EVAL_CHUNK, EVAL_IMAGE_VALUES, Trainer, evaluation_rows

CONV = NetworkSpec(inputs=784, input_shape=(1, 28, 28), layers=(
    Conv2DSpec(filters=8, kernel=3, padding="valid"), FlattenSpec(), DenseSpec(units=10),
    ActivationSpec(function="softmax")))


def test_image_networks_evaluate_in_chunks_sized_by_their_layer_outputs():
    dense = build_network(NetworkSpec(inputs=784, layers=(DenseSpec(units=10),)))
    assert evaluation_rows(dense) == EVAL_CHUNK
    rows = evaluation_rows(build_network(CONV))
    per_row = 8 * 26 * 26 * 2 + 10 + 10  # conv, flatten, dense and softmax outputs
    assert rows == EVAL_IMAGE_VALUES // per_row
    assert 64 <= rows < EVAL_CHUNK


def test_chunked_evaluation_equals_one_pass_over_all_rows():
    rng = np.random.default_rng(0)
    n = 400
    dataset = build_dataset(name="images", task="classification",
                            x_raw=rng.normal(size=(n, 784)), y=rng.integers(0, 10, n),
                            raw_feature_names=[f"p{i}" for i in range(784)],
                            target_names=["label"], class_names=[str(i) for i in range(10)])
    training = replace(TrainConfig(), loss="softmax_cross_entropy", dtype="float64")
    trainer = Trainer(Design(network=CONV, training=training), dataset)
    rows = evaluation_rows(trainer.network)
    assert trainer.X.shape[0] > 2 * rows  # several chunks and a shorter last one
    loss, out = trainer.evaluate(trainer.X, trainer.Y)
    whole = trainer.network.forward(trainer.X, False, trainer.stepper.logits)
    np.testing.assert_allclose(out, whole, rtol=1e-12, atol=1e-12)
    assert np.isclose(loss, trainer.stepper.loss.value(whole, trainer.Y), rtol=1e-12)
