"""PEtab (v1) problems as paracrine fitting problems: :func:`load_petab` and :class:`PetabProblem`.

A :class:`PetabProblem` is a :class:`~paracrine.fitting.objective.HierarchicalProblem` (the
shared objective layer of every paracrine problem), so
:func:`paracrine.fitting.fit_multistart` fits it like any paracrine problem.

Likelihood (PEtab v1, as AMICI/pyPESTO compute it), per measurement y with simulation h,
noise value σ (the noise formula) and d = t(h) − t(y) on the observable's transformation t:

* normal: ``0.5·log(2πσ²) + 0.5·(d/σ)²``;
* laplace: ``log(2σ) + |d|/σ``;
* plus the Jacobian of the transformation for ``log`` (``log y``) and ``log10``
  (``log(y·ln 10)``), so that log-normal data have the density of y, not of log y.

Speed-ups that keep the likelihood exact:

* **Analytic inner parameters** (the shared :class:`~paracrine.fitting.objective.InnerSolver`,
  the same that solves the blot problem's scales and σ). An estimated parameter used *only* as
  the whole noise formula of some measurements (``noiseFormula = noiseParameter1_obs`` mapped
  to ``sd_obs``, as in Boehm_JProteomeRes2014 and Brannmark_JBC2010) is solved in closed form,
  σ² = mean d² (normal) or b = mean |d| (laplace), clipped to its bounds; one used only as an
  observable scaling ``p × f(states)`` or offset ``f(states) + p`` (Brannmark's four
  ``k_*`` scalings) is solved by weighted least squares, clipped to its bounds. Noise levels
  are held during a least-squares round (:meth:`PetabProblem.update_inner`) and at their
  optimum in :meth:`PetabProblem.nllh`; scalings and offsets are at their optimum inside every
  residual evaluation. They are removed from the free parameters and counted in
  ``n_inner_parameters``.
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

Priors: the ``objectivePriorType`` priors of the parameter table make :meth:`PetabProblem.nllh`
(what fits minimise) the negative log-posterior, and enter the least-squares residuals so that
``0.5·Σr²`` is the exact posterior up to a constant (see :mod:`paracrine.fitting.petab.priors`);
:meth:`PetabProblem.nllh_parameters` and :meth:`PetabProblem.nllh_nominal` give it with or
without them (``priors=``). ``initializationPriorType`` priors shape the start points
(:meth:`PetabProblem.starts_from_unit`).

Supported: SBML models libRoadRunner loads (events and piecewise step inputs included),
condition tables overriding parameters (numbers or parameter ids, estimated ones included;
NaN: the SBML value), species and rate-rule targets (NaN: keep the pre-equilibrated/SBML
value) and compartment sizes, pre-equilibration (partial), observable and noise placeholders
(numbers or parameter ids, ``;``-separated, per measurement row), parameter scales
lin/log/log10, fixed and estimated parameters, noise normal/laplace on lin/log/log10
observables, negative measurement times and steady-state measurements (time = inf; see
:mod:`.simulate`), all eight PEtab v1 prior types.
Refused with :class:`~paracrine.errors.PetabError` naming the feature: see :func:`load_petab`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import InvalidInputError, PetabError, UnknownNameError
from paracrine.fitting.objective import (
    Capabilities,
    HierarchicalProblem,
    InnerLayout,
    InnerSolution,
    InnerSolver,
    MeasurementLayout,
)
from paracrine.fitting.objective.noise import (
    Distribution,
    Transform,
    TransformMasks,
    nllh_terms,
    transform,
)
from paracrine.fitting.petab.build import PetabSpec
from paracrine.fitting.petab.inner import (
    find_inner_groups,
    find_scale_groups,
    find_variable_sigma,
    observables_using,
    to_natural,
    to_scale,
)
from paracrine.fitting.petab.priors import PriorTerms, starts_from_unit
from paracrine.fitting.petab.simulate import PetabRunner
from paracrine.simulations import Tolerances

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import pandas as pd

__all__ = ["GRADIENTS", "PetabProblem", "load_petab"]

#: Routes of the Jacobian (:attr:`PetabProblem.gradient`).
GRADIENTS = ("auto", "sensitivities", "fd")


class PetabProblem(HierarchicalProblem):
    """A PEtab v1 problem on paracrine's shared objective layer.

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
        Estimated parameters solved in closed form (not in ``x``): scalings, offsets, noise
        levels, in that order.
    n_data, n_inner_parameters
        Number of measurements; number of inner parameters.
    rtol, atol
        CVODE tolerances of ordinary evaluations (atol in concentration units).
    precise_rtol, precise_atol
        Tolerances of ``precise=True`` evaluations.
    fd_step
        Forward-difference step (parameter-scale units) of :meth:`jacobian` for parameters that
        change the simulation; 1e-3 pairs with rtol 1e-6 (forward-difference error ~ sqrt(rtol)).
    sigma_offset
        The constant C of the noise residuals ``sqrt(2·log σ + C)``.
    gradient
        How :meth:`jacobian` differentiates the simulations: ``"auto"`` (chosen once by
        :meth:`configure_for_fitting`), ``"sensitivities"`` (CasADi + CVODES forward
        sensitivities, :mod:`paracrine.fitting.petab.gradients`) or ``"fd"`` (forward
        differences).
    gradient_choice
        The :class:`~paracrine.fitting.petab.gradients.GradientChoice` made (route, the
        measured times, why), or None before a choice.

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
        gradient: str = "auto",
    ) -> None:
        if gradient not in GRADIENTS:
            raise InvalidInputError(
                f"gradient: expected one of {', '.join(GRADIENTS)}, received {gradient!r}"
            )
        self.gradient = gradient
        self.gradient_choice = None
        self.spec = spec
        self.sbml = sbml
        self.name = name
        self.rtol, self.atol = rtol, atol
        self.precise_rtol, self.precise_atol = precise_rtol, precise_atol
        self.fd_step = fd_step
        self.sigma_offset = sigma_offset
        files = dict(files or {})
        self.model_file = files.get("model", name)
        n_table = len(spec.table_ids)

        # a parameter with an objective prior is never solved in closed form (the prior moves
        # its optimum away from the closed form's)
        prior_index = {p.table_index for p in spec.objective_priors}
        noise_groups = find_inner_groups(spec, prior_index)
        noise_index = {g.table_index for g in noise_groups}
        scale_groups = find_scale_groups(spec, noise_index | prior_index)
        scales = [g for g in scale_groups if g.kind == "scale"]
        offsets = [g for g in scale_groups if g.kind == "offset"]
        inner_index = noise_index | {g.table_index for g in scale_groups}
        self._free = np.array(
            [i for i in range(n_table) if spec.estimated[i] and i not in inner_index],
            dtype=np.intp,
        )
        self._scale_index = np.array([g.table_index for g in scales], dtype=np.intp)
        self._offset_index = np.array([g.table_index for g in offsets], dtype=np.intp)
        self._noise_index = np.array([g.table_index for g in noise_groups], dtype=np.intp)
        free_scales = spec.scales[self._free]
        self._free_scales = free_scales
        self._free_masks = TransformMasks(free_scales)
        self.parameter_names = tuple(spec.table_ids[i] for i in self._free)
        self.inner_parameter_names = tuple(
            spec.table_ids[i] for i in (*self._scale_index, *self._offset_index, *self._noise_index)
        )
        self._priors = PriorTerms(spec.objective_priors, self._free, spec.nominal, spec.scales)
        self.lower, self.upper = self._priors.bounds(
            to_scale(spec.lower[self._free], free_scales),
            to_scale(spec.upper[self._free], free_scales),
        )
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

        # per-measurement transformation and distribution, and which inner parameter it uses
        n = self.n_data
        codes = np.zeros(n, dtype=np.intp)
        laplace = np.zeros(n, dtype=bool)
        for obs in spec.observables:
            codes[obs.rows] = obs.transform
            laplace[obs.rows] = obs.distribution == Distribution.LAPLACE
        logged = codes > 0
        if np.any(spec.y[logged] <= 0):  # pragma: no cover - the petab linter reports this first
            row = int(np.flatnonzero(logged & (spec.y <= 0))[0])
            raise PetabError(
                f"{files.get('measurements', 'measurement table')}: row {row + 2}, column "
                f"measurement: {spec.y[row]} is not positive but observable "
                f"{spec.measurement_ids[row][0]!r} is log-transformed"
            )

        def groups_of(groups: list) -> np.ndarray:
            out = np.full(n, -1, dtype=np.intp)
            for k, group in enumerate(groups):
                out[group.rows] = k
            return out

        def bounds_of(index: np.ndarray) -> np.ndarray:
            return np.column_stack([spec.lower[index], spec.upper[index]]).reshape(-1, 2)

        inner_layout = InnerLayout.build(
            codes,
            laplace=laplace,
            scale=groups_of(scales),
            offset=groups_of(offsets),
            sigma=groups_of(noise_groups),
            scale_names=[spec.table_ids[i] for i in self._scale_index],
            offset_names=[spec.table_ids[i] for i in self._offset_index],
            sigma_names=[spec.table_ids[i] for i in self._noise_index],
            scale_bounds=bounds_of(self._scale_index),
            offset_bounds=bounds_of(self._offset_index),
            sigma_bounds=bounds_of(self._noise_index),
        )
        self.n_inner_parameters = inner_layout.n_parameters
        self._variable_sigma = find_variable_sigma(spec, self._free, self.n_data)
        self._dynamic = np.array(
            [any(int(t) in run.depends for run in spec.runs) for t in self._free], dtype=bool
        )
        self._theta_base = np.concatenate([spec.nominal, spec.constants])
        # observable formulas are linear in scalings and offsets: evaluate them at 1 and 0
        self._theta_base[self._scale_index] = 1.0
        self._theta_base[self._offset_index] = 0.0
        self._nominal_theta = np.concatenate([spec.nominal, spec.constants])
        self._using = {int(t): observables_using(spec, int(t)) for t in self._free}
        self._runner: PetabRunner | None = None
        self._tolerance_cache: dict[tuple[float, float], Tolerances] = {}
        self._theta_memo: tuple[bytes, np.ndarray] | None = None
        self._compiled: list[tuple[Any, Any, list]] | None = None
        self.capabilities = Capabilities(
            alternating_inner=True,
            jacobian=True,
            refine_start=bool(self.observation_parameters.size),
        )
        dependence = [
            [k for k, run in enumerate(spec.runs) if int(t) in run.depends] for t in self._free
        ]
        layout = MeasurementLayout.build(
            [run.times for run in spec.runs],
            max(len(spec.columns), 1),
            spec.meas_row,
            None,
            dependence,
        )
        self._init_objective(
            layout,
            InnerSolver(inner_layout, spec.y),
            fd_steps=np.full(len(self._free), fd_step),
        )

    # -- state -----------------------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        self._observed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.update(_runner=None, _compiled=None, _observed=None)
        return state

    @property
    def inner_values(self) -> np.ndarray:
        """Noise levels held for the current least-squares round (nominal until updated)."""
        if self._held_sigmas is not None:
            return self._held_sigmas
        return self.spec.nominal[self._noise_index].copy()

    # -- simulation ----------------------------------------------------------------------------
    def _simulator(self) -> PetabRunner:
        if self._runner is None:
            self._runner = PetabRunner(self.sbml, self.spec, self._tolerances(False))
        return self._runner

    def _tolerances(self, precise: bool) -> Tolerances:
        # built once per setting: this sits in the hot loop of every simulation
        key = (self.precise_rtol, self.precise_atol) if precise else (self.rtol, self.atol)
        cached = self._tolerance_cache.get(key)
        if cached is None:
            cached = self._tolerance_cache[key] = Tolerances(*key)
        return cached

    def _theta(self, x: np.ndarray | None) -> np.ndarray:
        """All parameter values (natural scale) at *x*; remembered for the last *x*, which the
        simulation and the observation model of one evaluation both need (never modified)."""
        key = None if x is None else np.asarray(x, dtype=float).tobytes()
        if key is not None and self._theta_memo is not None and self._theta_memo[0] == key:
            return self._theta_memo[1]
        theta = self._theta_base.copy()
        if x is not None:
            natural = np.array(x, dtype=float)
            log, log10 = self._free_masks.log, self._free_masks.log10
            natural[log] = np.exp(natural[log])
            natural[log10] = 10.0 ** natural[log10]
            theta[self._free] = natural
            self._theta_memo = (key, theta)
        return theta

    def _simulate_theta(
        self, theta: np.ndarray, precise: bool, runs: np.ndarray | None = None
    ) -> list[np.ndarray]:
        runner = self._simulator()
        if precise:
            runner.set_tolerances(self._tolerances(True))
            rtol_ss, atol_ss = 1e-10, 1e-13
        else:
            runner.set_tolerances(self._tolerances(False))
            rtol_ss, atol_ss = 1e-8, 1e-11
        indices = range(len(self.spec.runs)) if runs is None else runs
        return [runner.run(int(i), theta, rtol_ss=rtol_ss, atol_ss=atol_ss) for i in indices]

    def _simulate(self, x: np.ndarray, runs: np.ndarray | None, precise: bool) -> list[np.ndarray]:
        return self._simulate_theta(self._theta(x), precise, runs)

    def _fd_steps(self, x: np.ndarray) -> np.ndarray:
        # a lin-scale parameter steps relative to its size
        return self.fd_step * np.where(
            self._free_scales == Transform.LIN, np.maximum(1.0, np.abs(x)), 1.0
        )

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

    def _observe_theta(
        self,
        stacked: np.ndarray,
        theta: np.ndarray,
        only: list[int] | None = None,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Observables h and noise values σ of every measurement (only the observables *only*,
        updating *out* in place, when given)."""
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

    def _observe(
        self, stacked: np.ndarray, x: np.ndarray, changed: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        theta = self._theta(x)
        base = self._observed
        if (
            changed is not None
            and not self._dynamic[changed]
            and base is not None
            and base[0] is stacked
        ):
            # only an observation parameter moved: re-evaluate the formulas it enters
            only = self._using[int(self._free[changed])]
            return self._observe_theta(stacked, theta, only, (base[1].copy(), base[2].copy()))
        h, sigma = self._observe_theta(stacked, theta)
        if changed is None:  # the base of later partial updates (never modified in place)
            self._observed = (stacked, h, sigma)
        return h, sigma

    def _extra_residuals(
        self, x: np.ndarray, solution: InnerSolution, h: np.ndarray
    ) -> np.ndarray | None:
        """Noise residuals of the measurements with a variable σ, then the priors' residuals
        (see :mod:`paracrine.fitting.petab.priors`)."""
        var = self._variable_sigma
        parts = []
        if var.any():
            with np.errstate(all="ignore"):
                parts.append(
                    np.sqrt(
                        np.maximum(
                            2.0 * np.log(np.abs(solution.sigma_rows[var])) + self.sigma_offset,
                            0.0,
                        )
                    )
                )
        if self._priors.n_residuals:
            parts.append(self._priors.residuals(x))
        return np.concatenate(parts) if parts else None

    def _extra_nllh(self, x: np.ndarray, solution: InnerSolution, h: np.ndarray) -> float:
        return self._priors.neg_log_prior(x) if self._priors else 0.0

    def neg_log_prior(self, x: np.ndarray) -> float:
        """Negative log-prior at the free parameters *x* (0 without objective priors).

        The sum of −log p over the ``objectivePriorType`` priors of the parameter table,
        normalising constants included (densities: :mod:`paracrine.fitting.petab.priors`);
        priors of fixed parameters add their constant at the nominal value. :meth:`nllh` is
        the negative log-likelihood plus this (the negative log-posterior).
        """
        return self._priors.neg_log_prior(np.asarray(x, dtype=float))

    @property
    def prior_parameter_names(self) -> tuple[str, ...]:
        """Parameters (PEtab ids) with an objective prior, in table order."""
        return self._priors.parameter_ids

    def starts_from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Start points from unit-cube points: PEtab's initialization priors.

        A free parameter with an ``initializationPriorType`` takes that prior's quantiles at
        *unit* (clipped to its bounds, as PEtab v1 says); the others (parameterScaleUniform,
        the default) are uniform within the bounds, exactly as the engine's Latin hypercube
        without priors. Deterministic in *unit*, so the same seed gives the same starts.
        Initialization priors of parameters that are not free (fixed, or solved in closed
        form) have no start to shape.
        """
        return starts_from_unit(
            unit, self.lower, self.upper, self.spec.initialization_priors, self._free
        )

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
        stacked = self.stacked(x)
        r0 = self._residuals_from(stacked, x)
        if not np.all(np.isfinite(r0)):
            return x

        def fun(values: np.ndarray) -> np.ndarray:
            trial = x.copy()
            trial[static] = values
            r = self._residuals_from(stacked, trial)
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
        self.choose_gradient()
        return self.recommended_options()

    @property
    def metadata(self) -> dict[str, Any]:
        """Facts copied into ``FitResult.metadata``: the Jacobian's route and why."""
        choice = self.gradient_choice
        if choice is None:
            return {"gradient": "finite differences" if self.gradient == "fd" else self.gradient}
        return {"gradient": choice.route, "gradient_reason": choice.reason}

    def choose_gradient(self):  # -> GradientChoice | None
        """Set the Jacobian's route as :attr:`gradient` asks, once (later calls keep it), and
        return the choice (None for ``"fd"``).

        ``"auto"``: :func:`~paracrine.fitting.petab.gradients.choose_gradient` — forward
        sensitivities where the model translates and they agree with finite differences and
        cost at most 10× as much (they are 25–280× more accurate), finite differences
        otherwise. Made here, in the process that hands out the starts, so that every worker
        uses the same route (the provider is pickled with the problem).
        ``"sensitivities"``: the provider, or :class:`PetabError` if the model cannot have one.

        Raises
        ------
        PetabError
            For ``gradient="sensitivities"`` on a model the sensitivities cannot handle.
        """
        from paracrine.fitting.petab import gradients

        if self.gradient == "fd" or self.gradient_choice is not None:
            return self.gradient_choice
        if self.gradient == "auto":
            self.gradient_choice = gradients.choose_gradient(self)
        else:
            try:
                provider = gradients.CasadiSensitivities(self)
            except (gradients.UnsupportedModel, ImportError) as exc:
                raise PetabError(
                    f"{self.model_file}: gradient='sensitivities' is not "
                    f"available for this model: {exc}"
                ) from exc
            self.gradient_choice = gradients.GradientChoice(
                "sensitivities", provider, "asked for (gradient='sensitivities')"
            )
        self.sensitivities = self.gradient_choice.sensitivities
        return self.gradient_choice

    def recommended_options(self) -> dict[str, Any]:
        """Fit options (for :func:`~paracrine.fitting.engine.fit_multistart`) for this problem.

        With analytic noise levels: the engine's defaults (alternating rounds, loose
        tolerances). Without (Raia_CancerResearch2011), the rounds only restart
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
        self.reset()

    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        """Natural-scale values of the free parameters at *x* (PEtab ids)."""
        values = to_natural(np.asarray(x, dtype=float), self._free_scales)
        return {n: float(v) for n, v in zip(self.parameter_names, values, strict=True)}

    def fitted_values(self, x: np.ndarray, *, precise: bool = True) -> dict[str, float]:
        """Natural-scale values of every estimated parameter at *x*: the free ones and the
        inner ones (scalings, offsets, noise levels) at their closed-form optimum there — what
        :meth:`nllh_parameters` and :meth:`simulation_table` take to reproduce the fit."""
        x = np.asarray(x, dtype=float)
        solution = self.inner_solution(x, precise=precise)
        inner = solution.as_dict(self.inner.layout)
        return {**self.to_natural(x), **inner["scale"], **inner["offset"], **inner["sigma"]}

    def fit_table(self, x: np.ndarray) -> pd.DataFrame:
        """The PEtab simulation table at the fit *x* beside the data: the measurement table's
        keys, ``measurement`` and ``simulation`` (inner parameters at their optimum)."""
        table = self.simulation_table(self.fitted_values(x))
        table.insert(4, "measurement", self.spec.y)
        return table

    def fingerprint(self) -> str:
        """Hash of the problem's data, model and settings (identifies it in checkpoints)."""
        h = hashlib.sha256(self.sbml.encode())
        spec = self.spec
        for arr in (spec.y, spec.lower, spec.upper, spec.nominal, spec.constants):
            h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        h.update(repr((spec.table_ids, spec.measurement_ids, self.rtol, self.atol)).encode())
        h.update(repr((spec.objective_priors, spec.initialization_priors)).encode())
        return h.hexdigest()[:16]

    # -- PEtab-level helpers -------------------------------------------------------------------
    def _full_theta(self, values: Mapping[str, float] | None) -> np.ndarray:
        theta = self._nominal_theta.copy()
        index = {pid: i for i, pid in enumerate(self.spec.table_ids)}
        for key, value in (values or {}).items():
            if key not in index:
                raise UnknownNameError("PEtab parameter", key, index)
            theta[index[key]] = float(value)
        return theta

    def nllh_parameters(
        self,
        values: Mapping[str, float] | None = None,
        *,
        precise: bool = True,
        priors: bool = True,
    ) -> float:
        """nllh with every parameter given (natural scale); nothing is optimised.

        Parameters
        ----------
        values
            Natural-scale values by PEtab parameter id; missing ones take their nominal value.
        precise
            Use the tight tolerances.
        priors
            Add the negative log-prior of the objective priors (normalising constants
            included): the negative log-posterior, which :meth:`nllh` and fits use. ``False``
            gives the negative log-likelihood alone (the benchmark collection's reference
            values). Without objective priors both are the same.

        Raises
        ------
        UnknownNameError
            For an id that is not in the parameter table.
        SimulationError
            If a simulation fails.
        """
        theta = self._full_theta(values)
        stacked = self.layout.stack(self._simulate_theta(theta, precise))
        h, sigma = self._observe_theta(stacked, theta)
        d = transform(h, self.inner.masks) - self.inner.ty
        value = nllh_terms(d, sigma, self._laplace) + self._jacobian_term
        if priors:
            for prior in self.spec.objective_priors:
                i = prior.table_index
                value += prior.neg_log_density(
                    float(to_scale(theta[i : i + 1], self.spec.scales[i : i + 1])[0])
                )
        return value if np.isfinite(value) else np.inf

    def nllh_nominal(self, *, precise: bool = True, priors: bool = True) -> float:
        """nllh at the nominal values of the parameter table (the published reference point);
        *priors* as in :meth:`nllh_parameters` (``priors=False``: the likelihood alone)."""
        return self.nllh_parameters(None, precise=precise, priors=priors)

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
        stacked = self.layout.stack(self._simulate_theta(theta, precise))
        h, _ = self._observe_theta(stacked, theta)
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
            f"{self.n_inner_parameters} analytic inner parameters, {self.n_data} data, "
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
    gradient: str = "auto",
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
    gradient
        ``"auto"`` (default: :meth:`PetabProblem.configure_for_fitting` measures and picks
        sensitivities or finite differences), ``"sensitivities"`` or ``"fd"``; see
        :attr:`PetabProblem.gradient`. Loading never pays for the choice.

    Returns
    -------
    PetabProblem
        Ready for :func:`paracrine.fitting.engine.fit_multistart`.

    Raises
    ------
    PetabError
        If the problem is malformed or uses an unsupported feature (the message names it and
        the file): PEtab v2, several models or problems, split tables, mapping tables,
        extensions, malformed priors, parameter scales other than lin/log/log10, noise
        distributions other than normal/laplace, transformations other than lin/log/log10,
        per-measurement noise models differing from the observable table, condition-table
        columns for assignment-rule targets or rate-rule compartments, compartment sizes that
        differ between pre-equilibration and simulation, SBML algebraic rules, fast
        reactions, delays.

    Examples
    --------
    >>> problem = load_petab("Boehm_JProteomeRes2014.yaml")  # doctest: +SKIP
    >>> round(problem.nllh_nominal(), 3)  # doctest: +SKIP
    138.222
    """
    from paracrine.fitting.petab.build import build_spec
    from paracrine.fitting.petab.read import read_problem

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
        gradient=gradient,
    )
    try:
        problem._simulator()
    except (
        RuntimeError,
        ValueError,
    ) as exc:  # pragma: no cover - libRoadRunner refuses an SBML petab accepts
        raise PetabError(
            f"{read.files['model']}: libRoadRunner cannot load the model: {exc}"
        ) from exc
    return problem
