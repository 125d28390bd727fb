"""Goodness of fit of a blot fit against the replicate ("pure error") noise of the data.

The fitted σ of a :class:`~paracrine.fitting.problem.BlotProblem` measures the residuals of the
model; whether those are *noise* needs a noise level that does not depend on the model. Blot
data have replicates — several bands of the same cell line, read-out, condition and time on
different blots — and the **saturated model** gives their noise:

    log y_i = log s_blot(i) + μ_cell(i) + ε_i,     ε_i ~ N(0, σ²)

with one free level μ per cell (cell line × read-out × condition × doses × time) and the same
per-blot scale factors as the fit. It is linear in (log s, μ) and is solved here exactly by
least squares. Its design is rank-deficient: within each connected set of blots (blots joined
by shared cells) one scale is confounded with the levels, so its rank is

    p_sat = n_cells + n_blots − n_connected_sets

(the rank of the incidence matrix of a bipartite graph: nodes minus connected components).

Every model the blot problem fits is nested in the saturated one: it constrains the levels to
μ_cell = log h_cell(θ) with k kinetic parameters, and the n_blots scales are then all
identifiable. With RSS the residual sum of squares on the log scale:

* replicate noise ``σ_pure = sqrt(RSS_sat / (n − p_sat))`` (unbiased for σ²);
* the fit's ``σ_fit = sqrt(RSS_fit / (n − k − n_blots))`` — the residual df of the fitted model:
  k kinetic parameters plus one scale per blot, the rank of the scale part (blots have disjoint
  rows, so their indicator columns are independent). k counts the nominal free parameters: a
  non-identifiable one still costs one df here;
* ``within_noise``: ``σ_fit / σ_pure ≤`` :data:`WITHIN_NOISE_RATIO`;
* the lack-of-fit **F-test** ``F = [(RSS_fit − RSS_sat) / df] / [RSS_sat / (n − p_sat)]``,
  ``df = p_sat − k − n_blots``, on (df, n − p_sat) degrees of freedom — exact for a linear model
  with normal errors, and what the verdict (:attr:`GoodnessOfFit.lack_of_fit`) uses;
* the likelihood-ratio test ``LR = 2 (nllh_fit − nllh_sat) = n log(RSS_fit / RSS_sat)`` against
  χ²(df), reported for reference only: the saturated model has a parameter for almost every
  replicate group (p_sat is a large fraction of n), so its ML σ² = RSS/n is biased low by the
  factor (n − p_sat)/n and LR is inflated — on the bundled design (n = 936, p_sat = 360) the
  *true* model gives LR ≈ n log(864/576) ≈ 380 on ~290 df, p ≈ 1e-4 (Neyman–Scott). The F
  statistic divides each RSS by its own df and has no such bias.

The nllh of both models follows the blot problem's convention (PEtab, log-normal noise: normal
terms on the log scale with the ML σ shared by all read-outs, plus the Jacobian term Σ log y),
computed with the same functions (:mod:`paracrine.fitting.objective.noise`).

Standardised residuals ``(log y − log(s·h)) / σ_pure`` (data − model, in units of replicate
noise) are averaged per cell; ``z = mean · sqrt(n)`` is ~N(0, 1) for a correct model, and
``|z| >`` :data:`SYSTEMATIC_Z` flags a systematic misfit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import FitError
from paracrine.fitting.objective.noise import Transform, jacobian_term, nllh_terms
from paracrine.vocabulary import ARMS, DIVERGING_CMAP, FAINT, INK, text_colour

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import pandas as pd

    from paracrine.fitting.problem import BlotProblem

__all__ = [
    "CELL_KEYS",
    "LACK_OF_FIT_ALPHA",
    "SYSTEMATIC_Z",
    "WITHIN_NOISE_RATIO",
    "GoodnessOfFit",
    "SaturatedFit",
    "aggregate_residuals",
    "goodness_of_fit",
    "plot_standardised_residuals",
    "saturated_fit",
    "standardised_residuals",
]

#: A fit is "within noise" when its σ is at most this multiple of the replicate noise.
WITHIN_NOISE_RATIO = 1.25
#: |mean standardised residual × √n| above this flags a cell as a systematic misfit.
SYSTEMATIC_Z = 3.0
#: Lack of fit is significant when the F-test's p-value is below this.
LACK_OF_FIT_ALPHA = 0.01
#: What makes a cell of the saturated model: every band with the same values is a replicate.
CELL_KEYS: tuple[str, ...] = (
    "cell_line",
    "readout",
    "condition",
    "il6_ng_ml",
    "vegf_ng_ml",
    "time_min",
)
#: Aggregation over cell lines and read-outs (the pattern of a misfit in the experiment).
CONDITION_TIME: tuple[str, ...] = ("condition", "il6_ng_ml", "vegf_ng_ml", "time_min")
#: Aggregation over cell lines (one heatmap panel per read-out).
READOUT_CONDITION_TIME: tuple[str, ...] = ("readout", *CONDITION_TIME)


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _cv(sigma_log: float) -> float:
    """Coefficient of variation of log-normal noise with log-scale σ."""
    return math.sqrt(math.expm1(sigma_log * sigma_log))


def _nllh_lognormal(d: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(nllh, ML σ) of log-scale differences *d* with one ML σ for all rows, in the blot
    problem's convention: PEtab normal terms on the log scale plus the Jacobian Σ log y."""
    sigma = math.sqrt(float(d @ d) / d.size)
    codes = np.full(d.size, Transform.LOG)
    value = nllh_terms(d, np.full(d.size, sigma)) + jacobian_term(y, codes)
    return value, sigma


