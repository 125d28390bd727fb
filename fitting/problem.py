"""The blot fitting problem: a model variant, phospho-blot time courses, and which parameters
are free — a :class:`~paracrine.fitting.objective.HierarchicalProblem` (the shared objective
layer) that :func:`~paracrine.fitting.engine.fit_multistart` fits.

Observation model (DESIGN.md, BIOLOGY.md "Western blot quantification")::

    value_i = s_{blot(i)} · h_i(θ) · ε_i,   log ε_i ~ N(0, σ_{readout(i)}²)     (log-normal)
    value_i = s_{blot(i)} · h_i(θ) + σ_{readout(i)} · ε_i,  ε_i ~ N(0, 1)         (normal)

where h_i is the model's phosphorylated fraction for the measurement's cell line, condition,
time and read-out. The per-blot scale factors s_b and (unless given) the per-read-out noise
levels σ_k are solved in closed form inside the objective (hierarchical optimisation, by the
shared :class:`~paracrine.fitting.objective.InnerSolver`), so the optimiser sees only the
kinetic parameters θ, on log10 scale:

* scales, given θ and σ: log s_b = Σ_b w_i (log y_i − log h_i) / Σ_b w_i with w_i = 1/σ_k²
  (log-normal), s_b = Σ_b w_i y_i h_i / Σ_b w_i h_i² (normal);
* noise levels, given θ and s: σ_k² = mean squared residual of read-out k (maximum likelihood).

The negative log-likelihood follows PEtab's conventions (log-normal includes the Jacobian
term Σ log y_i), so a PEtab export of the problem gives the same number.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paracrine.errors import FitError, InvalidInputError, SimulationError, UnknownNameError
from paracrine.fitting.objective import (
    Capabilities,
    HierarchicalProblem,
    InnerLayout,
    InnerSolution,
    InnerSolver,
    MeasurementLayout,
    Transform,
)
from paracrine.models import Model, default_table
from paracrine.simulations import (
    DEFAULT_TOLERANCES,
    FINAL_TOLERANCES,
    Condition,
    ModelSimulator,
    Tolerances,
    check_times,
)
from paracrine.vocabulary import condition_label

__all__ = ["BlotProblem", "FreeParameter"]

#: Model fractions are floored here before taking logs (a knocked-out read-out is exactly 0).
_FLOOR = 1e-12
#: Forward-difference step (log10 units), paired with CVODE rtol 1e-6 (DESIGN.md).
FD_STEP = 1e-3

#: Half-width (log10) of the box around the defaults where multistarts are drawn.
START_DECADES = 1.5

#: Literature ranges of the peak phosphorylated fraction of each read-out after a strong
#: ligand stimulus (docs/literature.md has the sources): IL-6-stimulated STAT3 reaches about
#: half of total STAT3 (Sobotta et al. 2017, mass spectrometry: 53–56% at 18 min of
#: 40 ng/mL in hepatocytes; the range allows for cancer cells down to a quarter); ERK is
#: assumed to reach tens of percent (no absolute quantification found); p38 11% (Kulawik et
#: al. 2017, IL-1β in hepatocytes) is inside its range; AKT has no source (assumed).
PEAK_FRACTION_RANGES: dict[str, tuple[float, float]] = {
    "pERK": (0.1, 0.7),
    "pAKT": (0.05, 0.7),
    "p38": (0.05, 0.7),
    "pSTAT3": (0.25, 0.8),
}


@dataclass(frozen=True)
class FreeParameter:
    """One estimated quantity: a model parameter, shared or for one cell line.

    Attributes
    ----------
    name
        Display name: the parameter id, or ``"id[cell line]"`` for a cell-line value.
    parameter
        Model parameter id.
    cell_line
        ``None`` for a parameter shared by all lines.
    lower, upper
        Bounds on the natural scale (the optimiser works on log10).
    """

    name: str
    parameter: str
    cell_line: str | None
    lower: float
    upper: float


def resolve_data(data: Any):
    """*data* as :class:`~paracrine.data.BlotData` (loaded and validated if a name or path)."""
    from paracrine.data import BlotData, load_blots

    if isinstance(data, BlotData):
        return data
    if isinstance(data, str | Path):
        return load_blots(data)
    raise FitError(
        f"data: expected BlotData, a data set name or a CSV path, received {type(data).__name__}"
    )


class BlotProblem(HierarchicalProblem):
    """Fit a model variant to phospho-blot time courses with analytic scales and noise.

    Parameters
    ----------
    model
        A :class:`~paracrine.models.Model` or a variant name.
    data
        :class:`~paracrine.data.BlotData`, a bundled data set name, or a CSV path.
    free
        Parameters to estimate (default: the variant's ``estimated_parameters()``).
    fixed
        Values to hold fixed (removed from *free* if listed there by default).
    cell_line_specific
        Free parameters with one value per cell line (default: those the parameter table
        marks ``cell_line_specific``).
    bounds
        ``{name: (lower, upper)}`` on the natural scale, overriding the table's.
    noise
        ``"lognormal"`` (default; Kreutz 2007) or ``"normal"``.
    noise_sd
        ``None`` to estimate the noise level(s) analytically, or a value (log scale for
        log-normal) for all read-outs, or ``{readout: σ}``.
    noise_groups
        With estimated noise: ``"shared"`` (default) — one σ for all read-outs, which makes
        the profiled objective a plain least-squares problem (one optimiser run per start;
        blot CVs are similar across phospho-read-outs, ~20%: Degasperi 2014) — or
        ``"readout"`` — one σ per read-out, solved by alternating with the kinetic fit
        (several optimiser runs per start; compare the two with AIC).
    priors
        ``{name: (mean_log10, sd_log10)}``: Gaussian priors on log10 values (display names).
    fraction_priors
        The physiological regime: ``{readout: (low, high)}`` — the range the peak
        phosphorylated fraction of each read-out (its largest value over the measured
        conditions and times, per cell line) should lie in. Blots with per-blot scales fix only
        relative levels, so without this an optimiser slides into a linear regime of tiny
        fractions where saturations and feedbacks are inert. Outside the range the peak costs
        a Gaussian penalty of ``fraction_prior_sd`` (log10 units) per decade; inside it costs
        nothing. ``None`` (default) uses :data:`PEAK_FRACTION_RANGES`; ``{}`` switches it off.
    fraction_prior_sd
        Width of that penalty (default 0.1 log10: a peak at half the lower limit costs 4.5
        nllh units).
    rtol, atol
        CVODE tolerances for the fit; the final value of every start is re-evaluated at
        :data:`~paracrine.simulations.FINAL_TOLERANCES` (rtol 1e-8, atol 1e-10).
    readout_map
        ``{read-out: observable or species}`` (or the path of a CSV with the columns
        ``readout, observable``) extending the bundled ``models/readout_map.csv``: which model
        quantity each read-out of the data measures (``"pERK1/2": "pERK"``,
        ``"pJAK1": "JAK_p"``). A read-out that is an observable's name needs no entry.

    Raises
    ------
    UnknownNameError
        Unknown parameter names (with suggestions).
    FitError
        Bounds that exclude the default, a read-out that maps to no model quantity,
        non-positive values under log-normal noise, conflicting settings, k ≥ n.

    Notes
    -----
    *Your own cell lines and read-outs.* A cell line of the data that the model's parameter
    table does not know (MDA-MB-231, say) is added at the model's defaults
    (:meth:`~paracrine.models.Model.with_cell_lines`), and every free cell-line-specific
    parameter (by default the receptor levels ``R6_tot`` and ``R2_0``) gets its own estimate
    for it, ``R6_tot[MDA-MB-231]``. A read-out is mapped to the model quantity it measures: an
    observable (a phosphorylated fraction) or a species (a concentration, nM: the blot scale
    factors absorb the unit); :attr:`data` then carries the model's name, and
    :attr:`metadata` lists both (``added_cell_lines``; ``readout_map``, the renaming), which
    the reports print.

    Degenerate problems are refused: with ``k`` estimated quantities (kinetic parameters, blot
    scales, noise levels) and ``n`` bands, ``k ≥ n`` — e.g. every band on its own blot — fits
    every band exactly, and an estimated noise level would go to 0.
    """

    def __init__(
        self,
        model: Model | str,
        data: Any,
        *,
        free: Sequence[str] | None = None,
        fixed: Mapping[str, float] | None = None,
        cell_line_specific: Sequence[str] | None = None,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        noise: str = "lognormal",
        noise_sd: float | Mapping[str, float] | None = None,
        noise_groups: str = "shared",
        priors: Mapping[str, tuple[float, float]] | None = None,
        fraction_priors: Mapping[str, tuple[float, float]] | None = None,
        fraction_prior_sd: float = 0.1,
        rtol: float = DEFAULT_TOLERANCES.rtol,
        atol: float = DEFAULT_TOLERANCES.atol,
        readout_map: Mapping[str, str] | str | Path | None = None,
    ) -> None:
        self._settings = {
            "model": model if isinstance(model, str) else None,
            "free": None if free is None else list(free),
            "fixed": {k: float(v) for k, v in (fixed or {}).items()},
            "cell_line_specific": None if cell_line_specific is None else list(cell_line_specific),
            "bounds": {k: [float(a), float(b)] for k, (a, b) in (bounds or {}).items()},
            "noise": noise,
            "noise_sd": noise_sd if not isinstance(noise_sd, Mapping) else dict(noise_sd),
            "noise_groups": noise_groups,
            "priors": {k: [float(a), float(b)] for k, (a, b) in (priors or {}).items()},
            "fraction_priors": None
            if fraction_priors is None
            else {k: [float(a), float(b)] for k, (a, b) in fraction_priors.items()},
            "fraction_prior_sd": float(fraction_prior_sd),
            "rtol": rtol,
            "atol": atol,
            "readout_map": None
            if readout_map is None
            else str(readout_map)
            if isinstance(readout_map, str | Path)
            else dict(readout_map),
        }
        model = Model(model) if isinstance(model, str) else model
        if not isinstance(model, Model):
            raise FitError(
                f"model: expected a paracrine Model or a variant name, received {model!r}"
            )
        self.data = resolve_data(data)
        # cell lines the model does not know: its defaults, their own values estimated
        data_lines = list(dict.fromkeys(self.data.frame["cell_line"]))
        model = model.with_cell_lines(data_lines)
        #: the data's cell lines that the bundled parameter table does not know
        self.added_cell_lines = tuple(
            line for line in model.table.added_cell_lines if line in data_lines
        )
        # read-outs: the model quantity each one measures (the data then carry that name)
        self.data, self.readout_map = _map_readouts(self.data, model, readout_map)
        table = model.table
        fixed = dict(fixed or {})
        for name in fixed:
            table[name]  # UnknownNameError with suggestions
        model = model.with_parameters(fixed) if fixed else model
        self.model = model
        free_names = list(model.estimated_parameters()) if free is None else list(free)
        for name in free_names:
            table[name]
        clash = sorted(set(free_names) & set(fixed)) if free is not None else []
        if clash:
            raise FitError(f"parameters {clash} are both free and fixed; choose one")
        free_names = [n for n in free_names if n not in fixed]
        if len(set(free_names)) != len(free_names):
            raise FitError(f"free: duplicate names in {free_names}")
        if cell_line_specific is None:
            specific = {n for n in free_names if table[n].cell_line_specific}
        else:
            specific = set(cell_line_specific)
            for name in specific:
                table[name]
                if name not in free_names:
                    raise FitError(f"cell_line_specific: {name!r} is not a free parameter")
        bounds = dict(bounds or {})
        for name, pair in bounds.items():
            table[name]
            if name not in free_names:
                raise FitError(f"bounds: {name!r} is not a free parameter")
            lo, hi = (float(v) for v in pair)
            if not 0 < lo < hi or not math.isfinite(hi):
                raise FitError(
                    f"bounds of {name!r}: expected 0 < lower < upper < inf, received ({lo}, {hi})"
                )
        if noise not in ("lognormal", "normal"):
            raise FitError(f"noise: expected 'lognormal' or 'normal', received {noise!r}")
        self.noise = noise

        # -- data structure ----------------------------------------------------------------
        frame = self.data.frame
        source = self.data.source
        values = frame["value"].to_numpy(dtype=float)
        if noise == "lognormal" and np.any(values <= 0):
            row = int(np.argmax(values <= 0))
            raise FitError(
                f"data {source}, row {row + 2}, column value: log-normal noise needs values > 0, "
                f"received {values[row]}; use noise='normal' or remove the band"
            )
        self.cell_lines = tuple(
            line for line in model.cell_lines if line in set(frame["cell_line"])
        )
        present = list(dict.fromkeys(frame["readout"]))
        # the observables in the model's order, then species read-outs as the data list them
        self.readouts = tuple(r for r in model.observables if r in present) + tuple(
            r for r in present if r not in model.observables
        )

        # -- free parameters ---------------------------------------------------------------
        params: list[FreeParameter] = []
        for name in free_names:
            row = table[name]
            lo, hi = bounds.get(name, (row.lower, row.upper))
            lines = self.cell_lines if name in specific else (None,)
            for line in lines:
                value = model.parameter_values(line)[name]
                if not lo <= value <= hi:
                    where = f" for {line}" if line else ""
                    raise FitError(
                        f"bounds of {name!r} [{lo:g}, {hi:g}] exclude its value {value:g}{where}; "
                        "widen the bounds or fix the parameter"
                    )
                label = f"{name}[{line}]" if line else name
                params.append(FreeParameter(label, name, line, float(lo), float(hi)))
        if not params:
            raise FitError("no free parameters: nothing to fit")
        self.free_parameters = tuple(params)
        self.parameter_names = tuple(p.name for p in params)
        self.lower = np.log10([p.lower for p in params])
        self.upper = np.log10([p.upper for p in params])

        # -- priors ------------------------------------------------------------------------
        self._prior_index, self._prior_mean, self._prior_sd = [], [], []
        for name, (mean, sd) in dict(priors or {}).items():
            if name not in self.parameter_names:
                raise UnknownNameError("free parameter (for a prior)", name, self.parameter_names)
            if not sd > 0:
                raise FitError(f"prior of {name!r}: expected sd_log10 > 0, received {sd}")
            self._prior_index.append(self.parameter_names.index(name))
            self._prior_mean.append(float(mean))
            self._prior_sd.append(float(sd))
        self._prior_index = np.array(self._prior_index, dtype=int)
        self._prior_mean = np.array(self._prior_mean)
        self._prior_sd = np.array(self._prior_sd)

        # -- physiological regime: peak fractions ---------------------------------------------
        ranges = PEAK_FRACTION_RANGES if fraction_priors is None else dict(fraction_priors)
        ranges = {self.readout_map.get(r, r): pair for r, pair in ranges.items()}
        for r, pair in ranges.items():
            if r not in model.observables:
                raise UnknownNameError("read-out (in fraction_priors)", r, model.observables)
            lo, hi = (float(v) for v in pair)
            if not 0 < lo < hi <= 1:
                raise FitError(
                    f"fraction_priors[{r!r}]: expected 0 < low < high <= 1, received ({lo}, {hi})"
                )
        if not fraction_prior_sd > 0:
            raise FitError(f"fraction_prior_sd: expected > 0, received {fraction_prior_sd}")
        self.fraction_priors = {
            r: (float(lo), float(hi))
            for r, (lo, hi) in ranges.items()
            if r in set(frame["readout"])
        }
        self._fraction_sd = float(fraction_prior_sd)
        self._fraction_groups: list[tuple[str, str, np.ndarray]] = []
        self._fraction_bounds = np.zeros((0, 2))
        line_col = frame["cell_line"].to_numpy()
        readout_col = frame["readout"].to_numpy()
        bounds_rows = []
        for line in sorted(set(line_col), key=list(line_col).index):
            for r, (lo, hi) in self.fraction_priors.items():
                idx = np.flatnonzero((line_col == line) & (readout_col == r))
                if idx.size:
                    self._fraction_groups.append((line, r, idx))
                    bounds_rows.append((math.log10(lo), math.log10(hi)))
        if bounds_rows:
            self._fraction_bounds = np.array(bounds_rows)

        # -- runs (one per cell line × condition) and the map to measurements ----------------
        keys = frame[["cell_line", "condition", "il6_ng_ml", "vegf_ng_ml"]].drop_duplicates()
        self.conditions: list[Condition] = []
        run_times: list[np.ndarray] = []
        rows = np.empty(len(frame), dtype=np.intp)
        readout_index = frame["readout"].map({r: k for k, r in enumerate(self.readouts)}).to_numpy()
        offset = 0
        for line in self.cell_lines:
            for _, key in keys[keys["cell_line"] == line].iterrows():
                mask = (
                    (frame["cell_line"] == line)
                    & (frame["condition"] == key["condition"])
                    & (frame["il6_ng_ml"] == key["il6_ng_ml"])
                    & (frame["vegf_ng_ml"] == key["vegf_ng_ml"])
                ).to_numpy()
                measured = frame.loc[mask, "time_min"].to_numpy(dtype=float)
                times = np.unique(measured)
                self.conditions.append(
                    Condition(
                        condition_label(str(key["condition"]), line),
                        line,
                        il6_ng_ml=float(key["il6_ng_ml"]),
                        vegf_ng_ml=float(key["vegf_ng_ml"]),
                    )
                )
                rows[mask] = offset + np.searchsorted(times, measured)
                run_times.append(check_times(times))
                offset += times.size
        run_lines = [c.cell_line for c in self.conditions]
        # A cell-line parameter touches only its own line's runs. (Shared parameters touch every
        # run: even a rate constant multiplying a species that is exactly zero in a condition
        # changes CVODE's Newton matrix and so the trajectory at the solver-noise level.)
        dependence = [
            [k for k, line in enumerate(run_lines) if p.cell_line in (None, line)]
            for p in self.free_parameters
        ]
        layout = MeasurementLayout.build(
            run_times, len(self.readouts), rows, readout_index, dependence
        )
        blots = frame["blot"].astype(str).to_numpy()
        self.blots, blot_index = np.unique(blots, return_inverse=True)
        self.n_data = len(frame)
        _refuse_degenerate(
            source,
            len(frame),
            len(params),
            blot_index,
            readout_index,
            noise_sd is None,
            noise_groups,
            self.readouts,
        )

        # -- noise -------------------------------------------------------------------------
        if noise_groups not in ("shared", "readout"):
            raise FitError(
                f"noise_groups: expected 'shared' or 'readout', received {noise_groups!r}"
            )
        if noise_sd is None and noise_groups == "shared":
            self.noise_groups: tuple[str, ...] = ("all read-outs",)
            group = np.zeros(len(frame), dtype=np.intp)
        else:
            self.noise_groups = self.readouts
            group = readout_index
        self._estimate_sigma = noise_sd is None
        self._sigma_rows = np.ones(len(frame))
        if not self._estimate_sigma:
            given = (
                dict.fromkeys(self.readouts, noise_sd)
                if not isinstance(noise_sd, Mapping)
                else {self.readout_map.get(r, r): v for r, v in noise_sd.items()}
            )
            for r in given:
                if r not in self.readouts:
                    raise UnknownNameError("read-out (in noise_sd)", r, self.readouts)
            missing = [r for r in self.readouts if r not in given]
            if missing:
                raise FitError(f"noise_sd: no value for read-out(s) {missing}")
            self._given_sigma = np.array([float(given[r]) for r in self.readouts])
            if not np.all(self._given_sigma > 0):
                raise FitError(f"noise_sd: expected values > 0, received {given}")
            self._sigma_rows = self._given_sigma[readout_index]
        codes = np.full(len(frame), Transform.LOG if noise == "lognormal" else Transform.LIN)
        inner_layout = InnerLayout.build(
            codes,
            scale=blot_index,
            scale_names=self.blots.tolist(),
            sigma=group if self._estimate_sigma else None,
            sigma_names=self.noise_groups if self._estimate_sigma else (),
        )
        # one (or no) noise level rescales every residual alike: the least-squares optimum
        # does not depend on it, so the engine need not alternate
        self.capabilities = Capabilities(
            alternating_inner=self._estimate_sigma and len(self.noise_groups) > 1,
            jacobian=True,
        )
        self.n_inner_parameters = inner_layout.n_parameters

        # -- parameter vectors ---------------------------------------------------------------
        ids = model.parameter_ids
        self._base = {
            line: np.array([model.parameter_values(line)[p] for p in ids])
            for line in self.cell_lines
        }
        self._target = [(ids.index(p.parameter), p.cell_line) for p in self.free_parameters]
        self._rtol, self._atol = rtol, atol
        self._sim: ModelSimulator | None = None
        self._precise_sim: ModelSimulator | None = None
        self._metadata = {
            "variant": model.variant,
            "dataset": str(source),
            "noise": noise,
            "noise_groups": list(self.noise_groups),
            "noise_sd": None
            if noise_sd is None
            else dict(zip(self.readouts, self._given_sigma.tolist(), strict=True)),
            "free_parameters": list(self.parameter_names),
            "fixed": {k: float(v) for k, v in fixed.items()},
            "n_blots": len(self.blots),
        }
        if self.readout_map:
            self._metadata["readout_map"] = dict(self.readout_map)
        if self.added_cell_lines:
            own = sorted({p.parameter for p in params if p.cell_line is not None})
            self._metadata["added_cell_lines"] = {
                line: "the model's defaults; "
                + (f"own {', '.join(own)} estimated" if own else "no value of its own estimated")
                for line in self.added_cell_lines
            }
        self._init_objective(
            layout,
            InnerSolver(inner_layout, values, floor=_FLOOR),
            fd_steps=np.full(len(params), FD_STEP),
        )
        if noise == "lognormal" and any(r not in model.observables for r in self.readouts):
            self._refuse_structural_zeros()

    def _refuse_structural_zeros(self) -> None:
        """A species read-out the model holds at exactly 0 in some measured lanes (JAK_p
        without IL-6: the model has no basal JAK activity) cannot be fitted on a log scale:
        refuse it here, naming the lanes, rather than fit 1e-12 against a band."""
        frame = self.data.frame
        x0 = np.log10(
            [
                max(self.model.parameter_values(p.cell_line)[p.parameter], p.lower)
                for p in self.free_parameters
            ]
        )
        h = self.predict(np.clip(x0, self.lower, self.upper))
        for readout in self.readouts:
            if readout in self.model.observables:
                continue
            rows = np.flatnonzero((frame["readout"].to_numpy() == readout) & (h <= _FLOOR))
            if not rows.size:
                continue
            lanes = frame.iloc[rows][["condition", "time_min"]].drop_duplicates()
            shown = ", ".join(f"{c} at {t:g} min" for c, t in lanes.head(4).itertuples(False))
            names = [k for k, v in self.readout_map.items() if v == readout] or [readout]
            raise FitError(
                f"data {self.data.source}: read-out {names[0]!r} is the model species "
                f"{readout!r}, which the model holds at exactly 0 in {rows.size} of its bands "
                f"({shown}{', …' if len(lanes) > 4 else ''}): a log-normal fit cannot match a "
                "band there; use noise='normal', or leave those lanes out"
            )

    @property
    def metadata(self) -> dict[str, Any]:
        """Variant, data set, noise model, free parameters and the :meth:`settings` that
        rebuild the problem (copied into every fit result, so a saved fit can be reloaded)."""
        if "problem" not in self._metadata:
            self._metadata["problem"] = self.settings()
        return dict(self._metadata)

    # -- settings: enough to rebuild the problem (saved with a fit) ------------------------------
    def settings(self) -> dict[str, Any]:
        """JSON-serialisable settings that rebuild this problem with :meth:`from_settings`.

        The model is stored as its variant plus every parameter value that differs from the
        table defaults; the data as its bundled name or file path.
        """
        out = dict(self._settings)
        out["model"] = self.model.variant
        defaults = Model(self.model.variant).with_cell_lines(self.model.cell_lines)
        out["model_parameters"] = {
            k: v
            for k, v in self.model.parameter_values().items()
            if v != defaults.parameter_values()[k]
        }
        out["model_cell_line_parameters"] = {
            line: {
                k: v
                for k, v in self.model.parameter_values(line).items()
                if v != defaults.parameter_values(line)[k] and k not in out["model_parameters"]
            }
            for line in self.model.cell_lines
        }
        from paracrine.data import list_datasets

        source = str(self.data.source)
        stem = Path(source).stem
        # a bundled data set is stored by name, a user's file by its path
        out["data"] = stem if source == f"{stem}.csv" and stem in list_datasets() else source
        return out

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BlotProblem:
        """Rebuild a problem from :meth:`settings` (the data are re-read from ``data``)."""
        s = dict(settings)
        per_line = {k: v for k, v in (s.pop("model_cell_line_parameters", None) or {}).items() if v}
        model = Model(
            s.pop("model"),
            s.pop("model_parameters", None),
            per_line,
            default_table().with_cell_lines(per_line),
        )
        data = s.pop("data")
        s["bounds"] = {k: tuple(v) for k, v in (s.get("bounds") or {}).items()} or None
        s["priors"] = {k: tuple(v) for k, v in (s.get("priors") or {}).items()} or None
        s["fixed"] = s.get("fixed") or None
        return cls(model, data, **s)

    # -- pickling: the RoadRunner instances stay behind -----------------------------------------
    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.update(_sim=None, _precise_sim=None)
        return state

    # -- model evaluation --------------------------------------------------------------------
    def parameter_vectors(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Full parameter vector of every cell line at optimisation-scale point *x*."""
        natural = np.power(10.0, np.asarray(x, dtype=float))
        vectors = {line: base.copy() for line, base in self._base.items()}
        for value, (index, line) in zip(natural, self._target, strict=True):
            if line is None:
                for vec in vectors.values():
                    vec[index] = value
            else:
                vectors[line][index] = value
        return vectors

    def _simulator(self, precise: bool = False) -> ModelSimulator:
        if precise:
            if self._precise_sim is None:
                self._precise_sim = ModelSimulator(
                    self.model, self.readouts, tolerances=FINAL_TOLERANCES
                )
            return self._precise_sim
        if self._sim is None:
            self._sim = ModelSimulator(
                self.model, self.readouts, tolerances=Tolerances(self._rtol, self._atol)
            )
        return self._sim

    def _simulate(self, x: np.ndarray, runs: np.ndarray | None, precise: bool) -> list[np.ndarray]:
        sim = self._simulator(precise)
        vectors = self.parameter_vectors(x)
        indices = range(len(self.conditions)) if runs is None else runs
        times = self.layout.run_times
        out = []
        for k in indices:
            cond = self.conditions[k]
            out.append(sim.run(cond, times[k], vectors[cond.cell_line]))
        return out

    def _observe(
        self, stacked: np.ndarray, x: np.ndarray, changed: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        h = self.layout.gather(stacked)
        if not np.isfinite(h).all():  # one check per evaluation, not one per condition
            row = int(np.flatnonzero(~np.isfinite(h))[0])
            raise SimulationError(
                f"non-finite model value at data row {row + 2} "
                f"({self.data.frame.iloc[row]['condition']}, "
                f"{self.data.frame.iloc[row]['cell_line']}) at x = {np.asarray(x).tolist()}"
            )
        return h, self._sigma_rows

    def _prior_z(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Parameter priors' and peak-fraction priors' residuals at *x* (model values *h*)."""
        z = (np.asarray(x)[self._prior_index] - self._prior_mean) / self._prior_sd
        return np.concatenate([z, self._fraction_z(h)]) if self._fraction_groups else z

    def start_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Latin-hypercube starts are drawn within :data:`START_DECADES` of each parameter's
        default (log10), shifted to stay inside its bounds: the defaults are literature values
        or stated assumptions, whereas the bounds span up to 8 decades, most of them outside
        the physiological regime. (Not compared side by side with full-bounds starts.)"""
        x0 = np.log10(
            [
                max(self.model.parameter_values(p.cell_line)[p.parameter], p.lower)
                for p in self.free_parameters
            ]
        )
        lo = np.maximum(self.lower, np.minimum(x0 - START_DECADES, self.upper - 2 * START_DECADES))
        hi = np.minimum(self.upper, np.maximum(x0 + START_DECADES, self.lower + 2 * START_DECADES))
        return lo, hi

    def peak_fractions(self, h: np.ndarray) -> np.ndarray:
        """Peak model fraction of every (cell line, read-out) group of the fraction priors."""
        return np.array([float(np.max(h[idx])) for _, _, idx in self._fraction_groups])

    def _fraction_z(self, h: np.ndarray) -> np.ndarray:
        peak = np.log10(np.maximum(self.peak_fractions(h), _FLOOR))
        lo, hi = self._fraction_bounds[:, 0], self._fraction_bounds[:, 1]
        return (peak - np.clip(peak, lo, hi)) / self._fraction_sd

    def regime_penalty(self, x: np.ndarray, *, precise: bool = True) -> float:
        """The peak-fraction priors' share of :meth:`nllh` at *x* (0 inside every range)."""
        if not self._fraction_groups:
            return 0.0
        z = self._fraction_z(self.predict(x, precise=precise))
        return 0.5 * float(z @ z)

    def regime(self, x: np.ndarray) -> list[dict[str, Any]]:
        """Peak fraction of each (cell line, read-out) at *x* against its prior range."""
        h = self.predict(x, precise=True)
        peaks = self.peak_fractions(h) if self._fraction_groups else []
        return [
            {
                "cell_line": line,
                "readout": r,
                "peak_fraction": float(p),
                "low": self.fraction_priors[r][0],
                "high": self.fraction_priors[r][1],
                "inside": self.fraction_priors[r][0] <= p <= self.fraction_priors[r][1],
            }
            for (line, r, _), p in zip(self._fraction_groups, peaks, strict=True)
        ]

    def _extra_residuals(
        self, x: np.ndarray, solution: InnerSolution, h: np.ndarray
    ) -> np.ndarray | None:
        if not self._prior_index.size and not self._fraction_groups:
            return None
        return self._prior_z(x, h)

    def _extra_nllh(self, x: np.ndarray, solution: InnerSolution, h: np.ndarray) -> float:
        if not self._prior_index.size and not self._fraction_groups:
            return 0.0
        z = self._prior_z(x, h)
        return 0.5 * float(z @ z)

    def predict(self, x: np.ndarray, *, precise: bool = False) -> np.ndarray:
        """Model fractions h_i at every measurement (before scale factors)."""
        return self.layout.gather(self.stacked(x, precise=precise))

    def dependence(self) -> list[np.ndarray]:
        """For each free parameter, the runs (conditions) a finite-difference step re-simulates."""
        return list(self.layout.dependence)

    # -- reporting helpers ---------------------------------------------------------------------
    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        """Natural values of the free parameters (they are estimated on log10)."""
        return {n: float(10.0**v) for n, v in zip(self.parameter_names, np.asarray(x), strict=True)}

    def inner_parameters(self, x: np.ndarray) -> dict[str, dict[str, float]]:
        """Scale factor of every blot and noise level of every read-out group at *x*."""
        solution = self.inner_solution(x)
        sigma = (
            dict(zip(self.noise_groups, solution.sigmas.tolist(), strict=True))
            if self._estimate_sigma
            else dict(zip(self.readouts, self._given_sigma.tolist(), strict=True))
        )
        return {
            "scale": dict(zip(self.blots.tolist(), solution.scales.tolist(), strict=True)),
            "sigma": sigma,
        }

    def fitted_model(self, x: np.ndarray) -> Model:
        """The model with the fitted values of *x* (cell-line values per line)."""
        shared, per_line = {}, {}
        for p, value in zip(self.free_parameters, np.power(10.0, np.asarray(x)), strict=True):
            if p.cell_line is None:
                shared[p.parameter] = float(value)
            else:
                per_line.setdefault(p.cell_line, {})[p.parameter] = float(value)
        model = self.model.with_parameters(shared)
        for line, values in per_line.items():
            model = model.with_parameters(values, cell_line=line)
        return model

    def data_with_fit(self, x: np.ndarray):  # -> pandas.DataFrame
        """The data with columns ``scale``, ``model`` (scaled prediction) and ``normalized``
        (value / scale, comparable with the model fraction)."""
        h = self.predict(x, precise=True)
        inner = self.inner_parameters(x)
        frame = self.data.frame.copy()
        scale = frame["blot"].astype(str).map(inner["scale"]).to_numpy()
        frame["scale"] = scale
        frame["model_fraction"] = h
        frame["model"] = scale * h
        frame["normalized"] = frame["value"].to_numpy() / scale
        return frame

    def fingerprint(self) -> str:
        """Identifies data, model and settings (used to match checkpoints)."""
        digest = hashlib.sha256()
        digest.update(self.data.frame.to_csv(index=False).encode())
        digest.update(
            repr(
                (self.model.variant, self.parameter_names, self.noise, self._estimate_sigma)
            ).encode()
        )
        digest.update(np.asarray(self.lower).tobytes() + np.asarray(self.upper).tobytes())
        digest.update(repr(sorted(self.model.parameter_values().items())).encode())
        return digest.hexdigest()[:16]

    def __repr__(self) -> str:
        return (
            f"BlotProblem(variant={self.model.variant!r}, {len(self.parameter_names)} free parameters, "
            f"{self.n_data} data points, {len(self.blots)} blots, {len(self.conditions)} conditions, "
            f"noise={self.noise!r})"
        )


def _map_readouts(data, model: Model, readout_map) -> tuple[Any, dict[str, str]]:
    """*data* with each read-out renamed to the model quantity it measures, and the renaming
    ``{data name: model name}`` (only the names that changed)."""
    renamed: dict[str, str] = {}
    for readout in dict.fromkeys(data.frame["readout"]):
        try:
            target = model.observable_for(readout, readout_map)
        except (UnknownNameError, InvalidInputError) as exc:
            raise FitError(f"data {data.source}: {exc}") from None
        if target != readout:
            renamed[readout] = target
    if not renamed:
        return data, {}
    frame = data.frame.copy()
    frame["readout"] = frame["readout"].replace(renamed)
    return type(data)(frame, data.source, data.issues), renamed


def _refuse_degenerate(
    source: str,
    n: int,
    n_kinetic: int,
    blot_index: np.ndarray,
    readout_index: np.ndarray,
    estimate_sigma: bool,
    noise_groups: str,
    readouts: Sequence[str],
) -> None:
    """One :class:`FitError` for a problem that fits every band exactly (k ≥ n), or whose
    estimated noise level has no residual left to be estimated from (σ → 0)."""
    n_blots = int(np.unique(blot_index).size)
    per_readout = estimate_sigma and noise_groups == "readout"
    n_sigma = (len(readouts) if per_readout else 1) if estimate_sigma else 0
    k = n_kinetic + n_blots + n_sigma
    counts = np.bincount(blot_index, minlength=n_blots)
    single = int(np.sum(counts == 1))
    # σ of a group → 0 when its bands minus its blots' scales leave no residual
    starved = []
    if estimate_sigma:
        groups = readout_index if per_readout else np.zeros(n, dtype=np.intp)
        for g in np.unique(groups):
            rows = groups == g
            if rows.sum() - np.unique(blot_index[rows]).size <= 0:
                starved.append(readouts[g] if per_readout else "all read-outs")
    if k < n and not starved:
        return
    parts = [
        f"data {source}: {n} bands, but the fit would estimate k = {k} quantities "
        f"({n_kinetic} kinetic parameters, {n_blots} blot scale factors, {n_sigma} noise "
        f"level{'s' * (n_sigma != 1)})"
    ]
    if k >= n:
        parts.append("k ≥ n: every band can be fitted exactly, so the fit says nothing")
    if starved:
        parts.append(
            f"the noise level of {', '.join(starved)} has no residual to be estimated from "
            "(σ → 0, a perfect and meaningless fit)"
        )
    if single:
        parts.append(
            f"{single} of {n_blots} blots hold a single band, which its blot's scale factor absorbs"
        )
    parts.append(
        "put several lanes (and a shared reference lane) on each blot, fix parameters "
        "(fewer free ones) or give noise_sd"
    )
    raise FitError("; ".join(parts))
