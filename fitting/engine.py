"""Generic multistart fitting engine: hierarchical local optimisation from many start points.

Any object following :class:`ResidualProblem` can be fit: paracrine's blot problem
(:mod:`paracrine.fitting.problem`) and imported PEtab problems both plug in here.

One start (:func:`optimize_start`) alternates, as measured in DESIGN.md ("Fitting"):

1. ``problem.update_inner(x)`` re-solves the inner parameters that cannot sit inside a plain
   least-squares residual (noise levels σ_k = RMS residual per observable);
2. trust-region-reflective least squares on ``problem.residuals`` with loose tolerances
   (ftol = xtol = 1e-3: tighter ones make trf crawl along flat valleys for no extra hits);
3. repeat until the nllh changes by less than ``nllh_tol`` (at most ``max_rounds`` rounds),
   then re-evaluate the nllh at tight integrator tolerance.

Why scipy and not lmfit in the hot loop: measured on this machine (lmfit 1.3.4, scipy 1.17),
lmfit's ``Minimizer.least_squares`` adds ~10–30 µs per residual call (negligible next to a
1–5 ms simulation) but ~0.6 ms (2 parameters) to ~12 ms (40 parameters) of fixed cost per
call – it copies the Parameters, propagates uncertainties through an eigendecomposition and
evaluates the residuals once more – and the alternating scheme makes up to 20 such calls per
start, against a whole-start budget of ~0.1 s (DESIGN.md). So the loop calls
:func:`scipy.optimize.least_squares` on plain arrays, and lmfit ``Parameters`` are offered to
the user in :attr:`paracrine.fitting.result.FitResult.params`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.fitting.result import FitResult, StartResult

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import distributed

__all__ = [
    "FitOptions",
    "ResidualProblem",
    "fd_jacobian",
    "fit_multistart",
    "latin_hypercube_starts",
    "optimize_start",
]

logger = logging.getLogger(__name__)


@runtime_checkable
class ResidualProblem(Protocol):
    """What the engine needs from a fitting problem.

    Problems must be picklable (drop any RoadRunner instance in ``__getstate__`` and recompile
    lazily) and are not assumed fork-safe: local worker processes are started with "spawn".
    ``residuals`` and ``nllh`` may depend only on ``x`` and on the inner state set by the last
    ``update_inner`` call, so that a start gives the same result in any process.

    Optional: ``needs_alternation`` (bool, default True; False when ``update_inner`` never
    moves the least-squares optimum — e.g. a single noise level, which only rescales all
    residuals — so one least-squares run is a whole start), ``jacobian(x) -> ndarray``
    (d residuals / d x; finite differences otherwise), ``to_natural(x) -> dict[str, float]``
    (values for reports), ``fingerprint() -> str`` (identifies data and settings in
    checkpoints), ``refine_start(x) -> ndarray`` (called once per start, inside the start's
    error handling: returns *x* with parameters that need no new simulation — observable
    scalings, noise parameters — at their optimum given the others; see
    :meth:`~paracrine.fitting.petab_problem.PetabProblem.refine_start`) and a
    JSON-serialisable ``metadata`` mapping (copied into ``FitResult.metadata``).
    """

    parameter_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    n_data: int
    n_inner_parameters: int

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Weighted residuals at x given the current inner state; raises SimulationError."""
        ...

    def update_inner(self, x: np.ndarray) -> None:
        """Re-solve inner parameters (e.g. noise levels) at x; a no-op if there are none."""
        ...

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        """Negative log-likelihood at x with the inner parameters at their optimum."""
        ...


