"""``paracrine petab nllh|fit|export``: likelihood and multistart fit of a PEtab (v1) problem;
export of a blot fitting problem to PEtab."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from paracrine.cli import _common
from paracrine.errors import InvalidInputError

__all__ = ["register", "run_export", "run_fit", "run_nllh"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``petab`` command (subcommands ``nllh``, ``fit``, ``export``) to *subparsers*."""
    petab = subparsers.add_parser(
        "petab",
        help="PEtab (v1) problems: likelihood at the nominal parameters, fits, export",
        description="Work with PEtab (v1) parameter-estimation problems.",
    )
    sub = petab.add_subparsers(dest="petab_command", required=True, metavar="SUBCOMMAND")

    nllh = sub.add_parser(
        "nllh",
        help="negative log-likelihood at the nominal parameters of the parameter table",
        description="Print the negative log-likelihood at the nominal parameters (tight "
        "integrator tolerances); the number is the last item of the line.",
    )
    nllh.add_argument("problem", metavar="PROBLEM.yaml", help="PEtab problem file")
    nllh.set_defaults(func=run_nllh)

    fit = sub.add_parser(
        "fit",
        help="multistart fit: best nllh, wall time, starts that reached it",
        description="Fit the estimated parameters from seeded Latin-hypercube starts and print "
        "the best nllh, the wall time and how many starts ended within 0.1 of the best; with "
        "--out, also write DIR/fit.json and DIR/report.md. Problems whose noise levels are "
        "solved analytically use the engine's defaults; the others one trust-region round at "
        "ftol 1e-6 with CVODE rtol 1e-8 (measured on Raia_CancerResearch2011).",
    )
    fit.add_argument("problem", metavar="PROBLEM.yaml", help="PEtab problem file")
    fit.add_argument(
        "--gradient",
        choices=("auto", "sensitivities", "fd"),
        default="auto",
        help="how the Jacobian differentiates the simulations: auto (default: forward "
        "sensitivities by CasADi + CVODES where the model allows them and they agree with and "
        "cost at most 10x finite differences, measured once before the fit), sensitivities, or "
        "fd (forward finite differences)",
    )
    _common.add_start_arguments(fit, starts=100)
    _common.add_executor_arguments(fit)
    _common.add_progress_argument(fit)
    fit.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="also write the result (fit.json) and report.md into DIR (default: print only)",
    )
    fit.set_defaults(func=run_fit)

    export = sub.add_parser(
        "export",
        help="write a blot fitting problem (variant + data) as a PEtab problem",
        description="Write the blot fitting problem of a variant and a data set (or of a saved "
        "fit) as a PEtab (v1) problem that passes petablint, and print its YAML file. Blot "
        "scales and noise levels become estimated parameters whose nominal values are their "
        "analytic optimum at the nominal kinetic parameters (the model's values, or the fit's).",
    )
    export.add_argument(
        "--variant",
        default=None,
        help=_common.variant_help("independent", "; not with --fit"),
    )
    export.add_argument(
        "--data",
        default=None,
        metavar="NAME_OR_CSV",
        help="bundled data set name or a blot CSV (default: reference_blots_synthetic, or the "
        "fit's data with --fit)",
    )
    export.add_argument(
        "--fit",
        default=None,
        metavar="FIT.json",
        help="a saved blot fit (paracrine fit): its problem, with its best parameters as nominal",
    )
    export.add_argument("--out", required=True, metavar="DIR", help="output folder")
    export.set_defaults(func=run_export)


def _read_measurements(path: Path, name: str) -> None:
    """Raise unless the ``measurement`` column of the table *path* holds numbers only."""
    import pandas as pd

    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError):
        return  # unreadable: the PEtab reader says why
    if "measurement" not in table.columns:
        return
    values = table["measurement"].str.strip()
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna() & ~values.str.lower().isin(("nan", ""))
    if bad.any():
        rows = [int(i) + 2 for i in bad[bad].index[:3]]  # file lines (header is line 1)
        shown = ", ".join(f"line {r}: {values.iloc[r - 2]!r}" for r in rows)
        raise InvalidInputError(
            f"{name}: measurement file {path.name!r}, column 'measurement': expected numbers, "
            f"received text in {int(bad.sum())} row(s) ({shown})"
        )


def _listed(config: dict) -> list[tuple[str, str]]:
    """``(key, file)`` of every file a PEtab v1 YAML lists (where the layout is as expected;
    the reader reports any other layout)."""

    def names(value) -> list[str]:
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    found = [("parameter_file", f) for f in names(config.get("parameter_file"))]
    problems = config.get("problems")
    for sub in problems if isinstance(problems, list) else []:
        if isinstance(sub, dict):
            for key in (
                "sbml_files",
                "condition_files",
                "measurement_files",
                "observable_files",
                "visualization_files",
            ):
                found += [(key, f) for f in names(sub.get(key))]
    return found


