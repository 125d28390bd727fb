"""``paracrine petab nllh|fit|export``: likelihood and multistart fit of a PEtab (v1) problem;
export of a blot fitting problem to PEtab."""

from __future__ import annotations

import argparse
import os

from paracrine.errors import InvalidInputError


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
        "the best nllh, the wall time and how many starts ended within 0.1 of the best. "
        "Problems whose noise levels are solved analytically use the engine's defaults; the "
        "others one trust-region round at ftol 1e-6 with CVODE rtol 1e-8 (measured on "
        "Raia_CancerResearch2011).",
    )
    fit.add_argument("problem", metavar="PROBLEM.yaml", help="PEtab problem file")
    fit.add_argument("--starts", type=int, default=100, metavar="N", help="starts (default 100)")
    fit.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    fit.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="W",
        help="local worker processes (default: one per CPU; 1 = in this process)",
    )
    fit.add_argument("--progress", action="store_true", help="show a progress bar")
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
        "--variant", default=None, help="model variant (default: independent; not with --fit)"
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


def run_nllh(args: argparse.Namespace) -> int:
    """Print ``<name>: nllh at the nominal parameters <value>``."""
    from paracrine.fitting.petab_problem import load_petab

    problem = load_petab(args.problem)
    value = problem.nllh_nominal()
    print(f"{problem.name}: nllh at the nominal parameters {value:.6f}")
    return 0


def run_fit(args: argparse.Namespace) -> int:
    """Fit and print the best nllh, the wall time and the number of hits."""
    # One BLAS thread per process: the local optimiser takes many SVDs of small Jacobians
    # (e.g. 410 × 39 for Raia_CancerResearch2011), which take ~0.5 ms on one thread but 20 ms
    # (median) to 0.9 s with two OpenBLAS threads competing with the worker processes on a
    # 2-core machine (measured). Set before numpy is first imported (the command line has not
    # imported it yet); spawned workers inherit it. An explicit user setting is kept.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    from paracrine.fitting.engine import fit_multistart
    from paracrine.fitting.petab_problem import load_petab

    if args.starts < 1:
        raise InvalidInputError(f"--starts: expected an integer ≥ 1, received {args.starts}")
    problem = load_petab(args.problem)
    options = problem.configure_for_fitting()
    result = fit_multistart(
        problem,
        n_starts=args.starts,
        seed=args.seed,
        workers=args.workers,
        progress=args.progress,
        options=options,
    )
    hits = result.n_hits(0.1)
    print(f"{problem.name}: best nllh {result.nllh:.6f}")
    print(f"wall time {result.wall_time_s:.2f} s")
    print(f"starts within 0.1 of the best: {hits} of {len(result.starts)}")
    print(f"expected CPU time to reach the best: {result.expected_time_to_hit(0.1):.3f} s")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export the problem and print the path of its YAML file."""
    from paracrine.fitting.petab_export import export_petab

    if args.fit is not None:
        from paracrine.fitting.blotfit import BlotFit

        if args.variant is not None:
            raise InvalidInputError(
                f"--variant {args.variant!r} and --fit exclude each other: the fit fixes the variant"
            )
        fit = BlotFit.load(args.fit, data=args.data)
        problem, x = fit.problem, fit.x
    else:
        from paracrine.fitting.problem import BlotProblem

        problem = BlotProblem(
            args.variant or "independent", args.data or "reference_blots_synthetic"
        )
        x = None
    print(export_petab(problem, args.out, x=x))
    return 0
