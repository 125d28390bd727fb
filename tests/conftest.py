"""Shared test fixtures: paths to the public PEtab problems kept outside the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: ../shared/petab relative to the repository root (CI always provides it).
SHARED_PETAB = Path(__file__).resolve().parents[2] / "shared" / "petab"


@pytest.fixture(scope="session")
def shared_petab() -> Path:
    if not SHARED_PETAB.is_dir():
        pytest.skip(
            "../shared/petab not found: the public PEtab problems live outside the repository "
            "(CI always has them)"
        )
    return SHARED_PETAB


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """The folder ``paracrine demo --out`` wrote (the demo variant, its starts, seed 0), run
    once per test session (~1 min on 2 cores); its exit status checked."""
    from paracrine.cli import main

    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="session")
def demo_fit(demo_out):
    """The demo's blot fit, loaded from the fit.json of :func:`demo_out`."""
    from paracrine.fitting import BlotFit

    return BlotFit.load(demo_out / "fit.json")


def one_line_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The error printed by the last ``main`` call, checked to be one line about *command*
    (``paracrine COMMAND: error: …``); returns the message after that prefix."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    prefix = f"paracrine {command.split()[0]}: error: "
    assert err.startswith(prefix), err
    return err[len(prefix) :]


def run_module(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m paracrine.cli ARGS`` in a fresh interpreter (the console script's path)."""
    return subprocess.run(
        [sys.executable, "-m", "paracrine.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
