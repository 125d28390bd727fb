"""Loaded data sets (BlotData, ReadoutData) and the functions that load them."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pandas as pd

from paracrine.data._csv import format_float, write_csv
from paracrine.data._resources import bundled_names, read_source
from paracrine.data._schema import (
    BLOT_READOUTS,
    BLOT_SCHEMA,
    CELL_LINES,
    CONDITION_ORDER,
    PHENOTYPE_READOUTS,
    READOUT_SCHEMA,
    Schema,
)
from paracrine.data.issues import DataWarning, Issue, IssueList
from paracrine.data.validation import _check_bytes, _check_frame
from paracrine.errors import UnknownNameError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_BLOTS",
    "DEFAULT_READOUTS",
    "BlotData",
    "Dataset",
    "ReadoutData",
    "list_datasets",
    "load_blots",
    "load_readouts",
]

#: Name of the bundled (synthetic) blot time courses used when no data set is given.
DEFAULT_BLOTS = "reference_blots_synthetic"
#: Name of the bundled (synthetic) migration and proliferation read-outs.
DEFAULT_READOUTS = "reference_migration_synthetic"


def _ordered(values: Iterable[str], canonical: Sequence[str]) -> tuple[str, ...]:
    """Distinct values, the known ones in canonical order, then the rest as first seen."""
    seen = list(dict.fromkeys(values))
    return tuple([c for c in canonical if c in seen] + [v for v in seen if v not in canonical])


def _build_frame(values: dict[str, list[Any]], schema: Schema) -> pd.DataFrame:
    n = len(next(iter(values.values()))) if values else 0
    columns = {}
    for column in schema.columns:
        # Optional columns a file omits are added empty, so every frame has one layout.
        default = math.nan if column.kind == "number" else ""
        cells = values.get(column.name, [default] * n)
        dtype = {"number": "float64", "count": "int64"}.get(column.kind, "str")
        columns[column.name] = pd.Series(cells, dtype=dtype)
    return pd.DataFrame(columns)


def _format_row(row: Sequence[Any]) -> list[str]:
    return [format_float(v) if isinstance(v, float) else str(v) for v in row]


def _validated(
    values: dict | None, issues: IssueList, source: str, schema: Schema, *, stacklevel: int = 3
) -> tuple[pd.DataFrame, tuple[Issue, ...]]:
    """The frame of validated *values*; raises for errors, warns (pointing *stacklevel* frames
    up, at the caller of the public loader) for warnings."""
    issues.raise_if_errors(source)
    if issues:
        warnings.warn(DataWarning(f"{source}: {issues.report()}"), stacklevel=stacklevel)
    assert values is not None  # only None when parsing failed, which is always an error
    return _build_frame(values, schema), tuple(issues)


def _select(kind: str, wanted: Sequence[str] | None, present: Sequence[str]) -> list[str]:
    if wanted is None:
        return list(present)
    if isinstance(wanted, str):
        wanted = [wanted]
    for name in wanted:
        if name not in present:
            raise UnknownNameError(kind, name, present)
    return list(wanted)


@dataclass(frozen=True, eq=False)
class Dataset:
    """What every loaded data set shares: a validated tidy DataFrame, where it came from, the
    warnings found while loading, and the cell lines, read-outs and conditions it holds.

    Subclasses (:class:`BlotData`, :class:`ReadoutData`) fix the schema the frame follows and
    the canonical order of its read-outs; construct them with :meth:`from_frame` or a loader.

    Attributes
    ----------
    frame
        One row per measurement, the columns of the subclass's schema. Treat it as
        read-only: methods return new objects.
    source
        The file or data set it came from.
    issues
        Warnings found while loading (errors prevent loading).
    """

    frame: pd.DataFrame
    source: str = "<DataFrame>"
    issues: tuple[Issue, ...] = field(default=())

    #: Columns and checks of the subclass's file format.
    schema: ClassVar[Schema]
    #: Read-outs the subclass knows, in the order :attr:`readouts` lists them.
    known_readouts: ClassVar[tuple[str, ...]]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "<DataFrame>") -> Self:
        """Validate a DataFrame with the columns of this format and wrap it.

        Raises
        ------
        DataValidationError
            Listing every problem (rows numbered as in ``frame.to_csv(index=False)``).
        """
        issues, values = _check_frame(frame, source, cls.schema)
        built, kept = _validated(values, issues, source, cls.schema)
        return cls(built, source, kept)

    def _with_frame(self, frame: pd.DataFrame) -> Self:
        return type(self)(frame, self.source, self.issues)

    @property
    def cell_lines(self) -> tuple[str, ...]:
        """Cell lines present: MCF-7, T47D, SK-Br-3 in that order, then others (your own
        lines) as first seen."""
        return _ordered(self.frame["cell_line"], CELL_LINES)

    @property
    def readouts(self) -> tuple[str, ...]:
        """Read-outs present, the known ones in their canonical order, then others (your own:
        a fit maps them to model observables, see ``models/readout_map.csv``) as first seen."""
        return _ordered(self.frame["readout"], self.known_readouts)

    @property
    def conditions(self) -> tuple[str, ...]:
        """Conditions present: control, IL-6, VEGF, IL-6+VEGF, then MSC-CM and its antibody
        combinations, others as first seen."""
        return _ordered(self.frame["condition"], CONDITION_ORDER)

    def __len__(self) -> int:
        return len(self.frame)

    def select(
        self,
        *,
        cell_lines: Sequence[str] | None = None,
        readouts: Sequence[str] | None = None,
        conditions: Sequence[str] | None = None,
    ) -> Self:
        """Return the rows of the given cell lines, read-outs and conditions (None = all).

        Raises
        ------
        UnknownNameError
            A name is not present in this data set (with close matches suggested).
        """
        mask = pd.Series(True, index=self.frame.index)
        for kind, column, wanted, present in (
            ("cell line", "cell_line", cell_lines, self.cell_lines),
            ("read-out", "readout", readouts, self.readouts),
            ("condition", "condition", conditions, self.conditions),
        ):
            if wanted is not None:
                mask &= self.frame[column].isin(_select(kind, wanted, present))
        return self._with_frame(self.frame[mask].reset_index(drop=True))

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the data as a CSV file that its loader reads back to an equal frame.

        Floats are written as the shortest text that reads back to the same number.
        """
        path = Path(path)
        rows = (_format_row(r) for r in self.frame.itertuples(index=False, name=None))
        write_csv(path, list(self.frame.columns), rows)
        return path


