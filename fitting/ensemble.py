"""Parameter ensembles from a fit, and prediction bands over them.

An :class:`Ensemble` is a set of parameter vectors (optimisation scale, log10) that the data
do not tell apart from the best fit. :func:`sample_ensemble` draws it by Markov-chain Monte
Carlo with emcee's affine-invariant ensemble sampler (Goodman & Weare 2010; Foreman-Mackey et
al. 2013) on the fit's own negative log-likelihood (the same objective, priors included) with
flat priors inside the parameter bounds.

Why MCMC and not the profile likelihood: a profile gives one curve per parameter, each point a
full re-optimisation, and no joint sample — 42 free parameters of the demo fit would cost 84
one-sided profiles of ~10 optimisations each before a single band could be drawn, and their
union is not a distribution. The walkers start in a Gaussian ball from the Laplace
approximation at the best fit (the Gauss–Newton Hessian ``JᵀJ`` of the weighted residuals),
so the chain begins near stationarity; what it reports (acceptance fraction, integrated
autocorrelation times against the chain length) says how far it got. A chain shorter than
50 autocorrelation times is flagged ``converged = False`` and every report says so.

:func:`prediction_band` evaluates any prediction — a time course, a metric, a synergy map, a
migration fold — on every member and returns the pointwise quantiles together with the
best-fit prediction.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import multiprocessing
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paracrine.errors import FitError, InvalidInputError, SimulationError

__all__ = [
    "Band",
    "Ensemble",
    "laplace_covariance",
    "plot_timecourse_band",
    "prediction_band",
    "sample_ensemble",
    "timecourse_band",
]

#: Chains shorter than this many integrated autocorrelation times are reported as not
#: converged (emcee's documentation recommends ≳ 50 τ for reliable τ estimates).
CONVERGENCE_TAUS = 50.0

_WORKER_PROBLEM: Any = None


def _log_prob_in(problem: Any, x: np.ndarray) -> tuple[float, bool]:
    lower, upper = np.asarray(problem.lower), np.asarray(problem.upper)
    if np.any(x < lower) or np.any(x > upper):
        return -math.inf, False
    try:
        value = float(problem.nllh(np.asarray(x, dtype=float)))
    except SimulationError:
        return -math.inf, True
    if not math.isfinite(value):
        return -math.inf, True
    return -value, False


def _init_worker(problem: Any) -> None:
    global _WORKER_PROBLEM
    _WORKER_PROBLEM = problem


def _worker_log_prob(x: np.ndarray) -> tuple[float, bool]:
    return _log_prob_in(_WORKER_PROBLEM, x)


class _LogProb:
    """log posterior = −nllh inside the bounds; counts failed simulations."""

    def __init__(self, problem: Any, pool: ProcessPoolExecutor | None) -> None:
        self.problem = problem
        self.pool = pool
        self.n_failed = 0
        self.n_evaluations = 0

    def batch(self, xs: np.ndarray) -> np.ndarray:
        if self.pool is None:
            out = [_log_prob_in(self.problem, x) for x in xs]
        else:
            out = list(self.pool.map(_worker_log_prob, list(xs)))
        self.n_evaluations += len(out)
        self.n_failed += sum(failed for _, failed in out)
        return np.array([value for value, _ in out])


@dataclass(frozen=True)
class Ensemble:
    """Parameter vectors (optimisation scale) from one fit, and how they were drawn.

    Attributes
    ----------
    parameter_names
        Names of the columns of :attr:`samples` (the fit's free parameters).
    samples
        ``(n_members, n_parameters)``, optimisation scale (log10 of the values).
    nllh
        Negative log-likelihood of each member.
    best_x, best_nllh
        The fit's best point (not necessarily a member).
    source
        ``"mcmc"`` (emcee).
    diagnostics
        ``n_walkers, n_steps, burn, thin, acceptance_fraction, autocorr_time_max,
        autocorr_time_median, chain_over_tau, converged, n_evaluations, n_failed, seed,
        elapsed_s``.
    metadata
        Facts about the fit it came from (variant, data, command line…).
    """

    parameter_names: tuple[str, ...]
    samples: np.ndarray
    nllh: np.ndarray
    best_x: np.ndarray
    best_nllh: float
    source: str = "mcmc"
    diagnostics: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        samples = np.atleast_2d(np.asarray(self.samples, dtype=float))
        if samples.shape[1] != len(self.parameter_names):
            raise InvalidInputError(
                f"ensemble: samples have {samples.shape[1]} columns, expected one per "
                f"parameter ({len(self.parameter_names)})"
            )
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "nllh", np.asarray(self.nllh, dtype=float))
        object.__setattr__(self, "best_x", np.asarray(self.best_x, dtype=float))

    def __len__(self) -> int:
        return self.samples.shape[0]

    @property
    def converged(self) -> bool:
        return bool(self.diagnostics.get("converged", False))

    def quantiles(self, q: Sequence[float] = (0.025, 0.5, 0.975)):  # -> DataFrame
        """Per parameter: the best value and the members' quantiles (log10 scale)."""
        import pandas as pd

        qs = np.quantile(self.samples, q, axis=0)
        frame = pd.DataFrame({"parameter": self.parameter_names, "best_log10": self.best_x})
        for level, row in zip(q, qs, strict=True):
            frame[f"q{level:g}"] = row
        return frame

    def summary(self) -> str:
        d = self.diagnostics
        lines = [
            f"{len(self)} members drawn by {self.source} "
            f"({d.get('n_walkers')} walkers × {d.get('n_steps')} steps, burn-in "
            f"{d.get('burn')}, thinned by {d.get('thin')}; seed {d.get('seed')})",
            f"acceptance fraction {d.get('acceptance_fraction', float('nan')):.3f}; "
            f"integrated autocorrelation time up to {d.get('autocorr_time_max', float('nan')):.1f}"
            f" steps (median {d.get('autocorr_time_median', float('nan')):.1f}); chain = "
            f"{d.get('chain_over_tau', float('nan')):.1f} τ",
            (
                "converged (chain ≥ 50 τ)"
                if self.converged
                else "NOT converged: the chain is shorter than 50 autocorrelation times, so "
                "the band is a lower bound on the uncertainty, not a calibrated interval"
            ),
            f"members' nllh {np.min(self.nllh):.2f} … {np.max(self.nllh):.2f} (best fit "
            f"{self.best_nllh:.2f}); failed simulations {d.get('n_failed', 0)} of "
            f"{d.get('n_evaluations', 0)} evaluations",
        ]
        return "\n".join(lines)

    # -- persistence -----------------------------------------------------------------------
    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        payload = {
            "kind": "paracrine.Ensemble",
            "parameter_names": list(self.parameter_names),
            "samples": self.samples.tolist(),
            "nllh": self.nllh.tolist(),
            "best_x": self.best_x.tolist(),
            "best_nllh": self.best_nllh,
            "source": self.source,
            "diagnostics": self.diagnostics,
            "metadata": self.metadata,
        }
        path.write_text(json.dumps(payload, default=float), encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> Ensemble:
        path = Path(path)
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise FitError(f"{path}: not an ensemble file (binary, not JSON text)") from None
        except json.JSONDecodeError as exc:
            raise FitError(f"{path}: not an ensemble file (invalid JSON: {exc})") from None
        if not isinstance(payload, dict) or payload.get("kind") != "paracrine.Ensemble":
            raise FitError(f"{path}: not an ensemble file (no 'kind': 'paracrine.Ensemble')")
        try:
            return cls(
                tuple(payload["parameter_names"]),
                np.asarray(payload["samples"], dtype=float),
                np.asarray(payload["nllh"], dtype=float),
                np.asarray(payload["best_x"], dtype=float),
                float(payload["best_nllh"]),
                payload.get("source", "mcmc"),
                dict(payload.get("diagnostics", {})),
                dict(payload.get("metadata", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FitError(f"{path}: corrupt ensemble file ({type(exc).__name__}: {exc})") from None


def laplace_covariance(problem: Any, x: np.ndarray) -> np.ndarray:
    """Covariance of the Laplace approximation at *x* (optimisation scale): the inverse of the
    Gauss–Newton Hessian ``JᵀJ`` of the weighted residuals plus a weak Gaussian prior of SD a
    quarter of each parameter's box, so that a direction the data do not constrain gets the
    box's spread instead of an infinite variance."""
    if problem.capabilities.jacobian:
        jac = np.asarray(problem.jacobian(x), dtype=float)
    else:
        from paracrine.fitting.objective import fd_jacobian

        lower, upper = np.asarray(problem.lower, float), np.asarray(problem.upper, float)
        jac = fd_jacobian(
            problem.residuals, x, problem.residuals(x), step=1e-4, lower=lower, upper=upper
        )
    hessian = jac.T @ jac
    # the flat directions (unidentifiable parameters) get a variance no larger than the box
    width = np.asarray(problem.upper) - np.asarray(problem.lower)
    hessian += np.diag(1.0 / (width / 4.0) ** 2)
    return np.linalg.pinv(hessian, hermitian=True)


def sample_ensemble(
    fit: Any,
    *,
    n_members: int = 200,
    n_walkers: int | None = None,
    n_steps: int = 400,
    burn: int | None = None,
    seed: int = 0,
    init_scale: float = 0.3,
    workers: int | None = None,
    progress: bool = True,
) -> Ensemble:
    """Draw a parameter ensemble around a fit by MCMC (emcee).

    Parameters
    ----------
    fit
        A :class:`~paracrine.fitting.BlotFit` (or anything with ``problem`` and ``x``;
        ``result.nllh`` is used as the best nllh when present).
    n_members
        Members kept: evenly thinned from the post-burn-in chain of all walkers.
    n_walkers
        Walkers (default ``2·d + 2``; emcee needs at least ``2·d``).
    n_steps, burn
        Steps per walker; the first *burn* (default ``n_steps // 2``) are dropped.
    seed
        Seeds the initial ball and emcee's moves: same seed, same ensemble, with any number
        of workers (the log-probabilities do not depend on where they run).
    init_scale
        The initial ball is ``best + init_scale · N(0, Laplace covariance)``, clipped into the
        bounds.
    workers
        Processes evaluating the walkers' log-probabilities (spawned; default 1, in-process).
    progress
        Show emcee's tqdm bar.

    Returns
    -------
    Ensemble

    Raises
    ------
    InvalidInputError
        For impossible sizes.
    FitError
        When the fit has no best point, or when every walker's start fails to simulate.
    """
    import emcee

    problem = fit.problem
    x_best = np.asarray(fit.x, dtype=float)
    d = x_best.size
    n_walkers = 2 * d + 2 if n_walkers is None else int(n_walkers)
    burn = n_steps // 2 if burn is None else int(burn)
    for name, value, minimum in (
        ("n_members", n_members, 1),
        ("n_walkers", n_walkers, 2 * d),
        ("n_steps", n_steps, 2),
    ):
        if not isinstance(value, int | np.integer) or value < minimum:
            raise InvalidInputError(f"{name}: expected an integer >= {minimum}, received {value!r}")
    if not 0 <= burn < n_steps:
        raise InvalidInputError(f"burn: expected 0 <= burn < n_steps={n_steps}, received {burn}")
    if n_members > n_walkers * (n_steps - burn):
        raise InvalidInputError(
            f"n_members={n_members}: more than the {n_walkers * (n_steps - burn)} post-burn-in "
            "samples; raise n_steps or n_walkers"
        )
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    lower, upper = np.asarray(problem.lower, float), np.asarray(problem.upper, float)
    cov = laplace_covariance(problem, x_best)
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(d))
    ball = x_best + init_scale * rng.standard_normal((n_walkers, d)) @ chol.T
    inset = 1e-6 * (upper - lower)
    ball = np.clip(ball, lower + inset, upper - inset)
    pool = None
    if workers is not None and workers > 1:
        pool = ProcessPoolExecutor(
            max_workers=int(workers),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(problem,),
        )
    log_prob = _LogProb(problem, pool)
    try:
        start_lp = log_prob.batch(ball)
        if not np.any(np.isfinite(start_lp)):
            raise FitError("sample_ensemble: no walker of the initial ball could be simulated")
        # walkers starting where the model fails move to the best point's neighbourhood
        bad = ~np.isfinite(start_lp)
        if np.any(bad):
            ball[bad] = x_best
        sampler = emcee.EnsembleSampler(n_walkers, d, None, vectorize=True)
        sampler.log_prob_fn = log_prob.batch
        sampler.random_state = np.random.RandomState(seed).get_state()
        sampler.run_mcmc(ball, n_steps, progress=progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    chain = sampler.get_chain()  # (n_steps, n_walkers, d)
    lp = sampler.get_log_prob()
    post = chain[burn:].reshape(-1, d)
    post_lp = lp[burn:].reshape(-1)
    keep = np.unique(np.linspace(0, post.shape[0] - 1, n_members).round().astype(int))
    with warnings.catch_warnings():
        # emcee warns (and returns NaN) when a chain is too short for a τ estimate: the
        # diagnostics below report it as not converged instead
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        autocorr_log = logging.getLogger("emcee.autocorr")
        level = autocorr_log.level
        autocorr_log.setLevel(logging.ERROR)  # its "chain too short" warning: reported below
        try:
            tau = np.asarray(sampler.get_autocorr_time(quiet=True, discard=burn), dtype=float)
        finally:
            autocorr_log.setLevel(level)
    finite_tau = tau[np.isfinite(tau)]
    tau_max = float(finite_tau.max()) if finite_tau.size else math.nan
    chain_over_tau = (n_steps - burn) / tau_max if tau_max > 0 else math.nan
    best_nllh = getattr(getattr(fit, "result", None), "nllh", None)
    diagnostics = {
        "n_walkers": n_walkers,
        "n_steps": n_steps,
        "burn": burn,
        "thin": int(max(1, post.shape[0] // n_members)),
        "init_scale": init_scale,
        "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
        "autocorr_time_max": tau_max,
        "autocorr_time_median": float(np.median(finite_tau)) if finite_tau.size else math.nan,
        "chain_over_tau": float(chain_over_tau),
        "converged": bool(math.isfinite(chain_over_tau) and chain_over_tau >= CONVERGENCE_TAUS),
        "n_evaluations": log_prob.n_evaluations,
        "n_failed": log_prob.n_failed,
        "seed": seed,
        "workers": workers or 1,
        "elapsed_s": time.perf_counter() - started,
    }
    metadata = dict(getattr(getattr(fit, "result", None), "metadata", {}) or {})
    return Ensemble(
        tuple(problem.parameter_names),
        post[keep],
        -post_lp[keep],
        x_best,
        float(best_nllh) if best_nllh is not None else float(-_log_prob_in(problem, x_best)[0]),
        "mcmc",
        diagnostics,
        {k: v for k, v in metadata.items() if isinstance(v, str | int | float | bool)},
    )


@dataclass(frozen=True)
class Band:
    """A prediction over an ensemble: best fit, median and pointwise quantile band.

    Attributes
    ----------
    best
        The prediction at the best fit.
    median, low, high
        Pointwise median and ``(1 − level)/2``, ``(1 + level)/2`` quantiles over the members
        (NaN members — failed simulations — left out and counted in :attr:`n_failed`).
    members
        Every member's prediction, ``(n_members, *best.shape)``.
    level
        Coverage of the band.
    """

    best: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    members: np.ndarray
    level: float
    n_failed: int

    def contains_best(self, rtol: float = 0.0, atol: float = 0.0) -> np.ndarray:
        """Where the best-fit prediction lies inside the band (with a tolerance)."""
        slack = atol + rtol * np.abs(self.best)
        return (self.best >= self.low - slack) & (self.best <= self.high + slack)


def prediction_band(
    ensemble: Ensemble,
    predict: Callable[[np.ndarray], np.ndarray],
    *,
    level: float = 0.95,
    progress: bool = False,
) -> Band:
    """Evaluate *predict* (a function of one parameter vector, optimisation scale) on the best
    fit and on every member; return the members' pointwise quantile band.

    The best fit is not forced into the band: where it falls outside, the members missed the
    mode there, and :meth:`Band.contains_best` shows it. A member whose prediction raises
    :class:`~paracrine.errors.SimulationError` or is not finite is counted and left out.
    """
    if not 0.0 < level < 1.0:
        raise InvalidInputError(f"level: expected a number in (0, 1), received {level!r}")
    best = np.asarray(predict(ensemble.best_x), dtype=float)
    members = np.full((len(ensemble), *best.shape), np.nan)
    rows = ensemble.samples
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="ensemble", unit="member")
    for i, x in enumerate(rows):
        with contextlib.suppress(SimulationError):  # a failed member stays NaN: counted below
            members[i] = predict(x)
    finite = np.all(np.isfinite(members.reshape(len(ensemble), -1)), axis=1)
    good = members[finite]
    if good.shape[0] == 0:
        raise FitError("prediction_band: every ensemble member failed to simulate")
    lo_q, hi_q = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    low, median, high = np.quantile(good, [lo_q, 0.5, hi_q], axis=0)
    return Band(best, median, low, high, members, level, int(np.sum(~finite)))


def timecourse_band(
    fit: Any,
    ensemble: Ensemble,
    *,
    readouts: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    level: float = 0.95,
    progress: bool = False,
) -> tuple[Band, list[Any], np.ndarray, tuple[str, ...]]:
    """Band of the fit's arms (the four arms in each fitted line) over *ensemble*: one
    compiled simulator, each member's parameter vector per line.

    Returns
    -------
    band, conditions, times, readouts
        ``band.best`` etc. have shape ``(n_conditions, n_times, n_readouts)``; the values are
        phosphorylated fractions (the model's scale).
    """
    from paracrine.models import OBSERVABLES
    from paracrine.simulations import ModelSimulator, arm_conditions, check_times

    outs = tuple(readouts or OBSERVABLES)
    grid = check_times(np.linspace(0.0, 240.0, 97) if times is None else times)
    problem = fit.problem
    lines = list(problem.cell_lines)
    conditions = arm_conditions(lines)
    sim = ModelSimulator(problem.fitted_model(np.asarray(ensemble.best_x)), outs)
    ids = sim.parameter_ids

    def predict(x: np.ndarray) -> np.ndarray:
        member = problem.fitted_model(x)
        pvecs = {
            line: np.array([member.parameter_values(line)[p] for p in ids], dtype=float)
            for line in lines
        }
        return np.stack([sim.run(c, grid, pvecs[c.cell_line]) for c in conditions])

    band = prediction_band(ensemble, predict, level=level, progress=progress)
    return band, conditions, grid, outs


def plot_timecourse_band(
    band: Band, conditions: Sequence[Any], times: np.ndarray, readouts: Sequence[str]
):  # -> Figure
    """Best fit (line) and band (shaded) of every arm: one row per cell line, one column per
    read-out; time in minutes, phosphorylated fraction on the y axis. Arms keep their colour
    and line style (:data:`paracrine.vocabulary.ARM_LINE_STYLES`: IL-6 dashed over a wider
    IL-6+VEGF); one legend above the panels."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from paracrine.vocabulary import (
        ARM_COLOURS,
        ARM_LINE_STYLES,
        INK,
        MUTED,
        condition_colour,
        split_condition_label,
    )

    lines = list(dict.fromkeys(c.cell_line for c in conditions))
    fig, axes = plt.subplots(
        len(lines),
        len(readouts),
        figsize=(3.3 * len(readouts), 2.6 * len(lines) + 0.7),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    arms: dict[str, dict] = {}
    for k, cond in enumerate(conditions):
        arm, _ = split_condition_label(cond.name)
        row = lines.index(cond.cell_line)
        if arm not in arms:
            style = dict(ARM_LINE_STYLES.get(arm, {"ls": "-", "lw": 1.5}))
            style["lw"] = min(float(style.get("lw", 1.5)), 2.4)
            arms[arm] = {"color": ARM_COLOURS.get(arm, condition_colour(arm, len(arms))), **style}
        style = dict(arms[arm])
        colour = style.pop("color")
        for j, readout in enumerate(readouts):
            ax = axes[row][j]
            ax.fill_between(
                times, band.low[k, :, j], band.high[k, :, j], color=colour, alpha=0.18, lw=0
            )
            ax.plot(times, band.best[k, :, j], color=colour, **style)
            if row == 0:
                ax.set_title(readout, fontsize="medium", fontweight="bold")
            if j == 0:
                ax.set_ylabel(f"{cond.cell_line}\nphosphorylated fraction")
            if row == len(lines) - 1:
                ax.set_xlabel("time (min)")
            ax.grid(alpha=0.3)
    handles = [
        Line2D([], [], label=arm, **{k: v for k, v in kw.items() if k != "zorder"})
        for arm, kw in arms.items()
    ]
    handles += [
        Line2D([], [], color=INK, lw=1.5, label="best fit"),
        Patch(color=MUTED, alpha=0.3, label=f"{round(band.level * 100)}% ensemble band"),
    ]
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(len(handles), 6),
        fontsize=8,
        frameon=False,
        title=f"best fit (line) and {round(band.level * 100)}% ensemble band (shaded)",
        title_fontsize="medium",
    )
    return fig
