"""DatasetSpec round trips and validation, load_dataset, and the dataset registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.datasets import (
    DATASETS,
    DatasetSpec,
    DatasetSpecError,
    dataset_info,
    list_datasets,
    load_dataset,
    make_synthetic,
)
from core.errors import DatasetError

SPECS = [
    DatasetSpec(),
    DatasetSpec.synthetic("spiral", samples=300, noise=0.25, seed=9, features=["x1^2", "sin(x2)"]),
    DatasetSpec.synthetic("sine", samples=60, val_fraction=0.0, features=["sin(x1)"]),
    DatasetSpec.builtin("digits", seed=4, val_fraction=0.3),
    DatasetSpec.csv("data/points.csv", target="label", task="classification", seed=2),
    DatasetSpec.csv("points.csv", target=0),
    DatasetSpec.csv("points.csv"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kind}-{s.name or s.path}")
def test_round_trip_through_json(spec: DatasetSpec) -> None:
    data = json.loads(json.dumps(spec.to_dict()))
    assert DatasetSpec.from_dict(data) == spec


def test_to_dict_holds_only_the_keys_of_the_kind() -> None:
    assert DatasetSpec.builtin("iris").to_dict() == {
        "kind": "builtin",
        "name": "iris",
        "seed": 0,
        "val_fraction": 0.2,
    }
    assert DatasetSpec.synthetic("xor", features=("x1*x2",)).to_dict()["features"] == ["x1*x2"]
    assert set(DatasetSpec.csv("a.csv").to_dict()) == {
        "kind",
        "path",
        "target",
        "task",
        "seed",
        "val_fraction",
    }


def test_from_dict_fills_defaults() -> None:
    spec = DatasetSpec.from_dict({"kind": "synthetic", "name": "moons"})
    assert (spec.samples, spec.noise, spec.seed, spec.val_fraction, spec.features) == (
        500,
        0.0,
        0,
        0.2,
        (),
    )


def problems_of(data: object) -> list[str]:
    with pytest.raises(DatasetSpecError) as info:
        DatasetSpec.from_dict(data)
    assert isinstance(info.value, DatasetError)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return [str(p) for p in info.value.problems]


def test_bad_synthetic_spec_reports_every_problem() -> None:
    problems = problems_of(
        {
            "kind": "synthetic",
            "name": "donut",
            "samples": 2,
            "noise": 3,
            "seed": -1,
            "val_fraction": "half",
            "features": ["x1^2", "x1^2", 7, "x9"],
            "colour": "red",
        }
    )
    assert problems == [
        "dataset.colour: unknown key for a synthetic dataset (known: kind, name, samples, "
        "noise, seed, val_fraction, features)",
        "dataset.name: unknown synthetic dataset 'donut' (known: circle, xor, gaussians, "
        "spiral, moons, plane, multi_gaussian, sine)",
        "dataset.samples: must be between 10 and 100000, got 2",
        "dataset.noise: must be between 0 and 1, got 3",
        "dataset.seed: must be a non-negative integer, got -1",
        "dataset.val_fraction: must be a number, got 'half'",
        "dataset.features[1]: derived feature 'x1^2' is listed twice",
        "dataset.features[2]: must be a derived feature name, got 7",
        "dataset.features[3]: unknown derived feature 'x9' (known: x1^2, x2^2, x1*x2, "
        "sin(x1), sin(x2))",
    ]


def test_bad_builtin_and_csv_specs() -> None:
    assert problems_of({"kind": "builtin", "name": "cifar", "seed": True, "noise": 0.1}) == [
        "dataset.noise: unknown key for a builtin dataset (known: kind, name, seed, "
        "val_fraction, augment)",
        "dataset.name: unknown built-in dataset 'cifar' (known: digits, iris, diabetes, "
        "mnist, fashion_mnist)",
        "dataset.seed: must be a non-negative integer, got True",
    ]
    assert problems_of({"kind": "csv", "target": 1.5, "task": "guess", "val_fraction": 0.95}) == [
        "dataset.path: is required",
        "dataset.target: must be a column name, a 0-based column index or null, got 1.5",
        "dataset.task: must be one of auto, classification, regression, got 'guess'",
        "dataset.val_fraction: must be between 0 and 0.9, got 0.95",
    ]
    assert problems_of({"kind": "builtin"}) == ["dataset.name: is required"]


def test_structural_problems() -> None:
    assert problems_of(["kind", "synthetic"]) == [
        "dataset: must be a mapping, got ['kind', 'synthetic']"
    ]
    assert problems_of({}) == [
        "dataset.kind: must be one of synthetic, builtin, csv, images; is required"
    ]
    assert problems_of({"kind": "sql"}) == [
        "dataset.kind: must be one of synthetic, builtin, csv, images; got 'sql'"
    ]
    assert problems_of({"kind": "synthetic", "name": "sine", "features": "x1^2"}) == [
        "dataset.features: must be a list of feature names, got 'x1^2'"
    ]
    assert problems_of({"kind": "synthetic", "name": "sine", "features": ["x1*x2"]}) == [
        "dataset.features[0]: derived feature 'x1*x2' needs input x2, but the dataset has "
        "1 input feature(s)"
    ]


def test_constructor_validates_too() -> None:
    with pytest.raises(DatasetSpecError) as info:
        DatasetSpec(kind="builtin", name="iris", noise=0.5, samples=100)
    assert [str(p) for p in info.value.problems] == [
        "dataset.samples: does not apply to a builtin dataset",
        "dataset.noise: does not apply to a builtin dataset",
    ]
    with pytest.raises(DatasetSpecError, match="dataset.kind: must be one of"):
        DatasetSpec(kind="json")
    assert DatasetSpec(features=["x1^2"]).features == ("x1^2",)


def test_load_dataset_for_each_kind(tmp_path: Path) -> None:
    spec = DatasetSpec.synthetic("circle", samples=80, noise=0.1, seed=3, features=["x1^2"])
    ds = load_dataset(spec)
    direct = make_synthetic("circle", 80, 0.1, 3, 0.2, ["x1^2"])
    np.testing.assert_array_equal(ds.x_train, direct.x_train)
    assert load_dataset(DatasetSpec.builtin("iris", val_fraction=0.4)).n_val == 60
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.csv").write_text("a,b\n1,x\n2,y\n3,x\n4,y\n", encoding="utf-8")
    csv_spec = DatasetSpec.csv("sub/p.csv", target="b", val_fraction=0.0)
    ds = load_dataset(csv_spec, base_dir=tmp_path)
    assert ds.class_names == ("x", "y") and ds.n_train == 4
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(csv_spec, base_dir=tmp_path / "elsewhere")


def test_registry_lists_every_dataset_with_true_sizes() -> None:
    assert list(DATASETS) == [
        "circle",
        "xor",
        "gaussians",
        "spiral",
        "moons",
        "plane",
        "multi_gaussian",
        "sine",
        "digits",
        "iris",
        "diabetes",
        "mnist",
        "fashion_mnist",
    ]
    for info in list_datasets():
        if info.kind == "download":  # not here; tests/core/datasets/test_downloads.py
            continue
        assert info.description and "\n" not in info.description
        spec = (
            DatasetSpec.synthetic(info.name, samples=40)
            if info.kind == "synthetic"
            else DatasetSpec.builtin(info.name)
        )
        ds = load_dataset(spec)
        assert (ds.task, ds.n_features, ds.n_outputs) == (
            info.task,
            info.n_features,
            info.n_outputs,
        )
        assert ds.image_shape == info.image_shape
        if info.n_samples is not None:
            assert ds.n_train + ds.n_val == info.n_samples
    assert [i.name for i in list_datasets("builtin")] == ["digits", "iris", "diabetes"]
    assert [i.name for i in list_datasets("download")] == ["mnist", "fashion_mnist"]
    assert dataset_info("digits").image_shape == (1, 8, 8)
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        dataset_info("cifar")
    with pytest.raises(DatasetError, match="kind must be"):
        list_datasets("csv")
