"""Time-course metrics of fold-over-basal arrays: peak, AUC, late level, persistence and the
combination's excess ratio.

Every function takes *fold* — a read-out divided by its basal (unstimulated) level, so 1 means
basal — with time along *axis* (default 0), and the output times in minutes where the metric
needs them. The definitions match those of the blot combination metrics
(``paracrine.fitting.combination``: the same late window and ratio guard), so a simulated
screen and a fitted blot answer the same questions with the same numbers.
"""

from __future__ import annotations

import numpy as np

from paracrine.errors import InvalidInputError

__all__ = [
    "LATE_WINDOW_MIN",
    "RATIO_GUARD",
    "auc",
    "excess_ratio_at_peak",
    "late",
    "peak",
    "persistence",
    "time_of_peak",
]

#: The late window (min, both ends included): the late level is the mean fold over the output
#: times inside it. The same as ``paracrine.fitting.combination.LATE_WINDOW_MIN``.
LATE_WINDOW_MIN: tuple[float, float] = (120.0, 240.0)
#: Smallest denominator of a ratio of excesses (fold − 1): below it the ratio is NaN, since a
#: ratio over a denominator near zero is noise. The same rule as
#: ``paracrine.fitting.combination.RATIO_GUARD``.
RATIO_GUARD = 0.2


def _times(times, fold: np.ndarray, axis: int) -> np.ndarray:
    grid = np.asarray(times, dtype=float)
    if grid.ndim != 1 or grid.size != fold.shape[axis]:
        raise InvalidInputError(
            f"times: expected {fold.shape[axis]} output times (the length of axis {axis} of "
            f"fold), received shape {grid.shape}"
        )
    return grid


def _window_mask(grid: np.ndarray, window: tuple[float, float], what: str) -> np.ndarray:
    start, end = (float(w) for w in window)
    if not start <= end:
        raise InvalidInputError(
            f"{what}: expected (start, end) with start <= end, received {window}"
        )
    mask = (grid >= start) & (grid <= end)
    if not mask.any():
        raise InvalidInputError(
            f"{what} {start:g}–{end:g} min: expected at least one output time inside it, the "
            f"times span {grid[0]:g}–{grid[-1]:g} min"
        )
    return mask


def peak(fold: np.ndarray, *, axis: int = 0) -> np.ndarray:
    """Largest fold over basal over the time course (fold; 1 = basal)."""
    return np.max(np.asarray(fold, dtype=float), axis=axis)


def time_of_peak(times, fold: np.ndarray, *, axis: int = 0) -> np.ndarray:
    """Output time of the peak (min); the first one on ties."""
    fold = np.asarray(fold, dtype=float)
    grid = _times(times, fold, axis)
    return grid[np.argmax(fold, axis=axis)]


def auc(
    times, fold: np.ndarray, *, window: tuple[float, float] | None = None, axis: int = 0
) -> np.ndarray:
    """Area between the time course and basal per minute of the window (fold·min/min).

    The trapezoid integral of ``fold − 1`` over the output times in *window* (default: all of
    them) divided by the window's length: the mean excess over basal, 0 for a basal trace.
    A window holding one time gives that time's excess.
    """
    fold = np.asarray(fold, dtype=float)
    grid = _times(times, fold, axis)
    mask = np.ones(grid.size, bool) if window is None else _window_mask(grid, window, "window")
    sub = np.compress(mask, fold, axis=axis) - 1.0
    t = grid[mask]
    if t.size == 1:
        return np.take(sub, 0, axis=axis)
    return np.trapezoid(sub, t, axis=axis) / (t[-1] - t[0])


def late(
    times, fold: np.ndarray, *, window: tuple[float, float] = LATE_WINDOW_MIN, axis: int = 0
) -> np.ndarray:
    """Mean fold over the output times inside the late *window* (fold; default 120–240 min,
    :data:`LATE_WINDOW_MIN`)."""
    fold = np.asarray(fold, dtype=float)
    grid = _times(times, fold, axis)
    mask = _window_mask(grid, window, "late window")
    return np.mean(np.compress(mask, fold, axis=axis), axis=axis)


def persistence(peak_fold, late_fold, *, guard: float = RATIO_GUARD) -> np.ndarray:
    """How much of the peak excess remains late: ``(late − 1)/(peak − 1)`` (dimensionless; 1 =
    no decay, 0 = back to basal), NaN where the peak excess ``peak − 1`` is below *guard*."""
    p = np.asarray(peak_fold, dtype=float) - 1.0
    lv = np.asarray(late_fold, dtype=float) - 1.0
    ok = p >= guard
    return np.where(ok, lv / np.where(ok, p, 1.0), np.nan)


def excess_ratio_at_peak(
    times,
    combination: np.ndarray,
    il6: np.ndarray,
    vegf: np.ndarray,
    *,
    guard: float = RATIO_GUARD,
    axis: int = 0,
) -> np.ndarray:
    """The combination's excess over the sum of the singles' excesses at the combination's
    peak time: ``(combo − 1)/((IL-6 − 1) + (VEGF − 1))`` (dimensionless; 1 = additive, > 1
    super-additive, < 1 sub-additive), NaN where the singles' summed excess is below *guard*.

    *combination*, *il6* and *vegf* are fold arrays of the same shape (time along *axis*).
    """
    combo = np.asarray(combination, dtype=float)
    a = np.asarray(il6, dtype=float)
    b = np.asarray(vegf, dtype=float)
    if not combo.shape == a.shape == b.shape:
        raise InvalidInputError(
            "excess_ratio_at_peak: expected fold arrays of one shape, received "
            f"{combo.shape}, {a.shape} and {b.shape}"
        )
    _times(times, combo, axis)
    k = np.expand_dims(np.argmax(combo, axis=axis), axis)
    at = [np.take_along_axis(x, k, axis=axis).squeeze(axis) - 1.0 for x in (combo, a, b)]
    singles = at[1] + at[2]
    ok = singles >= guard
    return np.where(ok, at[0] / np.where(ok, singles, 1.0), np.nan)
