"""The self-test's settings check asks whether settings are written inside the
installation itself (the bundle, the one-folder directory), not inside any folder that
happens to hold the executable, such as the home folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.self_test import installation_dirs, settings_placement_problem

HOME = Path("/home/ada")
CONFIG = HOME / ".config/Backprop Studio/Backprop Studio.conf"
MEI = Path("/tmp/_MEI12345")


@pytest.mark.parametrize(("executable", "bundle"), [
    (HOME / "backprop-studio-onefile", MEI),                        # one file in ~ (issue 11)
    (HOME / "Downloads/backprop-studio-onefile", MEI),
    (Path("/opt/backprop-studio-onefile"), MEI),
    (Path("/opt/backprop-studio/backprop-studio"), Path("/opt/backprop-studio/_internal")),
    (HOME / "apps/backprop-studio/backprop-studio", HOME / "apps/backprop-studio/_internal"),
    (HOME / "backprop-studio", HOME / "_internal"),                 # one folder unpacked in ~
])
def test_settings_in_the_users_config_folder_pass(executable, bundle):
    assert settings_placement_problem(CONFIG, executable, bundle, HOME) == ""


def test_settings_inside_the_one_folder_directory_fail():
    exe = Path("/opt/backprop-studio/backprop-studio")
    bundle = Path("/opt/backprop-studio/_internal")
    assert installation_dirs(exe, bundle) == [bundle, exe.parent]
    for inside in (Path("/opt/backprop-studio/settings/app.conf"),
                   Path("/opt/backprop-studio/_internal/app.conf")):
        problem = settings_placement_problem(inside, exe, bundle, HOME)
        assert problem.startswith("settings are written inside the installation folder")
        assert str(inside) in problem


def test_settings_inside_the_one_file_bundle_or_beside_the_executable_fail():
    exe = HOME / "backprop-studio-onefile"
    assert installation_dirs(exe, MEI) == [MEI]
    assert "inside the installation folder /tmp/_MEI12345" in settings_placement_problem(
        MEI / "app.conf", exe, MEI, HOME)
    assert "beside the executable" in settings_placement_problem(
        HOME / "backprop-studio.conf", exe, MEI, HOME)
