"""Hill fits: exact recovery from noise-free curves, profile-likelihood intervals checked
against lmfit's conf_interval and by coverage over seeded replicates, inhibition curves, open
profiles, plots and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError
from paracrine.simulations.dose_response import HillFit, fit_hill, hill

DOSES = np.array([0.0, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0])
#: 8 doses × 3 replicates: the design of the coverage tests
REPLICATED = np.repeat([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0], 3)
TRUTH = {"e0": 1.0, "emax": 3.0, "ec50": 2.0, "n": 1.4}


def test_hill_is_the_four_parameter_curve():
    d = np.array([0.0, 2.0, 4.0])
    # by hand: 4^2/(2^2 + 4^2) = 0.8
    assert_allclose(hill(d, 1.0, 3.0, 2.0, 2.0), [1.0, 2.5, 1.0 + 3.0 * 0.8], rtol=1e-15)
    assert_allclose(hill(d, 5.0, -4.0, 2.0, 1.0), [5.0, 3.0, 5.0 - 4.0 * 4 / 6], rtol=1e-15)
    # broadcasts: two curves at once; huge doses saturate without overflow
    grid = hill(np.array([[0.0], [1e300]]), 0.0, 1.0, np.array([1.0, 2.0]), 3.0)
    assert grid.shape == (2, 2)
    assert_allclose(grid, [[0.0, 0.0], [1.0, 1.0]])


@pytest.mark.parametrize(
    "params",
    [
        {"e0": 1.0, "emax": 3.0, "ec50": 2.0, "n": 1.4},
        {"e0": 0.2, "emax": 0.7, "ec50": 0.05, "n": 0.6},
        {"e0": 2.0, "emax": 5.0, "ec50": 20.0, "n": 4.0},
        {"e0": 5.0, "emax": -4.0, "ec50": 0.5, "n": 0.8},  # inhibition
    ],
)
def test_noise_free_curves_are_recovered_exactly(params):
    fit = fit_hill(DOSES, hill(DOSES, **params))
    for name, value in params.items():
        assert_allclose(getattr(fit, name), value, rtol=1e-4)
    assert fit.converged and fit.at_bound == () and fit.r2 > 1 - 1e-12
    # no residual scatter, no interval width: the intervals collapse onto the estimates
    assert fit.ci_method == "degenerate: noise-free"
    assert fit.ec50_ci == (fit.ec50, fit.ec50) and fit.n_ci == (fit.n, fit.n)


def test_fixed_e0_and_the_fast_path():
    y = hill(DOSES, 0.0, 0.8, 3.0, 1.2)
    fit = fit_hill(DOSES, y, e0=0.0, ci=False)
    assert fit.e0 == 0.0 and fit.e0_fixed and fit.e0_ci == (0.0, 0.0)
    assert_allclose([fit.emax, fit.ec50, fit.n], [0.8, 3.0, 1.2], rtol=1e-4)
    assert fit.ci_method == "none" and all(math.isnan(x) for x in fit.ec50_ci)
    assert_allclose(fit.predict([0.0, 3.0]), [0.0, 0.4], rtol=1e-6, atol=1e-12)


def _noisy(seed: int, sigma: float = 0.2, params=TRUTH) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return hill(REPLICATED, **params) + rng.normal(0.0, sigma, REPLICATED.size)


def test_profile_intervals_match_lmfit_conf_interval():
    # lmfit's conf_interval profiles the same objective with the same F test (σ estimated):
    # an independent implementation of the interval ends.
    lmfit = pytest.importorskip("lmfit")
    from scipy.special import expit

    y = _noisy(3)
    fit = fit_hill(REPLICATED, y)
    with np.errstate(divide="ignore"):
        log10_d = np.log10(REPLICATED)

    def residual(p):
        v = p.valuesdict()
        return v["e0"] + v["emax"] * expit(v["n"] * np.log(10) * (log10_d - v["lc"])) - y

    params = lmfit.Parameters()
    params.add("e0", 1.0)
    params.add("emax", 3.0)
    params.add("lc", 0.3, min=np.log10(0.1) - 2, max=np.log10(100) + 2)
    params.add("n", 1.0, min=0.1, max=10)
    mini = lmfit.Minimizer(residual, params)
    best = mini.minimize(method="leastsq")
    ci = lmfit.conf_interval(mini, best, sigmas=[0.95])
    ends = {k: (v[0][1], v[-1][1]) for k, v in ci.items()}
    assert_allclose(fit.e0_ci, ends["e0"], rtol=1e-5)
    assert_allclose(fit.emax_ci, ends["emax"], rtol=1e-5)
    assert_allclose(np.log10(fit.ec50_ci), ends["lc"], rtol=1e-5)
    assert_allclose(fit.n_ci, ends["n"], rtol=1e-5)
    assert fit.ci_method == "profile, sigma estimated" and fit.open_ci == ()


def _coverage(sd: float | None, replicates: int = 100) -> dict[str, int]:
    covered = dict.fromkeys(TRUTH, 0)
    for seed in range(replicates):
        fit = fit_hill(REPLICATED, _noisy(seed), sd=sd)
        assert fit.open_ci == ()
        for name, value in TRUTH.items():
            low, high = getattr(fit, f"{name}_ci")
            covered[name] += low <= value <= high
    return covered


def test_95_percent_intervals_cover_the_truth_with_sigma_estimated():
    covered = _coverage(None)
    # nominal 95 of 100; binomial sd ≈ 2.2, so below 90 would be a real undercoverage
    assert min(covered.values()) >= 90, covered


@pytest.mark.slow
def test_95_percent_intervals_cover_the_truth_with_sd_known():
    covered = _coverage(0.2)
    assert min(covered.values()) >= 90, covered
    # known σ gives the same χ² threshold whatever the noise draw: sd per point or scalar agree
    y = _noisy(7)
    a = fit_hill(REPLICATED, y, sd=0.2)
    b = fit_hill(REPLICATED, y, sd=np.full(REPLICATED.size, 0.2))
    assert_allclose(a.ec50_ci, b.ec50_ci, rtol=1e-9)


def test_intervals_are_informative_not_just_wide():
    fit = fit_hill(REPLICATED, _noisy(11))
    low, high = fit.ec50_ci
    assert low < fit.ec50 < high and high / low < 2.0  # ±~30 % around EC50 = 2 ng/mL
    assert fit.emax_ci[0] < fit.emax < fit.emax_ci[1]
    assert fit.emax_ci[1] - fit.emax_ci[0] < 1.0


def test_inhibition_curve_gives_the_ic50():
    truth = {"e0": 5.0, "emax": -4.0, "ec50": 0.5, "n": 0.8}
    fit = fit_hill(REPLICATED, _noisy(2, sigma=0.2, params=truth), name="pSTAT3 vs anti-IL-6")
    assert fit.is_inhibition and fit.emax < 0
    assert fit.ic50 == fit.ec50 and fit.ic50_ci == fit.ec50_ci
    for name, value in truth.items():
        low, high = getattr(fit, f"{name}_ci")
        assert low <= value <= high, (name, low, value, high)
    assert fit.predict(0.0) == pytest.approx(fit.e0)


def test_a_profile_that_does_not_close_is_reported_open():
    # a straight line: EC50 runs to the top of its range (100 × the highest dose) and the
    # upper end of its interval never closes — reported as +inf and flagged, not as the bound
    d = np.repeat([0.0, 1.0, 2.0, 4.0, 8.0], 2)
    rng = np.random.default_rng(5)
    fit = fit_hill(d, 1.0 + 0.1 * d + rng.normal(0.0, 0.05, d.size))
    assert "ec50" in fit.at_bound
    assert "ec50_high" in fit.open_ci and fit.ec50_ci[1] == math.inf
    assert 0 < fit.ec50_ci[0] < 800
    record = fit.to_dict()
    assert record["ec50_high"] == math.inf and "ec50_high" in record["open_ci"]


def test_no_residual_degrees_of_freedom_means_no_intervals():
    d = [0.0, 1.0, 3.0, 10.0]
    fit = fit_hill(d, [1.0, 1.6, 2.7, 3.1])
    assert fit.ci_method.startswith("unavailable") and math.isnan(fit.ec50_ci[0])


def test_to_dict_is_flat():
    fit = fit_hill(REPLICATED, _noisy(4), name="pERK peak")
    record = fit.to_dict()
    assert record["name"] == "pERK peak" and record["n_points"] == REPLICATED.size
    for param in ("e0", "emax", "ec50", "n"):
        assert record[f"{param}_low"] < record[param] < record[f"{param}_high"]
    assert all(np.isscalar(v) for v in record.values())


def test_plot_draws_zero_dose_left_of_an_axis_break():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit = fit_hill(REPLICATED, _noisy(1), sd=0.2, name="pERK")
    ax = fit.plot(xlabel="IL-6 (ng/mL)", ylabel="pERK peak (fold over basal)")
    try:
        assert ax.get_xscale() == "log"
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels[0] == "0" and "1" in labels and "100" in labels
        assert ax.get_xlabel() == "IL-6 (ng/mL)"
        assert any(t.get_text() == "//" for t in ax.texts)
        assert isinstance(fit, HillFit)
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dose": [0, 1, 2, 3], "response": [1, 2, np.nan, 4]}, r"response: expected finite"),
        (
            {"dose": [0, 1, np.inf, 3], "response": [1, 2, 3, 4]},
            r"dose: expected finite doses >= 0",
        ),
        ({"dose": [0, -1, 2, 3], "response": [1, 2, 3, 4]}, r"received \[-1.0\]"),
        (
            {"dose": [0, 0, 1, 1, 2], "response": [1, 1, 2, 2, 3], "dose_name": "il6_ng_ml"},
            r"il6_ng_ml: expected at least 4 distinct doses, received 3",
        ),
        ({"dose": [0, 1, 2, 3], "response": [1, 2, 3]}, r"one value per dose \(4\), received"),
        (
            {"dose": [0, 1, 2, 3], "response": [1, 2, 3, 4], "sd": 0.0},
            r"sd: expected finite .* > 0",
        ),
        (
            {"dose": [0, 1, 2, 3], "response": [1, 2, 3, 4], "sd": [0.1, -1, 0.1, 0.1]},
            r"received \[-1.0\]",
        ),
        (
            {"dose": [0, 1, 2, 3], "response": [1, 2, 3, 4], "sd": [0.1, 0.1]},
            r"sd: expected a scalar or one value per dose",
        ),
        ({"dose": [0, 1, 2, 3], "response": [1, 2, 3, 4], "level": 95}, r"level: .* \(0, 1\)"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        fit_hill(**kwargs)


def test_hill_rejects_bad_arguments():
    with pytest.raises(InvalidInputError, match=r"dose: expected finite doses >= 0"):
        hill([-1.0], 0.0, 1.0, 1.0, 1.0)
    with pytest.raises(InvalidInputError, match=r"expected ec50 > 0 and n > 0"):
        hill([1.0], 0.0, 1.0, 0.0, 1.0)
