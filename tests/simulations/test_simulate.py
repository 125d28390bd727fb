"""simulate(): result object, tidy table, plots, engine reuse, and every error path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations import (
    Condition,
    Inhibitor,
    Knockdown,
    Knockout,
    ModelSimulator,
    simulate,
    standard_conditions,
)
from paracrine.simulations.engine import check_times


def test_result_to_dataframe_is_tidy_with_the_documented_columns():
    res = simulate("independent", standard_conditions("T47D"), times=[0, 5, 15])
    frame = res.to_dataframe()
    assert list(frame.columns) == ["condition", "cell_line", "time_min", "observable", "value"]
    assert len(frame) == 4 * 3 * 4
    one = frame.query("condition == 'IL-6' and observable == 'pERK'")["value"].to_numpy()
    assert_allclose(one, res.get("IL-6", "pERK"))
    assert set(frame["cell_line"]) == {"T47D"}


def test_times_not_starting_at_zero_still_add_ligand_at_zero():
    full = simulate("independent", Condition("IL-6", il6_ng_ml=50), times=[0, 10, 30, 60])
    later = simulate("independent", Condition("IL-6", il6_ng_ml=50), times=[10, 30, 60])
    assert_allclose(later.values[0], full.values[0, 1:], rtol=1e-9)


def test_reused_simulator_gives_the_same_result_as_a_fresh_one():
    model = Model("saturable_feedback")
    times = check_times(np.linspace(0, 240, 50))
    sim = ModelSimulator(model)
    conds = standard_conditions("MCF-7") + standard_conditions("T47D")
    first = [sim.run(c, times) for c in conds]
    again = [sim.run(c, times) for c in reversed(conds)][::-1]
    fresh = [ModelSimulator(model).run(c, times) for c in conds]
    assert_allclose(np.array(first), np.array(again), rtol=0, atol=1e-12)
    assert_allclose(np.array(first), np.array(fresh), rtol=0, atol=1e-12)


def test_parameter_overrides_change_the_result_and_leave_the_model_untouched():
    model = Model()
    base = simulate(model, Condition("IL-6", il6_ng_ml=50))
    faster = simulate(model, Condition("IL-6", il6_ng_ml=50), params={"k_erk_dephos": 3.0})
    assert faster.get("IL-6", "pERK").max() < base.get("IL-6", "pERK").max()
    assert model.parameter_values()["k_erk_dephos"] == 0.3


def test_knockdown_and_inhibitor_scale_the_response_between_wild_type_and_knockout():
    line = "T47D"
    conds = [
        Condition("wt", line, il6_ng_ml=50),
        Condition("kd", line, il6_ng_ml=50, perturbations=(Knockdown("MEK", 0.2),)),
        Condition("ko", line, il6_ng_ml=50, perturbations=(Knockout("MEK"),)),
        Condition("MEKi", line, il6_ng_ml=50, perturbations=(Inhibitor("MEK", 0.9),)),
    ]
    res = simulate("independent", conds)
    peaks = {c.name: res.get(c.name, "pERK").max() for c in conds}
    assert peaks["ko"] == 0.0
    assert peaks["ko"] < peaks["kd"] < peaks["wt"]
    assert peaks["MEKi"] < peaks["wt"]


def test_msc_conditioned_medium_brings_both_ligands():
    c = Condition("CM", msc_cm_fraction=0.5, msc_cm_il6_ng_ml=4.0, msc_cm_vegf_ng_ml=2.0)
    assert c.total_il6_ng_ml == 2.0 and c.total_vegf_ng_ml == 1.0


def test_plot_has_labelled_axes_with_units(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = simulate("independent", standard_conditions("MCF-7")).plot()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 4
    for ax in axes:
        assert ax.get_xlabel() == "time (min)"
        assert "fraction" in ax.get_ylabel()
    fig.savefig(tmp_path / "tc.png")
    fig.savefig(tmp_path / "tc.svg")
    assert (tmp_path / "tc.png").stat().st_size > 10_000


def test_species_outputs_are_in_nm_and_readouts_are_fractions():
    res = simulate("independent", Condition("c"), times=[0, 1], outputs=["ERK", "ERK_p", "pERK"])
    erk, erk_p, frac = (res.get("c", o)[0] for o in ("ERK", "ERK_p", "pERK"))
    assert_allclose(erk + erk_p, 960.0, rtol=1e-9)  # ERK_tot (Fujioka 2006), nM
    assert_allclose(frac, erk_p / 960.0, rtol=1e-9)


# ---- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"il6_ng_ml": -1.0},
            r"condition 'x', il6_ng_ml: expected a finite dose >= 0, received -1.0",
        ),
        ({"vegf_ng_ml": float("inf")}, r"vegf_ng_ml: expected a finite dose >= 0, received inf"),
        (
            {"bevacizumab_ug_ml": float("nan")},
            r"bevacizumab_ug_ml: expected a finite dose >= 0, received nan",
        ),
        ({"anti_il6_ug_ml": "5"}, r"anti_il6_ug_ml: expected a finite dose >= 0, received '5'"),
        ({"msc_cm_fraction": 1.5}, r"msc_cm_fraction: expected a number in \[0, 1\], received 1.5"),
        (
            {"perturbations": ("gp130",)},
            r"perturbations must be Knockout, Knockdown or Inhibitor, received 'gp130'",
        ),
    ],
)
def test_bad_condition_values_are_refused(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        Condition("x", **kwargs)


def test_bad_condition_name_is_refused():
    with pytest.raises(
        InvalidInputError, match=r"condition name: expected a non-empty string, received ''"
    ):
        Condition("")


def test_unknown_perturbation_targets_suggest_close_matches():
    with pytest.raises(
        UnknownNameError, match=r"unknown knockout target 'gp13' — did you mean 'gp130'"
    ):
        Knockout("gp13")
    with pytest.raises(UnknownNameError, match=r"unknown knockdown target 'VEGFR'"):
        Knockdown("VEGFR", 0.5)
    with pytest.raises(
        UnknownNameError, match=r"unknown inhibitor target 'MEK1' — did you mean 'MEK'"
    ):
        Inhibitor("MEK1", 0.5)
    with pytest.raises(
        InvalidInputError,
        match=r"knockdown of MEK: remaining: expected a number in \[0, 1\], received 2",
    ):
        Knockdown("MEK", 2)
    with pytest.raises(
        InvalidInputError, match=r"inhibitor of PI3K: inhibition: expected a number in \[0, 1\]"
    ):
        Inhibitor("PI3K", -0.1)


@pytest.mark.parametrize(
    ("times", "match"),
    [
        (
            [0, 10, 5],
            r"times: expected strictly increasing values, received 10.0 then 5.0 at positions 1 and 2",
        ),
        ([0, 5, 5], r"strictly increasing values, received 5.0 then 5.0"),
        ([-5, 0, 5], r"times: expected finite values >= 0 min"),
        ([0, np.nan], r"times: expected finite values >= 0 min"),
        ([], r"times: expected a non-empty 1-D sequence"),
        ([[0, 1]], r"times: expected a non-empty 1-D sequence, received shape \(1, 2\)"),
        (["a"], r"times: expected numbers in minutes, received \['a'\]"),
    ],
)
def test_bad_times_are_refused(times, match):
    with pytest.raises(InvalidInputError, match=match):
        simulate("independent", Condition("c"), times=times)


def test_bad_simulate_arguments_are_refused():
    with pytest.raises(UnknownNameError, match=r"unknown variant 'null'"):
        simulate("null", Condition("c"))
    with pytest.raises(
        InvalidInputError, match=r"model: expected a paracrine Model or a variant name, received 3"
    ):
        simulate(3, Condition("c"))
    with pytest.raises(
        InvalidInputError, match=r"conditions: expected at least one Condition, received none"
    ):
        simulate("independent", [])
    with pytest.raises(
        InvalidInputError, match=r"conditions: names must be unique, received duplicates \['a'\]"
    ):
        simulate("independent", [Condition("a"), Condition("a", il6_ng_ml=1)])
    with pytest.raises(
        InvalidInputError, match=r"conditions: expected Condition objects, received 'a'"
    ):
        simulate("independent", [Condition("b"), "a"])
    with pytest.raises(UnknownNameError, match=r"unknown cell line 'T-47D' — did you mean 'T47D'"):
        simulate("independent", Condition("c", "T-47D"))
    with pytest.raises(UnknownNameError, match=r"unknown output 'pERK2' — did you mean 'pERK'"):
        simulate("independent", Condition("c"), outputs=["pERK2"])
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'k_erk'"):
        simulate("independent", Condition("c"), params={"k_erk": 1.0})
    with pytest.raises(InvalidInputError, match=r"tolerances: expected 0 < rtol < 1 and atol > 0"):
        simulate("independent", Condition("c"), rtol=0)
    res = simulate("independent", Condition("c"), times=[0, 1])
    with pytest.raises(UnknownNameError, match=r"unknown condition 'd'"):
        res.get("d", "pERK")
    with pytest.raises(UnknownNameError, match=r"unknown output 'ERK'"):
        res.get("c", "ERK")
    with pytest.raises(UnknownNameError, match=r"unknown cell line 'HeLa'"):
        ModelSimulator(Model()).parameter_vector("HeLa")


def test_integrator_failure_raises_simulation_error_naming_condition_and_parameters():
    sim = ModelSimulator(Model().with_parameters({"k_erk_phos": 0.5}))
    sim._runner().integrator.maximum_num_steps = 3  # force CV_TOO_MUCH_WORK
    with pytest.raises(
        SimulationError,
        match=r"pre-equilibration of condition 'IL-6' \(MCF-7\) failed: .*CV_TOO_MUCH_WORK.*k_erk_phos=0.5",
    ):
        sim.run(Condition("IL-6", il6_ng_ml=50), check_times([0, 240]))
    sim2 = ModelSimulator(Model())
    sim2.preequilibrate(sim2.parameter_vector("MCF-7"))
    sim2._runner().integrator.maximum_num_steps = 3
    with pytest.raises(
        SimulationError,
        match=r"integration of condition 'IL-6' \(MCF-7\) failed: .*parameters differing from the table: none",
    ):
        sim2.run(Condition("IL-6", il6_ng_ml=50), check_times([0, 240]))


def test_preequilibration_that_never_settles_is_reported(monkeypatch):
    import paracrine.simulations.model_simulator as engine

    monkeypatch.setattr(engine, "PREEQ_HORIZON_MIN", 1e-3)  # far too short to settle
    sim = ModelSimulator(Model())
    with pytest.raises(
        SimulationError, match=r"did not reach a steady state within 0.01 min: d\[\w+\]/dt = "
    ):
        sim.run(Condition("c"), check_times([0, 1]))


def test_simulator_pickles_and_recompiles():
    import pickle

    sim = ModelSimulator(Model("stat3_vegfr2_expression"), ["pERK"])
    times = check_times([0, 10, 60])
    before = sim.run(Condition("c", vegf_ng_ml=10), times)
    clone = pickle.loads(pickle.dumps(sim))
    assert_allclose(clone.run(Condition("c", vegf_ng_ml=10), times), before, rtol=0, atol=1e-12)


def test_dataframe_round_trips_through_csv(tmp_path):
    frame = simulate("independent", standard_conditions("MCF-7"), times=[0, 60]).to_dataframe()
    frame.to_csv(tmp_path / "s.csv", index=False)
    back = pd.read_csv(tmp_path / "s.csv")
    assert_allclose(back["value"], frame["value"])


def test_preequilibrated_state_carries_no_round_off_dust():
    # CVODE's first error test fails on species at ~1e-35 nM (seen in multistart fits)
    sim = ModelSimulator(Model().with_parameters({"k_ras_vr": 5.0, "k_vr_int": 0.7}))
    state = sim.preequilibrate(sim.parameter_vector("MCF-7"))
    assert not np.any((state > 0) & (state < 1e-12))
    assert np.all(state >= 0)


def test_retry_with_low_order_bdf_rescues_a_failing_integration(monkeypatch):
    sim = ModelSimulator(Model())
    times = check_times([0, 5, 15, 60])
    expected = sim.run(Condition("IL-6", il6_ng_ml=50), times)
    rr = sim._runner()
    real = rr.simulate
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("CV_ERR_FAILURE (simulated)")
        assert rr.integrator.maximum_bdf_order == 2
        return real(*args, **kwargs)

    monkeypatch.setattr(rr, "simulate", flaky)
    again = sim.run(Condition("IL-6", il6_ng_ml=50), times)
    assert sim.n_retries == 1
    assert rr.integrator.maximum_bdf_order == 5  # settings restored
    assert_allclose(again, expected, rtol=1e-4, atol=1e-6)


class _FlakyRoadRunner:
    """Fails its first integration (as CVODE does at extreme parameters), then works."""

    def __init__(self) -> None:
        self.integrator = type(
            "Integrator",
            (),
            {"maximum_bdf_order": 5, "relative_tolerance": 0.0, "absolute_tolerance": 0.0},
        )()
        self.model = type(
            "Model",
            (),
            {
                "getFloatingSpeciesAmounts": lambda _self: np.array([1.0]),
                "setFloatingSpeciesAmounts": lambda _self, values: None,
            },
        )()
        self.attempts = []

    def simulate(self, times):
        self.attempts.append(
            (self.integrator.maximum_bdf_order, self.integrator.absolute_tolerance)
        )
        if len(self.attempts) == 1:
            raise RuntimeError("CV_ERR_FAILURE")
        return np.column_stack([times, times])


@pytest.mark.parametrize("use_restore", [False, True])
def test_integrate_retries_once_at_low_order_and_restores_its_settings(use_restore):
    from paracrine.simulations import Simulator, Tolerances

    sim = Simulator("<sbml/>", (), ("time", "A"), tolerances=Tolerances(1e-6, 1e-8))
    sim._rr = _FlakyRoadRunner()  # the wrapper's only use of libRoadRunner is through _rr
    sim.set_tolerances(Tolerances(1e-6, 1e-8))  # applied to the (fake) integrator
    restored = []
    out = sim.integrate(
        np.array([0.0, 1.0]), restore=(lambda: restored.append(1)) if use_restore else None
    )
    assert_allclose(out, [[0.0, 0.0], [1.0, 1.0]])
    assert sim._rr.attempts == [(5, 1e-8), (2, pytest.approx(1e-12))]  # BDF ≤ 2, atol × 1e-4
    assert sim.n_retries == 1 and restored == ([1] if use_restore else [])
    assert sim._rr.integrator.maximum_bdf_order == 5
    assert sim._rr.integrator.absolute_tolerance == 1e-8
