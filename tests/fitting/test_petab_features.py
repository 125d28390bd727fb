"""PEtab import on small hand-made problems: each supported feature against a closed form or
petab's own likelihood, and each refused feature with its message.

The problems are written into ``tmp_path`` (SBML from Antimony, tables with pandas).
"""

from __future__ import annotations

import math
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import PetabError, SimulationError, UnknownNameError
from paracrine.fitting.petab import PetabProblem, load_petab

CHAIN = """
model chain
  J1: A -> B; k1*A
  J2: B -> ; k2*B
  A = A0; B = 0
  A0 = 10; k1 = 0.1; k2 = 0.05
end
"""
TIMES = [0.0, 1.0, 2.0, 5.0, 10.0, 20.0]


def chain_solution(t: np.ndarray, a0: float = 10.0, k1: float = 0.1, k2: float = 0.05):
    """A(t), B(t) of A → B → ∅ with A(0) = a0, B(0) = 0."""
    t = np.asarray(t, dtype=float)
    a = a0 * np.exp(-k1 * t)
    b = a0 * k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t))
    return a, b


def sbml_of(antimony_text: str) -> str:
    import antimony

    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(antimony_text) >= 0, antimony.getLastError()
    return antimony.getSBMLString(antimony.getMainModuleName())


def default_tables() -> dict[str, list[dict[str, Any]]]:
    a, b = chain_solution(np.array(TIMES))
    wiggle = [1.05, 0.97, 1.02, 0.95, 1.04, 0.99]
    meas = []
    for t, va, vb, w in zip(TIMES, a, b, wiggle, strict=True):
        meas.append(
            {
                "observableId": "obs_A",
                "simulationConditionId": "c0",
                "measurement": va * w,
                "time": t,
                "observableParameters": "",
                "noiseParameters": "sd_A",
            }
        )
        if t > 0:
            meas.append(
                {
                    "observableId": "obs_B",
                    "simulationConditionId": "c0",
                    "measurement": 2.0 * vb / w,
                    "time": t,
                    "observableParameters": "scale_B",
                    "noiseParameters": "sd_B",
                }
            )
    return {
        "conditions": [{"conditionId": "c0", "conditionName": "control"}],
        "observables": [
            {
                "observableId": "obs_A",
                "observableFormula": "A",
                "noiseFormula": "noiseParameter1_obs_A",
                "observableTransformation": "lin",
                "noiseDistribution": "normal",
            },
            {
                "observableId": "obs_B",
                "observableFormula": "observableParameter1_obs_B * B",
                "noiseFormula": "noiseParameter1_obs_B",
                "observableTransformation": "lin",
                "noiseDistribution": "normal",
            },
        ],
        "measurements": meas,
        "parameters": [
            {
                "parameterId": "k1",
                "parameterScale": "log10",
                "lowerBound": 1e-3,
                "upperBound": 10,
                "nominalValue": 0.1,
                "estimate": 1,
            },
            {
                "parameterId": "k2",
                "parameterScale": "log10",
                "lowerBound": 1e-3,
                "upperBound": 10,
                "nominalValue": 0.05,
                "estimate": 1,
            },
            {
                "parameterId": "A0",
                "parameterScale": "lin",
                "lowerBound": 0,
                "upperBound": 100,
                "nominalValue": 10,
                "estimate": 0,
            },
            {
                "parameterId": "scale_B",
                "parameterScale": "log10",
                "lowerBound": 0.01,
                "upperBound": 100,
                "nominalValue": 2.0,
                "estimate": 1,
            },
            {
                "parameterId": "sd_A",
                "parameterScale": "log10",
                "lowerBound": 1e-3,
                "upperBound": 100,
                "nominalValue": 0.5,
                "estimate": 1,
            },
            {
                "parameterId": "sd_B",
                "parameterScale": "log10",
                "lowerBound": 1e-3,
                "upperBound": 100,
                "nominalValue": 0.3,
                "estimate": 1,
            },
        ],
    }


