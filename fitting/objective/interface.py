"""The problem interface the multistart engine, checkpoints and profiles rely on.

A problem declares what it can do in :attr:`Problem.capabilities` and inherits a default for
every optional member, so no caller probes it with ``getattr``/``hasattr``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Capabilities", "Problem"]


@dataclass(frozen=True)
class Capabilities:
    """What a :class:`Problem` offers beyond residuals and the nllh.

    Attributes
    ----------
    alternating_inner
        ``update_inner`` moves the least-squares optimum (several noise levels under shared
        scales, or noise parameters solved apart), so one start alternates inner updates and
        least-squares rounds. False when the inner parameters only rescale every residual
        alike (one noise level) or do not exist: one least-squares run is a whole start.
    jacobian
        :meth:`Problem.jacobian` is implemented (else the engine takes dense forward
        differences of :meth:`Problem.residuals`).
    refine_start
        :meth:`Problem.refine_start` moves start points (else it returns them unchanged).
    """

    alternating_inner: bool = True
    jacobian: bool = False
    refine_start: bool = False


class Problem(abc.ABC):
    """A fitting problem: free parameters on an optimisation scale, weighted residuals and a
    negative log-likelihood with the inner parameters at their optimum.

    Subclasses set :attr:`parameter_names`, :attr:`lower`, :attr:`upper`, :attr:`n_data`,
    :attr:`n_inner_parameters` and :attr:`capabilities`, and implement :meth:`residuals`,
    :meth:`update_inner` and :meth:`nllh`.

    Contract: ``residuals`` and ``nllh`` depend only on ``x`` and on the inner state set by
    the last ``update_inner`` call; :meth:`reset` returns the problem to its freshly built
    state (the engine calls it before every start, so a start gives the same result in any
    process, whatever ran before). Problems must be picklable (drop RoadRunner instances in
    ``__getstate__``); they are not assumed thread- or fork-safe.
    """

    parameter_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    n_data: int
    n_inner_parameters: int
    #: Class default; a problem whose capabilities depend on its settings sets its own.
    capabilities: Capabilities = Capabilities()

    @abc.abstractmethod
    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Weighted residuals at *x* given the current inner state; raises SimulationError."""

    @abc.abstractmethod
    def update_inner(self, x: np.ndarray) -> None:
        """Re-solve the inner parameters held during a least-squares round at *x*."""

    @abc.abstractmethod
    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        """Negative log-likelihood at *x* with the inner parameters at their optimum."""

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """d residuals / d x (only when ``capabilities.jacobian``)."""
        raise NotImplementedError(f"{type(self).__name__} declares no Jacobian of its own")

    def refine_start(self, x: np.ndarray) -> np.ndarray:
        """A start point moved to where it needs no new simulation (default: unchanged)."""
        return np.asarray(x, dtype=float)

    def start_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Where Latin-hypercube start points are drawn (default: the bounds)."""
        return np.asarray(self.lower, dtype=float), np.asarray(self.upper, dtype=float)

    def starts_from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Start points from Latin-hypercube points *unit* of the unit cube, shape ``(n, d)``:
        the engine's sampler hook (default: scaled to :meth:`start_box`; a PEtab problem maps
        them through its initialization priors)."""
        lo, hi = self.start_box()
        return np.asarray(unit, dtype=float) * (hi - lo) + lo

    def reset(self) -> None:  # noqa: B027 - a default no-op is the point
        """Forget per-evaluation state (caches, held inner values); default: nothing held."""

    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        """Values for reports, by parameter name (default: the optimisation scale)."""
        return {n: float(v) for n, v in zip(self.parameter_names, np.asarray(x), strict=True)}

    def fingerprint(self) -> str | None:
        """Identifies data and settings in checkpoints (default: none beyond the structure)."""
        return None

    @property
    def metadata(self) -> Mapping[str, Any]:
        """JSON-serialisable facts copied into ``FitResult.metadata`` (default: none)."""
        return {}
