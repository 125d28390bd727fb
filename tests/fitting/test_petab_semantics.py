"""PEtab v1 simulation semantics on hand-made problems whose likelihood is computed by hand from
closed-form solutions of the ODEs (exponential decay, production–degradation).

Each problem is written into ``tmp_path`` (SBML from Antimony, tables with pandas). The
likelihood of every test is ``Σ 0.5·log(2πσ²) + 0.5·((h − y)/σ)²`` with h from the closed form,
so that a wrong semantic (a stale parameter, a compartment size applied after the initial
concentrations, a species re-initialised after pre-equilibration, a per-row override mixed up,
a negative time integrated backwards) changes h and fails the comparison.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import PetabError
from paracrine.fitting.petab import load_petab
from paracrine.testing import antimony_to_sbml, write_petab_problem

#: Closed forms against CVODE at load_petab's precise tolerances (rtol 1e-10, atol 1e-12): h
#: agrees to 1e-8 relative (asserted), so with h ~ 10, σ = 0.5 and residuals (h − y)/σ ≤ ~3
#: the nllh agrees to ~Σ|r|·δh/σ ≤ 1e-6.
NLLH_ATOL = 1e-6


def write_problem(
    directory: Path,
    antimony_text: str,
    *,
    conditions: list[dict[str, Any]],
    observables: list[dict[str, Any]],
    measurements: list[dict[str, Any]],
    parameters: list[dict[str, Any]],
) -> Path:
    """Write a PEtab v1 problem into *directory*; return the YAML path."""
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "conditions": conditions,
        "observables": observables,
        "measurements": measurements,
        "parameters": parameters,
    }
    return write_petab_problem(directory, antimony_to_sbml(antimony_text), tables)


def observable(oid: str, formula: str, noise: str = "0.5") -> dict[str, Any]:
    return {
        "observableId": oid,
        "observableFormula": formula,
        "noiseFormula": noise,
        "observableTransformation": "lin",
        "noiseDistribution": "normal",
    }


def parameter(pid: str, value: float, estimate: int = 1) -> dict[str, Any]:
    return {
        "parameterId": pid,
        "parameterScale": "log10",
        "lowerBound": 1e-3,
        "upperBound": 1e3,
        "nominalValue": value,
        "estimate": estimate,
    }


def measure(
    oid: str, condition: str, t: float, y: float, preeq: str = "", **extra: Any
) -> dict[str, Any]:
    return {
        "observableId": oid,
        "preequilibrationConditionId": preeq,
        "simulationConditionId": condition,
        "time": t,
        "measurement": y,
        **extra,
    }


def normal_nllh(h: np.ndarray, y: np.ndarray, sigma: np.ndarray | float) -> float:
    """The hand formula: Σ 0.5·log(2πσ²) + 0.5·((h − y)/σ)²."""
    h, y = np.asarray(h, dtype=float), np.asarray(y, dtype=float)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), h.shape)
    return float(np.sum(0.5 * np.log(2 * np.pi * sigma**2) + 0.5 * ((h - y) / sigma) ** 2))


DECAY = """
model decay
  J1: A -> ; k*A
  A = 10
  k = 0.1
