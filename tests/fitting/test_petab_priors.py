"""PEtab v1 parameter priors on a hand-made problem: the densities against scipy.stats, the
least-squares residuals against the exact negative log-prior, the objective (nllh + priors)
against finite differences and a direct optimiser, and initialization priors as start points.

Model A → ∅ with rate k, A(0) = A0, observed as s·A with σ = 0.5: k on log10, A0 on lin and s
on log (natural) scale, so that each prior type meets each parameter scale it can confuse
(log vs log10, parameter scale vs linear value, the log-normal's 1/θ).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from paracrine.errors import PetabError
from paracrine.fitting.objective.noise import Transform
from paracrine.fitting.petab import PetabProblem, load_petab
from paracrine.fitting.petab.priors import PRIOR_TYPES, ParameterPrior
from paracrine.testing import antimony_to_sbml, write_petab_problem

DECAY = """
model decay
  J1: A -> ; k*A
  A = A0
  A0 = 10; k = 0.1
end
"""
TIMES = [0.0, 1.0, 2.0, 5.0, 10.0]
DATA = [10.4, 9.3, 7.9, 6.2, 3.5]


def parameter_rows(**priors: dict[str, Any]) -> list[dict[str, Any]]:
    """k (log10), A0 (lin), s (log), sd (fixed); *priors* adds prior columns by id."""
    rows = [
        {"parameterId": "k", "parameterScale": "log10", "lowerBound": 1e-3, "upperBound": 10.0},
        {"parameterId": "A0", "parameterScale": "lin", "lowerBound": 1.0, "upperBound": 100.0},
        {"parameterId": "s", "parameterScale": "log", "lowerBound": 0.1, "upperBound": 10.0},
        {"parameterId": "sd", "parameterScale": "lin", "lowerBound": 0.01, "upperBound": 10.0},
    ]
    nominal = {"k": 0.1, "A0": 10.0, "s": 1.0, "sd": 0.5}
    for row in rows:
        pid = row["parameterId"]
        row.update(nominalValue=nominal[pid], estimate=int(pid != "sd"), **priors.get(pid, {}))
    return rows


def write_problem(directory: Path, parameters: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "conditions": [{"conditionId": "c0"}],
        "observables": [
            {
                "observableId": "obs",
                "observableFormula": "s * A",
                "noiseFormula": "sd",
                "observableTransformation": "lin",
                "noiseDistribution": "normal",
            }
        ],
        "measurements": [
            {"observableId": "obs", "simulationConditionId": "c0", "time": t, "measurement": y}
            for t, y in zip(TIMES, DATA, strict=True)
        ],
        "parameters": parameters,
    }
    return write_petab_problem(directory, antimony_to_sbml(DECAY), tables)


def objective_prior(kind: str, parameters: str) -> dict[str, str]:
    return {"objectivePriorType": kind, "objectivePriorParameters": parameters}


def load(tmp_path: Path, **priors: dict[str, Any]) -> PetabProblem:
    return load_petab(write_problem(tmp_path, parameter_rows(**priors)))


# (parameter, prior type, prior parameters, value θ, −log p by scipy.stats)
CASES = [
    ("k", "parameterScaleNormal", (-1.0, 0.3), 0.2, -stats.norm.logpdf(math.log10(0.2), -1, 0.3)),
    (
        "k",
        "parameterScaleLaplace",
        (-1.0, 0.3),
        0.2,
        -stats.laplace.logpdf(math.log10(0.2), -1, 0.3),
    ),
    ("k", "parameterScaleUniform", (-2.0, 0.0), 0.2, math.log(2.0)),
    ("k", "normal", (0.15, 0.05), 0.2, -stats.norm.logpdf(0.2, 0.15, 0.05)),
    ("k", "laplace", (0.15, 0.05), 0.2, -stats.laplace.logpdf(0.2, 0.15, 0.05)),
    ("k", "uniform", (0.01, 1.0), 0.2, math.log(0.99)),
    ("k", "logNormal", (-2.0, 0.5), 0.2, -stats.lognorm.logpdf(0.2, 0.5, scale=math.exp(-2))),
    (
        "k",
        "logLaplace",
        (-2.0, 0.5),
        0.2,
        -stats.loglaplace.logpdf(0.2, 1 / 0.5, scale=math.exp(-2)),
    ),
    ("A0", "parameterScaleNormal", (10.0, 2.0), 9.0, -stats.norm.logpdf(9.0, 10, 2)),
    ("A0", "logNormal", (2.0, 0.3), 9.0, -stats.lognorm.logpdf(9.0, 0.3, scale=math.exp(2))),
    ("s", "parameterScaleNormal", (0.0, 0.5), 1.5, -stats.norm.logpdf(math.log(1.5), 0, 0.5)),
    ("s", "parameterScaleLaplace", (0.2, 0.5), 1.5, -stats.laplace.logpdf(math.log(1.5), 0.2, 0.5)),
    ("s", "logNormal", (0.0, 0.5), 1.5, -stats.lognorm.logpdf(1.5, 0.5)),
    ("s", "normal", (1.0, 0.4), 1.5, -stats.norm.logpdf(1.5, 1.0, 0.4)),
]


@pytest.mark.parametrize(("pid", "kind", "params", "value", "expected"), CASES)
def test_prior_density_matches_scipy(
    tmp_path: Path, pid: str, kind: str, params: tuple, value: float, expected: float
) -> None:
    """nllh with priors − nllh without = −log p(θ) (PEtab v1: linear-scale types are
    densities of θ, parameterScale types densities of the scaled value, no truncation)."""
    problem = load(tmp_path, **{pid: objective_prior(kind, f"{params[0]};{params[1]}")})
    values = {pid: value}
    added = problem.nllh_parameters(values) - problem.nllh_parameters(values, priors=False)
    assert added == pytest.approx(expected, abs=1e-10)
    assert problem.prior_parameter_names == (pid,)
    # the same through the free-parameter vector of the objective
    x = problem.nominal_x.copy()
    j = problem.parameter_names.index(pid)
    scale = {"k": math.log10, "A0": float, "s": math.log}[pid]
    x[j] = scale(value)
    assert problem.neg_log_prior(x) == pytest.approx(expected, abs=1e-10)


def test_cases_cover_every_prior_type() -> None:
    assert {case[1] for case in CASES} == set(PRIOR_TYPES)


@pytest.mark.parametrize("kind", PRIOR_TYPES)
@pytest.mark.parametrize("scale", [Transform.LIN, Transform.LOG, Transform.LOG10])
def test_residuals_carry_the_exact_negative_log_prior(kind: str, scale: Transform) -> None:
    """0.5·Σr² + residual_offset = −log p at any point of the support, so least squares
    minimises the exact negative log-posterior (normal, log-normal by completing the square,
    Laplace and log-Laplace by square roots of the absolute terms)."""
    uniform = kind.endswith(("niform",))
    a, b = (-1.0, 1.5) if uniform or kind.startswith("parameterScale") else (0.3, 0.7)
    if kind == "uniform":
        a, b = 0.2, 3.0
    prior = ParameterPrior("p", 0, kind, a, b, int(scale), 0.1, 20.0)
    lo, hi = {
        Transform.LIN: (0.1, 20.0),
        Transform.LOG: (math.log(0.1), math.log(20.0)),
        Transform.LOG10: (-1.0, math.log10(20.0)),
    }[scale]
    slo, shi = prior.support()
    lo, hi = max(lo, slo), min(hi, shi)
    for x in np.linspace(lo, hi, 13)[1:-1]:
        r = np.array(prior.residuals(x))
        assert len(r) == prior.n_residuals
        assert 0.5 * r @ r + prior.residual_offset == pytest.approx(
            prior.neg_log_density(x), abs=1e-12
        )
    if uniform:
        assert prior.neg_log_density(hi + 1.0) == math.inf


def test_objective_gradient_includes_the_priors(tmp_path: Path) -> None:
    """Jᵀr of the residuals (data, then priors) against central differences of the objective
    nllh (likelihood + priors), with a prior of every residual form."""
    problem = load(
        tmp_path,
        k=objective_prior("parameterScaleNormal", "-0.8;0.2"),
        A0=objective_prior("logNormal", "2.5;0.1"),
        s=objective_prior("logLaplace", "0.1;0.3"),
    )
    problem.use_tight_tolerances()
    x = problem.nominal_x + np.array([0.05, 1.0, -0.2])
    problem.update_inner(x)
    r = problem.residuals(x)
    assert r.shape == (len(TIMES) + 1 + 1 + 2,)
    grad = problem.jacobian(x).T @ r
    h = 1e-5
    fd = np.array(
        [
            (problem.nllh(x + h * e, precise=True) - problem.nllh(x - h * e, precise=True))
            / (2 * h)
            for e in np.eye(x.size)
        ]
    )
    assert np.linalg.norm(fd) > 1.0
    assert_allclose(grad, fd, rtol=1e-3, atol=1e-3 * np.linalg.norm(fd))


def test_pickled_problem_keeps_its_priors(tmp_path: Path) -> None:
    """Fits in worker processes get the problem pickled: the priors must travel with it."""
    import pickle

    problem = load(tmp_path, k=objective_prior("logLaplace", "-2;0.4"))
    x = problem.nominal_x + 0.1
    copy = pickle.loads(pickle.dumps(problem))
    assert copy.nllh(x, precise=True) == problem.nllh(x, precise=True)
    assert copy.neg_log_prior(x) == problem.neg_log_prior(x) != 0
    assert copy.fingerprint() == problem.fingerprint() != load(tmp_path / "plain").fingerprint()


def test_fit_finds_the_posterior_mode(tmp_path: Path) -> None:
    """A seeded fit minimises likelihood + prior: it lands on the Nelder–Mead minimum of the
    objective, which a strong prior on k moves away from the likelihood's optimum."""
    from scipy.optimize import minimize

    from paracrine.fitting import fit_multistart

    plain = load(tmp_path / "plain")
    problem = load(tmp_path / "prior", k=objective_prior("parameterScaleNormal", "-0.7;0.02"))
    results = {}
    for name, p in (("plain", plain), ("prior", problem)):
        fit = fit_multistart(p, n_starts=4, seed=3, workers=1, progress=False)
        best = minimize(
            lambda v, p=p: p.nllh(np.clip(v, p.lower, p.upper), precise=True),
            fit.x,
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000},
        )
        assert fit.nllh <= best.fun + 1e-4
        assert fit.nllh == pytest.approx(p.nllh(fit.x, precise=True), abs=1e-6)
        results[name] = fit
    k_plain = results["plain"].x[0]
    k_prior = results["prior"].x[0]
    assert abs(k_prior - (-0.7)) < abs(k_plain - (-0.7))
    assert abs(k_prior - k_plain) > 0.05


