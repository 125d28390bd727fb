"""paracrine's IL-6 arm driven like Sobotta et al. 2017's hepatocyte experiments, against their data.

Sobotta et al. 2017 (Front Physiol 8:775) measured IL-6 → JAK1 → STAT3 → SOCS3 in *primary
mouse hepatocytes* (data read by ``benchmarks/sobotta_data.py`` from
``../shared/petab/Sobotta_Frontiers2017``; time in minutes, IL-6 as a step at t = 0).
Hepatocytes are not breast cancer cells: this compares the kinetics and the regime of
paracrine's IL-6 arm (how large a STAT3 fraction is phosphorylated, how long SOCS3 lags behind),
not whether its parameters are the hepatocytes'.

Run ``python benchmarks/sobotta_il6_arm.py [--fit FIT_JSON] [--cell-line MCF-7]
[--out benchmarks/results]``. paracrine is simulated with its default parameters (variant
``independent``, the chosen cell line's defaults) and, with ``--fit``, with a saved blot fit's
parameters for that line, for 0–240 min after an IL-6 step at every dose of Sobotta's IL-6-only
time courses. What is compared:

* **pSTAT3, absolute**: paracrine's ``pSTAT3`` read-out (phosphorylated fraction of all STAT3)
  × 100 against the mass-spectrometry % of *cytoplasmic* STAT3 (53.3–55.7 % at 18 min of
  40 ng/mL, 1.1 and 1.5 % at 18 min without IL-6; no other times were measured, so the data
  give no peak time — the model's is reported alone). paracrine has no nuclear compartment.
* **SOCS3 mRNA** (qPCR; paracrine ``mSOCS3``), **SOCS3 protein** (immunoblot; ``SOCS3``) and
  **pJAK1** (immunoblot; ``JAK_p``): relative units on both sides, so shapes are compared. Each
  data time course (one blot/experiment at one dose, ≥ 5 time points in 0–240 min, not from a
  blot named as a pulse experiment) is averaged over replicates and divided by its own maximum;
  model curves are divided by their own maximum over 0–240 min. The half-maximum rise time is
  the first time (linear interpolation) at which a curve reaches half-way from its first
  (t = 0, or earliest) value to its maximum — baseline-corrected, because blots carry an
  offset and paracrine has basal SOCS3; the peak time is the time of the maximum (on the
  data's coarse grid for data); the 120-min level (fraction of the maximum left, without
  baseline correction on either side) tells how far a curve adapts. The data's numbers are
  the median over the time courses of one dose (each one's numbers are in the CSV note); the
  "mean over blots" curve (each time course interpolated onto the union of their times) is
  for display only.

Outputs (``--out``): ``sobotta_il6_arm.csv`` (columns ``quantity, source, time_min, value,
unit, note``; source ∈ {data, paracrine_default, paracrine_fit}; the ``*_summary`` quantities
carry the numbers printed at the end), ``sobotta_il6_arm.png`` (300 dpi) and ``.svg``. Exits
with status 2 and a one-line message when the PEtab folder is absent.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results"
STEM = "sobotta_il6_arm"
CSV_COLUMNS = ["quantity", "source", "time_min", "value", "unit", "note"]
SOURCES = ("data", "paracrine_default", "paracrine_fit")
CELL_LINES = ("MCF-7", "T47D", "SK-Br-3")
#: the standard dose of Sobotta's experiments (ng/mL)
STANDARD_DOSE = 40.0
#: the time of the mass-spectrometry pSTAT3 measurements (min)
MS_TIME = 18.0
T_END = 240.0
#: fine grid for the model's metrics, coarse one for the CSV's model curves
FINE_TIMES = np.arange(0.0, T_END + 0.125, 0.25)
CSV_STEP = 5.0
#: a data time course needs this many distinct times in [0, T_END] to have a shape
MIN_TIMES = 5
#: the late time at which adaptation is read (fraction of the maximum left), min
LATE_TIME = 120.0

#: Sobotta observable -> (quantity name, paracrine output, label)
SHAPES = {
    "SOCS3_qpcr": ("SOCS3_mRNA", "mSOCS3", "SOCS3 mRNA"),
    "SOCS3_wb": ("SOCS3_protein", "SOCS3", "SOCS3 protein"),
    "pJAK1_wb": ("pJAK1", "JAK_p", "pJAK1"),
}
OUTPUTS = ["pSTAT3", "mSOCS3", "SOCS3", "JAK_p", "R6", "C6"]
#: colours: the fitted model in the IL-6 arm's colour; the default in Okabe–Ito orange (a hue
#: no arm uses); data black
DATA_COLOUR = "#000000"
DEFAULT_COLOUR = "#E69F00"


def _corner_note(ax, lines) -> None:
    """The numbers of a panel, boxed in its top-right corner."""
    ax.text(
        0.97,
        0.96,
        "\n".join(lines),
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=10.5,
        bbox={"fc": "white", "ec": "0.7", "alpha": 0.9},
    )


def _load_sobotta_data():
    """``benchmarks/sobotta_data.py`` as a module (benchmarks/ is not a package)."""
    name = "sobotta_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "sobotta_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


sobotta_data = _load_sobotta_data()
SobottaDataMissing = sobotta_data.SobottaDataMissing


def quantity(base: str, dose: float) -> str:
    """CSV quantity name: ``"SOCS3_mRNA_rel (IL-6 40 ng/mL)"``."""
    return f"{base} (IL-6 {dose:g} ng/mL)"


# -- data -----------------------------------------------------------------------------------
def data_pstat3(tables) -> pd.DataFrame:
    """The mass-spectrometry pSTAT3 % (IL-6 alone): ``il6_ng_ml, time_min, value``."""
    ms = sobotta_data.il6_only(sobotta_data.absolute_pstat3(tables))
    return ms[["il6_ng_ml", "time_min", "value"]].reset_index(drop=True)


def data_shape_points(tables, observable: str) -> pd.DataFrame:
    """Replicates of the usable time courses of *observable*, each divided by the maximum of
    its time course's replicate means.

    Columns: ``il6_ng_ml, blot, time_min, value, norm``. A time course is one blot at one dose
    with at least :data:`MIN_TIMES` distinct times in [0, T_END], not from a blot named as a
    pulse experiment (PEtab applies those as constant steps; sobotta_data.py flags them).
    """
    d = sobotta_data.il6_only(sobotta_data.tidy_measurements(tables, (observable,)))
    d = d[(d["time_min"] >= 0) & (d["time_min"] <= T_END) & (d["il6_ng_ml"] > 0)]
    d = d[~d["pulse_named"]]
    parts = []
    for (_dose, _blot), g in d.groupby(["il6_ng_ml", "blot"], sort=True):
        if g["time_min"].nunique() < MIN_TIMES:
            continue
        top = g.groupby("time_min")["value"].mean().max()
        if not top > 0:
            continue
        parts.append(g.assign(norm=g["value"] / top))
    columns = ["il6_ng_ml", "blot", "time_min", "value", "norm"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts)[columns].reset_index(drop=True)


def pooled_mean(points: pd.DataFrame) -> pd.DataFrame:
    """Mean over blots of the blot-normalised replicate means, for display: each blot's time
    course is interpolated linearly onto the union of the blots' times (only within its own
    time range). Columns ``time_min, value, n_blots``."""
    per_blot = {
        blot: g.groupby("time_min")["norm"].mean() for blot, g in points.groupby("blot", sort=True)
    }
    times = np.unique(points["time_min"].to_numpy(dtype=float))
    stack = np.full((len(per_blot), len(times)), np.nan)
    for i, m in enumerate(per_blot.values()):
        t = m.index.to_numpy(dtype=float)
        inside = (times >= t.min()) & (times <= t.max())
        stack[i, inside] = np.interp(times[inside], t, m.to_numpy())
    n = np.sum(np.isfinite(stack), axis=0)
    return pd.DataFrame({"time_min": times, "value": np.nanmean(stack, axis=0), "n_blots": n})


# -- shape metrics --------------------------------------------------------------------------
def half_max_time(times, values) -> float:
    """First time at which *values* reach half-way from their value at the first time to their
    maximum (linear interpolation); NaN for a curve that never rises."""
    t = np.asarray(times, dtype=float)
    y = np.asarray(values, dtype=float)
    order = np.argsort(t)
    t, y = t[order], y[order]
    peak = int(np.argmax(y))
    if not y[peak] > y[0]:
        return math.nan
    level = 0.5 * (y[0] + y[peak])
    k = int(np.argmax(y[: peak + 1] >= level))  # first index at or above the level
    if k == 0:
        return float(t[0])
    t0, t1, y0, y1 = t[k - 1], t[k], y[k - 1], y[k]
    return float(t0 + (level - y0) * (t1 - t0) / (y1 - y0))


def peak_time(times, values) -> float:
    """Time of the maximum (the first, if several)."""
    return float(np.asarray(times, dtype=float)[int(np.argmax(values))])


@dataclass(frozen=True)
class Shape:
    """Half-max rise and peak time of one time course (min), and its level at
    :data:`LATE_TIME` as a fraction of its maximum (how far it adapts; NaN if not measured)."""

    half_max_min: float
    peak_min: float
    late_fraction: float = math.nan

    @classmethod
    def of(cls, times, values) -> Shape:
        t = np.asarray(times, dtype=float)
        y = np.asarray(values, dtype=float)
        hit = np.isclose(t, LATE_TIME)
        late = float(y[hit][0] / y.max()) if hit.any() and y.max() > 0 else math.nan
        return cls(half_max_time(t, y), peak_time(t, y), late)


def _median(values) -> float:
    """Median of the finite values (NaN when there are none, without a warning)."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    return float(np.median(v)) if v.size else math.nan


