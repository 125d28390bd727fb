"""Synergy scores: hand-computed Bliss, HSA and Loewe examples, the null cases each method is
built for (independent agents are Bliss- and ZIP-null, a sham combination of an agent with
itself is Loewe-null but not Bliss-null), the ``synergy`` package as a reference
implementation, the vectorised Hill fits against the previous one-fit_hill-per-curve path,
tables, heat maps and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.simulations import synergy
from paracrine.simulations.dose_response import fit_hill, hill
from paracrine.simulations.synergy import (
    bliss_excess,
    fit_single_agents,
    fractional_effect,
    hsa_excess,
    loewe_excess,
    loewe_reference,
    plot_synergy,
    synergy_scores,
    zip_delta,
)

#: a hand-made 3 × 3 fractional-effect matrix: rows dose of A (0, 1, 10), columns B (0, 2, 20)
HAND = np.array([[0.0, 0.2, 0.5], [0.3, 0.5, 0.6], [0.6, 0.7, 0.95]])
HAND_A, HAND_B = [0.0, 1.0, 10.0], [0.0, 2.0, 20.0]

DOSE_A = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
DOSE_B = np.array([0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0])
AGENT_A = (0.8, 2.0, 1.3)  # (emax, EC50, n) of fractional effect, e0 = 0
AGENT_B = (0.6, 4.0, 0.9)


def _singles():
    return hill(DOSE_A, 0.0, *AGENT_A), hill(DOSE_B, 0.0, *AGENT_B)


def _independent() -> np.ndarray:
    fa, fb = _singles()
    return 1.0 - (1.0 - fa[:, None]) * (1.0 - fb[None, :])


def _potentiated() -> np.ndarray:
    """Synergy without noise: B raises A's potency up to 3-fold on top of B's own effect."""
    fb = _singles()[1]
    out = np.empty((DOSE_A.size, DOSE_B.size))
    for j, b in enumerate(DOSE_B):
        shift = 1.0 + 2.0 * b / (b + 5.0)
        out[:, j] = 1.0 - (1.0 - hill(DOSE_A * shift, 0.0, *AGENT_A)) * (1.0 - fb[j])
    return out


def _noisy_antagonism() -> np.ndarray:
    rng = np.random.default_rng(0)
    fa, fb = _singles()
    f = _independent() - 0.15 * np.outer(fa, fb) + rng.normal(0.0, 0.02, (DOSE_A.size, DOSE_B.size))
    f[0, 0] = 0.0
    return f


# --------------------------------------------------------------------------- normalisation


def test_fractional_effect_by_hand():
    assert_allclose(fractional_effect([[2.0, 3.0], [4.0, 6.0]]), [[0, 0.25], [0.5, 1]])
    # inhibitory: (R00 − R)/(R00 − Emin)
    assert_allclose(
        fractional_effect([[10.0, 8.0], [6.0, 2.0]], inhibitory=True), [[0, 0.25], [0.5, 1]]
    )
    # a shared ceiling and baseline instead of this matrix's own
    assert_allclose(fractional_effect([[2.0, 3.0], [4.0, 6.0]], emax=12.0), [[0, 0.1], [0.2, 0.4]])
    assert_allclose(
        fractional_effect([[2.0, 3.0], [4.0, 6.0]], baseline=1.0), [[0.2, 0.4], [0.6, 1]]
    )


# --------------------------------------------------------------------------- hand-computed


def test_bliss_and_hsa_by_hand():
    # Bliss expectation fA + fB − fA·fB: (1,1) 0.3 + 0.2 − 0.06 = 0.44; (1,2) 0.3 + 0.5 − 0.15
    # = 0.65; (2,1) 0.6 + 0.2 − 0.12 = 0.68; (2,2) 0.6 + 0.5 − 0.30 = 0.80
    expected_bliss = [[0, 0, 0], [0, 0.06, -0.05], [0, 0.02, 0.15]]
    assert_allclose(bliss_excess(HAND), expected_bliss, atol=1e-15)
    # HSA expectation max(fA, fB): 0.3, 0.5, 0.6, 0.6
    expected_hsa = [[0, 0, 0], [0, 0.2, 0.1], [0, 0.1, 0.35]]
    assert_allclose(hsa_excess(HAND), expected_hsa, atol=1e-15)


def test_loewe_by_hand_for_two_hill_agents_with_n_1():
    # emax 1, n 1: A⁻¹(f) = EC50·f/(1 − f), so the isobole a/A⁻¹ + b/B⁻¹ = 1 gives
    # f_L = (a/EC50a + b/EC50b)/(1 + a/EC50a + b/EC50b)
    ca, cb = 2.0, 5.0
    dose_a = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0])
    dose_b = np.array([0.0, 1.0, 2.5, 5.0, 10.0, 20.0])
    reference = loewe_reference(dose_a, dose_b, (1.0, ca, 1.0), (1.0, cb, 1.0))
    # by hand: a = 2, b = 5 → (1 + 1)/(1 + 2) = 2/3; a = 1, b = 2.5 → (0.5 + 0.5)/2 = 1/2
    assert reference[3, 3] == pytest.approx(2.0 / 3.0, abs=1e-12)
    assert reference[2, 2] == pytest.approx(0.5, abs=1e-12)
    x = dose_a[:, None] / ca + dose_b[None, :] / cb
    closed = x / (1.0 + x)
    assert_allclose(reference, closed, atol=1e-12)
    # the same surface as data: Hill fits of the single agents recover the curves, so the
    # surface is Loewe-additive (fit tolerance ~1e-9 on the parameters)
    assert_allclose(loewe_excess(closed, dose_a, dose_b), 0.0, atol=1e-6)


def test_loewe_reference_solves_the_isobole_for_any_hill_slopes():
    ref = loewe_reference(DOSE_A, DOSE_B, AGENT_A, AGENT_B, undefined="nan")
    (ea, ca, na), (eb, cb, nb) = AGENT_A, AGENT_B
    f = ref[1:, 1:]
    defined = np.isfinite(f)
    assert defined.sum() > 20
    a, b = np.meshgrid(DOSE_A[1:], DOSE_B[1:], indexing="ij")
    inverse_a = ca * (f / (ea - f)) ** (1 / na)
    inverse_b = cb * (f / (eb - f)) ** (1 / nb)
    assert_allclose((a / inverse_a + b / inverse_b)[defined], 1.0, rtol=1e-10)


def test_loewe_cells_beyond_the_weaker_agent_follow_the_chosen_rule():
    strong, weak = (0.9, 1.0, 1.0), (0.4, 1.0, 1.0)
    doses = np.array([0.0, 0.25, 0.5, 1.0, 4.0, 16.0])
    fs = hill(doses, 0.0, *strong)
    fw = hill(doses, 0.0, *weak)
    beyond = np.maximum(fs[1:, None], fw[None, 1:]) >= 0.4  # the strong agent alone ≥ 0.4
    assert beyond.any() and not beyond.all()
    nan = loewe_reference(doses, doses, strong, weak, undefined="nan")[1:, 1:]
    hsa = loewe_reference(doses, doses, strong, weak, undefined="hsa")[1:, 1:]
    weakest = loewe_reference(doses, doses, strong, weak, undefined="weakest")[1:, 1:]
    assert np.array_equal(np.isnan(nan), beyond)
    assert_allclose(hsa[beyond], np.broadcast_to(fs[1:, None], beyond.shape)[beyond])
    assert_allclose(weakest[beyond], 0.4)
    assert_allclose(hsa[~beyond], nan[~beyond])
    # continuity of the default rule: approaching the boundary from inside, f_L → max(fA, fB)
    inside = loewe_reference([0.0, 0.4999], [0.0, 1e-9], strong, weak)[1, 1]
    assert inside == pytest.approx(hill(0.4999, 0.0, *strong), abs=1e-6)


# --------------------------------------------------------------------------- null cases


def test_independent_agents_are_bliss_and_zip_null():
    f = _independent()
    assert_allclose(bliss_excess(f), 0.0, atol=1e-12)
    # ZIP: each column is exactly a Hill curve in A from the B-alone effect fB up to
    # fB + (1 − fB)·emaxA ≤ 1 (and likewise each row), so the row/column fits are exact and
    # delta is 0 up to the fits' convergence (parameters to ~1e-9, well inside 1e-6)
    assert_allclose(zip_delta(f, DOSE_A, DOSE_B), 0.0, atol=1e-6)


def test_a_sham_combination_is_loewe_null_but_not_bliss_null():
    # an agent combined with itself: f(a, b) = H(a + b), Loewe-additive by construction
    doses = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0])
    f = hill(doses[:, None] + doses[None, :], 0.0, 0.9, 2.0, 1.5)
    assert_allclose(loewe_excess(f, doses, doses), 0.0, atol=1e-6)
    bliss = bliss_excess(f)
    # while Bliss calls the same surface synergistic at low doses (n = 1.5 > 1) and
    # antagonistic at high doses (saturation), by up to ~0.1 in fractional effect
    assert bliss[2, 2] > 0.04
    assert bliss[6, 6] < -0.09


# --------------------------------------------------------------------------- reference library


@pytest.fixture(scope="module")
def reference():
    """The ``synergy`` package's combination and single-agent models."""
    pytest.importorskip(
        "synergy", reason="the synergy package (GPL, tests only) is the reference implementation"
    )
    import synergy.combination
    import synergy.single

    return synergy


