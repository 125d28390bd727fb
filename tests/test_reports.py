"""paracrine.reports from Python: the folders the command line writes, without the command line
(fits built by hand here, so nothing is optimised)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paracrine import reports
from paracrine.fitting import BlotFit, BlotProblem, FitResult

FEW = ["k_jak_act", "k_ras_vr"]


@pytest.fixture(scope="module")
def unfinished_fit() -> BlotFit:
    """A blot fit of the T47D reference data whose starts never ran (no best start)."""
    from paracrine.data import load_blots

    problem = BlotProblem(
        "independent", load_blots("reference_blots_synthetic", cell_lines=["T47D"]), free=FEW
    )
    x = (problem.lower + problem.upper) / 2
    result = FitResult(
        parameter_names=problem.parameter_names,
        lower=problem.lower,
        upper=problem.upper,
        x=x,
        values=problem.to_natural(x),
        covar=None,
        starts=[],
        n_data=problem.n_data,
        n_inner_parameters=problem.n_inner_parameters,
        n_starts=4,
        seed=7,
        metadata={"dataset": "reference_blots_synthetic.csv"},
    )
    return BlotFit(problem, result)


def test_text_and_html_reports_are_what_the_result_shows(unfinished_fit):
    result = unfinished_fit.result
    text = reports.text_report(result)
    assert text == result.report()
    assert text.startswith("[[Fit Statistics]]")
    assert "0 of 4 (seed 7)" in text
    assert "k_jak_act:" in text
    html = reports.html_report(result)
    assert html == result._repr_html_()
    assert html.startswith("<h4>Fit Statistics</h4><table>")


def test_write_fit_outputs_without_a_best_start(unfinished_fit, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    out = tmp_path / "new" / "fit"  # created
    written = reports.write_fit_outputs(unfinished_fit, out, command_line="python script.py")
    names = [p.name for p in written]
    assert names == [
        "fit.json",
        "waterfall.png",
        "waterfall.svg",
        "parameters.png",
        "parameters.svg",
        "report.md",
    ]  # no time courses, fit or residual figures without a best start
    assert all(p.parent == out and p.stat().st_size > 0 for p in written)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Command: `python script.py`." in report
    assert "**SYNTHETIC**" in report
    assert "![fit](fit.png)" not in report
    again = BlotFit.load(out / "fit.json")
    assert again.result.n_starts == 4
    assert again.problem.parameter_names == unfinished_fit.problem.parameter_names


def test_fit_report_markdown_states_what_was_given(unfinished_fit):
    text = reports.fit_report_markdown(unfinished_fit, elapsed_s=3.25)
    first = text.splitlines()[2]
    assert first.startswith("Data: `reference_blots_synthetic.csv` (")
    assert first.endswith("conditions). total 3.2 s.")
    assert "Command:" not in reports.fit_report_markdown(unfinished_fit)


def test_write_multistart_outputs_round_trips_the_result(unfinished_fit, tmp_path):
    result = unfinished_fit.result
    fit_json, report = reports.write_multistart_outputs(result, tmp_path, title="toy")
    again = FitResult.from_json(fit_json)
    np.testing.assert_array_equal(again.x, result.x)
    assert again.parameter_names == result.parameter_names
    text = Path(report).read_text(encoding="utf-8")
    assert text.startswith("# paracrine fit — toy\n\n- best nllh")
    assert reports.text_report(result) in text