def write_problem(
    directory: Path,
    *,
    antimony_text: str = CHAIN,
    sbml: str | None = None,
    tables: dict[str, list[dict[str, Any]]] | None = None,
    yaml_text: str | None = None,
) -> Path:
    """Write a PEtab v1 problem into *directory*; return the YAML path."""
    tables = tables if tables is not None else default_tables()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.xml").write_text(sbml or sbml_of(antimony_text), encoding="utf-8")
    for kind, rows in tables.items():
        pd.DataFrame(rows).to_csv(directory / f"{kind}.tsv", sep="\t", index=False)
    yaml_path = directory / "problem.yaml"
    yaml_path.write_text(
        yaml_text
        or (
            "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
            "- condition_files: [conditions.tsv]\n  measurement_files: [measurements.tsv]\n"
            "  observable_files: [observables.tsv]\n  sbml_files: [model.xml]\n"
        ),
        encoding="utf-8",
    )
    return yaml_path


def petab_llh(problem: PetabProblem, yaml_path: Path) -> float:
    """petab's own log-likelihood of our simulation table (checks the likelihood formulas)."""
    import petab.v1 as petab
    from petab.v1.calculate import calculate_llh

    with warnings.catch_warnings():  # pandas-3 deprecations inside petab 0.8.2's readers
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        p = petab.Problem.from_yaml(str(yaml_path))
        sim = p.measurement_df.copy()
        sim = sim.rename(columns={"measurement": "simulation"})
        sim["simulation"] = problem.simulation_table()["simulation"].to_numpy()
        return calculate_llh(p.measurement_df, sim, p.observable_df, p.parameter_df)


