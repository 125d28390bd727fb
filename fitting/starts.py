"""Start points of a multistart fit: a seeded Latin hypercube, optionally after given points."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from paracrine.errors import FitError, InvalidInputError

__all__ = ["latin_hypercube_starts", "latin_hypercube_unit", "start_points"]


def latin_hypercube_unit(d: int, n: int, seed: int) -> np.ndarray:
    """Seeded Latin-hypercube points in the unit cube, shape ``(n, d)``."""
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    # `seed=` rather than scipy ≥ 1.15's `rng=` keeps scipy 1.10–1.14 working (same stream)
    return qmc.LatinHypercube(d=d, seed=rng).random(n)


def latin_hypercube_starts(lower: np.ndarray, upper: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Seeded Latin-hypercube start points scaled to the bounds, shape ``(n, len(lower))``."""
    from scipy.stats import qmc

    unit = latin_hypercube_unit(len(lower), n, seed)
    return qmc.scale(unit, lower, upper) if n else unit


def start_points(
    lower: np.ndarray,
    upper: np.ndarray,
    n_starts: int,
    seed: int,
    x0: np.ndarray | None,
    names: tuple[str, ...],
    box: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    from_unit: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """*x0* (checked against the bounds) followed by Latin-hypercube points up to *n_starts*.

    The points are drawn in *box* (default: the bounds), or, with *from_unit*, drawn in the
    unit cube and mapped by it (the sampler hook of
    :meth:`~paracrine.fitting.objective.Problem.starts_from_unit`, e.g. through the quantile
    functions of PEtab initialization priors). Either way the same seed gives the same points.

    Raises
    ------
    InvalidInputError
        If both *box* and *from_unit* are given, or *x0* has the wrong shape or too many rows.
    FitError
        If a point of *x0* is outside the bounds.
    """
    if box is not None and from_unit is not None:
        raise InvalidInputError(
            "start_points: expected a box or a from_unit mapping, received both (the mapping "
            "decides where points go)"
        )

    def draw(n: int) -> np.ndarray:
        if from_unit is None:
            box_lo, box_hi = (lower, upper) if box is None else box
            return latin_hypercube_starts(box_lo, box_hi, n, seed)
        return np.asarray(from_unit(latin_hypercube_unit(len(lower), n, seed)), dtype=float)

    if x0 is None:
        return draw(n_starts)
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
    rest = draw(n_starts - given.shape[0])
    return np.vstack([given, rest]) if rest.size else given
