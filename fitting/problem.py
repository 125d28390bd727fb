"""The blot fitting problem: a model variant, phospho-blot time courses, and which parameters
are free — as a :class:`~paracrine.fitting.engine.ResidualProblem` for the multistart engine.

Observation model (DESIGN.md, BIOLOGY.md "Western blot quantification")::

    value_i = s_{blot(i)} · h_i(θ) · ε_i,   log ε_i ~ N(0, σ_{readout(i)}²)     (log-normal)
    value_i = s_{blot(i)} · h_i(θ) + σ_{readout(i)} · ε_i,  ε_i ~ N(0, 1)         (normal)

where h_i is the model's phosphorylated fraction for the measurement's cell line, condition,
time and read-out. The per-blot scale factors s_b and (unless given) the per-read-out noise
levels σ_k are solved in closed form inside the objective (hierarchical optimisation), so the
optimiser sees only the kinetic parameters θ, on log10 scale:

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

from paracrine.errors import FitError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations import Condition, Simulator, check_times
from paracrine.simulations.engine import DEFAULT_ATOL, DEFAULT_RTOL

__all__ = ["BlotProblem", "FreeParameter"]

#: Tolerances of the final, precise re-evaluation of a start's optimum.
PRECISE_RTOL, PRECISE_ATOL = 1e-8, 1e-10
#: Model fractions are floored here before taking logs (a knocked-out read-out is exactly 0).
_FLOOR = 1e-12


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


class BlotProblem:
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
    rtol, atol
        CVODE tolerances for the fit; the final value of every start is re-evaluated at
        rtol 1e-8, atol 1e-10.

    Raises
    ------
    UnknownNameError
        Unknown parameter names (with suggestions).
    FitError
        Bounds that exclude the default, data read-outs or cell lines the model lacks,
        non-positive values under log-normal noise, conflicting settings.
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
        rtol: float = DEFAULT_RTOL,
        atol: float = DEFAULT_ATOL,
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
            "rtol": rtol,
            "atol": atol,
        }
        model = Model(model) if isinstance(model, str) else model
        if not isinstance(model, Model):
            raise FitError(
                f"model: expected a paracrine Model or a variant name, received {model!r}"
            )
        self.data = resolve_data(data)
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
        unknown_readouts = sorted(set(frame["readout"]) - set(model.observables))
        if unknown_readouts:
            raise FitError(
                f"data {source}: read-out(s) {unknown_readouts} are not observables of the model "
                f"(it has {list(model.observables)})"
            )
        unknown_lines = sorted(set(frame["cell_line"]) - set(model.cell_lines))
        if unknown_lines:
            raise FitError(
                f"data {source}: cell line(s) {unknown_lines} are not in the model's parameter "
                f"table (it has {list(model.cell_lines)})"
            )
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
        self.readouts = tuple(r for r in model.observables if r in set(frame["readout"]))

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

        # -- conditions and the map from simulations to measurements --------------------------
        keys = frame[["cell_line", "condition", "il6_ng_ml", "vegf_ng_ml"]].drop_duplicates()
        self.conditions: list[Condition] = []
        self._condition_times: list[np.ndarray] = []
        slot = np.empty(len(frame), dtype=int)
        offset = 0
        self._slices: list[tuple[int, int, int]] = []  # (start, n_times, condition index)
        readout_index = frame["readout"].map({r: k for k, r in enumerate(self.readouts)}).to_numpy()
        n_out = len(self.readouts)
        for line in self.cell_lines:
            for _, key in keys[keys["cell_line"] == line].iterrows():
                mask = (
                    (frame["cell_line"] == line)
                    & (frame["condition"] == key["condition"])
                    & (frame["il6_ng_ml"] == key["il6_ng_ml"])
                    & (frame["vegf_ng_ml"] == key["vegf_ng_ml"])
                ).to_numpy()
                times = np.unique(frame.loc[mask, "time_min"].to_numpy(dtype=float))
                cond = Condition(
                    f"{key['condition']} [{line}]",
                    line,
                    il6_ng_ml=float(key["il6_ng_ml"]),
                    vegf_ng_ml=float(key["vegf_ng_ml"]),
                )
                t_index = np.searchsorted(times, frame.loc[mask, "time_min"].to_numpy(dtype=float))
                slot[mask] = offset + t_index * n_out + readout_index[mask]
                self._slices.append((offset, times.size, len(self.conditions)))
                self.conditions.append(cond)
                self._condition_times.append(check_times(times))
                offset += times.size * n_out
        self._slot = slot
        self._n_slots = offset
        self._y = values
        self._log_y = np.log(values) if noise == "lognormal" else None
        blots = frame["blot"].astype(str).to_numpy()
        self.blots, self._blot = np.unique(blots, return_inverse=True)
        self.n_data = len(frame)

        # -- noise -------------------------------------------------------------------------
        if noise_groups not in ("shared", "readout"):
            raise FitError(
                f"noise_groups: expected 'shared' or 'readout', received {noise_groups!r}"
            )
        if noise_sd is None and noise_groups == "shared":
            self.noise_groups: tuple[str, ...] = ("all read-outs",)
            self._group = np.zeros(len(frame), dtype=int)
        else:
            self.noise_groups = self.readouts
            self._group = readout_index
        if noise_sd is None:
            self._estimate_sigma = True
            self._sigma = np.ones(len(self.noise_groups))
        else:
            self._estimate_sigma = False
            given = (
                dict.fromkeys(self.readouts, noise_sd)
                if not isinstance(noise_sd, Mapping)
                else dict(noise_sd)
            )
            for r in given:
                if r not in self.readouts:
                    raise UnknownNameError("read-out (in noise_sd)", r, self.readouts)
            missing = [r for r in self.readouts if r not in given]
            if missing:
                raise FitError(f"noise_sd: no value for read-out(s) {missing}")
            self._sigma = np.array([float(given[r]) for r in self.readouts])
            if not np.all(self._sigma > 0):
                raise FitError(f"noise_sd: expected values > 0, received {given}")
        # one (or no) noise level rescales every residual alike: the least-squares optimum
        # does not depend on it, so the engine need not alternate
        self.needs_alternation = self._estimate_sigma and len(self.noise_groups) > 1
        self.n_inner_parameters = len(self.blots) + (
            len(self.noise_groups) if self._estimate_sigma else 0
        )

        # -- parameter vectors ---------------------------------------------------------------
        ids = model.parameter_ids
        self._base = {
            line: np.array([model.parameter_values(line)[p] for p in ids])
            for line in self.cell_lines
        }
        self._target = [(ids.index(p.parameter), p.cell_line) for p in self.free_parameters]
        self._rtol, self._atol = rtol, atol
        self._sim: Simulator | None = None
        self._precise_sim: Simulator | None = None
        self._cache_x: bytes | None = None
        self._cache_h: np.ndarray | None = None
        self._cache_full: np.ndarray | None = None
        self._dependence: list[np.ndarray] | None = None
        self.metadata = {
            "variant": model.variant,
            "dataset": str(source),
            "noise": noise,
            "noise_groups": list(self.noise_groups),
            "noise_sd": None
            if noise_sd is None
            else dict(zip(self.readouts, self._sigma.tolist(), strict=True)),
            "free_parameters": list(self.parameter_names),
            "fixed": {k: float(v) for k, v in fixed.items()},
            "n_blots": len(self.blots),
        }

    # -- settings: enough to rebuild the problem (saved with a fit) ------------------------------
    def settings(self) -> dict[str, Any]:
        """JSON-serialisable settings that rebuild this problem with :meth:`from_settings`.

        The model is stored as its variant plus every parameter value that differs from the
        table defaults; the data as its bundled name or file path.
        """
        out = dict(self._settings)
        out["model"] = self.model.variant
        defaults = Model(self.model.variant)
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
        model = Model(
            s.pop("model"),
            s.pop("model_parameters", None),
            {k: v for k, v in (s.pop("model_cell_line_parameters", None) or {}).items() if v},
        )
        data = s.pop("data")
        s["bounds"] = {k: tuple(v) for k, v in (s.get("bounds") or {}).items()} or None
        s["priors"] = {k: tuple(v) for k, v in (s.get("priors") or {}).items()} or None
        s["fixed"] = s.get("fixed") or None
        return cls(model, data, **s)

    # -- pickling: the RoadRunner instances stay behind -----------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_sim=None, _precise_sim=None, _cache_x=None, _cache_h=None, _cache_full=None)
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

    def predict(self, x: np.ndarray, *, precise: bool = False) -> np.ndarray:
        """Model fractions h_i at every measurement (before scale factors)."""
        key = np.asarray(x, dtype=float).tobytes()
        if not precise and key == self._cache_x:
            return self._cache_h
        sim = self._simulator(precise)
        out = np.empty(self._n_slots)
        self._simulate_blocks(sim, self.parameter_vectors(x), range(len(self._slices)), out)
        h = out[self._slot]
        if not np.all(np.isfinite(h)):
            raise SimulationError(f"non-finite model values at x = {np.asarray(x).tolist()}")
        if not precise:
            self._cache_x, self._cache_h, self._cache_full = key, h, out
        return h

    def _simulator(self, precise: bool = False) -> Simulator:
        if precise:
            if self._precise_sim is None:
                self._precise_sim = Simulator(
                    self.model, self.readouts, rtol=PRECISE_RTOL, atol=PRECISE_ATOL
                )
            return self._precise_sim
        if self._sim is None:
            self._sim = Simulator(self.model, self.readouts, rtol=self._rtol, atol=self._atol)
        return self._sim

    def _simulate_blocks(
        self, sim: Simulator, vectors: dict[str, np.ndarray], blocks, out: np.ndarray
    ) -> None:
        for b in blocks:
            start, _, c = self._slices[b]
            cond = self.conditions[c]
            block = sim.run(cond, self._condition_times[b], vectors[cond.cell_line])
            out[start : start + block.size] = block.reshape(-1)

    def dependence(self) -> list[np.ndarray]:
        """For each free parameter, the condition blocks a finite-difference step must
        re-simulate: a cell-line parameter touches only its own line's conditions.

        (Shared parameters touch every block: even a rate constant multiplying a species
        that is exactly zero in a condition changes CVODE's Newton matrix and so the
        trajectory at the solver-noise level; skipping it would be exact only in theory.)
        """
        if self._dependence is None:
            lines = [self.conditions[c].cell_line for _, _, c in self._slices]
            self._dependence = [
                np.array(
                    [b for b, line in enumerate(lines) if p.cell_line in (None, line)], dtype=int
                )
                for p in self.free_parameters
            ]
        return self._dependence

    def jacobian(self, x: np.ndarray, *, step: float = 1e-3) -> np.ndarray:
        """Forward-difference Jacobian of :meth:`residuals` in log10 units.

        Only the conditions that depend on a parameter are re-simulated for its column
        (see :meth:`dependence`); scales are re-solved from the full prediction, so the
        columns equal plain forward differences of ``residuals``.
        """
        x = np.asarray(x, dtype=float)
        dependence = self.dependence()
        f0 = self.residuals(x)
        h0 = self.predict(x)
        full0 = self._cache_full
        sim = self._simulator()
        jac = np.empty((f0.size, x.size))
        for j, blocks in enumerate(dependence):
            hstep = step if x[j] + step <= self.upper[j] else -step
            xj = x.copy()
            xj[j] += hstep
            if blocks.size == 0:
                jac[:, j] = 0.0
                if self._prior_index.size:
                    jac[:, j] = (self._residuals_from(self._cache_h, xj) - f0) / hstep
                continue
            full = full0.copy()
            self._simulate_blocks(sim, self.parameter_vectors(xj), blocks, full)
            hj = full[self._slot]
            if not np.all(np.isfinite(hj)):
                raise FloatingPointError(
                    f"non-finite model values in the step of {self.parameter_names[j]}"
                )
            jac[:, j] = (self._residuals_from(hj, xj) - f0) / hstep
        # restore the cache to x (the engine may ask for residuals at x again)
        self._cache_x, self._cache_h, self._cache_full = x.tobytes(), h0, full0
        return jac

    # -- observation model -------------------------------------------------------------------
    def _scales(self, h: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Optimal scale of every blot given model values *h* and noise levels *sigma*."""
        w = 1.0 / sigma[self._group] ** 2
        n_blots = len(self.blots)
        if self.noise == "lognormal":
            d = self._log_y - np.log(np.maximum(h, _FLOOR))
            return np.bincount(self._blot, w * d, n_blots) / np.bincount(self._blot, w, n_blots)
        num = np.bincount(self._blot, w * self._y * h, n_blots)
        den = np.bincount(self._blot, w * h * h, n_blots)
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)

    def _raw_residuals(self, h: np.ndarray, scales: np.ndarray) -> np.ndarray:
        if self.noise == "lognormal":
            return self._log_y - scales[self._blot] - np.log(np.maximum(h, _FLOOR))
        return self._y - scales[self._blot] * h

    def _profile(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sigma, scales, raw residuals) with the inner parameters at their optimum."""
        sigma = self._sigma.copy()
        n_groups = len(self.noise_groups)
        n = np.bincount(self._group, minlength=n_groups)
        for _ in range(5 if self._estimate_sigma else 1):
            scales = self._scales(h, sigma)
            raw = self._raw_residuals(h, scales)
            if not self._estimate_sigma:
                break
            new = np.sqrt(np.maximum(np.bincount(self._group, raw * raw, n_groups) / n, 1e-300))
            # blots holding one read-out each make this exact after one pass
            if np.allclose(new, sigma, rtol=1e-10):
                break
            sigma = new
        return sigma, scales, raw

    def update_inner(self, x: np.ndarray) -> None:
        """Re-solve the noise levels at *x* (scale factors are solved inside ``residuals``)."""
        if self._estimate_sigma:
            self._sigma = self._profile(self.predict(x))[0]

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Weighted residuals (data − scaled model)/σ, plus prior terms, at *x*."""
        return self._residuals_from(self.predict(x), x)

    def _residuals_from(self, h: np.ndarray, x: np.ndarray) -> np.ndarray:
        scales = self._scales(h, self._sigma)
        r = self._raw_residuals(h, scales) / self._sigma[self._group]
        if self._prior_index.size:
            prior = (np.asarray(x)[self._prior_index] - self._prior_mean) / self._prior_sd
            r = np.concatenate([r, prior])
        return r

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        """Negative log-likelihood with scales and noise levels at their optimum."""
        h = self.predict(x, precise=precise)
        sigma, _, raw = self._profile(h)
        s = sigma[self._group]
        value = float(np.sum(0.5 * np.log(2 * np.pi * s * s) + 0.5 * (raw / s) ** 2))
        if self.noise == "lognormal":
            value += float(np.sum(self._log_y))
        if self._prior_index.size:
            z = (np.asarray(x)[self._prior_index] - self._prior_mean) / self._prior_sd
            value += 0.5 * float(np.sum(z * z))
        return value

    # -- reporting helpers ---------------------------------------------------------------------
    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        return {n: float(10.0**v) for n, v in zip(self.parameter_names, np.asarray(x), strict=True)}

    def inner_parameters(self, x: np.ndarray) -> dict[str, dict[str, float]]:
        """Scale factor of every blot and noise level of every read-out at *x*."""
        sigma, scales, _ = self._profile(self.predict(x))
        blot_scale = np.exp(scales) if self.noise == "lognormal" else scales
        return {
            "scale": dict(zip(self.blots.tolist(), blot_scale.tolist(), strict=True)),
            "sigma": dict(zip(self.noise_groups, sigma.tolist(), strict=True)),
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
