"""Every subcommand of ``paracrine``, run on the bundled data, against its file contract: the
exit status, the exact set of files it writes, each table's columns and its rows (a complete
grid over the keys it states, no missing values where there must be none) and each figure
(a PNG at 300 dpi that is not blank, beside an SVG that parses).

A subcommand added to the parser without a contract here fails
:func:`test_every_subcommand_has_a_contract`, so no command can ship untested.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from paracrine.cli import build_parser, main
from paracrine.cli.fit import DEMO_STARTS
from paracrine.data import load_blots, load_readouts
from paracrine.fitting import BlotFit

REFERENCE = "reference_blots_synthetic"
ARMS = {"control", "IL-6", "VEGF", "IL-6+VEGF"}
READOUTS = {"pERK", "pAKT", "p38", "pSTAT3"}
LINES = {"MCF-7", "T47D", "SK-Br-3"}
#: the report and figure files of a blot fit (``fit`` and ``demo``)
FIT_FIGURES = ("fit", "residuals", "standardised_residuals", "waterfall", "parameters")
FIT_FILES = {
    "fit.json",
    "fit_simulation.csv",
    "combination.csv",
    "goodness.csv",
    "parameters.csv",
    "report.md",
    "report.html",
    *(f"{stem}.{ext}" for stem in (*FIT_FIGURES, "combination") for ext in ("png", "svg")),
}


@dataclass(frozen=True)
class Table:
    """A CSV's contract: its exact columns; *grid* maps key columns to the exact set of values
    each takes, and the rows must be that full grid, each key once (times: only the count of
    distinct values is fixed, in *n_values*); *complete* columns may hold no missing value."""

    columns: tuple[str, ...]
    grid: dict[str, set] = field(default_factory=dict)
    n_values: dict[str, int] = field(default_factory=dict)
    rows: int | None = None
    complete: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # further key columns: unique with the grid's, not a full grid


@dataclass(frozen=True)
class Inputs:
    """What the commands read: the demo's fit.json, a small blot CSV (T47D, pERK and pSTAT3)
    and a PEtab problem (Boehm_JProteomeRes2014 from ../shared/petab; None without it)."""

    fit: Path
    blots: Path
    petab: Path | None


@dataclass(frozen=True)
class Contract:
    argv: Callable[[Path, Inputs], list[str]]  # (out folder, inputs) -> arguments
    files: set[str]
    tables: dict[str, Table] = field(default_factory=dict)
    figures: tuple[str, ...] = ()
    stdout: str | None = None  # text the command must print
    slow: bool = False


def _quick(starts: int, out: Path) -> list[str]:
    """The fitting commands' quick settings: *starts* starts in this process, no bar."""
    return ["--starts", str(starts), "--workers", "1", "--no-progress", "--out", str(out)]


def _subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[str]:
    names: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                names += _subcommands(sub, (*prefix, name)) or [" ".join((*prefix, name))]
    return names


def check_table(path: Path, table: Table) -> pd.DataFrame:
    frame = pd.read_csv(path)
    assert tuple(frame.columns) == table.columns, f"{path.name}: {list(frame.columns)}"
    assert len(frame) > 0, path.name
    if table.rows is not None:
        assert len(frame) == table.rows, f"{path.name}: {len(frame)} rows"
    for column, values in table.grid.items():
        assert set(frame[column]) == values, f"{path.name} {column}: {set(frame[column])}"
    for column, n in table.n_values.items():
        assert frame[column].nunique() == n, f"{path.name} {column}: {frame[column].nunique()}"
    grid = [*table.grid, *table.n_values]
    if grid or table.keys:
        assert not frame.duplicated([*grid, *table.keys]).any(), f"{path.name}: a key repeats"
    if grid and not table.keys:
        expected = int(np.prod([frame[k].nunique() for k in grid]))
        assert len(frame) == expected, f"{path.name}: {len(frame)} rows, grid {expected}"
    for column in table.complete:
        assert frame[column].notna().all(), f"{path.name}: missing {column}"
    return frame


