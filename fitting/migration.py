"""Migration and proliferation read-outs fitted on top of a blot fit, validated by prediction.

The read-out models are in :mod:`paracrine.models.readouts`. Here they are fitted **on top of
a blot fit**, not jointly with the blots: the ~24 migration means cannot inform 42 signalling
parameters, and a joint fit would let four link parameters' worth of migration data pull the
signalling away from the blots that measure it. The signalling parameters come from the blot
fit (or from each member of an :class:`~paracrine.fitting.ensemble.Ensemble`), the link
parameters from the migration data through the shared objective interface
(:class:`~paracrine.fitting.objective.Problem`, fitted by
:func:`~paracrine.fitting.engine.fit_multistart`).

Validation by prediction (claim 1): the link is fitted on the ligand-only conditions (control,
IL-6, VEGF, IL-6+VEGF) and on MSC-CM alone (which sets γ, the other MSC factors), then it
**predicts** MSC-CM with bevacizumab, with anti-IL-6 and with both; those rows are never seen
by the fit (``used_in_fit = False``).

Caveat stated in every report: the blots cover 0–4 h, the migration assay 24 h; the signal
integrals beyond 4 h are the model's extrapolation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from paracrine.errors import FitError, InvalidInputError
from paracrine.fitting.objective import Capabilities, Problem
from paracrine.models import Model
from paracrine.models.readouts import (
    G1_WINDOW_MIN,
    MIGRATION_ASSAY_MIN,
    READOUT_SIGNALS,
    composite_signal,
    migration_fold,
    proliferation_fold,
)
from paracrine.simulations import Condition, ModelSimulator, units
from paracrine.vocabulary import CELL_LINES

__all__ = [
    "LINKS",
    "MIGRATION_COLUMNS",
    "MigrationFit",
    "MigrationProblem",
    "fit_migration",
    "msc_cm_content_scan",
    "plot_content_scan",
    "readout_conditions",
    "readout_signals",
]

#: Columns of :meth:`MigrationFit.table`, in order (``migration.csv``).
MIGRATION_COLUMNS: tuple[str, ...] = (
    "cell_line",
    "condition",
    "readout",
    "measured",
    "measured_sd",
    "predicted",
    "predicted_low",
    "predicted_high",
    "used_in_fit",
)
#: Output grid of the assay simulation (min): every 5 min over 24 h.
ASSAY_TIMES_MIN = np.linspace(0.0, MIGRATION_ASSAY_MIN, 289)
#: Prediction bands: central 95% of the draws.
BAND_LEVEL = 0.95


def readout_conditions(
    frame: pd.DataFrame,
    *,
    msc_cm_il6_ng_ml: float = units.MSC_CM_IL6_NG_ML,
    msc_cm_vegf_ng_ml: float = units.MSC_CM_VEGF_NG_ML,
) -> list[Condition]:
    """One :class:`~paracrine.simulations.Condition` per read-out row (named by its row)."""
    conditions = []
    for i, row in enumerate(frame.itertuples(index=False)):
        conditions.append(
            Condition(
                f"{row.condition} [{row.cell_line}] #{i}",
                row.cell_line,
                il6_ng_ml=float(row.il6_ng_ml),
                vegf_ng_ml=float(row.vegf_ng_ml),
                bevacizumab_ug_ml=float(row.bevacizumab_ug_ml),
                anti_il6_ug_ml=float(row.anti_il6_ug_ml),
                msc_cm_fraction=float(row.msc_cm_fraction),
                msc_cm_il6_ng_ml=msc_cm_il6_ng_ml,
                msc_cm_vegf_ng_ml=msc_cm_vegf_ng_ml,
            )
        )
    return conditions


def readout_signals(
    simulator: ModelSimulator,
    conditions: Sequence[Condition],
    pvecs: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Signal integrals of each condition over the 24-h assay.

    Parameters
    ----------
    simulator
        A :class:`ModelSimulator` whose outputs are :data:`~paracrine.models.readouts.
        READOUT_SIGNALS`.
    conditions
        The conditions.
    pvecs
        Parameter vector per cell line (default: the simulator's model values).

    Returns
    -------
    integrals, g1
        ``integrals`` (n, 4): ∫₀^24h (fold − 1) dt in fold·h, per signal; ``g1`` (n,): the
        mean pERK excess over :data:`~paracrine.models.readouts.G1_WINDOW_MIN`.
    """
    if tuple(simulator.outputs) != READOUT_SIGNALS:
        raise InvalidInputError(
            f"readout_signals: the simulator's outputs must be {READOUT_SIGNALS}, "
            f"received {simulator.outputs}"
        )
    times = ASSAY_TIMES_MIN
    g1 = (times >= G1_WINDOW_MIN[0]) & (times <= G1_WINDOW_MIN[1])
    basal: dict[str, np.ndarray] = {}
    integrals = np.empty((len(conditions), len(READOUT_SIGNALS)))
    late = np.empty(len(conditions))
    for i, cond in enumerate(conditions):
        pvec = None if pvecs is None else pvecs[cond.cell_line]
        if cond.cell_line not in basal:
            base = simulator.run(Condition("basal", cond.cell_line), times[:1], pvec)[0]
            basal[cond.cell_line] = np.where(base > 0, base, np.nan)
        fold = simulator.run(cond, times, pvec) / basal[cond.cell_line]
        integrals[i] = np.trapezoid(fold - 1.0, times, axis=0) / 60.0
        late[i] = float(np.mean(fold[g1, 0] - 1.0))
    return integrals, late