# --- supported features ------------------------------------------------------------------------
def test_simulation_matches_closed_form(tmp_path: Path) -> None:
    problem = load_petab(write_problem(tmp_path))
    table = problem.simulation_table()
    a, b = chain_solution(table["time"].to_numpy())
    expected = np.where(table["observableId"] == "obs_A", a, 2.0 * b)
    assert_allclose(table["simulation"], expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("transform", ["lin", "log", "log10"])
@pytest.mark.parametrize("distribution", ["normal", "laplace"])
def test_nllh_matches_petab_calculate(tmp_path: Path, transform: str, distribution: str) -> None:
    tables = default_tables()
    for obs in tables["observables"]:
        obs["observableTransformation"] = transform
        obs["noiseDistribution"] = distribution
    yaml_path = write_problem(tmp_path, tables=tables)
    problem = load_petab(yaml_path)
    assert problem.nllh_nominal() == pytest.approx(-petab_llh(problem, yaml_path), abs=1e-9)


@pytest.mark.parametrize("distribution", ["normal", "laplace"])
def test_analytic_noise_levels_are_the_optimum(tmp_path: Path, distribution: str) -> None:
    tables = default_tables()
    for obs in tables["observables"]:
        obs["noiseDistribution"] = distribution
    problem = load_petab(write_problem(tmp_path, tables=tables))
    if distribution == "normal":  # the scale of B is solved in closed form too
        assert problem.parameter_names == ("k1", "k2")
        assert problem.inner_parameter_names == ("scale_B", "sd_A", "sd_B")
    else:  # Laplace: a scale has no closed form (a weighted median); it stays free
        assert problem.parameter_names == ("k1", "k2", "scale_B")
        assert problem.inner_parameter_names == ("sd_A", "sd_B")
    x = problem.nominal_x + np.array([0.05, -0.03, 0.02])[: len(problem.parameter_names)]
    best = problem.nllh(x, precise=True)
    problem.update_inner(x)
    sd_a, sd_b = problem.inner_values
    natural = {**problem.to_natural(x), "sd_A": sd_a, "sd_B": sd_b}
    if distribution == "normal":
        (natural["scale_B"],) = problem.inner_solution(x, precise=True).scales
    assert problem.nllh_parameters(natural) == pytest.approx(best, abs=1e-6)
    for factor in (0.9, 1.1):
        worse = problem.nllh_parameters({**natural, "sd_A": sd_a * factor})
        assert worse > best
        worse = problem.nllh_parameters({**natural, "sd_B": sd_b * factor})
        assert worse > best


def test_free_noise_residuals_sum_to_the_nllh(tmp_path: Path) -> None:
    """σ = abs + rel·h (as in Raia): 0.5·Σr² − nllh is the same constant at every point."""
    tables = default_tables()
    tables["observables"][1]["noiseFormula"] = (
        "noiseParameter1_obs_B + noiseParameter2_obs_B * observableParameter1_obs_B * B"
    )
    for row in tables["measurements"]:
        row["noiseParameters"] = "sd_B;0.1" if row["observableId"] == "obs_B" else 0.5
    tables["parameters"] = [p for p in tables["parameters"] if p["parameterId"] != "sd_A"]
    problem = load_petab(write_problem(tmp_path, tables=tables))
    assert problem.inner_parameter_names == ()
    assert "sd_B" in problem.parameter_names
    rng = np.random.default_rng(0)
    offsets = []
    for _ in range(3):
        x = problem.nominal_x + rng.normal(0.0, 0.1, problem.nominal_x.size)
        problem.update_inner(x)
        r = problem.residuals(x)
        assert r.size == problem.n_data + 5  # one noise residual per obs_B measurement
        offsets.append(0.5 * np.sum(r**2) - problem.nllh(x))
    assert_allclose(offsets, offsets[0], atol=1e-8)


def test_placeholders_numeric_and_condition_overrides(tmp_path: Path) -> None:
    """Numeric placeholders, a condition overriding an estimated parameter with another
    estimated parameter, and a species override, against the closed form."""
    tables = default_tables()
    for p in tables["parameters"]:
        if p["parameterId"] == "k1":
            p["parameterId"] = "k1_slow"
    tables["parameters"].append(
        {
            "parameterId": "k1_fast",
            "parameterScale": "log10",
            "lowerBound": 1e-3,
            "upperBound": 10,
            "nominalValue": 0.3,
            "estimate": 1,
        }
    )
    tables["parameters"] = [p for p in tables["parameters"] if p["parameterId"] != "A0"]
    tables["conditions"] = [
        {"conditionId": "c0", "conditionName": "", "k1": "k1_slow", "A": 10.0},
        {"conditionId": "c1", "conditionName": "", "k1": "k1_fast", "A": 4.0},
    ]
    extra = [
        {
            "observableId": "obs_B",
            "simulationConditionId": "c1",
            "measurement": 1.0,
            "time": t,
            "observableParameters": "3.0",
            "noiseParameters": 0.5,
        }
        for t in (1.0, 5.0)
    ]
    tables["measurements"].extend(extra)
    yaml_path = write_problem(tmp_path, tables=tables)
    problem = load_petab(yaml_path)
    table = problem.simulation_table()
    c1 = table[table["simulationConditionId"] == "c1"]
    _, b = chain_solution(c1["time"].to_numpy(), a0=4.0, k1=0.3)
    assert_allclose(c1["simulation"], 3.0 * b, rtol=1e-7)
    assert problem.nllh_nominal() == pytest.approx(-petab_llh(problem, yaml_path), abs=1e-9)
    # the fixed numeric noise (0.5) of c1 keeps sd_B analytic for the c0 measurements only
    assert "sd_B" in problem.inner_parameter_names


PREEQ = """
model preeq
  J1: -> B; kp*u
  J2: B -> ; kd*B
  B = 0
  kp = 2; kd = 0.5; u = 1
end
"""


def preeq_tables(reinit: Any = None) -> dict[str, list[dict[str, Any]]]:
    cond = [
        {"conditionId": "pre", "conditionName": "", "u": 1.0},
        {"conditionId": "stim", "conditionName": "", "u": 3.0},
    ]
    if reinit is not None:
        for c in cond:
            c["B"] = reinit if c["conditionId"] == "stim" else np.nan
    return {
        "conditions": cond,
        "observables": [{"observableId": "obs_B", "observableFormula": "B", "noiseFormula": "1"}],
        "measurements": [
            {
                "observableId": "obs_B",
                "preequilibrationConditionId": "pre",
                "simulationConditionId": "stim",
                "measurement": 5.0,
                "time": t,
            }
            for t in (0.0, 1.0, 4.0)
        ],
        "parameters": [
            {
                "parameterId": "kp",
                "parameterScale": "log10",
                "lowerBound": 0.01,
                "upperBound": 100,
                "nominalValue": 2.0,
                "estimate": 1,
            },
            {
                "parameterId": "kd",
                "parameterScale": "log",
                "lowerBound": 0.01,
                "upperBound": 100,
                "nominalValue": 0.5,
                "estimate": 1,
            },
        ],
    }


@pytest.mark.parametrize(("reinit", "b0"), [(None, 4.0), (np.nan, 4.0), (1.5, 1.5)])
def test_preequilibration(tmp_path: Path, reinit: Any, b0: float) -> None:
    """Steady state of u = 1 (B = kp/kd = 4), then u = 3: B → 12; a species value in the
    simulation condition re-initialises B, NaN keeps the pre-equilibrated value."""
    problem = load_petab(write_problem(tmp_path, antimony_text=PREEQ, tables=preeq_tables(reinit)))
    table = problem.simulation_table()
    t = table["time"].to_numpy()
    expected = 12.0 + (b0 - 12.0) * np.exp(-0.5 * t)
    assert_allclose(table["simulation"], expected, rtol=1e-7)


def test_preequilibration_without_steady_state(tmp_path: Path) -> None:
    tables = preeq_tables()
    tables["conditions"][0]["u"] = 1.0
    grow = PREEQ.replace("J2: B -> ; kd*B", "J2: B -> ; 0*kd*B")
    problem = load_petab(write_problem(tmp_path, antimony_text=grow, tables=tables))
    with pytest.raises(
        SimulationError, match=r"pre-equilibration of condition .* did not reach a steady state"
    ):
        problem.nllh_nominal()


STEP = """
model step
  J1: -> B; kp*piecewise(0, time < t_on, 1)
  J2: B -> ; kd*B
  B = 0
  kp = 2; kd = 0.5; t_on = 100
end
"""


def test_time_dependent_input_from_condition(tmp_path: Path) -> None:
    """A step switched on at a condition-table time (as in Brannmark_JBC2010)."""
    tables = preeq_tables()
    tables["conditions"] = [{"conditionId": "late", "conditionName": "", "t_on": 2.5}]
    tables["measurements"] = [
        {"observableId": "obs_B", "simulationConditionId": "late", "measurement": 1.0, "time": t}
        for t in (1.0, 2.0, 3.0, 7.0)
    ]
    problem = load_petab(write_problem(tmp_path, antimony_text=STEP, tables=tables))
    table = problem.simulation_table()
    t = table["time"].to_numpy()
    expected = np.where(t < 2.5, 0.0, 4.0 * (1.0 - np.exp(-0.5 * (t - 2.5))))
    assert_allclose(table["simulation"], expected, rtol=1e-6, atol=1e-9)


def test_jacobian_matches_central_differences(tmp_path: Path) -> None:
    problem = load_petab(write_problem(tmp_path), rtol=1e-10, atol=1e-12, fd_step=1e-4)
    x = problem.nominal_x + np.array([0.1, -0.1])
    problem.update_inner(x)
    jac = problem.jacobian(x)
    fd = np.empty_like(jac)
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = 1e-4
        fd[:, j] = (problem.residuals(x + e) - problem.residuals(x - e)) / 2e-4
    # forward differences (step 1e-4) for k1, k2 (scale_B is solved inside the residuals)
    assert_allclose(jac, fd, rtol=1e-3, atol=1e-4)


def test_pickle_round_trip(tmp_path: Path) -> None:
    problem = load_petab(write_problem(tmp_path))
    x = problem.nominal_x + 0.01
    value = problem.nllh(x)
    clone = pickle.loads(pickle.dumps(problem))
    assert clone._runner is None
    assert clone.nllh(x) == pytest.approx(value, abs=1e-12)
    assert "2 free parameters, 3 analytic inner parameters" in repr(clone)


def test_unknown_parameter_in_nllh_parameters(tmp_path: Path) -> None:
    problem = load_petab(write_problem(tmp_path))
    with pytest.raises(UnknownNameError, match=r"unknown PEtab parameter 'k3' \(known: A0, k1"):
        problem.nllh_parameters({"k3": 1.0})


def test_to_natural(tmp_path: Path) -> None:
    problem = load_petab(write_problem(tmp_path))
    natural = problem.to_natural(problem.nominal_x)
    assert natural == pytest.approx({"k1": 0.1, "k2": 0.05})  # scale_B: an inner parameter
    assert len(problem.fingerprint()) == 16


# --- refused features ----------------------------------------------------------------------------
YAML_HEAD = "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
SUB = (
    "- condition_files: [conditions.tsv]\n  measurement_files: [measurements.tsv]\n"
    "  observable_files: [observables.tsv]\n  sbml_files: [model.xml]\n"
)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (YAML_HEAD.replace("1", "2.0.0", 1) + SUB, r"format_version '2\.0\.0' is not supported"),
        (YAML_HEAD + SUB + SUB, r"several problems in one YAML file are not supported"),
        (YAML_HEAD + SUB + "  mapping_files: [mapping.tsv]\n", r"mapping tables \(mapping_files\)"),
        (
            YAML_HEAD + SUB.replace("[model.xml]", "[model.xml, model.xml]"),
            r"multiple models are not supported",
        ),
        (
            YAML_HEAD + SUB.replace("[conditions.tsv]", "[conditions.tsv, conditions.tsv]"),
            r"split tables are not supported",
        ),
        (YAML_HEAD + SUB + "extensions: {sciml: {}}\n", r"PEtab extensions \['sciml'\]"),
        ("- just a list\n", r"expected a YAML mapping"),
        ("format_version: [1\n", r"not valid YAML"),
    ],
)
def test_refused_yaml_features(tmp_path: Path, yaml_text: str, message: str) -> None:
    yaml_path = write_problem(tmp_path, yaml_text=yaml_text)
    with pytest.raises(PetabError, match=message):
        load_petab(yaml_path)


