"""Combination metrics (claim 4 of De Luca 2012) for data and fits: verdicts on the bundled
synthetic data, interval coverage against the generator's truth, additive data and additive
fits judged additive, the ratio guard, reproducibility, missing arms, files written."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from paracrine.data import load_blots
from paracrine.data.generate_reference_synthetic import LINES, generate_blots, true_fold
from paracrine.errors import InvalidInputError
from paracrine.fitting.combination import (
    TABLE_COLUMNS,
    CombinationRules,
    combination_table,
    compare_verdicts,
    data_combination,
    fit_combination,
    plot_combination,
    write_combination,
)
from paracrine.vocabulary import (
    ARMS,
    CELL_LINES,
    COMBINATION,
    CONTROL,
    IL6_ARM,
    READOUTS,
    VEGF_ARM,
)

CLAIM4 = ("pERK", "pAKT", "p38")
ALL_READOUTS = CombinationRules(readouts=READOUTS)
GRID = np.arange(0.0, 241.0, 5.0)  # what BlotFit.fit_simulation_frame() returns


@pytest.fixture(scope="module")
def bundled():
    return load_blots()


@pytest.fixture(scope="module")
def bundled_summary(bundled):
    return data_combination(bundled, seed=0)


def additive_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The generator's bands with the combination made additive: each IL-6+VEGF band times
    (fold_IL6 + fold_VEGF − 1) / true combination fold, so it carries the same basal level,
    blot scale and log-normal band noise as the generator gave it."""
    out = frame.copy()
    combo = out["condition"] == COMBINATION
    ratio = np.ones(len(out))
    for (line, readout), rows in out[combo].groupby(["cell_line", "readout"]):
        t = rows["time_min"].to_numpy()
        additive = true_fold(line, readout, IL6_ARM, t) + true_fold(line, readout, VEGF_ARM, t) - 1
        ratio[out.index.get_indexer(rows.index)] = additive / true_fold(
            line, readout, COMBINATION, t
        )
    out["value"] = out["value"] * ratio
    return out


def fit_frame(kind: str = "plateau", noise: float = 0.0) -> pd.DataFrame:
    """A fake fit in the layout of BlotFit.fit_simulation_frame(): the generator's template
    (basal × fold × 0.1 as 'phosphorylated fraction'); ``kind="additive"`` replaces the
    combination by exact superposition of the singles' excesses."""
    rng = np.random.default_rng(5)
    rows = []
    for line in CELL_LINES:
        for k, readout in enumerate(READOUTS):
            basal = 0.1 * LINES[line][2][k]
            fold = {arm: true_fold(line, readout, arm, GRID) for arm in ARMS}
            if kind == "additive":
                fold[COMBINATION] = fold[IL6_ARM] + fold[VEGF_ARM] - 1.0
            for arm in ARMS:
                value = basal * fold[arm] * (1.0 + noise * rng.standard_normal(len(GRID)))
                rows += [(line, arm, t, readout, v) for t, v in zip(GRID, value, strict=True)]
    return pd.DataFrame(rows, columns=["cell_line", "condition", "time_min", "observable", "value"])


def quantity(summary, name: str) -> pd.DataFrame:
    return summary.table[summary.table["quantity"] == name]


# -- the bundled synthetic data --------------------------------------------------------------
def test_bundled_data_are_stronger_sustained_and_super_additive(bundled_summary):
    v = bundled_summary.verdicts
    assert len(v) == 9
    assert set(v["readout"]) == set(CLAIM4) and set(v["cell_line"]) == set(CELL_LINES)
    assert v["stronger"].all() and v["sustained"].all()
    assert (v["interaction"] == "super-additive").all()
    assert (v["verdict"] == "stronger, sustained, super-additive").all()
    # the numbers behind them: lower bounds above 0 (measured: peak_diff_low ≥ 0.68,
    # late_diff_low ≥ 0.38, D_late_low ≥ 0.05)
    assert (v["peak_diff_low"] > 0).all() and (v["late_diff_low"] > 0).all()
    assert (v["D_late_low"] > 0).all()
    assert (v["peak_diff_low"] <= v["peak_diff"]).all() and (
        v["peak_diff"] <= v["peak_diff_high"]
    ).all()


