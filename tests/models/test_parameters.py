"""The parameter table: completeness, sources, bounds, and its validation errors."""

from __future__ import annotations

import math

import pytest

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.models import CELL_LINES, Model, default_table
from paracrine.models.parameters import read_parameter_table

HEADER = "name,default,unit,lower,upper,cell_line_specific,estimate,source\n"
CELLS = "parameter,MCF-7,T47D,SK-Br-3,source\n"


def test_every_model_parameter_is_in_the_table_with_source_unit_and_bounds():
    import roadrunner

    table = default_table()
    rr = roadrunner.RoadRunner(Model("full").sbml)
    rules = set(rr.getAssignmentRuleIds())
    model_params = set(rr.model.getGlobalParameterIds()) - rules
    assert model_params == set(table)
    for row in table.values():
        assert row.source, row.name
        assert row.unit, row.name
        assert 0 < row.lower <= row.upper
        if row.estimate:
            assert row.lower <= row.default <= row.upper, row.name
        assert math.isfinite(row.default) and row.default >= 0


def test_cell_line_values_differ_where_biology_says_so():
    table = default_table()
    assert table.cell_lines == CELL_LINES
    gp130 = {line: table.defaults(line)["R6_tot"] for line in CELL_LINES}
    # gp130 low in MCF-7, high in T47D (BIOLOGY.md)
    assert gp130["MCF-7"] < gp130["SK-Br-3"] < gp130["T47D"]
    assert table["R6_tot"].cell_line_specific


def test_table_to_dataframe_has_one_row_per_parameter_and_cell_line_columns():
    frame = default_table().to_dataframe()
    assert len(frame) == len(default_table())
    assert {"name", "default", "unit", "source", *CELL_LINES} <= set(frame.columns)


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ("name,default\nk,1\n", r"line 1: expected columns name, default, unit"),
        (
            HEADER + "k,abc,1/min,1,2,False,True,src\n",
            r"line 2, column default: expected a number, received 'abc'",
        ),
        (
            HEADER + "k,inf,1/min,1,2,False,True,src\n",
            r"line 2, column default: expected a finite number",
        ),
        (
            HEADER + "k,1,1/min,1,2,maybe,True,src\n",
            r"column cell_line_specific: expected True or False, received 'maybe'",
        ),
        (
            HEADER + "k,1,1/min,1,2,False,True,\n",
            r"line 2, column source: every parameter needs a source",
        ),
        (
            HEADER + "k,1,1/min,0,2,False,True,src\n",
            r"expected 0 < lower <= upper .* received lower=0.0",
        ),
        (
            HEADER + "k,5,1/min,1,2,False,True,src\n",
            r"estimated parameter 'k' has default 5.0 outside its bounds \[1.0, 2.0\]",
        ),
        (
            HEADER + "k,1,1/min,1,2,False,True,src\nk,1,1/min,1,2,False,True,src\n",
            r"line 3, column name: duplicate parameter 'k'",
        ),
        (  # an unquoted comma in the source used to drop the rest of the source silently
            HEADER + "k,1,1/min,1,2,False,True,assumed, with a comma\n",
            r"line 2: expected 8 fields, received 9 \(a comma inside an unquoted source",
        ),
        (
            HEADER + "k,1,1/min,1,2,False,True\n",
            r"line 2: expected 8 fields, received 7",
        ),
    ],
)
def test_malformed_parameter_table_is_refused_with_file_line_and_column(rows, match):
    with pytest.raises(InvalidInputError, match=match):
        read_parameter_table(rows, CELLS, origin="tbl")


def test_cell_line_table_errors():
    params = HEADER + "k,1,1/min,1,2,False,True,src\n"
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'kk' — did you mean 'k'"):
        read_parameter_table(params, CELLS + "kk,1,1,1,src\n", origin="tbl")
    with pytest.raises(
        InvalidInputError, match=r"has cell-line values but is not marked cell_line_specific"
    ):
        read_parameter_table(params, CELLS + "k,1,1,1,src\n", origin="tbl")


def test_unknown_parameter_and_cell_line_suggest_close_matches():
    table = default_table()
    with pytest.raises(
        UnknownNameError, match=r"unknown parameter 'k_erk_phoss' — did you mean 'k_erk_phos'"
    ):
        table["k_erk_phoss"]
    with pytest.raises(UnknownNameError, match=r"unknown cell line 'MCF7' — did you mean 'MCF-7'"):
        table.defaults("MCF7")


def test_a_cell_line_the_table_lacks_is_added_at_the_model_defaults():
    import pickle

    table = default_table()
    added = table.with_cell_lines(["MDA-MB-231", "MCF-7", "MDA-MB-231"])
    assert added.cell_lines == (*CELL_LINES, "MDA-MB-231")
    assert added.added_cell_lines == ("MDA-MB-231",)
    assert table.cell_lines == CELL_LINES  # the bundled table is unchanged
    assert table.with_cell_lines(["T47D"]) is table
    own = added.defaults("MDA-MB-231")
    assert own == table.defaults()  # every parameter at its default, the specific ones too
    assert added.defaults("MCF-7") == table.defaults("MCF-7")
    assert added == default_table().with_cell_lines(["MDA-MB-231"]) and added != table
    frame = added.to_dataframe()
    assert frame.loc[frame["name"] == "R6_tot", "MDA-MB-231"].item() == table["R6_tot"].default

    model = Model("independent").with_cell_lines(["MDA-MB-231"])
    assert model.cell_lines[-1] == "MDA-MB-231"
    assert model == Model("independent").with_cell_lines(["MDA-MB-231"])
    assert model != Model("independent")
    tuned = model.with_parameters({"R6_tot": 0.2}, cell_line="MDA-MB-231")
    assert tuned.parameter_values("MDA-MB-231")["R6_tot"] == 0.2
    assert pickle.loads(pickle.dumps(tuned)) == tuned
    with pytest.raises(
        UnknownNameError,
        match=r"unknown cell line 'MDA-MB-231' \(known: MCF-7, SK-Br-3, T47D\); add it at the "
        r"model's defaults with Model.with_cell_lines\(\['MDA-MB-231'\]\)",
    ):
        Model("independent", cell_line_parameters={"MDA-MB-231": {"R6_tot": 0.2}})
    with pytest.raises(InvalidInputError, match=r"without surrounding spaces, received ' HeLa'"):
        table.with_cell_lines([" HeLa"])


def test_the_readout_map_is_valid_and_maps_to_what_the_model_has(tmp_path):
    from paracrine.models.model import OBSERVABLES, default_readout_map, readout_map_table

    mapping = default_readout_map()
    model = Model("independent")
    species = set(model.species_ids)
    for readout, target in mapping.items():
        assert target in OBSERVABLES or target in species, (readout, target)
        assert model.observable_for(readout) == target
    assert mapping["pERK1/2"] == "pERK" and mapping["pJAK1"] == "JAK_p"
    for name in OBSERVABLES:
        assert model.observable_for(name) == name
    assert readout_map_table({"pERK1/2": "ERK_p"})["pERK1/2"] == "ERK_p"  # the user's wins
    with pytest.raises(InvalidInputError, match=r"expected text keys and values, received 'x': 1"):
        readout_map_table({"x": 1})
    (tmp_path / "mine.csv").write_text("name,target\nx,y\n", encoding="utf-8")
    with pytest.raises(
        InvalidInputError, match=r"mine.csv, line 1: expected the columns readout, observable"
    ):
        readout_map_table(tmp_path / "mine.csv")
