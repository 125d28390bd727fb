"""Run starts in this process, in spawned local processes, or on a Dask cluster.

The problem is shipped once per worker: through the pool initializer for local processes,
through ``client.scatter(..., broadcast=True)`` for Dask. Each task then only carries
``(index, x0, options)``. Results are keyed by start index, so completion order never matters.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import pickle
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import Any

import numpy as np

from paracrine.errors import FitError, InvalidInputError
from paracrine.fitting.local import optimize_start
from paracrine.fitting.result import StartResult
from paracrine.simulations.batch import (
    ignore_interrupts_in_worker,
    quiet_cancelled_results,
    shutdown_pool,
)

logger = logging.getLogger(__name__)

_WORKER_PROBLEM: Any = None  # set in each spawned process by _init_worker
_LOCAL = threading.local()  # per-thread private copy of a Dask-scattered problem


def _warm_up(problem: Any) -> None:
    """Compile the model before the first start, so that start timings measure optimisation.

    Any failure is ignored here: the starts themselves report it.
    """
    try:
        problem.update_inner((np.asarray(problem.lower) + np.asarray(problem.upper)) / 2.0)
    except Exception as exc:  # reported by the starts, not here
        logger.debug("warm-up failed: %s: %s", type(exc).__name__, exc)


def _init_worker(problem: Any) -> None:
    global _WORKER_PROBLEM
    ignore_interrupts_in_worker()  # Ctrl-C is the parent's: it keeps the finished starts
    _WORKER_PROBLEM = problem
    _warm_up(problem)


def _run_in_worker(index: int, x0: np.ndarray, options: Any) -> StartResult:
    return optimize_start(_WORKER_PROBLEM, x0, options=options, index=index)


def _run_with_problem(
    problem: Any, token: str, index: int, x0: np.ndarray, options: Any
) -> StartResult:
    """Dask task: a Dask worker may run tasks in several threads, while a problem holds one
    RoadRunner instance that is not thread-safe, so each thread works on its own copy."""
    if getattr(_LOCAL, "token", None) != token:
        _LOCAL.token, _LOCAL.problem = token, pickle.loads(pickle.dumps(problem))
        _warm_up(_LOCAL.problem)
    return optimize_start(_LOCAL.problem, x0, options=options, index=index)


def _check_picklable(problem: Any, where: str) -> None:
    """Fail early and clearly: a pool or cluster would report this from deep inside."""
    try:
        pickle.dumps(problem)
    except Exception as exc:
        raise FitError(
            f"the problem must be picklable to run in {where}, but pickling "
            f"{type(problem).__name__} failed ({type(exc).__name__}: {exc}); run with "
            "workers=1, or define the problem class in an importable module (not a notebook)"
        ) from exc


class _Progress:
    """tqdm bar showing the best nllh so far (a no-op object when disabled)."""

    def __init__(self, total: int, initial: int, best: float, enabled: bool) -> None:
        from tqdm.auto import tqdm

        self.best = best
        self.bar = tqdm(
            total=total,
            initial=initial,
            disable=not enabled,
            desc="multistart",
            unit="start",
            dynamic_ncols=True,
        )
        self._show()

    def _show(self) -> None:
        if math.isfinite(self.best):
            self.bar.set_postfix_str(f"best nllh {self.best:.6g}", refresh=False)

    def update(self, result: StartResult) -> None:
        if not result.failed and result.nllh < self.best:
            self.best = result.nllh
            self._show()
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _record(
    result: StartResult,
    done: dict[int, StartResult],
    bar: _Progress,
    on_result: Callable[[StartResult], None] | None,
) -> None:
    done[result.index] = result
    if on_result is not None:
        on_result(result)
    bar.update(result)


def run_starts(
    problem: Any,
    todo: list[tuple[int, np.ndarray]],
    options: Any,
    done: dict[int, StartResult],
    *,
    workers: int | None,
    scheduler: Any,
    progress: bool,
    on_result: Callable[[StartResult], None] | None,
) -> bool:
    """Run every ``(index, x0)`` of *todo*, adding results to *done*; return True if interrupted."""
    best = min((s.nllh for s in done.values() if not s.failed), default=math.inf)
    bar = _Progress(len(done) + len(todo), len(done), best, progress)
    try:
        if not todo:
            return False
        if scheduler is not None:
            return _run_dask(problem, todo, options, done, scheduler, bar, on_result)
        if workers == 1:
            return _run_inprocess(problem, todo, options, done, bar, on_result)
        return _run_processes(problem, todo, options, done, int(workers), bar, on_result)
    finally:
        bar.close()


def _run_inprocess(
    problem: Any, todo: list, options: Any, done: dict, bar: _Progress, on_result: Callable | None
) -> bool:
    try:
        _warm_up(problem)
        for index, x0 in todo:
            _record(optimize_start(problem, x0, options=options, index=index), done, bar, on_result)
    except KeyboardInterrupt:
        logger.warning("interrupted: returning the %d finished starts", len(done))
        return True
    return False


def _lost_start(index: int, x0: np.ndarray, exc: BaseException) -> StartResult:
    """A start whose worker died or whose task could not run (the fit goes on)."""
    x0 = np.asarray(x0, dtype=float)
    return StartResult(
        index=index,
        x0=x0,
        x=x0.copy(),
        nllh=math.inf,
        chisqr=math.inf,
        n_fev=0,
        n_jev=0,
        n_rounds=0,
        status="failed",
        message=f"worker failed: {type(exc).__name__}: {exc}",
        time_s=0.0,
        cpu_time_s=0.0,
    )


def _collect(fut: Future, index: int, x0: np.ndarray) -> StartResult:
    try:
        return fut.result()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # e.g. BrokenProcessPool, KilledWorker: a counted failed start
        logger.warning("start %d lost: %s: %s", index, type(exc).__name__, exc)
        return _lost_start(index, x0, exc)


def _drain(
    futures: dict[Future, tuple[int, np.ndarray]],
    done: dict,
    bar: _Progress,
    on_result: Callable | None,
) -> bool:
    """Collect futures as they finish; on Ctrl-C cancel the rest and keep what finished."""
    pending = set(futures)
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: futures[f][0]):
                _record(_collect(fut, *futures[fut]), done, bar, on_result)
    except KeyboardInterrupt:
        for fut in pending:
            fut.cancel()
        for fut, (index, _) in futures.items():  # keep starts finished during the interrupt
            if index not in done and fut.done() and not fut.cancelled():
                try:
                    _record(fut.result(timeout=0), done, bar, on_result)
                except BaseException:  # a worker killed by the same Ctrl-C: not a result
                    logger.debug("start %d lost in the interrupt", index)
        logger.warning("interrupted: returning the %d finished starts", len(done))
        return True
    return False


def _run_processes(
    problem: Any,
    todo: list,
    options: Any,
    done: dict,
    workers: int,
    bar: _Progress,
    on_result: Callable | None,
) -> bool:
    _check_picklable(problem, "worker processes")
    context = multiprocessing.get_context("spawn")  # problems are not fork-safe once compiled
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(todo)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(problem,),
    )
    interrupted = True
    try:
        futures = {pool.submit(_run_in_worker, i, x0, options): (i, x0) for i, x0 in todo}
        interrupted = _drain(futures, done, bar, on_result)
    finally:
        if interrupted:
            quiet_cancelled_results()  # Python 3.11: no manager-thread traceback on Ctrl-C
        shutdown_pool(pool, interrupted=interrupted)  # running starts would not be kept anyway
    return interrupted


def _run_dask(
    problem: Any,
    todo: list,
    options: Any,
    done: dict,
    scheduler: Any,
    bar: _Progress,
    on_result: Callable | None,
) -> bool:
    import distributed

    if isinstance(scheduler, str):
        client = distributed.Client(scheduler, set_as_default=False)
        own_client = True
    elif isinstance(scheduler, distributed.Client):
        client, own_client = scheduler, False
    else:
        raise InvalidInputError(
            "scheduler: expected a Dask scheduler address (str) or a distributed.Client, "
            f"received {type(scheduler).__name__}"
        )
    try:
        _check_picklable(problem, "a Dask cluster")
        remote = client.scatter(problem, broadcast=True, hash=False)
        token = uuid.uuid4().hex
        executor: Executor = client.get_executor(pure=False)
        futures = {
            executor.submit(_run_with_problem, remote, token, i, x0, options): (i, x0)
            for i, x0 in todo
        }
        interrupted = _drain(futures, done, bar, on_result)
        if interrupted:  # cancelling the concurrent.futures wrappers cancels the Dask tasks
            executor.shutdown(wait=False)
        return interrupted
    finally:
        if own_client:
            client.close()