# -- the saturated model -------------------------------------------------------------------------
@dataclass(frozen=True)
class SaturatedFit:
    """The saturated model fitted exactly: one level per cell, one scale per blot.

    Attributes
    ----------
    n
        Number of bands (rows).
    n_cells, n_blots, n_connected
        Cells (cell line × read-out × condition × doses × time), blots, and connected sets of
        blots (blots linked by shared cells); one scale per set is confounded with the levels.
    rank
        p_sat = n_cells + n_blots − n_connected: the exact rank of the design.
    rss
        Residual sum of squares on the natural-log scale.
    sigma_pure_ml, sigma_pure
        sqrt(RSS / n) (maximum likelihood) and sqrt(RSS / (n − p_sat)) (unbiased for σ²).
    nllh
        Negative log-likelihood at the ML σ, in the blot problem's convention.
    log_residuals
        log y − fitted, per row (data − saturated model).
    cell_index, blot_index
        Cell and blot of every row (indices into :attr:`cells` and :attr:`blots`).
    cells
        One row per cell: the :data:`CELL_KEYS`, ``n`` (bands) and ``level`` (μ, log scale;
        identifiable only up to one constant per connected set — the set's first blot has
        log scale 0).
    blots
        Blot identifiers; :attr:`log_scales` their log scale factors (same convention).
    sigma_pure_by_readout
        ``{readout: σ_pure}`` from each read-out's rows and df, when every connected set holds
        one read-out (else empty).
    source
        The data set.
    """

    n: int
    n_cells: int
    n_blots: int
    n_connected: int
    rank: int
    rss: float
    sigma_pure_ml: float
    sigma_pure: float
    nllh: float
    log_residuals: np.ndarray = field(repr=False)
    cell_index: np.ndarray = field(repr=False)
    blot_index: np.ndarray = field(repr=False)
    cells: pd.DataFrame = field(repr=False)
    blots: tuple[str, ...] = field(repr=False)
    log_scales: np.ndarray = field(repr=False)
    sigma_pure_by_readout: dict[str, float] = field(default_factory=dict)
    source: str = ""

    @property
    def df_residual(self) -> int:
        """n − p_sat: the degrees of freedom of the replicate noise."""
        return self.n - self.rank

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no per-row arrays)."""
        return {
            "n": self.n,
            "n_cells": self.n_cells,
            "n_blots": self.n_blots,
            "n_connected": self.n_connected,
            "rank": self.rank,
            "df_residual": self.df_residual,
            "rss": _finite_or_none(self.rss),
            "sigma_pure_ml": _finite_or_none(self.sigma_pure_ml),
            "sigma_pure": _finite_or_none(self.sigma_pure),
            "nllh": _finite_or_none(self.nllh),
            "sigma_pure_by_readout": {
                k: _finite_or_none(v) for k, v in self.sigma_pure_by_readout.items()
            },
            "source": self.source,
        }


def _solve_two_way(
    logy: np.ndarray, cell: np.ndarray, blot: np.ndarray, n_cells: int, reference: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of log y = μ_cell + c_blot with c fixed to 0 for the *reference* blots
    (one per connected set: the remaining design has full column rank). Returns (μ, c).

    Solved through the sparse normal equations (SuperLU) with one step of iterative
    refinement, which makes the solution exact to rounding for these well-conditioned
    incidence designs."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    n = logy.size
    n_blots = int(blot.max()) + 1
    free = np.ones(n_blots, bool)
    free[reference] = False
    column = np.full(n_blots, -1)
    column[free] = n_cells + np.arange(int(free.sum()))
    rows = np.arange(n)
    keep = free[blot]
    a = sp.csr_matrix(
        (
            np.ones(n + int(keep.sum())),
            (np.concatenate([rows, rows[keep]]), np.concatenate([cell, column[blot[keep]]])),
        ),
        shape=(n, n_cells + int(free.sum())),
    )
    normal = splu((a.T @ a).tocsc())
    theta = normal.solve(a.T @ logy)
    theta += normal.solve(a.T @ (logy - a @ theta))  # refinement
    c = np.zeros(n_blots)
    c[free] = theta[n_cells:]
    return theta[:n_cells], c


def saturated_fit(data: Any) -> SaturatedFit:
    """Fit the saturated model (one level per cell, one scale per blot) exactly.

    Parameters
    ----------
    data
        :class:`~paracrine.data.BlotData`, a bundled data set name or a CSV path (values > 0:
        the model is log-normal).

    Raises
    ------
    FitError
        Non-positive values, or no replication at all (n = p_sat: the replicate noise is not
        defined).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from paracrine.fitting.problem import resolve_data

    data = resolve_data(data)
    frame = data.frame
    y = frame["value"].to_numpy(dtype=float)
    if np.any(~(y > 0)):
        row = int(np.argmax(~(y > 0)))
        raise FitError(
            f"data {data.source}, row {row + 2}, column value: the saturated model is "
            f"log-normal and needs values > 0, received {y[row]}"
        )
    logy = np.log(y)
    n = y.size
    keys = list(CELL_KEYS)
    cell = frame.groupby(keys, sort=False).ngroup().to_numpy()
    n_cells = int(cell.max()) + 1
    blot_names, blot = np.unique(frame["blot"].astype(str).to_numpy(), return_inverse=True)
    n_blots = blot_names.size
    # bipartite graph cells–blots, one edge per band: rank = nodes − components
    graph = coo_matrix((np.ones(n), (cell, n_cells + blot)), shape=(n_cells + n_blots,) * 2)
    n_connected, label = connected_components(graph, directed=False)
    rank = n_cells + n_blots - n_connected
    if rank >= n:
        raise FitError(
            f"data {data.source}: no replicate bands (n = {n} bands, saturated model rank "
            f"{rank}): the replicate noise is not defined"
        )
    blot_label = label[n_cells:]
    reference = np.array([int(np.flatnonzero(blot_label == c)[0]) for c in range(n_connected)])
    mu, c = _solve_two_way(logy, cell, blot, n_cells, reference)
    residuals = logy - mu[cell] - c[blot]
    rss = float(residuals @ residuals)
    nllh, sigma_ml = _nllh_lognormal(-residuals, y)  # d = model − data, as the problem has it

    cells = frame[keys].drop_duplicates().reset_index(drop=True)  # same order as ngroup
    cells["n"] = np.bincount(cell, minlength=n_cells)
    cells["level"] = mu

    by_readout: dict[str, float] = {}
    readout = frame["readout"].astype(str).to_numpy()
    set_readouts = {}
    for k in range(n):
        set_readouts.setdefault(int(blot_label[blot[k]]), set()).add(readout[k])
    if all(len(v) == 1 for v in set_readouts.values()):
        for name in dict.fromkeys(readout):
            rows = readout == name
            sets = {s for s, v in set_readouts.items() if name in v}
            r_cells = np.unique(cell[rows]).size
            r_blots = np.unique(blot[rows]).size
            df = int(rows.sum()) - (r_cells + r_blots - len(sets))
            r = residuals[rows]
            by_readout[name] = math.sqrt(float(r @ r) / df) if df > 0 else math.nan
    return SaturatedFit(
        n=n,
        n_cells=n_cells,
        n_blots=n_blots,
        n_connected=int(n_connected),
        rank=int(rank),
        rss=rss,
        sigma_pure_ml=sigma_ml,
        sigma_pure=math.sqrt(rss / (n - rank)),
        nllh=nllh,
        log_residuals=residuals,
        cell_index=cell,
        blot_index=blot,
        cells=cells,
        blots=tuple(blot_names.tolist()),
        log_scales=c,
        sigma_pure_by_readout=by_readout,
        source=str(data.source),
    )


