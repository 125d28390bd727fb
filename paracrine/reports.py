"""Reports of fits, as text and as files.

* :func:`text_report` and :func:`html_report`: the lmfit-style report of any
  :class:`~paracrine.fitting.FitResult` (what ``FitResult.report()`` and its notebook HTML
  show), defined in :mod:`paracrine.fitting.result_report` and re-exported here;
* :func:`write_fit_outputs`, :func:`write_selection_outputs` and
  :func:`write_multistart_outputs`: the folders ``paracrine fit``/``demo``, ``paracrine
  select`` and ``paracrine petab fit --out`` write (results as JSON, figures, ``report.md``),
  with :func:`fit_report_markdown`, :func:`selection_report_markdown` and
  :func:`multistart_report_markdown` for the report alone.

Callable from Python as well as from the command line, e.g.
``write_fit_outputs(fit_blots("independent"), "my-fit")``. This module sits on top of the
layers (nothing in data, models, simulations or fitting imports it); matplotlib and the
fitting code beyond the text reports are imported inside the functions that need them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paracrine.errors import UnknownNameError
from paracrine.fitting.result_report import html_report, text_report

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from paracrine.fitting import BlotFit, FitResult, ModelSelection
    from paracrine.fitting.profiles import Profile

__all__ = [
    "fit_report_markdown",
    "html_report",
    "multistart_report_markdown",
    "save_figures",
    "selection_report_markdown",
    "text_report",
    "write_fit_outputs",
    "write_multistart_outputs",
    "write_selection_outputs",
]

#: Resolution of the PNG figures written next to their SVG copies.
PNG_DPI = 300
#: Where the bundled data's provenance is described, as shown in reports of synthetic data.
_SYNTHETIC_NOTE = (
    "> The bundled data are **SYNTHETIC** (paper-shaped, generated from a phenomenological "
    "template, not measured): see `data/README.md` in the repository "
    "(installed as `paracrine/data/README.md`)."
)


def _duration(command_line: str | None, elapsed_s: float | None) -> str:
    parts = []
    if command_line:
        parts.append(f"Command: `{command_line}`")
    if elapsed_s is not None:
        parts.append(f"total {elapsed_s:.1f} s")
    return "; ".join(parts) + "." if parts else ""


def _provenance(data, command_line: str | None, seed: int | None) -> list[str]:
    """How a result was made: command, version, date, the data's SHA-256 and the seed."""
    import hashlib

    from paracrine.html_report import provenance_lines, sha256_of

    lines = provenance_lines(command_line=command_line, data_path=None, seed=seed)
    source = Path(str(getattr(data, "source", "")))
    if source.is_file():
        lines.insert(
            -1 if seed is not None else len(lines),
            f"- data `{source.name}`: file SHA-256 `{sha256_of(source)}`",
        )
    elif getattr(data, "frame", None) is not None:
        digest = hashlib.sha256(data.frame.to_csv(index=False).encode()).hexdigest()
        lines.insert(
            -1 if seed is not None else len(lines),
            f"- data `{source}` (bundled): content SHA-256 `{digest}`",
        )
    return lines


def _write_report(path: Path, text: str) -> list[Path]:
    """``report.md`` and its self-contained ``report.html`` (figures embedded)."""
    from paracrine.html_report import write_html_report

    path.write_text(text, encoding="utf-8")
    return [path, write_html_report(path)]


def save_figures(figures: dict, folder: Path) -> list[Path]:
    """Each figure as NAME.png (300 dpi) and NAME.svg, cropped to what is drawn (legends
    outside the axes included); the figures are closed afterwards."""
    import matplotlib.pyplot as plt

    written = []
    for name, fig in figures.items():
        for suffix, options in ((".png", {"dpi": PNG_DPI}), (".svg", {})):
            fig.savefig(folder / f"{name}{suffix}", bbox_inches="tight", **options)
            written.append(folder / f"{name}{suffix}")
        plt.close(fig)
    return written