def data_shapes(points: pd.DataFrame) -> tuple[Shape, list[tuple[str, Shape]]]:
    """Shape of each blot's own time course (replicate means), and their median over blots
    (the data's number: robust to one noisy blot; blots have different time grids)."""
    per_blot = []
    for blot, g in points.groupby("blot", sort=True):
        m = g.groupby("time_min")["norm"].mean()
        per_blot.append((blot, Shape.of(m.index, m.to_numpy())))
    median = Shape(
        _median(sh.half_max_min for _, sh in per_blot),
        _median(sh.peak_min for _, sh in per_blot),
        _median(sh.late_fraction for _, sh in per_blot),
    )
    return median, per_blot


# -- model ----------------------------------------------------------------------------------
def simulate_il6(model, cell_line: str, doses) -> dict[float, pd.DataFrame]:
    """paracrine after an IL-6 step at t = 0 (from the line's unstimulated steady state), on
    :data:`FINE_TIMES`: ``{dose: DataFrame(time_min, pSTAT3, mSOCS3, SOCS3, JAK_p, R6, C6)}``
    with pSTAT3 as a fraction in [0, 1]."""
    from paracrine.simulations import Condition, simulate

    doses = sorted({float(d) for d in doses} | {0.0})
    conds = [Condition(f"IL-6 {d:g}", cell_line, il6_ng_ml=d) for d in doses]
    res = simulate(model, conds, times=FINE_TIMES, outputs=OUTPUTS)
    out = {}
    for d, c in zip(doses, conds, strict=True):
        frame = pd.DataFrame({o: res.get(c.name, o) for o in OUTPUTS})
        frame.insert(0, "time_min", res.times)
        out[d] = frame
    return out


