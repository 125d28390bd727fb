"""Arguments and checks the command-line commands share.

Every check raises :class:`~paracrine.errors.InvalidInputError` naming the flag, what it
expected and what it received, before any data is read or any fit starts, so that a bad
argument costs nothing; :func:`paracrine.cli.main` prints it as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from paracrine.errors import InvalidInputError

__all__ = [
    "SCHEDULER_TIMEOUT_S",
    "Interrupted",
    "add_executor_arguments",
    "add_progress_argument",
    "add_start_arguments",
    "cell_line_help",
    "check_checkpoint",
    "check_executor",
    "check_fit_arguments",
    "check_output_folder",
    "check_scheduler",
    "check_seed",
    "check_starts",
    "interruptible_fit",
    "load_blot_fit",
    "multistart_options",
    "output_folder",
    "quiet_integrator_log",
    "stop_on_interrupt",
    "stop_worker_processes",
    "variant_help",
]

#: Seconds ``--scheduler`` waits for the scheduler to accept a connection before the command
#: gives up with one line (Dask's own default is 30 s).
SCHEDULER_TIMEOUT_S = 5


#: The environment variables through which SUNDIALS (CVODE, inside libRoadRunner) chooses
#: where its own ``[ERROR][rank 0][…cvodes.c…]`` and ``[WARNING]…`` lines go. SUNDIALS reads
#: them when an integrator is created; libRoadRunner's Logger level
#: (``roadrunner.Logger.setLevel``, set in :mod:`paracrine.simulations.engine`) and
#: ``Logger.disableLogging()`` do not reach them (measured with libroadrunner 2.10).
SUNDIALS_LOG_VARIABLES = ("SUNLOGGER_ERROR_FILENAME", "SUNLOGGER_WARNING_FILENAME")


@contextlib.contextmanager
def quiet_integrator_log() -> Iterator[None]:
    """Send SUNDIALS' own error and warning lines to the null device inside the block.

    Integrator failures are raised as exceptions and reported by paracrine (one line; a
    counted failed start in a fit), so CVODE's log lines only clutter the terminal. Applies to
    every RoadRunner instance created inside the block, in this process and in the worker
    processes it spawns (they inherit the environment); a variable the user has set is left
    alone, and the environment is restored afterwards. Kept here, not in the simulation
    layer, so that a command that fails its argument checks does not import it (~1 s).
    """
    saved = {name: os.environ.get(name) for name in SUNDIALS_LOG_VARIABLES}
    for name, value in saved.items():
        if value is None:
            os.environ[name] = os.devnull
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)


class Interrupted(Exception):
    """Ctrl-C ended a command; the message says what was kept. :func:`paracrine.cli.main`
    prints it as one line and exits with status 130."""


def variant_help(default: str | None = None, extra: str = "") -> str:
    """``--variant`` help naming every variant (the list is read from the model registry)."""
    from paracrine.models import list_variants

    text = "model variant: " + ", ".join(list_variants())
    if default is not None:
        text += f" (default: {default})"
    return text + extra


def cell_line_help(default: str = "all of the model's lines") -> str:
    """``--cell-line`` help naming the model's cell lines."""
    from paracrine.models import CELL_LINES

    return f"cell line: {', '.join(CELL_LINES)} (repeatable; default: {default})"


def add_start_arguments(parser: argparse.ArgumentParser, *, starts: int) -> None:
    """``--starts N`` (default *starts*) and ``--seed S`` (default 0)."""
    parser.add_argument(
        "--starts", type=int, default=starts, metavar="N", help=f"multistarts (default {starts})"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the start points (default 0)"
    )


def add_executor_arguments(parser: argparse.ArgumentParser, *, checkpoint: bool = True) -> None:
    """``--workers W``, ``--scheduler ADDRESS`` and (if *checkpoint*) ``--checkpoint FILE``."""
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="W",
        help="local processes (default: one per CPU; 1 = in this process)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://host:8786 (instead of --workers)",
    )
    if checkpoint:
        parser.add_argument(
            "--checkpoint",
            default=None,
            metavar="FILE",
            help="resume from / append finished starts to FILE",
        )


