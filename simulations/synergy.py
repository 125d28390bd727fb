"""Combination (synergy) scores of any two-agent response matrix: Bliss independence, highest
single agent (HSA), Loewe additivity and ZIP, with heat maps on the dose axes.

Every score works on a plain 2-D matrix whose rows are the doses of agent A and whose columns
are the doses of agent B, both ascending and starting at 0 (so ``matrix[:, 0]`` is A alone,
``matrix[0, :]`` B alone and ``matrix[0, 0]`` the untreated response) — e.g.
``DoseMatrix.get("peak", "pERK")`` (IL-6 × VEGF) or an antibody × antibody matrix.

Scores are computed on fractional effects ``f`` (0 untreated, 1 full effect; see
:func:`fractional_effect`) and are *excesses*: observed ``f`` minus the method's expectation
for non-interacting agents. Positive = synergy (more effect than expected), negative =
antagonism, for every method. The single-agent row and column score 0 by definition.

=========  ================================================================================
method     expectation for non-interacting agents at (a, b)
=========  ================================================================================
bliss      ``f_A + f_B − f_A·f_B`` from the observed single-agent effects (independent action)
hsa        ``max(f_A, f_B)`` from the observed single-agent effects (Gaddum)
loewe      ``f_L`` solving ``a/A⁻¹(f_L) + b/B⁻¹(f_L) = 1`` for the fitted single-agent Hill
           curves (dose additivity, a sham combination of an agent with itself is additive)
zip        Yadav et al. 2015 (Comput Struct Biotechnol J 13:504): Bliss of the fitted single-
           agent curves, compared with the average of Hill curves fitted along each row and
           each column of the matrix
=========  ================================================================================

The formulas are checked in the tests against hand-computed examples and against the
``synergy`` package (Wooten et al. 2021), which reports effects as "surviving fraction"
``E = 1 − f`` and the same sign of synergy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.simulations.dose_response import (
    HillFit,
    _estimates_only,
    _fit_ragged,
    default_starts,
    fit_hill,
    hill,
)
from paracrine.vocabulary import DIVERGING_CMAP, MISSING, SEQUENTIAL_CMAP, text_colour

__all__ = [
    "SYNERGY_METHODS",
    "SynergyScores",
    "bliss_excess",
    "fit_single_agents",
    "fractional_effect",
    "hsa_excess",
    "loewe_excess",
    "loewe_reference",
    "plot_synergy",
    "synergy_scores",
    "zip_delta",
]

#: The scores :func:`synergy_scores` computes, with their display names.
SYNERGY_METHODS: dict[str, str] = {"bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe", "zip": "ZIP"}
#: Bounds of the top (effect at infinite dose) of ZIP's row/column Hill fits, as in the
#: ``synergy`` package (surviving-fraction Emax in 0–1.5, i.e. fractional top −0.5–1).
ZIP_TOP_BOUNDS = (-0.5, 1.0)

LoeweUndefined = Literal["hsa", "nan", "weakest"]
_DEFAULT_NAMES = ("il6_ng_ml", "vegf_ng_ml")


# --------------------------------------------------------------------------- validation


def _check_matrix(matrix: Any, what: str = "matrix") -> np.ndarray:
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] < 2 or m.shape[1] < 2:
        raise InvalidInputError(
            f"{what}: expected a 2-D matrix of at least 2 × 2 (rows: doses of agent A from 0, "
            f"columns: doses of agent B from 0), received shape {m.shape}"
        )
    bad = ~np.isfinite(m)
    if np.any(bad):
        cells = [tuple(int(i) for i in c) for c in np.argwhere(bad)[:5]]
        raise InvalidInputError(
            f"{what}: expected finite responses, received {int(bad.sum())} non-finite "
            f"cell(s) at (row, column) {cells}"
        )
    return m


def _check_axis(dose: Any, size: int, name: str, axis: str) -> np.ndarray:
    d = np.asarray(dose, dtype=float)
    if d.ndim != 1 or d.size != size:
        raise InvalidInputError(
            f"{name}: expected {size} doses (one per {axis} of the matrix), received shape "
            f"{d.shape}"
        )
    if not np.all(np.isfinite(d)):
        raise InvalidInputError(f"{name}: expected finite doses, received {d.tolist()}")
    if d[0] != 0:
        raise InvalidInputError(
            f"{name}: expected dose 0 first (the other agent alone), received {d[0]:g}"
        )
    if np.any(np.diff(d) <= 0):
        raise InvalidInputError(
            f"{name}: expected strictly increasing doses, received {d.tolist()}"
        )
    return d


def _check_all(
    f: Any, dose_a: Any, dose_b: Any, names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = _check_matrix(f, "f")
    a = _check_axis(dose_a, m.shape[0], names[0], "row")
    b = _check_axis(dose_b, m.shape[1], names[1], "column")
    return m, a, b


def _zero_single_agents(score: np.ndarray) -> np.ndarray:
    score = np.array(score, dtype=float)
    score[0, :] = 0.0
    score[:, 0] = 0.0
    return score


# --------------------------------------------------------------------------- normalisation


def fractional_effect(
    matrix: Any,
    *,
    baseline: float | None = None,
    emax: float | None = None,
    inhibitory: bool = False,
) -> np.ndarray:
    """Responses as fractional effects: 0 untreated, 1 full effect.

    ``f = (R − R₀)/(E_full − R₀)`` with ``R₀`` the untreated response (default
    ``matrix[0, 0]``) and ``E_full`` the full-effect response (default the matrix maximum, or
    for *inhibitory* responses, which fall with dose, the minimum: then
    ``f = (R₀ − R)/(R₀ − E_min)``). With the default, the strongest cell of the matrix is
    f = 1; pass *emax* (e.g. the response at saturating doses, or a fold-over-basal ceiling
    shared by several matrices) to compare matrices on one scale.

    Parameters
    ----------
    matrix
        Responses, rows = doses of agent A (0 first), columns = doses of agent B (0 first).
    baseline
        Untreated response ``R₀``.
    emax
        Full-effect response (above *baseline*; below it when *inhibitory*).
    inhibitory
        The response falls with dose.

    Returns
    -------
    numpy.ndarray
        Same shape as *matrix*.

    Examples
    --------
    >>> fractional_effect([[1.0, 2.0], [3.0, 5.0]]).tolist()
    [[0.0, 0.25], [0.5, 1.0]]
    """
    m = _check_matrix(matrix)
    r0 = float(m[0, 0]) if baseline is None else float(baseline)
    full = (float(m.min()) if inhibitory else float(m.max())) if emax is None else float(emax)
    if not (np.isfinite(r0) and np.isfinite(full)):
        raise InvalidInputError(
            f"fractional_effect: expected finite baseline and emax, received {r0}, {full}"
        )
    if (full <= r0) if not inhibitory else (full >= r0):
        relation = "below" if inhibitory else "above"
        raise InvalidInputError(
            f"emax: expected a full-effect response {relation} the baseline {r0:g} "
            f"({'inhibitory' if inhibitory else 'stimulatory'} responses), received {full:g}"
            + ("" if inhibitory else "; pass inhibitory=True for responses that fall with dose")
        )
    return (m - r0) / (full - r0)


# --------------------------------------------------------------------------- scores


def bliss_excess(f: Any) -> np.ndarray:
    """Excess over Bliss independence: ``f_AB − (f_A + f_B − f_A·f_B)``.

    ``f_A = f[:, 0]`` and ``f_B = f[0, :]`` are the observed single-agent effects; *f* is a
    fractional-effect matrix (rows: dose of A from 0, columns: dose of B from 0; see
    :func:`fractional_effect`). The single-agent row and column are 0.
    """
    m = _check_matrix(f, "f")
    fa, fb = m[:, :1], m[:1, :]
    return _zero_single_agents(m - (fa + fb - fa * fb))


def hsa_excess(f: Any) -> np.ndarray:
    """Excess over the highest single agent: ``f_AB − max(f_A, f_B)`` (observed single-agent
    effects ``f[:, 0]``, ``f[0, :]``; the single-agent row and column are 0)."""
    m = _check_matrix(f, "f")
    return _zero_single_agents(m - np.maximum(m[:, :1], m[:1, :]))


def fit_single_agents(
    f: Any,
    dose_a: Sequence[float] | np.ndarray,
    dose_b: Sequence[float] | np.ndarray,
    *,
    names: Sequence[str] = _DEFAULT_NAMES,
) -> tuple[HillFit, HillFit]:
    """Hill curves ``emax · dⁿ/(EC50ⁿ + dⁿ)`` (e0 fixed at 0) fitted to the single-agent column
    ``f[:, 0]`` (agent A) and row ``f[0, :]`` (agent B) of a fractional-effect matrix; estimates
    only (no intervals). Needs at least 4 doses (0 and 3 more) on each axis.

    The fits are ``fit_hill(dose, f, e0=0, ci=False)``: the same ten starts and bounds, solved
    for both agents at once by the vectorised solver behind
    :func:`~paracrine.simulations.dose_response.fit_hill_batch` (``fit_hill`` itself only for
    a fit that does not converge there)."""
    return _single_agents(*_check_all(f, dose_a, dose_b, names), names)[0]


def _single_agents(
    m: np.ndarray, a: np.ndarray, b: np.ndarray, names: Sequence[str]
) -> tuple[tuple[HillFit, HillFit], int]:
    """The two single-agent fits and how many of them needed the lmfit fallback."""
    for dose, name in ((a, names[0]), (b, names[1])):  # the messages of fit_hill
        distinct = np.unique(dose).size
        if distinct < 4:
            raise InvalidInputError(
                f"{name}: expected at least 4 distinct doses, received {distinct}"
            )
    doses, ys = (a, b), (m[:, 0], m[0, :])
    starts = np.stack([default_starts(a), default_starts(b)])
    best = _fit_ragged(doses, ys, np.zeros(2), np.array([[-np.inf, np.inf]] * 2), starts)
    fits, n_fallback = [], 0
    for k in range(2):
        label = f"{names[k]} alone"
        fit = _estimates_only(
            doses[k],
            ys[k],
            None,
            0.0,
            float(best["emax"][k]),
            float(10.0 ** best["log10_ec50"][k]),
            float(best["n"][k]),
            float(best["chisqr"][k]),
            bool(best["converged"][k]),
            (-np.inf, np.inf),
            label,
        )
        if not fit.converged:  # the careful path; the lower objective is kept
            n_fallback += 1
            careful = fit_hill(doses[k], ys[k], e0=0.0, ci=False, name=label, dose_name=names[k])
            if not careful.chisqr > fit.chisqr:
                fit = careful
        fits.append(fit)
    return (fits[0], fits[1]), n_fallback


def _triplet(agent: HillFit | Sequence[float]) -> tuple[float, float, float]:
    if isinstance(agent, HillFit):
        return agent.emax, agent.ec50, agent.n
    emax, ec50, n = (float(x) for x in agent)
    if not (np.isfinite(emax) and ec50 > 0 and n > 0):
        raise InvalidInputError(
            f"agent: expected (emax, ec50 > 0, n > 0), received ({emax}, {ec50}, {n})"
        )
    return emax, ec50, n


def _dose_ratio(x: Any, emax: float, ec50: float, n: float, f: Any) -> np.ndarray:
    """``x / X⁻¹(f)`` for the Hill agent X; 0 where f is at or beyond X's maximal effect (the
    continuous extension: X⁻¹(f) → ∞ as f → emax)."""
    return (x / ec50) * (np.maximum(emax - f, 0.0) / f) ** (1.0 / n)


def loewe_reference(
    dose_a: Sequence[float] | np.ndarray,
    dose_b: Sequence[float] | np.ndarray,
    agent_a: HillFit | Sequence[float],
    agent_b: HillFit | Sequence[float],
    *,
    undefined: LoeweUndefined = "hsa",
) -> np.ndarray:
    """Loewe-additive fractional effect ``f_L`` at every (a, b) of the dose grid.

    ``f_L`` solves ``a/A⁻¹(f_L) + b/B⁻¹(f_L) = 1`` with ``A⁻¹(f) = EC50 (f/(emax − f))^(1/n)``
    the dose of A alone giving effect f (bisection on
    ``[max(f_A(a), f_B(b)), min(emax_A, emax_B)]``, where the root is bracketed and unique, to
    1e-15 + 1e-13·f; all cells at once).

    When the stronger agent alone already reaches the weaker agent's maximal effect,
    the equation has no solution (the weaker agent cannot contribute a dose equivalent). The
    cell is then, by *undefined*:

    - ``"hsa"`` (default): ``max(f_A, f_B)``: the limit of the equation when the weaker
      agent's dose ratio ``b/B⁻¹(f)`` goes to 0 as f reaches its maximum (the continuous
      extension), also the ``synergy`` package's ``Loewe(mode="delta_HSA")``;
    - ``"nan"``: NaN (``mode="delta_nan"``);
    - ``"weakest"``: the weaker agent's maximal effect (``mode="delta_weakest"``).

    Parameters
    ----------
    dose_a, dose_b
        Dose axes (0 first, ascending).
    agent_a, agent_b
        Fitted single-agent curves (:class:`HillFit` with e0 = 0) or ``(emax, ec50, n)``.
    undefined
        See above.

    Returns
    -------
    numpy.ndarray
        ``(len(dose_a), len(dose_b))``; the first row / column are the single agents.

    Examples
    --------
    For n = 1 and emax = 1 the isobole has a closed form,
    ``f_L = (a/EC50_A + b/EC50_B)/(1 + a/EC50_A + b/EC50_B)``:

    >>> loewe_reference([0, 1], [0, 2], (1, 1, 1), (1, 2, 1))[1, 1].round(12)
    np.float64(0.666666666667)
    """
    a = _check_axis(dose_a, np.size(dose_a), "dose_a", "row")
    b = _check_axis(dose_b, np.size(dose_b), "dose_b", "column")
    if undefined not in ("hsa", "nan", "weakest"):
        raise UnknownNameError("Loewe undefined-cell rule", undefined, ("hsa", "nan", "weakest"))
    ea, ca, na = _triplet(agent_a)
    eb, cb, nb = _triplet(agent_b)
    fa = hill(a, 0.0, ea, ca, na)
    fb = hill(b, 0.0, eb, cb, nb)
    top = min(max(ea, 0.0), max(eb, 0.0))
    out = np.empty((a.size, b.size))
    out[:, 0] = fa
    out[0, :] = fb
    x, y = (v.ravel() for v in np.meshgrid(a[1:], b[1:], indexing="ij"))
    low = np.maximum(fa[1:, None], fb[None, 1:])
    beyond = low >= top
    inner = np.where(beyond, {"hsa": low, "nan": np.nan, "weakest": top}[undefined], low)

    def excess(f: np.ndarray, k: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _dose_ratio(x[k], ea, ca, na, f) + _dose_ratio(y[k], eb, cb, nb, f) - 1.0

    # where the other agent's dose ratio is below rounding at low, f_L = low; elsewhere the
    # root is bracketed in [low, top] and unique (the excess falls with f): bisection on all
    # such cells at once, to brentq's tolerance (xtol 1e-15, rtol 1e-13)
    open_ = np.flatnonzero(~beyond)
    solve = open_[excess(low.flat[open_], open_) > 0]
    lo, hi = low.flat[solve], np.full(solve.size, top)
    for _ in range(200):
        if not np.any(hi - lo > 1e-15 + 1e-13 * hi):
            break
        mid = 0.5 * (lo + hi)
        above = excess(mid, solve) > 0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    inner.flat[solve] = 0.5 * (lo + hi)
    out[1:, 1:] = inner
    return out


def _loewe(
    m: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    fits: tuple[HillFit, HillFit],
    undefined: LoeweUndefined,
) -> tuple[np.ndarray, np.ndarray]:
    reference = loewe_reference(a, b, fits[0], fits[1], undefined=undefined)
    return _zero_single_agents(m - reference), reference


def loewe_excess(
    f: Any,
    dose_a: Sequence[float] | np.ndarray,
    dose_b: Sequence[float] | np.ndarray,
    *,
    undefined: LoeweUndefined = "hsa",
    fits: tuple[HillFit, HillFit] | None = None,
    names: Sequence[str] = _DEFAULT_NAMES,
) -> np.ndarray:
    """Excess over Loewe additivity, ``f − f_L``, for Hill curves fitted to the single agents.

    The single-agent curves are :func:`fit_single_agents` (e0 = 0; at least 4 doses on each
    axis) unless *fits* are given; ``f_L`` is :func:`loewe_reference` (see there for the cells
    where Loewe is undefined and *undefined*). The single-agent row and column are 0.
    """
    m, a, b = _check_all(f, dose_a, dose_b, names)
    fits = fits or fit_single_agents(m, a, b, names=names)
    return _loewe(m, a, b, fits, undefined)[0]


#: Starts of ZIP's row/column fits besides the warm start (the single agent's EC50 and n), as
#: indices into :func:`~paracrine.simulations.dose_response.default_starts`: each of
#: ``fit_hill``'s five EC50 starts once, from the lowest dose up, with n = 1, 3, 1, 3, 1.
ZIP_SPREAD_STARTS = (0, 6, 2, 8, 4)


def _zip_surfaces(
    m: np.ndarray, a: np.ndarray, b: np.ndarray, fits: tuple[HillFit, HillFit]
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """ZIP's fitted surfaces: along A at every B dose > 0 (columns) and along B at every A dose
    > 0 (rows), all fitted at once (see :func:`zip_delta`), and the fit counts."""
    fa = fits[0].predict(a)
    fb = fits[1].predict(b)
    low_top, high_top = ZIP_TOP_BOUNDS
    n_cols, n_rows = b.size - 1, a.size - 1
    doses = [a] * n_cols + [b] * n_rows
    ys = [m[:, j] for j in range(1, b.size)] + [m[i, :] for i in range(1, a.size)]
    e0 = np.concatenate([fb[1:], fa[1:]])
    emax_bounds = np.column_stack([low_top - e0, high_top - e0])
    warm = np.array([[fits[0].ec50, fits[0].n]] * n_cols + [[fits[1].ec50, fits[1].n]] * n_rows)
    index = list(ZIP_SPREAD_STARTS)
    starts = np.concatenate(
        [
            warm[:, None],
            np.concatenate(
                [
                    np.broadcast_to(default_starts(a)[index], (n_cols, len(index), 2)),
                    np.broadcast_to(default_starts(b)[index], (n_rows, len(index), 2)),
                ]
            ),
        ],
        axis=1,
    )
    best = _fit_ragged(doses, ys, e0, emax_bounds, starts)
    keys = ("emax", "log10_ec50", "n", "chisqr", "converged")
    best = {key: best[key].copy() for key in (*keys, "n_agree")}
    # poor: not converged, or the starts found different optima (only one reached the best)
    poor = np.flatnonzero(~best["converged"] | (best["n_agree"] < 2))
    n_lmfit = 0
    if poor.size:  # all ten starts of fit_hill; the lower objective is kept
        more = _fit_ragged(
            [doses[k] for k in poor],
            [ys[k] for k in poor],
            e0[poor],
            emax_bounds[poor],
            np.stack([default_starts(doses[k]) for k in poor]),
        )
        for i, k in enumerate(poor):
            if more["chisqr"][i] < best["chisqr"][k]:
                for key in keys:
                    best[key][k] = more[key][i]
        for k in poor[~best["converged"][poor]]:  # still not converged: fit_hill (lmfit)
            n_lmfit += 1
            fit = fit_hill(
                doses[k], ys[k], e0=float(e0[k]), ci=False, emax_bounds=tuple(emax_bounds[k])
            )
            if not fit.chisqr > best["chisqr"][k]:
                best["emax"][k], best["n"][k] = fit.emax, fit.n
                best["log10_ec50"][k] = np.log10(fit.ec50)
    ec50 = 10.0 ** best["log10_ec50"]
    along_a = np.zeros_like(m)  # Hill in dose A at fixed dose B, from the B-alone effect
    along_b = np.zeros_like(m)
    for j in range(1, b.size):
        k = j - 1
        along_a[:, j] = hill(a, e0[k], best["emax"][k], ec50[k], best["n"][k])
    for i in range(1, a.size):
        k = n_cols + i - 1
        along_b[i, :] = hill(b, e0[k], best["emax"][k], ec50[k], best["n"][k])
    counts = {"curves": n_cols + n_rows, "multistart": int(poor.size), "lmfit": n_lmfit}
    return along_a, along_b, counts


def _zip(
    m: np.ndarray, a: np.ndarray, b: np.ndarray, fits: tuple[HillFit, HillFit]
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    fa = fits[0].predict(a)
    fb = fits[1].predict(b)
    reference = fa[:, None] + fb[None, :] - fa[:, None] * fb[None, :]
    along_a, along_b, counts = _zip_surfaces(m, a, b, fits)
    observed = (along_a + along_b) / 2.0
    return _zero_single_agents(observed - reference), reference, counts


def zip_delta(
    f: Any,
    dose_a: Sequence[float] | np.ndarray,
    dose_b: Sequence[float] | np.ndarray,
    *,
    fits: tuple[HillFit, HillFit] | None = None,
    names: Sequence[str] = _DEFAULT_NAMES,
) -> np.ndarray:
    """ZIP delta score (Yadav et al. 2015, Comput Struct Biotechnol J 13:504).

    - expected: Bliss independence of the fitted single-agent Hill curves
      ``y_A(a) + y_B(b) − y_A(a)·y_B(b)`` (:func:`fit_single_agents`, e0 = 0, unless *fits*);
    - observed: for every dose b > 0 of B, a Hill curve in the dose of A fitted to that
      column of *f* with its bottom fixed at ``y_B(b)`` and free EC50, n and top
      (top in −0.5–1, :data:`ZIP_TOP_BOUNDS`); likewise for every row, in the dose of B from
      ``y_A(a)``; the two fitted surfaces are averaged;
    - delta = observed − expected: positive = synergy. The single-agent row and column are 0.

    As in the ``synergy`` package (checked against it in the tests), the bottoms are the
    fitted, not the observed, single-agent effects; the row/column fits here bound EC50 to the
    dose range ± 2 decades and n to 0.1–10 (the package starts from the single-agent
    parameters, with EC50 and n unbounded).

    All row and column curves are fitted at once by the vectorised solver behind
    :func:`~paracrine.simulations.dose_response.fit_hill_batch`, each from six starts: the
    single agent's EC50 and n (the package's start) and five of ``fit_hill``'s ten
    (:data:`ZIP_SPREAD_STARTS`). A curve whose best fit did not converge, or was reached by
    only one of the six starts (several optima), is refitted from all ten starts of
    :func:`~paracrine.simulations.dose_response.fit_hill`, and by ``fit_hill`` itself (lmfit)
    if that does not converge either (the lowest objective is kept); the counts are in
    :attr:`SynergyScores.fit_counts`. The tests check that this reaches the optima of one
    ``fit_hill`` per curve (the previous implementation) or lower ones.
    """
    m, a, b = _check_all(f, dose_a, dose_b, names)
    fits = fits or fit_single_agents(m, a, b, names=names)
    return _zip(m, a, b, fits)[0]


# --------------------------------------------------------------------------- all scores


@dataclass(frozen=True, eq=False)
class SynergyScores:
    """Synergy scores of one two-agent response matrix.

    Attributes
    ----------
    dose_a, dose_b
        Dose axes (rows, columns), 0 first.
    response
        The matrix as given.
    fractional
        The fractional-effect matrix the scores are computed on.
    scores
        ``{method: excess matrix}``: observed minus expected fractional effect (positive =
        synergy; single-agent row and column 0).
    references
        ``{method: expected fractional effect}`` under each method's non-interaction.
    single_agent_fits
        The Hill fits of A alone and B alone (Loewe, ZIP), else ``None``.
    names
        Column names of the two dose axes (e.g. ``("il6_ng_ml", "vegf_ng_ml")``).
    loewe_undefined
        Rule for the cells where Loewe is undefined (see :func:`loewe_reference`).
    fit_counts
        Hill fits behind the scores: ``single_agent_lmfit`` (single-agent fits that fell back
        to lmfit) and for ZIP ``zip_curves`` (row and column fits), ``zip_multistart`` (refitted
        from ten starts) and ``zip_lmfit`` (fell back to lmfit); see :func:`zip_delta`.
    """

    dose_a: np.ndarray
    dose_b: np.ndarray
    response: np.ndarray
    fractional: np.ndarray
    scores: dict[str, np.ndarray]
    references: dict[str, np.ndarray]
    single_agent_fits: tuple[HillFit, HillFit] | None = None
    names: tuple[str, str] = _DEFAULT_NAMES
    loewe_undefined: str = "hsa"
    fit_counts: dict[str, int] = field(default_factory=dict)

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods scored, in order."""
        return tuple(self.scores)

    def __getitem__(self, method: str) -> np.ndarray:
        if method not in self.scores:
            raise UnknownNameError("synergy method", method, self.scores)
        return self.scores[method]

    def summary(self):  # -> DataFrame
        """One row per method, over the combination cells (both doses > 0): ``mean_excess``,
        ``max_excess`` and where it is (the two dose columns), ``min_excess``, ``n_cells`` and
        ``n_undefined`` (NaN cells, excluded from the statistics)."""
        import pandas as pd

        rows = []
        for method, score in self.scores.items():
            inner = score[1:, 1:]
            finite = np.isfinite(inner)
            row: dict[str, Any] = {"method": method}
            if finite.any():
                i, j = np.unravel_index(np.nanargmax(np.where(finite, inner, -np.inf)), inner.shape)
                row.update(
                    mean_excess=float(inner[finite].mean()),
                    max_excess=float(inner[i, j]),
                    **{
                        self.names[0]: float(self.dose_a[i + 1]),
                        self.names[1]: float(self.dose_b[j + 1]),
                    },
                    min_excess=float(inner[finite].min()),
                )
            else:
                row.update(
                    mean_excess=np.nan,
                    max_excess=np.nan,
                    **{self.names[0]: np.nan, self.names[1]: np.nan},
                    min_excess=np.nan,
                )
            row.update(n_cells=int(inner.size), n_undefined=int((~finite).sum()))
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dataframe(self):  # -> DataFrame
        """Tidy table: ``<name_a>, <name_b>, method, score`` (one row per cell and method)."""
        import pandas as pd

        n_a, n_b = self.dose_a.size, self.dose_b.size
        frames = [
            pd.DataFrame(
                {
                    self.names[0]: np.repeat(self.dose_a, n_b),
                    self.names[1]: np.tile(self.dose_b, n_a),
                    "method": method,
                    "score": score.reshape(-1),
                }
            )
            for method, score in self.scores.items()
        ]
        return pd.concat(frames, ignore_index=True)

    def plot(self, methods: Sequence[str] | None = None, **kwargs):  # -> Figure
        """:func:`plot_synergy` of these scores."""
        return plot_synergy(self, methods, **kwargs)