end
"""


# --- NaN for a model parameter in the condition table: the model's value ----------------------
def test_nan_for_a_parameter_is_the_sbml_value(tmp_path: Path) -> None:
    """libpetab's parameter mapping: NaN in the condition table for a parameter = its SBML
    value. c1 (k = 0.3) is simulated first, so a NaN that left k alone would give c0 k = 0.3."""
    times = [1.0, 2.0, 5.0]
    data = {"c1": [7.6, 5.4, 2.3], "c0": [9.1, 8.3, 6.0]}
    rows = [
        measure("obs_A", c, t, y) for c in ("c1", "c0") for t, y in zip(times, data[c], strict=True)
    ]
    problem = load_petab(
        write_problem(
            tmp_path,
            DECAY,
            conditions=[{"conditionId": "c0", "k": np.nan}, {"conditionId": "c1", "k": 0.3}],
            observables=[observable("obs_A", "A", "sd")],
            measurements=rows,
            parameters=[parameter("sd", 0.5, estimate=0)],
        )
    )
    k = {"c0": 0.1, "c1": 0.3}
    h = [10 * math.exp(-k[r["simulationConditionId"]] * r["time"]) for r in rows]
    y = [r["measurement"] for r in rows]
    assert problem.nllh_nominal() == pytest.approx(normal_nllh(h, y, 0.5), abs=NLLH_ATOL)
    assert_allclose(problem.simulation_table()["simulation"], h, rtol=1e-8)


# --- compartment sizes in the condition table ------------------------------------------------
VOLUME = """
model volume
  compartment V = 1
  species A in V
  J1: A -> ; k*A
  A = 10
  k = 0.1
end
"""


@pytest.mark.parametrize("size", [2.0, "V_big"])
def test_compartment_size_is_the_initial_size(tmp_path: Path, size: Any) -> None:
    """A compartment column sets the initial size as if the SBML file said so: the initial
    concentration stays 10 and the flux k·[A] (an amount per time) dilutes over V, so
    [A](t) = 10·exp(−k·t/V). Applying the size after the initial values (amounts kept)
    would give [A](0) = 10/V instead. NaN = the SBML size 1; the size may be a parameter."""
    times = [0.0, 2.0, 10.0]
    values = {"c0": 1.0, "c1": 2.0}
    data = {"c1": [9.8, 9.2, 6.3], "c0": [10.3, 8.0, 3.9]}
    rows = [
        measure("obs_A", c, t, y) for c in ("c1", "c0") for t, y in zip(times, data[c], strict=True)
    ]
    problem = load_petab(
        write_problem(
            tmp_path,
            VOLUME,
            conditions=[{"conditionId": "c0", "V": np.nan}, {"conditionId": "c1", "V": size}],
            observables=[observable("obs_A", "A", "sd")],
            measurements=rows,
            parameters=[parameter("sd", 0.5, estimate=0)]
            + ([parameter("V_big", 2.0, estimate=0)] if size == "V_big" else []),
        )
    )
    h = [10 * math.exp(-0.1 * r["time"] / values[r["simulationConditionId"]]) for r in rows]
    y = [r["measurement"] for r in rows]
    assert_allclose(problem.simulation_table()["simulation"], h, rtol=1e-8)
    assert problem.nllh_nominal() == pytest.approx(normal_nllh(h, y, 0.5), abs=NLLH_ATOL)


def test_compartment_size_differing_across_preequilibration_is_refused(tmp_path: Path) -> None:
    yaml_path = write_problem(
        tmp_path,
        VOLUME,
        conditions=[{"conditionId": "pre", "V": 1.0}, {"conditionId": "c1", "V": 2.0}],
        observables=[observable("obs_A", "A", "sd")],
        measurements=[measure("obs_A", "c1", 1.0, 5.0, preeq="pre")],
        parameters=[parameter("sd", 0.5, estimate=0)],
    )
    with pytest.raises(
        PetabError, match=r"compartment sizes differ between the pre-equilibration condition 'pre'"
    ):
        load_petab(yaml_path)


def test_compartment_with_a_rate_rule_is_refused(tmp_path: Path) -> None:
    growing = VOLUME.replace("compartment V = 1", "compartment V = 1\n  V' = 0.01")
    yaml_path = write_problem(
        tmp_path,
        growing,
        conditions=[{"conditionId": "c1", "V": 2.0}],
        observables=[observable("obs_A", "A", "sd")],
        measurements=[measure("obs_A", "c1", 1.0, 5.0)],
        parameters=[parameter("sd", 0.5, estimate=0)],
    )
    with pytest.raises(PetabError, match=r"column 'V' .* compartment that changes by an SBML rate"):
        load_petab(yaml_path)


# --- rate-rule targets in the condition table ------------------------------------------------
RATE_RULES = """
model rules
  species S
  S' = -kr*S
  S = 5
  kr = 0.2
  p' = -kp*p
  p = 3
  kp = 0.5
