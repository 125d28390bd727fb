"""Tests of paracrine.fitting.engine: Jacobian, one start, multistart, executors, checkpoints."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from paracrine.errors import FitError, InvalidInputError, SimulationError, UnknownNameError
from paracrine.fitting import (
    FitOptions,
    fd_jacobian,
    fit_multistart,
    latin_hypercube_starts,
    optimize_start,
)
from paracrine.fitting.objective import Capabilities, Problem
from paracrine.testing import ChainProblem


def _same_starts(a, b) -> None:
    """Two results hold bitwise-identical starts (timings aside)."""
    assert [s.index for s in a.starts] == [s.index for s in b.starts]
    for s, t in zip(a.starts, b.starts, strict=True):
        assert_array_equal(s.x0, t.x0)
        assert_array_equal(s.x, t.x)
        assert (s.nllh, s.chisqr, s.n_fev, s.n_jev, s.n_rounds, s.status) == (
            t.nllh,
            t.chisqr,
            t.n_fev,
            t.n_jev,
            t.n_rounds,
            t.status,
        )


# -- fd_jacobian ----------------------------------------------------------------------------
def test_fd_jacobian_exact_on_quadratic_and_steps_back_at_upper_bound():
    fun = lambda x: np.array([x[0] ** 2, 3.0 * x[1], x[0] * x[1]])  # noqa: E731 - tiny test fn
    x = np.array([1.0, 2.0])
    lower, upper = np.array([0.0, 0.0]), np.array([1.0, 5.0])  # x[0] sits at its upper bound
    jac = fd_jacobian(fun, x, fun(x), step=1e-3, lower=lower, upper=upper)
    # backward difference for x0: (1 - (1 - h)^2)/h = 2 - h; forward for x1: exact
    assert_allclose(jac, [[2.0 - 1e-3, 0.0], [0.0, 3.0], [2.0, 1.0]], rtol=1e-9, atol=1e-9)


def test_fd_jacobian_matches_central_differences_on_the_chain():
    problem = ChainProblem.simulate_data(seed=1, rtol=1e-10)
    problem.update_inner(np.array([-1.0, -1.5]))
    lower, upper = problem.lower, problem.upper
    rng = np.random.default_rng(11)
    for x in rng.uniform(-2.5, -0.5, size=(4, 2)):
        jac = fd_jacobian(
            problem.residuals, x, problem.residuals(x), step=1e-4, lower=lower, upper=upper
        )
        h = 1e-4
        central = np.column_stack(
            [
                (problem.residuals(x + h * e) - problem.residuals(x - h * e)) / (2 * h)
                for e in np.eye(2)
            ]
        )
        assert np.linalg.norm(jac - central) / np.linalg.norm(central) < 1e-3


def test_fd_jacobian_rejects_bad_step_and_non_finite_residuals():
    f = lambda x: x  # noqa: E731 - tiny test fn
    bounds = {"lower": np.zeros(1), "upper": np.ones(1)}
    with pytest.raises(InvalidInputError, match=r"step must be > 0, received 0\.0"):
        fd_jacobian(f, np.array([0.5]), np.array([0.5]), step=0.0, **bounds)
    with pytest.raises(FloatingPointError, match=r"non-finite residuals .* parameter 0"):
        fd_jacobian(lambda x: x * np.nan, np.array([0.5]), np.array([0.5]), **bounds)


# -- one start --------------------------------------------------------------------------------
def test_chain_problem_follows_the_protocol_and_pickles_without_roadrunner(chain):
    assert isinstance(chain, Problem)
    x = np.array([-1.0, -1.5])
    before = chain.nllh(x)  # compiles
    copy = pickle.loads(pickle.dumps(chain))
    assert copy._sim._rr is None
    assert copy.nllh(x) == before


def test_optimize_start_recovers_ordinary_least_squares(linear):
    start = optimize_start(linear, np.array([7.0, -7.0]), index=4)
    assert start.status == "converged"
    assert start.index == 4
    assert_array_equal(start.x0, [7.0, -7.0])
    assert_allclose(start.x, linear.ols(), atol=1e-6)
    r = linear.residuals(start.x)
    assert start.chisqr == pytest.approx(r @ r, rel=1e-12)
    assert start.n_fev > 0
    assert start.n_jev > 0
    assert start.n_rounds == 2
    assert start.time_s > 0
    assert start.cpu_time_s >= 0


def test_optimize_start_on_chain_beats_truth_and_counts_work(chain, true_x):
    start = optimize_start(chain, np.array([-2.5, -0.5]))
    assert start.status == "converged", start.message
    assert start.nllh <= chain.nllh(true_x, precise=True)
    assert_allclose(start.x, true_x, atol=0.1)
    # a forward-difference Jacobian costs 2 residual calls here (d = 2)
    assert start.n_fev >= 2 * start.n_jev


def test_optimize_start_reports_failures_instead_of_raising(chain, nonfinite):
    failing = ChainProblem.simulate_data(seed=1, fail_region=(0, -1.5))
    start = optimize_start(failing, np.array([-1.0, -1.0]))
    assert start.status == "failed"
    assert start.nllh == np.inf
    assert start.message.startswith("SimulationError: CVODE failed")
    bad = optimize_start(nonfinite, np.array([6.0, 0.0]))
    assert bad.status == "failed"
    assert bad.message.startswith("FloatingPointError: residuals are not finite at the start")


def test_refine_start_runs_once_per_start_before_the_optimiser(linear):
    calls, seen = [], []
    residuals = linear.residuals

    def refine(x):
        calls.append(x.copy())
        if x[0] > 5:
            raise SimulationError("CVODE failed in refine (test)")
        return np.array([x[0], 50.0])  # beyond the upper bound of b

    def recording(x):
        seen.append(np.array(x, dtype=float))
        return residuals(x)

    linear.refine_start, linear.residuals = refine, recording
    linear.capabilities = Capabilities(refine_start=True)
    start = optimize_start(linear, np.array([1.0, -3.0]))
    assert len(calls) == 1
    assert_array_equal(calls[0], [1.0, -3.0])
    assert_array_equal(seen[0], [1.0, 10.0])  # refined, then clipped to the bounds
    assert_array_equal(start.x0, [1.0, -3.0])  # the start keeps its drawn point
    assert_allclose(start.x, linear.ols(), atol=1e-6)
    failed = optimize_start(linear, np.array([6.0, 0.0]))
    assert failed.status == "failed"
    assert failed.message == "SimulationError: CVODE failed in refine (test)"


def test_non_finite_likelihoods_fail_the_start(bad_likelihood):
    always = optimize_start(bad_likelihood("always"), np.array([1.0, 1.0]))
    assert always.status == "failed"
    assert always.message.startswith("FloatingPointError: nllh is nan at x = ")
    precise = optimize_start(bad_likelihood("precise"), np.array([1.0, 1.0]))
    assert precise.status == "failed"
    assert precise.message.startswith("FloatingPointError: precise nllh is nan")
    assert precise.n_rounds == 2  # the optimisation itself went through


def test_chain_problem_raises_simulation_errors(chain):
    failing = ChainProblem.simulate_data(seed=1, fail_region=(1, -2.0))
    with pytest.raises(SimulationError, match=r"test failure region.*log10_k2 > -2\.0"):
        failing.residuals(np.array([-1.0, -1.0]))

    def broken(grid):
        raise RuntimeError("CV_TOO_MUCH_WORK")

    chain._sim.integrate = broken
    with pytest.raises(SimulationError, match=r"CVODE failed at x = \[-1\.0, -1\.0\]: CV_TOO"):
        chain.nllh(np.array([-1.0, -1.0]))


def test_docstring_examples_run():
    import doctest

    from paracrine.fitting import engine, local
    from paracrine.fitting.objective import jacobian

    for module in (engine, local, jacobian):
        assert doctest.testmod(module).failed == 0


def test_optimize_start_max_evaluations_status(chain):
    start = optimize_start(chain, np.array([-2.9, -0.1]), options={"max_nfev": 1})
    assert start.status == "max_evaluations"
    assert "max_nfev" in start.message
    few_rounds = optimize_start(chain, np.array([-2.9, -0.1]), options={"max_rounds": 1})
    assert few_rounds.status == "max_evaluations"
    assert "still changing after 1 rounds" in few_rounds.message


def test_optimize_start_rejects_a_wrongly_shaped_x0(linear):
    with pytest.raises(InvalidInputError, match=r"x0: expected shape \(2,\) .* received \(3,\)"):
        optimize_start(linear, np.zeros(3))


def test_options_are_validated():
    with pytest.raises(UnknownNameError, match="unknown fit option 'ftoll' — did you mean 'ftol'"):
        FitOptions.from_value({"ftoll": 1e-3})
    with pytest.raises(InvalidInputError, match=r"options: expected FitOptions.*received list"):
        FitOptions.from_value([1e-3])
    assert FitOptions.from_value(None) == FitOptions()
    assert FitOptions.from_value({"fd_step": 1e-4}).fd_step == 1e-4


# -- multistart -------------------------------------------------------------------------------
def test_fit_recovers_true_parameters(chain, true_x):
    result = fit_multistart(chain, n_starts=8, seed=2, workers=1, progress=False)
    assert result.success
    assert result.n_failed == 0
    # truth within 3 standard errors and 0.05 log10 units (data: 20 points × 15–20% noise)
    assert np.all(np.abs(result.x - true_x) < 3 * result.stderr)
    assert_allclose(result.x, true_x, atol=0.05)
    assert result.nllh <= chain.nllh(true_x, precise=True)
    assert result.values == pytest.approx({"k1": 0.1, "k2": 0.03}, rel=0.12)
    assert result.n_hits() >= 4
    # σ re-solved at the optimum makes every observable's weighted χ² equal to its n
    assert result.chisqr == pytest.approx(chain.n_data, rel=1e-9)


def test_failing_region_gives_counted_failed_starts(true_x):
    problem = ChainProblem.simulate_data(seed=1, fail_region=(0, -0.6))
    starts = latin_hypercube_starts(problem.lower, problem.upper, 12, 5)
    result = fit_multistart(problem, n_starts=12, seed=5, workers=1, progress=False)
    assert len(result.starts) == 12
    in_region = {i for i, x in enumerate(starts) if x[0] > -0.6}
    failed = {s.index for s in result.starts if s.failed}
    assert in_region
    assert in_region <= failed
    assert result.n_failed == len(failed)
    assert all(s.failed for s in result.starts[-result.n_failed :])  # failed sorted last
    assert_allclose(result.x, true_x, atol=0.05)
    assert "failed" in result.message


def test_same_seed_same_result_different_seed_different_starts(chain):
    a = fit_multistart(chain, n_starts=4, seed=7, workers=1, progress=False)
    b = fit_multistart(chain, n_starts=4, seed=7, workers=1, progress=False)
    c = fit_multistart(chain, n_starts=4, seed=8, workers=1, progress=False)
    _same_starts(a, b)
    assert not np.array_equal(a.starts[0].x0, c.starts[0].x0)


def test_explicit_x0_becomes_the_first_starts(chain):
    result = fit_multistart(chain, n_starts=3, x0=np.array([-2.0, -2.0]), workers=1, progress=False)
    by_index = {s.index: s for s in result.starts}
    assert_array_equal(by_index[0].x0, [-2.0, -2.0])
    lhs = latin_hypercube_starts(chain.lower, chain.upper, 2, 0)
    assert_array_equal(by_index[1].x0, lhs[0])


def test_workers_1_and_2_give_identical_results(chain):
    one = fit_multistart(chain, n_starts=6, seed=3, workers=1, progress=False)
    two = fit_multistart(chain, n_starts=6, seed=3, workers=2, progress=True)
    _same_starts(one, two)
    assert_array_equal(one.x, two.x)


def test_dask_cluster_matches_local_processes(chain):
    distributed = pytest.importorskip("distributed")
    local = fit_multistart(chain, n_starts=6, seed=3, workers=1, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        via_client = fit_multistart(chain, n_starts=6, seed=3, scheduler=client, progress=False)
        via_address = fit_multistart(
            chain, n_starts=6, seed=3, scheduler=cluster.scheduler_address, progress=False
        )
    assert via_client.nllh == local.nllh
    _same_starts(local, via_client)
    _same_starts(local, via_address)


def test_keyboard_interrupt_returns_finished_starts(chain, interrupting):
    starts = latin_hypercube_starts(chain.lower, chain.upper, 6, 0)
    problem = interrupting(chain, starts, 3)
    result = fit_multistart(problem, n_starts=6, seed=0, workers=1, progress=False)
    assert result.interrupted
    assert not result.success
    assert sorted(s.index for s in result.starts) == [0, 1, 2]
    assert "interrupted" in result.message
    assert np.isfinite(result.nllh)


def test_a_crashed_worker_process_fails_its_starts_not_the_fit():
    problem = ChainProblem.simulate_data(seed=1, fail_region=(0, -0.6), fail_mode="exit")
    result = fit_multistart(problem, n_starts=6, seed=5, workers=2, progress=False)
    assert len(result.starts) == 6
    assert result.n_failed >= 1
    lost = [s for s in result.starts if s.failed]
    assert all(s.message.startswith("worker failed: BrokenProcessPool") for s in lost)


def test_problem_metadata_is_copied_and_checked(linear, monkeypatch):
    monkeypatch.setattr(type(linear), "metadata", {"variant": "linear", "n": 2})
    assert fit_multistart(linear, n_starts=1, workers=1, progress=False).metadata == {
        "variant": "linear",
        "n": 2,
    }
    monkeypatch.setattr(type(linear), "metadata", ["not", "a", "mapping"])
    with pytest.raises(FitError, match=r"problem\.metadata: expected a mapping, received list"):
        fit_multistart(linear, n_starts=1, workers=1, progress=False)
    monkeypatch.setattr(type(linear), "metadata", {"array": np.zeros(2)})
    with pytest.raises(FitError, match=r"must be JSON-serialisable: .*ndarray"):
        fit_multistart(linear, n_starts=1, workers=1, progress=False)


def test_ctrl_c_while_waiting_on_worker_processes(chain, monkeypatch, tmp_path):
    """Ctrl-C arriving in the main process while starts run in a pool: the pending starts are
    cancelled, finished ones kept (and checkpointed), and nothing hangs."""
    from paracrine.fitting import _executors

    record = _executors._record
    calls = []

    def interrupt_on_second(result, *args):
        calls.append(result.index)
        if len(calls) == 2:
            raise KeyboardInterrupt
        record(result, *args)

    monkeypatch.setattr(_executors, "_record", interrupt_on_second)
    path = tmp_path / "fit.jsonl"
    result = fit_multistart(chain, n_starts=20, seed=1, workers=2, progress=False, checkpoint=path)
    assert result.interrupted
    assert 1 <= len(result.starts) < 20
    assert len(path.read_text().splitlines()) == 1 + len(result.starts)
    monkeypatch.setattr(_executors, "_record", record)
    resumed = fit_multistart(chain, n_starts=20, seed=1, workers=1, progress=False, checkpoint=path)
    assert not resumed.interrupted
    assert len(resumed.starts) == 20


# -- checkpoints ------------------------------------------------------------------------------
def test_checkpoint_resume_skips_finished_starts(chain, tmp_path):
    path = tmp_path / "fit.jsonl"
    full = fit_multistart(chain, n_starts=5, seed=4, workers=1, progress=False, checkpoint=path)
    lines = path.read_text().splitlines()
    assert len(lines) == 6
    assert json.loads(lines[0])["seed"] == 4
    # keep the header and two starts, plus a truncated line as left by a killed fit
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:25])
    kept = {json.loads(line)["index"]: json.loads(line)["time_s"] for line in lines[1:3]}
    resumed = fit_multistart(chain, n_starts=5, seed=4, workers=1, progress=False, checkpoint=path)
    _same_starts(full, resumed)
    for s in resumed.starts:  # loaded starts keep their recorded timing: they did not rerun
        if s.index in kept:
            assert s.time_s == kept[s.index]
    assert len(path.read_text().splitlines()) == 6
    again = fit_multistart(chain, n_starts=5, seed=4, workers=1, progress=False, checkpoint=path)
    assert [s.time_s for s in again.starts] == [s.time_s for s in resumed.starts]


def test_checkpoint_of_another_fit_is_refused(chain, tmp_path):
    path = tmp_path / "fit.jsonl"
    fit_multistart(chain, n_starts=2, seed=4, workers=1, progress=False, checkpoint=path)
    with pytest.raises(FitError, match=r"belongs to another fit \(seed: checkpoint has 4, "):
        fit_multistart(chain, n_starts=2, seed=5, workers=1, progress=False, checkpoint=path)
    other = ChainProblem.simulate_data(seed=99)
    with pytest.raises(FitError, match=r"belongs to another fit \(problem: .*fingerprint"):
        fit_multistart(other, n_starts=2, seed=4, workers=1, progress=False, checkpoint=path)
    with pytest.raises(FitError, match=r"options: checkpoint has .*\"ftol\": 0\.001"):
        fit_multistart(
            chain,
            n_starts=2,
            seed=4,
            workers=1,
            progress=False,
            checkpoint=path,
            options={"ftol": 1e-4},
        )
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"hello": 1}\n')
    with pytest.raises(FitError, match=r"expected a 'paracrine\.fitting\.checkpoint/1' header"):
        fit_multistart(chain, n_starts=2, workers=1, progress=False, checkpoint=junk)
    junk.write_text("not json\n")
    with pytest.raises(FitError, match="line 1 is not JSON"):
        fit_multistart(chain, n_starts=2, workers=1, progress=False, checkpoint=junk)


# -- argument validation ----------------------------------------------------------------------
def test_fit_multistart_validates_its_arguments(chain, linear):
    kw = {"progress": False}
    with pytest.raises(InvalidInputError, match=r"n_starts: expected an integer ≥ 1, received 0"):
        fit_multistart(chain, n_starts=0, **kw)
    with pytest.raises(InvalidInputError, match=r"workers: expected an integer ≥ 1, received 0"):
        fit_multistart(chain, workers=0, **kw)
    with pytest.raises(InvalidInputError, match="pass only one of them"):
        fit_multistart(chain, workers=2, scheduler="tcp://127.0.0.1:1", **kw)
    with pytest.raises(InvalidInputError, match=r"scheduler: expected a Dask .* received int"):
        fit_multistart(linear, n_starts=1, scheduler=42, **kw)
    with pytest.raises(InvalidInputError, match=r"x0: expected shape \(2,\) or \(m, 2\)"):
        fit_multistart(chain, x0=np.zeros(3), workers=1, **kw)
    with pytest.raises(InvalidInputError, match="3 start points given but n_starts is 2"):
        fit_multistart(chain, n_starts=2, x0=np.full((3, 2), -1.0), workers=1, **kw)
    with pytest.raises(FitError, match=r"x0\[0\] parameter 'log10_k2' = 1.0 is outside"):
        fit_multistart(chain, x0=np.array([-1.0, 1.0]), workers=1, **kw)


def test_unpicklable_problem_is_refused_for_worker_processes(linear):
    linear.transform = lambda x: x  # lambdas do not pickle
    with pytest.raises(FitError, match=r"must be picklable to run in worker processes.*workers=1"):
        fit_multistart(linear, n_starts=2, workers=2, progress=False)
    assert fit_multistart(linear, n_starts=2, workers=1, progress=False).success


def test_fit_multistart_rejects_malformed_problems(linear):
    with pytest.raises(
        FitError, match=r"is not a paracrine.fitting.objective.Problem: subclass it"
    ):
        fit_multistart(object(), progress=False)
    linear.upper = np.array([10.0, -20.0])
    with pytest.raises(FitError, match=r"expected finite lower < upper, received for \['b'\]"):
        fit_multistart(linear, progress=False)
    linear.upper = np.array([10.0])
    with pytest.raises(FitError, match=r"expected shape \(2,\) like parameter_names"):
        fit_multistart(linear, progress=False)