def _oracle(model, f: np.ndarray, dose_a=DOSE_A, dose_b=DOSE_B) -> np.ndarray:
    """The synergy package on the same matrix. It takes effects as a surviving fraction
    E = 1 − f (E0 = 1 untreated, falling with dose) and reports synergy = E_reference − E =
    f − f_reference: the same sign as ours (positive = synergy), single agents 0."""
    d1, d2 = np.meshgrid(dose_a, dose_b, indexing="ij")
    return model.fit(d1.ravel(), d2.ravel(), 1.0 - f.ravel()).reshape(f.shape)


def _as_reference_hill(reference, fit):
    # our fractional Hill (e0 0, emax, EC50, n) as the package's E0 = 1, Emax = 1 − emax
    return reference.single.Hill(E0=1.0, Emax=1.0 - fit.emax, h=fit.n, C=fit.ec50)


@pytest.mark.parametrize("surface", [_potentiated, _noisy_antagonism])
def test_bliss_and_hsa_match_the_synergy_package(reference, surface):
    f = surface()
    combination = reference.combination
    # the package's default single-agent model (LogLinear) interpolates the observed
    # single-agent effects, so it uses the same f_A, f_B as we do
    assert_allclose(_oracle(combination.Bliss(), f), bliss_excess(f), atol=1e-12)
    assert_allclose(_oracle(combination.HSA(), f), hsa_excess(f), atol=1e-12)


