"""Malformed files: each is rejected with a message naming file, row, column and the problem."""

from __future__ import annotations

import re

import pytest

from paracrine.data import (
    DataWarning,
    load_blots,
    load_readouts,
    validate_blots,
    validate_readouts,
)
from paracrine.errors import DataValidationError


def _where(row: int | None, column: str | None) -> str:
    parts = [r"bad\.csv"]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{re.escape(column)}'")
    return ", ".join(parts)


# (id, {(data row index, column): new text}, line, column, message regex)
CELL_CASES = [
    (
        "non-numeric value",
        {(1, "value"): "abc"},
        3,
        "value",
        r"non-numeric value in column 'value' \(expected a number \(band intensity",
    ),
    (
        "non-finite value",
        {(2, "value"): "inf"},
        4,
        "value",
        r"non-finite value in column 'value' \(expected a finite number; received 'inf'\)",
    ),
    ("NaN value", {(2, "value"): "NaN"}, 4, "value", r"non-finite value in column 'value'"),
    ("overflowing value", {(2, "value"): "1e999"}, 4, "value", r"non-finite value"),
    (
        "negative value",
        {(3, "value"): "-0.2"},
        5,
        "value",
        r"negative value in column 'value' \(expected a value ≥ 0; received '-0\.2'\)",
    ),
    (
        "negative dose",
        {(2, "il6_ng_ml"): "-50"},
        4,
        "il6_ng_ml",
        r"negative value in column 'il6_ng_ml'",
    ),
    ("negative time", {(1, "time_min"): "-5"}, 3, "time_min", r"negative value in column"),
    (
        "cell line with spaces around it",
        {(4, "cell_line"): " MCF-7"},
        6,
        "cell_line",
        r"cell line ' MCF-7' has spaces around it; write 'MCF-7'",
    ),
    (
        "empty cell",
        {(1, "blot"): ""},
        3,
        "blot",
        r"missing value in column 'blot' \(expected a value \(membrane",
    ),
    (
        "replicate not whole",
        {(2, "replicate"): "1.5"},
        4,
        "replicate",
        r"column 'replicate' must hold a whole number ≥ 1 \(expected a whole number ≥ 1; "
        r"received '1\.5'\)",
    ),
    (
        "replicate zero",
        {(2, "replicate"): "0"},
        4,
        "replicate",
        r"column 'replicate' must hold a whole number ≥ 1 .*received '0'",
    ),
    (
        "IL-6 without IL-6 dose",
        {(2, "il6_ng_ml"): "0"},
        4,
        "il6_ng_ml",
        r"condition 'IL-6' contradicts il6_ng_ml = 0 \(expected a dose > 0 for condition 'IL-6'",
    ),
    (
        "control with a dose",
        {(1, "vegf_ng_ml"): "10"},
        3,
        "vegf_ng_ml",
        r"condition 'control' contradicts vegf_ng_ml = 10 \(expected 0 for condition 'control'",
    ),
    (
        "combination missing VEGF",
        {(4, "vegf_ng_ml"): "0"},
        6,
        "vegf_ng_ml",
        r"condition 'IL-6\+VEGF' contradicts vegf_ng_ml = 0",
    ),
]


@pytest.mark.parametrize(
    ("changes", "line", "column", "message"),
    [pytest.param(*c[1:], id=c[0]) for c in CELL_CASES],
)
def test_bad_cell_is_rejected_naming_file_row_and_column(blot_csv, changes, line, column, message):
    path = blot_csv(changes)
    with pytest.raises(DataValidationError, match=_where(line, column) + ": " + message):
        load_blots(path)
    issues = validate_blots(path)
    assert issues.has_errors()
    assert [(i.row, i.column) for i in issues.errors()] == [(line, column)]


def test_missing_column(blot_csv, blot_header, blot_rows):
    header = [c for c in blot_header if c != "value"]
    rows = [[v for c, v in zip(blot_header, r, strict=True) if c != "value"] for r in blot_rows]
    with pytest.raises(
        DataValidationError,
        match=_where(1, "value") + r": missing required column 'value' \(expected a column "
        r"'value' \(band intensity, arbitrary units\); received no such column\)",
    ):
        load_blots(blot_csv(header=header, rows=rows))


def test_unknown_column_suggests_the_close_one(blot_csv, blot_header):
    header = [("valeu" if c == "value" else c) for c in blot_header]
    with pytest.raises(DataValidationError) as caught:
        load_blots(blot_csv(header=header))
    text = str(caught.value)
    assert re.search(
        _where(1, "valeu") + r": unknown column 'valeu' — did you mean 'value'\?", text
    )
    assert re.search(_where(1, "value") + r": missing required column 'value'", text)


