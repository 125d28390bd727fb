"""``paracrine fit``, ``paracrine demo`` and ``paracrine select``: multistart fits of blot time
courses (one variant, or every variant compared), written to a folder by
:mod:`paracrine.reports`."""

from __future__ import annotations

import argparse
import time

from paracrine.cli import _common

__all__ = ["DEMO_STARTS", "DEMO_VARIANT", "register", "run_fit", "run_select"]

#: Starts of the main job: what fits the 120-s budget on 2 cores with the 42-parameter demo
#: variant (two rounds of two starts: 57–77 s for seeds 0–2; six starts took 104–127 s).
#: With seeds 0–2 every run's best was within the replicate noise with all claim-4 verdicts
#: matched, none within 0.1 of the best known optimum (README, Performance).
DEMO_STARTS = 4
#: The variant the model selection on the bundled reference data supports (README, "What the
#: reference data say"): the demo fits it.
DEMO_VARIANT = "cooperation_saturation"


def _add_fit_arguments(
    p: argparse.ArgumentParser,
    *,
    starts: int,
    out: str,
    checkpoint: bool = True,
    variant: str | None = "independent",
) -> None:
    if variant is not None:
        p.add_argument("--variant", default=variant, help=_common.variant_help(variant))
    p.add_argument(
        "--data",
        default="reference_blots_synthetic",
        metavar="NAME_OR_CSV",
        help="bundled data set name or a blot CSV (default: reference_blots_synthetic, SYNTHETIC)",
    )
    p.add_argument(
        "--readout-map",
        default=None,
        metavar="CSV",
        help="a CSV with columns readout, observable mapping your read-out names to the "
        "model's (extends the bundled models/readout_map.csv, e.g. 'pERK1/2,pERK')",
    )
    _common.add_start_arguments(p, starts=starts)
    _common.add_executor_arguments(p, checkpoint=checkpoint)
    _common.add_progress_argument(p)
    p.add_argument("--out", default=out, metavar="DIR", help=f"output folder (default {out})")