def synergy_scores(
    matrix: Any,
    dose_a: Sequence[float] | np.ndarray,
    dose_b: Sequence[float] | np.ndarray,
    methods: Sequence[str] = ("bliss", "hsa", "loewe", "zip"),
    *,
    is_fractional: bool = False,
    baseline: float | None = None,
    emax: float | None = None,
    inhibitory: bool = False,
    names: Sequence[str] = _DEFAULT_NAMES,
    loewe_undefined: LoeweUndefined = "hsa",
) -> SynergyScores:
    """Score a two-agent response matrix by several methods at once.

    Parameters
    ----------
    matrix
        Responses, rows = doses of agent A, columns = doses of agent B (both from 0,
        ascending), e.g. ``DoseMatrix.get("peak", "pERK")``.
    dose_a, dose_b
        The dose axes, e.g. in ng/mL.
    methods
        Any of ``"bliss"``, ``"hsa"``, ``"loewe"``, ``"zip"`` (Loewe and ZIP fit Hill curves
        and need at least 4 doses on each axis).
    is_fractional
        *matrix* already holds fractional effects (skip :func:`fractional_effect`).
    baseline, emax, inhibitory
        Passed to :func:`fractional_effect`.
    names
        Names of the two dose axes (columns of the tables, error messages).
    loewe_undefined
        See :func:`loewe_reference`.

    Returns
    -------
    SynergyScores
    """
    names = tuple(names)
    if len(names) != 2:
        raise InvalidInputError(f"names: expected two dose-axis names, received {names}")
    response = _check_matrix(matrix)
    a = _check_axis(dose_a, response.shape[0], names[0], "row")
    b = _check_axis(dose_b, response.shape[1], names[1], "column")
    methods = tuple(methods)
    for method in methods:
        if method not in SYNERGY_METHODS:
            raise UnknownNameError("synergy method", method, SYNERGY_METHODS)
    if not methods:
        raise InvalidInputError("methods: expected at least one synergy method, received none")
    f = (
        response.copy()
        if is_fractional
        else fractional_effect(response, baseline=baseline, emax=emax, inhibitory=inhibitory)
    )
    counts: dict[str, int] = {}
    fits = None
    if {"loewe", "zip"} & set(methods):
        fits, counts["single_agent_lmfit"] = _single_agents(f, a, b, names)
    scores: dict[str, np.ndarray] = {}
    references: dict[str, np.ndarray] = {}
    fa, fb = f[:, :1], f[:1, :]
    for method in methods:
        if method == "bliss":
            references[method] = fa + fb - fa * fb
            scores[method] = bliss_excess(f)
        elif method == "hsa":
            references[method] = np.maximum(fa, fb)
            scores[method] = hsa_excess(f)
        elif method == "loewe":
            scores[method], references[method] = _loewe(f, a, b, fits, loewe_undefined)
        else:
            scores[method], references[method], zip_counts = _zip(f, a, b, fits)
            counts.update({f"zip_{key}": value for key, value in zip_counts.items()})
    return SynergyScores(
        dose_a=a,
        dose_b=b,
        response=response,
        fractional=f,
        scores=scores,
        references=references,
        single_agent_fits=fits,
        names=names,
        loewe_undefined=loewe_undefined,
        fit_counts=counts,
    )