def test_duplicated_column_name(blot_csv, blot_header, blot_rows):
    header = [*blot_header, "value"]
    rows = [[*r, "9"] for r in blot_rows]
    with pytest.raises(
        DataValidationError, match=_where(1, "value") + r": column 'value' appears 2 times"
    ):
        load_blots(blot_csv(header=header, rows=rows))


def test_empty_header_field(blot_csv, blot_header, blot_rows):
    header = [*blot_header, ""]
    rows = [[*r, "x"] for r in blot_rows]
    with pytest.raises(DataValidationError, match=r"bad\.csv, row 1: header field 10 is empty"):
        load_blots(blot_csv(header=header, rows=rows))


def test_duplicate_measurement_names_the_first_row(blot_csv, blot_rows):
    rows = [*blot_rows, blot_rows[2]]
    with pytest.raises(
        DataValidationError,
        match=r"bad\.csv, row 9: duplicate measurement: same cell_line, condition, time_min, "
        r"readout, replicate, blot as row 4",
    ):
        load_blots(blot_csv(rows=rows))


def test_ragged_row(write, blot_header, blot_rows):
    rows = [",".join(r) for r in blot_rows]
    rows[3] += ",extra"
    with pytest.raises(
        DataValidationError,
        match=r"bad\.csv, row 5: row has 10 fields but the header has 9 "
        r"\(expected 9 fields, as in the header; received 10 fields\)",
    ):
        load_blots(write(",".join(blot_header) + "\n" + "\n".join(rows) + "\n"))


def test_row_numbers_count_blank_lines_as_an_editor_does(write, blot_header, blot_rows):
    lines = [",".join(blot_header), "", *(",".join(r) for r in blot_rows)]
    lines[4] = lines[4].replace(",2.0,", ",oops,")  # the IL-6 row, now on line 5
    with pytest.raises(DataValidationError, match=_where(5, "value") + ": non-numeric"):
        load_blots(write("\n".join(lines) + "\n\n"))


def test_not_utf8(write, blot_header, blot_rows, to_csv_text):
    content = to_csv_text(blot_header, blot_rows).encode() + "MCF-7,caf\xe9\n".encode("latin-1")
    with pytest.raises(
        DataValidationError,
        match=r"bad\.csv, row 9: the file is not UTF-8 text; save it as CSV \(UTF-8\) "
        r"\(expected UTF-8 text; received byte 0xe9",
    ):
        load_blots(write(content))


def test_control_character_in_text(write, blot_header, blot_rows, to_csv_text):
    content = to_csv_text(blot_header, blot_rows).replace("b2", "b\x002", 1)
    with pytest.raises(
        DataValidationError,
        match=_where(7, "blot") + r": column 'blot' holds the control character '\\x00'",
    ):
        load_blots(write(content))


def test_oversized_field_stops_the_parser_with_its_line(write, blot_header, blot_rows, to_csv_text):
    blot_rows[3][8] = "x" * 200_000
    with pytest.raises(
        DataValidationError,
        match=r"bad\.csv, row 5: the CSV parser stopped: field larger than field limit",
    ):
        load_blots(write(to_csv_text(blot_header, blot_rows)))


def test_empty_file(write):
    with pytest.raises(DataValidationError, match=r"bad\.csv: empty file \(expected a header"):
        load_blots(write(""))


def test_header_only(write, blot_header):
    with pytest.raises(DataValidationError, match=r"bad\.csv: no data rows"):
        load_blots(write(",".join(blot_header) + "\n"))


@pytest.mark.parametrize(
    ("separator", "name"),
    [(";", "';'"), ("\t", "a tab"), ("|", "'|'")],
    ids=["semicolon", "tab", "bar"],
)
def test_other_separators_give_one_error(write, blot_header, blot_rows, separator, name):
    # European spreadsheets write ';' with decimal commas: splitting at the commas would make
    # every row a field-count error (947 errors for the bundled file); one error instead
    rows = [[c.replace(".", ",") for c in r] for r in blot_rows]
    text = "\n".join(separator.join(r) for r in [blot_header, *rows]) + "\n"
    with pytest.raises(
        DataValidationError,
        match=rf"failed validation: 1 error, 0 warnings\n  - error: .*bad\.csv, row 1: the file "
        rf"is separated by {re.escape(name)}, not by commas; save it as comma-separated CSV "
        r".*received 9 columns separated by",
    ) as caught:
        load_blots(write(text))
    assert len(caught.value.issues) == 1
    assert len(validate_blots(write(text))) == 1


