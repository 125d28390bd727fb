"""Reading CSV bytes into raw text cells with line numbers, and writing CSV byte-reproducibly.

The loader parses with the standard ``csv`` module rather than ``pandas.read_csv`` so that it
sees every cell as the text in the file (nothing inferred or coerced) and knows the line each
record starts on, which is what an error message must name.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from paracrine.data.issues import Issue, IssueList

__all__ = ["RawTable", "format_float", "parse_csv_bytes", "write_csv"]

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RawTable:
    """A CSV file as text: header fields, records, and the line each record starts on."""

    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]


def _error(file: str, row: int | None, expected: str, received: str, message: str) -> Issue:
    return Issue("error", file, row, None, expected, received, message)


def parse_csv_bytes(data: bytes, file: str) -> tuple[RawTable | None, IssueList]:
    """Parse comma-separated UTF-8 bytes; return the table (None if unreadable) and issues.

    Blank lines are skipped (they hold no data); line numbers still count them, so a row's
    number is where an editor shows it.
    """
    issues = IssueList()
    if data.startswith(_BOM):  # Excel writes a byte-order mark; it is not part of the header
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        issues.append(
            _error(
                file,
                line,
                "UTF-8 text",
                f"byte 0x{data[exc.start]:02x} at offset {exc.start}",
                "the file is not UTF-8 text; save it as CSV (UTF-8)",
            )
        )
        return None, issues

    first_line = next((line for line in text.splitlines() if line.strip()), "")
    wrong = _wrong_delimiter(first_line)
    if wrong is not None:
        name, fields = wrong
        issues.append(
            _error(
                file,
                text.splitlines().index(first_line) + 1,
                "comma-separated columns (a CSV file: cell_line,condition,…)",
                f"{fields} columns separated by {name}",
                f"the file is separated by {name}, not by commas; save it as comma-separated "
                f"CSV (e.g. pandas.read_csv(path, sep={_SEPARATORS[name]!r}).to_csv(new_path, "
                "index=False)); nothing else was checked",
            )
        )
        return None, issues
    # "cell_line, condition, …": spaces after the commas carry no information; they are
    # dropped (in the header and in every cell) with one note, instead of turning every column
    # name into an unknown one.
    spaced = _spaces_after_commas(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False, skipinitialspace=spaced)
    records: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not record:
                continue
            records.append((start, record))
    except csv.Error as exc:
        issues.append(
            _error(
                file,
                previous_end + 1,
                "comma-separated text",
                str(exc),
                f"the CSV parser stopped: {exc}",
            )
        )
        return None, issues

    if not records:
        issues.append(
            _error(file, None, "a header line naming the columns", "an empty file", "empty file")
        )
        return None, issues
    (header_line, header), *body = records
    if spaced:
        issues.append(
            Issue(
                "warning",
                file,
                header_line,
                None,
                "column names separated by ',' alone",
                "spaces after the commas",
                "the header has spaces after its commas: they were ignored, in the header and "
                "in every row (the file was read as if written without them)",
            )
        )
    return RawTable(header, header_line, [r for _, r in body], [n for n, _ in body]), issues


#: Separators a spreadsheet may write instead of commas, by the name a message uses.
_SEPARATORS = {"';'": ";", "a tab": "\t", "'|'": "|"}


def _wrong_delimiter(header: str) -> tuple[str, int] | None:
    """``(name, number of columns)`` when *header* is separated by ';', a tab or '|' rather
    than commas (it splits into more fields by that separator than by commas); else None."""
    commas = len(next(csv.reader([header])))
    best = None
    for name, sep in _SEPARATORS.items():
        fields = len(next(csv.reader([header], delimiter=sep)))
        if fields > max(commas, 1) and (best is None or fields > best[1]):
            best = (name, fields)
    return best


def _spaces_after_commas(header: str) -> bool:
    """Whether *header* puts whitespace after every one of its commas (``a, b, c``)."""
    return "," in header and re.search(r",(?![ \t]+[^\s,])", header) is None


def format_float(value: float) -> str:
    """Shortest text that reads back to the same float; NaN as an empty cell."""
    if math.isnan(value):
        return ""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write text cells as CSV with ``\\n`` line endings (identical bytes on every platform)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
