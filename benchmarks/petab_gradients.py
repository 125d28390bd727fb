"""Accuracy and cost of the Jacobian routes of PEtab problems (issue 13).

Per problem and route — ``fd`` (today's sparse forward differences, PetabProblem.jacobian) and
the sensitivity hook of paracrine.fitting.petab.gradients (``auto``, ``augmented``: the
sensitivity equations written out as one CVODES ODE, ``casadi-ad``: CasADi's derivatives of
its CVODES integrator) — at the nominal point and at a seeded perturbed point (±0.2 in scale
units, inside the bounds), and what :func:`choose_gradient` picks:

* accuracy: relative Frobenius error of the residual Jacobian against central differences
  (step 1e-4 on the parameter scale) with CVODE rtol 1e-10, atol 1e-12, and relative error
  of the nllh gradient ``Jᵀr`` (noise levels held at their optimum, so ``0.5‖r‖² = nllh +
  const``) against central differences of ``nllh(precise=True)`` at the same tolerances;
* cost: median wall time of one objective (residuals) and of one objective + Jacobian at
  points the last-point cache has not seen, and the route's setup time (SBML translation and
  CasADi function building; nothing is compiled).

    python benchmarks/petab_gradients.py --repeats 5
    python benchmarks/petab_gradients.py --problems Boehm_JProteomeRes2014 --repeats 20
    python benchmarks/petab_gradients.py --problems Boehm_JProteomeRes2014 Brannmark_JBC2010 \
        --fit-starts 12 --seed 2     # fits with each route -> petab_gradients_fits.json

Writes benchmarks/results/petab_gradients.json and prints a table. The machine's load
average is recorded: timings on a shared machine are noisy (medians are reported).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared/petab"
RESULTS = Path(__file__).resolve().parent / "results"
#: fd = PetabProblem.jacobian as it is; the others: CasadiSensitivities(method=...) as its hook
ROUTES = ("fd", "auto", "augmented", "casadi-ad")
PROBLEMS = (
    "Boehm_JProteomeRes2014",
    "Brannmark_JBC2010",
    "Lucarelli_CellSystems2018",
    "Bachmann_MSB2011",
)


def _central_jacobian(problem, x: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference residual Jacobian (noise levels held at their optimum at x)."""
    problem.update_inner(x)
    r0 = problem.residuals(x)
    jac = np.empty((r0.size, x.size))
    for j in range(x.size):
        up, down = x.copy(), x.copy()
        up[j] += step
        down[j] -= step
        jac[:, j] = (problem.residuals(up) - problem.residuals(down)) / (2 * step)
    return jac, r0


def _central_gradient(problem, x: np.ndarray, step: float) -> np.ndarray:
    g = np.empty(x.size)
    for j in range(x.size):
        up, down = x.copy(), x.copy()
        up[j] += step
        down[j] -= step
        g[j] = (problem.nllh(up, precise=True) - problem.nllh(down, precise=True)) / (2 * step)
    return g


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def _timed(fun, points) -> float:
    times = []
    for point in points:
        t0 = time.perf_counter()
        fun(point)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(name: str, repeats: int, seed: int) -> dict:
    from paracrine.errors import PetabError
    from paracrine.fitting.petab import load_petab
    from paracrine.fitting.petab.gradients import (
        CasadiSensitivities,
        UnsupportedModel,
        choose_gradient,
    )

    yaml = SHARED / name / f"{name}.yaml"
    out: dict = {"problem": name}
    try:
        t0 = time.perf_counter()
        problem = load_petab(yaml)
        out["load_seconds"] = time.perf_counter() - t0
        tight = load_petab(yaml, rtol=1e-10, atol=1e-12)
    except PetabError as exc:
        out["error"] = f"not loadable: {exc}"
        return out
    out["n_free"] = len(problem.parameter_names)
    out["n_runs"] = len(problem.spec.runs)
    out["n_data"] = problem.n_data
    rng = np.random.default_rng(seed)
    lo, hi = np.asarray(problem.lower), np.asarray(problem.upper)
    nominal = np.clip(problem.nominal_x, lo, hi)
    perturbed = np.clip(nominal + rng.uniform(-0.2, 0.2, nominal.size), lo, hi)
    points = {"nominal": nominal, "perturbed": perturbed}
    refs = {}
    for label, x in points.items():
        jac_ref, _ = _central_jacobian(tight, x, 1e-4)
        refs[label] = (jac_ref, _central_gradient(tight, x, 1e-4))

    routes: dict = {}
    for route in ROUTES:
        problem.sensitivities = None
        problem.reset()
        entry: dict = {"setup_seconds": 0.0}
        if route != "fd":
            t0 = time.perf_counter()
            try:
                provider = CasadiSensitivities(problem, method=route)
                provider.build_all()
            except (UnsupportedModel, ImportError) as exc:
                routes[route] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            entry["setup_seconds"] = time.perf_counter() - t0
            problem.sensitivities = provider
            t0 = time.perf_counter()
            problem.update_inner(nominal)
            problem.jacobian(nominal - 1e-9)  # builds what the first evaluation builds
            entry["first_jacobian_seconds"] = time.perf_counter() - t0
        for label, x in points.items():
            problem.reset()
            problem.update_inner(x)
            r = problem.residuals(x)
            jac = problem.jacobian(x)
            jac_ref, g_ref = refs[label]
            entry[f"jacobian_error_{label}"] = _rel(jac, jac_ref)
            entry[f"gradient_error_{label}"] = _rel(jac.T @ r, g_ref)
        # points the last-point cache has not seen (tiny moves change nothing else)
        moved = [nominal + 1e-10 * (k + 1) for k in range(2 * repeats)]
        problem.update_inner(nominal)
        entry["objective_seconds"] = _timed(problem.residuals, moved[:repeats])

        def both(xk: np.ndarray, problem=problem) -> None:
            problem.residuals(xk)
            problem.jacobian(xk)

        entry["objective_gradient_seconds"] = _timed(both, moved[repeats:])
        if route != "fd":
            entry["failed_runs"] = provider.n_failures
            entry["unsupported_runs"] = provider.unsupported_runs
        routes[route] = entry
    problem.sensitivities = None
    choice = choose_gradient(problem)
    out["automatic_choice"] = {
        "route": choice.route,
        "reason": choice.reason,
        "probe_setup_seconds": choice.setup_seconds,
    }
    out["routes"] = routes
    return out