@pytest.mark.parametrize("surface", [_potentiated, _noisy_antagonism])
@pytest.mark.parametrize(
    ("mode", "undefined"),
    [("delta_hsa", "hsa"), ("delta_nan", "nan"), ("delta_weakest", "weakest")],
)
def test_loewe_matches_the_synergy_package(reference, surface, mode, undefined):
    f = surface()
    fits = fit_single_agents(f, DOSE_A, DOSE_B)
    ours = loewe_excess(f, DOSE_A, DOSE_B, undefined=undefined, fits=fits)
    model = reference.combination.Loewe(
        mode=mode,
        drug1_model=_as_reference_hill(reference, fits[0]),
        drug2_model=_as_reference_hill(reference, fits[1]),
    )
    theirs = _oracle(model, f)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    if undefined == "nan":
        assert np.isnan(ours).sum() > 5  # A (emax 0.8) passes B's maximal effect (0.6)
    # the package solves the isobole with minimize_scalar(method="bounded"), xatol = 1e-5
    assert_allclose(ours, theirs, atol=1e-5, equal_nan=True)


def test_loewe_matches_the_synergy_package_fitting_its_own_curves(reference):
    # noise-free Hill single agents: the package's 4-parameter fits (E0 free) find E0 = 1
    # (f = 0), the same curves as our e0 = 0 fits
    f = _potentiated()
    theirs = _oracle(reference.combination.Loewe(mode="delta_hsa"), f)
    assert_allclose(loewe_excess(f, DOSE_A, DOSE_B), theirs, atol=1e-5)


