"""``paracrine knockout`` and ``paracrine antibody``: knockout screens and antibody sweeps on
default parameters or a saved blot fit, written as tidy CSV and PNG (300 dpi) + SVG figures."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np

from paracrine.cli import _common
from paracrine.errors import InvalidInputError, UnknownNameError

__all__ = [
    "GRID_HELP",
    "PNG_DPI",
    "check_dose",
    "check_fraction",
    "load_model",
    "parse_grid",
    "parse_targets",
    "register",
    "run_antibody",
    "run_knockout",
]

#: Resolution of the PNG figures (an SVG is written beside each).
PNG_DPI = 300
#: The dose-grid syntax, as --help states it.
GRID_HELP = (
    "START:STOP:N in µg/mL: N doses, log-spaced from START to STOP when START > 0; when "
    "START is 0, dose 0 followed by N-1 log-spaced doses from STOP/1000 to STOP (only STOP when "
    "N = 2; e.g. 0:1000:9 "
    "= 0, 1, 2.7, 7.2, 19, 52, 139, 373, 1000); START:START:1 is the single dose START. The "
    "no-antibody response is always simulated, so a grid from START > 0 loses nothing"
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)"
_GRID = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*:\s*([-+]?\d+)\s*$", re.IGNORECASE)


# -- argument checks (cheap, before any model is built) ------------------------------------------
def check_fraction(value: float | None, flag: str) -> None:
    """Raise unless *value* is None or a fraction in [0, 1]."""
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidInputError(f"{flag}: expected a fraction in [0, 1], received {value:g}")


def check_dose(value: float | None, flag: str, unit: str = "ng/mL") -> None:
    """Raise unless *value* is None or a finite dose >= 0."""
    if value is not None and not (math.isfinite(value) and value >= 0.0):
        raise InvalidInputError(f"{flag}: expected a finite dose >= 0 {unit}, received {value:g}")


def parse_grid(text: str, flag: str) -> np.ndarray:
    """Doses of a ``START:STOP:N`` grid (:data:`GRID_HELP`).

    Raises
    ------
    InvalidInputError
        Malformed text, negative or non-finite bounds, START > STOP, N < 1, or a grid that
        cannot hold N distinct doses.
    """
    match = _GRID.match(text)
    if match is None:
        raise InvalidInputError(
            f"{flag}: expected START:STOP:N (two doses in µg/mL and a count, e.g. 0:1000:9), "
            f"received {text!r}"
        )
    start, stop, n = float(match.group(1)), float(match.group(2)), int(match.group(3))
    for name, value in (("START", start), ("STOP", stop)):
        if not (math.isfinite(value) and value >= 0):
            raise InvalidInputError(
                f"{flag} {text!r}: expected {name} to be a finite dose >= 0 µg/mL, received "
                f"{value:g}"
            )
    if n < 1:
        raise InvalidInputError(f"{flag} {text!r}: expected N >= 1 doses, received {n}")
    if start > stop:
        raise InvalidInputError(
            f"{flag} {text!r}: expected START <= STOP, received a reversed grid ({start:g} > "
            f"{stop:g})"
        )
    if stop == 0:
        raise InvalidInputError(
            f"{flag} {text!r}: expected STOP > 0 µg/mL, received an empty grid (0 to 0)"
        )
    if start == stop:
        if n != 1:
            raise InvalidInputError(
                f"{flag} {text!r}: expected N = 1 when START = STOP, received N = {n} (the "
                "doses would repeat)"
            )
        return np.array([start])
    if start == 0:
        if n < 2:
            raise InvalidInputError(
                f"{flag} {text!r}: expected N >= 2 when START is 0 (dose 0 and at least one "
                f"positive dose), received N = {n}"
            )
        positive = np.array([stop]) if n == 2 else np.geomspace(stop / 1000.0, stop, n - 1)
        return np.concatenate(([0.0], positive))
    if n < 2:
        raise InvalidInputError(
            f"{flag} {text!r}: expected N >= 2 for START < STOP, received N = 1 (use "
            "START:START:1 for one dose)"
        )
    return np.geomspace(start, stop, n)


def parse_targets(text: str | None, knockdown: float | None) -> list | None:
    """The perturbations of ``--targets A,B`` (None: the full screen); unknown names raise
    :class:`~paracrine.errors.UnknownNameError` with the closest names."""
    from paracrine.simulations.knockouts import screen_perturbations

    if text is None:
        return screen_perturbations(None, knockdown)
    names = [t.strip() for t in text.split(",")]
    if not names or any(not t for t in names):
        raise InvalidInputError(
            f"--targets: expected comma-separated target names (e.g. VEGFR2,gp130), received "
            f"{text!r}"
        )
    return screen_perturbations(names, knockdown)


def load_model(fit: str | None, variant: str | None):  # -> paracrine.models.Model
    """The model to perturb: the fitted model of a saved blot fit (``--fit``), else the
    variant's default parameters (default variant: the demo's)."""
    from paracrine.models import Model

    if fit is None:
        from paracrine.cli.fit import DEMO_VARIANT

        return Model(variant or DEMO_VARIANT)
    if variant is not None:
        Model(variant)  # an unknown --variant is reported as such, before the fit is read
    path = Path(fit)
    model = _common.load_blot_fit(path).model
    if variant is not None and model.variant != variant:
        raise InvalidInputError(
            f"--fit {str(path)!r} is a fit of variant {model.variant!r}, but --variant is "
            f"{variant!r}: give a fit of that variant, or drop --variant"
        )
    return model


def _save(fig, out: Path, name: str) -> list[Path]:
    from paracrine.reports import save_figures

    return save_figures({name: fig}, out)


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fit",
        default=None,
        metavar="FIT.json",
        help="a saved blot fit (paracrine fit/demo): perturb the fitted model",
    )
    p.add_argument(
        "--variant",
        default=None,
        help=_common.variant_help(
            "the demo's, cooperation_saturation", "; with --fit it must match the fit's"
        ),
    )


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="W",
        help="local processes (default: in this process, fastest for these short batches)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://host:8786 (instead of --workers)",
    )
    _common.add_progress_argument(p, "of the simulations")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``knockout`` and ``antibody`` commands to *subparsers*."""
    ko = subparsers.add_parser(
        "knockout",
        help="knockout screen: which nodes carry the stronger and the sustained combination "
        "response",
        description="Knock out (or down) each protein and fully inhibit each drug target in "
        "turn, simulate control, IL-6, VEGF and IL-6+VEGF, and rank the perturbations by how "
        "much of the combination's benefit over the best single ligand they remove. Folds are "
        "over the unperturbed cell's basal level. Writes DIR/knockouts.csv (tidy: cell_line, "
        "perturbation, target, kind, arm, readout, metric, value, unperturbed, "
        "relative_change, …), DIR/knockout_ranking.csv and DIR/knockouts.png/.svg.",
    )
    _add_model_arguments(ko)
    ko.add_argument(
        "--cell-line",
        action="append",
        dest="cell_lines",
        metavar="LINE",
        help=_common.cell_line_help("MCF-7"),
    )
    which = ko.add_mutually_exclusive_group()
    which.add_argument(
        "--targets",
        default=None,
        metavar="A,B",
        help="comma-separated targets: 'X' or 'X KO' (knockout), 'X inhibitor' (e.g. VEGFR2,"
        "gp130,'MEK inhibitor')",
    )
    which.add_argument(
        "--screen",
        action="store_true",
        help="every knockout target and every inhibitor (the default)",
    )
    ko.add_argument(
        "--knockdown",
        type=float,
        default=None,
        metavar="FRACTION",
        help="knock down to this fraction remaining instead of knocking out (inhibitors leave "
        "the same fraction of activity)",
    )
    ko.add_argument("--il6", type=float, default=50.0, metavar="NG_PER_ML", help="IL-6 (50)")
    ko.add_argument("--vegf", type=float, default=50.0, metavar="NG_PER_ML", help="VEGF (50)")
    _add_run_arguments(ko)
    ko.set_defaults(func=run_knockout)

    ab = subparsers.add_parser(
        "antibody",
        help="bevacizumab / anti-IL-6 dose sweeps against ligand or MSC-CM; IC50s",
        description="Sweep bevacizumab and/or an anti-IL-6 antibody (pre-incubated with the "
        "ligands) against recombinant ligand or MSC-conditioned medium. Without --il6, --vegf "
        "and --msc-cm each antibody is swept against its own ligand at 50 ng/mL; otherwise "
        "against the ligands given. Writes DIR/antibody.csv (tidy sweep), DIR/antibody_ic50.csv "
        "(simulated IC50 beside the binding-equilibrium predictions), DIR/antibody_<name>.png"
        "/.svg, and with both antibodies under MSC-CM DIR/antibody_matrix.csv/.png/.svg. "
        f"Grids: {GRID_HELP}.",
    )
    _add_model_arguments(ab)
    ab.add_argument(
        "--cell-line",
        default="MCF-7",
        metavar="LINE",
        help=_common.cell_line_help("MCF-7").replace("repeatable; ", ""),
    )
    ab.add_argument(
        "--bevacizumab",
        default=None,
        metavar="START:STOP:N",
        help="bevacizumab dose grid (µg/mL; syntax above)",
    )
    ab.add_argument(
        "--anti-il6",
        default=None,
        metavar="START:STOP:N",
        help="anti-IL-6 dose grid (µg/mL; syntax above)",
    )
    ab.add_argument(
        "--msc-cm",
        type=float,
        default=None,
        metavar="FRACTION",
        help="fraction of MSC-conditioned medium (0–1)",
    )
    ab.add_argument(
        "--msc-cm-il6",
        type=float,
        default=None,
        metavar="NG_PER_ML",
        help="IL-6 in undiluted MSC-CM (default: the assumed value of paracrine.simulations."
        "units, MSC_CM_IL6_NG_ML)",
    )
    ab.add_argument(
        "--msc-cm-vegf",
        type=float,
        default=None,
        metavar="NG_PER_ML",
        help="VEGF in undiluted MSC-CM (default: the assumed MSC_CM_VEGF_NG_ML)",
    )
    ab.add_argument("--il6", type=float, default=None, metavar="NG_PER_ML", help="IL-6 (ng/mL)")
    ab.add_argument("--vegf", type=float, default=None, metavar="NG_PER_ML", help="VEGF (ng/mL)")
    ab.add_argument(
        "--metric",
        default="peak",
        choices=("peak", "auc", "late"),
        help="metric of the figures (all three are in the CSVs; default peak)",
    )
    _add_run_arguments(ab)
    ab.set_defaults(func=run_antibody)


