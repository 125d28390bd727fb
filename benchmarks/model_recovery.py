"""Benchmark: calibrated model selection — model recovery and the bootstrap likelihood-ratio test.

Model recovery. Data are simulated (``paracrine.fitting.resample_blots``: the reference data's
own design — 3 lines × 4 read-outs × 3 replicates on 72 blots — with the fitted blot scales and
log-normal band noise of σ 0.2, the replicate noise of the reference data) from each variant's
fit to the bundled reference data, whose cross-talk parameters are therefore known and, for the
cross-talk variant, clearly active. Each simulated data set is then fitted with every candidate
variant (each from its own reference optimum plus ``--starts − 1`` Latin-hypercube starts; the
larger model also from the nested model's refitted optimum, so it can never end worse than
the model it nests), and selection names a variant by AIC and by the likelihood-ratio test at
α = 0.05 with the chi-bar-square p-value. Reported: how often the true variant is named, and
how often data from the null model are wrongly given cross-talk (target ≤ 10%).

Bootstrap LRT. On the reference data itself, ``paracrine.fitting.bootstrap_lrt`` calibrates
the null-vs-alternative test without any asymptotic law (``--boot B`` data sets from the null
fit, both models refitted).

Run (after ``paracrine select --out DIR``, which writes DIR/fit_<variant>.json):

    python benchmarks/model_recovery.py --fits DIR --variants independent,stat3_erk_cooperation \
        --seeds 5 --starts 4 --boot 19 --json benchmarks/results/model_recovery.json

Parameter recovery (``--profiles k_coop,k_e_deg``): on the first data set simulated from the
cross-talk variant, the profile-likelihood 95% interval of each named parameter of the refitted
true variant, and whether the true value lies inside it.

Cost: seeds × variants² fits for recovery, 2 × B fits for the bootstrap, and ~10 local fits
per profiled parameter.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _warm(problem, fit):
    """The point of *fit* mapped onto *problem*'s parameters (missing ones at the lower bound)."""
    best = dict(zip(fit.problem.parameter_names, fit.result.x, strict=True))
    return np.array(
        [best.get(p, lo) for p, lo in zip(problem.parameter_names, problem.lower, strict=True)]
    )


