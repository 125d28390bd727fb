"""The physiological regime (peak-fraction priors), the chi-bar-square p-value, the parametric
bootstrap data and the bootstrap-calibrated likelihood-ratio test."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import chi2

from paracrine.data import load_blots
from paracrine.errors import FitError, UnknownNameError
from paracrine.fitting.problem import PEAK_FRACTION_RANGES, BlotProblem
from paracrine.fitting.selection import chibar_pvalue
from paracrine.fitting.synthetic import resample_blots

FREE = ["k_erk_dephos", "k_ras_vr", "k_pi3k_jak", "k_stat3_jak"]


@pytest.fixture(scope="module")
def t47d():
    return load_blots("reference_blots_synthetic", cell_lines=["T47D"])


def _x0(problem):
    return np.log10(
        [problem.model.parameter_values(p.cell_line)[p.parameter] for p in problem.free_parameters]
    )


def test_peak_fraction_penalty_is_zero_inside_and_gaussian_outside(t47d):
    plain = BlotProblem("independent", t47d, free=FREE, fraction_priors={})
    ranged = BlotProblem("independent", t47d, free=FREE)
    x = _x0(plain)
    regime = ranged.regime(x)
    assert [d["readout"] for d in regime] == list(PEAK_FRACTION_RANGES)
    peaks = {d["readout"]: d["peak_fraction"] for d in regime}
    h = plain.predict(x, precise=True)
    frame = t47d.frame
    for readout, peak in peaks.items():
        assert peak == pytest.approx(h[(frame["readout"] == readout).to_numpy()].max(), rel=1e-9)
    # a range that holds every peak costs nothing
    wide = BlotProblem(
        "independent", t47d, free=FREE, fraction_priors=dict.fromkeys(peaks, (1e-6, 1.0))
    )
    assert wide.nllh(x) == pytest.approx(plain.nllh(x), abs=1e-9)
    # a range above the pERK peak costs 0.5·((log10 peak − log10 low)/sd)² exactly
    low = 1.5 * peaks["pERK"]
    strict = BlotProblem(
        "independent",
        t47d,
        free=FREE,
        fraction_priors={"pERK": (low, 1.0)},
        fraction_prior_sd=0.2,
    )
    expected = 0.5 * ((np.log10(peaks["pERK"]) - np.log10(low)) / 0.2) ** 2
    # (peaks from the precise re-simulation; the penalty at CVODE rtol 1e-6: agree to ~1e-5)
    assert strict.nllh(x, precise=True) - plain.nllh(x, precise=True) == pytest.approx(
        expected, rel=1e-8
    )
    # and the residual vector carries it: 0.5·|r|² moves by the same amount
    r_strict, r_plain = strict.residuals(x), plain.residuals(x)
    assert r_strict.size == r_plain.size + 1
    assert_allclose(0.5 * r_strict[-1] ** 2, expected, rtol=1e-4)


def test_fraction_prior_settings_are_checked_and_round_trip(t47d):
    with pytest.raises(UnknownNameError, match="pERKK"):
        BlotProblem("independent", t47d, free=FREE, fraction_priors={"pERKK": (0.1, 0.5)})
    with pytest.raises(FitError, match=r"expected 0 < low < high <= 1"):
        BlotProblem("independent", t47d, free=FREE, fraction_priors={"pERK": (0.5, 0.1)})
    problem = BlotProblem("independent", t47d, free=FREE, fraction_priors={"pAKT": (0.2, 0.4)})
    clone = BlotProblem.from_settings({**problem.settings(), "data": t47d})
    x = _x0(problem)
    assert clone.nllh(x) == problem.nllh(x)


def test_chibar_square_is_the_mixture_of_self_and_liang():
    # df = 1: half the Wilks tail
    for lr in (0.5, 2.71, 6.63):
        assert chibar_pvalue(lr, 1) == pytest.approx(0.5 * chi2.sf(lr, 1), rel=1e-12)
    # df = 2: ½χ²₁ + ¼χ²₂ (the χ²₀ atom at zero)
    lr = 5.0
    assert chibar_pvalue(lr, 2) == pytest.approx(0.5 * chi2.sf(lr, 1) + 0.25 * chi2.sf(lr, 2))
    # always below Wilks (the boundary makes Wilks conservative) and 1 at LR = 0
    for df in (1, 2, 3, 5):
        assert chibar_pvalue(3.0, df) < chi2.sf(3.0, df)
        assert chibar_pvalue(0.0, df) == 1.0
    # calibrated by simulation: max(0, z)² for one boundary parameter
    rng = np.random.default_rng(0)
    lr_null = np.maximum(rng.normal(size=200_000), 0.0) ** 2
    p = np.array([chibar_pvalue(v, 1) for v in lr_null[:4000]])
    assert np.mean(p <= 0.05) == pytest.approx(0.05, abs=0.012)
    with pytest.raises(FitError):
        chibar_pvalue(1.0, 0)


def test_parametric_bootstrap_data_have_the_fitted_scales_and_noise(t47d):
    problem = BlotProblem("independent", t47d, free=FREE)
    x = _x0(problem)
    fitted = problem.data_with_fit(x)
    sigma = 0.2
    draws = [resample_blots(problem, x, seed=s, sigma=sigma) for s in range(20)]
    assert draws[0].source.startswith("synthetic:bootstrap:independent")
    logs = np.log([d.frame["value"].to_numpy() / fitted["model"].to_numpy() for d in draws])
    assert np.mean(logs) == pytest.approx(0.0, abs=0.01)
    assert np.std(logs) == pytest.approx(sigma, rel=0.05)
    # same seed, same data; the design (lanes, blots) is the data's
    again = resample_blots(problem, x, seed=3, sigma=sigma)
    assert_allclose(again.frame["value"], draws[3].frame["value"])
    assert (again.frame["blot"] == t47d.frame["blot"]).all()


def test_multistarts_are_drawn_around_the_defaults_within_the_bounds(t47d):
    from paracrine.fitting.problem import START_DECADES
    from paracrine.fitting.starts import start_points

    problem = BlotProblem("independent", t47d, free=[*FREE, "R6_tot"])
    lo, hi = problem.start_box()
    assert np.all(lo >= problem.lower) and np.all(hi <= problem.upper)
    assert_allclose(hi - lo, np.minimum(2 * START_DECADES, problem.upper - problem.lower))
    x0 = _x0(problem)
    assert np.all((x0 >= lo) & (x0 <= hi))
    points = start_points(
        problem.lower, problem.upper, 50, 0, None, problem.parameter_names, problem.start_box()
    )
    assert np.all((points >= lo) & (points <= hi))
    # T47D's R6_tot (2.5 nM) sits 0.8 decades above its lower bound: the box starts there
    k = problem.parameter_names.index("R6_tot[T47D]")
    assert lo[k] == pytest.approx(problem.lower[k])
    # k_erk_dephos (0.3 /min in [1e-3, 100]): the full 3 decades, centred on the default
    j = problem.parameter_names.index("k_erk_dephos")
    assert_allclose([lo[j], hi[j]], [np.log10(0.3) - 1.5, np.log10(0.3) + 1.5])
