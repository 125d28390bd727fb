"""Normalisation helpers: what labs do to raw densitometry, keeping the blot structure."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from paracrine.data import (
    BlotData,
    load_blots,
    normalize_to_loading_control,
    normalize_to_time_zero,
    normalize_to_total_protein,
)
from paracrine.errors import InvalidInputError

# A lab's export: phospho band and GAPDH per lane, two blots, two replicates.
LAB_CSV = """\
cell_line,condition,il6_ng_ml,vegf_ng_ml,time_min,readout,replicate,blot,signal,loading_control
T47D,control,0,0,0,pERK,1,gel7,1200,2400
T47D,IL-6,50,0,15,pERK,1,gel7,3000,2000
T47D,IL-6+VEGF,50,50,15,pERK,1,gel7,6600,2200
T47D,control,0,0,0,pERK,1,gel8,500,2500
T47D,IL-6+VEGF,50,50,120,pERK,1,gel8,1200,2000
T47D,control,0,0,0,pERK,2,gel9,800,1600
T47D,IL-6,50,0,15,pERK,2,gel9,2100,1400
"""
# By hand: signal / GAPDH, then / the same blot's (and replicate's) 0-min ratio.
RATIO = [0.5, 1.5, 3.0, 0.2, 0.6, 0.5, 1.5]
FOLD = [1.0, 3.0, 6.0, 1.0, 3.0, 1.0, 3.0]


@pytest.fixture
def lab() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(LAB_CSV))


def test_lab_csv_round_trips_to_the_expected_values(lab, tmp_path):
    ratio = normalize_to_loading_control(lab)
    assert_allclose(ratio["value"], RATIO, rtol=1e-12)
    assert "signal" not in ratio.columns
    assert "loading_control" not in ratio.columns
    assert (ratio["normalization"] == "loading_control").all()

    fold = normalize_to_time_zero(ratio)
    assert_allclose(fold["value"], FOLD, rtol=1e-12)
    assert fold["blot"].tolist() == lab["blot"].tolist()  # the blot structure is kept
    assert (fold["normalization"] == "loading_control;time_zero").all()

    path = BlotData.from_frame(fold, source="lab.csv").to_csv(tmp_path / "lab_blots.csv")
    loaded = load_blots(path)
    assert_allclose(loaded.frame["value"], FOLD, rtol=1e-15)
    assert loaded.blots == ("gel7", "gel8", "gel9")
    assert loaded.frame["replicate"].tolist() == [1, 1, 1, 1, 1, 2, 2]

    # the ratio-only table loads too, keeping one scale per blot for a fit to estimate
    ratio_data = BlotData.from_frame(ratio)
    assert_allclose(ratio_data.normalize_to_time_zero().frame["value"], FOLD, rtol=1e-12)


def test_total_protein_and_sd_scale_alike(lab):
    lab = lab.rename(columns={"loading_control": "total_erk"})
    lab["sd"] = lab["signal"] * 0.1
    out = normalize_to_total_protein(lab, total="total_erk")
    assert_allclose(out["value"], RATIO)
    assert_allclose(out["sd"], np.asarray(RATIO) * 0.1)
    assert (out["normalization"] == "total_protein").all()
    fold = normalize_to_time_zero(out)
    assert_allclose(fold["sd"], np.asarray(FOLD) * 0.1)


def test_reference_condition_restricts_the_time_zero_lanes(lab):
    ratio = normalize_to_loading_control(lab)
    extra = ratio.iloc[[0]].assign(condition="IL-6", il6_ng_ml=50.0, value=1.5)
    both = pd.concat([ratio, extra], ignore_index=True)
    mean_ref = normalize_to_time_zero(both)
    assert mean_ref["value"].iloc[1] == pytest.approx(1.5 / 1.0)  # mean of 0.5 and 1.5
    control_ref = normalize_to_time_zero(both, reference_condition="control")
    assert control_ref["value"].iloc[1] == pytest.approx(3.0)


def test_bundled_data_normalised_to_time_zero(tmp_path):
    data = load_blots().normalize_to_time_zero(reference_condition="control")
    t0 = data.frame[data.frame["time_min"] == 0]
    assert_allclose(t0["value"], 1.0)
    assert len(data) == 936


@pytest.mark.parametrize(
    ("change", "helper", "message"),
    [
        (
            lambda f: f.drop(columns="loading_control"),
            normalize_to_loading_control,
            r"normalising to loading control needs a column 'loading_control'; the columns are",
        ),
        (
            lambda f: f.rename(columns={"signal": "signl"}),
            normalize_to_loading_control,
            r"needs a column 'signal'; did you mean 'signl'\?",
        ),
        (
            lambda f: f.assign(loading_control=[0, 1, 1, 1, 1, 1, -2]),
            normalize_to_loading_control,
            r"column 'loading_control' must hold a finite number > 0 in every row; rows 2, 8 do "
            r"not \(first: 0\)",
        ),
        (
            lambda f: f.assign(signal=["1", "x", "1", "1", "1", "1", "1"]),
            normalize_to_loading_control,
            r"column 'signal' must hold a finite number ≥ 0 .*rows 3",
        ),
        (
            lambda f: f.assign(value=1.0),
            normalize_to_loading_control,
            r"already has a 'value' column besides the signal column 'signal'",
        ),
        (
            lambda f: f.rename(columns={"loading_control": "total_protein"}).assign(value=1.0),
            normalize_to_total_protein,
            r"normalising to total protein: the frame already has",
        ),
    ],
)
def test_ratio_errors(lab, change, helper, message):
    with pytest.raises(InvalidInputError, match=message):
        helper(change(lab))


def test_time_zero_errors(lab):
    ratio = normalize_to_loading_control(lab)
    with pytest.raises(
        InvalidInputError,
        match=r"needs a positive time-0 lane in every blot; 1 group\(s\) have none: "
        r"blot=gel8, cell_line=T47D, readout=pERK, replicate=1",
    ):
        normalize_to_time_zero(ratio[ratio.index != 3])
    with pytest.raises(InvalidInputError, match=r"time-0 lane of 'IL-6' in every blot; 3 group"):
        normalize_to_time_zero(ratio, reference_condition="IL-6")
    with pytest.raises(InvalidInputError, match=r"a reference condition needs a column"):
        normalize_to_time_zero(ratio.drop(columns="condition"), reference_condition="control")
    with pytest.raises(InvalidInputError, match=r"normalising to time 0 needs a column 'blot'"):
        normalize_to_time_zero(ratio.drop(columns="blot"))
    zero = ratio.assign(value=np.where(ratio["time_min"] == 0, 0.0, ratio["value"]))
    with pytest.raises(InvalidInputError, match=r"3 group\(s\) have none"):
        normalize_to_time_zero(zero)
    many = pd.concat([ratio.assign(blot=f"g{i}") for i in range(7)], ignore_index=True)
    many = many[many["time_min"] != 0]
    with pytest.raises(InvalidInputError, match=r"14 group\(s\) have none: .* …$"):
        normalize_to_time_zero(many)


def test_empty_frames_pass_through():
    empty = load_blots().frame.head(0)
    out = normalize_to_time_zero(empty)
    assert out.empty
    assert list(out.columns) == list(empty.columns)
    raw = pd.DataFrame({"signal": [], "loading_control": []})
    assert normalize_to_loading_control(raw).empty