def _reference_zip(reference, f, fits):
    model = reference.combination.ZIP(
        drug1_model=_as_reference_hill(reference, fits[0]),
        drug2_model=_as_reference_hill(reference, fits[1]),
    )
    return _oracle(model, f), model


def test_zip_matches_the_synergy_package(reference):
    # same single-agent curves in both: the comparison is of the row/column fits and delta
    # (the package's curve_fit stops at its default tolerances: differences ~1e-8)
    f = _potentiated()
    fits = fit_single_agents(f, DOSE_A, DOSE_B)
    ours = zip_delta(f, DOSE_A, DOSE_B, fits=fits)
    assert_allclose(ours, _reference_zip(reference, f, fits)[0], atol=1e-6)
    assert np.max(np.abs(ours)) > 0.1  # not a comparison of two zero matrices


def _sse(doses, y, bottom, top, n, ec50):
    return float(np.sum((hill(doses, bottom, top - bottom, ec50, n) - y) ** 2))


def test_zip_on_noisy_data_matches_the_synergy_package_or_fits_better(reference):
    # On noisy data a row/column fit can have several optima; the package fits each from
    # one start (the single-agent parameters), ours from ten. Wherever the two fits of a row
    # or column differ, ours must have the lower residual sum of squares; everywhere else the
    # scores agree.
    f = _noisy_antagonism()
    fits = fit_single_agents(f, DOSE_A, DOSE_B)
    ours = zip_delta(f, DOSE_A, DOSE_B, fits=fits)
    theirs, model = _reference_zip(reference, f, fits)
    fa, fb = fits[0].predict(DOSE_A), fits[1].predict(DOSE_B)
    n_b = DOSE_B.size
    differ = np.zeros(f.shape, dtype=bool)
    slices = [("column", j, DOSE_A, f[:, j], fb[j]) for j in range(1, n_b)]
    slices += [("row", i, DOSE_B, f[i, :], fa[i]) for i in range(1, DOSE_A.size)]
    for kind, k, doses, y, bottom in slices:
        mine = fit_hill(doses, y, e0=bottom, ci=False, emax_bounds=(-0.5 - bottom, 1.0 - bottom))
        ours_sse = _sse(doses, y, bottom, mine.e0 + mine.emax, mine.n, mine.ec50)
        # the package's per-cell fits: _*_21 hold d2 fixed (columns), _*_12 hold d1 fixed
        cell = k if kind == "column" else k * n_b + 1
        suffix = "21" if kind == "column" else "12"
        top = 1.0 - getattr(model, f"_Emax_{suffix}")[cell]
        n, ec50 = getattr(model, f"_h_{suffix}")[cell], getattr(model, f"_C_{suffix}")[cell]
        theirs_sse = _sse(doses, y, bottom, top, n, ec50)
        assert ours_sse <= theirs_sse * (1 + 1e-9), (kind, k, ours_sse, theirs_sse)
        if theirs_sse > ours_sse * (1 + 1e-6):
            if kind == "column":
                differ[:, k] = True
            else:
                differ[k, :] = True
    assert differ.sum() <= 2 * n_b  # at most a couple of slices
    assert_allclose(ours[~differ], theirs[~differ], atol=1e-4)


