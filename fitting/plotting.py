"""Plots of multistart results: waterfall and parameter end points.

matplotlib is imported inside the functions, so importing this module is free. Every function
takes an optional ``ax`` and returns the ``Axes`` it drew on (``ax.figure.savefig(...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from matplotlib.axes import Axes

    from paracrine.fitting.result import FitResult

__all__ = ["plot_parameters", "plot_waterfall"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6, 4))
    return ax


def plot_waterfall(result: FitResult, ax: Axes | None = None, *, tol: float = 0.1) -> Axes:
    """Sorted nllh of every start relative to the best, on a log axis.

    Parameters
    ----------
    result
        A multistart result.
    ax
        Axes to draw on (a new figure if None).
    tol
        Starts within *tol* of the best count as hits and are drawn in a different colour.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax)
    ok = [s for s in result.starts if not s.failed]
    delta = np.array([s.nllh - result.nllh for s in ok]) + 1.0
    rank = np.arange(len(ok))
    hit = delta <= 1.0 + tol
    ax.plot(rank, delta, color="0.6", lw=0.8, zorder=1)
    ax.scatter(
        rank[hit],
        delta[hit],
        color="tab:green",
        s=18,
        zorder=2,
        label=f"hits (Δnllh ≤ {tol:g}): {int(hit.sum())}",
    )
    if (~hit).any():
        ax.scatter(rank[~hit], delta[~hit], color="tab:blue", s=18, zorder=2, label="others")
    # at least one decade, so that a waterfall of near-identical optima still gets tick labels
    ceiling = max(10.0, 1.5 * float(delta.max())) if delta.size else 10.0
    if result.n_failed:  # failed starts have no nllh: mark them along the top edge
        failed = np.arange(len(ok), len(ok) + result.n_failed)
        ax.scatter(
            failed,
            np.full(failed.size, ceiling / 1.3),
            marker="x",
            color="tab:red",
            label=f"failed: {result.n_failed}",
        )
    ax.set_yscale("log")
    ax.set_ylim(0.8, ceiling)
    ax.set_xlabel("start (sorted by nllh)")
    ax.set_ylabel("nllh − best nllh + 1")
    ax.set_title(f"waterfall: {len(result.starts)} starts, best nllh {result.nllh:.6g}")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_parameters(result: FitResult, ax: Axes | None = None, *, tol: float | None = None) -> Axes:
    """End points of the starts on the optimisation scale, one row per parameter.

    Parameters
    ----------
    result
        A multistart result.
    ax
        Axes to draw on (a new figure if None).
    tol
        Show only starts within *tol* of the best nllh (all successful starts if None).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; the best start is drawn in red, bounds as black ticks.
    """
    ax = _axes(ax)
    names = result.parameter_names
    rows = np.arange(len(names))
    ok = [s for s in result.starts if not s.failed]
    if tol is not None:
        ok = [s for s in ok if s.nllh <= result.nllh + tol]
    for s in reversed(ok):  # best drawn last, on top
        best = s is ok[0]
        ax.plot(
            s.x,
            rows,
            marker="o",
            ms=3,
            lw=1.5 if best else 0.6,
            color="tab:red" if best else "0.55",
            alpha=1.0 if best else 0.6,
            zorder=3 if best else 2,
        )
    ax.scatter(result.lower, rows, marker="|", s=200, color="k")
    ax.scatter(result.upper, rows, marker="|", s=200, color="k")
    ax.set_yticks(rows, labels=list(names))
    ax.invert_yaxis()
    ax.set_xlabel("value (optimisation scale)")
    ax.set_ylabel("parameter")
    shown = "all successful starts" if tol is None else f"starts within {tol:g} of the best"
    ax.set_title(f"parameters: {shown} ({len(ok)}), best in red")
    return ax