def fit_report_markdown(
    fit: BlotFit,
    *,
    command_line: str | None = None,
    elapsed_s: float | None = None,
    profiles: Mapping[str, Profile] | None = None,
) -> str:
    """Markdown report of a blot fit: data, best nllh, hits, the combination effect (claim 4),
    the figures :func:`write_fit_outputs` writes beside it and :meth:`BlotFit.report`.

    Parameters
    ----------
    fit
        A blot fit.
    command_line
        The command that made it, shown in the report (None: not shown).
    elapsed_s
        Wall time to report, s (None: not shown).
    profiles
        Likelihood profiles by parameter name (:func:`~paracrine.fitting.profile_all`): their
        intervals replace the Laplace ones in the parameter table, and ``profiles.png`` is
        linked.

    Returns
    -------
    str
        The text of ``report.md``; it links ``fit.png``, ``residuals.png``, ``waterfall.png``
        and ``parameters.png``.
    """

    r = fit.result
    meta = r.metadata
    data = (
        f"Data: `{meta.get('dataset')}` ({r.n_data} bands on {len(fit.problem.blots)} blots, "
        f"{len(fit.problem.conditions)} conditions)."
    )
    lines = [
        f"# paracrine fit — variant `{fit.problem.model.variant}`",
        "",
        " ".join(filter(None, [data, _duration(command_line, elapsed_s)])),
        "",
    ]
    if "synthetic" in str(meta.get("dataset", "")):
        lines += [_SYNTHETIC_NOTE, ""]
    lines += [*_provenance(fit.problem.data, command_line, r.seed), ""]
    lines += [
        f"- best nllh **{r.nllh:.3f}** (AIC {r.aic:.1f}, BIC {r.bic:.1f}; k = {r.n_free} incl. "
        f"{r.n_inner_parameters} blot scales/noise levels solved analytically)",
        f"- {r.n_hits(0.1)} of {len(r.starts)} starts within 0.1 of the best; {r.n_failed} failed; "
        f"fit wall time {r.wall_time_s:.1f} s",
    ]
    if r.best is not None:
        lines += ["", *combination_section(fit), "", *goodness_section(fit), ""]
        lines += [
            "## Fit over data",
            "",
            "![fit](fit.png)",
            "",
            "## Residuals",
            "",
            "![residuals](residuals.png) ![standardised residuals](standardised_residuals.png)",
        ]
    if r.best is not None:
        lines += ["", *parameter_section(fit, profiles=profiles)]
        if profiles:
            lines += [
                "",
                "Likelihood profiles (Δnllh against each profiled parameter, every point "
                "re-optimised over the others; the dashed line is the 95% threshold 1.92, "
                "where it crosses the curve are the interval's ends; a curve that stays below "
                "it up to a bound leaves that side open):",
                "",
                "![profiles](profiles.png)",
            ]
    lines += [
        "",
        "## Multistart waterfall and parameters",
        "",
        "![waterfall](waterfall.png) ![parameters](parameters.png)",
        "",
        "## Report",
        "",
        "```",
        fit.report(),
        "```",
        "",
        "Files: `fit.json` (reload with `paracrine.fitting.BlotFit.load`), `fit_simulation.csv` "
        "(best-fit time courses, 0–240 min every 5 min), `combination.csv` (fold of each arm, "
        "sum of singles, excess ratio and summaries: data with 95% CIs beside the fit), "
        "`goodness.csv` (standardised residuals per cell), `parameters.csv` (the parameter "
        "table above), figures as PNG (300 dpi) and SVG.",
        "",
    ]
    return "\n".join(lines)


