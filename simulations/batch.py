"""Many conditions on one compiled model: in this process, in spawned local processes, or on a
Dask cluster.

:func:`run_batch` simulates a list of ``(Condition, parameter vector)`` tasks with one
:class:`~paracrine.simulations.model_simulator.ModelSimulator` per process (compiled once,
reused for every task; its pre-equilibration cache makes repeated parameter vectors cheap).
Worker processes receive the pickled simulator once, through the pool initializer (local
processes) or ``client.scatter(..., broadcast=True)`` (Dask); each task message then carries
only a chunk of consecutive tasks. Results are written by task index, so the completion order
never matters and any number of workers gives the same numbers.

A simulation that fails (:class:`~paracrine.errors.SimulationError`) gives NaN rows for its task
and an entry in :attr:`BatchResult.failures`; the batch goes on.
"""

from __future__ import annotations

import math
import multiprocessing
import pickle
import signal
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations.conditions import Condition
from paracrine.simulations.engine import check_times
from paracrine.simulations.model_simulator import ModelSimulator

__all__ = [
    "CHUNKS_PER_WORKER",
    "BatchResult",
    "Task",
    "quiet_cancelled_results",
    "run_batch",
]

#: A task: a condition and the full parameter vector of its cell line (ordered as
#: :attr:`ModelSimulator.parameter_ids`), or None for the model's own values.
Task = tuple[Condition, "np.ndarray | None"]

#: Chunks per worker a parallel batch is split into: enough to balance uneven tasks and to move
#: the progress bar, few enough that the per-message overhead stays small.
CHUNKS_PER_WORKER = 4

_WORKER_SIMULATOR: ModelSimulator | None = None  # set in each spawned process by _init_worker
_LOCAL = threading.local()  # per-thread private copy of a Dask-scattered simulator
_COMPILE_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Time courses of a batch of tasks, in task order.

    Attributes
    ----------
    values
        Array ``(n_tasks, n_times, n_outputs)``: read-outs as fractions, species in nM; NaN
        rows for failed tasks.
    outputs
        Names of the simulated quantities (third axis).
    times
        Output times (min).
    conditions
        The tasks' conditions, in order.
    failures
        ``(task index, condition name, message)`` of every failed task.
    elapsed_s
        Wall time of the batch (s), worker start-up included.
    """

    values: np.ndarray
    outputs: tuple[str, ...]
    times: np.ndarray
    conditions: tuple[Condition, ...]
    failures: tuple[tuple[int, str, str], ...]
    elapsed_s: float

    @property
    def n_failed(self) -> int:
        """Number of failed tasks."""
        return len(self.failures)

    def __repr__(self) -> str:
        n, t, o = self.values.shape
        return (
            f"<BatchResult {n} tasks × {t} times × {o} outputs, {self.n_failed} failed, "
            f"{self.elapsed_s:.3g} s>"
        )


# -- what every worker runs ------------------------------------------------------------------
def _run_chunk(
    sim: ModelSimulator, start: int, tasks: Sequence[Task], times: np.ndarray
) -> tuple[int, np.ndarray, list[tuple[int, str, str]]]:
    """Simulate consecutive tasks starting at index *start*; failed ones give NaN rows."""
    out = np.full((len(tasks), times.size, len(sim.outputs)), np.nan)
    failures = []
    for k, (condition, pvec) in enumerate(tasks):
        try:
            out[k] = sim.run(condition, times, pvec)
        except SimulationError as exc:
            failures.append((start + k, condition.name, str(exc)))
    return start, out, failures


def ignore_interrupts_in_worker() -> None:
    """In a pool's worker process: leave Ctrl-C to the parent. A terminal sends SIGINT to the
    whole process group; without this every worker prints its own KeyboardInterrupt
    traceback, and the parent, which keeps what finished, stops the workers itself
    (:func:`shutdown_pool`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def shutdown_pool(pool: ProcessPoolExecutor, *, interrupted: bool) -> None:
    """Shut a pool down: waiting for its workers after a clean run; after an interruption or
    an error, cancelling the queued tasks and terminating the workers now —
    ``shutdown(wait=False)`` alone leaves each worker running the task it holds, burning CPU
    in a notebook kernel and holding the interpreter's exit for as long."""
    # CPython 3.8-3.13 keep the worker processes here; shutdown() drops the reference
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=not interrupted, cancel_futures=True)
    if not interrupted:
        return
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _init_worker(sim: ModelSimulator) -> None:
    global _WORKER_SIMULATOR
    ignore_interrupts_in_worker()
    _WORKER_SIMULATOR = sim
    sim.species_ids  # compile now, not inside the first chunk  # noqa: B018


def _run_chunk_in_worker(start: int, tasks: Sequence[Task], times: np.ndarray):
    return _run_chunk(_WORKER_SIMULATOR, start, tasks, times)