@dataclass(frozen=True)
class FitOptions:
    """Settings of one local optimisation (defaults from the measurements in DESIGN.md).

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
        Use ``problem.jacobian`` if the problem has one (else finite differences).
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


def fd_jacobian(
    fun: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    f0: np.ndarray,
    *,
    step: float = 1e-3,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """Forward-difference Jacobian of *fun* at *x*, stepping backwards at an upper bound.

    Parameters
    ----------
    fun
        Residual function of the optimisation-scale parameters.
    x
        Point, shape ``(n,)``.
    f0
        ``fun(x)``, shape ``(m,)`` (passed in because the optimiser already has it).
    step
        Step in optimisation-scale units (log10 for log parameters). Pair it with the
        integrator tolerance: 1e-3 for CVODE rtol 1e-6, 1e-4 for rtol 1e-8; steps smaller
        than the solver's noise make the optimiser lose hits.
    lower, upper
        Bounds; a step that would leave ``[lower, upper]`` above is taken downwards instead.

    Returns
    -------
    numpy.ndarray
        Shape ``(m, n)``, ``J[i, j] = d f_i / d x_j``.

    Raises
    ------
    InvalidInputError
        If *step* is not positive.
    FloatingPointError
        If *fun* returns non-finite values at a perturbed point.

    Examples
    --------
    >>> import numpy as np
    >>> J = fd_jacobian(lambda x: x**2, np.array([1.0]), np.array([1.0]),
    ...                 lower=np.array([0.0]), upper=np.array([1.0]))
    >>> round(float(J[0, 0]), 3)  # backward step at the upper bound
    1.999
    """
    if not step > 0:
        raise InvalidInputError(f"fd_jacobian: step must be > 0, received {step!r}")
    x = np.asarray(x, dtype=float)
    f0 = np.asarray(f0, dtype=float)
    jac = np.empty((f0.size, x.size))
    for j in range(x.size):
        h = step if x[j] + step <= upper[j] else -step
        xj = x.copy()
        xj[j] += h
        fj = np.asarray(fun(xj), dtype=float)
        if not np.all(np.isfinite(fj)):
            raise FloatingPointError(
                f"non-finite residuals in the finite-difference step of parameter {j} "
                f"at x = {xj.tolist()}"
            )
        jac[:, j] = (fj - f0) / h
    return jac


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
    problem: ResidualProblem,
    x0: np.ndarray,
    *,
    options: FitOptions | Mapping[str, Any] | None = None,
    index: int = 0,
) -> StartResult:
    """Run one hierarchical local optimisation from *x0*.

    Parameters
    ----------
    problem
        A :class:`ResidualProblem`.
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
    >>> from paracrine.fitting._toy import ChainProblem
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
    problem: ResidualProblem,
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
    problem_jac = getattr(problem, "jacobian", None) if opts.use_problem_jacobian else None
    alternating = bool(getattr(problem, "needs_alternation", True))

    def fun(xt: np.ndarray) -> np.ndarray:
        counts[0] += 1
        f = np.asarray(problem.residuals(xt), dtype=float)
        cache["x"], cache["f"] = xt.copy(), f
        return f

    def jac(xt: np.ndarray) -> np.ndarray:
        counts[1] += 1
        if problem_jac is not None:
            return np.asarray(problem_jac(xt), dtype=float)
        # scipy evaluates the residuals at the accepted point just before asking for J
        f0 = cache["f"] if np.array_equal(cache.get("x"), xt) else fun(xt)
        return fd_jacobian(fun, xt, f0, step=opts.fd_step, lower=lower, upper=upper)

    from scipy.optimize import least_squares

    t0, c0 = time.perf_counter(), time.process_time()
    rounds = 0
    status, message = "max_evaluations", ""
    try:
        previous = math.inf
        refine = getattr(problem, "refine_start", None)
        if refine is not None:
            x = np.clip(np.asarray(refine(x), dtype=float), lower, upper)
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


