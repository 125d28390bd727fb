"""The notebooks run: their code cells are executed in order (no Jupyter needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(path: Path, replacements: dict[str, str], tmp_path, monkeypatch) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), (
        "outputs must be stripped"
    )
    namespace: dict = {"__name__": "__notebook__"}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            for old, new in replacements.items():
                source = source.replace(old, new)
            exec(compile(source, f"{path.name}", "exec"), namespace)
    return namespace


def test_simulation_notebook_runs(tmp_path, monkeypatch):
    ns = _run(NOTEBOOKS / "01_simulate_knockouts_doses.ipynb", {}, tmp_path, monkeypatch)
    assert ns["matrix"].get("peak", "pERK").shape == (32, 32)
    assert (tmp_path / "saturable_feedback_T47D.xml").exists()


@pytest.mark.slow
def test_fitting_notebook_runs(tmp_path, monkeypatch):
    small = {
        "N_STARTS = 16": "N_STARTS = 2",
        'load_blots("reference_blots_synthetic")': 'load_blots("reference_blots_synthetic", cell_lines=["T47D"]).select(readouts=["pERK", "pSTAT3"])',
        'fit_blots("independent", data, n_starts=N_STARTS, seed=0)': 'fit_blots("independent", data, n_starts=N_STARTS, seed=0, workers=1, progress=False, free=["k_ras_vr", "k_stat3_jak"])',
        "select_models(data, n_starts=N_STARTS, seed=0)": 'select_models(data, ["independent", "stat3_vegfr2_expression"], n_starts=N_STARTS, seed=0, workers=1, progress=False, free=["k_ras_vr", "k_stat3_jak"])',
    }
    ns = _run(NOTEBOOKS / "02_fit_and_select.ipynb", small, tmp_path, monkeypatch)
    assert ns["selection"].best_variant() in ("independent", "stat3_vegfr2_expression")
    assert ns["prof"].verdict in (
        "identifiable",
        "practically non-identifiable",
        "structurally non-identifiable",
    )
