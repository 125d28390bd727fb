"""Plots of blot fits: data (scale factors applied) over model time courses, and residuals.

matplotlib is imported inside the functions; each returns its ``Figure``. Colours, line styles
and markers of the arms come from :mod:`paracrine.vocabulary`, the same in every figure.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from paracrine.errors import InvalidInputError
from paracrine.vocabulary import (
    ARM_COLOURS,
    ARM_LINE_STYLES,
    ARM_MARKERS,
    ARMS,
    CONTROL,
    GUIDE,
    INK,
    MUTED,
    TIME_SCALES,
    cell_line_markers,
    condition_colour,
    condition_label,
    set_time_scale,
    split_condition_label,
)

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from paracrine.fitting.blotfit import BlotFit

__all__ = ["plot_fit", "plot_residuals"]


def _check_time_scale(time_scale: str) -> None:
    if time_scale not in TIME_SCALES:
        raise InvalidInputError(
            f"time_scale: expected one of {', '.join(TIME_SCALES)}, received {time_scale!r}"
        )


def _fine_times(t_max: float) -> np.ndarray:
    """A simulation grid fine enough for the early minutes on a sqrt or log axis."""
    early = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])
    return np.unique(np.concatenate([early, np.linspace(0.0, t_max, 241)]))


def _time_limits(time_scale: str, t_max: float) -> tuple[float, float]:
    """x limits with a little room either side (t = 0 and the last time are not on the edge)."""
    if time_scale == "sqrt":
        room = 0.03 * np.sqrt(t_max)
        return -(room**2), (np.sqrt(t_max) + room) ** 2
    if time_scale == "log":
        return -0.3, t_max * 1.15
    return -0.02 * t_max, t_max * 1.03


def _arm_style(arm: str) -> dict:
    style = dict(ARM_LINE_STYLES.get(arm, {"ls": "-", "lw": 1.6, "zorder": 3}))
    return {"color": ARM_COLOURS.get(arm, condition_colour(arm)), **style}


def plot_fit(
    fit: BlotFit,
    *,
    time_scale: str = "linear",
    replicates: bool = True,
    figsize: tuple[float, float] | None = None,
):
    """Read-out (rows) × cell line (columns): the data as mean ± SD of the replicates per arm
    and time (markers with error bars) with each replicate as a faint point, over the best-fit
    time courses (lines); all as fold over the model's unstimulated level.

    Bands are divided by their fitted blot scale before averaging. Arms have one colour, line
    style and marker each (:data:`paracrine.vocabulary.ARM_COLOURS`, ``ARM_LINE_STYLES``):
    IL-6 is dashed and drawn on top of the wider IL-6+VEGF line, so that a curve lying on
    another stays visible.

    Parameters
    ----------
    fit
        A blot fit.
    time_scale
        ``"linear"``, ``"sqrt"`` (square-root axis: the early minutes readable) or ``"log"``
        (log above 1 min, linear below, so that t = 0 is kept).
    replicates
        Draw each replicate as a faint point behind the mean ± SD.
    figsize
        Figure size in inches (default: 3.6 × 2.6 per panel).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.transforms import offset_copy

    _check_time_scale(time_scale)
    data = fit.data_with_fit()
    t_max = float(max(data["time_min"].max(), 1.0))
    # arms' data side by side at each time (in points, whatever the time axis)
    dodge = {arm: 2.5 * (k - (len(ARMS) - 1) / 2) for k, arm in enumerate(ARMS)}
    sim = fit.simulate_arms(_fine_times(t_max))
    names = {c.name for c in sim.conditions}
    readouts, lines = fit.problem.readouts, fit.problem.cell_lines
    fig, axes = plt.subplots(
        len(readouts),
        len(lines),
        figsize=figsize or (3.6 * len(lines) + 0.4, 2.6 * len(readouts) + 1.0),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    with_data: set[str] = set()
    xlabel = "time (min)"
    for i, readout in enumerate(readouts):
        for j, line in enumerate(lines):
            ax = axes[i][j]
            # fold over the unstimulated level: blots fix only relative levels; a read-out the
            # model holds at zero without ligand (e.g. a receptor's phosphorylated form) has no
            # fold: it is drawn relative to its largest simulated level instead
            basal = float(sim.get(condition_label(CONTROL, line), readout)[0])
            top = max(
                (float(np.nanmax(sim.get(condition_label(arm, line), readout))) for arm in ARMS
                 if condition_label(arm, line) in names),
                default=0.0,
            )  # fmt: skip
            relative = not basal > 1e-9 * top
            if relative:
                basal = top if top > 0 else 1.0
            panel = data[(data["cell_line"] == line) & (data["readout"] == readout)]
            extent = [1.0]  # y values drawn (dodged marks are not autoscaled by matplotlib)
            for arm in ARMS:
                style = _arm_style(arm)
                colour = style["color"]
                name = condition_label(arm, line)
                if name in names:
                    curve = sim.get(name, readout) / basal
                    ax.plot(sim.times, curve, **style)
                    extent += [float(np.nanmin(curve)), float(np.nanmax(curve))]
                rows = panel[panel["condition"] == arm]
                if rows.empty:
                    continue
                with_data.add(arm)
                fold = rows["normalized"] / basal
                shifted = offset_copy(ax.transData, fig=fig, x=dodge.get(arm, 0.0), units="points")
                if replicates:
                    ax.scatter(
                        rows["time_min"], fold, s=8, color=colour, alpha=0.3, lw=0, zorder=1,
                        transform=shifted,
                    )  # fmt: skip
                stats = fold.groupby(rows["time_min"]).agg(["mean", "std", "count"])
                spread = np.where(stats["count"] > 1, stats["std"].fillna(0.0), 0.0)
                extent += [
                    float(np.nanmin(stats["mean"] - spread)),
                    float(np.nanmax(stats["mean"] + spread)),
                ]
                if replicates:
                    extent += [float(fold.min()), float(fold.max())]
                ax.errorbar(
                    stats.index,
                    stats["mean"],
                    yerr=spread,
                    fmt=ARM_MARKERS.get(arm, "o"),
                    ms=4.5,
                    color=colour,
                    mec=INK,
                    mew=0.5,
                    elinewidth=1.0,
                    capsize=2,
                    ls="none",
                    zorder=style["zorder"] + 5,
                    transform=shifted,
                )
            xlabel = set_time_scale(ax, time_scale, t_max)
            ax.set_xlim(*_time_limits(time_scale, t_max))
            low, high = min(extent), max(extent)
            pad = 0.05 * (high - low if high > low else 1.0)
            ax.set_ylim(low - pad, high + pad)
            if i == 0:
                ax.set_title(line, fontsize="medium", fontweight="bold")
            if relative:
                ax.text(
                    0.02, 0.97, "zero without ligand",
                    transform=ax.transAxes, va="top", fontsize="x-small", color=INK,
                )  # fmt: skip
            if j == 0:
                ax.set_ylabel(
                    f"{readout}\n"
                    + ("relative to its maximum" if relative else "fold over unstimulated")
                )
            if i == len(readouts) - 1:
                ax.set_xlabel(xlabel)
            ax.grid(alpha=0.3)
    simulated = {split_condition_label(n)[0] for n in names}
    handles = [
        Line2D(
            [],
            [],
            marker=ARM_MARKERS.get(arm, "o") if arm in with_data else None,
            mec=INK,
            mew=0.5,
            ms=5,
            label=arm if arm in with_data else f"{arm} (model only: not in the data)",
            **{k: v for k, v in _arm_style(arm).items() if k != "zorder"},
        )
        for arm in ARMS
        if arm in with_data or arm in simulated
    ]
    handles += [
        Line2D([], [], color=MUTED, lw=1.6, label="best fit (line)"),
        Line2D(
            [],
            [],
            color=MUTED,
            marker="o",
            ms=4.5,
            ls="none",
            mec=INK,
            mew=0.5,
            label="data: mean ± SD of replicates",
        ),
    ]
    if replicates:
        handles.append(
            Line2D([], [], color=MUTED, marker="o", ms=3, ls="none", alpha=0.4, label="replicate")
        )
    variant = fit.problem.model.variant
    width = fig.get_figwidth()
    title = (
        f"paracrine fit — variant {variant} (nllh {fit.result.nllh:.2f}): bands ÷ fitted "
        "blot scale, fold over the model's unstimulated level"
    )
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=4 if width >= 7 else 2,  # a one-line figure is narrow: the legend must fit it
        fontsize=8,
        frameon=False,
        title="\n".join(textwrap.wrap(title, width=int(13 * width))),
        title_fontsize=9,
    )
    return fig