@dataclass(frozen=True, eq=False)
class BlotData(Dataset):
    """Validated blot time courses over a tidy DataFrame, one row per band.

    Attributes
    ----------
    frame
        Columns ``cell_line, condition, il6_ng_ml, vegf_ng_ml, time_min, readout, value,
        replicate, blot, sd, normalization`` (strings, float64 doses/times/values, int64
        replicates; ``sd`` NaN and ``normalization`` ``""`` where the file gave none).
        Treat it as read-only: methods return new objects.
    source
        The file or data set it came from.
    issues
        Warnings found while loading (errors prevent loading).
    """

    schema: ClassVar[Schema] = BLOT_SCHEMA
    known_readouts: ClassVar[tuple[str, ...]] = BLOT_READOUTS

    @property
    def blots(self) -> tuple[str, ...]:
        """Blot identifiers, in order of first appearance."""
        return tuple(dict.fromkeys(self.frame["blot"]))

    @property
    def times_min(self) -> tuple[float, ...]:
        """Distinct time points (min), ascending."""
        return tuple(sorted(set(self.frame["time_min"].tolist())))

    def __repr__(self) -> str:
        return (
            f"BlotData({self.source!r}: {len(self)} bands, {len(self.blots)} blots, "
            f"cell lines {list(self.cell_lines)}, read-outs {list(self.readouts)}, "
            f"conditions {list(self.conditions)})"
        )

    def normalize_to_time_zero(self, *, reference_condition: str | None = None) -> BlotData:
        """Return the data divided by the time-0 lane of each blot (see
        :func:`paracrine.data.normalize_to_time_zero`)."""
        from paracrine.data.normalization import normalize_to_time_zero

        return self._with_frame(
            normalize_to_time_zero(self.frame, reference_condition=reference_condition)
        )

    def plot(
        self, ax: Axes | Any | None = None, *, normalize: bool = True, median: bool = True
    ) -> Figure:
        """Plot read-out (rows) × cell line (columns): replicates as points, conditions as
        colours, time in minutes.

        Parameters
        ----------
        ax
            None for a new figure, or an array of Axes of shape (read-outs, cell lines);
            a single Axes is accepted when there is one panel.
        normalize
            Divide each blot by its time-0 lane first, so blots with different scales are
            comparable (y = fold over t = 0); False plots raw values.
        median
            Join the medians over replicates with a line.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from paracrine.data.plotting import plot_blots

        return plot_blots(self, ax=ax, normalize=normalize, median=median)


@dataclass(frozen=True, eq=False)
class ReadoutData(Dataset):
    """Validated migration/proliferation read-outs, one row per (cell line, condition, read-out).

    ``frame`` has the columns ``cell_line, condition, il6_ng_ml, vegf_ng_ml, bevacizumab_ug_ml,
    anti_il6_ug_ml, msc_cm_fraction, readout, fold_change, sd, n``.
    """

    schema: ClassVar[Schema] = READOUT_SCHEMA
    known_readouts: ClassVar[tuple[str, ...]] = PHENOTYPE_READOUTS

    def __repr__(self) -> str:
        return (
            f"ReadoutData({self.source!r}: {len(self)} rows, cell lines "
            f"{list(self.cell_lines)}, read-outs {list(self.readouts)})"
        )

    def fold_change(self, cell_line: str, readout: str, condition: str) -> float:
        """Return one fold change.

        Raises
        ------
        UnknownNameError
            The cell line, read-out or condition is not in the data.
        """
        _select("cell line", [cell_line], self.cell_lines)
        _select("read-out", [readout], self.readouts)
        frame = self.frame[
            (self.frame["cell_line"] == cell_line) & (self.frame["readout"] == readout)
        ]
        _select(f"{readout} condition for {cell_line}", [condition], list(frame["condition"]))
        return float(frame.loc[frame["condition"] == condition, "fold_change"].iloc[0])

    def plot(self, ax: Axes | Any | None = None) -> Figure:
        """Bar chart of fold change ± sd: read-out (rows) × cell line (columns).

        ``ax``: None for a new figure, or an array of Axes of shape (read-outs, cell lines).
        """
        from paracrine.data.plotting import plot_readouts

        return plot_readouts(self, ax=ax)


def _load(cls: type[Dataset], path_or_name: str | os.PathLike[str]) -> Dataset:
    data, file = read_source(path_or_name)
    issues, values = _check_bytes(data, file, cls.schema)
    frame, kept = _validated(values, issues, file, cls.schema, stacklevel=4)
    return cls(frame, file, kept)


def list_datasets() -> list[str]:
    """Return the names of the bundled data sets (file stems), sorted.

    Examples
    --------
    >>> "reference_blots_synthetic" in list_datasets()
    True
    """
    return bundled_names()


def load_blots(
    path_or_name: str | os.PathLike[str] = DEFAULT_BLOTS,
    *,
    cell_lines: Sequence[str] | None = None,
) -> BlotData:
    """Load and validate blot time courses.

    Parameters
    ----------
    path_or_name
        Path to a CSV file with the columns ``cell_line, condition, il6_ng_ml, vegf_ng_ml,
        time_min, readout, value, replicate, blot`` (optional ``sd, normalization``), or the
        name of a bundled data set; default :data:`DEFAULT_BLOTS` (synthetic).
    cell_lines
        Keep only these cell lines (each must be present); None keeps all.

    Returns
    -------
    BlotData

    Raises
    ------
    DataValidationError
        The file has errors; ``.issues`` lists every one (file, row, column, expected,
        received). Warnings do not raise: they are emitted as :class:`DataWarning` and kept
        in ``BlotData.issues``.
    UnknownNameError
        Unknown data set name, or a requested cell line is not in the data.
    InvalidInputError
        The file does not exist or cannot be read.

    Examples
    --------
    >>> data = load_blots("reference_blots_synthetic", cell_lines=["T47D"])
    >>> data.cell_lines
    ('T47D',)
    """
    loaded = _load(BlotData, path_or_name)
    return loaded if cell_lines is None else loaded.select(cell_lines=cell_lines)


def load_readouts(path_or_name: str | os.PathLike[str] = DEFAULT_READOUTS) -> ReadoutData:
    """Load and validate migration/proliferation read-outs (one row per condition).

    Parameters
    ----------
    path_or_name
        Path to a CSV file with the columns ``cell_line, condition, il6_ng_ml, vegf_ng_ml,
        bevacizumab_ug_ml, anti_il6_ug_ml, msc_cm_fraction, readout, fold_change, sd, n``,
        or a bundled data set name; default :data:`DEFAULT_READOUTS` (synthetic).

    Returns
    -------
    ReadoutData

    Raises
    ------
    DataValidationError, UnknownNameError, InvalidInputError
        As for :func:`load_blots`.
    """
    return _load(ReadoutData, path_or_name)