def check_figure(folder: Path, stem: str) -> None:
    with Image.open(folder / f"{stem}.png") as image:
        dpi = image.info.get("dpi", (0, 0))
        assert round(dpi[0]) == 300, f"{stem}.png at {dpi} dpi"
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert min(pixels.shape) > 500, f"{stem}.png is {pixels.shape}"
    # not blank: a figure of white paper has no spread; ink covers a real part of it
    assert pixels.std() > 5 and (pixels < 200).mean() > 0.005, f"{stem}.png looks blank"
    root = ET.parse(folder / f"{stem}.svg").getroot()
    assert root.tag.endswith("svg"), f"{stem}.svg"


def _fit_tables(lines: set[str], readouts: set[str]) -> dict[str, Table]:
    kinases = readouts - {"pSTAT3"}  # the combination metrics are the kinases' (ERK, AKT, p38)
    return {
        "fit_simulation.csv": Table(
            ("cell_line", "condition", "time_min", "observable", "value"),
            grid={"cell_line": lines, "observable": readouts},
            n_values={"condition": 4, "time_min": 49},
            complete=("value",),
        ),
        "combination.csv": Table(
            (
                "cell_line",
                "readout",
                "time_min",
                "quantity",
                "data",
                "data_low",
                "data_high",
                "fit",
            ),
            grid={"cell_line": lines, "readout": kinases},
            keys=("time_min", "quantity"),  # time is empty for whole-course quantities
            complete=("quantity",),
        ),
        "parameters.csv": Table(
            (
                "parameter",
                "value",
                "unit",
                "low_95",
                "high_95",
                "interval",
                "lower_bound",
                "upper_bound",
                "log10_value",
                "log10_se",
                "identifiability",
            ),
            complete=("parameter", "value", "unit", "identifiability"),
        ),
        "goodness.csv": Table(
            (
                "cell_line",
                "readout",
                "condition",
                "il6_ng_ml",
                "vegf_ng_ml",
                "time_min",
                "n",
                "mean",
                "z",
                "data_over_model",
                "systematic",
            ),
            complete=("n", "mean", "z"),
        ),
    }


