"""Exception types raised by paracrine.

Every error paracrine raises for bad input is one of these. They subclass the built-in type a
caller would expect (``ValueError`` for a bad value, ``KeyError`` for an unknown name), so
``except ValueError`` keeps working, and they all share :class:`ParacrineError`, so the command
line can print any of them as one clear line instead of a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "DataValidationError",
    "FitError",
    "InvalidInputError",
    "ParacrineError",
    "PetabError",
    "SimulationError",
    "UnknownNameError",
    "did_you_mean",
]


class ParacrineError(Exception):
    """Base class of every error paracrine raises on purpose."""


class InvalidInputError(ParacrineError, ValueError):
    """A value given by the user is out of range, malformed or inconsistent."""


class UnknownNameError(ParacrineError, KeyError):
    """A name (variant, species, parameter, cell line, readout, data set) does not exist.

    Parameters
    ----------
    kind
        What kind of name it is, e.g. ``"parameter"``.
    name
        The name that was asked for.
    choices
        The names that do exist; the closest ones are suggested in the message.
    """

    def __init__(self, kind: str, name: object, choices: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.choices = sorted(str(c) for c in choices)
        hint = did_you_mean(str(name), self.choices)
        listing = ", ".join(self.choices[:12]) + (" …" if len(self.choices) > 12 else "")
        message = f"unknown {kind} {name!r}"
        message += f" — did you mean {hint}?" if hint else f" (known: {listing})"
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return self.message


class SimulationError(ParacrineError, RuntimeError):
    """The integrator failed; the message names the condition and the parameter values."""


class DataValidationError(ParacrineError, ValueError):
    """A data file failed validation; ``issues`` lists every problem found (not only the first)."""

    def __init__(self, message: str, issues: list | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])


class FitError(ParacrineError, ValueError):
    """A fitting problem is inconsistent (unknown parameter, bounds excluding a value, …)."""


class PetabError(ParacrineError, ValueError):
    """A PEtab problem is malformed or uses a feature paracrine does not support."""


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``"'a' or 'b'"`` for the choices closest to *name*, or ``""`` if none is close."""
    pool = [str(c) for c in choices]
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), lowered, n=n)]
    return " or ".join(repr(c) for c in close)
