"""``paracrine simulate``: time courses of the paper's conditions, written as CSV and PNG."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from paracrine.cli import _common
from paracrine.errors import InvalidInputError
from paracrine.vocabulary import CONTROL, condition_label, split_condition_label

__all__ = ["conditions_for", "register", "run_simulate"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` command to *subparsers*."""
    p = subparsers.add_parser(
        "simulate",
        help="simulate control, IL-6, VEGF and IL-6+VEGF (or given doses) for cell lines",
        description="Simulate time courses (0–240 min) from each cell line's unstimulated "
        "steady state; writes DIR/simulation.csv and DIR/timecourses.png.",
    )
    p.add_argument("--variant", default="independent", help="model variant (default: independent)")
    p.add_argument(
        "--cell-line",
        action="append",
        dest="cell_lines",
        metavar="LINE",
        help="cell line (repeatable; default: all of the model's lines)",
    )
    p.add_argument("--il6", type=float, default=None, metavar="NG_PER_ML", help="IL-6 dose (ng/mL)")
    p.add_argument(
        "--vegf", type=float, default=None, metavar="NG_PER_ML", help="VEGF-A165 dose (ng/mL)"
    )
    p.add_argument("--out", default="paracrine-out", metavar="DIR", help="output folder")
    p.set_defaults(func=run_simulate)


def conditions_for(cell_lines: Iterable[str], il6: float | None, vegf: float | None) -> list:
    """The conditions ``paracrine simulate`` runs, labelled ``"arm [line]"``: the paper's four
    arms for each line, or control and the given doses when ``--il6``/``--vegf`` are given."""
    from paracrine.simulations import Condition, arm_conditions

    lines = list(cell_lines)
    if il6 is None and vegf is None:
        return arm_conditions(lines)
    dose = f"IL-6 {il6 or 0:g} + VEGF {vegf or 0:g} ng/mL"
    conds = []
    for line in lines:
        conds += [
            Condition(condition_label(CONTROL, line), line),
            Condition(
                condition_label(dose, line), line, il6_ng_ml=il6 or 0.0, vegf_ng_ml=vegf or 0.0
            ),
        ]
    return conds


def run_simulate(args: argparse.Namespace) -> int:
    """Simulate, write ``simulation.csv`` and ``timecourses.png``/``.svg``, print what was
    written."""
    for dose, flag in ((args.il6, "--il6"), (args.vegf, "--vegf")):
        if dose is not None and not dose >= 0:
            raise InvalidInputError(f"{flag}: expected a dose >= 0 ng/mL, received {dose}")
    out = _common.output_folder(args.out)
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.models import Model
    from paracrine.simulations import simulate

    model = Model(args.variant)
    lines = args.cell_lines or list(model.cell_lines)
    result = simulate(model, conditions_for(lines, args.il6, args.vegf))
    frame = result.to_dataframe()
    frame["condition"] = frame["condition"].map(lambda label: split_condition_label(label)[0])
    frame.to_csv(out / "simulation.csv", index=False, float_format="%.6g")
    fig = result.plot()
    fig.savefig(out / "timecourses.png", dpi=120)
    fig.savefig(out / "timecourses.svg")
    print(f"wrote {out / 'simulation.csv'} ({len(frame)} rows) and {out / 'timecourses.png'}")
    return 0