#: The link forms (:mod:`paracrine.models.readouts`): what the MSC factors other than IL-6
#: and VEGF do.
LINKS = {
    "additive": "fold = 1 + Emax·S/(EC50 + S) + γ_line·f_CM (the other factors add, per line)",
    "amplifying": "fold = 1 + Emax·S/(EC50 + S)·(1 + a·f_CM) + γ·f_CM (the other factors add "
    "and amplify the signalling response; a and γ shared by the lines, so that the MSC-CM-alone "
    "rows can set them)",
}


class MigrationProblem(Problem):
    """Weighted least squares of the migration link on fixed signal integrals.

    Parameters (optimisation scale): ``log10_emax`` (fold), ``log10_ec50`` (fold·h),
    ``log10_w_stat3`` (dimensionless), then for the ``"additive"`` link ``gamma[<line>]``
    (fold per unit MSC-CM fraction, linear, 0–10), for the ``"amplifying"`` link
    ``amplification`` (per unit MSC-CM fraction, linear, 0–20) and one ``gamma``. Residuals
    ``(predicted − measured)/sd`` over the rows used; the control rows are left out (their
    fold is 1 by definition of the normalisation).
    """

    capabilities = Capabilities(alternating_inner=False)

    def __init__(
        self,
        integrals: np.ndarray,
        measured: np.ndarray,
        sd: np.ndarray,
        cell_lines: Sequence[str],
        msc_cm_fraction: np.ndarray,
        used: np.ndarray,
        link: str = "additive",
    ) -> None:
        if link not in LINKS:
            from paracrine.errors import UnknownNameError

            raise UnknownNameError("migration link", link, LINKS)
        self.link = link
        self.integrals = np.asarray(integrals, dtype=float)
        self.measured = np.asarray(measured, dtype=float)
        self.sd = np.asarray(sd, dtype=float)
        self.cell_lines = tuple(cell_lines)
        self.msc_cm_fraction = np.asarray(msc_cm_fraction, dtype=float)
        self.used = np.asarray(used, dtype=bool)
        self.lines = tuple(line for line in CELL_LINES if line in self.cell_lines) + tuple(
            sorted({line for line in self.cell_lines if line not in CELL_LINES})
        )
        self._line_index = np.array([self.lines.index(c) for c in self.cell_lines])
        if link == "additive":
            extra = tuple(f"gamma[{line}]" for line in self.lines)
            lower, upper = [0.0] * len(self.lines), [10.0] * len(self.lines)
        else:
            extra, lower, upper = ("amplification", "gamma"), [0.0, 0.0], [20.0, 10.0]
        self.parameter_names = ("log10_emax", "log10_ec50", "log10_w_stat3", *extra)
        self.lower = np.array([-1.0, -2.0, -3.0, *lower])
        self.upper = np.array([1.5, 3.0, 2.0, *upper])
        self.n_data = int(self.used.sum())
        self.n_inner_parameters = 0

    def with_integrals(self, integrals: np.ndarray) -> MigrationProblem:
        """The same data and rows with other signal integrals (an ensemble member's)."""
        return MigrationProblem(
            integrals,
            self.measured,
            self.sd,
            self.cell_lines,
            self.msc_cm_fraction,
            self.used,
            self.link,
        )

    def predict(self, x: np.ndarray, integrals: np.ndarray | None = None) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        signal = composite_signal(self.integrals if integrals is None else integrals, 10 ** x[2])
        if self.link == "additive":
            gamma, amplification = x[3:][self._line_index], 0.0
        else:
            amplification, gamma = x[3], x[4]
        return migration_fold(
            signal, 10 ** x[0], 10 ** x[1], gamma, self.msc_cm_fraction, amplification
        )

    def residuals(self, x: np.ndarray) -> np.ndarray:
        return ((self.predict(x) - self.measured) / self.sd)[self.used]

    def update_inner(self, x: np.ndarray) -> None:
        return None

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        r = self.residuals(x)
        return float(0.5 * r @ r + np.sum(np.log(self.sd[self.used] * math.sqrt(2 * math.pi))))

    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        x = np.asarray(x, dtype=float)
        out = {"emax": 10 ** x[0], "ec50_fold_h": 10 ** x[1], "w_stat3": 10 ** x[2]}
        names = self.parameter_names[3:]
        out.update({name: float(v) for name, v in zip(names, x[3:], strict=True)})
        return out


