"""What labs do to raw densitometry, as functions on tidy DataFrames.

A lab quantifies each phospho band and a reference on the same lane (a loading control such
as GAPDH/β-actin, or the total protein), takes their ratio, and often divides by the
unstimulated (time-0) lane of the same blot. These helpers do exactly that and keep the
``blot`` column, so a fit can still give each blot its own scale factor. Each step appends
its name to the ``normalization`` column (``"loading_control;time_zero"``), so the file says
what its values are relative to.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from paracrine.data._schema import BLOT_SCHEMA
from paracrine.errors import InvalidInputError, did_you_mean

__all__ = ["normalize_to_loading_control", "normalize_to_time_zero", "normalize_to_total_protein"]

_STEP_SEPARATOR = ";"


def _require_columns(frame: pd.DataFrame, names: Sequence[str], why: str) -> None:
    present = [str(c) for c in frame.columns]
    for name in names:
        if name not in present:
            hint = did_you_mean(name, present)
            raise InvalidInputError(
                f"{why} needs a column {name!r}; "
                + (f"did you mean {hint}?" if hint else f"the columns are {present}")
            )


def _numbers(frame: pd.DataFrame, column: str, *, positive: bool) -> np.ndarray:
    """The column as floats; raise naming the rows (CSV line numbers) that are unusable."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | ((values <= 0) if positive else (values < 0))
    if bad.any():
        rows = (np.flatnonzero(bad) + 2).tolist()  # as lines of the CSV, header = 1
        shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
        needed = "a finite number > 0" if positive else "a finite number ≥ 0"
        received = frame[column].iloc[int(np.flatnonzero(bad)[0])]
        received = received.item() if isinstance(received, np.generic) else received
        raise InvalidInputError(
            f"column {column!r} must hold {needed} in every row; rows {shown} do not "
            f"(first: {received!r})"
        )
    return values


def _append_step(frame: pd.DataFrame, step: str) -> pd.Series:
    if "normalization" not in frame.columns:
        return pd.Series(step, index=frame.index, dtype="str")
    previous = frame["normalization"].fillna("").astype(str)
    return previous.where(previous == "", previous + _STEP_SEPARATOR) + step


def _ordered_columns(frame: pd.DataFrame) -> pd.DataFrame:
    known = [c for c in BLOT_SCHEMA.names if c in frame.columns]
    return frame[known + [c for c in frame.columns if c not in known]]


def _ratio(frame: pd.DataFrame, signal: str, reference: str, step: str) -> pd.DataFrame:
    why = f"normalising to {step.replace('_', ' ')}"
    _require_columns(frame, [signal, reference], why)
    if signal != "value" and "value" in frame.columns:
        raise InvalidInputError(
            f"{why}: the frame already has a 'value' column besides the signal column "
            f"{signal!r}; drop or rename one of them"
        )
    numerator = _numbers(frame, signal, positive=False)
    denominator = _numbers(frame, reference, positive=True)
    out = frame.drop(columns=[signal, reference]).copy()
    out["value"] = numerator / denominator
    if "sd" in out.columns:
        out["sd"] = pd.to_numeric(out["sd"], errors="coerce") / denominator
    out["normalization"] = _append_step(frame, step)
    return _ordered_columns(out.reset_index(drop=True))


def normalize_to_loading_control(
    frame: pd.DataFrame, *, signal: str = "signal", loading_control: str = "loading_control"
) -> pd.DataFrame:
    """Divide each band by the loading control measured on the same lane.

    Parameters
    ----------
    frame
        Raw densitometry, one row per band, with the blot columns except ``value`` plus a
        *signal* column (phospho band) and a *loading_control* column (e.g. GAPDH).
    signal, loading_control
        Names of those two columns.

    Returns
    -------
    pandas.DataFrame
        The blot columns with ``value = signal / loading_control`` (``sd`` scaled alike),
        the two raw columns removed and ``"loading_control"`` appended to ``normalization``.

    Raises
    ------
    InvalidInputError
        A column is missing, a signal is negative or not a number, a loading control is not
        a positive number, or the frame already has an unrelated ``value`` column.

    Examples
    --------
    >>> raw = pd.DataFrame({"signal": [2.0, 6.0], "loading_control": [1.0, 2.0]})
    >>> normalize_to_loading_control(raw)["value"].tolist()
    [2.0, 3.0]
    """
    return _ratio(frame, signal, loading_control, "loading_control")


def normalize_to_total_protein(
    frame: pd.DataFrame, *, signal: str = "signal", total: str = "total_protein"
) -> pd.DataFrame:
    """Divide each phospho band by its total protein (e.g. pERK / total ERK) on the same lane.

    As :func:`normalize_to_loading_control`, appending ``"total_protein"`` to
    ``normalization``.
    """
    return _ratio(frame, signal, total, "total_protein")


def normalize_to_time_zero(
    frame: pd.DataFrame, *, reference_condition: str | None = None
) -> pd.DataFrame:
    """Divide every band by the time-0 lane of the same blot, cell line, read-out and replicate.

    If a blot holds several time-0 lanes (say, one per condition) their mean is the
    reference; *reference_condition* (e.g. ``"control"``) restricts the reference to that
    condition's time-0 lane. The ``blot`` column is kept.

    Parameters
    ----------
    frame
        Blot table with at least ``blot``, ``time_min`` and ``value``.
    reference_condition
        Condition whose time-0 lane is the reference; None uses every time-0 lane.

    Returns
    -------
    pandas.DataFrame
        Same rows and columns, ``value`` (and ``sd``) divided by the reference, and
        ``"time_zero"`` appended to ``normalization``.

    Raises
    ------
    InvalidInputError
        A column is missing, values are unusable, or a blot has no (positive) time-0 lane.
    """
    _require_columns(frame, ["blot", "time_min", "value"], "normalising to time 0")
    groups = [c for c in ("blot", "cell_line", "readout", "replicate") if c in frame.columns]
    values = _numbers(frame, "value", positive=False)
    times = _numbers(frame, "time_min", positive=False)
    is_reference = times == 0
    if reference_condition is not None:
        _require_columns(frame, ["condition"], "a reference condition")
        is_reference &= (frame["condition"] == reference_condition).to_numpy()
    labels = frame[groups].astype(str).reset_index(drop=True)
    # one hashable key per (blot, line, read-out, replicate); a list comprehension, not
    # DataFrame.agg, so that an empty frame still gives a Series
    keys = pd.Series(
        ["\x1f".join(row) for row in labels.itertuples(index=False, name=None)], dtype=object
    )
    reference = pd.Series(np.where(is_reference, values, np.nan)).groupby(keys).mean()
    per_row = keys.map(reference).to_numpy(dtype=float)
    missing = ~np.isfinite(per_row) | (per_row <= 0)
    if missing.any():
        lacking = labels[missing].drop_duplicates()
        what = "time-0 lane" + (f" of {reference_condition!r}" if reference_condition else "")
        listed = "; ".join(
            ", ".join(f"{g}={v}" for g, v in zip(groups, row, strict=True))
            for row in lacking.head(5).itertuples(index=False, name=None)
        )
        raise InvalidInputError(
            f"normalising to time 0 needs a positive {what} in every blot; "
            f"{len(lacking)} group(s) have none: {listed}" + (" …" if len(lacking) > 5 else "")
        )
    out = frame.copy()
    out["value"] = values / per_row
    if "sd" in out.columns:
        out["sd"] = pd.to_numeric(out["sd"], errors="coerce") / per_row
    out["normalization"] = _append_step(frame, "time_zero")
    return _ordered_columns(out)
