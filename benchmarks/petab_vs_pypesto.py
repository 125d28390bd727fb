"""PEtab speed benchmark: paracrine against pyPESTO + AMICI + fides, same machine, same process.

For each PEtab problem (default: Boehm_JProteomeRes2014 and Raia_CancerResearch2011 from
../shared/petab) and each tool

* ``pypesto``       pyPESTO default: AMICI objective + ``FidesOptimizer()`` defaults
* ``pypesto-hier``  pyPESTO with hierarchical (analytical) noise parameters σ
* ``paracrine``     ``paracrine.fitting.petab.load_petab`` + ``fit_multistart``

it measures

* t_obj        median time of one objective evaluation at the nominal parameters [ms]
* t_obj+grad   median time of objective + gradient (pyPESTO: AMICI forward sensitivities;
               paracrine: residuals + forward-difference Jacobian ``fd_jacobian``) [ms]
* s/start      mean wall time of one local optimisation [s]
* hits/starts  starts ending within ``--tol`` (0.1) of the best known nllh
* E[t_hit]     expected time to the first hit = total wall time of all multistarts / hits [s]
               (CPU time too where it is measurable: single process)

Run it inside the benchmark virtualenv (see benchmarks/README.md)::

    /work/bench-venv/bin/python benchmarks/petab_vs_pypesto.py --starts 100 --seeds 3 \
        --workers 1 --out benchmarks/results/petab_vs_pypesto.json

Timings are wall-clock unless labelled CPU; on a loaded machine they are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

TOOLS = ("pypesto", "pypesto-hier", "paracrine")
DEFAULT_PROBLEMS = ("Boehm_JProteomeRes2014", "Raia_CancerResearch2011")

# Best known nllh per problem, and where the number comes from.
BEST_KNOWN: dict[str, tuple[float, str]] = {
    "Boehm_JProteomeRes2014": (
        138.2220,
        "best known optimum (= nominal parameters), shared/petab/README",
    ),
    "Raia_CancerResearch2011": (
        346.0898,
        "nllh at the benchmark collection's nominal (published best-fit) parameters, "
        "shared/petab/README",
    ),
    "Brannmark_JBC2010": (
        141.8892,
        "nllh at the benchmark collection's nominal parameters, shared/petab/README",
    ),
}


class NotApplicable(Exception):
    """A tool cannot run on a problem (the reason is reported, not raised)."""


# --------------------------------------------------------------------------------------------
# paracrine side
# --------------------------------------------------------------------------------------------
def _median_time(fun, n: int, budget_s: float) -> tuple[float, float, int]:
    """Median wall and median CPU time of *fun* over up to *n* calls (stop after *budget_s*)."""
    walls, cpus = [], []
    start = time.perf_counter()
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fun()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        if time.perf_counter() - start > budget_s and len(walls) >= 5:
            break
    return statistics.median(walls), statistics.median(cpus), len(walls)


def run_paracrine(
    name: str,
    yaml_path: Path,
    *,
    n_starts: int,
    seeds: list[int],
    workers: int,
    n_timing: int,
    timing_budget_s: float,
    log=print,
) -> dict[str, Any]:
    try:
        from paracrine.fitting import fd_jacobian, fit_multistart
        from paracrine.fitting.petab import load_petab
    except ImportError as exc:
        raise NotApplicable(
            f"paracrine PEtab import not available ({exc}); needs "
            "paracrine.fitting.petab.load_petab and paracrine.fitting.engine."
            "fit_multistart/fd_jacobian, and `pip install -e .` in this venv"
        ) from exc

    out: dict[str, Any] = {"tool": "paracrine", "problem": name}
    t0 = time.perf_counter()
    problem = load_petab(str(yaml_path))
    options = problem.configure_for_fitting()  # what `paracrine petab fit` uses
    out["options"] = dict(options)
    out["rtol"], out["fd_step"] = float(problem.rtol), float(problem.fd_step)
    out["setup_s"] = time.perf_counter() - t0
    x = np.asarray(problem.nominal_x, dtype=float)
    lower = np.asarray(problem.lower, dtype=float)
    upper = np.asarray(problem.upper, dtype=float)
    f_nom = float(problem.nllh(x))
    problem.update_inner(x)  # hold the noise levels, as the optimiser's rounds do
    out["nllh_nominal"] = f_nom
    out["n_free"] = int(x.size)
    log(
        f"  [paracrine] {name}: setup {out['setup_s']:.1f} s, nllh(nominal) = {f_nom:.4f}, "
        f"{x.size} free parameters"
    )

    def fresh():
        # The PEtab problem caches the simulations of the last x (the optimiser evaluates
        # residuals and Jacobian at the same point); forget them so that every timed call
        # simulates, as pyPESTO's objective does (the noise levels held for the optimiser's
        # round stay, as they do inside a fit).
        problem.clear_cache()

    def obj():
        fresh()
        return problem.residuals(x)

    def obj_nllh():
        fresh()
        return problem.nllh(x)

    def obj_and_fd_jac():
        fresh()
        r0 = problem.residuals(x)
        return fd_jacobian(problem.residuals, x, r0, lower=lower, upper=upper)

    problem_jac = getattr(problem, "jacobian", None)

    def obj_and_problem_jac():
        fresh()
        problem.residuals(x)
        return problem_jac(x)

    t_res, c_res, n1 = _median_time(obj, n_timing, timing_budget_s)
    t_nllh, _, _ = _median_time(obj_nllh, n_timing, timing_budget_s)
    t_fd, c_fd, n2 = _median_time(obj_and_fd_jac, n_timing, timing_budget_s)
    out["t_obj_ms"] = t_res * 1e3
    out["t_obj_cpu_ms"] = c_res * 1e3
    out["t_nllh_ms"] = t_nllh * 1e3
    out["t_obj_fd_jac_ms"] = t_fd * 1e3
    out["t_obj_calls"] = n1
    out["t_obj_grad_calls"] = n2
    if problem_jac is not None:
        # what fit_multistart uses by default (FitOptions.use_problem_jacobian): forward
        # differences that re-simulate only the runs a parameter affects, central differences
        # on cached simulations for observable/noise parameters
        t_pj, c_pj, _ = _median_time(obj_and_problem_jac, n_timing, timing_budget_s)
        out["t_obj_problem_jac_ms"] = t_pj * 1e3
        out["t_obj_grad_ms"] = t_pj * 1e3
        out["t_obj_grad_cpu_ms"] = c_pj * 1e3
        out["gradient"] = (
            "residuals + problem.jacobian (finite differences, as used by "
            "fit_multistart); generic fd_jacobian in t_obj_fd_jac_ms"
        )
    else:
        out["t_obj_grad_ms"] = t_fd * 1e3
        out["t_obj_grad_cpu_ms"] = c_fd * 1e3
        out["gradient"] = "residuals + forward-difference Jacobian (engine.fd_jacobian)"
    out["engine"] = f"fit_multistart(workers={workers})"

    runs = []
    for seed in seeds:
        wall0 = time.perf_counter()
        result = fit_multistart(
            problem, n_starts=n_starts, seed=seed, workers=workers, progress=False, options=options
        )
        wall = time.perf_counter() - wall0
        starts = list(result.starts)
        fvals = [
            float(s.nllh) if getattr(s, "status", "") != "failed" else float("inf") for s in starts
        ]
        start_wall = [
            float(getattr(s, "time_s", getattr(s, "wall_time", math.nan))) for s in starts
        ]
        cpu = [getattr(s, "cpu_time_s", None) for s in starts]
        runs.append(
            {
                "seed": seed,
                "n_starts": n_starts,
                "wall_s": wall,
                "cpu_s": float(sum(cpu)) if all(c is not None for c in cpu) else None,
                "fvals": fvals,
                "start_wall_s": start_wall,
                "n_failed": int(sum(not np.isfinite(f) for f in fvals)),
                "status": [str(getattr(s, "status", "")) for s in starts],
                "x_best": [float(v) for v in result.x] if result.x is not None else None,
            }
        )
        log(
            f"  [paracrine] {name} seed {seed}: {n_starts} starts in {wall:.1f} s wall, "
            f"best {min(fvals):.4f}"
        )
    out["runs"] = runs
    out["x_names"] = [str(n) for n in problem.parameter_names]
    return out


# --------------------------------------------------------------------------------------------
# aggregation and table
# --------------------------------------------------------------------------------------------
def summarise(entry: dict[str, Any], best: float, tol: float) -> dict[str, Any]:
    """Hits and expected time to the first hit, against the common *best*."""
    runs = entry.get("runs") or []
    fvals = [f for r in runs for f in r["fvals"]]
    n = len(fvals)
    hits = int(sum(f <= best + tol for f in fvals))
    wall = float(sum(r["wall_s"] for r in runs))
    cpus = [r.get("cpu_s") for r in runs]
    cpu = float(sum(cpus)) if runs and all(c is not None for c in cpus) else None
    start_times = [t for r in runs for t in r["start_wall_s"] if np.isfinite(t)]
    return {
        "n_starts": n,
        "hits": hits,
        "hits_per_seed": [int(sum(f <= best + tol for f in r["fvals"])) for r in runs],
        "best_found": float(min(fvals)) if fvals else math.nan,
        "total_wall_s": wall,
        "total_cpu_s": cpu,
        "s_per_start": float(np.mean(start_times)) if start_times else math.nan,
        "expected_time_to_hit_wall_s": wall / hits if hits else math.inf,
        "expected_time_to_hit_cpu_s": (cpu / hits if hits else math.inf)
        if cpu is not None
        else None,
    }


def _fmt(v, spec: str) -> str:
    width = int(spec.split(".")[0] or 0)
    if v is None:
        return "-".rjust(width)
    if isinstance(v, float) and math.isinf(v):
        return "inf".rjust(width)
    if isinstance(v, float) and math.isnan(v):
        return "nan".rjust(width)
    return format(v, spec)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or not math.isfinite(b):
        return None
    return a / b


def _pair(a, b, spec: str) -> str:
    """'wall/CPU' (CPU may be missing)."""
    left = _fmt(a, spec).strip()
    return left if b is None else f"{left}/{_fmt(b, spec).strip()}"


def table(results: dict[str, Any]) -> str:
    """Plain-text table; times are wall/CPU where both exist."""
    cols = (
        ("tool", 12, "<"),
        ("problem", 23, "<"),
        ("t_obj[ms]", 11, ">"),
        ("t_obj+grad[ms]", 15, ">"),
        ("s/start", 7, ">"),
        ("hits/starts", 11, ">"),
        ("E[t_hit][s]", 15, ">"),
        ("pyPESTO/paracrine", 17, ">"),
    )
    head = " ".join(f"{c:{al}{w}}" for c, w, al in cols)
    lines = [head, "-" * len(head)]
    for name, prob in results["problems"].items():
        tools = prob["tools"]
        para = tools.get("paracrine", {}).get("summary")
        for tool, entry in tools.items():
            if "error" in entry:
                err = entry["error"]
                err = err if len(err) <= 200 else err[:197] + "..."
                lines.append(f"{tool:<12} {name:<23} not run: {err}")
                continue
            s = entry["summary"]
            ratio = ratio_cpu = None
            if tool != "paracrine" and para and para["hits"]:
                ratio = _ratio(
                    s["expected_time_to_hit_wall_s"], para["expected_time_to_hit_wall_s"]
                )
                ratio_cpu = _ratio(
                    s["expected_time_to_hit_cpu_s"], para["expected_time_to_hit_cpu_s"]
                )
            cells = (
                tool,
                name,
                _pair(entry.get("t_obj_ms"), entry.get("t_obj_cpu_ms"), ".2f"),
                _pair(entry.get("t_obj_grad_ms"), entry.get("t_obj_grad_cpu_ms"), ".1f"),
                _fmt(s["s_per_start"], ".2f"),
                f"{s['hits']}/{s['n_starts']}",
                _pair(s["expected_time_to_hit_wall_s"], s["expected_time_to_hit_cpu_s"], ".2f"),
                "" if tool == "paracrine" else _pair(ratio, ratio_cpu, ".1f"),
            )
            lines.append(
                " ".join(f"{c:{al}{w}}" for c, (_, w, al) in zip(cells, cols, strict=True))
            )
        lines.append(
            f"  best nllh used for hits: {prob['best']:.4f} ({prob['best_source']}); "
            f"hit = nllh <= best + {results['meta']['tol']}"
        )
    lines.append(
        "times: wall/CPU of this process (CPU only where all work ran in it, --workers 1); "
        "t_obj: pyPESTO objective / paracrine residuals at the nominal point, median; "
        "s/start: mean wall time per start; E[t_hit] = total time of all multistarts / hits; "
        "last column: E[t_hit] of pyPESTO / paracrine"
    )
    return "\n".join(lines)


def finalise(results: dict[str, Any]) -> None:
    tol = results["meta"]["tol"]
    for name, prob in results["problems"].items():
        ref, source = BEST_KNOWN.get(name, (math.inf, "best found across all runs"))
        found = [f for e in prob["tools"].values() for r in e.get("runs", []) for f in r["fvals"]]
        best = ref
        if found and min(found) < ref - tol:
            best = min(found)
            source = (
                f"best found across all runs ({best:.4f}), below the reference {ref:.4f} ({source})"
            )
        elif not math.isfinite(ref) and found:
            best = min(found)
        prob["best"] = best
        prob["best_source"] = source
        for entry in prob["tools"].values():
            if "runs" in entry:
                entry["summary"] = summarise(entry, best, tol)


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool several results files: runs of the same (problem, tool) are concatenated."""
    merged: dict[str, Any] = {"meta": dict(parts[0]["meta"]), "problems": {}}
    merged["meta"]["merged_from"] = [p["meta"] for p in parts]
    for part in parts:
        if part["meta"].get("tol") != merged["meta"].get("tol"):
            raise SystemExit("cannot merge results with different --tol")
        for name, prob in part["problems"].items():
            target = merged["problems"].setdefault(name, {"yaml": prob.get("yaml"), "tools": {}})
            for tool, entry in prob["tools"].items():
                have = target["tools"].get(tool)
                if have is None or ("error" in have and "error" not in entry):
                    target["tools"][tool] = json.loads(json.dumps(entry))
                elif "runs" in have and "runs" in entry:
                    have["runs"].extend(json.loads(json.dumps(entry["runs"])))
    return merged


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------
def _parse_starts(text: str, problems: list[str]) -> dict[str, int]:
    if "=" not in text:
        return {p: int(text) for p in problems}
    per = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        per[key.strip()] = int(value)
    default = per.pop("default", 100)
    return {p: per.get(p, default) for p in problems}