end
"""


def test_rate_rule_targets_take_the_condition_value_as_initial_value(tmp_path: Path) -> None:
    """A species and a parameter defined by rate rules (S' = −kr·S, p' = −kp·p): a condition
    value is their initial value, NaN keeps the SBML one (S(0) = 5, p(0) = 3)."""
    times = [0.0, 1.0, 4.0]
    init = {"c0": (5.0, 3.0), "c1": (2.0, 7.0)}
    rows = []
    for c in ("c1", "c0"):
        for t in times:
            rows.append(measure("obs_S", c, t, 1.5 + 0.1 * t))
            rows.append(measure("obs_p", c, t, 2.0 - 0.2 * t))
    problem = load_petab(
        write_problem(
            tmp_path,
            RATE_RULES,
            conditions=[
                {"conditionId": "c0", "S": np.nan, "p": np.nan},
                {"conditionId": "c1", "S": 2.0, "p": 7.0},
            ],
            observables=[observable("obs_S", "S"), observable("obs_p", "p")],
            measurements=rows,
            parameters=[parameter("kr", 0.2, estimate=0), parameter("kp", 0.5, estimate=0)],
        )
    )
    h = []
    for r in rows:
        s0, p0 = init[r["simulationConditionId"]]
        if r["observableId"] == "obs_S":
            h.append(s0 * math.exp(-0.2 * r["time"]))
        else:
            h.append(p0 * math.exp(-0.5 * r["time"]))
    y = [r["measurement"] for r in rows]
    assert_allclose(problem.simulation_table()["simulation"], h, rtol=1e-8)
    assert problem.nllh_nominal() == pytest.approx(normal_nllh(h, y, 0.5), abs=NLLH_ATOL)


# --- partial pre-equilibration ---------------------------------------------------------------
TWO_POOLS = """
model pools
  JA1: -> A; kin
  JA2: A -> ; kout*A
  JB1: -> B; kbin
  JB2: B -> ; kbout*B
  A = 0; B = 0
  kin = 1; kout = 0.5; kbin = 1; kbout = 0.25