def model_at(frame: pd.DataFrame, column: str, time_min: float) -> float:
    return float(np.interp(time_min, frame["time_min"], frame[column]))


# -- the comparison -------------------------------------------------------------------------
@dataclass
class Comparison:
    """Everything the CSV, the figure and the summary are made of."""

    cell_line: str
    pstat3: pd.DataFrame  # data: il6_ng_ml, time_min, value (%)
    points: dict[str, pd.DataFrame]  # observable -> data_shape_points
    sims: dict[str, dict[float, pd.DataFrame]]  # source -> dose -> simulation
    labels: dict[str, str]  # source -> legend label
    params: dict[str, dict[str, float]]  # source -> parameter values of the cell line

    @property
    def model_sources(self) -> list[str]:
        return [s for s in SOURCES[1:] if s in self.sims]

    def shape_doses(self, observable: str) -> list[float]:
        return sorted(self.points[observable]["il6_ng_ml"].unique().tolist())

    def summary(self) -> pd.DataFrame:
        """One row per number: ``quantity, source, time_min, value, unit, note``."""
        rows = []

        def add(qty, source, time_min, value, unit, note=""):
            rows.append((qty, source, time_min, value, unit, note))

        ms = self.pstat3
        on = ms[ms["il6_ng_ml"] == STANDARD_DOSE]["value"]
        off = ms[ms["il6_ng_ml"] == 0]["value"]
        q18 = quantity(f"pSTAT3_pct_at_{MS_TIME:g}min_summary", STANDARD_DOSE)
        qb = quantity("pSTAT3_pct_basal_summary", 0.0)
        qp = quantity("pSTAT3_peak_summary", STANDARD_DOSE)
        pct = "% of STAT3"
        ms_note = f"mean of {len(on)} replicates ({on.min():g}–{on.max():g} %), cytoplasmic STAT3"
        add(q18, "data", MS_TIME, on.mean(), pct, ms_note)
        add(
            qb,
            "data",
            MS_TIME,
            off.mean(),
            pct,
            f"mean of {len(off)} ({off.min():g}, {off.max():g} %)",
        )
        for s in self.model_sources:
            add(
                "model_summary",
                s,
                math.nan,
                math.nan,
                "",
                f"{self.labels[s]}; cell line {self.cell_line}",
            )
            on_sim, off_sim = self.sims[s][STANDARD_DOSE], self.sims[s][0.0]
            add(q18, s, MS_TIME, 100 * model_at(on_sim, "pSTAT3", MS_TIME), pct, "all STAT3")
            add(qb, s, MS_TIME, 100 * model_at(off_sim, "pSTAT3", MS_TIME), pct, "steady state")
            t_pk = peak_time(on_sim["time_min"], on_sim["pSTAT3"])
            add(qp, s, t_pk, 100 * on_sim["pSTAT3"].max(), pct, "time of the peak and its value")
            pk = on_sim["pSTAT3"]
            add(
                quantity("pSTAT3_half_max_time_summary", STANDARD_DOSE),
                s,
                math.nan,
                half_max_time(on_sim["time_min"], pk),
                "min",
                "rise from basal to half the peak",
            )
            rest = off_sim.iloc[0]
            pv = self.params[s]
            add(
                "resting_SOCS3_over_Ki_socs3_summary",
                s,
                0.0,
                rest["SOCS3"] / pv.get("Ki_socs3", math.nan),
                "dimensionless",
                "JAK activation at rest is damped by 1/(1 + this)",
            )
            add(
                "resting_receptor_fraction_summary",
                s,
                0.0,
                (rest["R6"] + rest["C6"]) / pv.get("R6_tot", math.nan),
                "dimensionless",
                "(R6 + C6)/R6_tot at the unstimulated steady state (SOCS3-targeted degradation)",
            )
        for obs, (base, output, _label) in SHAPES.items():
            for dose in self.shape_doses(obs):
                pts = self.points[obs][self.points[obs]["il6_ng_ml"] == dose]
                median, per_blot = data_shapes(pts)
                blots = "; ".join(
                    f"{b}: {sh.half_max_min:.1f}/{sh.peak_min:g}/{sh.late_fraction:.2f}"
                    for b, sh in per_blot
                )
                note = (
                    f"median over {len(per_blot)} blot(s); per blot half-max (min)/peak (min)/"
                    f"level at {LATE_TIME:g} min (of max; nan = not measured): {blots}"
                )
                shapes = {"data": (median, note)}
                for s in self.model_sources:
                    sim = self.sims[s][dose]
                    shapes[s] = (Shape.of(sim["time_min"], sim[output]), f"paracrine {output}")
                for s, (sh, nt) in shapes.items():
                    add(
                        quantity(f"{base}_half_max_time_summary", dose),
                        s,
                        math.nan,
                        sh.half_max_min,
                        "min",
                        nt,
                    )
                    add(
                        quantity(f"{base}_peak_time_summary", dose),
                        s,
                        math.nan,
                        sh.peak_min,
                        "min",
                        nt,
                    )
                    add(
                        quantity(f"{base}_late_fraction_summary", dose),
                        s,
                        LATE_TIME,
                        sh.late_fraction,
                        "fraction of own maximum",
                        nt,
                    )
        return pd.DataFrame(rows, columns=CSV_COLUMNS)

    def curves(self) -> pd.DataFrame:
        """Data points and model curves in the CSV's columns."""
        rows = []
        ms = self.pstat3
        for r in ms.itertuples(index=False):
            rows.append(
                (
                    quantity("pSTAT3_pct", r.il6_ng_ml),
                    "data",
                    r.time_min,
                    r.value,
                    "% of cytoplasmic STAT3",
                    "mass spectrometry, one replicate",
                )
            )
        grid = np.arange(0.0, T_END + 1e-9, CSV_STEP)
        for s in self.model_sources:
            for dose in sorted({0.0, STANDARD_DOSE}):
                sim = self.sims[s][dose]
                for t in grid:
                    rows.append(
                        (
                            quantity("pSTAT3_pct", dose),
                            s,
                            t,
                            100 * model_at(sim, "pSTAT3", t),
                            "% of STAT3",
                            "paracrine pSTAT3 fraction x 100",
                        )
                    )
        for obs, (base, output, _label) in SHAPES.items():
            for dose in self.shape_doses(obs):
                pts = self.points[obs][self.points[obs]["il6_ng_ml"] == dose]
                q = quantity(f"{base}_rel", dose)
                unit = "fraction of own maximum"
                for r in pts.itertuples(index=False):
                    rows.append(
                        (
                            q,
                            "data",
                            r.time_min,
                            r.norm,
                            unit,
                            f"replicate; blot {r.blot} / max of its replicate means",
                        )
                    )
                for r in pooled_mean(pts).itertuples(index=False):
                    rows.append(
                        (
                            q,
                            "data",
                            r.time_min,
                            r.value,
                            unit,
                            f"mean over {r.n_blots} blot-normalised time course(s), "
                            "linearly interpolated (display only)",
                        )
                    )
                times = np.union1d(grid, pts["time_min"].unique())
                for s in self.model_sources:
                    sim = self.sims[s][dose]
                    top = sim[output].max()
                    for t in times:
                        rows.append(
                            (
                                q,
                                s,
                                t,
                                model_at(sim, output, t) / top,
                                unit,
                                f"paracrine {output} / its maximum over 0-{T_END:g} min",
                            )
                        )
        return pd.DataFrame(rows, columns=CSV_COLUMNS)

    def table(self) -> pd.DataFrame:
        return pd.concat([self.curves(), self.summary()], ignore_index=True)


