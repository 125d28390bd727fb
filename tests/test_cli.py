"""The command line: every command writes its documented files, every flag is accepted by
every command that documents it, and every error is one line ``paracrine CMD: error: …`` with
exit status 2 (never a traceback). Also the :mod:`paracrine.reports` functions it calls, from
Python."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from paracrine import reports
from paracrine.cli import build_parser, main
from paracrine.data import load_blots
from paracrine.errors import InvalidInputError
from paracrine.fitting import BlotFit, BlotProblem, FitResult, load_petab
from tests.conftest import one_line_error, run_module

REFERENCE = "reference_blots_synthetic"
FEW = ["k_jak_act", "k_ras_vr", "k_erk_dephos", "k_stat3_dephos"]  # shared parameters only
#: Commands that fit, and the arguments each needs besides the flag under test.
FITTING = {
    "fit": ["fit"],
    "demo": ["demo"],
    "select": ["select"],
    "petab fit": ["petab", "fit", "problem.yaml"],
}
#: Every command with an --out folder, and the arguments it needs besides --out.
WRITING = {
    **FITTING,
    "simulate": ["simulate"],
    "petab export": ["petab", "export"],
}


@pytest.fixture
def boehm(shared_petab: Path) -> str:
    return str(shared_petab / "Boehm_JProteomeRes2014" / "Boehm_JProteomeRes2014.yaml")


# -- the parser -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(FITTING))
def test_every_fitting_command_spells_the_progress_flag_the_same(command):
    parser = build_parser()
    argv = FITTING[command]
    assert parser.parse_args(argv).progress is True  # on by default
    assert parser.parse_args([*argv, "--no-progress"]).progress is False
    assert parser.parse_args([*argv, "--progress"]).progress is True


@pytest.mark.parametrize("command", list(FITTING))
def test_every_fitting_command_takes_workers_and_scheduler(command):
    args = build_parser().parse_args([*FITTING[command], "--workers", "3", "--scheduler", "a:1"])
    assert (args.workers, args.scheduler) == (3, "a:1")


@pytest.mark.parametrize("command", ["fit", "demo", "petab fit"])
def test_fits_of_one_problem_take_a_checkpoint(command):
    args = build_parser().parse_args([*FITTING[command], "--checkpoint", "c.jsonl"])
    assert args.checkpoint == "c.jsonl"


def test_petab_fit_out_is_optional():
    parser = build_parser()
    assert parser.parse_args(FITTING["petab fit"]).out is None
    assert parser.parse_args([*FITTING["petab fit"], "--out", "d"]).out == "d"


def test_petab_needs_a_subcommand(capsys):
    with pytest.raises(SystemExit, match="2"):
        main(["petab"])
    assert "SUBCOMMAND" in capsys.readouterr().err


# -- errors before any work: one line, exit status 2 --------------------------------------------


@pytest.mark.parametrize("command", list(WRITING))
def test_a_file_in_the_way_of_out_is_one_line_error(command, tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    assert main([*WRITING[command], "--out", str(blocker)]) == 2
    message = one_line_error(capsys, command)
    assert message == f"--out {str(blocker)!r}: expected a folder, received a file"


def test_out_below_a_file_cannot_be_created(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "sub"
    assert main(["fit", "--out", str(target)]) == 2
    assert one_line_error(capsys, "fit").startswith(f"--out {str(target)!r}: cannot create")


def test_an_unwritable_out_folder_is_one_line_error(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root writes anyway: make the write probe fail instead
        from paracrine.cli import _common

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(_common.tempfile, "NamedTemporaryFile", refuse)
    try:
        assert main(["simulate", "--out", str(folder)]) == 2
    finally:
        folder.chmod(0o700)
    message = one_line_error(capsys, "simulate")
    assert message == (
        f"--out {str(folder)!r}: expected a writable folder, cannot write into it "
        "(Permission denied)"
    )


@pytest.mark.parametrize("command", ["fit", "select", "petab fit"])
def test_workers_and_scheduler_exclude_each_other(command, capsys):
    assert main([*FITTING[command], "--workers", "2", "--scheduler", "tcp://h:1"]) == 2
    assert one_line_error(capsys, command) == (
        "--workers 2 and --scheduler 'tcp://h:1' exclude each other: the Dask cluster decides "
        "the number of workers, give one of them"
    )


@pytest.mark.parametrize("command", ["fit", "petab fit"])
def test_workers_below_one_is_one_line_error(command, capsys):
    assert main([*FITTING[command], "--workers", "0"]) == 2
    assert one_line_error(capsys, command) == "--workers: expected an integer ≥ 1, received 0"


@pytest.mark.parametrize("command", list(FITTING))
def test_zero_starts_is_one_line_error(command, capsys):
    assert main([*FITTING[command], "--starts", "0"]) == 2
    assert one_line_error(capsys, command) == "--starts: expected an integer ≥ 1, received 0"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("nonsense", "missing port number"),
        ("foo://host:1", "unknown address scheme 'foo'"),
        ("tcp://127.0.0.1:1", "Timed out trying to connect"),  # nothing listens on port 1
    ],
)
@pytest.mark.parametrize("command", ["fit", "petab fit"])
def test_a_bad_scheduler_address_is_one_line_error(command, address, reason, tmp_path, capsys):
    # the probe waits at most paracrine.cli._common.SCHEDULER_TIMEOUT_S (5 s)
    status = main([*FITTING[command], "--scheduler", address, "--out", str(tmp_path)])
    assert status == 2
    message = one_line_error(capsys, command)
    assert message.startswith(
        f"--scheduler {address!r}: expected the address of a running Dask scheduler"
    )
    assert reason in message


def test_a_folder_as_checkpoint_is_one_line_error(tmp_path, capsys):
    assert main(["fit", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "fit") == (
        f"--checkpoint {str(tmp_path)!r}: expected a file, received a folder"
    )


def test_a_binary_checkpoint_is_one_line_error(tmp_path, capsys):
    checkpoint = tmp_path / "c.jsonl"
    checkpoint.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert main(["petab", "fit", "p.yaml", "--checkpoint", str(checkpoint)]) == 2
    assert one_line_error(capsys, "petab") == (
        f"--checkpoint {str(checkpoint)!r}: expected a paracrine checkpoint (JSON lines), "
        "received a file that is not text"
    )


def test_a_checkpoint_below_a_file_is_one_line_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    checkpoint = tmp_path / "file" / "c.jsonl"
    assert main(["fit", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "fit") == (
        f"--checkpoint {str(checkpoint)!r}: folder {str(tmp_path / 'file')!r}: expected a "
        "folder, received a file"
    )


def test_an_operating_system_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    from paracrine.cli import petab

    def full_disk(args):
        raise OSError(28, "No space left on device", "x.json")

    monkeypatch.setattr(petab, "run_nllh", full_disk)
    assert main(["petab", "nllh", "p.yaml"]) == 2
    assert one_line_error(capsys, "petab") == "[Errno 28] No space left on device: 'x.json'"


def test_run_fit_raises_for_zero_starts():
    from paracrine.cli.petab import run_fit

    args = argparse.Namespace(
        problem="unused.yaml",
        starts=0,
        seed=0,
        workers=1,
        scheduler=None,
        checkpoint=None,
        progress=False,
        out=None,
    )
    with pytest.raises(InvalidInputError, match="--starts: expected an integer ≥ 1, received 0"):
        run_fit(args)


# -- paracrine fit / demo / select ---------------------------------------------------------------


def test_cli_fit_errors_are_one_line(tmp_path):
    proc = run_module("fit", "--variant", "nul", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith(
        "paracrine fit: error: unknown variant 'nul' (known: cooperation_saturation, full,"
    )
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_module("fit", "--starts", "0", "--out", str(tmp_path))
    assert proc.returncode == 2 and "--starts: expected an integer ≥ 1, received 0" in proc.stderr


def test_a_checkpoint_that_is_not_json_is_one_line_error(tmp_path, capsys):
    checkpoint = tmp_path / "c.jsonl"
    checkpoint.write_text("not a checkpoint\n")
    argv = ["fit", "--data", REFERENCE, "--starts", "1", "--workers", "1", "--no-progress"]
    assert main([*argv, "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "fit").startswith(f"checkpoint {checkpoint}: line 1 is not JSON")


# -- paracrine simulate ---------------------------------------------------------------------------


def test_simulate_writes_the_table_and_figures(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--cell-line", "T47D", "--il6", "10", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "independent: four arms at IL-6 10 and VEGF 50 ng/mL\n" in printed
    assert "wrote" in printed
    frame = pd.read_csv(out / "simulation.csv")
    assert list(frame.columns) == ["condition", "cell_line", "time_min", "observable", "value"]
    assert set(frame["condition"]) == {"control", "IL-6", "VEGF", "IL-6+VEGF"}  # no "[T47D]"
    assert set(frame["cell_line"]) == {"T47D"}
    assert (out / "timecourses.png").stat().st_size > 0
    assert (out / "timecourses.svg").stat().st_size > 0


def test_simulate_rejects_a_negative_dose(tmp_path, capsys):
    assert main(["simulate", "--vegf", "-1", "--out", str(tmp_path)]) == 2
    assert one_line_error(capsys, "simulate") == (
        "--vegf: expected a finite dose >= 0 ng/mL, received -1"
    )


# -- paracrine petab -----------------------------------------------------------------------------


def test_nllh_prints_one_line_number_last(boehm, capsys):
    assert main(["petab", "nllh", boehm]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert float(lines[0].split()[-1]) == pytest.approx(138.2220, abs=1e-3)


def test_nllh_of_a_problem_with_priors_prints_both(shared_petab, capsys):
    yaml = shared_petab / "Schwen_PONE2014" / "Schwen_PONE2014.yaml"
    assert main(["petab", "nllh", str(yaml)]) == 0
    first, second = capsys.readouterr().out.strip().splitlines()
    # the likelihood alone is the collection's reference; the posterior adds the priors
    assert float(first.split()[-1]) == pytest.approx(943.9993, abs=1e-3)
    assert "objective priors of 6 parameters" in second
    assert float(second.split()[-1]) == pytest.approx(956.518434, abs=1e-3)


def test_missing_problem_is_one_line_error(tmp_path, capsys):
    assert main(["petab", "nllh", str(tmp_path / "none.yaml")]) == 2
    assert one_line_error(capsys, "petab").startswith("PEtab problem file")


@pytest.fixture
def blas_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("blas_env")
def test_petab_fit_prints_best_wall_time_and_hits(boehm, capsys):
    argv = ["petab", "fit", boehm, "--starts", "3", "--seed", "1", "--workers", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "best nllh" in out
    assert "wall time" in out
    assert "starts within 0.1 of the best:" in out
    assert " of 3" in out
    # the engine limits BLAS threads inside each optimisation; the command line leaves the
    # environment alone
    assert not {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"} & set(os.environ)


@pytest.mark.parametrize(
    ("gradient", "route"),
    [("auto", "sensitivities"), ("sensitivities", "sensitivities"), ("fd", None)],
)
def test_petab_fit_says_how_it_differentiates(gradient, route, boehm, tmp_path, capsys):
    """Boehm translates and its sensitivities agree with finite differences and cost little
    more: auto picks them, before the fit, and the result records the route."""
    out = tmp_path / "o"
    argv = ["petab", "fit", boehm, "--starts", "1", "--workers", "1", "--no-progress"]
    assert main([*argv, "--gradient", gradient, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    result = FitResult.from_json(out / "fit.json")
    if route is None:
        assert "Jacobian by" not in printed
        assert result.metadata["gradient"] == "finite differences"
    else:
        assert f"Boehm_JProteomeRes2014: Jacobian by {route} (" in printed.splitlines()[0]
        assert result.metadata["gradient"] == route


def best_nllh(stdout: str) -> float:
    line = next(ln for ln in stdout.splitlines() if ": best nllh " in ln)
    return float(line.split(": best nllh ", 1)[1].split()[0])


def test_petab_fit_out_writes_the_result_and_a_report(boehm, tmp_path, capsys):
    out = tmp_path / "boehm"
    argv = ["petab", "fit", boehm, "--starts", "2", "--workers", "1", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.strip().endswith(f"wrote {out / 'fit.json'}, {out / 'report.md'} and figures")
    result = FitResult.from_json(out / "fit.json")
    assert len(result.starts) == 2
    assert result.nllh == pytest.approx(best_nllh(printed), abs=1e-6)
    report = (out / "report.md").read_text()
    assert report.startswith("# paracrine fit — PEtab problem `Boehm_JProteomeRes2014`")
    assert "[[Fit Statistics]]" in report


def test_petab_fit_resumes_from_a_checkpoint_and_refuses_another_fits(boehm, tmp_path, capsys):
    checkpoint = tmp_path / "deep" / "boehm.jsonl"  # its folder is created
    argv = ["petab", "fit", boehm, "--starts", "2", "--workers", "1", "--no-progress"]
    assert main([*argv, "--checkpoint", str(checkpoint)]) == 0
    first = capsys.readouterr().out
    lines = checkpoint.read_text().splitlines()
    assert len(lines) == 3  # header + one line per start
    assert json.loads(lines[0])["seed"] == 0
    assert main([*argv, "--checkpoint", str(checkpoint)]) == 0  # every start already done
    assert best_nllh(capsys.readouterr().out) == best_nllh(first)
    assert len(checkpoint.read_text().splitlines()) == 3

    assert main([*argv, "--seed", "1", "--checkpoint", str(checkpoint)]) == 2
    message = one_line_error(capsys, "petab")
    assert message.startswith(f"checkpoint {checkpoint} belongs to another fit (seed:")


def test_petab_fit_on_a_dask_scheduler_gives_the_local_result(boehm, capsys):
    distributed = pytest.importorskip("distributed")

    argv = ["petab", "fit", boehm, "--starts", "2", "--seed", "3", "--no-progress"]
    assert main([*argv, "--workers", "1"]) == 0
    local = best_nllh(capsys.readouterr().out)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        assert main([*argv, "--scheduler", cluster.scheduler_address]) == 0
    assert best_nllh(capsys.readouterr().out) == local


def test_cli_export_writes_the_problem(tmp_path, capsys):
    out = tmp_path / "petab"
    assert main(["petab", "export", "--variant", "stat3_vegfr2_expression", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(out / "paracrine_stat3_vegfr2_expression.yaml")
    assert sorted(p.name for p in out.iterdir()) == [
        "conditions.tsv",
        "measurements.tsv",
        "observables.tsv",
        "paracrine_stat3_vegfr2_expression.xml",
        "paracrine_stat3_vegfr2_expression.yaml",
        "parameters.tsv",
    ]


def unfitted(problem: BlotProblem, x: np.ndarray, **fields) -> BlotFit:
    """A blot fit at *x* whose starts never ran (no optimisation; no best start)."""
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
        **{"n_starts": 0, "seed": 0, **fields},
    )
    return BlotFit(problem, result)


def saved_fit(path: Path) -> tuple[Path, BlotProblem, np.ndarray]:
    """A blot fit saved as `paracrine fit` saves it, with a seeded best point (no fitting)."""
    problem = BlotProblem("independent", REFERENCE, free=FEW)
    x = np.random.default_rng(3).uniform(problem.lower, problem.upper)
    return unfitted(problem, x).save(path), problem, x


def test_cli_export_of_a_saved_fit_uses_its_parameters(tmp_path, capsys):
    fit_file, problem, x = saved_fit(tmp_path / "fit.json")
    assert main(["petab", "export", "--fit", str(fit_file), "--out", str(tmp_path / "p")]) == 0
    yaml_file = Path(capsys.readouterr().out.strip())
    imported = load_petab(yaml_file)
    np.testing.assert_allclose(imported.nominal_x[: len(x)], x, rtol=0, atol=1e-12)
    expected = problem.nllh(x, precise=True) - problem.regime_penalty(x)  # not in PEtab v1
    assert imported.nllh_nominal() == pytest.approx(expected, abs=1e-3, rel=0)

    argv = ["petab", "export", "--fit", str(fit_file), "--variant", "full", "--out"]
    argv.append(str(tmp_path / "x"))
    assert main(argv) == 2
    assert one_line_error(capsys, "petab") == (
        "--variant 'full' and --fit exclude each other: the fit fixes the variant"
    )
    assert not (tmp_path / "x").exists()


# -- paracrine.reports from Python ----------------------------------------------------------------


@pytest.fixture(scope="module")
def unfinished_fit() -> BlotFit:
    """A blot fit of the T47D reference data whose 4 starts never ran (no best start)."""
    problem = BlotProblem("independent", load_blots(REFERENCE, cell_lines=["T47D"]), free=FEW)
    x = (problem.lower + problem.upper) / 2
    return unfitted(
        problem, x, n_starts=4, seed=7, metadata={"dataset": "reference_blots_synthetic.csv"}
    )


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
        "report.html",
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
    fit_json, report, html, *figures = reports.write_multistart_outputs(
        result, tmp_path, title="toy"
    )
    assert html.name == "report.html"
    # no start finished: no parameters to draw, and no fit figure without a problem
    assert sorted(f.name for f in figures) == ["waterfall.png", "waterfall.svg"]
    again = FitResult.from_json(fit_json)
    np.testing.assert_array_equal(again.x, result.x)
    assert again.parameter_names == result.parameter_names
    text = Path(report).read_text(encoding="utf-8")
    assert text.startswith("# paracrine fit — toy\n\n- best nllh")
    assert reports.text_report(result) in text
