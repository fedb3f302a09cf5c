"""``main.py train --images FOLDER``: image folders on the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from core import ActivationSpec, DenseSpec, Design, NetworkSpec, TrainConfig
from core.design.image_specs import Conv2DSpec, FlattenSpec
from core.files.design_file import load_design, save_design
from core.resources import resource_path

XOR = str(resource_path("examples", "xor.json"))  # two classes, one sigmoid output


def run(capsys, *args: object) -> tuple[int, str, str]:
    rc = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def folder(root: Path, sizes: tuple[tuple[int, int], ...] = ((6, 5),) * 4) -> Path:
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        for i, (w, h) in enumerate(sizes):
            (root / label).mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(0, 255, (h, w, 3)).astype(np.uint8)
            Image.fromarray(pixels, "RGB").save(root / label / f"{i}.png")
    return root


def test_train_on_an_image_folder_resized_and_gray(capsys, tmp_path: Path) -> None:
    images = folder(tmp_path / "shapes", ((6, 5), (9, 7), (6, 5), (12, 12)))
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "train", XOR, "--images", images, "--image-size", "4x3",
                          "--grayscale", "--epochs", "2", "--out", out)
    assert rc == 0, err
    assert "Finished 2 epochs" in stdout
    assert "using the dataset's 12" in err  # 1 x 4 x 3 inputs
    dataset = load_design(out / "design.json").dataset
    assert dataset["kind"] == "images" and dataset["size"] == [4, 3]
    assert dataset["grayscale"] is True and Path(dataset["path"]) == images


@pytest.mark.parametrize("args,words", [
    (["--images", "{tmp}/mixed"], ["mixed: images differ in size", "a/0.png is 6x5",
                                   "a/1.png is 7x5"]),
    (["--images", "{tmp}/junk"], ["junk: 1 file is not a PNG or JPEG image: a/notes.txt",
                                  "--skip-non-images leaves them out"]),
    (["--images", "{tmp}/none"], ["none: no such folder"]),
    (["--images", "{tmp}/mixed", "--image-size", "big"], ["--image-size must be HEIGHTxWIDTH"]),
    (["--image-size", "4x4"], ["--image-size only applies with --images"]),
    (["--grayscale"], ["--grayscale only applies with --images"]),
])
def test_refusals_print_one_line_and_exit_2(capsys, tmp_path: Path, args, words) -> None:
    folder(tmp_path / "mixed", ((6, 5), (7, 5)))
    (folder(tmp_path / "junk") / "a" / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc, _, err = run(capsys, "train", XOR, *argv, "--out", out)
    assert rc == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], lines[0]
    assert not out.exists()


def test_skip_non_images_trains(capsys, tmp_path: Path) -> None:
    (folder(tmp_path / "junk") / "a" / "notes.txt").write_text("not an image")
    rc, _, err = run(capsys, "train", XOR, "--images", tmp_path / "junk", "--skip-non-images",
                     "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert rc == 0, err


def test_a_conv_design_trains_on_an_image_folder(capsys, tmp_path: Path) -> None:
    images = folder(tmp_path / "shapes", ((6, 5), (9, 7), (6, 5), (12, 12)))
    net = NetworkSpec(1, (Conv2DSpec(2, 3), ActivationSpec("relu"), FlattenSpec(),
                          DenseSpec(2), ActivationSpec("softmax")))
    path = tmp_path / "conv.json"
    save_design(Design(net, TrainConfig(loss="softmax_cross_entropy", batch_size=4)), path)
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "train", path, "--images", images, "--image-size", "6x6",
                          "--epochs", "2", "--out", out)
    assert rc == 0, err
    assert "Finished 2 epochs" in stdout
    trained = load_design(out / "design.json")
    assert trained.network.input_shape == (3, 6, 6) and trained.network.inputs == 108
