"""Property-based fuzzing: whatever the input, the loaders return data or raise paracrine's own
error — never another exception."""

from __future__ import annotations

import io
import itertools
import math
import warnings
from importlib import resources

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paracrine.data import BlotData, ReadoutData, load_blots, load_readouts
from paracrine.errors import DataValidationError

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _bundled_lines(name: str, n: int) -> list[str]:
    """The first *n* lines of a bundled data file."""
    return (
        resources.files("paracrine.data")
        .joinpath(f"{name}.csv")
        .read_text(encoding="utf-8")
        .splitlines()[:n]
    )


_BLOT_LINES = _bundled_lines("reference_blots_synthetic", 27)
_READOUT_LINES = _bundled_lines("reference_migration_synthetic", 20)
_counter = itertools.count()

# Cells a hand-edited spreadsheet might hold.
_NASTY = st.sampled_from(
    [
        "",
        " ",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "-1",
        "1e999",
        "0",
        "1.5",
        "abc",
        '"',
        '""',
        "x,y",
        "\t",
        "MCF7",
        "pErk",
        "IL-6",
        "control",
        "١٢",
        "1_000",
        "0x10",
        "\x00",
        "é",
        "1e-400",
        "+3",
        "3.0",
        "None",
        "True",
    ]
)
_CELL = st.one_of(_NASTY, st.text(max_size=8), st.floats(allow_nan=True).map(repr))


def _load(loader, path):
    """Call *loader*; only a dataset or DataValidationError may come back."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are not failures here; errors are raised
        try:
            return loader(path)
        except DataValidationError as exc:
            caught = exc
    assert caught.issues, "a validation error must carry its issues"
    assert caught.issues[0].severity == "error"
    return None


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@st.composite
def mangled_tables(draw, lines: list[str]) -> bytes:
    rows = [line.split(",") for line in lines]
    for _ in range(draw(st.integers(0, 6))):
        action = draw(
            st.sampled_from(
                [
                    "cell",
                    "drop_row",
                    "dup_row",
                    "drop_cell",
                    "add_cell",
                    "swap_cols",
                    "truncate",
                    "header",
                ]
            )
        )
        i = draw(st.integers(0, len(rows) - 1))
        row = rows[i]
        if action == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(_CELL)
        elif action == "drop_row" and len(rows) > 1:
            rows.pop(i)
        elif action == "dup_row":
            rows.insert(i, list(row))
        elif action == "drop_cell" and row:
            row.pop(draw(st.integers(0, len(row) - 1)))
        elif action == "add_cell":
            row.append(draw(_CELL))
        elif action == "swap_cols":
            a, b = draw(st.integers(0, 9)), draw(st.integers(0, 9))
            for r in rows:
                if max(a, b) < len(r):
                    r[a], r[b] = r[b], r[a]
        elif action == "truncate":
            rows = rows[: max(1, i)]
        elif action == "header":
            rows[0][draw(st.integers(0, len(rows[0]) - 1))] = draw(_CELL)
    text = "\n".join(",".join(r) for r in rows)
    return text.encode("utf-8", errors="surrogatepass")


def _write(fuzz_dir, data: bytes):
    path = fuzz_dir / f"case{next(_counter)}.csv"
    path.write_bytes(data)
    return path


@FUZZ
@given(data=st.binary(max_size=600))
def test_any_bytes_give_data_or_a_validation_error(fuzz_dir, data):
    result = _load(load_blots, _write(fuzz_dir, data))
    assert result is None or isinstance(result, BlotData)


@FUZZ
@given(data=mangled_tables(_BLOT_LINES))
def test_mangled_blot_tables(fuzz_dir, data):
    result = _load(load_blots, _write(fuzz_dir, data))
    if result is not None:
        assert isinstance(result, BlotData)
        frame = result.frame
        assert frame["value"].ge(0).all()
        assert (
            frame[["il6_ng_ml", "vegf_ng_ml", "time_min", "value"]].map(math.isfinite).all().all()
        )
        assert str(frame["replicate"].dtype) == "int64"


@FUZZ
@given(data=mangled_tables(_READOUT_LINES))
def test_mangled_readout_tables(fuzz_dir, data):
    result = _load(load_readouts, _write(fuzz_dir, data))
    assert result is None or isinstance(result, ReadoutData)


_OBJECT = st.one_of(
    _CELL,
    st.none(),
    st.booleans(),
    st.integers(-5, 10**30),
    st.floats(allow_nan=True),
)


@FUZZ
@given(data=st.data())
def test_mangled_frames(data):
    frame = pd.read_csv(io.StringIO("\n".join(_BLOT_LINES[:8])), keep_default_na=False)
    frame = frame.astype(object)
    for _ in range(data.draw(st.integers(0, 5))):
        i = data.draw(st.integers(0, len(frame) - 1))
        j = data.draw(st.integers(0, frame.shape[1] - 1))
        frame.iat[i, j] = data.draw(_OBJECT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = BlotData.from_frame(frame)
        except DataValidationError:
            return
    assert isinstance(result, BlotData)
