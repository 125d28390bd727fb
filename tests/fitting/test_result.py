"""Tests of paracrine.fitting.result: statistics, standard errors, persistence, reports, plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from paracrine.errors import InvalidInputError
from paracrine.fitting import FitResult, StartResult, fit_multistart
from paracrine.testing import ChainProblem


def _start(index: int, nllh: float, *, status: str = "converged", cpu: float = 1.0) -> StartResult:
    x = np.array([float(index), -float(index)])
    return StartResult(
        index=index,
        x0=x + 0.5,
        x=x,
        nllh=nllh,
        chisqr=2 * nllh if math.isfinite(nllh) else math.inf,
        n_fev=10,
        n_jev=3,
        n_rounds=2,
        status=status,
        message="m",
        time_s=cpu * 1.1,
        cpu_time_s=cpu,
    )


def _result(starts: list[StartResult], **kw) -> FitResult:
    from paracrine.fitting.result import sort_starts

    starts = sort_starts(starts)
    fields = {
        "parameter_names": ("a", "b"),
        "lower": np.array([-5.0, -5.0]),
        "upper": np.array([5.0, 5.0]),
        "x": starts[0].x,
        "values": {"a": 1.0, "b": 2.0},
        "covar": None,
        "starts": starts,
        "n_data": 20,
        "n_inner_parameters": 1,
        "n_starts": len(starts),
        "seed": 0,
    }
    fields.update(kw)
    return FitResult(**fields)


@pytest.fixture(scope="module")
def fitted() -> FitResult:
    """A real fit of the chain problem with two failing starts (fail region log10_k1 > -0.5)."""
    problem = ChainProblem.simulate_data(seed=1, fail_region=(0, -0.5))
    metadata = {"variant": "chain", "dataset": "synthetic seed 1", "tags": [1, 2.5]}
    return fit_multistart(
        problem, n_starts=10, seed=1, workers=1, progress=False, metadata=metadata
    )


# -- statistics -----------------------------------------------------------------------------
def test_information_criteria_follow_the_documented_formulas():
    r = _result([_start(0, 10.0), _start(1, 12.0)])
    k, n = 3, 20  # 2 parameters + 1 inner parameter, 20 data points
    assert r.n_free == k
    assert r.aic == pytest.approx(2 * 10.0 + 2 * k)
    assert r.aicc == pytest.approx(2 * 10.0 + 2 * k + 2 * k * (k + 1) / (n - k - 1))
    assert r.bic == pytest.approx(2 * 10.0 + k * math.log(n))
    assert r.chisqr == 20.0
    tiny = _result([_start(0, 10.0)], n_data=4)
    assert tiny.aicc == math.inf


def test_hits_failures_and_expected_time_to_hit():
    starts = [
        _start(0, 5.0, cpu=2.0),
        _start(1, 5.05, cpu=1.0),
        _start(2, 7.0, cpu=3.0),
        _start(3, math.inf, status="failed", cpu=4.0),
    ]
    r = _result(starts)
    assert [s.index for s in r.starts] == [0, 1, 2, 3]
    assert r.n_failed == 1
    assert r.n_hits() == 2
    assert r.n_hits(tol=3.0) == 3
    assert r.fraction_hits == 0.5
    assert r.expected_time_to_hit() == pytest.approx((2 + 1 + 3 + 4) / 2)
    assert r.best.index == 0
    assert r.success
    assert_allclose(r.start_times_s, [2.2, 1.1, 3.3, 4.4])


def test_all_failed_fit_is_reported_not_raised():
    problem = ChainProblem.simulate_data(seed=1, fail_region=(0, -10.0))  # fails everywhere
    r = fit_multistart(problem, n_starts=3, workers=1, progress=False)
    assert r.best is None
    assert r.nllh == math.inf
    assert not r.success
    assert r.n_failed == 3
    assert np.isnan(r.x).all()
    assert r.covar is None
    assert r.expected_time_to_hit() == math.inf
    assert "no start succeeded" in r.message
    assert "none succeeded" in r.report()


# -- standard errors ------------------------------------------------------------------------
def test_standard_errors_match_an_independent_central_difference_jacobian(fitted):
    problem = ChainProblem.simulate_data(seed=1, rtol=1e-10)
    x = fitted.x
    problem.update_inner(x)
    h = 1e-4
    jac = np.column_stack(
        [(problem.residuals(x + h * e) - problem.residuals(x - h * e)) / (2 * h) for e in np.eye(2)]
    )
    expected = np.linalg.inv(jac.T @ jac)
    assert_allclose(fitted.covar, expected, rtol=0.02)
    assert_allclose(fitted.stderr, np.sqrt(np.diag(expected)), rtol=0.01)
    params = fitted.params
    assert list(params) == ["log10_k1", "log10_k2"]
    assert params["log10_k1"].value == fitted.x[0]
    assert params["log10_k1"].stderr == pytest.approx(fitted.stderr[0])
    assert (params["log10_k2"].min, params["log10_k2"].max) == (-3.0, 0.0)
    corr = fitted.correlation
    assert_allclose(np.diag(corr), 1.0)


def test_singular_or_failing_jacobian_gives_no_standard_errors(linear_singular, failing_jacobian):
    r = fit_multistart(linear_singular, n_starts=2, workers=1, progress=False)
    assert r.covar is None
    assert np.isnan(r.stderr).all()
    assert r.params["b"].stderr is None
    assert r.correlation is None
    assert "(not determined)" in r.report()
    r2 = fit_multistart(
        failing_jacobian,
        n_starts=1,
        workers=1,
        progress=False,
        options={"use_problem_jacobian": False},
    )
    assert r2.covar is not None  # finite differences when the problem's Jacobian is not used
    r3 = fit_multistart(
        failing_jacobian,
        n_starts=1,
        workers=1,
        progress=False,
        options={"compute_covariance": True},
    )
    assert r3.starts[0].failed  # its Jacobian raises inside the start too
    assert r3.covar is None


def test_linear_problem_standard_errors_equal_ordinary_least_squares(linear):
    r = fit_multistart(linear, n_starts=2, workers=1, progress=False)
    design = np.column_stack([np.ones_like(linear.t), linear.t])
    assert_allclose(r.x, linear.ols(), atol=1e-6)
    assert_allclose(r.covar, np.linalg.inv(design.T @ design), rtol=1e-5)
    assert r.values == {"a": r.x[0], "b": r.x[1]}  # no to_natural: the optimisation scale


def test_parameter_names_that_are_not_identifiers_are_sanitised():
    r = _result([_start(0, 1.0)], parameter_names=("k(1)", "2b"))
    assert list(r.params) == ["k_1_", "p_2b"]


# -- persistence ----------------------------------------------------------------------------
def test_json_round_trip_is_exact(fitted, tmp_path):
    path = tmp_path / "fit.json"
    fitted.to_json(path)
    back = FitResult.from_json(path)
    assert back.to_dict() == fitted.to_dict()
    assert back.parameter_names == fitted.parameter_names
    assert_array_equal(back.x, fitted.x)
    assert_array_equal(back.covar, fitted.covar)
    assert back.values == fitted.values
    assert back.metadata == fitted.metadata
    assert back.options == fitted.options
    assert (back.nllh, back.aic, back.bic, back.chisqr) == (
        fitted.nllh,
        fitted.aic,
        fitted.bic,
        fitted.chisqr,
    )
    for a, b in zip(back.starts, fitted.starts, strict=True):
        assert_array_equal(a.x0, b.x0)
        assert_array_equal(a.x, b.x)
        assert (a.index, a.nllh, a.status, a.message, a.time_s, a.cpu_time_s) == (
            b.index,
            b.nllh,
            b.status,
            b.message,
            b.time_s,
            b.cpu_time_s,
        )
    assert fitted.n_failed == 2
    assert back.starts[-1].nllh == math.inf  # failed starts survive (inf stored as a string)
    json.loads(path.read_text())  # strict JSON: no NaN/Infinity tokens
    assert "Infinity" not in path.read_text()


@settings(max_examples=60, deadline=None)
@given(
    floats=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=6, max_size=6),
    status=st.sampled_from(["converged", "max_evaluations", "failed"]),
)
def test_start_result_round_trips_any_float_bit_for_bit(floats, status):
    s = StartResult(
        index=3,
        x0=np.array(floats[:2]),
        x=np.array(floats[2:4]),
        nllh=floats[4],
        chisqr=floats[5],
        n_fev=1,
        n_jev=2,
        n_rounds=3,
        status=status,
        message="é ✓",
        time_s=floats[0],
        cpu_time_s=floats[1],
    )
    back = StartResult.from_dict(json.loads(json.dumps(s.to_dict(), allow_nan=False)))
    for a, b in [(s.x0, back.x0), (s.x, back.x), (s.nllh, back.nllh), (s.time_s, back.time_s)]:
        a, b = np.atleast_1d(a), np.atleast_1d(b)
        nan = np.isnan(a)
        assert_array_equal(nan, np.isnan(b))
        assert a[~nan].tobytes() == b[~nan].tobytes()  # bit for bit, signed zeros included
    assert (back.status, back.message) == (status, "é ✓")


def test_to_json_refuses_unserialisable_metadata(tmp_path):
    r = _result([_start(0, 1.0)], metadata={"when": object()})
    with pytest.raises(InvalidInputError, match="metadata must be JSON-serialisable"):
        r.to_json(tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_from_json_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInputError, match=r"bad\.json: not valid JSON"):
        FitResult.from_json(bad)
    bad.write_text('{"format": "something else"}')
    with pytest.raises(InvalidInputError, match=r"expected format .* received 'something else'"):
        FitResult.from_json(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(InvalidInputError, match="received 'list'"):
        FitResult.from_json(bad)
    bad.write_text('{"format": "paracrine.fitting.FitResult/1", "x": [1.0]}')
    with pytest.raises(InvalidInputError, match=r"missing field\(s\) \['covar', 'interrupted'"):
        FitResult.from_json(bad)


# -- presentation ---------------------------------------------------------------------------
def test_report_html_and_dataframe(fitted):
    text = fitted.report()
    assert "[[Fit Statistics]]" in text
    assert "[[Variables]]" in text
    assert f"{fitted.nllh:.7g}" in text
    assert "log10_k1:" in text
    assert f"natural = {fitted.values['k1']:.6g}" in text
    assert "variant = chain" in text
    assert "failed starts          = 2" in text
    page = fitted._repr_html_()
    assert "<table>" in page
    assert "log10_k2" in page
    assert "FitResult nllh=" in repr(fitted)
    df = fitted.to_dataframe()
    assert len(df) == 10
    assert list(df.columns[:4]) == ["start", "rank", "status", "nllh"]
    assert df["delta_nllh"].iloc[0] == 0.0
    assert (df["status"] == "failed").sum() == 2
    assert df["x_log10_k1"].iloc[0] == fitted.x[0]
    assert sorted(df["start"]) == list(range(10))


def test_plots_are_labelled_and_savefigable(fitted, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = fitted.plot_waterfall()
    assert ax.get_xlabel() == "start (sorted by nllh)"
    assert ax.get_ylabel() == "nllh − best nllh + 1"
    assert "failed: 2" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax.figure.savefig(tmp_path / "waterfall.png")
    ax2 = fitted.plot_parameters(tol=0.1, intervals={"k1": (0.05, 0.2)})
    # natural values (the chain problem's k1, k2 in 1/min) on a log axis, with a legend
    assert ax2.get_xlabel().startswith("best-fit value, natural units (log scale")
    assert ax2.get_xscale() == "log"
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["k1", "k2"]
    legend = ax2.figure.legends[0]
    texts = [t.get_text() for t in legend.get_texts()]
    assert "allowed range (bounds)" in texts and any("profile-likelihood" in t for t in texts)
    ax2.figure.savefig(tmp_path / "parameters.png")
    assert (tmp_path / "waterfall.png").stat().st_size > 1000
    plt.close("all")


def test_a_fit_result_is_immutable(fitted):
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        fitted.seed = 3
    with pytest.raises(TypeError, match="does not support item assignment"):
        fitted.metadata["variant"] = "other"
    assert fitted.metadata["variant"] == "chain"
