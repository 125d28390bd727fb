"""Arguments and checks the command-line commands share.

Every check raises :class:`~paracrine.errors.InvalidInputError` naming the flag, what it
expected and what it received, before any data is read or any fit starts, so that a bad
argument costs nothing; :func:`paracrine.cli.main` prints it as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from paracrine.errors import InvalidInputError

__all__ = [
    "add_executor_arguments",
    "add_progress_argument",
    "add_start_arguments",
    "check_checkpoint",
    "check_executor",
    "check_fit_arguments",
    "check_scheduler",
    "check_starts",
    "load_blot_fit",
    "multistart_options",
    "output_folder",
]


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


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress`` (default: on)."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show a progress bar with the best nllh so far (default: on)",
    )


def check_starts(starts: int) -> None:
    """Raise unless ``--starts`` is at least 1."""
    if starts < 1:
        raise InvalidInputError(f"--starts: expected an integer ≥ 1, received {starts}")


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
    output folder (created; None when the command has ``--out`` and it was not given)."""
    check_starts(args.starts)
    check_executor(args.workers, args.scheduler)
    out = output_folder(args.out) if args.out is not None else None
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

    The connection is opened and closed at once (Dask's connect timeout applies), so that an
    unreachable or malformed address is reported before the data are read, not as a
    traceback from inside the fit.
    """
    if address is None:
        return
    from distributed.comm import connect

    async def probe() -> None:
        comm = await connect(address)
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


def load_blot_fit(path_text: str | os.PathLike[str], flag: str = "--fit"):  # -> BlotFit
    """A blot fit saved by ``paracrine fit``/``demo`` (``fit.json``) with a best point, or one
    :class:`~paracrine.errors.InvalidInputError` naming the file and what is wrong with it."""
    from paracrine.errors import FitError, ParacrineError
    from paracrine.fitting import BlotFit

    path = Path(path_text)
    if not path.is_file():
        raise InvalidInputError(
            f"{flag} {str(path)!r}: expected a saved blot fit (fit.json), received "
            + ("a folder" if path.is_dir() else "a path that does not exist")
        )
    try:
        fit = BlotFit.load(path)
        fit.model  # noqa: B018 - raises when every start failed
    except (ParacrineError, KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, FitError) and "every start failed" in str(exc):
            raise InvalidInputError(f"{flag} {str(path)!r}: {exc}") from None
        raise InvalidInputError(
            f"{flag} {str(path)!r}: expected a blot fit saved by 'paracrine fit' (fit.json), "
            f"received a file that cannot be read as one ({type(exc).__name__}: {exc})"
        ) from None
    return fit
