"""JSON-lines checkpoint of a multistart fit: one header line, then one line per finished start.

The header identifies the fit (problem signature, seed, number of starts, options and a hash of
the start points); resuming with a different one is refused, naming the fields that differ.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from paracrine.errors import FitError
from paracrine.fitting.result import StartResult

logger = logging.getLogger(__name__)

FORMAT = "paracrine.fitting.checkpoint/1"


def problem_signature(problem: Any) -> dict[str, Any]:
    """Structure of the problem plus its ``fingerprint()`` (data, settings) if it has one."""
    cls = type(problem)
    fingerprint = problem.fingerprint()
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "parameter_names": list(problem.parameter_names),
        "lower": [float(v) for v in np.asarray(problem.lower, dtype=float)],
        "upper": [float(v) for v in np.asarray(problem.upper, dtype=float)],
        "n_data": int(problem.n_data),
        "n_inner_parameters": int(problem.n_inner_parameters),
        "fingerprint": None if fingerprint is None else str(fingerprint),
    }


def make_header(
    problem: Any, seed: int, n_starts: int, options: Any, points: np.ndarray
) -> dict[str, Any]:
    """Header line identifying a fit."""
    digest = hashlib.sha256(np.ascontiguousarray(points, dtype=float).tobytes()).hexdigest()
    return {
        "format": FORMAT,
        "problem": problem_signature(problem),
        "seed": seed,
        "n_starts": n_starts,
        # settings that change what a start computes (not compute_covariance, done afterwards)
        "options": {k: v for k, v in options.to_dict().items() if k != "compute_covariance"},
        "start_points_sha256": digest[:32],
    }


def load(path: Path, header: dict[str, Any]) -> dict[int, StartResult]:
    """Return the starts already in *path* (writing the header if the file is new or empty).

    Raises
    ------
    FitError
        If the file is not a checkpoint or belongs to another fit.
    """
    if not path.exists() or path.stat().st_size == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(header) + "\n")
        return {}
    lines = path.read_text().splitlines()
    try:
        found = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise FitError(f"checkpoint {path}: line 1 is not JSON ({exc})") from exc
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise FitError(
            f"checkpoint {path}: expected a {FORMAT!r} header on line 1, received "
            f"{str(lines[0])[:80]!r}"
        )
    differ = [key for key in header if found.get(key) != header[key]]
    if differ:
        details = "; ".join(
            f"{key}: checkpoint has {_short(found.get(key))}, this fit has {_short(header[key])}"
            for key in differ
        )
        raise FitError(
            f"checkpoint {path} belongs to another fit ({details}); use a new checkpoint path "
            "or delete the file"
        )
    done: dict[int, StartResult] = {}
    valid = [lines[0]]
    for number, line in enumerate(lines[1:], start=2):
        try:
            start = StartResult.from_dict(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            # a fit killed mid-write leaves a truncated last line: drop it and rerun that start
            logger.warning("checkpoint %s: ignoring unreadable line %d (%s)", path, number, exc)
            continue
        done[start.index] = start
        valid.append(line)
    if len(valid) != len(lines) or not path.read_text().endswith("\n"):
        path.write_text("\n".join(valid) + "\n")
    return done


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


class Writer:
    """Appends each finished start as one JSON line, flushed immediately."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, start: StartResult) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(start.to_dict(), allow_nan=False) + "\n")
            handle.flush()
