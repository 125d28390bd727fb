"""Private helpers of :func:`paracrine.fitting.engine.fit_multistart`: input checks and
assembling the :class:`~paracrine.fitting.result.FitResult` (with covariance)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import FitError
from paracrine.fitting.objective import Problem, fd_jacobian
from paracrine.fitting.result import FitResult, StartResult, sort_starts

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from paracrine.fitting.local import FitOptions

logger = logging.getLogger(__name__)


def validate_problem(problem: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(problem, Problem):
        raise FitError(
            f"problem of type {type(problem).__name__} is not a paracrine.fitting.objective."
            "Problem: subclass it (or HierarchicalProblem) and implement residuals, "
            "update_inner and nllh"
        )
    lower = np.asarray(problem.lower, dtype=float)
    upper = np.asarray(problem.upper, dtype=float)
    d = len(problem.parameter_names)
    if lower.shape != (d,) or upper.shape != (d,):
        raise FitError(
            f"problem bounds: expected shape ({d},) like parameter_names, "
            f"received lower {lower.shape} and upper {upper.shape}"
        )
    bad = [
        problem.parameter_names[i]
        for i in range(d)
        if not (np.isfinite(lower[i]) and np.isfinite(upper[i]) and lower[i] < upper[i])
    ]
    if bad:
        raise FitError(
            f"problem bounds: expected finite lower < upper, received for {bad}: "
            f"lower {lower.tolist()}, upper {upper.tolist()}"
        )
    return lower, upper


def problem_metadata(problem: Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``problem.metadata`` plus *extra*, checked to be JSON-serialisable."""
    metadata = problem.metadata
    for name, value in (("problem.metadata", metadata), ("metadata", extra or {})):
        if not isinstance(value, Mapping):
            raise FitError(f"{name}: expected a mapping, received {type(value).__name__}")
    try:
        return json.loads(json.dumps({**metadata, **(extra or {})}, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise FitError(f"problem.metadata must be JSON-serialisable: {exc}") from exc


def assemble(
    problem: Problem,
    names: tuple[str, ...],
    lower: np.ndarray,
    upper: np.ndarray,
    starts: list[StartResult],
    opts: FitOptions,
    n_starts: int,
    seed: int,
    interrupted: bool,
    wall: float,
    metadata: dict[str, Any],
) -> FitResult:
    starts = sort_starts(starts)
    ok = [s for s in starts if not s.failed]
    x = ok[0].x.copy() if ok else np.full(len(names), np.nan)
    values = {n: float(v) for n, v in zip(names, x, strict=True)}
    if ok:
        try:
            values = {k: float(v) for k, v in problem.to_natural(x).items()}
        except Exception as exc:  # a reporting nicety must not lose the fit
            logger.warning("to_natural failed, reporting the optimisation scale: %s", exc)
    covar = None
    if ok and opts.compute_covariance:
        covar = covariance(problem, x, opts, lower, upper)
    return FitResult(
        parameter_names=names,
        lower=lower.copy(),
        upper=upper.copy(),
        x=x,
        values=values,
        covar=covar,
        starts=starts,
        n_data=int(problem.n_data),
        n_inner_parameters=int(problem.n_inner_parameters),
        n_starts=n_starts,
        seed=seed,
        options=opts.to_dict(),
        wall_time_s=wall,
        interrupted=interrupted,
        metadata=metadata,
    )


def covariance(
    problem: Problem, x: np.ndarray, opts: FitOptions, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray | None:
    """(JᵀJ)⁻¹ of the weighted residuals at x (inner parameters re-solved), or None."""
    try:
        problem.update_inner(x)
        f0 = np.asarray(problem.residuals(x), dtype=float)
        if problem.capabilities.jacobian and opts.use_problem_jacobian:
            jac = np.asarray(problem.jacobian(x), dtype=float)
        else:
            jac = fd_jacobian(problem.residuals, x, f0, step=opts.fd_step, lower=lower, upper=upper)
        hess = jac.T @ jac
        if not np.all(np.isfinite(hess)) or np.linalg.matrix_rank(hess) < hess.shape[0]:
            return None
        return np.linalg.inv(hess)
    except Exception as exc:  # standard errors are optional: report, never crash the fit
        logger.warning("no covariance at the best point: %s: %s", type(exc).__name__, exc)
        return None
