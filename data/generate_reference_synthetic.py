"""Generate paracrine's bundled reference data — SYNTHETIC, paper-shaped, seeded.

De Luca et al. (J Cell Biochem 2012;113:3363–3370) publish no numbers we can use, so this
script writes data that encode the paper's four claims under the assumptions stated here and
in ``README.md`` beside it. The time courses come from a phenomenological template (gamma-shaped
transients plus a slow plateau), NOT from paracrine's mechanistic models, so that fitting a
mechanism to them is a real test.

Run ``python -m paracrine.data.generate_reference_synthetic [--out DIR] [--seed N]``; with the
defaults it reproduces the bundled CSV files byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from paracrine.data._csv import write_csv
from paracrine.data._schema import (
    ANTI_IL6,
    BEVACIZUMAB,
    BLOT_COLUMNS,
    BLOT_SCHEMA,
    CONDITION_ORDER,
    MSC_CM,
    READOUT_COLUMNS,
    READOUT_SCHEMA,
    Schema,
    condition_components,
)
from paracrine.vocabulary import ARMS, CELL_LINES, CONTROL, IL6_ARM, READOUTS, VEGF_ARM

__all__ = [
    "BLOTS_FILE",
    "READOUTS_FILE",
    "SEED",
    "generate_blots",
    "generate_readouts",
    "main",
    "true_fold",
    "write_reference",
]

SEED = 20121101  # De Luca et al. 2012, J Cell Biochem vol. 113, issue 11; any fixed seed works
BLOTS_FILE = "reference_blots_synthetic.csv"
READOUTS_FILE = "reference_migration_synthetic.csv"

# Cell lines and read-outs are paracrine.vocabulary's, in its order; the blots hold the
# paper's four arms.
CONDITIONS: tuple[str, ...] = ARMS
IL6_NG_ML = 50.0  # ≈ 2.4 nM at 21 kDa
VEGF_NG_ML = 50.0  # ≈ 1.1 nM VEGF-A165 (BIOLOGY.md)
# Early and late time points go on two gels; both carry the same unstimulated (control, 0 min)
# lysate as a reference lane, which ties their scale factors together.
EARLY_MIN = (5.0, 15.0, 30.0)
LATE_MIN = (60.0, 120.0, 240.0)
TIMES_MIN = (0.0, *EARLY_MIN, *LATE_MIN)
REPLICATES = 3

LANE_CV = 0.20  # log-normal band noise (Kreutz 2007; Degasperi 2014: CV ~0.2)
SCALE_LOG_SD = 0.5  # per-blot scale factor: log-normal, median 1
NORMALIZATION = "loading_control"

# Amplitude of each single ligand's transient at its peak, as fold above basal, for a cell
# line with factor 1; kinetics of the gamma-shaped transient (peak time, shape); residual:
# fraction of the amplitude left as a slow tail.
KINETICS = {
    #         IL-6  VEGF  t_peak  shape  residual
    "pERK": (1.6, 2.0, 10.0, 2.0, 0.05),
    "pAKT": (1.2, 1.6, 15.0, 1.5, 0.05),
    "p38": (1.0, 1.4, 15.0, 1.5, 0.05),
    "pSTAT3": (4.0, 0.15, 30.0, 1.5, 0.25),
}
# Combination: the transients add, times SYNERGY, and a sustained plateau rises (time constant
# 20 min) to PLATEAU × the larger single amplitude and decays slowly (600 min). pSTAT3 gets no
# plateau: the paper claims persistence for ERK, AKT and p38 only.
SYNERGY = 1.2
PLATEAU = {"pERK": 1.0, "pAKT": 1.0, "p38": 1.0, "pSTAT3": 0.0}

# Cell-line factors scaling the IL-6 and VEGF amplitudes, and basal level (loading-control
# ratio, arbitrary units) of each read-out. gp130 is low in MCF-7 and high in T47D
# (BIOLOGY.md); VEGFR2 numbers are unknown for all three, so VEGF factors differ only mildly.
# SK-Br-3 (HER2-amplified) is given a higher basal pERK/pAKT: an assumption.
LINES = {
    #           IL-6  VEGF  basal pERK, pAKT, p38, pSTAT3
    "MCF-7": (0.5, 1.0, (0.30, 0.25, 0.20, 0.15)),
    "T47D": (1.3, 0.9, (0.25, 0.30, 0.20, 0.20)),
    "SK-Br-3": (1.0, 1.1, (0.60, 0.50, 0.20, 0.15)),
}

# Phenotypes: true fold changes over control (24-h transwell migration; 72-h proliferation).
# The migration experiments: the four arms, MSC-CM, and MSC-CM with each antibody and both.
MIGRATION_CONDITIONS: tuple[str, ...] = CONDITION_ORDER
MIGRATION_FOLD = {
    "MCF-7": (1.0, 1.35, 1.60, 2.20, 2.60, 1.95, 1.95, 1.35),
    "T47D": (1.0, 1.90, 1.50, 2.70, 3.00, 2.30, 2.00, 1.45),
    "SK-Br-3": (1.0, 1.65, 1.65, 2.60, 2.80, 2.05, 2.05, 1.40),
}
MIGRATION_CV, MIGRATION_N = 0.10, 4
PROLIFERATION_CV, PROLIFERATION_N = 0.06, 6
BEVACIZUMAB_UG_ML = 100.0
ANTI_IL6_UG_ML = 10.0
MSC_CM_FRACTION = 0.5


def _transient(t: np.ndarray, t_peak: float, shape: float) -> np.ndarray:
    """Gamma-shaped pulse, 0 at t = 0, peak 1 at t_peak."""
    x = np.asarray(t, dtype=float) / t_peak
    return np.where(x > 0, x**shape * np.exp(shape * (1.0 - x)), 0.0)


def _tail(t: np.ndarray, rise_min: float, decay_min: float) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    return (1.0 - np.exp(-t / rise_min)) * np.exp(-t / decay_min)


def true_fold(
    cell_line: str, readout: str, condition: str, time_min: Sequence[float]
) -> np.ndarray:
    """Noise-free fold over basal of the template at the given times (min)."""
    il6, vegf, t_peak, shape, residual = KINETICS[readout]
    f_il6, f_vegf, _ = LINES[cell_line]
    agents = _agents(condition)
    a_il6 = il6 * f_il6 * (IL6_ARM in agents)
    a_vegf = vegf * f_vegf * (VEGF_ARM in agents)
    t = np.asarray(time_min, dtype=float)
    combined = a_il6 > 0 and a_vegf > 0
    amplitude = (a_il6 + a_vegf) * (SYNERGY if combined else 1.0)
    fold = 1.0 + amplitude * (_transient(t, t_peak, shape) + residual * _tail(t, 10.0, 120.0))
    if combined:
        fold += PLATEAU[readout] * max(a_il6, a_vegf) * _tail(t, 20.0, 600.0)
    return fold


def _agents(condition: str) -> frozenset[str]:
    """What a condition name adds (none for control or a name outside the vocabulary)."""
    return condition_components(condition) or frozenset()


def _doses(condition: str) -> tuple[float, float, float, float, float]:
    """IL-6, VEGF (ng/mL), bevacizumab, anti-IL-6 (µg/mL) and the MSC-CM fraction of a
    condition, from its name."""
    agents = _agents(condition)
    return (
        IL6_NG_ML * (IL6_ARM in agents),
        VEGF_NG_ML * (VEGF_ARM in agents),
        BEVACIZUMAB_UG_ML * (BEVACIZUMAB in agents),
        ANTI_IL6_UG_ML * (ANTI_IL6 in agents),
        MSC_CM_FRACTION * (MSC_CM in agents),
    )


def _lanes(times: Sequence[float]) -> list[tuple[str, float]]:
    return [(CONTROL, 0.0)] + [(c, t) for c in CONDITIONS for t in times]


def generate_blots(seed: int = SEED) -> pd.DataFrame:
    """Return the synthetic blot table (unrounded), one row per band."""
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(np.log1p(LANE_CV**2))
    rows = []
    for line in CELL_LINES:
        basal = dict(zip(READOUTS, LINES[line][2], strict=True))
        for readout in READOUTS:
            for replicate in range(1, REPLICATES + 1):
                for part, times in (("early", EARLY_MIN), ("late", LATE_MIN)):
                    blot = f"{line}_{readout}_r{replicate}_{part}"
                    scale = np.exp(rng.normal(0.0, SCALE_LOG_SD))
                    lanes = _lanes(times)
                    noise = np.exp(rng.normal(0.0, sigma, size=len(lanes)))
                    for (condition, t), eps in zip(lanes, noise, strict=True):
                        mean = basal[readout] * true_fold(line, readout, condition, [t])[0]
                        il6, vegf = _doses(condition)[:2]
                        rows.append(
                            (
                                line,
                                condition,
                                il6,
                                vegf,
                                t,
                                readout,
                                scale * mean * eps,
                                replicate,
                                blot,
                                NORMALIZATION,
                            )
                        )
    return pd.DataFrame(rows, columns=[*BLOT_COLUMNS, "normalization"])


def _fold_rows(rng, line, readout, conditions, truth, cv, n):
    sigma = np.sqrt(np.log1p(cv**2))
    wells = {
        c: f * np.exp(rng.normal(0.0, sigma, size=n))
        for c, f in zip(conditions, truth, strict=True)
    }
    control = wells[CONTROL].mean()
    return [
        (
            line,
            c,
            *_doses(c),
            readout,
            wells[c].mean() / control,
            wells[c].std(ddof=1) / control,
            n,
        )
        for c in conditions
    ]


def generate_readouts(seed: int = SEED) -> pd.DataFrame:
    """Return the synthetic migration (24 h) and proliferation (72 h) table, unrounded."""
    # A separate stream, so changing the blots never changes the phenotypes.
    rng = np.random.default_rng([seed, 1])
    rows = []
    for line in CELL_LINES:
        rows += _fold_rows(
            rng,
            line,
            "migration",
            MIGRATION_CONDITIONS,
            MIGRATION_FOLD[line],
            MIGRATION_CV,
            MIGRATION_N,
        )
        rows += _fold_rows(
            rng,
            line,
            "proliferation",
            CONDITIONS,
            (1.0,) * len(CONDITIONS),
            PROLIFERATION_CV,
            PROLIFERATION_N,
        )
    return pd.DataFrame(rows, columns=list(READOUT_COLUMNS))


def _formats(schema: Schema, four_decimals: Sequence[str]) -> dict[str, str]:
    """Format of each numeric column of *schema*: doses and times as ``g``, the measured
    quantities *four_decimals* with four decimals."""
    formats = {c.name: "g" for c in schema.columns if c.kind == "number"}
    return {**formats, **dict.fromkeys(four_decimals, ".4f")}


def _fixed(frame: pd.DataFrame, digits: dict[str, str]) -> list[list[str]]:
    """Format every cell with a fixed format, so the bytes never depend on the platform."""
    out = []
    for row in frame.itertuples(index=False):
        out.append(
            [
                format(getattr(row, c), digits[c]) if c in digits else str(getattr(row, c))
                for c in frame.columns
            ]
        )
    return out


def write_reference(out_dir: str | Path, seed: int = SEED) -> list[Path]:
    """Write both synthetic CSV files into *out_dir*; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blots = generate_blots(seed)
    formats = _formats(BLOT_SCHEMA, ["value"])
    write_csv(out / BLOTS_FILE, list(blots.columns), _fixed(blots, formats))
    readouts = generate_readouts(seed)
    formats = _formats(READOUT_SCHEMA, ["fold_change", "sd"])
    write_csv(out / READOUTS_FILE, list(readouts.columns), _fixed(readouts, formats))
    return [out / BLOTS_FILE, out / READOUTS_FILE]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the synthetic reference files (default: into this package)."""
    parser = argparse.ArgumentParser(
        prog="python -m paracrine.data.generate_reference_synthetic",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output folder (default: the paracrine.data package folder)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = parser.parse_args(argv)
    for path in write_reference(args.out, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