def test_data_folds_are_geometric_means_of_same_blot_ratios(bundled, bundled_summary):
    f = bundled.frame
    sub = f[(f["cell_line"] == "T47D") & (f["readout"] == "pAKT")]
    ref = sub[(sub["condition"] == CONTROL) & (sub["time_min"] == 0)].set_index("blot")["value"]
    bands = sub[(sub["condition"] == VEGF_ARM) & (sub["time_min"] == 15.0)]
    expected = math.exp(np.mean(np.log(bands["value"].to_numpy() / ref[bands["blot"]].to_numpy())))
    q = quantity(bundled_summary, f"fold_{VEGF_ARM}")
    got = q[(q["cell_line"] == "T47D") & (q["readout"] == "pAKT") & (q["time_min"] == 15.0)]
    assert got["value"].item() == pytest.approx(expected, rel=1e-12)
    # every stimulated arm is unstimulated at 0 min: fold exactly 1, interval [1, 1]
    zero = bundled_summary.table[bundled_summary.table["time_min"] == 0.0]
    folds = zero[zero["quantity"].str.startswith("fold_")]
    assert (folds[["value", "low", "high"]] == 1.0).all().all()


# -- interval coverage ---------------------------------------------------------------------
def _truth(row) -> float:
    arm = row.quantity.removeprefix("fold_")
    return float(true_fold(row.cell_line, row.readout, arm, [row.time_min])[0])


def _replicate_bootstrap_covers(frame: pd.DataFrame) -> list[bool]:
    """What a percentile bootstrap resampling the 3 replicates would give. With 3 values its
    resamples are the 27 equally likely triples, so the 2.5–97.5% interval of the geometric
    mean is [min, max] of the three replicate folds: coverage 1 − 2 · (1/2)³ = 75%."""
    ref = frame[(frame["condition"] == CONTROL) & (frame["time_min"] == 0)]
    ref = ref.set_index("blot")["value"]
    bands = frame[frame["time_min"] > 0].copy()
    bands["fold"] = bands["value"].to_numpy() / ref[bands["blot"]].to_numpy()
    covers = []
    keys = ["cell_line", "readout", "condition", "time_min"]
    for (line, readout, arm, t), rows in bands.groupby(keys):
        folds = rows["fold"].to_numpy()
        triples = np.array(np.meshgrid(folds, folds, folds)).reshape(3, -1)
        gm = np.exp(np.log(triples).mean(axis=0))
        low, high = np.quantile(gm, [0.025, 0.975], method="inverted_cdf")
        covers.append(low <= true_fold(line, readout, arm, [t])[0] <= high)
    return covers


def test_fold_intervals_cover_the_truth_and_a_replicate_bootstrap_would_not():
    ours, plain, naive = [], [], []
    for seed in (1, 2, 3, 4):
        frame = generate_blots(seed)
        for rules, out in (
            (ALL_READOUTS, ours),
            (CombinationRules(readouts=READOUTS, scale_uncertainty=False), plain),
        ):
            table = data_combination(frame, rules=rules, seed=seed).table
            folds = table[table["quantity"].str.startswith("fold_") & (table["time_min"] > 0)]
            assert len(folds) == 3 * 4 * 4 * 6  # lines × read-outs × arms × times after 0
            hits = [row.low <= _truth(row) <= row.high for row in folds.itertuples()]
            out.append(np.mean(hits))
        naive.append(np.mean(_replicate_bootstrap_covers(frame)))
    # measured over seeds 1–4: 0.944 (default), 0.883 (without the noise-level draw), 0.744
    assert 0.90 <= np.mean(ours) <= 0.99
    assert np.mean(plain) >= 0.85
    assert np.mean(naive) < 0.80
    assert np.mean(ours) > np.mean(plain) > np.mean(naive)


# -- additive data and fits ------------------------------------------------------------------
def test_additive_data_are_judged_additive_and_not_sustained():
    verdicts = [
        data_combination(additive_frame(generate_blots(seed)), seed=seed).verdicts
        for seed in range(1, 11)
    ]
    for v in verdicts:
        assert len(v) == 9
        assert not v["sustained"].any()  # measured: 0 of 90 line × read-out pairs
    # One data set: additive in every line × read-out.
    assert (verdicts[0]["interaction"] == "additive").all()
    assert (verdicts[0]["verdict"].str.endswith(", additive")).all()
    # Each pair makes three one-sided 2.5% tests (D at the peak ≷ 0, D_late > 0), so about 8%
    # of additive pairs are called non-additive by chance and a data set of 9 pairs is all
    # "additive" only about half the time (measured over seeds 1–10: 7 of 90 pairs, 5 of 10
    # data sets all additive; the bundled seed's draw has 3 of 9). The rate is what is tested.
    wrong = sum(int((v["interaction"] != "additive").sum()) for v in verdicts)
    assert wrong / 90 <= 0.15