# --------------------------------------------------------------------------- plotting


def _dose_ticks(ax, doses: np.ndarray, axis: str) -> None:
    """Round doses on the grid (:func:`paracrine.simulations.plotting.dose_ticks`)."""
    from paracrine.simulations.plotting import dose_ticks

    idx, labels = dose_ticks(doses)
    if axis == "x":
        ax.set_xticks(idx + 0.5, labels, rotation=45 if len(labels) > 5 else 0)
    else:
        ax.set_yticks(idx + 0.5, labels)


def plot_synergy(
    scores: SynergyScores,
    methods: Sequence[str] | None = None,
    agent_a: str = "IL-6 (ng/mL)",
    agent_b: str = "VEGF-A165 (ng/mL)",
    *,
    show_response: bool = False,
    annotate: bool | None = None,
    title: str | None = None,
):  # -> Figure
    """Heat maps of synergy scores: one panel per method, agent A's doses up the y axis and
    agent B's along the x axis, equally spaced cells labelled with the doses.

    Scores share one colour scale (:data:`paracrine.vocabulary.DIVERGING_CMAP`), symmetric
    about 0 (white = no excess, red = synergy, blue = antagonism); undefined (NaN) cells are
    grey.

    Parameters
    ----------
    scores
        From :func:`synergy_scores`.
    methods
        Methods to show (default all scored).
    agent_a, agent_b
        Axis labels with units (rows, columns of the matrix).
    show_response
        Add a first panel with the fractional effect (:data:`SEQUENTIAL_CMAP`).
    annotate
        Write each cell's value (default: when both axes have at most 6 doses).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        ~3.8 in wide per panel (save as PNG at 300 dpi and SVG).
    """
    import matplotlib.pyplot as plt

    methods = list(methods or scores.methods)
    for method in methods:
        if method not in scores.scores:
            raise UnknownNameError("scored synergy method", method, scores.scores)
    n_a, n_b = scores.dose_a.size, scores.dose_b.size
    if annotate is None:
        annotate = max(n_a, n_b) <= 6
    panels = (["response"] if show_response else []) + methods
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.8 * len(panels), 3.5), squeeze=False, layout="constrained"
    )
    values = np.concatenate([scores.scores[m][1:, 1:].ravel() for m in methods] or [np.zeros(1)])
    values = values[np.isfinite(values)]
    limit = float(np.max(np.abs(values))) if values.size else 0.0
    limit = limit if limit > 0 else 1.0
    x_edges, y_edges = np.arange(n_b + 1), np.arange(n_a + 1)
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "response":
            grid = scores.fractional
            cmap = plt.get_cmap(SEQUENTIAL_CMAP)
            mesh = ax.pcolormesh(x_edges, y_edges, grid, cmap=cmap)
            bar_label = "fractional effect"
            ax.set_title("response", fontsize=10)
            low, high = float(np.min(grid)), float(np.max(grid))
            lim, centred = max(abs(low), abs(high)) or 1.0, False
        else:
            grid = scores.scores[panel]
            cmap = plt.get_cmap(DIVERGING_CMAP).with_extremes(bad=MISSING)
            mesh = ax.pcolormesh(
                x_edges, y_edges, np.ma.masked_invalid(grid), cmap=cmap, vmin=-limit, vmax=limit
            )
            bar_label = f"excess over {SYNERGY_METHODS[panel]} (fractional effect)"
            ax.set_title(SYNERGY_METHODS[panel], fontsize=10)
            lim, centred = limit, True
        if annotate:
            for i in range(n_a):
                for j in range(n_b):
                    v = grid[i, j]
                    text = "n/a" if not np.isfinite(v) else f"{v:.2f}"
                    strong = np.isfinite(v) and (
                        abs(v) > 0.6 * lim if centred else (v - low) < 0.5 * (high - low)
                    )
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        text,
                        ha="center",
                        va="center",
                        fontsize=9,
                        color=text_colour(strong),
                    )
        _dose_ticks(ax, scores.dose_b, "x")
        _dose_ticks(ax, scores.dose_a, "y")
        ax.set_xlabel(agent_b, fontsize=10)
        ax.set_ylabel(agent_a, fontsize=10)
        ax.tick_params(labelsize=9)
        ax.set_aspect("equal")
        bar = fig.colorbar(mesh, ax=ax, shrink=0.85)
        bar.set_label(bar_label, fontsize=9)
        bar.ax.tick_params(labelsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
