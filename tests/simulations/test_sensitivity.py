"""Sensitivity analysis: closed forms (Ishigami, linear, power law, inert input), failures,
bounds, the model wrapper and bad input."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations import Condition, ModelSimulator, standard_conditions
from paracrine.simulations.sensitivity import (
    bounds_from_ensemble,
    default_bounds,
    local_sensitivities,
    metric_function,
    morris_screening,
    sobol_indices,
)

A_ISHIGAMI, B_ISHIGAMI = 7.0, 0.1
PI_BOUNDS = {"x1": (-math.pi, math.pi), "x2": (-math.pi, math.pi), "x3": (-math.pi, math.pi)}


def ishigami(p):
    x1, x2, x3 = p["x1"], p["x2"], p["x3"]
    return {"y": math.sin(x1) + A_ISHIGAMI * math.sin(x2) ** 2 + B_ISHIGAMI * x3**4 * math.sin(x1)}


def ishigami_truth():
    """Closed-form variance decomposition of the Ishigami function on [−π, π]³."""
    a, b, pi = A_ISHIGAMI, B_ISHIGAMI, math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi**8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v, v13 / v


def within_ci(est, conf, truth):
    """|estimate − truth| < 3 × the 95 % CI half-width + 0.02 (bootstrap CIs are themselves
    noisy; 0.02 absorbs the estimator's bias at this N)."""
    est, conf, truth = map(np.asarray, (est, conf, truth))
    return np.abs(est - truth) < 3 * conf + 0.02


@pytest.fixture(scope="module")
def ishigami_result():
    return sobol_indices(ishigami, PI_BOUNDS, n_base=1024, log_scale=False, second_order=True)


def test_sobol_indices_of_ishigami_match_the_closed_form(ishigami_result):
    s1, st, s13 = ishigami_truth()
    assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=5e-5)  # the closed form itself
    assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=5e-5)
    res = ishigami_result
    assert res.outputs == ("y",) and res.parameters == ("x1", "x2", "x3")
    assert res.n_evaluations == 1024 * (2 * 3 + 2) and res.n_failed == 0
    assert within_ci(res.S1[0], res.S1_conf[0], s1).all(), (res.S1, res.S1_conf)
    assert within_ci(res.ST[0], res.ST_conf[0], st).all(), (res.ST, res.ST_conf)
    # the bootstrap CIs assume independent draws and overstate the error of scrambled Sobol'
    # points, so the band above is wide (~0.2 for S1); the estimates are much closer (measured
    # at seed 0: ≤ 0.009 off) and must stay within 0.02
    assert_allclose(res.S1[0], s1, atol=0.02)
    assert_allclose(res.ST[0], st, atol=0.02)
    # the CIs are informative, not so wide that anything passes
    assert np.all(res.S1_conf[0] < 0.1) and np.all(res.ST_conf[0] < 0.1)
    assert within_ci(res.S2[0, 0, 2], res.S2_conf[0, 0, 2], s13)
    assert within_ci(res.S2[0, 0, 1], res.S2_conf[0, 0, 1], 0.0)
    assert list(res.ranking().index) == ["x1", "x2", "x3"]
    assert list(res.ranking(index="S1").index)[:2] == ["x2", "x1"]


def test_sobol_is_reproducible_and_first_order_only_by_default():
    a = sobol_indices(ishigami, PI_BOUNDS, n_base=64, log_scale=False, seed=3)
    b = sobol_indices(ishigami, PI_BOUNDS, n_base=64, log_scale=False, seed=3)
    assert a.n_evaluations == 64 * 5 and a.S2 is None
    assert_allclose(a.S1, b.S1, rtol=0, atol=0)
    assert_allclose(a.ST_conf, b.ST_conf, rtol=0, atol=0)  # bootstrap seeded too (even seed 0)
    c = sobol_indices(ishigami, PI_BOUNDS, n_base=64, log_scale=False, seed=4)
    assert not np.allclose(a.S1, c.S1)


def test_sobol_indices_of_a_linear_model_match_the_closed_form():
    coef = np.array([1.0, 2.0, 3.0, 0.5])
    names = [f"x{i}" for i in range(coef.size)]

    def linear(p):
        return np.array([sum(c * p[n] for c, n in zip(coef, names, strict=True))])

    res = sobol_indices(linear, dict.fromkeys(names, (0.0, 1.0)), n_base=1024, log_scale=False)
    truth = coef**2 / np.sum(coef**2)  # additive: S1 = ST
    assert within_ci(res.S1[0], res.S1_conf[0], truth).all(), (res.S1, truth)
    assert within_ci(res.ST[0], res.ST_conf[0], truth).all(), (res.ST, truth)
    assert_allclose(res.S1[0], truth, atol=0.01)  # measured: ≤ 3e-4 off
    assert_allclose(res.ST[0], truth, atol=0.01)
    assert list(res.ranking().index) == ["x2", "x1", "x0", "x3"]


