"""Project files: design + dataset choice + weights + history in one safetensors file.

Loading checks everything against the design and fails only with ``FileFormatError``;
saving is atomic.
"""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import replace

import numpy as np
import pytest

from core import FileFormatError, build_network
from core.files.design_file import load_design
from core.files.project import (
    HISTORY_KEYS,
    PROJECT_FORMAT,
    Project,
    load_project,
    parse_project,
    project_bytes,
    save_project,
)
from core.files.safetensors import decode, encode
from core.resources import resource_path

NAN = math.nan


@pytest.fixture(scope="module")
def project() -> Project:
    design = load_design(resource_path("examples", "xor.json"))
    net = build_network(design.network, seed=3, dtype=np.float32)
    history = [
        {"epoch": 1, "step": 32, "train_loss": 0.5, "val_loss": 0.6, "train_metric": 0.8,
         "val_metric": 0.75},
        {"epoch": 2, "step": 64, "train_loss": 0.25, "val_loss": NAN, "train_metric": 0.9,
         "val_metric": NAN},
    ]
    steps = np.array([[1, 0.7], [2, 0.69], [4, NAN], [8, 0.5]])
    return Project(design, net.state_dict(), history, steps)


def parts(project: Project) -> tuple[dict[str, np.ndarray], dict[str, str], dict]:
    """The tensors, metadata and project JSON body of a saved project."""
    tensors, meta = decode(project_bytes(project), "x")
    return tensors, meta, json.loads(meta["project"])


def rebuilt(tensors: dict, meta: dict, body: dict | None = None) -> bytes:
    if body is not None:
        meta = {**meta, "project": json.dumps(body)}
    return encode(tensors, meta)


def fails(data: bytes, *words: str) -> str:
    with pytest.raises(FileFormatError) as info:
        parse_project(data, "p.bpsproj")
    message = str(info.value)
    assert message.startswith("p.bpsproj: "), message
    for word in words:
        assert word in message, message
    return message


