"""PEtab (v1) parameter priors: ``objectivePriorType``/``objectivePriorParameters`` (terms of the
objective) and ``initializationPriorType``/``initializationPriorParameters`` (start points).

Densities, as the PEtab v1 specification defines them and pyPESTO (the reference
implementation of v1 priors, ``pypesto/objective/priors.py``) evaluates them. Write θ for the
parameter's natural (linear) value and x for its value on its ``parameterScale`` (θ, ln θ or
log10 θ); the two prior parameters are (a, b):

================================  ===========================================  ==============
type                              negative log-density                         variable
================================  ===========================================  ==============
``uniform``                       ``log(b − a)`` on [a, b], +∞ outside         θ
``normal``                        ``log(√(2π)·b) + (θ − a)²/(2b²)``            θ
``laplace``                       ``log(2b) + |θ − a|/b``                      θ
``logNormal``                     ``log(√(2π)·b·θ) + (ln θ − a)²/(2b²)``       θ
``logLaplace``                    ``log(2b·θ) + |ln θ − a|/b``                 θ
``parameterScaleUniform``         ``log(b − a)`` on [a, b], +∞ outside         x
``parameterScaleNormal``          ``log(√(2π)·b) + (x − a)²/(2b²)``            x
``parameterScaleLaplace``         ``log(2b) + |x − a|/b``                      x
================================  ===========================================  ==============

* The linear-scale types are densities **of θ** evaluated at θ = θ(x), without the Jacobian
  dθ/dx of the parameter scale (as pyPESTO); ``logNormal`` and ``logLaplace`` are the
  densities of θ where ln θ is normal/Laplace, so they carry the 1/θ of that change of
  variables. The ``parameterScale*`` types are densities of x, parameters (a, b) on the scale.
* Priors are not truncated at the bounds (no renormalisation over [lowerBound, upperBound]),
  as in PEtab v1 and pyPESTO. (libpetab-python ≥ 0.5's ``Prior.neglogprior`` instead
  truncates by default and evaluates ``parameterScale*`` types as densities of θ; that is
  its own later convention, not v1's.)
* An explicit ``parameterScaleUniform`` or ``uniform`` prior contributes its normalising
  constant ``log(b − a)``; pyPESTO skips ``parameterScaleUniform`` objective priors (the
  specification calls it "equivalent to no prior"), which shifts its objective by that
  constant only.

In the least-squares objective every prior becomes residuals r with ``0.5·Σr² = −log p − c``
(c a constant per prior, :attr:`ParameterPrior.residual_offset`), so that least squares
minimises the exact negative log-posterior:

* normal types: ``(v − a)/b``;
* ``logNormal``: ``(ln θ − a + b²)/b`` — completing the square absorbs the ``ln θ`` of the
  density: ``ln θ + (ln θ − a)²/(2b²) = (ln θ − a + b²)²/(2b²) + a − b²/2``;
* Laplace types: ``sign(v − a)·sqrt(2|v − a|/b)`` (as Laplace-noise data residuals);
* ``logLaplace``: that residual of ln θ and ``sqrt(2·(ln θ − ln lowerBound))`` for its
  ``ln θ`` term (needs lowerBound > 0);
* uniform types: no residual; their support is intersected with the bounds of the parameter.

Initialization priors map Latin-hypercube points u ∈ [0, 1) through the prior's quantile
function; the values are clipped to [lowerBound, upperBound] ("sampled points are clipped to
lie inside the parameter boundaries", PEtab v1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from paracrine.errors import PetabError, did_you_mean
from paracrine.fitting.objective.noise import Transform

__all__ = ["PRIOR_TYPES", "ParameterPrior", "PriorTerms", "read_priors", "starts_from_unit"]

PRIOR_TYPES = (
    "uniform",
    "normal",
    "laplace",
    "logNormal",
    "logLaplace",
    "parameterScaleUniform",
    "parameterScaleNormal",
    "parameterScaleLaplace",
)
_LOG_TYPES = ("logNormal", "logLaplace")
_UNIFORM_TYPES = ("uniform", "parameterScaleUniform")
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _to_scale(value: float, scale: int) -> float:
    if scale == Transform.LOG:
        return math.log(value) if value > 0 else -math.inf
    if scale == Transform.LOG10:
        return math.log10(value) if value > 0 else -math.inf
    return value


def _to_natural(x: float, scale: int) -> float:
    if scale == Transform.LOG:
        return math.exp(x)
    if scale == Transform.LOG10:
        return 10.0**x
    return x


@dataclass(frozen=True)
class ParameterPrior:
    """The prior of one parameter of the parameter table.

    Attributes
    ----------
    parameter_id
        PEtab parameter id.
    table_index
        Row of the parameter in the parameter table (0-based).
    kind
        One of :data:`PRIOR_TYPES`.
    a, b
        The two prior parameters: mean/location and standard deviation/scale, or the lower
        and upper end of a uniform prior (on the parameter scale for ``parameterScale*``).
    scale
        The parameter's ``parameterScale`` (:class:`Transform` code).
    lower_bound, upper_bound
        The parameter's bounds (natural scale).
    """

    parameter_id: str
    table_index: int
    kind: str
    a: float
    b: float
    scale: int
    lower_bound: float
    upper_bound: float

    @property
    def on_parameter_scale(self) -> bool:
        """Whether the density is one of x (``parameterScale*``) rather than of θ."""
        return self.kind.startswith("parameterScale")

    @property
    def is_uniform(self) -> bool:
        return self.kind in _UNIFORM_TYPES

    def _variable(self, x: float) -> float:
        """The value the density's formula is written in: x, θ or ln θ."""
        if self.on_parameter_scale:
            return x
        theta = _to_natural(x, self.scale)
        if self.kind in _LOG_TYPES:
            return math.log(theta) if theta > 0 else -math.inf
        return theta

    def neg_log_density(self, x: float) -> float:
        """−log p at the parameter-scale value *x* (+∞ outside a uniform prior's support)."""
        a, b = self.a, self.b
        v = self._variable(float(x))
        if self.is_uniform:
            return math.log(b - a) if a <= v <= b else math.inf
        if not math.isfinite(v):
            return math.inf
        jacobian = v if self.kind in _LOG_TYPES else 0.0  # log θ of the log-type densities
        if self.kind.endswith(("Normal", "normal")):
            return _HALF_LOG_2PI + math.log(b) + 0.5 * ((v - a) / b) ** 2 + jacobian
        return math.log(2.0 * b) + abs(v - a) / b + jacobian

    @property
    def n_residuals(self) -> int:
        """Number of least-squares residuals of this prior (0 for uniform priors)."""
        if self.is_uniform:
            return 0
        return 2 if self.kind == "logLaplace" else 1

    @property
    def residual_offset(self) -> float:
        """The constant c with ``neg_log_density(x) = 0.5·Σ residuals(x)² + c``."""
        a, b = self.a, self.b
        if self.is_uniform:
            return math.log(b - a)
        if self.kind == "logNormal":
            return _HALF_LOG_2PI + math.log(b) + a - 0.5 * b * b
        if self.kind.endswith(("Normal", "normal")):
            return _HALF_LOG_2PI + math.log(b)
        if self.kind == "logLaplace":
            return math.log(2.0 * b) + math.log(self.lower_bound)
        return math.log(2.0 * b)

    def residuals(self, x: float) -> list[float]:
        """Least-squares residuals at *x* (see the module docstring)."""
        a, b = self.a, self.b
        v = self._variable(float(x))
        if self.is_uniform:
            return []
        if self.kind == "logNormal":
            return [(v - a + b * b) / b]
        if self.kind.endswith(("Normal", "normal")):
            return [(v - a) / b]
        d = v - a
        laplace = math.copysign(math.sqrt(2.0 * abs(d) / b), d) if math.isfinite(d) else d
        if self.kind == "logLaplace":
            return [laplace, math.sqrt(max(2.0 * (v - math.log(self.lower_bound)), 0.0))]
        return [laplace]

    def support(self) -> tuple[float, float]:
        """Where the density is positive, on the parameter scale (uniform: [a, b])."""
        if self.kind == "parameterScaleUniform":
            return self.a, self.b
        if self.kind == "uniform":
            return _to_scale(self.a, self.scale), _to_scale(self.b, self.scale)
        return -math.inf, math.inf

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        """Parameter-scale values at the quantiles *u* of the prior, clipped to the bounds."""
        from scipy import stats

        a, b = self.a, self.b
        u = np.asarray(u, dtype=float)
        if self.is_uniform:
            v = a + u * (b - a)
        elif self.kind.endswith(("Normal", "normal")):
            v = stats.norm.ppf(u, loc=a, scale=b)
        else:
            v = stats.laplace.ppf(u, loc=a, scale=b)
        if self.on_parameter_scale:
            lo = _to_scale(self.lower_bound, self.scale)
            hi = _to_scale(self.upper_bound, self.scale)
            return np.clip(v, lo, hi)
        theta = np.exp(v) if self.kind in _LOG_TYPES else v
        theta = np.clip(theta, self.lower_bound, self.upper_bound)
        with np.errstate(divide="ignore"):
            if self.scale == Transform.LOG:
                return np.log(theta)
            if self.scale == Transform.LOG10:
                return np.log10(theta)
        return theta


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip() != ""