def test_zip_matches_the_synergy_package_fitting_its_own_curves(reference):
    # on noisy data the package's single-agent fits leave E0 free (ours fix e0 = 0 for
    # fractional effects) and the scores then differ by ~0.01; noise-free they agree
    f = _potentiated()
    theirs = _oracle(reference.combination.ZIP(), f)
    assert_allclose(zip_delta(f, DOSE_A, DOSE_B), theirs, atol=1e-6)


# --------------------------------------------------------------------------- fast vs careful fits


def _careful_single_agents(f, dose_a, dose_b):
    """The previous fit_single_agents: one fit_hill (lmfit, ten starts) per agent."""
    return fit_hill(dose_a, f[:, 0], e0=0.0, ci=False), fit_hill(dose_b, f[0, :], e0=0.0, ci=False)


def _careful_zip(f, dose_a, dose_b, fits):
    """The previous ZIP: one fit_hill per column and per row; (delta, objective per slice in
    the order columns 1.., rows 1..)."""
    fa, fb = fits[0].predict(dose_a), fits[1].predict(dose_b)
    along_a, along_b, sse = np.zeros_like(f), np.zeros_like(f), []
    for j in range(1, dose_b.size):
        fit = fit_hill(dose_a, f[:, j], e0=fb[j], ci=False, emax_bounds=(-0.5 - fb[j], 1 - fb[j]))
        along_a[:, j] = fit.predict(dose_a)
        sse.append(fit.chisqr)
    for i in range(1, dose_a.size):
        fit = fit_hill(dose_b, f[i, :], e0=fa[i], ci=False, emax_bounds=(-0.5 - fa[i], 1 - fa[i]))
        along_b[i, :] = fit.predict(dose_b)
        sse.append(fit.chisqr)
    delta = (along_a + along_b) / 2 - (fa[:, None] + fb[None, :] - fa[:, None] * fb[None, :])
    delta[0, :] = delta[:, 0] = 0.0
    return delta, np.array(sse)


def _fast_slices(f, dose_a, dose_b, fits):
    """ZIP's fitted surfaces now, and the objective of every slice (as _careful_zip orders)."""
    along_a, along_b, counts = synergy._zip_surfaces(f, dose_a, dose_b, fits)
    sse = [np.sum((along_a[:, j] - f[:, j]) ** 2) for j in range(1, dose_b.size)]
    sse += [np.sum((along_b[i, :] - f[i, :]) ** 2) for i in range(1, dose_a.size)]
    return np.array(sse), counts


def _compare_with_careful(f, dose_a, dose_b):
    """Fast vs careful on one matrix: the single agents agree; every ZIP slice reaches the
    careful optimum or a lower one; Loewe and ZIP agree to the oracle tolerance (1e-6) in every
    cell whose row and column reached the same optimum. Returns the slices fitted better."""
    careful = _careful_single_agents(f, dose_a, dose_b)
    fast = fit_single_agents(f, dose_a, dose_b)
    for mine, old, dose in zip(fast, careful, (dose_a, dose_b), strict=True):
        assert mine.chisqr <= old.chisqr * (1 + 1e-9) + 1e-24
        assert_allclose(mine.predict(dose), old.predict(dose), atol=1e-6)
    assert_allclose(
        loewe_excess(f, dose_a, dose_b), loewe_excess(f, dose_a, dose_b, fits=careful), atol=1e-6
    )
    old_delta, old_sse = _careful_zip(f, dose_a, dose_b, careful)
    new_sse, counts = _fast_slices(f, dose_a, dose_b, careful)
    assert counts["curves"] == old_sse.size
    tiny = 1e-20 * np.sum(f**2)
    assert np.all(new_sse <= old_sse * (1 + 1e-6) + tiny), np.flatnonzero(new_sse > old_sse)
    better = np.flatnonzero(new_sse < old_sse * (1 - 1e-6) - tiny)
    same = np.ones(f.shape, dtype=bool)
    for k in better:  # slice k: column k + 1, then row k + 2 − n_columns
        if k < dose_b.size - 1:
            same[:, k + 1] = False
        else:
            same[k - dose_b.size + 2, :] = False
    new_delta = zip_delta(f, dose_a, dose_b, fits=careful)
    assert_allclose(new_delta[same], old_delta[same], atol=1e-6)
    return better