def test_bundled_file_saved_by_a_european_spreadsheet_gives_one_error(tmp_path):
    import pandas as pd

    frame = load_blots().frame
    frame.to_csv(tmp_path / "semi.csv", sep=";", decimal=",", index=False)
    issues = validate_blots(tmp_path / "semi.csv")
    assert [(i.severity, i.row, i.received) for i in issues] == [
        ("error", 1, "11 columns separated by ';'")
    ]
    frame.to_csv(tmp_path / "tab.csv", sep="\t", index=False)
    assert len(validate_blots(tmp_path / "tab.csv")) == 1
    assert pd.read_csv(tmp_path / "tab.csv", sep="\t").shape == frame.shape


def test_spaces_after_commas_are_ignored_with_one_note(write, blot_header, blot_rows):
    text = "\n".join(", ".join(r) for r in [blot_header, *blot_rows]) + "\n"
    with pytest.warns(
        DataWarning,
        match=r"the header has spaces after its commas: they were "
        r"ignored, in the header and in every row",
    ) as caught:
        data = load_blots(write(text))
    assert len(caught) == 1
    plain = load_blots(write("\n".join(",".join(r) for r in [blot_header, *blot_rows]) + "\n"))
    assert data.frame.equals(plain.frame)
    assert [i.severity for i in data.issues] == ["warning"]


def test_every_problem_is_reported_at_once(blot_csv):
    path = blot_csv({(0, "value"): "x", (3, "readout"): "pERK ", (5, "time_min"): "-1"})
    with pytest.raises(DataValidationError, match=r"failed validation: 3 errors, 0 warnings") as e:
        load_blots(path)
    found = {(i.row, i.column) for i in e.value.issues}
    assert found == {(2, "value"), (5, "readout"), (7, "time_min")}
    issue = next(i for i in e.value.issues if i.column == "readout")
    assert (issue.severity, issue.file, issue.expected, issue.received) == (
        "error",
        str(path),
        "a phospho read-out without surrounding spaces",
        "'pERK '",
    )


@pytest.mark.parametrize(
    ("column", "index", "text", "known"),
    [("cell_line", 4, "MCF7", "MCF-7"), ("readout", 0, "pErk", "pERK")],
)
def test_a_name_that_looks_like_a_known_one_warns_once(blot_csv, column, index, text, known):
    # any cell line and read-out is allowed (own data), but a near-spelling of a known one is
    # most likely a typo that would silently make a new line or read-out
    changes = {(index, column): text, (index + 1, column): text}
    what = {"cell_line": "cell line", "readout": "phospho read-out"}[column]
    with pytest.warns(DataWarning) as caught:
        data = load_blots(blot_csv(changes))
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert re.search(
        rf"row {index + 2}, column '{column}': {what} '{text}' looks like '{known}' but is spelt "
        rf"differently: it is read as another {what}",
        messages[0],
    )
    assert text in set(data.frame[column])


def test_unknown_cell_lines_and_readouts_are_data(blot_csv, blot_rows):
    rows = [[*r[:5], "pJAK1", *r[6:]] for r in blot_rows]
    rows = [["MDA-MB-231", *r[1:]] for r in rows]
    data = load_blots(blot_csv(rows=rows))
    assert data.cell_lines == ("MDA-MB-231",)
    assert data.readouts == ("pJAK1",)
    assert data.issues == ()


def _bands(values: list[str]) -> list[list[str]]:
    times = ["0", "5", "15", "30", "60", "120"]
    return [
        ["MCF-7", "control", "0", "0", t, "pERK", v, "1", "b1"]
        for t, v in zip(times, values, strict=False)
    ]


def test_a_band_orders_of_magnitude_off_its_blot_is_an_error(blot_csv):
    path = blot_csv(rows=_bands(["1.0", "1.2", "1e308", "0.9", "1.1"]))
    with pytest.raises(
        DataValidationError,
        match=r"failed validation: 1 error, 0 warnings\n  - error: .*bad\.csv, row 4, column "
        r"'value': value 1e\+308 is 308\.0 orders of magnitude from the median 1\.1 of blot "
        r"'b1'",
    ):
        load_blots(path)


def test_bands_three_decades_off_give_one_warning(blot_csv):
    path = blot_csv(rows=_bands(["1.0", "1.2", "2000", "0.9", "1.1", "0.0004"]))
    with pytest.warns(DataWarning) as caught:
        data = load_blots(path)
    assert len(caught) == 1
    assert re.search(
        r"row 4, column 'value': 2 bands are 3\+ orders of magnitude from its blot's median "
        r"\(first: 2000 against 1\.05 on blot 'b1', 3\.3 decades\); check them",
        str(caught[0].message),
    )
    assert len(data) == 6


