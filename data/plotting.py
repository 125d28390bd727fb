"""Plots of loaded data sets. matplotlib is imported here only, when a plot is asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import InvalidInputError
from paracrine.vocabulary import ARM_LINE_STYLES, ARM_MARKERS, GUIDE, condition_colours

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from paracrine.data.datasets import BlotData, ReadoutData

__all__ = ["plot_blots", "plot_readouts"]


def _grid(ax: Any, n_rows: int, n_cols: int, *, width: float, height: float, sharex: bool):
    """Return (figure, 2-D array of Axes) — new, or the caller's after checking its shape."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is None:
        fig, axes = plt.subplots(
            n_rows,
            n_cols,
            figsize=(width * n_cols, height * n_rows),
            squeeze=False,
            sharex=sharex,
            constrained_layout=True,
        )
        return fig, axes
    axes = np.array([[ax]], dtype=object) if isinstance(ax, Axes) else np.asarray(ax, dtype=object)
    if axes.ndim == 1 and n_rows * n_cols == axes.size:
        axes = axes.reshape(n_rows, n_cols)
    if axes.shape != (n_rows, n_cols):
        raise InvalidInputError(
            f"ax must be None or an array of Axes of shape ({n_rows}, {n_cols}) "
            f"(read-outs × cell lines); received shape {axes.shape}"
        )
    return axes[0, 0].figure, axes


def plot_blots(
    data: BlotData, *, ax: Any = None, normalize: bool = True, median: bool = True
) -> Figure:
    """Read-out (rows) × cell line (columns); see :meth:`BlotData.plot`."""
    frame = data.normalize_to_time_zero().frame if normalize else data.frame
    readouts, lines = data.readouts, data.cell_lines
    fig, axes = _grid(ax, len(readouts), len(lines), width=3.2, height=2.4, sharex=True)
    from matplotlib.lines import Line2D

    colours = condition_colours(data.conditions)
    handles: list = []
    # Spread replicates a little sideways so that overlapping points stay visible.
    jitter = {r: 0.8 * (r - 2) for r in sorted(set(frame["replicate"].tolist()))}
    for i, readout in enumerate(readouts):
        for j, line in enumerate(lines):
            panel = axes[i, j]
            sub = frame[(frame["readout"] == readout) & (frame["cell_line"] == line)]
            for condition in data.conditions:
                rows = sub[sub["condition"] == condition]
                if rows.empty:
                    continue
                x = rows["time_min"] + rows["replicate"].map(jitter)
                style = dict(ARM_LINE_STYLES.get(condition, {"ls": "-", "lw": 1.4, "zorder": 3}))
                style["lw"] = min(float(style["lw"]), 2.4)
                panel.scatter(
                    x,
                    rows["value"],
                    s=12,
                    marker=ARM_MARKERS.get(condition, "o"),
                    color=colours[condition],
                    alpha=0.6,
                    lw=0,
                    zorder=style["zorder"],
                )
                if median:
                    med = rows.groupby("time_min")["value"].median()
                    panel.plot(med.index, med.to_numpy(), color=colours[condition], **style)
                if (i, j) == (0, 0):
                    handles.append(
                        Line2D(
                            [], [], color=colours[condition], marker=ARM_MARKERS.get(condition, "o"),
                            ls=style["ls"] if median else "none", lw=style["lw"], label=condition,
                        )
                    )  # fmt: skip
            if i == 0:
                panel.set_title(line)
            if j == 0:
                panel.set_ylabel(f"{readout}\n" + ("fold over t = 0" if normalize else "value"))
            if i == len(readouts) - 1:
                panel.set_xlabel("time (min)")
    axes[0, 0].legend(handles=handles, fontsize="x-small", frameon=False)
    what = "points = replicates" + (", lines = their median" if median else "")
    fig.suptitle(f"{data.source}: {what}", fontsize="small")
    return fig


def plot_readouts(data: ReadoutData, *, ax: Any = None) -> Figure:
    """Bar chart of fold change ± sd, read-out (rows) × cell line (columns)."""
    readouts, lines = data.readouts, data.cell_lines
    fig, axes = _grid(ax, len(readouts), len(lines), width=3.4, height=2.8, sharex=False)
    colours = condition_colours(data.conditions)
    frame = data.frame
    for i, readout in enumerate(readouts):
        for j, line in enumerate(lines):
            panel = axes[i, j]
            sub = frame[(frame["readout"] == readout) & (frame["cell_line"] == line)]
            order = [c for c in data.conditions if c in set(sub["condition"])]
            sub = sub.set_index("condition").loc[order]
            panel.bar(
                range(len(order)),
                sub["fold_change"],
                yerr=sub["sd"],
                capsize=2,
                color=[colours[c] for c in order],
            )
            panel.axhline(1.0, color=GUIDE, lw=0.8, ls="--")
            panel.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize="small")
            if i == 0:
                panel.set_title(line)
            if j == 0:
                panel.set_ylabel(f"{readout}\n(fold over control)")
    fig.suptitle(data.source, fontsize="small")
    return fig