def add_progress_argument(
    parser: argparse.ArgumentParser, what: str = "with the best nllh so far"
) -> None:
    """``--progress`` / ``--no-progress`` (default: on); *what* says what the bar shows."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"show a progress bar {what} (default: on; --no-progress: none)",
    )


def check_starts(starts: int) -> None:
    """Raise unless ``--starts`` is at least 1."""
    if starts < 1:
        raise InvalidInputError(f"--starts: expected an integer ≥ 1, received {starts}")


def check_seed(seed: int) -> None:
    """Raise unless ``--seed`` is at least 0 (numpy seeds are non-negative)."""
    if seed < 0:
        raise InvalidInputError(f"--seed: expected an integer >= 0, received {seed}")


def check_executor(workers: int | None, scheduler: str | None) -> None:
    """Raise for ``--workers`` below 1 or given together with ``--scheduler``."""
    if workers is not None and workers < 1:
        raise InvalidInputError(f"--workers: expected an integer ≥ 1, received {workers}")
    if scheduler is not None and workers is not None:
        raise InvalidInputError(
            f"--workers {workers} and --scheduler {scheduler!r} exclude each other: the Dask "
            "cluster decides the number of workers, give one of them"
        )


def check_fit_arguments(args: argparse.Namespace) -> Path | None:
    """Check the arguments every fitting command shares, cheapest first, and return the
    output folder (checked, not created: nothing is written before the fit ends; None when
    the command has ``--out`` and it was not given)."""
    check_starts(args.starts)
    check_seed(args.seed)
    check_executor(args.workers, args.scheduler)
    out = check_output_folder(args.out) if args.out is not None else None
    check_checkpoint(getattr(args, "checkpoint", None))
    check_scheduler(args.scheduler)
    return out


def multistart_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`paracrine.fitting.fit_multistart` (and of the fits
    built on it) that every fitting command sets from its arguments."""
    return {
        "n_starts": args.starts,
        "seed": args.seed,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "progress": args.progress,
    }


def check_scheduler(address: str | None) -> None:
    """Raise unless *address* is None or a Dask scheduler that accepts a connection.

    The connection is opened and closed at once, waiting at most
    :data:`SCHEDULER_TIMEOUT_S`, so that an unreachable or malformed address is reported
    before the data are read, not as a traceback from inside the fit.
    """
    if address is None:
        return
    from distributed.comm import connect

    async def probe() -> None:
        comm = await connect(address, timeout=SCHEDULER_TIMEOUT_S)
        await comm.close()

    try:
        asyncio.run(probe())
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"--scheduler {address!r}: expected the address of a running Dask scheduler "
            f"(e.g. tcp://host:8786), received one that fails: {exc}"
        ) from None


def output_folder(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Create folder *path* if needed and check that files can be written into it.

    Raises
    ------
    InvalidInputError
        A file is in the way, the folder cannot be created, or it is not writable.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"{flag} {str(folder)!r}: expected a folder, received a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(
            f"{flag} {str(folder)!r}: cannot create the folder ({exc.strerror or exc})"
        ) from None
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InvalidInputError(
            f"{flag} {str(folder)!r}: expected a writable folder, cannot write into it "
            f"({exc.strerror or exc})"
        ) from None
    return folder


def check_output_folder(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """What :func:`output_folder` checks, without leaving anything behind: the folders it had
    to create for the check are removed again, so that a command that fails or is
    interrupted before it writes leaves no empty folder. Create it with
    :func:`output_folder` when the results are ready."""
    folder = Path(path)
    missing = []
    parent = folder
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    try:
        return output_folder(folder, flag)
    finally:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                created.rmdir()


def check_checkpoint(path: str | os.PathLike[str] | None) -> None:
    """Raise unless *path* is None, a file the fit can read as text and append to, or a new
    file in a folder that can be created and written.

    Whether an existing checkpoint belongs to this fit is for the fit to decide (it names the
    settings that differ).
    """
    if path is None:
        return
    file = Path(path)
    if file.is_dir():
        raise InvalidInputError(f"--checkpoint {str(file)!r}: expected a file, received a folder")
    if not file.exists():
        output_folder(file.parent, flag=f"--checkpoint {str(file)!r}: folder")
        return
    try:
        with file.open("ab"):
            pass
        file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"--checkpoint {str(file)!r}: expected a paracrine checkpoint (JSON lines), "
            "received a file that is not text"
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"--checkpoint {str(file)!r}: expected a file that can be read and appended to "
            f"({exc.strerror or exc})"
        ) from None


def load_blot_fit(
    path_text: str | os.PathLike[str], flag: str = "--fit", data: Any = None
):  # -> BlotFit
    """A blot fit saved by ``paracrine fit``/``demo`` (``fit.json``) with a best point, or one
    :class:`~paracrine.errors.InvalidInputError` naming the file and what is wrong with it.

    *data* (a bundled name or CSV) replaces the fit's data set; its own errors are raised as
    they are."""
    from paracrine.errors import DataValidationError, FitError, ParacrineError
    from paracrine.fitting import BlotFit

    path = Path(path_text)
    if not path.is_file():
        raise InvalidInputError(
            f"{flag} {str(path)!r}: expected a saved blot fit (fit.json), received "
            + ("a folder" if path.is_dir() else "a path that does not exist")
        )
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"{flag} {str(path)!r}: expected a blot fit saved by 'paracrine fit' (fit.json, "
            "text), received a binary file"
        ) from None
    try:
        fit = BlotFit.load(path, data=data)
        fit.model  # noqa: B018 - raises when every start failed
    except DataValidationError:
        raise
    except (ParacrineError, KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, FitError) and "every start failed" in str(exc):
            raise InvalidInputError(f"{flag} {str(path)!r}: {exc}") from None
        raise InvalidInputError(
            f"{flag} {str(path)!r}: expected a blot fit saved by 'paracrine fit' (fit.json), "
            f"received a file that cannot be read as one ({type(exc).__name__}: {exc})"
        ) from None
    return fit


