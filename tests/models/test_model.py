"""The Model wrapper: variants, parameters, immutability, SBML export."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.models import OBSERVABLES, VARIANTS, Model, list_variants
from paracrine.simulations import Condition, simulate, standard_conditions
from paracrine.simulations.model_simulator import PREEQ_HORIZON_MIN


def test_at_least_four_variants_share_one_core_and_nest_the_null_model():
    names = list_variants()
    assert names[0] == "independent"
    assert {"stat3_vegf_autocrine", "stat3_vegfr2_expression", "saturable_feedback"} <= set(names)
    null = Model("independent")
    for name in names[1:]:
        variant = Model(name)
        # same reactions: only the switched-on cross-talk parameters differ
        differing = {
            k for k, v in variant.parameter_values().items() if v != null.parameter_values()[k]
        }
        assert differing == set(VARIANTS[name].switched_on)
        assert set(VARIANTS[name].switched_on) <= set(variant.estimated_parameters())
        assert not set(VARIANTS[name].switched_on) & set(null.estimated_parameters())


def test_variant_with_its_mechanisms_switched_off_is_the_null_model():
    off = dict.fromkeys(VARIANTS["full"].switched_on, 0.0)
    conds = standard_conditions("SK-Br-3")
    full_off = simulate(Model("full").with_parameters(off), conds)
    null = simulate(Model("independent"), conds)
    assert_allclose(full_off.values, null.values, rtol=0, atol=1e-12)


def test_model_lists_species_parameters_observables():
    m = Model()
    assert set(OBSERVABLES) == set(m.observables) == {"pERK", "pAKT", "p38", "pSTAT3"}
    assert {"IL6", "VEGF", "R6", "C6", "R2", "VR_p", "ERK", "ERK_p", "SOCS3", "Bev"} <= set(
        m.species_ids
    )
    assert "k_erk_phos" in m.parameter_ids
    # read-out names never shadow species or parameter ids
    assert not set(m.observables) & (set(m.species_ids) | set(m.parameter_ids))


def test_with_parameters_returns_a_new_model_and_never_mutates_the_original():
    base = Model("independent")
    changed = base.with_parameters({"k_erk_dephos": 0.5})
    per_line = changed.with_parameters({"R6_tot": 0.05}, cell_line="MCF-7")
    assert base.parameter_values()["k_erk_dephos"] == 0.3
    assert changed.parameter_values()["k_erk_dephos"] == 0.5
    assert per_line.parameter_values("MCF-7")["R6_tot"] == 0.05
    assert per_line.parameter_values("T47D")["R6_tot"] == 2.5
    assert changed.parameter_values("T47D")["R6_tot"] == 2.5
    assert base != changed and changed == Model("independent", {"k_erk_dephos": 0.5})


def test_model_pickles_by_content():
    m = Model("stat3_vegfr2_expression", {"k_erk_dephos": 0.4}, {"T47D": {"R6_tot": 1.0}})
    assert pickle.loads(pickle.dumps(m)) == m


def test_bad_model_input_is_refused_with_clear_messages():
    with pytest.raises(
        UnknownNameError, match=r"unknown variant 'saturable' — did you mean 'saturable_feedback'"
    ):
        Model("saturable")
    with pytest.raises(
        UnknownNameError, match=r"unknown parameter 'kerk_phos' — did you mean 'k_erk_phos'"
    ):
        Model().with_parameters({"kerk_phos": 1.0})
    with pytest.raises(
        InvalidInputError,
        match=r"parameter 'k_erk_phos': expected a finite number >= 0, received -1",
    ):
        Model().with_parameters({"k_erk_phos": -1.0})
    with pytest.raises(InvalidInputError, match=r"received nan"):
        Model().with_parameters({"k_erk_phos": float("nan")})
    with pytest.raises(UnknownNameError, match=r"unknown cell line 'T47-D' — did you mean 'T47D'"):
        Model().with_parameters({"R6_tot": 1.0}, cell_line="T47-D")


def test_exported_sbml_is_valid_and_reproduces_the_trajectories(tmp_path):
    import libsbml
    import roadrunner

    model = Model("full")
    path = model.export_sbml(tmp_path / "full_T47D.xml", cell_line="T47D")
    doc = libsbml.readSBMLFromFile(str(path))
    doc.checkConsistency()
    errors = [
        doc.getError(i).getMessage()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    assert errors == []

    times = np.linspace(0, 240, 49)
    cond = Condition(
        "combo",
        "T47D",
        il6_ng_ml=50,
        vegf_ng_ml=50,
        bevacizumab_ug_ml=1.0,
        antibody_preincubation=False,
    )
    expected = simulate(model, cond, times=times, rtol=1e-10, atol=1e-12).values[0]

    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = 1e-10, 1e-12
    rr.simulate(0, PREEQ_HORIZON_MIN, 2)
    for species, value in cond.added_concentrations_nm().items():
        rr.setValue(f"[{species}]", rr.getValue(f"[{species}]") + value)
    rr.timeCourseSelections = ["time", *OBSERVABLES.values()]
    reloaded = np.asarray(rr.simulate(times=times))[:, 1:]
    assert_allclose(reloaded, expected, rtol=1e-6, atol=1e-9)
