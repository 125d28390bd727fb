"""Correct science: steady state without ligand, non-negativity, conservation, closed-form
equilibria, dose monotonicity, knockouts and antibodies.

Tolerances are tied to the integrator: PRECISE tolerances (rtol 1e-10, atol 1e-12 nM) for the
checks of exact laws, the defaults (rtol 1e-6, atol 1e-8) elsewhere.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.models import CELL_LINES, Model, list_variants
from paracrine.simulations import (
    REFERENCE_TOLERANCES,
    Condition,
    Knockout,
    simulate,
    standard_conditions,
)
from paracrine.simulations import ModelSimulator as Simulator
from paracrine.simulations.conditions import bound_at_equilibrium
from paracrine.simulations.units import IL6_KDA, VEGF_KDA

PRECISE_RTOL, PRECISE_ATOL = REFERENCE_TOLERANCES.rtol, REFERENCE_TOLERANCES.atol

PRECISE = {"rtol": PRECISE_RTOL, "atol": PRECISE_ATOL}
MEDIUM = 1000.0  # medium_to_cell_volume


def all_species(variant="independent"):
    return Simulator(Model(variant)).species_ids


@pytest.mark.parametrize("variant", list_variants())
@pytest.mark.parametrize("cell_line", CELL_LINES)
def test_without_ligand_every_state_stays_at_steady_state_for_24_h(variant, cell_line):
    import roadrunner

    model = Model(variant)
    sim = Simulator(model, tolerances=REFERENCE_TOLERANCES)
    steady = sim.preequilibrate(sim.parameter_vector(cell_line))
    # integrate from the pre-equilibrated state on a separate RoadRunner instance
    rr = roadrunner.RoadRunner(model.sbml)
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = PRECISE_RTOL, PRECISE_ATOL
    for name, value in model.parameter_values(cell_line).items():
        rr.setValue(name, value)
    rr.reset()
    rr.model.setFloatingSpeciesAmounts(steady)
    species = list(rr.model.getFloatingSpeciesIds())
    rr.timeCourseSelections = ["time"] + [f"[{s}]" for s in species]
    x = np.asarray(rr.simulate(times=np.linspace(0, 1440, 25)))[:, 1:]
    drift = np.abs(x - x[0])
    assert np.all(drift <= 1e-6 * np.abs(x[0]) + 1e-9), species[int(np.argmax(drift.max(axis=0)))]
    # and the engine's shortcut for unstimulated conditions returns exactly that state
    res = simulate(
        model, Condition("control", cell_line), times=[0, 720, 1440], outputs=species, **PRECISE
    )
    assert_allclose(res.values[0], np.repeat(x[:1], 3, axis=0), rtol=1e-6, atol=1e-9)


CONDITIONS = [
    Condition("IL-6", "MCF-7", il6_ng_ml=100),
    Condition("VEGF", "T47D", vegf_ng_ml=100),
    Condition("combo", "SK-Br-3", il6_ng_ml=50, vegf_ng_ml=50),
    Condition(
        "MSC-CM + both antibodies",
        "MCF-7",
        msc_cm_fraction=1.0,
        bevacizumab_ug_ml=10,
        anti_il6_ug_ml=10,
    ),
    Condition(
        "combo, JAK1 KO", "T47D", il6_ng_ml=50, vegf_ng_ml=50, perturbations=(Knockout("JAK1"),)
    ),
    Condition("huge doses", "T47D", il6_ng_ml=1e4, vegf_ng_ml=1e4),
]


@pytest.mark.parametrize("variant", list_variants())
def test_all_states_are_non_negative_in_every_condition(variant):
    species = all_species(variant)
    res = simulate(variant, CONDITIONS, times=np.linspace(0, 240, 97), outputs=species)
    assert res.values.min() >= -1e-7  # atol 1e-8 nM; CVODE may undershoot 0 by ~atol
    assert np.all(res.values[..., [species.index(s) for s in ("ERK_p", "AKT_p", "p38MAPK_p")]] >= 0)


CONSERVED = {
    "JAK_tot": ("JAK", "JAK_p"),
    "STAT3_tot": ("STAT3", "STAT3_p"),
    "PKC_tot": ("PKC", "aPKC"),
    "Ras_tot": ("RasGDP", "RasGTP"),
    "Raf_tot": ("Raf", "aRaf"),
    "MEK_tot": ("MEK", "MEK_p"),
    "ERK_tot": ("ERK", "ERK_p"),
    "PI3K_tot": ("PI3K", "aPI3K"),
    "AKT_tot": ("AKT", "AKT_p"),
    "MKK_tot": ("MKK", "MKK_p"),
    "p38_tot": ("p38MAPK", "p38MAPK_p"),
}


@pytest.mark.parametrize("variant", ["independent", "full"])
def test_conservation_laws_hold_along_trajectories(variant):
    model = Model(variant)
    species = all_species(variant)
    cond = Condition("combo + antibody", "T47D", il6_ng_ml=50, vegf_ng_ml=50, anti_il6_ug_ml=1)
    res = simulate(model, cond, times=np.linspace(0, 240, 97), outputs=species, **PRECISE)
    x = {s: res.values[0, :, i] for i, s in enumerate(species)}
    values = model.parameter_values("T47D")
    for total, parts in CONSERVED.items():
        assert_allclose(sum(x[p] for p in parts), values[total], rtol=1e-8, err_msg=total)
    # IL-6 is not made; it is lost only with the receptors it is bound to (turnover and
    # SOCS3-targeted degradation of C6): amount in medium + on receptors + on antibody never
    # grows, and what is lost is the integral of C6's degradation flux
    il6_amount = MEDIUM * (x["IL6"] + x["IL6_Ab"]) + x["C6"]
    assert np.all(np.diff(il6_amount) <= 1e-9 * il6_amount[0])
    rate = values["k_r6_turnover"] + values["k_socs3_r6"] * x["SOCS3"]
    lost = np.concatenate(
        [
            [0.0],
            np.cumsum(
                np.diff(res.times) * 0.5 * (rate * x["C6"])[1:]
                + np.diff(res.times) * 0.5 * (rate * x["C6"])[:-1]
            ),
        ]
    )
    assert_allclose(
        il6_amount + lost, MEDIUM * cond.added_concentrations_nm()["IL6"], rtol=1e-4
    )  # trapezoidal rule on a 2.5-min grid
    # antibody sites are conserved in the medium
    assert_allclose(x["AbIL6"] + x["IL6_Ab"], cond.added_concentrations_nm()["AbIL6"], rtol=1e-8)


def _bound_at_equilibrium(ligand_total, sites_total, kd, volume_ratio=1.0):
    """Closed form of L + S <-> C with L in a volume `volume_ratio` times that of S."""
    # amounts: L*V + C = L0*V ; S + C = S0 ; C = L*S/Kd  -> quadratic in C
    lt = ligand_total * volume_ratio
    a = 1.0
    b = -(lt + sites_total + kd * volume_ratio)
    c = lt * sites_total
    return (-b - np.sqrt(b * b - 4 * a * c)) / (2 * a)


@pytest.mark.parametrize("il6_ng_ml", [0.1, 1.0, 10.0, 100.0])
def test_il6_receptor_occupancy_matches_the_closed_form_equilibrium(il6_ng_ml):
    # binding alone: receptor turnover and SOCS3-targeted degradation switched off
    model = Model().with_parameters({"k_r6_turnover": 0.0, "k_socs3_r6": 0.0})
    values = model.parameter_values("SK-Br-3")
    kd = values["koff_il6"] / values["kon_il6"]
    cond = Condition("IL-6", "SK-Br-3", il6_ng_ml=il6_ng_ml)
    res = simulate(model, cond, times=[0, 3000], outputs=["C6", "IL6"], **PRECISE)
    expected = _bound_at_equilibrium(il6_ng_ml / IL6_KDA, values["R6_tot"], kd, MEDIUM)
    assert_allclose(res.get("IL-6", "C6")[-1], expected, rtol=1e-6)
    # in the pseudo-first-order limit this is the familiar hyperbola
    free = res.get("IL-6", "IL6")[-1]
    assert_allclose(res.get("IL-6", "C6")[-1], values["R6_tot"] * free / (kd + free), rtol=1e-6)


@pytest.mark.parametrize(("antibody", "ligand"), [("bevacizumab", "VEGF"), ("anti_il6", "IL6")])
def test_antibody_neutralisation_matches_the_closed_form_equilibrium(antibody, ligand):
    # receptors knocked out and medium decay off: a pure binding equilibrium in the medium
    model = Model().with_parameters({"k_vegf_decay": 0.0})
    dose = {"VEGF": {"vegf_ng_ml": 50.0}, "IL6": {"il6_ng_ml": 50.0}}[ligand]
    cond = Condition(
        "neutralised",
        "MCF-7",
        **dose,
        **{f"{antibody}_ug_ml": 1.0},
        perturbations=(Knockout("VEGFR2"), Knockout("gp130")),
        antibody_preincubation=False,  # let the integrator find the equilibrium
    )
    complex_id = {"VEGF": "VEGF_Bev", "IL6": "IL6_Ab"}[ligand]
    res = simulate(model, cond, times=[0, 20000], outputs=[ligand, complex_id], **PRECISE)
    values = model.parameter_values()
    kd = {
        "VEGF": values["koff_bev"] / values["kon_bev"],
        "IL6": values["koff_ab_il6"] / values["kon_ab_il6"],
    }[ligand]
    added = cond.added_concentrations_nm()
    sites = added["Bev" if ligand == "VEGF" else "AbIL6"]
    expected = _bound_at_equilibrium(added[ligand], sites, kd)
    assert_allclose(res.get("neutralised", complex_id)[-1], expected, rtol=1e-6)
    assert_allclose(res.get("neutralised", ligand)[-1], added[ligand] - expected, rtol=1e-5)
    # pre-incubation puts the medium at that equilibrium before the cells see it
    pre = simulate(
        model,
        replace(cond, antibody_preincubation=True),
        times=[0],
        outputs=[complex_id],
        **PRECISE,
    )
    assert_allclose(pre.values[0, 0, 0], expected, rtol=1e-9)
    assert_allclose(bound_at_equilibrium(added[ligand], sites, kd), expected, rtol=1e-12)


def test_doses_are_converted_with_the_stated_molar_masses():
    c = Condition("x", il6_ng_ml=50, vegf_ng_ml=50, bevacizumab_ug_ml=149)
    added = c.added_concentrations_nm()
    assert_allclose(added["IL6"], 50 / IL6_KDA)
    assert_allclose(added["VEGF"], 50 / VEGF_KDA)
    assert_allclose(added["VEGF"], 1.11, rtol=0.01)  # BIOLOGY.md: 50 ng/mL VEGF165 ≈ 1.1 nM
    assert_allclose(added["Bev"], 2000.0)  # 1 µM IgG, two sites each


DOSES = [0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0]


@pytest.mark.parametrize("cell_line", CELL_LINES)
@pytest.mark.parametrize("ligand", ["il6_ng_ml", "vegf_ng_ml"])
def test_peak_readouts_rise_monotonically_with_dose(cell_line, ligand):
    conds = [Condition(f"{d:g}", cell_line, **{ligand: d}) for d in DOSES]
    res = simulate(
        "independent", conds, times=np.linspace(0, 240, 241), outputs=["pERK", "pAKT", "p38"]
    )
    peaks = res.values.max(axis=1)  # (dose, readout)
    assert np.all(np.diff(peaks, axis=0) > 0), peaks


def _response(res, name, control="control"):
    """Largest deviation from the control time course over all read-outs."""
    return np.abs(res.get(name, "pERK") - res.get(control, "pERK")).max(), np.abs(
        res.values[[c.name for c in res.conditions].index(name)]
        - res.values[[c.name for c in res.conditions].index(control)]
    ).max()


@pytest.mark.parametrize("target", ["gp130", "JAK1"])
def test_knocking_out_gp130_or_jak1_abolishes_the_il6_response(target):
    line = "T47D"
    conds = [
        Condition("control", line, perturbations=(Knockout(target),)),
        Condition("IL-6", line, il6_ng_ml=100, perturbations=(Knockout(target),)),
        Condition("wt control", line),
        Condition("wt IL-6", line, il6_ng_ml=100),
    ]
    res = simulate("full", conds)
    assert _response(res, "wt IL-6", "wt control")[1] > 0.1
    assert _response(res, "IL-6")[1] < 1e-6


def test_knocking_out_vegfr2_abolishes_the_vegf_response_and_keeps_il6s():
    line = "MCF-7"
    ko = (Knockout("VEGFR2"),)
    conds = [
        Condition("control", line, perturbations=ko),
        Condition("VEGF", line, vegf_ng_ml=100, perturbations=ko),
        Condition("IL-6", line, il6_ng_ml=100, perturbations=ko),
    ]
    res = simulate("independent", conds)
    assert _response(res, "VEGF")[1] < 1e-6
    assert _response(res, "IL-6")[0] > 0.05


def test_excess_bevacizumab_abolishes_the_vegf_response():
    line = "SK-Br-3"
    conds = [
        Condition("control", line),
        Condition("VEGF", line, vegf_ng_ml=50),
        Condition("VEGF + bevacizumab", line, vegf_ng_ml=50, bevacizumab_ug_ml=1000),
        Condition("VEGF + some bevacizumab", line, vegf_ng_ml=50, bevacizumab_ug_ml=10),
    ]
    res = simulate("independent", conds)
    free = _response(res, "VEGF")[1]
    assert free > 0.1
    # 1 mg/mL (pre-incubated) leaves ~1.8e-4 nM free VEGF (Kd 2.2 nM): > 95% of the response gone
    assert _response(res, "VEGF + bevacizumab")[1] < 0.05 * free
    assert 0.05 * free < _response(res, "VEGF + some bevacizumab")[1] < free


@pytest.mark.parametrize("cell_line", CELL_LINES)
def test_combination_is_stronger_than_either_ligand_alone_with_default_parameters(cell_line):
    res = simulate("independent", standard_conditions(cell_line))
    for readout in ("pERK", "pAKT", "p38"):
        combo = res.get("IL-6+VEGF", readout).max()
        assert combo > res.get("IL-6", readout).max()
        assert combo > res.get("VEGF", readout).max()
