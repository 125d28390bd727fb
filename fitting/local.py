"""One local optimisation of a fitting problem (one start of a multistart fit).

One start (:func:`optimize_start`) alternates (settings measured on the blot problem during
development):

1. ``problem.update_inner(x)`` re-solves the inner parameters that cannot sit inside a plain
   least-squares residual (noise levels σ_k = RMS residual per observable);
2. trust-region-reflective least squares on ``problem.residuals`` with loose tolerances
   (ftol = xtol = 1e-3: tighter ones make trf crawl along flat valleys for no extra hits);
3. repeat until the nllh changes by less than ``nllh_tol`` (at most ``max_rounds`` rounds),
   then re-evaluate the nllh at tight integrator tolerance.

A start begins with ``problem.reset()``: its result depends on its start point only, never on
what ran before it in the same process.

Why scipy and not lmfit in the hot loop: measured on this machine (lmfit 1.3.4, scipy 1.17),
lmfit's ``Minimizer.least_squares`` adds ~10–30 µs per residual call (negligible next to a
1–5 ms simulation) but ~0.6 ms (2 parameters) to ~12 ms (40 parameters) of fixed cost per
call – it copies the Parameters, propagates uncertainties through an eigendecomposition and
evaluates the residuals once more – and the alternating scheme makes up to 20 such calls per
start, against a whole-start budget of ~0.1 s (the design target for small problems). So the loop calls
:func:`scipy.optimize.least_squares` on plain arrays, and lmfit ``Parameters`` are offered to
the user in :attr:`paracrine.fitting.result.FitResult.params`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.fitting.objective import Problem, fd_jacobian
from paracrine.fitting.result import StartResult

__all__ = ["FitOptions", "optimize_start"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitOptions:
    """Settings of one local optimisation (defaults measured on the blot problem during development).

    Attributes
    ----------
    ftol, xtol, gtol
        Tolerances of :func:`scipy.optimize.least_squares` ('trf') in each outer round.
    max_nfev
        Residual evaluations allowed per least-squares call (``None``: scipy's 100·n).
    max_rounds
        Outer rounds (inner update + least squares) before giving up on the nllh settling.
    nllh_tol
        The nllh has settled when it changes by less than this between rounds.
    fd_step
        Forward-difference step in optimisation-scale (log10) units; 1e-3 suits CVODE
        rtol 1e-6, 1e-4 suits rtol 1e-8.
    use_problem_jacobian
        Use ``problem.jacobian`` if the problem declares one (else dense finite differences).
    compute_covariance
        Evaluate the Jacobian at the best point after the fit for standard errors.
    """

    ftol: float = 1e-3
    xtol: float = 1e-3
    gtol: float = 1e-8
    max_nfev: int | None = None
    max_rounds: int = 20
    nllh_tol: float = 1e-3
    fd_step: float = 1e-3
    use_problem_jacobian: bool = True
    compute_covariance: bool = True

    @classmethod
    def from_value(cls, options: FitOptions | Mapping[str, Any] | None) -> FitOptions:
        """Accept a FitOptions, a mapping of its fields, or None (defaults).

        Raises
        ------
        UnknownNameError
            For a key that is not an option.
        InvalidInputError
            For an option of the wrong type.
        """
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        if not isinstance(options, Mapping):
            raise InvalidInputError(
                f"options: expected FitOptions, a mapping or None, "
                f"received {type(options).__name__}"
            )
        names = [f.name for f in dataclasses.fields(cls)]
        for key in options:
            if key not in names:
                raise UnknownNameError("fit option", key, names)
        return cls(**options)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-serialisable)."""
        return dataclasses.asdict(self)


def _fail(
    index: int,
    x0: np.ndarray,
    x: np.ndarray,
    exc: BaseException,
    counts: list[int],
    rounds: int,
    t0: float,
    c0: float,
) -> StartResult:
    return StartResult(
        index=index,
        x0=x0,
        x=np.asarray(x, dtype=float).copy(),
        nllh=math.inf,
        chisqr=math.inf,
        n_fev=counts[0],
        n_jev=counts[1],
        n_rounds=rounds,
        status="failed",
        message=f"{type(exc).__name__}: {exc}",
        time_s=time.perf_counter() - t0,
        cpu_time_s=time.process_time() - c0,
    )


def optimize_start(
    problem: Problem,
    x0: np.ndarray,
    *,
    options: FitOptions | Mapping[str, Any] | None = None,
    index: int = 0,
) -> StartResult:
    """Run one hierarchical local optimisation from *x0*.

    Parameters
    ----------
    problem
        A :class:`Problem`.
    x0
        Start point on the optimisation scale (clipped into the bounds).
    options
        :class:`FitOptions` or a mapping of its fields.
    index
        Identity of the start, copied into the result.

    Returns
    -------
    StartResult
        Never raises for problems inside the objective: any exception (SimulationError,
        FloatingPointError, non-finite residuals, …) gives ``status='failed'`` with the
        message. ``KeyboardInterrupt`` and ``SystemExit`` propagate.

    Raises
    ------
    InvalidInputError
        If *x0* does not have one value per parameter.
    UnknownNameError
        For an unknown option name.

    Examples
    --------
    >>> from paracrine.testing import ChainProblem
    >>> problem = ChainProblem.simulate_data(seed=1)
    >>> start = optimize_start(problem, np.array([-2.0, -2.0]))
    >>> start.status
    'converged'
    """
    from threadpoolctl import threadpool_limits

    # One BLAS thread per local optimisation: the trust-region solver takes SVDs of small
    # Jacobians (e.g. 410 × 39 for Raia_CancerResearch2011, 936 × 25 for the blot problem),
    # which took 0.47 ms (median) on one OpenBLAS thread but 19.6 ms (max 0.9 s) with two
    # threads competing with the other worker process on a 2-core machine (measured). The
    # limit is scoped to this call and restored afterwards.
    with threadpool_limits(limits=1, user_api="blas"):
        return _optimize_start(problem, x0, options=options, index=index)


def _optimize_start(
    problem: Problem,
    x0: np.ndarray,
    *,
    options: FitOptions | Mapping[str, Any] | None,
    index: int,
) -> StartResult:
    opts = FitOptions.from_value(options)
    lower = np.asarray(problem.lower, dtype=float)
    upper = np.asarray(problem.upper, dtype=float)
    x0 = np.array(x0, dtype=float)
    if x0.shape != lower.shape:
        raise InvalidInputError(
            f"x0: expected shape {lower.shape} like the problem's bounds, received {x0.shape}"
        )
    x = np.clip(x0, lower, upper)
    counts = [0, 0]  # residual calls, Jacobian evaluations
    cache: dict[str, np.ndarray] = {}
    capabilities = problem.capabilities
    own_jacobian = capabilities.jacobian and opts.use_problem_jacobian
    alternating = capabilities.alternating_inner
    # a start depends on its start point only: no cache or held inner value of an earlier
    # start (or of the warm-up) may reach it
    problem.reset()

    def fun(xt: np.ndarray) -> np.ndarray:
        counts[0] += 1
        f = np.asarray(problem.residuals(xt), dtype=float)
        cache["x"], cache["f"] = xt.copy(), f
        return f

    def jac(xt: np.ndarray) -> np.ndarray:
        counts[1] += 1
        if own_jacobian:
            return np.asarray(problem.jacobian(xt), dtype=float)
        # scipy evaluates the residuals at the accepted point just before asking for J
        f0 = cache["f"] if np.array_equal(cache.get("x"), xt) else fun(xt)
        return fd_jacobian(fun, xt, f0, step=opts.fd_step, lower=lower, upper=upper)

    from scipy.optimize import least_squares

    t0, c0 = time.perf_counter(), time.process_time()
    rounds = 0
    status, message = "max_evaluations", ""
    try:
        previous = math.inf
        if capabilities.refine_start:
            x = np.clip(np.asarray(problem.refine_start(x), dtype=float), lower, upper)
        while rounds < opts.max_rounds:
            rounds += 1
            problem.update_inner(x)
            if rounds == 1 and not np.all(np.isfinite(fun(x))):
                # non-finite values at trial points are handled by trf (it shrinks the step);
                # at the start point there is nothing to fall back on
                raise FloatingPointError(f"residuals are not finite at the start x = {x.tolist()}")
            res = least_squares(
                fun,
                x,
                jac=jac,
                bounds=(lower, upper),
                method="trf",
                ftol=opts.ftol,
                xtol=opts.xtol,
                gtol=opts.gtol,
                max_nfev=opts.max_nfev,
            )
            x = res.x
            value = float(problem.nllh(x))
            if not math.isfinite(value):
                raise FloatingPointError(f"nllh is {value} at x = {x.tolist()}")
            if res.status == 0:
                message = f"least squares hit max_nfev in round {rounds}"
                break
            if abs(previous - value) < opts.nllh_tol:
                status = "converged"
                message = f"nllh settled after {rounds} rounds ({res.message})"
                break
            if not alternating:
                # inner parameters do not move the least-squares optimum: one run is the fit
                status = "converged"
                message = f"least squares converged ({res.message})"
                break
            previous = value
        else:
            message = f"nllh still changing after {opts.max_rounds} rounds"
        problem.update_inner(x)
        chisqr = float(np.sum(np.asarray(problem.residuals(x), dtype=float) ** 2))
        counts[0] += 1
        final = float(problem.nllh(x, precise=True))
        if not math.isfinite(final):
            raise FloatingPointError(f"precise nllh is {final} at x = {x.tolist()}")
    except Exception as exc:  # any failure inside the objective is a counted, reported event
        logger.debug("start %d failed: %s", index, exc)
        return _fail(index, x0, x, exc, counts, rounds, t0, c0)
    return StartResult(
        index=index,
        x0=x0,
        x=np.asarray(x, dtype=float).copy(),
        nllh=final,
        chisqr=chisqr,
        n_fev=counts[0],
        n_jev=counts[1],
        n_rounds=rounds,
        status=status,
        message=message,
        time_s=time.perf_counter() - t0,
        cpu_time_s=time.process_time() - c0,
    )
