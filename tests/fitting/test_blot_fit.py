"""Fits of blot data: recovery of known parameters (with profile intervals), the combination
effect on the bundled reference data, reproducibility, executors, persistence."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.data import load_blots
from paracrine.errors import FitError, InvalidInputError, SimulationError
from paracrine.fitting.blotfit import BlotFit, fit_blots
from paracrine.fitting.problem import BlotProblem
from paracrine.fitting.profiles import profile, profile_all
from paracrine.fitting.synthetic import simulate_blots
from paracrine.models import Model

FREE = ["k_erk_dephos", "k_ras_vr", "k_pi3k_jak", "k_stat3_jak"]
TRUTH = {"k_erk_dephos": 0.5, "k_ras_vr": 1.0, "k_pi3k_jak": 0.01, "k_stat3_jak": 0.03}


@pytest.fixture(scope="module")
def t47d():
    return load_blots("reference_blots_synthetic", cell_lines=["T47D"])


@pytest.fixture(scope="module")
def small_fit(t47d):
    return fit_blots("independent", t47d, free=FREE, n_starts=4, seed=3, workers=1, progress=False)


@pytest.mark.slow
def test_fit_recovers_known_parameters_within_their_profile_intervals():
    truth = Model("independent").with_parameters(TRUTH)
    data = simulate_blots(truth, cell_lines=["T47D"], cv=0.2, scale_sd_log=0.5, seed=11)
    assert data.source.startswith("synthetic:")
    fit = fit_blots("independent", data, free=FREE, n_starts=6, seed=1, workers=1, progress=False)
    problem = fit.problem
    x_true = np.log10([TRUTH[n] for n in problem.parameter_names])
    # the fit is at least as good as the truth it was simulated from
    assert fit.result.nllh <= problem.nllh(x_true, precise=True) + 1e-6
    profiles = profile_all(problem, fit.result.x)
    identifiable = [name for name, p in profiles.items() if p.verdict == "identifiable"]
    assert len(identifiable) >= 3
    for name in identifiable:
        p = profiles[name]
        assert p.contains(math.log10(TRUTH[name])), (
            name,
            p.lower,
            p.upper,
            math.log10(TRUTH[name]),
        )
        j = problem.parameter_names.index(name)
        assert p.upper - p.lower < (problem.upper[j] - problem.lower[j]) / 3  # not the whole range


def test_profile_of_a_parameter_the_data_cannot_see_is_flat(t47d):
    # MKK3/6 activation by VEGFR2 feeds only p38: pSTAT3 data cannot see it at all
    data = t47d.select(readouts=["pSTAT3"])
    problem = BlotProblem("independent", data, free=["k_stat3_jak", "k_mkk_vr"])
    start = fit_blots(
        "independent", data, free=["k_stat3_jak", "k_mkk_vr"], n_starts=2, workers=1, progress=False
    )
    prof = profile(problem, start.result.x, "k_mkk_vr", step=0.5, max_step=2.0)
    assert prof.verdict == "structurally non-identifiable"
    assert math.isinf(prof.lower) and math.isinf(prof.upper)
    ident = profile(problem, start.result.x, "k_stat3_jak")
    assert ident.verdict == "identifiable"
    assert ident.lower < ident.best_value < ident.upper


def test_profile_errors(small_fit):
    with pytest.raises(Exception, match=r"unknown parameter 'k_erk'"):
        profile(small_fit.problem, small_fit.result.x, "k_erk")
    with pytest.raises(FitError, match=r"confidence: expected a level in \(0, 1\), received 1.5"):
        profile(small_fit.problem, small_fit.result.x, "k_ras_vr", confidence=1.5)
    with pytest.raises(FitError, match=r"x_best: expected 4 finite values"):
        profile(small_fit.problem, [0.0, 1.0], "k_ras_vr")


def test_same_seed_same_result(t47d, small_fit):
    again = fit_blots("independent", t47d, free=FREE, n_starts=4, seed=3, workers=1, progress=False)
    assert [s.nllh for s in again.result.starts] == [s.nllh for s in small_fit.result.starts]
    assert_allclose(again.result.x, small_fit.result.x, rtol=0, atol=0)
    # a problem built beforehand fits the same
    built = fit_blots(
        BlotProblem("independent", t47d, free=FREE), n_starts=4, seed=3, workers=1, progress=False
    )
    assert_allclose(built.result.x, small_fit.result.x, rtol=0, atol=0)
    with pytest.raises(FitError, match=r"a BlotProblem was given, so \['noise'\] cannot be"):
        fit_blots(BlotProblem("independent", t47d, free=FREE), noise="normal", n_starts=1)


def test_small_fit_finds_a_repeated_optimum(small_fit):
    r = small_fit.result
    assert r.success and r.n_failed == 0
    # the 4-parameter T47D problem's optimum lies in a flat valley: starts end 0.1–0.7 apart
    # (measured with the issue-10 model); two of four within 0.25 of the best
    assert r.n_hits(0.25) >= 2
    assert r.n_free == 4 + small_fit.problem.n_inner_parameters


class _FailingProblem(BlotProblem):
    """Integrator 'fails' wherever k_erk_dephos > 1 (log10 > 0): a start there must fail."""

    def _simulate(self, x, runs, precise):
        if x[0] > 0.0:
            raise SimulationError(
                "integration of condition 'IL-6 [T47D]' failed: CV_ERR_FAILURE (test)"
            )
        return super()._simulate(x, runs, precise)


def test_a_start_whose_integrator_fails_is_reported_and_the_fit_completes(t47d):
    from paracrine.fitting.engine import fit_multistart

    problem = _FailingProblem("independent", t47d, free=FREE)
    x0 = np.array([[0.5, 0.0, -2.0, -1.5], [-0.5, 0.0, -2.0, -1.5], [-0.3, 0.3, -1.5, -1.8]])
    result = fit_multistart(problem, n_starts=3, x0=x0, workers=1, progress=False)
    assert result.n_failed >= 1
    failed = [s for s in result.starts if s.failed]
    assert "CV_ERR_FAILURE (test)" in failed[0].message
    assert result.success and math.isfinite(result.nllh)


@pytest.mark.slow
def test_dask_local_cluster_gives_every_start_as_local_processes(t47d):
    from distributed import Client, LocalCluster

    local = fit_blots(
        "independent", t47d, free=FREE[:2], n_starts=3, seed=5, workers=2, progress=False
    )
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        remote = fit_blots(
            "independent",
            t47d,
            free=FREE[:2],
            n_starts=3,
            seed=5,
            scheduler=client,
            progress=False,
        )
    here = {s.index: s for s in local.result.starts}
    for start in remote.result.starts:  # the same x and nllh per start, not only the best
        np.testing.assert_array_equal(start.x, here[start.index].x)
        assert start.nllh == here[start.index].nllh


def test_fit_saves_and_reloads_and_reports(small_fit, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    path = small_fit.save(tmp_path / "fit.json")
    assert json.loads(path.read_text())["metadata"]["problem"]["free"] == FREE
    again = BlotFit.load(path, data=small_fit.problem.data)
    assert again.result.nllh == small_fit.result.nllh
    assert_allclose(again.problem.nllh(again.result.x), small_fit.problem.nllh(small_fit.result.x))
    text = small_fit.report()
    assert "[[Combination effect (claim 4)" in text and "T47D" in text
    assert "<pre>" in small_fit._repr_html_()
    frame = small_fit.fit_simulation_frame()
    assert list(frame.columns) == ["cell_line", "condition", "time_min", "observable", "value"]
    assert np.all(np.diff(np.unique(frame["time_min"])) <= 5.0)
    assert set(frame["condition"]) == {"control", "IL-6", "VEGF", "IL-6+VEGF"}
    for fig in (small_fit.plot_fit(), small_fit.plot_residuals()):
        assert all(ax.get_xlabel() in ("", "time (min)") for ax in fig.axes)
        fig.savefig(tmp_path / "f.png")
        assert len(fig.legends) == 1  # one legend for the figure, above the panels
    fit_fig = small_fit.plot_fit(time_scale="sqrt")
    assert {ax.get_xscale() for ax in fit_fig.axes} == {"function"}
    texts = [t.get_text() for t in fit_fig.legends[0].get_texts()]
    assert {"control", "IL-6", "VEGF", "IL-6+VEGF", "data: mean ± SD of replicates"} <= set(texts)
    residual_texts = [t.get_text() for t in small_fit.plot_residuals().legends[0].get_texts()]
    assert "T47D" in residual_texts and "IL-6+VEGF" in residual_texts
    with pytest.raises(InvalidInputError, match=r"time_scale: expected one of linear, sqrt, log"):
        small_fit.plot_fit(time_scale="minutes")
    plain = small_fit.result.to_dict()
    plain["metadata"] = {k: v for k, v in plain["metadata"].items() if k != "problem"}
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    with pytest.raises(FitError, match=r"plain.json: not a blot fit \(no 'problem' entry"):
        BlotFit.load(tmp_path / "plain.json")


@pytest.mark.slow
def test_the_null_model_fails_claim_4_judged_against_the_data():
    # the old check (fitted combination above both singles) passed the null model; judged
    # against the data's verdicts (stronger AND sustained AND super-additive) it fails
    fit = fit_blots(
        "independent", "reference_blots_synthetic", n_starts=4, seed=0, workers=2, progress=False
    )
    effect = fit.combination_effect()
    assert len(effect) == 9  # 3 lines × pERK, pAKT, p38
    assert (effect["peak_combo"] > effect[["peak_il6", "peak_vegf"]].max(axis=1)).all()
    data, fitted, comparison = fit.combination()
    assert not comparison["match"].all()
    assert (data.verdicts["verdict"] == "stronger, sustained, super-additive").all()
    assert not fit.reproduces_claim4()
    assert (fitted.verdicts["interaction"] != "super-additive").sum() >= 5, fitted.verdicts
    assert not fit.goodness().within_noise


@pytest.mark.slow
def test_every_start_is_the_same_whatever_the_workers_and_what_ran_before(t47d):
    """Same seed → the same x and nllh per start with 1 or 2 worker processes and with the
    starts run in reverse order in one process (state of an earlier start — a held noise
    level, a cached simulation — must not reach a later one)."""
    from paracrine.fitting import fit_multistart, latin_hypercube_starts

    problem = BlotProblem("independent", t47d, free=FREE)
    n = 5
    one = fit_multistart(problem, n_starts=n, seed=5, workers=1, progress=False)
    two = fit_multistart(problem, n_starts=n, seed=5, workers=2, progress=False)
    points = latin_hypercube_starts(*problem.start_box(), n, 5)
    reverse = fit_multistart(problem, n_starts=n, x0=points[::-1], workers=1, progress=False)
    by_index = {
        name: {s.index: s for s in fit.starts}
        for name, fit in (("one", one), ("two", two), ("reverse", reverse))
    }
    for i in range(n):
        a, b, r = by_index["one"][i], by_index["two"][i], by_index["reverse"][n - 1 - i]
        np.testing.assert_array_equal(a.x0, r.x0)
        for other in (b, r):
            np.testing.assert_array_equal(a.x, other.x)
            assert a.nllh == other.nllh and a.n_fev == other.n_fev
