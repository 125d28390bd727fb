"""Conditions of paracrine's own models on the one libRoadRunner wrapper.

:class:`ModelSimulator` sets a cell line's parameters by vector (never recompiles),
pre-equilibrates to its unstimulated steady state (cached per parameter vector), then adds the
condition's ligands and antibodies at t = 0 and integrates. It is what
:func:`paracrine.simulations.simulate` and the blot fitting objective both use; the RoadRunner
instance lives in a :class:`~paracrine.simulations.engine.Simulator` (not thread-safe, not
fork-safe once compiled; pickles by content).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from paracrine.errors import SimulationError, UnknownNameError
from paracrine.models import OBSERVABLES, Model
from paracrine.models.targets import MEDIUM_INPUTS, NEUTRALISATION
from paracrine.simulations.conditions import Condition, bound_at_equilibrium
from paracrine.simulations.engine import DEFAULT_TOLERANCES, Simulator, Tolerances

__all__ = ["PREEQ_HORIZON_MIN", "PREEQ_TOL", "ModelSimulator"]

logger = logging.getLogger(__name__)

#: Pre-equilibration horizon (min). The slowest process in any variant is VEGF decay in the
#: medium (1e-3 /min), so 1e5 min is > 100 time constants; one extension to 10× follows.
PREEQ_HORIZON_MIN = 1e5
#: Steady state accepted when every |dc/dt| <= PREEQ_TOL * (|c| + 1e-3 nM) per minute.
PREEQ_TOL = 1e-6
#: Pre-equilibrated states kept per simulator (least recently used dropped first).
PREEQ_CACHE_SIZE = 16


class ModelSimulator:
    """Simulates conditions of one :class:`~paracrine.models.Model` on one compiled instance.

    Parameters
    ----------
    model
        The model (variant + parameter values).
    outputs
        Quantities returned by :meth:`run`: read-out names (``"pERK"``…), species ids or
        parameter ids. Default: the four observables.
    tolerances
        CVODE tolerances (atol in nM).
    """

    def __init__(
        self,
        model: Model,
        outputs: Sequence[str] | None = None,
        *,
        tolerances: Tolerances = DEFAULT_TOLERANCES,
    ) -> None:
        self._model = model
        self._outputs = tuple(outputs) if outputs is not None else tuple(OBSERVABLES)
        self._tolerances = tolerances
        self._sim: Simulator | None = None
        self._preeq_cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.n_simulations = 0

    # -- pickling: by content, recompiled lazily in the receiving process ------------------
    def __getstate__(self) -> dict:
        return {"model": self._model, "outputs": self._outputs, "tolerances": self._tolerances}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["model"], state["outputs"], tolerances=state["tolerances"])

    def clear_cache(self) -> None:
        """Forget the cached pre-equilibrated states."""
        self._preeq_cache.clear()

    @property
    def n_retries(self) -> int:
        """Integrations that needed the low-order retry (see :meth:`Simulator.integrate`)."""
        return 0 if self._sim is None else self._sim.n_retries

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
        return self._simulator().rr

    def _simulator(self) -> Simulator:
        if self._sim is None:
            model = self._model
            sim = Simulator(model.sbml, model.parameter_ids, ["time"], tolerances=self._tolerances)
            # the compiled model names the species (reading them from the SBML with libsbml
            # would load ~50 MB more into every worker)
            species = sim.species_ids
            globals_ = set(model.parameter_ids)
            selections = ["time"]
            for name in self._outputs:
                if name in OBSERVABLES:
                    selections.append(OBSERVABLES[name])
                elif name in species:
                    selections.append(f"[{name}]")
                elif name in globals_:
                    selections.append(name)
                else:
                    raise UnknownNameError("output", name, [*OBSERVABLES, *species])
            sim.set_selections(selections)
            self._input_index = np.array([species.index(s) for s in MEDIUM_INPUTS], dtype=np.int32)
            self._sim = sim
        return self._sim

    @property
    def species_ids(self) -> tuple[str, ...]:
        return self._simulator().species_ids

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
        sim = self._simulator()
        sim.set_parameters(pvec)
        sim.reset()  # species back to initial values, re-evaluating initial assignments
        try:
            sim.steady_state(
                label,
                first_time=PREEQ_HORIZON_MIN,
                growth=9.0,  # 1e5 min, then once more to 1e6 min
                max_time=10 * PREEQ_HORIZON_MIN,
                rtol=PREEQ_TOL,
                atol=PREEQ_TOL * 1e-3,
                time_unit="min",
            )
        except SimulationError as exc:
            raise SimulationError(f"{exc}; {self._describe(pvec, cell_line)}") from None
        self.n_simulations += 1
        state = sim.rr.model.getFloatingSpeciesAmounts()
        # Flush round-off dust (e.g. 1e-35 nM of a receptor complex that should be 0): CVODE's
        # first-step error test fails on such values at any tolerance (seen at extreme
        # parameters in multistart fits), and 1e-6·atol is far below anything measurable.
        state = np.where(state < 1e-6 * self._tolerances.atol, 0.0, state)
        self._preeq_cache[key] = state
        if len(self._preeq_cache) > PREEQ_CACHE_SIZE:
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
        sim = self._simulator()
        model = sim.rr.model
        # The pre-equilibrated parameters may not be the last ones set (cache hit).
        sim.set_parameters(vec)
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
            result = sim.integrate(grid)
        except RuntimeError as exc:
            raise SimulationError(
                f"integration{label} failed: {exc}; {self._describe(vec, condition.cell_line)}"
            ) from None
        self.n_simulations += 1
        out = result[:, 1:]
        if unstimulated:
            return np.repeat(out[:1], times.size, axis=0)
        return out[: times.size] if times[0] == 0.0 else out[1:]

    def added_concentrations(self, condition: Condition, pvec: np.ndarray) -> np.ndarray:
        """What the condition adds to the medium at t = 0 (nM, ordered as the medium inputs
        IL6, VEGF, Bev, AbIL6, VEGF_Bev, IL6_Ab), with pre-incubated antibodies at their
        binding equilibrium with their ligand."""
        added = dict.fromkeys(MEDIUM_INPUTS, 0.0)
        added.update(condition.added_concentrations_nm())
        if condition.antibody_preincubation:
            ids = self.parameter_ids
            for ligand, sites, cpx, kon, koff in NEUTRALISATION:
                kd = pvec[ids.index(koff)] / pvec[ids.index(kon)]
                bound = bound_at_equilibrium(added[ligand], added[sites], kd)
                added[ligand] -= bound
                added[sites] -= bound
                added[cpx] += bound
        return np.maximum([added[s] for s in MEDIUM_INPUTS], 0.0)

    def _describe(self, pvec: np.ndarray, cell_line: str | None) -> str:
        defaults = self._model.table.defaults(cell_line)
        changed = [
            f"{p}={v:.4g}"
            for p, v in zip(self.parameter_ids, pvec, strict=True)
            if not np.isclose(v, defaults[p], rtol=1e-12, atol=0)
        ]
        shown = ", ".join(changed[:40]) + (" …" if len(changed) > 40 else "")
        return f"parameters differing from the table: {shown or 'none'}"