def latin_hypercube_starts(lower: np.ndarray, upper: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Seeded Latin-hypercube start points scaled to the bounds, shape ``(n, len(lower))``."""
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    # `seed=` rather than scipy ≥ 1.15's `rng=` keeps scipy 1.10–1.14 working (same stream)
    unit = qmc.LatinHypercube(d=len(lower), seed=rng).random(n)
    return qmc.scale(unit, lower, upper) if n else unit


def fit_multistart(
    problem: ResidualProblem,
    *,
    n_starts: int = 50,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | distributed.Client | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    options: FitOptions | Mapping[str, Any] | None = None,
    x0: np.ndarray | None = None,
) -> FitResult:
    """Fit *problem* from many seeded start points and collect every start.

    Parameters
    ----------
    problem
        A :class:`ResidualProblem` (picklable when run outside this process).
    n_starts
        Number of starts.
    seed
        Seed of the Latin hypercube of start points; same seed → same starts → same result,
        whatever the executor and the number of workers.
    workers
        ``1``: run in this process. ``N > 1``: N spawned local processes (the problem is sent
        once per worker). Default: ``os.cpu_count()``. Must be ``None`` with *scheduler*.
    scheduler
        A Dask scheduler address or a ``distributed.Client``: run the starts on that cluster
        (the problem is scattered to every worker once).
    progress
        Show a tqdm progress bar with the best nllh so far.
    checkpoint
        JSON-lines file: every finished start is appended as it finishes; re-running with the
        same file, seed, n_starts, options and problem skips the finished starts.
    options
        :class:`FitOptions` or a mapping of its fields.
    x0
        Explicit start points, shape ``(d,)`` or ``(m, d)``; they become starts ``0..m-1`` and
        the Latin hypercube supplies the other ``n_starts − m``.

    Returns
    -------
    FitResult
        Every finished start; on Ctrl-C the pending starts are cancelled and the result of the
        finished ones is returned with ``interrupted=True``.

    Raises
    ------
    FitError
        If the problem lacks a protocol member, has invalid bounds, *x0* lies outside the
        bounds, or *checkpoint* belongs to another problem, seed or setting.
    InvalidInputError
        For a bad *n_starts*, *workers*, *scheduler* or *x0* shape.

    Notes
    -----
    Local processes use the "spawn" start method, so a script calling this function with
    ``workers > 1`` must guard its entry point with ``if __name__ == "__main__":``.

    Examples
    --------
    >>> from paracrine.fitting._toy import ChainProblem
    >>> result = fit_multistart(ChainProblem.simulate_data(seed=1), n_starts=4, workers=1,
    ...                         progress=False)
    >>> result.n_hits() >= 1
    True
    """
    from paracrine.fitting import _checkpoint, _executors, _inputs

    wall0 = time.perf_counter()
    lower, upper = _inputs.validate_problem(problem)
    names = tuple(problem.parameter_names)
    opts = FitOptions.from_value(options)
    if isinstance(n_starts, bool) or not isinstance(n_starts, int | np.integer) or n_starts < 1:
        raise InvalidInputError(f"n_starts: expected an integer ≥ 1, received {n_starts!r}")
    if scheduler is not None and workers is not None:
        raise InvalidInputError(
            f"workers={workers!r} and scheduler given: the Dask cluster decides the number "
            "of workers, pass only one of them"
        )
    if workers is None and scheduler is None:
        workers = os.cpu_count() or 1
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1
    ):
        raise InvalidInputError(f"workers: expected an integer ≥ 1, received {workers!r}")

    metadata = _inputs.problem_metadata(problem)
    points = _inputs.start_points(lower, upper, int(n_starts), int(seed), x0, names)
    done: dict[int, StartResult] = {}
    writer = None
    if checkpoint is not None:
        header = _checkpoint.make_header(problem, int(seed), int(n_starts), opts, points)
        done = _checkpoint.load(Path(checkpoint), header)
        writer = _checkpoint.Writer(Path(checkpoint))
    todo = [(i, points[i]) for i in range(len(points)) if i not in done]

    interrupted = _executors.run_starts(
        problem,
        todo,
        opts,
        done,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        on_result=writer.append if writer is not None else None,
    )
    return _inputs.assemble(
        problem,
        names,
        lower,
        upper,
        list(done.values()),
        opts,
        int(n_starts),
        int(seed),
        interrupted,
        time.perf_counter() - wall0,
        metadata,
    )