def test_log_scale_samples_log_uniformly_and_matches_the_closed_form():
    seen = []

    def f(p):
        seen.append((p["k1"], p["k2"]))
        # linear in log10 k with log10 k1 ~ U(−2, 2), log10 k2 ~ U(0, 1): variances 16/12, 4/12
        return {"y": math.log10(p["k1"]) + 2 * math.log10(p["k2"])}

    res = sobol_indices(f, {"k1": (1e-2, 1e2), "k2": (1.0, 10.0)}, n_base=512)
    k = np.array(seen)
    assert k[:, 0].min() >= 1e-2 and k[:, 0].max() <= 1e2
    assert abs(np.mean(k[:, 0] < 1.0) - 0.5) < 0.03  # median at the geometric mid-point
    truth = np.array([16.0, 4 * 1.0]) / 20.0
    assert within_ci(res.S1[0], res.S1_conf[0], truth).all(), (res.S1, truth)


def test_failed_evaluations_raise_by_default_and_are_dropped_only_when_asked():
    def fragile(p):
        if p["x1"] > 2.5:
            raise SimulationError("CVODE gave up")
        return ishigami(p)

    with pytest.raises(
        SimulationError,
        match=r"of 640 evaluations failed: \d+ raised SimulationError \(first: CVODE gave up\).*on_failure='drop'",
    ):
        sobol_indices(fragile, PI_BOUNDS, n_base=128, log_scale=False)
    res = sobol_indices(fragile, PI_BOUNDS, n_base=128, log_scale=False, on_failure="drop")
    assert res.n_failed > 0 and 0 < res.n_dropped < 128
    assert any("dropped" in note and "conditional" in note for note in res.notes)
    assert np.all(np.isfinite(res.S1))

    def nan_sometimes(p):
        return {"y": math.nan if p["x2"] > 3.0 else p["x1"] + p["x2"]}

    with pytest.raises(SimulationError, match="returned non-finite outputs"):
        sobol_indices(nan_sometimes, PI_BOUNDS, n_base=64, log_scale=False)
    res = morris_screening(
        nan_sometimes, PI_BOUNDS, log_scale=False, trajectories=30, on_failure="drop"
    )
    assert res.n_failed > 0 and res.n_dropped > 0 and res.mu_star[0, 2] == 0.0


def test_a_constant_output_gets_zero_indices_with_a_note():
    res = sobol_indices(
        lambda p: {"y": p["x1"], "flat": 1.0}, PI_BOUNDS, n_base=64, log_scale=False
    )
    assert_allclose(res.ST[1], 0.0)
    assert any("'flat' is constant" in note for note in res.notes)


def test_map_fn_is_used_for_every_evaluation():
    calls = []

    def my_map(fn, points):
        points = list(points)
        calls.append(len(points))
        return [fn(p) for p in points]

    res = sobol_indices(ishigami, PI_BOUNDS, n_base=32, log_scale=False, map_fn=my_map)
    assert calls == [res.n_evaluations]
    loc = local_sensitivities(lambda p: {"y": p["a"] ** 2}, {"a": 2.0}, map_fn=my_map)
    assert calls[-1] == loc.n_evaluations == 3


def test_local_sensitivities_of_a_power_law_are_its_exponents():
    def power_law(p):
        return {"y": 3.7 * p["p1"] ** 2 * p["p2"] ** -1 * p["p3"] ** 0, "z": p["p1"] - 1.0}

    p0 = {"p1": 1.0, "p2": 0.3, "p3": 42.0}
    for method in ("central", "forward"):
        res = local_sensitivities(power_law, p0, method=method)
        assert_allclose(res.sensitivity[0], [2.0, -1.0, 0.0], rtol=0, atol=1e-6)
    res = local_sensitivities(power_law, p0, rel_step=0.1)
    assert_allclose(res.sensitivity[0], [2.0, -1.0, 0.0], rtol=0, atol=1e-6)  # any step
    assert res.n_evaluations == 7
    # z = p1 − 1 is 0 at p0: normalised NaN with a reason, the derivative still reported
    assert np.isnan(res.get("z", "p1"))
    assert "output ≈ 0" in res.notes[("z", "p1")]
    assert_allclose(res.derivative[1], [1.0, 0.0, 0.0], atol=1e-9)
    assert_allclose(res.derivative[0, 1], -3.7 / 0.3**2, rtol=1e-3)  # ∂y/∂p2
    frame = res.to_dataframe()
    assert list(frame.columns[:3]) == ["parameter", "output", "sensitivity"]
    assert len(frame) == 6
    assert list(res.ranking("y").index) == ["p1", "p2", "p3"]
    assert list(res.ranking(aggregate="l2").index) == ["p1", "p2", "p3"]
    only = local_sensitivities(power_law, p0, parameters=["p2"], outputs=["y"])
    assert only.parameters == ("p2",) and only.outputs == ("y",)
    assert_allclose(only.sensitivity, [[-1.0]], atol=1e-6)


