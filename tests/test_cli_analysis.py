"""``paracrine sweep``, ``paracrine ensemble`` and ``paracrine migrate``: files, numbers and
one-line errors (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from paracrine.cli import main


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_sweep_writes_the_tidy_table_with_synergy_columns(tmp_path):
    out = tmp_path / "s"
    argv = ["sweep", "--variant", "independent", "--cell-line", "MCF-7", "--il6", "0:100:4"]
    argv += ["--vegf", "0:100:4", "--metric", "peak", "--synergy", "bliss,hsa", "--out", str(out)]
    assert main(argv) == 0
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns) == [
        "il6_ng_ml",
        "vegf_ng_ml",
        "cell_line",
        "readout",
        "metric",
        "value",
        "bliss",
        "hsa",
    ]
    assert len(table) == 4 * 4 * 4  # doses × doses × read-outs
    # the independent variant has no cross-talk into STAT3 from VEGF... but ERK saturates:
    # the HSA excess of any cell is the combination above the best single, by definition
    erk = table[(table.readout == "pERK")].pivot(
        index="il6_ng_ml", columns="vegf_ng_ml", values="value"
    )
    hsa = table[(table.readout == "pERK")].pivot(
        index="il6_ng_ml", columns="vegf_ng_ml", values="hsa"
    )
    f = (erk.to_numpy() - 1.0) / (erk.to_numpy().max() - 1.0)
    expected = f - np.maximum(f[:, :1], f[:1, :])
    expected[0, :] = expected[:, 0] = 0.0
    np.testing.assert_allclose(hsa.to_numpy(), expected, atol=1e-5)
    hill = pd.read_csv(out / "hill.csv")
    assert set(hill.ligand) == {"IL-6", "VEGF"} and len(hill) == 8
    # pSTAT3 is IL-6's read-out: its IL-6 Emax dwarfs its VEGF Emax
    stat3 = hill[hill.readout == "pSTAT3"].set_index("ligand")
    assert stat3.loc["IL-6", "emax"] > 3 * stat3.loc["VEGF", "emax"]
    assert (out / "sweep_MCF-7_peak.png").is_file() and (
        out / "synergy_MCF-7_pERK_peak.svg"
    ).is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--il6", "100:0:4", "--vegf", "0:100:4"], "--il6"),
        (["--il6", "0:100:4", "--vegf=-1:100:4"], "--vegf"),
        (["--il6", "1:100:4", "--vegf", "0:100:4"], "synergy scores need dose 0 first"),
        (["--il6", "0:100:3", "--vegf", "0:100:3", "--synergy", "zip"], "at least 4 doses"),
        (["--il6", "0:100:4", "--vegf", "0:100:4", "--synergy", "blis"], "bliss"),
        (["--il6", "0:100:4", "--vegf", "0:100:4", "--metric", "peek"], "peak"),
        (["--il6", "0:100:4", "--vegf", "nan:100:4"], "--vegf"),
    ],
)
def test_sweep_bad_input_is_one_line(capsys, tmp_path, extra, message):
    err = _error(
        capsys, ["sweep", "--variant", "independent", *extra, "--out", str(tmp_path / "o")]
    )
    assert message in err


def test_migrate_bad_input_is_one_line(capsys, tmp_path):
    corrupt = tmp_path / "fit.json"
    corrupt.write_text('{"starts": [', encoding="utf-8")
    assert "cannot be read as one" in _error(capsys, ["migrate", "--fit", str(corrupt)])
    assert "does not exist" in _error(capsys, ["migrate", "--fit", str(tmp_path / "none.json")])
    assert "--msc-cm-vegf" in _error(capsys, ["migrate", "--msc-cm-vegf", "-2"])
    assert "needs the --fit" in _error(capsys, ["migrate", "--ensemble", str(corrupt)])
    assert "--seed" in _error(capsys, ["migrate", "--seed", "-1"])
    assert "--scan-msc-cm" in _error(capsys, ["migrate", "--scan-msc-cm", "10:1:3"])
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    err = _error(capsys, ["migrate", "--variant", "independent", "--out", str(a_file)])
    assert "expected a folder" in err


def test_migrate_on_default_parameters_writes_the_table(tmp_path, capsys):
    out = tmp_path / "m"
    argv = ["migrate", "--variant", "cooperation_saturation", "--scan-msc-cm", "0:10:2"]
    assert main([*argv, "--out", str(out)]) == 0
    scan = pd.read_csv(out / "msc_cm_scan.csv")
    assert len(scan) == 4 and set(scan.msc_cm_vegf_ng_ml) == {0.0, 10.0}
    assert (out / "msc_cm_scan.png").is_file()
    table = pd.read_csv(out / "migration.csv")
    assert list(table.columns[:9]) == [
        "cell_line",
        "condition",
        "readout",
        "measured",
        "measured_sd",
        "predicted",
        "predicted_low",
        "predicted_high",
        "used_in_fit",
    ]
    assert len(table) == 36
    assert (table.predicted_low <= table.predicted_high).all()
    text = (out / "migration.md").read_text(encoding="utf-8")
    assert "ASSUMED" in text and "PREDICTED (held-out antibody)" in text
    verdicts = json.loads(text.split("Verdicts (JSON): `")[1].split("`")[0])
    assert verdicts["heldout_rows"] == 9
    assert (out / "migration.png").is_file() and (out / "migration.svg").is_file()


@pytest.mark.slow
def test_ensemble_band_of_the_demo_fit_contains_the_best_fit(demo_fit, tmp_path, capsys):
    fit_path = tmp_path / "fit.json"
    demo_fit.save(fit_path)
    out = tmp_path / "e"
    argv = ["ensemble", "--fit", str(fit_path), "--members", "60", "--steps", "12"]
    argv += ["--seed", "3", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    from paracrine.fitting.ensemble import Ensemble, timecourse_band

    ens = Ensemble.from_json(out / "ensemble.json")
    assert len(ens) == 60
    # a walker stepping where CVODE fails is counted (and rejected), never fatal
    d = ens.diagnostics
    assert d["n_failed"] <= 0.01 * d["n_evaluations"]
    assert f"failed simulations {d['n_failed']} of" in (out / "ensemble.md").read_text("utf-8")
    assert not ens.converged  # 6 post-burn-in steps: reported as not converged
    assert np.all(ens.nllh >= ens.best_nllh - 1e-6)  # the best fit is the mode found
    band, *_ = timecourse_band(demo_fit, ens)
    assert band.contains_best(atol=1e-9).mean() > 0.95
    # a band that contains the best fit because it has no width would pass the line above:
    # the members must differ from the best fit and the band must be open somewhere
    assert np.median(ens.samples.std(axis=0)) > 1e-3
    assert np.max(band.high - band.low) > 1e-3
    assert "NOT converged" in (out / "ensemble.md").read_text(encoding="utf-8")
    # the ensemble feeds the migration bands
    out_m = tmp_path / "m"
    argv = ["migrate", "--fit", str(fit_path), "--ensemble", str(out / "ensemble.json")]
    assert main([*argv, "--out", str(out_m)]) == 0
    assert "60-member MCMC ensemble" in (out_m / "migration.md").read_text(encoding="utf-8")
    capsys.readouterr()  # drop what the runs above printed
    bad = tmp_path / "other.json"
    bad.write_text(
        json.dumps(
            {
                **json.loads((out / "ensemble.json").read_text()),
                "parameter_names": ["a"],
                "samples": [[0.0]] * 60,
                "best_x": [0.0],
            }
        ),
        encoding="utf-8",
    )
    assert "drawn for other parameters" in _error(
        capsys, [*argv[:3], "--ensemble", str(bad), "--out", str(out_m)]
    )
