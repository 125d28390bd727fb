"""Tidy IL-6 → JAK1 → STAT3 → SOCS3 time courses from the Sobotta_Frontiers2017 PEtab problem.

Source: Sobotta S, Raue A, Huang X, …, Timmer J, Schilling M, Klingmüller U (2017) "Model based
targeting of IL-6-induced inflammatory responses in cultured primary hepatocytes to improve
application of the JAK inhibitor ruxolitinib". Front Physiol 8:775, doi:10.3389/fphys.2017.00775
(primary mouse hepatocytes). The PEtab files (PEtab v1) come from an unmerged branch of the PEtab
benchmark collection (Benchmarking-Initiative/Benchmark-Models-PEtab) and are read from
``../shared/petab/Sobotta_Frontiers2017`` (beside the repository; they are not copied into it).

Run ``python benchmarks/sobotta_data.py`` to write ``benchmarks/results/sobotta_timecourses.csv``
(IL-6-only conditions: no ruxolitinib, no Stattic, no actinomycin D) with the columns
``observable, condition, il6_ng_ml, ruxolitinib, time_min, value, unit, note``. Import the module
for the functions ``load_sobotta``, ``tidy_measurements``, ``absolute_pstat3``,
``socs3_timecourses``, ``pjak1_timecourses``, ``absolute_levels`` and ``il6_only``.

Observables (formulas from ``observables_Sobotta_Frontiers2017.tsv``; species are concentrations
of the SBML model, whose time unit is the minute: its ``time`` unit definition is 60 s)

* ``pSTAT3_ms`` — absolute STAT3 phosphorylation by mass spectrometry, in **percent** (not a
  fraction): ``100 * tpSTAT3 / (STAT3 + tpSTAT3)``, i.e. phosphorylated over total *cytoplasmic*
  STAT3 (the nuclear pool ``nSTAT3`` is not in the denominator). Linear-scale normal noise,
  σ = ``sd_pSTAT3_ms`` (nominal 1.32 percentage points). Data: 1.1 and 1.5 % without IL-6,
  55.7, 53.3 and 54.1 % at 18 min of 40 ng/mL IL-6 (the model's nominal fit gives 2.8 % and
  54.0 %).
* ``SOCS3_qpcr`` — SOCS3 mRNA by qRT-PCR, relative units: ``offset + scale * SOCS3RNA`` with one
  offset and scale per experiment (named in ``blot``); log10-normal noise.
* ``SOCS3_wb`` — SOCS3 protein by immunoblot, relative units: ``offset + scale * SOCS3``, one
  offset/scale per blot; log10-normal noise.
* ``pJAK1_wb`` — phospho-JAK1 by immunoblot, relative units:
  ``offset + scale * (pJAK1_gp130 + pJAK1_pgp130)``, one offset/scale per blot; log10 noise.
* ``SOCS3_abs``, ``JAK1_gp130_abs`` (= ``JAK1_gp130 + pJAK1_gp130 + pJAK1_pgp130``) and
  ``ctSTAT3_abs`` (= ``STAT3 + tpSTAT3``) — absolute levels in the model's concentration unit,
  which neither the SBML nor the PEtab tables state (so: "model units"); log10 noise.
* ``ntSTAT3_ratio`` — nuclear/cytoplasmic total STAT3 (``nSTAT3 / (STAT3 + tpSTAT3)``),
  dimensionless, imaging; measured at −10 min (before IL-6) and 25 min (500 ng/mL).

Inputs (condition table): ``input_il6`` is the IL-6 dose; the tables carry no units, and ng/mL
is the Klingmüller lab's convention (standard dose 40) — assumed here, not read from the paper.
The SBML switches IL-6 on at t = 0 (``IL6 = input_il6`` for t ≥ 0), adds ruxolitinib and Stattic
at t = −60 min (ruxolitinib then decays at ``rux_degrade`` ≈ 9.7e-4 /min) and actinomycin D at
t = −10 min. Measurements at negative times were taken before IL-6 was added. Ruxolitinib
(0–5000) and Stattic (0–60) doses are reported as in the table (units not stated there).

Caveats kept in the data (``note`` / columns): several blots are named after pulse experiments
("Pulse5min", "Pulse20min", "ThreePulses", "FourPulses"), but the PEtab conditions apply IL-6 as
a constant step (the SBML has no events or washout), so their late time points may not be
continuous-stimulation data; they are flagged ``pulse_named``. Two ``SOCS3_qpcr`` rows of
condition ``model1_data375`` (value 1.0 at t = 0 and 2000 min, no observable parameters, σ = 1)
are placeholders, not measurements, and are dropped.

How the values were checked: :func:`check_observable_formulas` compares the observables table
with the formulas above (and, when python-libsbml is installed, that the SBML time unit is 60 s);
the script stops if they differ. The pSTAT3_ms values were compared with the collection's
``simulatedData`` file (the nominal model gives 2.80 % and 53.99 %, against the data above), and
a libRoadRunner simulation of the SBML at the nominal parameters reproduces those numbers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_PATH = HERE.parents[1] / "shared" / "petab" / "Sobotta_Frontiers2017"
DEFAULT_OUT = HERE / "results" / "sobotta_timecourses.csv"

#: observable formulas as documented above (whitespace-insensitive comparison)
EXPECTED_FORMULAS = {
    "pSTAT3_ms": "100 * tpSTAT3 / (STAT3 + tpSTAT3)",
    "SOCS3_qpcr": "observableParameter1_SOCS3_qpcr + SOCS3RNA * observableParameter2_SOCS3_qpcr",
    "SOCS3_wb": "observableParameter1_SOCS3_wb + SOCS3 * observableParameter2_SOCS3_wb",
    "pJAK1_wb": "observableParameter1_pJAK1_wb + observableParameter2_pJAK1_wb"
    " * (pJAK1_gp130 + pJAK1_pgp130)",
    "SOCS3_abs": "SOCS3",
    "JAK1_gp130_abs": "JAK1_gp130 + pJAK1_gp130 + pJAK1_pgp130",
    "ctSTAT3_abs": "STAT3 + tpSTAT3",
    "ntSTAT3_ratio": "nSTAT3 / (STAT3 + tpSTAT3)",
}

UNITS = {
    "pSTAT3_ms": "% of cytoplasmic STAT3",
    "SOCS3_qpcr": "relative (qPCR; per-experiment offset and scale)",
    "SOCS3_wb": "relative (immunoblot; per-blot offset and scale)",
    "pJAK1_wb": "relative (immunoblot; per-blot offset and scale)",
    "SOCS3_abs": "model concentration units (absolute; unit not stated)",
    "JAK1_gp130_abs": "model concentration units (absolute; unit not stated)",
    "ctSTAT3_abs": "model concentration units (absolute; unit not stated)",
    "ntSTAT3_ratio": "dimensionless (nuclear/cytoplasmic)",
}

CSV_OBSERVABLES = tuple(EXPECTED_FORMULAS)
CSV_COLUMNS = [
    "observable",
    "condition",
    "il6_ng_ml",
    "ruxolitinib",
    "time_min",
    "value",
    "unit",
    "note",
]
PULSE_WORDS = ("Pulse", "Pulses")


class SobottaDataMissing(FileNotFoundError):
    """The PEtab directory (or one of its tables) is not where it was looked for."""


@dataclass(frozen=True)
class SobottaTables:
    """The four PEtab tables of the problem, as read (no rows changed)."""

    path: Path
    measurements: pd.DataFrame
    conditions: pd.DataFrame
    observables: pd.DataFrame
    parameters: pd.DataFrame


def _table(path: Path, kind: str) -> pd.DataFrame:
    file = path / f"{kind}_Sobotta_Frontiers2017.tsv"
    if not file.is_file():
        raise SobottaDataMissing(f"{file} not found (expected the PEtab table '{kind}')")
    return pd.read_csv(file, sep="\t")


def load_sobotta(path: str | Path | None = None) -> SobottaTables:
    """Read the PEtab tables of Sobotta_Frontiers2017 from ``path`` (default ../shared/petab)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if not path.is_dir():
        raise SobottaDataMissing(
            f"PEtab directory {path} not found: this script reads the Sobotta_Frontiers2017 "
            "problem from ../shared/petab beside the repository (or pass --petab-dir)"
        )
    return SobottaTables(
        path=path,
        measurements=_table(path, "measurementData"),
        conditions=_table(path, "experimentalCondition"),
        observables=_table(path, "observables"),
        parameters=_table(path, "parameters"),
    )