def _readout_map(args: argparse.Namespace) -> dict:
    """``readout_map=`` for the problem when ``--readout-map`` is given (a CSV that exists)."""
    from pathlib import Path

    path = getattr(args, "readout_map", None)
    if path is None:
        return {}
    if not Path(path).is_file():
        from paracrine.errors import InvalidInputError

        raise InvalidInputError(
            f"--readout-map {path!r}: expected a CSV file (columns readout, observable), "
            "received " + ("a folder" if Path(path).is_dir() else "a path that does not exist")
        )
    return {"readout_map": path}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fit``, ``demo`` and ``select`` commands to *subparsers*."""
    fit = subparsers.add_parser(
        "fit",
        help="fit a model variant to phospho-blot time courses (multistart)",
        description="Fit a variant to blot time courses from seeded Latin-hypercube starts, with "
        "blot scale factors and the noise level solved analytically. Writes DIR/fit.json, "
        "DIR/fit_simulation.csv, figures and DIR/report.md.",
    )
    _add_fit_arguments(fit, starts=20, out="paracrine-fit")
    _add_profile_argument(fit)
    fit.set_defaults(func=run_fit)
    demo = subparsers.add_parser(
        "demo",
        help="the main job: fit the bundled (synthetic) reference blots, write figures and a report",
        description=f"Fit the variant the model selection supports ({DEMO_VARIANT}) to the "
        "bundled synthetic reference blots and write the fit, figures and report.md (led by the "
        "combination verdicts, data beside fit) — the same as `paracrine fit --variant "
        f"{DEMO_VARIANT}` with {DEMO_STARTS} starts.",
    )
    _add_fit_arguments(demo, starts=DEMO_STARTS, out="paracrine-demo", variant=DEMO_VARIANT)
    _add_profile_argument(demo)
    demo.set_defaults(func=run_fit)
    select = subparsers.add_parser(
        "select",
        help="fit every cross-talk variant to the same data and compare them (AIC, BIC, LRT)",
        description="Fit each variant with the same starts and seed; write DIR/selection.csv, "
        "DIR/lrt.csv, DIR/fit_<variant>.json, DIR/selection.png and DIR/report.md.",
    )
    # no --checkpoint: one checkpoint file cannot hold the fits of several variants; no
    # --variant (and no abbreviations, which would make --variant mean --variants)
    select.allow_abbrev = False
    _add_fit_arguments(select, starts=20, out="paracrine-select", checkpoint=False, variant=None)
    select.add_argument(
        "--variants",
        default=None,
        metavar="A,B,…",
        help="comma-separated variants among " + ", ".join(_variants()) + " (default: all)",
    )
    select.set_defaults(func=run_select)


def _add_profile_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        default=None,
        metavar="P,Q,…|all",
        help="after the fit, trace the likelihood profiles of these free parameters (names as "
        "in parameters.csv, e.g. 'k_jak_act,R6_tot[MCF-7]', or 'all'): their 95%% intervals "
        "replace the Laplace ones in parameters.csv and the report; writes profiles.csv and "
        "profiles.png (each point is a re-optimisation: ~1–5 min per parameter on the demo)",
    )


def _profiled_names(args: argparse.Namespace) -> list[str] | None:
    """The names ``--profile`` asks for, checked against the problem's free parameters before
    any fitting (None without ``--profile``)."""
    if getattr(args, "profile", None) is None:
        return None
    from paracrine.errors import InvalidInputError, UnknownNameError
    from paracrine.fitting import BlotProblem

    names = list(BlotProblem(args.variant, args.data, **_readout_map(args)).parameter_names)
    asked = [n.strip() for n in args.profile.split(",") if n.strip()]
    if asked == ["all"]:
        return names
    if not asked:
        raise InvalidInputError(
            "--profile: expected parameter names separated by commas, or 'all', received "
            f"{args.profile!r}"
        )
    for name in asked:
        if name not in names:
            raise UnknownNameError("--profile parameter", name, names)
    return list(dict.fromkeys(asked))


def _profiles(fit, names: list[str], *, progress: bool) -> tuple[dict, bool]:
    """Profiles of *names* at the fit, in order; on Ctrl-C the finished ones and True."""
    from tqdm.auto import tqdm

    from paracrine.fitting import profile

    done: dict = {}
    bar = tqdm(names, desc="profiles", unit="parameter", disable=not progress, leave=False)
    try:
        for name in bar:
            bar.set_postfix_str(name)
            done[name] = profile(fit.problem, fit.result.x, name)
    except KeyboardInterrupt:
        return done, True
    finally:
        bar.close()
    return done, False


def _variants() -> list[str]:
    from paracrine.models import list_variants

    return list_variants()


def run_fit(args: argparse.Namespace) -> int:
    """Fit, write the folder and print one summary line; exit status 1 if no start succeeded
    (130 on Ctrl-C: see :func:`~paracrine.cli._common.interruptible_fit`)."""
    out = _common.check_fit_arguments(args)
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.fitting import fit_blots
    from paracrine.reports import write_fit_outputs

    profiled = _profiled_names(args)
    t0 = time.perf_counter()

    def write(fit, profiles=None) -> None:
        write_fit_outputs(
            fit,
            _common.output_folder(out),
            command_line=getattr(args, "command_line", None),
            elapsed_s=time.perf_counter() - t0,
            profiles=profiles,
        )

    fit = _common.interruptible_fit(
        args,
        out,
        lambda checkpoint: fit_blots(
            args.variant,
            args.data,
            checkpoint=checkpoint,
            **_readout_map(args),
            **_common.multistart_options(args),
        ),
        write,
    )
    r = fit.result
    print(
        f"{args.variant}: best nllh {r.nllh:.3f}, {r.n_hits(0.1)}/{len(r.starts)} starts within 0.1, "
        f"{r.n_failed} failed, wall {r.wall_time_s:.1f} s; wrote {out / 'report.md'}"
    )
    if profiled and r.best is not None:
        profiles, interrupted = _profiles(fit, profiled, progress=args.progress)
        if profiles:
            write(fit, profiles)
        if interrupted:
            raise _common.Interrupted(
                f"interrupted while profiling: {len(profiles)} of {len(profiled)} profiles "
                f"kept in {out / 'profiles.csv'} (the fit is complete)"
                if profiles
                else "interrupted before any profile finished; the fit is written"
            )
        print(
            f"profiles: {len(profiles)} traced ("
            + ", ".join(f"{n} {p.verdict}" for n, p in profiles.items())
            + f"); wrote {out / 'profiles.csv'}"
        )
    return 0 if r.success else 1


def run_select(args: argparse.Namespace) -> int:
    """Fit every variant, write the folder and print the selection report."""
    out = _common.check_fit_arguments(args)
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.fitting import select_models
    from paracrine.reports import write_selection_outputs

    variants = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None
    t0 = time.perf_counter()
    # no checkpoint holds several variants' fits: Ctrl-C stops every variant, writes nothing
    with _common.stop_on_interrupt(
        "interrupted before every variant was fitted; nothing written (select keeps no "
        "checkpoint: fit fewer --variants, or each with 'paracrine fit --checkpoint')"
    ):
        selection = select_models(
            args.data, variants, **_readout_map(args), **_common.multistart_options(args)
        )
        write_selection_outputs(
            selection,
            _common.output_folder(out),
            command_line=getattr(args, "command_line", None),
            elapsed_s=time.perf_counter() - t0,
        )
    print(selection.report())
    return 0
