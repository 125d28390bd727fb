"""Sensitivity analysis: which parameters move which response metrics, and by how much.

Three methods on any function ``f(params: dict[str, float]) -> {output: value}`` (or an array
of outputs), then a wrapper that makes such a function of a paracrine model:

* :func:`local_sensitivities` — normalised (logarithmic) sensitivities
  ``S_ij = ∂ln y_i / ∂ln p_j`` at one parameter point, by finite differences in ln p: "a 1 %
  rise of p_j changes y_i by S_ij %". Central differences in ln p of ln y are exact for power
  laws, so they give the exponents of ``y = c·Π p_j^a_j`` to round-off.
* :func:`sobol_indices` — variance-based global indices (Sobol' first-order S1 and total ST,
  optionally second-order), Saltelli sampling and the Saltelli/Jansen estimators of SALib,
  with bootstrap confidence intervals, over a box of parameters.
* :func:`morris_screening` — Morris elementary effects (μ*, σ) via SALib: a cheap screen
  before a Sobol' analysis.

The global methods treat the parameters as independent and, by default, **log-uniform over
their bounds** (``log_scale=True``: sampled uniformly in log10 p) — the natural choice for rate
constants and amounts known to within orders of magnitude; pass ``log_scale=False`` for
uniform inputs. :func:`default_bounds` takes the box from the parameter table (or ±decades
around the values) and :func:`bounds_from_ensemble` from the quantiles of a parameter ensemble
(e.g. MCMC samples of a fit), which turns the fitted uncertainty into the box.

:func:`metric_function` builds, from a :class:`~paracrine.models.Model` and conditions, the
callable ``f(params) -> {"pERK|IL-6+VEGF [MCF-7]|peak": …}`` of response metrics (fold over
basal) that the three methods take. It pickles by content (the engine compiles lazily in the
receiving process), so every method's ``map_fn`` can be a process pool's ``map``.

Failed evaluations
------------------
A function that raises :class:`~paracrine.errors.SimulationError` or returns a non-finite
output counts as failed (other exceptions are bugs or bad input and propagate). The global
estimators need complete designs, so by default (``on_failure="raise"``) any failure raises a
:class:`~paracrine.errors.SimulationError` that says how many evaluations failed and the first
message. With ``on_failure="drop"`` the whole design blocks holding a failure are dropped (a
Saltelli block of one base sample: D + 2 rows, 2D + 2 with second order; a Morris trajectory:
D + 1 rows) and the indices are estimated on the blocks that remain; the result counts the
failures and dropped blocks in ``n_failed`` / ``n_dropped`` and says so in ``notes``. The
estimates are then conditional on the simulation succeeding, biased if failures cluster in a
region of the box. Nothing is dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import OBSERVABLES, Model
from paracrine.simulations import metrics
from paracrine.simulations.conditions import Condition
from paracrine.simulations.engine import check_times
from paracrine.simulations.model_simulator import ModelSimulator
from paracrine.vocabulary import INK, condition_colour, condition_label, split_condition_label

__all__ = [
    "DEFAULT_SENSITIVITY_TIMES_MIN",
    "LATE_WINDOW_MIN",
    "SENSITIVITY_METRICS",
    "LocalSensitivity",
    "MetricFunction",
    "MorrisResult",
    "SobolResult",
    "bounds_from_ensemble",
    "default_bounds",
    "local_sensitivities",
    "metric_function",
    "morris_screening",
    "sobol_indices",
]

#: Response metrics of :func:`metric_function`, all of the fold over basal (the read-out
#: divided by its value at t = 0 in the unstimulated, unperturbed cell line).
SENSITIVITY_METRICS = {
    "peak": "largest fold over basal on the time grid",
    "auc": "∫(fold − 1) dt over the grid divided by its length (fold·min/min)",
    "late": "mean fold over the grid points within 120–240 min (both ends included)",
}
#: Window of the ``late`` metric (min).
LATE_WINDOW_MIN = metrics.LATE_WINDOW_MIN  # the screen's and the combination module's
#: Default time grid of :func:`metric_function`: 0–240 min every 2.5 min.
DEFAULT_SENSITIVITY_TIMES_MIN = np.linspace(0.0, 240.0, 97)

#: Colours (paracrine's Okabe–Ito hues for non-arm series, via the vocabulary).
_POSITIVE = condition_colour("increase", 2)  # sky blue
_NEGATIVE = condition_colour("decrease", 0)  # reddish purple
_FIRST = condition_colour("S1", 2)  # sky blue
_TOTAL = condition_colour("ST", 1)  # orange
_SPREAD = condition_colour("sigma", 3)  # black

Aggregate = Literal["max", "l2"]
OnFailure = Literal["raise", "drop"]


# ---------------------------------------------------------------------------------------------
# evaluation helpers
# ---------------------------------------------------------------------------------------------
class _Guarded:
    """``func`` with SimulationError caught: returns ``(True, value)`` or ``(False, message)``.

    Top-level class, so it pickles whenever ``func`` does (process-pool ``map_fn``)."""

    def __init__(self, func: Callable[[dict[str, float]], Any]) -> None:
        self.func = func

    def __call__(self, params: dict[str, float]) -> tuple[bool, Any]:
        try:
            return True, self.func(params)
        except SimulationError as exc:
            return False, str(exc)


def _output_names(value: Any, outputs: Sequence[str] | None, where: str) -> tuple[str, ...]:
    """Names of the outputs of one evaluation's *value* (a mapping or an array)."""
    if isinstance(value, Mapping):
        keys = tuple(str(k) for k in value)
        if outputs is None:
            if not keys:
                raise InvalidInputError(f"{where}: the function returned no outputs (empty dict)")
            return keys
        for name in outputs:
            if name not in value:
                raise UnknownNameError("output", name, keys)
        return tuple(outputs)
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInputError(
            f"{where}: expected the function to return a dict of outputs or a 1-D array, "
            f"received an array of shape {arr.shape}"
        )
    if outputs is None:
        return ("y",) if arr.size == 1 else tuple(f"y{i}" for i in range(arr.size))
    if len(outputs) != arr.size:
        raise InvalidInputError(
            f"{where}: outputs names {len(outputs)} outputs, but the function returned an array "
            f"of {arr.size}"
        )
    return tuple(outputs)


def _as_vector(value: Any, names: tuple[str, ...], where: str) -> np.ndarray:
    if isinstance(value, Mapping):
        try:
            return np.array([float(value[n]) for n in names])
        except KeyError as exc:
            raise InvalidInputError(
                f"{where}: an evaluation returned no output {exc.args[0]!r} (an earlier one did)"
            ) from None
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.shape != (len(names),):
        raise InvalidInputError(
            f"{where}: expected {len(names)} outputs from every evaluation, received shape "
            f"{arr.shape}"
        )
    return arr


