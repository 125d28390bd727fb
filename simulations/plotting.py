"""Plots of simulation results (matplotlib is imported only when a plot is made)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from paracrine.models import OBSERVABLES
from paracrine.vocabulary import condition_colours

if TYPE_CHECKING:
    from paracrine.simulations.timecourse import SimulationResult

__all__ = ["plot_timecourses"]

#: Line styles telling cell lines apart when one figure holds several (colours tell arms).
_LINE_STYLES = ("-", "--", ":", "-.")


def _ylabel(output: str) -> str:
    if output in OBSERVABLES:
        return f"{output} (phosphorylated fraction)"
    return f"[{output}] (nM)"


def plot_timecourses(
    result: SimulationResult,
    outputs: Sequence[str] | None = None,
    *,
    ncols: int = 2,
    figsize: tuple[float, float] | None = None,
):
    """One panel per output, one line per condition; time in minutes.

    Returns the matplotlib ``Figure`` (save it with ``fig.savefig("x.png")`` or ``.svg``).
    """
    import matplotlib.pyplot as plt

    outputs = list(outputs or result.outputs)
    nrows = -(-len(outputs) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize or (5.0 * ncols, 3.2 * nrows), squeeze=False, sharex=True
    )
    colours = condition_colours(c.name for c in result.conditions)
    lines = list(dict.fromkeys(c.cell_line for c in result.conditions))
    styles = {line: _LINE_STYLES[i % len(_LINE_STYLES)] for i, line in enumerate(lines)}
    for k, output in enumerate(outputs):
        ax = axes[k // ncols][k % ncols]
        for cond in result.conditions:
            label = cond.name if len(lines) == 1 else f"{cond.name} ({cond.cell_line})"
            ax.plot(
                result.times,
                result.get(cond.name, output),
                color=colours[cond.name],
                ls=styles[cond.cell_line],
                label=label,
            )
        ax.set_title(output)
        ax.set_ylabel(_ylabel(output))
        ax.set_xlabel("time (min)")
        ax.grid(alpha=0.3)
    for k in range(len(outputs), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    axes[0][0].legend(fontsize="small", frameon=False)
    fig.suptitle(f"paracrine — variant {result.variant}")
    fig.tight_layout()
    return fig
