"""Multistart fitting: many seeded local optimisations of one problem, in this process, in
spawned local processes or on a Dask cluster, with progress, checkpoints and Ctrl-C that keeps
what finished.

Any :class:`~paracrine.fitting.objective.Problem` can be fit: paracrine's blot problem
(:mod:`paracrine.fitting.problem`) and imported PEtab problems (:mod:`paracrine.fitting.petab`)
both plug in here. Each start is one :func:`~paracrine.fitting.local.optimize_start`, which
begins with ``problem.reset()``: a start's result depends only on its start point, whatever
ran before it in the process and however many workers share the starts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import InvalidInputError
from paracrine.fitting import _checkpoint, _executors, _inputs
from paracrine.fitting.local import FitOptions
from paracrine.fitting.objective import Problem
from paracrine.fitting.result import FitResult, StartResult
from paracrine.fitting.starts import start_points

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import distributed

__all__ = ["fit_multistart"]


def fit_multistart(
    problem: Problem,
    *,
    n_starts: int = 50,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | distributed.Client | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    options: FitOptions | Mapping[str, Any] | None = None,
    x0: np.ndarray | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> FitResult:
    """Fit *problem* from many seeded start points and collect every start.

    Parameters
    ----------
    problem
        A :class:`Problem` (picklable when run outside this process).
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
    metadata
        JSON-serialisable facts added to ``problem.metadata`` in ``FitResult.metadata`` (e.g.
        where explicit start points came from).

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
    >>> from paracrine.testing import ChainProblem
    >>> result = fit_multistart(ChainProblem.simulate_data(seed=1), n_starts=4, workers=1,
    ...                         progress=False)
    >>> result.n_hits() >= 1
    True
    """
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

    metadata = _inputs.problem_metadata(problem, metadata)
    points = start_points(
        lower, upper, int(n_starts), int(seed), x0, names, from_unit=problem.starts_from_unit
    )
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
