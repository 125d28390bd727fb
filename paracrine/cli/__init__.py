"""Command line: ``paracrine simulate|demo|fit|select|petab …``.

One module per command group (:mod:`~paracrine.cli.fit` for ``fit``, ``demo`` and ``select``,
:mod:`~paracrine.cli.petab`, :mod:`~paracrine.cli.simulate`); each only parses its arguments,
checks them and calls the library (:mod:`paracrine.fitting`, :mod:`paracrine.simulations`,
:mod:`paracrine.reports`).

Errors paracrine raises on purpose (bad input, unknown names, failed integrations) and
operating-system errors (a file that cannot be read or written) are printed as one line,
``paracrine CMD: error: …``, with exit status 2; anything else is a bug and keeps its
traceback. CVODE's own log lines are kept off the terminal
(:func:`paracrine.cli._common.quiet_integrator_log`): paracrine's message says what
failed. Ctrl-C ends a command with one line and exit status 130: a fit keeps its finished
starts in a checkpoint and says how to resume (:func:`paracrine.cli._common.interruptible_fit`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from paracrine import __version__
from paracrine.errors import DataValidationError, ParacrineError

__all__ = ["build_parser", "main"]

#: Set by :func:`main` to its process id for the duration of a command; worker processes it
#: spawns inherit it.
CLI_PID_VARIABLE = "PARACRINE_CLI_PID"

# A worker process spawned by a command re-imports the command's main module (the console
# script, or paracrine.cli.__main__), hence this package. A terminal's Ctrl-C reaches every
# process of the group; in a worker it would print a traceback of its own (an idle worker's
# KeyboardInterrupt) beside the command's one line. The command handles Ctrl-C (it keeps the
# finished starts and ends its workers), so its workers ignore it.
if os.environ.get(CLI_PID_VARIABLE) not in (None, str(os.getpid())):
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def build_parser() -> argparse.ArgumentParser:
    """The ``paracrine`` argument parser with every command registered.

    Returns
    -------
    argparse.ArgumentParser
        Parsing sets ``command`` and ``func`` (the function that runs the command; it takes
        the namespace and returns the exit status).
    """
    from paracrine.cli import analysis, fit, perturb, petab, simulate

    parser = argparse.ArgumentParser(
        prog="paracrine",
        description="Mechanistic simulator of MSC paracrine IL-6/VEGF signalling in breast "
        "cancer cells: simulate, fit to phospho-blot time courses, interchange with PEtab.",
    )
    parser.add_argument("--version", action="version", version=f"paracrine {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fit.register(subparsers)
    simulate.register(subparsers)
    petab.register(subparsers)
    perturb.register(subparsers)
    analysis.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``paracrine`` with *argv* (default: ``sys.argv[1:]``) and return its exit status.

    Returns
    -------
    int
        0 on success, 1 when a fit ended without a successful start, 2 for an error (printed
        as one line on stderr), 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    # shown in reports, so that a folder of results says how it was made
    args.command_line = shlex.join(["paracrine", *argv])
    from paracrine.cli._common import Interrupted, quiet_integrator_log

    previous = os.environ.get(CLI_PID_VARIABLE)
    os.environ[CLI_PID_VARIABLE] = str(os.getpid())
    try:
        with quiet_integrator_log(), _one_line_warnings(args.command):
            return int(args.func(args) or 0)
    except DataValidationError as exc:
        print(f"paracrine {args.command}: error: {_data_error_line(exc, args)}", file=sys.stderr)
        return 2
    except (ParacrineError, OSError) as exc:
        print(f"paracrine {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as exc:
        from paracrine.cli._common import stop_worker_processes

        stop_worker_processes()  # else the interpreter waits for their queued work at exit
        message = str(exc) if isinstance(exc, Interrupted) else "interrupted before it finished"
        print(f"paracrine {args.command}: {message}", file=sys.stderr)
        return 130
    finally:
        if previous is None:
            os.environ.pop(CLI_PID_VARIABLE, None)
        else:
            os.environ[CLI_PID_VARIABLE] = previous


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Warnings as ``paracrine COMMAND: warning: …`` on one line, each distinct one once —
    not Python's ``file.py:123: DataWarning: …`` followed by the source line that raised it.
    paracrine's own warnings (data, fits) show their message; others also name their class."""
    import warnings

    from paracrine.data.issues import DataWarning

    seen: set[str] = set()
    roots = tuple(_package_roots())

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split())
        ours = str(filename).startswith(roots)
        if not (issubclass(category, DataWarning) or ours):
            text = f"{category.__name__}: {text}"
        if text in seen:
            return
        seen.add(text)
        print(f"paracrine {command}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


def _package_roots() -> list[str]:
    """Where paracrine's own modules live (their warnings are the program's, not a
    library's): the subpackages are separate folders (``package_dir``)."""
    import importlib

    names = ("paracrine", "paracrine.data", "paracrine.fitting", "paracrine.models")
    names += ("paracrine.simulations",)
    return [
        str(Path(importlib.import_module(name).__file__).resolve().parent) + os.sep
        for name in names
    ]


def _data_error_line(exc: DataValidationError, args: argparse.Namespace) -> str:
    """One line for a data file that failed validation: what failed, the first problem, and
    where the full list was written (``data_issues.csv`` in ``--out``, else the current
    folder) — a shell user cannot read ``exc.issues``."""
    from pathlib import Path

    lines = str(exc).splitlines()
    first = next((ln.strip().removeprefix("- ") for ln in lines[1:] if ln.strip()), "")
    head = lines[0] if lines else "data failed validation"
    if not exc.issues:
        return " ".join(ln.strip() for ln in lines)
    from paracrine.data.issues import IssueList

    folder = Path(getattr(args, "out", None) or ".")
    target = folder / "data_issues.csv"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        IssueList(exc.issues).to_frame().to_csv(target, index=False)
        where = f"all {len(exc.issues)} in {target}"
    except OSError as err:
        where = f"{len(exc.issues)} in all (could not write {target}: {err.strerror or err})"
    return f"{head} {first} [{where}]"
