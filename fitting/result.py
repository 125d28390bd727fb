"""Passive result containers of a multistart fit: :class:`StartResult` and :class:`FitResult`.

Statistics follow lmfit's names (``nllh``, ``chisqr``, ``aic``, ``bic``, ``success``,
``message``, ``params``). Information criteria count every estimated quantity,
``k = n_free = len(parameter_names) + n_inner_parameters`` (scales and noise levels solved in
closed form are still estimated from the data), with ``n = n_data``:

* ``AIC  = 2·nllh + 2k``
* ``AICc = AIC + 2k(k + 1)/(n − k − 1)`` (``inf`` when ``n − k − 1 ≤ 0``)
* ``BIC  = 2·nllh + k·ln(n)``

``chisqr`` is the sum of squared *weighted* residuals at the best point (after the noise levels
were re-solved there), not ``2·nllh``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from paracrine.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import lmfit
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["FitResult", "StartResult"]

Status = Literal["converged", "max_evaluations", "failed"]
_FORMAT = "paracrine.fitting.FitResult/1"
_FIELDS = (
    "parameter_names",
    "lower",
    "upper",
    "x",
    "values",
    "covar",
    "starts",
    "n_data",
    "n_inner_parameters",
    "n_starts",
    "seed",
    "options",
    "wall_time_s",
    "interrupted",
    "metadata",
)


def _enc(value: float) -> float | str:
    """JSON-safe float: finite floats as numbers (exact via repr), others as strings."""
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def _dec(value: float | str) -> float:
    return float(value)


def _enc_array(a: np.ndarray) -> list:
    return [_enc(v) for v in np.asarray(a, dtype=float).ravel()]


@dataclass(frozen=True)
class StartResult:
    """Outcome of one local optimisation (one start of a multistart fit).

    Attributes
    ----------
    index
        Position of the start in the seeded start sequence (its identity).
    x0, x
        Start and end point on the optimisation scale.
    nllh
        Negative log-likelihood at ``x``, re-evaluated at tight integrator tolerance
        (``inf`` if the start failed).
    chisqr
        Sum of squared weighted residuals at ``x`` with the noise levels re-solved there.
    n_fev
        Calls of ``problem.residuals`` (including those made for finite differences).
    n_jev
        Jacobian evaluations (finite-difference or the problem's own).
    n_rounds
        Outer rounds of the alternating scheme (inner update + least squares).
    status
        ``'converged'``, ``'max_evaluations'`` or ``'failed'``.
    message
        Why it stopped (for failures the exception type and message).
    time_s, cpu_time_s
        Wall-clock and CPU time of this start in the process that ran it.
    """

    index: int
    x0: np.ndarray
    x: np.ndarray
    nllh: float
    chisqr: float
    n_fev: int
    n_jev: int
    n_rounds: int
    status: Status
    message: str
    time_s: float
    cpu_time_s: float

    @property
    def failed(self) -> bool:
        """True if the start raised or produced non-finite values."""
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (non-finite floats as strings); inverse of :meth:`from_dict`."""
        return {
            "index": self.index,
            "x0": _enc_array(self.x0),
            "x": _enc_array(self.x),
            "nllh": _enc(self.nllh),
            "chisqr": _enc(self.chisqr),
            "n_fev": self.n_fev,
            "n_jev": self.n_jev,
            "n_rounds": self.n_rounds,
            "status": self.status,
            "message": self.message,
            "time_s": _enc(self.time_s),
            "cpu_time_s": _enc(self.cpu_time_s),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StartResult:
        """Rebuild a start from :meth:`to_dict` output."""
        return cls(
            index=int(d["index"]),
            x0=np.array([_dec(v) for v in d["x0"]], dtype=float),
            x=np.array([_dec(v) for v in d["x"]], dtype=float),
            nllh=_dec(d["nllh"]),
            chisqr=_dec(d["chisqr"]),
            n_fev=int(d["n_fev"]),
            n_jev=int(d["n_jev"]),
            n_rounds=int(d["n_rounds"]),
            status=d["status"],
            message=str(d["message"]),
            time_s=_dec(d["time_s"]),
            cpu_time_s=_dec(d["cpu_time_s"]),
        )


def sort_starts(starts: list[StartResult]) -> list[StartResult]:
    """Best first; failed starts last; ties broken by start index (deterministic)."""
    return sorted(starts, key=lambda s: (math.inf if s.failed else s.nllh, s.index))


@dataclass(frozen=True)
class FitResult:
    """Everything a multistart fit found. A passive, immutable container: nothing here re-runs
    the model, and everything (``metadata`` included) is given when it is made.

    Attributes
    ----------
    parameter_names
        Free parameters, on the optimisation scale (usually log10).
    lower, upper
        Their bounds on the optimisation scale.
    x
        Best point on the optimisation scale (NaN if no start finished successfully).
    values
        Best point on the natural scale (``problem.to_natural``; equal to ``x`` if the problem
        has no ``to_natural``).
    covar
        Covariance ``(JᵀJ)⁻¹`` of the weighted residuals at ``x`` in optimisation-scale units,
        or ``None`` if the Jacobian is singular or could not be evaluated.
    starts
        Every finished start, sorted best first (failed ones last) – the waterfall.
    n_data, n_inner_parameters
        Measurements and analytically solved inner parameters (for AIC/BIC).
    n_starts, seed
        Requested number of starts and the seed of the Latin hypercube.
    options
        Optimiser settings used (see :class:`paracrine.fitting.engine.FitOptions`).
    wall_time_s
        Wall-clock time of the whole fit.
    interrupted
        True if the fit was stopped (Ctrl-C) before every start finished.
    metadata
        Free-form JSON-serialisable information (variant, data set, …) set by the caller.
    """

    parameter_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    x: np.ndarray
    values: dict[str, float]
    covar: np.ndarray | None
    starts: list[StartResult]
    n_data: int
    n_inner_parameters: int
    n_starts: int
    seed: int
    options: dict[str, Any] = field(default_factory=dict)
    wall_time_s: float = 0.0
    interrupted: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # read-only view: what describes a fit is given at construction, not added later
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    # -- best start and statistics ------------------------------------------------------------
    @property
    def best(self) -> StartResult | None:
        """The best successful start, or ``None`` if every start failed."""
        ok = [s for s in self.starts if not s.failed]
        return sort_starts(ok)[0] if ok else None

    @property
    def nllh(self) -> float:
        """Negative log-likelihood of the best start (``inf`` if none succeeded)."""
        best = self.best
        return best.nllh if best is not None else math.inf

    @property
    def chisqr(self) -> float:
        """Sum of squared weighted residuals at the best point."""
        best = self.best
        return best.chisqr if best is not None else math.inf

    @property
    def n_free(self) -> int:
        """Number of estimated quantities k = free parameters + inner parameters."""
        return len(self.parameter_names) + self.n_inner_parameters

    @property
    def aic(self) -> float:
        """Akaike information criterion, 2·nllh + 2k."""
        return 2.0 * self.nllh + 2.0 * self.n_free

    @property
    def aicc(self) -> float:
        """Small-sample AIC, AIC + 2k(k+1)/(n−k−1); ``inf`` if n − k − 1 ≤ 0."""
        k, n = self.n_free, self.n_data
        if n - k - 1 <= 0:
            return math.inf
        return self.aic + 2.0 * k * (k + 1) / (n - k - 1)

    @property
    def bic(self) -> float:
        """Bayesian information criterion, 2·nllh + k·ln(n)."""
        return 2.0 * self.nllh + self.n_free * math.log(max(self.n_data, 1))

    @property
    def success(self) -> bool:
        """True if the best start converged and the fit was not interrupted."""
        best = self.best
        return best is not None and best.status == "converged" and not self.interrupted

    @property
    def message(self) -> str:
        """One line summarising how the fit ended."""
        done = len(self.starts)
        text = f"{done}/{self.n_starts} starts finished, {self.n_failed} failed"
        if self.interrupted:
            text += "; interrupted"
        best = self.best
        if best is None:
            return text + "; no start succeeded"
        return text + f"; best start #{best.index}: {best.status} ({best.message})"

    @property
    def n_failed(self) -> int:
        """Number of failed starts."""
        return sum(s.failed for s in self.starts)

    def n_hits(self, tol: float = 0.1) -> int:
        """Number of successful starts whose nllh is within *tol* of the best."""
        best = self.nllh
        return sum(1 for s in self.starts if not s.failed and s.nllh <= best + tol)

    @property
    def fraction_hits(self) -> float:
        """Fraction of finished starts that reached the best nllh (+0.1)."""
        return self.n_hits() / len(self.starts) if self.starts else 0.0

    @property
    def start_times_s(self) -> np.ndarray:
        """Wall-clock time of each start, in the order of :attr:`starts`."""
        return np.array([s.time_s for s in self.starts], dtype=float)

    def expected_time_to_hit(self, tol: float = 0.1) -> float:
        """Total CPU time of all starts divided by the number of hits (``inf`` if none), in s."""
        hits = self.n_hits(tol)
        total = float(sum(s.cpu_time_s for s in self.starts))
        return total / hits if hits else math.inf

    @property
    def stderr(self) -> np.ndarray:
        """Standard errors on the optimisation scale (NaN where unavailable)."""
        if self.covar is None:
            return np.full(len(self.parameter_names), np.nan)
        return np.sqrt(np.clip(np.diag(self.covar), 0.0, None))

    @property
    def correlation(self) -> np.ndarray | None:
        """Correlation matrix of the parameters, or ``None`` without a covariance."""
        if self.covar is None:
            return None
        sd = self.stderr
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.covar / np.outer(sd, sd)

    @property
    def params(self) -> lmfit.Parameters:
        """The best point as lmfit ``Parameters`` (optimisation scale; value, min, max, stderr).

        Names that are not Python identifiers (lmfit requires them) have every other character
        replaced by ``_``.
        """
        import lmfit

        params = lmfit.Parameters()
        stderr = self.stderr
        for i, name in enumerate(self.parameter_names):
            key = _identifier(name)
            params.add(
                key,
                value=float(self.x[i]),
                min=float(self.lower[i]),
                max=float(self.upper[i]),
                vary=True,
            )
            params[key].stderr = None if not np.isfinite(stderr[i]) else float(stderr[i])
            if self.x0_of_best is not None:
                params[key].init_value = float(self.x0_of_best[i])
        return params

    @property
    def x0_of_best(self) -> np.ndarray | None:
        """Start point of the best start."""
        best = self.best
        return None if best is None else best.x0

    # -- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; :meth:`from_dict` restores an equal result."""
        return {
            "format": _FORMAT,
            "parameter_names": list(self.parameter_names),
            "lower": _enc_array(self.lower),
            "upper": _enc_array(self.upper),
            "x": _enc_array(self.x),
            "values": {k: _enc(v) for k, v in self.values.items()},
            "covar": None if self.covar is None else [_enc_array(row) for row in self.covar],
            "starts": [s.to_dict() for s in self.starts],
            "n_data": self.n_data,
            "n_inner_parameters": self.n_inner_parameters,
            "n_starts": self.n_starts,
            "seed": self.seed,
            "options": self.options,
            "wall_time_s": _enc(self.wall_time_s),
            "interrupted": self.interrupted,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FitResult:
        """Rebuild a result from :meth:`to_dict` output.

        Raises
        ------
        InvalidInputError
            If *d* is not a serialised FitResult.
        """
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            got = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise InvalidInputError(
                f"not a serialised FitResult: expected format {_FORMAT!r}, received {got!r}"
            )
        missing = sorted(set(_FIELDS) - set(d))
        if missing:
            raise InvalidInputError(f"serialised FitResult: missing field(s) {missing}")
        covar = d["covar"]
        return cls(
            parameter_names=tuple(d["parameter_names"]),
            lower=np.array([_dec(v) for v in d["lower"]]),
            upper=np.array([_dec(v) for v in d["upper"]]),
            x=np.array([_dec(v) for v in d["x"]]),
            values={k: _dec(v) for k, v in d["values"].items()},
            covar=None if covar is None else np.array([[_dec(v) for v in r] for r in covar]),
            starts=[StartResult.from_dict(s) for s in d["starts"]],
            n_data=int(d["n_data"]),
            n_inner_parameters=int(d["n_inner_parameters"]),
            n_starts=int(d["n_starts"]),
            seed=int(d["seed"]),
            options=dict(d["options"]),
            wall_time_s=_dec(d["wall_time_s"]),
            interrupted=bool(d["interrupted"]),
            metadata=dict(d["metadata"]),
        )

    def to_json(self, path: str | Path) -> None:
        """Write the result to *path* as JSON (floats round-trip exactly).

        Raises
        ------
        InvalidInputError
            If :attr:`metadata` holds values JSON cannot represent (nothing is written then).
        """
        try:
            text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"FitResult.metadata must be JSON-serialisable (str, numbers, lists, dicts): {exc}"
            ) from exc
        Path(path).write_text(text + "\n")

    @classmethod
    def from_json(cls, path: str | Path) -> FitResult:
        """Read a result written by :meth:`to_json`.

        Raises
        ------
        InvalidInputError
            If the file is not valid JSON or not a serialised FitResult.
        """
        text = Path(path).read_text()
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}: not valid JSON ({exc})") from exc
        return cls.from_dict(d)

    # -- presentation -------------------------------------------------------------------------
    def report(self, *, min_correl: float = 0.1) -> str:
        """Text report in the spirit of lmfit's ``fit_report()``."""
        from paracrine.fitting.result_report import text_report

        return text_report(self, min_correl=min_correl)

    def _repr_html_(self) -> str:
        from paracrine.fitting.result_report import html_report

        return html_report(self)

    def __repr__(self) -> str:
        return (
            f"<FitResult nllh={self.nllh:.6g} starts={len(self.starts)}/{self.n_starts} "
            f"hits={self.n_hits()} failed={self.n_failed} success={self.success}>"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per start (sorted best first): status, nllh, Δnllh, counts, times, x0, x."""
        import pandas as pd

        best = self.nllh
        rows = []
        for rank, s in enumerate(self.starts):
            row: dict[str, Any] = {
                "start": s.index,
                "rank": rank,
                "status": s.status,
                "nllh": s.nllh,
                "delta_nllh": s.nllh - best,
                "chisqr": s.chisqr,
                "n_fev": s.n_fev,
                "n_jev": s.n_jev,
                "n_rounds": s.n_rounds,
                "time_s": s.time_s,
                "cpu_time_s": s.cpu_time_s,
                "message": s.message,
            }
            row.update({f"x0_{n}": v for n, v in zip(self.parameter_names, s.x0, strict=True)})
            row.update({f"x_{n}": v for n, v in zip(self.parameter_names, s.x, strict=True)})
            rows.append(row)
        columns = [
            "start",
            "rank",
            "status",
            "nllh",
            "delta_nllh",
            "chisqr",
            "n_fev",
            "n_jev",
            "n_rounds",
            "time_s",
            "cpu_time_s",
            "message",
            *(f"x0_{n}" for n in self.parameter_names),
            *(f"x_{n}" for n in self.parameter_names),
        ]
        return pd.DataFrame(rows, columns=columns)

    def plot_waterfall(self, ax: Axes | None = None, *, tol: float = 0.1) -> Axes:
        """Sorted nllh of every start (see :func:`paracrine.fitting.plotting.plot_waterfall`)."""
        from paracrine.fitting.plotting import plot_waterfall

        return plot_waterfall(self, ax=ax, tol=tol)

    def plot_parameters(
        self, ax: Axes | None = None, *, tol: float | None = None, **kwargs: Any
    ) -> Axes:
        """Best-fit parameters on their natural scale with units, bounds, the other starts and
        profile-likelihood ``intervals`` if given (see
        :func:`paracrine.fitting.plotting.plot_parameters` for the keywords)."""
        from paracrine.fitting.plotting import plot_parameters

        return plot_parameters(self, ax=ax, tol=tol, **kwargs)


def _identifier(name: str) -> str:
    key = re.sub(r"\W", "_", name)
    return key if key and not key[0].isdigit() else f"p_{key}"