def _check_listed_files(path: Path, config: dict, name: str) -> None:
    """Raise unless every file the YAML lists is a text file beside it, and the measurement
    tables hold numbers."""
    for key, file in _listed(config):
        if "://" in file:  # a URL: the reader fetches it
            continue
        table = path.parent / file
        if not table.is_file():
            received = "a folder" if table.is_dir() else "a path that does not exist"
            raise InvalidInputError(
                f"{name}: {key} {file!r}: expected a file (relative to the YAML's folder), "
                f"received {received}"
            )
        try:
            with table.open("rb") as handle:
                handle.read(1 << 20).decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < (1 << 20) - 4:  # not a character cut at the end of the sample
                kind = "SBML (XML text)" if key == "sbml_files" else "a tab-separated text table"
                raise InvalidInputError(
                    f"{name}: {key} {file!r}: expected {kind}, received a binary file"
                ) from None
        if key == "measurement_files":
            _read_measurements(table, name)


def load_problem(path_text: str):  # -> paracrine.fitting.petab.PetabProblem
    """The PEtab problem of ``PROBLEM.yaml``, with the file checks the PEtab reader leaves
    to tracebacks (or to messages that do not name the file) done first: the path is a YAML
    text file, every file it lists exists beside it as text, and the measurement tables hold
    numbers. Every failure is one :class:`~paracrine.errors.InvalidInputError` (or the
    reader's :class:`~paracrine.errors.PetabError`) naming the file."""
    from paracrine.fitting import load_petab

    path = Path(path_text)
    name = f"PROBLEM.yaml {str(path)!r}"
    if path.is_dir():
        raise InvalidInputError(f"{name}: expected a PEtab problem file (YAML), received a folder")
    if path.is_file():
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(
                f"{name}: expected a PEtab problem file (YAML text), received a binary file"
            ) from None
        import yaml

        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InvalidInputError(
                f"{name}: expected valid YAML, received a syntax error{where} "
                f"({getattr(exc, 'problem', None) or type(exc).__name__})"
            ) from None
        if isinstance(config, dict):
            _check_listed_files(path, config, name)
    return load_petab(path)


def run_nllh(args: argparse.Namespace) -> int:
    """Print ``<name>: nllh at the nominal parameters <value>`` — the negative log-likelihood
    alone, the value the benchmark collection records — and, for a problem with objective
    priors, a second line with the negative log-posterior (nllh + negative log-prior), the
    quantity ``petab fit`` minimises."""
    problem = load_problem(args.problem)
    has_priors = bool(getattr(problem, "prior_parameter_names", ()))
    value = problem.nllh_nominal(priors=False) if has_priors else problem.nllh_nominal()
    print(f"{problem.name}: nllh at the nominal parameters {value:.6f}")
    if has_priors:
        posterior = problem.nllh_nominal(priors=True)
        print(
            f"{problem.name}: with the objective priors of {len(problem.prior_parameter_names)} "
            f"parameters (negative log-posterior, what petab fit minimises) {posterior:.6f}"
        )
    return 0


def run_fit(args: argparse.Namespace) -> int:
    """Fit and print the best nllh, the wall time and the number of hits (and with ``--out``
    write ``fit.json`` and ``report.md``)."""
    out = _common.check_fit_arguments(args)
    from paracrine.fitting import fit_multistart

    t0 = time.perf_counter()
    problem = load_problem(args.problem)
    if hasattr(problem, "gradient"):  # a PetabProblem (tests substitute toy problems)
        problem.gradient = args.gradient
    options = problem.configure_for_fitting()
    choice = getattr(problem, "gradient_choice", None)
    if choice is not None:
        print(f"{problem.name}: Jacobian by {choice.route} ({choice.reason})")

    def write(result) -> None:
        hits = result.n_hits(0.1)
        posterior = bool(getattr(problem, "prior_parameter_names", ()))
        print(
            f"{problem.name}: best nllh {result.nllh:.6f}"
            + (" (with the objective priors: the negative log-posterior)" if posterior else "")
        )
        print(f"wall time {result.wall_time_s:.2f} s")
        print(f"starts within 0.1 of the best: {hits} of {len(result.starts)}")
        print(f"expected CPU time to reach the best: {result.expected_time_to_hit(0.1):.3f} s")
        if out is not None:
            from paracrine.reports import write_multistart_outputs

            fit_json, report, *_ = write_multistart_outputs(
                result,
                _common.output_folder(out),
                title=f"PEtab problem `{problem.name}`",
                command_line=getattr(args, "command_line", None),
                elapsed_s=time.perf_counter() - t0,
                problem=problem,
            )
            print(f"wrote {fit_json}, {report} and figures")

    _common.interruptible_fit(
        args,
        out,
        lambda checkpoint: fit_multistart(
            problem, checkpoint=checkpoint, options=options, **_common.multistart_options(args)
        ),
        write,
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export the problem and print the path of its YAML file."""
    from paracrine.fitting import export_petab

    if args.fit is not None and args.variant is not None:
        raise InvalidInputError(
            f"--variant {args.variant!r} and --fit exclude each other: the fit fixes the variant"
        )
    out = _common.check_output_folder(args.out)
    if args.fit is not None:
        fit = _common.load_blot_fit(args.fit, data=args.data)
        problem, x = fit.problem, fit.x
    else:
        from paracrine.fitting import BlotProblem

        problem = BlotProblem(
            args.variant or "independent", args.data or "reference_blots_synthetic"
        )
        x = None
    print(export_petab(problem, _common.output_folder(out), x=x))
    return 0
