"""Benchmark: the blot-fitting objective, its Jacobian, one start, and the main job.

Measured on the bundled reference data (SYNTHETIC; 936 bands, 72 blots, 12 conditions) with
the demo's variant (``paracrine.cli.fit.DEMO_VARIANT``), in one process:

* objective: median time of ``problem.nllh`` (each call simulates: 3 pre-equilibrations +
  12 conditions);
* objective + Jacobian: ``problem.residuals`` + ``problem.jacobian`` (line-sparse forward
  differences, what the optimiser uses), against the generic ``engine.fd_jacobian`` on the
  same problem in the same run (the ratio is the saving of re-simulating only the cell line a
  cell-line parameter touches);
* the main job, ``paracrine demo`` (16 starts on all cores) as a subprocess: wall time, fraction
  of starts within 0.1 of the best, peak resident memory of the process tree.

Run:  python benchmarks/bench_fit.py [--repeats 30] [--skip-demo] [--json out.json]
Targets (DESIGN.md): objective ≤ 15 ms; objective + Jacobian ≤ 10× the objective; demo ≤ 120 s
with ≥ 20% of starts at the best optimum; peak memory ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paracrine.cli.fit import DEMO_VARIANT
from paracrine.fitting.blotfit import BLOT_FIT_OPTIONS
from paracrine.fitting.local import optimize_start
from paracrine.fitting.objective import fd_jacobian
from paracrine.fitting.problem import BlotProblem
from paracrine.fitting.starts import latin_hypercube_starts


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def bench_objective(repeats: int) -> dict:
    problem = BlotProblem(DEMO_VARIANT, "reference_blots_synthetic")
    x = latin_hypercube_starts(*problem.start_box(), 1, 0)[0]
    problem.update_inner(x)
    counter = iter(range(10**9))

    def fresh():  # a new point each call, so nothing is served from the last-point cache
        return x + 1e-9 * next(counter)

    t_obj = median_ms(lambda: problem.nllh(fresh()), repeats)

    def sparse():
        xi = fresh()
        problem.residuals(xi)
        problem.jacobian(xi)

    def generic():
        xi = fresh()
        f0 = problem.residuals(xi)
        fd_jacobian(problem.residuals, xi, f0, lower=problem.lower, upper=problem.upper)

    t_jac = median_ms(sparse, max(repeats // 5, 3))
    t_generic = median_ms(generic, max(repeats // 5, 3))
    starts = latin_hypercube_starts(*problem.start_box(), 3, 1)
    per_start = []
    for x0 in starts:
        s = optimize_start(problem, x0, options=BLOT_FIT_OPTIONS)
        per_start.append((s.time_s, s.n_fev, s.n_jev, s.status))
    return {
        "n_free": len(problem.parameter_names),
        "n_data": problem.n_data,
        "objective_ms": t_obj,
        "objective_plus_jacobian_ms": t_jac,
        "ratio_to_objective": t_jac / t_obj,
        "generic_fd_ms": t_generic,
        "sparse_vs_generic": t_generic / t_jac,
        "start_s": [p[0] for p in per_start],
        "start_jacobians": [p[2] for p in per_start],
    }


def bench_demo() -> dict:
    out = Path(tempfile.mkdtemp(prefix="paracrine-bench-demo-"))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "paracrine.cli", "demo", "--no-progress", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    # ru_maxrss of the children = the largest single process (the parent or one worker), KiB
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    fit = json.loads((out / "fit.json").read_text())
    nllh = sorted(s["nllh"] for s in fit["starts"] if s["status"] != "failed")
    hits = sum(1 for v in nllh if v <= nllh[0] + 0.1)
    return {
        "demo_wall_s": wall,
        "fit_wall_s": fit["wall_time_s"],
        "starts": len(fit["starts"]),
        "hits": hits,
        "fraction_hits": hits / len(fit["starts"]),
        "best_nllh": nllh[0],
        "peak_rss_largest_process_mb": peak_kib / 1024,
        "stdout": proc.stdout.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    }
    result.update(bench_objective(args.repeats))
    if not args.skip_demo:
        result.update(bench_demo())
    print(f"# {result['machine']}")
    print(
        f"objective ({result['n_data']} data, {result['n_free']} free): {result['objective_ms']:.1f} ms"
    )
    print(
        f"objective + Jacobian: {result['objective_plus_jacobian_ms']:.0f} ms "
        f"({result['ratio_to_objective']:.1f}× the objective; generic FD {result['generic_fd_ms']:.0f} ms, "
        f"{result['sparse_vs_generic']:.2f}× slower)"
    )
    print(
        f"one start: {', '.join(f'{t:.1f} s' for t in result['start_s'])} "
        f"({result['start_jacobians']} Jacobians)"
    )
    if "demo_wall_s" in result:
        print(
            f"paracrine demo: {result['demo_wall_s']:.1f} s wall (fit {result['fit_wall_s']:.1f} s), "
            f"{result['hits']}/{result['starts']} starts within 0.1 of the best "
            f"({result['fraction_hits']:.0%}), "
            f"peak RSS of the largest process {result['peak_rss_largest_process_mb']:.0f} MB"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