# -- standardised residuals ----------------------------------------------------------------------
def _problem_and_x(fit: Any, x: Any = None) -> tuple[BlotProblem, np.ndarray]:
    from paracrine.fitting.problem import BlotProblem

    if isinstance(fit, tuple) and len(fit) == 2 and x is None:
        fit, x = fit
    if isinstance(fit, BlotProblem):
        if x is None:
            raise FitError("goodness of fit of a BlotProblem needs a parameter vector x")
        problem, x = fit, np.asarray(x, dtype=float)
    elif hasattr(fit, "problem") and hasattr(fit, "result"):  # a BlotFit
        if x is not None:
            raise FitError("x is given by the BlotFit; pass the problem to evaluate another x")
        problem, x = fit.problem, np.asarray(fit.x, dtype=float)
    else:
        raise FitError(
            "expected a BlotFit, a (BlotProblem, x) pair or a BlotProblem and x, received "
            f"{type(fit).__name__}"
        )
    if problem.noise != "lognormal":
        raise FitError(
            "goodness of fit against replicate noise is defined for log-normal noise only "
            f"(this problem has noise={problem.noise!r})"
        )
    if x.shape != (len(problem.parameter_names),):
        raise FitError(
            f"x: expected {len(problem.parameter_names)} values ({list(problem.parameter_names)}), "
            f"received shape {x.shape}"
        )
    return problem, x


