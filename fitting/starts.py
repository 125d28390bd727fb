"""Start points of a multistart fit: a seeded Latin hypercube, optionally after given points."""

from __future__ import annotations

import numpy as np

from paracrine.errors import FitError, InvalidInputError

__all__ = ["latin_hypercube_starts", "start_points"]


def latin_hypercube_starts(lower: np.ndarray, upper: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Seeded Latin-hypercube start points scaled to the bounds, shape ``(n, len(lower))``."""
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    # `seed=` rather than scipy ≥ 1.15's `rng=` keeps scipy 1.10–1.14 working (same stream)
    unit = qmc.LatinHypercube(d=len(lower), seed=rng).random(n)
    return qmc.scale(unit, lower, upper) if n else unit


def start_points(
    lower: np.ndarray,
    upper: np.ndarray,
    n_starts: int,
    seed: int,
    x0: np.ndarray | None,
    names: tuple[str, ...],
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """*x0* (checked against the bounds) followed by Latin-hypercube points drawn in *box*
    (default: the bounds) up to *n_starts*."""
    box_lo, box_hi = (lower, upper) if box is None else box
    if x0 is None:
        return latin_hypercube_starts(box_lo, box_hi, n_starts, seed)
    given = np.atleast_2d(np.asarray(x0, dtype=float))
    if given.ndim != 2 or given.shape[1] != len(lower):
        raise InvalidInputError(
            f"x0: expected shape ({len(lower)},) or (m, {len(lower)}), received {np.shape(x0)}"
        )
    if given.shape[0] > n_starts:
        raise InvalidInputError(
            f"x0: {given.shape[0]} start points given but n_starts is {n_starts}"
        )
    outside = (given < lower) | (given > upper)
    if outside.any():
        row, col = map(int, np.argwhere(outside)[0])
        raise FitError(
            f"x0[{row}] parameter {names[col]!r} = {given[row, col]} is outside its bounds "
            f"[{lower[col]}, {upper[col]}]"
        )
    rest = latin_hypercube_starts(box_lo, box_hi, n_starts - given.shape[0], seed)
    return np.vstack([given, rest]) if rest.size else given