def read_priors(
    parameter_df: Any, scales: np.ndarray, estimated: np.ndarray, file: str, which: str
) -> list[ParameterPrior]:
    """The priors of one kind (*which*: ``"objective"`` or ``"initialization"``) of a
    parameter table, in table order.

    Rows without a ``{which}PriorType`` have none (for initialization: parameterScaleUniform
    over the bounds, the default). Missing ``{which}PriorParameters`` default to
    ``lowerBound;upperBound`` on the parameter scale, for parameterScaleUniform only (the PEtab
    linter refuses them missing for any other type).

    Raises
    ------
    PetabError
        Naming file, row and column: an unknown prior type, parameters that are not two
        numbers, a non-positive scale, an empty uniform interval, parameters without a type,
        or, for an estimated parameter, a log-type prior with a lowerBound that is not
        positive or a uniform prior whose interval does not meet the bounds.
    """
    type_column, par_column = f"{which}PriorType", f"{which}PriorParameters"
    types = parameter_df[type_column] if type_column in parameter_df.columns else None
    params = parameter_df[par_column] if par_column in parameter_df.columns else None
    lower = parameter_df["lowerBound"].astype(float).to_numpy()
    upper = parameter_df["upperBound"].astype(float).to_numpy()
    out = []
    for i, pid in enumerate(parameter_df.index):
        kind = types.iloc[i] if types is not None else None
        given = params.iloc[i] if params is not None else None
        row = f"{file}, row {i + 2} (parameter {str(pid)!r})"
        if not _present(kind):
            if _present(given):
                raise PetabError(
                    f"{row}, column {par_column}: prior parameters {str(given)!r} given without a "
                    f"{type_column}"
                )
            continue
        kind = str(kind).strip()
        if kind not in PRIOR_TYPES:
            hint = did_you_mean(kind, PRIOR_TYPES)
            raise PetabError(
                f"{row}, column {type_column}: unknown prior type {kind!r} (expected one of "
                f"{', '.join(PRIOR_TYPES)})" + (f" — did you mean {hint}?" if hint else "")
            )
        scale = int(scales[i])
        if _present(given):
            tokens = str(given).split(";")
            try:
                values = [float(t) for t in tokens]
            except ValueError:
                values = []
            if len(values) != 2 or not all(math.isfinite(v) for v in values):
                raise PetabError(
                    f"{row}, column {par_column}: expected two numbers separated by ';', "
                    f"received {str(given)!r}"
                )
        elif kind == "parameterScaleUniform":
            values = [_to_scale(v, scale) for v in (lower[i], upper[i])]
        else:
            raise PetabError(
                f"{row}, column {par_column}: prior type {kind!r} needs two parameters "
                "(only parameterScaleUniform defaults to the bounds, as the PEtab linter says)"
            )
        a, b = values
        if kind in _UNIFORM_TYPES and not a < b:
            raise PetabError(
                f"{row}, column {par_column}: expected lower < upper for a {kind} prior, "
                f"received {a!r};{b!r}"
            )
        if kind not in _UNIFORM_TYPES and not b > 0:
            raise PetabError(
                f"{row}, column {par_column}: expected a positive scale (standard deviation) "
                f"as the second parameter of a {kind} prior, received {b!r}"
            )
        if kind in _LOG_TYPES and estimated[i] and not lower[i] > 0:
            raise PetabError(
                f"{row}, column {type_column}: a {kind} prior needs lowerBound > 0 (its "
                f"density is zero for values ≤ 0), received lowerBound {float(lower[i])!r}"
            )
        prior = ParameterPrior(str(pid), i, kind, a, b, scale, lower[i], upper[i])
        lo, hi = prior.support()
        if (
            kind in _UNIFORM_TYPES
            and estimated[i]
            and not (lo <= _to_scale(upper[i], scale) and hi >= _to_scale(lower[i], scale))
        ):
            raise PetabError(
                f"{row}, column {par_column}: the {kind} prior's interval [{a}, {b}] does not "
                f"meet the bounds [{float(lower[i])}, {float(upper[i])}]"
            )
        out.append(prior)
    return out


