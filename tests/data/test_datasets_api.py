"""Loading, selecting, writing and plotting data sets; the public API and its errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import paracrine
import paracrine.data as pdata
from paracrine.data import (
    BlotData,
    Dataset,
    Issue,
    IssueList,
    ReadoutData,
    list_datasets,
    load_blots,
    load_readouts,
    validate_blot_frame,
    validate_blots,
    validate_readout_frame,
    validate_readouts,
)
from paracrine.errors import DataValidationError, InvalidInputError, UnknownNameError

matplotlib.use("Agg")  # no display on CI


@pytest.fixture(scope="module")
def blots() -> BlotData:
    return load_blots()


def test_root_package_reexports_the_loaders():
    assert paracrine.load_blots is pdata.load_blots
    assert paracrine.load_readouts is pdata.load_readouts
    assert paracrine.list_datasets is pdata.list_datasets


def test_list_datasets_names_the_bundled_files():
    assert list_datasets() == ["reference_blots_synthetic", "reference_migration_synthetic"]


def test_default_blots_have_typed_tidy_frame(blots):
    frame = blots.frame
    assert list(frame.columns) == [
        "cell_line", "condition", "il6_ng_ml", "vegf_ng_ml", "time_min", "readout", "value",
        "replicate", "blot", "sd", "normalization",
    ]  # fmt: skip
    for column in ("il6_ng_ml", "vegf_ng_ml", "time_min", "value", "sd"):
        assert frame[column].dtype == np.float64, column
    assert frame["replicate"].dtype == np.int64
    for column in ("cell_line", "condition", "readout", "blot", "normalization"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame["sd"].isna().all()  # the file has no sd column: "not given"
    assert blots.source == "reference_blots_synthetic.csv"
    assert blots.issues == ()
    assert len(blots) == 936
    assert len(blots.blots) == 72
    assert "936 bands, 72 blots" in repr(blots)


def test_cell_line_selection(blots):
    t47d = load_blots("reference_blots_synthetic", cell_lines=["T47D"])
    assert t47d.cell_lines == ("T47D",)
    assert len(t47d) == len(blots) // 3
    assert blots.select(readouts="pSTAT3", conditions=["IL-6"]).readouts == ("pSTAT3",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell_lines": ["MCF7"]}, r"unknown cell line 'MCF7' — did you mean 'MCF-7'\?"),
        ({"readouts": ["ERK"]}, r"unknown read-out 'ERK' — did you mean 'pERK'\?"),
        ({"conditions": ["IL6"]}, r"unknown condition 'IL6' — did you mean 'IL-6'"),
    ],
)
def test_select_unknown_names(blots, kwargs, message):
    with pytest.raises(UnknownNameError, match=message):
        blots.select(**kwargs)


def test_both_formats_share_the_dataset_base():
    readouts = load_readouts()
    assert isinstance(readouts, Dataset) and isinstance(load_blots(), Dataset)
    mcf7 = readouts.select(cell_lines=["MCF-7"], readouts=["migration"])
    assert type(mcf7) is ReadoutData  # selecting keeps the subclass
    assert (mcf7.cell_lines, mcf7.readouts) == (("MCF-7",), ("migration",))
    assert mcf7.conditions[:5] == ("control", "IL-6", "VEGF", "IL-6+VEGF", "MSC-CM")
    assert len(mcf7) == 8 and mcf7.source == readouts.source
    with pytest.raises(UnknownNameError, match=r"unknown read-out 'migraton' — did you mean"):
        readouts.select(readouts=["migraton"])


def test_requesting_a_cell_line_absent_from_the_file(blot_csv):
    with pytest.raises(UnknownNameError, match=r"unknown cell line 'T47D' \(known: MCF-7\)"):
        load_blots(blot_csv(), cell_lines=["T47D"])


def test_unknown_dataset_name_suggests_close_ones():
    with pytest.raises(
        UnknownNameError,
        match=r"unknown data set 'reference_blot_synthetic' — did you mean "
        r"'reference_blots_synthetic'",
    ):
        load_blots("reference_blot_synthetic")


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match=r"data file '.*nope\.csv' does not exist"):
        load_blots(tmp_path / "nope.csv")


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(InvalidInputError, match=r"is a directory; expected a CSV file"):
        load_readouts(tmp_path)


def test_wrong_argument_type():
    with pytest.raises(InvalidInputError, match=r"expected a data set name \(str\) or a path"):
        load_blots(42)


def test_unreadable_file(blot_csv, monkeypatch):
    path = blot_csv()

    def refuse(self):
        raise PermissionError("permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(InvalidInputError, match=r"cannot read data file .*permission denied"):
        load_blots(path)


def test_utf8_byte_order_mark_is_accepted(write, blot_header, blot_rows, to_csv_text):
    data = load_blots(write(b"\xef\xbb\xbf" + to_csv_text(blot_header, blot_rows).encode()))
    assert data.frame.columns[0] == "cell_line"


def test_blot_csv_round_trip(blots, tmp_path):
    again = load_blots(blots.to_csv(tmp_path / "copy.csv"))
    pd.testing.assert_frame_equal(again.frame, blots.frame)


def test_readouts_round_trip_and_lookup(tmp_path):
    readouts = load_readouts()
    assert isinstance(readouts, ReadoutData)
    assert readouts.readouts == ("migration", "proliferation")
    assert readouts.conditions[:4] == ("control", "IL-6", "VEGF", "IL-6+VEGF")
    assert readouts.frame["n"].dtype == np.int64
    again = load_readouts(readouts.to_csv(tmp_path / "copy.csv"))
    pd.testing.assert_frame_equal(again.frame, readouts.frame)
    assert readouts.fold_change("MCF-7", "migration", "control") == 1.0
    assert "36 rows" in repr(readouts)
    assert len(readouts) == 36


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("MCF7", "migration", "IL-6"), r"unknown cell line 'MCF7'"),
        (("MCF-7", "invasion", "IL-6"), r"unknown read-out 'invasion'"),
        (("MCF-7", "proliferation", "MSC-CM"), r"unknown proliferation condition for MCF-7 "),
    ],
)
def test_fold_change_lookup_errors(args, message):
    with pytest.raises(UnknownNameError, match=message):
        load_readouts().fold_change(*args)


def test_from_frame_numbers_rows_as_in_a_csv(blots):
    frame = blots.frame.head(13).copy()
    frame.loc[3, "value"] = -1.0
    with pytest.raises(
        DataValidationError, match=r"<DataFrame>, row 5, column 'value': negative value"
    ):
        BlotData.from_frame(frame)
    issues = validate_blot_frame(frame, source="mine")
    assert [(i.file, i.row, i.column) for i in issues] == [("mine", 5, "value")]


def test_from_frame_accepts_what_pandas_read_csv_makes(blot_csv):
    raw = pd.read_csv(blot_csv())  # blot ids like "b1" stay text; replicates become int64
    raw["blot"] = raw["blot"].str[1:].astype(int)  # integer blot ids name the same blots
    data = BlotData.from_frame(raw)
    assert data.blots == ("1", "2")
    frame = raw.astype({"replicate": float})  # a gap elsewhere would make pandas use floats
    assert BlotData.from_frame(frame).frame["replicate"].tolist() == [1] * 7


def test_from_frame_rejects_booleans_and_nones(blot_csv):
    raw = pd.read_csv(blot_csv()).astype(object)
    raw.loc[0, "value"] = True
    raw.loc[1, "condition"] = None
    raw.loc[2, "blot"] = 2.5
    with pytest.raises(DataValidationError) as caught:
        BlotData.from_frame(raw)
    found = {(i.row, i.column, i.message) for i in caught.value.issues}
    assert found == {
        (2, "value", "non-numeric value in column 'value'"),
        (3, "condition", "missing value in column 'condition'"),
        (4, "blot", "column 'blot' must hold text"),
    }


def test_readout_frame_validation():
    readouts = load_readouts()
    assert validate_readout_frame(readouts.frame) == []
    assert ReadoutData.from_frame(readouts.frame).frame.equals(readouts.frame)
    bad = readouts.frame.drop(columns=["n"])
    issues = validate_readout_frame(bad)
    assert issues.has_errors()
    assert issues[0].message == "missing required column 'n'"


def test_validate_files_without_loading(blot_csv):
    assert validate_blots("reference_blots_synthetic") == []
    assert validate_readouts("reference_migration_synthetic") == []
    issues = validate_blots(blot_csv({(0, "value"): "x", (1, "time_min"): "-5"}))
    assert isinstance(issues, IssueList)
    assert issues.has_errors()
    table = issues.to_frame()
    assert list(table.columns) == [
        "severity",
        "file",
        "row",
        "column",
        "expected",
        "received",
        "message",
    ]
    assert table["row"].tolist() == [2, 3]
    assert issues.errors() == issues
    assert issues.warnings() == []
    assert issues.report().startswith("2 errors, 0 warnings")


def test_issue_text_and_long_reports():
    issue = Issue("error", "f.csv", 3, "value", "a number", "'x'", "non-numeric value")
    assert (
        str(issue) == "f.csv, row 3, column 'value': non-numeric value (expected a number; "
        "received 'x')"
    )
    whole_file = Issue("error", "f.csv", None, None, "text", "binary", "not text")
    assert str(whole_file) == "f.csv: not text (expected text; received binary)"
    many = IssueList([issue] * 45)
    assert many.report().endswith(
        "… and 5 more (all of them: the error's .issues; the command line writes them to "
        "data_issues.csv)"
    )
    with pytest.raises(DataValidationError, match=r"f\.csv failed validation: 45 errors"):
        many.raise_if_errors("f.csv")
    IssueList([Issue("warning", "f", 1, None, "", "", "w")]).raise_if_errors("f")  # no raise


def test_warnings_are_kept_and_emitted(blot_csv, blot_rows):
    blot_rows[5][4] = "240"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_blots(blot_csv(rows=blot_rows))
    assert [w.category for w in caught] == [pdata.DataWarning]
    assert caught[0].filename == __file__  # points at the caller's line
    assert len(data.issues) == 1  # b1 and b2 share no point: one warning for both


def test_plot_blots_faceted_readout_by_cell_line(blots):
    import matplotlib.pyplot as plt

    fig = blots.plot()
    axes = np.asarray(fig.axes).reshape(4, 3)
    assert [a.get_title() for a in axes[0]] == ["MCF-7", "T47D", "SK-Br-3"]
    assert axes[0, 0].get_ylabel().startswith("pERK")
    assert axes[-1, 0].get_xlabel() == "time (min)"
    legend = [t.get_text() for t in axes[0, 0].get_legend().get_texts()]
    assert legend == ["control", "IL-6", "VEGF", "IL-6+VEGF"]
    plt.close(fig)

    one = blots.select(cell_lines=["T47D"], readouts=["pERK"])
    fig, ax = plt.subplots()
    assert one.plot(ax, normalize=False, median=False) is fig
    assert ax.get_ylabel() == "pERK\nvalue"
    plt.close(fig)


def test_plot_rejects_axes_of_the_wrong_shape(blots):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2)
    with pytest.raises(InvalidInputError, match=r"array of Axes of shape \(4, 3\) .*\(2, 2\)"):
        blots.plot(ax)
    plt.close(fig)


def test_plot_readouts_into_given_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3)
    assert load_readouts().plot(axes.ravel()) is fig
    assert axes[0, 0].get_ylabel().startswith("migration")
    plt.close(fig)


def test_paracrine_data_is_a_leaf_and_imports_matplotlib_lazily():
    import subprocess
    import sys

    code = (
        "import sys, paracrine.data; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'scipy') "
        "or m.startswith(('paracrine.models', 'paracrine.simulations', 'paracrine.fitting'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
