"""Objective and Jacobian cost of the blot problem and of Boehm_JProteomeRes2014 (PEtab).

Runs against whatever ``paracrine`` the interpreter imports, so the same script measures two
commits side by side (one venv per commit, e.g. an old commit in a ``git worktree``)::

    python benchmarks/bench_objective.py --repeats 20          # this checkout
    /path/to/old-venv/bin/python benchmarks/bench_objective.py --repeats 20

Prints one JSON line: median milliseconds per objective (residuals) and per Jacobian.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

BOEHM = Path(__file__).resolve().parents[2] / "shared/petab/Boehm_JProteomeRes2014"


def _median_ms(fun, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fun()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    from paracrine.fitting import BlotProblem, load_petab

    out = {}
    blot = BlotProblem("independent", "reference_blots_synthetic")
    x = (blot.lower + blot.upper) / 2
    blot.update_inner(x)
    moved = [x + 1e-9 * (k + 1) for k in range(args.repeats)]  # defeat the last-point cache
    it = iter(moved * 2)
    out["blot_objective_ms"] = _median_ms(lambda: blot.residuals(next(it)), args.repeats)
    out["blot_jacobian_ms"] = _median_ms(lambda: blot.jacobian(next(it)), max(args.repeats // 4, 3))
    if (BOEHM / "Boehm_JProteomeRes2014.yaml").exists():
        boehm = load_petab(BOEHM / "Boehm_JProteomeRes2014.yaml")
        xb = boehm.nominal_x
        boehm.update_inner(xb)
        pts = iter([xb + 1e-9 * (k + 1) for k in range(20 * args.repeats)])
        out["boehm_objective_ms"] = _median_ms(lambda: boehm.residuals(next(pts)), 5 * args.repeats)
        out["boehm_jacobian_ms"] = _median_ms(lambda: boehm.jacobian(next(pts)), 5 * args.repeats)
    print(json.dumps({k: round(v, 3) for k, v in out.items()}))


if __name__ == "__main__":
    main()