# -- commands ---------------------------------------------------------------------------------
def run_knockout(args: argparse.Namespace) -> int:
    """Run the screen per cell line; write knockouts.csv, knockout_ranking.csv and the
    figure; print the perturbations that remove most of the combination benefit."""
    check_fraction(args.knockdown, "--knockdown")
    check_dose(args.il6, "--il6")
    check_dose(args.vegf, "--vegf")
    _common.check_executor(args.workers, args.scheduler)
    perts = parse_targets(args.targets, args.knockdown)
    out = _common.check_output_folder(args.out)
    _common.check_scheduler(args.scheduler)
    model = load_model(args.fit, args.variant)
    lines = list(dict.fromkeys(args.cell_lines or ["MCF-7"]))
    for line in lines:
        if line not in model.cell_lines:
            raise UnknownNameError("cell line", line, model.cell_lines)
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from paracrine.simulations.knockouts import knockout_screen, plot_knockout_screens

    screens = [
        knockout_screen(
            model,
            cell_line=line,
            targets=perts,
            il6_ng_ml=args.il6,
            vegf_ng_ml=args.vegf,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=args.progress,
        )
        for line in lines
    ]
    table = pd.concat([s.to_dataframe() for s in screens], ignore_index=True)
    out = _common.output_folder(out)
    table.to_csv(out / "knockouts.csv", index=False, float_format="%.6g")
    ranking = pd.concat(
        [s.ranking(None, q) for s in screens for q in ("stronger", "sustained")],
        ignore_index=True,
    )
    ranking.to_csv(out / "knockout_ranking.csv", index=False, float_format="%.6g")
    written = _save(plot_knockout_screens(screens), out, "knockouts")
    for s in screens:
        for q in ("stronger", "sustained"):
            top = s.ranking(None, q).head(3)
            shown = ", ".join(
                f"{p} ({100 * f:.0f}%)" if np.isfinite(f) else p
                for p, f in zip(top["perturbation"], top["fraction_removed"], strict=True)
            )
            readouts = top["readouts"].iloc[0] if len(top) else ""
            print(
                f"{s.cell_line} ({model.variant}), {q}: "
                + (
                    f"most benefit removed (mean over {readouts}) by {shown}"
                    if readouts
                    else "no read-out has a combination benefit ≥ 0.2 fold to remove"
                )
            )
        if s.failures:
            print(f"{s.cell_line}: {len(s.failures)} simulations failed (NaN in the table)")
    failed = sum(len(s.failures) for s in screens)
    print(
        f"wrote {out / 'knockouts.csv'} ({len(table)} rows), {out / 'knockout_ranking.csv'}, "
        f"{', '.join(str(p) for p in written)}" + (f"; {failed} failed" if failed else "")
    )
    return 0