def _evaluate(
    func: Callable, points: list[dict[str, float]], map_fn: Callable, outputs, where: str
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, list[str]]:
    """Run *func* on every point through *map_fn*.

    Returns ``(output names, Y (n_points, n_outputs) with NaN rows where failed, raised mask,
    messages of the failures that raised)``."""
    results = list(map_fn(_Guarded(func), points))
    if len(results) != len(points):
        raise InvalidInputError(
            f"{where}: map_fn returned {len(results)} results for {len(points)} points "
            "(expected a callable like the builtin map)"
        )
    first = next((value for ok, value in results if ok), None)
    if first is None:
        messages = [value for _, value in results]
        raise SimulationError(
            f"{where}: all {len(points)} evaluations raised SimulationError; first: {messages[0]}"
        )
    names = _output_names(first, None if outputs is None else tuple(outputs), where)
    y = np.full((len(points), len(names)), np.nan)
    raised = np.zeros(len(points), dtype=bool)
    messages = []
    for i, (ok, value) in enumerate(results):
        if ok:
            y[i] = _as_vector(value, names, where)
        else:
            raised[i] = True
            messages.append(value)
    return names, y, raised, messages


def _check_bounds(
    bounds: Mapping[str, tuple[float, float]], log_scale: bool, where: str
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    if not isinstance(bounds, Mapping) or len(bounds) == 0:
        raise InvalidInputError(
            f"{where}: bounds: expected a non-empty mapping {{parameter: (lower, upper)}}, "
            f"received {bounds!r}"
        )
    names, lower, upper = [], [], []
    for name, pair in bounds.items():
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{where}: bounds of {name!r}: expected two numbers (lower, upper), "
                f"received {pair!r}"
            ) from None
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            raise InvalidInputError(
                f"{where}: bounds of {name!r}: expected finite lower < upper, "
                f"received ({lo:g}, {hi:g})"
            )
        if log_scale and lo <= 0:
            raise InvalidInputError(
                f"{where}: bounds of {name!r}: log_scale=True samples log10 of the parameter, "
                f"so expected lower > 0, received ({lo:g}, {hi:g}); pass log_scale=False for "
                "uniform sampling"
            )
        names.append(str(name))
        lower.append(lo)
        upper.append(hi)
    return tuple(names), np.array(lower), np.array(upper)


def _check_choice(value: Any, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise InvalidInputError(
            f"{what}: expected one of {', '.join(map(repr, choices))}, received {value!r}"
        )
    return value


def _check_int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidInputError(f"{what}: expected an integer >= {minimum}, received {value!r}")
    return int(value)


def _check_conf_level(conf_level: float, where: str) -> float:
    if not isinstance(conf_level, int | float) or not 0 < conf_level < 1:
        raise InvalidInputError(
            f"{where}: conf_level: expected a number in (0, 1), received {conf_level!r}"
        )
    return float(conf_level)


def _analysis_seed(seed: int) -> int:
    # SALib's Sobol' analysis treats seed=0 as "no seed" (`if seed:`): derive a nonzero one.
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) | 1


def _is_constant(y: np.ndarray) -> bool:
    scale = float(np.max(np.abs(y))) if y.size else 0.0
    return float(np.ptp(y)) <= 1e-12 * max(scale, 1e-300)


def _failure_message(
    where: str, n_points: int, raised: np.ndarray, nonfinite: np.ndarray, messages: list[str]
) -> str:
    parts = []
    if raised.any():
        parts.append(f"{int(raised.sum())} raised SimulationError (first: {messages[0]})")
    if nonfinite.any():
        parts.append(f"{int(nonfinite.sum())} returned non-finite outputs")
    n_failed = int((raised | nonfinite).sum())
    return f"{where}: {n_failed} of {n_points} evaluations failed: " + "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# ranking and plotting helpers