def test_exact_superposition_fit_is_additive_and_a_plateau_fit_is_sustained(bundled_summary):
    times = bundled_summary.times("MCF-7", "pERK")
    additive = fit_combination(fit_frame("additive"), times=times).verdicts
    assert len(additive) == 9
    assert (additive["interaction"] == "additive").all()
    assert not additive["sustained"].any()
    assert additive["stronger"].all()  # the sum of two transients does exceed either
    assert (additive["verdict"] == "stronger, additive").all()
    assert np.abs(additive["D_late"]).max() < 1e-12 and np.abs(additive["D_peak"]).max() < 1e-12
    # the late levels differ by the smaller single's late excess: real but below the margin
    assert (additive["late_diff"] > 0).all() and (additive["late_diff"] < additive["margin"]).all()
    # solver-sized noise does not change that
    noisy = fit_combination(fit_frame("additive", noise=1e-8), times=times).verdicts
    assert (noisy["interaction"] == "additive").all() and not noisy["sustained"].any()

    plateau = fit_combination(fit_frame("plateau"), times=times).verdicts
    assert plateau["sustained"].all() and plateau["stronger"].all()
    assert (plateau["interaction"] == "super-additive").all()


def test_compare_verdicts_side_by_side(bundled_summary):
    plateau = compare_verdicts(bundled_summary, fit_combination(fit_frame("plateau")))
    assert list(plateau.columns[:2]) == ["cell_line", "readout"]
    assert {"data_verdict", "fit_verdict", "data_sustained", "fit_sustained"} <= set(
        plateau.columns
    )
    assert plateau["match"].all()
    additive = compare_verdicts(bundled_summary, fit_combination(fit_frame("additive")))
    assert not additive["match"].any()
    assert (additive["fit_verdict"] == "stronger, additive").all()


# -- quantities ------------------------------------------------------------------------------
def test_excess_ratio_is_guarded(bundled_summary):
    rules = CombinationRules()
    for summary in (bundled_summary, fit_combination(fit_frame("plateau"))):
        t = summary.table
        key = ["cell_line", "readout", "time_min"]
        singles = quantity(summary, "sum_of_singles").set_index(key)["value"] - 1.0
        ratio = quantity(summary, "excess_ratio").set_index(key)
        combo = quantity(summary, f"fold_{COMBINATION}").set_index(key)["value"] - 1.0
        below = singles < rules.guard
        assert below.any() and (~below).any()
        assert ratio.loc[below[below].index, ["value", "low", "high"]].isna().all().all()
        kept = below[~below].index
        assert np.allclose(ratio.loc[kept, "value"], combo[kept] / singles[kept])
        assert t["time_min"].isna().any()  # summary rows
    # a stricter guard removes more
    strict = data_combination(load_blots(), rules=CombinationRules(guard=1.0, n_boot=50))
    assert quantity(strict, "excess_ratio")["value"].isna().sum() > (
        quantity(bundled_summary, "excess_ratio")["value"].isna().sum()
    )


def test_summary_quantities_of_a_known_shape():
    # IL-6 excess: 0 → 2 linearly over 0–20 min, back to 0 at 60 min, 0 after; the excess is
    # above half its peak (1) from 10 to 40 min.
    excess = np.interp(GRID, [0.0, 20.0, 60.0, 240.0], [0.0, 2.0, 0.0, 0.0])
    late = np.interp(GRID, [0.0, 20.0, 240.0], [0.0, 1.0, 1.0])
    fold = {CONTROL: np.ones_like(GRID), IL6_ARM: 1 + excess, VEGF_ARM: 1 + excess / 2}
    fold[COMBINATION] = fold[IL6_ARM] + fold[VEGF_ARM] - 1 + late
    frame = pd.DataFrame(
        [
            (("T47D", arm, t, "pERK", 0.3 * f))
            for arm in ARMS
            for t, f in zip(GRID, fold[arm], strict=True)
        ],
        columns=["cell_line", "condition", "time_min", "observable", "value"],
    )
    s = fit_combination(frame, rules=CombinationRules(readouts=("pERK",)))
    row = s.table.set_index("quantity")["value"]
    assert row[f"time_above_half_max_{IL6_ARM}"] == pytest.approx(30.0)
    assert row[f"peak_{IL6_ARM}"] == pytest.approx(3.0)
    assert row[f"late_{IL6_ARM}"] == pytest.approx(1.0)
    assert row[f"persistence_{IL6_ARM}"] == pytest.approx(0.0)
    assert row[f"late_{COMBINATION}"] == pytest.approx(2.0)
    assert row[f"persistence_{COMBINATION}"] == pytest.approx(
        1.0 / (row[f"peak_{COMBINATION}"] - 1)
    )
    v = s.verdicts.iloc[0]
    assert (
        v["D_late"] == pytest.approx(1.0) and v["verdict"] == "stronger, sustained, super-additive"
    )


