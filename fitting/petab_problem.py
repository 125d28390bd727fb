"""PEtab (v1) problems as paracrine fitting problems: :func:`load_petab` and :class:`PetabProblem`.

A :class:`PetabProblem` follows :class:`paracrine.fitting.engine.ResidualProblem`, so
:func:`paracrine.fitting.engine.fit_multistart` fits it like any paracrine problem.

Likelihood (PEtab v1, as AMICI/pyPESTO compute it), per measurement y with simulation h,
noise value σ (the noise formula) and d = t(h) − t(y) on the observable's transformation t:

* normal: ``0.5·log(2πσ²) + 0.5·(d/σ)²``;
* laplace: ``log(2σ) + |d|/σ``;
* plus the Jacobian of the transformation for ``log`` (``log y``) and ``log10``
  (``log(y·ln 10)``), so that log-normal data have the density of y, not of log y.

Speed-ups that keep the likelihood exact:

* **Analytic noise levels.** An estimated parameter used *only* as the whole noise formula of
  some measurements (``noiseFormula = noiseParameter1_obs`` mapped to ``sd_obs``, as in
  Boehm_JProteomeRes2014 and Brannmark_JBC2010) is solved in closed form, σ² = mean d²
  (normal) or b = mean |d| (laplace), clipped to its bounds, in :meth:`PetabProblem.update_inner`
  (alternating with the kinetic parameters) and at its optimum in :meth:`PetabProblem.nllh`.
  It is removed from the free parameters and counted in ``n_inner_parameters``.
* **Free noise parameters** that enter a formula (Raia_CancerResearch2011: σ = abs + rel·h)
  stay free. The nllh is then not a plain sum of squares; as in Data2Dynamics, each measurement
  with such a σ gets an extra residual ``sqrt(2·log σ + C)`` (C = :attr:`PetabProblem.sigma_offset`,
  default 50, keeps it real for σ > e^-25), so that ``0.5·Σ r² = nllh + const`` and least squares
  minimises the exact nllh.
* **Finite differences that re-simulate only what changed**: a parameter that does not enter
  any simulation (observable scalings, noise parameters) is differentiated on the cached
  simulations (central differences, no integration); a kinetic parameter re-simulates only the
  runs that depend on it.

Tried on Raia and not kept (measured, seeded starts): solving the 21 observable scalings and
noise parameters numerically inside ``update_inner``, alternating with the 18 kinetic
parameters, zig-zagged for 100+ rounds (no optimum in 8 starts); profiling them inside every
residual evaluation (variable projection with a small Gauss–Newton solver) cost 22 s per start
and found no optimum in 12. Problems without analytic noise levels are fit instead with tight
trust-region rounds (:meth:`PetabProblem.recommended_options`).

Supported: SBML models libRoadRunner loads (events and piecewise step inputs included),
condition tables overriding parameters (numbers or parameter ids, estimated ones included) and
species (NaN: keep the pre-equilibrated/SBML value), pre-equilibration, observable and noise
placeholders (numbers or parameter ids, ``;``-separated), parameter scales lin/log/log10,
fixed and estimated parameters, noise normal/laplace on lin/log/log10 observables.
Refused with :class:`~paracrine.errors.PetabError` naming the feature: see :func:`load_petab`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import PetabError, SimulationError, UnknownNameError
from paracrine.fitting._petab_inner import (
    LN10,
    find_inner_groups,
    find_variable_sigma,
    observables_using,
    to_natural,
    to_scale,
    transform,
)

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import pandas as pd

    from paracrine.fitting._petab_build import PetabSpec

__all__ = ["PetabProblem", "load_petab"]


def _stack(sims: list[np.ndarray]) -> np.ndarray:
    """One matrix of all runs' outputs (rows: measurement rows, see ``PetabSpec.meas_row``)."""
    return sims[0] if len(sims) == 1 else np.vstack(sims)


