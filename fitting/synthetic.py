"""Simulated blot experiments from a mechanistic model: for planning experiments and for
testing that fits recover known parameters (the NIST-style reference suite of paracrine).

The data are SYNTHETIC and say so: their ``source`` starts with ``"synthetic:"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from paracrine.errors import InvalidInputError
from paracrine.models import Model
from paracrine.simulations import arm_conditions, arm_doses, simulate
from paracrine.vocabulary import CONTROL, condition_label

__all__ = ["resample_blots", "simulate_blots"]


def simulate_blots(
    model: Model | str,
    *,
    cell_lines: Sequence[str] | None = None,
    il6_ng_ml: float = 50.0,
    vegf_ng_ml: float = 50.0,
    times_min: Sequence[float] = (0, 5, 15, 30, 60, 120, 240),
    readouts: Sequence[str] = ("pERK", "pAKT", "p38", "pSTAT3"),
    replicates: int = 3,
    cv: float = 0.2,
    scale_sd_log: float = 0.5,
    seed: int = 0,
):  # -> paracrine.data.BlotData
    """Blot time courses of control, IL-6, VEGF and IL-6+VEGF simulated from *model*.

    Each (cell line, read-out, replicate) is one blot carrying every condition and time point
    (the unstimulated lane at t = 0 is the control's), with a log-normal scale factor
    (median 1, σ_log = *scale_sd_log*) and independent log-normal noise of coefficient of
    variation *cv* on every band: ``value = scale × fraction × ε``.

    Returns
    -------
    paracrine.data.BlotData
        Source ``"synthetic:<variant>:seed=<seed>"``.
    """
    from paracrine.data import BLOT_COLUMNS, BlotData

    model = Model(model) if isinstance(model, str) else model
    if not 0 < cv < 2:
        raise InvalidInputError(f"cv: expected a coefficient of variation in (0, 2), received {cv}")
    if replicates < 1:
        raise InvalidInputError(f"replicates: expected >= 1, received {replicates}")
    lines = tuple(cell_lines or model.cell_lines)
    arms = arm_doses(il6_ng_ml, vegf_ng_ml)
    conditions = arm_conditions(lines, il6_ng_ml, vegf_ng_ml)
    times = np.asarray(times_min, dtype=float)
    sim = simulate(model, conditions, times=times, outputs=list(readouts))
    rng = np.random.default_rng(seed)
    sigma_log = float(np.sqrt(np.log1p(cv * cv)))
    rows = []
    for line in lines:
        for readout in readouts:
            for rep in range(1, replicates + 1):
                blot = f"{line}_{readout}_r{rep}"
                scale = float(np.exp(rng.normal(0.0, scale_sd_log)))
                for arm, (il6, vegf) in arms.items():
                    course = sim.get(condition_label(arm, line), readout)
                    for k, t in enumerate(times):
                        if t == 0 and arm != CONTROL:
                            continue  # the stimulated arms share the unstimulated 0-min lane
                        value = scale * course[k] * float(np.exp(rng.normal(0.0, sigma_log)))
                        rows.append((line, arm, il6, vegf, float(t), readout, value, rep, blot))
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(BLOT_COLUMNS))
    frame["normalization"] = "synthetic"
    return BlotData.from_frame(frame, source=f"synthetic:{model.variant}:seed={seed}")


def resample_blots(problem, x, *, seed: int = 0, sigma: float | None = None):
    """Data of the same design as *problem*'s, drawn from its fit at *x* (parametric bootstrap).

    Every band is redrawn as ``scale_blot × fraction × ε`` with the fitted blot scales, the
    model fractions at *x* and log-normal noise of the fitted σ (or *sigma*): the null
    distribution of a statistic under the fitted model, with the data's own lanes, blots and
    replicates. Only log-normal problems with one shared noise level are supported.

    Returns
    -------
    paracrine.data.BlotData
        Source ``"synthetic:bootstrap:<variant>:seed=<seed>"``.
    """
    from paracrine.data import BlotData

    if problem.noise != "lognormal":
        raise InvalidInputError("resample_blots: only log-normal blot problems are supported")
    frame = problem.data_with_fit(np.asarray(x, dtype=float))
    if sigma is None:
        sigmas = list(problem.inner_parameters(x)["sigma"].values())
        if len(sigmas) != 1:
            raise InvalidInputError(
                f"resample_blots: expected one noise level, the problem has {len(sigmas)}; "
                "give sigma="
            )
        sigma = float(sigmas[0])
    rng = np.random.default_rng(seed)
    noise = np.exp(rng.normal(0.0, sigma, size=len(frame)))
    out = problem.data.frame.copy()
    out["value"] = frame["model"].to_numpy() * noise
    return BlotData.from_frame(
        out, source=f"synthetic:bootstrap:{problem.model.variant}:seed={seed}"
    )
