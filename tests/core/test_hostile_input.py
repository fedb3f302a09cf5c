"""Hostile or broken input is refused cheaply and with a clear message naming where.

Each test feeds one hostile input: numbers too large for any field, lone surrogates,
terminal escape sequences, files that are no regular files, designs too large to build,
weights of the wrong dtype.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import FileFormatError, printable
from core.io import load_design, parse_json
from core.project import Project, load_project, project_bytes
from core.resources import resource_path
from core.runs import RunRecord, runs_to_csv
from core.safetensors_format import decode, encode
from core.spec import DenseSpec, TrainConfig, field_infos

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
