"""What each image runs exists and starts: ``python -m ecg_gateway`` / ``python -m ecg_analyzer``."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.unit.deploy.dockerfiles import DOCKERFILES, MODULES, parse


@pytest.mark.parametrize("service", sorted(DOCKERFILES))
def test_the_image_entry_point_is_the_service_module(service: str) -> None:
    final = parse(DOCKERFILES[service]).final
    entrypoint = final.last("ENTRYPOINT") or final.last("CMD")
    assert entrypoint is not None
    assert entrypoint.args.startswith("["), "the exec form, so that the service gets SIGTERM"
    assert entrypoint.words() == ["python", "-m", MODULES[service]]
    assert importlib.util.find_spec(f"{MODULES[service]}.__main__") is not None


@pytest.mark.parametrize("module", sorted(MODULES.values()))
def test_python_dash_m_help_works(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert f"python -m {module}" in result.stdout