def fits(name: str, n_starts: int, seed: int) -> dict:
    """Multistart fits with finite differences and with sensitivities (same seed, one
    process, the problem's own fit options): wall time and the nllh of every start."""
    from paracrine.fitting import fit_multistart
    from paracrine.fitting.petab import load_petab
    from paracrine.fitting.petab.gradients import CasadiSensitivities

    out: dict = {"problem": name, "n_starts": n_starts, "seed": seed}
    for route in ("fd", "sensitivities"):
        problem = load_petab(SHARED / name / f"{name}.yaml")
        options = problem.configure_for_fitting()
        if route == "sensitivities":
            problem.sensitivities = CasadiSensitivities(problem)
        t0 = time.perf_counter()
        result = fit_multistart(
            problem, n_starts=n_starts, seed=seed, workers=1, progress=False, options=options
        )
        nllh = sorted(float(s.nllh) for s in result.starts if np.isfinite(s.nllh))
        out[route] = {"wall_seconds": time.perf_counter() - t0, "nllh": nllh}
    best = min(min(out[r]["nllh"], default=np.inf) for r in ("fd", "sensitivities"))
    out["best_nllh"] = best
    for route in ("fd", "sensitivities"):
        values = np.array(out[route]["nllh"])
        out[route]["within_0.01_of_best"] = int(np.sum(values <= best + 0.01))
        out[route]["within_0.1_of_best"] = int(np.sum(values <= best + 0.1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=RESULTS / "petab_gradients.json")
    parser.add_argument(
        "--fit-starts",
        type=int,
        default=0,
        help="instead of the gradient table: multistart fits with each route (this many "
        "starts per problem), written to petab_gradients_fits.json",
    )
    args = parser.parse_args()
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} not found: the public PEtab problems are needed")
    if args.fit_starts:
        record = {
            "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
            "results": [fits(name, args.fit_starts, args.seed) for name in args.problems],
        }
        target = args.out.with_name("petab_gradients_fits.json")
        target.write_text(json.dumps(record, indent=1))
        for res in record["results"]:
            for route in ("fd", "sensitivities"):
                r = res[route]
                print(
                    f"{res['problem']:26s} {route:13s} {r['wall_seconds']:7.1f} s  best "
                    f"{min(r['nllh'], default=np.inf):.4f}  within 0.01/0.1 of {res['best_nllh']:.4f}: "
                    f"{r['within_0.01_of_best']}/{r['within_0.1_of_best']} of {res['n_starts']}"
                )
        return
    load = os.getloadavg()
    results = [measure(name, args.repeats, args.seed) for name in args.problems]
    record = {
        "load_average_1_5_15": [round(v, 2) for v in load],
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "repeats": args.repeats,
        "reference": "central differences, step 1e-4, CVODE rtol 1e-10 atol 1e-12",
        "routes": (
            "fd: CVODE rtol 1e-6, forward differences step 1e-3; auto/augmented/casadi-ad: "
            "CasadiSensitivities(method=...), CVODES rtol 1e-6, atol 1e-8"
        ),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    header = (
        f"{'problem':26s} {'route':9s} {'setup s':>8s} {'1st J s':>8s} {'obj ms':>8s} {'obj+J ms':>9s} "
        f"{'J err nom':>10s} {'J err pert':>10s} {'g err nom':>10s} {'g err pert':>10s}"
    )
    print(header)
    for res in results:
        if "error" in res:
            print(f"{res['problem']:26s} {res['error']}")
            continue
        for route, e in res["routes"].items():
            if "error" in e:
                print(f"{res['problem']:26s} {route:9s} {e['error']}")
                continue
            print(
                f"{res['problem']:26s} {route:9s} {e['setup_seconds']:8.3f} "
                f"{e.get('first_jacobian_seconds', float('nan')):8.3f} "
                f"{1e3 * e['objective_seconds']:8.2f} {1e3 * e['objective_gradient_seconds']:9.2f} "
                f"{e['jacobian_error_nominal']:10.2e} {e['jacobian_error_perturbed']:10.2e} "
                f"{e['gradient_error_nominal']:10.2e} {e['gradient_error_perturbed']:10.2e}"
            )
    for res in results:
        if "automatic_choice" in res:
            choice = res["automatic_choice"]
            print(f"{res['problem']}: choose_gradient -> {choice['route']} ({choice['reason']})")
    print(f"load average {record['load_average_1_5_15']} -> {record['load_average_end']}")


if __name__ == "__main__":
    main()