def test_fit_on_its_own_grid_is_re_evaluated_at_the_data_times(bundled_summary):
    dense = fit_combination(fit_frame("plateau"))  # every 5 min
    table = combination_table(bundled_summary, dense)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert table.loc[table["quantity"] != "excess_ratio", "fit"].notna().all()  # ratio: guarded
    row = table[
        (table["cell_line"] == "SK-Br-3")
        & (table["readout"] == "p38")
        & (table["quantity"] == f"fold_{VEGF_ARM}")
        & (table["time_min"] == 120.0)
    ]
    assert row["fit"].item() == pytest.approx(true_fold("SK-Br-3", "p38", VEGF_ARM, [120.0])[0])
    # data with a time the fit grid lacks: the fit is interpolated there
    odd = fit_combination(fit_frame("plateau"), times=[0.0, 7.0, 120.0, 240.0])
    q = quantity(odd, f"fold_{IL6_ARM}")
    got = q[(q["cell_line"] == "T47D") & (q["readout"] == "pERK") & (q["time_min"] == 7.0)]
    expected = np.interp(7.0, GRID, true_fold("T47D", "pERK", IL6_ARM, GRID))
    assert got["value"].item() == pytest.approx(expected)
    assert combination_table(bundled_summary)["fit"].isna().all()


# -- reproducibility and robustness --------------------------------------------------------
def test_same_seed_same_table_other_seed_other_intervals(bundled):
    rules = CombinationRules(n_boot=300)
    a = data_combination(bundled, rules=rules, seed=7)
    b = data_combination(bundled.frame, rules=rules, seed=7)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.verdicts, b.verdicts)
    c = data_combination(bundled, rules=rules, seed=8)
    pd.testing.assert_series_equal(a.table["value"], c.table["value"])  # points: no randomness
    differs = ~np.isclose(a.table["low"], c.table["low"], equal_nan=True)
    assert differs.sum() > 0.5 * a.table["low"].notna().sum()


def test_missing_combination_arm_is_not_applicable(bundled):
    singles_only = bundled.frame[bundled.frame["condition"].isin([CONTROL, IL6_ARM])]
    s = data_combination(singles_only, rules=CombinationRules(n_boot=50))
    assert len(s.verdicts) == 9
    assert (s.verdicts["verdict"] == "not applicable").all()
    assert s.verdicts["stronger"].isna().all() and s.verdicts["sustained"].isna().all()
    assert s.verdicts["reason"].str.contains(COMBINATION, regex=False).all()
    assert s.verdicts["reason"].str.contains(VEGF_ARM).all()
    # the fit side too, and the comparison says "unknown", not False
    fit = fit_frame("plateau")
    fit = fit[fit["condition"] != COMBINATION]
    f = fit_combination(fit)
    assert (f.verdicts["verdict"] == "not applicable").all()
    assert compare_verdicts(s, f)["match"].isna().all()
    plot_combination(s, f).clf()  # draws without raising


