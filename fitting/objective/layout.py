"""Measurement layout: how the outputs of simulation runs map to measurement rows, and which
runs each free parameter touches (what a finite-difference step must re-simulate)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MeasurementLayout"]


@dataclass(frozen=True)
class MeasurementLayout:
    """Runs → stacked output matrix → measurement rows.

    Every run (a simulated condition) returns an array ``(len(run_times[k]), n_columns)``;
    the runs stacked vertically form one matrix, and measurement i reads row ``rows[i]``
    (and, where a measurement is one output, column ``columns[i]``).

    Attributes
    ----------
    run_times
        Output times of each run.
    n_columns
        Outputs per time point.
    rows
        Row of the stacked matrix of each measurement.
    columns
        Column of each measurement, or ``None`` when observable formulas combine columns.
    dependence
        Per free parameter, the runs whose simulation it changes.
    """

    run_times: tuple[np.ndarray, ...]
    n_columns: int
    rows: np.ndarray
    columns: np.ndarray | None
    dependence: tuple[np.ndarray, ...]

    @classmethod
    def build(
        cls,
        run_times: Sequence[np.ndarray],
        n_columns: int,
        rows: np.ndarray,
        columns: np.ndarray | None,
        dependence: Sequence[Sequence[int]],
    ) -> MeasurementLayout:
        return cls(
            tuple(np.asarray(t, dtype=float) for t in run_times),
            int(n_columns),
            np.asarray(rows, dtype=np.intp),
            None if columns is None else np.asarray(columns, dtype=np.intp),
            tuple(np.asarray(d, dtype=np.intp) for d in dependence),
        )

    @property
    def n_runs(self) -> int:
        return len(self.run_times)

    def __post_init__(self) -> None:
        offsets = np.concatenate(([0], np.cumsum([t.size for t in self.run_times])))
        object.__setattr__(self, "offsets", offsets.astype(np.intp))
        object.__setattr__(self, "_bounds", offsets.astype(int).tolist())

    #: First row of each run in the stacked matrix (and the total, last); set at construction.
    offsets: np.ndarray = field(init=False, repr=False, compare=False)

    def stack(self, sims: Sequence[np.ndarray]) -> np.ndarray:
        """One matrix of all runs' outputs."""
        return sims[0] if len(sims) == 1 else np.vstack(sims)

    def replace(
        self, stacked: np.ndarray, runs: np.ndarray, sims: Sequence[np.ndarray]
    ) -> np.ndarray:
        """A copy of *stacked* with the blocks of *runs* replaced by *sims*."""
        out = stacked.copy()
        bounds = self._bounds
        for k, block in zip(runs.tolist(), sims, strict=True):
            out[bounds[k] : bounds[k + 1]] = block
        return out

    def gather(self, stacked: np.ndarray) -> np.ndarray:
        """The measured output of every row (needs :attr:`columns`)."""
        if self.columns is None:
            raise ValueError("this layout has no column per measurement: use its formulas")
        return stacked[self.rows, self.columns]
