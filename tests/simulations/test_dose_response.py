"""Hill fits: exact recovery from noise-free curves, profile-likelihood intervals checked
against lmfit's conf_interval and by coverage over seeded replicates, inhibition curves, open
profiles, plots and bad input; the vectorised many-curve fit against one fit_hill per curve."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError
from paracrine.simulations.dose_response import (
    HillFit,
    default_starts,
    fit_hill,
    fit_hill_batch,
    hill,
)

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


# --------------------------------------------------------------------------- many curves at once


def test_batch_recovers_noise_free_curves_of_any_shape():
    truths = [  # (e0, emax, ec50, n): activation, inhibition, steep, shallow, low/high EC50
        (0.0, 0.8, 3.0, 1.2),
        (5.0, -4.0, 0.5, 0.8),
        (2.0, 5.0, 20.0, 4.0),
        (0.2, 0.7, 0.05, 0.6),
        (1.0, 3.0, 60.0, 1.0),
    ]
    y = np.stack([hill(DOSES, *t) for t in truths])
    fits = fit_hill_batch(DOSES, y, [t[0] for t in truths])
    assert len(fits) == 5 and fits.converged.all()
    assert_allclose(fits.emax, [t[1] for t in truths], rtol=1e-6)
    assert_allclose(fits.ec50, [t[2] for t in truths], rtol=1e-6)
    assert_allclose(fits.n, [t[3] for t in truths], rtol=1e-6)
    assert_allclose(fits.predict(), y, atol=1e-9)
    assert fits.predict([0.0, 1e6]).shape == (5, 2)
    # noise-free and unimodal: all ten starts end at the same optimum
    assert (fits.n_agree == 10).all() and fits.start_chisqr.shape == (5, 10)


def test_batch_finds_the_optima_of_one_fit_hill_per_curve():
    # noisy replicated data, e0 fixed at its true value, emax bounded as ZIP bounds it: the same
    # objective and bounds as fit_hill(e0=..., emax_bounds=...), the same ten starts
    y = np.stack([_noisy(seed) for seed in range(12)])
    bounds = np.array([[-1.0, 3.5]] * 6 + [[0.0, 2.5]] * 6)  # the last six bind (emax 3)
    fits = fit_hill_batch(REPLICATED, y, TRUTH["e0"], emax_bounds=bounds)
    assert fits.converged.all()
    for i in range(y.shape[0]):
        one = fit_hill(REPLICATED, y[i], e0=TRUTH["e0"], ci=False, emax_bounds=tuple(bounds[i]))
        # never a worse optimum, and the same one: estimates as far as lmfit resolves them
        assert fits.chisqr[i] <= one.chisqr * (1 + 1e-9), i
        assert fits.chisqr[i] == pytest.approx(one.chisqr, rel=1e-8)
        assert_allclose(
            [fits.emax[i], fits.ec50[i], fits.n[i]], [one.emax, one.ec50, one.n], rtol=1e-4
        )
        mine = fits.fit(i, name="pERK")
        assert mine.at_bound == one.at_bound
        assert (mine.e0, mine.e0_fixed, mine.ci_method) == (one.e0, True, "none")
        assert mine.r2 == pytest.approx(one.r2, rel=1e-6)
        assert mine.rmse == pytest.approx(one.rmse, rel=1e-6)
        assert mine.name == "pERK" and math.isnan(mine.ec50_ci[0])
    assert all("emax" in fits.fit(i).at_bound for i in range(6, 12))
    assert_allclose(fits.emax[6:], 2.5)


def test_batch_weights_and_starts():
    y = np.stack([_noisy(1), _noisy(2)])
    plain = fit_hill_batch(REPLICATED, y, 1.0)
    # a constant sd scales the objective, not the optimum
    weighted = fit_hill_batch(REPLICATED, y, 1.0, sd=0.2)
    assert_allclose(weighted.chisqr, plain.chisqr / 0.04, rtol=1e-9)
    assert_allclose(weighted.ec50, plain.ec50, rtol=1e-6)
    # per-curve starts; one start far from the optimum still converges to it
    one_start = fit_hill_batch(REPLICATED, y, 1.0, starts=[[50.0, 5.0]])
    assert one_start.start_chisqr.shape == (2, 1)
    assert_allclose(one_start.chisqr, plain.chisqr, rtol=1e-8)
    per_curve = fit_hill_batch(REPLICATED, y, 1.0, starts=np.array([[[1.0, 1.0]], [[3.0, 2.0]]]))
    assert_allclose(per_curve.chisqr, plain.chisqr, rtol=1e-8)
    assert_allclose(default_starts(DOSES)[:, 1], [1.0] * 5 + [3.0] * 5)
    assert_allclose(np.log10(default_starts(DOSES)[:5, 0]), np.linspace(np.log10(0.03), 2.0, 5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dose": [0, 1, 1, 2], "responses": [[1, 2, 2, 3]]}, r"at least 4 distinct doses"),
        ({"responses": [1.0, 2.0, 3.0]}, r"responses: expected an array \(curves, 9 doses\)"),
        ({"responses": [[np.nan] * 9]}, r"responses: expected finite values"),
        ({"e0": np.nan}, r"e0: expected finite values"),
        ({"emax_bounds": (1.0, 0.0)}, r"emax_bounds: expected \(low, high\) with low < high"),
        ({"starts": [1.0, 1.0]}, r"starts: expected \(EC50, n\) pairs"),
        ({"starts": [[0.0, 1.0]]}, r"starts: expected finite EC50 > 0 and n > 0"),
        ({"sd": -1.0}, r"sd: expected finite standard deviations > 0"),
    ],
)
def test_batch_bad_input_is_named(kwargs, message):
    args = {"dose": DOSES, "responses": [hill(DOSES, 0.0, 1.0, 1.0, 1.0)], "e0": 0.0, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        fit_hill_batch(args.pop("dose"), args.pop("responses"), args.pop("e0"), **args)