def _parse_seeds(text: str) -> list[int]:
    if "," in text:
        return [int(s) for s in text.split(",") if s.strip()]
    return list(range(int(text)))


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    with contextlib.suppress(OSError):
        info["loadavg_start"] = os.getloadavg()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    ap.add_argument(
        "--starts",
        default="100",
        help="total starts per tool and problem, split evenly over the seeds; "
        "either N or NAME=N,...[,default=N]",
    )
    ap.add_argument("--seeds", default="3", help="number of seeds (0..k-1) or a list 'a,b,c'")
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="1: single process (pyPESTO SingleCoreEngine, paracrine workers=1); "
        "N>1: pyPESTO MultiProcessEngine(n_procs=N), paracrine workers=N",
    )
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--tol", type=float, default=0.1)
    ap.add_argument("--out", default="petab_vs_pypesto_results.json")
    ap.add_argument("--petab-dir", default=str(REPO.parent / "shared" / "petab"))
    ap.add_argument(
        "--amici-dir",
        default="/tmp/paracrine-bench-amici",
        help="where AMICI compiles the models (outside the repository)",
    )
    ap.add_argument(
        "--n-timing", type=int, default=200, help="objective calls for the median timings"
    )
    ap.add_argument(
        "--timing-budget", type=float, default=20.0, help="max seconds per timing series"
    )
    ap.add_argument("--table", metavar="JSON", help="only print the table of a results file")
    ap.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="merge results files (multistart runs of the same tool and problem are "
        "pooled, e.g. extra seeds run later) into --out and print the table",
    )
    args = ap.parse_args(argv)

    if args.table:
        results = json.loads(Path(args.table).read_text())
        finalise(results)
        print(table(results))
        return 0
    if args.merge:
        results = merge([json.loads(Path(f).read_text()) for f in args.merge])
        finalise(results)
        Path(args.out).write_text(json.dumps(results, indent=1, default=float))
        print(table(results))
        print(f"\nresults: {args.out}")
        return 0

    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}; choose from {', '.join(TOOLS)}")
    seeds = _parse_seeds(args.seeds)
    starts = _parse_starts(args.starts, problems)
    petab_dir = Path(args.petab_dir).resolve()
    amici_dir = Path(args.amici_dir).resolve()
    if str(amici_dir).startswith(str(REPO)):
        ap.error("--amici-dir must be outside the repository")

    results: dict[str, Any] = {
        "meta": {
            "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "argv": sys.argv[1:],
            "tol": args.tol,
            "seeds": seeds,
            "workers": args.workers,
            "machine": _machine(),
            "time_basis": "wall-clock (time.perf_counter) unless a field says cpu",
            "versions": {},
        },
        "problems": {},
    }
    try:
        from importlib.metadata import version

        results["meta"]["versions"]["paracrine"] = version("paracrine")
    except Exception:
        pass
    if any(t.startswith("pypesto") for t in tools):
        try:
            import _pypesto_side

            results["meta"]["versions"].update(_pypesto_side.versions())
        except ImportError as exc:
            print(f"pyPESTO side unavailable ({exc}): install the bench extra", file=sys.stderr)

    out_path = Path(args.out)

    def save():
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(results, indent=1, default=float))

    for name in problems:
        yaml_path = petab_dir / name / f"{name}.yaml"
        n_total = starts[name]
        per_seed = max(1, math.ceil(n_total / len(seeds)))
        print(
            f"{name}: {per_seed} starts x {len(seeds)} seeds per tool, workers={args.workers}",
            flush=True,
        )
        prob = results["problems"].setdefault(name, {"yaml": str(yaml_path), "tools": {}})
        for tool in tools:
            try:
                if tool == "paracrine":
                    entry = run_paracrine(
                        name,
                        yaml_path,
                        n_starts=per_seed,
                        seeds=seeds,
                        workers=args.workers,
                        n_timing=args.n_timing,
                        timing_budget_s=args.timing_budget,
                    )
                else:
                    try:
                        import _pypesto_side
                    except ImportError as exc:
                        raise NotApplicable(f"pyPESTO/AMICI/fides not installed ({exc})") from exc
                    try:
                        entry = _pypesto_side.run(
                            name,
                            yaml_path,
                            hierarchical=(tool == "pypesto-hier"),
                            n_starts=per_seed,
                            seeds=seeds,
                            workers=args.workers,
                            amici_dir=amici_dir,
                            n_timing=args.n_timing,
                            timing_budget_s=args.timing_budget,
                        )
                    except _pypesto_side.NotApplicable as exc:
                        raise NotApplicable(str(exc)) from exc
            except NotApplicable as exc:
                print(f"  [{tool}] {name}: not run — {exc}", flush=True)
                entry = {"tool": tool, "problem": name, "error": str(exc)}
            except Exception as exc:
                traceback.print_exc()
                entry = {"tool": tool, "problem": name, "error": f"{type(exc).__name__}: {exc}"}
            prob["tools"][tool] = entry
            sys.stdout.flush()
            save()

    with contextlib.suppress(OSError):
        results["meta"]["machine"]["loadavg_end"] = os.getloadavg()
    finalise(results)
    save()
    print()
    print(table(results))
    print(f"\nresults: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
