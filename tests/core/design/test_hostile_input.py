"""Hostile or broken input is refused cheaply and with a clear message naming where.

Each test feeds one hostile input: numbers too large for any field, lone surrogates,
terminal escape sequences, files that are no regular files, designs too large to build,
weights of the wrong dtype.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from core.design.fields import field_infos
from core.design.spec import DenseSpec, Design, TrainConfig
from core.errors import FileFormatError, printable
from core.files.design_file import load_design
from core.files.project import Project, load_project, project_bytes
from core.files.safetensors import decode, encode
from core.records.record import RunRecord
from core.records.table import runs_to_csv
from core.resources import resource_path
from core.storage.checked_io import parse_json

XOR = resource_path("examples", "xor.json")


def xor_dict() -> dict:
    return json.loads(Path(XOR).read_text())


def design_problems(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "d.json"
    path.write_text(text)
    with pytest.raises(FileFormatError) as info:
        load_design(path)
    return {p.path: p.message for p in info.value.problems}


# ------------------------------------------------------------- numbers out of range


def test_5000_digit_integer_names_the_field(tmp_path):
    text = json.dumps(xor_dict()).replace('"units": 8', '"units": ' + "9" * 5000, 1)
    problems = design_problems(tmp_path, text)
    message = problems["network.layers[0].units"]
    assert "5000-digit integer" in message and "must be an integer >= 1" in message
    assert len(message) < 200  # the digits are not all quoted back


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "9" * 5000, "1e400", "-1e400",
                                     "9" * 400 + ".0"])
def test_every_number_field_refuses_huge_values_by_path(tmp_path, literal):
    fields = [(f"training.{name}", name) for name, info in field_infos(TrainConfig).items()
              if info.type in ("int", "float")]
    fields += [(f"network.layers[0].{name}", name)
               for name, info in field_infos(DenseSpec).items() if info.type in ("int", "float")]
    fields.append(("network.inputs", "inputs"))
    for path, name in fields:
        d = xor_dict()
        if path.startswith("training."):
            d["training"][name] = "HUGE"
        elif path == "network.inputs":
            d["network"]["inputs"] = "HUGE"
        else:
            d["network"]["layers"][0][name] = "HUGE"
        problems = design_problems(tmp_path, json.dumps(d).replace('"HUGE"', literal))
        assert list(problems) == [path], (path, problems)
        assert "must be" in problems[path] and ("digit integer" in problems[path]
                                                or "overflows to infinity" in problems[path])


def test_huge_numbers_elsewhere_are_refused_not_crashing():
    d = xor_dict()
    d["dataset"]["samples"] = "HUGE"
    text = json.dumps(d).replace('"HUGE"', "9" * 5000).encode()
    value = parse_json(text, "d.json")
    from core.datasets import DatasetSpec
    from core.errors import StudioError

    with pytest.raises(StudioError, match=r"samples.*5000-digit integer"):
        DatasetSpec.from_dict(value["dataset"])


# ----------------------------------------------------------------- lone surrogates


def test_lone_surrogate_in_a_run_name_loads_as_a_replacement_character(tmp_path):
    design = load_design(XOR)
    data = project_bytes(Project(design, runs=[RunRecord(design, name="run", note="n")]))
    tensors, meta = decode(data, "x")
    body = meta["project"].replace('"name": "run"', '"name": "r\\ud800n"')
    body = body.replace('"note": "n"', '"note": "\\udc00"')
    body = body.replace('"name": "XOR', '"name": "\\udbff XOR')
    assert body != meta["project"]
    path = tmp_path / "p.bpsproj"
    path.write_bytes(encode(tensors, {**meta, "project": body}))
    project = load_project(path)
    run = project.runs[0]
    assert run.name == "r\ufffdn" and run.note == "\ufffd"
    assert run.design.name.startswith("\ufffd XOR")
    runs_to_csv(project.runs).encode("utf-8")  # what Export CSV writes


# ------------------------------------------------------------ terminal escapes


def test_printable_escapes_control_characters_and_keeps_lines():
    assert printable('"\x1b[2J" is not a number') == '"\\x1b[2J" is not a number'
    assert printable("a\tb\nc\rd\x7f\u202e\ud800") == "a\tb\nc\\x0dd\\x7f\\u202e\\ud800"
    assert printable("plain ünïcode ✓") == "plain ünïcode ✓"


def test_escape_sequence_in_a_csv_cell_does_not_reach_the_terminal(tmp_path, capsys):
    import main

    data = tmp_path / "esc.csv"
    data.write_bytes(b"a,b\n1,0\n\x1b[2J\x07,1\n2,0\n")
    rc = main.main(["train", str(XOR), "--csv", str(data), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert rc == 2
    assert "\x1b" not in err + out and "\x07" not in err + out
    assert 'line 3, column 1 "a": "\\x1b[2J\\x07" is not a number' in err


# ------------------------------------------------------ designs too large to build


def huge_design_dict(units: int = 100_000, batch_size: int = 10) -> dict:
    """A valid design of three 100k Dense layers: 20 billion parameters in ~800 bytes."""
    d = xor_dict()
    d["network"]["layers"] = [{"kind": "dense", "units": units} for _ in range(3)] + [
        {"kind": "dense", "units": 1}, {"kind": "activation", "function": "sigmoid"}]
    d["training"]["batch_size"] = batch_size
    return d


def huge_design_file(tmp_path: Path) -> Path:
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(huge_design_dict(), separators=(",", ":")))
    assert path.stat().st_size < 1000
    return path


def test_state_shapes_match_the_built_network_without_building():
    from core.design.limits import state_shapes
    from core.design.spec import BatchNormSpec, NetworkSpec, ResidualSpec
    from core.teach.lessons import LESSONS
    from core.training.build import build_network

    specs = [load_design(p).network for p in sorted(Path(XOR).parent.glob("*.json"))]
    specs += [v.design.network for lesson in LESSONS.values() for v in lesson.variants]
    specs.append(NetworkSpec(3, (DenseSpec(4, bias=False), BatchNormSpec(), ResidualSpec(
        (DenseSpec(5), BatchNormSpec(), ResidualSpec((DenseSpec(5),))), projection=True),
        DenseSpec(2))))
    for spec in specs:
        net = build_network(spec)
        params, buffers = state_shapes(spec)
        assert params == {k: v.shape for k, v in net.parameters().items()}
        assert buffers == {k: v.shape for k, v in net.buffers().items()}
        assert list(params) == list(net.parameters())  # the same order, too


def test_examples_and_lessons_are_within_the_caps():
    from core.design.limits import size_problems
    from core.teach.lessons import LESSONS

    designs = [load_design(p) for p in sorted(Path(XOR).parent.glob("*.json"))]
    designs += [v.design for lesson in LESSONS.values() for v in lesson.variants]
    for design in designs:
        assert size_problems(design) == [], design.name


def test_huge_design_is_refused_by_the_network_check_naming_cap_and_layers(tmp_path):
    from core.design.check import DataShape, check
    from core.design.limits import MAX_PARAMETERS

    design = load_design(huge_design_file(tmp_path))
    problems = check(design, DataShape("classification", 2, 2, 320))
    cap = [p for p in problems if "cap" in p.message]
    assert len(cap) == 1 and cap[0].path == "network.layers[1]"
    assert f"{MAX_PARAMETERS:,}" in cap[0].message and "20,000,600,001 parameters" in cap[0].message
    assert "layers[1] (Dense 100000)" in cap[0].message
    assert "layers[2] (Dense 100000)" in cap[0].message


def test_huge_design_check_and_train_on_the_command_line(tmp_path, capsys):
    import main

    path = huge_design_file(tmp_path)
    assert main.main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "layers[2]  Dense 100000" in out  # the shapes are still printed
    assert "problem: network.layers[1] (Dense 100000): the network has 20,000,600,001 " \
           "parameters, more than the cap of 50,000,000" in err
    assert main.main(["train", str(path), "--out", str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: network.layers[1]: the network has 20,000,600,001 "
                          "parameters") and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_build_and_trainer_refuse_before_allocating(tmp_path):
    import tracemalloc

    from core.datasets import DatasetSpec, load_dataset
    from core.errors import DesignError
    from core.training.build import build_network
    from core.training.trainer import Trainer

    design = load_design(huge_design_file(tmp_path))
    data = load_dataset(DatasetSpec.from_dict(design.dataset))
    tracemalloc.start()
    try:
        with pytest.raises(DesignError, match="cap of 50,000,000"):
            build_network(design.network)
        with pytest.raises(DesignError, match="cap of 50,000,000"):
            Trainer(design, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


def test_activation_cap_counts_the_batch_and_the_dataset_size():
    from dataclasses import replace

    from core.design.check import DataShape, check
    from core.design.limits import MAX_ACTIVATION_BYTES, activation_bytes, size_problems

    # 50k-unit layers: 5M parameters, under the parameter cap.
    design = Design.from_dict(huge_design_dict(units=50_000, batch_size=100_000))
    design = replace(design, network=replace(design.network,
                                             layers=design.network.layers[:1]
                                             + design.network.layers[3:]))
    assert design.network.parameter_count() < 1_000_000
    assert activation_bytes(design, n_samples=100_000) > MAX_ACTIVATION_BYTES
    problems = size_problems(design, n_samples=100_000)
    assert len(problems) == 1 and problems[0].path == "network.layers[0]"
    message = problems[0].message
    assert "for a batch of 100,000 samples (float32)" in message and "1.0 GiB" in message
    assert "smaller batch size" in message
    # The same design on 400 samples keeps less than a batch of 100,000 needs.
    assert size_problems(design, n_samples=400) == []
    assert not [p for p in check(design, DataShape("classification", 2, 2, 400))
                if "cap" in p.message]


def test_eval_chunk_rows_follow_the_trainer():
    from core.design.limits import EVAL_CHUNK_ROWS
    from core.training.trainer import EVAL_CHUNK

    assert EVAL_CHUNK_ROWS == EVAL_CHUNK


# ------------------------------------------------------------ hostile project files


def project_file(tmp_path: Path, design: Design, tensors: dict) -> Path:
    meta = decode(project_bytes(Project(design)), "x")[1]
    tensors = {**tensors, "history.steps": np.zeros((0, 2))}
    path = tmp_path / "p.bpsproj"
    path.write_bytes(encode(tensors, meta))
    return path


def test_small_project_declaring_a_huge_network_is_refused_without_allocating(tmp_path):
    import tracemalloc

    # 500M parameters in a few kilobytes, with one small (wrong) weight.
    d = xor_dict()
    d["network"]["layers"] = [{"kind": "dense", "units": 22_000} for _ in range(2)] + [
        {"kind": "dense", "units": 1}]
    d["training"]["loss"] = "mse"
    design = Design.from_dict(d)
    assert design.network.parameter_count() > 480_000_000
    path = project_file(tmp_path, design,
                        {"weights.layers.0.weight": np.zeros((2, 3), np.float32)})
    assert path.stat().st_size < 8000
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError) as info:
            load_project(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20
    message = str(info.value)
    assert message.startswith("p.bpsproj: weights are saved for a design that cannot be built")
    assert "more than the cap of 50,000,000" in message


def test_project_of_a_huge_design_without_weights_loads_as_data(tmp_path):
    design = load_design(huge_design_file(tmp_path))
    assert load_project(project_file(tmp_path, design, {})).design == design


def test_weight_shapes_are_compared_before_tensor_data_is_read(tmp_path):
    import struct

    design = load_design(XOR)
    meta = decode(project_bytes(Project(design)), "x")[1]
    # The header declares 64 MB of weights; the file holds 64 bytes of them.
    header = {"__metadata__": meta,
              "weights.layers.0.weight": {"dtype": "F32", "shape": [2000, 8000],
                                          "data_offsets": [0, 64_000_000]}}
    text = json.dumps(header).encode()
    path = tmp_path / "lying.bpsproj"
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(64))
    with pytest.raises(FileFormatError, match=r"layers\.0\.weight: shape \(2000, 8000\) does "
                                              r"not match the network's \(2, 8\)"):
        load_project(path)
    # A weights file read without a design: refused as truncated, not read for 64 MB.
    from core.files.safetensors import load_safetensors

    with pytest.raises(FileFormatError, match="truncated"):
        load_safetensors(path)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_weights_are_refused_naming_tensor_and_dtype(tmp_path, dtype):
    design = load_design(XOR)
    weights = {f"weights.{k}": v.astype(dtype) for k, v in
               build_weights(design).items()}
    with pytest.raises(FileFormatError) as info:
        load_project(project_file(tmp_path, design, weights))
    message = str(info.value)
    assert f"layers.0.weight: dtype {dtype}, but weights must be floating point (float32 " \
           "for this design)" in message


def test_float64_weights_beyond_float32_are_refused_naming_the_tensor(tmp_path):
    design = load_design(XOR)  # float32
    weights = {f"weights.{k}": v.astype(np.float64) for k, v in build_weights(design).items()}
    weights["weights.layers.2.weight"][3, 1] = 1e300
    with pytest.raises(FileFormatError) as info:
        load_project(project_file(tmp_path, design, weights))
    message = str(info.value)
    assert "layers.2.weight: contains NaN or infinite values in float32" in message
    assert "1e+300" in message and "layers.0.weight" not in message


def test_float64_weights_that_fit_load_in_the_designs_precision(tmp_path):
    design = load_design(XOR)
    built = build_weights(design)
    weights = {f"weights.{k}": v.astype(np.float64) for k, v in built.items()}
    loaded = load_project(project_file(tmp_path, design, weights)).weights
    assert loaded is not None and set(loaded) == set(built)
    for name, arr in loaded.items():
        assert arr.dtype == np.float32
        np.testing.assert_array_equal(arr, built[name])


def build_weights(design: Design) -> dict:
    from core.training.build import build_network

    return build_network(design.network, seed=1).state_dict()


# ------------------------------------------------------- files that are no files


def hostile_paths(tmp_path: Path) -> list[tuple[Path, str]]:
    import os

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # nobody writes to it: a blocking open() would hang
    return [(Path("/dev/zero"), "is a device, not a file"),
            (fifo, "is a pipe (FIFO), not a file"),
            (tmp_path, "is a folder, not a file")]


def test_design_project_and_weights_loaders_refuse_non_regular_files(tmp_path):
    from core.files.safetensors import load_safetensors

    for path, words in hostile_paths(tmp_path):
        for load in (load_design, load_project, load_safetensors):
            with pytest.raises(FileFormatError, match=re.escape(words)):
                load(path)


def test_csv_dataset_refuses_non_regular_files(tmp_path):
    from core.datasets import DatasetSpec, load_dataset
    from core.errors import DatasetError

    for path, words in hostile_paths(tmp_path):
        spec = DatasetSpec.from_dict({"kind": "csv", "path": str(path)})
        with pytest.raises(DatasetError, match=re.escape(words)):
            load_dataset(spec)


def test_reads_are_bounded_whatever_the_size_on_disk_says(tmp_path):
    from core.storage.checked_io import read_bytes

    proc = Path("/proc/self/maps")  # a regular file whose st_size is 0
    if not proc.is_file() or proc.stat().st_size != 0:
        pytest.skip("needs Linux /proc")
    with pytest.raises(FileFormatError, match="larger than the limit"):
        read_bytes(proc, 100)
    assert len(read_bytes(proc, 10_000_000)) > 100


def test_a_megabyte_name_is_not_quoted_back_whole(tmp_path):
    d = xor_dict()
    d["network"]["layers"][1]["function"] = "x" * 1_000_000
    d["network"]["layers"][3]["kind"] = "y" * 1_000_000
    problems = design_problems(tmp_path, json.dumps(d))
    assert "1,000,000 characters" in problems["network.layers[1].function"]
    assert "1,000,000 characters" in problems["network.layers[3].kind"]
    assert all(len(m) < 400 for m in problems.values())
