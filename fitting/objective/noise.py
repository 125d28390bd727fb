"""Noise models of the objective: observable transformations and noise distributions.

PEtab's conventions (v1), which the blot problem follows too: a measurement y with model value
h, transformation t (lin, log, log10) and noise value σ (for Laplace: the scale b) has the
difference ``d = t(h) − t(y)`` and contributes

* normal: ``0.5·log(2πσ²) + 0.5·(d/σ)²``;
* Laplace: ``log(2b) + |d|/b``;

plus the Jacobian of the transformation — ``log y`` for log, ``log(y·ln 10)`` for log10 — so
that transformed data have the density of y. The blot problem's log-normal noise is the log
transformation with normal noise.
"""

from __future__ import annotations

import enum
import math

import numpy as np

__all__ = [
    "LN10",
    "LOG_FLOOR",
    "Distribution",
    "Transform",
    "TransformMasks",
    "jacobian_term",
    "nllh_terms",
    "transform",
    "weighted_residuals",
]

LN10 = math.log(10.0)
#: Model values of log-transformed observables are floored here (a knocked-out read-out is 0).
LOG_FLOOR = 1e-300


class Transform(enum.IntEnum):
    """Observable transformation (PEtab ``observableTransformation``)."""

    LIN = 0
    LOG = 1
    LOG10 = 2

    @classmethod
    def from_name(cls, name: str) -> Transform:
        return cls[name.upper()]


class Distribution(enum.IntEnum):
    """Noise distribution (PEtab ``noiseDistribution``)."""

    NORMAL = 0
    LAPLACE = 1

    @classmethod
    def from_name(cls, name: str) -> Distribution:
        return cls[name.upper()]


class TransformMasks:
    """Which rows of a code array are log and log10, computed once (hot loops reuse them)."""

    def __init__(self, codes: np.ndarray) -> None:
        codes = np.asarray(codes)
        self.log = codes == int(Transform.LOG)
        self.log10 = codes == int(Transform.LOG10)
        self.any_log = bool(self.log.any())
        self.any_log10 = bool(self.log10.any())


def transform(
    values: np.ndarray, codes: np.ndarray | TransformMasks, floor: float = LOG_FLOOR
) -> np.ndarray:
    """Apply each row's :class:`Transform` (codes per row, or their precomputed
    :class:`TransformMasks`); log arguments floored at *floor*. Returns a new array, or
    *values* itself when every row is lin."""
    masks = codes if isinstance(codes, TransformMasks) else TransformMasks(codes)
    if not (masks.any_log or masks.any_log10):
        return np.asarray(values, dtype=float)  # lin rows only: nothing to transform (no copy)
    out = np.array(values, dtype=float)
    log, log10 = masks.log, masks.log10
    if masks.any_log:
        out[log] = np.log(np.maximum(out[log], floor))
    if masks.any_log10:
        out[log10] = np.log10(np.maximum(out[log10], floor))
    return out


def jacobian_term(y: np.ndarray, codes: np.ndarray) -> float:
    """Σ of the transformation's Jacobian terms over the data (0 for lin rows)."""
    y = np.asarray(y, dtype=float)
    log = codes == Transform.LOG
    log10 = codes == Transform.LOG10
    return float(np.sum(np.log(y[log])) + np.sum(np.log(y[log10] * LN10)))


def nllh_terms(d: np.ndarray, sigma: np.ndarray, laplace: np.ndarray | None = None) -> float:
    """Σ of the distributions' terms (without the transformation's Jacobian).

    Parameters
    ----------
    d
        Differences t(h) − t(y) per row.
    sigma
        Noise value per row (σ, or the Laplace scale b).
    laplace
        Boolean per row (``None``: all normal).
    """
    s = np.abs(sigma)
    with np.errstate(all="ignore"):
        if laplace is None or not laplace.any():
            return float(np.sum(0.5 * np.log(2 * np.pi * s * s) + 0.5 * (d / s) ** 2))
        lap = laplace
        normal = 0.5 * np.log(2 * np.pi * s[~lap] ** 2) + 0.5 * (d[~lap] / s[~lap]) ** 2
        lap_terms = np.log(2 * s[lap]) + np.abs(d[lap]) / s[lap]
    return float(normal.sum() + lap_terms.sum())


def weighted_residuals(
    d: np.ndarray, sigma: np.ndarray, laplace: np.ndarray | None = None
) -> np.ndarray:
    """Residuals r with ``0.5·Σ r²`` = the data part of the nllh up to σ-only terms:
    ``d/σ`` (normal), ``sign(d)·sqrt(2|d|/b)`` (Laplace)."""
    with np.errstate(all="ignore"):
        r = d / sigma
        if laplace is not None and laplace.any():
            r[laplace] = np.sign(d[laplace]) * np.sqrt(
                2.0 * np.abs(d[laplace]) / np.abs(sigma[laplace])
            )
    return r
