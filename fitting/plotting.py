"""Plots of multistart results: waterfall and parameter end points.

matplotlib is imported inside the functions, so importing this module is free. Every function
takes an optional ``ax`` and returns the ``Axes`` it drew on (``ax.figure.savefig(...)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.vocabulary import (
    FAINT,
    GUIDE,
    HIGHLIGHT,
    INK,
    MUTED,
    SEQUENTIAL_CMAP,
    WARNING,
)

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from matplotlib.axes import Axes

    from paracrine.fitting.result import FitResult

__all__ = ["AT_BOUND_DECADES", "plot_parameters", "plot_petab_fit", "plot_waterfall"]


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
    ax.plot(rank, delta, color=GUIDE, lw=0.8, zorder=1)
    ax.scatter(
        rank[hit],
        delta[hit],
        color=HIGHLIGHT,
        s=18,
        zorder=2,
        label=f"hits (Δnllh ≤ {tol:g}): {int(hit.sum())}",
    )
    if (~hit).any():
        ax.scatter(rank[~hit], delta[~hit], color=MUTED, s=18, zorder=2, label="others")
    # at least one decade, so that a waterfall of near-identical optima still gets tick labels
    ceiling = max(10.0, 1.5 * float(delta.max())) if delta.size else 10.0
    if result.n_failed:  # failed starts have no nllh: mark them along the top edge
        failed = np.arange(len(ok), len(ok) + result.n_failed)
        ax.scatter(
            failed,
            np.full(failed.size, ceiling / 1.3),
            marker="x",
            color=WARNING,
            label=f"failed: {result.n_failed}",
        )
    ax.set_yscale("log")
    ax.set_ylim(0.8, ceiling)
    ax.set_xlabel("start (sorted by nllh)")
    ax.set_ylabel("nllh − best nllh + 1")
    ax.set_title(f"waterfall: {len(result.starts)} starts, best nllh {result.nllh:.6g}")
    ax.legend(loc="upper left", fontsize="small")
    return ax


#: A best value within this many decades (log10 units of the optimisation scale) of a bound
#: counts as at the bound: ``R6_tot[MCF-7]`` at −1.998 against −2 is at its bound. The same
#: rule as :meth:`paracrine.fitting.BlotFit.parameters_at_bounds` (the report's table).
AT_BOUND_DECADES = 0.01


def _natural_scale(result: FitResult) -> tuple[str, list[str]]:
    """How the optimisation scale relates to ``result.values``, and the display names.

    ``("log10", names)`` when the values are 10**x (blot fits; the names are the values'
    keys, e.g. ``k1`` for ``log10_k1``), ``("natural", names)`` when they equal x, else
    ``("optimisation", parameter_names)``.
    """
    names = list(result.parameter_names)
    values = dict(result.values)
    x = np.asarray(result.x, dtype=float)
    if len(values) != len(names) or not np.all(np.isfinite(x)):
        return "optimisation", names
    keys = names if all(n in values for n in names) else list(values)
    natural = np.array([values[k] for k in keys], dtype=float)
    with np.errstate(over="ignore"):
        if np.allclose(np.power(10.0, x), natural, rtol=1e-6, atol=0.0):
            return "log10", keys
    if np.allclose(x, natural, rtol=1e-9, atol=1e-12):
        return "natural", keys
    return "optimisation", names


def _unit(name: str, free_parameters: Sequence[Any] | None) -> str | None:
    """Unit of a free parameter from the parameter table (``id`` or ``id[cell line]``)."""
    from paracrine.models import default_table

    parameter = name.split("[", 1)[0]
    for p in free_parameters or ():
        if getattr(p, "name", None) == name:
            parameter = p.parameter
    table = default_table()
    return table[parameter].unit if parameter in table else None


def _display(name: str, unit: str | None) -> str:
    base, _, line = name.partition("[")
    label = f"{base} [{line.rstrip(']')}]" if line else base
    if unit and unit != "dimensionless":
        label += f"  ({unit})"
    return label


def _interval(value: Any, log10: bool) -> tuple[float, float] | None:
    """(low, high) on the natural scale from a ``(low, high)`` pair (natural scale) or a
    :class:`~paracrine.fitting.profiles.Profile` (optimisation scale; ±inf: open side)."""
    if value is None:
        return None
    if hasattr(value, "lower") and hasattr(value, "upper") and hasattr(value, "threshold"):
        low, high = float(value.lower), float(value.upper)
        return (10.0**low, 10.0**high) if log10 else (low, high)
    low, high = value
    return float(low), float(high)


def plot_parameters(
    result: FitResult,
    ax: Axes | None = None,
    *,
    tol: float | None = None,
    intervals: Mapping[str, Any] | None = None,
    free_parameters: Sequence[Any] | None = None,
    interval_label: str = "95% profile-likelihood interval",
    profiled: Sequence[str] = (),
) -> Axes:
    """The best fit's parameters on their natural scale with units, one row per parameter.

    Each row shows the allowed range (the bounds, a grey bar), the end points of the other
    starts within *tol* (faint), the best value (filled), its profile-likelihood interval
    where one was computed (*intervals*) and, in orange, a parameter whose best value lies at
    a bound (within :data:`AT_BOUND_DECADES` decades). Values are printed at the right. The
    axis is logarithmic when the optimisation scale is log10 (blot fits), linear otherwise.

    Parameters
    ----------
    result
        A multistart result.
    ax
        Axes to draw on (a new figure sized to the number of parameters if None).
    tol
        Show other starts within *tol* of the best nllh (all successful starts if None).
    intervals
        ``{parameter name: (low, high)}`` on the natural scale, or ``{name: Profile}``
        (:func:`paracrine.fitting.profiles.profile_all`); an infinite side is drawn as an
        arrow to the bound (not bounded by the data). Parameters without an entry get none.
    profiled
        Names whose *intervals* are profile likelihoods while the others' are not (e.g.
        Laplace): theirs are drawn in black, the others' in grey, each with its own legend
        entry (*interval_label* then names the others).
    interval_label
        What the *intervals* are, for the legend (e.g. ``"95% Laplace interval"`` when they
        come from the curvature instead of profiles).
    free_parameters
        The problem's :class:`~paracrine.fitting.problem.FreeParameter` list
        (``BlotProblem.free_parameters``) to look units up by model parameter; without it the
        model parameter is read from the name (``id`` or ``id[cell line]``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    scale, names = _natural_scale(result)
    log10 = scale == "log10"
    keys = list(result.parameter_names)
    n = len(names)
    own_figure = ax is None
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8.0, 1.6 + 0.26 * max(n, 3)), layout="constrained")
    to_natural = (lambda v: np.power(10.0, v)) if log10 else (lambda v: np.asarray(v, float))
    rows = np.arange(n)
    ok = [s for s in result.starts if not s.failed]
    if tol is not None:
        ok = [s for s in ok if s.nllh <= result.nllh + tol]
    lower, upper = to_natural(result.lower), to_natural(result.upper)
    # allowed range: a light bar from bound to bound
    ax.barh(rows, upper - lower, left=lower, height=0.55, color=FAINT, edgecolor=GUIDE, lw=0.6)
    others = ok[1:]
    if others:
        xs = np.array([to_natural(s.x) for s in others])
        ax.scatter(
            xs.ravel(), np.tile(rows, len(others)), s=9, color=MUTED, alpha=0.35, lw=0, zorder=2
        )
    best = np.asarray(result.x, dtype=float)
    span = np.asarray(result.upper) - np.asarray(result.lower)
    margin = AT_BOUND_DECADES if log10 else AT_BOUND_DECADES * span
    at_bound = np.isfinite(best) & (
        (best - np.asarray(result.lower) < margin) | (np.asarray(result.upper) - best < margin)
    )
    has_interval = False
    for k, name in enumerate(names):
        given = intervals or {}
        interval = _interval(given.get(name, given.get(keys[k])), log10)
        if interval is None:
            continue
        has_interval = True
        low, high = interval
        # an open side (the profile reached the bound below the threshold) ends at the bound
        open_low = not np.isfinite(low) or (log10 and low <= 0)
        open_high = not np.isfinite(high)
        left = lower[k] if open_low else low
        right = upper[k] if open_high else high
        colour = MUTED if profiled and name not in profiled else INK
        ax.plot([left, right], [k, k], color=colour, lw=1.6, zorder=3, solid_capstyle="butt")
        for end, is_open, arrow in ((left, open_low, "<"), (right, open_high, ">")):
            ax.plot(end, k, marker=arrow if is_open else "|", ms=7, color=colour, mew=1.6, zorder=3)
    natural_best = to_natural(best)
    ax.scatter(
        natural_best[~at_bound], rows[~at_bound], s=34, color=HIGHLIGHT, edgecolor=INK,
        lw=0.6, zorder=4,
    )  # fmt: skip
    ax.scatter(
        natural_best[at_bound], rows[at_bound], s=60, marker="D", color=WARNING,
        edgecolor=INK, lw=0.6, zorder=4,
    )  # fmt: skip
    units = [_unit(name, free_parameters) for name in names]
    ax.set_yticks(rows, labels=[_display(nm, u) for nm, u in zip(names, units, strict=True)])
    for label, flagged in zip(ax.get_yticklabels(), at_bound, strict=True):
        if flagged:
            label.set_color(WARNING)
            label.set_fontweight("bold")
    ax.tick_params(axis="y", labelsize=8 if n > 20 else 9)
    ax.set_ylim(n - 0.5, -0.5)
    if log10:
        ax.set_xscale("log")
    ax.grid(axis="x", which="major", color=GUIDE, alpha=0.3, lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(
        {
            "log10": "best-fit value, natural units (log scale; unit after each name)",
            "natural": "best-fit value (unit after each name)",
            "optimisation": "value (optimisation scale)",
        }[scale]
    )
    for k, value in enumerate(natural_best):
        ax.annotate(
            f"{value:.3g}", xy=(1.01, k), xycoords=("axes fraction", "data"), va="center",
            fontsize=7 if n > 20 else 8, color=WARNING if at_bound[k] else INK,
        )  # fmt: skip
    handles = [
        Patch(facecolor=FAINT, edgecolor=GUIDE, label="allowed range (bounds)"),
        Line2D([], [], ls="", marker="o", ms=6, color=HIGHLIGHT, mec=INK, label="best fit"),
    ]
    if at_bound.any():
        handles.append(
            Line2D([], [], ls="", marker="D", ms=6, color=WARNING, mec=INK,
                   label=f"at a bound ({int(at_bound.sum())})")
        )  # fmt: skip
    if others:
        what = "other starts" if tol is None else f"other starts within Δnllh {tol:g}"
        handles.append(Line2D([], [], ls="", marker="o", ms=4, color=MUTED, alpha=0.5, label=what))
    if has_interval and profiled:
        handles += [
            Line2D([], [], color=INK, lw=1.6, marker="|", ms=7,
                   label="95% profile-likelihood interval (arrow: not bounded by the data)"),
            Line2D([], [], color=MUTED, lw=1.6, marker="|", ms=7, label=interval_label),
        ]  # fmt: skip
    elif has_interval:
        handles.append(
            Line2D([], [], color=INK, lw=1.6, marker="|", ms=7,
                   label=f"{interval_label} (arrow: not bounded by the data)")
        )  # fmt: skip
    finite = np.concatenate([lower, upper, natural_best])
    finite = finite[np.isfinite(finite) & ((finite > 0) if log10 else True)]
    if finite.size and log10:
        ax.set_xlim(finite.min() / 2.0, finite.max() * 2.0)
    title = f"{n} free parameters, best of {len(ok)} successful starts (nllh {result.nllh:.6g})"
    ax.set_title(title, fontsize=9)
    ax.annotate(
        "best", xy=(1.01, 1.0), xycoords="axes fraction", va="bottom", fontsize=8, color=INK,
        fontweight="bold",
    )  # fmt: skip
    if own_figure:
        ax.figure.legend(
            handles=handles, loc="outside upper center", ncols=2, fontsize=8, frameon=False
        )
    else:
        ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.9)
    return ax