def _refit(problem: MigrationProblem, x0: np.ndarray) -> np.ndarray:
    from scipy.optimize import least_squares

    x0 = np.clip(x0, problem.lower + 1e-9, problem.upper - 1e-9)
    sol = least_squares(problem.residuals, x0, bounds=(problem.lower, problem.upper))
    return sol.x


def _laplace_draws(
    problem: MigrationProblem, x: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws of the link parameters from the Laplace approximation at *x*
    (:func:`~paracrine.fitting.ensemble.laplace_covariance`), clipped to the bounds."""
    from paracrine.fitting.ensemble import laplace_covariance

    cov = laplace_covariance(problem, np.asarray(x, dtype=float))
    chol = np.linalg.cholesky(0.5 * (cov + cov.T) + 1e-12 * np.eye(x.size))
    draws = x + rng.standard_normal((n, x.size)) @ chol.T
    return np.clip(draws, problem.lower, problem.upper)


@dataclass(frozen=True)
class MigrationFit:
    """The fitted migration and proliferation read-outs with their predictions.

    Attributes
    ----------
    frame
        One row per read-out row: the data, ``predicted`` (best), the band
        (``predicted_low/high``), ``used_in_fit``, ``z`` = (predicted − measured)/sd.
    link
        Best link parameters (natural scale) and their 95% intervals from the draws.
    beta, beta_ci
        Proliferation coupling and its 95% interval.
    band_source
        How the band was made (link Laplace draws, with or without a signalling ensemble).
    msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml
        The MSC-CM content used (assumed unless the caller gave measured values).
    nllh, n_used
        Of the migration link fit.
    """

    frame: pd.DataFrame
    link: dict[str, tuple[float, float, float]]
    beta: float
    beta_ci: tuple[float, float]
    band_source: str
    msc_cm_il6_ng_ml: float
    msc_cm_vegf_ng_ml: float
    nllh: float
    n_used: int
    metadata: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The :data:`MIGRATION_COLUMNS` table (``migration.csv``) plus ``z``."""
        return self.frame[[*MIGRATION_COLUMNS, "z"]].copy()

    # -- verdicts ------------------------------------------------------------------------
    def order_pairs(self, readout: str = "migration") -> pd.DataFrame:
        """Every pair of conditions of one line whose measured means differ significantly
        (|Δ| > 2·SE of the difference, SE from sd/√n): does the prediction order them the same
        way? Pairs within noise have no order to reproduce and are not listed."""
        rows = []
        sub = self.frame[self.frame["readout"] == readout]
        for line, group in sub.groupby("cell_line", sort=False):
            g = group.reset_index(drop=True)
            for i in range(len(g)):
                for j in range(i + 1, len(g)):
                    a, b = g.iloc[i], g.iloc[j]
                    se = math.hypot(a.measured_sd / math.sqrt(a.n), b.measured_sd / math.sqrt(b.n))
                    diff = a.measured - b.measured
                    if abs(diff) <= 2 * se:
                        continue
                    rows.append(
                        {
                            "cell_line": line,
                            "higher": a.condition if diff > 0 else b.condition,
                            "lower": b.condition if diff > 0 else a.condition,
                            "measured_difference": abs(diff),
                            "predicted_difference": (a.predicted - b.predicted) * np.sign(diff),
                        }
                    )
        out = pd.DataFrame(rows)
        if len(out):
            out["reproduced"] = out["predicted_difference"] > 0
        return out

    def verdicts(self) -> dict[str, Any]:
        """Numbers behind the must-shows: order, fitted and held-out rows within 2 SD."""
        mig = self.frame[self.frame["readout"] == "migration"]
        within = mig["z"].abs() <= 2.0
        heldout = ~mig["used_in_fit"] & (mig["bevacizumab_ug_ml"] + mig["anti_il6_ug_ml"] > 0)
        pairs = self.order_pairs()
        prolif = self.frame[self.frame["readout"] == "proliferation"]
        return {
            "order_pairs": len(pairs),
            "order_reproduced": int(pairs["reproduced"].sum()) if len(pairs) else 0,
            "fitted_rows": int(mig["used_in_fit"].sum()),
            "fitted_within_2sd": int((within & mig["used_in_fit"]).sum()),
            "heldout_rows": int(heldout.sum()),
            "heldout_within_2sd": int((within & heldout).sum()),
            "proliferation_rows": len(prolif),
            "proliferation_within_2sd": int((prolif["z"].abs() <= 2.0).sum()),
        }

    def summary_lines(self) -> list[str]:
        v = self.verdicts()
        link = self.link
        return [
            f"Migration link (fitted on {self.n_used} ligand-only and MSC-CM rows, nllh "
            f"{self.nllh:.2f}): Emax {link['emax'][0]:.3g} [{link['emax'][1]:.3g}, "
            f"{link['emax'][2]:.3g}] fold, EC50 {link['ec50_fold_h'][0]:.3g} fold·h, "
            f"w_STAT3 {link['w_stat3'][0]:.3g}; "
            + ", ".join(
                f"{k} {val[0]:.3g}"
                for k, val in link.items()
                if k.startswith(("gamma", "amplification"))
            )
            + f" ({self.metadata.get('link', 'additive')} link: "
            + LINKS[self.metadata.get("link", "additive")]
            + ")",
            f"Order of significantly different conditions reproduced: {v['order_reproduced']}"
            f"/{v['order_pairs']} pairs.",
            f"Fitted conditions within 2 SD: {v['fitted_within_2sd']}/{v['fitted_rows']}; "
            f"PREDICTED (held-out antibody) conditions within 2 SD: {v['heldout_within_2sd']}"
            f"/{v['heldout_rows']}"
            + (
                ""
                if v["heldout_within_2sd"] == v["heldout_rows"]
                else " — the prediction FAILS for the others (see z in migration.csv)"
            )
            + ".",
            f"MSC-CM content used: IL-6 {self.msc_cm_il6_ng_ml:g} ng/mL, VEGF-A "
            f"{self.msc_cm_vegf_ng_ml:g} ng/mL in undiluted medium"
            + (
                " (paracrine's ASSUMED defaults: no measured value is published for these cells)"
                if (self.msc_cm_il6_ng_ml, self.msc_cm_vegf_ng_ml)
                == (units.MSC_CM_IL6_NG_ML, units.MSC_CM_VEGF_NG_ML)
                else " (given by the user)"
            )
            + ".",
            f"Proliferation coupling β = {self.beta:.3g} [{self.beta_ci[0]:.3g}, "
            f"{self.beta_ci[1]:.3g}] per unit late-G1 pERK excess; proliferation rows within 2 "
            f"SD: {v['proliferation_within_2sd']}/{v['proliferation_rows']}.",
            f"Bands: {self.band_source}.",
            "The blots cover 0–4 h; the 24-h signal integrals are the model's extrapolation.",
        ]

    def plot(self):  # -> Figure
        """Predicted (with band) against measured (± SD), migration and proliferation."""
        import matplotlib.pyplot as plt

        from paracrine.vocabulary import ARM_COLOURS, GUIDE, MUTED, PAPER, condition_colours

        readouts = [r for r in ("migration", "proliferation") if r in set(self.frame.readout)]
        fig, axes = plt.subplots(
            1, len(readouts), figsize=(5.2 * len(readouts), 4.6), squeeze=False
        )
        names = list(dict.fromkeys(self.frame["condition"]))
        colours = condition_colours(names)
        markers = {"MCF-7": "o", "T47D": "s", "SK-Br-3": "^"}
        for ax, readout in zip(axes[0], readouts, strict=True):
            sub = self.frame[self.frame["readout"] == readout]
            lo = float(min(sub.measured.min(), sub.predicted_low.min())) - 0.15
            hi = float(max(sub.measured.max(), sub.predicted_high.max())) + 0.15
            ax.plot([lo, hi], [lo, hi], color=GUIDE, lw=1, zorder=0)
            for row in sub.itertuples(index=False):
                colour = ARM_COLOURS.get(row.condition, colours[row.condition])
                ax.errorbar(
                    row.measured,
                    row.predicted,
                    xerr=2 * row.measured_sd,
                    # the best fit may lie outside its draws' band: no negative error bar
                    yerr=[
                        [max(0.0, row.predicted - row.predicted_low)],
                        [max(0.0, row.predicted_high - row.predicted)],
                    ],
                    fmt=markers.get(row.cell_line, "o"),
                    color=colour,
                    mfc=colour if row.used_in_fit else PAPER,
                    ms=7,
                    capsize=2,
                    lw=1,
                )
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_xlabel(f"measured {readout} (fold over control, ± 2 SD)")
            ax.set_ylabel(f"predicted {readout} (fold, {int(BAND_LEVEL * 100)}% band)")
            ax.set_title(readout, fontsize="medium")
        handles = [
            plt.Line2D([], [], ls="", marker="o", color=ARM_COLOURS.get(n, colours[n]), label=n)
            for n in names
        ]
        handles += [
            plt.Line2D([], [], ls="", marker=m, color=GUIDE, label=line)
            for line, m in markers.items()
            if line in set(self.frame.cell_line)
        ]
        handles += [
            plt.Line2D([], [], ls="", marker="s", color=GUIDE, label="filled: used in the fit"),
            plt.Line2D(
                [], [], ls="", marker="s", color=MUTED, mfc=PAPER, label="open: held out, predicted"
            ),
        ]
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
        fig.tight_layout()
        return fig


def _signalling(signalling: Any) -> tuple[Model, Any]:
    """(model, blot fit or None) from a BlotFit, a Model or a variant name."""
    if isinstance(signalling, str):
        return Model(signalling), None
    if isinstance(signalling, Model):
        return signalling, None
    if hasattr(signalling, "problem") and hasattr(signalling, "model"):
        return signalling.model, signalling
    raise InvalidInputError(
        f"signalling: expected a BlotFit, a Model or a variant name, received {signalling!r}"
    )


def fit_migration(
    signalling: Any,
    readouts: Any = "reference_migration_synthetic",
    *,
    ensemble: Any = None,
    msc_cm_il6_ng_ml: float = units.MSC_CM_IL6_NG_ML,
    msc_cm_vegf_ng_ml: float = units.MSC_CM_VEGF_NG_ML,
    hold_out_antibodies: bool = True,
    link: str = "additive",
    n_starts: int = 16,
    n_draws: int = 200,
    seed: int = 0,
    progress: bool = False,
) -> MigrationFit:
    """Fit the migration link and the proliferation coupling; predict every row with a band.

    Parameters
    ----------
    signalling
        A :class:`~paracrine.fitting.BlotFit` (its best-fit model), a
        :class:`~paracrine.models.Model` or a variant name (default parameters).
    readouts
        :class:`~paracrine.data.ReadoutData`, a bundled name or a CSV path.
    ensemble
        An :class:`~paracrine.fitting.ensemble.Ensemble` of the blot fit (needs a BlotFit as
        *signalling*): the signalling integrals are recomputed for each member and the link
        refitted, so the band carries signalling and link uncertainty. Without it the band
        carries the link's uncertainty only (Laplace draws).
    msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml
        IL-6 and VEGF-A in undiluted MSC-CM (default: the assumed values of
        :mod:`paracrine.simulations.units`).
    hold_out_antibodies
        Leave the antibody rows out of the fit and predict them (default; claim 1's test).
    link
        ``"additive"`` or ``"amplifying"`` (:data:`LINKS`).
    n_starts, seed
        Multistart of the link fit (seeded Latin hypercube, in this process).
    n_draws
        Link-parameter draws for the band (per ensemble member when an ensemble is given,
        one draw each).
    """
    from paracrine.data import ReadoutData, load_readouts
    from paracrine.fitting.engine import fit_multistart

    data = readouts if isinstance(readouts, ReadoutData) else load_readouts(readouts)
    model, blot_fit = _signalling(signalling)
    frame = data.frame.reset_index(drop=True).copy()
    conditions = readout_conditions(
        frame, msc_cm_il6_ng_ml=msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml=msc_cm_vegf_ng_ml
    )
    missing = sorted(set(frame["cell_line"]) - set(model.cell_lines))
    if missing:
        raise InvalidInputError(
            f"{data.source}: cell lines {missing} are not in the model (it has "
            f"{list(model.cell_lines)})"
        )
    sim = ModelSimulator(model, READOUT_SIGNALS)
    integrals, g1 = readout_signals(sim, conditions)
    is_mig = (frame["readout"] == "migration").to_numpy()
    antibody = ((frame["bevacizumab_ug_ml"] > 0) | (frame["anti_il6_ug_ml"] > 0)).to_numpy()
    control = (
        (frame[["il6_ng_ml", "vegf_ng_ml", "bevacizumab_ug_ml", "anti_il6_ug_ml"]].sum(axis=1) == 0)
        & (frame["msc_cm_fraction"] == 0)
    ).to_numpy()
    used = is_mig & ~control & (~antibody if hold_out_antibodies else True)
    if not used.any():
        raise FitError(f"{data.source}: no migration rows to fit the link to")
    mig_idx = np.flatnonzero(is_mig)
    problem = MigrationProblem(
        integrals[mig_idx],
        frame["fold_change"].to_numpy()[mig_idx],
        frame["sd"].to_numpy()[mig_idx],
        list(frame["cell_line"].iloc[mig_idx]),
        frame["msc_cm_fraction"].to_numpy()[mig_idx],
        used[mig_idx],
        link,
    )
    result = fit_multistart(problem, n_starts=n_starts, seed=seed, workers=1, progress=progress)
    if not np.all(np.isfinite(result.x)):
        raise FitError(f"migration link fit: every start failed ({result.message})")
    x_best = np.asarray(result.x, dtype=float)
    rng = np.random.default_rng(seed)

    # proliferation: weighted least squares of 1 + β·E_G1 (closed form)
    is_pro = (frame["readout"] == "proliferation").to_numpy()
    pro_idx = np.flatnonzero(is_pro)
    beta, beta_se = 0.0, math.inf
    if pro_idx.size:
        e = g1[pro_idx]
        y = frame["fold_change"].to_numpy()[pro_idx] - 1.0
        w = 1.0 / frame["sd"].to_numpy()[pro_idx] ** 2
        info = float(np.sum(w * e * e))
        if info > 0:
            beta = float(np.sum(w * e * y) / info)
            beta_se = 1.0 / math.sqrt(info)

    # bands
    mig_draws: list[np.ndarray] = []
    pro_draws: list[np.ndarray] = []
    link_draws: list[np.ndarray] = []
    if ensemble is not None:
        if blot_fit is None:
            raise InvalidInputError("fit_migration: an ensemble needs the BlotFit it came from")
        if tuple(ensemble.parameter_names) != tuple(blot_fit.problem.parameter_names):
            raise FitError(
                "fit_migration: the ensemble's parameters are not the blot fit's "
                f"({len(ensemble.parameter_names)} vs {len(blot_fit.problem.parameter_names)})"
            )
        members = ensemble.samples
        if progress:
            from tqdm.auto import tqdm

            members = tqdm(members, desc="ensemble", unit="member")
        lines = sorted(set(frame["cell_line"]))
        for x in members:
            member = blot_fit.problem.fitted_model(x)
            pvecs = {
                line: np.array([member.parameter_values(line)[p] for p in sim.parameter_ids])
                for line in lines
            }
            ints, late = readout_signals(sim, conditions, pvecs)
            sub = problem.with_integrals(ints[mig_idx])
            x_m = _refit(sub, x_best)
            draw = _laplace_draws(sub, x_m, 1, rng)[0]
            link_draws.append(draw)
            mig_draws.append(sub.predict(draw))
            b = beta + beta_se * rng.standard_normal() if math.isfinite(beta_se) else beta
            pro_draws.append(proliferation_fold(late[pro_idx], b))
        band_source = (
            f"{len(ensemble)}-member MCMC ensemble of the blot fit (signalling re-simulated "
            "and the link refitted per member, plus one Laplace draw of the link each)"
            + ("" if ensemble.converged else "; the chain is NOT converged")
        )
    else:
        for draw in _laplace_draws(problem, x_best, n_draws, rng):
            link_draws.append(draw)
            mig_draws.append(problem.predict(draw))
        b_draws = beta + (beta_se if math.isfinite(beta_se) else 0.0) * rng.standard_normal(n_draws)
        pro_draws = [proliferation_fold(g1[pro_idx], b) for b in b_draws]
        band_source = (
            f"{n_draws} Laplace draws of the link parameters only (signalling fixed at the "
            "best fit: pass an ensemble for its uncertainty)"
        )
    lo_q, hi_q = (1 - BAND_LEVEL) / 2, (1 + BAND_LEVEL) / 2
    predicted = np.full(len(frame), np.nan)
    low = np.full(len(frame), np.nan)
    high = np.full(len(frame), np.nan)
    predicted[mig_idx] = problem.predict(x_best)
    m = np.asarray(mig_draws)
    low[mig_idx], high[mig_idx] = np.quantile(m, [lo_q, hi_q], axis=0)
    if pro_idx.size:
        predicted[pro_idx] = proliferation_fold(g1[pro_idx], beta)
        p = np.asarray(pro_draws)
        low[pro_idx], high[pro_idx] = np.quantile(p, [lo_q, hi_q], axis=0)
    out = frame.rename(columns={"fold_change": "measured", "sd": "measured_sd"})
    out["predicted"] = predicted
    out["predicted_low"] = low
    out["predicted_high"] = high
    # the proliferation rows (but their control) set β
    out["used_in_fit"] = used | (is_pro & ~control)
    out["z"] = (out["predicted"] - out["measured"]) / out["measured_sd"]
    natural_draws = np.array([list(problem.to_natural(d).values()) for d in link_draws])
    names = list(problem.to_natural(x_best))
    best = problem.to_natural(x_best)
    qs = np.quantile(natural_draws, [lo_q, hi_q], axis=0)
    link_values = {n: (best[n], float(qs[0, k]), float(qs[1, k])) for k, n in enumerate(names)}
    z = 1.959963984540054
    return MigrationFit(
        out,
        link_values,
        beta,
        (beta - z * beta_se, beta + z * beta_se),
        band_source,
        float(msc_cm_il6_ng_ml),
        float(msc_cm_vegf_ng_ml),
        float(result.nllh),
        int(used.sum()),
        {
            "variant": model.variant,
            "readouts": str(data.source),
            "n_starts": n_starts,
            "seed": seed,
            "link": link,
        },
    )


def msc_cm_content_scan(
    signalling: Any,
    readouts: Any = "reference_migration_synthetic",
    *,
    il6_ng_ml: Sequence[float] = (0.5, 2.0, 10.0, 50.0, 200.0),
    vegf_ng_ml: Sequence[float] = (0.5, 2.0, 10.0, 50.0, 200.0),
    link: str = "additive",
    n_starts: int = 6,
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Which MSC-CM composition would make the held-out antibody rows come out right?

    For every (IL-6, VEGF) content of undiluted MSC-CM on the grid, the link is refitted on
    the ligand-only and MSC-CM rows (as :func:`fit_migration` does) and the antibody rows are
    predicted. This is a DIAGNOSIS, not a validation: choosing the content by these numbers
    would use the held-out rows. It answers whether the failure of the prediction is the
    assumed content (some composition fits) or the link's structure (none does).

    Returns
    -------
    DataFrame
        ``msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml, fitted_chi2, heldout_chi2, heldout_max_abs_z,
        heldout_within_2sd, heldout_rows``.
    """
    for name, grid in (("il6_ng_ml", il6_ng_ml), ("vegf_ng_ml", vegf_ng_ml)):
        values = np.asarray(grid, dtype=float)
        if (
            values.ndim != 1
            or values.size == 0
            or not np.all(np.isfinite(values))
            or np.any(values < 0)
        ):
            raise InvalidInputError(
                f"msc_cm_content_scan {name}: expected a non-empty list of contents >= 0 "
                f"ng/mL, received {list(np.atleast_1d(values))}"
            )
    rows = []
    pairs = [(float(a), float(b)) for a in il6_ng_ml for b in vegf_ng_ml]
    if progress:
        from tqdm.auto import tqdm

        pairs = tqdm(pairs, desc="MSC-CM content", unit="point")
    for il6, vegf in pairs:
        fit = fit_migration(
            signalling,
            readouts,
            msc_cm_il6_ng_ml=il6,
            msc_cm_vegf_ng_ml=vegf,
            link=link,
            n_starts=n_starts,
            n_draws=2,
            seed=seed,
        )
        f = fit.frame
        mig = f["readout"] == "migration"
        held = mig & (f["bevacizumab_ug_ml"] + f["anti_il6_ug_ml"] > 0)
        fitted = mig & f["used_in_fit"]
        rows.append(
            {
                "msc_cm_il6_ng_ml": il6,
                "msc_cm_vegf_ng_ml": vegf,
                "fitted_chi2": float((f.loc[fitted, "z"] ** 2).sum()),
                "heldout_chi2": float((f.loc[held, "z"] ** 2).sum()),
                "heldout_max_abs_z": float(f.loc[held, "z"].abs().max()),
                "heldout_within_2sd": int((f.loc[held, "z"].abs() <= 2).sum()),
                "heldout_rows": int(held.sum()),
            }
        )
    return pd.DataFrame(rows)


def plot_content_scan(scan: pd.DataFrame):  # -> Figure
    """Heat map of the held-out rows' largest |z| over the MSC-CM content grid (≤ 2: every
    antibody row within 2 SD)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from paracrine.vocabulary import SEQUENTIAL_CMAP_REVERSED, text_colour

    grid = scan.pivot(
        index="msc_cm_il6_ng_ml", columns="msc_cm_vegf_ng_ml", values="heldout_max_abs_z"
    )
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    mesh = ax.pcolormesh(
        np.arange(grid.shape[1] + 1),
        np.arange(grid.shape[0] + 1),
        grid.to_numpy(),
        cmap=SEQUENTIAL_CMAP_REVERSED,
        norm=LogNorm(vmin=1.0, vmax=max(2.0, float(np.nanmax(grid.to_numpy())))),
    )
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            value = grid.iat[i, j]
            colour = text_colour(value > 3.0)
            ax.text(
                j + 0.5, i + 0.5, f"{value:.1f}", ha="center", va="center", fontsize=9, color=colour
            )
    ax.set_xticks(np.arange(grid.shape[1]) + 0.5, [f"{v:.3g}" for v in grid.columns])
    ax.set_yticks(np.arange(grid.shape[0]) + 0.5, [f"{v:.3g}" for v in grid.index])
    ax.set_xlabel("VEGF-A in undiluted MSC-CM (ng/mL)")
    ax.set_ylabel("IL-6 in undiluted MSC-CM (ng/mL)")
    ax.set_title("held-out antibody rows: largest |z| (≤ 2 = within 2 SD)", fontsize="medium")
    fig.colorbar(mesh, ax=ax, label="max |predicted − measured| / SD")
    fig.tight_layout()
    return fig
