"""Forward-sensitivity gradients of PEtab problems (paracrine.fitting.petab.gradients).

Closed forms on small hand-made problems (exponential decay with an initial assignment; a
pre-equilibrated steady state followed by a step input), the sensitivity Jacobian against
central differences, the fallback for unsupported models, and the public problems
Boehm_JProteomeRes2014 and Brannmark_JBC2010 (skipped without ../shared/petab).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.fitting.petab import load_petab
from paracrine.testing import antimony_to_sbml, write_petab_problem

casadi = pytest.importorskip("casadi", reason="the sensitivity route needs CasADi")

from paracrine.fitting.petab.gradients import (  # noqa: E402 - after the importorskip
    CasadiSensitivities,
    SymbolicModel,
    UnsupportedModel,
    choose_gradient,
    gradient_error,
    use_fastest_gradient,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "petab"
LN10 = math.log(10.0)

DECAY = """
model decay
  J1: A -> ; k*A
  A = A0
  k = 0.3; A0 = 10
end
"""

PREEQ_STEP = """
model preeq_step
  J0: -> B; kb + kp*piecewise(0, time < t_on, 1)
  J1: B -> ; kd*B
  B = 0
  kb = 1; kp = 2; kd = 0.5; t_on = 2.5
end
"""


def parameter(pid: str, scale: str, nominal: float, lower: float = 1e-3, upper: float = 1e3):
    return {
        "parameterId": pid,
        "parameterScale": scale,
        "lowerBound": lower,
        "upperBound": upper,
        "nominalValue": nominal,
        "estimate": 1,
    }


DECAY_TIMES = (0.0, 1.0, 2.0, 5.0, 10.0)


def decay_problem(directory: Path, times: tuple[float, ...] = DECAY_TIMES, **kwargs: Any):
    """A(t) = A0·exp(−k t) observed with an estimated σ (solved in closed form)."""
    wiggle = (1.02, 0.97, 1.05, 0.96, 1.01, 0.99)
    meas = [
        {
            "observableId": "obs_A",
            "simulationConditionId": "c0",
            "measurement": 10 * math.exp(-0.3 * t) * w,
            "time": t,
            "noiseParameters": "sd_A",
        }
        for t, w in zip(times, wiggle, strict=False)
    ]
    tables = {
        "conditions": [{"conditionId": "c0", "conditionName": ""}],
        "observables": [
            {
                "observableId": "obs_A",
                "observableFormula": "A",
                "noiseFormula": "noiseParameter1_obs_A",
            }
        ],
        "measurements": meas,
        "parameters": [
            parameter("k", "log10", 0.3),
            parameter("A0", "lin", 10.0, 0.1, 100.0),
            parameter("sd_A", "log10", 0.2),
        ],
    }
    return load_petab(write_petab_problem(directory, antimony_to_sbml(DECAY), tables), **kwargs)


METHODS = ["augmented", "casadi-ad"]


@pytest.mark.parametrize(
    ("extra_time", "reason"),
    [
        (-5.0, "measurements before t = 0 (PEtab: the state at t = 0)"),
        (math.inf, "steady-state measurements (time = inf)"),
    ],
)
def test_runs_with_semantics_the_route_does_not_follow_keep_finite_differences(
    tmp_path: Path, extra_time: float, reason: str
) -> None:
    """PEtab gives t < 0 the state at t = 0 and t = inf the steady state; the sensitivity
    route integrates neither, so such a run falls back to finite differences, named, and the
    Jacobian stays right (measured before this rule: 0.13–0.32 relative error on
    Sobotta_Frontiers2017, whose pre-stimulation rows sit at t = −10)."""
    times = (*DECAY_TIMES, extra_time)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    problem = decay_problem(tmp_path / "a", times)
    tight = decay_problem(tmp_path / "b", times, rtol=1e-10, atol=1e-12)
    problem.sensitivities = CasadiSensitivities(problem)
    x = problem.nominal_x + 0.05
    problem.update_inner(x)  # the noise level held as _central holds it
    jac = problem.jacobian(x)
    assert problem.sensitivities.unsupported_runs == {0: reason}
    assert gradient_error(jac, _central(tight, x)) < 1e-2  # forward differences' accuracy


@pytest.mark.parametrize("method", METHODS)
def test_decay_sensitivities_match_the_closed_form(tmp_path: Path, method: str) -> None:
    """dA/dlog10 k = −t·k·ln10·A and dA/dA0 = A/A0, A0 set by an initial assignment."""
    problem = decay_problem(tmp_path)
    assert problem.parameter_names == ("k", "A0")
    sens = CasadiSensitivities(problem, rtol=1e-10, atol=1e-12, method=method)
    x = np.array([math.log10(0.4), 7.0])
    t = np.array(DECAY_TIMES)
    a = 7.0 * np.exp(-0.4 * t)
    runs = np.array([0])
    sens(problem.nominal_x, 0, runs)  # built at another point than the one checked
    (d_k,) = sens(x, 0, runs)
    (d_a0,) = sens(x, 1, runs)
    assert_allclose(d_k[:, 0], -t * 0.4 * LN10 * a, rtol=1e-6, atol=1e-10)
    assert_allclose(d_a0[:, 0], a / 7.0, rtol=1e-6, atol=1e-10)
    assert_allclose(sens.simulate(x, 0)[:, 0], a, rtol=1e-7)
    assert sens.n_failures == 0


def test_decay_jacobian_with_sensitivities_matches_central_differences(tmp_path: Path) -> None:
    problem = decay_problem(tmp_path, rtol=1e-10, atol=1e-12)
    x = np.array([math.log10(0.25), 12.0])
    problem.update_inner(x)
    reference = np.empty((problem.n_data, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = 1e-5
        reference[:, j] = (problem.residuals(x + e) - problem.residuals(x - e)) / 2e-5
    problem.sensitivities = CasadiSensitivities(problem)
    assert gradient_error(problem.jacobian(x), reference) < 1e-6


def preeq_step_problem(directory: Path):
    """B at the steady state kb/kd of 'pre' (no step within the pre-equilibration), then the
    step kp switched on at t_on = 2.5 in 'stim'."""
    tables = {
        "conditions": [
            {"conditionId": "pre", "conditionName": "", "t_on": 1e12},
            {"conditionId": "stim", "conditionName": "", "t_on": 2.5},
        ],
        "observables": [{"observableId": "obs_B", "observableFormula": "B", "noiseFormula": "1"}],
        "measurements": [
            {
                "observableId": "obs_B",
                "preequilibrationConditionId": "pre",
                "simulationConditionId": "stim",
                "measurement": 3.0,
                "time": t,
            }
            for t in (0.0, 1.0, 2.0, 3.0, 4.0, 8.0)
        ],
        "parameters": [
            parameter("kb", "log10", 1.0),
            parameter("kp", "log10", 2.0),
            parameter("kd", "log", 0.5),
        ],
    }
    return load_petab(write_petab_problem(directory, antimony_to_sbml(PREEQ_STEP), tables))


@pytest.mark.parametrize("method", METHODS)
def test_preequilibration_and_step_match_the_closed_form(tmp_path: Path, method: str) -> None:
    problem = preeq_step_problem(tmp_path)
    sens = CasadiSensitivities(
        problem, rtol=1e-10, atol=1e-12, rtol_ss=1e-12, atol_ss=1e-14, method=method
    )
    sens(problem.nominal_x, 0, np.array([0]))  # built at another point than the one checked
    kb, kp, kd = 0.8, 1.5, 0.7
    x = np.array([math.log10(kb), math.log10(kp), math.log(kd)])
    t = problem.spec.runs[0].times
    tau = np.maximum(t - 2.5, 0.0)
    on = t > 2.5
    e = np.exp(-kd * tau)
    b = np.where(on, (kb + kp) / kd - kp / kd * e, kb / kd)
    d_kb = np.full_like(t, 1.0 / kd)
    d_kp = np.where(on, (1.0 - e) / kd, 0.0)
    d_kd = np.where(on, -(kb + kp) / kd**2 + kp / kd**2 * e + kp / kd * tau * e, -kb / kd**2)
    runs = np.array([0])
    assert_allclose(sens.simulate(x, 0)[:, 0], b, rtol=1e-7)
    assert_allclose(sens(x, 0, runs)[0][:, 0], d_kb * kb * LN10, rtol=1e-5, atol=1e-8)
    assert_allclose(sens(x, 1, runs)[0][:, 0], d_kp * kp * LN10, rtol=1e-5, atol=1e-8)
    assert_allclose(sens(x, 2, runs)[0][:, 0], d_kd * kd, rtol=1e-5, atol=1e-8)


def test_events_are_unsupported_and_choose_keeps_finite_differences(tmp_path: Path) -> None:
    with_event = DECAY.replace("  k = 0.3", "  at time > 4: A = 5\n  k = 0.3")
    problem = decay_problem(tmp_path)
    sbml = antimony_to_sbml(with_event)
    with pytest.raises(UnsupportedModel, match="events"):
        SymbolicModel.from_sbml(sbml)
    problem.sbml = sbml  # the route reads the model from the problem
    choice = choose_gradient(problem)
    assert choice.route == "finite differences"
    assert choice.sensitivities is None
    assert "events" in choice.reason


def test_use_fastest_gradient_sets_the_hook_consistently(tmp_path: Path) -> None:
    problem = decay_problem(tmp_path)
    choice = use_fastest_gradient(problem)
    assert choice.route in ("sensitivities", "finite differences")
    assert problem.sensitivities is choice.sensitivities
    assert choice.difference < 1e-3
    assert choice.setup_seconds >= 0 and choice.fd_seconds > 0 and choice.sensitivity_seconds > 0


# --- public problems ---------------------------------------------------------------------------
def _public(name: str):
    yaml = SHARED / name / f"{name}.yaml"
    if not yaml.exists():
        pytest.skip(f"{yaml} not found (the public PEtab problems live in ../shared/petab)")
    # Isensee: at atol 1e-12 CVODE steps below the resolution of t after its t = 60 input
    atol = 1e-11 if name == "Isensee_JCB2018" else 1e-12
    return load_petab(yaml), load_petab(yaml, rtol=1e-10, atol=atol)


def _central(problem, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    problem.update_inner(x)
    columns = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = step
        columns.append((problem.residuals(x + e) - problem.residuals(x - e)) / (2 * step))
    return np.column_stack(columns)


@pytest.mark.parametrize(
    "name",
    [
        "Boehm_JProteomeRes2014",
        "Brannmark_JBC2010",
        "Raia_CancerResearch2011",
        "Weber_BMC2015",
        "Zheng_PNAS2012",
        "Sneyd_PNAS2002",
        "Schwen_PONE2014",
        pytest.param("Lucarelli_CellSystems2018", marks=pytest.mark.slow),
        pytest.param("Bachmann_MSB2011", marks=pytest.mark.slow),
        pytest.param("Isensee_JCB2018", marks=pytest.mark.slow),
    ],
)
def test_public_problem_sensitivity_jacobian_matches_tight_central_differences(
    name: str,
) -> None:
    """Sensitivity Jacobian (CVODES rtol 1e-6, the fit setting) within 1e-3 of central
    differences at rtol 1e-10, at a seeded point near the nominal one."""
    problem, tight = _public(name)
    rng = np.random.default_rng(13)
    x = np.clip(
        problem.nominal_x + rng.uniform(-0.2, 0.2, problem.nominal_x.size),
        problem.lower,
        problem.upper,
    )
    reference = _central(tight, x)
    problem.update_inner(x)
    problem.sensitivities = CasadiSensitivities(problem)
    jac = problem.jacobian(x)
    assert problem.sensitivities.n_failures == 0
    assert gradient_error(jac, reference) < 1e-3
    r = problem.residuals(x)
    assert gradient_error(jac.T @ r, reference.T @ r) < 1e-3


def test_pickled_problem_keeps_its_sensitivities(tmp_path: Path) -> None:
    """A fit's worker processes receive the problem pickled: the hook comes along and
    rebuilds its CasADi functions."""
    import pickle

    problem = decay_problem(tmp_path)
    problem.sensitivities = CasadiSensitivities(problem)
    x = np.array([math.log10(0.35), 9.0])
    problem.update_inner(x)
    before = problem.jacobian(x)
    copy = pickle.loads(pickle.dumps(problem))
    assert isinstance(copy.sensitivities, CasadiSensitivities)
    assert copy.sensitivities.problem is copy
    copy.update_inner(x)
    assert_allclose(copy.jacobian(x), before, rtol=1e-10)


def test_tolerances_follow_the_problem(tmp_path: Path) -> None:
    """use_tight_tolerances (what configure_for_fitting calls) reaches the sensitivities."""
    problem = decay_problem(tmp_path)
    sens = CasadiSensitivities(problem)
    x = np.array([math.log10(0.3), 10.0])
    loose = sens(x, 0, np.array([0]))[0]
    assert sens.tolerances == (problem.rtol, problem.atol) == (1e-6, 1e-8)
    problem.use_tight_tolerances()
    assert sens.tolerances == (1e-8, 1e-10)
    tight = sens(x, 0, np.array([0]))[0]
    exact = -np.array(DECAY_TIMES) * 0.3 * LN10 * 10.0 * np.exp(-0.3 * np.array(DECAY_TIMES))
    assert np.abs(tight[:, 0] - exact).max() <= np.abs(loose[:, 0] - exact).max()
    assert_allclose(tight[:, 0], exact, rtol=1e-6, atol=1e-9)


def test_unknown_method_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="method must be"):
        CasadiSensitivities(decay_problem(tmp_path), method="adjoint")


def test_a_run_the_route_cannot_handle_falls_back_to_finite_differences(tmp_path: Path) -> None:
    """A condition that sets a boundary species: that run's columns come from finite
    differences, the Jacobian stays right."""
    boundary = DECAY.replace("  J1: A -> ; k*A", "  J1: A + $E -> $E; k*A*E\n  E = 1")
    tables_problem = decay_problem(tmp_path)  # for its tables
    directory = tmp_path / "boundary"
    directory.mkdir()
    tables = {
        "conditions": [{"conditionId": "c0", "conditionName": "", "E": 1.5}],
        "observables": [{"observableId": "obs_A", "observableFormula": "A", "noiseFormula": "0.1"}],
        "measurements": [
            {
                "observableId": "obs_A",
                "simulationConditionId": "c0",
                "measurement": float(y),
                "time": t,
            }
            for t, y in zip(DECAY_TIMES, tables_problem.spec.y, strict=True)
        ],
        "parameters": [parameter("k", "log10", 0.3), parameter("A0", "lin", 10.0, 0.1, 100.0)],
    }
    problem = load_petab(write_petab_problem(directory, antimony_to_sbml(boundary), tables))
    sens = CasadiSensitivities(problem)
    x = problem.nominal_x
    assert sens(x, 0, np.array([0])) is None
    assert "fixed species" in sens.unsupported_runs[0]
    problem.sensitivities = sens
    with_hook = problem.jacobian(x)
    problem.sensitivities = None
    assert_allclose(with_hook, problem.jacobian(x))