# -- Ctrl-C ----------------------------------------------------------------------------------
def _starts_in(checkpoint: Path) -> int:
    """Finished starts in a checkpoint file (lines after the header; 0 if there is none)."""
    try:
        lines = checkpoint.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    return max(sum(1 for line in lines[1:] if line.strip()), 0)


def interruptible_fit(
    args: argparse.Namespace,
    out: Path | None,
    fit: Callable[[str], Any],
    write: Callable[[Any], None],
) -> Any:
    """Run ``fit(checkpoint)`` then ``write(result)``, with one path for Ctrl-C.

    The fit always appends its finished starts to a checkpoint: ``--checkpoint FILE``, or a
    temporary file (removed at the end). If the fit comes back interrupted, or Ctrl-C
    arrives anywhere in between, :class:`Interrupted` is raised: with no finished start
    nothing is written (a checkpoint this run created is removed); otherwise the checkpoint
    is kept (moved to ``OUT/checkpoint.jsonl`` when no ``--checkpoint`` was given, or
    ``checkpoint-2.jsonl`` … if that exists; left in the temporary folder when there is no
    ``OUT`` either) and the
    message is ``interrupted: N of M starts kept; resume with --checkpoint FILE``.

    Returns
    -------
    Whatever *fit* returned (a fit whose result was not interrupted).
    """
    given = getattr(args, "checkpoint", None)
    existed = given is not None and Path(given).exists()
    scratch = Path(tempfile.mkdtemp(prefix="paracrine-checkpoint-"))
    checkpoint = Path(given) if given is not None else scratch / "checkpoint.jsonl"
    keep_scratch = False
    engine_log = logging.getLogger("paracrine.fitting._executors")
    engine_log.addFilter(_not_the_interrupt_line)  # the one line below says it instead
    try:
        try:
            result = fit(str(checkpoint))
            if getattr(getattr(result, "result", result), "interrupted", False):
                raise KeyboardInterrupt
            write(result)
            return result
        except KeyboardInterrupt:
            stop_worker_processes()
        kept = _starts_in(checkpoint)
        if kept == 0:
            if given is not None and not existed:
                with contextlib.suppress(OSError):
                    checkpoint.unlink()
            raise Interrupted("interrupted before any start finished; nothing written")
        if given is None:
            if out is not None:
                folder = output_folder(out)
                destination = folder / "checkpoint.jsonl"
                n = 1
                while destination.exists():  # never over an earlier run's checkpoint
                    n += 1
                    destination = folder / f"checkpoint-{n}.jsonl"
                shutil.move(checkpoint, destination)
                checkpoint = destination
            else:
                keep_scratch = True
        raise Interrupted(
            f"interrupted: {kept} of {args.starts} starts kept; resume with --checkpoint "
            f"{checkpoint}"
        )
    finally:
        engine_log.removeFilter(_not_the_interrupt_line)
        if not keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _not_the_interrupt_line(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("interrupted:")


def stop_worker_processes() -> None:
    """Terminate this process's worker processes after Ctrl-C.

    A local process pool that was shut down still runs the starts already handed to its
    workers (a worker that catches the Ctrl-C goes on with the next queued start), and the
    interpreter waits for them at exit: 26 s after Ctrl-C for 2 workers on a one-line fit,
    against 0.4 s in-process. Their results are not kept anyway.
    """
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(timeout=5)


class _Stop(BaseException):
    """Ctrl-C inside :func:`stop_on_interrupt`: not a KeyboardInterrupt, so that no layer
    below (the multistart engine keeps the finished starts of one fit) catches it."""


@contextlib.contextmanager
def stop_on_interrupt(message: str) -> Iterator[None]:
    """Ctrl-C anywhere inside the block stops the whole block and raises
    :class:`Interrupted` with *message* (for commands that run several fits and keep no
    checkpoint, e.g. ``select``)."""

    def handler(signum: int, frame: Any) -> None:
        raise _Stop

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Ctrl-C cannot reach this block anyway
        yield
        return
    try:
        yield
    except (_Stop, KeyboardInterrupt):
        stop_worker_processes()
        raise Interrupted(message) from None
    finally:
        signal.signal(signal.SIGINT, previous)
