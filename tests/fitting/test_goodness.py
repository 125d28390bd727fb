"""Goodness of fit against the replicate noise: the saturated model, the lack-of-fit tests and
their calibration on data simulated from a model with known parameters."""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pandas as pd
import pytest

from paracrine.data import BlotData, DataWarning, load_blots
from paracrine.data.generate_reference_synthetic import generate_blots
from paracrine.errors import FitError
from paracrine.fitting.goodness import (
    CELL_KEYS,
    WITHIN_NOISE_RATIO,
    aggregate_residuals,
    goodness_of_fit,
    plot_standardised_residuals,
    saturated_fit,
    standardised_residuals,
)
from paracrine.fitting.objective.noise import Transform, jacobian_term, nllh_terms
from paracrine.fitting.problem import BlotProblem
from paracrine.fitting.synthetic import simulate_blots
from paracrine.models import Model

#: The generator's band noise: log-normal with CV 20%.
TRUE_SIGMA = math.sqrt(math.log1p(0.2**2))  # 0.198
VARIANT = "independent"
#: A few parameters with visible effects on pERK, pSTAT3 and pAKT keep the problem small.
FREE = ("k_erk_dephos", "k_stat3_jak", "k_akt_dephos")
CALIBRATION_SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def bundled():
    return load_blots()


@pytest.fixture(scope="module")
def bundled_saturated(bundled):
    return saturated_fit(bundled)


@pytest.fixture(scope="module")
def model():
    return Model(VARIANT)


@pytest.fixture(scope="module")
def true_x(model):
    values = model.parameter_values()
    return np.log10([values[name] for name in FREE])


@pytest.fixture(scope="module")
def simulated(model):
    """Data simulated from the model at its default (true) parameters, σ_log 0.2 noise."""
    return {seed: simulate_blots(model, seed=seed) for seed in CALIBRATION_SEEDS}


@pytest.fixture(scope="module")
def problems(model, simulated):
    return {seed: BlotProblem(model, data, free=list(FREE)) for seed, data in simulated.items()}


@pytest.fixture(scope="module")
def true_fits(problems, true_x):
    return {seed: goodness_of_fit(p, true_x) for seed, p in problems.items()}


@pytest.fixture(scope="module")
def wrong_fit(problems, true_x, true_fits):
    """k_stat3_jak × 10: a clearly wrong parameter vector."""
    x = true_x.copy()
    x[FREE.index("k_stat3_jak")] += 1.0
    return goodness_of_fit(problems[0], x, saturated=true_fits[0].saturated)


def _dense_design(sat):
    design = np.zeros((sat.n, sat.n_cells + sat.n_blots))
    rows = np.arange(sat.n)
    design[rows, sat.cell_index] = 1.0
    design[rows, sat.n_cells + sat.blot_index] = 1.0
    return design


def _data_nllh(problem, x):
    """BlotProblem's nllh at *x* without its peak-fraction penalty (no parameter priors here)."""
    return problem.nllh(x, precise=True) - problem.regime_penalty(x)


# -- the saturated model ---------------------------------------------------------------------------
def test_saturated_fit_of_the_bundled_data_recovers_the_band_noise(bundled_saturated):
    sat = bundled_saturated
    # 3 lines × 4 read-outs × (control 0 min + 4 arms × 6 times) cells, 72 blots joined
    # into one connected set per line × read-out by the shared 0-min lane and the cells
    assert (sat.n, sat.n_cells, sat.n_blots, sat.n_connected) == (936, 300, 72, 12)
    assert sat.rank == 300 + 72 - 12
    assert abs(sat.sigma_pure / TRUE_SIGMA - 1) < 0.10
    assert sat.sigma_pure_ml == pytest.approx(math.sqrt(sat.rss / sat.n))
    assert sat.sigma_pure == pytest.approx(math.sqrt(sat.rss / (sat.n - sat.rank)))
    assert set(sat.sigma_pure_by_readout) == {"pERK", "pAKT", "p38", "pSTAT3"}
    json.dumps(sat.to_dict(), allow_nan=False)


def test_saturated_rank_and_solution_are_exact(bundled, bundled_saturated):
    sat = bundled_saturated
    design = _dense_design(sat)
    assert np.linalg.matrix_rank(design) == sat.rank
    logy = np.log(bundled.frame["value"].to_numpy())
    coef = np.linalg.lstsq(design, logy, rcond=None)[0]
    residuals = logy - design @ coef
    np.testing.assert_allclose(sat.log_residuals, residuals, atol=1e-10)
    assert sat.rss == pytest.approx(float(residuals @ residuals), rel=1e-12)
    # levels and scales reproduce the data
    fitted = sat.cells["level"].to_numpy()[sat.cell_index] + sat.log_scales[sat.blot_index]
    np.testing.assert_allclose(fitted + sat.log_residuals, logy, atol=1e-10)