#: At most this many observables get a panel in :func:`plot_petab_fit` (the figure says so).
MAX_FIT_PANELS = 16
#: Above this many conditions the fit figure names none in its legend (colours cycle).
MAX_LEGEND_CONDITIONS = 10


def plot_petab_fit(
    table,  # DataFrame: PetabProblem.fit_table
    *,
    log_observables: Sequence[str] = (),
    title: str | None = None,
    time_unit: str = "model time units",
):  # -> Figure
    """A PEtab fit against its data: one panel per observable, the measurements as points and
    the fitted simulation as lines, one colour per (pre-equilibration, simulation) condition.

    Parameters
    ----------
    table
        :meth:`PetabProblem.fit_table`: ``observableId, preequilibrationConditionId,
        simulationConditionId, time, measurement, simulation``.
    log_observables
        Observables with a log or log10 transformation: drawn on a log axis.
    title
        Figure title.
    time_unit
        The model's time unit, for the axis label (PEtab does not state one).
    """
    import math

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from paracrine.vocabulary import condition_colours

    frame = table.copy()
    pre = frame["preequilibrationConditionId"].fillna("").astype(str)
    sim = frame["simulationConditionId"].astype(str)
    frame["condition"] = [f"{p} → {s}" if p else s for p, s in zip(pre, sim, strict=True)]
    observables = list(dict.fromkeys(frame["observableId"]))
    shown = observables[:MAX_FIT_PANELS]
    conditions = list(dict.fromkeys(frame["condition"]))
    colours = condition_colours(conditions)
    if len(set(colours.values())) < len(conditions):  # more than the palette's own colours
        cmap = plt.get_cmap(SEQUENTIAL_CMAP)
        colours = {c: cmap(k / max(len(conditions) - 1, 1) * 0.9) for k, c in enumerate(conditions)}
    ncols = min(len(shown), 4)
    nrows = math.ceil(len(shown) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.4 * ncols, 2.6 * nrows + 0.8), squeeze=False, layout="constrained"
    )
    for ax, obs in zip(axes.flat, shown, strict=False):
        rows = frame[frame["observableId"] == obs]
        for condition, group in rows.groupby("condition", sort=False):
            group = group.sort_values("time")
            colour = colours[condition]
            finite = np.isfinite(group["time"].to_numpy(dtype=float))
            # the simulation at the measured times: a line, and a cross at each time so that
            # a condition measured once (a dose response) shows its fitted value too
            ax.plot(
                group["time"][finite],
                group["simulation"][finite],
                color=colour,
                lw=1.4,
                marker="x",
                ms=4,
                zorder=2,
            )
            ax.scatter(
                group["time"][finite],
                group["measurement"][finite],
                s=12,
                color=colour,
                edgecolors=INK,
                linewidths=0.3,
                zorder=3,
            )
        if obs in log_observables:
            ax.set_yscale("log")
        ax.set_title(obs, fontsize="medium")
        ax.set_xlabel(f"time ({time_unit})")
        ax.set_ylabel(obs + (" (log axis)" if obs in log_observables else ""))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], color=MUTED, lw=1.4, marker="x", ms=4, label="fitted simulation"),
        Line2D([], [], color=MUTED, marker="o", ls="none", mec=INK, mew=0.3, label="measurement"),
    ]
    if len(conditions) <= MAX_LEGEND_CONDITIONS:
        handles += [Line2D([], [], color=colours[c], lw=2, label=c) for c in conditions]
    note = []
    if len(conditions) > MAX_LEGEND_CONDITIONS:
        note.append(f"{len(conditions)} conditions (colours cycle)")
    if len(observables) > len(shown):
        note.append(f"first {len(shown)} of {len(observables)} observables")
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(len(handles), 4),
        fontsize=8,
        frameon=False,
        title="; ".join(filter(None, [title, *note])) or None,
        title_fontsize=9,
    )
    return fig