def test_missing_problem_file(tmp_path: Path) -> None:
    with pytest.raises(PetabError, match="does not exist"):
        load_petab(tmp_path / "nothing.yaml")


def _edit(tables: dict, kind: str, index: int, **values: Any) -> dict:
    tables[kind][index].update(values)
    return tables


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: _edit(t, "parameters", 0, parameterScale="ln"),
            r"parameterScale 'ln' of parameter 'k1' is not supported",
        ),
        (
            lambda t: _edit(t, "observables", 0, noiseDistribution="cauchy"),
            r"observables\.tsv: noiseDistribution 'cauchy' of observable 'obs_A'",
        ),
        (
            lambda t: _edit(t, "observables", 0, observableTransformation="logit"),
            r"observableTransformation 'logit' of observable 'obs_A' is not supported",
        ),
        (
            lambda t: _edit(t, "measurements", 0, noiseDistribution="laplace"),
            r"per-measurement noiseDistribution 'laplace' \(row 2\) differs",
        ),
        (
            lambda t: _edit(t, "observables", 0, observableFormula="A + Bx"),
            r"linter found errors: Missing parameter\(s\) .*'Bx'",
        ),
        (
            lambda t: _edit(t, "measurements", 1, observableParameters="nope"),
            r"linter found errors: Mismatch of observable parameter overrides",
        ),
        (
            lambda t: _edit(t, "observables", 0, observableTransformation="log"),
            r"must be positive|row 2, column measurement: .* is log-transformed",
        ),
    ],
)
def test_refused_table_features(tmp_path: Path, edit: Any, message: str) -> None:
    tables = edit(default_tables())
    if message.startswith("must be positive"):
        tables["measurements"][0]["measurement"] = -1.0
    with pytest.raises(PetabError, match=message):
        load_petab(write_problem(tmp_path, tables=tables))