def test_a_readout_file_is_not_a_blot_file():
    with pytest.raises(
        DataValidationError,
        match=r"reference_migration_synthetic\.csv, row 1, column "
        r"'bevacizumab_ug_ml': unknown column",
    ):
        load_blots("reference_migration_synthetic")
    with pytest.raises(
        DataValidationError,
        match=r"reference_blots_synthetic\.csv, row 1: this is a blot time course file: read it "
        r"with load_blots\(\)",
    ):
        load_readouts("reference_blots_synthetic")
    issues = validate_blots("reference_migration_synthetic")
    assert "read it with load_readouts()" in issues[0].message


# -- warnings: the data load, and say what deserves attention ------------------------------


def test_blot_sharing_no_point_warns_that_its_scale_is_unidentifiable(blot_csv, blot_rows):
    rows = blot_rows
    rows[5][4] = "240"  # b2 loses its shared t = 0 lane
    path = blot_csv(rows=rows)
    with pytest.warns(
        DataWarning,
        match=r"bad\.csv, row 2, column 'blot': 2 blots share no \(condition, time\) point with "
        r"another blot of their cell line and read-out \(first: 'b1', row 2\): its scale factor "
        r"is unidentifiable",
    ):
        data = load_blots(path)
    assert [i.severity for i in data.issues] == ["warning"]  # one warning for both blots
    assert not validate_blots(path).has_errors()


def test_single_lane_blot_warns(blot_csv, blot_rows):
    rows = [*blot_rows, ["MCF-7", "VEGF", "0", "50", "60", "pERK", "1.2", "1", "lonely"]]
    with pytest.warns(DataWarning, match=r"blot 'lonely' holds a single MCF-7 pERK point"):
        load_blots(blot_csv(rows=rows))


def test_zero_band_warns_about_the_log_scale(blot_csv):
    with pytest.warns(DataWarning, match=r"row 4, column 'value': a zero band cannot be fit"):
        data = load_blots(blot_csv({(2, "value"): "0"}))
    assert data.frame["value"].iloc[2] == 0.0


# -- read-out files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "line", "column", "message"),
    [
        pytest.param(
            {(2, "msc_cm_fraction"): "1.5"},
            4,
            "msc_cm_fraction",
            r"value above 1 in column 'msc_cm_fraction'",
            id="fraction above 1",
        ),
        pytest.param(
            {(2, "msc_cm_fraction"): "0"},
            4,
            "msc_cm_fraction",
            r"condition 'MSC-CM' contradicts msc_cm_fraction = 0",
            id="MSC-CM none",
        ),
        pytest.param(
            {(3, "bevacizumab_ug_ml"): "0"},
            5,
            "bevacizumab_ug_ml",
            r"condition 'MSC-CM\+bevacizumab' contradicts bevacizumab_ug_ml = 0",
            id="antibody dose missing",
        ),
        pytest.param(
            {(1, "anti_il6_ug_ml"): "10"},
            3,
            "anti_il6_ug_ml",
            r"condition 'IL-6' contradicts anti_il6_ug_ml = 10",
            id="stray antibody",
        ),
        pytest.param(
            {(0, "n"): "0"}, 2, "n", r"column 'n' must hold a whole number ≥ 1", id="n zero"
        ),
        pytest.param(
            {(4, "readout"): "invasion"},
            6,
            "readout",
            r"unknown phenotype 'invasion'",
            id="unknown phenotype",
        ),
        pytest.param({(1, "sd"): ""}, 3, "sd", r"missing value in column 'sd'", id="sd missing"),
        pytest.param(
            {
                (4, "condition"): "MSC-CM+bevacizumab",
                (4, "readout"): "migration",
                (4, "bevacizumab_ug_ml"): "100",
                (4, "msc_cm_fraction"): "0.5",
            },
            6,
            None,
            r"duplicate measurement: same cell_line, condition, readout as row 5",
            id="duplicate",
        ),
    ],
)
def test_bad_readout_file(readout_csv, changes, line, column, message):
    path = readout_csv(changes)
    with pytest.raises(DataValidationError, match=_where(line, column) + ": " + message):
        load_readouts(path)
    assert validate_readouts(path).has_errors()


def test_many_single_lane_blots_give_one_warning(tmp_path):
    frame = load_blots().frame.copy()
    frame["blot"] = [f"b{i}" for i in range(len(frame))]
    path = tmp_path / "own.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(DataWarning) as caught:
        data = load_blots(path)
    assert len(caught) == 1 and len(data.issues) == 1
    assert "936 blots hold a single point each (first: 'b0', row 2)" in str(caught[0].message)
