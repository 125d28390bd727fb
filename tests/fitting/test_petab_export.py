"""PEtab (v1) export of blot fitting problems: the exported reference problem lints clean and
round-trips (re-imported with :func:`load_petab`) to the same nllh as paracrine's objective."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from paracrine.data import BlotData, DataWarning, load_blots
from paracrine.errors import PetabError
from paracrine.fitting.petab import export as petab_export
from paracrine.fitting.petab import load_petab
from paracrine.fitting.petab.export import _petab_id, _unique_ids, export_petab
from paracrine.fitting.problem import BlotProblem

petab_id = _petab_id

REFERENCE = "reference_blots_synthetic"
#: The brief's tolerance; measured differences are ~1e-6 (both sides at CVODE rtol 1e-8..1e-10).
NLLH_ATOL = 1e-3
FEW = ["k_jak_act", "k_ras_vr", "k_erk_dephos", "k_stat3_dephos"]  # shared parameters only


def random_x(problem: BlotProblem, seed: int) -> np.ndarray:
    """A seeded point inside the bounds, away from the model's values."""
    return np.random.default_rng(seed).uniform(problem.lower, problem.upper)


def lint_records(yaml_file: Path, caplog: pytest.LogCaptureFixture) -> tuple[bool, list[str]]:
    """(errors found, warning and error messages) of petab's linter on the written files."""
    import petab.v1 as petab

    with caplog.at_level(logging.WARNING, logger="petab"), warnings.catch_warnings():
        # petab 0.8.2 passes arguments pandas 3 deprecates when it reads its tables (not ours;
        # the tables are read correctly)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        caplog.clear()
        problem = petab.Problem.from_yaml(str(yaml_file))
        failed = petab.lint_problem(problem)
    return failed, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def round_trip(problem: BlotProblem, x: np.ndarray, out: Path) -> tuple[float, float, object]:
    """(PEtab nllh at the exported nominal values, paracrine's nllh at x, imported problem)."""
    yaml_file = export_petab(problem, out, x=x)
    imported = load_petab(yaml_file)
    expected = problem.nllh(x, precise=True) - problem.regime_penalty(x)
    return imported.nllh_nominal(), expected, imported


