"""The time-course metrics (hand-computed examples) and the knockout screen: VEGFR2 KO removes
the VEGF contribution to the combination response, gp130 KO the IL-6 one, in the null variant and
in the one the reference data select."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from paracrine.errors import InvalidInputError, SimulationError, UnknownNameError
from paracrine.models import Model
from paracrine.simulations import ModelSimulator
from paracrine.simulations import metrics as M
from paracrine.simulations.conditions import Inhibitor, Knockdown, Knockout
from paracrine.simulations.knockouts import (
    SCREEN_COLUMNS,
    UNPERTURBED,
    knockout_screen,
    screen_perturbations,
)
from paracrine.vocabulary import ARMS

matplotlib.use("Agg")

READOUTS = ("pERK", "pAKT", "p38", "pSTAT3")


# -- metrics -------------------------------------------------------------------------------------
def test_metrics_on_hand_computed_examples():
    t = np.array([0.0, 60.0, 120.0, 180.0, 240.0])
    fold = np.array([1.0, 5.0, 3.0, 2.0, 1.0])
    assert M.peak(fold) == 5.0
    assert M.time_of_peak(t, fold) == 60.0
    # trapezoid of fold − 1 = 0,4,2,1,0: 30·4 + 30·(4+2) + 30·(2+1) + 30·1 = 420 over 240 min
    assert M.auc(t, fold) == pytest.approx(420.0 / 240.0)
    assert M.auc(t, fold, window=(120.0, 240.0)) == pytest.approx((90.0 + 30.0) / 120.0)
    assert M.late(t, fold) == pytest.approx(2.0)  # mean of 3, 2, 1 (120–240 min, both ends)
    assert M.persistence(5.0, 2.0) == pytest.approx(0.25)
    assert np.isnan(M.persistence(1.1, 1.05))  # peak excess 0.1 < 0.2: no ratio
    assert M.persistence(1.25, 1.125) == pytest.approx(0.5)
    assert M.persistence(np.array([3.0, 1.0]), 2.0)[0] == 0.5 and np.isnan(M.persistence(1.0, 1.0))
    combo = np.array([1.0, 4.0, 2.0])
    il6 = np.array([1.0, 2.0, 1.5])
    vegf = np.array([1.0, 1.5, 1.2])
    # at the combination's peak (index 1): 3 / (1 + 0.5)
    assert M.excess_ratio_at_peak(t[:3], combo, il6, vegf) == pytest.approx(2.0)
    assert np.isnan(M.excess_ratio_at_peak(t[:3], combo, il6 * 0 + 1.05, vegf * 0 + 1.05))


def test_metrics_along_an_axis_and_bad_input():
    t = np.array([0.0, 120.0, 240.0])
    fold = np.stack([[1.0, 3.0, 2.0], [1.0, 1.0, 1.0]], axis=1)  # times × 2 read-outs
    assert_array_equal(M.peak(fold), [3.0, 1.0])
    assert_allclose(M.auc(t, fold), [(60 * 2 + 60 * (2 + 1)) / 240, 0.0])
    assert_allclose(M.late(t, fold), [2.5, 1.0])
    with pytest.raises(InvalidInputError, match="output times"):
        M.late(t[:2], fold)
    with pytest.raises(InvalidInputError, match="at least one output time"):
        M.late(t, fold, window=(300.0, 400.0))
    with pytest.raises(InvalidInputError, match="one shape"):
        M.excess_ratio_at_peak(t, fold, fold[:, :1], fold)


def test_metric_rules_are_those_of_the_blot_combination_metrics():
    from paracrine.fitting import combination

    assert M.LATE_WINDOW_MIN == combination.LATE_WINDOW_MIN
    assert M.RATIO_GUARD == combination.RATIO_GUARD


# -- perturbations of a screen ---------------------------------------------------------------------
def test_default_perturbations_are_every_knockout_and_every_full_inhibitor():
    perts = screen_perturbations()
    assert len(perts) == 24
    assert perts[0] == Knockout("IL6R") and Inhibitor("Src", 1.0) in perts
    kd = screen_perturbations(["VEGFR2", "MEK inhibitor", "Src"], knockdown=0.25)
    assert kd == [Knockdown("VEGFR2", 0.25), Inhibitor("MEK", 0.75), Inhibitor("Src", 0.75)]
    assert screen_perturbations(["VEGFR2 KO", "VEGFR2 inhibitor"]) == [
        Knockout("VEGFR2"),
        Inhibitor("VEGFR2", 1.0),
    ]


@pytest.mark.parametrize(
    ("targets", "knockdown", "error", "match"),
    [
        (["VEGFR"], None, UnknownNameError, "did you mean 'VEGFR2'"),
        (["Src KO"], None, UnknownNameError, "knockout or inhibitor target"),
        (["gp130", "gp130 KO"], None, InvalidInputError, "twice"),
        ([], None, InvalidInputError, "at least one"),
        (None, 1.5, InvalidInputError, r"fraction in \[0, 1\]"),
        (None, -0.1, InvalidInputError, "knockdown"),
    ],
)
def test_bad_targets(targets, knockdown, error, match):
    with pytest.raises(error, match=match):
        screen_perturbations(targets, knockdown)


# -- the screen ----------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["independent", "cooperation_saturation"])
def screen(request):
    return knockout_screen(request.param)


def _fold(screen, perturbation, arm):
    return screen.fold[screen.perturbations.index(perturbation), ARMS.index(arm)]


def test_vegfr2_knockout_removes_the_vegf_contribution(screen):
    """Without VEGFR2 the VEGF arm stays at basal for every read-out — pSTAT3 included: its
    small VEGF response (peak fold ≈ 1.27 in MCF-7) runs through VEGFR2 (k_stat3_vegfr2) — and
    IL-6+VEGF equals IL-6 alone at every time, within 2% of the unperturbed combination's peak
    excess (the two are identical to solver precision: nothing else of VEGF acts)."""
    vegf = _fold(screen, "VEGFR2 KO", "VEGF")
    assert np.abs(vegf - 1.0).max(axis=0) == pytest.approx(np.zeros(4), abs=0.02)
    unperturbed_excess = _fold(screen, UNPERTURBED, "IL-6+VEGF").max(axis=0) - 1.0
    assert np.all(unperturbed_excess > 0.2)
    diff = np.abs(_fold(screen, "VEGFR2 KO", "IL-6+VEGF") - _fold(screen, "VEGFR2 KO", "IL-6"))
    assert np.all(diff.max(axis=0) <= 0.02 * unperturbed_excess)
    # the IL-6 arm itself is untouched (VEGFR2 plays no part in it, basal included)
    assert_allclose(_fold(screen, "VEGFR2 KO", "IL-6"), _fold(screen, UNPERTURBED, "IL-6"))
    # and VEGF did contribute before: the unperturbed VEGF arm is far above basal, pSTAT3 too
    vegf_peak = _fold(screen, UNPERTURBED, "VEGF").max(axis=0)
    assert np.all(vegf_peak[:3] > 10.0) and 1.2 < vegf_peak[3] < 1.4


def test_a_full_vegfr2_kinase_inhibitor_blocks_vegf_like_the_knockout(screen):
    """A VEGFR2 kinase inhibitor at 100% stops every VEGF signal (its receptor still binds
    VEGF, so the knockout and the inhibitor differ in receptor trafficking, not in signal).
    Regression: the lumped internalise-and-phosphorylate step once bypassed the kinase, and
    the inhibitor left 96% of the VEGF pERK peak."""
    vegf = _fold(screen, "VEGFR2 inhibitor", "VEGF")
    assert np.abs(vegf - 1.0).max(axis=0) == pytest.approx(np.zeros(4), abs=0.02)
    assert_allclose(
        _fold(screen, "VEGFR2 inhibitor", "IL-6+VEGF"),
        _fold(screen, "VEGFR2 KO", "IL-6+VEGF"),
        atol=0.02,
    )


def test_gp130_knockout_removes_the_il6_contribution(screen):
    """Without gp130 (KNOCKOUT_TARGETS: R6_tot, the IL-6R/gp130 complex) the IL-6 arm stays
    at basal for every read-out, and IL-6+VEGF equals VEGF alone — for pSTAT3 that is VEGF's
    own small VEGFR2-driven response (peak ≈ 1.27), not basal."""
    il6 = _fold(screen, "gp130 KO", "IL-6")
    assert np.abs(il6 - 1.0).max(axis=0) == pytest.approx(np.zeros(4), abs=0.02)
    unperturbed_excess = _fold(screen, UNPERTURBED, "IL-6+VEGF").max(axis=0) - 1.0
    combo = _fold(screen, "gp130 KO", "IL-6+VEGF")
    diff = np.abs(combo - _fold(screen, "gp130 KO", "VEGF"))
    assert np.all(diff.max(axis=0) <= 0.02 * unperturbed_excess)
    assert 1.2 < combo[:, 3].max() < 1.4  # pSTAT3 from VEGFR2 → STAT3 remains
    assert_allclose(_fold(screen, "gp130 KO", "VEGF"), _fold(screen, UNPERTURBED, "VEGF"))


def test_the_receptor_knockouts_remove_the_combination_benefit(screen):
    """Both receptors are needed for any benefit of the combination over the best single:
    with either one gone the benefit is 0 (fraction removed 1) on every read-out that had one."""
    for question in ("stronger", "sustained"):
        for readout in READOUTS:
            rank = screen.ranking(readout, question).set_index("perturbation")
            if not rank["unperturbed_benefit"].iloc[0] >= M.RATIO_GUARD:
                assert rank["fraction_removed"].isna().all()
                continue
            for ko in ("VEGFR2 KO", "gp130 KO", "IL6R KO"):
                assert rank.loc[ko, "benefit"] == pytest.approx(0.0, abs=1e-6)
                assert rank.loc[ko, "fraction_removed"] == pytest.approx(1.0, abs=1e-5)


def test_fold_is_over_the_unperturbed_basal_level(screen):
    """ERK KO: no ERK, so pERK is 0 — basal included (a fold of 0, not normalised to 1); the
    perturbed basal level is reported as the metric 'basal'."""
    control = _fold(screen, "ERK KO", "control")
    assert_array_equal(control[:, 0], 0.0)
    assert screen.value("ERK KO", "basal", "pERK") == 0.0
    unperturbed = screen.value(UNPERTURBED, "basal", "pERK")
    assert 0.0 < unperturbed < 0.2
    assert_allclose(_fold(screen, UNPERTURBED, "control"), 1.0)


def test_tidy_table(screen):
    frame = screen.to_dataframe()
    assert tuple(frame.columns) == SCREEN_COLUMNS
    # per perturbation: basal (4) + 4 metrics × 4 arms × 4 read-outs + 5 combination metrics × 4
    assert len(frame) == 25 * (4 + 64 + 20)
    assert set(frame["metric"]) == {
        "basal",
        "peak",
        "auc",
        "late",
        "persistence",
        "excess_ratio",
        "peak_excess",
        "late_excess",
        "peak_benefit",
        "late_benefit",
    }
    ref = frame[frame["perturbation"] == UNPERTURBED]
    assert ((ref["change"] == 0) | ref["value"].isna()).all()  # NaN: e.g. control persistence
    assert ((ref["relative_change"] == 0) | ref["relative_change"].isna()).all()
    row = frame[
        (frame["perturbation"] == "VEGFR2 KO")
        & (frame["arm"] == "VEGF")
        & (frame["readout"] == "pERK")
        & (frame["metric"] == "peak")
    ].iloc[0]
    assert row["value"] == pytest.approx(1.0, abs=1e-6)
    assert row["relative_change"] == pytest.approx((1.0 - row["unperturbed"]) / row["unperturbed"])
    assert row["kind"] == "knockout" and row["target"] == "VEGFR2"
    assert set(frame.loc[frame["metric"] == "basal", "arm"]) == {"control"}


def test_the_plot_answers_both_questions(screen, tmp_path):
    fig = screen.plot()
    titles = [ax.get_title() for ax in fig.axes]
    assert any("stronger" in t for t in titles) and any("sustained" in t for t in titles)
    fig.savefig(tmp_path / "screen.png", dpi=60)
    assert (tmp_path / "screen.png").stat().st_size > 10_000
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_ranking_over_every_readout_with_a_benefit():
    screen = knockout_screen(
        "cooperation_saturation", targets=["VEGFR2", "gp130", "Ras", "PKC inhibitor"]
    )
    rank = screen.ranking(None, "sustained")
    # pAKT and p38 have a sustained benefit ≥ 0.2 in cooperation_saturation; pERK and pSTAT3 not
    assert rank["readouts"].iloc[0] == "pAKT,p38"
    assert list(rank["perturbation"][:2]) == ["VEGFR2 KO", "gp130 KO"]
    assert rank["fraction_removed"].iloc[0] == pytest.approx(1.0, abs=1e-6)
    assert list(rank["rank"]) == [1, 2, 3, 4]
    with pytest.raises(UnknownNameError, match="question"):
        screen.ranking("pERK", "stronger-ish")


def test_knockdown_lies_between_unperturbed_and_knockout():
    screen = knockout_screen("independent", targets=["VEGFR2"], knockdown=0.3)
    assert screen.perturbations == (UNPERTURBED, "VEGFR2 KD 0.3")
    assert screen.kinds == ("none", "knockdown")
    peak = screen.fold[:, ARMS.index("VEGF"), :, 0].max(axis=1)
    assert 1.0 < peak[1] < peak[0]


def test_parameter_vector_workers_and_the_same_numbers():
    model = Model("independent")
    sim = ModelSimulator(model)
    vec = sim.parameter_vector("MCF-7")
    vec[sim.parameter_ids.index("R2_0")] *= 0.5
    targets = ["gp130", "MEK inhibitor"]
    half = knockout_screen(model, targets=targets, pvec=vec)
    default = knockout_screen(model, targets=targets)
    assert not np.allclose(half.fold[0, ARMS.index("VEGF")], default.fold[0, ARMS.index("VEGF")])
    two = knockout_screen(model, targets=targets, pvec=vec, workers=2)
    assert_array_equal(two.fold, half.fold)


def test_screen_errors():
    with pytest.raises(UnknownNameError, match="cell line"):
        knockout_screen("independent", cell_line="HeLa", targets=["gp130"])
    with pytest.raises(InvalidInputError, match="late window"):
        knockout_screen("independent", targets=["gp130"], times=np.linspace(0, 60, 13))
    with pytest.raises(InvalidInputError, match="vegf_ng_ml"):
        knockout_screen("independent", targets=["gp130"], vegf_ng_ml=-1.0)
    model = Model("independent")
    sim = ModelSimulator(model)
    bad = sim.parameter_vector("MCF-7")
    bad[sim.parameter_ids.index("k_vr_phos")] = -1.0
    with pytest.raises(SimulationError, match="unperturbed cell failed"):
        knockout_screen(model, targets=["gp130"], pvec=bad)
