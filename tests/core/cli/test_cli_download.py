"""``train --dataset mnist`` downloads on demand (from a local server the test starts),
with a progress line on stderr; Ctrl+C and no network end cleanly, with nothing partial."""

from __future__ import annotations

import os

import pytest

import main
from core.cli import fetch
from core.datasets import downloaded as dl
from core.resources import resource_path
from tests.core.datasets.idx_server import closed_port_url, fake_mirror, serve

DIGITS = str(resource_path("examples", "digits.json"))


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    return fake_mirror(tmp_path, monkeypatch, n_train=60, n_test=20)


def _train(capsys, tmp_path, *extra: str) -> tuple[int, str, str]:
    rc = main.main(["train", DIGITS, "--dataset", "mnist", "--epochs", "1", "--quiet",
                    "--out", str(tmp_path / "run"), *extra])
    out, err = capsys.readouterr()
    return rc, out, err


def test_train_downloads_then_trains(mirror, tmp_path, capsys, monkeypatch):
    with serve(mirror) as url:
        monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
        rc, out, err = _train(capsys, tmp_path)
    assert rc == 0, err
    assert "downloading MNIST:" in err and "(100%)" in err
    assert "using the dataset's 784" in err  # the 8x8 design's inputs follow the data
    assert dl.is_downloaded("mnist")
    rc, out, err = _train(capsys, tmp_path)  # cached: no second download
    assert rc == 0 and "downloading" not in err


def test_ctrl_c_cancels_cleanly(mirror, tmp_path, capsys, monkeypatch):
    real_call = fetch.DownloadLine.__call__

    def interrupted(self, done, total):
        if done > 5_000:
            raise KeyboardInterrupt
        return real_call(self, done, total)

    monkeypatch.setattr(fetch.DownloadLine, "__call__", interrupted)
    with serve(mirror) as url:
        monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
        rc, out, err = _train(capsys, tmp_path)
    assert rc == 130
    assert "cancelled (Ctrl+C); nothing partial was kept" in err
    assert os.listdir(dl.dataset_folder("mnist")) == []
    assert not (tmp_path / "run").exists()


def test_offline_message(mirror, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", closed_port_url())
    rc, out, err = _train(capsys, tmp_path)
    assert rc == 2
    assert "error: Could not reach 127.0.0.1:" in err
    assert "The shipped datasets (digits, iris, diabetes) still work." in err
