"""Factories for small blot and read-out CSV files used across the data tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

BLOT_HEADER = [
    "cell_line",
    "condition",
    "il6_ng_ml",
    "vegf_ng_ml",
    "time_min",
    "readout",
    "value",
    "replicate",
    "blot",
]
# One MCF-7 pERK blot (lines 2-6 of the file) and a second blot sharing its t = 0 lane.
BLOT_ROWS = [
    ["MCF-7", "control", "0", "0", "0", "pERK", "1.0", "1", "b1"],
    ["MCF-7", "control", "0", "0", "15", "pERK", "1.1", "1", "b1"],
    ["MCF-7", "IL-6", "50", "0", "15", "pERK", "2.0", "1", "b1"],
    ["MCF-7", "VEGF", "0", "50", "15", "pERK", "2.5", "1", "b1"],
    ["MCF-7", "IL-6+VEGF", "50", "50", "15", "pERK", "4.0", "1", "b1"],
    ["MCF-7", "control", "0", "0", "0", "pERK", "0.5", "1", "b2"],
    ["MCF-7", "IL-6+VEGF", "50", "50", "120", "pERK", "1.5", "1", "b2"],
]

READOUT_HEADER = [
    "cell_line",
    "condition",
    "il6_ng_ml",
    "vegf_ng_ml",
    "bevacizumab_ug_ml",
    "anti_il6_ug_ml",
    "msc_cm_fraction",
    "readout",
    "fold_change",
    "sd",
    "n",
]
READOUT_ROWS = [
    ["T47D", "control", "0", "0", "0", "0", "0", "migration", "1.0", "0.1", "3"],
    ["T47D", "IL-6", "50", "0", "0", "0", "0", "migration", "1.8", "0.2", "3"],
    ["T47D", "MSC-CM", "0", "0", "0", "0", "0.5", "migration", "2.6", "0.3", "3"],
    ["T47D", "MSC-CM+bevacizumab", "0", "0", "100", "0", "0.5", "migration", "2.0", "0.2", "3"],
    ["T47D", "control", "0", "0", "0", "0", "0", "proliferation", "1.0", "0.05", "6"],
]


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to ``tmp_path/name`` and return the path."""

    def _write(content: str | bytes, name: str = "bad.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def blot_csv(write) -> Callable[..., Path]:
    """Write the small valid blot file, with cells replaced: ``{(row_index, column): text}``."""

    def _make(changes=None, *, header=None, rows=None, name="bad.csv") -> Path:
        header = list(header or BLOT_HEADER)
        table = [list(r) for r in (rows if rows is not None else BLOT_ROWS)]
        for (i, column), text in (changes or {}).items():
            table[i][header.index(column)] = text
        return write(csv_text(header, table), name)

    return _make


@pytest.fixture
def readout_csv(write) -> Callable[..., Path]:
    """As ``blot_csv`` for the read-out format."""

    def _make(changes=None, *, name="bad.csv") -> Path:
        table = [list(r) for r in READOUT_ROWS]
        for (i, column), text in (changes or {}).items():
            table[i][READOUT_HEADER.index(column)] = text
        return write(csv_text(READOUT_HEADER, table), name)

    return _make


# Under --import-mode=importlib a test module cannot import conftest, so the tables and the
# text helper reach the tests as fixtures.
@pytest.fixture
def blot_header() -> list[str]:
    return list(BLOT_HEADER)


@pytest.fixture
def blot_rows() -> list[list[str]]:
    return [list(r) for r in BLOT_ROWS]


@pytest.fixture
def to_csv_text() -> Callable[[list[str], list[list[str]]], str]:
    return csv_text
