"""PEtab speed benchmark: paracrine against pyPESTO + AMICI + fides, same machine, same process.

For each PEtab problem (default: Boehm_JProteomeRes2014, Raia_CancerResearch2011,
Brannmark_JBC2010 and Bachmann_MSB2011 from ../shared/petab) and each tool

* ``pypesto``         pyPESTO default: AMICI objective + ``FidesOptimizer()`` defaults
* ``pypesto-hier``    pyPESTO with hierarchical (analytical) noise parameters σ
* ``paracrine``       ``load_petab`` + ``configure_for_fitting`` + ``fit_multistart``: what
                      ``paracrine petab fit`` runs (finite-difference Jacobian)
* ``paracrine-sens``  the same after ``use_fastest_gradient(problem)`` (fitting/petab/gradients:
                      CasADi/CVODES sensitivities where they agree with finite differences and
                      are not much slower; the route chosen is recorded)
* ``amici``           timings only: AMICI objective, objective + gradient by forward and by
                      adjoint sensitivities (the pyPESTO objective, no optimisation)

it measures

* t_obj        median time of one objective evaluation at the nominal parameters [ms]
* t_obj+grad   median time of objective + gradient (pyPESTO: AMICI forward sensitivities;
               paracrine: residuals + ``problem.jacobian`` — finite differences, or the
               sensitivities ``problem.sensitivities`` provides; every paracrine call at a point
               its caches have not seen) [ms]
* s/start      mean wall time of one local optimisation [s]
* hits/starts  starts ending within ``--tol`` (0.1) of the best known value
* E[t_hit]     expected time to the first hit = total wall time of all multistarts / hits [s]
               (CPU time too where it is measurable: single process)
* best/seed    the best value each tool reaches per seed

The value compared is what each tool minimises: pyPESTO's objective includes the objective
priors of the parameter table (``PetabImporter.create_problem``), and so does paracrine's
``nllh`` (the negative log-posterior; Bachmann_MSB2011 is the only one of the four problems
with objective priors). Both values at the nominal parameters are recorded to check that they
are the same quantity.

Seeds are 21, 22, 23 by default (``--seeds``), not 0–2: numbers on seeds nobody tuned on.

Run it inside the benchmark virtualenv (see benchmarks/README.md)::

    /work/bench-venv/bin/python benchmarks/petab_vs_pypesto.py --starts 102 \
        --workers 1 --out benchmarks/results/petab_vs_pypesto_<date>.json

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

TOOLS = ("pypesto", "pypesto-hier", "paracrine", "paracrine-sens", "amici")
PARACRINE_TOOLS = ("paracrine", "paracrine-sens")
DEFAULT_PROBLEMS = (
    "Boehm_JProteomeRes2014",
    "Raia_CancerResearch2011",
    "Brannmark_JBC2010",
    "Bachmann_MSB2011",
)
DEFAULT_SEEDS = (21, 22, 23)

# Best known nllh per problem, and where the number comes from.
BEST_KNOWN: dict[str, tuple[float, str]] = {
    "Boehm_JProteomeRes2014": (
        138.2220,
        "best known optimum (= nominal parameters), shared/petab/README",
    ),
    "Raia_CancerResearch2011": (
        345.3098,
        "best known optimum, shared/petab/README (the collection's nominal point gives 346.0898)",
    ),
    # No published best optimum found for these two: the reference is the nominal point's value
    # and the best value found by either tool in the run replaces it when lower (finalise).
    "Brannmark_JBC2010": (
        141.8892,
        "nllh at the benchmark collection's nominal parameters, shared/petab/README",
    ),
    # Bachmann: shared/petab/README's -418.4057 is the likelihood alone; both tools minimise the
    # negative log-posterior (the parameterScaleNormal prior of init_EpoRJAK2 included).
    "Bachmann_MSB2011": (
        -419.1295,
        "negative log-posterior at the collection's nominal parameters (nllh -418.4057 + "
        "prior -0.7237; paracrine nllh_nominal(priors=True)); no better optimum published here",
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


def _fresh_points(x: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """Points next to *x* (moves of 1e-12 relative) that no cache has seen: the PEtab problem
    caches the simulations of its last point and the sensitivity provider its last Jacobian."""
    scale = np.maximum(1.0, np.abs(x))
    k = 0
    while True:
        k += 1
        yield np.clip(x + 1e-12 * k * scale, lower, upper)


def run_paracrine(
    name: str,
    yaml_path: Path,
    *,
    n_starts: int,
    seeds: list[int],
    workers: int,
    n_timing: int,
    timing_budget_s: float,
    gradient: str = "fd",
    on_seed=None,
    log=print,
) -> dict[str, Any]:
    """paracrine's side: timings of every Jacobian route, then seeded multistarts.

    *gradient*: ``"fd"`` — the problem's finite-difference Jacobian (what ``paracrine petab
    fit`` uses); ``"auto"`` — :func:`use_fastest_gradient` first (sensitivities where they win).
    """
    try:
        from paracrine.fitting import fd_jacobian, fit_multistart
        from paracrine.fitting.petab import load_petab
    except ImportError as exc:
        raise NotApplicable(
            f"paracrine PEtab import not available ({exc}); needs "
            "paracrine.fitting.petab.load_petab and paracrine.fitting.engine."
            "fit_multistart/fd_jacobian, and `pip install -e .` in this venv"
        ) from exc

    tool = "paracrine" if gradient == "fd" else "paracrine-sens"
    out: dict[str, Any] = {"tool": tool, "problem": name}
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
    out["nllh_nominal"] = f_nom  # free parameters nominal, inner ones at their optimum
    with contextlib.suppress(Exception):
        # every parameter at its table value: the benchmark collection's reference point
        out["nllh_nominal_all"] = float(problem.nllh_nominal(priors=True))
        out["nllh_nominal_all_no_priors"] = float(problem.nllh_nominal(priors=False))
        out["neg_log_prior_nominal"] = float(problem.neg_log_prior(x))
        out["prior_parameters"] = list(getattr(problem, "prior_parameter_names", ()))
    problem.update_inner(x)  # hold the noise levels, as the optimiser's rounds do
    out["n_free"] = int(x.size)
    log(
        f"  [{tool}] {name}: setup {out['setup_s']:.1f} s, nllh(nominal) = {f_nom:.4f}"
        + (
            f" (all table values: {out['nllh_nominal_all']:.4f} with priors, "
            f"{out['nllh_nominal_all_no_priors']:.4f} without)"
            if "nllh_nominal_all" in out
            else ""
        )
        + f", {x.size} free parameters",
        flush=True,
    )

    points = _fresh_points(x, lower, upper)

    def obj():
        return problem.residuals(next(points))

    def obj_nllh():
        return problem.nllh(next(points))

    def obj_and_fd_jac():
        p = next(points)
        r0 = problem.residuals(p)
        return fd_jacobian(problem.residuals, p, r0, lower=lower, upper=upper)

    def obj_and_problem_jac():
        p = next(points)
        problem.residuals(p)
        return problem.jacobian(p)

    t_res, c_res, n1 = _median_time(obj, n_timing, timing_budget_s)
    t_nllh, _, _ = _median_time(obj_nllh, n_timing, timing_budget_s)
    t_fd, _, _ = _median_time(obj_and_fd_jac, n_timing, timing_budget_s)
    out["t_obj_ms"] = t_res * 1e3
    out["t_obj_cpu_ms"] = c_res * 1e3
    out["t_nllh_ms"] = t_nllh * 1e3
    out["t_obj_calls"] = n1
    out["t_obj_generic_fd_jac_ms"] = t_fd * 1e3
    # the problem's finite differences (fit_multistart's default, FitOptions.use_problem_jacobian):
    # forward differences that re-simulate only the runs a parameter affects, central
    # differences on cached simulations for observable/noise parameters
    saved = getattr(problem, "sensitivities", None)
    problem.sensitivities = None
    t_pj, c_pj, n2 = _median_time(obj_and_problem_jac, n_timing, timing_budget_s)
    out["t_obj_grad_fd_ms"] = t_pj * 1e3
    out["t_obj_grad_fd_cpu_ms"] = c_pj * 1e3
    out["t_obj_grad_calls"] = n2
    problem.sensitivities = saved

    # sensitivities (fitting/petab/gradients.py), always timed, whatever the multistart uses
    try:
        from paracrine.fitting.petab.gradients import (
            CasadiSensitivities,
            choose_gradient,
            gradient_error,
        )
    except ImportError as exc:
        out["sensitivities_error"] = f"not available: {exc}"
        CasadiSensitivities = None
    if CasadiSensitivities is not None:
        try:
            t1 = time.perf_counter()
            provider = CasadiSensitivities(problem)
            provider.build_all()
            out["sensitivities_setup_s"] = time.perf_counter() - t1
            problem.sensitivities = provider
            problem.jacobian(next(points))  # warm-up
            t_s, c_s, _ = _median_time(obj_and_problem_jac, n_timing, timing_budget_s)
            out["t_obj_grad_sens_ms"] = t_s * 1e3
            out["t_obj_grad_sens_cpu_ms"] = c_s * 1e3
            out["sensitivities_failed_runs"] = int(provider.n_failures)
            out["sensitivities_unsupported_runs"] = len(provider.unsupported_runs)
            p = next(points)
            jac_s = problem.jacobian(p)
            problem.sensitivities = None
            problem.clear_cache()
            jac_fd = problem.jacobian(p)
            out["sensitivities_vs_fd_rel_difference"] = gradient_error(jac_s, jac_fd)
        except Exception as exc:  # the route is optional: report, do not stop the benchmark
            out["sensitivities_error"] = f"{type(exc).__name__}: {exc}"
        finally:
            problem.sensitivities = saved
            problem.reset()
            problem.update_inner(x)

    if gradient == "fd":
        out["gradient"] = "finite differences (problem.jacobian, sensitivities=None)"
        problem.sensitivities = None
        out["t_obj_grad_ms"], out["t_obj_grad_cpu_ms"] = t_pj * 1e3, c_pj * 1e3
    else:
        t1 = time.perf_counter()
        choice = choose_gradient(problem)
        problem.sensitivities = choice.sensitivities
        out["choose_gradient_s"] = time.perf_counter() - t1
        out["gradient"] = f"use_fastest_gradient: {choice.route} ({choice.reason})"
        out["gradient_route"] = choice.route
        if choice.route == "sensitivities" and "t_obj_grad_sens_ms" in out:
            out["t_obj_grad_ms"] = out["t_obj_grad_sens_ms"]
            out["t_obj_grad_cpu_ms"] = out["t_obj_grad_sens_cpu_ms"]
        else:
            out["t_obj_grad_ms"], out["t_obj_grad_cpu_ms"] = t_pj * 1e3, c_pj * 1e3
    log(
        f"  [{tool}] {name}: t_obj {t_res * 1e3:.2f} ms, t_obj+grad fd {t_pj * 1e3:.1f} ms, "
        f"sens {out.get('t_obj_grad_sens_ms', math.nan):.1f} ms; multistart gradient: "
        f"{out['gradient']}",
        flush=True,
    )
    out["engine"] = f"fit_multistart(workers={workers})"
    if gradient != "fd" and out.get("gradient_route") != "sensitivities":
        # the same fit as the `paracrine` row: not repeated
        out["runs_skipped"] = "use_fastest_gradient chose finite differences: see `paracrine`"
        seeds = []

    runs: list[dict[str, Any]] = []
    out["runs"] = runs
    out["x_names"] = [str(n) for n in problem.parameter_names]
    if on_seed is not None:
        on_seed(out)  # the timings are saved before the (possibly long) multistarts
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
                # CPU of the starts (sum over workers' starts when workers > 1)
                "cpu_s": float(sum(cpu)) if all(c is not None for c in cpu) else None,
                "fvals": fvals,
                "start_wall_s": start_wall,
                "n_failed": int(sum(not np.isfinite(f) for f in fvals)),
                "status": [str(getattr(s, "status", "")) for s in starts],
                "x_best": [float(v) for v in result.x] if result.x is not None else None,
                "loadavg_end": list(os.getloadavg()),
            }
        )
        log(
            f"  [{tool}] {name} seed {seed}: {n_starts} starts in {wall:.1f} s wall, "
            f"best {min(fvals):.4f}, load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        if on_seed is not None:
            on_seed(out)  # save what is finished
    return out


def run_amici_timings(
    name: str, yaml_path: Path, *, amici_dir: Path, n_timing: int, timing_budget_s: float, log=print
) -> dict[str, Any]:
    """AMICI through pyPESTO's objective (default configuration), timings only: objective,
    objective + gradient by forward sensitivities (pyPESTO's default) and by adjoints."""
    try:
        import _pypesto_side
    except ImportError as exc:
        raise NotApplicable(f"pyPESTO/AMICI/fides not installed ({exc})") from exc
    _pypesto_side._ensure_swig()
    _pypesto_side._quiet_logs()
    import amici
    import pypesto.petab

    out: dict[str, Any] = {"tool": "amici", "problem": name}
    model_dir = amici_dir / f"{name}_default"  # the model pyPESTO default compiles (shared)
    petab_problem, _ = _pypesto_side.load_petab_problem(yaml_path, False, model_dir)
    t0 = time.perf_counter()
    importer = pypesto.petab.PetabImporter(
        petab_problem, output_folder=str(model_dir), model_name=f"{name}_default"
    )
    problem = importer.create_problem()
    _pypesto_side._quiet_logs()
    out["setup_s"] = time.perf_counter() - t0
    x = _pypesto_side._nominal_vector(problem, petab_problem)
    out["nllh_nominal"] = float(problem.objective(x))
    out["n_free"] = len(x)
    objective = problem.objective
    if not hasattr(objective, "amici_solver"):
        # with objective priors pyPESTO aggregates the AMICI objective and the prior: the
        # timed objective includes the prior (as in the fits), the solver is the AMICI part's
        out["objective"] = type(objective).__name__ + " (AMICI objective + priors)"
        objective = next(o for o in objective._objectives if hasattr(o, "amici_solver"))
    solver = objective.amici_solver
    try:
        enum = amici.SensitivityMethod
    except AttributeError:  # AMICI >= 1.0
        from amici.sim.sundials import SensitivityMethod as enum

    def method(*names):
        for n in names:
            if hasattr(solver, n):
                return getattr(solver, n)
        return lambda *a: math.nan

    getter = method("get_sensitivity_method", "getSensitivityMethod")
    setter = method("set_sensitivity_method", "setSensitivityMethod")
    out["solver"] = {
        "rtol": float(method("get_relative_tolerance", "getRelativeTolerance")()),
        "atol": float(method("get_absolute_tolerance", "getAbsoluteTolerance")()),
        "default_sensitivity_method": str(getter()),
    }
    t_obj, c_obj, n1 = _median_time(lambda: problem.objective(x), n_timing, timing_budget_s)
    out["t_obj_ms"], out["t_obj_cpu_ms"], out["t_obj_calls"] = t_obj * 1e3, c_obj * 1e3, n1
    default = getter()
    for label, method in (("forward", enum.forward), ("adjoint", enum.adjoint)):
        setter(method)
        try:
            g = problem.objective(x, sensi_orders=(0, 1))
            ok = bool(np.all(np.isfinite(np.asarray(g[1] if isinstance(g, tuple) else g))))
            t_g, c_g, n2 = _median_time(
                lambda: problem.objective(x, sensi_orders=(0, 1)), n_timing, timing_budget_s
            )
            out[f"t_obj_grad_{label}_ms"] = t_g * 1e3
            out[f"t_obj_grad_{label}_cpu_ms"] = c_g * 1e3
            out[f"t_obj_grad_{label}_calls"] = n2
            out[f"gradient_{label}_finite"] = ok
            if label == "forward":
                gf = np.asarray(g[1])
            else:
                out["adjoint_vs_forward_rel_difference"] = float(
                    np.linalg.norm(np.asarray(g[1]) - gf) / max(np.linalg.norm(gf), 1e-300)
                )
        except Exception as exc:
            out[f"t_obj_grad_{label}_error"] = f"{type(exc).__name__}: {exc}"
    setter(default)
    out["t_obj_grad_ms"] = out.get("t_obj_grad_forward_ms")
    out["t_obj_grad_cpu_ms"] = out.get("t_obj_grad_forward_cpu_ms")
    out["gradient"] = "AMICI forward sensitivities (adjoint in t_obj_grad_adjoint_ms)"
    log(
        f"  [amici] {name}: nllh(nominal) {out['nllh_nominal']:.4f}, t_obj {t_obj * 1e3:.2f} ms, "
        f"fwd {out.get('t_obj_grad_forward_ms', math.nan):.1f} ms, "
        f"adj {out.get('t_obj_grad_adjoint_ms', math.nan):.1f} ms",
        flush=True,
    )
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
        "seeds": [r["seed"] for r in runs],
        "best_per_seed": [float(min(r["fvals"])) if r["fvals"] else math.nan for r in runs],
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


def _seed_text(entry: dict[str, Any]) -> str:
    """'21-23 (34 each)' or '21,24,27 (6 each)': the seeds of a tool's runs."""
    seeds = [r["seed"] for r in entry.get("runs", [])]
    sizes = sorted({r["n_starts"] for r in entry.get("runs", [])})
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        text = f"{seeds[0]}-{seeds[-1]}"
    else:
        text = ",".join(map(str, seeds))
    return f"{text} ({'/'.join(map(str, sizes))} each)"


def table(results: dict[str, Any]) -> str:
    """Plain-text table; times are wall/CPU where both exist."""
    cols = (
        ("tool", 14, "<"),
        ("problem", 23, "<"),
        ("t_obj[ms]", 11, ">"),
        ("t_obj+grad[ms]", 15, ">"),
        ("s/start", 7, ">"),
        ("hits/starts", 11, ">"),
        ("E[t_hit][s]", 15, ">"),
        ("pyP/this", 9, ">"),
        ("pyP-hier/this", 13, ">"),
        ("best per seed", 30, "<"),
    )
    head = " ".join(f"{c:{al}{w}}" for c, w, al in cols)
    lines = [head, "-" * len(head)]
    for name, prob in results["problems"].items():
        tools = prob["tools"]

        def e_hit(tool: str, tools=tools) -> tuple[float | None, float | None]:
            s = tools.get(tool, {}).get("summary")
            if not s or not s["hits"]:
                return None, None
            return s["expected_time_to_hit_wall_s"], s["expected_time_to_hit_cpu_s"]

        for tool, entry in tools.items():
            if "error" in entry:
                err = entry["error"]
                err = err if len(err) <= 200 else err[:197] + "..."
                lines.append(f"{tool:<14} {name:<23} not run: {err}")
                continue
            s = entry.get("summary")
            if s is not None and not s["n_starts"]:
                s = None
            grad = _pair(entry.get("t_obj_grad_ms"), entry.get("t_obj_grad_cpu_ms"), ".1f")
            if tool == "amici" and entry.get("t_obj_grad_adjoint_ms") is not None:
                grad = (
                    f"fwd {_fmt(entry.get('t_obj_grad_forward_ms'), '.1f').strip()} "
                    f"adj {_fmt(entry.get('t_obj_grad_adjoint_ms'), '.1f').strip()}"
                )
            if s is None:  # timings only
                cells = (
                    tool,
                    name,
                    _pair(entry.get("t_obj_ms"), entry.get("t_obj_cpu_ms"), ".2f"),
                    grad,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            else:
                ratios = ["", ""]
                if tool in PARACRINE_TOOLS and s["hits"]:
                    own = (s["expected_time_to_hit_wall_s"], s["expected_time_to_hit_cpu_s"])
                    for k, other in enumerate(("pypesto", "pypesto-hier")):
                        if other not in tools or "summary" not in tools[other]:
                            continue
                        o_wall, o_cpu = e_hit(other)
                        if o_wall is None:
                            ratios[k] = "inf (0 hits)"
                            continue
                        ratios[k] = _pair(
                            _ratio(o_wall, own[0]),
                            _ratio(o_cpu, own[1]) if own[1] and o_cpu else None,
                            ".1f",
                        )
                cells = (
                    tool,
                    name,
                    _pair(entry.get("t_obj_ms"), entry.get("t_obj_cpu_ms"), ".2f"),
                    grad,
                    _fmt(s["s_per_start"], ".2f"),
                    f"{s['hits']}/{s['n_starts']}",
                    _pair(s["expected_time_to_hit_wall_s"], s["expected_time_to_hit_cpu_s"], ".2f"),
                    ratios[0],
                    ratios[1],
                    " ".join(f"{v:.3f}" for v in s.get("best_per_seed", [])),
                )
            lines.append(
                " ".join(f"{c:{al}{w}}" for c, (_, w, al) in zip(cells, cols, strict=True))
            )
        lines.append(
            f"  best value used for hits: {prob['best']:.4f} ({prob['best_source']}); "
            f"hit = value <= best + {results['meta']['tol']}; seeds "
            + "; ".join(f"{t} {_seed_text(e)}" for t, e in tools.items() if e.get("runs"))
        )
    lines.append(
        "times: wall/CPU of this process (CPU only where all work ran in it, --workers 1); "
        "t_obj: pyPESTO objective / paracrine residuals at the nominal point, median; "
        "s/start: mean wall time per start; E[t_hit] = total time of all multistarts / hits; "
        "pyP/this, pyP-hier/this: E[t_hit] of pyPESTO default / hierarchical over this row's"
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
            who = [
                t
                for t, e in prob["tools"].items()
                if any(f <= best + 1e-9 for r in e.get("runs", []) for f in r["fvals"])
            ]
            source = f"best found by either tool in this run (by {', '.join(who)})"
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
                entry = json.loads(json.dumps(entry))
                if have is None or ("error" in have and "error" not in entry):
                    target["tools"][tool] = entry
                elif "runs" in entry and "runs" not in have:
                    # timings from an earlier part (e.g. a --timing-only pass on a quiet
                    # machine), multistarts from this one: keep both, the latter's metadata
                    # (its own timings, the gradient route it used) under "multistart_part"
                    have["runs"] = entry.pop("runs")
                    have.setdefault("multistart_parts", []).append(entry)
                elif "runs" in have and "runs" in entry:
                    have["runs"].extend(entry.pop("runs"))
                    have.setdefault("multistart_parts", []).append(entry)
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
    """'a,b,c' — those seeds; 'k' — the first k of 21, 22, 23, ... (not 0..k-1)."""
    if "," in text:
        return [int(s) for s in text.split(",") if s.strip()]
    return list(range(DEFAULT_SEEDS[0], DEFAULT_SEEDS[0] + int(text)))


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
    ap.add_argument(
        "--seeds",
        default=",".join(map(str, DEFAULT_SEEDS)),
        help="a list 'a,b,c' or a number k of seeds 21..20+k (default 21,22,23)",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="1: single process (pyPESTO SingleCoreEngine, paracrine workers=1); "
        "N>1: pyPESTO MultiProcessEngine(n_procs=N), paracrine workers=N",
    )
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument(
        "--timing-only",
        default="",
        help="comma-separated problems (e.g. Lucarelli_CellSystems2018) for which only the "
        "objective and gradient timings run, no multistarts",
    )
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

    timing_only = {p.strip() for p in args.timing_only.split(",") if p.strip()}
    for name in problems + [p for p in sorted(timing_only) if p not in problems]:
        yaml_path = petab_dir / name / f"{name}.yaml"
        only_timing = name in timing_only
        n_total = starts.get(name, 0)
        per_seed = max(1, math.ceil(n_total / len(seeds)))
        print(
            f"{name}: "
            + (
                "timings only"
                if only_timing
                else f"{per_seed} starts x {len(seeds)} seeds {seeds} per tool"
            )
            + f", workers={args.workers}, load {os.getloadavg()[0]:.2f}, "
            f"{datetime.now(UTC).strftime('%H:%M:%S')} UTC",
            flush=True,
        )
        prob = results["problems"].setdefault(name, {"yaml": str(yaml_path), "tools": {}})
        for tool in tools:
            if only_timing and tool == "pypesto-hier":
                continue
            load0 = os.getloadavg()
            t_tool = time.perf_counter()
            try:
                if tool in PARACRINE_TOOLS:
                    entry = run_paracrine(
                        name,
                        yaml_path,
                        n_starts=per_seed,
                        seeds=[] if only_timing else seeds,
                        workers=args.workers,
                        n_timing=args.n_timing,
                        timing_budget_s=args.timing_budget,
                        gradient="fd" if tool == "paracrine" else "auto",
                        on_seed=lambda e, tool=tool, prob=prob: (
                            prob["tools"].__setitem__(tool, e),
                            save(),
                        ),
                    )
                elif tool == "amici":
                    entry = run_amici_timings(
                        name,
                        yaml_path,
                        amici_dir=amici_dir,
                        n_timing=args.n_timing,
                        timing_budget_s=args.timing_budget,
                    )
                elif only_timing:
                    continue  # the amici row has pyPESTO's objective timings
                else:
                    try:
                        import _pypesto_side
                    except ImportError as exc:
                        raise NotApplicable(f"pyPESTO/AMICI/fides not installed ({exc})") from exc
                    try:
                        # one seed at a time, saved after each: a run stopped early keeps
                        # the seeds it finished (timings only in the first call)
                        entry = None
                        for k, seed in enumerate(seeds):
                            part = _pypesto_side.run(
                                name,
                                yaml_path,
                                hierarchical=(tool == "pypesto-hier"),
                                n_starts=per_seed,
                                seeds=[seed],
                                workers=args.workers,
                                amici_dir=amici_dir,
                                n_timing=args.n_timing if k == 0 else 1,
                                timing_budget_s=args.timing_budget,
                            )
                            if entry is None:
                                entry = part
                            else:
                                entry["runs"].extend(part["runs"])
                            entry["loadavg_before"] = list(load0)
                            prob["tools"][tool] = entry
                            save()
                    except _pypesto_side.NotApplicable as exc:
                        raise NotApplicable(str(exc)) from exc
            except NotApplicable as exc:
                print(f"  [{tool}] {name}: not run — {exc}", flush=True)
                entry = {"tool": tool, "problem": name, "error": str(exc)}
            except Exception as exc:
                traceback.print_exc()
                entry = {"tool": tool, "problem": name, "error": f"{type(exc).__name__}: {exc}"}
            if only_timing:
                entry.pop("runs", None)
            entry["loadavg_before"] = list(load0)
            entry["loadavg_after"] = list(os.getloadavg())
            entry["tool_wall_s"] = time.perf_counter() - t_tool
            entry["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
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