def test_parameters_with_priors_are_never_inner(tmp_path: Path) -> None:
    """s is an observable scaling (closed form without a prior); with a prior its optimum is
    the posterior's, so it stays free."""
    plain = load(tmp_path / "plain")
    assert "s" in plain.inner_parameter_names and "s" not in plain.parameter_names
    with_prior = load(tmp_path / "prior", s=objective_prior("parameterScaleNormal", "0;0.1"))
    assert "s" in with_prior.parameter_names and "s" not in with_prior.inner_parameter_names


def test_uniform_prior_narrows_the_bounds(tmp_path: Path) -> None:
    problem = load(tmp_path, k=objective_prior("uniform", "0.05;0.5"))
    j = problem.parameter_names.index("k")
    assert problem.lower[j] == pytest.approx(math.log10(0.05))
    assert problem.upper[j] == pytest.approx(math.log10(0.5))
    assert problem.nllh_parameters({"k": 0.01}) == math.inf  # outside the prior's support
    assert problem.nllh_parameters({"k": 0.01}, priors=False) < math.inf


def test_prior_of_a_fixed_parameter_is_a_constant(tmp_path: Path) -> None:
    rows = parameter_rows(A0=objective_prior("normal", "9;2"))
    rows[1]["estimate"] = 0
    problem = load_petab(write_problem(tmp_path, rows))
    assert "A0" not in problem.parameter_names
    constant = -stats.norm.logpdf(10.0, 9, 2)
    assert problem.neg_log_prior(problem.nominal_x) == pytest.approx(constant, abs=1e-12)
    assert problem.nllh_nominal() - problem.nllh_nominal(priors=False) == pytest.approx(constant)