def recovery(
    fits: dict, variants: list[str], seeds: int, starts: int, workers: int, keep: dict
) -> list:
    from paracrine.fitting import fit_blots
    from paracrine.fitting.problem import BlotProblem
    from paracrine.fitting.selection import _nests, chibar_pvalue
    from paracrine.fitting.synthetic import resample_blots

    rows = []
    order = sorted(variants, key=lambda v: len(fits[v].problem.model.parameter_ids))
    for truth in variants:
        for seed in range(seeds):
            data = resample_blots(fits[truth].problem, fits[truth].x, seed=1000 + seed, sigma=0.2)
            refit = {}
            for name in order:
                problem = BlotProblem.from_settings({**fits[name].problem.settings(), "data": data})
                x0 = [_warm(problem, fits[name])]
                x0 += [_warm(problem, refit[a]) for a in refit if _nests(a, name)]
                refit[name] = fit_blots(
                    problem,
                    n_starts=max(starts, len(x0)),
                    seed=seed,
                    workers=workers,
                    progress=False,
                    x0=np.array(x0),
                )
            keep.setdefault((truth, seed), refit)
            nllh = {n: f.result.nllh for n, f in refit.items()}
            aic = {n: f.result.aic for n, f in refit.items()}
            null = order[0]
            chosen_lrt = null
            for alt in order[1:]:
                df = refit[alt].result.n_free - refit[null].result.n_free
                lr = 2 * (nllh[null] - nllh[alt])
                if df > 0 and chibar_pvalue(lr, df) < 0.05:
                    chosen_lrt = alt
            row = {
                "truth": truth,
                "seed": seed,
                "nllh": nllh,
                "aic_choice": min(aic, key=aic.get),
                "lrt_choice": chosen_lrt,
                "sigma": {
                    n: next(iter(f.inner_parameters()["sigma"].values())) for n, f in refit.items()
                },
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def summarise(out: dict) -> str:
    """Markdown table of the recovery: how often each rule names each variant.

    Rules: AIC; the LRT with the chi-bar-square p at 0.05; and the LRT with the critical value
    calibrated by the parametric bootstrap on the reference data (the 95th percentile of the
    bootstrap LRs — with B = 9 that is nearly their maximum, a rough threshold).
    """
    rows = out["recovery"]
    boot = out.get("bootstrap") or {}
    lr_boot = sorted(boot.get("lr_boot") or [])
    critical = float(np.quantile(lr_boot, 0.95)) if lr_boot else float("nan")
    variants = list(dict.fromkeys(v for r in rows for v in r["nllh"]))
    if not variants:
        return f"(no recovery data sets); bootstrap LRs: {[round(v, 1) for v in lr_boot]}"
    null, alt = variants[0], variants[-1]
    lines = [
        f"| data simulated from | data sets | AIC names the truth | LRT (chi-bar p < 0.05) names "
        f"the truth | LRT (bootstrap critical LR {critical:.1f}) names the truth |",
        "|---|---|---|---|---|",
    ]
    for truth in variants:
        mine = [r for r in rows if r["truth"] == truth]
        boot_choice = [
            alt if 2 * (r["nllh"][null] - r["nllh"][alt]) > critical else null for r in mine
        ]
        lines.append(
            f"| `{truth}` | {len(mine)} | {sum(r['aic_choice'] == truth for r in mine)} | "
            f"{sum(r['lrt_choice'] == truth for r in mine)} | "
            f"{sum(c == truth for c in boot_choice)} |"
        )
    lrs = {
        truth: [
            round(2 * (r["nllh"][null] - r["nllh"][alt]), 1) for r in rows if r["truth"] == truth
        ]
        for truth in variants
    }
    lines.append("")
    lines.append(
        f"LR {null} vs {alt} per data set: {lrs}; bootstrap LRs on the reference null fit: "
        f"{[round(v, 1) for v in lr_boot]}."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--summarise", default=None, metavar="JSON", help="print the tables of a saved run, stop"
    )
    parser.add_argument("--fits", default=None, help="folder of fit_<variant>.json")
    parser.add_argument("--variants", default="independent,stat3_erk_cooperation")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--starts", type=int, default=4)
    parser.add_argument("--boot", type=int, default=19)
    parser.add_argument("--boot-seed", type=int, default=0, help="first bootstrap seed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profiles", default="", help="parameters to profile (comma-separated)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.summarise:
        print(summarise(json.loads(Path(args.summarise).read_text())))
        return 0
    if not args.fits:
        print("model_recovery: --fits DIR is required", file=sys.stderr)
        return 2
    from paracrine.fitting.blotfit import BlotFit
    from paracrine.fitting.selection import bootstrap_lrt

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    folder = Path(args.fits)
    missing = [v for v in variants if not (folder / f"fit_{v}.json").is_file()]
    if missing:
        print(f"model_recovery: no fit_<variant>.json for {missing} in {folder}", file=sys.stderr)
        return 2
    fits = {v: BlotFit.load(folder / f"fit_{v}.json") for v in variants}
    t0 = time.perf_counter()
    keep: dict = {}
    rows = recovery(fits, variants, args.seeds, args.starts, args.workers, keep)
    t_rec = time.perf_counter() - t0
    summary = {}
    for truth in variants:
        mine = [r for r in rows if r["truth"] == truth]
        summary[truth] = {
            "n": len(mine),
            "aic_correct": sum(r["aic_choice"] == truth for r in mine),
            "lrt_correct": sum(r["lrt_choice"] == truth for r in mine),
        }
    boot = None
    if args.boot > 0 and len(variants) >= 2:
        t1 = time.perf_counter()
        b = bootstrap_lrt(
            fits[variants[0]],
            fits[variants[1]],
            n_boot=args.boot,
            seed=args.boot_seed,
            n_starts=2,
            workers=args.workers,
        )
        boot = {**b.as_dict(), "lr_boot": list(b.lr_boot), "wall_s": time.perf_counter() - t1}
        print(json.dumps(boot), flush=True)
    profiles = []
    names = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if names and len(variants) >= 2:
        from paracrine.fitting.profiles import profile

        truth = variants[-1]
        refit = keep[(truth, 0)][truth]
        true_x = dict(zip(fits[truth].problem.parameter_names, fits[truth].x, strict=True))
        for name in names:
            t2 = time.perf_counter()
            prof = profile(refit.problem, refit.x, name, step=0.25, max_points=12)
            row = {
                "parameter": name,
                "true_log10": true_x[name],
                "estimate_log10": float(refit.x[refit.problem.parameter_names.index(name)]),
                "ci_log10": [prof.lower, prof.upper],
                "inside": bool(prof.contains(true_x[name])),
                "wall_s": time.perf_counter() - t2,
            }
            profiles.append(row)
            print(json.dumps(row), flush=True)
    out = {
        "recovery": rows,
        "summary": summary,
        "recovery_wall_s": t_rec,
        "bootstrap": boot,
        "profiles": profiles,
    }
    print(summarise(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