def _run_chunk_dask(sim: ModelSimulator, token: str, start: int, tasks, times):
    """Dask task: a Dask worker may run tasks in several threads, while a simulator holds one
    RoadRunner instance that is not thread-safe, so each thread works on its own copy."""
    if getattr(_LOCAL, "token", None) != token:
        copy = pickle.loads(pickle.dumps(sim))
        with _COMPILE_LOCK:  # libantimony is not thread-safe: compile one copy at a time
            copy.species_ids  # noqa: B018
        _LOCAL.token, _LOCAL.sim = token, copy
    return _run_chunk(_LOCAL.sim, start, tasks, times)


# -- the batch ---------------------------------------------------------------------------------
def _simulator(model: Model | str | ModelSimulator, outputs: Sequence[str] | None):
    if isinstance(model, ModelSimulator):
        if outputs is not None and tuple(outputs) != model.outputs:
            raise InvalidInputError(
                f"outputs: the given ModelSimulator returns {model.outputs}, received "
                f"outputs={tuple(outputs)}; give a Model to choose other outputs"
            )
        return model
    if isinstance(model, str):
        model = Model(model)
    if not isinstance(model, Model):
        raise InvalidInputError(
            "model: expected a paracrine Model, a variant name or a ModelSimulator, received "
            f"{type(model).__name__}"
        )
    return ModelSimulator(model, outputs)


def _check_tasks(tasks: Sequence, sim: ModelSimulator) -> list[Task]:
    checked: list[Task] = []
    n_par = len(sim.parameter_ids)
    lines = sim.model.cell_lines
    for i, task in enumerate(tasks):
        if not (isinstance(task, tuple | list) and len(task) == 2):
            raise InvalidInputError(
                f"tasks[{i}]: expected a pair (Condition, parameter vector or None), received "
                f"{task!r}"
            )
        condition, pvec = task
        if not isinstance(condition, Condition):
            raise InvalidInputError(
                f"tasks[{i}]: expected a Condition first, received {type(condition).__name__}"
            )
        if condition.cell_line not in lines:
            raise UnknownNameError("cell line", condition.cell_line, lines)
        if pvec is not None:
            pvec = np.asarray(pvec, dtype=float)
            if pvec.shape != (n_par,) or not np.all(np.isfinite(pvec)):
                raise InvalidInputError(
                    f"tasks[{i}] ({condition.name!r}): expected a finite parameter vector of "
                    f"length {n_par} (ModelSimulator.parameter_ids order), received shape "
                    f"{pvec.shape}" + ("" if pvec.shape != (n_par,) else " with non-finite values")
                )
        checked.append((condition, pvec))
    return checked


def _check_workers(workers: int | None, scheduler: Any) -> int:
    if workers is None:
        return 1
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise InvalidInputError(f"workers: expected an integer >= 1 or None, received {workers!r}")
    if scheduler is not None and workers != 1:
        raise InvalidInputError(
            f"workers={workers} and a Dask scheduler exclude each other: the cluster decides the "
            "number of workers, give one of them"
        )
    return int(workers)


def _chunks(n_tasks: int, n_workers: int) -> list[tuple[int, int]]:
    """Index ranges ``(start, stop)`` covering ``range(n_tasks)``."""
    size = max(1, math.ceil(n_tasks / (n_workers * CHUNKS_PER_WORKER)))
    return [(s, min(s + size, n_tasks)) for s in range(0, n_tasks, size)]


def run_batch(
    model: Model | str | ModelSimulator,
    tasks: Sequence[Task],
    times: Sequence[float] | np.ndarray,
    *,
    outputs: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = False,
) -> BatchResult:
    """Simulate every task on one compiled model per process.

    Parameters
    ----------
    model
        A Model, a variant name, or a :class:`ModelSimulator` (reused as it is in this process:
        its compiled model and pre-equilibration cache carry over between batches).
    tasks
        ``(Condition, pvec)`` pairs; *pvec* is the full parameter vector of the condition's cell
        line (:attr:`ModelSimulator.parameter_ids` order) or None for the model's own values.
        The condition's perturbations are applied on top of either.
    times
        Output times (min), strictly increasing, from >= 0; ligands are added at t = 0.
    outputs
        Read-outs, species or parameter ids to return (default: the four read-outs).
    workers
        None or 1: in this process. More: that many spawned local processes (each compiles
        the model once; start-up costs ~1–2 s, so this pays only for long batches).
    scheduler
        A ``distributed.Client`` or a scheduler address: run the chunks on that Dask cluster
        (instead of *workers*).
    progress
        Show a tqdm progress bar (tasks done).

    Returns
    -------
    BatchResult
        Values in task order, whatever the completion order.

    Raises
    ------
    InvalidInputError, UnknownNameError
        Malformed tasks, times or worker settings (before anything is simulated).
    KeyboardInterrupt
        Re-raised after the pending work is cancelled and the pool is shut down.
    """
    t0 = time.perf_counter()
    sim = _simulator(model, outputs)
    grid = check_times(times)
    checked = _check_tasks(tasks, sim)
    n_workers = _check_workers(workers, scheduler)
    values = np.full((len(checked), grid.size, len(sim.outputs)), np.nan)
    failures: list[tuple[int, str, str]] = []

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(checked), disable=not progress, desc="simulations", unit="sim", leave=False
    )

    def record(start: int, block: np.ndarray | None, failed: list, n: int = 0) -> None:
        if block is not None:
            values[start : start + len(block)] = block
            n = len(block)
        failures.extend(failed)
        bar.update(n)

    try:
        if checked:
            if scheduler is not None:
                _run_dask(sim, checked, grid, scheduler, record)
            elif n_workers == 1:
                sim.species_ids  # compile, and fail on bad outputs, first  # noqa: B018
                for i in range(len(checked)):
                    record(*_run_chunk(sim, i, checked[i : i + 1], grid))
            else:
                _run_processes(sim, checked, grid, n_workers, record)
    finally:
        bar.close()
    failures.sort()
    return BatchResult(
        values=values,
        outputs=sim.outputs,
        times=grid,
        conditions=tuple(c for c, _ in checked),
        failures=tuple(failures),
        elapsed_s=time.perf_counter() - t0,
    )


