"""Knockout screen: which nodes carry the stronger and the sustained combination response?

:func:`knockout_screen` knocks out (or down) every protein of
:data:`~paracrine.models.targets.KNOCKOUT_TARGETS` and fully inhibits every drug target of
:data:`~paracrine.models.targets.INHIBITOR_TARGETS`, one at a time, and simulates the paper's
four arms (control, IL-6, VEGF, IL-6+VEGF) for the unperturbed cell and for each perturbation in
one batch (:func:`~paracrine.simulations.batch.run_batch`: one compiled model, optionally in
parallel).

**Normalisation.** Every fold is over the basal level of the *unperturbed* cell (its control
arm at t = 0), so a knockout that lowers basal activity shows as lower, not normalised away;
the perturbed cell's own basal level is reported beside it as the metric ``basal`` (a
fraction, arm ``control``).

Metrics (see :mod:`paracrine.simulations.metrics`) per perturbation, arm and read-out: ``peak``
(fold), ``auc`` (fold·min/min), ``late`` (mean fold 120–240 min) and ``persistence``; per
perturbation and read-out, on the arm ``IL-6+VEGF``: ``excess_ratio`` (at the combination's
peak time), ``peak_excess`` (combination peak − 1), ``late_excess`` (combination late − 1),
``peak_benefit`` (combination peak − the larger single-ligand peak: is it *stronger*?) and
``late_benefit`` (combination late − the larger single late level: is it *sustained*?). A
perturbation "carries" the combination response when it removes the benefit:
:meth:`KnockoutScreen.ranking` sorts by that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.models.targets import INHIBITOR_TARGETS, KNOCKOUT_TARGETS
from paracrine.simulations import metrics as M
from paracrine.simulations.batch import run_batch
from paracrine.simulations.conditions import (
    DEFAULT_IL6_NG_ML,
    DEFAULT_VEGF_NG_ML,
    Condition,
    Inhibitor,
    Knockdown,
    Knockout,
    Perturbation,
    arm_doses,
)
from paracrine.simulations.engine import check_times
from paracrine.simulations.model_simulator import ModelSimulator
from paracrine.vocabulary import (
    ARMS,
    COMBINATION,
    CONTROL,
    DIVERGING_CMAP,
    IL6_ARM,
    MISSING,
    VEGF_ARM,
    text_colour,
)

__all__ = [
    "ARM_METRICS",
    "COMBINATION_METRICS",
    "DEFAULT_SCREEN_TIMES_MIN",
    "QUESTIONS",
    "SCREEN_COLUMNS",
    "UNPERTURBED",
    "KnockoutScreen",
    "knockout_screen",
    "plot_knockout_screens",
    "screen_perturbations",
]

#: 0–240 min every 2.5 min.
DEFAULT_SCREEN_TIMES_MIN = np.linspace(0.0, 240.0, 97)
#: Label of the reference row (no perturbation).
UNPERTURBED = "unperturbed"
#: Metrics of every arm: name -> unit.
ARM_METRICS: dict[str, str] = {
    "peak": "fold over unperturbed basal",
    "auc": "fold·min/min (mean excess over unperturbed basal, 0–t_end)",
    "late": "fold over unperturbed basal (mean 120–240 min)",
    "persistence": "(late − 1)/(peak − 1), NaN where peak − 1 < 0.2",
}
#: Metrics of the combination (arm IL-6+VEGF): name -> unit.
COMBINATION_METRICS: dict[str, str] = {
    "excess_ratio": "(combo − 1)/((IL-6 − 1) + (VEGF − 1)) at the combination's peak time",
    "peak_excess": "combination peak − 1 (fold)",
    "late_excess": "combination late − 1 (fold)",
    "peak_benefit": "combination peak − larger single-ligand peak (fold)",
    "late_benefit": "combination late − larger single-ligand late level (fold)",
}
#: The two questions of the screen -> the benefit metric that answers them.
QUESTIONS: dict[str, str] = {"stronger": "peak_benefit", "sustained": "late_benefit"}
#: Columns of :meth:`KnockoutScreen.to_dataframe`, in order.
SCREEN_COLUMNS: tuple[str, ...] = (
    "cell_line",
    "perturbation",
    "target",
    "kind",
    "arm",
    "readout",
    "metric",
    "value",
    "unperturbed",
    "relative_change",
    "change",
    "unit",
    "variant",
)
_BASAL_UNIT = "fraction (the perturbed cell's unstimulated level)"
#: Metrics in excess units (fold − 1 or differences of folds): their relative change is
#: reported only where the unperturbed value is at least RATIO_GUARD (0.2) in magnitude.
_EXCESS_METRICS = frozenset({"auc", *COMBINATION_METRICS} - {"excess_ratio"})
_IL6, _VEGF, _COMBO = (ARMS.index(a) for a in (IL6_ARM, VEGF_ARM, COMBINATION))


def _full_inhibition_label(p: Perturbation) -> str:
    if isinstance(p, Inhibitor) and p.inhibition == 1.0:
        return f"{p.target} inhibitor"
    return p.label()


def _kind(p: Perturbation) -> str:
    return {Knockout: "knockout", Knockdown: "knockdown", Inhibitor: "inhibitor"}[type(p)]


def screen_perturbations(
    targets: Sequence[str | Perturbation] | None = None, knockdown: float | None = None
) -> list[Perturbation]:
    """The perturbations of a screen.

    Parameters
    ----------
    targets
        None: every knockout target as a :class:`Knockout` and every inhibitor target as a
        full :class:`Inhibitor` (inhibition 1). Otherwise names or perturbations: ``"X"`` or
        ``"X KO"`` is the knockout of X (``"X"`` alone is the inhibitor when X is only a drug
        target, e.g. ``"Src"``), ``"X inhibitor"`` the inhibitor of X.
    knockdown
        Fraction remaining (in [0, 1]): every knockout becomes a :class:`Knockdown` to this
        fraction, every inhibitor leaves this fraction of activity (inhibition 1 − knockdown).

    Raises
    ------
    UnknownNameError
        An unknown target (with the closest names).
    InvalidInputError
        A fraction outside [0, 1], or one perturbation given twice.
    """
    if knockdown is not None and (
        isinstance(knockdown, bool)
        or not isinstance(knockdown, int | float)
        or not 0.0 <= knockdown <= 1.0
    ):
        raise InvalidInputError(f"knockdown: expected a fraction in [0, 1], received {knockdown!r}")

    def gene(target: str) -> Perturbation:
        return Knockout(target) if knockdown is None else Knockdown(target, float(knockdown))

    def drug(target: str) -> Perturbation:
        return Inhibitor(target, 1.0 if knockdown is None else 1.0 - float(knockdown))

    if targets is None:
        return [*(gene(t) for t in KNOCKOUT_TARGETS), *(drug(t) for t in INHIBITOR_TARGETS)]
    if isinstance(targets, str):
        targets = [targets]
    choices = [
        *KNOCKOUT_TARGETS,
        *(f"{t} KO" for t in KNOCKOUT_TARGETS),
        *(t for t in INHIBITOR_TARGETS if t not in KNOCKOUT_TARGETS),
        *(f"{t} inhibitor" for t in INHIBITOR_TARGETS),
    ]
    out: list[Perturbation] = []
    for item in targets:
        if isinstance(item, Knockout | Knockdown | Inhibitor):
            out.append(item)
            continue
        if not isinstance(item, str):
            raise InvalidInputError(
                f"targets: expected target names or perturbations, received {item!r}"
            )
        name = item.strip()
        if name.endswith(" inhibitor") and name[: -len(" inhibitor")] in INHIBITOR_TARGETS:
            out.append(drug(name[: -len(" inhibitor")]))
        elif name.endswith(" KO") and name[:-3] in KNOCKOUT_TARGETS:
            out.append(gene(name[:-3]))
        elif name in KNOCKOUT_TARGETS:
            out.append(gene(name))
        elif name in INHIBITOR_TARGETS:
            out.append(drug(name))
        else:
            raise UnknownNameError("knockout or inhibitor target", name, choices)
    labels = [_full_inhibition_label(p) for p in out]
    repeated = sorted({lab for lab in labels if labels.count(lab) > 1})
    if repeated:
        raise InvalidInputError(f"targets: each perturbation once, received twice: {repeated}")
    if not out:
        raise InvalidInputError("targets: expected at least one target, received none")
    return out


@dataclass(frozen=True, eq=False)
class KnockoutScreen:
    """Single perturbations × the four arms of one cell line, with the combination metrics.

    Attributes
    ----------
    variant, cell_line
        What was simulated.
    perturbations
        Row labels; the first is :data:`UNPERTURBED`, then ``"<target> KO"``,
        ``"<target> KD <fraction>"``, ``"<target> inhibitor"`` (full) or
        ``"<target> inhibitor <inhibition>"``.
    targets, kinds
        Per row: the target (``""`` for the reference) and ``"none"``, ``"knockout"``,
        ``"knockdown"`` or ``"inhibitor"``.
    readouts
        Read-outs (last axis).
    times
        Output times (min).
    fold
        Array (n_perturbations, 4 arms in :data:`~paracrine.vocabulary.ARMS` order, n_times,
        n_readouts): every level over the *unperturbed* cell's basal level.
    basal
        Array (n_perturbations, n_readouts): each (perturbed) cell's unstimulated level
        (read-out fraction).
    il6_ng_ml, vegf_ng_ml
        Doses of the stimulated arms (ng/mL).
    failures
        ``(perturbation, arm, message)`` of simulations that failed (their rows are NaN).
    elapsed_s
        Wall time of the screen's batch (s).
    """

    variant: str
    cell_line: str
    perturbations: tuple[str, ...]
    targets: tuple[str, ...]
    kinds: tuple[str, ...]
    readouts: tuple[str, ...]
    times: np.ndarray
    fold: np.ndarray
    basal: np.ndarray
    il6_ng_ml: float
    vegf_ng_ml: float
    failures: tuple[tuple[str, str, str], ...]
    elapsed_s: float

    # -- metrics -----------------------------------------------------------------------------
    def arm_metrics(self) -> dict[str, np.ndarray]:
        """``{metric: array (n_perturbations, 4 arms, n_readouts)}`` of :data:`ARM_METRICS`."""
        f, t = self.fold, self.times
        peak = M.peak(f, axis=2)
        late = M.late(t, f, axis=2)
        return {
            "peak": peak,
            "auc": M.auc(t, f, axis=2),
            "late": late,
            "persistence": M.persistence(peak, late),
        }

    def combination_metrics(self) -> dict[str, np.ndarray]:
        """``{metric: array (n_perturbations, n_readouts)}`` of :data:`COMBINATION_METRICS`."""
        arm = self.arm_metrics()
        peak, late = arm["peak"], arm["late"]
        f = self.fold
        return {
            "excess_ratio": M.excess_ratio_at_peak(
                self.times, f[:, _COMBO], f[:, _IL6], f[:, _VEGF], axis=1
            ),
            "peak_excess": peak[:, _COMBO] - 1.0,
            "late_excess": late[:, _COMBO] - 1.0,
            "peak_benefit": peak[:, _COMBO] - np.maximum(peak[:, _IL6], peak[:, _VEGF]),
            "late_benefit": late[:, _COMBO] - np.maximum(late[:, _IL6], late[:, _VEGF]),
        }

    def get(self, perturbation: str, arm: str, readout: str) -> np.ndarray:
        """The fold time course of one perturbation, arm and read-out."""
        if perturbation not in self.perturbations:
            raise UnknownNameError("perturbation", perturbation, self.perturbations)
        if arm not in ARMS:
            raise UnknownNameError("arm", arm, ARMS)
        if readout not in self.readouts:
            raise UnknownNameError("read-out", readout, self.readouts)
        return self.fold[
            self.perturbations.index(perturbation), ARMS.index(arm), :, self.readouts.index(readout)
        ]

    def value(self, perturbation: str, metric: str, readout: str, arm: str | None = None) -> float:
        """One metric value (*arm* is needed for the per-arm metrics and ``basal``)."""
        frame = self.to_dataframe()
        rows = frame[
            (frame["perturbation"] == perturbation)
            & (frame["metric"] == metric)
            & (frame["readout"] == readout)
        ]
        if arm is not None:
            rows = rows[rows["arm"] == arm]
        if len(rows) != 1:
            known = sorted(set(frame["metric"]))
            if metric not in known:
                raise UnknownNameError("metric", metric, known)
            raise InvalidInputError(
                f"value: expected one row for {perturbation!r}, {metric!r}, {readout!r}, arm "
                f"{arm!r}; found {len(rows)} (per-arm metrics need arm=…)"
            )
        return float(rows["value"].iloc[0])

    def to_dataframe(self):  # -> pandas.DataFrame
        """Tidy table (:data:`SCREEN_COLUMNS`): one row per perturbation × arm × read-out ×
        metric, with the unperturbed value, ``change = value − unperturbed`` and
        ``relative_change = change / |unperturbed|`` (NaN where |unperturbed| is 0, or below
        0.2 for metrics in excess units: auc, peak/late excess, peak/late benefit)."""
        import pandas as pd

        blocks: list[tuple[str, str, str, np.ndarray]] = []  # (arm, metric, unit, (n_p, n_r))
        blocks.append((CONTROL, "basal", _BASAL_UNIT, self.basal))
        for name, arr in self.arm_metrics().items():
            for k, arm in enumerate(ARMS):
                blocks.append((arm, name, ARM_METRICS[name], arr[:, k]))
        for name, arr in self.combination_metrics().items():
            blocks.append((COMBINATION, name, COMBINATION_METRICS[name], arr))
        n_p, n_r = len(self.perturbations), len(self.readouts)
        frames = []
        for arm, name, unit, arr in blocks:
            ref = np.broadcast_to(arr[:1], arr.shape)
            change = arr - ref
            guard = M.RATIO_GUARD if name in _EXCESS_METRICS else 0.0
            mag = np.abs(ref)
            ok = np.isfinite(mag) & (mag > 0) & (mag >= guard)
            rel = np.where(ok, change / np.where(ok, mag, 1.0), np.nan)
            frames.append(
                pd.DataFrame(
                    {
                        "cell_line": self.cell_line,
                        "perturbation": np.repeat(self.perturbations, n_r),
                        "target": np.repeat(self.targets, n_r),
                        "kind": np.repeat(self.kinds, n_r),
                        "arm": arm,
                        "readout": np.tile(self.readouts, n_p),
                        "metric": name,
                        "value": arr.reshape(-1),
                        "unperturbed": ref.reshape(-1),
                        "relative_change": rel.reshape(-1),
                        "change": change.reshape(-1),
                        "unit": unit,
                        "variant": self.variant,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)[list(SCREEN_COLUMNS)]

    def ranking(self, readout: str | None = "pERK", question: str = "sustained"):  # -> DataFrame
        """Perturbations ranked by how much of the combination benefit they remove.

        *question* ``"stronger"`` uses ``peak_benefit`` (combination peak − larger single
        peak), ``"sustained"`` ``late_benefit`` (combination late level − larger single late
        level). ``fraction_removed = −change / unperturbed benefit`` (1 = the benefit is gone,
        > 1 = the combination falls below the best single, < 0 = the benefit grows) is NaN
        where the unperturbed benefit is below 0.2 fold: there is no benefit to remove.

        With a *readout*: one row per perturbation with ``benefit``, ``unperturbed_benefit``,
        ``change`` (benefit − unperturbed, fold), ``fraction_removed``, and the change of the
        combination's own excess (``excess_change``: peak − 1 or late − 1) beside it; sorted
        by ``change`` ascending (rank 1 removes the most; ties, to 1e-9 fold, by name).

        With ``readout=None``: ranked by the mean ``fraction_removed`` over the read-outs
        that have a benefit (listed in ``readouts``), one column ``fraction_removed_<r>`` per
        read-out; NaN (ranked last) when no read-out has one.
        """
        import pandas as pd

        if question not in QUESTIONS:
            raise UnknownNameError("question", question, QUESTIONS)
        if readout is not None and readout not in self.readouts:
            raise UnknownNameError("read-out", readout, self.readouts)
        comb = self.combination_metrics()
        benefit = comb[QUESTIONS[question]]
        excess = comb["peak_excess" if question == "stronger" else "late_excess"]
        ref = benefit[0]
        change = benefit - ref
        enough = np.isfinite(ref) & (ref >= M.RATIO_GUARD)
        removed = np.where(enough, -change / np.where(enough, ref, 1.0), np.nan)
        common = {
            "cell_line": self.cell_line,
            "perturbation": self.perturbations,
            "target": self.targets,
            "kind": self.kinds,
        }
        if readout is not None:
            r = self.readouts.index(readout)
            frame = pd.DataFrame(
                {
                    **common,
                    "readout": readout,
                    "question": question,
                    "metric": QUESTIONS[question],
                    "benefit": benefit[:, r],
                    "unperturbed_benefit": ref[r],
                    "change": change[:, r],
                    "fraction_removed": removed[:, r],
                    "combination_excess": excess[:, r],
                    "excess_change": excess[:, r] - excess[0, r],
                }
            ).iloc[1:]
            frame["_key"] = np.round(frame["change"], 9)
            ascending = True
        else:
            used = [r for r, ok in zip(self.readouts, enough, strict=True) if ok]
            mean = (
                removed[:, enough].mean(axis=1)
                if used
                else np.full(len(self.perturbations), np.nan)
            )
            frame = pd.DataFrame(
                {
                    **common,
                    "readouts": ",".join(used),
                    "question": question,
                    "metric": QUESTIONS[question],
                    "fraction_removed": mean,
                    **{f"fraction_removed_{r}": removed[:, k] for k, r in enumerate(self.readouts)},
                }
            ).iloc[1:]
            frame["_key"] = np.round(frame["fraction_removed"], 9)
            ascending = False
        frame = frame.sort_values(
            ["_key", "perturbation"], ascending=[ascending, True], na_position="last"
        ).drop(columns="_key")
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        return frame.reset_index(drop=True)

    def plot(self, readout: str | None = None, question: str = "sustained"):  # -> Figure
        """Heat maps perturbations × read-outs of the relative change of the combination
        benefit (peak: *stronger*, late: *sustained*), rows ranked by *question* on
        *readout* (None: over every read-out with a benefit); see
        :func:`plot_knockout_screens`."""
        return plot_knockout_screens([self], readout=readout, question=question)

    def __repr__(self) -> str:
        return (
            f"<KnockoutScreen {self.variant}, {self.cell_line}: {len(self.perturbations) - 1} "
            f"perturbations × {len(ARMS)} arms × {len(self.readouts)} read-outs, "
            f"{len(self.failures)} failed>"
        )


def knockout_screen(
    model: Model | str,
    *,
    cell_line: str = "MCF-7",
    targets: Sequence[str | Perturbation] | None = None,
    knockdown: float | None = None,
    readouts: Sequence[str] = ("pERK", "pAKT", "p38", "pSTAT3"),
    times: Sequence[float] | None = None,
    il6_ng_ml: float = DEFAULT_IL6_NG_ML,
    vegf_ng_ml: float = DEFAULT_VEGF_NG_ML,
    pvec: np.ndarray | None = None,
    workers: int | None = None,
    scheduler=None,
    progress: bool = False,
) -> KnockoutScreen:
    """Knock out (or down) or inhibit each target in turn under the four arms.

    Parameters
    ----------
    model
        Model (e.g. ``BlotFit.model``) or variant name.
    cell_line
        Cell line.
    targets, knockdown
        Which perturbations (default: all knockouts and full inhibitors); see
        :func:`screen_perturbations`.
    readouts
        Read-outs (any output :class:`ModelSimulator` accepts).
    times
        Output times (min; default 0–240 every 2.5 min); they must reach into the late window
        (120–240 min).
    il6_ng_ml, vegf_ng_ml
        Doses of the IL-6, VEGF and IL-6+VEGF arms (ng/mL).
    pvec
        Full parameter vector of *cell_line* (``ModelSimulator.parameter_ids`` order; default
        the model's values); perturbations act on top.
    workers, scheduler, progress
        Passed to :func:`~paracrine.simulations.batch.run_batch` (one batch for the screen).

    Returns
    -------
    KnockoutScreen

    Raises
    ------
    SimulationError
        If the unperturbed cell cannot be simulated (nothing to compare with); failures of
        perturbed cells are NaN rows listed in ``failures``.
    """
    model = Model(model) if isinstance(model, str) else model
    if not isinstance(model, Model):
        raise InvalidInputError(
            f"model: expected a paracrine Model or a variant name, received {type(model).__name__}"
        )
    if cell_line not in model.cell_lines:
        raise UnknownNameError("cell line", cell_line, model.cell_lines)
    perts = screen_perturbations(targets, knockdown)
    grid = check_times(DEFAULT_SCREEN_TIMES_MIN if times is None else times)
    M.late(grid, np.ones(grid.size))  # the late window must hold output times
    outs = tuple(readouts)
    if not outs:
        raise InvalidInputError("readouts: expected at least one read-out, received none")
    sim = ModelSimulator(model, outs)
    if pvec is not None:
        pvec = np.asarray(pvec, dtype=float)
    doses = arm_doses(il6_ng_ml, vegf_ng_ml)  # the Conditions below check the doses
    rows: list[tuple[Perturbation, ...]] = [(), *((p,) for p in perts)]
    labels = [UNPERTURBED, *(_full_inhibition_label(p) for p in perts)]
    tasks = [
        (
            Condition(f"{arm} [{label}]", cell_line, il6_ng_ml=a, vegf_ng_ml=b, perturbations=row),
            pvec,
        )
        for row, label in zip(rows, labels, strict=True)
        for arm, (a, b) in doses.items()
    ]
    batch = run_batch(sim, tasks, grid, workers=workers, scheduler=scheduler, progress=progress)
    values = batch.values.reshape(len(rows), len(ARMS), grid.size, len(outs))
    failures = tuple(
        (labels[i // len(ARMS)], ARMS[i % len(ARMS)], message) for i, _, message in batch.failures
    )
    if any(label == UNPERTURBED for label, _, _ in failures):
        message = next(m for label, _, m in failures if label == UNPERTURBED)
        raise SimulationError(f"knockout screen: the unperturbed cell failed: {message}")
    basal = values[:, ARMS.index(CONTROL), 0, :]
    ref = basal[0]
    if not np.all(ref > 0):
        missing = [o for o, level in zip(outs, ref, strict=True) if not level > 0]
        raise SimulationError(
            f"knockout screen: the unperturbed basal level of {missing} in {cell_line} is 0: "
            "no fold over basal can be formed"
        )
    fold = values / ref
    return KnockoutScreen(
        variant=model.variant,
        cell_line=cell_line,
        perturbations=tuple(labels),
        targets=("", *(p.target for p in perts)),
        kinds=("none", *(_kind(p) for p in perts)),
        readouts=outs,
        times=grid,
        fold=fold,
        basal=basal,
        il6_ng_ml=float(il6_ng_ml),
        vegf_ng_ml=float(vegf_ng_ml),
        failures=failures,
        elapsed_s=batch.elapsed_s,
    )


def plot_knockout_screens(
    screens: Sequence[KnockoutScreen],
    *,
    readout: str | None = None,
    question: str = "sustained",
    limit: float = 1.0,
):  # -> Figure
    """Which nodes carry the stronger and the sustained combination response, at a glance.

    One row of two heat maps per screen (cell line): perturbations × read-outs, colour = the
    relative change of the combination benefit, ``(benefit − unperturbed)/unperturbed``, for
    the peak (*stronger*, left) and the late level (*sustained*, right), on a diverging
    colour map centred at 0 and clipped to ±*limit* (−1 = the benefit is removed, blue; red =
    it grows). Cells print the value in %; grey cells: the unperturbed benefit is below 0.2
    fold, there is nothing to remove. Rows are ranked by *question* on *readout* (None: the mean
    fraction removed over the read-outs with a benefit; :meth:`KnockoutScreen.ranking`), the
    most removing perturbation on top.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    screens = list(screens)
    if not screens:
        raise InvalidInputError("plot_knockout_screens: expected at least one screen")
    cmap = plt.get_cmap(DIVERGING_CMAP).with_extremes(bad=MISSING)
    norm = Normalize(-limit, limit)
    n_rows = max(len(s.perturbations) - 1 for s in screens)
    n_cols = max(len(s.readouts) for s in screens)
    height = 1.6 + 0.32 * n_rows
    fig, axes = plt.subplots(
        len(screens),
        2,
        figsize=(4.2 + 2.4 * n_cols, height * len(screens)),
        squeeze=False,
        layout="constrained",
    )
    mesh = None
    for row_axes, screen in zip(axes, screens, strict=True):
        order = list(screen.ranking(readout, question)["perturbation"])
        idx = [screen.perturbations.index(p) for p in order]
        comb = screen.combination_metrics()
        for ax, (q, metric) in zip(row_axes, QUESTIONS.items(), strict=True):
            benefit = comb[metric]
            ref = benefit[0]
            enough = np.isfinite(ref) & (ref >= M.RATIO_GUARD)
            rel = np.where(enough, (benefit - ref) / np.where(enough, ref, 1.0), np.nan)[idx]
            mesh = ax.imshow(
                np.ma.masked_invalid(np.clip(rel, -limit, limit)),
                cmap=cmap,
                norm=norm,
                aspect="auto",
                interpolation="nearest",
            )
            for i in range(rel.shape[0]):
                for j in range(rel.shape[1]):
                    text = "n/a" if not np.isfinite(rel[i, j]) else f"{100 * rel[i, j]:+.0f}%"
                    dark = np.isfinite(rel[i, j]) and abs(rel[i, j]) > 0.6 * limit
                    ax.text(
                        j, i, text, ha="center", va="center", fontsize=8,
                        color=text_colour(dark),
                    )  # fmt: skip
            ax.set_yticks(range(len(order)), order, fontsize=9)
            ax.set_xticks(
                range(len(screen.readouts)),
                [f"{r}\nbenefit {ref[k]:.3g}" for k, r in enumerate(screen.readouts)],
                fontsize=9,
            )
            ax.set_xlabel("read-out (unperturbed benefit, fold over basal)")
            what = "peak" if q == "stronger" else "late level (120–240 min)"
            ax.set_title(
                f"{screen.cell_line}: {q} — combination {what}\nminus the best single ligand",
                fontsize=10,
            )
    fig.suptitle(
        f"Knockout screen ({screens[0].variant}; IL-6 {screens[0].il6_ng_ml:g}, VEGF "
        f"{screens[0].vegf_ng_ml:g} ng/mL): rows ranked by '{question}' on "
        f"{readout or 'all read-outs with a benefit'}",
        fontsize=11,
    )
    cbar = fig.colorbar(mesh, ax=axes.ravel().tolist(), shrink=0.6, extend="both", pad=0.02)
    cbar.set_label("change of the combination benefit (relative to unperturbed)")
    cbar.ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:+.0f}%")
    return fig
