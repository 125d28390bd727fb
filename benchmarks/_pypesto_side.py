"""pyPESTO + AMICI + fides side of ``benchmarks/petab_vs_pypesto.py``.

Only the benchmark imports this module, and only inside the benchmark virtualenv that has the
``bench`` extra (pypesto, amici, fides); the ``paracrine`` package never does.

Two configurations per PEtab problem:

* ``pypesto``: ``PetabImporter(problem)`` → AMICI objective (forward sensitivities, AMICI's
  default tolerances, FIM for the Hessian) → ``FidesOptimizer()`` with default settings
  (hybrid BFGS/FIM Hessian), start points drawn by ``PetabStartpoints`` (uniform on the
  parameter scale within the bounds — PEtab v1 ``sample_from_prior`` — using numpy's global
  RNG, so ``np.random.seed(seed)`` right before ``minimize`` seeds them).
* ``pypesto-hier``: the same, but with pyPESTO's hierarchical optimisation of the noise
  parameters: every estimated noise parameter that is a plain σ (noise formula exactly
  ``noiseParameter1_<observable>``) is flagged ``parameterType = sigma`` (linear scale, as
  pyPESTO requires) in an in-memory copy of the parameter table (written to the work dir for
  inspection; ../shared is never touched) and ``PetabImporter(..., hierarchical=True)`` solves
  them analytically in an inner problem. Problems whose noise model is not a plain σ
  (Raia: σ = abs + rel·value) are reported as not applicable.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def _quiet_logs() -> None:
    """AMICI logs every failed integration (ERROR) and its parameter mapping (DEBUG).

    Failed simulations are counted by pyPESTO as failed evaluations anyway; keep the console
    readable. AMICI configures its sub-loggers itself, so set every one that exists.
    """
    levels = {
        "amici": logging.CRITICAL,
        "pypesto": logging.WARNING,
        "fides": logging.WARNING,
        "petab": logging.WARNING,
    }
    for logger_name in list(logging.root.manager.loggerDict):
        for prefix, level in levels.items():
            if logger_name == prefix or logger_name.startswith(prefix + "."):
                logging.getLogger(logger_name).setLevel(level)
    for prefix, level in levels.items():
        logging.getLogger(prefix).setLevel(level)


def _ensure_swig() -> None:
    """AMICI compiles each model with SWIG: it must be the SWIG that built AMICI's core.

    The ``amici`` wheel built by pip uses the ``swig`` PyPI package (installed into the venv),
    while CMake would otherwise find Debian's /usr/bin/swig4.0; a model wrapped by a different
    SWIG fails at ``get_model()`` with "'SwigPyObject' object has no attribute 'module'".
    """
    if os.environ.get("SWIG"):
        return
    venv_swig = Path(sys.executable).with_name("swig")
    if venv_swig.exists():
        os.environ["SWIG"] = str(venv_swig)
    else:
        found = shutil.which("swig")
        if found:
            os.environ["SWIG"] = found


def versions() -> dict[str, str]:
    import amici
    import fides
    import petab.v1
    import pypesto
    import scipy

    return {
        "pypesto": pypesto.__version__,
        "amici": amici.__version__,
        "fides": fides.__version__,
        "petab": petab.v1.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def _plain_sigma_parameters(petab_problem) -> tuple[list[str], list[str]]:
    """Estimated noise parameters that are a plain σ, and observables whose noise is not."""
    import petab.v1 as petab

    obs = petab_problem.observable_df
    meas = petab_problem.measurement_df
    par = petab_problem.parameter_df
    sigma_ids: set[str] = set()
    not_plain: list[str] = []
    for obs_id, row in obs.iterrows():
        formula = str(row[petab.NOISE_FORMULA]).strip()
        if formula != f"noiseParameter1_{obs_id}":
            not_plain.append(f"{obs_id}: sigma = {formula}")
            continue
        rows = meas[meas[petab.OBSERVABLE_ID] == obs_id]
        for value in rows.get(petab.NOISE_PARAMETERS, []):
            for token in str(value).split(";"):
                token = token.strip()
                if token in par.index and int(par.loc[token, petab.ESTIMATE]) == 1:
                    sigma_ids.add(token)
    return sorted(sigma_ids), not_plain


def load_petab_problem(yaml_path: Path, hierarchical: bool, work_dir: Path):
    """The PEtab problem, flagged for hierarchical σ if asked; raise NotApplicable if not."""
    import petab.v1 as petab

    problem = petab.Problem.from_yaml(str(yaml_path))
    if not hierarchical:
        return problem, {}
    sigma_ids, not_plain = _plain_sigma_parameters(problem)
    if not_plain or not sigma_ids:
        raise NotApplicable(
            "pyPESTO's hierarchical option solves only plain noise parameters analytically "
            f"(noise formula = noiseParameter1_<observable>); {len(not_plain)} of "
            f"{len(problem.observable_df)} observables here have another noise model, e.g. "
            + not_plain[0]
            if not_plain
            else "no estimated noise parameter to solve hierarchically"
        )
    par = problem.parameter_df.copy()
    par["parameterType"] = None
    par.loc[sigma_ids, "parameterType"] = "sigma"
    # pyPESTO requires linear scale and its own bounds [0, inf) for inner σ (it raises on the
    # PEtab bounds [1e-5, 1e5]); the optimal σ of these problems lies far inside either.
    par.loc[sigma_ids, petab.PARAMETER_SCALE] = petab.LIN
    par[petab.LOWER_BOUND] = par[petab.LOWER_BOUND].astype(float)
    par[petab.UPPER_BOUND] = par[petab.UPPER_BOUND].astype(float)
    par.loc[sigma_ids, petab.LOWER_BOUND] = 0.0
    par.loc[sigma_ids, petab.UPPER_BOUND] = np.inf
    problem.parameter_df = par
    work_dir.mkdir(parents=True, exist_ok=True)
    petab.write_parameter_df(par, work_dir / "parameters_hierarchical.tsv")
    return problem, {"inner_sigma": sigma_ids}


class NotApplicable(Exception):
    """The configuration cannot run on this problem (reason in the message)."""


def _nominal_vector(pypesto_problem, petab_problem) -> np.ndarray:
    nominal = dict(zip(petab_problem.x_ids, petab_problem.x_nominal_scaled, strict=True))
    names = np.asarray(pypesto_problem.x_names)[pypesto_problem.x_free_indices]
    return np.array([nominal[n] for n in names], dtype=float)


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


def _x_best(starts) -> list[float] | None:
    ok = [s for s in starts if s.fval is not None and np.isfinite(s.fval) and s.x is not None]
    if not ok:
        return None
    return [float(v) for v in min(ok, key=lambda s: s.fval).x]


def run(
    name: str,
    yaml_path: Path,
    *,
    hierarchical: bool,
    n_starts: int,
    seeds: list[int],
    workers: int,
    amici_dir: Path,
    n_timing: int,
    timing_budget_s: float,
    log=print,
) -> dict[str, Any]:
    """Time the objective and run seeded multistarts; return the raw numbers."""
    _ensure_swig()
    _quiet_logs()
    import pypesto
    import pypesto.engine
    import pypesto.optimize
    import pypesto.petab

    tool = "pypesto-hier" if hierarchical else "pypesto"
    out: dict[str, Any] = {"tool": tool, "problem": name}
    variant = "hier" if hierarchical else "default"
    model_dir = amici_dir / f"{name}_{variant}"
    petab_problem, extra = load_petab_problem(yaml_path, hierarchical, model_dir)
    out.update(extra)

    t0 = time.perf_counter()
    importer = pypesto.petab.PetabImporter(
        petab_problem,
        output_folder=str(model_dir),
        model_name=f"{name}_{variant}",
        hierarchical=hierarchical,
    )
    problem = importer.create_problem()
    _quiet_logs()
    out["setup_s"] = time.perf_counter() - t0  # includes AMICI compilation the first time
    x_nom = _nominal_vector(problem, petab_problem)
    f_nom = float(problem.objective(x_nom))
    out["nllh_nominal"] = f_nom
    out["n_free"] = len(x_nom)
    log(
        f"  [{tool}] {name}: setup {out['setup_s']:.1f} s, nllh(nominal) = {f_nom:.4f}, "
        f"{len(x_nom)} outer parameters"
    )

    t_obj, c_obj, n1 = _median_time(lambda: problem.objective(x_nom), n_timing, timing_budget_s)
    t_grad, c_grad, n2 = _median_time(
        lambda: problem.objective(x_nom, sensi_orders=(0, 1)), n_timing, timing_budget_s
    )
    out["t_obj_ms"] = t_obj * 1e3
    out["t_obj_grad_ms"] = t_grad * 1e3
    out["t_obj_cpu_ms"] = c_obj * 1e3
    out["t_obj_grad_cpu_ms"] = c_grad * 1e3
    out["t_obj_calls"] = n1
    out["t_obj_grad_calls"] = n2
    out["gradient"] = "AMICI forward sensitivities"

    optimizer = pypesto.optimize.FidesOptimizer(verbose=logging.WARNING)
    engine = (
        pypesto.engine.SingleCoreEngine()
        if workers <= 1
        else pypesto.engine.MultiProcessEngine(n_procs=workers)
    )
    out["engine"] = "SingleCoreEngine" if workers <= 1 else f"MultiProcessEngine(n_procs={workers})"
    out["optimizer"] = repr(optimizer)
    runs = []
    for seed in seeds:
        # PetabStartpoints → petab.sample_from_prior draws from the legacy global RNG
        np.random.seed(seed)  # noqa: NPY002
        wall0 = time.perf_counter()
        cpu0 = time.process_time()
        result = pypesto.optimize.minimize(
            problem=problem,
            optimizer=optimizer,
            n_starts=n_starts,
            engine=engine,
            progress_bar=False,
        )
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        starts = result.optimize_result.list
        fvals = [float(s.fval) if s.fval is not None else float("inf") for s in starts]
        times = [float(s.time) if s.time is not None else float("nan") for s in starts]
        runs.append(
            {
                "seed": seed,
                "n_starts": n_starts,
                "wall_s": wall,
                # process CPU time of this process: meaningful only for SingleCoreEngine
                "cpu_s": cpu if workers <= 1 else None,
                "fvals": fvals,
                "start_wall_s": times,
                "n_failed": int(sum(not np.isfinite(f) for f in fvals)),
                # best start's full parameter vector (pyPESTO scale), to re-check the optimum
                "x_best": _x_best(starts),
            }
        )
        log(
            f"  [{tool}] {name} seed {seed}: {n_starts} starts in {wall:.1f} s wall, "
            f"best {min(fvals):.4f}"
        )
    out["runs"] = runs
    out["x_names"] = [str(n) for n in problem.x_names]
    return out