def assert_same_history(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert set(ra) == set(rb) == set(HISTORY_KEYS)
        for k in HISTORY_KEYS:
            assert (math.isnan(ra[k]) and math.isnan(rb[k])) or ra[k] == rb[k], k


# ---------------------------------------------------------------------- round trip


def test_save_load_round_trip(project, tmp_path):
    path = tmp_path / "run.bpsproj"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.design == project.design
    assert loaded.design.dataset == dict(project.design.dataset)
    assert set(loaded.weights) == set(project.weights)
    for name, arr in project.weights.items():
        assert loaded.weights[name].dtype == arr.dtype
        np.testing.assert_array_equal(loaded.weights[name], arr, err_msg=name)
    assert_same_history(loaded.history, project.history)
    assert loaded.steps.dtype == np.float64 and loaded.steps.shape == (4, 2)
    np.testing.assert_array_equal(loaded.steps, project.steps)  # NaN == NaN here
    # The loaded weights fit a network built from the loaded design.
    net = build_network(loaded.design.network)
    net.set_parameters(loaded.weights)
    x = np.array([[0.5, -0.5], [1.0, 1.0]], dtype=np.float32)
    ref = build_network(project.design.network)
    ref.set_parameters(project.weights)
    np.testing.assert_array_equal(net.predict(x), ref.predict(x))


def test_project_without_weights_or_history(project, tmp_path):
    path = tmp_path / "fresh.bpsproj"
    save_project(Project(project.design), path)
    loaded = load_project(path)
    assert loaded.design == project.design
    assert loaded.weights is None and loaded.history == []
    assert loaded.steps.shape == (0, 2)


def test_weights_are_plain_safetensors_with_the_project_in_metadata(project):
    tensors, meta, body = parts(project)
    assert meta["format"] == PROJECT_FORMAT and meta["version"] == "1"
    assert set(tensors) == {f"weights.{k}" for k in project.weights} | {"history.steps"}
    assert set(body) == {"design", "history"}
    assert body["history"][1]["val_loss"] is None  # NaN is stored as null
    assert body["design"]["network"] == project.design.network.to_dict()


def test_missing_file_is_a_file_format_error(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        load_project(tmp_path / "nope.bpsproj")


# ------------------------------------------------------------- checks on loading


def test_weight_with_the_wrong_shape_names_the_layer_and_both_shapes(project):
    tensors, meta, _ = parts(project)
    tensors["weights.layers.0.weight"] = np.zeros((3, 8), dtype=np.float32)
    fails(rebuilt(tensors, meta), "layers.0.weight", "(3, 8)", "(2, 8)",
          "do not match the design")


def test_missing_weight(project):
    tensors, meta, _ = parts(project)
    del tensors["weights.layers.2.bias"]
    fails(rebuilt(tensors, meta), "layers.2.bias: missing")


def test_extra_weight_for_a_layer_the_design_does_not_have(project):
    tensors, meta, _ = parts(project)
    tensors["weights.layers.9.weight"] = np.ones((2, 2), dtype=np.float32)
    fails(rebuilt(tensors, meta), "layers.9.weight", "no such parameter")


def test_unknown_tensor_outside_the_weights(project):
    tensors, meta, _ = parts(project)
    tensors["optimizer.state"] = np.ones(3)
    fails(rebuilt(tensors, meta), "unknown tensor 'optimizer.state'")


def test_non_finite_weight_is_refused(project):
    tensors, meta, _ = parts(project)
    tensors["weights.layers.4.bias"] = np.array([np.inf], dtype=np.float32)
    fails(rebuilt(tensors, meta), "layers.4.bias", "NaN or infinite")


@pytest.mark.parametrize("steps", [np.zeros(4), np.zeros((2, 3)), np.zeros((2, 2), np.float32),
                                   np.zeros((2, 2), np.int64)])
def test_steps_must_be_n_by_2_float64(project, steps):
    tensors, meta, _ = parts(project)
    tensors["history.steps"] = steps
    fails(rebuilt(tensors, meta), "history.steps must be (n, 2) float64")


@pytest.mark.parametrize("meta_change,words", [
    ({"format": "something-else"}, ["not a Backprop Studio project"]),
    ({"format": None}, ["not a Backprop Studio project"]),
    ({"version": "3"}, ["unknown project version '3'", "reads version 2"]),
    ({"version": "0"}, ["unknown project version '0'"]),
    ({"version": "1.0"}, ["unknown project version"]),
    ({"version": "-1"}, ["unknown project version"]),
    ({"version": ""}, ["unknown project version"]),
    ({"version": None}, ["unknown project version"]),
    ({"version": "\u00b2"}, ["unknown project version"]),  # str.isdigit() but not int()
    ({"version": "9" * 5000}, ["unknown project version"]),  # over int()'s digit limit
    ({"project": None}, ["not valid JSON"]),
    ({"project": "[1, 2]"}, ["must be an object with design and history"]),
    ({"project": '{"design": {}, "extra": 1}'}, ["must be an object with design and history"]),
    ({"project": '{"design": {"a": NaN}}'}, ["NaN"]),
    # A lone surrogate in the metadata string itself (a "\ud800" escape in the header,
    # replaced by U+FFFD)...
    ({"project": '{"design": "\ud800"}'}, ["a design must be a JSON object, got '\ufffd'"]),
    # ... and one inside the project JSON.
    ({"project": '{"design": "\\ud800"}'}, ["a design must be a JSON object"]),
])
def test_wrong_format_version_or_body(project, meta_change, words):
    tensors, meta, _ = parts(project)
    meta = {k: v for k, v in {**meta, **meta_change}.items() if v is not None}
    fails(encode(tensors, meta), *words)


def test_invalid_design_inside_names_the_field(project):
    tensors, meta, body = parts(project)
    body["design"]["training"]["learning_rate"] = -1
    body["design"]["network"]["layers"][2]["units"] = "many"
    fails(rebuilt(tensors, meta, body), "the design is invalid",
          "training.learning_rate", "network.layers[2].units")


def test_design_of_another_kind_inside(project):
    tensors, meta, body = parts(project)
    body["design"]["format"] = "something"
    fails(rebuilt(tensors, meta, body), "the design is invalid", "format")


@pytest.mark.parametrize("dataset,field", [
    ({"kind": "synthetic", "name": "nope"}, "dataset.name"),
    ({"kind": "synthetic", "name": "xor", "noise": 3}, "dataset.noise"),
    ({"kind": "teapot"}, "dataset.kind"),
    ({"kind": "csv"}, "dataset.path"),
])
def test_invalid_dataset_choice_inside_names_the_field(project, dataset, field):
    tensors, meta, body = parts(project)
    body["design"]["dataset"] = dataset
    fails(rebuilt(tensors, meta, body), "the dataset choice is invalid", field)


@pytest.mark.parametrize("history,words", [
    ({"epoch": 1}, ["history must be a list"]),
    ([{"epoch": 1}], ["history[0] must have exactly"]),
    ([dict.fromkeys(HISTORY_KEYS, 1), dict.fromkeys(HISTORY_KEYS, "x")],
     ["history[1].epoch must be a number or null"]),
    ([dict.fromkeys(HISTORY_KEYS, True)], ["must be a number or null"]),
])
def test_bad_history(project, history, words):
    tensors, meta, body = parts(project)
    body["history"] = history
    fails(rebuilt(tensors, meta, body), *words)


def test_weights_for_a_design_that_has_no_such_layer_size(project):
    # The weights of a wider network saved with a narrower design.
    design = project.design
    wide = replace(design.network, layers=(replace(design.network.layers[0], units=9),
                                           *design.network.layers[1:]))
    weights = build_network(wide).state_dict()
    message = fails(project_bytes(Project(design, weights)), "layers.0.weight", "(2, 9)",
                    "(2, 8)")
    assert "layers.2.weight" in message  # every mismatch is listed, not just the first


# ------------------------------------------------------ truncation and corruption


def test_every_truncation_point_raises_file_format_error(project):
    small = Project(project.design, None, project.history[:1], project.steps[:2])
    data = project_bytes(small)
    parse_project(data, "p.bpsproj")
    for cut in range(len(data)):
        with pytest.raises(FileFormatError):
            parse_project(data[:cut], "p.bpsproj")


def test_random_byte_mutations_raise_file_format_error_or_load(project):
    data = project_bytes(project)
    loaded = 0
    for seed in range(300):
        rng = random.Random(seed)
        b = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(b))
            if rng.random() < 0.7:
                b[i] = rng.randrange(256)
            else:
                b[i] = rng.choice(b'0123456789[]{},:"-.eEnul \\')
        try:
            p = parse_project(bytes(b), "p.bpsproj")
        except FileFormatError:
            continue
        loaded += 1
        # Whatever loads is a checked project: valid design, fitting finite weights.
        assert p.design.validate() == []
        if p.weights is not None:
            build_network(p.design.network).set_parameters(p.weights)
        assert p.steps.ndim == 2 and p.steps.shape[1] == 2
    assert loaded > 0  # mutations inside the tensor data still load


# -------------------------------------------------------------------- atomic save


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_failed_save_leaves_the_previous_file_and_no_temporaries(project, tmp_path,
                                                                  monkeypatch, broken):
    path = tmp_path / "run.bpsproj"
    save_project(project, path)
    before = path.read_bytes()
    other = Project(project.design, {k: v + 1 for k, v in project.weights.items()})

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(OSError, match="No space left"):
        save_project(other, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["run.bpsproj"]
    assert path.read_bytes() == before
    again = load_project(path)
    for name, arr in project.weights.items():
        np.testing.assert_array_equal(again.weights[name], arr)
    # The next save goes through and replaces the file.
    save_project(other, path)
    assert os.listdir(tmp_path) == ["run.bpsproj"]
    np.testing.assert_array_equal(load_project(path).weights["layers.0.bias"],
                                  project.weights["layers.0.bias"] + 1)


def test_save_keeps_the_permission_bits_of_the_file_it_replaces(project, tmp_path):
    path = tmp_path / "run.bpsproj"
    save_project(project, path)
    os.chmod(path, 0o640)
    save_project(project, path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_image_design_project_round_trip(tmp_path):
    """A conv design with batch norm and an image projection comes back as saved: the
    same design, 4-D weights and running statistics, and the same predictions."""
    from core.design.spec import (
        ActivationSpec,
        BatchNormSpec,
        Conv2DSpec,
        DenseSpec,
        Design,
        GlobalAvgPoolSpec,
        MaxPool2DSpec,
        NetworkSpec,
        ResidualSpec,
    )

    spec = NetworkSpec(64, (Conv2DSpec(4), BatchNormSpec(), ActivationSpec("relu"),
                            ResidualSpec((Conv2DSpec(6, stride=2),), projection=True),
                            MaxPool2DSpec(), GlobalAvgPoolSpec(), DenseSpec(10),
                            ActivationSpec("softmax")), input_shape=(1, 8, 8))
    design = Design(spec, dataset={"kind": "builtin", "name": "digits"})
    net = build_network(spec, seed=4)
    x = np.random.default_rng(2).normal(size=(5, 64)).astype(np.float32)
    net.forward(x)  # moves the batch-norm running statistics off their start
    path = tmp_path / "conv.bpsproj"
    save_project(Project(design, net.state_dict(), [], np.zeros((0, 2))), path)
    loaded = load_project(path)
    assert loaded.design == design
    assert loaded.weights["layers.0.weight"].shape == (4, 1, 3, 3)
    assert loaded.weights["layers.3.projection.weight"].shape == (6, 4, 1, 1)
    again = build_network(loaded.design.network)
    again.set_parameters(loaded.weights)
    np.testing.assert_array_equal(again.predict(x), net.predict(x))