def load_fit_model(path: str | Path):
    """The best-fit :class:`~paracrine.models.Model` of a saved blot fit."""
    from paracrine.fitting.blotfit import BlotFit

    fit = BlotFit.load(path)
    return fit.model


def compare(tables, cell_line: str = "MCF-7", fit_model=None, fit_label: str = "") -> Comparison:
    """Simulate paracrine (defaults and, if given, *fit_model*) at Sobotta's IL-6 doses."""
    from paracrine.models import Model

    pstat3 = data_pstat3(tables)
    points = {obs: data_shape_points(tables, obs) for obs in SHAPES}
    doses = set(pstat3["il6_ng_ml"]) | {STANDARD_DOSE}
    for p in points.values():
        doses |= set(p["il6_ng_ml"])
    models = {"paracrine_default": Model("independent")}
    labels = {"paracrine_default": f"paracrine, default parameters ({cell_line})"}
    if fit_model is not None:
        models["paracrine_fit"] = fit_model
        labels["paracrine_fit"] = fit_label or f"paracrine, fitted ({cell_line})"
    sims = {s: simulate_il6(m, cell_line, doses) for s, m in models.items()}
    params = {s: m.parameter_values(cell_line) for s, m in models.items()}
    return Comparison(cell_line, pstat3, points, sims, labels, params)


