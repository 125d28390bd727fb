"""``paracrine knockout`` and ``paracrine antibody``: the tables' columns and numbers, the
figures, a saved fit, and every kind of bad input as one line on stderr with exit status 2."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from paracrine.cli import main
from paracrine.cli.perturb import parse_grid
from paracrine.errors import InvalidInputError
from paracrine.fitting import BlotFit, BlotProblem, FitResult
from paracrine.simulations.knockouts import SCREEN_COLUMNS


def one_line_error(capsys, command: str) -> str:
    """The error message of a failed command; checks it is one line with the usual prefix."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    prefix = f"paracrine {command}: error: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0][len(prefix) :]


def _rows(frame, **where):
    for column, value in where.items():
        frame = frame[frame[column] == value]
    return frame


# -- a saved fit -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fit_file(tmp_path_factory):
    """A blot fit of 'independent' saved as `paracrine fit` saves it, at a point where VEGFR2
    activates Ras 10× faster than the default (no optimisation: the point is given)."""
    problem = BlotProblem("independent", "reference_blots_synthetic", free=["k_ras_vr"])
    default = problem.model.parameter_values()["k_ras_vr"]
    x = np.array([math.log10(default) + 1.0])
    result = FitResult(
        parameter_names=problem.parameter_names,
        lower=problem.lower,
        upper=problem.upper,
        x=x,
        values=problem.to_natural(x),
        covar=None,
        starts=[],
        n_data=problem.n_data,
        n_inner_parameters=problem.n_inner_parameters,
        n_starts=0,
        seed=0,
    )
    return BlotFit(problem, result).save(tmp_path_factory.mktemp("fit") / "fit.json")


