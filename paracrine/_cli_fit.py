"""``paracrine fit`` and ``paracrine demo``: multistart fits of blot time courses, with the
fit, its figures and a report written to a folder."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from paracrine.errors import InvalidInputError

#: Starts of the main job: enough for the best optimum to be found several times on 2 cores
#: within the 120-s budget (see benchmarks/bench_fit.py for the measured hit fraction).
DEMO_STARTS = 16


def _limit_blas_threads() -> None:
    # One BLAS thread per process: the optimiser's SVDs of small Jacobians (936 × 25 here) are
    # many times slower when two OpenBLAS threads compete with the worker processes on a
    # 2-core machine (measured on the PEtab problems). Set before numpy is first imported by
    # this command (spawned workers inherit it); an explicit user setting is kept.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _add_fit_arguments(p: argparse.ArgumentParser, *, starts: int, out: str) -> None:
    p.add_argument("--variant", default="independent", help="model variant (default: independent)")
    p.add_argument(
        "--data",
        default="reference_blots_synthetic",
        metavar="NAME_OR_CSV",
        help="bundled data set name or a blot CSV (default: reference_blots_synthetic, SYNTHETIC)",
    )
    p.add_argument(
        "--starts", type=int, default=starts, metavar="N", help=f"multistarts (default {starts})"
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the start points (default 0)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="W",
        help="local processes (default: one per CPU; 1 = in-process)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address (instead of --workers)",
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        metavar="FILE",
        help="resume from / append finished starts to FILE",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", default=out, metavar="DIR", help=f"output folder (default {out})")


def register(subparsers: argparse._SubParsersAction) -> None:
    fit = subparsers.add_parser(
        "fit",
        help="fit a model variant to phospho-blot time courses (multistart)",
        description="Fit a variant to blot time courses from seeded Latin-hypercube starts, with "
        "blot scale factors and the noise level solved analytically. Writes DIR/fit.json, "
        "DIR/fit_simulation.csv, figures and DIR/report.md.",
    )
    _add_fit_arguments(fit, starts=20, out="paracrine-fit")
    fit.set_defaults(func=run_fit)
    demo = subparsers.add_parser(
        "demo",
        help="the main job: fit the bundled (synthetic) reference blots, write figures and a report",
        description="Fit the null model (independent convergence) to the bundled synthetic "
        "reference blots and write the fit, figures and report.md — the same as `paracrine fit` "
        f"with {DEMO_STARTS} starts.",
    )
    _add_fit_arguments(demo, starts=DEMO_STARTS, out="paracrine-demo")
    demo.set_defaults(func=run_fit)
    select = subparsers.add_parser(
        "select",
        help="fit every cross-talk variant to the same data and compare them (AIC, BIC, LRT)",
        description="Fit each variant with the same starts and seed; write DIR/selection.csv, "
        "DIR/lrt.csv, DIR/fit_<variant>.json, DIR/selection.png and DIR/report.md.",
    )
    _add_fit_arguments(select, starts=20, out="paracrine-select")
    select.add_argument(
        "--variants", default=None, metavar="A,B,…", help="comma-separated variants (default: all)"
    )
    select.set_defaults(func=run_select)


def run_fit(args: argparse.Namespace) -> int:
    _limit_blas_threads()
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.fitting.blotfit import fit_blots

    if args.starts < 1:
        raise InvalidInputError(f"--starts: expected an integer >= 1, received {args.starts}")
    if args.scheduler and args.workers:
        raise InvalidInputError("--workers and --scheduler exclude each other: give one")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fit = fit_blots(
        args.variant,
        args.data,
        n_starts=args.starts,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        checkpoint=args.checkpoint,
    )
    write_outputs(fit, out, command=f"paracrine {args.command}", t0=t0)
    r = fit.result
    print(
        f"{args.variant}: best nllh {r.nllh:.3f}, {r.n_hits(0.1)}/{len(r.starts)} starts within 0.1, "
        f"{r.n_failed} failed, wall {r.wall_time_s:.1f} s; wrote {out / 'report.md'}"
    )
    return 0 if r.success else 1


def write_outputs(fit, out: Path, *, command: str, t0: float) -> None:
    """fit.json, fit_simulation.csv, figures (PNG + SVG) and report.md for one fit."""
    import matplotlib.pyplot as plt

    fit.save(out / "fit.json")
    figures = {}
    if fit.result.best is not None:
        fit.fit_simulation_frame().to_csv(
            out / "fit_simulation.csv", index=False, float_format="%.6g"
        )
        figures["fit"] = fit.plot_fit()
        figures["residuals"] = fit.plot_residuals()
    figures["waterfall"] = fit.result.plot_waterfall().figure
    figures["parameters"] = fit.result.plot_parameters().figure
    for name, fig in figures.items():
        fig.savefig(out / f"{name}.png", dpi=110)
        fig.savefig(out / f"{name}.svg")
        plt.close(fig)
    (out / "report.md").write_text(
        report_markdown(fit, command, time.perf_counter() - t0), encoding="utf-8"
    )


def report_markdown(fit, command: str, elapsed_s: float) -> str:
    r = fit.result
    meta = r.metadata
    lines = [
        f"# paracrine fit — variant `{fit.problem.model.variant}`",
        "",
        f"Data: `{meta.get('dataset')}` ({r.n_data} bands on {len(fit.problem.blots)} blots, "
        f"{len(fit.problem.conditions)} conditions). Command: `{command}`; total {elapsed_s:.1f} s.",
        "",
    ]
    if "synthetic" in str(meta.get("dataset", "")):
        lines += [
            "> The bundled data are **SYNTHETIC** (paper-shaped, generated from a phenomenological "
            "template, not measured): see `data/README.md` in the repository "
            "(installed as `paracrine/data/README.md`).",
            "",
        ]
    lines += [
        f"- best nllh **{r.nllh:.3f}** (AIC {r.aic:.1f}, BIC {r.bic:.1f}; k = {r.n_free} incl. "
        f"{r.n_inner_parameters} blot scales/noise levels solved analytically)",
        f"- {r.n_hits(0.1)} of {len(r.starts)} starts within 0.1 of the best; {r.n_failed} failed; "
        f"fit wall time {r.wall_time_s:.1f} s",
    ]
    if r.best is not None:
        lines += [
            f"- reproduces claim 4 (IL-6+VEGF peak and 120-min level above both single ligands, "
            f"for pERK, pAKT, p38 in every line): **{'yes' if fit.reproduces_claim4() else 'no'}**",
            "",
            "## Fit over data",
            "",
            "![fit](fit.png)",
            "",
            "## Residuals",
            "",
            "![residuals](residuals.png)",
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
        "(best-fit time courses, 0–240 min every 5 min), figures as PNG and SVG.",
        "",
    ]
    return "\n".join(lines)


def run_select(args: argparse.Namespace) -> int:
    _limit_blas_threads()
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.fitting.selection import select_models

    if args.starts < 1:
        raise InvalidInputError(f"--starts: expected an integer >= 1, received {args.starts}")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None
    t0 = time.perf_counter()
    selection = select_models(
        args.data,
        variants,
        n_starts=args.starts,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
    )
    out = selection.save(args.out)
    ax = selection.plot()
    ax.figure.savefig(out / "selection.png", dpi=110)
    ax.figure.savefig(out / "selection.svg")
    text = selection.report()
    (out / "report.md").write_text(
        "# paracrine model selection\n\n"
        f"Data: `{args.data}`; {args.starts} starts per variant, seed {args.seed}; "
        f"{time.perf_counter() - t0:.1f} s.\n\n![selection](selection.png)\n\n```\n{text}\n```\n",
        encoding="utf-8",
    )
    print(text)
    return 0
