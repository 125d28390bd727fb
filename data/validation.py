"""Validation of blot and read-out tables: every problem reported at once, as data.

The checks run on raw cells (text from a CSV, or Python values from a DataFrame) so that
nothing is inferred or coerced before it is checked. Each returns :class:`Issue` records; a
table is usable when the resulting :class:`IssueList` has no errors.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from paracrine.data._csv import parse_csv_bytes
from paracrine.data._resources import read_source
from paracrine.data._schema import (
    BLOT_SCHEMA,
    CONDITION_DOSE_COLUMNS,
    READOUT_SCHEMA,
    Column,
    Schema,
    condition_components,
)
from paracrine.data.issues import Issue, IssueList
from paracrine.errors import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "validate_blot_frame",
    "validate_blots",
    "validate_readout_frame",
    "validate_readouts",
]

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_NON_FINITE = {"nan", "inf", "infinity", "+inf", "-inf", "+infinity", "-infinity", "+nan", "-nan"}
_COUNT = re.compile(r"\s*\+?\d+\s*")
_MAX_COUNT = 2**31 - 1  # replicate numbers and n are stored as int64; no lab needs more
_MISSING = object()  # a cell that failed its check

#: A band this many decades (log10) or more from its blot's median is an error: no imager
#: spans it (film ~2 decades, CCD/CMOS imagers 3–4.5 decades of linear range), so it is a typo,
#: a unit or a spreadsheet artefact — e.g. 1e308.
OUTLIER_ERROR_DECADES = 6.0
#: From this many decades on, one warning for the file: within a CCD imager's range, a real
#: band can lie so far from the median (a near-background basal lane beside a strongly
#: induced one, a knock-out), so refusing it would be too strict.
OUTLIER_WARNING_DECADES = 3.0


def _whole(value: numbers.Real) -> int | None:
    """An integer, or a float with an integral value (pandas turns an integer column with a
    gap into floats: 2.0 still means 2); None otherwise."""
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"


class _Checker:
    """Collects issues for one table while cells and rows are checked."""

    def __init__(self, file: str, schema: Schema) -> None:
        self.file = file
        self.schema = schema
        self.issues = IssueList()

    def add(self, row, column, expected, received, message, severity="error") -> None:
        self.issues.append(Issue(severity, self.file, row, column, expected, received, message))

    # -- header -------------------------------------------------------------------------
    def header(self, header: Sequence[object], line: int) -> list[str | None]:
        """Check column names; return, per position, the schema column it holds (or None)."""
        names = [str(h) for h in header]
        known = self.schema.names
        counts: dict[str, int] = defaultdict(int)
        for name in names:
            counts[name] += 1
        if len(names) == 1 and ("," not in names[0]) and (";" in names[0] or "\t" in names[0]):
            sep = "';'" if ";" in names[0] else "a tab"
            self.add(
                line,
                None,
                "comma-separated columns",
                f"one column separated by {sep}",
                f"the header is separated by {sep}; save the file as comma-separated CSV",
            )
        used: list[str | None] = []
        for position, name in enumerate(names, start=1):
            if counts[name] > 1:
                if name not in used:
                    self.add(
                        line,
                        name,
                        "each column once",
                        f"{counts[name]} columns named so",
                        f"column {name!r} appears {counts[name]} times",
                    )
                used.append(None)
            elif name.strip() == "":
                self.add(
                    line,
                    None,
                    "a column name",
                    f"an empty name at position {position}",
                    f"header field {position} is empty",
                )
                used.append(None)
            elif name not in known:
                hint = did_you_mean(name, known)
                self.add(
                    line,
                    name,
                    f"one of {', '.join(known)}",
                    repr(name),
                    f"unknown column {name!r}" + (f" — did you mean {hint}?" if hint else ""),
                )
                used.append(None)
            else:
                used.append(name)
        for column in self.schema.columns:
            if column.required and counts.get(column.name, 0) == 0:
                self.add(
                    line,
                    column.name,
                    f"a column {column.name!r} ({column.description})",
                    "no such column",
                    f"missing required column {column.name!r}",
                )
        return used

    # -- cells ---------------------------------------------------------------------------
    def cell(self, column: Column, value: object, row: int) -> Any:
        """Return the typed value of one cell, or ``_MISSING`` after recording an issue."""
        name = column.name
        blank = value is None or (isinstance(value, str) and value.strip() == "")
        if isinstance(value, float) and math.isnan(value):
            blank = True
        if blank:
            if column.kind == "text":
                return ""
            if column.blank_ok:
                return math.nan
            self.add(
                row,
                name,
                f"a value ({column.description})",
                "an empty cell",
                f"missing value in column {name!r}",
            )
            return _MISSING
        if column.kind == "choice":
            return self._choice(column, value, row)
        if column.kind == "name":
            return self._name(column, value, row)
        if column.kind in ("label", "text"):
            return self._text(column, value, row)
        if column.kind == "count":
            return self._count(column, value, row)
        return self._number(column, value, row)

    def _choice(self, column: Column, value: object, row: int) -> Any:
        if isinstance(value, str) and value in column.choices:
            return value
        hint = did_you_mean(str(value), column.choices)
        self.add(
            row,
            column.name,
            f"one of {', '.join(column.choices)}",
            _shown(value),
            f"unknown {column.description} {value!r}"
            + (f" — did you mean {hint}?" if hint else ""),
        )
        return _MISSING

    def _name(self, column: Column, value: object, row: int) -> Any:
        text = self._text(column, value, row)
        if text is _MISSING or text == text.strip():
            return text
        self.add(
            row,
            column.name,
            f"a {column.description} without surrounding spaces",
            repr(text),
            f"{column.description} {text!r} has spaces around it; write {text.strip()!r}",
        )
        return _MISSING

    def lookalikes(self, values: dict[str, list[Any]], lines: list[int]) -> None:
        """Warn once per name that is not one paracrine knows but differs from one only in case
        or punctuation (``MCF7`` for ``MCF-7``): it is read as a separate cell line/read-out."""
        for column in self.schema.columns:
            if column.kind != "name" or column.name not in values:
                continue
            known = {_folded(k): k for k in column.choices}
            seen: set[str] = set()
            for value, line in zip(values[column.name], lines, strict=True):
                if value is _MISSING or value in column.choices or value in seen:
                    continue
                seen.add(value)
                twin = known.get(_folded(value))
                if twin is None:
                    continue
                self.add(
                    line,
                    column.name,
                    f"{twin!r} if this is that {column.description}",
                    repr(value),
                    f"{column.description} {value!r} looks like {twin!r} but is spelt "
                    f"differently: it is read as another {column.description} (every row with "
                    f"it); write {twin!r} if it is the same",
                    severity="warning",
                )

    def _text(self, column: Column, value: object, row: int) -> Any:
        if isinstance(value, str):
            control = next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)
            if control is None:
                return value
            self.add(
                row,
                column.name,
                "printable text",
                repr(value),
                f"column {column.name!r} holds the control character {control!r}",
            )
            return _MISSING
        # An integer id (blot 3) from pandas.read_csv names the same thing as the text "3".
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return str(value)
        self.add(row, column.name, "text", _shown(value), f"column {column.name!r} must hold text")
        return _MISSING

    def _count(self, column: Column, value: object, row: int) -> Any:
        number: int | None = None
        if isinstance(value, str):
            if _COUNT.fullmatch(value):
                number = int(value)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = _whole(value)
        if number is not None and number > _MAX_COUNT:
            self.add(
                row,
                column.name,
                f"a whole number ≤ {_MAX_COUNT}",
                _shown(value),
                f"value too large for column {column.name!r}",
            )
            return _MISSING
        if number is None or number < 1:
            self.add(
                row,
                column.name,
                "a whole number ≥ 1",
                _shown(value),
                f"column {column.name!r} must hold a whole number ≥ 1",
            )
            return _MISSING
        return number

    def _number(self, column: Column, value: object, row: int) -> Any:
        name = column.name
        number: float | None = None
        if isinstance(value, str):
            if value.strip().lower() in _NON_FINITE:
                number = math.nan
            elif _NUMBER.fullmatch(value):
                number = float(value)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
        if number is None:
            self.add(
                row,
                name,
                f"a number ({column.description})",
                _shown(value),
                f"non-numeric value in column {name!r}",
            )
            return _MISSING
        if not math.isfinite(number):
            self.add(
                row, name, "a finite number", _shown(value), f"non-finite value in column {name!r}"
            )
            return _MISSING
        if number < 0:
            self.add(row, name, "a value ≥ 0", _shown(value), f"negative value in column {name!r}")
            return _MISSING
        if column.maximum is not None and number > column.maximum:
            self.add(
                row,
                name,
                f"a value ≤ {column.maximum:g}",
                _shown(value),
                f"value above {column.maximum:g} in column {name!r}",
            )
            return _MISSING
        return number

    # -- rows ----------------------------------------------------------------------------
    def duplicates(self, values: dict[str, list[Any]], lines: list[int]) -> None:
        key = [k for k in self.schema.key if k in values]
        if len(key) < len(self.schema.key):
            return
        first: dict[tuple, int] = {}
        for i, line in enumerate(lines):
            k = tuple(values[c][i] for c in key)
            if any(v is _MISSING for v in k):
                continue
            if k in first:
                self.add(
                    line,
                    None,
                    f"one row per ({', '.join(key)})",
                    f"a repeat of row {first[k]}",
                    f"duplicate measurement: same {', '.join(key)} as row {first[k]}",
                )
            else:
                first[k] = line

    def doses(self, values: dict[str, list[Any]], lines: list[int]) -> None:
        if "condition" not in values:
            return
        dose_columns = [c for c in CONDITION_DOSE_COLUMNS.values() if c in self.schema.names]
        for i, line in enumerate(lines):
            condition = values["condition"][i]
            if condition is _MISSING:
                continue
            agents = condition_components(condition)
            if agents is None or any(
                CONDITION_DOSE_COLUMNS[a] not in self.schema.names for a in agents
            ):
                continue
            stated = {CONDITION_DOSE_COLUMNS[a] for a in agents}
            for column in dose_columns:
                dose = values.get(column, [_MISSING] * len(lines))[i]
                if dose is _MISSING:
                    continue
                if column in stated and dose == 0:
                    self.add(
                        line,
                        column,
                        f"a dose > 0 for condition {condition!r}",
                        "0",
                        f"condition {condition!r} contradicts {column} = 0",
                    )
                elif column not in stated and dose != 0:
                    self.add(
                        line,
                        column,
                        f"0 for condition {condition!r}",
                        f"{dose:g}",
                        f"condition {condition!r} contradicts {column} = {dose:g}",
                    )

    def blot_scales(self, values: dict[str, list[Any]], lines: list[int]) -> None:
        """Warn about blots whose scale factor nothing ties to the rest of the data."""
        needed = ("cell_line", "readout", "blot", "condition", "time_min")
        if any(c not in values for c in needed):
            return
        points: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        first_line: dict[tuple, int] = {}
        for i, line in enumerate(lines):
            row = [values[c][i] for c in needed]
            if any(v is _MISSING for v in row):
                continue
            cell_line, readout, blot, condition, time = row
            points[(cell_line, readout)][blot].add((condition, time))
            first_line.setdefault((cell_line, readout, blot), line)
        single: list[tuple[int, str, str, str]] = []
        unshared: list[tuple[int, str, str, str]] = []
        for (cell_line, readout), blots in points.items():
            for blot, lanes in blots.items():
                line = first_line[(cell_line, readout, blot)]
                shared = any(lanes & other for b, other in blots.items() if b != blot)
                if len(lanes) == 1:
                    single.append((line, blot, cell_line, readout))
                elif len(blots) > 1 and not shared:
                    unshared.append((line, blot, cell_line, readout))
        # One warning per kind of problem, however many blots have it (a file with every band
        # on its own blot gave hundreds).
        if single:
            line, blot, cell_line, readout = single[0]
            if len(single) == 1:
                what = f"blot {blot!r} holds a single {cell_line} {readout} point"
            else:
                what = f"{len(single)} blots hold a single point each (first: {blot!r}, row {line})"
            self.add(
                line,
                "blot",
                "at least two (condition, time) lanes per blot",
                f"{len(single)} blot{'s' * (len(single) > 1)} with one",
                f"{what}: a blot's scale factor absorbs a lone point, so it carries no information",
                severity="warning",
            )
        if unshared:
            line, blot, cell_line, readout = unshared[0]
            if len(unshared) == 1:
                what = f"blot {blot!r} shares no point with another {cell_line} {readout} blot"
            else:
                what = (
                    f"{len(unshared)} blots share no (condition, time) point with another blot "
                    f"of their cell line and read-out (first: {blot!r}, row {line})"
                )
            self.add(
                line,
                "blot",
                "a (condition, time) point shared with another blot of the same cell line and "
                "read-out",
                f"{len(unshared)} blot{'s' * (len(unshared) > 1)} sharing none",
                f"{what}: its scale factor is unidentifiable from the data alone",
                severity="warning",
            )

    def magnitudes(self, values: dict[str, list[Any]], lines: list[int]) -> None:
        """Bands orders of magnitude away from their blot's median: a typo, a unit or a
        spreadsheet artefact (1e308), not a band. Beyond :data:`OUTLIER_ERROR_DECADES` an error
        per band; beyond :data:`OUTLIER_WARNING_DECADES` one warning for the file."""
        if "blot" not in values or "value" not in values:
            return
        by_blot: dict[Any, list[int]] = defaultdict(list)
        for i, (blot, value) in enumerate(zip(values["blot"], values["value"], strict=True)):
            if blot is not _MISSING and value is not _MISSING and value > 0:
                by_blot[blot].append(i)
        suspicious: list[tuple[int, Any, float, float, float]] = []
        for blot, rows in by_blot.items():
            if len(rows) < 3:  # a median of two is the pair itself
                continue
            median = statistics.median(values["value"][i] for i in rows)
            for i in rows:
                value = values["value"][i]
                decades = abs(math.log10(value) - math.log10(median))
                if decades >= OUTLIER_ERROR_DECADES:
                    self.add(
                        lines[i],
                        "value",
                        f"a band within {OUTLIER_ERROR_DECADES:g} decades of its blot's "
                        f"median ({median:.4g} on blot {blot!r})",
                        f"{value:.4g}",
                        f"value {value:.4g} is {decades:.1f} orders of magnitude from the median "
                        f"{median:.4g} of blot {blot!r}: beyond any imager's dynamic range — a "
                        "typo, a unit or a spreadsheet artefact",
                    )
                elif decades >= OUTLIER_WARNING_DECADES:
                    suspicious.append((lines[i], blot, value, median, decades))
        if suspicious:
            line, blot, value, median, decades = suspicious[0]
            self.add(
                line,
                "value",
                f"bands within {OUTLIER_WARNING_DECADES:g} decades of their blot's median",
                f"{len(suspicious)} band{'s' * (len(suspicious) > 1)} further away",
                f"{len(suspicious)} band{'s are' if len(suspicious) > 1 else ' is'} "
                f"{OUTLIER_WARNING_DECADES:g}+ orders of magnitude from its blot's median "
                f"(first: {value:.4g} against {median:.4g} on blot {blot!r}, "
                f"{decades:.1f} decades); check them",
                severity="warning",
            )


def _folded(name: str) -> str:
    """*name* in lower case without punctuation or spaces: ``MCF-7`` and ``mcf 7`` agree."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def check_table(
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    lines: Sequence[int],
    *,
    file: str,
    schema: Schema,
    header_line: int = 1,
) -> tuple[IssueList, dict[str, list[Any]]]:
    """Check a table cell by cell and row by row.

    Returns the issues and, per schema column present, the typed values (rows that failed
    keep ``_MISSING`` placeholders; a caller builds a frame only when there are no errors).
    """
    checker = _Checker(file, schema)
    # The likeliest mistake first: the other format handed to the wrong loader.
    other, loader = (
        (READOUT_SCHEMA, "load_readouts") if schema is BLOT_SCHEMA else (BLOT_SCHEMA, "load_blots")
    )
    if set(other.required) <= {str(h) for h in header}:
        checker.add(
            header_line,
            None,
            f"the columns of a {schema.name} file",
            f"the columns of a {other.name} file",
            f"this is a {other.name} file: read it with {loader}()",
        )
    positions = checker.header(header, header_line)
    if not rows:
        checker.add(None, None, "at least one data row", "a header only", "no data rows")
    values: dict[str, list[Any]] = {name: [] for name in positions if name is not None}
    width = len(positions)
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            checker.add(
                line,
                None,
                f"{width} fields, as in the header",
                f"{len(row)} fields",
                f"row has {len(row)} fields but the header has {width}",
            )
            for name in values:
                values[name].append(_MISSING)
            continue
        for name, cell in zip(positions, row, strict=True):
            if name is not None:
                values[name].append(checker.cell(schema.column(name), cell, line))
    checker.duplicates(values, list(lines))
    checker.doses(values, list(lines))
    checker.lookalikes(values, list(lines))
    if schema is BLOT_SCHEMA:
        checker.magnitudes(values, list(lines))
    # Identifiability is only meaningful on clean data: a rejected cell would make a blot
    # look disconnected and bury the real errors under false warnings.
    if schema is BLOT_SCHEMA and not checker.issues.has_errors():
        checker.blot_scales(values, list(lines))
        for line, value in zip(lines, values.get("value", []), strict=False):
            if value == 0:
                checker.add(
                    line,
                    "value",
                    "a value > 0",
                    "0",
                    "a zero band cannot be fit on the log scale (log-normal noise)",
                    severity="warning",
                )
    return checker.issues, values


