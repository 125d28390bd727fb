"""Simulate the runs of a PEtab problem on one reused, compiled RoadRunner instance.

A run is a (pre-equilibration condition, simulation condition) pair. Following PEtab v1 as
AMICI implements it:

* without pre-equilibration: set the model parameters of the simulation condition, reset the
  model (states and initial assignments evaluated with those parameters), then set the species
  given in the condition table, and integrate to the output times;
* with pre-equilibration: the same with the pre-equilibration condition, then integrate until
  the states stop changing (max |dx/dt| ≤ atol_ss + rtol_ss·|x|); keep those states, set the
  time back to 0, apply the simulation condition's parameters, re-initialise only the species
  the simulation condition gives a (non-NaN) value, and integrate to the output times.

Step inputs written as ``piecewise(…, time - t_switch < 0, …)`` (Brannmark_JBC2010) are
handled by libRoadRunner itself: since 2.x it root-finds piecewise triggers, so CVODE restarts
at the switch instead of stepping over it.

Not thread-safe and not fork-safe once compiled: one :class:`Simulator` per process (the
problem drops it when pickled).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from paracrine.errors import SimulationError

__all__ = ["Simulator"]

_MAX_PREEQ_TIME = 1e9  # model time units; beyond this a run has no steady state for us


class Simulator:
    """Compiled model plus the index arrays needed to set parameters by vector.

    Parameters
    ----------
    sbml
        SBML text of the model.
    spec
        The problem's :class:`~paracrine.fitting._petab_build.PetabSpec`.
    """

    def __init__(self, sbml: str, spec: Any) -> None:
        import roadrunner  # imported lazily: loading libRoadRunner costs ~0.3 s

        self.spec = spec
        rr = roadrunner.RoadRunner(sbml)
        model = rr.model
        gp_ids = list(model.getGlobalParameterIds())
        self.param_index = np.array([gp_ids.index(p) for p in spec.model_param_ids], dtype=np.int32)
        self.species_ids = list(model.getFloatingSpeciesIds())
        self.columns = list(spec.columns) or ["time"]
        rr.timeCourseSelections = self.columns
        integrator = rr.integrator
        integrator.maximum_num_steps = 100_000
        self.rr = rr
        self._tolerances: tuple[float, float] | None = None
        volumes = dict(zip(model.getCompartmentIds(), model.getCompartmentVolumes(), strict=True))
        # CVODE integrates amounts: an absolute tolerance of atol in concentration units is
        # atol × volume per species (roadrunner would otherwise scale a scalar atol by each
        # species' initial value, which makes the tolerance depend on the start point).
        comp = [
            model.getCompartmentIds()[model.getCompartmentIndexForFloatingSpecies(i)]
            for i in range(len(self.species_ids))
        ]
        self._volume = np.array([volumes[c] for c in comp], dtype=float)
        self._n_rate_rules = int(model.getNumRateRules())

    def set_tolerances(self, rtol: float, atol: float) -> None:
        """Set CVODE tolerances (atol in concentration units) if they changed."""
        if self._tolerances == (rtol, atol):
            return
        integrator = self.rr.integrator
        integrator.relative_tolerance = rtol
        vector = [*(atol * self._volume), *([atol] * self._n_rate_rules)]
        try:
            integrator.setValue("absolute_tolerance", vector)
        except (RuntimeError, ValueError):  # pragma: no cover - state vector layout differs
            integrator.absolute_tolerance = atol
        self._tolerances = (rtol, atol)

    def _apply(self, condition: str, theta_ext: np.ndarray) -> None:
        values = theta_ext[self.spec.condition_params[condition]]
        if self.param_index.size:
            self.rr.model.setGlobalParameterValues(self.param_index, values)

    def _apply_species(self, condition: str, theta_ext: np.ndarray) -> None:
        for selection, src in self.spec.condition_species[condition]:
            self.rr.setValue(selection, float(theta_ext[src]))

    def _steady_state(self, where: str, rtol_ss: float, atol_ss: float) -> None:
        rr = self.rr
        model = rr.model
        t, dt = 0.0, 1.0
        while t < _MAX_PREEQ_TIME:
            rr.simulate(times=[t, t + dt])
            t += dt
            x = model.getFloatingSpeciesConcentrations()
            dx = model.getFloatingSpeciesConcentrationRates()
            if np.all(np.abs(dx) <= atol_ss + rtol_ss * np.abs(x)):
                return
            dt *= 2.0
        raise SimulationError(
            f"{where}: no steady state reached by time {_MAX_PREEQ_TIME:g} in pre-equilibration"
        )

    def run(
        self, index: int, theta_ext: np.ndarray, *, rtol_ss: float, atol_ss: float
    ) -> np.ndarray:
        """Simulate run *index*; returns shape ``(len(run.times), len(columns))``.

        Raises
        ------
        SimulationError
            If CVODE fails or pre-equilibration finds no steady state.
        """
        run = self.spec.runs[index]
        rr = self.rr
        where = f"condition {run.sim!r}" + (
            f" (pre-equilibrated in {run.preeq!r})" if run.preeq else ""
        )
        try:
            if run.preeq is not None:
                self._apply(run.preeq, theta_ext)
                rr.reset()
                self._apply_species(run.preeq, theta_ext)
                self._steady_state(where, rtol_ss, atol_ss)
                rr.model.setTime(0.0)
                self._apply(run.sim, theta_ext)
            else:
                self._apply(run.sim, theta_ext)
                rr.reset()
            self._apply_species(run.sim, theta_ext)
            times = run.times
            if times[-1] == 0.0:
                return np.array([[rr.getValue(c) for c in self.columns]])
            if times[0] == 0.0:
                return np.asarray(rr.simulate(times=times))
            return np.asarray(rr.simulate(times=np.concatenate(([0.0], times))))[1:]
        except RuntimeError as exc:
            raise SimulationError(f"{where}: CVODE failed: {exc}") from exc
