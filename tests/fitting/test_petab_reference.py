"""PEtab import against real public problems (../shared/petab, outside the repository).

The reference negative log-likelihoods at the nominal parameters are those of
../shared/petab/README.md (AMICI via pyPESTO); the simulated data files beside each problem
are AMICI's simulations at the nominal parameters.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.fitting.petab import PetabProblem, load_petab

SHARED_PETAB = Path(__file__).resolve().parents[3] / "shared" / "petab"

#: name -> (nllh at the nominal parameters from ../shared/petab/README.md, free parameters,
#: analytic noise levels, residuals per evaluation)
REFERENCE = {
    "Boehm_JProteomeRes2014": (138.2220, 6, 3, 48),
    "Raia_CancerResearch2011": (346.0898, 39, 0, 205 + 205),
    # 3 of its 4 observable scalings are solved in closed form (k_IRSiP_DosR is also an SBML
    # parameter, so it stays free), beside the 4 noise levels
    "Brannmark_JBC2010": (141.8892, 15, 7, 43),
}


def yaml_of(name: str) -> Path:
    if not SHARED_PETAB.is_dir():
        pytest.skip(
            "../shared/petab not found: the public PEtab problems live outside the repository "
            "(CI always has them)"
        )
    return SHARED_PETAB / name / f"{name}.yaml"


_CACHE: dict[str, PetabProblem] = {}


def problem_of(name: str) -> PetabProblem:
    """Load each problem once per test session (loading costs ~0.2 s, compiling included)."""
    if name not in _CACHE:
        _CACHE[name] = load_petab(yaml_of(name))
    return _CACHE[name]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_nllh_at_nominal_matches_reference(name: str) -> None:
    problem = problem_of(name)
    assert problem.nllh_nominal() == pytest.approx(REFERENCE[name][0], abs=1e-3)
    # the loose (fitting) tolerances stay within the same margin
    assert problem.nllh_nominal(precise=False) == pytest.approx(REFERENCE[name][0], abs=1e-3)


def test_reference_values_are_those_of_the_readme() -> None:
    readme = (yaml_of("Boehm_JProteomeRes2014").parents[1] / "README.md").read_text()
    for name, (value, *_) in REFERENCE.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| {name} "))
        assert row.rstrip(" |").endswith(f"{value:.4f}")


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_structure(name: str) -> None:
    _, n_free, n_inner, n_residuals = REFERENCE[name]
    problem = problem_of(name)
    assert len(problem.parameter_names) == n_free
    assert problem.n_inner_parameters == n_inner
    problem.update_inner(problem.nominal_x)
    assert problem.residuals(problem.nominal_x).shape == (n_residuals,)
    expected = {} if n_inner else {"ftol": 1e-6, "xtol": 1e-6, "max_rounds": 3}
    assert problem.recommended_options() == expected
    assert np.all(problem.lower <= problem.nominal_x)  # Raia's sd_RecSurf_abs sits on a bound
    assert np.all(problem.nominal_x <= problem.upper)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_simulations_match_amici(name: str) -> None:
    problem = problem_of(name)
    mine = problem.simulation_table()
    path = yaml_of(name).parent / f"simulatedData_{name}.tsv"
    amici = pd.read_csv(path, sep="\t")
    assert_allclose(mine["time"], amici["time"])
    assert_allclose(mine["simulation"], amici["simulation"], rtol=1e-4, atol=1e-6)


# Raia's noise formulas contain model states, which petab.calculate_llh cannot evaluate.
@pytest.mark.parametrize("name", ["Boehm_JProteomeRes2014", "Brannmark_JBC2010"])
def test_likelihood_agrees_with_petab_calculate(name: str) -> None:
    """petab's own likelihood of our simulations equals our nllh (conventions, Jacobians)."""
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
    assert problem.nllh_nominal() == pytest.approx(-llh, abs=1e-8)


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
    assert tight == pytest.approx(REFERENCE["Raia_CancerResearch2011"][0], abs=1e-4)


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
