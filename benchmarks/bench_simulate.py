"""Benchmark: time to simulate one condition, and the overhead of paracrine's layer.

For every variant: median wall time of one condition (IL-6 + VEGF, 0–240 min, 50 output
times, 4 observables) after pre-equilibration, through ``Simulator.run`` (the path ``simulate``
and the fitting objective use), against a bare libRoadRunner call doing the same work
(restore the steady state, add the ligands, ``simulate(times=…)``) on the same compiled model,
interleaved in one process. Also: one pre-equilibration, and ``simulate()`` end to end (which
builds its engine per call).

Also: an IL-6 × VEGF dose matrix, 32 × 32 doses, all four read-outs and metrics.

Run:  python benchmarks/bench_simulate.py [--repeats 400] [--json out.json]
Targets (DESIGN.md): ≤ 1 ms per condition on a 2-core machine; overhead ratio ≤ 1.3;
dose matrix ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from paracrine.models import OBSERVABLES, Model, list_variants
from paracrine.simulations import (
    Condition,
    check_times,
    dose_matrix,
    simulate,
    standard_conditions,
)
from paracrine.simulations import (
    ModelSimulator as Simulator,
)
from paracrine.simulations.model_simulator import PREEQ_HORIZON_MIN


def bench_variant(variant: str, repeats: int) -> dict:
    model = Model(variant)
    times = check_times(np.linspace(0, 240, 50))
    cond = Condition("IL-6+VEGF", "T47D", il6_ng_ml=50, vegf_ng_ml=50)

    sim = Simulator(model)
    pvec = sim.parameter_vector("T47D")
    sim.run(cond, times, pvec)  # compile + pre-equilibrate once (cached)

    # the bare libRoadRunner equivalent, on its own instance of the same compiled model
    import roadrunner

    rr = roadrunner.RoadRunner(model.sbml)
    rr.integrator.relative_tolerance = 1e-6
    rr.integrator.absolute_tolerance = 1e-8
    for name, value in model.parameter_values("T47D").items():
        rr.setValue(name, value)
    rr.reset()
    rr.simulate(0, PREEQ_HORIZON_MIN, 2)
    steady = rr.model.getFloatingSpeciesAmounts().copy()
    species = list(rr.model.getFloatingSpeciesIds())
    idx = np.array([species.index("IL6"), species.index("VEGF")], dtype=np.int32)
    rr.model.setFloatingSpeciesAmounts(steady)
    # added on top of what the steady state holds (autocrine VEGF in some variants)
    doses = rr.model.getFloatingSpeciesConcentrations()[idx] + np.array([50 / 21.0, 50 / 45.0])
    rr.timeCourseSelections = ["time", *OBSERVABLES.values()]

    def bare():
        rr.model.setFloatingSpeciesAmounts(steady)
        rr.model.setFloatingSpeciesConcentrations(idx, doses)
        return rr.simulate(times=times)

    def layer():
        return sim.run(cond, times, pvec)

    # same work: agree within the integrator's global error at rtol 1e-6 (local tolerance; the
    # global error over 240 min through the SOCS3 delay chain reaches ~2e-5, measured)
    np.testing.assert_allclose(np.asarray(bare())[:, 1:], layer(), rtol=1e-4, atol=1e-6)
    t_bare, t_layer = [], []
    for _ in range(repeats):  # interleaved, so drifts in machine load hit both alike
        t0 = time.perf_counter()
        bare()
        t1 = time.perf_counter()
        layer()
        t2 = time.perf_counter()
        t_bare.append(t1 - t0)
        t_layer.append(t2 - t1)

    t_pre = []
    for k in range(max(repeats // 10, 20)):
        fresh = pvec.copy()
        fresh[0] *= 1 + 1e-9 * (k + 1)  # defeat the pre-equilibration cache
        t0 = time.perf_counter()
        sim.preequilibrate(fresh)
        t_pre.append(time.perf_counter() - t0)

    t_e2e = []
    for _ in range(5):
        t0 = time.perf_counter()
        simulate(model, standard_conditions("T47D"), times=times)
        t_e2e.append(time.perf_counter() - t0)
    return {
        "variant": variant,
        "bare_ms": 1e3 * float(np.median(t_bare)),
        "paracrine_ms": 1e3 * float(np.median(t_layer)),
        "overhead_ratio": float(np.median(t_layer) / np.median(t_bare)),
        "preequilibration_ms": 1e3 * float(np.median(t_pre)),
        "simulate_4_conditions_end_to_end_ms": 1e3 * float(np.median(t_e2e)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=400)
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args()
    rows = [bench_variant(v, args.repeats) for v in list_variants()]
    doses = np.concatenate([[0.0], np.geomspace(0.1, 100.0, 31)])
    t_matrix = []
    for _ in range(3):
        t0 = time.perf_counter()
        dose_matrix("independent", doses, doses, "T47D")  # 32 × 32, 4 read-outs, 4 metrics
        t_matrix.append(time.perf_counter() - t0)
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"{'variant':22s} {'bare [ms]':>10s} {'paracrine [ms]':>15s} {'ratio':>6s} "
        f"{'pre-eq [ms]':>12s} {'simulate() 4 cond [ms]':>23s}"
    )
    for r in rows:
        print(
            f"{r['variant']:22s} {r['bare_ms']:10.3f} {r['paracrine_ms']:15.3f} "
            f"{r['overhead_ratio']:6.2f} {r['preequilibration_ms']:12.3f} "
            f"{r['simulate_4_conditions_end_to_end_ms']:23.1f}"
        )
    print(
        f"dose matrix 32 × 32 (IL-6 × VEGF, 4 read-outs, 4 metrics): {min(t_matrix):.2f} s (best of 3)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"variants": rows, "dose_matrix_32x32_s": min(t_matrix)}, fh, indent=2)


if __name__ == "__main__":
    main()
