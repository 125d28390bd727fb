"""PEtab import against real public problems (../shared/petab, outside the repository).

The reference negative log-likelihoods at the nominal parameters are those of
../shared/petab/README.md (AMICI via pyPESTO), without prior terms; the simulated data files
beside each problem are AMICI's simulations at the nominal parameters.

Tolerances: the README rounds to 4 decimals (±5e-5), so the precise evaluation (CVODE rtol
1e-10, atol 1e-12: ``load_petab``'s defaults) must agree to 1e-4 absolute; measured
differences are 1e-6–3.3e-5. The fitting tolerances (rtol 1e-6, atol 1e-8) agree to 1e-3
(measured ≤ 5e-4), Bachmann_MSB2011 to 2.5e-3 (measured 1.9e-3). Isensee_JCB2018 needs
precise atol 1e-11: at 1e-12, right after the Fsk step input switches on at t = 60 (condition
model1_data25), the steps CVODE needs fall below the floating-point resolution of t = 60
("t + h = t", h ~ 1e-15) and it fails after 100000 of them.

The priors of Bachmann_MSB2011, Isensee_JCB2018 and Schwen_PONE2014 (all parameterScaleNormal)
are checked against an independent sum of ``scipy.stats.norm.logpdf`` over the parameter
table; the README reports those problems' nllh without priors, which ``priors=False`` gives.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.fitting.petab import PetabProblem, load_petab

SHARED_PETAB = Path(__file__).resolve().parents[3] / "shared" / "petab"


@dataclass(frozen=True)
class Reference:
    """What a problem must reproduce.

    nllh: the README value (no priors); n_free, n_inner: free and analytic inner parameters;
    n_residuals: residuals per evaluation (data, then noise terms of variable σ, then prior
    residuals); loose_atol: tolerance of the fitting-tolerance nllh; load: load_petab keywords;
    simulated: the simulatedData file lists the measurement rows in the same order (compared
    row by row); with_priors: the measured nllh with priors (None: no priors).
    """

    nllh: float
    n_free: int
    n_inner: int
    n_residuals: int
    loose_atol: float = 1e-3
    load: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    with_priors: float | None = None


REFERENCE = {
    "Boehm_JProteomeRes2014": Reference(138.2220, 6, 3, 48, simulated=True),
    "Raia_CancerResearch2011": Reference(346.0898, 39, 0, 205 + 205, simulated=True),
    # 3 of its 4 observable scalings are solved in closed form (k_IRSiP_DosR is also an SBML
    # parameter, so it stays free), beside the 4 noise levels
    "Brannmark_JBC2010": Reference(141.8892, 15, 7, 43, simulated=True),
    "Lucarelli_CellSystems2018": Reference(1681.6060, 72, 12, 1755),
    "Sneyd_PNAS2002": Reference(-319.7918, 14, 1, 135),
    "Weber_BMC2015": Reference(296.2018, 26, 10, 135, simulated=True),
    "Zheng_PNAS2012": Reference(-278.3335, 45, 1, 60),
    # 116 measurements with a σ that depends on free parameters, 1 prior residual
    "Bachmann_MSB2011": Reference(
        -418.4057, 96, 17, 541 + 116 + 1, loose_atol=2.5e-3, simulated=True, with_priors=-419.1295
    ),
    "Schwen_PONE2014": Reference(943.9993, 27, 3, 286 + 6, simulated=True, with_priors=956.5184),
    # every σ depends on free parameters; parameters with priors are never inner (20 priors)
    "Isensee_JCB2018": Reference(
        3949.3760, 46, 0, 687 + 687 + 20, load={"precise_atol": 1e-11}, with_priors=3953.8290
    ),
}
#: Problems whose tests take > 20 s (Chen: ~50 s to compile and simulate 500 states); only
#: their nllh is checked (the structure fields are unused placeholders).
SLOW = {"Chen_MSB2009": Reference(115700.1193, 0, 0, 0)}
PRIORS = sorted(name for name, ref in REFERENCE.items() if ref.with_priors is not None)


def yaml_of(name: str) -> Path:
    if not SHARED_PETAB.is_dir():
        pytest.skip(
            "../shared/petab not found: the public PEtab problems live outside the repository "
            "(CI always has them)"
        )
    return SHARED_PETAB / name / f"{name}.yaml"


_CACHE: dict[str, PetabProblem] = {}


def problem_of(name: str) -> PetabProblem:
    """Load each problem once per test session (loading costs 0.1–3 s, compiling included)."""
    if name not in _CACHE:
        ref = REFERENCE.get(name) or SLOW[name]
        _CACHE[name] = load_petab(yaml_of(name), **ref.load)
    return _CACHE[name]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_nllh_at_nominal_matches_reference(name: str) -> None:
    problem, ref = problem_of(name), REFERENCE[name]
    assert problem.nllh_nominal(priors=False) == pytest.approx(ref.nllh, abs=1e-4)
    # the loose (fitting) tolerances stay within their margin
    loose = problem.nllh_nominal(precise=False, priors=False)
    assert loose == pytest.approx(ref.nllh, abs=ref.loose_atol)
    if ref.with_priors is None:
        assert problem.nllh_nominal() == problem.nllh_nominal(priors=False)
        assert problem.prior_parameter_names == ()


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="Chen_MSB2009's files in ../shared/petab are not those its recorded 115700.1193 "
    "was computed from: 27 measurements at t > 1800 (ERK_PP in model1_data3, ERK_PP and AKT_PP "
    "in model1_data4; Benchmark-Models-PEtab issue #175) differ from the revision AMICI's value "
    "holds (scoring the collection's own simulatedData against the two tables gives 130669.49 "
    "and 115700.119), and 16 nominal values are rounded to 3 digits (−77.7 in nllh). "
    "paracrine reproduces the collection's simulatedData to 2e-6 at the unrounded values "
    "(test_petab_chen_semantics.py); with these files its nllh is 130591.7530",
)
def test_chen_nllh_at_nominal_matches_reference() -> None:
    problem = problem_of("Chen_MSB2009")
    assert problem.nllh_nominal(priors=False) == pytest.approx(SLOW["Chen_MSB2009"].nllh, abs=1e-4)


def hand_neg_log_prior(name: str) -> float:
    """Σ −log N(x; μ, σ) over the parameter table's parameterScaleNormal priors at the nominal
    values, with scipy.stats (independent of paracrine's prior code)."""
    from scipy.stats import norm

    table = pd.read_csv(yaml_of(name).parent / f"parameters_{name}.tsv", sep="\t")
    rows = table[table["objectivePriorType"].notna()]
    # the only type in these problems; another one would need its own formula here
    assert set(rows["objectivePriorType"]) == {"parameterScaleNormal"}
    total = 0.0
    for _, row in rows.iterrows():
        mean, sd = (float(v) for v in row["objectivePriorParameters"].split(";"))
        scale = {"lin": lambda v: v, "log": math.log, "log10": math.log10}[row["parameterScale"]]
        total -= norm.logpdf(scale(row["nominalValue"]), loc=mean, scale=sd)
    return total


@pytest.mark.parametrize("name", PRIORS)
def test_nllh_with_priors(name: str) -> None:
    """nllh + negative log-prior, normalising constants included: the README value plus the
    hand sum of the priors' −log N (to 1e-4, the README's rounding), and exactly (1e-9) the
    likelihood plus that sum."""
    problem, ref = problem_of(name), REFERENCE[name]
    prior = hand_neg_log_prior(name)
    with_priors = problem.nllh_nominal()
    assert with_priors == pytest.approx(ref.nllh + prior, abs=1e-4)
    assert with_priors - problem.nllh_nominal(priors=False) == pytest.approx(prior, abs=1e-9)
    assert with_priors == pytest.approx(ref.with_priors, abs=1e-4)
    assert problem.neg_log_prior(problem.nominal_x) == pytest.approx(prior, abs=1e-9)
    # the objective the fits minimise is the posterior (with the analytic noise levels at
    # their optimum, so no more than at their nominal values)
    problem.reset()
    objective = problem.nllh(problem.nominal_x, precise=True)
    # (x = log10 of the nominal values and back: the same to rounding, 1e-8 in the nllh)
    if ref.n_inner:
        assert objective <= with_priors + 1e-6
    else:
        assert objective == pytest.approx(with_priors, abs=1e-6)


def test_reference_values_are_those_of_the_readme() -> None:
    readme = (yaml_of("Boehm_JProteomeRes2014").parents[1] / "README.md").read_text()
    for name, ref in {**REFERENCE, **SLOW}.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| {name} "))
        assert row.rstrip(" |").replace("\u2212", "-").endswith(f"{ref.nllh:.4f}")  # − is U+2212


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_structure(name: str) -> None:
    ref = REFERENCE[name]
    problem = problem_of(name)
    assert len(problem.parameter_names) == ref.n_free
    assert problem.n_inner_parameters == ref.n_inner
    problem.update_inner(problem.nominal_x)
    assert problem.residuals(problem.nominal_x).shape == (ref.n_residuals,)
    expected = {} if ref.n_inner else {"ftol": 1e-6, "xtol": 1e-6, "max_rounds": 3}
    assert problem.recommended_options() == expected
    assert np.all(problem.lower <= problem.nominal_x)  # Raia's sd_RecSurf_abs sits on a bound
    assert np.all(problem.nominal_x <= problem.upper)
    # parameters with an objective prior stay free (their optimum is not the closed form's)
    assert set(problem.prior_parameter_names) <= set(problem.parameter_names)


@pytest.mark.parametrize("name", sorted(n for n, ref in REFERENCE.items() if ref.simulated))
def test_simulations_match_amici(name: str) -> None:
    """Row by row against the simulatedData file (rtol 1e-4, atol 1e-6). Lucarelli's and
    Isensee's files list the rows in another order, Sneyd's and Zheng's hold other
    simulations (60–70 rows differ though the nllh matches the README): not compared."""
    problem = problem_of(name)
    mine = problem.simulation_table()
    path = yaml_of(name).parent / f"simulatedData_{name}.tsv"
    amici = pd.read_csv(path, sep="\t")
    assert_allclose(mine["time"], amici["time"])
    assert_allclose(mine["simulation"], amici["simulation"], rtol=1e-4, atol=1e-6)


# Raia's noise formulas contain model states, which petab.calculate_llh cannot evaluate.
@pytest.mark.parametrize("name", sorted(set(REFERENCE) - {"Raia_CancerResearch2011"}))
def test_likelihood_agrees_with_petab_calculate(name: str) -> None:
    """petab's own likelihood of our simulations equals our nllh without priors (conventions,
    Jacobians; measured agreement ≤ 3e-12)."""
    import petab.v1 as petab
    from petab.v1.calculate import calculate_llh

    problem = problem_of(name)
    with warnings.catch_warnings():  # pandas-3 deprecations inside petab 0.8.2's readers
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        tables = petab.Problem.from_yaml(str(yaml_of(name)))
        sim = tables.measurement_df.rename(columns={"measurement": "simulation"})
        sim["simulation"] = problem.simulation_table()["simulation"].to_numpy()
        llh = calculate_llh(tables.measurement_df, sim, tables.observable_df, tables.parameter_df)
    assert problem.nllh_nominal(priors=False) == pytest.approx(-llh, abs=1e-8)


@pytest.mark.parametrize(
    ("name", "tol"),
    [
        ("Boehm_JProteomeRes2014", 0.02),
        ("Raia_CancerResearch2011", 0.02),
        ("Brannmark_JBC2010", 0.05),
    ],
)
def test_gradient_agrees_with_finite_differences(name: str, tol: float) -> None:
    """Jᵀr of the fitting residuals (default rtol 1e-6, FD step 1e-3) against central
    differences of the precise nllh, at a point off the optimum (where the gradient is large).

    With the analytic noise levels re-solved at x, d(0.5·Σr²)/dx = d nllh/dx (envelope
    theorem), so the comparison holds for problems with and without inner parameters.
    """
    problem = problem_of(name)
    rng = np.random.default_rng(7)
    x = np.clip(
        problem.nominal_x + rng.normal(0.0, 0.1, problem.nominal_x.size),
        problem.lower,
        problem.upper,
    )
    problem.update_inner(x)
    grad = problem.jacobian(x).T @ problem.residuals(x)
    h = 1e-5
    fd = np.array(
        [
            (problem.nllh(x + h * e, precise=True) - problem.nllh(x - h * e, precise=True))
            / (2 * h)
            for e in np.eye(x.size)
        ]
    )
    scale = np.linalg.norm(fd)
    assert scale > 1.0  # a real gradient, not the optimum
    assert np.linalg.norm(grad - fd) <= tol * scale
    assert_allclose(grad, fd, atol=tol * scale)


def test_precise_gradient_is_tight() -> None:
    """At tight tolerances the Jacobian's gradient matches central differences closely."""
    problem = load_petab(yaml_of("Boehm_JProteomeRes2014"), rtol=1e-10, atol=1e-12, fd_step=1e-5)
    x = problem.nominal_x + np.array([0.1, -0.1, 0.1, -0.1, 0.05, -0.05])
    problem.update_inner(x)
    grad = problem.jacobian(x).T @ problem.residuals(x)
    h = 1e-5
    fd = np.array(
        [
            (problem.nllh(x + h * e, precise=True) - problem.nllh(x - h * e, precise=True))
            / (2 * h)
            for e in np.eye(x.size)
        ]
    )
    assert_allclose(grad, fd, rtol=2e-3, atol=1e-3 * np.linalg.norm(fd))


def test_seeded_boehm_fit_reaches_the_optimum() -> None:
    """30 seeded starts in this process (~4 s on an idle 2-core machine)."""
    from paracrine.fitting.engine import fit_multistart

    problem = load_petab(yaml_of("Boehm_JProteomeRes2014"))
    result = fit_multistart(problem, n_starts=30, seed=0, workers=1, progress=False)
    assert result.nllh <= 138.32
    assert result.n_hits(0.1) >= 2
    assert set(result.values) == set(problem.parameter_names)


def test_tight_tolerances_for_problems_without_analytic_noise() -> None:
    problem = load_petab(yaml_of("Raia_CancerResearch2011"))
    loose = problem.nllh(problem.nominal_x)
    problem.use_tight_tolerances()
    assert (problem.rtol, problem.atol, problem.fd_step) == (1e-8, 1e-10, 1e-4)
    tight = problem.nllh(problem.nominal_x)
    assert tight != loose  # the cached loose simulation was dropped
    assert tight == pytest.approx(REFERENCE["Raia_CancerResearch2011"].nllh, abs=1e-4)


def test_refine_start_solves_observation_parameters() -> None:
    """Raia's 21 scalings/noise parameters 1.5 decades off come back to their optimum."""
    problem = load_petab(yaml_of("Raia_CancerResearch2011"))
    assert problem.configure_for_fitting() == problem.recommended_options()
    assert problem.rtol == 1e-8  # no analytic noise levels: tight tolerances
    x = problem.nominal_x.copy()
    static = np.zeros(x.size, dtype=bool)
    static[problem.observation_parameters] = True
    assert static.sum() == 21  # 5 scalings + 16 noise parameters
    off = x.copy()
    off[static] = np.clip(off[static] + 1.5, problem.lower[static], problem.upper[static])
    refined = problem.refine_start(off)
    assert_allclose(refined[~static], x[~static], rtol=0, atol=0)  # kinetics untouched
    assert np.all(refined >= problem.lower) and np.all(refined <= problem.upper)
    # the nominal observation parameters are one candidate: the optimum given the kinetics
    # is at least as good, and far better than the shifted start
    assert problem.nllh(refined) <= problem.nllh(x) + 1e-3
    assert problem.nllh(refined) < problem.nllh(off) - 10


def test_refine_start_without_observation_parameters_is_the_identity() -> None:
    problem = problem_of("Boehm_JProteomeRes2014")  # its scalings are fixed, σ analytic
    assert problem.observation_parameters.size == 0
    x = problem.nominal_x + 0.1
    assert_allclose(problem.refine_start(x), x, rtol=0, atol=0)


# --- Sobotta_Frontiers2017 (no recorded reference) -------------------------------------------
SOBOTTA = "Sobotta_Frontiers2017"
#: The measured nllh at the nominal parameters, without the two linter-failing rows (below).
SOBOTTA_NLLH = -500.3900
#: Data sets (named in their noise/observable parameter ids) whose protocol the PEtab tables do
#: not encode: IL-6 pulses and repeated doses (wash-outs) and inhibitors (ruxolitinib, Stattic,
#: actinomycin D) given before t = 0, which a simulation starting at t = 0 (PEtab v1) cannot
#: see: the SBML's input rules switch ruxolitinib and Stattic on at t = −60, ActD at −10.
SOBOTTA_UNENCODED = ("Pulse", "ThreeDoses", "Rux", "Stattic", "Inh", "ActD")


@pytest.fixture(scope="module")
def sobotta(tmp_path_factory: pytest.TempPathFactory) -> tuple[PetabProblem, pd.DataFrame]:
    """Sobotta_Frontiers2017 with the two measurement rows that fail the PEtab linter dropped
    (SOCS3_qpcr of model1_data375 at t = 0 and 2000, measurement 1.0, without the two
    observable parameters its formula needs; the README counts 2220 data points, the table
    holds 2222). The folder is copied to a temporary directory with that table edited, never
    into the repository. Returns the problem and the kept rows of the simulatedData file."""
    import shutil

    folder = yaml_of(SOBOTTA).parent
    out = tmp_path_factory.mktemp("sobotta")
    for path in folder.iterdir():
        if path.suffix in (".yaml", ".xml", ".tsv") and not path.name.startswith("measurement"):
            shutil.copy(path, out / path.name)
    table = pd.read_csv(folder / f"measurementData_{SOBOTTA}.tsv", sep="\t")
    broken = (table["observableId"] == "SOCS3_qpcr") & table["observableParameters"].isna()
    assert list(table.index[broken]) == [1338, 1339]
    table[~broken].to_csv(out / f"measurementData_{SOBOTTA}.tsv", sep="\t", index=False)
    simulated = pd.read_csv(folder / f"simulatedData_{SOBOTTA}.tsv", sep="\t")
    return load_petab(out / f"{SOBOTTA}.yaml"), simulated[~broken.to_numpy()].reset_index(drop=True)


def test_sobotta_as_published_fails_the_linter() -> None:
    from paracrine.errors import PetabError

    with pytest.raises(PetabError, match=r"Mismatch of observable parameter overrides for SOCS3"):
        load_petab(yaml_of(SOBOTTA))


def test_sobotta_nllh_by_hand(sobotta: tuple[PetabProblem, pd.DataFrame]) -> None:
    """Sobotta has no recorded reference (the collection's sheet says −2·llh ≈ −1346.75, i.e.
    nllh ≈ −673.4, unverified and from Data2Dynamics, which simulates the pre-treatments the
    tables omit). Its nllh is recomputed here by hand from paracrine's simulation table: every
    observable has one noise placeholder, σ = the row's noiseParameters (a number or a
    parameter-table id at its nominal value), normal noise on lin or log10, with the log10
    Jacobian log(y·ln 10)."""
    problem, _ = sobotta
    assert problem.n_data == 2220
    sim = problem.simulation_table()
    folder = yaml_of(SOBOTTA).parent
    measured = pd.read_csv(folder / f"measurementData_{SOBOTTA}.tsv", sep="\t")
    measured = measured[
        ~((measured["observableId"] == "SOCS3_qpcr") & measured["observableParameters"].isna())
    ].reset_index(drop=True)
    observables = pd.read_csv(folder / f"observables_{SOBOTTA}.tsv", sep="\t", index_col=0)
    nominal = pd.read_csv(folder / f"parameters_{SOBOTTA}.tsv", sep="\t", index_col=0)[
        "nominalValue"
    ]
    assert set(observables["noiseDistribution"]) == {"normal"}
    assert set(observables["noiseFormula"]) == {f"noiseParameter1_{o}" for o in observables.index}
    total = 0.0
    for (_, row), h in zip(measured.iterrows(), sim["simulation"], strict=True):
        token = str(row["noiseParameters"])
        sigma = float(nominal[token]) if token in nominal.index else float(token)
        y = float(row["measurement"])
        if observables.loc[row["observableId"], "observableTransformation"] == "log10":
            d = math.log10(h) - math.log10(y)
            total += math.log(y * math.log(10))
        else:
            d = h - y
        total += 0.5 * math.log(2 * math.pi * sigma**2) + 0.5 * (d / sigma) ** 2
    assert problem.nllh_nominal(priors=False) == pytest.approx(total, abs=1e-8)
    assert problem.nllh_nominal() == pytest.approx(SOBOTTA_NLLH, abs=1e-4)
    # at the fitting tolerances: 3.3e-3 higher (measured)
    assert problem.nllh_nominal(precise=False) == pytest.approx(SOBOTTA_NLLH, abs=5e-3)


def test_sobotta_simulations_match_its_simulated_data(
    sobotta: tuple[PetabProblem, pd.DataFrame],
) -> None:
    """The problem's simulatedData file (Data2Dynamics, values on the observables' scale:
    log10 for log10 observables) against paracrine's simulations at the nominal parameters:
    the 20 measurements at t = −10 (the state at 0) and every data set whose protocol the
    tables encode agree to 3e-4 in log10 units (measured 1.95e-4: 0.05 %), except the three
    pSTAT3_wb rows of condition model1_data4 (DoseResponse_3TP, t = 15: 0.54, not explained
    by the tables); the pulse, multi-dose and inhibitor data sets differ by up to 0.94 after
    the pulse ends or where the pre-treatment matters, as the tables cannot say that IL-6 is
    washed out or that inhibitors act from t = −60."""
    problem, simulated = sobotta
    sim = problem.simulation_table()
    folder = yaml_of(SOBOTTA).parent
    observables = pd.read_csv(folder / f"observables_{SOBOTTA}.tsv", sep="\t", index_col=0)
    log10 = observables.loc[sim["observableId"], "observableTransformation"].to_numpy() == "log10"
    mine = np.where(log10, np.log10(sim["simulation"].to_numpy()), sim["simulation"].to_numpy())
    assert_allclose(sim["time"], simulated["time"])
    assert (sim["observableId"].to_numpy() == simulated["observableId"].to_numpy()).all()
    deviation = np.abs(mine - simulated["simulation"].to_numpy())
    measurements = pd.read_csv(folder / f"measurementData_{SOBOTTA}.tsv", sep="\t")
    labels = measurements["noiseParameters"].astype(str) + measurements[
        "observableParameters"
    ].fillna("").astype(str)
    labels = labels[
        ~(
            (measurements["observableId"] == "SOCS3_qpcr")
            & measurements["observableParameters"].isna()
        )
    ].to_numpy()
    unencoded = np.array([any(tag in label for tag in SOBOTTA_UNENCODED) for label in labels])
    negative = sim["time"].to_numpy() < 0
    assert negative.sum() == 20
    assert deviation[negative].max() < 1e-5
    unexplained = (sim["simulationConditionId"] == "model1_data4").to_numpy()
    assert deviation[unexplained].max() > 0.5 and unexplained.sum() == 3
    assert deviation[~unencoded & ~unexplained].max() < 3e-4
    assert deviation[unencoded].max() > 0.5  # the known gap: not silently "fixed"
    pulse = np.array(["Pulse20min" in label for label in labels])
    assert deviation[pulse & (sim["time"].to_numpy() <= 20)].max() < 3e-4  # until the wash-out
