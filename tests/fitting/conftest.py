"""Small fitting problems for the engine and result tests.

The RoadRunner problem (A → B → C, :class:`paracrine.testing.ChainProblem`) lives in the
package so that spawned and Dask worker processes can unpickle it; the helpers below are used
in-process only.
"""

from __future__ import annotations

import numpy as np
import pytest

from paracrine.errors import SimulationError
from paracrine.fitting.objective import Capabilities, Problem
from paracrine.testing import ChainProblem

TRUE_K = (0.1, 0.03)  # 1/min, the rate constants the chain data are simulated from
TRUE_X = np.log10(TRUE_K)


@pytest.fixture
def chain() -> ChainProblem:
    """A → B → C data at TRUE_K with 15%/20% log-normal noise (seed 1), CVODE rtol 1e-6."""
    return ChainProblem.simulate_data(k1=TRUE_K[0], k2=TRUE_K[1], seed=1)


class LinearProblem(Problem):
    """y = a + b·t with known unit noise: ordinary least squares in closed form.

    ``slope_matters=False`` removes b from the model (a singular Jacobian column).
    """

    parameter_names = ("a", "b")
    n_inner_parameters = 0

    def __init__(self, *, slope_matters: bool = True, seed: int = 3) -> None:
        rng = np.random.default_rng(seed)
        self.t = np.linspace(0.0, 1.0, 12)
        self.y = 0.5 + 2.0 * self.t + rng.normal(0.0, 0.1, self.t.size)
        self.lower = np.array([-10.0, -10.0])
        self.upper = np.array([10.0, 10.0])
        self.n_data = self.t.size
        self.slope_matters = slope_matters

    def residuals(self, x: np.ndarray) -> np.ndarray:
        b = x[1] if self.slope_matters else 0.0
        return x[0] + b * self.t - self.y

    def update_inner(self, x: np.ndarray) -> None:
        return None

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        r = self.residuals(x)
        return float(0.5 * r @ r + 0.5 * r.size * np.log(2 * np.pi))

    def ols(self) -> np.ndarray:
        design = np.column_stack([np.ones_like(self.t), self.t])
        return np.linalg.lstsq(design, self.y, rcond=None)[0]


class NonFiniteProblem(LinearProblem):
    """Residuals turn NaN where a > 5 (no exception raised by the problem itself)."""

    def residuals(self, x: np.ndarray) -> np.ndarray:
        r = super().residuals(x)
        return r * np.nan if x[0] > 5.0 else r


class BadLikelihoodProblem(LinearProblem):
    """Its nllh is NaN always (``when="always"``) or only at tight tolerance (``"precise"``)."""

    def __init__(self, when: str) -> None:
        super().__init__()
        self.when = when

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        if self.when == "always" or precise:
            return float("nan")
        return super().nllh(x)


class InterruptingProblem(Problem):
    """Delegates to *inner* but raises KeyboardInterrupt when start *at_start* begins.

    A start begins with ``update_inner(x0)``; the wrapper recognises the k-th start point, so
    the interrupt arrives at a deterministic place when run in-process.
    """

    def __init__(self, inner: ChainProblem, starts: np.ndarray, at_start: int) -> None:
        self.inner = inner
        self.trigger = np.clip(starts[at_start], inner.lower, inner.upper)
        self.parameter_names = inner.parameter_names
        self.lower, self.upper = inner.lower, inner.upper
        self.n_data, self.n_inner_parameters = inner.n_data, inner.n_inner_parameters
        self.capabilities = inner.capabilities

    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        return self.inner.to_natural(x)

    def reset(self) -> None:
        self.inner.reset()

    def residuals(self, x: np.ndarray) -> np.ndarray:
        return self.inner.residuals(x)

    def update_inner(self, x: np.ndarray) -> None:
        if np.array_equal(x, self.trigger):
            raise KeyboardInterrupt
        self.inner.update_inner(x)

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        return self.inner.nllh(x, precise=precise)


class FailingJacobianProblem(LinearProblem):
    """Its analytic Jacobian raises SimulationError (covariance must degrade to None)."""

    capabilities = Capabilities(jacobian=True)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        raise SimulationError("sensitivities failed")


@pytest.fixture
def true_x() -> np.ndarray:
    """log10 of the rate constants the chain data were simulated from."""
    return TRUE_X.copy()


@pytest.fixture
def linear() -> LinearProblem:
    return LinearProblem()


@pytest.fixture
def linear_singular() -> LinearProblem:
    return LinearProblem(slope_matters=False)


@pytest.fixture
def nonfinite() -> NonFiniteProblem:
    return NonFiniteProblem()


@pytest.fixture
def failing_jacobian() -> FailingJacobianProblem:
    return FailingJacobianProblem()


@pytest.fixture
def bad_likelihood():
    """Factory: ``bad_likelihood("always" | "precise")``."""
    return BadLikelihoodProblem


@pytest.fixture
def interrupting():
    """Factory: ``interrupting(inner, starts, k)`` → a problem interrupted at start k."""
    return InterruptingProblem
