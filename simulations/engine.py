"""ONE libRoadRunner wrapper: compile SBML once, set tolerances, set parameters by vector,
find steady states and integrate with a retry — for paracrine's own models
(:class:`~paracrine.simulations.model_simulator.ModelSimulator`) and for any SBML or PEtab model
(:mod:`paracrine.fitting.petab`) alike.

Thread and fork safety: a :class:`Simulator` owns a RoadRunner instance, which is neither
thread-safe nor safe to use in a child forked after it was used. Use one per thread, and the
"spawn" start method for process pools; a ``Simulator`` pickles by content (the receiving
process recompiles it lazily, ~10 ms for paracrine's model once its SBML is cached).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from paracrine.errors import InvalidInputError, SimulationError

__all__ = [
    "DEFAULT_TOLERANCES",
    "FINAL_TOLERANCES",
    "REFERENCE_TOLERANCES",
    "Simulator",
    "Tolerances",
    "check_times",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tolerances:
    """CVODE tolerances: relative, and absolute in concentration units (nM for paracrine)."""

    rtol: float
    atol: float

    def __post_init__(self) -> None:
        if not (0 < self.rtol < 1 and self.atol > 0):
            raise InvalidInputError(
                f"tolerances: expected 0 < rtol < 1 and atol > 0, received rtol={self.rtol}, "
                f"atol={self.atol}"
            )


#: Simulation and fitting. Against rtol 1e-10 the observables (fractions in [0, 1]) differ by
#: < 1e-5, far below blot noise (CV ~20%); rtol 1e-6 pairs with a finite-difference step of
#: 1e-3 in log10 parameter units (DESIGN.md).
DEFAULT_TOLERANCES = Tolerances(1e-6, 1e-8)
#: Re-evaluation of each start's optimum at the end of a local optimisation.
FINAL_TOLERANCES = Tolerances(1e-8, 1e-10)
#: Numerical tests against closed forms and reference likelihoods (PEtab nllh).
REFERENCE_TOLERANCES = Tolerances(1e-10, 1e-12)


def check_times(times: Sequence[float] | np.ndarray) -> np.ndarray:
    """Validate output times (minutes): 1-D, finite, >= 0, strictly increasing."""
    try:
        arr = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"times: expected numbers in minutes, received {times!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(
            f"times: expected a non-empty 1-D sequence, received shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or arr[0] < 0:
        raise InvalidInputError(f"times: expected finite values >= 0 min, received {arr.tolist()}")
    if np.any(np.diff(arr) <= 0):
        bad = int(np.argmax(np.diff(arr) <= 0))
        raise InvalidInputError(
            f"times: expected strictly increasing values, received {arr[bad]} then {arr[bad + 1]} "
            f"at positions {bad} and {bad + 1}"
        )
    return arr


class Simulator:
    """A compiled SBML model on one reused libRoadRunner instance.

    Parameters
    ----------
    sbml
        SBML text.
    parameters
        Global parameter ids set together by :meth:`set_parameters` (in this order).
    selections
        RoadRunner selections returned by :meth:`integrate` (``"[S]"`` concentration, ``"S"``
        amount or parameter, ``"time"``).
    tolerances
        CVODE tolerances.
    per_volume_atol
        Give CVODE one absolute tolerance per state, ``atol × compartment volume`` for species
        (CVODE integrates amounts) and ``atol`` for rate-rule targets, instead of a scalar
        (which libRoadRunner scales by each species' initial value, so that the tolerance
        would depend on the start point). PEtab problems use it; paracrine's model keeps the
        scalar its tests and fits were measured with.
    max_steps
        CVODE's maximum number of internal steps per output interval (``None``: its default).
    """

    def __init__(
        self,
        sbml: str,
        parameters: Sequence[str],
        selections: Sequence[str],
        *,
        tolerances: Tolerances = DEFAULT_TOLERANCES,
        per_volume_atol: bool = False,
        max_steps: int | None = None,
    ) -> None:
        self.sbml = sbml
        self.parameters = tuple(parameters)
        self.selections = tuple(selections)
        self.per_volume_atol = per_volume_atol
        self.max_steps = max_steps
        self._tolerances = tolerances
        self._rr = None
        self.n_retries = 0

    # -- pickling: by content, recompiled lazily in the receiving process ------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_rr"] = None
        return state

    # -- compilation ------------------------------------------------------------------------
    @property
    def rr(self):  # -> roadrunner.RoadRunner
        """The compiled RoadRunner instance (compiled on first use)."""
        if self._rr is None:
            self._compile()
        return self._rr

    def _compile(self) -> None:
        import roadrunner  # imported lazily: loading libRoadRunner costs ~0.3 s

        # integrator failures are raised, caught and counted by the callers (SimulationError,
        # the fit's failed starts): libRoadRunner's own log lines for them only clutter stderr
        roadrunner.Logger.setLevel(roadrunner.Logger.LOG_CRITICAL)
        rr = roadrunner.RoadRunner(self.sbml)
        model = rr.model
        global_ids = list(model.getGlobalParameterIds())
        missing = [p for p in self.parameters if p not in global_ids]
        if missing:
            raise InvalidInputError(f"parameters {missing} are not global parameters of the SBML")
        self._param_index = np.array([global_ids.index(p) for p in self.parameters], np.int32)
        self._species_ids = tuple(model.getFloatingSpeciesIds())
        self._global_parameter_ids = tuple(global_ids)
        rr.timeCourseSelections = list(self.selections) or ["time"]
        rr.integrator.stiff = True
        if self.max_steps is not None:
            rr.integrator.maximum_num_steps = self.max_steps
        volumes = dict(zip(model.getCompartmentIds(), model.getCompartmentVolumes(), strict=True))
        compartments = model.getCompartmentIds()
        self._volume = np.array(
            [
                volumes[compartments[model.getCompartmentIndexForFloatingSpecies(i)]]
                for i in range(len(self._species_ids))
            ]
        )
        self._n_rate_rules = int(model.getNumRateRules())
        self._rr = rr
        self._applied: Tolerances | None = None
        self._apply_tolerances(self._tolerances)

    @property
    def species_ids(self) -> tuple[str, ...]:
        """Floating species of the compiled model, in state order."""
        _ = self.rr
        return self._species_ids

    @property
    def global_parameter_ids(self) -> tuple[str, ...]:
        _ = self.rr
        return self._global_parameter_ids

    # -- settings -----------------------------------------------------------------------------
    @property
    def tolerances(self) -> Tolerances:
        return self._tolerances

    def set_tolerances(self, tolerances: Tolerances) -> None:
        """Use other CVODE tolerances from the next integration on."""
        self._tolerances = tolerances
        if self._rr is not None:
            self._apply_tolerances(tolerances)

    def _apply_tolerances(self, tolerances: Tolerances, atol_factor: float = 1.0) -> None:
        integrator = self._rr.integrator
        integrator.relative_tolerance = tolerances.rtol
        atol = tolerances.atol * atol_factor
        if self.per_volume_atol:
            vector = [*(atol * self._volume), *([atol] * self._n_rate_rules)]
            try:
                integrator.setValue("absolute_tolerance", vector)
            except (RuntimeError, ValueError):  # pragma: no cover - state layout differs
                integrator.absolute_tolerance = atol
        else:
            integrator.absolute_tolerance = atol
        self._applied = tolerances

    def set_selections(self, selections: Sequence[str]) -> None:
        """Return these selections from :meth:`integrate` from now on."""
        self.selections = tuple(selections)
        if self._rr is not None:
            self._rr.timeCourseSelections = list(self.selections) or ["time"]

    def set_parameters(self, values: np.ndarray) -> None:
        """Set the :attr:`parameters` (in their order) by vector."""
        rr = self.rr
        if self._param_index.size:
            rr.model.setGlobalParameterValues(self._param_index, values)

    def reset(self) -> None:
        """Species back to their initial values (initial assignments re-evaluated), time 0."""
        self.rr.reset()

    # -- dynamics -----------------------------------------------------------------------------
    def steady_state(
        self,
        where: str,
        *,
        first_time: float,
        growth: float,
        max_time: float,
        rtol: float,
        atol: float,
        time_unit: str = "time units",
    ) -> None:
        """Integrate from time 0 until every ``|dc/dt| ≤ atol + rtol·|c|`` (concentrations).

        Checks after ``first_time``, then after each further interval, *growth* times the one
        before (``first_time·growth``, ``first_time·growth²``, …), up to *max_time*.

        Raises
        ------
        SimulationError
            If CVODE fails, or no steady state is reached by *max_time* (naming the species
            that moves most).
        """
        rr = self.rr
        model = rr.model
        t, step = 0.0, float(first_time)
        horizon = step
        try:
            while True:
                # the times= form: libRoadRunner's wrapper parses (start, end, points) slowly
                rr.simulate(times=[t, horizon])
                t = horizon
                conc = model.getFloatingSpeciesConcentrations()
                rates = model.getFloatingSpeciesConcentrationRates()
                allowed = atol + rtol * np.abs(conc)
                if (np.abs(rates) <= allowed).all():  # ndarray method: no numpy dispatch
                    return
                if t >= max_time:
                    worst = int(np.argmax(np.abs(rates) / allowed))
                    raise SimulationError(
                        f"pre-equilibration{where} did not reach a steady state within "
                        f"{max_time:g} {time_unit}: d[{self.species_ids[worst]}]/dt = "
                        f"{rates[worst]:.3g} per {time_unit.rstrip('s')} at {conc[worst]:.3g}"
                    )
                step *= growth
                horizon = min(t + step, max_time)
        except RuntimeError as exc:
            raise SimulationError(f"pre-equilibration{where} failed: {exc}") from None

    def integrate(
        self, grid: np.ndarray, *, restore: Callable[[], None] | None = None
    ) -> np.ndarray:
        """Integrate from the current state over *grid* (first entry: the current time);
        returns the :attr:`selections` at every grid time.

        *restore* puts the start state back for the retry below (a caller that can rebuild
        it saves reading the state out before every integration); without it the state is
        read and kept.

        After a CVODE failure it retries once from the same state with BDF order at most 2
        and a 1e-4× absolute tolerance, then restores the settings. At extreme parameter
        values (as multistart fits visit) CVODE's order-5 BDF can repeatedly fail its error
        test (BDF orders > 2 are not A-stable, and near-zero species with a loose atol make
        the error estimate erratic); order ≤ 2 with a tighter atol integrates those cases, at
        ~2× the cost, so it is the fallback only.

        Raises
        ------
        RuntimeError
            If the retry fails too (callers turn it into a SimulationError naming the run).
        """
        rr = self.rr
        start = rr.model.getFloatingSpeciesAmounts() if restore is None else None
        try:
            return np.asarray(rr.simulate(times=grid))
        except RuntimeError:
            integrator = rr.integrator
            integrator.maximum_bdf_order = 2
            self._apply_tolerances(self._tolerances, atol_factor=1e-4)
            try:
                if restore is None:
                    rr.model.setFloatingSpeciesAmounts(start)
                else:
                    restore()
                self.n_retries += 1
                return np.asarray(rr.simulate(times=grid))
            finally:
                integrator.maximum_bdf_order = 5
                self._apply_tolerances(self._tolerances)
