"""``paracrine simulate``: time courses of the paper's conditions, written as CSV and PNG."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from paracrine.cli import _common
from paracrine.errors import UnknownNameError
from paracrine.vocabulary import split_condition_label

__all__ = ["conditions_for", "register", "run_simulate"]

#: Doses of the arms when --il6/--vegf are not given (those of
#: :mod:`paracrine.simulations.conditions`, repeated here so that --help needs no import of
#: the simulation layer; a test checks they agree).
DEFAULT_IL6 = 50.0
DEFAULT_VEGF = 50.0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` command to *subparsers*."""
    from paracrine.models.targets import KNOCKOUT_TARGETS

    p = subparsers.add_parser(
        "simulate",
        help="simulate control, IL-6, VEGF and IL-6+VEGF for cell lines, with perturbations",
        description="Simulate the paper's four arms (control, IL-6, VEGF, IL-6+VEGF at the "
        "given doses) for 0–240 min from each cell line's unstimulated steady state, on the "
        "variant's default parameters or a saved blot fit (--fit); knockouts, antibodies and "
        "MSC-conditioned medium apply to every arm. Writes DIR/simulation.csv and "
        "DIR/timecourses.png/.svg.",
    )
    p.add_argument(
        "--variant",
        default=None,
        help=_common.variant_help("independent, or the fit's with --fit"),
    )
    p.add_argument(
        "--fit",
        default=None,
        metavar="FIT.json",
        help="a saved blot fit (paracrine fit): simulate its best-fit parameters",
    )
    p.add_argument(
        "--cell-line",
        action="append",
        dest="cell_lines",
        metavar="LINE",
        help=_common.cell_line_help(),
    )
    p.add_argument(
        "--il6",
        type=float,
        default=None,
        metavar="NG_PER_ML",
        help=f"IL-6 dose of the IL-6 and IL-6+VEGF arms (ng/mL, default {DEFAULT_IL6:g})",
    )
    p.add_argument(
        "--vegf",
        type=float,
        default=None,
        metavar="NG_PER_ML",
        help=f"VEGF-A165 dose of the VEGF and IL-6+VEGF arms (ng/mL, default {DEFAULT_VEGF:g})",
    )
    p.add_argument(
        "--knockout",
        action="append",
        default=None,
        metavar="TARGET",
        help="knock out TARGET in every arm (repeatable): " + ", ".join(KNOCKOUT_TARGETS),
    )
    p.add_argument(
        "--bevacizumab",
        type=float,
        default=None,
        metavar="UG_ML",
        help="bevacizumab (anti-VEGF) in every arm, µg/mL (pre-incubated with the ligands)",
    )
    p.add_argument(
        "--anti-il6",
        type=float,
        default=None,
        metavar="UG_ML",
        help="anti-IL-6 antibody in every arm, µg/mL (pre-incubated with the ligands)",
    )
    p.add_argument(
        "--msc-cm",
        type=float,
        default=None,
        metavar="FRACTION",
        help="fraction (0–1) of MSC-conditioned medium in every arm (brings its IL-6 and VEGF)",
    )
    p.add_argument("--out", default="paracrine-out", metavar="DIR", help="output folder")
    p.set_defaults(func=run_simulate)


def conditions_for(
    cell_lines: Iterable[str],
    il6: float | None,
    vegf: float | None,
    *,
    knockouts: Iterable[str] = (),
    bevacizumab_ug_ml: float = 0.0,
    anti_il6_ug_ml: float = 0.0,
    msc_cm_fraction: float = 0.0,
) -> list:
    """The conditions ``paracrine simulate`` runs, labelled ``"arm [line]"``: the paper's four
    arms for each line at the given doses (defaults where None), each with the knockouts,
    antibodies and MSC-CM fraction given."""
    from dataclasses import replace

    from paracrine.simulations import Knockout, arm_conditions

    perturbations = tuple(Knockout(t) for t in dict.fromkeys(knockouts))
    conds = arm_conditions(
        list(cell_lines),
        DEFAULT_IL6 if il6 is None else il6,
        DEFAULT_VEGF if vegf is None else vegf,
    )
    return [
        replace(
            c,
            perturbations=perturbations,
            bevacizumab_ug_ml=bevacizumab_ug_ml,
            anti_il6_ug_ml=anti_il6_ug_ml,
            msc_cm_fraction=msc_cm_fraction,
        )
        for c in conds
    ]


def run_simulate(args: argparse.Namespace) -> int:
    """Simulate, write ``simulation.csv`` and ``timecourses.png``/``.svg``, print what was
    written."""
    from paracrine.cli.perturb import check_dose, check_fraction

    check_dose(args.il6, "--il6")
    check_dose(args.vegf, "--vegf")
    check_dose(args.bevacizumab, "--bevacizumab", "µg/mL")
    check_dose(args.anti_il6, "--anti-il6", "µg/mL")
    check_fraction(args.msc_cm, "--msc-cm")
    out = _common.check_output_folder(args.out)
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.models import Model
    from paracrine.simulations import simulate

    if args.fit is not None:
        from paracrine.cli.perturb import load_model

        model = load_model(args.fit, args.variant)
    else:
        model = Model(args.variant or "independent")
    lines = list(dict.fromkeys(args.cell_lines or model.cell_lines))
    for line in lines:
        if line not in model.cell_lines:
            raise UnknownNameError("cell line", line, model.cell_lines)
    conditions = conditions_for(
        lines,
        args.il6,
        args.vegf,
        knockouts=args.knockout or (),
        bevacizumab_ug_ml=args.bevacizumab or 0.0,
        anti_il6_ug_ml=args.anti_il6 or 0.0,
        msc_cm_fraction=args.msc_cm or 0.0,
    )
    result = simulate(model, conditions)
    frame = result.to_dataframe()
    frame["condition"] = frame["condition"].map(lambda label: split_condition_label(label)[0])
    out = _common.output_folder(out)
    frame.to_csv(out / "simulation.csv", index=False, float_format="%.6g")
    fig = result.plot()
    fig.savefig(out / "timecourses.png", dpi=300)
    fig.savefig(out / "timecourses.svg")
    c = conditions[-1]  # the combination arm carries both doses
    added = [
        *(f"{t} KO" for t in dict.fromkeys(args.knockout or ())),
        *([f"bevacizumab {c.bevacizumab_ug_ml:g} µg/mL"] if c.bevacizumab_ug_ml else []),
        *([f"anti-IL-6 {c.anti_il6_ug_ml:g} µg/mL"] if c.anti_il6_ug_ml else []),
        *([f"MSC-CM fraction {c.msc_cm_fraction:g}"] if c.msc_cm_fraction else []),
    ]
    print(
        f"{model.variant}{' (' + str(args.fit) + ')' if args.fit else ''}: four arms at IL-6 "
        f"{c.il6_ng_ml:g} and VEGF {c.vegf_ng_ml:g} ng/mL"
        + (f", every arm with {', '.join(added)}" if added else "")
    )
    print(f"wrote {out / 'simulation.csv'} ({len(frame)} rows) and {out / 'timecourses.png'}")
    return 0