CONTRACTS: dict[str, Contract] = {
    "fit": Contract(  # with one likelihood profile
        lambda out, inputs: [
            "fit",
            "--data",
            str(inputs.blots),
            "--profile",
            "k_ras_vr",
            *_quick(2, out),
        ],
        FIT_FILES | {"profiles.csv", "profiles.png", "profiles.svg"},
        {
            **_fit_tables({"T47D"}, {"pERK", "pSTAT3"}),
            "profiles.csv": Table(
                ("parameter", "value", "nllh", "delta_nllh"),
                grid={"parameter": {"k_ras_vr"}},
                keys=("value",),
                complete=("value", "nllh", "delta_nllh"),
            ),
        },
        (*FIT_FIGURES, "combination", "profiles"),
        stdout="best nllh",
    ),
    "demo": Contract(
        lambda out, inputs: [],  # run once per test session by the demo_out fixture
        FIT_FILES,
        _fit_tables(LINES, READOUTS),
        (*FIT_FIGURES, "combination"),
    ),
    "select": Contract(
        lambda out, inputs: [
            "select",
            "--variants",
            "independent,stat3_vegfr2_expression",
            "--data",
            str(inputs.blots),
            *_quick(1, out),
        ],
        {
            "selection.csv",
            "lrt.csv",
            "report.md",
            "report.html",
            "selection.png",
            "selection.svg",
            *(
                f"{kind}_{v}.{ext}"
                for v in ("independent", "stat3_vegfr2_expression")
                for kind, ext in (
                    ("fit", "json"),
                    ("fit_simulation", "csv"),
                    ("combination", "csv"),
                    ("combination", "png"),
                    ("combination", "svg"),
                )
            ),
        },
        {
            "fit_simulation_independent.csv": _fit_tables({"T47D"}, {"pERK", "pSTAT3"})[
                "fit_simulation.csv"
            ],
        },
        ("selection", "combination_independent", "combination_stat3_vegfr2_expression"),
        stdout="Best by AIC",
        slow=True,
    ),
    "simulate": Contract(
        lambda out, inputs: ["simulate", "--fit", str(inputs.fit), "--out", str(out)],
        {"simulation.csv", "timecourses.png", "timecourses.svg"},
        {
            "simulation.csv": Table(
                ("condition", "cell_line", "time_min", "observable", "value"),
                grid={"condition": ARMS, "cell_line": LINES, "observable": READOUTS},
                n_values={"time_min": 49},
                complete=("value",),
            )
        },
        ("timecourses",),
    ),
    "petab nllh": Contract(
        lambda out, inputs: ["petab", "nllh", str(inputs.petab)],
        set(),
        stdout="nllh",
    ),
    "petab fit": Contract(
        lambda out, inputs: [
            "petab",
            "fit",
            str(inputs.petab),
            *_quick(2, out),
        ],
        {
            "fit.json",
            "report.md",
            "report.html",
            "simulation.tsv",
            *(
                f"{stem}.{ext}"
                for stem in ("fit", "waterfall", "parameters")
                for ext in ("png", "svg")
            ),
        },
        figures=("fit", "waterfall", "parameters"),
        stdout="best nllh",
    ),
    "petab export": Contract(
        lambda out, inputs: ["petab", "export", "--fit", str(inputs.fit), "--out", str(out)],
        {
            "conditions.tsv",
            "measurements.tsv",
            "observables.tsv",
            "parameters.tsv",
            "paracrine_cooperation_saturation.xml",
            "paracrine_cooperation_saturation.yaml",
        },
    ),
    "knockout": Contract(
        lambda out, inputs: [
            "knockout",
            "--fit",
            str(inputs.fit),
            "--targets",
            "MEK KO,JAK1 KO",
            "--cell-line",
            "T47D",
            "--no-progress",
            "--out",
            str(out),
        ],
        {"knockouts.csv", "knockout_ranking.csv", "knockouts.png", "knockouts.svg"},
        {
            "knockouts.csv": Table(
                (
                    "cell_line",
                    "perturbation",
                    "target",
                    "kind",
                    "arm",
                    "readout",
                    "metric",
                    "value",
                    "unperturbed",
                    "relative_change",
                    "change",
                    "unit",
                    "variant",
                ),
                grid={
                    "perturbation": {"unperturbed", "MEK KO", "JAK1 KO"},
                    "readout": READOUTS,
                },
                keys=("arm", "metric"),
                # 4 arms' peak/auc/late/persistence, the control's basal, the combination's
                # excess ratio, peak/late excess and peak/late benefit: 22 (arm, metric) pairs
                rows=3 * 22 * 4,
            ),
            "knockout_ranking.csv": Table(
                (
                    "rank",
                    "cell_line",
                    "perturbation",
                    "target",
                    "kind",
                    "readouts",
                    "question",
                    "metric",
                    "fraction_removed",
                    "fraction_removed_pERK",
                    "fraction_removed_pAKT",
                    "fraction_removed_p38",
                    "fraction_removed_pSTAT3",
                ),
                grid={"perturbation": {"MEK KO", "JAK1 KO"}},
                n_values={"question": 2},
                complete=("rank", "fraction_removed"),
            ),
        },
        ("knockouts",),
    ),
    "antibody": Contract(
        lambda out, inputs: [
            "antibody",
            "--fit",
            str(inputs.fit),
            "--bevacizumab",
            "0:10:3",
            "--vegf",
            "50",
            "--no-progress",
            "--out",
            str(out),
        ],
        {
            "antibody.csv",
            "antibody_ic50.csv",
            "antibody_bevacizumab.png",
            "antibody_bevacizumab.svg",
        },
        {
            "antibody.csv": Table(
                (
                    "antibody",
                    "dose_ug_ml",
                    "cell_line",
                    "readout",
                    "metric",
                    "value",
                    "response_fraction",
                    "free_ligand_nm",
                    "free_ligand_fraction",
                    "ligand",
                    "ligand_nm",
                    "il6_ng_ml",
                    "vegf_ng_ml",
                    "msc_cm_fraction",
                    "msc_cm_il6_ng_ml",
                    "msc_cm_vegf_ng_ml",
                    "msc_cm_content",
                    "other_antibody_ug_ml",
                    "unit",
                    "variant",
                ),
                grid={"readout": READOUTS, "metric": {"peak", "auc", "late"}},
                n_values={"dose_ug_ml": 3},
                complete=("value", "free_ligand_fraction"),
            ),
            "antibody_ic50.csv": Table(
                (
                    "antibody",
                    "cell_line",
                    "readout",
                    "metric",
                    "ic50_ug_ml",
                    "ic50_note",
                    "predicted_ic50_ug_ml",
                    "free_ligand_ic50_ug_ml",
                    "ratio_measured_predicted",
                    "ligand",
                    "ligand_nm",
                    "ligand_half_nm",
                    "kd_nm",
                    "inhibition_span",
                    "variant",
                ),
                grid={"readout": READOUTS, "metric": {"peak", "auc", "late"}},
            ),
        },
        ("antibody_bevacizumab",),
    ),
    "sweep": Contract(
        lambda out, inputs: [
            "sweep",
            "--fit",
            str(inputs.fit),
            "--cell-line",
            "T47D",
            "--il6",
            "0:50:5",
            "--vegf",
            "0:50:4",
            "--metric",
            "peak",
            "--synergy",
            "bliss",
            "--no-progress",
            "--out",
            str(out),
        ],
        {
            "sweep.csv",
            "hill.csv",
            "sweep_T47D_peak.png",
            "sweep_T47D_peak.svg",
            *(
                f"synergy_T47D_{r}_peak.{e}"
                for r in ("pERK", "pAKT", "p38")
                for e in ("png", "svg")
            ),
        },
        {
            "sweep.csv": Table(
                ("il6_ng_ml", "vegf_ng_ml", "cell_line", "readout", "metric", "value", "bliss"),
                grid={"readout": READOUTS, "metric": {"peak"}, "cell_line": {"T47D"}},
                n_values={"il6_ng_ml": 5, "vegf_ng_ml": 4},
                complete=("value", "bliss"),
            ),
            "hill.csv": Table(
                (
                    "cell_line",
                    "readout",
                    "metric",
                    "ligand",
                    "e0",
                    "emax",
                    "ec50_ng_ml",
                    "ec50_low",
                    "ec50_high",
                    "hill_n",
                    "r2",
                    "ci_method",
                ),
                grid={"readout": READOUTS, "ligand": {"IL-6", "VEGF"}},
                complete=("e0", "emax", "ec50_ng_ml", "hill_n"),
            ),
        },
        ("sweep_T47D_peak", *(f"synergy_T47D_{r}_peak" for r in ("pERK", "pAKT", "p38"))),
    ),
    "ensemble": Contract(
        lambda out, inputs: [
            "ensemble",
            "--fit",
            str(inputs.fit),
            "--steps",
            "4",
            "--members",
            "10",
            "--no-progress",
            "--out",
            str(out),
        ],
        {"ensemble.json", "ensemble.md", "band.png", "band.svg"},
        figures=("band",),
    ),
    "migrate": Contract(
        lambda out, inputs: [
            "migrate",
            "--fit",
            str(inputs.fit),
            "--no-progress",
            "--out",
            str(out),
        ],
        {"migration.csv", "migration.md", "migration.png", "migration.svg"},
        {
            "migration.csv": Table(
                (
                    "cell_line",
                    "condition",
                    "readout",
                    "measured",
                    "measured_sd",
                    "predicted",
                    "predicted_low",
                    "predicted_high",
                    "used_in_fit",
                    "z",
                ),
                grid={"cell_line": LINES, "readout": {"migration", "proliferation"}},
                keys=("condition",),
                rows=len(load_readouts().frame),  # one per row of the bundled read-outs
                complete=("measured", "predicted", "z"),
            )
        },
        ("migration",),
    ),
}