def _squash(formula: str) -> str:
    return "".join(str(formula).split())


def check_observable_formulas(tables: SobottaTables) -> list[str]:
    """Differences between the observables table (and SBML time unit) and what is documented.

    Returns a list of problems (empty when everything matches)."""
    problems = []
    table = tables.observables.set_index("observableId")
    for obs, expected in EXPECTED_FORMULAS.items():
        if obs not in table.index:
            problems.append(f"observable {obs} missing from the observables table")
            continue
        got = table.loc[obs, "observableFormula"]
        if _squash(got) != _squash(expected):
            problems.append(f"{obs}: formula is {got!r}, documented {expected!r}")
    if table.loc["pSTAT3_ms", "observableTransformation"] != "lin":
        problems.append("pSTAT3_ms is no longer on the linear scale")
    try:
        import libsbml  # optional: only to confirm the time unit
    except ImportError:
        return problems
    model = libsbml.readSBML(str(tables.path / "model_Sobotta_Frontiers2017.xml")).getModel()
    unit = model.getUnitDefinition("time") if model is not None else None
    if unit is None or unit.getNumUnits() != 1:
        problems.append("SBML has no single-unit 'time' definition (expected minutes)")
    else:
        u = unit.getUnit(0)
        seconds = u.getMultiplier() * 10.0 ** u.getScale()
        if libsbml.UnitKind_toString(u.getKind()) != "second" or abs(seconds - 60.0) > 1e-9:
            problems.append(f"SBML time unit is {seconds} s of kind {u.getKind()}, not 60 s")
    return problems