def _sbml_with(edit: Any, antimony_text: str = CHAIN) -> str:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml_of(antimony_text))
    doc.setLevelAndVersion(3, 1)  # fast reactions exist only up to SBML L3V1
    edit(doc.getModel())
    return libsbml.writeSBMLToString(doc)


def _algebraic(model: Any) -> None:
    import libsbml

    rule = model.createAlgebraicRule()
    rule.setMath(libsbml.parseL3Formula("k1 - 0.1"))


def _fast(model: Any) -> None:
    model.getReaction(0).setFast(True)


def _delayed_event(model: Any) -> None:
    import libsbml

    event = model.createEvent()
    event.setId("E1")
    event.setUseValuesFromTriggerTime(True)
    trigger = event.createTrigger()
    trigger.setMath(libsbml.parseL3Formula("time > 1"))
    trigger.setInitialValue(False)
    trigger.setPersistent(True)
    event.createDelay().setMath(libsbml.parseL3Formula("2"))
    assignment = event.createEventAssignment()
    assignment.setVariable("A")
    assignment.setMath(libsbml.parseL3Formula("0"))


def _delay_function(model: Any) -> None:
    import libsbml

    model.getReaction(0).getKineticLaw().setMath(libsbml.parseL3Formula("k1*delay(A, 1)"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_algebraic, r"model\.xml: SBML algebraic rules are not supported"),
        (_fast, r"fast reactions \(reaction 'J1'\) are not supported"),
        (_delayed_event, r"delayed SBML events \(event 'E1'\) are not supported"),
        (_delay_function, r"the SBML delay\(\) function is not supported"),
    ],
)
def test_refused_sbml_features(tmp_path: Path, edit: Any, message: str) -> None:
    with pytest.raises(PetabError, match=message):
        load_petab(write_problem(tmp_path, sbml=_sbml_with(edit)))


