"""The simulation engine: one compiled libRoadRunner instance, reused for every condition.

:class:`Simulator` sets parameters by vector (never recompiles), pre-equilibrates each cell
line to its unstimulated steady state, then adds the condition's ligands and antibodies at
t = 0 and integrates. It is what :func:`paracrine.simulations.timecourse` and the fitting
objective both use.

Thread and fork safety: a ``Simulator`` owns a RoadRunner instance, which is neither
thread-safe nor safe to use in a child forked after it was used. Use one per thread, and the
"spawn" start method for process pools; ``Simulator`` pickles by content (it recompiles in the
receiving process, which takes ~10 ms once the SBML is cached there).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import OBSERVABLES, Model
from paracrine.simulations.conditions import Condition, bound_at_equilibrium

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "PRECISE_ATOL",
    "PRECISE_RTOL",
    "Simulator",
    "check_times",
]

logger = logging.getLogger(__name__)

#: CVODE tolerances for simulation and fitting. Against rtol 1e-10 the observables (fractions
#: in [0, 1]) differ by < 1e-5, far below blot noise (CV ~20%); DESIGN.md pairs rtol 1e-6
#: with a finite-difference step of 1e-3 in log10 parameter units.
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-8  # nM
#: Tolerances for re-evaluating a fitted optimum and for numerical tests.
PRECISE_RTOL = 1e-10
PRECISE_ATOL = 1e-12

#: Pre-equilibration horizon (min). The slowest process in any variant is VEGF decay in the
#: medium (1e-3 /min), so 1e5 min is > 100 time constants.
PREEQ_HORIZON_MIN = 1e5
#: Steady state accepted when every |dc/dt| <= PREEQ_TOL * (|c| + 1e-3 nM) per minute.
PREEQ_TOL = 1e-6

_MEDIUM_INPUTS = ("IL6", "VEGF", "Bev", "AbIL6", "VEGF_Bev", "IL6_Ab")
# ligand, antibody sites, complex, kon, koff
_NEUTRALISATION = (
    ("VEGF", "Bev", "VEGF_Bev", "kon_bev", "koff_bev"),
    ("IL6", "AbIL6", "IL6_Ab", "kon_ab_il6", "koff_ab_il6"),
)


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
    """Reusable simulation engine for one :class:`~paracrine.models.Model`.

    Parameters
    ----------
    model
        The model (variant + parameter values).
    outputs
        Quantities returned by :meth:`run`: read-out names (``"pERK"``…), species ids or
        parameter ids. Default: the four observables.
    rtol, atol
        CVODE relative and absolute (nM) tolerances.
    """

    def __init__(
        self,
        model: Model,
        outputs: Sequence[str] | None = None,
        *,
        rtol: float = DEFAULT_RTOL,
        atol: float = DEFAULT_ATOL,
    ) -> None:
        if not (0 < rtol < 1 and atol > 0):
            raise InvalidInputError(
                f"tolerances: expected 0 < rtol < 1 and atol > 0, received rtol={rtol}, atol={atol}"
            )
        self._model = model
        self._outputs = tuple(outputs) if outputs is not None else tuple(OBSERVABLES)
        self._rtol, self._atol = float(rtol), float(atol)
        self._rr = None
        self._preeq_cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.n_simulations = 0
        self.n_retries = 0

    # -- pickling: by content, recompiled lazily in the receiving process ------------------
    def __getstate__(self) -> dict:
        return {
            "model": self._model,
            "outputs": self._outputs,
            "rtol": self._rtol,
            "atol": self._atol,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["model"], state["outputs"], rtol=state["rtol"], atol=state["atol"])

    @property
    def model(self) -> Model:
        return self._model

    @property
    def outputs(self) -> tuple[str, ...]:
        return self._outputs

    @property
    def parameter_ids(self) -> tuple[str, ...]:
        return self._model.parameter_ids

    # -- compilation ------------------------------------------------------------------------
    def _runner(self):
        if self._rr is None:
            self._compile()
        return self._rr

    def _compile(self) -> None:
        import roadrunner

        rr = roadrunner.RoadRunner(self._model.sbml)
        rr.integrator.relative_tolerance = self._rtol
        rr.integrator.absolute_tolerance = self._atol
        rr.integrator.stiff = True
        global_ids = list(rr.model.getGlobalParameterIds())
        species = list(rr.model.getFloatingSpeciesIds())
        self._param_index = np.array(
            [global_ids.index(p) for p in self.parameter_ids], dtype=np.int32
        )
        self._input_index = np.array([species.index(s) for s in _MEDIUM_INPUTS], dtype=np.int32)
        selections = []
        for name in self._outputs:
            if name in OBSERVABLES:
                selections.append(OBSERVABLES[name])
            elif name in species:
                selections.append(f"[{name}]")
            elif name in global_ids:
                selections.append(name)
            else:
                raise UnknownNameError("output", name, [*OBSERVABLES, *species])
        rr.timeCourseSelections = ["time", *selections]
        self._species = tuple(species)
        self._rr = rr

    @property
    def species_ids(self) -> tuple[str, ...]:
        self._runner()
        return self._species

    # -- parameters -------------------------------------------------------------------------
    def parameter_vector(self, cell_line: str, condition: Condition | None = None) -> np.ndarray:
        """The model's values for *cell_line* (ordered as :attr:`parameter_ids`), with the
        perturbations of *condition* applied."""
        if cell_line not in self._model.cell_lines:
            raise UnknownNameError("cell line", cell_line, self._model.cell_lines)
        values = self._model.parameter_values(cell_line)
        vec = np.array([values[p] for p in self.parameter_ids], dtype=float)
        if condition is not None:
            vec = self.apply_perturbations(vec, condition)
        return vec

    def apply_perturbations(self, vec: np.ndarray, condition: Condition) -> np.ndarray:
        factors = condition.parameter_factors()
        if not factors:
            return vec
        out = vec.copy()
        ids = self.parameter_ids
        for name, f in factors.items():
            out[ids.index(name)] *= f
        return out

    # -- simulation -------------------------------------------------------------------------
    def preequilibrate(
        self, pvec: np.ndarray, label: str = "", cell_line: str | None = None
    ) -> np.ndarray:
        """Unstimulated steady state (species amounts) for parameter vector *pvec*."""
        key = pvec.tobytes()
        cached = self._preeq_cache.get(key)
        if cached is not None:
            self._preeq_cache.move_to_end(key)
            return cached
        rr = self._runner()
        model = rr.model
        model.setGlobalParameterValues(self._param_index, pvec)
        rr.reset()  # species back to initial values, re-evaluating initial assignments
        try:
            rr.simulate(0.0, PREEQ_HORIZON_MIN, 2)
            self.n_simulations += 1
            conc = model.getFloatingSpeciesConcentrations()
            rates = model.getFloatingSpeciesConcentrationRates()
            if np.any(np.abs(rates) > PREEQ_TOL * (np.abs(conc) + 1e-3)):
                rr.simulate(PREEQ_HORIZON_MIN, 10 * PREEQ_HORIZON_MIN, 2)
                conc = model.getFloatingSpeciesConcentrations()
                rates = model.getFloatingSpeciesConcentrationRates()
                worst = int(np.argmax(np.abs(rates) / (np.abs(conc) + 1e-3)))
                if abs(rates[worst]) > PREEQ_TOL * (abs(conc[worst]) + 1e-3):
                    raise SimulationError(
                        f"pre-equilibration{label} did not reach a steady state within "
                        f"{10 * PREEQ_HORIZON_MIN:g} min: d[{self._species[worst]}]/dt = "
                        f"{rates[worst]:.3g} nM/min at {conc[worst]:.3g} nM; "
                        f"{self._describe(pvec, cell_line)}"
                    )
        except RuntimeError as exc:
            raise SimulationError(
                f"pre-equilibration{label} failed: {exc}; {self._describe(pvec, cell_line)}"
            ) from None
        state = model.getFloatingSpeciesAmounts()
        # Flush round-off dust (e.g. 1e-35 nM of a receptor complex that should be 0): CVODE's
        # first-step error test fails on such values at any tolerance (seen at extreme
        # parameters in multistart fits), and 1e-6·atol is far below anything measurable.
        state = np.where(state < 1e-6 * self._atol, 0.0, state)
        self._preeq_cache[key] = state
        if len(self._preeq_cache) > 16:
            self._preeq_cache.popitem(last=False)
        return state

    def run(
        self, condition: Condition, times: np.ndarray, pvec: np.ndarray | None = None
    ) -> np.ndarray:
        """Simulate one condition; returns an array (len(times), len(outputs)).

        *pvec* (ordered as :attr:`parameter_ids`) replaces the model's values for the
        condition's cell line; perturbations of the condition are applied on top. *times*
        must be validated (:func:`check_times`); the ligands are added at t = 0.
        """
        base = (
            self.parameter_vector(condition.cell_line) if pvec is None else np.asarray(pvec, float)
        )
        vec = self.apply_perturbations(base, condition)
        label = f" of condition {condition.name!r} ({condition.cell_line})"
        state = self.preequilibrate(vec, label, condition.cell_line)
        rr = self._runner()
        model = rr.model
        # The pre-equilibrated parameters may not be the last ones set (cache hit).
        model.setGlobalParameterValues(self._param_index, vec)
        model.setFloatingSpeciesAmounts(state)
        added = self.added_concentrations(condition, vec)
        current = model.getFloatingSpeciesConcentrations()[self._input_index]
        model.setFloatingSpeciesConcentrations(self._input_index, current + added)
        grid = times if times[0] == 0.0 else np.concatenate(([0.0], times))
        unstimulated = not np.any(added)
        if grid.size == 1 or unstimulated:
            # Nothing added: the cells stay at their steady state, so the outputs at t = 0
            # hold at every time (checked in tests over 24 h). RoadRunner needs two points.
            grid = np.array([0.0, 1.0])
        try:
            result = self._simulate_with_retry(rr, grid, model.getFloatingSpeciesAmounts())
        except RuntimeError as exc:
            raise SimulationError(
                f"integration{label} failed: {exc}; {self._describe(vec, condition.cell_line)}"
            ) from None
        self.n_simulations += 1
        out = np.asarray(result)[:, 1:]
        if unstimulated:
            return np.repeat(out[:1], times.size, axis=0)
        return out[: times.size] if times[0] == 0.0 else out[1:]

    def _simulate_with_retry(self, rr, grid: np.ndarray, start: np.ndarray):
        """Integrate; after a CVODE failure retry once from the same state with BDF order
        at most 2 and a 1e-4× absolute tolerance, then restore the settings.

        At extreme parameter values (as multistart fits visit) CVODE's order-5 BDF can
        repeatedly fail its error test (BDF orders > 2 are not A-stable, and near-zero
        species with a loose atol make the error estimate erratic); order ≤ 2 with a
        tighter atol integrates those cases, at ~2× the cost, so it is the fallback only.
        """
        try:
            return rr.simulate(times=grid)
        except RuntimeError:
            integrator = rr.integrator
            integrator.maximum_bdf_order = 2
            integrator.absolute_tolerance = self._atol * 1e-4
            try:
                rr.model.setFloatingSpeciesAmounts(start)
                self.n_retries += 1
                return rr.simulate(times=grid)
            finally:
                integrator.maximum_bdf_order = 5
                integrator.absolute_tolerance = self._atol

    def added_concentrations(self, condition: Condition, pvec: np.ndarray) -> np.ndarray:
        """What the condition adds to the medium at t = 0 (nM, ordered as the medium inputs
        IL6, VEGF, Bev, AbIL6, VEGF_Bev, IL6_Ab), with pre-incubated antibodies at their
        binding equilibrium with their ligand."""
        added = dict.fromkeys(_MEDIUM_INPUTS, 0.0)
        added.update(condition.added_concentrations_nm())
        if condition.antibody_preincubation:
            ids = self.parameter_ids
            for ligand, sites, cpx, kon, koff in _NEUTRALISATION:
                kd = pvec[ids.index(koff)] / pvec[ids.index(kon)]
                bound = bound_at_equilibrium(added[ligand], added[sites], kd)
                added[ligand] -= bound
                added[sites] -= bound
                added[cpx] += bound
        return np.maximum([added[s] for s in _MEDIUM_INPUTS], 0.0)

    def _describe(self, pvec: np.ndarray, cell_line: str | None) -> str:
        defaults = self._model.table.defaults(cell_line)
        changed = [
            f"{p}={v:.4g}"
            for p, v in zip(self.parameter_ids, pvec, strict=True)
            if not np.isclose(v, defaults[p], rtol=1e-12, atol=0)
        ]
        shown = ", ".join(changed[:40]) + (" …" if len(changed) > 40 else "")
        return f"parameters differing from the table: {shown or 'none'}"