def combination_section(fit: BlotFit, *, heading: str = "##") -> list[str]:
    """Markdown lines: the combination verdicts of the data beside the fit's (claim 4)."""
    data, _, comparison = fit.combination()
    lines = [
        f"{heading} Combination effect (claim 4): data beside fit",
        "",
        "Verdicts per cell line and read-out. *stronger*: the IL-6+VEGF peak above both single "
        "ligands' peaks; *sustained*: its 120–240-min level above both singles AND its late "
        "excess above the sum of the singles' late excesses; *super-/sub-additive*: the "
        "excess over basal above/below the sum of the singles' excesses. Data: 95% bootstrap "
        "CIs over replicates (fold over the same blot's unstimulated lane); fit: the same rules "
        "on the fitted curves at the data's times, with a relevance margin. Figure: "
        "`combination.png`.",
        "",
        "| cell line | read-out | data | fit | match |",
        "|---|---|---|---|---|",
    ]
    for row in comparison.itertuples(index=False):
        match = (
            "n/a"
            if row.match is None or str(row.match) == "<NA>"
            else ("yes" if bool(row.match) else "**NO**")
        )
        lines.append(
            f"| {row.cell_line} | {row.readout} | {row.data_verdict} | {row.fit_verdict} | {match} |"
        )
    judged = comparison["match"].dropna()
    if not len(judged):
        verdict = "Claim 4 cannot be judged on these data: " + "; ".join(
            sorted(set(data.verdicts.get("reason", []).dropna().astype(str)))
        )
    elif judged.astype(bool).all():
        verdict = (
            f"Claim 4 is **reproduced**: the fit's verdicts match the data's in all {len(judged)} "
            "line × read-out pairs."
        )
    else:
        verdict = (
            f"Claim 4 is **not reproduced**: the fit's verdicts match the data's in "
            f"{int(judged.astype(bool).sum())} of {len(judged)} line × read-out pairs."
        )
    lines += ["", verdict, "", "![combination](combination.png)"]
    return lines


def goodness_section(fit: BlotFit, *, heading: str = "##") -> list[str]:
    """Markdown lines: goodness of fit in words, the physiological regime, bounds."""
    g = fit.goodness()
    lines = [f"{heading} Goodness of fit", ""]
    lines += [f"- {line}" for line in g.summary_lines()]
    regime = fit.problem.regime(fit.x)
    if regime:
        outside = [d for d in regime if not d["inside"]]
        lines += [
            "",
            f"{heading}# Physiological regime (peak phosphorylated fractions)",
            "",
            "Blots fix only relative levels; the fit is held to literature ranges of the peak "
            "phosphorylated fraction (see `docs/literature.md`).",
            "",
            "| cell line | read-out | peak fraction | range |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {d['cell_line']} | {d['readout']} | {d['peak_fraction']:.3f}"
            f"{'' if d['inside'] else ' (**outside**)'} | {d['low']:g}–{d['high']:g} |"
            for d in regime
        ]
        if outside:
            lines += [
                "",
                f"{len(outside)} peak(s) sit outside their range (at its edge, pulled by the "
                "data): the data alone would push the model toward a different regime.",
            ]
    at_bounds = fit.parameters_at_bounds()
    lines += [
        "",
        "Parameters at a bound (within 0.01 log10): "
        + (", ".join(f"`{n}`" for n in at_bounds) if at_bounds else "none")
        + ".",
    ]
    return lines


#: Identifiability classes of the report's parameter table (from the Fisher-information SE on
#: the log10 scale): identified when the 95% interval stays inside the bounds and spans less
#: than two decades.
IDENTIFIED_MAX_SE = 1.0 / 1.959963984540054


#: A profile's verdict (:class:`~paracrine.fitting.profiles.Profile`) in the table's words.
_PROFILE_VERDICTS = {
    "identifiable": "identified",
    "practically non-identifiable": "not identified (profile reaches a bound)",
    "structurally non-identifiable": "not identified (flat profile)",
}