def test_refused_condition_override_of_rule_target(tmp_path: Path) -> None:
    ruled = CHAIN.replace("k2 = 0.05", "k2 := 0.05 + 0*time")
    tables = default_tables()
    tables["parameters"] = [p for p in tables["parameters"] if p["parameterId"] != "k2"]
    tables["conditions"][0]["k2"] = 0.2
    with pytest.raises(
        PetabError, match=r"column 'k2' .* overrides a quantity defined by an SBML assignment rule"
    ):
        load_petab(write_problem(tmp_path, antimony_text=ruled, tables=tables))


def test_linter_errors_are_reported(tmp_path: Path) -> None:
    tables = default_tables()
    tables["measurements"][0]["simulationConditionId"] = "c_missing"
    with pytest.raises(PetabError, match="the PEtab linter found errors"):
        load_petab(write_problem(tmp_path, tables=tables))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: _edit(t, "observables", 0, observableFormula="J1"),
            r"observable 'obs_A': reaction fluxes \('J1'\) in formulas are not supported",
        ),
        (
            lambda t: _edit(t, "parameters", 0, nominalValue=math.nan),
            r"parameters\.tsv: parameter 'k1' has no nominalValue",
        ),
        (
            lambda t: _edit(t, "conditions", 0, foo=1.0),
            r"linter found errors: Condition table contains column for unknown entity 'foo'",
        ),
        (
            lambda t: _edit(t, "observables", 0, noiseFormula=""),
            r"linter found errors: No or non-finite noiseFormula",
        ),
        (
            lambda t: _edit(t, "parameters", 0, lowerBound=0.0),
            r"linter found errors: Bounds for log10 scaled parameter k1 must be positive",
        ),
    ],
)
def test_malformed_tables(tmp_path: Path, edit: Any, message: str) -> None:
    with pytest.raises(PetabError, match=message):
        load_petab(write_problem(tmp_path, tables=edit(default_tables())))


def test_table_without_a_required_column(tmp_path: Path) -> None:
    tables = default_tables()
    for row in tables["parameters"]:
        del row["parameterScale"]
    with pytest.raises(
        PetabError, match=r"Parameter table requires the columns \{'parameterScale'\}"
    ):
        load_petab(write_problem(tmp_path, tables=tables))