def _check_bytes(data: bytes, file: str, schema: Schema) -> tuple[IssueList, dict | None]:
    table, issues = parse_csv_bytes(data, file)
    if table is None:
        return issues, None
    more, values = check_table(
        table.header,
        table.rows,
        table.lines,
        file=file,
        schema=schema,
        header_line=table.header_line,
    )
    # the parser's notes (spaces after commas) after the table's own issues: errors first
    return IssueList([*more, *issues]), values


def _check_frame(frame: pd.DataFrame, source: str, schema: Schema) -> tuple[IssueList, dict]:
    rows = [list(r) for r in frame.itertuples(index=False, name=None)]
    # A frame has no lines; number rows as the CSV that ``to_csv(index=False)`` would write.
    lines = list(range(2, len(rows) + 2))
    return check_table(list(frame.columns), rows, lines, file=source, schema=schema)


def validate_blots(path_or_name: str | os.PathLike[str]) -> IssueList:
    """Validate a blot time-course CSV file (or bundled data set) without loading it.

    Parameters
    ----------
    path_or_name
        Path to a CSV file, or the name of a bundled data set (see ``list_datasets()``).

    Returns
    -------
    IssueList
        Every problem found; ``.has_errors()`` tells whether ``load_blots`` would fail.

    Raises
    ------
    UnknownNameError, InvalidInputError
        The data set or file cannot be found or read.
    """
    data, file = read_source(path_or_name)
    return _check_bytes(data, file, BLOT_SCHEMA)[0]


def validate_readouts(path_or_name: str | os.PathLike[str]) -> IssueList:
    """Validate a migration/proliferation read-out CSV file without loading it.

    See :func:`validate_blots` for parameters and errors.
    """
    data, file = read_source(path_or_name)
    return _check_bytes(data, file, READOUT_SCHEMA)[0]


def validate_blot_frame(frame: pd.DataFrame, *, source: str = "<DataFrame>") -> IssueList:
    """Validate a blot table held as a DataFrame (e.g. the output of a normalisation helper).

    Rows are numbered as in the CSV ``frame.to_csv(index=False)`` would write (header = 1).
    """
    return _check_frame(frame, source, BLOT_SCHEMA)[0]


def validate_readout_frame(frame: pd.DataFrame, *, source: str = "<DataFrame>") -> IssueList:
    """Validate a read-out table held as a DataFrame; rows numbered as for blots."""
    return _check_frame(frame, source, READOUT_SCHEMA)[0]