def parameter_table(fit: BlotFit, profiles: Mapping[str, Profile] | None = None):  # -> DataFrame
    """One row per free parameter: natural value with unit, its 95% interval, bounds, whether it
    sits at a bound (within 0.01 log10) and an identifiability verdict.

    The interval is the profile likelihood's where *profiles* holds the parameter (column
    ``interval`` = ``profile``: Δnllh = χ²₁(0.95)/2 = 1.92 on each side, the verdict the
    profile's), else the Laplace approximation on the log10 scale (``interval`` = ``Laplace``:
    ×/÷ 10^(1.96·SE); Fisher information ``JᵀJ`` plus a weak prior of a quarter of the box, so
    that an unconstrained parameter's interval spans its box). A side of a profile that
    reaches its bound without crossing the threshold is open: 0 or inf."""
    import math

    import pandas as pd

    profiles = dict(profiles or {})
    unknown = sorted(set(profiles) - set(fit.problem.parameter_names))
    if unknown:
        raise UnknownNameError("profiled parameter", unknown[0], fit.problem.parameter_names)
    r = fit.result
    table = fit.problem.model.table
    at_bounds = set(fit.parameters_at_bounds())
    # one Jacobian per fit, shared by parameters.csv and the report; not needed when every
    # parameter was profiled
    ses = fit.laplace_se if len(profiles) < len(fit.problem.parameter_names) else None
    rows = []
    for k, p in enumerate(fit.problem.free_parameters):
        x = float(r.x[k])
        lo, hi = float(fit.problem.lower[k]), float(fit.problem.upper[k])
        se = float(ses[k]) if ses is not None else math.nan
        prof = profiles.get(p.name)
        if prof is not None:
            low, high, method = prof.lower, prof.upper, "profile"
        elif math.isfinite(se):
            low, high, method = x - 1.959963984540054 * se, x + 1.959963984540054 * se, "Laplace"
        else:
            low, high, method = -math.inf, math.inf, "Laplace"
        if p.name in at_bounds:
            verdict = "at a bound"
        elif prof is not None:
            verdict = _PROFILE_VERDICTS.get(prof.verdict, prof.verdict)
            if verdict == "identified" and high - low > 2.0:
                verdict = "poorly identified (interval > 2 decades)"
        elif not math.isfinite(se) or low <= lo or high >= hi:
            verdict = "not identified (interval reaches a bound)"
        elif se > IDENTIFIED_MAX_SE:
            verdict = "poorly identified (interval > 2 decades)"
        else:
            verdict = "identified"
        rows.append(
            {
                "parameter": p.name,
                "value": 10**x,
                "unit": table[p.parameter].unit,
                "low_95": 10**low if math.isfinite(low) else 0.0,
                "high_95": 10**high if math.isfinite(high) else math.inf,
                "interval": method,
                "lower_bound": 10**lo,
                "upper_bound": 10**hi,
                "log10_value": x,
                "log10_se": se,
                "identifiability": verdict,
            }
        )
    return pd.DataFrame(rows)


