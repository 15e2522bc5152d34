"""README.md stays true: its deployment files match deploy/, and its commands exist."""

import os
import re

import pytest

from tests.fixtures.scripts import ROOT


def readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("name", ["orchestrator.service", "nginx-orchestrator.conf", "Dockerfile"])
def test_readme_shows_each_deployment_file_as_it_is(name):
    with open(os.path.join(ROOT, "deploy", name), encoding="utf-8") as handle:
        assert handle.read().rstrip("\n") in readme(), f"README's copy of deploy/{name} is stale"


def test_every_bin_command_the_readme_names_exists():
    for command in set(re.findall(r"(?<![/.\w])bin/([a-z_]+)", readme())):
        assert os.access(os.path.join(ROOT, "bin", command), os.X_OK), f"bin/{command} is missing"


def test_ci_runs_the_readmes_test_command():
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        assert "bin/test" in handle.read()
    assert "bin/test " in readme()