def tidy_measurements(
    tables: SobottaTables, observables: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """All measurements as one long table, one row per measurement.

    Columns: observable, condition, il6_ng_ml, ruxolitinib, stattic, actd, time_min, value,
    unit, blot (the experiment/blot that shares one offset and scale; empty for absolute data),
    noise (σ or its parameter name), scale ('lin' or 'log10' noise), pulse_named, note.
    Placeholder rows (observable parameters missing where the formula needs them) are dropped.
    """
    m = tables.measurements
    if observables is not None:
        m = m[m["observableId"].isin(observables)]
    cond = tables.conditions.set_index("conditionId")
    obs = tables.observables.set_index("observableId")
    params = m["observableParameters"].fillna("").astype(str)
    needs_params = (
        m["observableId"]
        .map(obs["observableFormula"])
        .str.contains("observableParameter", regex=False)
    )
    m = m[~(needs_params & (params == ""))]
    params = params.loc[m.index]
    blot = (
        params.str.split(";").str[-1].str.replace(r"^scale_[A-Za-z0-9]+_[A-Za-z]+_", "", regex=True)
    )
    c = cond.loc[m["simulationConditionId"]]
    out = pd.DataFrame(
        {
            "observable": m["observableId"].to_numpy(),
            "condition": m["simulationConditionId"].to_numpy(),
            "il6_ng_ml": c["input_il6"].to_numpy(dtype=float),
            "ruxolitinib": c["input_ruxolitinib"].to_numpy(dtype=float),
            "stattic": c["input_stattic"].to_numpy(dtype=float),
            "actd": c["input_actd"].to_numpy(dtype=float),
            "time_min": m["time"].to_numpy(dtype=float),
            "value": m["measurement"].to_numpy(dtype=float),
            "unit": m["observableId"].map(UNITS).fillna("see observables table").to_numpy(),
            "blot": blot.to_numpy(),
            "noise": m["noiseParameters"].astype(str).to_numpy(),
            "scale": m["observableId"].map(obs["observableTransformation"]).to_numpy(),
        }
    )
    out["pulse_named"] = out["blot"].str.contains("|".join(PULSE_WORDS))
    notes = []
    for row in out.itertuples(index=False):
        parts = []
        if row.blot:
            parts.append(f"blot {row.blot}")
        if row.time_min < 0:
            parts.append("before IL-6 (t < 0)")
        if row.pulse_named:
            parts.append("blot named as a pulse experiment; PEtab applies IL-6 as a constant step")
        if row.ruxolitinib > 0 or row.stattic > 0:
            parts.append("inhibitor added at t = -60 min")
        if row.actd > 0:
            parts.append("actinomycin D at t = -10 min")
        notes.append("; ".join(parts))
    out["note"] = notes
    return out.sort_values(["observable", "blot", "condition", "time_min"], kind="stable")


def il6_only(df: pd.DataFrame) -> pd.DataFrame:
    """Rows without ruxolitinib, Stattic or actinomycin D (IL-6 alone, including IL-6 = 0)."""
    keep = (df["ruxolitinib"] == 0) & (df["stattic"] == 0) & (df["actd"] == 0)
    return df[keep].reset_index(drop=True)


def absolute_pstat3(tables: SobottaTables) -> pd.DataFrame:
    """pSTAT3 by mass spectrometry, % of cytoplasmic STAT3 (all conditions that have it)."""
    return tidy_measurements(tables, ("pSTAT3_ms",)).reset_index(drop=True)


def socs3_timecourses(tables: SobottaTables) -> pd.DataFrame:
    """SOCS3 mRNA (qPCR, ``SOCS3_qpcr``) and protein (blot, ``SOCS3_wb``; absolute
    ``SOCS3_abs``), relative units per experiment/blot except ``SOCS3_abs``."""
    obs = ("SOCS3_qpcr", "SOCS3_wb", "SOCS3_abs")
    return tidy_measurements(tables, obs).reset_index(drop=True)


def pjak1_timecourses(tables: SobottaTables) -> pd.DataFrame:
    """Phospho-JAK1 immunoblots (relative units, one offset and scale per blot)."""
    return tidy_measurements(tables, ("pJAK1_wb",)).reset_index(drop=True)


def absolute_levels(tables: SobottaTables) -> pd.DataFrame:
    """Absolute SOCS3, receptor–JAK1 and cytoplasmic STAT3 levels and the nuclear/cytoplasmic
    STAT3 ratio (model concentration units; dimensionless for the ratio)."""
    obs = ("SOCS3_abs", "JAK1_gp130_abs", "ctSTAT3_abs", "ntSTAT3_ratio")
    return tidy_measurements(tables, obs).reset_index(drop=True)


def csv_table(tables: SobottaTables) -> pd.DataFrame:
    """The IL-6-only rows of every documented observable, in the CSV's columns."""
    return il6_only(tidy_measurements(tables, CSV_OBSERVABLES))[CSV_COLUMNS]


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--petab-dir", default=str(DEFAULT_PATH), help="Sobotta_Frontiers2017 folder")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="CSV to write")
    args = ap.parse_args(argv)
    try:
        tables = load_sobotta(args.petab_dir)
    except SobottaDataMissing as err:
        print(f"sobotta_data: {err}", file=sys.stderr)
        return 2
    problems = check_observable_formulas(tables)
    if problems:
        print(
            "sobotta_data: the PEtab files differ from what this script documents:", file=sys.stderr
        )
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    table = csv_table(tables)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, float_format="%.6g")
    ms = il6_only(absolute_pstat3(tables))
    print(f"wrote {len(table)} rows to {out}")
    print(table.groupby("observable").size().to_string())
    print("pSTAT3_ms (% of cytoplasmic STAT3):")
    print(ms[["il6_ng_ml", "time_min", "value"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