class PetabProblem:
    """A PEtab v1 problem as a :class:`~paracrine.fitting.engine.ResidualProblem`.

    Build it with :func:`load_petab`. Free parameters are the estimated parameters of the
    parameter table that are not solved analytically, on their PEtab scales (lin/log/log10).

    Attributes
    ----------
    name
        Problem name (the YAML file's stem).
    parameter_names
        Free parameters (PEtab ids), in the order of ``x``.
    lower, upper
        Bounds of the free parameters on their scales.
    nominal_x
        Nominal values of the free parameters on their scales.
    inner_parameter_names
        Estimated noise parameters solved in closed form (not in ``x``).
    n_data, n_inner_parameters
        Number of measurements; number of inner parameters.
    rtol, atol
        CVODE tolerances of ordinary evaluations (atol in concentration units).
    precise_rtol, precise_atol
        Tolerances of ``precise=True`` evaluations.
    fd_step
        Forward-difference step (parameter-scale units) of :meth:`jacobian` for parameters that
        change the simulation; 1e-3 pairs with rtol 1e-6 (DESIGN.md).
    sigma_offset
        The constant C of the noise residuals ``sqrt(2·log σ + C)``.

    Notes
    -----
    Picklable: the RoadRunner instance and the compiled formulas are dropped in
    ``__getstate__`` and rebuilt lazily. Not thread-safe (one instance per thread/process).
    """

    def __init__(
        self,
        spec: PetabSpec,
        sbml: str,
        *,
        name: str = "petab",
        rtol: float = 1e-6,
        atol: float = 1e-8,
        precise_rtol: float = 1e-10,
        precise_atol: float = 1e-12,
        fd_step: float = 1e-3,
        sigma_offset: float = 50.0,
        files: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.sbml = sbml
        self.name = name
        self.rtol, self.atol = rtol, atol
        self.precise_rtol, self.precise_atol = precise_rtol, precise_atol
        self.fd_step = fd_step
        self.sigma_offset = sigma_offset
        files = dict(files or {})
        n_table = len(spec.table_ids)

        self._inner = find_inner_groups(spec)
        inner_idx = {g.table_index for g in self._inner}
        self._free = np.array(
            [i for i in range(n_table) if spec.estimated[i] and i not in inner_idx], dtype=np.intp
        )
        self._inner_index = np.array([g.table_index for g in self._inner], dtype=np.intp)
        free_scales = spec.scales[self._free]
        self._free_scales = free_scales
        self.parameter_names = tuple(spec.table_ids[i] for i in self._free)
        self.inner_parameter_names = tuple(spec.table_ids[i] for i in self._inner_index)
        self.lower = to_scale(spec.lower[self._free], free_scales)
        self.upper = to_scale(spec.upper[self._free], free_scales)
        self.nominal_x = to_scale(spec.nominal[self._free], free_scales)
        bad = [
            self.parameter_names[i]
            for i in range(len(self._free))
            if not (np.isfinite(self.lower[i]) and np.isfinite(self.upper[i]))
        ]
        if bad:  # pragma: no cover - the petab linter reports this first
            raise PetabError(
                f"{files.get('parameters', 'parameter table')}: bounds of {bad} are not finite "
                "on their parameterScale (a log-scaled parameter needs lowerBound > 0)"
            )
        self.n_data = len(spec.y)
        self.n_inner_parameters = len(self._inner)
        self.inner_values = spec.nominal[self._inner_index].copy()

        # per-measurement transformation, distribution, transformed data, Jacobian term
        n = self.n_data
        self._tcode = np.zeros(n, dtype=np.intp)
        self._laplace = np.zeros(n, dtype=bool)
        for obs in spec.observables:
            self._tcode[obs.rows] = obs.transform
            self._laplace[obs.rows] = obs.distribution == 1
        logged = self._tcode > 0
        if np.any(spec.y[logged] <= 0):  # pragma: no cover - the petab linter reports this first
            row = int(np.flatnonzero(logged & (spec.y <= 0))[0])
            raise PetabError(
                f"{files.get('measurements', 'measurement table')}: row {row + 2}, column "
                f"measurement: {spec.y[row]} is not positive but observable "
                f"{spec.measurement_ids[row][0]!r} is log-transformed"
            )
        self._ty = transform(spec.y, self._tcode)
        jac_term = np.zeros(n)
        jac_term[self._tcode == 1] = np.log(spec.y[self._tcode == 1])
        jac_term[self._tcode == 2] = np.log(spec.y[self._tcode == 2] * LN10)
        self._jac_term_sum = float(jac_term.sum())
        self._variable_sigma = find_variable_sigma(spec, self._free, self.n_data)
        self._dynamic = np.array(
            [any(int(t) in run.depends for run in spec.runs) for t in self._free], dtype=bool
        )
        self._theta_base = np.concatenate([spec.nominal, spec.constants])
        self._using = {int(t): observables_using(spec, int(t)) for t in self._free}
        self._sim: Any = None
        self._compiled: list[tuple[Any, Any, list]] | None = None
        self._cache_key: tuple[bytes, bool] | None = None
        self._cache_sims: list[np.ndarray] | None = None

    # -- pickling ------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_sim"] = None
        state["_compiled"] = None
        state["_cache_key"] = None
        state["_cache_sims"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- simulation ----------------------------------------------------------------------------
    def _simulator(self) -> Any:
        if self._sim is None:
            from paracrine.fitting._petab_sim import Simulator

            self._sim = Simulator(self.sbml, self.spec)
        return self._sim

    def _theta(self, x: np.ndarray | None) -> np.ndarray:
        theta = self._theta_base.copy()
        if x is not None:
            theta[self._free] = to_natural(np.asarray(x, dtype=float), self._free_scales)
        theta[self._inner_index] = self.inner_values
        return theta

    def _simulate_runs(
        self, theta: np.ndarray, precise: bool, runs: list[int] | None = None
    ) -> list[np.ndarray]:
        sim = self._simulator()
        if precise:
            sim.set_tolerances(self.precise_rtol, self.precise_atol)
            rtol_ss, atol_ss = 1e-10, 1e-13
        else:
            sim.set_tolerances(self.rtol, self.atol)
            rtol_ss, atol_ss = 1e-8, 1e-11
        indices = range(len(self.spec.runs)) if runs is None else runs
        return [sim.run(i, theta, rtol_ss=rtol_ss, atol_ss=atol_ss) for i in indices]

    def _sims_at(self, x: np.ndarray, precise: bool) -> list[np.ndarray]:
        key = (np.asarray(x, dtype=float).tobytes(), precise)
        sims = self._cache_sims
        if sims is None or key != self._cache_key:
            sims = self._simulate_runs(self._theta(x), precise)
            self._cache_sims, self._cache_key = sims, key
        return sims

    # -- observation model ---------------------------------------------------------------------
    def _compile(self) -> list[tuple[Any, Any, list]]:
        if self._compiled is None:
            import sympy

            compiled = []
            spec = self.spec
            for obs in spec.observables:
                by_name = {s.name: s for s in obs.formula.free_symbols | obs.noise.free_symbols}
                symbols = [by_name[n] for n in obs.arg_names]
                f = sympy.lambdify(symbols, obs.formula, modules="numpy")
                g = sympy.lambdify(symbols, obs.noise, modules="numpy")
                gathers = []
                for kind, ref in obs.args:
                    if kind == "sim":
                        gathers.append(("sim", (spec.meas_row[obs.rows], ref)))
                    elif kind == "theta":
                        gathers.append(("theta", ref))
                    else:
                        src = spec.obs_src if kind == "obs" else spec.noise_src
                        gathers.append(("theta", src[obs.rows, ref]))
                compiled.append((f, g, gathers))
            self._compiled = compiled
        return self._compiled

    def _observe(
        self,
        sims: list[np.ndarray] | np.ndarray,
        theta: np.ndarray,
        only: list[int] | None = None,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulated observables h and noise values σ of every measurement.

        *sims* is the list of run outputs or their stacked matrix; with *only* (observable
        indices) and *out* (h, σ to update in place), only those observables are evaluated.
        """
        stacked = sims if isinstance(sims, np.ndarray) else _stack(sims)
        h, sigma = out if out is not None else (np.empty(self.n_data), np.empty(self.n_data))
        compiled = self._compile()
        observables = self.spec.observables
        with np.errstate(all="ignore"):
            for i in range(len(observables)) if only is None else only:
                f, g, gathers = compiled[i]
                rows = observables[i].rows
                args = [
                    stacked[ref[0], ref[1]] if kind == "sim" else theta[ref]
                    for kind, ref in gathers
                ]
                h[rows] = f(*args)  # numpy broadcasts scalars (constant formulas)
                sigma[rows] = g(*args)
        return h, sigma

    def _differences(self, h: np.ndarray) -> np.ndarray:
        return transform(h, self._tcode) - self._ty

    def _optimal_inner(self, d: np.ndarray) -> np.ndarray:
        values = np.empty(len(self._inner))
        spec = self.spec
        for k, group in enumerate(self._inner):
            dk = d[group.rows]
            value = np.mean(np.abs(dk)) if group.laplace else math.sqrt(np.mean(dk**2))
            lo, hi = spec.lower[group.table_index], spec.upper[group.table_index]
            values[k] = min(max(value, lo, 1e-300), hi)
        return values

    def _nllh_terms(self, d: np.ndarray, sigma: np.ndarray) -> float:
        s = np.abs(sigma)
        lap = self._laplace
        with np.errstate(all="ignore"):
            normal = 0.5 * np.log(2 * np.pi * s[~lap] ** 2) + 0.5 * (d[~lap] / s[~lap]) ** 2
            laplace = np.log(2 * s[lap]) + np.abs(d[lap]) / s[lap]
        return float(normal.sum() + laplace.sum() + self._jac_term_sum)

    def _residuals_from(self, sims: list[np.ndarray], theta: np.ndarray) -> np.ndarray:
        return self._residuals_hs(*self._observe(sims, theta))

    def _residuals_hs(self, h: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Residuals from observables and noise values (σ of inner groups replaced in place)."""
        for k, group in enumerate(self._inner):
            sigma[group.rows] = self.inner_values[k]
        d = self._differences(h)
        with np.errstate(all="ignore"):
            r = d / sigma
            lap = self._laplace
            if lap.any():
                r[lap] = np.sign(d[lap]) * np.sqrt(2.0 * np.abs(d[lap]) / np.abs(sigma[lap]))
            var = self._variable_sigma
            if var.any():
                extra = np.sqrt(
                    np.maximum(2.0 * np.log(np.abs(sigma[var])) + self.sigma_offset, 0.0)
                )
                r = np.concatenate([r, extra])
        return r

    # -- ResidualProblem protocol --------------------------------------------------------------
    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Weighted residuals at *x* given the current :attr:`inner_values`.

        ``0.5·sum(r²)`` equals the nllh up to a constant for fixed inner values: data residuals
        ``d/σ`` (laplace: ``sign(d)·sqrt(2|d|/b)``) followed by ``sqrt(2·log σ + C)`` for every
        measurement whose σ depends on free parameters or on the simulation.

        Raises
        ------
        SimulationError
            If CVODE fails or pre-equilibration finds no steady state.
        """
        x = np.asarray(x, dtype=float)
        return self._residuals_from(self._sims_at(x, False), self._theta(x))

    def update_inner(self, x: np.ndarray) -> None:
        """Solve the analytic noise levels at *x* (σ² = mean d², b = mean |d|, within bounds)."""
        if not self._inner:
            return
        x = np.asarray(x, dtype=float)
        h, _ = self._observe(self._sims_at(x, False), self._theta(x))
        self.inner_values = self._optimal_inner(self._differences(h))

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        """PEtab negative log-likelihood at *x* with the analytic noise levels at their optimum.

        Parameters
        ----------
        x
            Free parameters on their scales.
        precise
            Use the tight tolerances (:attr:`precise_rtol`).
        """
        x = np.asarray(x, dtype=float)
        theta = self._theta(x)
        h, sigma = self._observe(self._sims_at(x, precise), theta)
        d = self._differences(h)
        optimum = self._optimal_inner(d)
        for k, group in enumerate(self._inner):
            sigma[group.rows] = optimum[k]
        value = self._nllh_terms(d, sigma)
        return value if math.isfinite(value) else math.inf

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """d residuals / d x by finite differences that re-simulate only what changed.

        Parameters that change a simulation use forward differences with step :attr:`fd_step`
        (backwards at the upper bound, or where CVODE fails on the forward side) and
        re-simulate only the runs that depend on them; the
        others (observable and noise parameters) use central differences on the cached
        simulations.

        Raises
        ------
        SimulationError
            If CVODE fails at a perturbed point.
        """
        x = np.asarray(x, dtype=float)
        sims0 = list(self._sims_at(x, False))
        stacked0 = _stack(sims0)
        theta0 = self._theta(x)
        h0, s0 = self._observe(stacked0, theta0)
        r0 = self._residuals_hs(h0.copy(), s0.copy())
        jac = np.zeros((r0.size, x.size))
        runs = self.spec.runs
        for j in range(x.size):
            xj = x.copy()
            t = int(self._free[j])
            if self._dynamic[j]:
                scale = 1.0 if self._free_scales[j] else max(1.0, abs(x[j]))
                h = self.fd_step * scale
                if x[j] + h > self.upper[j]:
                    h = -h
                affected = [i for i, run in enumerate(runs) if t in run.depends]
                xj[j] = x[j] + h
                theta = self._theta(xj)
                try:
                    new = self._simulate_runs(theta, False, affected)
                except SimulationError:
                    if not self.lower[j] <= x[j] - h <= self.upper[j]:
                        raise
                    h = -h  # CVODE failed on one side: difference towards the other
                    xj[j] = x[j] + h
                    theta = self._theta(xj)
                    new = self._simulate_runs(theta, False, affected)
                sims = list(sims0)
                for i, sim in zip(affected, new, strict=True):
                    sims[i] = sim
                jac[:, j] = (self._residuals_from(sims, theta) - r0) / h
            else:
                only = self._using[t]
                if not only:
                    continue  # the parameter changes nothing: a zero column
                h = 1e-6 * max(1.0, abs(x[j]))
                columns = []
                for step in (h, -h):
                    xj[j] = x[j] + step
                    hs = self._observe(stacked0, self._theta(xj), only, (h0.copy(), s0.copy()))
                    columns.append(self._residuals_hs(*hs))
                jac[:, j] = (columns[0] - columns[1]) / (2 * h)
        return jac

    @property
    def observation_parameters(self) -> np.ndarray:
        """Indices (into *x*) of the free parameters that only observable or noise formulas use.

        Changing them needs no new simulation (observable scalings/offsets, noise parameters).
        """
        return np.array(
            [j for j, t in enumerate(self._free) if not self._dynamic[j] and self._using[int(t)]],
            dtype=np.intp,
        )

    def refine_start(self, x: np.ndarray) -> np.ndarray:
        """*x* with its :attr:`observation_parameters` at their optimum given the others.

        They are fit by trust-region least squares on the simulations at *x* (one simulation,
        then only observable-formula evaluations), so that a start does not begin with
        scalings decades away from the data. The fit engine calls this once per start
        (:class:`~paracrine.fitting.engine.ResidualProblem`). Without such parameters, when the
        residuals at *x* are not finite, or when the fit does not lower them, *x* is returned
        unchanged.

        Raises
        ------
        SimulationError
            If CVODE fails at *x* (the start is then reported failed).
        """
        x = np.array(x, dtype=float)
        static = self.observation_parameters
        if static.size == 0:
            return x
        stacked = _stack(self._sims_at(x, False))
        base_h, base_s = self._observe(stacked, self._theta(x))
        r0 = self._residuals_hs(base_h.copy(), base_s.copy())
        if not np.all(np.isfinite(r0)):
            return x
        only = sorted({i for j in static for i in self._using[int(self._free[j])]})

        def fun(values: np.ndarray) -> np.ndarray:
            trial = x.copy()
            trial[static] = values
            hs = self._observe(stacked, self._theta(trial), only, (base_h.copy(), base_s.copy()))
            r = self._residuals_hs(*hs)
            return np.where(np.isfinite(r), r, 1e6)

        from scipy.optimize import least_squares

        fit = least_squares(
            fun,
            x[static],
            bounds=(self.lower[static], self.upper[static]),
            method="trf",
            x_scale="jac",
            ftol=1e-6,
            xtol=1e-6,
            max_nfev=200 * static.size,
        )
        if fit.fun @ fit.fun < r0 @ r0:
            x[static] = fit.x
        return x

    def configure_for_fitting(self) -> dict[str, Any]:
        """Apply the tolerances a fit of this problem needs and return its fit options.

        What ``paracrine petab fit`` and the PEtab benchmark use: :meth:`use_tight_tolerances`
        for problems without analytic noise levels, and :meth:`recommended_options`.
        """
        if not self.n_inner_parameters:
            self.use_tight_tolerances()
        return self.recommended_options()

    def recommended_options(self) -> dict[str, Any]:
        """Fit options (for :func:`~paracrine.fitting.engine.fit_multistart`) for this problem.

        With analytic noise levels: the engine's defaults (alternating rounds, loose
        tolerances; DESIGN.md). Without (Raia_CancerResearch2011), the rounds only restart
        trust-region least squares: ftol = xtol = 1e-6 instead, and at most 3 rounds (the later
        ones only confirm that the nllh has settled, so that the start reports "converged").
        Measured on Raia (12 seeded starts, one process, one round): 2 starts within 0.1 of the
        best at 2.8 s CPU per start with CVODE rtol 1e-8 and FD step 1e-4, against none with
        the defaults (20 rounds of ftol 1e-3 stop far from a minimum) or with ftol 1e-4, and 1
        of 8 at 5.5 s per start with ftol 1e-8. Pair it with :meth:`use_tight_tolerances`.
        """
        if self.n_inner_parameters:
            return {}
        return {"ftol": 1e-6, "xtol": 1e-6, "max_rounds": 3}

    def use_tight_tolerances(self) -> None:
        """CVODE rtol 1e-8, atol 1e-10 and FD step 1e-4 for ordinary evaluations.

        Problems without analytic noise levels need accurate Jacobians: at rtol 1e-6 with
        step 1e-3 no seeded Raia start reached the best nllh (see :meth:`recommended_options`).
        """
        self.rtol, self.atol, self.fd_step = 1e-8, 1e-10, 1e-4
        self._cache_key = self._cache_sims = None

    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        """Natural-scale values of the free parameters at *x* (PEtab ids)."""
        values = to_natural(np.asarray(x, dtype=float), self._free_scales)
        return {n: float(v) for n, v in zip(self.parameter_names, values, strict=True)}

    def fingerprint(self) -> str:
        """Hash of the problem's data, model and settings (identifies it in checkpoints)."""
        h = hashlib.sha256(self.sbml.encode())
        spec = self.spec
        for arr in (spec.y, spec.lower, spec.upper, spec.nominal, spec.constants):
            h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        h.update(repr((spec.table_ids, spec.measurement_ids, self.rtol, self.atol)).encode())
        return h.hexdigest()[:16]

    # -- PEtab-level helpers -------------------------------------------------------------------
    def _full_theta(self, values: Mapping[str, float] | None) -> np.ndarray:
        theta = self._theta_base.copy()
        index = {pid: i for i, pid in enumerate(self.spec.table_ids)}
        for key, value in (values or {}).items():
            if key not in index:
                raise UnknownNameError("PEtab parameter", key, index)
            theta[index[key]] = float(value)
        return theta

    def nllh_parameters(
        self, values: Mapping[str, float] | None = None, *, precise: bool = True
    ) -> float:
        """nllh with every parameter given (natural scale); nothing is optimised.

        Parameters
        ----------
        values
            Natural-scale values by PEtab parameter id; missing ones take their nominal value.
        precise
            Use the tight tolerances.

        Raises
        ------
        UnknownNameError
            For an id that is not in the parameter table.
        SimulationError
            If a simulation fails.
        """
        theta = self._full_theta(values)
        h, sigma = self._observe(self._simulate_runs(theta, precise), theta)
        return self._nllh_terms(self._differences(h), sigma)

    def nllh_nominal(self, *, precise: bool = True) -> float:
        """nllh at the nominal values of the parameter table (the published reference point)."""
        return self.nllh_parameters(None, precise=precise)

    def simulation_table(
        self, values: Mapping[str, float] | None = None, *, precise: bool = True
    ) -> pd.DataFrame:
        """PEtab simulation table (measurement table with ``simulation`` instead of data).

        Parameters
        ----------
        values
            Natural-scale parameter values by id (missing: nominal).
        precise
            Use the tight tolerances.
        """
        import pandas as pd

        theta = self._full_theta(values)
        h, _ = self._observe(self._simulate_runs(theta, precise), theta)
        rows = self.spec.measurement_ids
        return pd.DataFrame(
            {
                "observableId": [r[0] for r in rows],
                "preequilibrationConditionId": [r[1] for r in rows],
                "simulationConditionId": [r[2] for r in rows],
                "time": [r[3] for r in rows],
                "simulation": h,
            }
        )

    def __repr__(self) -> str:
        return (
            f"PetabProblem({self.name!r}: {len(self.parameter_names)} free parameters, "
            f"{self.n_inner_parameters} analytic noise levels, {self.n_data} data, "
            f"{len(self.spec.runs)} simulations)"
        )


def load_petab(
    yaml_path: str | Path,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    precise_rtol: float = 1e-10,
    precise_atol: float = 1e-12,
    fd_step: float = 1e-3,
) -> PetabProblem:
    """Import a PEtab (v1) problem.

    Parameters
    ----------
    yaml_path
        The problem's YAML file (format_version 1, one SBML model).
    rtol, atol
        CVODE tolerances of ordinary evaluations (fits).
    precise_rtol, precise_atol
        CVODE tolerances of ``precise=True`` evaluations (final values, :meth:`nllh_nominal`).
    fd_step
        Finite-difference step (parameter-scale units) of the Jacobian.

    Returns
    -------
    PetabProblem
        Ready for :func:`paracrine.fitting.engine.fit_multistart`.

    Raises
    ------
    PetabError
        If the problem is malformed or uses an unsupported feature (the message names it and
        the file): PEtab v2, several models or problems, mapping tables, extensions, objective
        priors, initialization priors other than parameterScaleUniform, parameter scales other
        than lin/log/log10, noise distributions other than normal/laplace, transformations
        other than lin/log/log10, steady-state measurements (time = inf), compartment sizes in
        the condition table, SBML algebraic rules, fast reactions, delays.

    Examples
    --------
    >>> problem = load_petab("Boehm_JProteomeRes2014.yaml")  # doctest: +SKIP
    >>> round(problem.nllh_nominal(), 3)  # doctest: +SKIP
    138.222
    """
    from paracrine.fitting._petab_build import build_spec
    from paracrine.fitting._petab_read import read_problem

    read = read_problem(yaml_path)
    spec = build_spec(read)
    problem = PetabProblem(
        spec,
        read.sbml,
        name=Path(yaml_path).stem,
        rtol=rtol,
        atol=atol,
        precise_rtol=precise_rtol,
        precise_atol=precise_atol,
        fd_step=fd_step,
        files=read.files,
    )
    try:
        problem._simulator()
    except RuntimeError as exc:  # pragma: no cover - libRoadRunner refuses an SBML petab accepts
        raise PetabError(
            f"{read.files['model']}: libRoadRunner cannot load the model: {exc}"
        ) from exc
    return problem