# ---------------------------------------------------------------------------------------------
def _aggregate(values: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate |values| (n_outputs, n_parameters) over outputs, ignoring NaN.

    Returns the aggregate per parameter (NaN where no output is finite) and, per parameter,
    the output index of its largest |value| (-1 where none is finite)."""
    mag = np.abs(values)
    finite = np.isfinite(mag)
    filled = np.where(finite, mag, -np.inf)
    arg = np.argmax(filled, axis=0)
    any_finite = finite.any(axis=0)
    if how == "max":
        agg = filled[arg, np.arange(mag.shape[1])]
    else:
        agg = np.sqrt(np.sum(np.where(finite, mag, 0.0) ** 2, axis=0))
    agg = np.where(any_finite, agg, np.nan)
    return agg, np.where(any_finite, arg, -1)


def _ranked_series(parameters: Sequence[str], score: np.ndarray, name: str):
    import pandas as pd

    series = pd.Series(np.asarray(score, dtype=float), index=list(parameters), name=name)
    series.index.name = "parameter"
    return series.sort_values(ascending=False, na_position="last", kind="stable")


def _output_index(outputs: Sequence[str], output: str) -> int:
    if output not in outputs:
        raise UnknownNameError("output", output, outputs)
    return list(outputs).index(output)


def _check_top(top: int) -> int:
    return _check_int(top, "top", 1)


def _bar_figure(
    labels: Sequence[str],
    series: Sequence[tuple[str, np.ndarray, np.ndarray | None, str | Sequence[str]]],
    *,
    xlabel: str,
    title: str,
    zero_line: bool = False,
):
    """Horizontal bars, first label on top; *series*: (legend label, values, errors, colour)."""
    import matplotlib.pyplot as plt

    n = len(labels)
    k = len(series)
    fig, ax = plt.subplots(figsize=(7.5, 1.3 + 0.42 * n * max(1, 0.75 * k)))
    height = 0.8 / k
    y = np.arange(n)[::-1].astype(float)
    for i, (label, values, errors, colour) in enumerate(series):
        offset = (k - 1) / 2 * height - i * height
        ax.barh(
            y + offset,
            values,
            height=height * 0.95,
            xerr=errors,
            color=colour,
            label=label or None,
            error_kw={"ecolor": INK, "capsize": 3, "lw": 1},
        )
    ax.set_yticks(y, labels, fontsize=11)
    ax.tick_params(axis="x", labelsize=11)
    ax.set_xlabel(xlabel, fontsize=12)
    ax.set_ylabel("parameter", fontsize=12)
    ax.set_title(title, fontsize=12)
    if zero_line:
        ax.axvline(0.0, color=INK, lw=0.8)
    if any(label for label, *_ in series):
        ax.legend(fontsize=10, loc="lower right", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# local sensitivities
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LocalSensitivity:
    """Normalised local sensitivities at one parameter point.

    Attributes
    ----------
    parameters, outputs
        Names (columns and rows of the arrays).
    p0
        The point (every parameter passed, also those not perturbed).
    y0
        Outputs at *p0*, shape ``(n_outputs,)``.
    sensitivity
        ``∂ln y_i/∂ln p_j`` (dimensionless), shape ``(n_outputs, n_parameters)``; NaN where it
        is undefined (see *notes*).
    derivative
        Unnormalised ``∂y_i/∂p_j`` (output units per parameter unit), same shape; defined also
        where y_i ≈ 0 (where the normalised one is not).
    notes
        ``{(output, parameter): why the normalised sensitivity is NaN}``.
    rel_step, method
        Step (p × (1 + rel_step) and p / (1 + rel_step)) and difference scheme.
    n_evaluations
        Function evaluations used.
    """

    parameters: tuple[str, ...]
    outputs: tuple[str, ...]
    p0: dict[str, float]
    y0: np.ndarray
    sensitivity: np.ndarray
    derivative: np.ndarray
    notes: dict[tuple[str, str], str]
    rel_step: float
    method: str
    n_evaluations: int

    def get(self, output: str, parameter: str) -> float:
        """``∂ln output/∂ln parameter``."""
        j = self._parameter_index(parameter)
        return float(self.sensitivity[_output_index(self.outputs, output), j])

    def _parameter_index(self, parameter: str) -> int:
        if parameter not in self.parameters:
            raise UnknownNameError("parameter", parameter, self.parameters)
        return self.parameters.index(parameter)

    def to_dataframe(self):  # -> DataFrame
        """Tidy table: ``parameter, output, sensitivity, derivative, note``."""
        import pandas as pd

        rows = [
            {
                "parameter": p,
                "output": o,
                "sensitivity": float(self.sensitivity[i, j]),
                "derivative": float(self.derivative[i, j]),
                "note": self.notes.get((o, p), ""),
            }
            for i, o in enumerate(self.outputs)
            for j, p in enumerate(self.parameters)
        ]
        return pd.DataFrame(
            rows, columns=["parameter", "output", "sensitivity", "derivative", "note"]
        )

    def ranking(self, output: str | None = None, aggregate: Aggregate = "max"):  # -> Series
        """Parameters by |S|, largest first (NaN last): of one *output*, or aggregated over all
        outputs by the largest |S| (``"max"``) or the root sum of squares (``"l2"``)."""
        if output is not None:
            i = _output_index(self.outputs, output)
            return _ranked_series(self.parameters, np.abs(self.sensitivity[i]), f"|S| of {output}")
        _check_choice(aggregate, ("max", "l2"), "aggregate")
        score, _ = _aggregate(self.sensitivity, aggregate)
        label = "max |S|" if aggregate == "max" else "L2 norm of S"
        return _ranked_series(self.parameters, score, f"{label} over {len(self.outputs)} outputs")

    def plot(self, top: int = 15, output: str | None = None, aggregate: Aggregate = "max"):
        """Horizontal bars ranking the *top* parameters: signed ∂ln y/∂ln p of one *output*
        (sky blue: the output rises with the parameter, purple: it falls), or the aggregate
        |S| over all outputs. Returns the Figure."""
        top = _check_top(top)
        ranking = self.ranking(output, aggregate).dropna()
        if ranking.empty:
            raise InvalidInputError(
                f"plot: no finite sensitivity{' of ' + output if output else ''} to rank "
                f"(notes: {'; '.join(sorted(set(self.notes.values())))})"
            )
        names = list(ranking.index[:top])
        cols = [self.parameters.index(n) for n in names]
        if output is not None:
            values = self.sensitivity[_output_index(self.outputs, output), cols]
            colours = [_POSITIVE if v >= 0 else _NEGATIVE for v in values]
            xlabel = "normalised sensitivity ∂ln y/∂ln p (dimensionless)"
            title = f"{output}: local sensitivities at p0"
            series = [("", values, None, colours)]
        else:
            values = ranking.to_numpy()[:top]
            what = "max |∂ln y/∂ln p|" if aggregate == "max" else "‖∂ln y/∂ln p‖₂"
            xlabel = f"{what} over outputs (dimensionless)"
            title = f"local sensitivities at p0, {len(self.outputs)} outputs"
            series = [("", values, None, _POSITIVE)]
        return _bar_figure(names, series, xlabel=xlabel, title=title, zero_line=True)


def local_sensitivities(
    func: Callable[[dict[str, float]], Mapping[str, float] | np.ndarray],
    p0: Mapping[str, float],
    *,
    parameters: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    rel_step: float = 1e-2,
    method: Literal["central", "forward"] = "central",
    zero_atol: float = 1e-12,
    map_fn: Callable = map,
) -> LocalSensitivity:
    """Normalised sensitivities ``S_ij = ∂ln y_i/∂ln p_j`` at *p0* by finite differences in ln p.

    Each parameter is stepped by ``h = ln(1 + rel_step)`` in ln p (p × (1 + rel_step) and
    p / (1 + rel_step)); ``S = (ln|y(p e^h)| − ln|y(p e^−h)|) / 2h`` (central) or
    ``(ln|y(p e^h)| − ln|y(p)|) / h`` (forward). Exact for power laws. Where y ≈ 0
    (``|y0| <= zero_atol``) or y changes sign within the step, S is NaN with a note; the
    unnormalised ``∂y/∂p`` is reported in every case.

    Parameters
    ----------
    func
        ``func(params: dict[str, float])`` returning ``{output: value}`` or an array of outputs;
        called with all of *p0*, one parameter stepped at a time.
    p0
        The point; the perturbed parameters must be > 0 (log-space steps).
    parameters
        Which of *p0* to perturb (default all).
    outputs
        For a dict-valued *func*: the outputs to keep (default all); for an array-valued one:
        their names (default ``y0, y1, …``).
    rel_step, method, zero_atol
        Step, ``"central"`` (1 + 2·n_parameters evaluations) or ``"forward"`` (1 + n), and the
        |y0| below which an output counts as zero.
    map_fn
        Callable like the builtin :func:`map` used for the evaluations (e.g. a process pool's
        ``map``; *func* must then pickle).

    Raises
    ------
    SimulationError
        If an evaluation raises it (the message names the stepped parameter).
    """
    where = "local_sensitivities"
    if not isinstance(p0, Mapping) or not p0:
        raise InvalidInputError(f"{where}: p0: expected a non-empty mapping, received {p0!r}")
    base = {str(k): float(v) for k, v in p0.items()}
    names = tuple(base) if parameters is None else tuple(parameters)
    if not names:
        raise InvalidInputError(f"{where}: parameters: expected at least one name, received none")
    for name in names:
        if name not in base:
            raise UnknownNameError("parameter", name, base)
        if not (math.isfinite(base[name]) and base[name] > 0):
            raise InvalidInputError(
                f"{where}: p0[{name!r}]: log-space steps need a finite value > 0, received "
                f"{base[name]!r} (a parameter at 0 has no normalised sensitivity)"
            )
    if not (isinstance(rel_step, int | float) and 0 < rel_step < 1):
        raise InvalidInputError(
            f"{where}: rel_step: expected a number in (0, 1), received {rel_step!r}"
        )
    _check_choice(method, ("central", "forward"), f"{where}: method")
    h = math.log1p(rel_step)
    points = [dict(base)]
    labels = ["p0"]
    signs = (1, -1) if method == "central" else (1,)
    for name in names:
        for s in signs:
            point = dict(base)
            point[name] = base[name] * math.exp(s * h)
            points.append(point)
            labels.append(f"{name} {'×' if s > 0 else '/'} {1 + rel_step:g}")
    results = list(map_fn(_Guarded(func), points))
    if len(results) != len(points):
        raise InvalidInputError(
            f"{where}: map_fn returned {len(results)} results for {len(points)} points "
            "(expected a callable like the builtin map)"
        )
    for (ok, value), label in zip(results, labels, strict=True):
        if not ok:
            raise SimulationError(f"{where}: the evaluation at {label} failed: {value}")
    out_names = _output_names(results[0][1], None if outputs is None else tuple(outputs), where)
    y = np.array([_as_vector(value, out_names, where) for _, value in results])
    y0 = y[0]
    n_p = len(names)
    if method == "central":
        y_up, y_down = y[1::2][:n_p], y[2::2][:n_p]
        dp = np.array([base[n] for n in names]) * (math.exp(h) - math.exp(-h))
    else:
        y_up, y_down = y[1:], np.repeat(y0[None, :], n_p, axis=0)
        dp = np.array([base[n] for n in names]) * (math.exp(h) - 1.0)
    span = 2 * h if method == "central" else h
    derivative = ((y_up - y_down) / dp[:, None]).T  # (n_outputs, n_parameters)
    sensitivity = np.full_like(derivative, np.nan)
    notes: dict[tuple[str, str], str] = {}
    for i, out in enumerate(out_names):
        for j, par in enumerate(names):
            a, b, c = y0[i], y_up[j, i], y_down[j, i]
            if not np.all(np.isfinite([a, b, c])):
                notes[(out, par)] = "non-finite output"
            elif abs(a) <= zero_atol:
                notes[(out, par)] = f"output ≈ 0 at p0 (|y| <= {zero_atol:g}): see derivative"
            elif not (np.sign(a) == np.sign(b) == np.sign(c)):
                notes[(out, par)] = "output changes sign within the step: see derivative"
            else:
                sensitivity[i, j] = (math.log(abs(b)) - math.log(abs(c))) / span
    return LocalSensitivity(
        parameters=names,
        outputs=out_names,
        p0=base,
        y0=y0,
        sensitivity=sensitivity,
        derivative=derivative,
        notes=notes,
        rel_step=float(rel_step),
        method=method,
        n_evaluations=len(points),
    )


# ---------------------------------------------------------------------------------------------
# global methods
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _GlobalResult:
    parameters: tuple[str, ...]
    outputs: tuple[str, ...]
    bounds: dict[str, tuple[float, float]]
    log_scale: bool
    n_evaluations: int
    n_failed: int
    n_dropped: int
    notes: tuple[str, ...]

    def _parameter_index(self, parameter: str) -> int:
        if parameter not in self.parameters:
            raise UnknownNameError("parameter", parameter, self.parameters)
        return self.parameters.index(parameter)

    def _tidy(self, columns: dict[str, np.ndarray]):
        import pandas as pd

        n_o, n_p = len(self.outputs), len(self.parameters)
        frame = {
            "parameter": np.tile(self.parameters, n_o),
            "output": np.repeat(self.outputs, n_p),
        }
        frame.update({k: np.asarray(v, float).reshape(-1) for k, v in columns.items()})
        return pd.DataFrame(frame)

    def _rank(self, values: np.ndarray, what: str, output: str | None, aggregate: str):
        if output is not None:
            i = _output_index(self.outputs, output)
            return _ranked_series(self.parameters, np.abs(values[i]), f"{what} of {output}")
        _check_choice(aggregate, ("max", "l2"), "aggregate")
        score, _ = _aggregate(values, aggregate)
        label = "max" if aggregate == "max" else "L2 norm of"
        return _ranked_series(
            self.parameters, score, f"{label} {what} over {len(self.outputs)} outputs"
        )

    def _pick(self, key: np.ndarray, output: str | None, top: int):
        """Columns to plot: (names, per-parameter output rows, title part)."""
        top = _check_top(top)
        if output is not None or len(self.outputs) == 1:
            name = output if output is not None else self.outputs[0]
            i = _output_index(self.outputs, name)
            rows = np.full(len(self.parameters), i)
            ranking = self._rank(key, "", name, "max").dropna()
            title = name
        else:
            score, rows = _aggregate(key, "max")
            ranking = _ranked_series(self.parameters, score, "").dropna()
            title = f"each parameter at its most sensitive of {len(self.outputs)} outputs"
        if ranking.empty:
            raise InvalidInputError(f"plot: no finite index to rank for {title}")
        names = list(ranking.index[:top])
        cols = np.array([self.parameters.index(n) for n in names])
        return names, cols, rows[cols], title

    def _scale_text(self) -> str:
        return "log-uniform" if self.log_scale else "uniform"


@dataclass(frozen=True, eq=False)
class SobolResult(_GlobalResult):
    """Sobol' indices of every output to every parameter over the bounds.

    Arrays have shape ``(n_outputs, n_parameters)``: ``S1`` first-order (the share of the
    output variance explained by the parameter alone), ``ST`` total (alone and through
    interactions), each with the half-width of its bootstrap confidence interval at
    ``conf_level`` (``S1_conf``, ``ST_conf``). ``S2``/``S2_conf`` ``(n_outputs, n_parameters,
    n_parameters)`` (upper triangle) when second order was asked for, else None. An output that
    does not vary over the sample gets indices 0 (listed in ``notes``).

    ``n_base`` base samples; ``n_evaluations`` function evaluations (``n_base·(D + 2)``, or
    ``n_base·(2D + 2)`` with second order); ``n_failed`` of them failed and ``n_dropped`` base
    samples were dropped for it (``on_failure="drop"``; see the module docstring).
    """

    S1: np.ndarray = field(default=None)
    S1_conf: np.ndarray = field(default=None)
    ST: np.ndarray = field(default=None)
    ST_conf: np.ndarray = field(default=None)
    S2: np.ndarray | None = None
    S2_conf: np.ndarray | None = None
    n_base: int = 0
    conf_level: float = 0.95

    def to_dataframe(self):  # -> DataFrame
        """Tidy table: ``parameter, output, S1, S1_conf, ST, ST_conf``."""
        return self._tidy(
            {"S1": self.S1, "S1_conf": self.S1_conf, "ST": self.ST, "ST_conf": self.ST_conf}
        )

    def ranking(
        self,
        output: str | None = None,
        index: Literal["ST", "S1"] = "ST",
        aggregate: Aggregate = "max",
    ):  # -> Series
        """Parameters by *index* (default ST), largest first: of one *output*, or aggregated
        over the outputs by the largest (``"max"``) or root sum of squares (``"l2"``)."""
        _check_choice(index, ("ST", "S1"), "index")
        return self._rank(getattr(self, index), index, output, aggregate)

    def plot(self, top: int = 15, output: str | None = None):
        """Bars of S1 and ST with their confidence intervals for the *top* parameters ranked by
        ST, of one *output* — or, with several outputs and none named, each parameter at the
        output where its ST is largest. Returns the Figure."""
        names, cols, rows, title = self._pick(self.ST, output, top)
        pct = round(100 * self.conf_level)
        series = [
            ("first order S1", self.S1[rows, cols], self.S1_conf[rows, cols], _FIRST),
            ("total ST", self.ST[rows, cols], self.ST_conf[rows, cols], _TOTAL),
        ]
        return _bar_figure(
            names,
            series,
            xlabel=f"Sobol' index (fraction of output variance; bars: {pct} % CI)",
            title=f"{title}\n{self._scale_text()} over bounds, N = {self.n_base}",
            zero_line=True,
        )


@dataclass(frozen=True, eq=False)
class MorrisResult(_GlobalResult):
    """Morris elementary-effects screening.

    Arrays ``(n_outputs, n_parameters)``: ``mu`` (mean elementary effect, signed), ``mu_star``
    (mean |effect|: overall influence), ``mu_star_conf`` (bootstrap CI half-width) and
    ``sigma`` (spread: non-linearity or interactions). Effects are in output units per full
    range of the parameter (of log10 p with ``log_scale``): SALib's elementary effect is
    Δy / Δ with Δ the step as a fraction of the range. ``trajectories`` × (D + 1) evaluations.
    """

    mu: np.ndarray = field(default=None)
    mu_star: np.ndarray = field(default=None)
    mu_star_conf: np.ndarray = field(default=None)
    sigma: np.ndarray = field(default=None)
    trajectories: int = 0
    levels: int = 4

    def to_dataframe(self):  # -> DataFrame
        """Tidy table: ``parameter, output, mu, mu_star, mu_star_conf, sigma``."""
        return self._tidy(
            {
                "mu": self.mu,
                "mu_star": self.mu_star,
                "mu_star_conf": self.mu_star_conf,
                "sigma": self.sigma,
            }
        )

    def ranking(self, output: str | None = None, aggregate: Aggregate = "max"):  # -> Series
        """Parameters by μ*, largest first (of one *output* or aggregated over outputs)."""
        return self._rank(self.mu_star, "mu_star", output, aggregate)

    def plot(self, top: int = 15, output: str | None = None):
        """Bars of μ* (with CI) and σ for the *top* parameters ranked by μ*. Returns the Figure."""
        names, cols, rows, title = self._pick(self.mu_star, output, top)
        series = [
            (
                "μ* (mean |elementary effect|)",
                self.mu_star[rows, cols],
                self.mu_star_conf[rows, cols],
                _TOTAL,
            ),
            ("σ (non-linearity, interactions)", self.sigma[rows, cols], None, _SPREAD),
        ]
        per = "log10 range" if self.log_scale else "range"
        return _bar_figure(
            names,
            series,
            xlabel=f"elementary effect (output units per full {per} of the parameter)",
            title=f"{title}\nMorris, {self.trajectories} trajectories, {self.levels} levels",
        )


def _sample_points(x: np.ndarray, names: tuple[str, ...], log_scale: bool) -> list[dict]:
    natural = 10.0**x if log_scale else x
    return [dict(zip(names, row.tolist(), strict=True)) for row in natural]


def _blocks_to_keep(
    failed: np.ndarray, block: int, on_failure: str, where: str, message: str, unit: str
) -> tuple[np.ndarray, int, list[str]]:
    n_blocks = failed.size // block
    bad = failed.reshape(n_blocks, block).any(axis=1)
    notes: list[str] = []
    if bad.any():
        if on_failure == "raise":
            raise SimulationError(
                f"{message}; the estimators need every evaluation of a design block, so pass "
                f"on_failure='drop' to drop the {int(bad.sum())} {unit}s (of {n_blocks}) that "
                "hold them, or narrow the bounds"
            )
        if n_blocks - bad.sum() < 2:
            raise SimulationError(f"{message}; fewer than 2 {unit}s remain without a failure")
        notes.append(
            f"{message}; dropped the {int(bad.sum())} {unit}s (of {n_blocks}) holding them: the "
            "indices are conditional on the simulation succeeding"
        )
    return np.repeat(~bad, block), int(bad.sum()), notes


def sobol_indices(
    func: Callable[[dict[str, float]], Mapping[str, float] | np.ndarray],
    bounds: Mapping[str, tuple[float, float]],
    *,
    n_base: int = 512,
    seed: int = 0,
    log_scale: bool = True,
    second_order: bool = False,
    map_fn: Callable = map,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    outputs: Sequence[str] | None = None,
    on_failure: OnFailure = "raise",
) -> SobolResult:
    """Sobol' first-order and total indices of *func*'s outputs over the box *bounds*.

    Saltelli sampling on a scrambled Sobol' sequence (``SALib.sample.sobol``) and the
    Saltelli 2010 / Jansen estimators with bootstrap confidence intervals
    (``SALib.analyze.sobol``). The parameters are independent and **log-uniform** over
    ``bounds`` with ``log_scale=True`` (uniform in log10 p; bounds must be > 0), uniform with
    ``log_scale=False``.

    Parameters
    ----------
    func
        ``func(params: dict[str, float])`` → ``{output: value}`` or an array of outputs; called
        with exactly the parameters of *bounds* (natural scale).
    bounds
        ``{parameter: (lower, upper)}`` (natural scale), e.g. from :func:`default_bounds` or
        :func:`bounds_from_ensemble`.
    n_base
        Base sample size N, a power of 2 (the balance of Sobol' points needs it);
        ``N·(D + 2)`` evaluations, ``N·(2D + 2)`` with *second_order*.
    seed
        Seeds the scrambling and the bootstrap: same seed, same result.
    map_fn
        Callable like the builtin :func:`map` for the evaluations (e.g. a process pool's).
    conf_level, num_resamples
        Confidence level and bootstrap resamples of the intervals.
    outputs
        Output names to keep (dict-valued *func*) or to give (array-valued).
    on_failure
        ``"raise"`` (default) or ``"drop"``: see the module docstring.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    where = "sobol_indices"
    names, lower, upper = _check_bounds(bounds, log_scale, where)
    n_base = _check_int(n_base, f"{where}: n_base", 2)
    if n_base & (n_base - 1):
        raise InvalidInputError(
            f"{where}: n_base: expected a power of 2 (the balance properties of Sobol' points "
            f"need it), received {n_base}; e.g. {1 << (n_base.bit_length() - 1)} or "
            f"{1 << n_base.bit_length()}"
        )
    conf_level = _check_conf_level(conf_level, where)
    num_resamples = _check_int(num_resamples, f"{where}: num_resamples", 2)
    _check_choice(on_failure, ("raise", "drop"), f"{where}: on_failure")
    d = len(names)
    lo, hi = (np.log10(lower), np.log10(upper)) if log_scale else (lower, upper)
    problem = {"num_vars": d, "names": list(names), "bounds": np.c_[lo, hi].tolist()}
    x = sobol_sample.sample(problem, n_base, calc_second_order=second_order, seed=seed)
    out_names, y, raised, messages = _evaluate(
        func, _sample_points(x, names, log_scale), map_fn, outputs, where
    )
    nonfinite = ~raised & ~np.all(np.isfinite(y), axis=1)
    failed = raised | nonfinite
    block = 2 * d + 2 if second_order else d + 2
    message = _failure_message(where, len(x), raised, nonfinite, messages) if failed.any() else ""
    keep, n_dropped, notes = _blocks_to_keep(
        failed, block, on_failure, where, message, "base sample"
    )
    y = y[keep]
    n_o = len(out_names)
    s1, s1c, st, stc = (np.zeros((n_o, d)) for _ in range(4))
    s2 = np.full((n_o, d, d), np.nan) if second_order else None
    s2c = np.full((n_o, d, d), np.nan) if second_order else None
    analysis_seed = _analysis_seed(seed)
    for i, out in enumerate(out_names):
        column = y[:, i]
        if _is_constant(column):
            notes.append(f"output {out!r} is constant over the sample: its indices are set to 0")
            if second_order:
                s2[i][np.triu_indices(d, 1)] = 0.0
                s2c[i][np.triu_indices(d, 1)] = 0.0
            continue
        res = sobol_analyze.analyze(
            problem,
            column,
            calc_second_order=second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=analysis_seed,
        )
        s1[i], s1c[i], st[i], stc[i] = res["S1"], res["S1_conf"], res["ST"], res["ST_conf"]
        if second_order:
            s2[i], s2c[i] = res["S2"], res["S2_conf"]
    return SobolResult(
        parameters=names,
        outputs=out_names,
        bounds={n: (float(a), float(b)) for n, a, b in zip(names, lower, upper, strict=True)},
        log_scale=bool(log_scale),
        n_evaluations=len(x),
        n_failed=int(failed.sum()),
        n_dropped=n_dropped,
        notes=tuple(notes),
        S1=s1,
        S1_conf=s1c,
        ST=st,
        ST_conf=stc,
        S2=s2,
        S2_conf=s2c,
        n_base=n_base,
        conf_level=conf_level,
    )


def morris_screening(
    func: Callable[[dict[str, float]], Mapping[str, float] | np.ndarray],
    bounds: Mapping[str, tuple[float, float]],
    *,
    trajectories: int = 20,
    levels: int = 4,
    seed: int = 0,
    map_fn: Callable = map,
    log_scale: bool = True,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    outputs: Sequence[str] | None = None,
    on_failure: OnFailure = "raise",
) -> MorrisResult:
    """Morris elementary-effects screening of *func*'s outputs over *bounds* (SALib).

    ``trajectories`` one-at-a-time trajectories on a grid of ``levels`` (even) levels per
    parameter, log-uniform (``log_scale=True``) or uniform: ``trajectories·(D + 1)``
    evaluations. μ* ranks the parameters; an inert one has μ* = 0. Arguments as in
    :func:`sobol_indices`; failures drop whole trajectories with ``on_failure="drop"``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    where = "morris_screening"
    names, lower, upper = _check_bounds(bounds, log_scale, where)
    trajectories = _check_int(trajectories, f"{where}: trajectories", 2)
    levels = _check_int(levels, f"{where}: levels", 2)
    if levels % 2:
        raise InvalidInputError(f"{where}: levels: expected an even number, received {levels}")
    conf_level = _check_conf_level(conf_level, where)
    num_resamples = _check_int(num_resamples, f"{where}: num_resamples", 2)
    _check_choice(on_failure, ("raise", "drop"), f"{where}: on_failure")
    d = len(names)
    lo, hi = (np.log10(lower), np.log10(upper)) if log_scale else (lower, upper)
    problem = {"num_vars": d, "names": list(names), "bounds": np.c_[lo, hi].tolist()}
    x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    out_names, y, raised, messages = _evaluate(
        func, _sample_points(x, names, log_scale), map_fn, outputs, where
    )
    nonfinite = ~raised & ~np.all(np.isfinite(y), axis=1)
    failed = raised | nonfinite
    message = _failure_message(where, len(x), raised, nonfinite, messages) if failed.any() else ""
    keep, n_dropped, notes = _blocks_to_keep(
        failed, d + 1, on_failure, where, message, "trajectory"
    )
    x, y = x[keep], y[keep]
    n_o = len(out_names)
    mu, mu_star, mu_conf, sigma = (np.zeros((n_o, d)) for _ in range(4))
    for i in range(n_o):
        res = morris_analyze.analyze(
            problem,
            x,
            np.ascontiguousarray(y[:, i]),
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=levels,
            seed=seed,
        )
        mu[i] = np.asarray(res["mu"], float)
        mu_star[i] = np.asarray(res["mu_star"], float)
        mu_conf[i] = np.asarray(res["mu_star_conf"], float)
        sigma[i] = np.asarray(res["sigma"], float)
    return MorrisResult(
        parameters=names,
        outputs=out_names,
        bounds={n: (float(a), float(b)) for n, a, b in zip(names, lower, upper, strict=True)},
        log_scale=bool(log_scale),
        n_evaluations=len(keep),
        n_failed=int(failed.sum()),
        n_dropped=n_dropped,
        notes=tuple(notes),
        mu=mu,
        mu_star=mu_star,
        mu_star_conf=mu_conf,
        sigma=sigma,
        trajectories=trajectories,
        levels=levels,
    )


# ---------------------------------------------------------------------------------------------
# bounds
# ---------------------------------------------------------------------------------------------
def default_bounds(
    model: Model,
    names: Iterable[str] | None = None,
    decades: float | None = None,
    *,
    cell_line: str | None = None,
) -> dict[str, tuple[float, float]]:
    """Bounds of *names* (default: the model's estimated parameters) for a global analysis.

    ``decades=None``: the parameter table's fitting bounds (a parameter fixed there, lower =
    upper, raises: pass *decades* or leave it out). ``decades=d``: ``value·10^±d`` around the
    model's value (of *cell_line* for cell-line-specific parameters; table defaults if None).
    """
    names = tuple(model.estimated_parameters() if names is None else names)
    if not names:
        raise InvalidInputError(
            "default_bounds: names: expected at least one parameter, received none"
        )
    ids = model.parameter_ids
    if decades is not None and not (
        isinstance(decades, int | float) and math.isfinite(decades) and decades > 0
    ):
        raise InvalidInputError(
            f"default_bounds: decades: expected a number > 0, received {decades!r}"
        )
    values = model.parameter_values(cell_line)
    bounds: dict[str, tuple[float, float]] = {}
    for name in names:
        if name not in ids:
            raise UnknownNameError("parameter", name, ids)
        if decades is None:
            info = model.table[name]
            if not info.lower < info.upper:
                raise InvalidInputError(
                    f"default_bounds: parameter {name!r} is fixed in the parameter table "
                    f"(lower = upper = {info.lower:g} {info.unit}); pass decades= to vary it "
                    "around its value, or leave it out"
                )
            bounds[name] = (float(info.lower), float(info.upper))
        else:
            value = values[name]
            if not value > 0:
                raise InvalidInputError(
                    f"default_bounds: parameter {name!r} has value {value:g} in variant "
                    f"{model.variant!r}: ±decades around it needs a value > 0"
                )
            bounds[name] = (value * 10.0**-decades, value * 10.0**decades)
    return bounds


def bounds_from_ensemble(
    samples,
    names: Sequence[str] | None = None,
    quantiles: tuple[float, float] = (0.025, 0.975),
    *,
    scale: Literal["log10", "linear"] = "log10",
) -> dict[str, tuple[float, float]]:
    """Bounds from the marginal *quantiles* of a parameter ensemble (e.g. MCMC samples).

    Parameters
    ----------
    samples
        Array ``(n_samples, n_parameters)`` or DataFrame (one column per parameter) of log10
        values (``scale="log10"``, as fits and ensembles store them) or natural values
        (``scale="linear"``).
    names
        Parameter names: the array's columns in order (required for an array), or the
        DataFrame columns to use (default all).
    quantiles
        Lower and upper quantile of each marginal.

    Returns
    -------
    dict
        ``{parameter: (lower, upper)}`` on the natural scale, for :func:`sobol_indices`. The
        box keeps each marginal's spread but not the correlations between parameters
        (Sobol' indices need independent inputs); with ``log_scale=True`` the parameters are
        then log-uniform over it.
    """
    where = "bounds_from_ensemble"
    _check_choice(scale, ("log10", "linear"), f"{where}: scale")
    if hasattr(samples, "columns"):  # DataFrame
        columns = [str(c) for c in samples.columns]
        chosen = columns if names is None else [str(n) for n in names]
        for name in chosen:
            if name not in columns:
                raise UnknownNameError("parameter", name, columns)
        values = np.asarray(samples[chosen].to_numpy(), dtype=float)
    else:
        values = np.asarray(samples, dtype=float)
        if values.ndim != 2:
            raise InvalidInputError(
                f"{where}: samples: expected a 2-D array (n_samples, n_parameters), received "
                f"shape {values.shape}"
            )
        if names is None or len(names) != values.shape[1]:
            raise InvalidInputError(
                f"{where}: names: expected {values.shape[1]} names (one per column of samples), "
                f"received {None if names is None else len(names)}"
            )
        chosen = [str(n) for n in names]
    if values.shape[0] < 2 or not chosen:
        raise InvalidInputError(
            f"{where}: samples: expected at least 2 samples of at least 1 parameter, received "
            f"shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        bad = [chosen[j] for j in np.flatnonzero(~np.all(np.isfinite(values), axis=0))]
        raise InvalidInputError(f"{where}: samples: non-finite values in {', '.join(bad)}")
    try:
        q_lo, q_hi = (float(q) for q in quantiles)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{where}: quantiles: expected two numbers, received {quantiles!r}"
        ) from None
    if not 0 <= q_lo < q_hi <= 1:
        raise InvalidInputError(
            f"{where}: quantiles: expected 0 <= lower < upper <= 1, received {quantiles!r}"
        )
    lo, hi = np.quantile(values, [q_lo, q_hi], axis=0)
    if scale == "log10":
        lo, hi = 10.0**lo, 10.0**hi
    bounds = {}
    for name, a, b in zip(chosen, lo, hi, strict=True):
        if not a < b:
            raise InvalidInputError(
                f"{where}: parameter {name!r} does not vary over the ensemble's "
                f"{q_lo:g}–{q_hi:g} quantiles (both {a:g}): leave it out"
            )
        bounds[name] = (float(a), float(b))
    return bounds


# ---------------------------------------------------------------------------------------------
# model wrapper
# ---------------------------------------------------------------------------------------------
class MetricFunction:
    """``f(params) -> {"<readout>|<condition label>|<metric>": value}`` of a model.

    Built by :func:`metric_function` (see there). Picklable by content: the engine compiles
    lazily on first call in each process.
    """

    def __init__(
        self,
        model: Model,
        conditions: Sequence[Condition],
        *,
        metrics: Sequence[str] = ("peak", "auc", "late"),
        readouts: Sequence[str] = ("pERK", "pAKT", "p38"),
        times: Sequence[float] | np.ndarray | None = None,
        parameter_names: Sequence[str] | None = None,
    ) -> None:
        where = "metric_function"
        if isinstance(model, str):
            model = Model(model)
        if not isinstance(model, Model):
            raise InvalidInputError(
                f"{where}: model: expected a paracrine Model or variant name, received {model!r}"
            )
        conditions = (conditions,) if isinstance(conditions, Condition) else tuple(conditions)
        if not conditions:
            raise InvalidInputError(f"{where}: conditions: expected at least one Condition")
        for cond in conditions:
            if not isinstance(cond, Condition):
                raise InvalidInputError(
                    f"{where}: conditions: expected Condition objects, received {cond!r}"
                )
            if cond.cell_line not in model.cell_lines:
                raise UnknownNameError("cell line", cond.cell_line, model.cell_lines)
        metrics = tuple(metrics)
        readouts = tuple(readouts)
        if not metrics or not readouts:
            raise InvalidInputError(f"{where}: expected at least one metric and one read-out")
        for metric in metrics:
            if metric not in SENSITIVITY_METRICS:
                raise UnknownNameError("metric", metric, SENSITIVITY_METRICS)
        for readout in readouts:
            if readout not in OBSERVABLES:
                raise UnknownNameError("read-out", readout, OBSERVABLES)
        grid = check_times(DEFAULT_SENSITIVITY_TIMES_MIN if times is None else times)
        if grid[0] != 0.0:
            raise InvalidInputError(
                f"{where}: times: expected a grid starting at 0 min (the ligands are added "
                f"then), received a first time of {grid[0]:g} min"
            )
        if grid.size < 2:
            raise InvalidInputError(f"{where}: times: expected at least 2 time points")
        late = (grid >= LATE_WINDOW_MIN[0]) & (grid <= LATE_WINDOW_MIN[1])
        if "late" in metrics and not late.any():
            raise InvalidInputError(
                f"{where}: the 'late' metric needs grid points within "
                f"{LATE_WINDOW_MIN[0]:g}–{LATE_WINDOW_MIN[1]:g} min; the grid spans "
                f"{grid[0]:g}–{grid[-1]:g} min"
            )
        ids = model.parameter_ids
        names = tuple(model.estimated_parameters() if parameter_names is None else parameter_names)
        if not names:
            raise InvalidInputError(f"{where}: parameter_names: expected at least one parameter")
        for name in names:
            if name not in ids:
                raise UnknownNameError("parameter", name, ids)
        labels = []
        for cond in conditions:
            has_line = split_condition_label(cond.name)[1] is not None
            labels.append(cond.name if has_line else condition_label(cond.name, cond.cell_line))
        if len(set(labels)) != len(labels):
            raise InvalidInputError(
                f"{where}: conditions: expected unique condition labels, received {labels}"
            )
        self.model = model
        self.conditions = conditions
        self.metrics = metrics
        self.readouts = readouts
        self.times = grid
        self.parameter_names = names
        self.condition_labels = tuple(labels)
        self._index = {name: ids.index(name) for name in names}
        self._sim: ModelSimulator | None = None

    # pickling by content: the compiled engine is rebuilt lazily
    def __getstate__(self) -> dict:
        return {
            "model": self.model,
            "conditions": self.conditions,
            "metrics": self.metrics,
            "readouts": self.readouts,
            "times": self.times,
            "parameter_names": self.parameter_names,
        }

    def __setstate__(self, state: dict) -> None:
        model = state.pop("model")
        conditions = state.pop("conditions")
        self.__init__(model, conditions, **state)

    def __repr__(self) -> str:
        return (
            f"MetricFunction(variant={self.model.variant!r}, conditions={list(self.condition_labels)}, "
            f"readouts={list(self.readouts)}, metrics={list(self.metrics)}, "
            f"{len(self.parameter_names)} parameters)"
        )

    @property
    def output_names(self) -> tuple[str, ...]:
        """Output names, ``"<readout>|<condition label>|<metric>"``, in the order returned."""
        return tuple(
            f"{readout}|{label}|{metric}"
            for label in self.condition_labels
            for readout in self.readouts
            for metric in self.metrics
        )

    def default_parameters(self) -> dict[str, float]:
        """The model's values of :attr:`parameter_names` (the point of a local analysis).

        Raises if a cell-line-specific one differs between the conditions' cell lines (one
        value replaces it in all of them: use one function per cell line)."""
        lines = dict.fromkeys(c.cell_line for c in self.conditions)
        per_line = [self.model.parameter_values(line) for line in lines]
        values = {}
        for name in self.parameter_names:
            found = {v[name] for v in per_line}
            if len(found) > 1:
                raise InvalidInputError(
                    f"default_parameters: parameter {name!r} differs between the cell lines "
                    f"{', '.join(lines)} ({', '.join(f'{v:g}' for v in sorted(found))}); a "
                    "value passed replaces it in all of them: use one metric function per "
                    "cell line"
                )
            values[name] = float(found.pop())
        return values

    def _simulator(self) -> ModelSimulator:
        if self._sim is None:
            self._sim = ModelSimulator(self.model, self.readouts)
        return self._sim

    def __call__(self, params: Mapping[str, float]) -> dict[str, float]:
        """Metrics with *params* replacing the model's values (in every cell line)."""
        if not isinstance(params, Mapping):
            raise InvalidInputError(
                f"metric function: params: expected a mapping {{parameter: value}}, "
                f"received {params!r}"
            )
        for name, value in params.items():
            if name not in self._index:
                raise UnknownNameError("parameter", name, self.parameter_names)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InvalidInputError(
                    f"metric function: parameter {name!r}: expected a finite value >= 0, "
                    f"received {value!r}"
                )
        sim = self._simulator()
        grid = self.times
        out: dict[str, float] = {}
        vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for cond, label in zip(self.conditions, self.condition_labels, strict=True):
            if cond.cell_line not in vectors:
                pvec = sim.parameter_vector(cond.cell_line)
                for name, value in params.items():
                    pvec[self._index[name]] = float(value)
                basal = sim.run(Condition("basal", cond.cell_line), grid[:1], pvec)[0]
                vectors[cond.cell_line] = (pvec, np.where(basal > 0, basal, np.nan))
            pvec, basal = vectors[cond.cell_line]
            fold = sim.run(cond, grid, pvec) / basal
            values = {
                "peak": metrics.peak(fold),
                "auc": metrics.auc(grid, fold),
                "late": metrics.late(grid, fold),
            }
            for k, readout in enumerate(self.readouts):
                for metric in self.metrics:
                    out[f"{readout}|{label}|{metric}"] = float(values[metric][k])
        return out


def metric_function(
    model: Model | str,
    conditions: Sequence[Condition],
    *,
    metrics: Sequence[str] = ("peak", "auc", "late"),
    readouts: Sequence[str] = ("pERK", "pAKT", "p38"),
    times: Sequence[float] | np.ndarray | None = None,
    parameter_names: Sequence[str] | None = None,
) -> MetricFunction:
    """Response metrics of *model* under *conditions* as a function of its parameters.

    Returns a picklable callable ``f(params: dict[str, float]) -> dict[str, float]`` whose
    outputs are named ``"<readout>|<condition label>|<metric>"``, e.g.
    ``"pERK|IL-6+VEGF [MCF-7]|peak"`` (a condition named by its arm alone, as from
    :func:`~paracrine.simulations.standard_conditions`, gets its cell line appended).

    Each read-out is taken as the fold over basal: divided by its value at t = 0 in the
    unstimulated, unperturbed cell line (``Condition("basal", cell_line)``) with the same
    parameters. Metrics (:data:`SENSITIVITY_METRICS`): ``peak`` = largest fold on the grid;
    ``auc`` = trapezoid ∫(fold − 1) dt over the grid / its length (fold·min/min); ``late`` =
    mean fold over the grid points within 120–240 min (both ends included; the
    definition of ``late`` in the blot combination metrics).

    Parameters
    ----------
    model
        Model or variant name.
    conditions
        Conditions to simulate (unique labels).
    metrics, readouts
        Which metrics of which read-outs.
    times
        Grid in minutes starting at 0 (default 0–240 min every 2.5 min).
    parameter_names
        The parameters *f* accepts (default: the model's estimated ones); the values passed
        replace the model's in every cell line of the conditions. ``f.default_parameters()``
        gives the model's values, ``default_bounds(model, f.parameter_names)`` a box.
    """
    return MetricFunction(
        model,
        conditions,
        metrics=metrics,
        readouts=readouts,
        times=times,
        parameter_names=parameter_names,
    )
