"""Global sensitivity of the fitted model over its parameter uncertainty (issue 11).

Which kinetic parameters control the combination's sustained pERK, pAKT and p38 in MCF-7?
Morris screening over every shared kinetic parameter of a blot fit, each log-uniform between
the 2.5% and 97.5% quantiles of that fit's MCMC ensemble (``paracrine ensemble``), then Sobol
indices (S1, ST with bootstrap CIs) of the top-ranked parameters over the same box, the others
held at the best fit. Outputs: the IL-6+VEGF arm's late level (120–240 min) and peak, fold
over basal.

Run:  python benchmarks/global_sensitivity.py --fit paracrine-demo/fit.json
          --ensemble ens/ensemble.json [--trajectories 20] [--top 6] [--n-base 256]
          [--json benchmarks/results/global_sensitivity.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", required=True)
    parser.add_argument("--ensemble", required=True)
    parser.add_argument("--trajectories", type=int, default=20)
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument("--n-base", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from paracrine.fitting import BlotFit
    from paracrine.fitting.ensemble import Ensemble
    from paracrine.simulations import (
        Condition,
        metric_function,
        morris_screening,
        sobol_indices,
    )
    from paracrine.simulations.sensitivity import bounds_from_ensemble

    fit = BlotFit.load(args.fit)
    ens = Ensemble.from_json(args.ensemble)
    shared = [i for i, n in enumerate(ens.parameter_names) if "[" not in n]
    names = [ens.parameter_names[i] for i in shared]
    bounds = bounds_from_ensemble(ens.samples[:, shared], names, scale="log10")
    bounds = {n: (lo, hi) for n, (lo, hi) in bounds.items() if hi > lo * (1 + 1e-9)}
    conditions = [
        Condition("basal", "MCF-7"),
        Condition("IL-6+VEGF", "MCF-7", il6_ng_ml=50.0, vegf_ng_ml=50.0),
    ]
    func = metric_function(
        fit.model,
        conditions,
        metrics=("peak", "late"),
        readouts=("pERK", "pAKT", "p38"),
        parameter_names=list(bounds),
    )
    outputs = [n for n in func.output_names if "IL-6+VEGF" in n]
    t0 = time.perf_counter()
    morris = morris_screening(
        func, bounds, trajectories=args.trajectories, seed=args.seed, outputs=outputs
    )
    t_morris = time.perf_counter() - t0
    ranking = morris.ranking()
    top = list(ranking.index[: args.top])
    n_morris = args.trajectories * (len(bounds) + 1)
    print(f"Morris ({n_morris} evaluations, {t_morris:.1f} s): top {top}")
    t0 = time.perf_counter()
    sobol = sobol_indices(
        func,
        {n: bounds[n] for n in top},
        n_base=args.n_base,
        seed=args.seed,
        outputs=outputs,
        on_failure="drop",
    )
    t_sobol = time.perf_counter() - t0
    table = sobol.to_dataframe()
    print(f"Sobol ({sobol.n_evaluations} evaluations, {t_sobol:.1f} s, {sobol.n_failed} failed)")
    print(table.round(3).to_string())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "command": "python benchmarks/global_sensitivity.py "
                    + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
                    "bounds_log10": {n: list(np.log10(b)) for n, b in bounds.items()},
                    "morris_ranking": {k: float(v) for k, v in ranking.items()},
                    "morris_s": t_morris,
                    "sobol": table.to_dict(orient="records"),
                    "sobol_s": t_sobol,
                    "sobol_failed": sobol.n_failed,
                },
                fh,
                indent=2,
                default=float,
            )


if __name__ == "__main__":
    main()
