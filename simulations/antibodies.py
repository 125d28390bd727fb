"""Neutralising antibodies against a fixed ligand dose or MSC-conditioned medium: dose sweeps,
IC50s against their binding-equilibrium prediction, and antibody × antibody matrices.

Antibodies are pre-incubated with the ligands (as in neutralisation experiments) and reach the
cells at their binding equilibrium ``L + S <-> C`` (:func:`~paracrine.simulations.conditions.
bound_at_equilibrium`, sites = 2 per IgG); the complex can still dissociate during the time
course. Every response is a fold over the unstimulated cell's basal level, summarised by one of
the metrics ``peak``, ``auc`` or ``late`` (:mod:`paracrine.simulations.metrics`).

**IC50 of a sweep.** The antibody dose at which the response falls halfway from the
no-antibody response ``R(0)`` to the *floor* ``R_floor`` — the response with the antibody's
ligand removed altogether (basal for a single ligand, so then the rule is "the excess
``metric − 1`` falls to half the no-antibody excess"; the other ligand's response when both are
present, e.g. in MSC-CM). Found by linear interpolation of the response on log10(dose) between
the two sweep doses that bracket the half level; NaN when the grid does not bracket it or when
``R(0) − R_floor`` is below 0.2 (fold, or fold·min/min for auc): nothing to inhibit.

**Binding-equilibrium predictions** (:func:`equilibrium_ic50`). With ligand ``L0`` and
dissociation constant ``Kd = koff/kon`` (from the model's parameters), the antibody sites that
leave a free ligand ``Lf`` at equilibrium are ``S0 = (L0 − Lf)(1 + Kd/Lf)``:

* *free-ligand IC50*: ``Lf = L0/2`` → ``S0 = Kd + L0/2``. It predicts the response IC50 only
  when the response is linear in the ligand. Signalling responses saturate in ligand (in the
  model's MCF-7 cells 50 ng/mL VEGF gives half its pERK peak excess at ~0.5% of that dose), so
  the response IC50 lies far above it;
* *response IC50*: ``Lf = L½``, the ligand concentration giving the half response, read from
  the model's own ligand dose–response (the sweep condition without antibody, with the ligand
  scaled from 10⁻⁴ to 1 × ``L0``): binding equilibrium combined with the ligand dose–response.

**MSC-CM.** Its IL-6 and VEGF content default to the *assumed* values of
:mod:`paracrine.simulations.units` (``MSC_CM_IL6_NG_ML``, ``MSC_CM_VEGF_NG_ML``) and can be
overridden; every result states the content used and whether it was assumed. Other MSC factors
are not part of the signalling model.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.models.targets import NEUTRALISATION
from paracrine.simulations import metrics as M
from paracrine.simulations import units
from paracrine.simulations.batch import run_batch
from paracrine.simulations.conditions import Condition, bound_at_equilibrium
from paracrine.simulations.engine import check_times
from paracrine.simulations.model_simulator import ModelSimulator
from paracrine.vocabulary import (
    ARM_COLOURS,
    COMBINATION,
    GUIDE,
    IL6_ARM,
    INK,
    MUTED,
    SEQUENTIAL_CMAP,
    VEGF_ARM,
)

__all__ = [
    "ANTIBODIES",
    "ANTIBODY_METRICS",
    "LIGAND_SCALES",
    "Antibody",
    "AntibodyMatrix",
    "AntibodySweep",
    "antibody_matrix",
    "antibody_sweep",
    "equilibrium_ic50",
]

#: 0–240 min every 2.5 min.
_DEFAULT_TIMES_MIN = np.linspace(0.0, 240.0, 97)
#: Metrics of a sweep (fold over the unstimulated cell's basal level) -> unit.
ANTIBODY_METRICS: dict[str, str] = {
    "peak": "fold over basal",
    "auc": "fold·min/min (mean excess over basal, 0–t_end)",
    "late": "fold over basal (mean 120–240 min)",
}
#: Fractions of the sweep's ligand simulated for the ligand dose–response behind the
#: response-IC50 prediction (0 is added: the floor).
LIGAND_SCALES = np.geomspace(1e-4, 1.0, 41)


class Antibody(NamedTuple):
    """A neutralising antibody: its dose field of :class:`Condition`, its ligand (arm name,
    dose field, MSC-CM content field, molar mass) and its binding parameters (model ids)."""

    name: str
    dose_field: str
    molar_mass_kda: float
    ligand: str
    ligand_field: str
    msc_field: str
    ligand_kda: float
    kon: str
    koff: str


def _binding(sites: str) -> tuple[str, str]:
    entry = next(n for n in NEUTRALISATION if n.sites == sites)
    return entry.kon, entry.koff


#: The two antibodies of the paper: bevacizumab (anti-VEGF-A) and an anti-IL-6 IgG.
ANTIBODIES: dict[str, Antibody] = {
    "bevacizumab": Antibody(
        "bevacizumab",
        "bevacizumab_ug_ml",
        units.BEVACIZUMAB_KDA,
        VEGF_ARM,
        "vegf_ng_ml",
        "msc_cm_vegf_ng_ml",
        units.VEGF_KDA,
        *_binding("Bev"),
    ),
    "anti-IL-6": Antibody(
        "anti-IL-6",
        "anti_il6_ug_ml",
        units.IGG_KDA,
        IL6_ARM,
        "il6_ng_ml",
        "msc_cm_il6_ng_ml",
        units.IL6_KDA,
        *_binding("AbIL6"),
    ),
}


def _antibody(name: str) -> Antibody:
    if name not in ANTIBODIES:
        raise UnknownNameError("antibody", name, ANTIBODIES)
    return ANTIBODIES[name]


def _positive(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise InvalidInputError(f"{what}: expected a number > 0, received {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(f"{what}: expected a finite number > 0, received {value!r}")
    return float(value)


def equilibrium_ic50(
    ligand_nm: float,
    kd_nm: float,
    response_ec50_nm: float | None = None,
    *,
    antibody: str = "bevacizumab",
) -> float:
    """Antibody dose (µg/mL of IgG) predicted by binding equilibrium to halve a response.

    Pre-incubated with ligand ``L0`` (*ligand_nm*), antibody sites ``S0`` leave the free ligand
    ``Lf`` with ``(Lf)(S0 − C)/C = Kd`` and ``C = L0 − Lf``, i.e. ``S0 = (L0 − Lf)(1 + Kd/Lf)``
    (nM of sites, two per IgG; converted with the antibody's molar mass).

    Parameters
    ----------
    ligand_nm
        Ligand concentration ``L0`` (nM).
    kd_nm
        Dissociation constant ``koff/kon`` (nM).
    response_ec50_nm
        None: the *free-ligand IC50*, ``Lf = L0/2``, so ``S0 = Kd + L0/2``; it equals the
        response IC50 only for a response linear in ligand. Otherwise the free ligand ``L½``
        (nM, 0 < L½ < L0) at which the response is half that at ``L0`` (from the ligand's own
        dose–response): the *response IC50*.
    antibody
        ``"bevacizumab"`` (149 kDa) or ``"anti-IL-6"`` (150 kDa): the molar mass used.

    Examples
    --------
    >>> round(equilibrium_ic50(1.0, 2.0, antibody="anti-IL-6"), 6)  # (2 + 0.5) nM · 150 / 2000
    0.1875
    """
    ab = _antibody(antibody)
    l0 = _positive(ligand_nm, "ligand_nm")
    kd = _positive(kd_nm, "kd_nm")
    if response_ec50_nm is None:
        sites = kd + l0 / 2.0
    else:
        half = _positive(response_ec50_nm, "response_ec50_nm")
        if not half < l0:
            raise InvalidInputError(
                f"response_ec50_nm: expected a free ligand below the ligand concentration "
                f"{l0:g} nM (the half response needs less ligand), received {half:g} nM"
            )
        sites = (l0 - half) * (1.0 + kd / half)
    return sites * ab.molar_mass_kda / (units.ANTIBODY_SITES_PER_IGG * 1000.0)


def _doses(values: Sequence[float], what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what}: expected doses in µg/mL, received {values!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(f"{what}: expected a non-empty list of doses, received {values!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidInputError(
            f"{what}: expected finite doses >= 0 µg/mL, received {arr.tolist()}"
        )
    if np.any(np.diff(arr) <= 0):
        raise InvalidInputError(
            f"{what}: expected strictly increasing doses, received {arr.tolist()}"
        )
    return arr


def _metrics(times: np.ndarray, fold: np.ndarray) -> dict[str, np.ndarray]:
    """peak, auc, late of fold arrays (…, times, read-outs)."""
    axis = fold.ndim - 2
    return {
        "peak": M.peak(fold, axis=axis),
        "auc": M.auc(times, fold, axis=axis),
        "late": M.late(times, fold, axis=axis),
    }


def _check_metric(metric: str) -> str:
    if metric not in ANTIBODY_METRICS:
        raise UnknownNameError("metric", metric, ANTIBODY_METRICS)
    return metric


def _log_crossing(doses: np.ndarray, values: np.ndarray, level: float, falling: bool) -> float:
    """First dose (log-interpolated) at which *values* cross *level* (downwards if *falling*),
    over the positive doses; NaN when the grid does not bracket it."""
    keep = doses > 0
    d, v = doses[keep], values[keep]
    if d.size < 2:
        return math.nan
    past = v <= level if falling else v >= level
    if not past.any() or past[0]:
        return math.nan
    k = int(np.argmax(past))
    lo, hi = v[k - 1], v[k]
    frac = 0.0 if hi == lo else (level - lo) / (hi - lo)
    return float(10 ** (np.log10(d[k - 1]) + frac * (np.log10(d[k]) - np.log10(d[k - 1]))))


def _batch(model, tasks, grid, outs, workers, scheduler, progress, what: str):
    sim = ModelSimulator(model, outs)
    batch = run_batch(sim, tasks, grid, workers=workers, scheduler=scheduler, progress=progress)
    basal = batch.values[0, 0]
    if batch.failures and batch.failures[0][0] == 0:
        raise SimulationError(f"{what}: the unstimulated cell failed: {batch.failures[0][2]}")
    if not np.all(basal > 0):
        missing = [o for o, b in zip(outs, basal, strict=True) if not b > 0]
        raise SimulationError(f"{what}: the basal level of {missing} is 0: no fold over basal")
    return batch.values / basal, batch.failures


def _msc_content(il6: float | None, vegf: float | None) -> tuple[float, float, str]:
    assumed = il6 is None or vegf is None
    il6 = units.MSC_CM_IL6_NG_ML if il6 is None else il6
    vegf = units.MSC_CM_VEGF_NG_ML if vegf is None else vegf
    note = "given" if not assumed else "assumed defaults (paracrine.simulations.units)"
    if assumed and (il6 != units.MSC_CM_IL6_NG_ML or vegf != units.MSC_CM_VEGF_NG_ML):
        note = "IL-6 or VEGF given, the other the assumed default (paracrine.simulations.units)"
    return float(il6), float(vegf), note


@dataclass(frozen=True, eq=False)
class AntibodySweep:
    """Responses to one antibody's doses against a fixed ligand or MSC-CM.

    Attributes
    ----------
    antibody
        ``"bevacizumab"`` or ``"anti-IL-6"``.
    doses_ug_ml
        The antibody doses (µg/mL of IgG).
    readouts, metric
        Read-outs (last axis) and the default metric of :attr:`values` and the IC50s.
    metrics
        ``{peak, auc, late: array (n_doses, n_readouts)}``.
    reference, floor
        ``{metric: array (n_readouts)}``: without this antibody, and with its ligand removed
        (the two ends of the inhibition).
    free_ligand_nm
        Free ligand left at t = 0 after pre-incubation, per dose (binding equilibrium, nM).
    ligand, ligand_nm, kd_nm
        The antibody's ligand (arm name), its total concentration in the sweep (nM) and the
        antibody's dissociation constant koff/kon (nM) from the model's parameters.
    ligand_scales, ligand_response
        The ligand dose–response of the response-IC50 prediction: fractions of ``ligand_nm``
        (0 first) and ``{metric: array (n_scales, n_readouts)}``.
    cell_line, variant, il6_ng_ml, vegf_ng_ml, msc_cm_fraction, msc_cm_il6_ng_ml,
    msc_cm_vegf_ng_ml, msc_cm_content, other_antibody_ug_ml
        The condition (recombinant doses, MSC-CM fraction and its content, and whether that
        content was assumed or given; the other antibody's dose).
    times, failures
        Output times (min); ``(dose or "ligand ×s", message)`` of failed simulations (NaN).
    """

    antibody: str
    doses_ug_ml: np.ndarray
    readouts: tuple[str, ...]
    metric: str
    metrics: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    floor: dict[str, np.ndarray]
    free_ligand_nm: np.ndarray
    ligand: str
    ligand_nm: float
    kd_nm: float
    ligand_scales: np.ndarray
    ligand_response: dict[str, np.ndarray]
    cell_line: str
    variant: str
    il6_ng_ml: float
    vegf_ng_ml: float
    msc_cm_fraction: float
    msc_cm_il6_ng_ml: float
    msc_cm_vegf_ng_ml: float
    msc_cm_content: str
    other_antibody_ug_ml: float
    times: np.ndarray
    failures: tuple[tuple[str, str], ...]

    @property
    def values(self) -> np.ndarray:
        """``metrics[metric]``: array (n_doses, n_readouts)."""
        return self.metrics[self.metric]

    def _index(self, readout: str) -> int:
        if readout not in self.readouts:
            raise UnknownNameError("read-out", readout, self.readouts)
        return self.readouts.index(readout)

    def inhibition_span(self, readout: str, metric: str | None = None) -> float:
        """``R(0) − R_floor``: how much of the response the antibody can take away."""
        metric = _check_metric(metric or self.metric)
        r = self._index(readout)
        return float(self.reference[metric][r] - self.floor[metric][r])

    def response_fraction(self, metric: str | None = None) -> np.ndarray:
        """``(R − R_floor)/(R(0) − R_floor)`` per dose × read-out: 1 = not inhibited, 0 = fully
        (NaN where the span is below 0.2)."""
        metric = _check_metric(metric or self.metric)
        span = self.reference[metric] - self.floor[metric]
        ok = span >= M.RATIO_GUARD
        rel = (self.metrics[metric] - self.floor[metric]) / np.where(ok, span, 1.0)
        return np.where(ok, rel, np.nan)

    def ic50(self, readout: str, metric: str | None = None) -> float:
        """Measured (simulated) IC50 (µg/mL): where the response falls halfway from R(0) to the
        floor, log-interpolated between the bracketing doses (module docstring); NaN when the
        grid does not bracket it or the span is below 0.2."""
        metric = _check_metric(metric or self.metric)
        r = self._index(readout)
        span = self.inhibition_span(readout, metric)
        if not span >= M.RATIO_GUARD:
            return math.nan
        half = self.floor[metric][r] + span / 2.0
        return _log_crossing(self.doses_ug_ml, self.metrics[metric][:, r], half, falling=True)

    def ic50_note(self, readout: str, metric: str | None = None) -> str:
        """Why :meth:`ic50` is NaN (``""`` when it is not): no response to inhibit, or the
        half level lies below or above the positive doses of the grid."""
        metric = _check_metric(metric or self.metric)
        span = self.inhibition_span(readout, metric)
        if not span >= M.RATIO_GUARD:
            return f"no response to inhibit (span {span:.3g} < {M.RATIO_GUARD:g})"
        if math.isfinite(self.ic50(readout, metric)):
            return ""
        positive = self.doses_ug_ml > 0
        if positive.sum() < 2:
            return "fewer than two positive doses"
        half = self.floor[metric][self._index(readout)] + span / 2.0
        first = self.metrics[metric][positive, self._index(readout)][0]
        d = self.doses_ug_ml[positive]
        if first <= half:
            return f"below the grid (< {d[0]:g} µg/mL)"
        return f"above the grid (> {d[-1]:g} µg/mL)"

    def ligand_half_nm(self, readout: str, metric: str | None = None) -> float:
        """Free ligand (nM) that gives the half response, from the ligand dose–response
        (log-interpolated); NaN when the span is below 0.2 or the curve does not cross it."""
        metric = _check_metric(metric or self.metric)
        r = self._index(readout)
        span = self.inhibition_span(readout, metric)
        if not span >= M.RATIO_GUARD:
            return math.nan
        half = self.floor[metric][r] + span / 2.0
        scale = _log_crossing(
            self.ligand_scales, self.ligand_response[metric][:, r], half, falling=False
        )
        return scale * self.ligand_nm

    def predicted_ic50(self, readout: str, metric: str | None = None) -> float:
        """Response IC50 predicted by binding equilibrium and the ligand dose–response
        (µg/mL): :func:`equilibrium_ic50` with ``response_ec50_nm = ligand_half_nm``."""
        half = self.ligand_half_nm(readout, metric)
        if not math.isfinite(half):
            return math.nan
        return equilibrium_ic50(self.ligand_nm, self.kd_nm, half, antibody=self.antibody)

    def free_ligand_ic50(self) -> float:
        """The dose that halves the free ligand (µg/mL): ``Kd + L0/2`` sites."""
        return equilibrium_ic50(self.ligand_nm, self.kd_nm, antibody=self.antibody)

    def ic50_table(self):  # -> DataFrame
        """Per read-out and metric: the measured IC50, the response-IC50 prediction, the
        free-ligand IC50 (µg/mL), the ligand of the half response and the ratio measured /
        predicted."""
        import pandas as pd

        rows = []
        for metric in ANTIBODY_METRICS:
            for readout in self.readouts:
                measured = self.ic50(readout, metric)
                predicted = self.predicted_ic50(readout, metric)
                rows.append(
                    {
                        "antibody": self.antibody,
                        "cell_line": self.cell_line,
                        "readout": readout,
                        "metric": metric,
                        "ic50_ug_ml": measured,
                        "ic50_note": self.ic50_note(readout, metric),
                        "predicted_ic50_ug_ml": predicted,
                        "free_ligand_ic50_ug_ml": self.free_ligand_ic50(),
                        "ratio_measured_predicted": measured / predicted
                        if predicted > 0
                        else math.nan,
                        "ligand": self.ligand,
                        "ligand_nm": self.ligand_nm,
                        "ligand_half_nm": self.ligand_half_nm(readout, metric),
                        "kd_nm": self.kd_nm,
                        "inhibition_span": self.inhibition_span(readout, metric),
                        "variant": self.variant,
                    }
                )
        return pd.DataFrame(rows)

    def to_dataframe(self):  # -> DataFrame
        """Tidy table: one row per dose × read-out × metric with ``value``,
        ``response_fraction``, the free ligand at t = 0 and the condition (MSC-CM content and
        whether it was assumed)."""
        import pandas as pd

        n_d, n_r = len(self.doses_ug_ml), len(self.readouts)
        frames = []
        for metric, arr in self.metrics.items():
            frames.append(
                pd.DataFrame(
                    {
                        "antibody": self.antibody,
                        "dose_ug_ml": np.repeat(self.doses_ug_ml, n_r),
                        "cell_line": self.cell_line,
                        "readout": np.tile(self.readouts, n_d),
                        "metric": metric,
                        "value": arr.reshape(-1),
                        "response_fraction": self.response_fraction(metric).reshape(-1),
                        "free_ligand_nm": np.repeat(self.free_ligand_nm, n_r),
                        "free_ligand_fraction": np.repeat(
                            self.free_ligand_nm / self.ligand_nm, n_r
                        ),
                        "ligand": self.ligand,
                        "ligand_nm": self.ligand_nm,
                        "il6_ng_ml": self.il6_ng_ml,
                        "vegf_ng_ml": self.vegf_ng_ml,
                        "msc_cm_fraction": self.msc_cm_fraction,
                        "msc_cm_il6_ng_ml": self.msc_cm_il6_ng_ml,
                        "msc_cm_vegf_ng_ml": self.msc_cm_vegf_ng_ml,
                        "msc_cm_content": self.msc_cm_content,
                        "other_antibody_ug_ml": self.other_antibody_ug_ml,
                        "unit": ANTIBODY_METRICS[metric],
                        "variant": self.variant,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def describe(self) -> str:
        """One line: what was neutralised, in what (the MSC-CM content stated)."""
        parts = []
        if self.il6_ng_ml:
            parts.append(f"IL-6 {self.il6_ng_ml:g} ng/mL")
        if self.vegf_ng_ml:
            parts.append(f"VEGF {self.vegf_ng_ml:g} ng/mL")
        if self.msc_cm_fraction:
            parts.append(
                f"{100 * self.msc_cm_fraction:g}% MSC-CM (IL-6 {self.msc_cm_il6_ng_ml:g}, VEGF "
                f"{self.msc_cm_vegf_ng_ml:g} ng/mL undiluted: {self.msc_cm_content})"
            )
        other = "anti-IL-6" if self.antibody == "bevacizumab" else "bevacizumab"
        if self.other_antibody_ug_ml:
            parts.append(f"{other} {self.other_antibody_ug_ml:g} µg/mL")
        return f"{self.antibody} against {' + '.join(parts)} ({self.cell_line}, {self.variant})"

    def plot(self, metric: str | None = None, readouts: Sequence[str] | None = None):  # -> Figure
        """Response remaining (% of the span from the floor to the no-antibody response) and
        free ligand at t = 0 (% of added) against the antibody dose (log axis, µg/mL), one
        panel per read-out, with the measured IC50 and both equilibrium predictions."""
        import matplotlib.pyplot as plt

        metric = _check_metric(metric or self.metric)
        readouts = list(readouts or self.readouts)
        for r in readouts:
            self._index(r)
        colour = ARM_COLOURS[COMBINATION if self._both_ligands() else self.ligand]
        fig, axes = plt.subplots(
            1,
            len(readouts),
            figsize=(3.9 * len(readouts), 4.3),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        keep = self.doses_ug_ml > 0
        d = self.doses_ug_ml[keep]
        frac = self.response_fraction(metric)[keep]
        free = 100 * self.free_ligand_nm[keep] / self.ligand_nm
        styles = {
            "IC50 (simulated)": "-",
            "IC50 predicted: binding equilibrium × ligand dose–response": ":",
            "dose halving the free ligand": "-.",
        }
        for ax, readout in zip(axes[0], readouts, strict=True):
            r = self._index(readout)
            ax.plot(d, 100 * frac[:, r], "o-", color=colour, ms=3.5, label=f"response ({metric})")
            ax.plot(d, free, "--", color=MUTED, label=f"free {self.ligand} at t = 0")
            if not np.isfinite(frac[:, r]).any():
                ax.text(
                    0.5,
                    0.6,
                    f"{self.ligand} moves {readout} by < {M.RATIO_GUARD:g}:\nnothing to inhibit",
                    transform=ax.transAxes,
                    ha="center",
                )
            values = (self.ic50(readout, metric), self.predicted_ic50(readout, metric))
            for value, (label, style) in zip(
                (*values, self.free_ligand_ic50()), styles.items(), strict=True
            ):
                if math.isfinite(value):
                    ax.axvline(value, ls=style, color=INK, lw=1.0, label=label)
            shown = "n/a" if not math.isfinite(values[0]) else f"{values[0]:.3g}"
            predicted = "n/a" if not math.isfinite(values[1]) else f"{values[1]:.3g}"
            ax.set_title(f"{readout}: IC50 {shown} (predicted {predicted}) µg/mL", fontsize=10)
            ax.set_xscale("log")
            ax.set_xlabel(f"{self.antibody} (µg/mL)")
            ax.axhline(50, color=GUIDE, lw=0.8)
            ax.set_ylim(-5, 110)
        axes[0][0].set_ylabel("remaining (% of no-antibody response)")
        handles, labels = [], []
        for ax in axes[0]:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
        fig.suptitle(self.describe(), fontsize=11)
        return fig

    def _both_ligands(self) -> bool:
        il6 = self.il6_ng_ml + self.msc_cm_fraction * self.msc_cm_il6_ng_ml
        vegf = self.vegf_ng_ml + self.msc_cm_fraction * self.msc_cm_vegf_ng_ml
        return il6 > 0 and vegf > 0


def _kd(sim: ModelSimulator, pvec: np.ndarray, ab: Antibody) -> float:
    ids = sim.parameter_ids
    return float(pvec[ids.index(ab.koff)] / pvec[ids.index(ab.kon)])


def antibody_sweep(
    model: Model | str,
    antibody: str,
    doses_ug_ml: Sequence[float],
    *,
    cell_line: str = "MCF-7",
    il6_ng_ml: float = 0.0,
    vegf_ng_ml: float = 0.0,
    msc_cm_fraction: float = 0.0,
    msc_cm_il6_ng_ml: float | None = None,
    msc_cm_vegf_ng_ml: float | None = None,
    other_antibody_ug_ml: float = 0.0,
    readouts: Sequence[str] = ("pERK", "pAKT", "p38", "pSTAT3"),
    metric: str = "peak",
    times: Sequence[float] | None = None,
    pvec: np.ndarray | None = None,
    workers: int | None = None,
    scheduler=None,
    progress: bool = False,
) -> AntibodySweep:
    """Sweep one antibody's dose against recombinant ligand and/or MSC-CM.

    Parameters
    ----------
    model
        Model (e.g. a fit's) or variant name.
    antibody
        ``"bevacizumab"`` (binds VEGF-A) or ``"anti-IL-6"``.
    doses_ug_ml
        Strictly increasing doses (µg/mL of IgG, ≥ 0; include 0 or not: the no-antibody
        response is simulated anyway).
    cell_line
        Cell line.
    il6_ng_ml, vegf_ng_ml
        Recombinant ligands (ng/mL).
    msc_cm_fraction, msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml
        Fraction of MSC-conditioned medium and its IL-6 / VEGF content (ng/mL undiluted;
        None: the assumed defaults of :mod:`paracrine.simulations.units`).
    other_antibody_ug_ml
        Dose of the other antibody, held fixed.
    readouts, metric
        Read-outs, and the metric (``peak``, ``auc`` or ``late``) of :attr:`AntibodySweep.values`
        and the IC50s (all three are computed).
    times
        Output times (min; default 0–240 every 2.5 min, reaching the late window).
    pvec
        Full parameter vector of *cell_line* (default: the model's values); it also sets Kd.
    workers, scheduler, progress
        Passed to :func:`~paracrine.simulations.batch.run_batch` (one batch: the sweep, the
        references and the ligand dose–response).

    Returns
    -------
    AntibodySweep
    """
    ab = _antibody(antibody)
    model = Model(model) if isinstance(model, str) else model
    doses = _doses(doses_ug_ml, "doses_ug_ml")
    metric = _check_metric(metric)
    grid = check_times(_DEFAULT_TIMES_MIN if times is None else times)
    M.late(grid, np.ones(grid.size))  # the late window must hold output times
    msc_il6, msc_vegf, note = _msc_content(msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml)
    other = "anti_il6_ug_ml" if ab.name == "bevacizumab" else "bevacizumab_ug_ml"
    base = Condition(
        "no antibody",
        cell_line,
        il6_ng_ml=il6_ng_ml,
        vegf_ng_ml=vegf_ng_ml,
        msc_cm_fraction=msc_cm_fraction,
        msc_cm_il6_ng_ml=msc_il6,
        msc_cm_vegf_ng_ml=msc_vegf,
        **{other: other_antibody_ug_ml},
    )
    if cell_line not in model.cell_lines:
        raise UnknownNameError("cell line", cell_line, model.cell_lines)
    ligand_nm = base.added_concentrations_nm()["VEGF" if ab.ligand == VEGF_ARM else "IL6"]
    if not ligand_nm > 0:
        raise InvalidInputError(
            f"{ab.name}: its ligand {ab.ligand} is absent from the condition (IL-6 "
            f"{il6_ng_ml:g}, VEGF {vegf_ng_ml:g} ng/mL, MSC-CM fraction {msc_cm_fraction:g}): "
            "nothing to neutralise"
        )
    outs = tuple(readouts)
    sim = ModelSimulator(model, outs)
    vec = sim.parameter_vector(cell_line) if pvec is None else np.asarray(pvec, dtype=float)
    if vec.shape != (len(sim.parameter_ids),):
        raise InvalidInputError(
            f"pvec: expected {len(sim.parameter_ids)} values (ModelSimulator.parameter_ids "
            f"order), received shape {vec.shape}"
        )
    kd = _kd(sim, vec, ab)

    def scaled(s: float) -> Condition:
        return dataclasses.replace(
            base,
            name=f"{ab.ligand} x{s:.4g}",
            **{
                ab.ligand_field: s * getattr(base, ab.ligand_field),
                ab.msc_field: s * getattr(base, ab.msc_field),
            },
        )

    scales = np.concatenate(([0.0], LIGAND_SCALES))
    conditions = [
        Condition("basal", cell_line),
        base,
        *(
            dataclasses.replace(base, name=f"{ab.name} {d:g} ug/mL", **{ab.dose_field: float(d)})
            for d in doses
        ),
        *(scaled(float(s)) for s in scales),
    ]
    fold, failed = _batch(
        model,
        [(c, vec) for c in conditions],
        grid,
        outs,
        workers,
        scheduler,
        progress,
        f"{ab.name} sweep",
    )
    values = _metrics(grid, fold)
    n = doses.size
    sweep = {k: v[2 : 2 + n] for k, v in values.items()}
    curve = {k: v[2 + n :] for k, v in values.items()}
    free = np.array(
        [
            ligand_nm
            - bound_at_equilibrium(
                ligand_nm, units.antibody_ug_ml_to_site_nm(d, ab.molar_mass_kda), kd
            )
            for d in doses
        ]
    )
    return AntibodySweep(
        antibody=ab.name,
        doses_ug_ml=doses,
        readouts=outs,
        metric=metric,
        metrics=sweep,
        reference={k: v[1] for k, v in values.items()},
        floor={k: v[0] for k, v in curve.items()},
        free_ligand_nm=free,
        ligand=ab.ligand,
        ligand_nm=float(ligand_nm),
        kd_nm=kd,
        ligand_scales=scales,
        ligand_response=curve,
        cell_line=cell_line,
        variant=model.variant,
        il6_ng_ml=float(il6_ng_ml),
        vegf_ng_ml=float(vegf_ng_ml),
        msc_cm_fraction=float(msc_cm_fraction),
        msc_cm_il6_ng_ml=msc_il6,
        msc_cm_vegf_ng_ml=msc_vegf,
        msc_cm_content=note,
        other_antibody_ug_ml=float(other_antibody_ug_ml),
        times=grid,
        failures=tuple((conditions[i].name, message) for i, _, message in failed),
    )


@dataclass(frozen=True, eq=False)
class AntibodyMatrix:
    """Responses over a bevacizumab × anti-IL-6 dose grid (MSC-CM and/or recombinant ligands).

    Attributes
    ----------
    bevacizumab_ug_ml, anti_il6_ug_ml
        The dose axes (µg/mL).
    readouts
        Read-outs (last axis).
    metrics
        ``{peak, auc, late: array (n_bev, n_anti_il6, n_readouts)}`` (fold over basal).
    reference
        ``{metric: array (n_readouts)}`` without antibodies.
    cell_line, variant, il6_ng_ml, vegf_ng_ml, msc_cm_fraction, msc_cm_il6_ng_ml,
    msc_cm_vegf_ng_ml, msc_cm_content
        The condition, the MSC-CM content used and whether it was assumed.
    failures
        ``(condition name, message)`` of failed simulations (NaN).
    """

    bevacizumab_ug_ml: np.ndarray
    anti_il6_ug_ml: np.ndarray
    readouts: tuple[str, ...]
    metrics: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    cell_line: str
    variant: str
    il6_ng_ml: float
    vegf_ng_ml: float
    msc_cm_fraction: float
    msc_cm_il6_ng_ml: float
    msc_cm_vegf_ng_ml: float
    msc_cm_content: str
    failures: tuple[tuple[str, str], ...]

    def get(self, metric: str, readout: str) -> np.ndarray:
        """The (bevacizumab × anti-IL-6) grid of *metric* for *readout*."""
        metric = _check_metric(metric)
        if readout not in self.readouts:
            raise UnknownNameError("read-out", readout, self.readouts)
        return self.metrics[metric][:, :, self.readouts.index(readout)]

    def response_fraction(self, metric: str, readout: str) -> np.ndarray:
        """Response excess over basal relative to that without antibodies (1 = not inhibited,
        0 = back to basal); NaN everywhere when the no-antibody excess is below 0.2."""
        grid = self.get(metric, readout)
        base = 0.0 if metric == "auc" else 1.0
        span = self.reference[metric][self.readouts.index(readout)] - base
        if not span >= M.RATIO_GUARD:
            return np.full(grid.shape, np.nan)
        return (grid - base) / span

    def to_dataframe(self):  # -> DataFrame
        """Tidy table: ``bevacizumab_ug_ml, anti_il6_ug_ml, cell_line, readout, metric, value,
        response_fraction`` and the condition (MSC-CM content and whether it was assumed)."""
        import pandas as pd

        n_b, n_a, n_r = len(self.bevacizumab_ug_ml), len(self.anti_il6_ug_ml), len(self.readouts)
        frames = []
        for metric, arr in self.metrics.items():
            frac = np.stack([self.response_fraction(metric, r) for r in self.readouts], axis=2)
            frames.append(
                pd.DataFrame(
                    {
                        "bevacizumab_ug_ml": np.repeat(self.bevacizumab_ug_ml, n_a * n_r),
                        "anti_il6_ug_ml": np.tile(np.repeat(self.anti_il6_ug_ml, n_r), n_b),
                        "cell_line": self.cell_line,
                        "readout": np.tile(self.readouts, n_b * n_a),
                        "metric": metric,
                        "value": arr.reshape(-1),
                        "response_fraction": frac.reshape(-1),
                        "il6_ng_ml": self.il6_ng_ml,
                        "vegf_ng_ml": self.vegf_ng_ml,
                        "msc_cm_fraction": self.msc_cm_fraction,
                        "msc_cm_il6_ng_ml": self.msc_cm_il6_ng_ml,
                        "msc_cm_vegf_ng_ml": self.msc_cm_vegf_ng_ml,
                        "msc_cm_content": self.msc_cm_content,
                        "unit": ANTIBODY_METRICS[metric],
                        "variant": self.variant,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def plot(self, metric: str = "auc", readouts: Sequence[str] | None = None):  # -> Figure
        """Heat maps of the response remaining (% of the no-antibody excess) over the two
        antibody doses (µg/mL), one panel per read-out."""
        import matplotlib.pyplot as plt

        from paracrine.simulations.plotting import dose_ticks

        metric = _check_metric(metric)
        readouts = list(readouts or self.readouts)
        fig, axes = plt.subplots(
            1, len(readouts), figsize=(4.3 * len(readouts), 3.9), squeeze=False
        )
        for ax, readout in zip(axes[0], readouts, strict=True):
            grid = 100 * self.response_fraction(metric, readout)
            mesh = ax.pcolormesh(
                np.arange(len(self.anti_il6_ug_ml) + 1),
                np.arange(len(self.bevacizumab_ug_ml) + 1),
                np.ma.masked_invalid(grid),
                cmap=SEQUENTIAL_CMAP,
                vmin=0,
                vmax=max(100.0, float(np.nanmax(grid)) if np.isfinite(grid).any() else 100.0),
            )
            for doses, setter in (
                (self.anti_il6_ug_ml, ax.set_xticks),
                (self.bevacizumab_ug_ml, ax.set_yticks),
            ):
                ticks, labels = dose_ticks(doses)  # round doses on the grid
                setter(ticks + 0.5, labels)
            ax.set_xlabel("anti-IL-6 (µg/mL)")
            ax.set_ylabel("bevacizumab (µg/mL)")
            ax.set_title(f"{readout}: {metric}", fontsize="medium")
            fig.colorbar(mesh, ax=ax, label="remaining (% of no-antibody excess)")
        what = []
        if self.msc_cm_fraction:
            what.append(
                f"{100 * self.msc_cm_fraction:g}% MSC-CM (IL-6 {self.msc_cm_il6_ng_ml:g}, "
                f"VEGF {self.msc_cm_vegf_ng_ml:g} ng/mL undiluted, {self.msc_cm_content})"
            )
        if self.il6_ng_ml:
            what.append(f"IL-6 {self.il6_ng_ml:g} ng/mL")
        if self.vegf_ng_ml:
            what.append(f"VEGF {self.vegf_ng_ml:g} ng/mL")
        fig.suptitle(f"{' + '.join(what)}; {self.cell_line}, {self.variant}", fontsize="medium")
        fig.tight_layout()
        return fig


def antibody_matrix(
    model: Model | str,
    bevacizumab_ug_ml: Sequence[float],
    anti_il6_ug_ml: Sequence[float],
    *,
    cell_line: str = "MCF-7",
    msc_cm_fraction: float = 0.5,
    msc_cm_il6_ng_ml: float | None = None,
    msc_cm_vegf_ng_ml: float | None = None,
    il6_ng_ml: float = 0.0,
    vegf_ng_ml: float = 0.0,
    readouts: Sequence[str] = ("pERK", "pAKT", "p38", "pSTAT3"),
    times: Sequence[float] | None = None,
    pvec: np.ndarray | None = None,
    workers: int | None = None,
    scheduler=None,
    progress: bool = False,
) -> AntibodyMatrix:
    """Every bevacizumab × anti-IL-6 dose pair under MSC-CM (default 50%) and/or recombinant
    ligands; parameters as :func:`antibody_sweep` (doses strictly increasing, µg/mL)."""
    model = Model(model) if isinstance(model, str) else model
    bev = _doses(bevacizumab_ug_ml, "bevacizumab_ug_ml")
    anti = _doses(anti_il6_ug_ml, "anti_il6_ug_ml")
    grid = check_times(_DEFAULT_TIMES_MIN if times is None else times)
    M.late(grid, np.ones(grid.size))
    msc_il6, msc_vegf, note = _msc_content(msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml)
    base = Condition(
        "no antibody",
        cell_line,
        il6_ng_ml=il6_ng_ml,
        vegf_ng_ml=vegf_ng_ml,
        msc_cm_fraction=msc_cm_fraction,
        msc_cm_il6_ng_ml=msc_il6,
        msc_cm_vegf_ng_ml=msc_vegf,
    )
    if cell_line not in model.cell_lines:
        raise UnknownNameError("cell line", cell_line, model.cell_lines)
    if not (base.total_il6_ng_ml > 0 or base.total_vegf_ng_ml > 0):
        raise InvalidInputError(
            "antibody_matrix: expected IL-6 or VEGF in the condition (MSC-CM fraction "
            f"{msc_cm_fraction:g}, IL-6 {il6_ng_ml:g}, VEGF {vegf_ng_ml:g} ng/mL): nothing to "
            "neutralise"
        )
    conditions = [Condition("basal", cell_line), base]
    conditions += [
        dataclasses.replace(
            base,
            name=f"bevacizumab {b:g} + anti-IL-6 {a:g} ug/mL",
            bevacizumab_ug_ml=float(b),
            anti_il6_ug_ml=float(a),
        )
        for b in bev
        for a in anti
    ]
    outs = tuple(readouts)
    fold, failed = _batch(
        model,
        [(c, pvec) for c in conditions],
        grid,
        outs,
        workers,
        scheduler,
        progress,
        "antibody matrix",
    )
    values = _metrics(grid, fold)
    return AntibodyMatrix(
        bevacizumab_ug_ml=bev,
        anti_il6_ug_ml=anti,
        readouts=outs,
        metrics={k: v[2:].reshape(bev.size, anti.size, len(outs)) for k, v in values.items()},
        reference={k: v[1] for k, v in values.items()},
        cell_line=cell_line,
        variant=model.variant,
        il6_ng_ml=float(il6_ng_ml),
        vegf_ng_ml=float(vegf_ng_ml),
        msc_cm_fraction=float(msc_cm_fraction),
        msc_cm_il6_ng_ml=msc_il6,
        msc_cm_vegf_ng_ml=msc_vegf,
        msc_cm_content=note,
        failures=tuple((conditions[i].name, message) for i, _, message in failed),
    )
