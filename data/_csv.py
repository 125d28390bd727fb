"""Reading CSV bytes into raw text cells with line numbers, and writing CSV byte-reproducibly.

The loader parses with the standard ``csv`` module rather than ``pandas.read_csv`` so that it
sees every cell as the text in the file (nothing inferred or coerced) and knows the line each
record starts on, which is what an error message must name.
"""

from __future__ import annotations

import csv
import io
import math
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

    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
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
    return RawTable(header, header_line, [r for _, r in body], [n for n, _ in body]), issues


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