def _lost(start: int, tasks: Sequence[Task], exc: BaseException) -> list[tuple[int, str, str]]:
    """Failures of a chunk whose worker died (the batch goes on; its rows stay NaN)."""
    message = f"worker failed: {type(exc).__name__}: {exc}"
    return [(start + k, c.name, message) for k, (c, _) in enumerate(tasks)]


def _drain(futures: dict[Future, tuple[int, int]], tasks: list[Task], record, lost_types) -> None:
    """Record chunks as they finish; on Ctrl-C (or any error) cancel what is pending and
    re-raise."""
    pending = set(futures)
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                start, stop = futures[fut]
                try:
                    record(*fut.result())
                except lost_types as exc:
                    record(start, None, _lost(start, tasks[start:stop], exc), stop - start)
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise


_QUIET_HOOK_INSTALLED = False


def quiet_cancelled_results() -> None:
    """Keep Python 3.11's process-pool manager thread from printing a traceback when a result
    arrives for a future cancelled by ``shutdown(cancel_futures=True)`` (an interrupted run).

    On 3.11 the pool cancels work items it has already sent to a worker; when their results
    come back, its manager thread calls ``set_result`` on the cancelled future and dies with
    ``InvalidStateError`` ("CANCELLED: <Future …>"), printed by ``threading.excepthook``. The
    result is discarded either way; only that message is suppressed (installed once, every
    other thread exception is passed on unchanged).
    """
    global _QUIET_HOOK_INSTALLED
    if _QUIET_HOOK_INSTALLED:
        return
    from concurrent.futures import InvalidStateError

    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is InvalidStateError and "CANCELLED" in str(args.exc_value):
            return
        previous(args)

    threading.excepthook = hook
    _QUIET_HOOK_INSTALLED = True


def _run_processes(sim: ModelSimulator, tasks: list[Task], times, n_workers: int, record) -> None:
    chunks = _chunks(len(tasks), n_workers)
    context = multiprocessing.get_context("spawn")  # a compiled RoadRunner is not fork-safe
    pool = ProcessPoolExecutor(
        max_workers=min(n_workers, len(chunks)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(sim,),
    )
    clean = False
    try:
        futures = {
            pool.submit(_run_chunk_in_worker, start, tasks[start:stop], times): (start, stop)
            for start, stop in chunks
        }
        _drain(futures, tasks, record, (BrokenProcessPool,))
        clean = True
    finally:
        if not clean:
            quiet_cancelled_results()
        shutdown_pool(pool, interrupted=not clean)


def _run_dask(sim: ModelSimulator, tasks: list[Task], times, scheduler: Any, record) -> None:
    import distributed

    if isinstance(scheduler, str):
        client, own_client = distributed.Client(scheduler, set_as_default=False), True
    elif isinstance(scheduler, distributed.Client):
        client, own_client = scheduler, False
    else:
        raise InvalidInputError(
            "scheduler: expected a Dask scheduler address (str) or a distributed.Client, "
            f"received {type(scheduler).__name__}"
        )
    try:
        n_workers = max(1, sum(client.nthreads().values()))
        remote = client.scatter(sim, broadcast=True, hash=False)
        token = uuid.uuid4().hex
        executor = client.get_executor(pure=False)
        futures = {
            executor.submit(_run_chunk_dask, remote, token, start, tasks[start:stop], times): (
                start,
                stop,
            )
            for start, stop in _chunks(len(tasks), n_workers)
        }
        try:
            _drain(futures, tasks, record, (distributed.KilledWorker,))
        except BaseException:
            executor.shutdown(wait=False)
            raise
    finally:
        if own_client:
            client.close()