@pytest.mark.parametrize("surface", [_potentiated, _noisy_antagonism, _independent])
def test_fast_fits_equal_the_careful_path_on_the_test_surfaces(surface):
    assert _compare_with_careful(surface(), DOSE_A, DOSE_B).size == 0


@pytest.fixture(scope="module")
def model_matrix():
    """A 6 × 6 IL-6 × VEGF matrix of the model (cooperation_saturation, MCF-7)."""
    from paracrine.simulations import dose_matrix

    doses = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 30.0])
    return doses, dose_matrix("cooperation_saturation", doses, doses)


@pytest.mark.parametrize("metric", ["peak", "auc", "sustained"])
def test_fast_fits_equal_the_careful_path_on_a_model_matrix(model_matrix, metric):
    doses, matrix = model_matrix
    for readout in matrix.readouts:
        f = fractional_effect(matrix.get(metric, readout))
        assert _compare_with_careful(f, doses, doses).size == 0, readout


@pytest.mark.slow
def test_fast_fits_equal_or_beat_the_careful_path_on_the_32_x_32_model_matrix():
    # the benchmark's grid: on peak pSTAT3 one row's fit beats the careful path's (a lower
    # optimum that none of lmfit's ten starts reached); every other slice agrees
    from paracrine.simulations import dose_matrix

    doses = np.concatenate([[0.0], np.geomspace(0.1, 100.0, 31)])
    matrix = dose_matrix("cooperation_saturation", doses, doses, readouts=["pERK", "pSTAT3"])
    better = {
        readout: _compare_with_careful(fractional_effect(matrix.get("peak", readout)), doses, doses)
        for readout in matrix.readouts
    }
    assert better["pERK"].size == 0 and better["pSTAT3"].size <= 2


def test_poor_fits_fall_back_to_ten_starts_and_then_to_lmfit(monkeypatch):
    f = _noisy_antagonism()
    careful = _careful_single_agents(f, DOSE_A, DOSE_B)
    scores = synergy_scores(f, DOSE_A, DOSE_B, is_fractional=True)
    counts = scores.fit_counts
    assert counts["zip_curves"] == DOSE_A.size + DOSE_B.size - 2
    # this surface has one row with two optima: only one of the six starts finds the lower one
    assert counts["zip_multistart"] == 1 and counts["zip_lmfit"] == 0
    assert counts["single_agent_lmfit"] == 0
    # a solver that never converges sends every curve through lmfit: the careful path itself
    # (the lower of the two objectives is kept, so ZIP equals it to the fits' tolerance)
    real = synergy._fit_ragged

    def unconverged(*args, **kwargs):
        out = real(*args, **kwargs)
        return {**out, "converged": np.zeros_like(out["converged"])}

    monkeypatch.setattr(synergy, "_fit_ragged", unconverged)
    fallback = synergy_scores(f, DOSE_A, DOSE_B, is_fractional=True)
    assert fallback.fit_counts == {
        "single_agent_lmfit": 2,
        "zip_curves": 13,
        "zip_multistart": 13,
        "zip_lmfit": 13,
    }
    for mine, old, dose in zip(fallback.single_agent_fits, careful, (DOSE_A, DOSE_B), strict=True):
        assert mine.chisqr <= old.chisqr
        assert_allclose(mine.predict(dose), old.predict(dose), atol=1e-6)
    assert_allclose(fallback["zip"], _careful_zip(f, DOSE_A, DOSE_B, careful)[0], atol=1e-6)