def test_replicate_noise_is_unbiased_over_generator_seeds():
    sigmas = [
        saturated_fit(BlotData.from_frame(generate_blots(seed), source=f"seed {seed}")).sigma_pure
        for seed in (1, 2, 3, 4, 5)
    ]
    assert abs(np.mean(sigmas) / TRUE_SIGMA - 1) < 0.05


def test_saturated_nllh_is_the_blot_problems_formula(bundled, bundled_saturated, model):
    sat = bundled_saturated
    y = bundled.frame["value"].to_numpy()
    # by hand, in PEtab's log-normal convention: normal on log y with the ML σ, plus Σ log y
    n = sat.n
    closed = 0.5 * n * math.log(2 * math.pi * sat.rss / n) + 0.5 * n + float(np.log(y).sum())
    assert sat.nllh == pytest.approx(closed, abs=1e-8)
    codes = np.full(n, Transform.LOG)
    d = -sat.log_residuals
    by_terms = nllh_terms(d, np.full(n, sat.sigma_pure_ml)) + jacobian_term(y, codes)
    assert sat.nllh == pytest.approx(by_terms, abs=1e-8)
    # BlotProblem's own pipeline (inner scales and σ solved, nllh terms, Jacobian term) with
    # the saturated cell levels as its model values: the same optimum, the same nllh
    # (no peak-fraction priors: the model values here are not fractions)
    problem = BlotProblem(model, bundled, free=["k_erk_dephos"], fraction_priors={})
    h = np.exp(sat.cells["level"].to_numpy()[sat.cell_index])
    problem.stacked = lambda x, precise=False: None
    problem._observe = lambda stacked, x, changed=None: (h, np.ones(n))
    x = np.zeros(1)
    assert problem.nllh(x, precise=True) == pytest.approx(sat.nllh, abs=1e-8)
    solution = problem.inner_solution(x)
    assert solution.sigmas[0] == pytest.approx(sat.sigma_pure_ml, rel=1e-10)
    np.testing.assert_allclose(-solution.d, sat.log_residuals, atol=1e-10)


def test_saturated_fit_refuses_data_without_replicates_or_positive_values(bundled):
    single = bundled.frame[bundled.frame["replicate"] == 1]
    single = single.drop_duplicates(list(CELL_KEYS))
    with pytest.warns(DataWarning, match="unidentifiable"):
        single = BlotData.from_frame(single, source="one band per cell")
    with pytest.raises(FitError, match="no replicate bands"):
        saturated_fit(single)
    frame = bundled.frame.copy()
    frame.loc[3, "value"] = 0.0
    with pytest.warns(DataWarning, match="zero band"):
        zero = BlotData.from_frame(frame, source="a zero band")
    with pytest.raises(FitError, match="needs values > 0"):
        saturated_fit(zero)


# -- goodness of fit: consistency with the problem ---------------------------------------------
def test_fit_statistics_follow_the_problem(problems, true_fits, true_x):
    problem, g = problems[0], true_fits[0]
    sat = g.saturated
    assert g.nllh_fit == pytest.approx(_data_nllh(problem, true_x), abs=1e-8)
    sigma = problem.inner_parameters(true_x)["sigma"]["all read-outs"]
    assert g.sigma_fit_ml == pytest.approx(sigma, rel=1e-4)  # inner_parameters: fit tolerances
    # design: 3 lines × 4 read-outs × 3 replicates = 36 blots of 25 lanes
    assert (g.n, g.k, g.n_scales) == (900, len(FREE), 36)
    assert g.df_fit == 900 - len(FREE) - 36
    assert g.f_df1 == g.lr_df == sat.rank - len(FREE) - 36
    assert g.f_df2 == sat.n - sat.rank
    assert g.sigma_fit == pytest.approx(math.sqrt(g.rss_fit / g.df_fit))
    assert g.lr == pytest.approx(g.n * math.log(g.rss_fit / sat.rss), rel=1e-10)
    assert g.f == pytest.approx(((g.rss_fit - sat.rss) / g.f_df1) / (sat.rss / g.f_df2))
    assert g.ratio == pytest.approx(g.sigma_fit / g.sigma_pure)


def test_goodness_accepts_a_fit_or_a_problem_and_x(problems, true_x, true_fits):
    problem = problems[0]
    fit = types.SimpleNamespace(problem=problem, result=None, x=true_x)
    g = goodness_of_fit(fit, saturated=true_fits[0].saturated)
    assert g.f == pytest.approx(true_fits[0].f)
    assert goodness_of_fit((problem, true_x)).f == pytest.approx(true_fits[0].f)
    with pytest.raises(FitError, match="needs a parameter vector x"):
        goodness_of_fit(problem)
    with pytest.raises(FitError, match="expected 3 values"):
        goodness_of_fit(problem, true_x[:2])


