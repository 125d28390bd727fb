"""Plots of simulation results (matplotlib is imported only when a plot is made)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from paracrine.errors import InvalidInputError
from paracrine.models import OBSERVABLES
from paracrine.vocabulary import (
    ARM_LINE_STYLES,
    ARMS,
    TIME_SCALES,
    condition_colours,
    set_time_scale,
    split_condition_label,
)

if TYPE_CHECKING:
    from paracrine.simulations.timecourse import SimulationResult

__all__ = ["dose_ticks", "format_dose", "plot_timecourses"]


def _ylabel(output: str) -> str:
    if output in OBSERVABLES:
        return f"{output}\n(phosphorylated fraction)"
    return f"[{output}] (nM)"


def _unit(outputs: Sequence[str]) -> str:
    if all(o in OBSERVABLES for o in outputs):
        return "phosphorylated fraction"
    if not any(o in OBSERVABLES for o in outputs):
        return "concentration (nM)"
    return "fraction or nM (see title)"


def _shared_treatment(conditions) -> str:
    """What every condition shares besides its ligands: perturbations, antibodies, MSC-CM."""
    parts: list[str] = []
    first = conditions[0]
    labels = [tuple(p.label() for p in c.perturbations) for c in conditions]
    if labels and all(lab == labels[0] for lab in labels):
        parts += list(labels[0])
    for attribute, text in (
        ("bevacizumab_ug_ml", "bevacizumab {:g} µg/mL"),
        ("anti_il6_ug_ml", "anti-IL-6 {:g} µg/mL"),
    ):
        value = getattr(first, attribute, 0.0)
        if value and all(getattr(c, attribute, 0.0) == value for c in conditions):
            parts.append(text.format(value))
    fraction = getattr(first, "msc_cm_fraction", 0.0)
    if fraction and all(getattr(c, "msc_cm_fraction", 0.0) == fraction for c in conditions):
        parts.append(f"{100 * fraction:g}% MSC-CM")
    return ", ".join(parts)


def _arm(name: str, cell_line: str) -> str:
    """The condition's name without its cell line (``"IL-6 [MCF-7]"`` → ``"IL-6"``)."""
    arm, line = split_condition_label(name)
    return arm if line in (None, cell_line) else name