class PriorTerms:
    """The objective priors of a problem, split by its free parameters.

    Parameters
    ----------
    priors
        Objective priors of the parameter table (:func:`read_priors`).
    free
        Table index of every free parameter (the order of x).
    nominal
        Natural-scale nominal value of every table parameter.
    scales
        :class:`Transform` code of every table parameter.

    Notes
    -----
    A prior on a parameter that is not free (``estimate = 0``) is a constant of the
    negative log-posterior, evaluated at the nominal value, as in pyPESTO (which evaluates
    the priors on the full parameter vector, fixed entries included).
    """

    def __init__(
        self,
        priors: list[ParameterPrior],
        free: np.ndarray,
        nominal: np.ndarray,
        scales: np.ndarray,
    ) -> None:
        position = {int(t): j for j, t in enumerate(free)}
        self.free = [(position[p.table_index], p) for p in priors if p.table_index in position]
        fixed = [p for p in priors if p.table_index not in position]
        self.fixed_constant = float(
            sum(
                p.neg_log_density(
                    _to_scale(float(nominal[p.table_index]), int(scales[p.table_index]))
                )
                for p in fixed
            )
        )
        self.residual_priors = [(j, p) for j, p in self.free if p.n_residuals]
        self.n_residuals = sum(p.n_residuals for _, p in self.free)
        self.parameter_ids = tuple(p.parameter_id for p in priors)

    def __bool__(self) -> bool:
        return bool(self.free) or self.fixed_constant != 0.0

    def neg_log_prior(self, x: np.ndarray) -> float:
        """Σ −log p over the priors at the free parameters *x* (fixed ones included)."""
        return self.fixed_constant + sum(p.neg_log_density(x[j]) for j, p in self.free)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """The priors' least-squares residuals at *x* (see the module docstring)."""
        out: list[float] = []
        for j, p in self.residual_priors:
            out.extend(p.residuals(x[j]))
        return np.array(out, dtype=float)

    def bounds(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The bounds of x (parameter scale) intersected with the uniform priors' supports."""
        lower, upper = np.array(lower, dtype=float), np.array(upper, dtype=float)
        for j, p in self.free:
            lo, hi = p.support()
            lower[j], upper[j] = max(lower[j], lo), min(upper[j], hi)
        return lower, upper


def starts_from_unit(
    unit: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    priors: list[ParameterPrior],
    free: np.ndarray,
) -> np.ndarray:
    """Start points (parameter scale) from points *unit* of the unit cube, shape ``(n, d)``.

    A free parameter with an initialization prior takes the prior's quantiles (clipped to its
    bounds); the others are uniform on [lower, upper] (parameterScaleUniform, PEtab's default:
    exactly the Latin-hypercube scaling of :func:`paracrine.fitting.starts.latin_hypercube_starts`).
    """
    unit = np.atleast_2d(np.asarray(unit, dtype=float))
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    out = unit * (upper - lower) + lower
    position = {int(t): j for j, t in enumerate(free)}
    for prior in priors:
        j = position.get(prior.table_index)
        if j is not None:
            out[:, j] = np.clip(prior.quantiles(unit[:, j]), lower[j], upper[j])
    return out
