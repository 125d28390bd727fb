"""Model selection across cross-talk variants: table, Akaike weights, nested LRTs."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from paracrine.data import load_blots
from paracrine.errors import FitError, UnknownNameError
from paracrine.fitting.selection import select_models

FREE = ["k_erk_dephos", "k_ras_vr", "k_pi3k_jak", "k_stat3_jak", "k_fb_ind"]


@pytest.fixture(scope="module")
def selection():
    data = load_blots("reference_blots_synthetic", cell_lines=["SK-Br-3"])
    return select_models(
        data,
        ["independent", "stat3_vegfr2_expression", "saturable_feedback", "full"],
        free=FREE,
        n_starts=3,
        seed=2,
        workers=1,
        progress=False,
    )


def test_table_has_information_criteria_and_weights(selection):
    table = selection.table()
    assert table["variant"].iloc[0] == selection.best_variant()
    assert_allclose(table["akaike_weight"].sum(), 1.0)
    assert table["delta_aic"].min() == 0.0
    k = dict(zip(table["variant"], table["k"], strict=True))
    assert k["full"] == k["independent"] + 9  # nine cross-talk parameters
    for _, row in table.iterrows():
        fit = selection.fits[row["variant"]]
        assert_allclose(row["aic"], 2 * fit.result.nllh + 2 * fit.result.n_free)
        assert_allclose(
            row["bic"], 2 * fit.result.nllh + fit.result.n_free * np.log(fit.result.n_data)
        )
    assert set(table["claim4"]) <= {True, False}


def test_likelihood_ratio_tests_cover_every_nested_pair(selection):
    lrt = selection.likelihood_ratio_tests()
    pairs = set(zip(lrt["null"], lrt["alternative"], strict=True))
    assert pairs == {
        ("independent", "stat3_vegfr2_expression"),
        ("independent", "saturable_feedback"),
        ("independent", "full"),
        ("stat3_vegfr2_expression", "full"),
        ("saturable_feedback", "full"),
    }
    for _, row in lrt.iterrows():
        assert row["df"] == len(selection.fits[row["alternative"]].problem.parameter_names) - len(
            selection.fits[row["null"]].problem.parameter_names
        )
        if row["consistent"]:
            assert 0.0 <= row["p_value"] <= 1.0


def test_warm_starts_make_every_nested_pair_consistent(selection):
    # larger models start from the optima of the models they nest: never worse than those
    lrt = selection.likelihood_ratio_tests()
    assert lrt["consistent"].all(), lrt
    assert (lrt["lr"] >= -1e-3).all(), lrt
    full = selection.fits["full"]
    sources = full.result.metadata["warm_starts_from"]
    assert set(sources) == {"independent", "stat3_vegfr2_expression", "saturable_feedback"}
    nllh = [selection.fits[a].result.nllh for a in sources]
    assert nllh == sorted(nllh)  # best nested optimum first
    # start 0 is the best nested optimum; the parameters it lacks sit at their lower bound
    first = dict(
        zip(
            selection.fits[sources[0]].problem.parameter_names,
            selection.fits[sources[0]].result.x,
            strict=True,
        )
    )
    start = {s.index: s for s in full.result.starts}[0]
    expected = [
        first.get(n, lo)
        for n, lo in zip(full.problem.parameter_names, full.problem.lower, strict=True)
    ]
    assert_array_equal(start.x0, expected)
    assert len(first) < len(expected)
    assert selection.fits["independent"].result.metadata["warm_starts_from"] == []


def test_report_and_plot(selection, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    assert "Best by AIC" in selection.report()
    ax = selection.plot()
    assert ax.get_ylabel() == "fitted σ / replicate noise"
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx(list(selection.table()["sigma_ratio"]))
    selection.save(tmp_path)
    assert (tmp_path / "selection.csv").exists() and (tmp_path / "fit_full.json").exists()


def test_selection_errors():
    with pytest.raises(UnknownNameError, match=r"unknown variant 'saturated'"):
        select_models("reference_blots_synthetic", ["saturated"])
    with pytest.raises(FitError, match=r"variants: expected at least one variant name"):
        select_models("reference_blots_synthetic", [], n_starts=1)
