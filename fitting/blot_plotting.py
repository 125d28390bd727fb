"""Plots of blot fits: data (scale factors applied) over model time courses, and residuals.

matplotlib is imported inside the functions; each returns its ``Figure``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from paracrine.vocabulary import ARM_COLOURS, ARMS, CONTROL, condition_colours, condition_label

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from paracrine.fitting.blotfit import BlotFit

__all__ = ["plot_fit", "plot_residuals"]


def plot_fit(fit: BlotFit, *, figsize: tuple[float, float] | None = None):
    """Read-out × cell line panels: bands divided by their fitted blot scale (points) and the
    best-fit time courses (lines), both as fold over the model's unstimulated level,
    conditions as colours."""
    import matplotlib.pyplot as plt

    data = fit.data_with_fit()
    sim = fit.simulate_arms()
    readouts, lines = fit.problem.readouts, fit.problem.cell_lines
    fig, axes = plt.subplots(
        len(readouts),
        len(lines),
        figsize=figsize or (4.2 * len(lines), 2.8 * len(readouts)),
        squeeze=False,
        sharex=True,
    )
    for i, readout in enumerate(readouts):
        for j, line in enumerate(lines):
            ax = axes[i][j]
            # fold over the unstimulated level: blots fix only relative levels
            basal = float(sim.get(condition_label(CONTROL, line), readout)[0])
            for arm in ARMS:
                colour = ARM_COLOURS[arm]
                name = condition_label(arm, line)
                if name in [c.name for c in sim.conditions]:
                    ax.plot(
                        sim.times, sim.get(name, readout) / basal, color=colour, lw=1.8, label=arm
                    )
                rows = data[
                    (data["cell_line"] == line)
                    & (data["readout"] == readout)
                    & (data["condition"] == arm)
                ]
                if len(rows):
                    ax.scatter(
                        rows["time_min"],
                        rows["normalized"] / basal,
                        s=12,
                        color=colour,
                        alpha=0.6,
                        edgecolor="none",
                    )
            ax.set_title(f"{readout} — {line}", fontsize="medium")
            if j == 0:
                ax.set_ylabel(f"{readout} (fold over unstimulated)")
            if i == len(readouts) - 1:
                ax.set_xlabel("time (min)")
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize="small", frameon=False)
    variant = fit.problem.model.variant
    fig.suptitle(
        f"paracrine fit — variant {variant}: points = bands ÷ fitted blot scale, lines = best fit "
        f"(nllh {fit.result.nllh:.2f}); both as fold over the unstimulated level",
        fontsize="medium",
    )
    fig.tight_layout()
    return fig


def plot_residuals(fit: BlotFit, *, figsize: tuple[float, float] | None = None):
    """Weighted residuals against time, one panel per read-out, cell lines as markers."""
    import matplotlib.pyplot as plt

    data = fit.data_with_fit()
    inner = fit.inner_parameters()
    readouts = fit.problem.readouts
    fig, axes = plt.subplots(
        1, len(readouts), figsize=figsize or (3.6 * len(readouts), 3.2), squeeze=False, sharey=True
    )
    sigma = inner["sigma"]
    markers = dict(zip(fit.problem.cell_lines, "osD^v", strict=False))
    palette = condition_colours(data["condition"])
    for k, readout in enumerate(readouts):
        ax = axes[0][k]
        rows = data[data["readout"] == readout]
        s = sigma.get(readout, next(iter(sigma.values())))
        if fit.problem.noise == "lognormal":
            res = (np.log(rows["value"]) - np.log(rows["model"])) / s
        else:
            res = (rows["value"] - rows["model"]) / s
        for line, marker in markers.items():
            m = (rows["cell_line"] == line).to_numpy()
            colours = [palette[c] for c in rows["condition"][m]]
            ax.scatter(
                rows["time_min"][m], res[m], marker=marker, s=14, c=colours, alpha=0.7, label=line
            )
        ax.axhline(0, color="k", lw=0.8)
        for bound in (-2, 2):
            ax.axhline(bound, color="k", lw=0.5, ls=":")
        ax.set_title(readout)
        ax.set_xlabel("time (min)")
    axes[0][0].set_ylabel("weighted residual (σ units)")
    axes[0][0].legend(fontsize="small", frameon=False)
    fig.tight_layout()
    return fig
