"""Benchmark: issue 11's analyses on the demo variant — the full single-knockout screen, a
200-member ensemble band of the fit's arms, and the migration read-out fit.

* Knockout screen: every KNOCKOUT_TARGETS knockout and every full inhibitor (24
  perturbations) × the four arms in MCF-7, one batch, against a plain loop of
  ``simulate()`` calls (a fresh engine per condition, what a user without the batch would
  write), side by side in this process, over ``--repeats``.
* Ensemble band: 200 members (drawn once by ``sample_ensemble`` with a short chain unless
  ``--ensemble`` gives one) × 12 conditions (four arms × three lines), one compiled
  simulator, each member's parameter vector.
* Migration: ``fit_migration`` on the bundled read-outs (link fit + 200 Laplace draws).

Without ``--fit`` the demo variant's default parameters stand in for a fit where one is not
needed (screen); the band and migration need a blot fit (``paracrine demo`` writes one).

Run:  python benchmarks/analysis.py --fit paracrine-demo/fit.json [--repeats 5] [--json F]
Targets (issue 11): screen ≤ 10 s; 200-member band ≤ 30 s (2 cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def _median_spread(times: list[float]) -> dict:
    return {
        "median_s": float(np.median(times)),
        "min_s": float(np.min(times)),
        "max_s": float(np.max(times)),
        "runs": len(times),
    }


def bench_screen(variant: str, repeats: int, naive: bool) -> dict:
    from paracrine.models import Model
    from paracrine.simulations import Condition, knockout_screen, screen_perturbations, simulate
    from paracrine.simulations.conditions import arm_doses

    model = Model(variant)
    knockout_screen(model, targets=screen_perturbations(["VEGFR2"]))  # compile, warm caches
    batched, loop = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        knockout_screen(model)
        batched.append(time.perf_counter() - t0)
        if naive:
            t0 = time.perf_counter()
            for p in screen_perturbations(None):
                conds = [
                    Condition(arm, "MCF-7", il6_ng_ml=a, vegf_ng_ml=b, perturbations=(p,))
                    for arm, (a, b) in arm_doses(50.0, 50.0).items()
                ]
                simulate(model, conds)
            loop.append(time.perf_counter() - t0)
    n_pert = len(screen_perturbations(None))
    out = {
        "perturbations": n_pert,
        "simulations": 4 * (n_pert + 1),
        "batched": _median_spread(batched),
    }
    if loop:
        out["plain_loop_simulate"] = _median_spread(loop)
        out["speedup"] = float(np.median(loop) / np.median(batched))
    return out


def bench_band(fit_path: str, ensemble_path: str | None, repeats: int) -> dict:
    from paracrine.fitting import BlotFit
    from paracrine.fitting.ensemble import Ensemble, sample_ensemble, timecourse_band

    fit = BlotFit.load(fit_path)
    if ensemble_path:
        ens = Ensemble.from_json(ensemble_path)
        drawn = None
    else:
        t0 = time.perf_counter()
        ens = sample_ensemble(fit, n_members=200, n_steps=30, burn=10, seed=0, progress=False)
        drawn = time.perf_counter() - t0
    times = []
    inside = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        band, *_ = timecourse_band(fit, ens)
        times.append(time.perf_counter() - t0)
        inside.append(float(band.contains_best().mean()))
    return {
        "members": len(ens),
        "conditions": 12,
        "band": _median_spread(times),
        "best_inside_band_fraction": inside[0],
        "sampling_s": drawn,
        "sampling": ens.diagnostics,
    }


def bench_migration(fit_path: str, repeats: int) -> dict:
    from paracrine.fitting import BlotFit
    from paracrine.fitting.migration import fit_migration

    fit = BlotFit.load(fit_path)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fit_migration(fit, seed=0)
        times.append(time.perf_counter() - t0)
    return {"fit_migration": _median_spread(times), "verdicts": result.verdicts()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", default=None, help="a saved blot fit (band, migration)")
    parser.add_argument("--ensemble", default=None, help="an ensemble.json of that fit")
    parser.add_argument("--variant", default="cooperation_saturation")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-naive", action="store_true", help="skip the plain-loop baseline")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()
    import os

    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "command": "python benchmarks/analysis.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v not in (None, False)
        ),
    }
    results["knockout_screen"] = bench_screen(args.variant, args.repeats, not args.no_naive)
    s = results["knockout_screen"]
    print(
        f"knockout screen ({s['perturbations']} perturbations, {s['simulations']} simulations): "
        f"{s['batched']['median_s']:.2f} s"
        + (
            f"; plain loop of simulate() {s['plain_loop_simulate']['median_s']:.2f} s "
            f"(speed-up {s['speedup']:.1f}×)"
            if "speedup" in s
            else ""
        )
    )
    if args.fit:
        b = results["ensemble_band"] = bench_band(args.fit, args.ensemble, args.repeats)
        print(
            f"ensemble band: {b['members']} members × 12 conditions {b['band']['median_s']:.2f} s "
            f"(best fit inside the band at {b['best_inside_band_fraction']:.1%} of points)"
        )
        m = results["migration"] = bench_migration(args.fit, max(1, args.repeats // 2))
        print(f"fit_migration: {m['fit_migration']['median_s']:.2f} s; verdicts {m['verdicts']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, default=float)


if __name__ == "__main__":
    main()