def test_every_subcommand_has_a_contract():
    assert sorted(_subcommands(build_parser())) == sorted(CONTRACTS)


@pytest.fixture(scope="module")
def blots(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "t47d_perk_pstat3.csv"
    load_blots(REFERENCE, cell_lines=["T47D"]).select(readouts=["pERK", "pSTAT3"]).to_csv(path)
    return path


@pytest.mark.parametrize(
    "command",
    [pytest.param(c, marks=pytest.mark.slow) if CONTRACTS[c].slow else c for c in CONTRACTS],
)
def test_command_writes_its_contract(command, demo_out, blots, tmp_path, request, capsys):
    contract = CONTRACTS[command]
    petab = None
    if command.startswith("petab ") and command != "petab export":
        shared = request.getfixturevalue("shared_petab")  # skips with its reason when absent
        petab = shared / "Boehm_JProteomeRes2014" / "Boehm_JProteomeRes2014.yaml"
    if command == "demo":
        out = demo_out
    else:
        out = tmp_path / "out"
        argv = contract.argv(out, Inputs(demo_out / "fit.json", blots, petab))
        assert main(argv) == 0, capsys.readouterr().err
        if command in ("fit", "select"):  # the report says how it was made
            report = (out / "report.md").read_text()
            assert f"paracrine {' '.join(argv)}" in report
            digest = hashlib.sha256(blots.read_bytes()).hexdigest()
            assert f"file SHA-256 `{digest}`" in report and "- seed 0" in report
        if contract.stdout:
            assert contract.stdout in capsys.readouterr().out
    written = {p.name for p in out.iterdir()} if out.is_dir() else set()
    assert written == contract.files, (
        f"extra {written - contract.files}, missing {contract.files - written}"
    )
    for name, table in contract.tables.items():
        check_table(out / name, table)
    for stem in contract.figures:
        check_figure(out, stem)
    for name in contract.files:
        path = out / name
        assert path.stat().st_size > 0, name
        if name.endswith(".json"):
            json.loads(path.read_text())
        if name.endswith(".md"):
            assert path.read_text().startswith("# "), name
    if command in ("fit", "demo"):
        fit = BlotFit.load(out / "fit.json")
        assert fit.result.n_starts == (2 if command == "fit" else DEMO_STARTS)
        assert "![fit](fit.png)" in (out / "report.md").read_text()
        params = pd.read_csv(out / "parameters.csv")
        assert list(params["parameter"]) == list(fit.problem.parameter_names)
        goodness = pd.read_csv(out / "goodness.csv")
        keys = ["cell_line", "readout", "condition", "il6_ng_ml", "vegf_ng_ml", "time_min"]
        data = fit.problem.data.frame
        # one row per (line, read-out, arm, time) of the data, its n the replicates there
        assert len(goodness) == data.groupby(keys).ngroups
        assert goodness["n"].sum() == len(data)
        profiled = {"fit": {"k_ras_vr"}, "demo": set()}[command]
        assert set(params.loc[params["interval"] == "profile", "parameter"]) == profiled
        for name in profiled:  # the interval's ends are where the profile crosses 1.92
            curve = pd.read_csv(out / "profiles.csv").query("parameter == @name")
            row = params.set_index("parameter").loc[name]
            x, d = curve["value"].to_numpy(), curve["delta_nllh"].to_numpy()
            best = row["log10_value"]
            for side, end in ((x > best, row["high_95"]), (x < best, row["low_95"])):
                xs, ds = x[side], d[side]
                if ds.max() < 1.92:  # never crosses: open towards the bound
                    assert end in (0.0, np.inf)
                    continue
                order = np.argsort(np.abs(xs - best))
                xs, ds = xs[order], ds[order]
                k = int(np.argmax(ds >= 1.92))
                x0, d0 = (best, 0.0) if k == 0 else (xs[k - 1], ds[k - 1])
                crossing = x0 + (1.92 - d0) * (xs[k] - x0) / (ds[k] - d0)
                assert np.log10(end) == pytest.approx(crossing, abs=0.01)
        combination = pd.read_csv(out / "combination.csv")
        # every quantity has data and fit, but the excess ratio, which its guard leaves empty
        # where the singles' excess is near zero (always at t = 0)
        guarded = combination["quantity"] == "excess_ratio"
        assert combination.loc[~guarded, ["data", "fit"]].notna().all().all()
        assert combination.loc[guarded & (combination["time_min"] == 0), "fit"].isna().all()
        assert combination.loc[guarded, "fit"].notna().mean() > 0.5
    if command == "petab fit":  # the simulation table reproduces the fit's nllh
        from paracrine.fitting import FitResult
        from paracrine.fitting.petab import load_petab

        result = FitResult.from_json(out / "fit.json")
        table = pd.read_csv(out / "simulation.tsv", sep="\t")
        problem = load_petab(petab)
        assert len(table) == problem.n_data
        assert table["measurement"].to_numpy() == pytest.approx(problem.spec.y)
        values = problem.fitted_values(result.x)
        assert problem.nllh_parameters(values) == pytest.approx(result.nllh, abs=1e-3)
        np.testing.assert_allclose(
            table["simulation"], problem.simulation_table(values)["simulation"], rtol=1e-6
        )
