"""BlotProblem: the observation model (analytic scales and noise), the Jacobian, and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.data import BlotData, load_blots
from paracrine.errors import FitError, UnknownNameError
from paracrine.fitting.objective import fd_jacobian
from paracrine.fitting.problem import BlotProblem

FREE = ["k_erk_dephos", "k_ras_vr", "k_pi3k_jak", "k_stat3_jak"]


@pytest.fixture(scope="module")
def t47d():
    return load_blots("reference_blots_synthetic", cell_lines=["T47D"])


def _random_x(problem, seed):
    rng = np.random.default_rng(seed)
    mid = 0.5 * (problem.lower + problem.upper)
    x0 = np.log10(
        [problem.model.parameter_values(p.cell_line)[p.parameter] for p in problem.free_parameters]
    )
    # random points between the defaults and the middle of the bounds
    return x0 + rng.uniform(0, 0.5) * (mid - x0) + rng.normal(0, 0.2, x0.size)


@pytest.mark.parametrize("noise", ["lognormal", "normal"])
def test_analytic_scale_factors_equal_a_brute_force_optimisation(t47d, noise):
    from scipy.optimize import minimize

    problem = BlotProblem("independent", t47d, free=FREE, noise=noise)
    x = _random_x(problem, 1)
    solution = problem.inner_solution(x)
    sigma = solution.sigma_rows
    h = problem.predict(x)
    y = problem.data.frame["value"].to_numpy()
    blot = problem.inner.layout.scale
    lognormal = noise == "lognormal"
    # the shared inner solver's scales, on the scale the brute force works on
    analytic = np.log(solution.scales) if lognormal else solution.scales

    def objective(s):  # the nllh's data term for fixed σ, as a function of the blot scales
        model = np.log(h) + s[blot] if lognormal else s[blot] * h
        r = (model - (np.log(y) if lognormal else y)) / sigma
        return 0.5 * float(r @ r)

    start = np.zeros_like(analytic) if lognormal else np.ones_like(analytic)
    brute = minimize(objective, start, method="BFGS", options={"gtol": 1e-10}).x
    assert_allclose(analytic, brute, rtol=1e-5, atol=1e-6)
    assert objective(analytic) <= objective(brute) + 1e-9


def test_noise_level_is_the_maximum_likelihood_estimate(t47d):
    from scipy.optimize import minimize_scalar

    problem = BlotProblem("independent", t47d, free=FREE)
    x = _random_x(problem, 2)
    solution = problem.inner_solution(x)
    sigma, raw = solution.sigmas, solution.d
    log_y = np.log(problem.data.frame["value"].to_numpy())

    def nllh_at(s):
        return float(np.sum(0.5 * np.log(2 * np.pi * s * s) + 0.5 * (raw / s) ** 2) + np.sum(log_y))

    brute = minimize_scalar(nllh_at, bounds=(1e-3, 10), method="bounded", options={"xatol": 1e-10})
    assert_allclose(sigma[0], brute.x, rtol=1e-5)
    assert_allclose(problem.nllh(x), brute.fun, rtol=1e-10)


def test_per_readout_noise_groups_estimate_one_sigma_each(t47d):
    shared = BlotProblem("independent", t47d, free=FREE)
    per = BlotProblem("independent", t47d, free=FREE, noise_groups="readout")
    x = _random_x(shared, 3)
    assert not shared.capabilities.alternating_inner and per.capabilities.alternating_inner
    assert per.n_inner_parameters == shared.n_inner_parameters + 3
    sig = per.inner_parameters(x)["sigma"]
    assert set(sig) == {"pERK", "pAKT", "p38", "pSTAT3"}
    assert per.nllh(x) <= shared.nllh(x) + 1e-9  # more noise parameters can only fit better


def test_jacobian_agrees_with_central_differences_at_random_points(t47d):
    # tight integrator so that finite differences measure the Jacobian, not solver noise
    problem = BlotProblem("independent", t47d, rtol=1e-10, atol=1e-12)
    for seed in (4, 5):
        x = _random_x(problem, seed)
        problem.update_inner(x)
        problem.fd_steps[:] = 1e-5
        jac = problem.jacobian(x)
        central = np.empty_like(jac)
        for j in range(x.size):
            e = np.zeros_like(x)
            e[j] = 1e-5
            central[:, j] = (problem.residuals(x + e) - problem.residuals(x - e)) / 2e-5
        scale = np.linalg.norm(central, axis=0) + 1e-12
        assert np.all(np.linalg.norm(jac - central, axis=0) / scale < 1e-3)


def test_jacobian_the_optimiser_uses_equals_plain_forward_differences(t47d):
    # default settings (rtol 1e-6, step 1e-3): the line-sparse Jacobian is exactly the
    # generic forward difference of the residuals, column by column
    problem = BlotProblem("independent", t47d)
    x = _random_x(problem, 6)
    problem.update_inner(x)
    f0 = problem.residuals(x)
    generic = fd_jacobian(problem.residuals, x, f0, lower=problem.lower, upper=problem.upper)
    assert_allclose(problem.jacobian(x), generic, rtol=0, atol=1e-12)


def test_cell_line_parameters_touch_only_their_line():
    problem = BlotProblem("independent", "reference_blots_synthetic")
    lines = [c.cell_line for c in problem.conditions]
    for p, blocks in zip(problem.free_parameters, problem.dependence(), strict=True):
        touched = {lines[b] for b in blocks}
        assert touched == ({p.cell_line} if p.cell_line else set(problem.cell_lines))
    assert "R6_tot[MCF-7]" in problem.parameter_names


def test_problem_pickles_without_its_simulator(t47d):
    import pickle

    problem = BlotProblem("independent", t47d, free=FREE)
    x = _random_x(problem, 7)
    value = problem.nllh(x)
    clone = pickle.loads(pickle.dumps(problem))
    assert clone._sim is None
    assert clone.nllh(x) == value


def test_settings_rebuild_the_same_problem(t47d, tmp_path):
    path = tmp_path / "t47d.csv"
    t47d.to_csv(path)
    problem = BlotProblem(
        "stat3_vegfr2_expression",
        str(path),
        free=[*FREE, "k_kdr_ind"],
        fixed={"k_jak_act": 2.0},
        priors={"k_ras_vr": (0.0, 1.0)},
    )
    clone = BlotProblem.from_settings(problem.settings())
    x = _random_x(problem, 8)
    assert clone.parameter_names == problem.parameter_names
    assert clone.nllh(x) == problem.nllh(x)


def test_priors_add_their_residuals_and_nllh(t47d):
    plain = BlotProblem("independent", t47d, free=FREE)
    prior = BlotProblem("independent", t47d, free=FREE, priors={"k_ras_vr": (0.0, 0.5)})
    x = _random_x(plain, 9)
    assert prior.residuals(x).size == plain.residuals(x).size + 1
    assert_allclose(prior.nllh(x) - plain.nllh(x), 0.5 * (x[1] / 0.5) ** 2, rtol=1e-12)


# ---- errors --------------------------------------------------------------------------------
def test_unknown_names_are_refused_with_suggestions(t47d):
    with pytest.raises(
        UnknownNameError, match=r"unknown parameter 'k_erk_dephs' — did you mean 'k_erk_dephos'"
    ):
        BlotProblem("independent", t47d, free=["k_erk_dephs"])
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'kjak_act'"):
        BlotProblem("independent", t47d, fixed={"kjak_act": 1.0})
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'R6tot'"):
        BlotProblem("independent", t47d, cell_line_specific=["R6tot"])
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'k_ras'"):
        BlotProblem("independent", t47d, bounds={"k_ras": (1e-3, 1.0)})
    with pytest.raises(
        UnknownNameError, match=r"unknown free parameter \(for a prior\) 'k_erk_phos'"
    ):
        BlotProblem("independent", t47d, free=FREE, priors={"k_erk_phos": (0.0, 1.0)})
    with pytest.raises(UnknownNameError, match=r"unknown variant 'null'"):
        BlotProblem("null", t47d)
    with pytest.raises(UnknownNameError, match=r"unknown read-out \(in noise_sd\) 'ERK'"):
        BlotProblem("independent", t47d, noise_sd={"ERK": 0.2})


def test_bounds_that_exclude_the_default_are_refused(t47d):
    with pytest.raises(FitError, match=r"bounds of 'k_erk_dephos' \[1, 10\] exclude its value 0.3"):
        BlotProblem("independent", t47d, bounds={"k_erk_dephos": (1.0, 10.0)})
    with pytest.raises(
        FitError,
        match=r"bounds of 'k_ras_vr': expected 0 < lower < upper < inf, received \(0.0, 1.0\)",
    ):
        BlotProblem("independent", t47d, bounds={"k_ras_vr": (0.0, 1.0)})
    with pytest.raises(FitError, match=r"bounds: 'k_pkc_deact' is not a free parameter"):
        BlotProblem("independent", t47d, bounds={"k_pkc_deact": (0.1, 1.0)})


def test_conflicting_settings_are_refused(t47d):
    with pytest.raises(FitError, match=r"parameters \['k_ras_vr'\] are both free and fixed"):
        BlotProblem("independent", t47d, free=FREE, fixed={"k_ras_vr": 1.0})
    with pytest.raises(FitError, match=r"free: duplicate names"):
        BlotProblem("independent", t47d, free=["k_ras_vr", "k_ras_vr"])
    with pytest.raises(FitError, match=r"cell_line_specific: 'R6_tot' is not a free parameter"):
        BlotProblem("independent", t47d, free=FREE, cell_line_specific=["R6_tot"])
    with pytest.raises(
        FitError, match=r"noise: expected 'lognormal' or 'normal', received 'poisson'"
    ):
        BlotProblem("independent", t47d, noise="poisson")
    with pytest.raises(
        FitError, match=r"noise_groups: expected 'shared' or 'readout', received 'blot'"
    ):
        BlotProblem("independent", t47d, noise_groups="blot")
    with pytest.raises(
        FitError, match=r"noise_sd: no value for read-out\(s\) \['pAKT', 'p38', 'pSTAT3'\]"
    ):
        BlotProblem("independent", t47d, noise_sd={"pERK": 0.2})
    with pytest.raises(FitError, match=r"noise_sd: expected values > 0"):
        BlotProblem("independent", t47d, noise_sd=0.0)
    with pytest.raises(FitError, match=r"prior of 'k_ras_vr': expected sd_log10 > 0, received 0"):
        BlotProblem("independent", t47d, free=FREE, priors={"k_ras_vr": (0.0, 0)})
    with pytest.raises(FitError, match=r"no free parameters: nothing to fit"):
        BlotProblem("independent", t47d, free=[])
    with pytest.raises(
        FitError, match=r"data: expected BlotData, a data set name or a CSV path, received int"
    ):
        BlotProblem("independent", 3)
    with pytest.raises(
        FitError, match=r"model: expected a paracrine Model or a variant name, received 3"
    ):
        BlotProblem(3, t47d)


def test_data_the_model_cannot_explain_is_refused(t47d):
    frame = t47d.frame.copy()
    frame.loc[0, "readout"] = "pJNK"
    with pytest.raises(
        FitError,
        match=r"data edited.csv: read-out 'pJNK' is not something the model observes: it has "
        r"the observables pERK, pAKT, p38, pSTAT3 \(phosphorylated fractions\) and species such "
        r"as JAK_p, STAT3_p, .* Map it to one of them with readout_map=",
    ):
        BlotProblem("independent", BlotData(frame, "edited.csv"))
    # (a cell line the model does not know is added at its defaults: tests/fitting/test_own_data)
    frame = t47d.frame.copy()
    frame.loc[5, "value"] = 0.0
    with pytest.raises(
        FitError,
        match=r"data edited.csv, row 7, column value: log-normal noise needs values > 0, received 0.0",
    ):
        BlotProblem("independent", BlotData(frame, "edited.csv"))
    # the same band is fine under normal noise
    BlotProblem("independent", BlotData(frame, "edited.csv"), noise="normal", free=FREE)


def test_data_frame_is_left_untouched(t47d):
    before = t47d.frame.copy()
    problem = BlotProblem("independent", t47d, free=FREE)
    problem.data_with_fit(_random_x(problem, 10))
    pd.testing.assert_frame_equal(t47d.frame, before)