# -- calibration --------------------------------------------------------------------------------
def test_the_true_model_shows_no_lack_of_fit(true_fits):
    for seed, g in true_fits.items():
        assert g.f_p > 0.01, (seed, g.f, g.f_p)
        assert not g.lack_of_fit
        assert g.within_noise and g.ratio < WITHIN_NOISE_RATIO, (seed, g.ratio)
        assert abs(g.sigma_pure / 0.2 - 1) < 0.1
        text = "\n".join(g.summary_lines())
        assert "The fit is within noise" in text and "NOT within noise" not in text
        assert "no significant lack of fit" in text


def test_the_likelihood_ratio_is_inflated_for_the_true_model(true_fits):
    # the documented reason the verdict uses F: the saturated model's ML σ is biased low
    for g in true_fits.values():
        assert g.lr > g.lr_df
        assert g.lr_p < g.f_p


def test_a_wrong_parameter_vector_is_rejected(wrong_fit):
    g = wrong_fit
    assert g.f_p < 1e-6
    assert g.lr_p < 1e-6
    assert g.lack_of_fit
    assert not g.within_noise
    text = "\n".join(g.summary_lines())
    assert "NOT within noise" in text
    assert "Largest systematic misfit" in text and "pSTAT3" in text
    assert g.n_systematic > 0
    assert g.misfits and g.misfits[0]["readout"] == "pSTAT3"


# -- standardised residuals -----------------------------------------------------------------------
def test_standardised_residuals_point_from_model_to_data(model, true_x):
    data = simulate_blots(model, seed=7)
    frame = data.frame.copy()
    # the data of one cell doubled in every line: data above the model there
    bump = (frame["readout"] == "pERK") & (frame["condition"] == "VEGF")
    bump &= frame["time_min"] == 15.0
    frame.loc[bump, "value"] *= 2.0
    problem = BlotProblem(model, BlotData.from_frame(frame, source="bumped"), free=list(FREE))
    g = goodness_of_fit(problem, true_x)
    rows = standardised_residuals(g)
    assert len(rows) == len(frame)
    np.testing.assert_allclose(
        rows["std_residual"], np.log(rows["value"] / rows["model"]) / g.sigma_pure, atol=1e-10
    )
    # the three bumped cells (one per line) are the largest and flagged; with 300 cells and
    # |z| > 3 about one flag by chance is expected elsewhere, so only the top is checked
    top3 = g.cells.iloc[:3]
    keys = set(zip(top3["readout"], top3["condition"], top3["time_min"], strict=True))
    assert keys == {("pERK", "VEGF", 15.0)}
    assert top3["systematic"].all() and (top3["z"] > 3).all()
    assert (top3["data_over_model"] > 1.5).all()
    assert g.misfits[0]["direction"] == "model below data"
    assert "VEGF pERK at 15 min, model below the data" in "\n".join(g.summary_lines())
    by_time = g.by_condition_time
    top = by_time.iloc[0]
    assert (top["condition"], top["time_min"], top["n"]) == ("VEGF", 15.0, 36)
    # the per-row table from the problem directly, and the aggregation by hand
    direct = standardised_residuals(problem, true_x, saturated=g.saturated)
    np.testing.assert_allclose(direct["std_residual"], rows["std_residual"])
    cell = rows[bump.to_numpy()]
    mean = cell.groupby("cell_line")["std_residual"].mean()
    z = aggregate_residuals(cell, CELL_KEYS).set_index("cell_line")["z"]
    np.testing.assert_allclose(z[mean.index], mean * math.sqrt(3))


def test_outputs_are_json_safe_tables_and_a_figure(wrong_fit):
    g = wrong_fit
    d = g.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["within_noise"] is False and d["verdict_test"] == "F"
    assert d["summary"] == g.summary_lines()
    table = g.table()
    assert isinstance(table, pd.DataFrame) and len(table) == g.saturated.n_cells
    assert {"n", "mean", "z", "data_over_model", "systematic", *CELL_KEYS} <= set(table.columns)

    import matplotlib.pyplot as plt

    fig = plot_standardised_residuals(g)
    try:
        panels = [ax for ax in fig.axes if ax.get_title()]
        assert [ax.get_title() for ax in panels] == ["pERK", "pAKT", "p38", "pSTAT3"]
        labels = [ax.get_ylabel() for ax in fig.axes]
        assert "mean standardised residual × √n (data − model)" in labels
        assert panels[0].get_yticklabels()[0].get_text() == "control"
    finally:
        plt.close(fig)
    with pytest.raises(FitError, match="not in the data"):
        plot_standardised_residuals(g, cell_line="HeLa")