@pytest.mark.parametrize(
    ("priors", "message"),
    [
        (
            {"k": objective_prior("gaussian", "0;1")},
            r"parameters\.tsv, row 2 \(parameter 'k'\), column objectivePriorType: unknown prior "
            r"type 'gaussian'",
        ),
        (
            {"k": objective_prior("parameterScaleNormal", "0")},
            r"row 2 \(parameter 'k'\), column objectivePriorParameters: expected two numbers "
            r"separated by ';', received '0\.0'",
        ),
        (
            {"k": objective_prior("normal", "0;a")},
            r"column objectivePriorParameters: expected two numbers separated by ';', received "
            r"'0;a'",
        ),
        (
            {"k": {"objectivePriorType": "normal"}},
            r"prior type 'normal' needs two parameters",
        ),
        (
            {"k": objective_prior("laplace", "0;-1")},
            r"expected a positive scale .* of a laplace prior, received -1\.0",
        ),
        (
            {"k": objective_prior("uniform", "2;1")},
            r"expected lower < upper for a uniform prior, received 2\.0;1\.0",
        ),
        (
            {"k": {"objectivePriorParameters": "0;1"}},
            r"column objectivePriorParameters: prior parameters '0;1' given without a "
            r"objectivePriorType",
        ),
        (
            {"k": objective_prior("parameterScaleUniform", "3;4")},
            r"the parameterScaleUniform prior's interval \[3\.0, 4\.0\] does not meet the bounds",
        ),
        (
            {"k": {"initializationPriorType": "parameterScaleGauss"}},
            r"column initializationPriorType: unknown prior type 'parameterScaleGauss' .*did "
            r"you mean 'parameterScaleLaplace'|column initializationPriorType: unknown prior",
        ),
    ],
)
def test_malformed_priors_are_refused(tmp_path: Path, priors: dict, message: str) -> None:
    with pytest.raises(PetabError, match=message):
        load(tmp_path, **priors)


