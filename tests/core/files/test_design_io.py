"""Design files: round trips, atomic saves, and corrupt files that must fail cleanly with
``FileFormatError`` or ``DesignError`` (never any other exception)."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

import core
from core.design.spec import (
    ActivationSpec,
    BatchNormSpec,
    DenseSpec,
    Design,
    DropoutSpec,
    NetworkSpec,
    ResidualSpec,
    TrainConfig,
)
from core.files import design_file as design_io
from core.files.design_file import load_design, save_design
from core.storage.checked_io import MAX_JSON_BYTES, parse_json

CLEAN_ERRORS = (core.FileFormatError, core.DesignError)

DESIGN = Design(
    NetworkSpec(2, (DenseSpec(8, init="he_normal", gain=0.5), ActivationSpec("relu"),
                    DropoutSpec(0.25),
                    ResidualSpec((DenseSpec(4), BatchNormSpec(momentum=0.8)), projection=True),
                    DenseSpec(3, bias=False), ActivationSpec("softmax")),
                default_init="glorot_normal"),
    TrainConfig(loss="softmax_cross_entropy", optimizer="adam", learning_rate=0.003,
                batch_size=16, epochs=7, l2=1e-4, seed=12345, dtype="float64"),
    dataset={"name": "spirals", "samples": 200, "noise": 0.1},
    name="spiral classifier",
)


def _load_outcome(path) -> str:
    """'ok' or 'clean error'; any other exception propagates and fails the test."""
    try:
        load_design(path)
    except CLEAN_ERRORS:
        return "clean error"
    return "ok"


# ------------------------------------------------------------------------ round trip


def test_save_load_round_trip(tmp_path):
    path = tmp_path / "design.json"
    save_design(DESIGN, path)
    assert load_design(path) == DESIGN
    text = path.read_text("utf-8")
    assert text.endswith("\n")
    assert json.loads(text) == DESIGN.to_dict()
    # Saving again over the file gives the same bytes (stable output).
    save_design(DESIGN, path)
    assert path.read_text("utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.json"]


def test_round_trip_of_defaults_and_utf8_bom(tmp_path):
    path = tmp_path / "plain.json"
    design = Design(NetworkSpec(3, (DenseSpec(1),)))
    save_design(design, path)
    assert load_design(path) == design
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a BOM some editors add
    assert load_design(path) == design


def test_save_keeps_permissions_of_an_existing_file(tmp_path):
    path = tmp_path / "design.json"
    save_design(DESIGN, path)
    os.chmod(path, 0o640)
    save_design(Design(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load_design(path) == Design()


def test_new_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save_design(DESIGN, tmp_path / "new.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


# ---------------------------------------------------------------------- atomic save


class Boom(OSError):
    pass


@pytest.mark.parametrize("fail_in", ["replace", "fsync", "chmod"])
@pytest.mark.parametrize("error", [Boom("disk full"), KeyboardInterrupt()])
def test_failed_save_leaves_old_file_and_no_temp_files(tmp_path, monkeypatch, fail_in, error):
    path = tmp_path / "design.json"
    save_design(DESIGN, path)
    old = path.read_bytes()

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(design_io.os, fail_in, fail)
    with pytest.raises(type(error)):
        save_design(Design(name="new"), path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["design.json"]
    assert load_design(path) == DESIGN


def test_failed_first_save_creates_nothing(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise Boom("no space")

    monkeypatch.setattr(design_io.os, "replace", fail)
    with pytest.raises(OSError):
        save_design(DESIGN, tmp_path / "design.json")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_folder_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        save_design(DESIGN, tmp_path / "nowhere" / "design.json")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------- corrupt files


def _design_bytes() -> bytes:
    small = Design(NetworkSpec(2, (DenseSpec(3), ActivationSpec("tanh"),
                                   ResidualSpec((DenseSpec(3),)), DenseSpec(1))))
    return design_io.design_to_json(small).encode("utf-8")


def test_every_truncation_fails_cleanly(tmp_path):
    data = _design_bytes()
    path = tmp_path / "cut.json"
    outcomes = []
    for n in range(len(data) + 1):
        path.write_bytes(data[:n])
        outcomes.append(_load_outcome(path))
    # Only the whole file (with or without its final newline) is a design.
    assert outcomes[-1] == "ok" and outcomes[-2] == "ok"
    assert set(outcomes[:-2]) == {"clean error"}


def test_random_byte_mutations_fail_cleanly(tmp_path):
    data = _design_bytes()
    rng = np.random.default_rng(20240601)
    path = tmp_path / "mutant.json"
    outcomes = {"ok": 0, "clean error": 0}
    for _ in range(600):
        buf = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            op = rng.integers(0, 3)
            pos = int(rng.integers(0, len(buf)))
            syntax = ord(rng.choice(list('{}[],:"0-e.9tfn ')))
            byte = int(rng.integers(0, 256)) if rng.random() < 0.5 else syntax
            if op == 0:
                buf[pos] = byte
            elif op == 1:
                buf.insert(pos, byte)
            else:
                del buf[pos]
        path.write_bytes(bytes(buf))
        outcomes[_load_outcome(path)] += 1
    assert outcomes["clean error"] > 300  # the mutations do break most files


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_are_rejected(tmp_path, literal):
    text = _design_bytes().decode().replace('"learning_rate": 0.1', f'"learning_rate": {literal}')
    assert literal in text
    path = tmp_path / "nan.json"
    path.write_text(text)
    with pytest.raises(core.FileFormatError, match=literal.lstrip("-")):
        load_design(path)


def test_overflowing_numbers_are_rejected(tmp_path):
    path = tmp_path / "big.json"
    base = _design_bytes().decode()
    path.write_text(base.replace('"learning_rate": 0.1', '"learning_rate": 1e400'))
    with pytest.raises(CLEAN_ERRORS, match="learning_rate"):
        load_design(path)
    path.write_text(base.replace('"learning_rate": 0.1', '"learning_rate": 1' + "0" * 400))
    with pytest.raises(CLEAN_ERRORS, match="learning_rate"):
        load_design(path)
    path.write_text(base.replace('"epochs": 100', '"epochs": 1' + "0" * 5000))
    with pytest.raises(CLEAN_ERRORS):
        load_design(path)


def test_duplicate_keys_are_rejected(tmp_path):
    text = _design_bytes().decode().replace('"inputs": 2,', '"inputs": 2, "inputs": 3,')
    path = tmp_path / "dup.json"
    path.write_text(text)
    with pytest.raises(core.FileFormatError, match="duplicate key 'inputs'"):
        load_design(path)


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a": ' * 100_000,
                                  '{"format": "backprop-studio-design", "version": 1, '
                                  '"dataset": ' + '{"x": ' * 50_000 + "1" + "}" * 50_001])
def test_deep_nesting_is_rejected(tmp_path, text):
    path = tmp_path / "deep.json"
    path.write_text(text)
    with pytest.raises(core.FileFormatError, match="nested too deeply|not valid JSON"):
        load_design(path)


def test_deeply_nested_residual_blocks_are_rejected(tmp_path):
    layer: dict = {"kind": "dense", "units": 2}
    for _ in range(200):
        layer = {"kind": "residual", "layers": [layer]}
    d = Design(NetworkSpec(2, (DenseSpec(2),))).to_dict()
    d["network"]["layers"] = [layer]
    path = tmp_path / "deep_blocks.json"
    path.write_text(json.dumps(d))
    with pytest.raises(CLEAN_ERRORS, match="nested deeper"):
        load_design(path)


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:  # sparse: costs no disk
        fh.truncate(MAX_JSON_BYTES + 1)
    with pytest.raises(core.FileFormatError, match="limit"):
        load_design(path)
    with pytest.raises(core.FileFormatError, match="limit"):
        parse_json(b" " * (MAX_JSON_BYTES + 1), "memory")


@pytest.mark.parametrize("data", [b"\xff\xfe{}", b'{"name": "\xe9"}', b"\x80", b"{\x00\xc3}"])
def test_not_utf8(tmp_path, data):
    path = tmp_path / "latin1.json"
    path.write_bytes(data)
    with pytest.raises(core.FileFormatError, match="UTF-8|JSON"):
        load_design(path)


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(core.FileFormatError, match="folder"):
        load_design(tmp_path)
    with pytest.raises(core.FileFormatError, match="no such file"):
        load_design(tmp_path / "missing.json")


@pytest.mark.parametrize("text", ["", "   ", "null", "[]", "3", '"design"', "{}",
                                  '{"format": "backprop-studio-design"}',
                                  '{"format": "backprop-studio-design", "version": 99}',
                                  "{'single': 'quotes'}", '{"a": 1,}', "// comment\n{}"])
def test_odd_but_small_files(tmp_path, text):
    path = tmp_path / "odd.json"
    path.write_text(text)
    with pytest.raises(CLEAN_ERRORS):
        load_design(path)


def test_invalid_content_names_the_file_and_field(tmp_path):
    d = DESIGN.to_dict()
    d["network"]["layers"][0]["units"] = -1
    d["training"]["optimizer"] = "lbfgs"
    path = tmp_path / "bad_fields.json"
    path.write_text(json.dumps(d))
    with pytest.raises(CLEAN_ERRORS) as info:
        load_design(path)
    text = str(info.value)
    assert "bad_fields.json" in text
    assert "network.layers[0].units" in text and "training.optimizer" in text
