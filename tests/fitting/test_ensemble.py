"""Parameter ensembles (emcee) and prediction bands.

The linear-Gaussian problem has a closed-form posterior (flat prior, unit noise): mean = the
OLS estimate, covariance = (XᵀX)⁻¹. An ensemble sampler that is wrong (a bad log-probability
sign, a too-small initial ball that never spreads, thinning that keeps one walker) misses its
spread, so the checks below compare the members' moments with it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from paracrine.errors import FitError, InvalidInputError
from paracrine.fitting.ensemble import Ensemble, prediction_band, sample_ensemble
from tests.fitting.conftest import LinearProblem


def _linear_fit():
    problem = LinearProblem(seed=3)
    x = problem.ols()
    return SimpleNamespace(problem=problem, x=x, result=SimpleNamespace(nllh=problem.nllh(x)))


@pytest.fixture(scope="module")
def linear_ensemble():
    fit = _linear_fit()
    ens = sample_ensemble(
        fit, n_members=2000, n_walkers=16, n_steps=2500, burn=500, seed=4, progress=False
    )
    return fit, ens


def test_mcmc_members_match_the_closed_form_posterior(linear_ensemble):
    fit, ens = linear_ensemble
    design = np.column_stack([np.ones_like(fit.problem.t), fit.problem.t])
    cov = np.linalg.inv(design.T @ design)
    sd = np.sqrt(np.diag(cov))
    mean = ens.samples.mean(axis=0)
    # Monte-Carlo error of the mean over ~2000 / τ effective samples: well under 0.15 sd
    assert np.all(np.abs(mean - fit.x) < 0.15 * sd)
    np.testing.assert_allclose(ens.samples.std(axis=0), sd, rtol=0.12)
    corr = np.corrcoef(ens.samples.T)[0, 1]
    assert corr == pytest.approx(cov[0, 1] / (sd[0] * sd[1]), abs=0.08)
    assert 0.2 < ens.diagnostics["acceptance_fraction"] < 0.9
    assert ens.converged  # 2000 post-burn-in steps ≫ 50 τ for a 2-d Gaussian


def test_band_contains_the_best_fit_and_has_the_posterior_predictive_width(linear_ensemble):
    fit, ens = linear_ensemble
    t = np.linspace(0.0, 1.0, 7)

    def predict(x):
        return x[0] + x[1] * t

    band = prediction_band(ens, predict, level=0.95)
    assert np.all(band.contains_best())
    design = np.column_stack([np.ones_like(t), t])
    cov = np.linalg.inv(
        np.column_stack([np.ones_like(fit.problem.t), fit.problem.t]).T
        @ np.column_stack([np.ones_like(fit.problem.t), fit.problem.t])
    )
    width = 2 * 1.959964 * np.sqrt(np.einsum("ij,jk,ik->i", design, cov, design))
    np.testing.assert_allclose(band.high - band.low, width, rtol=0.15)


def test_same_seed_same_ensemble_and_json_round_trip(tmp_path):
    fit = _linear_fit()
    kwargs = {"n_members": 50, "n_walkers": 8, "n_steps": 60, "seed": 11, "progress": False}
    a = sample_ensemble(fit, **kwargs)
    b = sample_ensemble(fit, **kwargs)
    np.testing.assert_array_equal(a.samples, b.samples)
    c = sample_ensemble(fit, **{**kwargs, "seed": 12})
    assert not np.array_equal(a.samples, c.samples)
    path = a.to_json(tmp_path / "ensemble.json")
    back = Ensemble.from_json(path)
    np.testing.assert_array_equal(back.samples, a.samples)
    assert back.parameter_names == a.parameter_names
    assert "NOT converged" in a.summary()  # 30 post-burn-in steps are far from 50 τ


def test_bad_sizes_and_corrupt_files_are_clear_errors(tmp_path):
    fit = _linear_fit()
    with pytest.raises(InvalidInputError, match="n_walkers: expected an integer >= 4"):
        sample_ensemble(fit, n_walkers=3, progress=False)
    with pytest.raises(InvalidInputError, match="n_members=5000: more than"):
        sample_ensemble(fit, n_members=5000, n_walkers=4, n_steps=10, progress=False)
    bad = tmp_path / "ens.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(FitError, match="not an ensemble file"):
        Ensemble.from_json(bad)
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(FitError, match="not an ensemble file"):
        Ensemble.from_json(bad)
    bad.write_text('{"kind": "paracrine.Ensemble", "samples": [[1, 2]]}', encoding="utf-8")
    with pytest.raises(FitError, match="corrupt ensemble file"):
        Ensemble.from_json(bad)