end
"""


def test_partial_preequilibration(tmp_path: Path) -> None:
    """Pre-equilibrate with kin = 2 (A_ss = 2/kout = 4, B_ss = kbin/kbout = 4), then simulate
    with kin = 0, A = NaN (keep the pre-equilibrated 4) and B = 10 (re-initialised):
    A(t) = 4·e^(−kout·t), B(t) = 4 + 6·e^(−kbout·t). Measurements at t < 0 report the
    pre-equilibrated state (t = −2 here)."""
    times = [-2.0, 0.0, 1.0, 3.0, 8.0]
    rows = []
    for t in times:
        rows.append(measure("obs_A", "sim", t, 3.0 * math.exp(-0.4 * max(t, 0)), preeq="pre"))
        rows.append(measure("obs_B", "sim", t, 5.0 + 4.0 * math.exp(-0.3 * max(t, 0)), preeq="pre"))
    problem = load_petab(
        write_problem(
            tmp_path,
            TWO_POOLS,
            conditions=[
                {"conditionId": "pre", "kin": 2.0, "A": np.nan, "B": np.nan},
                {"conditionId": "sim", "kin": 0.0, "A": np.nan, "B": 10.0},
            ],
            observables=[observable("obs_A", "A"), observable("obs_B", "B")],
            measurements=rows,
            parameters=[
                parameter("kout", 0.5),
                parameter("kbin", 1.0),
                parameter("kbout", 0.25),
            ],
        )
    )
    h = []
    for r in rows:
        t = max(r["time"], 0.0)
        if r["observableId"] == "obs_A":
            h.append(4.0 * math.exp(-0.5 * t) if r["time"] >= 0 else 4.0)
        else:
            h.append(4.0 + 6.0 * math.exp(-0.25 * t) if r["time"] >= 0 else 10.0)
    y = [r["measurement"] for r in rows]
    # steady state to rtol_ss 1e-10: |A − 4| ≤ ~1e-9
    assert_allclose(problem.simulation_table()["simulation"], h, rtol=1e-8)
    assert problem.nllh_nominal() == pytest.approx(normal_nllh(h, y, 0.5), abs=NLLH_ATOL)


# --- per-measurement observable and noise parameters -----------------------------------------
def test_per_row_observable_and_noise_parameters(tmp_path: Path) -> None:
    """obs = observableParameter1·A + observableParameter2, σ = noiseParameter1, with values
    per measurement row: parameter ids or numbers, and two rows at the same time point with
    different scalings and noise levels (batch-specific parameters)."""
    spec = [  # time, scale, offset, sigma, measurement
        (1.0, "s1", "0.5", "0.2", 19.0),
        (2.0, "s1", "off1", "sd1", 17.0),
        (2.0, "s2", "0", "0.7", 26.0),
        (5.0, "3.0", "off1", "sd1", 18.5),
        (5.0, "s2", "0.5", "sd2", 19.0),
    ]
    rows = [
        measure(
            "obs",
            "c0",
            t,
            y,
            observableParameters=f"{s};{o}",
            noiseParameters=n,
        )
        for t, s, o, n, y in spec
    ]
    values = {"s1": 2.0, "s2": 3.5, "off1": 1.25, "sd1": 0.4, "sd2": 1.1}
    problem = load_petab(
        write_problem(
            tmp_path,
            DECAY,
            conditions=[{"conditionId": "c0"}],
            observables=[
                observable(
                    "obs",
                    "observableParameter1_obs * A + observableParameter2_obs",
                    "noiseParameter1_obs",
                )
            ],
            measurements=rows,
            parameters=[parameter(p, v, estimate=0) for p, v in values.items()],
        )
    )

    def value(token: str) -> float:
        return values[token] if token in values else float(token)

    h = [value(s) * 10 * math.exp(-0.1 * t) + value(o) for t, s, o, _, _ in spec]
    sigma = [value(n) for *_, n, _ in spec]
    y = [row[-1] for row in spec]
    assert_allclose(problem.simulation_table()["simulation"], h, rtol=1e-8)
    assert problem.nllh_nominal() == pytest.approx(normal_nllh(h, y, sigma), abs=NLLH_ATOL)


# --- negative measurement times --------------------------------------------------------------
def test_negative_times_report_the_initial_state(tmp_path: Path) -> None:
    """PEtab v1 has no start time but 0 (PEtab issue #420); AMICI starts at t0 = 0 and reports
    outputs at t ≤ t0 at the initial state, passing the measurement time to the observable.
    So A(t < 0) = A(0) = 10, and obs_At = A + 0.1·time = 10 + 0.1·t there."""
    times = [-5.0, -1.0, 0.0, 2.0, 6.0]
    rows = [measure("obs_A", "c0", t, 9.0 + 0.05 * t) for t in times]
    rows += [measure("obs_At", "c0", t, 9.5) for t in times]
    problem = load_petab(
        write_problem(
            tmp_path,
            DECAY,
            conditions=[{"conditionId": "c0"}],
            observables=[observable("obs_A", "A"), observable("obs_At", "A + 0.1 * time")],
            measurements=rows,
            parameters=[parameter("k", 0.1)],
        )
    )
    h = []
    for r in rows:
        a = 10 * math.exp(-0.1 * max(r["time"], 0.0))
        h.append(a if r["observableId"] == "obs_A" else a + 0.1 * r["time"])
    y = [r["measurement"] for r in rows]
    assert_allclose(problem.simulation_table()["simulation"], h, rtol=1e-8)
    assert problem.nllh_nominal() == pytest.approx(normal_nllh(h, y, 0.5), abs=NLLH_ATOL)


def test_only_negative_times(tmp_path: Path) -> None:
    """A run whose every output time is < 0 needs no integration at all."""
    rows = [measure("obs_A", "c0", t, 9.0) for t in (-3.0, -1.0)]
    problem = load_petab(
        write_problem(
            tmp_path,
            DECAY,
            conditions=[{"conditionId": "c0"}],
            observables=[observable("obs_A", "A")],
            measurements=rows,
            parameters=[parameter("k", 0.1)],
        )
    )
    assert_allclose(problem.simulation_table()["simulation"], [10.0, 10.0], rtol=1e-12)
    assert problem.nllh_nominal() == pytest.approx(
        normal_nllh([10.0, 10.0], [9.0, 9.0], 0.5), abs=1e-12
    )


# --- steady-state measurements (time = inf) --------------------------------------------------
PRODUCTION = """
model production
  J1: -> A; kin
  J2: A -> ; kout*A
  A = 0
  kin = 2; kout = 0.5
end
"""


@pytest.mark.parametrize("preeq", ["", "pre"])
def test_steady_state_measurements(tmp_path: Path, preeq: str) -> None:
    """time = inf is the steady state reached after the last finite time (PEtab v1; AMICI's
    steady-state problem): A_ss = kin/kout = 4 for production kin and degradation kout·A,
    while A(t) = 4·(1 − e^(−kout·t)) from A(0) = 0. With pre-equilibration at kin = 1
    (A = 2 at t = 0): A(t) = 4 − 2·e^(−kout·t); the steady state is 4 either way."""
    rows = [measure("obs_A", "sim", t, y, preeq=preeq) for t, y in ((1.0, 1.5), (3.0, 3.0))]
    rows += [measure("obs_A", "sim", math.inf, y, preeq=preeq) for y in (3.8, 4.3)]
    rows += [measure("obs_A", "only_ss", math.inf, 5.5)]  # a run with nothing but time = inf
    conditions = [
        {"conditionId": "sim", "kin": 2.0},
        {"conditionId": "only_ss", "kin": 3.0},
    ]
    if preeq:
        conditions.append({"conditionId": "pre", "kin": 1.0})
    problem = load_petab(
        write_problem(
            tmp_path,
            PRODUCTION,
            conditions=conditions,
            observables=[observable("obs_A", "A")],
            measurements=rows,
            parameters=[parameter("kout", 0.5)],
        )
    )
    a0 = 2.0 if preeq else 0.0
    h = [4.0 - (4.0 - a0) * math.exp(-0.5 * t) for t in (1.0, 3.0)] + [4.0, 4.0, 6.0]
    y = [r["measurement"] for r in rows]
    # the steady-state criterion |dA/dt| ≤ 1e-13 + 1e-10·|A| leaves |A − A_ss| ≤ ~1e-9
    assert_allclose(problem.simulation_table()["simulation"], h, rtol=1e-8)
    assert problem.nllh_nominal() == pytest.approx(normal_nllh(h, y, 0.5), abs=NLLH_ATOL)
    # and at the fitting tolerances (steady state to 1e-8 relative)
    assert problem.nllh_nominal(precise=False) == pytest.approx(normal_nllh(h, y, 0.5), abs=1e-4)


def test_steady_state_that_is_never_reached(tmp_path: Path) -> None:
    growing = "model growth\n  J1: -> A; kin\n  A = 0\n  kin = 2\nend\n"
    yaml_path = write_problem(
        tmp_path,
        growing,
        conditions=[{"conditionId": "c0"}],
        observables=[observable("obs_A", "A")],
        measurements=[measure("obs_A", "c0", math.inf, 1.0)],
        parameters=[parameter("kin", 2.0)],
    )
    from paracrine.errors import SimulationError

    with pytest.raises(
        SimulationError, match=r"condition 'c0': no steady state for the time = inf measurements"
    ):
        load_petab(yaml_path).nllh_nominal()
