"""Chen_MSB2009: what its nllh at the nominal parameters depends on, and a miniature of its input.

Why paracrine's 130591.75 is not the 115700.1193 of ../shared/petab/README.md (measured on
2026-12-02 with CVODE rtol 1e-10, atol 1e-12; it is not an import error):

* The README value is AMICI's (``tests/benchmark_models/benchmark_models.yaml``). It belongs to
  another revision of the collection's measurement table: 27 rows differ from the one in
  ../shared/petab (ERK_PP of model1_data3, ERK_PP and AKT_PP of model1_data4, t > 1800; see
  Benchmark-Models-PEtab issue #175 on those rows). The collection's own simulatedData file
  scored against that revision gives 115700.1193; scored against the shared table, 130669.4878.
* The shared parameter table rounds 16 nominal values to three digits (k2 = 7.45e-6 instead of
  7.44622e-6, ...); simulatedData was made with the unrounded ones. The rounding moves the nllh
  by -77.7 (130669.49 -> 130591.75), mostly in AKT_PP at t = 1950 (data 0 with sigma 0.1
  against a simulated ~18 in model1_data4: -87.0; ~47 in model1_data1: +8.9).

With the unrounded values paracrine's simulation matches simulatedData to 2.2e-7 (relative,
values above 1e-3) and its nllh on the shared tables is 130669.4875 (simulatedData's: 130669.4878);
on the other revision it is 115700.1189. At rtol 1e-12, atol 1e-14 the same to 2e-6; at rtol
1e-8, atol 1e-10 7e-4 lower; at the fitting tolerances (1e-6, 1e-8) 0.045 lower.

The miniature reproduces the model's input: each time input is a multiple of ``Step1(t)``,
0 before t = 1799.99, ``sin(50·pi·(t − 1799.99))`` on the 0.01 s to t = 1800 and 1 after, in an
assignment rule (StepLate the same at 2660); the ligand is an SBML parameter set by the
condition table, and the first output is at t = 1800, so CVODE must not step over that 0.01 s
window on its way from t = 0.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.fitting.petab import PetabProblem, load_petab
from paracrine.testing import write_petab_problem

# --- miniature --------------------------------------------------------------------------------
#: Chen's Step1 (model_Chen_MSB2009.xml), written with the same literal times.
STEP = (
    "piecewise(0, time - 1800 < 0, 1) + sin(50 * pi * (time - 1799.99)) * "
    "(piecewise(0, time - 1799.99 < 0, 1) - piecewise(0, time - 1800 < 0, 1))"
)
KON, KOFF, X_T = 1e9, 0.01, 5.0
LIGAND = {"high": 5e-9, "low": 1e-10}
#: (condition, time, measurement, sigma)
DATA = [
    ("high", 1800.0, 0.0, 0.1),
    ("high", 1950.0, 75.0, 4.0),
    ("high", 2100.0, 0.0, 0.1),  # a zero with sigma 0.1 after the stimulus, as in Chen
    ("high", 9000.0, 98.0, 2.0),
    ("low", 1800.0, 0.0, 0.1),
    ("low", 1950.0, 1.7, 0.5),
    ("low", 9000.0, 2.1, 0.3),
]


def _sbml() -> str:
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("chen_step")
    comp = model.createCompartment()
    comp.setId("cyt")
    comp.setSize(1.0)
    comp.setConstant(True)
    sp = model.createSpecies()
    for setter, value in (
        (sp.setId, "X"),
        (sp.setCompartment, "cyt"),
        (sp.setInitialConcentration, 0.0),
        (sp.setHasOnlySubstanceUnits, False),
        (sp.setBoundaryCondition, False),
        (sp.setConstant, False),
    ):
        setter(value)
    for pid, value, constant in (
        ("kon", KON, True),
        ("koff", KOFF, True),
        ("L", 0.0, True),
        ("Step1", 0.0, False),
    ):
        par = model.createParameter()
        par.setId(pid)
        par.setValue(value)
        par.setConstant(constant)
    rule = model.createAssignmentRule()
    rule.setVariable("Step1")
    rule.setMath(libsbml.parseL3Formula(STEP))
    for rid, reactant, product, law in (
        ("v_on", None, "X", "cyt * kon * L * Step1"),
        ("v_off", "X", None, "cyt * koff * X"),
    ):
        r = model.createReaction()
        r.setId(rid)
        r.setReversible(False)
        if reactant:
            ref = r.createReactant()
            ref.setSpecies(reactant)
            ref.setStoichiometry(1.0)
            ref.setConstant(True)
        if product:
            ref = r.createProduct()
            ref.setSpecies(product)
            ref.setStoichiometry(1.0)
            ref.setConstant(True)
        r.createKineticLaw().setMath(libsbml.parseL3Formula(law))
    return libsbml.writeSBMLToString(doc)


def write_miniature(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "conditions": [
            {"conditionId": c, "conditionName": "", "L": value} for c, value in LIGAND.items()
        ],
        "observables": [
            {
                "observableId": "X_obs",
                "observableFormula": "X / observableParameter1_X_obs",
                "noiseFormula": "noiseParameter1_X_obs",
                "observableTransformation": "lin",
                "noiseDistribution": "normal",
            }
        ],
        "measurements": [
            {
                "observableId": "X_obs",
                "simulationConditionId": c,
                "measurement": y,
                "time": t,
                "observableParameters": "X_t",
                "noiseParameters": s,
            }
            for c, t, y, s in DATA
        ],
        "parameters": [
            {
                "parameterId": pid,
                "parameterScale": "log10",
                "lowerBound": value / 1e3,
                "upperBound": value * 1e3,
                "nominalValue": value,
                "estimate": 1,
            }
            for pid, value in (("kon", KON), ("koff", KOFF), ("X_t", X_T))
        ],
    }
    return write_petab_problem(directory, _sbml(), tables)


def closed_form(t: float, ligand: float) -> float:
    """X(t)/X_t of dX/dt = kon·L·Step1(t) − koff·X, X(0) = 0.

    On the ramp (s = t − 1799.99 in [0, 0.01], ω = 50π, a = kon·L)
    X = a/(k² + ω²)·(k·sin ωs − ω·cos ωs + ω·e^(−ks)); after t = 1800 X relaxes to a/k.
    """
    a, k, w = KON * ligand, KOFF, 50.0 * math.pi
    if t <= 1799.99:
        return 0.0
    s = min(t, 1800.0) - 1799.99
    x = a / (k * k + w * w) * (k * math.sin(w * s) - w * math.cos(w * s) + w * math.exp(-k * s))
    if t > 1800.0:
        x = a / k + (x - a / k) * math.exp(-k * (t - 1800.0))
    return x / X_T


def test_miniature_closed_form_and_hand_likelihood(tmp_path: Path) -> None:
    problem = load_petab(write_miniature(tmp_path))
    table = problem.simulation_table()
    expected = [closed_form(t, LIGAND[c]) for c, t, _, _ in DATA]
    # the ramp alone leaves X(1800)/X_t = 6.37e-3 (high): skipping it would give 0
    assert expected[0] == pytest.approx(6.366e-3, rel=1e-3)
    assert_allclose(table["simulation"], expected, rtol=1e-7, atol=1e-12)
    hand = sum(
        0.5 * math.log(2 * math.pi * s * s) + 0.5 * ((y - h) / s) ** 2
        for (_, _, y, s), h in zip(DATA, expected, strict=True)
    )
    assert problem.nllh_nominal() == pytest.approx(hand, rel=1e-9)
    # the fitting tolerances (rtol 1e-6, atol 1e-8) resolve the ramp too (to ~1e-8 absolute)
    loose = problem.simulation_table(precise=False)["simulation"]
    assert_allclose(loose, expected, rtol=1e-5, atol=1e-7)


# --- Chen_MSB2009 itself ------------------------------------------------------------------------
CHEN = "Chen_MSB2009"
#: The nominal values the shared parameter table rounds to three digits, unrounded as in the
#: collection's earlier parameter table (the values its simulatedData was computed with).
UNROUNDED = {
    "k103": 8.36982999999998e-09,
    "k106b": 2.63418e-08,
    "k114": 4.98816000000001e-06,
    "k120": 1.48131000000001e-08,
    "k120b": 5.92537999999936e-11,
    "k15": 1.66699999999998e-08,
    "k19": 1.66699999999998e-07,
    "k2": 7.44622000000006e-06,
    "k20": 1.10679999999999e-05,
    "k22": 1.39338000000001e-07,
    "k2b": 3.73631999999997e-08,
    "k50": 4.74800999999993e-08,
    "k52": 8.85125000000006e-06,
    "k74": 6.36183999999994e-07,
    "k8": 5.91473999999996e-07,
    "k8b": 9.34640999999991e-06,
}
#: nllh of the shared measurement table scored against the collection's simulatedData file
#: (computed here from the two files; 130669.4878 on 2026-12-02)
SIMULATED_DATA_NLLH = 130669.4878


def _nllh_of(measurements: pd.DataFrame, simulation: np.ndarray) -> float:
    sigma = measurements["noiseParameters"].astype(float).to_numpy()
    r = (measurements["measurement"].to_numpy() - simulation) / sigma
    return float(np.sum(0.5 * np.log(2 * np.pi * sigma**2) + 0.5 * r**2))


@pytest.fixture(scope="module")
def chen(shared_petab: Path) -> tuple[PetabProblem, Path]:
    folder = shared_petab / CHEN
    return load_petab(folder / f"{CHEN}.yaml"), folder


@pytest.mark.slow
def test_chen_matches_simulated_data_at_unrounded_parameters(chen) -> None:
    """~30 s: load (~10 s) and one simulation at rtol 1e-10, atol 1e-12 (~20 s)."""
    problem, folder = chen
    measurements = pd.read_csv(folder / f"measurementData_{CHEN}.tsv", sep="\t")
    simulated = pd.read_csv(folder / f"simulatedData_{CHEN}.tsv", sep="\t")
    assert _nllh_of(measurements, simulated["simulation"].to_numpy()) == pytest.approx(
        SIMULATED_DATA_NLLH, abs=1e-4
    )
    table = problem.simulation_table(UNROUNDED)
    ours, theirs = table["simulation"].to_numpy(), simulated["simulation"].to_numpy()
    big = np.abs(theirs) > 1e-3  # below, both are ~0 (down to 1e-160 against 1e-78)
    assert_allclose(ours[big], theirs[big], rtol=2e-6)
    assert_allclose(ours[~big], theirs[~big], atol=1e-9)
    # 3.4e-4 apart on 2026-12-02 (2.6e-9 relative); paracrine's likelihood formulas are checked
    # against petab's on the hand-made problems of test_petab_features.py
    assert _nllh_of(measurements, ours) == pytest.approx(SIMULATED_DATA_NLLH, abs=1e-2)


@pytest.mark.slow
def test_chen_nllh_at_the_shared_nominal_parameters(chen) -> None:
    """~20 s. paracrine's own value (no independent reference for the rounded table): pinned so
    that a change shows; the rounding accounts for the 77.7 to simulatedData's value."""
    problem, _ = chen
    assert problem.nllh_nominal() == pytest.approx(130591.7530, abs=1e-2)