def test_morris_gives_an_inert_input_zero_and_ranks_the_others():
    def f(p):
        return {"y": 4.0 * p["a"] + 2.0 * p["b"] ** 2 + 0.0 * p["c"]}

    bounds = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}
    res = morris_screening(f, bounds, trajectories=20, log_scale=False)
    assert res.n_evaluations == 20 * 4
    assert res.mu_star[0, 2] == pytest.approx(0.0, abs=1e-12)
    assert res.mu_star[0, 0] == pytest.approx(4.0)  # linear: every effect is 4
    assert res.sigma[0, 0] == pytest.approx(0.0, abs=1e-9)
    assert 1.0 < res.mu_star[0, 1] < 3.0  # 2·(2b + Δ) averaged over the grid
    assert list(res.ranking().index) == ["a", "b", "c"]
    assert set(res.to_dataframe().columns) >= {"parameter", "output", "mu_star", "sigma"}


def test_plots_rank_parameters_with_labelled_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sobol = sobol_indices(ishigami, PI_BOUNDS, n_base=64, log_scale=False)
    fig = sobol.plot(top=2)
    ax = fig.axes[0]
    ticks = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    first, second = sobol.ranking().index[:2]
    assert set(ticks) == {first, second} and ticks[first] > ticks[second]  # largest ST on top
    assert "Sobol' index" in ax.get_xlabel() and ax.get_ylabel() == "parameter"
    assert len(ax.patches) == 4  # S1 and ST for two parameters
    plt.close(fig)
    local = local_sensitivities(lambda p: {"y": p["a"] ** 2 / p["b"]}, {"a": 1.0, "b": 2.0})
    fig = local.plot(output="y")
    assert "∂ln y/∂ln p" in fig.axes[0].get_xlabel()
    plt.close(fig)
    fig = local.plot()
    plt.close(fig)
    fig = morris_screening(ishigami, PI_BOUNDS, log_scale=False).plot()
    assert "elementary effect" in fig.axes[0].get_xlabel()
    plt.close(fig)


def test_bounds_from_an_ensemble_are_its_quantiles():
    rng = np.random.default_rng(1)
    log10 = np.c_[rng.normal(-1.0, 0.5, 20000), rng.normal(2.0, 0.1, 20000)]
    bounds = bounds_from_ensemble(log10, ["k1", "k2"])
    assert_allclose(np.log10(bounds["k1"]), [-1.0 - 1.96 * 0.5, -1.0 + 1.96 * 0.5], atol=0.03)
    assert_allclose(np.log10(bounds["k2"]), [2.0 - 1.96 * 0.1, 2.0 + 1.96 * 0.1], atol=0.01)
    frame = pd.DataFrame(10**log10, columns=["k1", "k2"])
    linear = bounds_from_ensemble(frame, ["k2"], quantiles=(0.1, 0.9), scale="linear")
    assert list(linear) == ["k2"]
    assert_allclose(np.log10(linear["k2"]), [2.0 - 1.2816 * 0.1, 2.0 + 1.2816 * 0.1], atol=0.01)
    with pytest.raises(UnknownNameError, match="did you mean 'k1'"):
        bounds_from_ensemble(frame, ["k_1"])
    with pytest.raises(InvalidInputError, match="'fixed' does not vary"):
        bounds_from_ensemble(np.c_[log10[:, 0], np.zeros(20000)], ["k1", "fixed"])
    with pytest.raises(InvalidInputError, match="expected 2 names"):
        bounds_from_ensemble(log10, ["k1"])


# -- the model wrapper ------------------------------------------------------------------------
MODEL_PARAMETERS = ["k_erk_dephos", "R2_0", "kon_vegf"]


@pytest.fixture(scope="module")
def model():
    model = Model("independent")
    assert set(MODEL_PARAMETERS) <= set(model.parameter_ids)
    return model


