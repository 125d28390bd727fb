"""Dose matrices: metrics agree with simulate(), combination scores, errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.simulations import Condition, Knockout, dose_matrix, simulate

DOSES = [0.0, 1.0, 10.0, 50.0]


@pytest.fixture(scope="module")
def matrix():
    return dose_matrix("independent", DOSES, DOSES, "T47D")


def test_metrics_agree_with_simulate(matrix):
    times = np.linspace(0, 240, 97)
    res = simulate(
        "independent",
        [Condition("basal", "T47D"), Condition("x", "T47D", il6_ng_ml=10, vegf_ng_ml=50)],
        times=times,
    )
    basal = res.get("basal", "pAKT")[0]
    course = res.get("x", "pAKT") / basal
    assert_allclose(matrix.get("peak", "pAKT")[2, 3], course.max(), rtol=1e-9)
    assert_allclose(matrix.get("sustained", "pAKT")[2, 3], course[48], rtol=1e-9)  # t = 120 min
    assert matrix.get("time_to_peak", "pAKT")[2, 3] == times[course.argmax()]
    assert_allclose(
        matrix.get("auc", "pAKT")[2, 3], np.trapezoid(course - 1, times) / 240, rtol=1e-9
    )
    # no ligand, no response
    assert_allclose(matrix.get("peak", "pERK")[0, 0], 1.0, rtol=1e-9)


def test_peaks_rise_along_both_dose_axes(matrix):
    # more ligand, higher peak — up to saturation, where the DUSP feedback and SOCS3 that the
    # extra ligand also induces may take back a fraction of a percent (measured: ≤ 0.13% of
    # the peak for pAKT/p38 at the highest doses)
    for readout in ("pERK", "pAKT", "p38"):
        peak = matrix.get("peak", readout)
        for axis in (0, 1):
            step = np.diff(peak, axis=axis)
            assert np.all(step > -2e-3 * peak.max()), (readout, axis, step.min())
            assert np.sum(step > 0) >= 0.9 * step.size, (readout, axis)


def test_combination_scores(matrix):
    hsa = matrix.excess_over_hsa("peak", "pERK")
    assert_allclose(hsa[0, :], 0.0, atol=1e-12)
    assert_allclose(hsa[:, 0], 0.0, atol=1e-12)
    assert np.all(hsa[1:, 1:] > 0)  # the pair beats either ligand alone
    add = matrix.excess_over_additivity("peak", "pERK")
    assert add[-1, -1] < 0  # but less than additive at saturating doses (shared nodes)
    frame = matrix.to_dataframe()
    assert len(frame) == 4 * 4 * 4 * 4 and set(frame["metric"]) == {
        "peak",
        "time_to_peak",
        "auc",
        "sustained",
    }


def test_a_knockout_applies_to_every_dose_pair():
    m = dose_matrix(
        "independent",
        [0, 50],
        [0, 50],
        "MCF-7",
        perturbations=(Knockout("VEGFR2"),),
        readouts=["pERK"],
    )
    assert_allclose(m.get("peak", "pERK")[0, 1], 1.0, rtol=1e-9)  # VEGF alone does nothing
    assert m.get("peak", "pERK")[1, 0] > 1.2


def test_dose_matrix_errors(matrix):
    with pytest.raises(
        InvalidInputError,
        match=r"il6_ng_ml: expected a non-empty list of doses >= 0 ng/mL, received \[-1.0\]",
    ):
        dose_matrix("independent", [-1.0], [0.0])
    with pytest.raises(InvalidInputError, match=r"vegf_ng_ml: expected a non-empty list of doses"):
        dose_matrix("independent", [0.0], [])
    with pytest.raises(
        InvalidInputError,
        match=r"sustained_time_min: expected a time within 0–240 min, received 300",
    ):
        dose_matrix("independent", [0.0], [0.0], sustained_time_min=300)
    with pytest.raises(UnknownNameError, match=r"unknown metric 'peaks'"):
        matrix.get("peaks", "pERK")
    with pytest.raises(UnknownNameError, match=r"unknown read-out 'ERK'"):
        matrix.get("peak", "ERK")
    with pytest.raises(InvalidInputError, match=r"combination scores need a response metric"):
        matrix.excess_over_hsa("time_to_peak")
    shifted = dose_matrix("independent", [1.0, 2.0], [0.0, 1.0], readouts=["pERK"])
    with pytest.raises(InvalidInputError, match=r"need dose 0 as the first dose on both axes"):
        shifted.excess_over_hsa("peak")


def test_heat_map_is_labelled(matrix, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = matrix.plot("peak", ["pERK", "pAKT"])
    assert (
        fig.axes[0].get_xlabel() == "VEGF-A165 (ng/mL)"
        and fig.axes[0].get_ylabel() == "IL-6 (ng/mL)"
    )
    fig.savefig(tmp_path / "m.png")


def test_hill_fit_of_a_dose_matrix_axis():
    """The IL-6 EC50 of pSTAT3 lies inside the swept range and below the dose where the
    simulated response first exceeds 90% of its maximum; bad axes are clear errors."""
    import numpy as np

    from paracrine.errors import InvalidInputError
    from paracrine.simulations import dose_matrix

    doses = np.concatenate(([0.0], np.geomspace(0.01, 100.0, 9)))
    dm = dose_matrix("independent", doses, [0.0, 50.0])
    fit = dm.fit_hill("peak", "pSTAT3", ligand="IL-6")
    response = dm.get("peak", "pSTAT3")[:, 0]
    assert fit.r2 > 0.99
    assert 0.01 < fit.ec50 < 100.0
    assert fit.ec50 < doses[np.argmax(response >= 1 + 0.9 * (response.max() - 1))]
    assert abs(fit.e0 - 1.0) < 0.1 * fit.emax and fit.emax > 1.0  # basal fold 1 at dose 0
    with pytest.raises(InvalidInputError, match="at: expected a dose of the other ligand"):
        dm.fit_hill("peak", "pSTAT3", ligand="IL-6", at=7.0)
    with pytest.raises(InvalidInputError, match="ligand: expected"):
        dm.fit_hill("peak", "pSTAT3", ligand="IL6")