def plot_timecourses(
    result: SimulationResult,
    outputs: Sequence[str] | None = None,
    *,
    time_scale: str = "linear",
    sharey: str | bool = "col",
    figsize: tuple[float, float] | None = None,
):
    """Cell line (rows) × output (columns), one line per condition; time in minutes.

    A condition is labelled by its arm (``"IL-6"``, not ``"IL-6 [MCF-7]"``: the row names the
    cell line) and keeps one colour and line style in every panel
    (:func:`paracrine.vocabulary.condition_colours`, ``ARM_LINE_STYLES``: IL-6 dashed over a
    wider IL-6+VEGF). One legend above the panels.

    Parameters
    ----------
    result
        A simulation.
    outputs
        Outputs to draw (default: all of the result's).
    time_scale
        ``"linear"``, ``"sqrt"`` or ``"log"`` (see :func:`paracrine.vocabulary.set_time_scale`).
    sharey
        Passed to ``plt.subplots``: ``"col"`` (default) compares cell lines on one scale.
    figsize
        Figure size in inches (default 3.3 × 2.4 per panel).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("x.png", dpi=300)`` or ``.svg``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if time_scale not in TIME_SCALES:
        raise InvalidInputError(
            f"time_scale: expected one of {', '.join(TIME_SCALES)}, received {time_scale!r}"
        )
    outputs = list(outputs or result.outputs)
    lines = list(dict.fromkeys(c.cell_line for c in result.conditions))
    fig, axes = plt.subplots(
        len(lines),
        len(outputs),
        figsize=figsize or (3.3 * len(outputs) + 0.6, 2.4 * len(lines) + 0.9),
        squeeze=False,
        sharex=True,
        sharey=sharey,
        layout="constrained",
    )
    arms = [_arm(c.name, c.cell_line) for c in result.conditions]
    order = [a for a in ARMS if a in arms] + [a for a in dict.fromkeys(arms) if a not in ARMS]
    colours = condition_colours(order)
    t_max = float(max(result.times[-1], 1.0))
    shared = _shared_treatment(result.conditions) if result.conditions else ""
    xlabel = "time (min)"
    for i, line in enumerate(lines):
        for j, output in enumerate(outputs):
            ax = axes[i][j]
            for cond, arm in zip(result.conditions, arms, strict=True):
                if cond.cell_line != line:
                    continue
                style = dict(ARM_LINE_STYLES.get(arm, {"ls": "-", "lw": 1.6, "zorder": 3}))
                ax.plot(result.times, result.get(cond.name, output), color=colours[arm], **style)
            xlabel = set_time_scale(ax, time_scale, t_max)
            if i == 0:
                title = output if output in OBSERVABLES else f"[{output}] (nM)"
                ax.set_title(title, fontsize="medium", fontweight="bold")
            if len(lines) == 1:
                ax.set_ylabel(_ylabel(output))
            elif j == 0:  # the row's cell line above the unit
                ax.set_ylabel(f"{line}\n{_unit(outputs)}")
            if i == len(lines) - 1:
                ax.set_xlabel(xlabel)
            ax.grid(alpha=0.3)
    handles = [
        Line2D(
            [],
            [],
            color=colours[arm],
            label=arm,
            **{
                k: v
                for k, v in ARM_LINE_STYLES.get(arm, {"ls": "-", "lw": 1.6}).items()
                if k != "zorder"
            },
        )
        for arm in order
    ]
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(len(handles), 6),
        fontsize="small",
        frameon=False,
        title=f"paracrine — variant {result.variant}"
        + (f", {lines[0]}" if len(lines) == 1 else ": rows = cell lines")
        + (f"; every arm with {shared}" if shared else ""),
        title_fontsize="medium",
    )
    return fig


def format_dose(value: float) -> str:
    """A dose with at most two significant digits and no exponent: 0, 0.1, 3.2, 32, 100."""
    if value == 0:
        return "0"
    return np.format_float_positional(
        float(value), precision=2, unique=False, fractional=False, trim="-"
    )


def dose_ticks(doses: np.ndarray, most: int = 8) -> tuple[np.ndarray, list[str]]:
    """Cell indices and labels of a categorical dose axis (heat maps), doses in ng/mL.

    A grid of at most *most* doses: every dose, with two significant digits. A longer one: the
    round doses on it (0 and powers of ten, or 0 and 1-2-5 steps, whichever marks more, at
    least four), else *most* evenly spaced grid doses with two significant digits.

    Examples
    --------
    >>> dose_ticks(np.array([0, 0.1, 0.316, 1, 3.16, 10, 31.6, 100]))[1]
    ['0', '0.1', '1', '10', '100']
    >>> dose_ticks(np.array([0, 5, 25, 50]))[1]
    ['0', '5', '25', '50']
    """
    doses = np.asarray(doses, dtype=float)
    if doses.size <= most:
        return np.arange(doses.size), [format_dose(d) for d in doses]

    def on_grid(candidates: list[float]) -> list[int]:
        hits = set()
        for c in candidates:
            close = np.flatnonzero(np.isclose(doses, c, rtol=0.02, atol=1e-12))
            if close.size:
                hits.add(int(close[0]))
        picked = sorted(hits)
        if len(picked) > most:
            picked = [picked[round(i)] for i in np.linspace(0, len(picked) - 1, most)]
        return picked

    positive = doses[doses > 0]
    decades = range(-6, 7)
    if positive.size:
        lo, hi = np.floor(np.log10(positive.min())), np.ceil(np.log10(positive.max()))
        decades = range(int(lo), int(hi) + 1)
    options = [
        on_grid([0.0] + [m * 10.0**k for k in decades for m in mantissas])
        for mantissas in ((1.0,), (1.0, 2.0, 5.0))
    ]
    picked = max(options, key=len)
    if len(picked) < 4:
        step = -(-(doses.size - 1) // (most - 1))  # evenly spaced cells, dose 0 kept
        picked = list(range(0, doses.size, step))
    return np.array(picked), [format_dose(doses[i]) for i in picked]