def test_log_prior_needs_a_positive_lower_bound(tmp_path: Path) -> None:
    rows = parameter_rows(A0=objective_prior("logLaplace", "2;0.3"))
    rows[1]["lowerBound"] = 0.0
    with pytest.raises(
        PetabError, match=r"a logLaplace prior needs lowerBound > 0 .*received lowerBound 0\.0"
    ):
        load_petab(write_problem(tmp_path, rows))


def test_parameter_scale_uniform_defaults_to_the_bounds(tmp_path: Path) -> None:
    """Without parameters parameterScaleUniform spans the bounds on the parameter scale:
    −log p = log(log10 10 − log10 1e-3) = log 4 (the PEtab linter allows no other type
    without parameters)."""
    problem = load(tmp_path, k={"objectivePriorType": "parameterScaleUniform"})
    assert problem.neg_log_prior(problem.nominal_x) == pytest.approx(math.log(4.0), abs=1e-12)


# --- initialization priors -------------------------------------------------------------------
def init_prior(kind: str, parameters: str) -> dict[str, str]:
    return {"initializationPriorType": kind, "initializationPriorParameters": parameters}


def test_initialization_priors_shape_the_starts(tmp_path: Path) -> None:
    """Latin-hypercube points through the priors' quantile functions: a parameterScaleNormal
    start prior on k has its mean and sd (LHS stratifies, so 4000 points pin them to ~1e-3),
    a logNormal one on A0 (lin scale) its median e^μ; s, without one, stays uniform within
    its bounds exactly as without priors."""
    from paracrine.fitting.starts import latin_hypercube_unit

    problem = load(
        tmp_path,
        k=init_prior("parameterScaleNormal", "-1.5;0.2"),
        A0=init_prior("logNormal", "2.5;0.1"),
        s=objective_prior("parameterScaleNormal", "0;1"),  # keeps s free
    )
    assert problem.parameter_names == ("k", "A0", "s")
    unit = latin_hypercube_unit(3, 4000, seed=11)
    starts = problem.starts_from_unit(unit)
    assert starts[:, 0].mean() == pytest.approx(-1.5, abs=2e-3)
    assert starts[:, 0].std() == pytest.approx(0.2, abs=2e-3)
    assert np.median(starts[:, 1]) == pytest.approx(math.exp(2.5), rel=2e-3)
    assert_allclose(
        starts[:, 2], unit[:, 2] * (problem.upper[2] - problem.lower[2]) + problem.lower[2]
    )