# --------------------------------------------------------------------------- all scores


def test_synergy_scores_summary_and_table():
    scores = synergy_scores(HAND, HAND_A, HAND_B, methods=("bliss", "hsa"), is_fractional=True)
    assert scores.methods == ("bliss", "hsa")
    assert_allclose(scores["bliss"], bliss_excess(HAND))
    summary = scores.summary().set_index("method")
    # Bliss combination cells 0.06, −0.05, 0.02, 0.15
    assert summary.loc["bliss", "mean_excess"] == pytest.approx(0.045)
    assert summary.loc["bliss", "max_excess"] == pytest.approx(0.15)
    assert summary.loc["bliss", "il6_ng_ml"] == 10.0
    assert summary.loc["bliss", "vegf_ng_ml"] == 20.0
    assert summary.loc["bliss", "min_excess"] == pytest.approx(-0.05)
    assert summary.loc["hsa", "n_cells"] == 4 and summary.loc["hsa", "n_undefined"] == 0
    table = scores.to_dataframe()
    assert list(table.columns) == ["il6_ng_ml", "vegf_ng_ml", "method", "score"]
    assert len(table) == 2 * 9
    row = table[(table.il6_ng_ml == 1.0) & (table.vegf_ng_ml == 20.0) & (table.method == "hsa")]
    assert row.score.item() == pytest.approx(0.1)
    named = synergy_scores(HAND, HAND_A, HAND_B, ("hsa",), is_fractional=True, names=("a", "b"))
    assert list(named.to_dataframe().columns[:2]) == ["a", "b"]


def test_synergy_scores_normalises_raw_responses():
    fold = 1.0 + 4.0 * _potentiated()  # fold over basal
    scores = synergy_scores(fold, DOSE_A, DOSE_B)
    f = scores.fractional
    assert f[0, 0] == 0.0 and f.max() == 1.0
    assert_allclose(f, (fold - 1.0) / (fold.max() - 1.0))
    assert scores.methods == ("bliss", "hsa", "loewe", "zip")
    assert_allclose(scores["loewe"], loewe_excess(f, DOSE_A, DOSE_B))
    assert_allclose(scores["zip"], zip_delta(f, DOSE_A, DOSE_B))
    assert_allclose(scores.references["bliss"] + scores["bliss"], f, atol=1e-15)
    summary = scores.summary().set_index("method")
    assert (summary.mean_excess > 0).all()  # potentiation is synergy by every method


def test_dose_matrix_grids_feed_in():
    # the simulator's IL-6 × VEGF grid: our HSA on fractional effects is DoseMatrix's
    # excess_over_hsa (fold − 1) divided by the largest fold − 1
    from paracrine.simulations import dose_matrix

    doses = [0.0, 1.0, 10.0, 50.0]
    matrix = dose_matrix("independent", doses, doses, "T47D", readouts=["pERK"])
    grid = matrix.get("peak", "pERK")
    scores = synergy_scores(grid, matrix.il6_ng_ml, matrix.vegf_ng_ml, methods=("hsa", "bliss"))
    expected = matrix.excess_over_hsa("peak", "pERK") / (grid.max() - grid[0, 0])
    expected[0, :] = expected[:, 0] = 0.0
    assert_allclose(scores["hsa"], expected, atol=1e-12)


