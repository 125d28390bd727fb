"""Profile likelihood: confidence intervals and identifiability of each parameter.

For parameter j the profile is PL(v) = min over the other parameters of nllh with x_j = v,
traced from the best fit outwards in both directions until it rises by the χ²₁ threshold
(95%: Δnllh = 1.92) or reaches a bound. Works for any
:class:`~paracrine.fitting.objective.Problem` (blot problems and PEtab imports alike).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paracrine.errors import FitError, UnknownNameError
from paracrine.fitting.local import FitOptions, optimize_start
from paracrine.fitting.objective import Capabilities, Problem
from paracrine.vocabulary import INK, MUTED, WARNING

__all__ = ["FixedParameterProblem", "Profile", "profile", "profile_all"]


class FixedParameterProblem(Problem):
    """*problem* with parameter *index* held at *value* (optimisation scale)."""

    def __init__(self, problem, index: int, value: float) -> None:
        self.problem = problem
        self.index = int(index)
        self.value = float(value)
        keep = [i for i in range(len(problem.parameter_names)) if i != self.index]
        self._keep = np.array(keep, dtype=int)
        self.parameter_names = tuple(problem.parameter_names[i] for i in keep)
        self.lower = np.asarray(problem.lower, dtype=float)[self._keep]
        self.upper = np.asarray(problem.upper, dtype=float)[self._keep]
        self.n_data = problem.n_data
        self.n_inner_parameters = problem.n_inner_parameters
        # start points are not refined: a profile step starts from the previous optimum
        self.capabilities = Capabilities(
            alternating_inner=problem.capabilities.alternating_inner,
            jacobian=problem.capabilities.jacobian,
        )

    def reset(self) -> None:
        self.problem.reset()

    def full(self, y: np.ndarray) -> np.ndarray:
        return np.insert(np.asarray(y, dtype=float), self.index, self.value)

    def residuals(self, y: np.ndarray) -> np.ndarray:
        return self.problem.residuals(self.full(y))

    def update_inner(self, y: np.ndarray) -> None:
        self.problem.update_inner(self.full(y))

    def nllh(self, y: np.ndarray, *, precise: bool = False) -> float:
        return self.problem.nllh(self.full(y), precise=precise)

    def jacobian(self, y: np.ndarray) -> np.ndarray:
        return self.problem.jacobian(self.full(y))[:, self._keep]


@dataclass
class Profile:
    """The likelihood profile of one parameter.

    Attributes
    ----------
    parameter
        Its name.
    values
        Profiled values on the optimisation scale (log10 for kinetic parameters), sorted.
    nllh
        Profile nllh at each value.
    best_value, best_nllh
        The fit the profile started from.
    threshold
        Δnllh defining the interval (χ²₁ quantile / 2; 1.92 for 95%).
    lower, upper
        Confidence bounds (optimisation scale); ``-inf``/``inf`` where the profile reached
        the parameter's bound without crossing the threshold.
    verdict
        ``"identifiable"`` (both sides cross), ``"practically non-identifiable"`` (a side
        reaches its bound below the threshold), or ``"structurally non-identifiable"``
        (flat: the profile never rises by 1e-2 over the whole range explored).
    better_optimum
        True if a profile point beat the starting fit (the fit was not the global optimum).
    """

    parameter: str
    values: np.ndarray
    nllh: np.ndarray
    best_value: float
    best_nllh: float
    threshold: float
    lower: float
    upper: float
    verdict: str
    better_optimum: bool = False
    n_failed: int = 0
    points: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def contains(self, value: float) -> bool:
        """Whether *value* (optimisation scale) lies in the confidence interval."""
        return self.lower <= value <= self.upper

    def to_dataframe(self):  # -> DataFrame
        import pandas as pd

        return pd.DataFrame(
            {
                "parameter": self.parameter,
                "value": self.values,
                "nllh": self.nllh,
                "delta_nllh": self.nllh - self.best_nllh,
            }
        )

    def plot(self, ax=None, *, unit: str | None = None):  # -> Axes
        """Δnllh against the parameter (log10 units) with the threshold and the interval;
        *unit* (the parameter's natural unit) goes into the axis label."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2))
        ax.plot(self.values, self.nllh - self.best_nllh, "o-", ms=3, color=MUTED)
        ax.axhline(
            self.threshold,
            color=WARNING,
            ls="--",
            lw=1,
            label=f"95% threshold ({self.threshold:.2f})",
        )
        for bound in (self.lower, self.upper):
            if math.isfinite(bound):
                ax.axvline(bound, color=WARNING, lw=0.8, ls=":")
        ax.axvline(self.best_value, color=INK, lw=0.8)
        ax.set_xlabel(f"log10 {self.parameter}" + (f" ({unit})" if unit else ""))
        ax.set_ylabel("Δ nllh")
        ax.set_title(f"{self.parameter}: {self.verdict}", fontsize="medium")
        ax.legend(fontsize="small", frameon=False)
        return ax


def _crossing(v0: float, d0: float, v1: float, d1: float, threshold: float) -> float:
    if d1 == d0:
        return v1
    return v0 + (threshold - d0) * (v1 - v0) / (d1 - d0)


def profile(
    problem,
    x_best: np.ndarray,
    parameter: str,
    *,
    confidence: float = 0.95,
    step: float = 0.1,
    max_step: float = 1.0,
    max_points: int = 40,
    options: FitOptions | Mapping[str, Any] | None = None,
) -> Profile:
    """Trace the likelihood profile of *parameter* from the fit *x_best*.

    Parameters
    ----------
    problem
        The fitted problem (any ``ResidualProblem``).
    x_best
        The best fit (optimisation scale), e.g. ``fit_result.x``.
    parameter
        Name in ``problem.parameter_names``.
    confidence
        Level of the interval (χ²₁ threshold).
    step, max_step
        Initial and largest step in optimisation-scale units; the step adapts so that the
        profile rises by ~1/4 of the threshold per point.
    max_points
        Points per direction at most.
    options
        Optimiser settings for the re-optimisations.

    Returns
    -------
    Profile
    """
    from scipy.stats import chi2

    names = tuple(problem.parameter_names)
    if parameter not in names:
        raise UnknownNameError("parameter", parameter, names)
    if not 0 < confidence < 1:
        raise FitError(f"confidence: expected a level in (0, 1), received {confidence}")
    j = names.index(parameter)
    x_best = np.asarray(x_best, dtype=float)
    if x_best.shape != (len(names),) or not np.all(np.isfinite(x_best)):
        raise FitError(f"x_best: expected {len(names)} finite values, received {x_best.tolist()}")
    threshold = float(chi2.ppf(confidence, 1) / 2)
    problem.update_inner(x_best)
    best = float(problem.nllh(x_best, precise=True))
    lower_b, upper_b = float(problem.lower[j]), float(problem.upper[j])
    points = [{"value": float(x_best[j]), "nllh": best, "x": x_best.tolist()}]
    bounds = {}
    n_failed = 0
    for direction in (-1.0, 1.0):
        h = step
        v = float(x_best[j])
        y = np.delete(x_best, j)
        last = 0.0
        limit = lower_b if direction < 0 else upper_b
        bound = -math.inf if direction < 0 else math.inf
        for _ in range(max_points):
            at_limit = False
            target = v + direction * h
            if (direction < 0 and target <= limit) or (direction > 0 and target >= limit):
                target, at_limit = limit, True
            sub = FixedParameterProblem(problem, j, target)
            start = optimize_start(sub, y, options=options)
            if start.failed:
                n_failed += 1
                h /= 2
                if h < 1e-3:
                    break
                continue
            delta = start.nllh - best
            points.append({"value": target, "nllh": start.nllh, "x": sub.full(start.x).tolist()})
            if delta >= threshold:
                bound = _crossing(v, last, target, delta, threshold)
                break
            if at_limit:
                break
            # aim for ~threshold/4 per point
            rise = max(delta - last, 1e-9)
            h = float(np.clip(h * (threshold / 4) / rise, h / 2, min(2 * h, max_step)))
            v, y, last = target, start.x, delta
        bounds[direction] = bound
    points.sort(key=lambda p: p["value"])
    values = np.array([p["value"] for p in points])
    nllh = np.array([p["nllh"] for p in points])
    crossed_low, crossed_high = math.isfinite(bounds[-1.0]), math.isfinite(bounds[1.0])
    if crossed_low and crossed_high:
        verdict = "identifiable"
    elif np.max(nllh - best) < 1e-2:
        verdict = "structurally non-identifiable"
    else:
        verdict = "practically non-identifiable"
    return Profile(
        parameter=parameter,
        values=values,
        nllh=nllh,
        best_value=float(x_best[j]),
        best_nllh=best,
        threshold=threshold,
        lower=bounds[-1.0],
        upper=bounds[1.0],
        verdict=verdict,
        better_optimum=bool(np.min(nllh) < best - 1e-3),
        n_failed=n_failed,
        points=points,
    )


def profile_all(
    problem, x_best: np.ndarray, parameters: Sequence[str] | None = None, **kwargs: Any
) -> dict[str, Profile]:
    """Profiles of several parameters (default: all), keyed by name."""
    names = list(parameters or problem.parameter_names)
    return {name: profile(problem, x_best, name, **kwargs) for name in names}
