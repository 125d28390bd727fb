"""The benchmark scripts still run against the package (they are not timed here: a short run
of each only checks that they import and execute, so a refactor cannot silently break them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PETAB = ROOT.parent / "shared" / "petab" / "Boehm_JProteomeRes2014"


def _run(*args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_simulation_and_objective_benchmarks_run(tmp_path):
    out = _run("benchmarks/bench_simulate.py", "--repeats", "3", "--json", str(tmp_path / "s.json"))
    assert "dose matrix 32 × 32" in out
    assert {"variants", "dose_matrix_32x32_s"} <= set(json.loads((tmp_path / "s.json").read_text()))
    line = _run("benchmarks/bench_objective.py", "--repeats", "3").strip().splitlines()[-1]
    assert {"blot_objective_ms", "blot_jacobian_ms"} <= set(json.loads(line))


@pytest.mark.slow
def test_fit_benchmark_runs_without_the_demo(tmp_path):
    out = _run("benchmarks/bench_fit.py", "--skip-demo", "--repeats", "2")
    assert "objective + Jacobian" in out and "one start" in out


@pytest.mark.slow
@pytest.mark.skipif(not PETAB.exists(), reason="../shared/petab (public PEtab problems) is absent")
def test_petab_benchmark_runs_the_paracrine_side(tmp_path):
    out = tmp_path / "pvp.json"
    _run(
        "benchmarks/petab_vs_pypesto.py",
        "--problems",
        "Boehm_JProteomeRes2014",
        "--tools",
        "paracrine",
        "--starts",
        "2",
        "--seeds",
        "1",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert out.exists() and "paracrine" in out.read_text()


@pytest.mark.slow
def test_sweep_and_analysis_benchmarks_run(tmp_path):
    out = _run("benchmarks/sweep.py", "--quick")
    assert "synergy" in out
    out = _run("benchmarks/analysis.py", "--repeats", "1", "--no-naive")
    assert "knockout screen" in out