def test_plot_synergy_panels_are_centred_at_zero():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = synergy_scores(_noisy_antagonism(), DOSE_A, DOSE_B, is_fractional=True)
    fig = plot_synergy(scores, ["bliss", "loewe"], show_response=True)
    try:
        panels = [ax for ax in fig.axes if ax.get_title()]
        assert [ax.get_title() for ax in panels] == ["response", "Bliss", "Loewe"]
        limit = max(np.nanmax(np.abs(scores[m][1:, 1:])) for m in ("bliss", "loewe"))
        for ax in panels[1:]:
            low, high = ax.collections[0].get_clim()
            assert low == -high == pytest.approx(-limit)
            assert ax.get_ylabel() == "IL-6 (ng/mL)" and ax.get_xlabel() == "VEGF-A165 (ng/mL)"
            assert [t.get_text() for t in ax.get_xticklabels()] == [f"{d:.3g}" for d in DOSE_B]
            assert [t.get_text() for t in ax.get_yticklabels()] == [f"{d:.3g}" for d in DOSE_A]
        bars = [ax.get_ylabel() for ax in fig.axes if not ax.get_title()]
        assert "excess over Bliss (fractional effect)" in bars
        assert "excess over Loewe (fractional effect)" in bars
        assert fig.get_size_inches()[0] == pytest.approx(3.8 * 3)
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (HAND, [0.0, 1.0, 10.0, 100.0], HAND_B),
            r"il6_ng_ml: expected 3 doses \(one per row of the matrix\), received shape \(4,\)",
        ),
        (
            (HAND, HAND_A, [0.0, 2.0]),
            r"vegf_ng_ml: expected 3 doses \(one per column of the matrix\), received shape \(2,\)",
        ),
        ((HAND, HAND_A, [1.0, 2.0, 20.0]), r"vegf_ng_ml: expected dose 0 first .* received 1"),
        ((HAND, [0.0, 10.0, 1.0], HAND_B), r"il6_ng_ml: expected strictly increasing doses"),
        ((HAND, [0.0, np.nan, 1.0], HAND_B), r"il6_ng_ml: expected finite doses"),
        (
            (np.where(HAND == 0.6, np.nan, HAND), HAND_A, HAND_B),
            r"matrix: expected finite responses, received 2 non-finite cell\(s\) at \(row, column\) \[\(1, 2\), \(2, 0\)\]",
        ),
        ((HAND[0], HAND_A, HAND_B), r"matrix: expected a 2-D matrix of at least 2 × 2"),
    ],
)
def test_bad_input_is_named(args, message):
    with pytest.raises(InvalidInputError, match=message):
        synergy_scores(*args, methods=("bliss",), is_fractional=True)


def test_bad_input_of_the_single_scores():
    with pytest.raises(InvalidInputError, match=r"f: expected a 2-D matrix"):
        bliss_excess([0.0, 0.5])
    with pytest.raises(InvalidInputError, match=r"f: expected finite responses"):
        hsa_excess([[0.0, np.inf], [0.1, 0.2]])
    # Hill fits need 4 doses (0 and three more) on each axis
    with pytest.raises(
        InvalidInputError, match=r"il6_ng_ml: expected at least 4 distinct doses, received 3"
    ):
        loewe_excess(HAND, HAND_A, HAND_B)
    with pytest.raises(InvalidInputError, match=r"vegf_ng_ml: expected 8 doses"):
        zip_delta(_independent(), DOSE_A, DOSE_B[:-1])
    with pytest.raises(
        UnknownNameError, match=r"unknown synergy method 'blis' — did you mean 'bliss'"
    ):
        synergy_scores(HAND, HAND_A, HAND_B, methods=("blis",))
    with pytest.raises(UnknownNameError, match=r"Loewe undefined-cell rule"):
        loewe_reference(DOSE_A, DOSE_B, AGENT_A, AGENT_B, undefined="zero")
    with pytest.raises(
        InvalidInputError, match=r"emax: expected a full-effect response above the baseline 1"
    ):
        fractional_effect(np.ones((3, 3)))
    with pytest.raises(InvalidInputError, match=r"below the baseline 1 \(inhibitory"):
        fractional_effect([[1.0, 2.0], [3.0, 4.0]], inhibitory=True)
