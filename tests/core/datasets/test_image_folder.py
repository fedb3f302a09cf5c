"""Image-folder import: layout, options, every refusal, progress and cancellation, and its
place in DatasetSpec (kind "images")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import core.datasets.image_folder as image_folder
from core.datasets import DatasetSpec, DatasetSpecError, ImportCancelled, load_dataset
from core.datasets.image_folder import NonImageFiles, load_image_folder, scan_image_folder
from core.errors import DatasetError


def write_image(path: Path, width: int = 6, height: int = 4, value: int = 200,
                mode: str = "RGB", fmt: str | None = None) -> Path:
    """An image whose pixel (row r, column c) is ``value`` in its first channel at the
    top-left, with a gradient so orientation can be checked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = np.arange(height)[:, None] * 10 + np.arange(width)[None, :]
    base = np.clip(rows + value - rows.max(), 0, 255).astype(np.uint8)
    if mode == "L":
        array = base
    else:
        array = np.stack([base, np.zeros_like(base), np.full_like(base, 7)], axis=-1)
    Image.fromarray(array, mode).save(path, format=fmt)
    return path


def make_folder(root: Path, classes: dict[str, int], **kwargs: object) -> Path:
    for name, count in classes.items():
        for i in range(count):
            write_image(root / name / f"{i:03d}.png", **kwargs)  # type: ignore[arg-type]
    return root


@pytest.fixture
def pets(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "pets", {"dogs": 5, "cats": 5})


def test_classes_are_sorted_folder_names_and_rows_are_channel_major(pets: Path) -> None:
    d = load_image_folder(pets, val_fraction=0.2, seed=1)
    assert d.class_names == ("cats", "dogs")
    assert d.image_shape == (3, 4, 6)
    assert d.n_features == 3 * 4 * 6
    assert (d.n_train, d.n_val) == (8, 2)
    assert sorted(np.bincount(np.concatenate([d.y_train, d.y_val])).tolist()) == [5, 5]
    image = d.x_train[0].reshape(3, 4, 6)
    # Red carries the gradient (bottom-right brightest, 200/255); green 0; blue 7/255.
    assert image[0, -1, -1] == pytest.approx(200 / 255)
    assert image[0, 0, 0] < image[0, 0, 1] < image[0, 1, 0]
    assert np.all(image[1] == 0)
    assert np.allclose(image[2], 7 / 255)
    # Pixels scaled to [0, 1], not standardised: the raw rows are the rows.
    assert np.array_equal(d.x_train, d.x_train_raw)
    assert np.all(d.feature_mean == 0) and np.all(d.feature_std == 1)
    assert d.feature_names[0] == "red_0_0" and d.feature_names[-1] == "blue_3_5"


def test_grayscale_has_one_channel(pets: Path) -> None:
    d = load_image_folder(pets, grayscale=True)
    assert d.image_shape == (1, 4, 6)
    assert d.n_features == 24
    assert d.feature_names[0] == "gray_0_0"


