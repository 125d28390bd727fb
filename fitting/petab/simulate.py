"""Simulate the runs of a PEtab problem on the one libRoadRunner wrapper
(:class:`paracrine.simulations.Simulator`).

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

Not thread-safe and not fork-safe once compiled: one :class:`PetabRunner` per process (the
problem drops it when pickled).
"""

from __future__ import annotations

import numpy as np

from paracrine.errors import SimulationError
from paracrine.fitting.petab.build import PetabSpec
from paracrine.simulations import Simulator, Tolerances

__all__ = ["PetabRunner"]

#: Beyond this model time a pre-equilibration has no steady state for us.
MAX_PREEQ_TIME = 1e9


class PetabRunner:
    """The runs of one :class:`~paracrine.fitting.petab.build.PetabSpec` on one Simulator.

    Parameters
    ----------
    sbml
        SBML text of the model.
    spec
        The problem's flat specification.
    tolerances
        Initial CVODE tolerances (concentration units; one absolute tolerance per state,
        scaled by its compartment's volume).
    """

    def __init__(self, sbml: str, spec: PetabSpec, tolerances: Tolerances) -> None:
        self.spec = spec
        self.sim = Simulator(
            sbml,
            spec.model_param_ids,
            list(spec.columns) or ["time"],
            tolerances=tolerances,
            per_volume_atol=True,
            max_steps=100_000,
        )
        _ = self.sim.rr  # compile now: libRoadRunner refusing the model is an import error

    def set_tolerances(self, tolerances: Tolerances) -> None:
        if self.sim.tolerances is not tolerances and self.sim.tolerances != tolerances:
            self.sim.set_tolerances(tolerances)

    def _apply(self, condition: str, theta_ext: np.ndarray) -> None:
        self.sim.set_parameters(theta_ext[self.spec.condition_params[condition]])

    def _apply_species(self, condition: str, theta_ext: np.ndarray) -> None:
        rr = self.sim.rr
        for selection, src in self.spec.condition_species[condition]:
            rr.setValue(selection, float(theta_ext[src]))

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
        sim = self.sim
        where = f"condition {run.sim!r}" + (
            f" (pre-equilibrated in {run.preeq!r})" if run.preeq else ""
        )

        def prepare() -> None:
            if run.preeq is not None:
                self._apply(run.preeq, theta_ext)
                sim.reset()
                self._apply_species(run.preeq, theta_ext)
                sim.steady_state(
                    f" of {where}",
                    first_time=1.0,
                    growth=2.0,
                    max_time=MAX_PREEQ_TIME,
                    rtol=rtol_ss,
                    atol=atol_ss,
                )
                sim.rr.model.setTime(0.0)
                self._apply(run.sim, theta_ext)
            else:
                self._apply(run.sim, theta_ext)
                sim.reset()
            self._apply_species(run.sim, theta_ext)

        try:
            prepare()
            times = run.times
            if times[-1] == 0.0:
                rr = sim.rr
                return np.array([[rr.getValue(c) for c in sim.selections]])
            if times[0] == 0.0:
                return sim.integrate(times, restore=prepare)
            return sim.integrate(np.concatenate(([0.0], times)), restore=prepare)[1:]
        except RuntimeError as exc:
            raise SimulationError(f"{where}: CVODE failed: {exc}") from exc
