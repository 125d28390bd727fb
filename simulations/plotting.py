"""Plots of simulation results (matplotlib is imported only when a plot is made)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from paracrine.models import OBSERVABLES

if TYPE_CHECKING:
    from paracrine.simulations.timecourse import SimulationResult

__all__ = ["CONDITION_COLOURS", "plot_timecourses"]

#: Colours of the paper's four arms, used in every paracrine figure.
CONDITION_COLOURS = {
    "control": "#7f7f7f",
    "IL-6": "#1f77b4",
    "VEGF": "#2ca02c",
    "IL-6+VEGF": "#d62728",
}


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
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, output in enumerate(outputs):
        ax = axes[k // ncols][k % ncols]
        for i, cond in enumerate(result.conditions):
            colour = CONDITION_COLOURS.get(cond.name, palette[i % len(palette)])
            label = (
                cond.name
                if len({c.cell_line for c in result.conditions}) == 1
                else f"{cond.name} ({cond.cell_line})"
            )
            ax.plot(result.times, result.get(cond.name, output), color=colour, label=label)
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