def parameter_section(
    fit: BlotFit, *, heading: str = "##", profiles: Mapping[str, Profile] | None = None
) -> list[str]:
    """The parameter table in Markdown, with a plain-language summary."""
    frame = parameter_table(fit, profiles)
    counts = frame["identifiability"].value_counts()
    n = len(frame)
    identified = int(counts.get("identified", 0))
    n_profiled = int((frame["interval"] == "profile").sum())
    if n_profiled == n:
        method = (
            "Intervals are profile likelihoods (Δnllh = 1.92, each point re-optimised; "
            "`paracrine fit --profile`)."
        )
    elif n_profiled:
        method = (
            f"Intervals of the {n_profiled} profiled parameters are profile likelihoods "
            "(Δnllh = 1.92, each point re-optimised); the others' are the Laplace "
            "approximation on the log10 scale (Fisher information plus a weak prior of a "
            "quarter of each box; ×/÷ 10^(1.96·SE)) — the column *interval* says which."
        )
    else:
        method = (
            "Intervals are the Laplace approximation on the log10 scale (Fisher information "
            "plus a weak prior of a quarter of each box; ×/÷ 10^(1.96·SE)); profile "
            "likelihoods give exact ones (`paracrine fit --profile NAMES` or "
            "`paracrine.fitting.profile`) and were not computed here."
        )
    # a profile point below the fit by more than the hit tolerance (0.1) is another optimum;
    # less is the re-optimisations' noise
    drops = {
        name: float(prof.best_nllh - prof.nllh.min()) for name, prof in (profiles or {}).items()
    }
    better = {name: d for name, d in drops.items() if d > 0.1}
    lines = [
        f"{heading} Parameters",
        "",
        f"{identified} of {n} free parameters are identified by these data (95% interval inside "
        "the bounds and narrower than two decades); "
        f"{int(counts.get('at a bound', 0))} sit at a bound; the others are not or poorly "
        "identified: their values are one of many that fit equally well. " + method,
        "",
    ]
    if better:
        lines += [
            "**Profiles found a better optimum than the fit** ("
            + ", ".join(f"`{b}`: {d:.2f} lower" for b, d in better.items())
            + " in nllh): the multistart did not reach the global optimum; refit with more "
            "starts. These intervals are relative to the fit, not to that optimum.",
            "",
        ]
    lines += [
        "| parameter | value | unit | 95% interval | interval | bounds | identifiability |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in frame.itertuples(index=False):
        lines.append(
            f"| `{row.parameter}` | {row.value:.3g} | {row.unit} | "
            f"{row.low_95:.3g} – {row.high_95:.3g} | {row.interval} | {row.lower_bound:.3g} – "
            f"{row.upper_bound:.3g} | {row.identifiability} |"
        )
    return lines


def write_fit_outputs(
    fit: BlotFit,
    out_dir: str | os.PathLike[str],
    *,
    command_line: str | None = None,
    elapsed_s: float | None = None,
    profiles: Mapping[str, Profile] | None = None,
) -> list[Path]:
    """Write a blot fit to a folder, as ``paracrine fit`` does.

    Parameters
    ----------
    fit
        A blot fit.
    out_dir
        Folder (created if needed).
    command_line, elapsed_s
        Shown in ``report.md`` (see :func:`fit_report_markdown`).
    profiles
        Likelihood profiles by parameter name: ``profiles.csv`` (``parameter, value, nllh,
        delta_nllh``; value on the log10 scale) and the ``profiles`` figure are written, and
        their intervals replace the Laplace ones in ``parameters.csv`` and the report.

    Returns
    -------
    list of Path
        What was written: ``fit.json``; if a start succeeded, ``fit_simulation.csv`` (best-fit
        time courses ``cell_line, condition, time_min, observable, value``, 0–240 min every
        5 min) and the ``fit`` and ``residuals`` figures; the ``waterfall`` and
        ``parameters`` figures (each as PNG and SVG); ``report.md``.

    Examples
    --------
    >>> from paracrine.fitting import fit_blots
    >>> fit = fit_blots("independent", n_starts=4, seed=0)  # doctest: +SKIP
    >>> write_fit_outputs(fit, "my-fit")  # doctest: +SKIP
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [fit.save(out / "fit.json")]
    figures = {}
    if fit.result.best is not None:
        fit.fit_simulation_frame().to_csv(
            out / "fit_simulation.csv", index=False, float_format="%.6g"
        )
        written.append(out / "fit_simulation.csv")
        from paracrine.fitting.combination import write_combination

        data_summary, fit_summary, _ = fit.combination()
        written += write_combination(out, data_summary, fit_summary)
        goodness = fit.goodness()
        goodness.table().to_csv(out / "goodness.csv", index=False, float_format="%.6g")
        written.append(out / "goodness.csv")
        params = parameter_table(fit, profiles)
        params.to_csv(out / "parameters.csv", index=False, float_format="%.6g")
        written.append(out / "parameters.csv")
        if profiles:
            import pandas as pd

            frames = [prof.to_dataframe() for prof in profiles.values()]
            pd.concat(frames, ignore_index=True).to_csv(
                out / "profiles.csv", index=False, float_format="%.6g"
            )
            written.append(out / "profiles.csv")
            figures["profiles"] = plot_profiles(
                profiles, units=dict(zip(params.parameter, params.unit, strict=True))
            )
        intervals = {
            row.parameter: (row.low_95, row.high_95) for row in params.itertuples(index=False)
        }
        # the early minutes carry the peaks: a square-root time axis keeps them readable
        figures["fit"] = fit.plot_fit(time_scale="sqrt")
        figures["residuals"] = fit.plot_residuals()
        figures["standardised_residuals"] = goodness.plot()
    figures["waterfall"] = fit.result.plot_waterfall().figure
    if fit.result.best is not None:
        figures["parameters"] = fit.result.plot_parameters(
            intervals=intervals,
            interval_label="95% profile interval"
            if profiles and len(profiles) == len(params)
            else "95% Laplace interval",
            profiled=tuple(profiles or ()) if profiles and len(profiles) < len(params) else (),
            free_parameters=fit.problem.free_parameters,
        ).figure
    else:
        figures["parameters"] = fit.result.plot_parameters().figure
    written += save_figures(figures, out)
    text = fit_report_markdown(
        fit, command_line=command_line, elapsed_s=elapsed_s, profiles=profiles
    )
    return [*written, *_write_report(out / "report.md", text)]


def plot_profiles(
    profiles: Mapping[str, Profile], units: Mapping[str, str] | None = None
):  # -> Figure
    """One panel per profile (:meth:`Profile.plot`), four to a row; *units* by parameter name
    label the axes."""
    import math

    import matplotlib.pyplot as plt

    n = len(profiles)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False, layout="constrained"
    )
    for ax, prof in zip(axes.flat, profiles.values(), strict=False):
        prof.plot(ax=ax, unit=(units or {}).get(prof.parameter))
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig


def selection_report_markdown(
    selection: ModelSelection,
    *,
    command_line: str | None = None,
    elapsed_s: float | None = None,
) -> str:
    """Markdown report of a model selection: data, starts, each variant judged against the
    data (σ over the replicate noise, claim-4 verdicts matched), the figure
    :func:`write_selection_outputs` writes beside it and :meth:`ModelSelection.report`.

    Parameters
    ----------
    selection
        A model selection (at least one fit).
    command_line, elapsed_s
        Shown in the report when given.

    Returns
    -------
    str
        The text of ``report.md``; it links ``selection.png``.
    """
    first = next(iter(selection.fits.values())).result
    setting = (
        f"Data: `{first.metadata.get('dataset')}`; {first.n_starts} starts per variant, "
        f"seed {first.seed}."
    )
    head = " ".join(filter(None, [setting, _duration(command_line, elapsed_s)]))
    lines = ["# paracrine model selection", "", head, ""]
    if "synthetic" in str(first.metadata.get("dataset", "")):
        lines += [_SYNTHETIC_NOTE, ""]
    first_fit = next(iter(selection.fits.values()))
    lines += [*_provenance(first_fit.problem.data, command_line, first.seed), ""]
    table = selection.table()
    lines += [
        "Each variant judged against the data: σ of the fit over the replicate noise "
        "(within noise when ≤ 1.25) and the combination verdicts (stronger, sustained, "
        "interaction) matched against the data's, per cell line × read-out.",
        "",
        "| variant | ΔAIC | Akaike weight | σ / replicate noise | within noise | verdicts matched |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples(index=False):
        lines.append(
            f"| `{row.variant}` | {row.delta_aic:.1f} | {row.akaike_weight:.3f} | "
            f"{row.sigma_ratio:.2f} | {'yes' if row.within_noise else 'no'} | "
            f"{row.verdicts_matched} |"
        )
    lines += ["", "![selection](selection.png)", ""]
    for name in table["variant"]:
        fit = selection.fits[name]
        if fit.result.best is not None:
            lines += [f"## `{name}`", "", *combination_section(fit, heading="###")[-3:-1], ""]
            lines += [f"![combination {name}](combination_{name}.png)", ""]
    lines += ["```", selection.report(), "```", ""]
    return "\n".join(lines)


def write_selection_outputs(
    selection: ModelSelection,
    out_dir: str | os.PathLike[str],
    *,
    command_line: str | None = None,
    elapsed_s: float | None = None,
) -> list[Path]:
    """Write a model selection to a folder, as ``paracrine select`` does.

    Parameters
    ----------
    selection
        A model selection.
    out_dir
        Folder (created if needed).
    command_line, elapsed_s
        Shown in ``report.md``.

    Returns
    -------
    list of Path
        ``fit_<variant>.json``, ``fit_simulation_<variant>.csv`` and
        ``combination_<variant>.csv``/``.png``/``.svg`` for every variant, ``selection.csv``
        (one row per variant: AIC/AICc/BIC, Akaike weights, σ against the replicate noise,
        combination verdicts matched), ``lrt.csv`` (likelihood-ratio tests, Wilks and
        chi-bar-square p), ``selection.png`` and ``.svg`` and ``report.md``.
    """
    out = selection.save(out_dir)
    written = []
    for name, fit in selection.fits.items():
        written.append(out / f"fit_{name}.json")
        if fit.result.best is not None:
            written.append(out / f"fit_simulation_{name}.csv")
            written += [out / f"combination_{name}{ext}" for ext in (".csv", ".png", ".svg")]
    written += [out / "selection.csv", out / "lrt.csv"]
    written += save_figures({"selection": selection.plot().figure}, out)
    text = selection_report_markdown(selection, command_line=command_line, elapsed_s=elapsed_s)
    return [*written, *_write_report(out / "report.md", text)]


def multistart_report_markdown(
    result: FitResult,
    *,
    title: str,
    command_line: str | None = None,
    elapsed_s: float | None = None,
    fit_figure: bool = False,
) -> str:
    """Short markdown report of a multistart fit of any problem (e.g. a PEtab problem): best
    nllh, hits, wall time, the waterfall and parameter figures (and with *fit_figure* the fit
    against the data) and :func:`text_report`.

    Parameters
    ----------
    result
        A multistart result.
    title
        What was fitted, e.g. the PEtab problem's name.
    command_line, elapsed_s
        Shown in the report when given.

    Returns
    -------
    str
        The text of ``report.md``.
    """
    r = result
    lines = [f"# paracrine fit — {title}", ""]
    head = _duration(command_line, elapsed_s)
    if head:
        lines += [head, ""]
    lines += [
        f"- best nllh **{r.nllh:.6f}** (AIC {r.aic:.1f}, BIC {r.bic:.1f}; k = {r.n_free})",
        f"- {r.n_hits(0.1)} of {len(r.starts)} starts within 0.1 of the best; {r.n_failed} "
        f"failed; wall time {r.wall_time_s:.2f} s; expected CPU time to reach the best "
        f"{r.expected_time_to_hit(0.1):.3f} s",
        "",
    ]
    if fit_figure:
        lines += [
            "## Fit over data",
            "",
            "Points: measurements; lines: the best fit's simulation (inner scalings, offsets "
            "and noise levels at their optimum), one colour per condition.",
            "",
            "![fit](fit.png)",
            "",
        ]
    lines += ["## Multistart waterfall", "", "![waterfall](waterfall.png)", ""]
    if r.best is not None:
        lines += ["## Parameters", "", "![parameters](parameters.png)", ""]
    lines += [
        "## Report",
        "",
        "```",
        text_report(r),
        "```",
        "",
        "Files: `fit.json` (reload with `paracrine.fitting.FitResult.from_json`)"
        + (
            "; `simulation.tsv` (PEtab simulation table at the best fit, with the measurements)"
            if fit_figure
            else ""
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def write_multistart_outputs(
    result: FitResult,
    out_dir: str | os.PathLike[str],
    *,
    title: str,
    command_line: str | None = None,
    elapsed_s: float | None = None,
    problem: Any = None,
) -> list[Path]:
    """Write a multistart result as ``paracrine petab fit --out`` does: ``fit.json``, the
    waterfall and parameter figures, the fit against the data and ``report.md``.

    Parameters
    ----------
    result
        A multistart result.
    out_dir
        Folder (created if needed).
    title, command_line, elapsed_s
        Shown in ``report.md`` (see :func:`multistart_report_markdown`).
    problem
        The fitted problem. A :class:`~paracrine.fitting.petab.PetabProblem` (anything with
        ``fit_table``) adds ``simulation.tsv`` (the PEtab simulation table at the best fit
        beside the measurements, inner parameters at their optimum) and the ``fit`` figure.

    Returns
    -------
    list of Path
        ``fit.json`` (:meth:`FitResult.to_json`), ``report.md`` and ``report.html``, then the
        other files written.

    Raises
    ------
    InvalidInputError
        If the result's metadata cannot be written as JSON (nothing is written then).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.to_json(out / "fit.json")
    written: list[Path] = []
    figures = {"waterfall": result.plot_waterfall().figure}
    if result.best is not None:
        figures["parameters"] = result.plot_parameters().figure
    has_fit = result.best is not None and hasattr(problem, "fit_table")
    if has_fit:
        from paracrine.fitting.plotting import plot_petab_fit

        table = problem.fit_table(result.x)
        table.to_csv(out / "simulation.tsv", sep="\t", index=False, float_format="%.8g")
        written.append(out / "simulation.tsv")
        log_obs = [o.id for o in problem.spec.observables if int(o.transform) != 0]
        figures["fit"] = plot_petab_fit(
            table, log_observables=log_obs, title=f"{title}: best fit (nllh {result.nllh:.4f})"
        )
    written += save_figures(figures, out)
    text = multistart_report_markdown(
        result, title=title, command_line=command_line, elapsed_s=elapsed_s, fit_figure=has_fit
    )
    report, html = _write_report(out / "report.md", text)  # report.html beside it
    return [out / "fit.json", report, html, *written]