def test_missing_bands_and_times_give_nan_not_errors(bundled):
    frame = bundled.frame
    # one band gone in every replicate (T47D pERK VEGF at 30 min), one blot without its
    # reference lane, a non-positive value, and a read-out that is not in the data at all
    gone = (frame["cell_line"] == "T47D") & (frame["readout"] == "pERK")
    gone &= (frame["condition"] == VEGF_ARM) & (frame["time_min"] == 30.0)
    noref = (frame["blot"] == "MCF-7_pAKT_r1_late") & (frame["time_min"] == 0.0)
    damaged = frame[~gone & ~noref].copy()
    damaged.loc[damaged.index[5], "value"] = 0.0
    rules = CombinationRules(n_boot=200, readouts=("pERK", "pAKT", "p38", "pSTAT3"))
    s = data_combination(damaged[damaged["readout"] != "pSTAT3"], rules=rules)
    q = quantity(s, f"fold_{VEGF_ARM}")
    cell = q[(q["cell_line"] == "T47D") & (q["readout"] == "pERK") & (q["time_min"] == 30.0)]
    assert cell[["value", "low", "high"]].isna().all(axis=None)
    d = quantity(s, "D")
    assert np.isnan(
        d[(d["cell_line"] == "T47D") & (d["readout"] == "pERK") & (d["time_min"] == 30.0)][
            "value"
        ].item()
    )
    v = s.verdicts.set_index(["cell_line", "readout"])
    assert v.loc[("T47D", "pERK"), "verdict"] != "not applicable"  # the other times decide
    assert (v.xs("pSTAT3", level="readout")["verdict"] == "not applicable").all()
    assert (v.xs("pSTAT3", level="readout")["reason"] == "no pSTAT3 bands").all()
    # late window missing: sustained cannot be judged, stronger still can
    early = data_combination(frame[frame["time_min"] < 100], rules=CombinationRules(n_boot=200))
    assert early.verdicts["sustained"].isna().all() and early.verdicts["stronger"].notna().all()
    assert early.verdicts["reason"].str.contains("late window").all()
    # one replicate: no interval, so no verdict, with the reason given
    single = data_combination(frame[frame["replicate"] == 1], rules=CombinationRules(n_boot=50))
    assert (single.verdicts["verdict"] == "not applicable").all()
    assert single.verdicts["reason"].str.contains("fewer than two replicates").all()


def test_rules_are_validated():
    with pytest.raises(InvalidInputError, match="level"):
        CombinationRules(level=1.5)
    with pytest.raises(InvalidInputError, match="late_window"):
        CombinationRules(late_window=(240.0, 120.0))
    with pytest.raises(InvalidInputError, match="n_boot"):
        CombinationRules(n_boot=0)
    with pytest.raises(InvalidInputError, match="column"):
        data_combination(pd.DataFrame({"value": [1.0]}))
    with pytest.raises(InvalidInputError, match="column"):
        fit_combination(pd.DataFrame({"value": [1.0]}))
    rules = CombinationRules(readouts=["pERK", "pSTAT3"])
    assert rules.readouts == ("pERK", "pSTAT3")
    with pytest.raises(AttributeError):
        rules.guard = 0.5  # frozen


# -- outputs ---------------------------------------------------------------------------------
def test_plot_has_a_labelled_panel_per_line_and_readout(bundled_summary):
    fit = fit_combination(fit_frame("additive"))
    for axis in ("linear", "sqrt"):
        fig = plot_combination(bundled_summary, fit, time_axis=axis)
        axes = fig.get_axes()
        assert len(axes) == 9
        titles = {ax.get_title() for ax in axes}
        assert titles == {f"{line} {r}" for line in CELL_LINES for r in CLAIM4}
        assert axes[-1].get_xlabel() == "time (min)"
        assert "fold over unstimulated" in axes[0].get_ylabel()
        texts = [t.get_text() for t in axes[0].texts]
        assert any(
            "data: stronger, sustained, super-additive" in t and "fit: stronger, additive" in t
            for t in texts
        )
        assert len(fig.legends) == 1
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert {IL6_ARM, VEGF_ARM, COMBINATION} <= set(labels)
        assert any("sum of singles" in label for label in labels)
        fig.clf()
    with pytest.raises(InvalidInputError, match="time_axis"):
        plot_combination(bundled_summary, time_axis="log")


def test_write_combination_writes_csv_png_and_svg(bundled_summary, tmp_path):
    fit = fit_combination(fit_frame("plateau"), times=bundled_summary.times("T47D", "pERK"))
    paths = write_combination(tmp_path / "out", bundled_summary, fit, stem="claim4")
    assert [p.name for p in paths] == ["claim4.csv", "claim4.png", "claim4.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    table = pd.read_csv(paths[0])
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert len(table) == len(combination_table(bundled_summary, fit))
    expected = {f"fold_{a}" for a in (IL6_ARM, VEGF_ARM, COMBINATION)} | {
        "sum_of_singles",
        "excess_ratio",
        "D",
    }
    expected |= {
        f"{q}_{a}"
        for q in ("peak", "late", "persistence", "time_above_half_max")
        for a in (IL6_ARM, VEGF_ARM, COMBINATION)
    }
    assert set(table["quantity"]) == expected
    assert table.loc[table["quantity"].str.startswith("peak_"), "time_min"].isna().all()
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths[2].read_bytes()[:2000]
    data_only = write_combination(tmp_path, bundled_summary)
    assert pd.read_csv(data_only[0])["fit"].isna().all()