@pytest.fixture(scope="module")
def perk_peaks(model):
    conditions = [c for c in standard_conditions("MCF-7") if c.name in ("IL-6", "VEGF")]
    return metric_function(
        model, conditions, metrics=("peak",), readouts=("pERK",), parameter_names=MODEL_PARAMETERS
    )


@pytest.fixture(scope="module")
def model_local(perk_peaks):
    return local_sensitivities(perk_peaks, perk_peaks.default_parameters())


def test_model_local_sensitivities_have_the_mechanistic_signs(perk_peaks, model_local):
    vegf, il6 = "pERK|VEGF [MCF-7]|peak", "pERK|IL-6 [MCF-7]|peak"
    assert perk_peaks.output_names == (il6, vegf)
    # more VEGFR2, more VEGF signal; the basal level (no VEGF) does not depend on it
    assert model_local.get(vegf, "R2_0") > 0.01
    # the IL-6 arm never sees VEGF-VEGFR2 binding or the receptor number
    assert abs(model_local.get(il6, "kon_vegf")) < 1e-6
    assert abs(model_local.get(il6, "R2_0")) < 1e-6
    # faster ERK dephosphorylation lowers both the peak level and the basal one; the basal
    # one more (its sensitivity is larger in magnitude), so the *fold* over basal rises
    s_fold = model_local.get(vegf, "k_erk_dephos")
    assert s_fold > 0
    sim = ModelSimulator(perk_peaks.model, ("pERK",))
    cond = perk_peaks.conditions[1]
    i = sim.parameter_ids.index("k_erk_dephos")
    levels = []
    for factor in (1 / 1.01, 1.01):
        pvec = sim.parameter_vector("MCF-7")
        pvec[i] *= factor
        levels.append(
            (
                sim.run(cond, perk_peaks.times, pvec).max(),
                sim.run(Condition("basal", "MCF-7"), perk_peaks.times[:1], pvec)[0, 0],
            )
        )
    h = 2 * math.log(1.01)
    s_peak = math.log(levels[1][0] / levels[0][0]) / h
    s_basal = math.log(levels[1][1] / levels[0][1]) / h
    assert s_peak < 0 and s_basal < s_peak
    assert s_fold == pytest.approx(s_peak - s_basal, abs=1e-6)


def test_metric_function_pickles_by_content(perk_peaks, model_local):
    clone = pickle.loads(pickle.dumps(perk_peaks))
    assert clone._sim is None  # compiled lazily in the receiver
    values = clone(clone.default_parameters())
    assert_allclose(list(values.values()), model_local.y0, rtol=1e-12)


def test_metric_function_metrics_follow_their_definitions(model):
    times = np.linspace(0.0, 240.0, 49)
    cond = [c for c in standard_conditions("MCF-7") if c.name in ("control", "IL-6+VEGF")]
    f = metric_function(model, cond, readouts=("pAKT",), times=times, parameter_names=["R2_0"])
    out = f({})
    assert f.output_names == tuple(out)
    assert out["pAKT|control [MCF-7]|peak"] == pytest.approx(1.0, abs=1e-12)
    assert out["pAKT|control [MCF-7]|auc"] == pytest.approx(0.0, abs=1e-12)
    sim = ModelSimulator(model, ("pAKT",))
    fold = sim.run(cond[1], times)[:, 0] / sim.run(cond[0], times[:1])[0, 0]
    late = times >= 120
    assert out["pAKT|IL-6+VEGF [MCF-7]|peak"] == pytest.approx(fold.max(), rel=1e-9)
    assert out["pAKT|IL-6+VEGF [MCF-7]|auc"] == pytest.approx(
        np.trapezoid(fold - 1, times) / 240, rel=1e-9
    )
    assert out["pAKT|IL-6+VEGF [MCF-7]|late"] == pytest.approx(fold[late].mean(), rel=1e-9)


def test_morris_on_the_model_finds_the_il6_arm_blind_to_vegf_binding(model, perk_peaks):
    bounds = default_bounds(model, ["R2_0", "kon_vegf"], decades=1, cell_line="MCF-7")
    assert bounds["kon_vegf"] == pytest.approx((0.06, 6.0))
    res = morris_screening(perk_peaks, bounds, trajectories=4)
    il6 = res.outputs.index("pERK|IL-6 [MCF-7]|peak")
    assert np.all(res.mu_star[il6] < 1e-6)
    assert np.all(res.mu_star[1 - il6] > 1e-3)