def test_missing_table_file(tmp_path: Path) -> None:
    yaml_path = write_problem(tmp_path)
    (tmp_path / "parameters.tsv").unlink()
    with pytest.raises(PetabError, match="cannot read the PEtab problem"):
        load_petab(yaml_path)


def test_integrator_failure_names_the_condition(tmp_path: Path) -> None:
    blowup = CHAIN.replace("J2: B -> ; k2*B", "J2: B -> ; k2*B\n  J3: -> A; A^2")
    problem = load_petab(write_problem(tmp_path, antimony_text=blowup))
    with pytest.raises(SimulationError, match="condition 'c0': CVODE failed"):
        problem.nllh_nominal()


AMOUNTS = """
model amounts
  compartment cell = 2
  substanceOnly species A in cell
  species C in cell
  J1: A -> C; k1*A
  A = 10; C = 0
  k1 = 0.1
end
"""


def test_amount_species_use_amounts(tmp_path: Path) -> None:
    """hasOnlySubstanceUnits species are read and set as amounts (concentrations otherwise)."""
    tables = preeq_tables()
    tables["conditions"] = [{"conditionId": "c", "conditionName": "", "A": 4.0}]
    tables["observables"] = [
        {"observableId": "obs_A", "observableFormula": "A", "noiseFormula": "1"},
        {"observableId": "obs_C", "observableFormula": "C", "noiseFormula": "1"},
    ]
    tables["measurements"] = [
        {"observableId": oid, "simulationConditionId": "c", "measurement": 1.0, "time": 5.0}
        for oid in ("obs_A", "obs_C")
    ]
    tables["parameters"] = [
        {
            "parameterId": "k1",
            "parameterScale": "log10",
            "lowerBound": 0.01,
            "upperBound": 1,
            "nominalValue": 0.1,
            "estimate": 1,
        }
    ]
    problem = load_petab(write_problem(tmp_path, antimony_text=AMOUNTS, tables=tables))
    a, c = problem.simulation_table()["simulation"]
    amount_a = 4.0 * math.exp(-0.5)
    assert a == pytest.approx(amount_a, rel=1e-7)  # amount
    assert c == pytest.approx((4.0 - amount_a) / 2.0, rel=1e-7)  # concentration in 2 volumes


EVENT = """
model pulse
  J1: A -> ; k1*A
  A = 10
  k1 = 0.1; t_add = 100
  E1: at time >= t_add: A = A + 5
end
"""


def test_sbml_event_timed_from_the_condition_table(tmp_path: Path) -> None:
    """An SBML event whose time comes from the condition table (a bolus at t_add = 3)."""
    tables = preeq_tables()
    tables["conditions"] = [{"conditionId": "bolus", "conditionName": "", "t_add": 3.0}]
    tables["observables"] = [
        {"observableId": "obs_A", "observableFormula": "A", "noiseFormula": "1"}
    ]
    tables["measurements"] = [
        {"observableId": "obs_A", "simulationConditionId": "bolus", "measurement": 1.0, "time": t}
        for t in (1.0, 2.0, 4.0, 8.0)
    ]
    tables["parameters"] = [
        {
            "parameterId": "k1",
            "parameterScale": "log10",
            "lowerBound": 0.01,
            "upperBound": 1,
            "nominalValue": 0.1,
            "estimate": 1,
        }
    ]
    problem = load_petab(write_problem(tmp_path, antimony_text=EVENT, tables=tables))
    t = problem.simulation_table()["time"].to_numpy()
    a = 10.0 * np.exp(-0.1 * t) + np.where(t >= 3.0, 5.0 * np.exp(-0.1 * (t - 3.0)), 0.0)
    assert_allclose(problem.simulation_table()["simulation"], a, rtol=1e-7)


