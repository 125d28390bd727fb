"""``paracrine sweep``, ``paracrine ensemble`` and ``paracrine migrate``: dose–response and
synergy maps, parameter ensembles with prediction bands, and the migration read-out."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from paracrine.cli import _common
from paracrine.cli.perturb import check_dose, load_model, parse_grid
from paracrine.errors import FitError, InvalidInputError

__all__ = ["register", "run_ensemble", "run_migrate", "run_sweep"]

_SWEEP_METRICS = ("peak", "auc", "sustained")
_SYNERGY = ("bliss", "hsa", "loewe", "zip")


def _save(fig, out: Path, name: str) -> list[Path]:
    from paracrine.reports import save_figures

    return save_figures({name: fig}, out)


def _names(text: str | None, allowed: tuple[str, ...], flag: str) -> tuple[str, ...]:
    from paracrine.errors import UnknownNameError

    if text is None:
        return allowed
    names = tuple(t.strip() for t in text.split(","))
    if not names or any(not t for t in names):
        raise InvalidInputError(f"{flag}: expected comma-separated names, received {text!r}")
    for name in names:
        if name not in allowed:
            raise UnknownNameError(flag.lstrip("-"), name, allowed)
    return names


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fit", default=None, metavar="FIT.json", help="a saved blot fit")
    p.add_argument(
        "--variant",
        default=None,
        help=_common.variant_help(
            "the demo's, cooperation_saturation", "; with --fit it must match the fit's"
        ),
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sweep``, ``ensemble`` and ``migrate`` to *subparsers*."""
    p = subparsers.add_parser(
        "sweep",
        help="IL-6 × VEGF dose matrix: response metrics and synergy scores",
        description="Simulate every IL-6 × VEGF dose pair of one or more cell lines; write "
        "DIR/sweep.csv (il6_ng_ml, vegf_ng_ml, cell_line, readout, metric, value and one "
        "column per synergy score) and heat maps. Grids START:STOP:N: N doses, log-spaced; "
        "START = 0 gives dose 0 plus N−1 log-spaced doses from STOP/1000 to STOP. Synergy "
        "scores need dose 0 on both axes (START = 0); Loewe and ZIP need N >= 4.",
    )
    _add_model_arguments(p)
    p.add_argument(
        "--cell-line",
        action="append",
        dest="cell_lines",
        metavar="LINE",
        help=_common.cell_line_help(),
    )
    p.add_argument("--il6", required=True, metavar="START:STOP:N", help="IL-6 doses (ng/mL)")
    p.add_argument("--vegf", required=True, metavar="START:STOP:N", help="VEGF-A doses (ng/mL)")
    p.add_argument(
        "--metric",
        default=None,
        metavar="M[,M]",
        help=f"metrics (default all: {','.join(_SWEEP_METRICS)})",
    )
    p.add_argument(
        "--synergy",
        default="bliss,hsa",
        metavar="METHODS",
        help="synergy scores among bliss,hsa,loewe,zip (default bliss,hsa; 'none' for none)",
    )
    _common.add_progress_argument(p, "of the cell lines and metrics")
    p.add_argument("--out", default="paracrine-sweep", metavar="DIR", help="output folder")
    p.set_defaults(func=run_sweep)

    p = subparsers.add_parser(
        "ensemble",
        help="parameter ensemble of a blot fit (MCMC) and prediction bands of its arms",
        description="Draw a parameter ensemble around a saved blot fit with emcee (walkers "
        "start from the Laplace approximation); write DIR/ensemble.json, DIR/ensemble.md "
        "(convergence diagnostics) and DIR/band.png/.svg (best fit and 95%% band of every arm).",
    )
    p.add_argument("--fit", required=True, metavar="FIT.json", help="a saved blot fit")
    p.add_argument("--members", type=int, default=200, metavar="N", help="members (200)")
    p.add_argument("--steps", type=int, default=400, metavar="N", help="steps per walker (400)")
    p.add_argument("--walkers", type=int, default=None, metavar="N", help="walkers (2·d + 2)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    p.add_argument("--workers", type=int, default=None, metavar="W", help="processes (1)")
    _common.add_progress_argument(p, "of the MCMC steps")
    p.add_argument("--out", default="paracrine-ensemble", metavar="DIR", help="output folder")
    p.set_defaults(func=run_ensemble)

    p = subparsers.add_parser(
        "migrate",
        help="fit the migration read-out on ligand-only conditions; predict the antibodies",
        description="Fit the signalling-to-migration link (paracrine.models.readouts) on the "
        "ligand-only and MSC-CM conditions on top of a blot fit, predict the held-out MSC-CM + "
        "antibody conditions and proliferation; write DIR/migration.csv (cell_line, condition, "
        "readout, measured, measured_sd, predicted, predicted_low, predicted_high, "
        "used_in_fit, z), DIR/migration.md and DIR/migration.png/.svg.",
    )
    _add_model_arguments(p)
    p.add_argument("--ensemble", default=None, metavar="ENS.json", help="bands over an ensemble")
    p.add_argument(
        "--readouts",
        default="reference_migration_synthetic",
        metavar="CSV",
        help="migration/proliferation data (default: the bundled synthetic set)",
    )
    p.add_argument(
        "--msc-cm-il6",
        type=float,
        default=None,
        metavar="NG_PER_ML",
        help="IL-6 in undiluted MSC-CM (default: the assumed 2 ng/mL)",
    )
    p.add_argument(
        "--msc-cm-vegf",
        type=float,
        default=None,
        metavar="NG_PER_ML",
        help="VEGF-A in undiluted MSC-CM (default: the assumed 0.5 ng/mL)",
    )
    p.add_argument(
        "--link",
        default="additive",
        choices=("additive", "amplifying"),
        help="what the other MSC factors do: add (per line) or add and amplify the signalling "
        "response (shared); default additive",
    )
    p.add_argument(
        "--scan-msc-cm",
        default=None,
        metavar="START:STOP:N",
        help="also scan the MSC-CM IL-6 and VEGF content over this grid (ng/mL, both axes) "
        "and write msc_cm_scan.csv/.png: a diagnosis of the held-out failure, not a fit",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    _common.add_progress_argument(p, "of the ensemble members (with --ensemble)")
    p.add_argument("--out", default="paracrine-migration", metavar="DIR", help="output folder")
    p.set_defaults(func=run_migrate)


_check_seed = _common.check_seed


# -- sweep -----------------------------------------------------------------------------------
def run_sweep(args: argparse.Namespace) -> int:
    import numpy as np

    il6 = parse_grid(args.il6, "--il6")
    vegf = parse_grid(args.vegf, "--vegf")
    metrics = _names(args.metric, _SWEEP_METRICS, "--metric")
    methods = () if args.synergy == "none" else _names(args.synergy, _SYNERGY, "--synergy")
    if methods and (il6[0] != 0 or vegf[0] != 0):
        raise InvalidInputError(
            f"--synergy {','.join(methods)}: synergy scores need dose 0 first on both axes; "
            f"received --il6 {args.il6!r} and --vegf {args.vegf!r} (start them at 0, or give "
            "--synergy none)"
        )
    fitted = {"loewe", "zip"} & set(methods)
    if fitted and min(il6.size, vegf.size) < 4:
        raise InvalidInputError(
            f"--synergy {','.join(sorted(fitted))}: needs at least 4 doses (0 plus 3) on each "
            f"axis to fit the single agents; received {il6.size} IL-6 and {vegf.size} VEGF doses"
        )
    model = _model(args)
    lines = args.cell_lines or list(model.cell_lines)
    for line in lines:
        if line not in model.cell_lines:
            from paracrine.errors import UnknownNameError

            raise UnknownNameError("cell line", line, model.cell_lines)
    out = _common.check_output_folder(args.out)
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd
    from tqdm.auto import tqdm

    from paracrine.simulations import dose_matrix
    from paracrine.simulations.synergy import plot_synergy, synergy_scores

    frames, written, hill_rows = [], [], []
    for line in tqdm(lines, desc="dose matrices", unit="cell line", disable=not args.progress):
        dm = dose_matrix(model, il6, vegf, line)
        out = _common.output_folder(out)  # created once the first results are in
        tidy = dm.to_dataframe()
        tidy = tidy[tidy["metric"].isin(metrics)]
        tidy.insert(2, "cell_line", line)
        for method in methods:
            tidy[method] = np.nan
        for metric in metrics:
            for readout in dm.readouts:
                if not methods:
                    continue
                scores = synergy_scores(dm.get(metric, readout), il6, vegf, methods=methods)
                rows = (tidy["metric"] == metric) & (tidy["readout"] == readout)
                for method in methods:
                    tidy.loc[rows, method] = np.asarray(scores[method]).reshape(-1)
                if metric == metrics[0] and readout in ("pERK", "pAKT", "p38"):
                    fig = plot_synergy(scores, title=f"{line}: {readout} {metric}")
                    written += _save(fig, out, f"synergy_{line}_{readout}_{metric}")
            fig = dm.plot(metric)
            written += _save(fig, out, f"sweep_{line}_{metric}")
            hill_rows += _hill_rows(dm, metric, line)
        frames.append(tidy)
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(out / "sweep.csv", index=False, float_format="%.6g")
    if hill_rows:
        pd.DataFrame(hill_rows).to_csv(out / "hill.csv", index=False, float_format="%.6g")
    print(
        f"wrote {out / 'sweep.csv'} ({len(table)} rows)"
        + (f", {out / 'hill.csv'}" if hill_rows else "")
        + f" and {len(written)} figure files"
    )
    return 0


def _hill_rows(dm, metric: str, line: str) -> list[dict]:
    """Hill fits of each read-out's *metric* against each ligand alone (the other at dose 0),
    where the axis has dose 0 and at least 4 doses."""
    import numpy as np

    rows = []
    for ligand, doses, other in (
        ("IL-6", dm.il6_ng_ml, dm.vegf_ng_ml),
        ("VEGF", dm.vegf_ng_ml, dm.il6_ng_ml),
    ):
        if np.unique(doses).size < 4 or other[0] != 0:
            continue
        for readout in dm.readouts:
            h = dm.fit_hill(metric, readout, ligand=ligand)
            rows.append(
                {
                    "cell_line": line,
                    "readout": readout,
                    "metric": metric,
                    "ligand": ligand,
                    "e0": h.e0,
                    "emax": h.emax,
                    "ec50_ng_ml": h.ec50,
                    "ec50_low": h.ec50_ci[0],
                    "ec50_high": h.ec50_ci[1],
                    "hill_n": h.n,
                    "r2": h.r2,
                    "ci_method": h.ci_method,
                }
            )
    return rows


def _model(args: argparse.Namespace):
    return load_model(args.fit, args.variant)


# -- ensemble --------------------------------------------------------------------------------
def run_ensemble(args: argparse.Namespace) -> int:
    _check_seed(args.seed)
    for flag, value, minimum in (
        ("--members", args.members, 1),
        ("--steps", args.steps, 2),
        ("--workers", args.workers, 1),
        ("--walkers", args.walkers, 2),
    ):
        if value is not None and value < minimum:
            raise InvalidInputError(f"{flag}: expected an integer >= {minimum}, received {value}")
    fit = _common.load_blot_fit(args.fit)
    out = _common.check_output_folder(args.out)
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.fitting.ensemble import plot_timecourse_band, sample_ensemble, timecourse_band

    ensemble = sample_ensemble(
        fit,
        n_members=args.members,
        n_walkers=args.walkers,
        n_steps=args.steps,
        seed=args.seed,
        workers=args.workers,
        progress=args.progress,
    )
    out = _common.output_folder(out)
    ensemble.to_json(out / "ensemble.json")
    band, conditions, times, readouts = timecourse_band(fit, ensemble)
    inside = float(band.contains_best().mean())
    _save(plot_timecourse_band(band, conditions, times, readouts), out, "band")
    text = [
        f"# Parameter ensemble of {args.fit}",
        "",
        f"Command: `{getattr(args, 'command_line', 'paracrine ensemble')}`",
        "",
        *[f"- {line}" for line in ensemble.summary().splitlines()],
        f"- the best-fit time courses lie inside the members' 95% band at {inside:.1%} of the "
        "(arm, time, read-out) points",
        "",
        "Files: ensemble.json (members, log10 scale), band.png/.svg.",
    ]
    (out / "ensemble.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    print("\n".join(text[4:-2]))
    print(f"wrote {out / 'ensemble.json'}, {out / 'ensemble.md'}, {out / 'band.png'}")
    return 0


# -- migrate ---------------------------------------------------------------------------------
def run_migrate(args: argparse.Namespace) -> int:
    from paracrine.simulations import units

    _check_seed(args.seed)
    for value, flag in ((args.msc_cm_il6, "--msc-cm-il6"), (args.msc_cm_vegf, "--msc-cm-vegf")):
        check_dose(value, flag)
    if args.ensemble is not None and args.fit is None:
        raise InvalidInputError("--ensemble: needs the --fit it was drawn from")
    scan_grid = None if args.scan_msc_cm is None else parse_grid(args.scan_msc_cm, "--scan-msc-cm")
    if args.fit is not None:
        signalling = _common.load_blot_fit(args.fit)
        if args.variant is not None and signalling.model.variant != args.variant:
            raise InvalidInputError(
                f"--fit {args.fit!r} is a fit of variant {signalling.model.variant!r}, but "
                f"--variant is {args.variant!r}"
            )
    else:
        signalling = load_model(None, args.variant)
    ensemble = None
    if args.ensemble is not None:
        from paracrine.fitting.ensemble import Ensemble

        path = Path(args.ensemble)
        if not path.is_file():
            raise InvalidInputError(
                f"--ensemble {str(path)!r}: expected an ensemble file (ensemble.json), "
                "received " + ("a folder" if path.is_dir() else "a path that does not exist")
            )
        try:
            ensemble = Ensemble.from_json(path)
        except FitError as exc:
            raise InvalidInputError(f"--ensemble: {exc}") from None
        if tuple(ensemble.parameter_names) != tuple(signalling.problem.parameter_names):
            raise InvalidInputError(
                f"--ensemble {str(path)!r}: drawn for other parameters than --fit {args.fit!r} "
                f"({len(ensemble.parameter_names)} vs "
                f"{len(signalling.problem.parameter_names)} parameters)"
            )
    out = _common.check_output_folder(args.out)
    import matplotlib

    matplotlib.use("Agg")
    from paracrine.fitting.migration import fit_migration

    fit = fit_migration(
        signalling,
        args.readouts,
        ensemble=ensemble,
        link=args.link,
        msc_cm_il6_ng_ml=units.MSC_CM_IL6_NG_ML if args.msc_cm_il6 is None else args.msc_cm_il6,
        msc_cm_vegf_ng_ml=(
            units.MSC_CM_VEGF_NG_ML if args.msc_cm_vegf is None else args.msc_cm_vegf
        ),
        seed=args.seed,
        progress=args.progress and ensemble is not None,
    )
    out = _common.output_folder(out)
    fit.table().to_csv(out / "migration.csv", index=False, float_format="%.6g")
    _save(fit.plot(), out, "migration")
    lines = fit.summary_lines()
    verdicts = fit.verdicts()
    text = [
        "# Migration and proliferation read-outs",
        "",
        f"Command: `{getattr(args, 'command_line', 'paracrine migrate')}`",
        "",
        *[f"- {line}" for line in lines],
        "",
        "Verdicts (JSON): `" + json.dumps(verdicts) + "`",
        "",
        "Files: migration.csv, migration.png/.svg.",
    ]
    if scan_grid is not None:
        from paracrine.fitting.migration import msc_cm_content_scan, plot_content_scan

        scan = msc_cm_content_scan(
            signalling,
            args.readouts,
            il6_ng_ml=scan_grid,
            vegf_ng_ml=scan_grid,
            link=args.link,
            seed=args.seed,
        )
        scan.to_csv(out / "msc_cm_scan.csv", index=False, float_format="%.6g")
        _save(plot_content_scan(scan), out, "msc_cm_scan")
        best = scan.loc[scan["heldout_chi2"].idxmin()]
        text[-2:-2] = [
            f"- MSC-CM content scan ({len(scan)} compositions, diagnosis only): best held-out "
            f"χ² {best.heldout_chi2:.1f} at IL-6 {best.msc_cm_il6_ng_ml:g} and VEGF "
            f"{best.msc_cm_vegf_ng_ml:g} ng/mL, largest |z| {best.heldout_max_abs_z:.1f}; "
            f"compositions with every antibody row within 2 SD: "
            f"{int((scan.heldout_within_2sd == scan.heldout_rows).sum())} (msc_cm_scan.csv)",
            "",
        ]
    (out / "migration.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"wrote {out / 'migration.csv'}, {out / 'migration.md'}, {out / 'migration.png'}")
    return 0 if not math.isnan(fit.nllh) else 1