def test_reference_problem_lints_clean_and_round_trips(tmp_path, caplog):
    problem = BlotProblem("independent", REFERENCE)
    x = random_x(problem, seed=5)
    yaml_file = export_petab(problem, tmp_path, x=x)
    assert yaml_file == tmp_path / "paracrine_independent.yaml"
    failed, messages = lint_records(yaml_file, caplog)
    assert not failed
    # no warnings either, except that there is no (optional) visualization table
    assert set(messages) == {"Visualization table not available. Skipping."}

    imported = load_petab(yaml_file)
    # the peak-fraction priors have no PEtab v1 form: the export carries the data likelihood
    penalty = problem.regime_penalty(x)
    assert penalty > 1.0  # a random point violates the physiological regime
    expected = problem.nllh(x, precise=True) - penalty
    assert imported.nllh_nominal() == pytest.approx(expected, abs=NLLH_ATOL, rel=0)
    # the importer solves the shared σ in closed form itself and lands on the same optimum
    # the importer solves the blot scales (shared inner solver) and σ in closed form itself
    assert imported.inner_parameter_names == (*scale_names(problem), "sigma")
    assert imported.nllh(imported.nominal_x, precise=True) == pytest.approx(
        expected, abs=NLLH_ATOL, rel=0
    )
    # free kinetic parameters first, with their PEtab ids, bounds and nominal values 10**x
    n = len(problem.parameter_names)
    assert imported.parameter_names[:n] == (
        "R6_tot__MCF_7",
        "R6_tot__T47D",
        "R6_tot__SK_Br_3",
        *imported.parameter_names[3:8],
        "R2_0__MCF_7",
        "R2_0__T47D",
        "R2_0__SK_Br_3",
        *imported.parameter_names[11:n],
    )
    np.testing.assert_allclose(imported.nominal_x[:n], x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(imported.lower[:n], problem.lower, rtol=0, atol=1e-12)
    # the exported scales sit at the blot problem's analytic optimum, and the importer's own
    # (shared) inner solver finds the same values again
    assert len(imported.parameter_names) == n
    inner = problem.inner_parameters(x)
    table = imported.spec.nominal[list(imported.spec.table_ids).index("scale_T47D_pERK_r1_early")]
    assert table == pytest.approx(inner["scale"]["T47D_pERK_r1_early"], rel=1e-12)
    solved = imported.inner_solution(imported.nominal_x, precise=True).as_dict(
        imported.inner.layout
    )
    assert solved["scale"]["scale_T47D_pERK_r1_early"] == pytest.approx(table, rel=1e-5)

    conditions = pd.read_csv(tmp_path / "conditions.tsv", sep="\t", index_col=0)
    assert conditions.loc["preeq_SK_Br_3", "R6_tot"] == "R6_tot__SK_Br_3"
    assert conditions.loc["preeq_SK_Br_3", ["IL6", "VEGF"]].tolist() == [0.0, 0.0]
    combo = next(c for c in problem.conditions if c.name == "IL-6+VEGF [T47D]")
    added = combo.added_concentrations_nm()
    assert conditions.loc["IL_6_VEGF_T47D", "IL6"] == pytest.approx(added["IL6"], rel=1e-15)
    assert conditions.loc["IL_6_VEGF_T47D", "VEGF"] == pytest.approx(added["VEGF"], rel=1e-15)
    measurements = pd.read_csv(tmp_path / "measurements.tsv", sep="\t")
    assert len(measurements) == problem.n_data
    assert set(measurements["preequilibrationConditionId"]) == {
        "preeq_MCF_7",
        "preeq_T47D",
        "preeq_SK_Br_3",
    }
    assert set(measurements["noiseParameters"]) == {"sigma"}


def scale_names(problem) -> tuple[str, ...]:
    return tuple(f"scale_{petab_id(b)}" for b in problem.blots)


@pytest.mark.parametrize(
    ("settings", "sigmas"),
    [
        ({"noise_groups": "readout"}, ("sigma_pERK", "sigma_pAKT", "sigma_p38", "sigma_pSTAT3")),
        ({"noise": "normal"}, ("sigma",)),
    ],
    ids=["sigma-per-readout", "normal-noise"],
)
def test_noise_variants_round_trip(tmp_path, settings, sigmas):
    problem = BlotProblem("independent", REFERENCE, **settings)
    x = random_x(problem, seed=7)
    petab_nllh, nllh, imported = round_trip(problem, x, tmp_path)
    assert petab_nllh == pytest.approx(nllh, abs=NLLH_ATOL, rel=0)
    assert imported.inner_parameter_names == (*scale_names(problem), *sigmas)
    assert imported.nllh(imported.nominal_x, precise=True) == pytest.approx(
        nllh, abs=NLLH_ATOL, rel=0
    )
    observables = pd.read_csv(tmp_path / "observables.tsv", sep="\t", index_col=0)
    transformation = "lin" if settings.get("noise") == "normal" else "log"
    assert set(observables["observableTransformation"]) == {transformation}
    assert observables.loc["blot_pSTAT3", "observableFormula"] == (
        "observableParameter1_blot_pSTAT3 * obs_pSTAT3"
    )


def test_fixed_cell_line_values_and_given_noise_round_trip(tmp_path):
    # R6_tot and R2_0 are not free: their per-line values become numbers in the
    # condition table; the given σ is a fixed parameter
    problem = BlotProblem("independent", REFERENCE, free=FEW, noise_sd=0.3)
    x = random_x(problem, seed=11)
    petab_nllh, nllh, imported = round_trip(problem, x, tmp_path)
    assert petab_nllh == pytest.approx(nllh, abs=NLLH_ATOL, rel=0)
    assert imported.inner_parameter_names == scale_names(problem)
    conditions = pd.read_csv(tmp_path / "conditions.tsv", sep="\t", index_col=0)
    values = problem.model.parameter_values
    for line in problem.cell_lines:
        assert conditions.loc[f"preeq_{_petab_id(line)}", "R6_tot"] == values(line)["R6_tot"]
    parameters = pd.read_csv(tmp_path / "parameters.tsv", sep="\t", index_col=0)
    assert parameters.loc["sigma_pERK", "estimate"] == 0
    assert parameters.loc["sigma_pERK", "nominalValue"] == 0.3


def test_autocrine_variant_exports_with_the_loop_switched_off(tmp_path):
    problem = BlotProblem(
        "stat3_vegf_autocrine", REFERENCE, free=FEW, fixed={"k_vegf_auto_tx": 0.0}
    )
    petab_nllh, nllh, _ = round_trip(problem, random_x(problem, seed=2), tmp_path)
    assert petab_nllh == pytest.approx(nllh, abs=NLLH_ATOL, rel=0)


def test_one_label_with_several_doses_gets_one_condition_per_dose(tmp_path):
    frame = load_blots(REFERENCE).frame
    frame = frame[frame["cell_line"] == "T47D"].copy()
    frame.loc[(frame["condition"] == "IL-6") & (frame["replicate"] == 2), "il6_ng_ml"] = 10.0
    problem = BlotProblem("independent", BlotData.from_frame(frame), free=FEW)
    petab_nllh, nllh, _ = round_trip(problem, random_x(problem, seed=4), tmp_path)
    assert petab_nllh == pytest.approx(nllh, abs=NLLH_ATOL, rel=0)
    conditions = pd.read_csv(tmp_path / "conditions.tsv", sep="\t", index_col=0)
    assert conditions.loc[["IL_6_T47D", "IL_6_T47D_2"], "conditionName"].tolist() == [
        "IL-6 [T47D]",
        "IL-6 [T47D]",
    ]
    assert conditions.loc["IL_6_T47D_2", "IL6"] < conditions.loc["IL_6_T47D", "IL6"]


def test_priors_become_parameter_scale_normal(tmp_path):
    priors = {"k_jak_act": (0.5, 1.0)}
    problem = BlotProblem("independent", REFERENCE, free=FEW, priors=priors)
    yaml_file = export_petab(problem, tmp_path)  # linted before writing
    parameters = pd.read_csv(tmp_path / "parameters.tsv", sep="\t", index_col=0)
    assert parameters.loc["k_jak_act", "objectivePriorType"] == "parameterScaleNormal"
    assert parameters.loc["k_jak_act", "objectivePriorParameters"] == "0.5;1.0"
    assert pd.isna(parameters.loc["k_ras_vr", "objectivePriorType"])
    # the importer reads the prior back: the nllh with priors adds −log N(log10 k; 0.5, 1)
    from scipy.stats import norm

    imported = load_petab(yaml_file)
    assert imported.prior_parameter_names == ("k_jak_act",)
    log10_k = np.log10(parameters.loc["k_jak_act", "nominalValue"])
    assert imported.nllh_nominal() - imported.nllh_nominal(priors=False) == pytest.approx(
        -norm.logpdf(log10_k, 0.5, 1.0), abs=1e-9
    )


def test_ligand_in_the_unstimulated_medium_is_refused(tmp_path, monkeypatch):
    problem = BlotProblem("stat3_vegf_autocrine", REFERENCE, free=FEW)
    with pytest.raises(
        PetabError,
        match=r"variant 'stat3_vegf_autocrine': k_vegf_auto_tx is non-zero .*can only "
        r"replace it — fix k_vegf_auto_tx = 0",
    ):
        export_petab(problem, tmp_path)
    # the numerical guard behind the structural check (for models changed later)
    monkeypatch.setattr(petab_export, "AUTOCRINE_SWITCH", "k_kdr_ind")
    with pytest.raises(
        PetabError, match=r"cell line 'MCF-7': the unstimulated steady state holds ligand"
    ):
        export_petab(problem, tmp_path)
    assert not list(tmp_path.iterdir())


def test_conditions_beyond_ligand_doses_are_refused(tmp_path):
    problem = BlotProblem("independent", REFERENCE, free=FEW)
    problem.conditions[0] = dataclasses.replace(problem.conditions[0], bevacizumab_ug_ml=10.0)
    with pytest.raises(
        PetabError,
        match=r"condition 'control \[MCF-7\]': only IL-6 and VEGF doses can be exported, "
        r"received \{'Bev'",
    ):
        export_petab(problem, tmp_path)


def test_bad_x_is_refused(tmp_path):
    problem = BlotProblem("independent", REFERENCE, free=FEW)
    with pytest.raises(PetabError, match=r"x: expected 4 finite log10 values .*received \[0.0\]"):
        export_petab(problem, tmp_path, x=[0.0])
    with pytest.raises(PetabError, match=r"x: expected 4 finite log10 values .*nan"):
        export_petab(problem, tmp_path, x=[0.0, 0.0, float("nan"), 0.0])
    with pytest.raises(PetabError, match=r"x: expected 4 log10 values .*received 'abc'"):
        export_petab(problem, tmp_path, x="abc")
    with pytest.raises(PetabError, match=r"x: k_jak_act = 10\*\*9 lies outside its bounds"):
        export_petab(problem, tmp_path, x=[9.0, 0.0, 0.0, 0.0])


def test_blot_without_signal_is_refused(tmp_path):
    frame = load_blots(REFERENCE).frame
    frame = frame[frame["cell_line"] == "T47D"].copy()
    frame.loc[frame["blot"] == "T47D_pERK_r1_early", "value"] = 0.0
    with pytest.warns(DataWarning, match="a zero band cannot be fit on the log scale"):
        data = BlotData.from_frame(frame)
    problem = BlotProblem("independent", data, free=FEW, noise="normal")
    with pytest.raises(PetabError, match=r"blot 'T47D_pERK_r1_early': its optimal scale at x is 0"):
        export_petab(problem, tmp_path)


def test_ids_are_valid_and_unique():
    assert _petab_id("IL-6+VEGF [SK-Br-3]") == "IL_6_VEGF_SK_Br_3"
    assert _petab_id("2nd blot µ") == "_2nd_blot"
    taken = {"scale_a_b"}
    assert _unique_ids(["a-b", "a b", "c"], "scale_", taken) == {
        "a-b": "scale_a_b_2",
        "a b": "scale_a_b_3",
        "c": "scale_c",
    }