# -- figure ---------------------------------------------------------------------------------
def plot(cmp: Comparison, dose: float = STANDARD_DOSE):
    """pSTAT3 % and the three normalised shapes at *dose*: data black, models coloured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from paracrine.vocabulary import ARM_COLOURS, IL6_ARM

    colours = {"paracrine_default": DEFAULT_COLOUR, "paracrine_fit": ARM_COLOURS[IL6_ARM]}
    plt.rcParams.update({"font.size": 12, "axes.titlesize": 13, "svg.hashsalt": STEM})
    panels = [obs for obs in SHAPES if dose in cmp.shape_doses(obs)]
    fig, axes = plt.subplots(2, 2, figsize=(12.5, 9.0), sharex=True)
    axes = axes.ravel()

    ax = axes[0]
    ms = cmp.pstat3
    for s in cmp.model_sources:
        for d, ls in ((dose, "-"), (0.0, "--")):
            sim = cmp.sims[s][d]
            ax.plot(sim["time_min"], 100 * sim["pSTAT3"], color=colours[s], ls=ls, lw=2.2)
    on = ms[ms["il6_ng_ml"] == dose]
    off = ms[ms["il6_ng_ml"] == 0]
    ax.plot(on["time_min"], on["value"], "o", color=DATA_COLOUR, ms=8, zorder=5)
    ax.plot(off["time_min"], off["value"], "o", mfc="white", mec=DATA_COLOUR, ms=8, zorder=5)
    ax.annotate(
        f"MS data {on['value'].min():.1f}–{on['value'].max():.1f} %",
        (MS_TIME, on["value"].max()),
        xytext=(32, 58),
        textcoords="data",
        fontsize=11,
        arrowprops={"arrowstyle": "-", "color": "0.4"},
    )
    text = [
        f"at {MS_TIME:g} min, {dose:g} ng/mL: data {on['value'].mean():.1f} %",
        *(
            f"{'default' if s == 'paracrine_default' else 'fit'}: "
            f"{100 * model_at(cmp.sims[s][dose], 'pSTAT3', MS_TIME):.1f} %"
            for s in cmp.model_sources
        ),
        f"no IL-6: data {off['value'].mean():.2f} %",
        *(
            f"{'default' if s == 'paracrine_default' else 'fit'}: "
            f"{100 * model_at(cmp.sims[s][0.0], 'pSTAT3', MS_TIME):.2f} %"
            for s in cmp.model_sources
        ),
    ]
    _corner_note(ax, text)
    ax.set_ylim(0, 70)
    ax.set_ylabel("pSTAT3 (% of total STAT3)")
    ax.set_title(f"pSTAT3, absolute (data: % of cytoplasmic STAT3, {MS_TIME:g} min)")

    for ax, obs in zip(axes[1:], panels, strict=False):
        _base, output, label = SHAPES[obs]
        pts = cmp.points[obs][cmp.points[obs]["il6_ng_ml"] == dose]
        pooled = pooled_mean(pts)
        ax.plot(pts["time_min"], pts["norm"], ".", color=DATA_COLOUR, alpha=0.45, ms=7)
        ax.plot(
            pooled["time_min"], pooled["value"], "s-", color=DATA_COLOUR, lw=1.2, ms=5, mfc="white"
        )
        lines = [
            f"half-max, peak (min); {LATE_TIME:g}-min level",
            f"data: {_fmt(data_shapes(pts)[0])} (median)",
        ]
        for s in cmp.model_sources:
            sim = cmp.sims[s][dose]
            ax.plot(sim["time_min"], sim[output] / sim[output].max(), color=colours[s], lw=2.2)
            short = "default" if s == "paracrine_default" else "fit"
            lines.append(f"{short}: {_fmt(Shape.of(sim['time_min'], sim[output]))}")
        _corner_note(ax, lines)
        n = pts["blot"].nunique()
        ax.set_title(
            f"{label} ({n} {'blot' if obs != 'SOCS3_qpcr' else 'qPCR experiment'}{'s' * (n > 1)})"
        )
        ax.set_ylabel("fraction of own maximum")
        ax.set_ylim(0, 1.3)
    for ax in axes[len(panels) + 1 :]:
        ax.set_visible(False)
    for ax in axes:
        ax.set_xlim(0, T_END)
        ax.set_xticks(np.arange(0, T_END + 1, 30))
        ax.grid(alpha=0.25)
    for ax in axes[2:]:
        ax.set_xlabel("time after IL-6 (min)")
        ax.xaxis.set_tick_params(labelbottom=True)

    handles = [
        Line2D(
            [],
            [],
            ls="none",
            marker="o",
            color=DATA_COLOUR,
            ms=8,
            label=f"data, {dose:g} ng/mL IL-6 (replicates; shapes: each blot / its max)",
        ),
        Line2D(
            [], [], ls="none", marker="o", mfc="white", mec=DATA_COLOUR, ms=8, label="data, no IL-6"
        ),
        Line2D(
            [],
            [],
            ls="-",
            marker="s",
            color=DATA_COLOUR,
            mfc="white",
            ms=5,
            label="data, mean over blots",
        ),
    ]
    for s in cmp.model_sources:
        handles.append(Line2D([], [], color=colours[s], lw=2.2, label=cmp.labels[s]))
    handles.append(Line2D([], [], color="0.3", ls="--", lw=2.2, label="model, no IL-6"))
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=11.5)
    fig.suptitle(
        f"paracrine IL-6 arm vs Sobotta et al. 2017 (primary mouse hepatocytes), "
        f"{dose:g} ng/mL IL-6 step at t = 0",
        fontsize=14,
    )
    fig.text(
        0.5,
        0.935,
        "Hepatocytes are not breast cancer cells: this checks kinetics and regime "
        "(fractions, SOCS3 delay), not parameter values.",
        ha="center",
        fontsize=11,
        style="italic",
    )
    fig.tight_layout(rect=(0, 0.12, 1, 0.93))
    return fig


def _fmt(shape: Shape) -> str:
    return f"{shape.half_max_min:.1f} / {shape.peak_min:.3g} / {shape.late_fraction:.2f}"


# -- summary text ---------------------------------------------------------------------------
def summary_lines(cmp: Comparison) -> list[str]:
    s = cmp.summary()

    def val(qty, source):
        v = s[(s["quantity"] == qty) & (s["source"] == source)]
        return (
            (float(v["value"].iloc[0]), float(v["time_min"].iloc[0]))
            if len(v)
            else (math.nan, math.nan)
        )

    src = cmp.model_sources
    short = {"paracrine_default": "default", "paracrine_fit": "fit"}
    out = [
        f"paracrine IL-6 arm ({cmp.cell_line}) vs Sobotta et al. 2017 hepatocytes "
        f"({STANDARD_DOSE:g} ng/mL IL-6 step; hepatocytes are not breast cancer cells)"
    ]
    q18 = quantity(f"pSTAT3_pct_at_{MS_TIME:g}min_summary", STANDARD_DOSE)
    qb = quantity("pSTAT3_pct_basal_summary", 0.0)
    qp = quantity("pSTAT3_peak_summary", STANDARD_DOSE)
    qh = quantity("pSTAT3_half_max_time_summary", STANDARD_DOSE)
    ms = cmp.pstat3
    on = ms[ms["il6_ng_ml"] == STANDARD_DOSE]["value"]
    off = ms[ms["il6_ng_ml"] == 0]["value"]
    parts = [f"data {on.mean():.1f} % ({on.min():g}–{on.max():g})"]
    parts += [f"{short[x]} {val(q18, x)[0]:.1f} %" for x in src]
    out.append(f"  pSTAT3 at {MS_TIME:g} min: " + ", ".join(parts))
    parts = [f"data {off.mean():.2f} % ({off.min():g}, {off.max():g})"]
    parts += [f"{short[x]} {val(qb, x)[0]:.2f} %" for x in src]
    out.append("  pSTAT3 basal (no IL-6): " + ", ".join(parts))
    parts = ["data: one time point only"]
    parts += [
        f"{short[x]} {val(qp, x)[0]:.1f} % at {val(qp, x)[1]:g} min (half-max {val(qh, x)[0]:.1f} min)"
        for x in src
    ]
    out.append("  pSTAT3 peak: " + ", ".join(parts))
    for obs, (base, _output, label) in SHAPES.items():
        for dose in cmp.shape_doses(obs):
            qh = quantity(f"{base}_half_max_time_summary", dose)
            qk = quantity(f"{base}_peak_time_summary", dose)
            ql = quantity(f"{base}_late_fraction_summary", dose)
            parts = [
                f"{'data' if x == 'data' else short[x]} {val(qh, x)[0]:.1f} / {val(qk, x)[0]:g}"
                f" / {val(ql, x)[0]:.2f}"
                for x in ("data", *src)
            ]
            n = cmp.points[obs][cmp.points[obs]["il6_ng_ml"] == dose]["blot"].nunique()
            out.append(
                f"  {label} @ {dose:g} ng/mL, half-max / peak (min) / "
                f"{LATE_TIME:g}-min level (of max): " + ", ".join(parts) + f"  [{n} blot(s)]"
            )
    for x in src:
        r = val("resting_SOCS3_over_Ki_socs3_summary", x)[0]
        f = val("resting_receptor_fraction_summary", x)[0]
        out.append(
            f"  {short[x]} at rest: SOCS3/Ki_socs3 = {r:.3g} (JAK activation x {1 / (1 + r):.2f}), "
            f"receptor (R6+C6)/R6_tot = {f:.3g}"
        )
    return out


# -- command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", help="fit.json of a blot fit (paracrine demo/fit) to compare too")
    ap.add_argument("--cell-line", default="MCF-7", choices=CELL_LINES)
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output folder")
    ap.add_argument("--petab-dir", default=str(sobotta_data.DEFAULT_PATH))
    ap.add_argument("--no-figure", action="store_true", help="write the CSV only")
    args = ap.parse_args(argv)
    try:
        tables = sobotta_data.load_sobotta(args.petab_dir)
    except SobottaDataMissing as err:
        print(f"sobotta_il6_arm: {err}", file=sys.stderr)
        return 2
    fit_model, fit_label = None, ""
    if args.fit:
        try:
            fit_model = load_fit_model(args.fit)
        except Exception as err:  # a fit of an older model: say so in one line
            print(f"sobotta_il6_arm: cannot use the fit {args.fit}: {err}"[:600], file=sys.stderr)
            return 1
        if args.cell_line not in fit_model.cell_lines:
            print(f"sobotta_il6_arm: the fit has no cell line {args.cell_line}", file=sys.stderr)
            return 1
        fit_label = (
            f"paracrine, fitted ({args.cell_line}; {fit_model.variant}, {Path(args.fit).name})"
        )
    cmp = compare(tables, args.cell_line, fit_model, fit_label)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / f"{STEM}.csv"
    cmp.table().to_csv(csv, index=False, float_format="%.6g")
    written = [csv]
    if not args.no_figure:
        fig = plot(cmp)
        for ext in ("png", "svg"):
            path = out / f"{STEM}.{ext}"
            meta = {"Software": None} if ext == "png" else {"Date": None, "Creator": None}
            fig.savefig(path, dpi=300, metadata=meta)
            written.append(path)
    print("\n".join(summary_lines(cmp)))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
