"""Text and HTML reports of a :class:`~paracrine.fitting.result.FitResult` (what
``FitResult.report()`` and its notebook display show), in the spirit of lmfit's
``fit_report``. Files, figures and reports of whole jobs are :mod:`paracrine.reports`.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from paracrine.fitting.result import FitResult

__all__ = ["html_report", "text_report"]


def _g(value: float, digits: int = 7) -> str:
    return f"{value:.{digits}g}" if math.isfinite(value) else str(value)


def _statistics(result: FitResult) -> list[tuple[str, str]]:
    best = result.best
    k_dyn = len(result.parameter_names)
    hits = result.n_hits()
    done = len(result.starts)
    return [
        (
            "starts",
            f"{done} of {result.n_starts} (seed {result.seed})"
            + (", interrupted" if result.interrupted else ""),
        ),
        ("failed starts", str(result.n_failed)),
        ("hits (Δnllh ≤ 0.1)", f"{hits} ({100 * result.fraction_hits:.0f}%)"),
        ("function evals", str(sum(s.n_fev for s in result.starts))),
        ("data points", str(result.n_data)),
        (
            "free parameters",
            f"{result.n_free} ({k_dyn} optimised + {result.n_inner_parameters} inner)",
        ),
        ("nllh", _g(result.nllh)),
        ("chi-square", _g(result.chisqr)),
        ("Akaike info crit", _g(result.aic)),
        ("corrected AIC", _g(result.aicc)),
        ("Bayesian info crit", _g(result.bic)),
        (
            "best start",
            "none succeeded"
            if best is None
            else f"#{best.index}, {best.status}, {best.n_rounds} rounds",
        ),
        ("wall time", f"{result.wall_time_s:.3g} s"),
        ("expected time to hit", f"{_g(result.expected_time_to_hit(), 3)} s (CPU)"),
    ]


def text_report(result: FitResult, *, min_correl: float = 0.1) -> str:
    """lmfit-style report of a multistart result: statistics, variables (optimisation scale
    with standard errors, natural value, start, bounds), correlations and metadata.

    Parameters
    ----------
    result
        Any multistart result.
    min_correl
        Correlations of at most this magnitude are left out.

    Returns
    -------
    str
        Sections ``[[Fit Statistics]]``, ``[[Variables]]``, ``[[Correlations]]`` (if any
        exceed *min_correl*) and ``[[Metadata]]``.
    """
    lines = ["[[Fit Statistics]]"]
    lines += [f"    {name:<22} = {value}" for name, value in _statistics(result)]
    lines.append(f"    {'success':<22} = {result.success}")
    lines.append(f"    {'message':<22} = {result.message}")
    lines.append("[[Variables]] (optimisation scale ± standard error; natural value)")
    stderr = result.stderr
    natural = list(result.values.values())
    width = max((len(n) for n in result.parameter_names), default=4)
    x0 = result.x0_of_best
    for i, name in enumerate(result.parameter_names):
        err = stderr[i]
        text = f"    {name + ':':<{width + 1}} {_g(result.x[i])}"
        text += f" +/- {_g(err, 4)}" if np.isfinite(err) else " +/- (not determined)"
        if len(natural) == len(result.parameter_names):
            text += f"  natural = {_g(natural[i], 6)}"
        if x0 is not None:
            text += f"  (init = {_g(x0[i], 4)})"
        # within 1% of the box (at most 0.01 on the optimisation scale) counts as at the bound
        tol = min(0.01, 0.01 * (result.upper[i] - result.lower[i]))
        at_bound = np.isclose(result.x[i], [result.lower[i], result.upper[i]], atol=tol, rtol=0)
        text += f"  [{_g(result.lower[i], 4)}, {_g(result.upper[i], 4)}]"
        if at_bound.any():
            text += "  AT BOUND"
        lines.append(text)
    corr = result.correlation
    if corr is not None:
        pairs = [
            (abs(corr[i, j]), result.parameter_names[i], result.parameter_names[j], corr[i, j])
            for i in range(len(corr))
            for j in range(i + 1, len(corr))
            if abs(corr[i, j]) > min_correl
        ]
        if pairs:
            lines.append(f"[[Correlations]] (unreported correlations are < {min_correl:.3f})")
            for _, a, b, c in sorted(pairs, reverse=True):
                lines.append(f"    C({a}, {b}) = {c:+.4f}")
    if result.metadata:
        lines.append("[[Metadata]]")
        lines += [f"    {k} = {v}" for k, v in result.metadata.items()]
    return "\n".join(lines)


def html_report(result: FitResult) -> str:
    """Two small HTML tables of a multistart result, statistics and variables, for notebooks.

    Returns
    -------
    str
        HTML (escaped), no surrounding document.
    """
    esc = html.escape
    out = ["<h4>Fit Statistics</h4><table>"]
    for name, value in [*_statistics(result), ("success", str(result.success))]:
        out.append(f"<tr><td>{esc(name)}</td><td>{esc(value)}</td></tr>")
    out.append(
        "</table><h4>Variables</h4><table><tr><th>name</th><th>value</th>"
        "<th>standard error</th><th>natural</th><th>min</th><th>max</th></tr>"
    )
    natural = list(result.values.values())
    for i, name in enumerate(result.parameter_names):
        nat = _g(natural[i], 6) if len(natural) == len(result.parameter_names) else ""
        cells = [
            name,
            _g(result.x[i]),
            _g(result.stderr[i], 4),
            nat,
            _g(result.lower[i], 4),
            _g(result.upper[i], 4),
        ]
        out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "".join(out)
