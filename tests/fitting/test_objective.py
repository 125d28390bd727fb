"""The shared objective layer on problems whose 'simulations' are closed forms: the inner
solver against hand-computed optima, the sparse Jacobian against plain finite differences,
and the sensitivity hook against both."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import FitError
from paracrine.fitting.objective import (
    Capabilities,
    HierarchicalProblem,
    InnerLayout,
    InnerSolver,
    MeasurementLayout,
    Transform,
    fd_jacobian,
)

TIMES = np.array([0.5, 1.0, 2.0, 4.0, 8.0])


class DecayProblem(HierarchicalProblem):
    """Two runs y_r(t) = exp(−k_r t) (x = log10 k_r), each measured on its own unknown scale
    with log-normal noise of one shared σ; k_0 touches run 0 only, k_1 run 1 only."""

    parameter_names = ("log10_k0", "log10_k1")

    def __init__(self, y: np.ndarray) -> None:
        self.lower, self.upper = np.array([-2.0, -2.0]), np.array([1.0, 1.0])
        self.n_data = y.size
        self.calls = 0
        rows = np.tile(np.arange(TIMES.size), 2) + np.repeat([0, TIMES.size], TIMES.size)
        layout = MeasurementLayout.build([TIMES, TIMES], 1, rows, np.zeros(y.size, int), [[0], [1]])
        inner = InnerLayout.build(
            np.full(y.size, Transform.LOG),
            scale=np.repeat([0, 1], TIMES.size),
            scale_names=["s0", "s1"],
            sigma=np.zeros(y.size, int),
            sigma_names=["sigma"],
        )
        self.n_inner_parameters = inner.n_parameters
        self.capabilities = Capabilities(alternating_inner=False, jacobian=True)
        self._init_objective(layout, InnerSolver(inner, y), fd_steps=np.full(2, 1e-6))

    def _simulate(self, x, runs, precise):
        self.calls += 1
        k = 10.0 ** np.asarray(x)
        return [np.exp(-k[r] * TIMES)[:, None] for r in (range(2) if runs is None else runs)]

    def _observe(self, stacked, x, changed=None):
        return self.layout.gather(stacked), np.ones(self.n_data)


def _data(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    clean = np.concatenate([3.0 * np.exp(-0.3 * TIMES), 0.5 * np.exp(-2.0 * TIMES)])
    return clean * np.exp(rng.normal(0.0, 0.1, clean.size))


def test_inner_solver_gives_the_closed_form_scales_and_sigma():
    y = _data()
    problem = DecayProblem(y)
    x = np.log10([0.25, 1.5])
    h = np.concatenate(problem._simulate(x, None, False)).ravel()
    solution = problem.inner_solution(x)
    # log s_r = mean(log y − log h) over run r; σ² = mean squared log residual
    log_s = [np.mean(np.log(y[r * 5 : r * 5 + 5]) - np.log(h[r * 5 : r * 5 + 5])) for r in (0, 1)]
    assert_allclose(np.log(solution.scales), log_s, rtol=1e-12)
    d = np.log(h) + np.repeat(log_s, 5) - np.log(y)
    assert_allclose(solution.sigmas, [np.sqrt(np.mean(d**2))], rtol=1e-12)
    nllh = np.sum(
        0.5 * np.log(2 * np.pi * solution.sigmas[0] ** 2) + 0.5 * (d / solution.sigmas) ** 2
    )
    assert problem.nllh(x) == pytest.approx(nllh + np.sum(np.log(y)), rel=1e-12)


def test_lin_scale_and_offset_equal_weighted_least_squares_and_respect_bounds():
    rng = np.random.default_rng(1)
    h = rng.uniform(0.1, 1.0, 20)
    y = 2.5 * h + 0.7 + rng.normal(0, 0.05, 20)
    sigma = rng.uniform(0.5, 2.0, 20)
    layout = InnerLayout.build(
        np.zeros(20, int),
        scale=np.zeros(20, int),
        offset=np.zeros(20, int),
        scale_names=["s"],
        offset_names=["b"],
    )
    solution = InnerSolver(layout, y).solve(h, sigma)
    design = np.column_stack([h, np.ones(20)]) / sigma[:, None]
    expected = np.linalg.lstsq(design, y / sigma, rcond=None)[0]
    assert_allclose([solution.scales[0], solution.offsets[0]], expected, rtol=1e-10)
    bounded = InnerLayout.build(
        np.zeros(20, int),
        scale=np.zeros(20, int),
        offset=np.zeros(20, int),
        scale_names=["s"],
        offset_names=["b"],
        scale_bounds=np.array([[0.0, 2.0]]),
    )
    clipped = InnerSolver(bounded, y).solve(h, sigma)
    assert clipped.scales[0] == 2.0  # at its bound, the offset re-solved given it
    w = 1 / sigma**2
    assert clipped.offsets[0] == pytest.approx(np.sum(w * (y - 2.0 * h)) / np.sum(w), rel=1e-10)


def test_inner_layout_refuses_what_has_no_closed_form():
    with pytest.raises(FitError, match="offsets are solved only on lin-transformed rows"):
        InnerLayout.build(np.full(3, Transform.LOG), offset=np.zeros(3, int), offset_names=["b"])
    with pytest.raises(FitError, match="not solved under Laplace noise"):
        InnerLayout.build(
            np.zeros(3, int), laplace=np.ones(3, bool), scale=np.zeros(3, int), scale_names=["s"]
        )
    with pytest.raises(FitError, match="scale group 1 has no name"):
        InnerLayout.build(np.zeros(2, int), scale=np.array([0, 1]), scale_names=["s"])


def test_sparse_jacobian_resimulates_only_the_touched_run_and_equals_plain_differences():
    problem = DecayProblem(_data())
    x = np.log10([0.25, 1.5])
    problem.update_inner(x)
    r0 = problem.residuals(x)
    plain = fd_jacobian(
        problem.residuals, x, r0, step=1e-6, lower=problem.lower, upper=problem.upper
    )
    problem.reset()  # forgets the cached point and the held σ
    problem.update_inner(x)  # simulates the point once and holds σ there
    problem.calls = 0
    sparse = problem.jacobian(x)
    assert problem.calls == 2  # one run per column, the point itself from the cache
    assert_allclose(sparse, plain, rtol=1e-6, atol=1e-8)
    # with σ held, k_0 moves only run 0's residuals and k_1 only run 1's
    assert np.all(sparse[5:, 0] == 0.0) and np.all(sparse[:5, 1] == 0.0)
    assert np.all(sparse[:5, 0] != 0.0) and np.all(sparse[5:, 1] != 0.0)


def test_the_sensitivity_hook_replaces_resimulation_and_gives_the_same_jacobian():
    problem = DecayProblem(_data())
    x = np.log10([0.25, 1.5])
    problem.update_inner(x)
    expected = problem.jacobian(x)

    def sensitivities(xs, j, runs):  # d exp(−k t)/d log10 k = −t·ln10·k·exp(−k t)
        k = 10.0 ** xs[j]
        return [(-TIMES * np.log(10.0) * k * np.exp(-k * TIMES))[:, None] for _ in runs]

    problem.sensitivities = sensitivities
    problem.reset()
    problem.update_inner(x)
    problem.calls = 0
    hooked = problem.jacobian(x)
    assert problem.calls == 0  # the point is cached and no column is re-simulated
    assert_allclose(hooked, expected, rtol=1e-5, atol=1e-8)
    # a wrong sensitivity gives a wrong Jacobian (the hook is really used)
    problem.sensitivities = lambda xs, j, runs: [2 * s for s in sensitivities(xs, j, runs)]
    assert not np.allclose(problem.jacobian(x), expected, rtol=1e-3)
