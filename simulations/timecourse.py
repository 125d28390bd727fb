"""``simulate``: time courses of conditions, each from its cell line's unstimulated steady state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations.conditions import Condition
from paracrine.simulations.engine import DEFAULT_TOLERANCES, Tolerances, check_times
from paracrine.simulations.model_simulator import ModelSimulator

__all__ = ["DEFAULT_TIMES_MIN", "SimulationResult", "simulate"]

#: 0–240 min at 5-min spacing.
DEFAULT_TIMES_MIN = np.linspace(0.0, 240.0, 49)


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Time courses of several conditions.

    Attributes
    ----------
    variant
        Model variant simulated.
    conditions
        The conditions, in order.
    times
        Output times (min).
    outputs
        Names of the simulated quantities (read-outs as fractions, species in nM).
    values
        Array ``(len(conditions), len(times), len(outputs))``.
    """

    variant: str
    conditions: tuple[Condition, ...]
    times: np.ndarray
    outputs: tuple[str, ...]
    values: np.ndarray

    def get(self, condition: str, output: str) -> np.ndarray:
        """The time course of *output* in the condition named *condition*."""
        names = [c.name for c in self.conditions]
        if condition not in names:
            raise UnknownNameError("condition", condition, names)
        if output not in self.outputs:
            raise UnknownNameError("output", output, self.outputs)
        return self.values[names.index(condition), :, self.outputs.index(output)]

    def to_dataframe(self):  # -> pandas.DataFrame
        """Tidy table: ``condition, cell_line, time_min, observable, value``."""
        import pandas as pd

        n_c, n_t, n_o = self.values.shape
        return pd.DataFrame(
            {
                "condition": np.repeat([c.name for c in self.conditions], n_t * n_o),
                "cell_line": np.repeat([c.cell_line for c in self.conditions], n_t * n_o),
                "time_min": np.tile(np.repeat(self.times, n_o), n_c),
                "observable": np.tile(self.outputs, n_c * n_t),
                "value": self.values.reshape(-1),
            }
        )

    def plot(self, outputs: Sequence[str] | None = None, **kwargs):  # -> matplotlib Figure
        """Time courses, one panel per output, conditions as colours (see ``plotting``)."""
        from paracrine.simulations.plotting import plot_timecourses

        return plot_timecourses(self, outputs=outputs, **kwargs)

    def __repr__(self) -> str:
        return (
            f"SimulationResult(variant={self.variant!r}, {len(self.conditions)} condition(s), "
            f"{len(self.times)} time points {self.times[0]:g}–{self.times[-1]:g} min, "
            f"outputs={list(self.outputs)})"
        )


def simulate(
    model: Model | str,
    conditions: Condition | Sequence[Condition],
    params: Mapping[str, float] | None = None,
    times: Sequence[float] | np.ndarray | None = None,
    *,
    outputs: Sequence[str] | None = None,
    rtol: float = DEFAULT_TOLERANCES.rtol,
    atol: float = DEFAULT_TOLERANCES.atol,
) -> SimulationResult:
    """Simulate conditions, each starting from its cell line's unstimulated steady state.

    Parameters
    ----------
    model
        A :class:`~paracrine.models.Model` or a variant name.
    conditions
        One condition or several (unique names); ligands/antibodies are added at t = 0.
    params
        Parameter values overriding the model's, for every cell line.
    times
        Output times in minutes (default 0–240 at 5-min spacing).
    outputs
        Read-outs (``pERK``, ``pAKT``, ``p38``, ``pSTAT3``; fractions) and/or species ids (nM).
    rtol, atol
        CVODE tolerances (relative; absolute in nM).

    Returns
    -------
    SimulationResult

    Raises
    ------
    UnknownNameError
        Unknown variant, parameter, cell line or output (with suggestions).
    InvalidInputError
        Bad doses or times, or duplicate condition names.
    SimulationError
        The integrator failed; the message names the condition and the parameters.

    Examples
    --------
    >>> from paracrine.simulations import simulate, standard_conditions
    >>> res = simulate("independent", standard_conditions("T47D"))
    >>> res.to_dataframe().columns.tolist()
    ['condition', 'cell_line', 'time_min', 'observable', 'value']
    """
    if isinstance(model, str):
        model = Model(model)
    if not isinstance(model, Model):
        raise InvalidInputError(
            f"model: expected a paracrine Model or a variant name, received {model!r}"
        )
    if params:
        model = model.with_parameters(params)
    conds = (conditions,) if isinstance(conditions, Condition) else tuple(conditions)
    if not conds:
        raise InvalidInputError("conditions: expected at least one Condition, received none")
    for c in conds:
        if not isinstance(c, Condition):
            raise InvalidInputError(f"conditions: expected Condition objects, received {c!r}")
    names = [c.name for c in conds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInputError(
            f"conditions: names must be unique, received duplicates {duplicates}"
        )
    for c in conds:
        if c.cell_line not in model.cell_lines:
            raise UnknownNameError("cell line", c.cell_line, model.cell_lines)
    grid = check_times(DEFAULT_TIMES_MIN if times is None else times)
    sim = ModelSimulator(model, outputs, tolerances=Tolerances(rtol, atol))
    values = np.stack([sim.run(c, grid) for c in conds])
    return SimulationResult(model.variant, conds, grid, sim.outputs, values)