def plot_residuals(
    fit: BlotFit, *, time_scale: str = "linear", figsize: tuple[float, float] | None = None
):
    """Weighted residuals (data − model, in units of the fitted noise σ; on the log scale for
    log-normal noise) against time, one panel per read-out; colour = arm, marker = cell line,
    dotted lines at ±2σ. A legend says what colour and marker mean."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    _check_time_scale(time_scale)
    data = fit.data_with_fit()
    inner = fit.inner_parameters()
    readouts = fit.problem.readouts
    t_max = float(max(data["time_min"].max(), 1.0))
    fig, axes = plt.subplots(
        1,
        len(readouts),
        figsize=figsize or (3.4 * len(readouts), 3.6),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    sigma = inner["sigma"]
    markers = cell_line_markers(fit.problem.cell_lines)
    conditions = list(dict.fromkeys(data["condition"]))
    arms = [a for a in ARMS if a in conditions] + [c for c in conditions if c not in ARMS]
    offsets = {line: 0.8 * (k - (len(markers) - 1) / 2) for k, line in enumerate(markers)}
    xlabel = "time (min)"
    for k, readout in enumerate(readouts):
        ax = axes[0][k]
        rows = data[data["readout"] == readout]
        s = sigma.get(readout, next(iter(sigma.values())))
        if fit.problem.noise == "lognormal":
            res = (np.log(rows["value"]) - np.log(rows["model"])) / s
        else:
            res = (rows["value"] - rows["model"]) / s
        for line, marker in markers.items():
            for arm in arms:
                m = ((rows["cell_line"] == line) & (rows["condition"] == arm)).to_numpy()
                if not m.any():
                    continue
                ax.scatter(
                    rows["time_min"][m] + offsets[line],
                    res[m],
                    marker=marker,
                    s=16,
                    color=_arm_style(arm)["color"],
                    alpha=0.75,
                    edgecolor="none",
                )
        ax.axhline(0, color=INK, lw=0.8)
        for bound in (-2, 2):
            ax.axhline(bound, color=GUIDE, lw=0.8, ls=":")
        ax.set_title(readout)
        xlabel = set_time_scale(ax, time_scale, t_max)
        ax.set_xlim(*_time_limits(time_scale, t_max))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.25)
    noise = "log(data) − log(model)" if fit.problem.noise == "lognormal" else "data − model"
    axes[0][0].set_ylabel(f"weighted residual: ({noise}) / σ")
    handles = [
        Line2D([], [], ls="none", marker="o", ms=6, color=_arm_style(arm)["color"], label=arm)
        for arm in arms
    ]
    handles += [
        Line2D([], [], ls="none", marker=m, ms=6, color=MUTED, mfc="none", label=line)
        for line, m in markers.items()
    ]
    handles.append(Line2D([], [], color=GUIDE, ls=":", lw=1.0, label="±2σ"))
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=len(handles),
        fontsize=8,
        frameon=False,
        title="colour: arm · marker: cell line",
        title_fontsize=8,
    )
    return fig
