"""Antibody sweeps and matrices: bevacizumab against VEGF and anti-IL-6 against IL-6 inhibit
monotonically with IC50s within 2× of the binding-equilibrium prediction; the closed forms
against hand calculations; MSC-CM content stated; bad input."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations import units
from paracrine.simulations.antibodies import (
    ANTIBODIES,
    antibody_matrix,
    antibody_sweep,
    equilibrium_ic50,
)
from paracrine.simulations.conditions import bound_at_equilibrium

matplotlib.use("Agg")

DOSES = np.concatenate(([0.0], np.geomspace(0.01, 1000.0, 21)))  # µg/mL


# -- closed forms --------------------------------------------------------------------------------
def test_free_ligand_ic50_against_a_hand_calculation():
    """50 ng/mL VEGF-A165 (45 kDa) = 1.1111 nM; bevacizumab Kd = koff/kon = 0.012 / 0.00552 =
    2.1739 nM. Half the VEGF bound needs C = 0.5556 nM and S0 − C = Kd sites free:
    S0 = 2.1739 + 0.5556 = 2.7295 nM of sites = 1.3647 nM IgG = 1.3647 × 149 ng/mL = 0.2033 µg/mL.
    """
    values = Model("independent").parameter_values("MCF-7")
    kd = values["koff_bev"] / values["kon_bev"]
    assert kd == pytest.approx(2.17391, rel=1e-5)
    ligand = 50.0 / 45.0
    ic50 = equilibrium_ic50(ligand, kd, antibody="bevacizumab")
    assert ic50 == pytest.approx((2.17391 + 0.55556) / 2 * 149 / 1000, rel=1e-4)
    assert ic50 == pytest.approx(0.20334, rel=1e-4)
    # at that dose the equilibrium leaves exactly half the ligand free
    sites = units.antibody_ug_ml_to_site_nm(ic50, units.BEVACIZUMAB_KDA)
    assert bound_at_equilibrium(ligand, sites, kd) == pytest.approx(ligand / 2, rel=1e-10)
    # anti-IL-6 (150 kDa): L0 = 1 nM, Kd = 2 nM → (2 + 0.5) nM sites = 1.25 nM IgG = 0.1875 µg/mL
    assert equilibrium_ic50(1.0, 2.0, antibody="anti-IL-6") == pytest.approx(0.1875)


def test_response_ic50_formula_leaves_the_half_response_ligand_free():
    ligand, kd, half = 2.0, 0.1, 0.01  # the response is half-maximal at 0.5% of the ligand
    ic50 = equilibrium_ic50(ligand, kd, half, antibody="anti-IL-6")
    # S0 = (L0 − L½)(1 + Kd/L½) = 1.99 × 11 = 21.89 nM sites → 10.945 nM IgG × 150 kDa
    assert ic50 == pytest.approx(21.89 / 2 * 150 / 1000)
    sites = units.antibody_ug_ml_to_site_nm(ic50, units.IGG_KDA)
    assert ligand - bound_at_equilibrium(ligand, sites, kd) == pytest.approx(half, rel=1e-9)
    # L½ = L0/2 is the free-ligand IC50
    assert equilibrium_ic50(ligand, kd, ligand / 2) == pytest.approx(equilibrium_ic50(ligand, kd))


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0.0, 1.0), {}, "ligand_nm"),
        ((1.0, -1.0), {}, "kd_nm"),
        ((1.0, 1.0, 1.0), {}, "below the ligand"),
        ((1.0, 1.0, float("nan")), {}, "response_ec50_nm"),
        ((1.0, 1.0), {"antibody": "tocilizumab"}, "unknown antibody"),
    ],
)
def test_equilibrium_ic50_bad_input(args, kwargs, match):
    with pytest.raises((InvalidInputError, UnknownNameError), match=match):
        equilibrium_ic50(*args, **kwargs)


# -- sweeps against a fixed ligand ---------------------------------------------------------------
@pytest.fixture(scope="module", params=["independent", "cooperation_saturation"])
def variant(request):
    return request.param


@pytest.fixture(scope="module")
def bevacizumab(variant):
    return antibody_sweep(variant, "bevacizumab", DOSES, vegf_ng_ml=50.0, cell_line="MCF-7")


@pytest.fixture(scope="module")
def anti_il6(variant):
    return antibody_sweep(variant, "anti-IL-6", DOSES, il6_ng_ml=50.0, cell_line="MCF-7")


def _check_sweep(sweep, readout, metric):
    """Monotone inhibition and the IC50 within 2× of the response-IC50 prediction.

    The prediction used is binding equilibrium *combined with the model's own ligand
    dose–response* (the dose leaving free exactly the ligand that gives half the response):
    the responses saturate in ligand, so the plain free-ligand IC50 (Kd + L0/2 sites) lies
    more than 2× (4.6× to > 100×) below the measured one and would fail the criterion.
    """
    r = sweep.readouts.index(readout)
    values = sweep.metrics[metric][:, r]
    span = sweep.inhibition_span(readout, metric)
    assert span > 1.0  # the ligand moves this read-out well above basal
    # strictly non-increasing within solver tolerance (1e-6 of the span)
    assert np.all(np.diff(values) <= 1e-6 * span)
    frac = sweep.response_fraction(metric)[:, r]
    assert frac[0] == pytest.approx(1.0, abs=1e-6)  # dose 0 = the no-antibody response
    assert frac[-1] < 0.1  # 1000 µg/mL neutralises it (pERK peak: 5% remain)
    measured = sweep.ic50(readout, metric)
    predicted = sweep.predicted_ic50(readout, metric)
    assert 0.5 < measured / predicted < 2.0
    assert measured / sweep.free_ligand_ic50() > 2.0
    return measured, predicted


@pytest.mark.parametrize("metric", ["peak", "auc"])
def test_bevacizumab_against_vegf_inhibits_monotonically_near_the_equilibrium_ic50(
    bevacizumab, metric
):
    measured, _ = _check_sweep(bevacizumab, "pERK", metric)
    # the response IC50s of pERK lie at tens of µg/mL (pERK's half response needs ~0.5% of the
    # VEGF: 50 ng/mL saturates it)
    assert 10.0 < measured < 200.0


@pytest.mark.parametrize(
    ("readout", "metric"), [("pSTAT3", "peak"), ("pSTAT3", "auc"), ("pERK", "peak")]
)
def test_anti_il6_against_il6_inhibits_monotonically_near_the_equilibrium_ic50(
    anti_il6, readout, metric
):
    _check_sweep(anti_il6, readout, metric)


def test_free_ligand_at_t0_is_the_binding_equilibrium(bevacizumab):
    ab = ANTIBODIES["bevacizumab"]
    assert bevacizumab.ligand_nm == pytest.approx(50.0 / units.VEGF_KDA)
    assert bevacizumab.free_ligand_nm[0] == pytest.approx(bevacizumab.ligand_nm)
    expected = [
        bevacizumab.ligand_nm
        - bound_at_equilibrium(
            bevacizumab.ligand_nm,
            units.antibody_ug_ml_to_site_nm(d, ab.molar_mass_kda),
            bevacizumab.kd_nm,
        )
        for d in DOSES
    ]
    assert_allclose(bevacizumab.free_ligand_nm, expected)
    assert np.all(np.diff(bevacizumab.free_ligand_nm) < 0)


def test_sweep_table_ic50_table_and_plot(bevacizumab, tmp_path):
    frame = bevacizumab.to_dataframe()
    assert len(frame) == len(DOSES) * 4 * 3
    assert {"antibody", "dose_ug_ml", "readout", "metric", "value", "response_fraction"} <= set(
        frame.columns
    )
    assert set(frame["msc_cm_fraction"]) == {0.0}
    table = bevacizumab.ic50_table()
    row = table[(table["readout"] == "pERK") & (table["metric"] == "peak")].iloc[0]
    assert row["ic50_ug_ml"] == pytest.approx(bevacizumab.ic50("pERK", "peak"))
    assert row["free_ligand_ic50_ug_ml"] == pytest.approx(0.20334, rel=1e-4)
    # pSTAT3 hardly responds to VEGF (auc span < 0.2): no IC50
    assert np.isnan(bevacizumab.ic50("pSTAT3", "auc"))
    fig = bevacizumab.plot()
    fig.savefig(tmp_path / "sweep.png", dpi=60)
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
    import matplotlib.pyplot as plt

    plt.close(fig)


# -- MSC-CM ----------------------------------------------------------------------------------------
def test_msc_cm_content_is_stated_and_overridable():
    assumed = antibody_sweep("independent", "bevacizumab", [0, 1, 10], msc_cm_fraction=0.5)
    assert assumed.msc_cm_vegf_ng_ml == units.MSC_CM_VEGF_NG_ML
    assert assumed.msc_cm_il6_ng_ml == units.MSC_CM_IL6_NG_ML
    assert "assumed" in assumed.msc_cm_content and "assumed" in assumed.describe()
    assert assumed.ligand_nm == pytest.approx(0.5 * units.MSC_CM_VEGF_NG_ML / units.VEGF_KDA)
    given = antibody_sweep(
        "independent",
        "bevacizumab",
        [0, 1, 10],
        msc_cm_fraction=0.5,
        msc_cm_il6_ng_ml=4.0,
        msc_cm_vegf_ng_ml=2.0,
    )
    assert given.msc_cm_content == "given"
    assert given.ligand_nm == pytest.approx(1.0 / units.VEGF_KDA)
    # in MSC-CM IL-6 remains when VEGF is neutralised: the floor is the IL-6 response, not basal
    r = given.readouts.index("pERK")
    assert given.floor["peak"][r] > 1.5


def test_antibody_matrix_under_msc_cm(tmp_path):
    """Claim 1's shape in signalling: each antibody cuts the MSC-CM response, both more."""
    doses = [0.0, 1.0, 100.0]
    m = antibody_matrix("cooperation_saturation", doses, doses, msc_cm_fraction=0.5)
    assert m.metrics["auc"].shape == (3, 3, 4)
    assert "assumed" in m.msc_cm_content
    for readout in ("pERK", "pAKT", "p38"):
        frac = m.response_fraction("auc", readout)
        assert frac[0, 0] == pytest.approx(1.0)
        assert frac[2, 0] < 0.95 and frac[0, 2] < 0.95  # each alone
        assert frac[2, 2] < min(frac[2, 0], frac[0, 2])  # both together more
        assert frac[2, 2] < 0.05
    frame = m.to_dataframe()
    assert len(frame) == 9 * 4 * 3
    assert {"bevacizumab_ug_ml", "anti_il6_ug_ml", "response_fraction", "msc_cm_content"} <= set(
        frame.columns
    )
    fig = m.plot()
    assert "bevacizumab (µg/mL)" in fig.axes[0].get_ylabel()
    fig.savefig(tmp_path / "matrix.png", dpi=60)
    import matplotlib.pyplot as plt

    plt.close(fig)


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("bevacizumab", [0, 1]), {}, InvalidInputError, "nothing to neutralise"),
        (("bevacizumab", [0, 1]), {"il6_ng_ml": 50}, InvalidInputError, "VEGF is absent"),
        (("bevacizumb", [0, 1]), {"vegf_ng_ml": 50}, UnknownNameError, "did you mean"),
        (("bevacizumab", [1, -1]), {"vegf_ng_ml": 50}, InvalidInputError, ">= 0"),
        (("bevacizumab", [1, 1]), {"vegf_ng_ml": 50}, InvalidInputError, "increasing"),
        (("bevacizumab", []), {"vegf_ng_ml": 50}, InvalidInputError, "non-empty"),
        (("bevacizumab", [0, np.inf]), {"vegf_ng_ml": 50}, InvalidInputError, "finite"),
        (("bevacizumab", [0, 1]), {"vegf_ng_ml": 50, "metric": "max"}, UnknownNameError, "metric"),
        (("bevacizumab", [0, 1]), {"msc_cm_fraction": 1.5}, InvalidInputError, r"\[0, 1\]"),
        (("bevacizumab", [0, 1]), {"vegf_ng_ml": -5}, InvalidInputError, "vegf_ng_ml"),
        (
            ("bevacizumab", [0, 1]),
            {"vegf_ng_ml": 50, "cell_line": "HeLa"},
            UnknownNameError,
            "cell",
        ),
        (
            ("bevacizumab", [0, 1]),
            {"vegf_ng_ml": 50, "pvec": np.ones(3)},
            InvalidInputError,
            "pvec",
        ),
    ],
)
def test_sweep_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        antibody_sweep("independent", *args, **kwargs)


def test_matrix_bad_input():
    with pytest.raises(InvalidInputError, match="nothing to neutralise"):
        antibody_matrix("independent", [0, 1], [0, 1], msc_cm_fraction=0.0)
    with pytest.raises(InvalidInputError, match="anti_il6_ug_ml"):
        antibody_matrix("independent", [0, 1], [1, 0])
