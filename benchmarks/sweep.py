"""Benchmark: issue 11's dose sweep — an IL-6 × VEGF matrix with all read-outs, metrics and
synergy scores, against a plain loop, by grid size and through ``run_batch``.

Side by side in one process, over ``--repeats`` (median, min, max):

* (a) matrix: ``dose_matrix(variant, d, d)`` on the N × N grid d = [0, geomspace(0.1, 100,
  N − 1)] ng/mL (MCF-7; all four read-outs; peak, time to peak, AUC, sustained). Warm: a
  compiled ``ModelSimulator`` of the model is kept alive for the whole run, so libRoadRunner's
  in-process cache of the compiled model stays warm (it is freed with its last instance: every
  ``dose_matrix`` / ``simulate`` call of a process that holds none compiles again, ~0.2 s). The
  first compilation is timed separately, and the matrix once more in fresh processes (none).
* (b) synergy: ``synergy_scores`` (bliss, hsa, loewe, zip) on each of the 12 (metric, read-out)
  matrices (peak, auc, sustained × 4 read-outs), with the time of each method and of ZIP alone.
* (c) baseline: the same matrix as the natural plain loop, ``simulate(model, [Condition(...)])``
  per dose pair plus the metrics from its time course, and ``dose_matrix`` on the same grid
  (``--naive-size``; both timed, here and in fresh processes; the values are checked to agree).
* (d) scaling: matrix and synergy separately on 4 × 4, 8 × 8, 16 × 16, 32 × 32 and 48 × 48, a
  grid skipped when the previous one's time scaled by the number of cells predicts ≥ 10 s.
* (e) ``run_batch`` (``simulations/batch.py``; the JSON says so if it is absent) on the N × N
  grid with workers = 1 and 2 (simulation only); the start-up of the worker processes (spawn,
  import, compile) is timed on a 2-task batch.

Run:  python benchmarks/sweep.py [--repeats 5] [--json F] [--quick]
(writes benchmarks/results/sweep.json unless --json says otherwise; --quick: 8 × 8, 1 repeat,
nothing written)
Target (issue 11): 32 × 32 matrix with all read-outs, metrics and synergy scores ≤ 2 s (2 cores).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

METRICS = ("peak", "auc", "sustained")  # the response metrics synergy scores are computed on
METHODS = ("bliss", "hsa", "loewe", "zip")
TARGET_S = 2.0
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "sweep.json")


def _median_spread(times: list[float]) -> dict:
    return {
        "median_s": float(np.median(times)),
        "min_s": float(np.min(times)),
        "max_s": float(np.max(times)),
        "runs": len(times),
    }


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _grid(size: int) -> np.ndarray:
    return np.concatenate([[0.0], np.geomspace(0.1, 100.0, size - 1)])


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def bench_compile(variant: str) -> tuple[dict, object]:
    """First use in this process: import, Antimony → SBML, JIT; returns the live simulator."""
    t_import, _ = _timed(lambda: __import__("roadrunner"))
    from paracrine.models import Model
    from paracrine.simulations import ModelSimulator, dose_matrix

    t_first, _ = _timed(lambda: dose_matrix(variant, [0.0, 1.0], [0.0, 1.0]))
    t_again, _ = _timed(lambda: dose_matrix(variant, [0.0, 1.0], [0.0, 1.0]))  # recompiles
    live = ModelSimulator(Model(variant))
    t_compile, _ = _timed(lambda: live.species_ids)
    t_warm, _ = _timed(lambda: dose_matrix(variant, [0.0, 1.0], [0.0, 1.0]))
    return {
        "import_roadrunner_s": t_import,
        "first_dose_matrix_2x2_s": t_first,
        "dose_matrix_2x2_no_live_engine_s": t_again,
        "compile_s": t_compile,
        "dose_matrix_2x2_warm_s": t_warm,
        "note": "compile_s: ModelSimulator(Model(variant)).species_ids with no live instance "
        "(libRoadRunner JIT); kept alive for the rest of the run",
    }, live


def _synergy_all(matrix, doses) -> tuple[dict, dict]:
    from paracrine.simulations.synergy import synergy_scores

    scores, counts = {}, {}
    for metric in METRICS:
        for readout in matrix.readouts:
            s = synergy_scores(matrix.get(metric, readout), doses, doses, METHODS)
            scores[(metric, readout)] = s
            for key, value in s.fit_counts.items():
                counts[key] = counts.get(key, 0) + value
    return scores, counts


def bench_main(variant: str, size: int, repeats: int) -> dict:
    """(a) + (b): the matrix (warm) and its 12 synergy score sets, side by side."""
    from paracrine.simulations import dose_matrix
    from paracrine.simulations.synergy import (
        fit_single_agents,
        fractional_effect,
        synergy_scores,
        zip_delta,
    )

    doses = _grid(size)
    t_matrix, t_synergy, t_total, per_method = [], [], [], {m: [] for m in METHODS}
    t_zip = []
    counts: dict = {}
    for _ in range(repeats):
        tm, matrix = _timed(lambda: dose_matrix(variant, doses, doses))
        ts, (_, counts) = _timed(lambda m=matrix: _synergy_all(m, doses))
        t_matrix.append(tm)
        t_synergy.append(ts)
        t_total.append(tm + ts)
        grids = [matrix.get(metric, r) for metric in METRICS for r in matrix.readouts]
        for method in METHODS:  # each alone (Loewe and ZIP with their single-agent fits)
            t, _ = _timed(
                lambda m=method, gs=grids: [synergy_scores(g, doses, doses, (m,)) for g in gs]
            )
            per_method[method].append(t)
        for g in grids:  # ZIP alone per matrix, given the single-agent fits
            f = fractional_effect(g)
            fits = fit_single_agents(f, doses, doses)
            t_zip.append(_timed(lambda f=f, fits=fits: zip_delta(f, doses, doses, fits=fits))[0])
    return {
        "grid": {"size": size, "doses_ng_ml": doses.tolist(), "simulations": size * size + 1},
        "matrix": _median_spread(t_matrix),
        "synergy_12_matrices": _median_spread(t_synergy),
        "total": _median_spread(t_total),
        "per_method_12_matrices": {m: _median_spread(t) for m, t in per_method.items()},
        "zip_per_matrix": _median_spread(t_zip),
        "fit_counts_12_matrices": counts,
    }


def _fresh_process(variant: str, statement: str, size: int, repeats: int) -> dict:
    """Time *statement* in fresh interpreters that hold no live instance of the compiled model
    (paracrine imported and one simulation run first, whose engine is then dropped)."""
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        "import sys, time, numpy as np\n"
        f"sys.path.insert(0, {here!r})\n"
        "from sweep import _grid, _naive_loop\n"
        "from paracrine.simulations import dose_matrix\n"
        f"variant, d = {variant!r}, _grid({size})\n"
        "dose_matrix(variant, [0.0, 1.0], [0.0, 1.0])  # imports; its engine dies after\n"
        "t0 = time.perf_counter()\n"
        f"{statement}\n"
        "print(time.perf_counter() - t0)\n"
    )
    times = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return _median_spread(times)


def _naive_loop(variant: str, doses: np.ndarray, sustained_min: float = 120.0) -> dict:
    """What a user without dose_matrix writes: one simulate() per dose pair, metrics by hand."""
    from paracrine.simulations import Condition, simulate

    grid = np.linspace(0.0, 240.0, 97)  # dose_matrix's default output grid
    basal = simulate(variant, [Condition("basal", "MCF-7")], times=grid[:1])
    base = basal.values[0, 0]
    k = int(np.argmin(np.abs(grid - sustained_min)))
    out = {m: np.empty((doses.size, doses.size, base.size)) for m in ("peak", "auc", "sustained")}
    for i, a in enumerate(doses):
        for j, b in enumerate(doses):
            cond = Condition(f"{a:g}|{b:g}", "MCF-7", il6_ng_ml=float(a), vegf_ng_ml=float(b))
            fold = simulate(variant, [cond], times=grid).values[0] / base
            out["peak"][i, j] = fold.max(axis=0)
            out["auc"][i, j] = np.trapezoid(fold - 1.0, grid, axis=0) / (grid[-1] - grid[0])
            out["sustained"][i, j] = fold[k]
    return out


def bench_naive(variant: str, size: int, repeats: int) -> dict:
    """(c): dose_matrix against the plain simulate() loop on the same grid, interleaved, in this
    process (a live engine keeps the compiled model cached, so each simulate() call only
    instantiates it, ~10 ms) and in fresh processes (each simulate() call compiles again)."""
    from paracrine.simulations import dose_matrix

    doses = _grid(size)
    t_matrix, t_loop = [], []
    diff = 0.0
    for _ in range(repeats):
        tm, matrix = _timed(lambda: dose_matrix(variant, doses, doses))
        tl, loop = _timed(lambda: _naive_loop(variant, doses))
        t_matrix.append(tm)
        t_loop.append(tl)
        for metric, values in loop.items():  # relative to each metric's largest value
            ref = matrix.metrics[metric]
            diff = max(diff, float(np.max(np.abs(values - ref)) / np.max(np.abs(ref))))
    fresh = max(1, min(repeats, 3))
    cold_matrix = _fresh_process(variant, "dose_matrix(variant, d, d)", size, fresh)
    cold_loop = _fresh_process(variant, "_naive_loop(variant, d)", size, fresh)
    return {
        "grid": size,
        "simulations": size * size,
        "dose_matrix": _median_spread(t_matrix),
        "plain_loop_simulate": _median_spread(t_loop),
        "speedup": float(np.median(t_loop) / np.median(t_matrix)),
        "max_difference_relative_to_metric_max": diff,
        "fresh_process": {
            "dose_matrix": cold_matrix,
            "plain_loop_simulate": cold_loop,
            "speedup": cold_loop["median_s"] / cold_matrix["median_s"],
        },
    }


def bench_scaling(variant: str, sizes: list[int], repeats: int, budget_s: float) -> list[dict]:
    """(d): matrix and synergy time by grid size; the last size only if predicted < budget."""
    from paracrine.simulations import dose_matrix

    rows: list[dict] = []
    for size in sizes:
        done = [r for r in rows if "skipped" not in r]
        if done:  # the time per cell of the last grid, scaled to this one
            last = done[-1]
            predicted = (last["matrix"]["median_s"] + last["synergy"]["median_s"]) * (
                size / last["size"]
            ) ** 2
            if predicted >= budget_s:
                rows.append(
                    {"size": size, "skipped": f"predicted {predicted:.1f} s ≥ {budget_s} s"}
                )
                continue
        doses = _grid(size)
        t_matrix, t_synergy = [], []
        for _ in range(repeats):
            tm, matrix = _timed(lambda d=doses: dose_matrix(variant, d, d))
            ts, _ = _timed(lambda m=matrix, d=doses: _synergy_all(m, d))
            t_matrix.append(tm)
            t_synergy.append(ts)
        rows.append(
            {
                "size": size,
                "cells": size * size,
                "matrix": _median_spread(t_matrix),
                "synergy": _median_spread(t_synergy),
                "matrix_ms_per_cell": 1e3 * float(np.median(t_matrix)) / size**2,
            }
        )
    return rows


def bench_batch(variant: str, size: int, repeats: int) -> dict:
    """(e): the N × N grid through run_batch, in this process and in 2 spawned processes."""
    try:
        from paracrine.simulations.batch import run_batch
    except ImportError as exc:
        return {"available": False, "reason": f"simulations/batch.py: {exc}"}
    from paracrine.models import Model
    from paracrine.simulations import Condition, dose_matrix

    model = Model(variant)
    doses = _grid(size)
    times = np.linspace(0.0, 240.0, 97)
    tasks = [
        (Condition(f"{a:g}|{b:g}", "MCF-7", il6_ng_ml=float(a), vegf_ng_ml=float(b)), None)
        for a in doses
        for b in doses
    ]
    reference = dose_matrix(variant, doses, doses).metrics["peak"]
    out: dict = {"available": True, "tasks": len(tasks)}
    for workers in (1, 2):
        totals, startups = [], []
        for _ in range(repeats):
            t, result = _timed(lambda w=workers: run_batch(model, tasks, times, workers=w))
            totals.append(t)
            if workers > 1:
                startups.append(_timed(lambda: run_batch(model, tasks[:2], times, workers=2))[0])
        basal = result.values[0, 0]  # dose (0, 0) is unstimulated: its t = 0 is the basal level
        peak = (result.values / basal).max(axis=1).reshape(size, size, -1)
        row = {
            "total": _median_spread(totals),
            "max_relative_difference_peak_vs_dose_matrix": float(
                np.max(np.abs(peak / reference - 1.0))
            ),
            "failed": result.n_failed,
        }
        if startups:
            row["startup_2_tasks"] = _median_spread(startups)
            row["total_minus_startup_median_s"] = float(np.median(totals) - np.median(startups))
        out[f"workers_{workers}"] = row
    out["note"] = (
        "simulation only (no metrics); workers=2 includes spawning the processes, importing "
        "paracrine and compiling the model in each (startup_2_tasks: the same for a 2-task batch)"
    )
    return out


def _print_table(r: dict) -> None:
    m = r["main"]
    size = m["grid"]["size"]
    ms = lambda x: f"{1e3 * x['median_s']:8.1f} [{1e3 * x['min_s']:.1f}–{1e3 * x['max_s']:.1f}]"  # noqa: E731
    print(f"# {r['machine']['cpus']} CPUs, Python {r['machine']['python']}, load {r['load']}")
    print(f"compile (JIT, first use): {1e3 * r['compile']['compile_s']:.0f} ms")
    print(f"{'step':52s} {'median [min–max] ms':>28s}")
    print(f"{f'(a) dose_matrix {size} × {size}, warm':52s} {ms(m['matrix']):>28s}")
    print(
        f"{'(a) the same in a fresh process (compiles again)':52s} {ms(r['matrix_fresh_process']):>28s}"
    )
    print(
        f"{'(b) synergy_scores × 12 (bliss, hsa, loewe, zip)':52s} {ms(m['synergy_12_matrices']):>28s}"
    )
    for method, t in m["per_method_12_matrices"].items():
        print(f"{f'      {method} alone × 12':52s} {ms(t):>28s}")
    print(f"{'      zip_delta per matrix (fits given)':52s} {ms(m['zip_per_matrix']):>28s}")
    verdict = {True: "met", False: "NOT met", None: "n/a (grid < 32)"}[r["target"]["met"]]
    print(f"{'(a) + (b) total':52s} {ms(m['total']):>28s}   target ≤ {TARGET_S} s: {verdict}")
    n = r["naive"]
    for label, x in (("this process", n), ("fresh process", n["fresh_process"])):
        print(
            f"(c) {n['grid']} × {n['grid']}, {label}: dose_matrix {ms(x['dose_matrix'])} ms, "
            f"plain simulate() loop {ms(x['plain_loop_simulate'])} ms, speed-up {x['speedup']:.1f}×"
        )
    print("(d) size   matrix [ms]   synergy [ms]")
    for row in r["scaling"]:
        if "skipped" in row:
            print(f"    {row['size']:4d}   skipped ({row['skipped']})")
        else:
            print(
                f"    {row['size']:4d}   {1e3 * row['matrix']['median_s']:10.1f}   "
                f"{1e3 * row['synergy']['median_s']:11.1f}"
            )
    b = r["run_batch"]
    if not b.get("available"):
        print(f"(e) run_batch: not available ({b.get('reason')})")
    else:
        for w in (1, 2):
            row = b[f"workers_{w}"]
            extra = f", start-up (2 tasks) {ms(row['startup_2_tasks'])} ms" if w > 1 else ""
            print(f"(e) run_batch {b['tasks']} tasks, workers={w}: {ms(row['total'])} ms{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="cooperation_saturation")
    parser.add_argument("--size", type=int, default=32, help="grid of (a), (b) and (e)")
    parser.add_argument("--naive-size", type=int, default=8, help="grid of (c)")
    parser.add_argument("--sizes", default="4,8,16,32,48", help="grids of (d)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small grids, 1 repeat (a smoke test)")
    parser.add_argument(
        "--json",
        default=None,
        help=f"write the results here (default {RESULTS}; with --quick: nowhere)",
    )
    args = parser.parse_args()
    if args.quick:
        args.size, args.naive_size, args.sizes, args.repeats = 8, 4, "4,8", 1
    elif args.json is None:
        args.json = RESULTS
    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = _load()
    import scipy

    results: dict = {
        "command": " ".join(["python", "benchmarks/sweep.py", *sys.argv[1:]]),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "date": datetime.date.today().isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "platform": platform.platform(),
        },
        "variant": args.variant,
        "cell_line": "MCF-7",
        "repeats": args.repeats,
    }
    results["compile"], live = bench_compile(args.variant)  # kept alive to the end
    results["main"] = bench_main(args.variant, args.size, args.repeats)
    results["matrix_fresh_process"] = _fresh_process(
        args.variant, "dose_matrix(variant, d, d)", args.size, max(1, min(args.repeats, 3))
    )
    total = results["main"]["total"]["median_s"]
    results["target"] = {
        "what": f"{args.size} × {args.size} matrix (4 read-outs, all metrics) + synergy scores "
        "(bliss, hsa, loewe, zip) of the 12 (peak, auc, sustained) × read-out matrices, warm",
        "target_s": TARGET_S,
        "median_s": total,
        "met": bool(total <= TARGET_S) if args.size >= 32 else None,
    }
    results["naive"] = bench_naive(args.variant, args.naive_size, args.repeats)
    results["scaling"] = bench_scaling(args.variant, sizes, args.repeats, budget_s=10.0)
    results["run_batch"] = bench_batch(args.variant, args.size, args.repeats)
    results["load"] = {"before": load_before, "after": _load()}
    del live
    _print_table(results)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, default=float)
            fh.write("\n")


if __name__ == "__main__":
    main()