def _fit_rows(problem: BlotProblem, x: np.ndarray, sigma_pure: float, precise: bool):
    """Per-row table of the fit and its (log-scale) differences d = model − data."""
    solution = problem.inner_solution(x, precise=precise)
    d = np.asarray(solution.d, dtype=float)
    frame = problem.data.frame.copy()
    y = frame["value"].to_numpy(dtype=float)
    scales = dict(zip(problem.blots.tolist(), np.asarray(solution.scales).tolist(), strict=True))
    frame["scale"] = frame["blot"].astype(str).map(scales).to_numpy(dtype=float)
    frame["model"] = y * np.exp(d)
    frame["log_residual"] = -d
    frame["std_residual"] = -d / sigma_pure
    return frame, d


def aggregate_residuals(rows: pd.DataFrame, by: Sequence[str] = CELL_KEYS) -> pd.DataFrame:
    """Mean standardised residual per group of *rows* (from :func:`standardised_residuals`).

    Columns: the *by* keys, ``n``, ``mean`` (mean standardised residual, data − model),
    ``z`` = mean · √n (~N(0, 1) for a correct model), ``data_over_model`` (exp of the mean
    log residual: 1.35 means the data are 35% above the model), ``systematic``
    (|z| > :data:`SYSTEMATIC_Z`). Sorted by |z|, largest first.
    """
    keys = list(by)
    grouped = rows.groupby(keys, sort=False)
    out = grouped.agg(
        n=("std_residual", "size"),
        mean=("std_residual", "mean"),
        mean_log=("log_residual", "mean"),
    ).reset_index()
    out["z"] = out["mean"] * np.sqrt(out["n"].to_numpy(dtype=float))
    out["data_over_model"] = np.exp(out.pop("mean_log").to_numpy())
    out["systematic"] = np.abs(out["z"].to_numpy()) > SYSTEMATIC_Z
    order = np.argsort(-np.abs(out["z"].to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def standardised_residuals(
    fit: Any, x: Any = None, *, saturated: SaturatedFit | None = None, precise: bool = True
) -> pd.DataFrame:
    """Per band: the data with ``scale``, ``model`` (s·h), ``log_residual`` (log y − log(s·h))
    and ``std_residual`` (log residual / σ_pure, the replicate noise).

    *fit* is a :class:`~paracrine.fitting.blotfit.BlotFit`, a :class:`BlotProblem` with *x*,
    or a :class:`GoodnessOfFit` (its stored table). Aggregate with :func:`aggregate_residuals`
    (per cell: ``GoodnessOfFit.cells``).
    """
    if isinstance(fit, GoodnessOfFit):
        return fit.residuals.copy()
    problem, x = _problem_and_x(fit, x)
    saturated = saturated if saturated is not None else saturated_fit(problem.data)
    return _fit_rows(problem, x, saturated.sigma_pure, precise)[0]


# -- goodness of fit -----------------------------------------------------------------------------
def _fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    if p < 1e-300:
        return "< 1e-300"
    if p < 1e-3:
        return f"{p:.0e}"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def _time_range(times: Sequence[float], grid: Sequence[float]) -> str:
    """``"30–60 min"`` for a run of consecutive points of *grid*, else a list."""
    times = sorted(set(times))
    grid = sorted(set(grid) | set(times))
    fmt = [f"{t:g}" for t in times]
    if len(fmt) == 1:
        return f"{fmt[0]} min"
    run = grid.index(times[-1]) - grid.index(times[0]) + 1 == len(times)
    if run:
        return f"{fmt[0]}–{fmt[-1]} min"
    return f"{', '.join(fmt[:-1])} and {fmt[-1]} min"


def _misfit_groups(cells: pd.DataFrame, limit: int = 3) -> list[dict[str, Any]]:
    """Flagged cells grouped by read-out, condition and direction, strongest first."""
    flagged = cells[cells["systematic"]]
    if flagged.empty:
        return []
    groups = []
    sign = np.sign(flagged["z"].to_numpy())
    for (readout, condition, direction), part in flagged.assign(direction=sign).groupby(
        ["readout", "condition", "direction"], sort=False
    ):
        log_ratio = float(np.log(part["data_over_model"].to_numpy()).mean())
        groups.append(
            {
                "readout": str(readout),
                "condition": str(condition),
                "direction": "model below data" if direction > 0 else "model above data",
                "times_min": sorted({float(t) for t in part["time_min"]}),
                "grid_min": sorted(
                    {
                        float(t)
                        for t in cells.loc[
                            (cells["readout"] == readout) & (cells["condition"] == condition),
                            "time_min",
                        ]
                    }
                ),
                "cell_lines": list(dict.fromkeys(str(c) for c in part["cell_line"])),
                "n_cells": len(part),
                "max_abs_z": float(np.abs(part["z"]).max()),
                "sum_abs_z": float(np.abs(part["z"]).sum()),
                "data_over_model": math.exp(log_ratio),
            }
        )
    groups.sort(key=lambda g: -g["sum_abs_z"])
    return groups[:limit]


def _describe_misfit(group: dict[str, Any]) -> str:
    ratio = group["data_over_model"]
    if ratio >= 2:
        how = f"model below the data by a factor {ratio:.1f}"
    elif ratio >= 1:
        how = f"model below the data by {1 - 1 / ratio:.0%} (data/model {ratio:.2f})"
    elif ratio <= 0.5:
        how = f"model above the data by a factor {1 / ratio:.1f}"
    else:
        how = f"model above the data by {1 / ratio - 1:.0%} (data/model {ratio:.2f})"
    times = _time_range(group["times_min"], group["grid_min"])
    return (
        f"{group['condition']} {group['readout']} at {times}, {how} "
        f"({', '.join(group['cell_lines'])}; max |z| = {group['max_abs_z']:.1f})"
    )


@dataclass(frozen=True)
class GoodnessOfFit:
    """A fit judged against the replicate noise of its data (see the module docstring).

    Attributes
    ----------
    saturated
        The :class:`SaturatedFit` of the same data.
    n, k, n_scales
        Bands, free kinetic parameters (nominal), and the rank of the fit's scale part (one per
        blot).
    rss_fit, sigma_fit_ml, sigma_fit, df_fit
        The fit's RSS on the log scale, sqrt(RSS/n) (= the problem's fitted σ with shared noise),
        sqrt(RSS/df_fit) with df_fit = n − k − n_scales.
    sigma_pure, ratio, within_noise
        Replicate noise, σ_fit/σ_pure and whether it is ≤ :attr:`limit`.
    nllh_fit, nllh_sat, nllh_problem
        nllh of the fit and of the saturated model in the shared-σ log-normal convention;
        ``nllh_problem`` is the problem's own nllh at x (equal to ``nllh_fit`` for the default
        problem — one estimated σ, no priors).
    lr, lr_df, lr_p
        Likelihood ratio 2(nllh_fit − nllh_sat), df = p_sat − k − n_scales, χ² p-value (for
        reference; anti-conservative here).
    f, f_df1, f_df2, f_p
        Lack-of-fit F statistic, its degrees of freedom (df, n − p_sat) and p-value.
    lack_of_fit
        The verdict of the F-test: p < :attr:`alpha`.
    residuals, cells, by_condition_time, by_readout_condition_time
        Per-band standardised residuals and their aggregates (:func:`aggregate_residuals`).
    misfits
        The largest systematic misfits, grouped by read-out, condition and direction.
    """

    saturated: SaturatedFit
    n: int
    k: int
    n_scales: int
    parameter_names: tuple[str, ...]
    rss_fit: float
    sigma_fit_ml: float
    sigma_fit: float
    df_fit: int
    sigma_pure: float
    ratio: float
    within_noise: bool
    nllh_fit: float
    nllh_sat: float
    nllh_problem: float
    lr: float
    lr_df: int
    lr_p: float
    f: float
    f_df1: int
    f_df2: int
    f_p: float
    lack_of_fit: bool
    residuals: pd.DataFrame = field(repr=False)
    cells: pd.DataFrame = field(repr=False)
    by_condition_time: pd.DataFrame = field(repr=False)
    by_readout_condition_time: pd.DataFrame = field(repr=False)
    misfits: list[dict[str, Any]] = field(default_factory=list, repr=False)
    limit: float = WITHIN_NOISE_RATIO
    alpha: float = LACK_OF_FIT_ALPHA
    variant: str = ""

    @property
    def n_systematic(self) -> int:
        """Cells flagged as systematic misfits."""
        return int(self.cells["systematic"].sum())

    def summary_lines(self) -> list[str]:
        """Plain-language sentences for a report."""
        sat = self.saturated
        lines = [
            "Replicate noise (from the saturated model: one level per cell line × read-out × "
            f"condition × time and the same blot scales, {sat.rank} parameters for {sat.n} bands, "
            f"{sat.df_residual} residual df): σ = {self.sigma_pure:.2f} on the log scale, i.e. a "
            f"band varies by about ±{_cv(self.sigma_pure):.0%} between replicates."
        ]
        if self.within_noise:
            lines.append(
                f"The fit is within noise: its σ = {self.sigma_fit:.2f} is {self.ratio:.2f} × the "
                f"replicate noise (limit {self.limit:g})."
            )
        else:
            lines.append(
                f"The fit is NOT within noise: its σ = {self.sigma_fit:.2f} is {self.ratio:.2f} × "
                f"the replicate noise (limit {self.limit:g})."
            )
        lines[-1] += (
            f" (σ = sqrt(RSS/(n − k − blots)) with {self.df_fit} df: {self.n} bands, "
            f"{self.k} kinetic parameters, {self.n_scales} blot scales; ML σ "
            f"{self.sigma_fit_ml:.2f}.)"
        )
        if math.isfinite(self.f_p):
            verdict = (
                "the model misses systematic structure in the data"
                if self.lack_of_fit
                else "no significant lack of fit"
            )
            lines.append(
                f"Lack-of-fit F-test: F = {self.f:.2f} on {self.f_df1} and {self.f_df2} df, "
                f"p = {_fmt_p(self.f_p)} — {verdict} (at p < {self.alpha:g})."
            )
            lines.append(
                f"For reference, the likelihood-ratio test gives LR = {self.lr:.1f} on "
                f"{self.lr_df} df, p = {_fmt_p(self.lr_p)}; the verdict uses the F-test, which "
                "is exact for a linear model, because the saturated model has "
                f"{sat.rank} parameters for {sat.n} bands and its ML σ² is biased low by "
                f"{sat.df_residual}/{sat.n}, which inflates LR."
            )
        else:
            lines.append(
                f"No lack-of-fit test: the fit leaves {self.f_df1} df against the saturated model."
            )
        if self.misfits:
            first, *rest = self.misfits
            lines.append(
                f"Largest systematic misfit ({self.n_systematic} of {len(self.cells)} cells with "
                f"|z| > {SYSTEMATIC_Z:g}): {_describe_misfit(first)}."
            )
            lines += [f"Also: {_describe_misfit(g)}." for g in rest]
        else:
            lines.append(
                f"No cell shows a systematic misfit (|mean standardised residual × √n| ≤ "
                f"{SYSTEMATIC_Z:g} in all {len(self.cells)} cells)."
            )
        if not math.isclose(self.nllh_problem, self.nllh_fit, rel_tol=0, abs_tol=1e-6):
            lines.append(
                f"(The problem's own nllh, {self.nllh_problem:.2f}, differs from the shared-σ "
                f"value {self.nllh_fit:.2f} used here: it adds priors or penalties, or has "
                "per-read-out or given noise levels.)"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary for a fit's metadata (no per-band tables)."""
        return {
            "variant": self.variant,
            "n": self.n,
            "k": self.k,
            "n_scales": self.n_scales,
            "df_fit": self.df_fit,
            "rss_fit": _finite_or_none(self.rss_fit),
            "sigma_fit_ml": _finite_or_none(self.sigma_fit_ml),
            "sigma_fit": _finite_or_none(self.sigma_fit),
            "sigma_pure": _finite_or_none(self.sigma_pure),
            "ratio": _finite_or_none(self.ratio),
            "limit": self.limit,
            "within_noise": bool(self.within_noise),
            "nllh_fit": _finite_or_none(self.nllh_fit),
            "nllh_sat": _finite_or_none(self.nllh_sat),
            "nllh_problem": _finite_or_none(self.nllh_problem),
            "lr": _finite_or_none(self.lr),
            "lr_df": self.lr_df,
            "lr_p": _finite_or_none(self.lr_p),
            "f": _finite_or_none(self.f),
            "f_df1": self.f_df1,
            "f_df2": self.f_df2,
            "f_p": _finite_or_none(self.f_p),
            "alpha": self.alpha,
            "lack_of_fit": bool(self.lack_of_fit),
            "verdict_test": "F",
            "n_systematic": self.n_systematic,
            "misfits": [
                {k: (_finite_or_none(v) if isinstance(v, float) else v) for k, v in g.items()}
                for g in self.misfits
            ],
            "saturated": self.saturated.to_dict(),
            "summary": self.summary_lines(),
        }

    def table(self) -> pd.DataFrame:
        """Per cell (cell line × read-out × condition × time): n, mean standardised residual,
        z, data/model and the systematic flag — for a CSV."""
        return self.cells.copy()

    def plot(self, **kwargs):  # -> Figure
        """:func:`plot_standardised_residuals` of this goodness of fit."""
        return plot_standardised_residuals(self, **kwargs)


def goodness_of_fit(
    fit: Any,
    x: Any = None,
    *,
    saturated: SaturatedFit | None = None,
    precise: bool = True,
    limit: float = WITHIN_NOISE_RATIO,
    alpha: float = LACK_OF_FIT_ALPHA,
) -> GoodnessOfFit:
    """Judge a fit against the replicate noise of its data.

    Parameters
    ----------
    fit
        A :class:`~paracrine.fitting.blotfit.BlotFit`, or a
        :class:`~paracrine.fitting.problem.BlotProblem` (then give *x*), or a ``(problem, x)``
        pair.
    x
        Optimisation-scale (log10) parameter vector, with a problem.
    saturated
        A precomputed :func:`saturated_fit` of the same data (computed otherwise).
    precise
        Simulate at the final tolerances (rtol 1e-8), as reported fits are.
    limit, alpha
        σ_fit/σ_pure limit of "within noise"; level of the lack-of-fit F-test.
    """
    from scipy.stats import chi2
    from scipy.stats import f as f_dist

    problem, x = _problem_and_x(fit, x)
    sat = saturated if saturated is not None else saturated_fit(problem.data)
    if sat.n != problem.n_data:
        raise FitError(
            f"saturated fit of {sat.source} has {sat.n} bands, the problem {problem.n_data}: "
            "not the same data"
        )
    rows, d = _fit_rows(problem, x, sat.sigma_pure, precise)
    y = rows["value"].to_numpy(dtype=float)
    n = sat.n
    k = len(problem.parameter_names)
    n_scales = len(problem.blots)
    rss_fit = float(d @ d)
    nllh_fit, sigma_fit_ml = _nllh_lognormal(d, y)
    nllh_problem = float(problem.nllh(x, precise=precise))
    df_fit = n - k - n_scales
    sigma_fit = math.sqrt(rss_fit / df_fit) if df_fit > 0 else math.nan
    ratio = sigma_fit / sat.sigma_pure
    df = sat.rank - k - n_scales
    df2 = sat.df_residual
    lr = 2.0 * (nllh_fit - sat.nllh)
    if df > 0:
        lr_p = float(chi2.sf(lr, df))
        f_stat = ((rss_fit - sat.rss) / df) / (sat.rss / df2)
        f_p = float(f_dist.sf(f_stat, df, df2))
    else:
        lr_p = f_stat = f_p = math.nan
    cells = aggregate_residuals(rows, CELL_KEYS)
    return GoodnessOfFit(
        saturated=sat,
        n=n,
        k=k,
        n_scales=n_scales,
        parameter_names=tuple(problem.parameter_names),
        rss_fit=rss_fit,
        sigma_fit_ml=sigma_fit_ml,
        sigma_fit=sigma_fit,
        df_fit=df_fit,
        sigma_pure=sat.sigma_pure,
        ratio=ratio,
        within_noise=bool(ratio <= limit),
        nllh_fit=nllh_fit,
        nllh_sat=sat.nllh,
        nllh_problem=nllh_problem,
        lr=lr,
        lr_df=df,
        lr_p=lr_p,
        f=f_stat,
        f_df1=df,
        f_df2=df2,
        f_p=f_p,
        lack_of_fit=bool(f_p < alpha) if math.isfinite(f_p) else False,
        residuals=rows,
        cells=cells,
        by_condition_time=aggregate_residuals(rows, CONDITION_TIME),
        by_readout_condition_time=aggregate_residuals(rows, READOUT_CONDITION_TIME),
        misfits=_misfit_groups(cells),
        limit=limit,
        alpha=alpha,
        variant=str(problem.model.variant),
    )


# -- figure --------------------------------------------------------------------------------------
def _condition_order(names: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    arms = [a for a in ARMS if a in names]
    return arms + [c for c in names if c not in arms]


def plot_standardised_residuals(
    goodness: GoodnessOfFit,
    *,
    cell_line: str | None = None,
    annotate: bool = True,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
):  # -> Figure
    """Heatmaps of z = mean standardised residual × √n by condition (rows) × time (columns),
    one panel per read-out, over all cell lines (or one *cell_line*); diverging colours
    centred at 0 (red: data above the model), cells with |z| > :data:`SYSTEMATIC_Z` outlined
    and their values in bold. *ncols* panels per row (default 2 for four read-outs, as on a
    slide). The caller saves the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rows = goodness.residuals
    if cell_line is not None:
        if cell_line not in set(rows["cell_line"]):
            raise FitError(
                f"cell_line {cell_line!r} is not in the data ({sorted(set(rows['cell_line']))})"
            )
        rows = rows[rows["cell_line"] == cell_line]
    table = aggregate_residuals(rows, ("readout", "condition", "time_min"))
    readouts = list(dict.fromkeys(rows["readout"]))
    conditions = _condition_order(rows["condition"].tolist())
    times = sorted(set(rows["time_min"].tolist()))
    z_max = float(np.nanmax(np.abs(table["z"].to_numpy()), initial=0.0))
    vmax = max(SYSTEMATIC_Z + 1.0, math.ceil(z_max))
    n_panels = len(readouts)
    ncols = min(n_panels, ncols or (2 if n_panels == 4 else 3))
    nrows = math.ceil(n_panels / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=figsize
        or (0.75 * len(times) * ncols + 2.8, (0.55 * len(conditions) + 1.3) * nrows + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    flat = axes.ravel().tolist()
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    image = None
    for index, (ax, readout) in enumerate(zip(flat, readouts, strict=False)):
        part = table[table["readout"] == readout]
        grid = np.full((len(conditions), len(times)), np.nan)
        for _, r in part.iterrows():
            grid[conditions.index(r["condition"]), times.index(r["time_min"])] = r["z"]
        image = ax.imshow(
            np.ma.masked_invalid(grid), cmap=DIVERGING_CMAP, vmin=-vmax, vmax=vmax, aspect="auto"
        )
        ax.set_facecolor(FAINT)
        ax.set_title(readout, fontsize=13)
        ax.set_xticks(range(len(times)), [f"{t:g}" for t in times], fontsize=10)
        ax.set_yticks(range(len(conditions)), conditions if index % ncols == 0 else [], fontsize=11)
        if index >= n_panels - ncols:
            ax.set_xlabel("time (min)", fontsize=11)
        for i in range(len(conditions)):
            for j in range(len(times)):
                value = grid[i, j]
                if not math.isfinite(value):
                    continue
                strong = abs(value) > SYSTEMATIC_Z
                if strong:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2.0, ec=INK))
                if annotate:
                    ax.text(
                        j,
                        i,
                        f"{value:.1f}",
                        ha="center",
                        va="center",
                        fontsize=10,
                        fontweight="bold" if strong else "normal",
                        color=text_colour(abs(value) > 0.6 * vmax),
                    )
    bar = fig.colorbar(image, ax=flat[:n_panels], shrink=0.9)
    bar.set_label("mean standardised residual × √n (data − model)", fontsize=10)
    where = f"{cell_line}" if cell_line else "all cell lines"
    fig.suptitle(
        f"Residuals in units of replicate noise ({where})\nσ_fit/σ_pure = {goodness.ratio:.2f} "
        f"(limit {goodness.limit:g}), lack-of-fit p = {_fmt_p(goodness.f_p)}; "
        f"boxed: |z| > {SYSTEMATIC_Z:g}",
        fontsize=11,
    )
    return fig
