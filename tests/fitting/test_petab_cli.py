"""``paracrine petab nllh|fit`` on the public problems in ../shared/petab."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paracrine.cli import main

SHARED_PETAB = Path(__file__).resolve().parents[3] / "shared" / "petab"


def boehm_yaml() -> str:
    if not SHARED_PETAB.is_dir():
        pytest.skip(
            "../shared/petab not found: the public PEtab problems live outside the repository "
            "(CI always has them)"
        )
    return str(SHARED_PETAB / "Boehm_JProteomeRes2014" / "Boehm_JProteomeRes2014.yaml")


def test_nllh_prints_one_line_number_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["petab", "nllh", boehm_yaml()]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert float(lines[0].split()[-1]) == pytest.approx(138.2220, abs=1e-3)


@pytest.fixture
def blas_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """`petab fit` pins BLAS to one thread through the environment; restore it afterwards."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("blas_env")
def test_fit_prints_best_wall_time_and_hits(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["petab", "fit", boehm_yaml(), "--starts", "3", "--seed", "1", "--workers", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "best nllh" in out
    assert "wall time" in out
    assert "starts within 0.1 of the best:" in out
    assert " of 3" in out
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"


@pytest.mark.usefixtures("blas_env")
def test_fit_rejects_zero_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["petab", "fit", boehm_yaml(), "--starts", "0"]) == 2
    assert "--starts: expected an integer ≥ 1, received 0" in capsys.readouterr().err


def test_missing_problem_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["petab", "nllh", str(tmp_path / "none.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paracrine petab: error: PEtab problem file")
    assert len(err.splitlines()) == 1


def test_petab_needs_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="2"):
        main(["petab"])
    assert "SUBCOMMAND" in capsys.readouterr().err


@pytest.mark.usefixtures("blas_env")
def test_run_fit_raises_for_zero_starts() -> None:
    import argparse

    from paracrine._cli_petab import run_fit
    from paracrine.errors import InvalidInputError

    args = argparse.Namespace(problem="unused.yaml", starts=0, seed=0, workers=1, progress=False)
    with pytest.raises(InvalidInputError, match="--starts: expected an integer ≥ 1, received 0"):
        run_fit(args)