# -- knockout --------------------------------------------------------------------------------------
def test_knockout_targets_write_the_table_and_figures(tmp_path, capsys):
    out = tmp_path / "ko"
    argv = ["knockout", "--variant", "independent", "--targets", "VEGFR2,gp130", "--out"]
    assert main([*argv, str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "VEGFR2 KO" in printed and "knockouts.csv" in printed
    for name in ("knockouts.csv", "knockout_ranking.csv", "knockouts.png", "knockouts.svg"):
        assert (out / name).stat().st_size > 0
    table = pd.read_csv(out / "knockouts.csv", keep_default_na=False, na_values=[""])
    assert tuple(table.columns) == SCREEN_COLUMNS
    assert set(table["perturbation"]) == {"unperturbed", "VEGFR2 KO", "gp130 KO"}
    # VEGFR2 KO: the VEGF arm stays at basal for every read-out; gp130 KO: the IL-6 arm
    for ko, arm in (("VEGFR2 KO", "VEGF"), ("gp130 KO", "IL-6")):
        peaks = _rows(table, perturbation=ko, arm=arm, metric="peak")
        assert len(peaks) == 4
        assert np.allclose(peaks["value"], 1.0, atol=0.02)
        assert (peaks["unperturbed"] > 1.2).all()  # the ligand did act before
    # and the combination falls to the other ligand alone (pERK peak, within 1e-6)
    combo = _rows(table, perturbation="VEGFR2 KO", arm="IL-6+VEGF", metric="peak", readout="pERK")
    il6 = _rows(table, perturbation="VEGFR2 KO", arm="IL-6", metric="peak", readout="pERK")
    assert combo["value"].iloc[0] == pytest.approx(il6["value"].iloc[0], abs=1e-6)
    ranking = pd.read_csv(out / "knockout_ranking.csv")
    assert set(ranking["question"]) == {"stronger", "sustained"}


def test_knockout_full_screen_of_the_default_variant(tmp_path, capsys):
    out = tmp_path / "screen"
    assert main(["knockout", "--screen", "--out", str(out), "--no-progress"]) == 0
    table = pd.read_csv(out / "knockouts.csv")
    assert set(table["variant"]) == {"cooperation_saturation"}
    assert table["perturbation"].nunique() == 25
    assert len(table) == 25 * 88
    assert "JAK1 inhibitor" in set(table["perturbation"])
    printed = capsys.readouterr().out
    assert "MCF-7 (cooperation_saturation), sustained: most benefit removed" in printed


def test_knockdown_and_two_cell_lines(tmp_path):
    out = tmp_path / "kd"
    argv = ["knockout", "--variant", "independent", "--targets", "VEGFR2", "--knockdown", "0.5"]
    argv += ["--cell-line", "MCF-7", "--cell-line", "T47D", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    table = pd.read_csv(out / "knockouts.csv")
    assert set(table["perturbation"]) == {"unperturbed", "VEGFR2 KD 0.5"}
    assert set(table["cell_line"]) == {"MCF-7", "T47D"}
    peak = _rows(table, perturbation="VEGFR2 KD 0.5", arm="VEGF", metric="peak", readout="pERK")
    assert ((peak["value"] > 1.0) & (peak["value"] < peak["unperturbed"])).all()


def test_knockout_of_a_saved_fit_uses_its_parameters(tmp_path, fit_file, capsys):
    argv = ["knockout", "--targets", "gp130", "--no-progress", "--out"]
    assert main([*argv, str(tmp_path / "fit"), "--fit", str(fit_file)]) == 0
    assert main([*argv, str(tmp_path / "default"), "--variant", "independent"]) == 0
    # the same variant named explicitly is fine
    assert (
        main([*argv, str(tmp_path / "same"), "--fit", str(fit_file), "--variant", "independent"])
        == 0
    )
    capsys.readouterr()
    fitted, default = (
        _rows(
            pd.read_csv(tmp_path / name / "knockouts.csv"),
            perturbation="unperturbed",
            arm="VEGF",
            metric="auc",
            readout="pERK",
        )["value"].iloc[0]
        for name in ("fit", "default")
    )
    assert fitted > default * 1.05  # 10× faster VEGFR2 → Ras: more pERK under VEGF

    assert main([*argv, str(tmp_path / "x"), "--fit", str(fit_file), "--variant", "full"]) == 2
    message = one_line_error(capsys, "knockout")
    assert "is a fit of variant 'independent', but --variant is 'full'" in message


@pytest.mark.parametrize("content", ["{not json", "truncated", "[1, 2]", '{"a": 1}'])
def test_corrupt_fit_is_one_line(tmp_path, fit_file, capsys, content):
    bad = tmp_path / "fit.json"
    text = fit_file.read_text()
    bad.write_text(text[: len(text) // 2] if content == "truncated" else content)
    argv = ["knockout", "--fit", str(bad), "--targets", "gp130", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    message = one_line_error(capsys, "knockout")
    assert message.startswith(f"--fit {str(bad)!r}")


def test_missing_fit_is_one_line(tmp_path, capsys):
    argv = ["knockout", "--fit", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "does not exist" in one_line_error(capsys, "knockout")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ["--targets", "VEGFR,gp130"],
            "unknown knockout or inhibitor target 'VEGFR' — did you mean",
        ),
        (["--targets", "gp130,,JAK1"], "--targets: expected comma-separated target names"),
        (
            ["--targets", "gp130", "--knockdown", "1.5"],
            "--knockdown: expected a fraction in [0, 1]",
        ),
        (["--knockdown", "-0.2"], "--knockdown: expected a fraction in [0, 1], received -0.2"),
        (["--knockdown", "nan"], "--knockdown: expected a fraction in [0, 1]"),
        (["--vegf", "-1"], "--vegf: expected a finite dose >= 0 ng/mL, received -1"),
        (["--il6", "inf"], "--il6: expected a finite dose >= 0 ng/mL, received inf"),
        (["--workers", "0"], "--workers: expected an integer ≥ 1, received 0"),
        (["--variant", "cooperation"], "unknown variant 'cooperation'"),
        (["--targets", "gp130", "--cell-line", "HeLa"], "unknown cell line 'HeLa'"),
    ],
)
def test_knockout_bad_input(tmp_path, capsys, extra, expected):
    assert main(["knockout", *extra, "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert expected in one_line_error(capsys, "knockout")


def test_out_that_is_a_file(tmp_path, capsys):
    file = tmp_path / "taken"
    file.write_text("x")
    assert main(["knockout", "--targets", "gp130", "--out", str(file)]) == 2
    assert "expected a folder, received a file" in one_line_error(capsys, "knockout")
    assert main(["antibody", "--bevacizumab", "0:100:3", "--out", str(file)]) == 2
    assert "expected a folder, received a file" in one_line_error(capsys, "antibody")


def test_targets_and_screen_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["knockout", "--targets", "gp130", "--screen", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# -- antibody --------------------------------------------------------------------------------------
def test_bevacizumab_sweep_against_vegf(tmp_path, capsys):
    out = tmp_path / "bev"
    argv = ["antibody", "--variant", "independent", "--bevacizumab", "0.1:1000:17"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "bevacizumab against VEGF 50 ng/mL (MCF-7, independent)" in printed
    for name in ("antibody.csv", "antibody_ic50.csv", "antibody_bevacizumab.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "antibody_bevacizumab.svg").exists()
    assert not (out / "antibody_matrix.csv").exists()
    sweep = pd.read_csv(out / "antibody.csv")
    assert {"antibody", "dose_ug_ml", "readout", "metric", "value", "free_ligand_nm"} <= set(
        sweep.columns
    )
    assert sorted(set(sweep["dose_ug_ml"]))[0] == pytest.approx(0.1)
    perk = _rows(sweep, readout="pERK", metric="peak").sort_values("dose_ug_ml")
    assert np.all(np.diff(perk["value"]) <= 1e-6 * perk["value"].iloc[0])
    ic50 = _rows(pd.read_csv(out / "antibody_ic50.csv"), readout="pERK", metric="peak").iloc[0]
    assert 0.5 < ic50["ic50_ug_ml"] / ic50["predicted_ic50_ug_ml"] < 2.0
    assert ic50["free_ligand_ic50_ug_ml"] == pytest.approx(0.2033, rel=1e-3)


def test_both_antibodies_under_msc_cm_write_the_matrix(tmp_path, capsys):
    out = tmp_path / "cm"
    argv = ["antibody", "--variant", "independent", "--bevacizumab", "0:100:4"]
    argv += ["--anti-il6", "0:100:4", "--msc-cm", "0.5", "--metric", "auc"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    assert "assumed defaults" in capsys.readouterr().out
    matrix = pd.read_csv(out / "antibody_matrix.csv")
    assert len(matrix) == 4 * 4 * 4 * 3
    assert set(matrix["msc_cm_fraction"]) == {0.5}
    assert set(matrix["msc_cm_content"]) == {"assumed defaults (paracrine.simulations.units)"}
    both = _rows(matrix, bevacizumab_ug_ml=100.0, anti_il6_ug_ml=100.0, metric="auc")
    assert (both["response_fraction"].dropna() < 0.1).all()
    for name in ("antibody_matrix.png", "antibody_matrix.svg", "antibody_anti-IL-6.png"):
        assert (out / name).exists()
    sweep = pd.read_csv(out / "antibody.csv")
    assert set(sweep["antibody"]) == {"bevacizumab", "anti-IL-6"}


def test_msc_cm_content_override(tmp_path, capsys):
    argv = ["antibody", "--variant", "independent", "--anti-il6", "0:10:3", "--msc-cm", "1"]
    argv += ["--msc-cm-il6", "10", "--msc-cm-vegf", "0", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    sweep = pd.read_csv(tmp_path / "antibody.csv")
    assert set(sweep["msc_cm_content"]) == {"given"}
    assert sweep["ligand_nm"].iloc[0] == pytest.approx(10 / 21)
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], "expected --bevacizumab and/or --anti-il6"),
        (["--bevacizumab", "1000:0:5"], "reversed grid (1000 > 0)"),
        (["--bevacizumab", "0:100:0"], "expected N >= 1 doses, received 0"),
        (["--bevacizumab", "a:b"], "--bevacizumab: expected START:STOP:N"),
        (["--bevacizumab", "1:10"], "--bevacizumab: expected START:STOP:N"),
        (["--anti-il6", "0:0:3"], "empty grid"),
        (["--anti-il6=-1:10:3"], "START to be a finite dose >= 0"),
        (["--anti-il6", "1:inf:3"], "STOP to be a finite dose >= 0"),
        (["--anti-il6", "5:5:3"], "N = 1 when START = STOP"),
        (["--bevacizumab", "0:10:3", "--msc-cm", "1.5"], "--msc-cm: expected a fraction in [0, 1]"),
        (["--bevacizumab", "0:10:3", "--msc-cm", "-0.5"], "--msc-cm: expected a fraction"),
        (["--bevacizumab", "0:10:3", "--vegf", "-5"], "--vegf: expected a finite dose >= 0"),
        (["--bevacizumab", "0:10:3", "--msc-cm-vegf", "nan"], "--msc-cm-vegf: expected"),
        (["--bevacizumab", "0:10:3", "--il6", "50"], "its ligand VEGF is absent"),
        (["--bevacizumab", "0:10:3", "--cell-line", "MCF7"], "unknown cell line 'MCF7'"),
    ],
)
def test_antibody_bad_input(tmp_path, capsys, extra, expected):
    argv = ["antibody", "--variant", "independent", *extra, "--out", str(tmp_path / "o")]
    assert main([*argv, "--no-progress"]) == 2
    assert expected in one_line_error(capsys, "antibody")


def test_antibody_with_a_fit_of_another_variant(tmp_path, fit_file, capsys):
    argv = ["antibody", "--fit", str(fit_file), "--variant", "cooperation_saturation"]
    assert main([*argv, "--bevacizumab", "0:10:3", "--out", str(tmp_path)]) == 2
    assert "is a fit of variant 'independent'" in one_line_error(capsys, "antibody")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"parameter_names": []}))
    assert (
        main(["antibody", "--fit", str(bad), "--bevacizumab", "0:10:3", "--out", str(tmp_path)])
        == 2
    )
    assert "expected a blot fit saved by 'paracrine fit'" in one_line_error(capsys, "antibody")


# -- the grid syntax -------------------------------------------------------------------------------
def test_grid_rule():
    np.testing.assert_allclose(
        parse_grid("0:1000:9", "--g"), [0, *np.geomspace(1.0, 1000.0, 8)], rtol=1e-12
    )
    np.testing.assert_allclose(parse_grid("0.1:10:3", "--g"), [0.1, 1.0, 10.0])
    np.testing.assert_allclose(parse_grid(" 5:5:1 ", "--g"), [5.0])
    np.testing.assert_allclose(parse_grid("0:1e3:2", "--g"), [0.0, 1000.0])
    for bad in ("0:10:1", "1:10:1", "10:1:3", "x", "1:2:3:4", "1:2:2.5"):
        with pytest.raises(InvalidInputError):
            parse_grid(bad, "--g")


# -- simulate with a fit and perturbations ----------------------------------------------------------
def _simulated(out) -> pd.DataFrame:
    frame = pd.read_csv(out / "simulation.csv")
    assert set(frame["condition"]) == {"control", "IL-6", "VEGF", "IL-6+VEGF"}
    assert (out / "timecourses.png").stat().st_size > 0
    return frame


def test_simulate_four_arms_with_perturbations(tmp_path, capsys):
    base = ["simulate", "--cell-line", "MCF-7", "--il6", "20", "--vegf", "30"]
    assert main([*base, "--out", str(tmp_path / "plain")]) == 0
    capsys.readouterr()
    argv = [*base, "--knockout", "STAT3", "--knockout", "STAT3", "--bevacizumab", "100"]
    assert main([*argv, "--msc-cm", "0.5", "--out", str(tmp_path / "pert")]) == 0
    printed = capsys.readouterr().out
    assert (
        "independent: four arms at IL-6 20 and VEGF 30 ng/mL, every arm with STAT3 KO, "
        "bevacizumab 100 µg/mL, MSC-CM fraction 0.5\n"
    ) in printed
    plain, pert = _simulated(tmp_path / "plain"), _simulated(tmp_path / "pert")
    assert len(plain) == len(pert)

    def level(frame, arm, readout):
        rows = _rows(frame, condition=arm, observable=readout)
        return rows["value"].max()

    # STAT3 knocked out: no pSTAT3 in any arm
    assert level(pert, "IL-6", "pSTAT3") < 1e-6 < level(plain, "IL-6", "pSTAT3")
    # MSC-CM brings IL-6 to the control arm (pSTAT3 aside, pAKT/pERK respond)
    assert not np.allclose(
        _rows(plain, condition="control")["value"], _rows(pert, condition="control")["value"]
    )


def test_simulate_a_saved_fit(tmp_path, fit_file, capsys):
    argv = ["simulate", "--cell-line", "T47D", "--out"]
    assert main([*argv, str(tmp_path / "default")]) == 0
    assert main([*argv, str(tmp_path / "fit"), "--fit", str(fit_file)]) == 0
    assert f"independent ({fit_file}): four arms" in capsys.readouterr().out
    default, fitted = _simulated(tmp_path / "default"), _simulated(tmp_path / "fit")
    vegf_default = _rows(default, condition="VEGF", observable="pERK")["value"].max()
    vegf_fitted = _rows(fitted, condition="VEGF", observable="pERK")["value"].max()
    assert vegf_fitted > vegf_default * 1.05  # the fit's 10× faster VEGFR2 → Ras
    assert main([*argv, str(tmp_path / "x"), "--fit", str(fit_file), "--variant", "full"]) == 2
    assert "is a fit of variant 'independent', but --variant is 'full'" in one_line_error(
        capsys, "simulate"
    )
