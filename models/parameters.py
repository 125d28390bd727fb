"""The parameter table: every model parameter with its default, unit, fitting bounds and source.

The table lives in ``parameters.csv`` beside this module (one row per parameter) and the
cell-line-specific defaults in ``cell_lines.csv``. Both are validated when read: a malformed
table is a packaging bug, so it raises :class:`~paracrine.errors.InvalidInputError` naming the
file, row and column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.vocabulary import CELL_LINES

# CELL_LINES (the breast cancer lines of De Luca et al. 2012) is paracrine.vocabulary's,
# re-exported here and from paracrine.models. It names the lines cell_lines.csv gives values
# for; other lines are added with ParameterTable.with_cell_lines (the model's defaults).
__all__ = ["CELL_LINES", "ParameterInfo", "ParameterTable", "default_table"]

_COLUMNS = ("name", "default", "unit", "lower", "upper", "cell_line_specific", "estimate", "source")


@dataclass(frozen=True)
class ParameterInfo:
    """One row of the parameter table.

    Attributes
    ----------
    name
        Antimony/SBML id, verbatim.
    default
        Default value in ``unit``.
    unit
        Unit (time in minutes, concentrations in nM).
    lower, upper
        Bounds used when the parameter is fitted (natural scale; fits work in log10).
    cell_line_specific
        Whether each cell line has its own value (defaults in ``cell_lines.csv``).
    estimate
        Whether a default fit estimates it (variants may switch more on).
    source
        Citation, or ``"assumed: …"`` with the reason.
    """

    name: str
    default: float
    unit: str
    lower: float
    upper: float
    cell_line_specific: bool
    estimate: bool
    source: str


class ParameterTable(Mapping[str, ParameterInfo]):
    """Read-only mapping ``name -> ParameterInfo`` plus per-cell-line defaults."""

    def __init__(
        self,
        rows: list[ParameterInfo],
        cell_line_values: Mapping[str, Mapping[str, float]],
        added_cell_lines: tuple[str, ...] = (),
    ) -> None:
        self._rows = {row.name: row for row in rows}
        self._cell_line_values = {k: dict(v) for k, v in cell_line_values.items()}
        self._added = tuple(added_cell_lines)

    def __getitem__(self, name: str) -> ParameterInfo:
        try:
            return self._rows[name]
        except KeyError:
            raise UnknownNameError("parameter", name, self._rows) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def cell_lines(self) -> tuple[str, ...]:
        """The cell lines with values of their own (``cell_lines.csv`` plus any added by
        :meth:`with_cell_lines`)."""
        return tuple(self._cell_line_values)

    def with_cell_lines(self, names: Iterable[str]) -> ParameterTable:
        """This table with the cell lines *names* added, those it lacks taking the model's
        defaults for every cell-line-specific parameter (the ``default`` column of
        ``parameters.csv``: e.g. ~1000 IL-6 and VEGF receptor sites per cell); lines it already
        knows keep their values. A fit then estimates the added lines' own values
        (:class:`~paracrine.fitting.BlotProblem` does so for every line in its data).

        Examples
        --------
        >>> table = default_table().with_cell_lines(["MDA-MB-231"])
        >>> table.cell_lines
        ('MCF-7', 'T47D', 'SK-Br-3', 'MDA-MB-231')
        >>> table.defaults("MDA-MB-231")["R6_tot"] == table["R6_tot"].default
        True
        """
        added = [n for n in dict.fromkeys(names) if n not in self._cell_line_values]
        if not added:
            return self
        for name in added:
            if not isinstance(name, str) or not name.strip() or name != name.strip():
                raise InvalidInputError(
                    f"cell line: expected a non-blank name without surrounding spaces, "
                    f"received {name!r}"
                )
        specific = {n: row.default for n, row in self._rows.items() if row.cell_line_specific}
        values = {**self._cell_line_values, **{n: dict(specific) for n in added}}
        return ParameterTable(list(self._rows.values()), values, (*self._added, *added))

    @property
    def added_cell_lines(self) -> tuple[str, ...]:
        """Cell lines added with :meth:`with_cell_lines` (at the model's defaults), in order."""
        return self._added

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParameterTable):
            return NotImplemented
        return self is other or (
            self._rows == other._rows and self._cell_line_values == other._cell_line_values
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking mapping: compare by content

    def defaults(self, cell_line: str | None = None) -> dict[str, float]:
        """Default values, with the cell line's own values where it has them."""
        values = {name: row.default for name, row in self._rows.items()}
        if cell_line is not None:
            if cell_line not in self._cell_line_values:
                raise UnknownNameError("cell line", cell_line, self._cell_line_values)
            values.update(self._cell_line_values[cell_line])
        return values

    def to_dataframe(self):  # -> pandas.DataFrame
        """The table as a DataFrame, one row per parameter, plus one column per cell line."""
        import pandas as pd

        frame = pd.DataFrame([row.__dict__ for row in self._rows.values()])
        for line, values in self._cell_line_values.items():
            frame[line] = [values.get(n, math.nan) for n in frame["name"]]
        return frame


def _parse_bool(text: str, where: str) -> bool:
    if text in ("True", "true", "1"):
        return True
    if text in ("False", "false", "0"):
        return False
    raise InvalidInputError(f"{where}: expected True or False, received {text!r}")


def _parse_float(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(f"{where}: expected a number, received {text!r}") from None
    if not math.isfinite(value):
        raise InvalidInputError(f"{where}: expected a finite number, received {text!r}")
    return value


def read_parameter_table(parameters_text: str, cell_lines_text: str, origin: str) -> ParameterTable:
    """Parse and validate the two CSV texts; *origin* names their folder in messages."""
    rows: list[ParameterInfo] = []
    reader = csv.DictReader(parameters_text.splitlines())
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise InvalidInputError(
            f"{origin}/parameters.csv, line 1: expected columns {', '.join(_COLUMNS)}, "
            f"received {', '.join(reader.fieldnames or [])}"
        )
    seen: set[str] = set()
    for line, rec in enumerate(reader, start=2):
        where = f"{origin}/parameters.csv, line {line}"
        extra, missing = rec.pop(None, []), sum(v is None for v in rec.values())
        if extra or missing:
            hint = " (a comma inside an unquoted source? quote it)" if extra else ""
            raise InvalidInputError(
                f"{where}: expected {len(_COLUMNS)} fields, received "
                f"{len(_COLUMNS) + len(extra) - missing}{hint}"
            )
        name = rec["name"]
        if name in seen:
            raise InvalidInputError(f"{where}, column name: duplicate parameter {name!r}")
        seen.add(name)
        info = ParameterInfo(
            name=name,
            default=_parse_float(rec["default"], f"{where}, column default"),
            unit=rec["unit"],
            lower=_parse_float(rec["lower"], f"{where}, column lower"),
            upper=_parse_float(rec["upper"], f"{where}, column upper"),
            cell_line_specific=_parse_bool(
                rec["cell_line_specific"], f"{where}, column cell_line_specific"
            ),
            estimate=_parse_bool(rec["estimate"], f"{where}, column estimate"),
            source=rec["source"].strip(),
        )
        if not info.source:
            raise InvalidInputError(f"{where}, column source: every parameter needs a source")
        if not 0 < info.lower <= info.upper:
            raise InvalidInputError(
                f"{where}, columns lower/upper: expected 0 < lower <= upper (fits are on log10 "
                f"scale), received lower={info.lower}, upper={info.upper}"
            )
        if info.estimate and not info.lower <= info.default <= info.upper:
            raise InvalidInputError(
                f"{where}: estimated parameter {name!r} has default {info.default} outside its "
                f"bounds [{info.lower}, {info.upper}]"
            )
        rows.append(info)
    names = {row.name for row in rows}
    per_line: dict[str, dict[str, float]] = {}
    reader = csv.DictReader(cell_lines_text.splitlines())
    lines = [c for c in (reader.fieldnames or []) if c not in ("parameter", "source")]
    for line_name in lines:
        per_line[line_name] = {}
    for line, rec in enumerate(reader, start=2):
        where = f"{origin}/cell_lines.csv, line {line}"
        name = rec["parameter"]
        if name not in names:
            raise UnknownNameError("parameter", name, names)
        if not next(r for r in rows if r.name == name).cell_line_specific:
            raise InvalidInputError(
                f"{where}: parameter {name!r} has cell-line values but is not marked "
                "cell_line_specific in parameters.csv"
            )
        for line_name in lines:
            per_line[line_name][name] = _parse_float(rec[line_name], f"{where}, column {line_name}")
    return ParameterTable(rows, per_line)


@cache
def default_table() -> ParameterTable:
    """The parameter table shipped with paracrine (read once, then cached)."""
    folder = resources.files("paracrine.models")
    return read_parameter_table(
        (folder / "parameters.csv").read_text(encoding="utf-8"),
        (folder / "cell_lines.csv").read_text(encoding="utf-8"),
        origin="paracrine/models",
    )