def test_resize_to_a_chosen_size_accepts_mixed_sizes_and_jpeg(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    write_image(root / "a" / "big.png", width=40, height=30)
    write_image(root / "a" / "small.jpg", width=9, height=5, fmt="JPEG")
    write_image(root / "b" / "gray.png", width=12, height=12, mode="L")
    d = load_image_folder(root, size=(8, 10), val_fraction=0.0)
    assert d.image_shape == (3, 8, 10)
    assert d.x_train.shape == (3, 240)
    assert d.x_train.min() >= 0.0 and d.x_train.max() <= 1.0


def test_mixed_sizes_without_resizing_name_two_files_and_their_sizes(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    write_image(root / "a" / "one.png", width=6, height=4)
    write_image(root / "a" / "two.png", width=6, height=4)
    write_image(root / "b" / "odd.png", width=5, height=4)
    with pytest.raises(DatasetError) as info:
        load_image_folder(root)
    message = str(info.value)
    assert "a/one.png is 6x4" in message and "b/odd.png is 5x4" in message
    assert "resize" in message


def test_corrupt_images_are_refused_by_name(pets: Path) -> None:
    (pets / "cats" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"nonsense" * 10)
    with pytest.raises(DatasetError, match=r"cats/broken\.png is not a readable image"):
        load_image_folder(pets)


def test_a_truncated_image_is_refused_by_name(pets: Path) -> None:
    good = write_image(pets / "dogs" / "zz.jpg", width=64, height=64, fmt="JPEG")
    good.write_bytes(good.read_bytes()[:300])
    with pytest.raises(DatasetError, match=r"dogs/zz\.jpg is not a readable image"):
        load_image_folder(pets)


def test_a_gif_named_png_is_refused(pets: Path) -> None:
    Image.new("L", (6, 4)).save(pets / "cats" / "fake.png", format="GIF")
    with pytest.raises(DatasetError, match=r"cats/fake\.png is a GIF image, not PNG or JPEG"):
        load_image_folder(pets)


def test_an_empty_class_folder_is_refused(pets: Path) -> None:
    (pets / "birds").mkdir()
    with pytest.raises(DatasetError, match=r"class folder birds/ holds no PNG or JPEG"):
        load_image_folder(pets)


def test_a_single_class_is_refused(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "one", {"only": 3})
    with pytest.raises(DatasetError, match=r"only one class folder \(only/\)"):
        load_image_folder(root)


def test_a_folder_without_subfolders_or_missing_is_refused(tmp_path: Path) -> None:
    write_image(tmp_path / "flat" / "a.png")
    with pytest.raises(DatasetError, match="has no subfolders"):
        load_image_folder(tmp_path / "flat")
    with pytest.raises(DatasetError, match="no such folder"):
        load_image_folder(tmp_path / "absent")


def test_non_image_files_are_listed_and_skipped_only_on_request(pets: Path) -> None:
    (pets / "cats" / "notes.txt").write_text("hi")
    (pets / "README.md").write_text("hi")
    (pets / "dogs" / "nested").mkdir()
    (pets / ".DS_Store").write_text("ignored: a hidden file")
    with pytest.raises(NonImageFiles) as info:
        load_image_folder(pets)
    assert info.value.files == ("README.md", "cats/notes.txt", "dogs/nested/")
    assert "3 files are not PNG or JPEG images" in str(info.value)
    d = load_image_folder(pets, skip_non_images=True)
    assert d.n_train + d.n_val == 10
    assert any("3 files that are not images skipped" in note for note in d.notes)


def test_the_listing_of_many_files_is_bounded(pets: Path) -> None:
    for i in range(20):
        (pets / "cats" / f"n{i:02d}.txt").write_text("x")
    with pytest.raises(NonImageFiles) as info:
        load_image_folder(pets)
    assert len(info.value.files) == 20
    assert "and 12 more" in str(info.value)


def test_folder_limits_count_bytes_and_values(pets: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_folder, "MAX_FILES", 9)
    with pytest.raises(DatasetError, match="holds 10 images, over the limit of 9"):
        load_image_folder(pets)
    monkeypatch.setattr(image_folder, "MAX_FILES", 100)
    monkeypatch.setattr(image_folder, "MAX_TOTAL_BYTES", 100)
    with pytest.raises(DatasetError, match="over the limit of 0.0 MB"):
        load_image_folder(pets)
    monkeypatch.setattr(image_folder, "MAX_TOTAL_BYTES", 10**9)
    monkeypatch.setattr(image_folder, "MAX_VALUES", 10 * 3 * 4 * 6 - 1)
    with pytest.raises(DatasetError, match=r"10 images of 3x4x6 are 720 pixel values"):
        load_image_folder(pets)
    # Checked before decoding when resizing: a corrupt file is not reached.
    (pets / "cats" / "000.png").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match=r"10 images of 1x50x50"):
        load_image_folder(pets, size=(50, 50), grayscale=True)


def test_pixels_per_image_are_checked_from_the_header(pets: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_folder, "MAX_IMAGE_PIXELS", 23)
    with pytest.raises(DatasetError, match=r"cats/000\.png is 6x4 pixels, over the limit"):
        load_image_folder(pets)


def test_decompression_bombs_are_refused(pets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # Pillow warns above, fails at 2x
    with pytest.raises(DatasetError, match=r"cats/000\.png is (too large to decode safely|"
                                           r"not a readable image)"):
        load_image_folder(pets)


def test_progress_counts_files_and_cancel_stops_between_files(pets: Path) -> None:
    calls: list[tuple[int, int]] = []
    load_image_folder(pets, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 10) for i in range(1, 11)]
    seen: list[int] = []
    with pytest.raises(ImportCancelled):
        load_image_folder(pets, progress=lambda done, total: seen.append(done),
                          cancelled=lambda: len(seen) >= 3)
    assert seen == [1, 2, 3]


def test_bad_options_are_refused(pets: Path) -> None:
    with pytest.raises(DatasetError, match="size must be"):
        load_image_folder(pets, size=(0, 4))
    with pytest.raises(DatasetError, match="val_fraction"):
        load_image_folder(pets, val_fraction=0.95)


def test_scan_lists_without_opening(pets: Path) -> None:
    (pets / "cats" / "000.png").write_bytes(b"corrupt, but not opened by a scan")
    scan = scan_image_folder(pets)
    assert scan.classes == ("cats", "dogs")
    assert len(scan.images) == 10 and scan.others == ()


def test_the_spec_round_trips_and_loads_relative_to_the_design(pets: Path) -> None:
    spec = DatasetSpec.images("pets", size=(4, 4), grayscale=True, seed=3, val_fraction=0.4)
    data = json.loads(json.dumps(spec.to_dict()))
    assert data["size"] == [4, 4] and "augment" not in data
    assert DatasetSpec.from_dict(data) == spec
    fractions: list[float] = []
    d = load_dataset(spec, base_dir=pets.parent,
                     progress=lambda f: fractions.append(f) or True)
    assert d.image_shape == (1, 4, 4) and d.n_val == 4
    assert fractions[-1] == 1.0 and len(fractions) == 10
    with pytest.raises(ImportCancelled):
        load_dataset(spec, base_dir=pets.parent, progress=lambda f: False)


def test_the_spec_checks_image_options() -> None:
    with pytest.raises(DatasetSpecError) as info:
        DatasetSpec.from_dict({"kind": "images", "path": "x", "size": [0, 3],
                               "grayscale": "yes", "augment": {"shift": 99}})
    paths = {p.path for p in info.value.problems}
    assert paths == {"dataset.size", "dataset.grayscale", "dataset.augment.shift"}
    with pytest.raises(DatasetSpecError, match="not an image dataset"):
        DatasetSpec.from_dict({"kind": "builtin", "name": "iris", "augment": {"flip": True}})
    with pytest.raises(DatasetSpecError, match="does not apply to a csv dataset"):
        DatasetSpec(kind="csv", path="a.csv", grayscale=True)


def test_the_training_process_loads_the_folder_again_and_notices_a_change(pets: Path) -> None:
    import pickle  # noqa: S403 - checking that the description crosses processes

    from core.datasets.source import DatasetSource

    spec = DatasetSpec.images("pets", val_fraction=0.2)
    loaded = load_dataset(spec, base_dir=pets.parent)
    source = pickle.loads(pickle.dumps(DatasetSource.of(spec, pets.parent, loaded)))
    again = source.load()
    assert np.array_equal(again.x_train, loaded.x_train)
    write_image(pets / "cats" / "new.png", value=90)
    with pytest.raises(DatasetError, match="the image folder pets changed since"):
        source.load()
