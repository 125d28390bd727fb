"""Simulate the runs of a PEtab problem on the one libRoadRunner wrapper
(:class:`paracrine.simulations.Simulator`).

A run is a (pre-equilibration condition, simulation condition) pair. Following PEtab v1 as
AMICI implements it:

* without pre-equilibration: set the model parameters and the initial compartment sizes of the
  simulation condition, reset the model (states and initial assignments evaluated with those
  values: initial concentrations stay, amounts follow the size), then set the species and
  rate-rule targets given in the condition table, and integrate to the output times;
* with pre-equilibration: the same with the pre-equilibration condition, then integrate until
  the states stop changing (max |dx/dt| ≤ atol_ss + rtol_ss·|x|); keep those states, set the
  time back to 0, apply the simulation condition's parameters, re-initialise only the species
  the simulation condition gives a (non-NaN) value, and integrate to the output times;
* measurement times ≤ 0: PEtab v1 has no start time other than 0 (PEtab issue #420), and
  AMICI, whose simulation starts at t0 = 0, reports every output time ≤ t0 at the initial
  state (``ForwardProblem::workForwardProblem`` integrates only to times > t0). So do we:
  rows at t < 0 (Sobotta_Frontiers2017's pre-stimulation measurements) get the state at 0
  (after pre-equilibration, if any), with ``time`` itself at the measurement time as AMICI
  passes it to the observables;
* steady-state measurements (time = inf): after the last finite output time, integrate on
  until the states stop changing (the pre-equilibration criterion), as AMICI's steady-state
  problem does for ``t = inf``; ``time`` is inf in their observables.

Step inputs written as ``piecewise(…, time - t_switch < 0, …)`` (Brannmark_JBC2010) are
handled by libRoadRunner itself: since 2.x it root-finds piecewise triggers, so CVODE restarts
at the switch instead of stepping over it.

Not thread-safe and not fork-safe once compiled: one :class:`PetabRunner` per process (the
problem drops it when pickled).
"""

from __future__ import annotations

from collections.abc import Callable

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

    def _apply_compartments(self, condition: str, theta_ext: np.ndarray) -> None:
        sizes = self.spec.condition_compartments.get(condition, ())
        if not sizes:
            return
        rr = self.sim.rr
        for selection, src in sizes:
            rr.setValue(selection, float(theta_ext[src]))
        # libRoadRunner 2.10 resets timeCourseSelections to its default (time first) when an
        # init(...) value is set: put ours back
        self.sim.set_selections(self.sim.selections)

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
                self._apply_compartments(run.preeq, theta_ext)
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
                self._apply_compartments(run.sim, theta_ext)
                sim.reset()
            self._apply_species(run.sim, theta_ext)

        try:
            prepare()
            times = run.times
            finite = times[np.isfinite(times)]
            out = self._outputs(finite, prepare)
            if finite.size < times.size:  # time = inf: the steady state after the last time
                steady = self._continue_to_steady_state(where, rtol=rtol_ss, atol=atol_ss)
                out = np.vstack([out, steady])
            return out
        except RuntimeError as exc:
            raise SimulationError(f"{where}: CVODE failed: {exc}") from exc

    def _outputs(self, times: np.ndarray, prepare: Callable[[], None]) -> np.ndarray:
        """The selections at the finite output *times* (sorted) from the prepared state at 0;
        times ≤ 0 get the state at 0 (see the module docstring)."""
        sim = self.sim
        if times.size == 0:
            return np.empty((0, len(sim.selections)))
        early = int(np.searchsorted(times, 0.0, side="right"))  # times ≤ 0: the state at 0
        if early == times.size:
            rr = sim.rr
            out = np.tile([rr.getValue(c) for c in sim.selections], (times.size, 1))
        elif early == 0:
            return sim.integrate(np.concatenate(([0.0], times)), restore=prepare)[1:]
        else:
            later = sim.integrate(np.concatenate(([0.0], times[early:])), restore=prepare)
            out = np.vstack([np.tile(later[0], (early, 1)), later[1:]])
        if "time" in sim.selections:
            out[:early, sim.selections.index("time")] = times[:early]
        return out

    def _continue_to_steady_state(self, where: str, *, rtol: float, atol: float) -> np.ndarray:
        """Integrate on from the current time until every ``|dc/dt| ≤ atol + rtol·|c|``
        (intervals 1, 2, 4, … time units), and return the selections there (``time`` = inf,
        as AMICI evaluates steady-state observables). Unlike pre-equilibration this keeps the
        model clock running, so that time-dependent inputs do not restart.

        Raises
        ------
        SimulationError
            If no steady state is reached within :data:`MAX_PREEQ_TIME` time units.
        RuntimeError
            If CVODE fails (the caller names the run).
        """
        sim = self.sim
        rr = sim.rr
        model = rr.model
        start = t = float(model.getTime())
        step = 1.0
        while True:
            rr.simulate(times=[t, t + step])
            t += step
            conc = model.getFloatingSpeciesConcentrations()
            rates = model.getFloatingSpeciesConcentrationRates()
            allowed = atol + rtol * np.abs(conc)
            if (np.abs(rates) <= allowed).all():
                break
            if t - start >= MAX_PREEQ_TIME:
                worst = int(np.argmax(np.abs(rates) / allowed))
                raise SimulationError(
                    f"{where}: no steady state for the time = inf measurements within "
                    f"{MAX_PREEQ_TIME:g} time units after t = {start:g}: "
                    f"d[{sim.species_ids[worst]}]/dt = {rates[worst]:.3g} at {conc[worst]:.3g}"
                )
            step *= 2.0
        row = np.array([rr.getValue(c) for c in sim.selections], dtype=float)
        if "time" in sim.selections:
            row[sim.selections.index("time")] = np.inf
        return row[np.newaxis, :]
