"""Downloads of MNIST-like sets from a local HTTP server the tests start: checksums,
cancellation, offline, truncated transfers, the cache, and loading what was fetched."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from core.datasets import DATASETS, DatasetSpec, load_dataset
from core.datasets import downloaded as dl
from core.datasets.downloads import DownloadCancelled, OfflineError, RemoteFile
from core.errors import DatasetError
from core.storage.user_folder import DATA_DIR_ENV, user_data_folder
from tests.core.datasets.idx_server import closed_port_url, fake_mirror, serve


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local mirror holding a small fake MNIST, the table pointing at its files, and an
    empty data folder (``BACKPROP_STUDIO_DATA_DIR``)."""
    return fake_mirror(tmp_path, monkeypatch)


def _leftovers(name: str = "mnist") -> list[str]:
    folder = dl.dataset_folder(name)
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_the_public_table_lists_published_sums():
    for name in ("mnist", "fashion_mnist"):
        info = dl.DOWNLOADED[name]
        assert len(info.files) == 4 and info.image_shape == (1, 28, 28)
        for remote in info.files:
            assert len(remote.sha256) == 64 and int(remote.sha256, 16) >= 0
            assert remote.size > 1000
        assert all(m.endswith("/") for m in info.mirrors)
        assert not any("yann.lecun.com" in m for m in info.mirrors)
    assert dl.DOWNLOADED["fashion_mnist"].class_names[0] == "T-shirt/top"
    assert DATASETS["mnist"].kind == "download" and DATASETS["mnist"].n_features == 784


def test_download_then_load(mirror):
    calls: list[tuple[int, int]] = []
    with serve(mirror) as url:
        fetched = dl.download("mnist", mirror=url,
                              progress=lambda done, total: calls.append((done, total)) or True)
    assert fetched == [f.name for f in dl.DOWNLOADED["mnist"].files]
    total = dl.DOWNLOADED["mnist"].download_bytes
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:], strict=False))
    assert _leftovers() == sorted(fetched)  # no temporary files left

    data = load_dataset(DatasetSpec.builtin("mnist"))
    assert data.image_shape == (1, 28, 28) and data.n_features == 784
    assert (data.n_train, data.n_val, data.n_classes) == (40, 20, 10)
    assert data.x_train.dtype == np.float32 and data.x_train_raw is data.x_train
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    assert not data.x_train.flags.writeable
    assert data.class_names == tuple("0123456789")

    with serve(mirror) as url:  # cached: nothing fetched again
        assert dl.download("mnist", mirror=url) == []


def test_mirror_from_environment(mirror, monkeypatch):
    with serve(mirror) as url:
        monkeypatch.setenv("BACKPROP_STUDIO_MIRROR", url)
        assert len(dl.download("mnist")) == 4
    assert dl.is_downloaded("mnist")


def test_bad_checksum_refused_and_nothing_cached(mirror, monkeypatch):
    info = dl.DOWNLOADED["mnist"]
    bad = RemoteFile(info.files[0].name, info.files[0].size, "0" * 64)
    monkeypatch.setitem(dl.DOWNLOADED, "mnist",
                        dataclasses.replace(info, files=(bad, *info.files[1:])))
    with serve(mirror) as url, pytest.raises(DatasetError) as error:
        dl.download("mnist", mirror=url)
    assert "SHA-256" in str(error.value) and info.files[0].name in str(error.value)
    assert _leftovers() == []
    assert not dl.is_downloaded("mnist")


def test_cancel_midway_leaves_nothing(mirror):
    seen: list[int] = []

    def progress(done: int, total: int) -> bool:
        seen.append(done)
        return done < 20_000  # stop inside the first (largest) file

    with serve(mirror, pause_s=0.001) as url, pytest.raises(DownloadCancelled):
        dl.download("mnist", mirror=url, progress=progress)
    assert max(seen) >= 20_000
    assert _leftovers() == []


def test_keyboard_interrupt_leaves_nothing(mirror):
    def progress(done: int, total: int) -> bool:
        if done > 5_000:
            raise KeyboardInterrupt
        return True

    with serve(mirror) as url, pytest.raises(KeyboardInterrupt):
        dl.download("mnist", mirror=url, progress=progress)
    assert _leftovers() == []


def test_server_down_says_offline(mirror):
    with pytest.raises(OfflineError) as error:
        dl.download("mnist", mirror=closed_port_url())
    message = str(error.value)
    assert message.startswith("Could not reach 127.0.0.1:")
    assert "no network access" in message and "digits" in message
    assert _leftovers() == []


def test_truncated_file_refused(mirror):
    name = dl.DOWNLOADED["mnist"].files[0].name
    path = mirror / name
    path.write_bytes(path.read_bytes()[:1000])  # the server sends less than published
    with serve(mirror) as url, pytest.raises(DatasetError) as error:
        dl.download("mnist", mirror=url)
    assert name in str(error.value)
    assert _leftovers() == []


def test_missing_file_on_server_named(mirror):
    name = dl.DOWNLOADED["mnist"].files[2].name
    (mirror / name).unlink()
    with serve(mirror) as url, pytest.raises(DatasetError) as error:
        dl.download("mnist", mirror=url)
    assert "404" in str(error.value) and name in str(error.value)
    assert name not in _leftovers()


def test_corrupt_cached_file_detected_and_downloaded_again(mirror):
    with serve(mirror) as url:
        dl.download("mnist", mirror=url)
        cached = dl.dataset_folder("mnist") / dl.DOWNLOADED["mnist"].files[0].name
        good = cached.read_bytes()
        damaged = bytearray(good)
        damaged[100] ^= 0xFF  # same size: only the checksum tells
        cached.write_bytes(bytes(damaged))
        with pytest.raises(DatasetError) as error:
            dl.load_downloaded("mnist")
        assert "damaged" in str(error.value) and str(cached) in str(error.value)
        assert dl.download("mnist", mirror=url) == [cached.name]
    assert cached.read_bytes() == good
    assert dl.load_downloaded("mnist").n_train == 40


def test_not_downloaded_says_how(mirror):
    with pytest.raises(DatasetError) as error:
        load_dataset(DatasetSpec.builtin("mnist"))
    message = str(error.value)
    assert "not downloaded yet" in message and "--dataset mnist" in message


def test_data_folder_override(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert dl.dataset_folder("mnist") == tmp_path / "datasets" / "mnist"
    monkeypatch.delenv(DATA_DIR_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and not str(user_data_folder()).startswith(str(Path.home() / "Library")):
        assert user_data_folder() == tmp_path / "xdg" / "Backprop Studio" / "Backprop Studio"


def test_the_training_process_loads_it_again_from_its_description(mirror):
    """The window sends a DatasetSource; the training process loads the cached files."""
    from core.datasets.source import to_send

    with serve(mirror) as url:
        dl.download("mnist", mirror=url)
    spec = DatasetSpec.builtin("mnist")
    data = load_dataset(spec)
    source = to_send(data, spec.to_dict(), None)
    again = source.load()
    np.testing.assert_array_equal(again.x_val, data.x_val)
    np.testing.assert_array_equal(again.y_train, data.y_train)