def test_default_bounds_come_from_the_table(model):
    assert default_bounds(model, ["k_erk_dephos"]) == {"k_erk_dephos": (0.001, 100.0)}
    assert set(default_bounds(model)) == set(model.estimated_parameters())
    with pytest.raises(
        InvalidInputError, match=r"'kon_vegf' is fixed in the parameter table.*decades="
    ):
        default_bounds(model, ["kon_vegf"])
    with pytest.raises(UnknownNameError, match="did you mean 'k_erk_dephos'"):
        default_bounds(model, ["k_erk_dephoss"])
    with pytest.raises(InvalidInputError, match="'sat_erk' has value 0"):
        default_bounds(model, ["sat_erk"], decades=1)


# -- bad input -----------------------------------------------------------------------------------
def test_bad_bounds_are_refused():
    with pytest.raises(InvalidInputError, match="bounds: expected a non-empty mapping"):
        sobol_indices(ishigami, {})
    with pytest.raises(
        InvalidInputError, match=r"bounds of 'x1': expected finite lower < upper, received \(2, 1\)"
    ):
        sobol_indices(ishigami, {"x1": (2.0, 1.0)}, log_scale=False)
    with pytest.raises(InvalidInputError, match="lower < upper"):
        morris_screening(ishigami, {"x1": (1.0, 1.0)}, log_scale=False)
    with pytest.raises(
        InvalidInputError,
        match=r"log_scale=True samples log10.*expected lower > 0, received \(0, 1\)",
    ):
        sobol_indices(ishigami, {"x1": (0.0, 1.0)})
    with pytest.raises(InvalidInputError, match="expected two numbers"):
        sobol_indices(ishigami, {"x1": (1.0,)})
    with pytest.raises(
        InvalidInputError, match=r"n_base: expected a power of 2.*received 1000; e\.g\. 512 or 1024"
    ):
        sobol_indices(ishigami, PI_BOUNDS, n_base=1000, log_scale=False)
    with pytest.raises(InvalidInputError, match="levels: expected an even number"):
        morris_screening(ishigami, PI_BOUNDS, levels=5, log_scale=False)
    with pytest.raises(InvalidInputError, match="on_failure"):
        sobol_indices(ishigami, PI_BOUNDS, log_scale=False, on_failure="ignore")


def test_unknown_names_are_refused_with_suggestions(perk_peaks, model_local):
    with pytest.raises(
        UnknownNameError, match="unknown parameter 'k_erk_dephoss' — did you mean 'k_erk_dephos'"
    ):
        perk_peaks({"k_erk_dephoss": 0.3})
    with pytest.raises(UnknownNameError, match=r"did you mean 'pERK\|VEGF \[MCF-7\]\|peak'"):
        model_local.ranking("pERK|VEGF [MCF7]|peak")
    with pytest.raises(UnknownNameError, match="unknown parameter 'p4'"):
        local_sensitivities(lambda p: {"y": 1.0}, {"p1": 1.0}, parameters=["p4"])
    with pytest.raises(UnknownNameError, match="unknown output 'w'"):
        local_sensitivities(lambda p: {"y": 1.0}, {"p1": 1.0}, outputs=["w"])
    with pytest.raises(UnknownNameError, match="unknown parameter 'R2_00' — did you mean 'R2_0'"):
        metric_function(
            Model("independent"), standard_conditions("MCF-7"), parameter_names=["R2_00"]
        )
    with pytest.raises(UnknownNameError, match="unknown metric 'peek' — did you mean 'peak'"):
        metric_function(Model("independent"), standard_conditions("MCF-7"), metrics=["peek"])
    with pytest.raises(UnknownNameError, match="unknown read-out 'ERK'"):
        metric_function(Model("independent"), standard_conditions("MCF-7"), readouts=["ERK"])


def test_local_sensitivities_refuse_bad_points():
    with pytest.raises(
        InvalidInputError, match=r"p0\['k'\]: log-space steps need a finite value > 0, received 0.0"
    ):
        local_sensitivities(lambda p: {"y": 1.0}, {"k": 0.0})
    with pytest.raises(InvalidInputError, match=r"rel_step: expected a number in \(0, 1\)"):
        local_sensitivities(lambda p: {"y": 1.0}, {"k": 1.0}, rel_step=0.0)

    def failing(p):
        if p["k"] > 1.0:
            raise SimulationError("integration failed")
        return {"y": p["k"]}

    with pytest.raises(
        SimulationError, match=r"evaluation at k × 1\.01 failed: integration failed"
    ):
        local_sensitivities(failing, {"k": 1.0})
