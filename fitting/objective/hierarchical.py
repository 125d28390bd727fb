"""The shared objective pipeline: parameters → simulation runs → measurement rows → observation
model → inner parameters in closed form → weighted residuals, nllh and a sparse Jacobian.

:class:`HierarchicalProblem` implements the :class:`~paracrine.fitting.objective.Problem`
interface once for every problem made of simulation runs; a subclass (the blot problem, an
imported PEtab problem, a future migration read-out) says how to simulate runs and how to
turn their outputs into model values and noise levels per measurement row.
"""

from __future__ import annotations

import abc
import math
from typing import Any

import numpy as np

from paracrine.fitting.objective.inner import InnerSolution, InnerSolver
from paracrine.fitting.objective.interface import Problem
from paracrine.fitting.objective.jacobian import Sensitivities, sparse_jacobian
from paracrine.fitting.objective.layout import MeasurementLayout
from paracrine.fitting.objective.noise import jacobian_term, nllh_terms, weighted_residuals

__all__ = ["HierarchicalProblem"]


class HierarchicalProblem(Problem):
    """Base of problems built from simulation runs with closed-form inner parameters.

    Subclasses call :meth:`_init_objective` at the end of ``__init__`` and implement
    :meth:`_simulate` and :meth:`_observe`; they may add residuals and nllh terms (priors,
    noise-parameter terms) with :meth:`_extra_residuals` and :meth:`_extra_nllh`.

    State: the last simulated point (a cache keyed by the exact bytes of x) and the noise
    levels held during a least-squares round (set by :meth:`update_inner`). Both are pure
    functions of x, and :meth:`reset` forgets them.
    """

    layout: MeasurementLayout
    inner: InnerSolver
    #: Optional sensitivity hook of the Jacobian (see :func:`sparse_jacobian`).
    sensitivities: Sensitivities | None = None

    def _init_objective(
        self,
        layout: MeasurementLayout,
        inner: InnerSolver,
        *,
        fd_steps: np.ndarray,
    ) -> None:
        self.layout = layout
        self.inner = inner
        self.fd_steps = np.asarray(fd_steps, dtype=float)
        self._laplace = inner.layout.laplace if inner.layout.laplace.any() else None
        self._jacobian_term = jacobian_term(inner.y, inner.layout.codes)
        self.reset()

    # -- what a subclass provides ---------------------------------------------------------------
    @abc.abstractmethod
    def _simulate(self, x: np.ndarray, runs: np.ndarray | None, precise: bool) -> list[np.ndarray]:
        """Outputs of *runs* (``None``: all) at *x*; raises SimulationError."""

    @abc.abstractmethod
    def _observe(
        self, stacked: np.ndarray, x: np.ndarray, changed: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Model values (unit inner scales, zero offsets) and σ of every measurement row.

        *changed* names the parameter that moved since the last call with the same
        simulations (a hint: only what it enters need be re-evaluated).
        """

    def _extra_residuals(
        self, x: np.ndarray, solution: InnerSolution, h: np.ndarray
    ) -> np.ndarray | None:
        """Residuals appended to the data residuals (priors, noise terms; *h*: the model values
        of :meth:`_observe` at *x*, for priors on model outputs); default none."""
        return None

    def _extra_nllh(self, x: np.ndarray, solution: InnerSolution, h: np.ndarray) -> float:
        """Terms added to the nllh (priors; *h* as in :meth:`_extra_residuals`); default none."""
        return 0.0

    # -- state ------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.clear_cache()
        self._held_sigmas: np.ndarray | None = None

    def clear_cache(self) -> None:
        """Forget the cached simulations (the next evaluation simulates); the noise levels
        held for the current round stay (see :meth:`reset`)."""
        self._cache_key: tuple[bytes, bool] | None = None
        self._cache_stacked: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_cache_key=None, _cache_stacked=None, _held_sigmas=None)
        return state

    def stacked(self, x: np.ndarray, *, precise: bool = False) -> np.ndarray:
        """Stacked simulations of every run at *x* (cached for the last point)."""
        x = np.asarray(x, dtype=float)
        key = (x.tobytes(), precise)
        if key != self._cache_key or self._cache_stacked is None:
            stacked = self.layout.stack(self._simulate(x, None, precise))
            self._cache_stacked, self._cache_key = stacked, key
        return self._cache_stacked

    def inner_solution(self, x: np.ndarray, *, precise: bool = False) -> InnerSolution:
        """Inner parameters at their optimum at *x*."""
        h, sigma = self._observe(self.stacked(x, precise=precise), np.asarray(x, dtype=float))
        return self.inner.solve(h, sigma)

    def _fd_steps(self, x: np.ndarray) -> np.ndarray:
        """Forward-difference step of every parameter at *x* (default: :attr:`fd_steps`)."""
        return self.fd_steps

    # -- Problem interface ------------------------------------------------------------------------
    def _residuals_from(
        self, stacked: np.ndarray, x: np.ndarray, changed: int | None = None
    ) -> np.ndarray:
        h, sigma = self._observe(stacked, x, changed)
        solution = self.inner.solve(h, sigma, sigmas=self._held_sigmas)
        r = weighted_residuals(solution.d, solution.sigma_rows, self._laplace)
        extra = self._extra_residuals(x, solution, h)
        return r if extra is None or extra.size == 0 else np.concatenate([r, extra])

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Weighted residuals at *x* with the held noise levels (scales, offsets solved)."""
        x = np.asarray(x, dtype=float)
        return self._residuals_from(self.stacked(x), x)

    def update_inner(self, x: np.ndarray) -> None:
        """Hold the noise levels at their optimum at *x* for the next least-squares round."""
        if self.inner.layout.n_sigmas:
            self._held_sigmas = self.inner_solution(x).sigmas

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        """Negative log-likelihood with every inner parameter at its optimum."""
        x = np.asarray(x, dtype=float)
        h, sigma = self._observe(self.stacked(x, precise=precise), x)
        solution = self.inner.solve(h, sigma)
        value = nllh_terms(solution.d, solution.sigma_rows, self._laplace)
        value += self._jacobian_term + self._extra_nllh(x, solution, h)
        return value if math.isfinite(value) else math.inf

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Sparse finite-difference Jacobian (see :func:`sparse_jacobian`)."""
        x = np.asarray(x, dtype=float)
        stacked0 = self.stacked(x)
        r0 = self._residuals_from(stacked0, x)

        def simulate(xj: np.ndarray, runs: np.ndarray) -> list[np.ndarray]:
            # non-finite outputs make a non-finite column, which sparse_jacobian reports
            return self._simulate(xj, runs, False)

        return sparse_jacobian(
            x,
            r0,
            stacked0,
            layout=self.layout,
            simulate=simulate,
            residuals=self._residuals_from,
            steps=self._fd_steps(x),
            lower=np.asarray(self.lower),
            upper=np.asarray(self.upper),
            names=self.parameter_names,
            sensitivities=self.sensitivities,
        )