def run_antibody(args: argparse.Namespace) -> int:
    """Run the sweeps (and the matrix under MSC-CM); write antibody.csv, antibody_ic50.csv,
    figures; print the IC50s beside their predictions."""
    check_fraction(args.msc_cm, "--msc-cm")
    for value, flag in (
        (args.il6, "--il6"),
        (args.vegf, "--vegf"),
        (args.msc_cm_il6, "--msc-cm-il6"),
        (args.msc_cm_vegf, "--msc-cm-vegf"),
    ):
        check_dose(value, flag)
    grids = {}
    if args.bevacizumab is not None:
        grids["bevacizumab"] = parse_grid(args.bevacizumab, "--bevacizumab")
    if args.anti_il6 is not None:
        grids["anti-IL-6"] = parse_grid(args.anti_il6, "--anti-il6")
    if not grids:
        raise InvalidInputError(
            "expected --bevacizumab and/or --anti-il6 (START:STOP:N), received neither"
        )
    _common.check_executor(args.workers, args.scheduler)
    out = _common.check_output_folder(args.out)
    _common.check_scheduler(args.scheduler)
    model = load_model(args.fit, args.variant)
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from paracrine.simulations.antibodies import antibody_matrix, antibody_sweep
    from paracrine.simulations.conditions import DEFAULT_IL6_NG_ML, DEFAULT_VEGF_NG_ML

    own_ligand = args.il6 is None and args.vegf is None and args.msc_cm is None
    msc = {
        "msc_cm_fraction": args.msc_cm or 0.0,
        "msc_cm_il6_ng_ml": args.msc_cm_il6,
        "msc_cm_vegf_ng_ml": args.msc_cm_vegf,
    }
    run = {"workers": args.workers, "scheduler": args.scheduler, "progress": args.progress}
    sweeps = []
    for name, doses in grids.items():
        if own_ligand:
            ligands = (
                {"vegf_ng_ml": DEFAULT_VEGF_NG_ML}
                if name == "bevacizumab"
                else {"il6_ng_ml": DEFAULT_IL6_NG_ML}
            )
        else:
            ligands = {"il6_ng_ml": args.il6 or 0.0, "vegf_ng_ml": args.vegf or 0.0}
        sweeps.append(
            antibody_sweep(
                model,
                name,
                doses,
                cell_line=args.cell_line,
                metric=args.metric,
                **ligands,
                **msc,
                **run,
            )
        )
    written = []
    table = pd.concat([s.to_dataframe() for s in sweeps], ignore_index=True)
    out = _common.output_folder(out)
    table.to_csv(out / "antibody.csv", index=False, float_format="%.6g")
    ic50 = pd.concat([s.ic50_table() for s in sweeps], ignore_index=True)
    ic50.to_csv(out / "antibody_ic50.csv", index=False, float_format="%.6g")
    written += [out / "antibody.csv", out / "antibody_ic50.csv"]
    for s in sweeps:
        written += _save(s.plot(args.metric), out, f"antibody_{s.antibody}")
        print(s.describe())
        rows = ic50[(ic50["antibody"] == s.antibody) & (ic50["metric"] == args.metric)]
        for row in rows.itertuples():
            if np.isfinite(row.ic50_ug_ml):
                print(
                    f"  {row.readout} {args.metric}: IC50 {row.ic50_ug_ml:.3g} µg/mL, predicted "
                    f"{row.predicted_ic50_ug_ml:.3g} (equilibrium × ligand dose–response), "
                    f"free-ligand IC50 {row.free_ligand_ic50_ug_ml:.3g}"
                )
            else:
                print(f"  {row.readout} {args.metric}: no IC50: {row.ic50_note}")
    if len(grids) == 2 and (args.msc_cm or 0.0) > 0:
        matrix = antibody_matrix(
            model,
            grids["bevacizumab"],
            grids["anti-IL-6"],
            cell_line=args.cell_line,
            il6_ng_ml=args.il6 or 0.0,
            vegf_ng_ml=args.vegf or 0.0,
            **msc,
            **run,
        )
        frame = matrix.to_dataframe()
        frame.to_csv(out / "antibody_matrix.csv", index=False, float_format="%.6g")
        written.append(out / "antibody_matrix.csv")
        written += _save(matrix.plot(args.metric), out, "antibody_matrix")
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