def test_jacobian_steps_backwards_where_cvode_fails_forwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = load_petab(write_problem(tmp_path))
    x = problem.nominal_x.copy()
    problem.update_inner(x)
    expected = problem.jacobian(x)
    simulate = problem._simulate_theta
    k1 = problem.spec.table_ids.index("k1")

    def failing(theta: np.ndarray, precise: bool, runs: list[int] | None = None):
        if theta[k1] > 0.1 * (1 + 1e-9):
            raise SimulationError("CVODE failed (test)")
        return simulate(theta, precise, runs)

    monkeypatch.setattr(problem, "_simulate_theta", failing)
    jac = problem.jacobian(x)
    assert_allclose(jac[:, 0], expected[:, 0], rtol=0.02, atol=1e-6)  # backward difference
    assert_allclose(jac[:, 1:], expected[:, 1:])
    x_top = x.copy()
    x_top[0] = problem.upper[0]  # the step goes down already: nothing to fall back on
    top = 10.0 ** problem.upper[0]

    def failing_off_top(theta: np.ndarray, precise: bool, runs: list[int] | None = None):
        if not math.isclose(theta[k1], top, rel_tol=1e-12):
            raise SimulationError("CVODE failed (test)")
        return simulate(theta, precise, runs)

    monkeypatch.setattr(problem, "_simulate_theta", failing_off_top)
    with pytest.raises(SimulationError, match=r"CVODE failed \(test\)"):
        problem.jacobian(x_top)


@pytest.mark.parametrize("transform", ["lin", "log10"])
def test_analytic_scale_and_offset_equal_brute_force_optimisation(
    tmp_path: Path, transform: str
) -> None:
    """Observable scalings (and, on lin, offsets) come from the shared inner solver: their
    closed-form values are where a numerical optimisation of the nllh over them lands."""
    from scipy.optimize import minimize

    tables = default_tables()
    obs_b = tables["observables"][1]
    obs_b["observableTransformation"] = transform
    if transform == "lin":
        obs_b["observableFormula"] = "observableParameter1_obs_B * B + offset_B"
        tables["parameters"].append(
            {
                "parameterId": "offset_B",
                "parameterScale": "lin",
                "lowerBound": -10.0,
                "upperBound": 10.0,
                "nominalValue": 0.0,
                "estimate": 1,
            }
        )
    problem = load_petab(write_problem(tmp_path, tables=tables))
    inner = ("scale_B", "offset_B") if transform == "lin" else ("scale_B",)
    assert problem.inner_parameter_names[: len(inner)] == inner
    assert problem.parameter_names == ("k1", "k2")
    x = problem.nominal_x + np.array([0.1, -0.05])
    solution = problem.inner_solution(x, precise=True)
    best = problem.nllh(x, precise=True)
    sigmas = dict(zip(problem.inner.layout.sigma_names, solution.sigmas, strict=True))
    start = [float(solution.scales[0]) * 1.7, *([0.5] if transform == "lin" else [])]

    def nllh(values: np.ndarray) -> float:
        given = {**problem.to_natural(x), **sigmas, "scale_B": values[0]}
        if transform == "lin":
            given["offset_B"] = values[1]
        return problem.nllh_parameters(given)

    brute = minimize(nllh, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    assert_allclose(brute.x[0], solution.scales[0], rtol=1e-5)
    if transform == "lin":
        assert_allclose(brute.x[1], solution.offsets[0], atol=1e-5)
    assert brute.fun == pytest.approx(best, abs=1e-8)


def test_every_unsupported_feature_is_reported_at_once(tmp_path: Path) -> None:
    tables = default_tables()
    _edit(tables, "parameters", 0, parameterScale="ln")
    _edit(tables, "observables", 0, noiseDistribution="log-normal")
    with pytest.raises(
        PetabError,
        match=r"problem\.yaml: 2 unsupported PEtab features: \(1\) parameters\.tsv: "
        r"parameterScale 'ln' .*; \(2\) observables\.tsv: noiseDistribution 'log-normal' of "
        r"observable 'obs_A'",
    ):
        load_petab(write_problem(tmp_path, tables=tables))


def test_load_petab_refuses_a_binary_or_folder_yaml_in_one_message(tmp_path):
    from paracrine.errors import PetabError
    from paracrine.fitting.petab import load_petab

    binary = tmp_path / "problem.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(PetabError, match="expected YAML text, received a binary file"):
        load_petab(binary)
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    with pytest.raises(PetabError, match="expected a YAML file, received a folder"):
        load_petab(folder)
