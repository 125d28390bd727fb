"""Dose sweeps: IL-6 × VEGF dose matrices, response metrics and combination (synergy) scores.

Every dose pair is simulated from the same pre-equilibrated cell line (computed once), so a
32 × 32 matrix costs ~1000 short integrations on one reused engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.models import OBSERVABLES, Model
from paracrine.simulations.conditions import Condition, Perturbation
from paracrine.simulations.engine import check_times
from paracrine.simulations.model_simulator import ModelSimulator

__all__ = ["METRICS", "DoseMatrix", "dose_matrix"]

#: Response metrics, all relative to the unstimulated (basal) level of the read-out.
METRICS = {
    "peak": "largest fold over basal in 0–t_end",
    "time_to_peak": "time of the peak (min)",
    "auc": "area between the time course and basal, per minute of the window (fold·min/min)",
    "sustained": "fold over basal at the sustained time (default 120 min)",
}


@dataclass(frozen=True, eq=False)
class DoseMatrix:
    """Response metrics over an IL-6 × VEGF dose grid for one cell line.

    Attributes
    ----------
    il6_ng_ml, vegf_ng_ml
        The dose axes (ng/mL).
    readouts
        Read-outs (third axis of every metric).
    metrics
        ``{metric: array (len(il6), len(vegf), len(readouts))}``; see :data:`METRICS`.
    cell_line, variant
        What was simulated.
    sustained_time_min
        Time of the ``sustained`` metric.
    """

    il6_ng_ml: np.ndarray
    vegf_ng_ml: np.ndarray
    readouts: tuple[str, ...]
    metrics: dict[str, np.ndarray]
    cell_line: str
    variant: str
    sustained_time_min: float

    def get(self, metric: str, readout: str) -> np.ndarray:
        """The (IL-6 × VEGF) grid of *metric* for *readout*."""
        if metric not in self.metrics:
            raise UnknownNameError("metric", metric, self.metrics)
        if readout not in self.readouts:
            raise UnknownNameError("read-out", readout, self.readouts)
        return self.metrics[metric][:, :, self.readouts.index(readout)]

    def fit_hill(
        self, metric: str = "peak", readout: str = "pERK", *, ligand: str = "IL-6", at: float = 0.0
    ):  # -> paracrine.simulations.dose_response.HillFit
        """Hill fit (E0, Emax, EC50, n) of *metric* of *readout* against one ligand's dose,
        the other ligand held at dose *at* (must be on its axis; default 0: the ligand alone).

        The metric is the model's, noise-free: the fit's CIs are then degenerate (see
        :func:`~paracrine.simulations.dose_response.fit_hill`); fit each member of an
        ensemble for the uncertainty of EC50 and Emax.
        """
        from paracrine.simulations.dose_response import fit_hill

        if ligand not in ("IL-6", "VEGF"):
            raise InvalidInputError(f"ligand: expected 'IL-6' or 'VEGF', received {ligand!r}")
        other = self.vegf_ng_ml if ligand == "IL-6" else self.il6_ng_ml
        hits = np.flatnonzero(np.isclose(other, at, rtol=1e-9, atol=0.0))
        if hits.size == 0:
            raise InvalidInputError(
                f"at: expected a dose of the other ligand's axis ({other.tolist()} ng/mL), "
                f"received {at!r}"
            )
        grid = self.get(metric, readout)
        response = grid[:, hits[0]] if ligand == "IL-6" else grid[hits[0], :]
        doses = self.il6_ng_ml if ligand == "IL-6" else self.vegf_ng_ml
        name = f"{readout} {metric} vs {ligand} ({self.cell_line})"
        return fit_hill(doses, response, name=name, dose_name=f"{ligand} dose (ng/mL)")

    def excess_over_hsa(self, metric: str = "peak", readout: str = "pERK") -> np.ndarray:
        """Combination response above the highest single agent (HSA, Gaddum's non-interaction):
        ``(E(a, b) − 1) − max(E(a, 0) − 1, E(0, b) − 1)`` with E the fold over basal. Positive:
        the pair beats either ligand alone at the same doses. Needs dose 0 on both axes."""
        grid = self._response(metric, readout)
        return grid - np.maximum(grid[:, :1], grid[:1, :])

    def excess_over_additivity(self, metric: str = "peak", readout: str = "pERK") -> np.ndarray:
        """Combination response minus the sum of the single-ligand responses (response
        additivity): positive = more than additive (synergy), negative = saturation."""
        grid = self._response(metric, readout)
        return grid - (grid[:, :1] + grid[:1, :])

    def _response(self, metric: str, readout: str) -> np.ndarray:
        if metric == "time_to_peak":
            raise InvalidInputError(
                "combination scores need a response metric: peak, auc or sustained"
            )
        if self.il6_ng_ml[0] != 0 or self.vegf_ng_ml[0] != 0:
            raise InvalidInputError("combination scores need dose 0 as the first dose on both axes")
        grid = self.get(metric, readout)
        return grid - (1.0 if metric in ("peak", "sustained") else 0.0)

    def to_dataframe(self):  # -> DataFrame
        """Tidy table: ``il6_ng_ml, vegf_ng_ml, readout, metric, value``."""
        import pandas as pd

        frames = []
        n_i, n_v, n_r = len(self.il6_ng_ml), len(self.vegf_ng_ml), len(self.readouts)
        for name, arr in self.metrics.items():
            frames.append(
                pd.DataFrame(
                    {
                        "il6_ng_ml": np.repeat(self.il6_ng_ml, n_v * n_r),
                        "vegf_ng_ml": np.tile(np.repeat(self.vegf_ng_ml, n_r), n_i),
                        "readout": np.tile(self.readouts, n_i * n_v),
                        "metric": name,
                        "value": arr.reshape(-1),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def plot(self, metric: str = "peak", readouts: Sequence[str] | None = None):  # -> Figure
        """Heat maps of *metric* over the dose grid, one panel per read-out.

        Doses are ticked at round values on the grid (0, 0.1, 1, 10, 100 ng/mL … where the
        grid has them; otherwise a few grid doses with two significant digits); the colour bar
        names the metric and its unit and the caption defines it (:data:`METRICS`).
        """
        import matplotlib.pyplot as plt

        from paracrine.simulations.plotting import dose_ticks
        from paracrine.vocabulary import SEQUENTIAL_CMAP

        if metric not in self.metrics:
            raise UnknownNameError("metric", metric, self.metrics)
        readouts = list(readouts or self.readouts)
        fig, axes = plt.subplots(
            1,
            len(readouts),
            figsize=(3.6 * len(readouts) + 0.4, 3.9),
            squeeze=False,
            layout="constrained",
        )
        t_end = self.sustained_time_min
        short = {
            "peak": "peak (fold over basal)",
            "time_to_peak": "time to peak (min)",
            "auc": "mean excess over basal (fold)",
            "sustained": f"fold over basal at {t_end:g} min",
        }
        for ax, readout in zip(axes[0], readouts, strict=True):
            grid = self.get(metric, readout)
            mesh = ax.pcolormesh(
                np.arange(len(self.vegf_ng_ml) + 1),
                np.arange(len(self.il6_ng_ml) + 1),
                grid,
                cmap=SEQUENTIAL_CMAP,
            )
            positions, labels = dose_ticks(self.vegf_ng_ml)
            ax.set_xticks(positions + 0.5, labels)
            positions, labels = dose_ticks(self.il6_ng_ml)
            ax.set_yticks(positions + 0.5, labels)
            ax.set_xlabel("VEGF-A165 (ng/mL)")
            ax.set_ylabel("IL-6 (ng/mL)")
            ax.set_title(readout, fontsize="medium", fontweight="bold")
            fig.colorbar(mesh, ax=ax, label=short.get(metric, metric), shrink=0.9)
        definition = METRICS.get(metric, metric).replace(
            "the sustained time (default 120 min)", f"{t_end:g} min"
        )
        fig.suptitle(f"{metric} — variant {self.variant}, {self.cell_line}", fontsize="medium")
        fig.text(
            0.5, 0.0, f"{metric}: {definition}; basal = the unstimulated level of the read-out",
            ha="center", va="bottom", fontsize="small", wrap=True,
        )  # fmt: skip
        fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
        return fig


def dose_matrix(
    model: Model | str,
    il6_ng_ml: Sequence[float],
    vegf_ng_ml: Sequence[float],
    cell_line: str = "MCF-7",
    *,
    times: Sequence[float] | None = None,
    readouts: Sequence[str] | None = None,
    sustained_time_min: float = 120.0,
    bevacizumab_ug_ml: float = 0.0,
    anti_il6_ug_ml: float = 0.0,
    perturbations: Sequence[Perturbation] = (),
) -> DoseMatrix:
    """Simulate every IL-6 × VEGF dose pair and summarise each time course.

    Parameters
    ----------
    model
        Model or variant name.
    il6_ng_ml, vegf_ng_ml
        Dose axes in ng/mL (start them with 0 for combination scores).
    cell_line
        Cell line.
    times
        Output grid in minutes (default 0–240 every 2.5 min); metrics use it.
    readouts
        Read-outs (default all four).
    sustained_time_min
        Time of the ``sustained`` metric (must be on the grid's span).
    bevacizumab_ug_ml, anti_il6_ug_ml, perturbations
        Applied to every dose pair (e.g. a dose matrix under a knockout).

    Returns
    -------
    DoseMatrix
    """
    model = Model(model) if isinstance(model, str) else model
    il6 = np.asarray(il6_ng_ml, dtype=float)
    vegf = np.asarray(vegf_ng_ml, dtype=float)
    for name, axis in (("il6_ng_ml", il6), ("vegf_ng_ml", vegf)):
        if axis.ndim != 1 or axis.size == 0 or not np.all(np.isfinite(axis)) or np.any(axis < 0):
            raise InvalidInputError(
                f"{name}: expected a non-empty list of doses >= 0 ng/mL, received {axis.tolist()}"
            )
    grid = check_times(np.linspace(0.0, 240.0, 97) if times is None else times)
    if not grid[0] <= sustained_time_min <= grid[-1]:
        raise InvalidInputError(
            f"sustained_time_min: expected a time within {grid[0]:g}–{grid[-1]:g} min, "
            f"received {sustained_time_min}"
        )
    outs = tuple(readouts or OBSERVABLES)
    sim = ModelSimulator(model, outs)
    base = Condition("basal", cell_line, perturbations=tuple(perturbations))
    pvec = sim.parameter_vector(cell_line)
    basal = sim.run(base, grid[:1], pvec)[0]
    basal = np.where(basal > 0, basal, np.nan)
    values = np.empty((il6.size, vegf.size, grid.size, len(outs)))
    for i, a in enumerate(il6):
        for j, b in enumerate(vegf):
            cond = Condition(
                f"{a:g}|{b:g}",
                cell_line,
                il6_ng_ml=float(a),
                vegf_ng_ml=float(b),
                bevacizumab_ug_ml=bevacizumab_ug_ml,
                anti_il6_ug_ml=anti_il6_ug_ml,
                perturbations=tuple(perturbations),
            )
            values[i, j] = sim.run(cond, grid, pvec)
    fold = values / basal
    k = int(np.argmin(np.abs(grid - sustained_time_min)))
    window = grid[-1] - grid[0]
    metrics = {
        "peak": fold.max(axis=2),
        "time_to_peak": grid[fold.argmax(axis=2)],
        "auc": np.trapezoid(fold - 1.0, grid, axis=2) / (window if window > 0 else 1.0),
        "sustained": fold[:, :, k, :],
    }
    return DoseMatrix(il6, vegf, outs, metrics, cell_line, model.variant, float(grid[k]))