def test_initialization_priors_are_clipped_to_the_bounds(tmp_path: Path) -> None:
    """PEtab v1: "sampled points are clipped to lie inside the parameter boundaries"."""
    from paracrine.fitting.starts import latin_hypercube_unit

    problem = load(tmp_path, k=init_prior("normal", "0.5;3"))
    starts = problem.starts_from_unit(latin_hypercube_unit(2, 500, seed=2))
    k = starts[:, 0]
    assert np.all((k >= problem.lower[0]) & (k <= problem.upper[0]))
    # θ ~ N(0.5, 3) is ≤ 1e-3 (the lower bound) in 43 % of draws, ≥ 10 in 0.1 %
    assert np.mean(k == problem.lower[0]) == pytest.approx(stats.norm.cdf(1e-3, 0.5, 3), abs=0.01)


def test_engine_draws_its_starts_through_the_priors(tmp_path: Path) -> None:
    """fit_multistart's start points are the problem's starts_from_unit of the seeded Latin
    hypercube: the same seed gives the same starts; a problem without initialization priors
    gets exactly the plain Latin-hypercube points of before."""
    from paracrine.fitting import fit_multistart
    from paracrine.fitting.starts import latin_hypercube_starts, latin_hypercube_unit, start_points

    problem = load(tmp_path / "prior", k=init_prior("parameterScaleNormal", "-1.5;0.2"))
    n = len(problem.parameter_names)
    expected = problem.starts_from_unit(latin_hypercube_unit(n, 3, seed=5))
    fit = fit_multistart(problem, n_starts=3, seed=5, workers=1, progress=False)
    assert_allclose(np.array([s.x0 for s in sorted(fit.starts, key=lambda s: s.index)]), expected)
    again = start_points(
        problem.lower, problem.upper, 3, 5, None, problem.parameter_names,
        from_unit=problem.starts_from_unit,
    )  # fmt: skip
    assert_allclose(again, expected, rtol=0, atol=0)
    plain = load(tmp_path / "plain")
    points = start_points(
        plain.lower, plain.upper, 4, 9, None, plain.parameter_names,
        from_unit=plain.starts_from_unit,
    )  # fmt: skip
    assert_allclose(points, latin_hypercube_starts(plain.lower, plain.upper, 4, 9), rtol=0, atol=0)


def test_start_points_take_a_box_or_a_mapping() -> None:
    from paracrine.errors import InvalidInputError
    from paracrine.fitting.starts import start_points

    lo, hi = np.zeros(2), np.ones(2)
    with pytest.raises(InvalidInputError, match=r"expected a box or a from_unit mapping"):
        start_points(lo, hi, 2, 0, None, ("a", "b"), (lo, hi), from_unit=lambda u: u)
