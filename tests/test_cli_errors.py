"""The command line never shows a traceback (issue 12): every hostile input below gives one
line on stderr naming the flag or file, what was expected and what was received, with exit
status 2; CVODE's own log lines stay off the terminal; Ctrl-C ends a fit by one path (exit
status 130: nothing written, or the finished starts kept in a checkpoint to resume from);
and the options are spelled the same in every command."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from paracrine.cli import _common, build_parser, main
from paracrine.errors import InvalidInputError
from paracrine.fitting import FitResult
from paracrine.testing import ChainProblem
from tests.conftest import one_line_error, run_module

#: Every command with an --out folder and what it needs besides --out.
WRITING = {
    "simulate": ["simulate"],
    "fit": ["fit"],
    "demo": ["demo"],
    "petab export": ["petab", "export"],
}


# -- --out -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(WRITING))
def test_out_at_dev_null_is_one_line_error(command, capsys):
    assert main([*WRITING[command], "--out", os.devnull]) == 2
    assert one_line_error(capsys, command) == (
        f"--out {os.devnull!r}: expected a folder, received a file"
    )


@pytest.mark.parametrize("command", list(WRITING))
def test_out_at_a_file_is_one_line_error(command, tmp_path, capsys):
    blocker = tmp_path / "taken.txt"
    blocker.write_text("x")
    assert main([*WRITING[command], "--out", str(blocker)]) == 2
    assert one_line_error(capsys, command) == (
        f"--out {str(blocker)!r}: expected a folder, received a file"
    )


@pytest.mark.parametrize("command", list(WRITING))
def test_out_in_an_unwritable_place_is_one_line_error(command, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root writes anyway: make the write probe fail instead

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(_common.tempfile, "NamedTemporaryFile", refuse)
    try:
        assert main([*WRITING[command], "--out", str(folder / "new")]) == 2
    finally:
        folder.chmod(0o700)
    message = one_line_error(capsys, command)
    assert message.startswith(f"--out {str(folder / 'new')!r}: ")
    assert "(Permission denied)" in message
    assert not (folder / "new").exists()  # the check leaves nothing behind


def test_out_where_no_folder_can_be_made_is_one_line_error(capsys):
    # /proc refuses new entries even to root
    assert main(["simulate", "--out", "/proc/paracrine-test/out"]) == 2
    assert one_line_error(capsys, "simulate").startswith(
        "--out '/proc/paracrine-test/out': cannot create the folder ("
    )


def test_a_failed_check_leaves_no_out_folder(tmp_path, capsys):
    out = tmp_path / "a" / "b"
    assert main(["fit", "--seed", "-1", "--out", str(out)]) == 2
    capsys.readouterr()
    argv = ["simulate", "--cell-line", "nowhere", "--out", str(out)]
    assert main(argv) == 2  # fails after the folder check, before any result
    assert "unknown cell line 'nowhere'" in one_line_error(capsys, "simulate")
    assert not (tmp_path / "a").exists()


# -- --seed ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["fit"], ["demo"], ["select"], ["petab", "fit", "p.yaml"]],
    ids=["fit", "demo", "select", "petab fit"],
)
def test_a_negative_seed_is_one_line_error(argv, tmp_path, capsys):
    assert main([*argv, "--seed", "-1", "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, argv[0]) == "--seed: expected an integer >= 0, received -1"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("k_jak_actt", "unknown --profile parameter 'k_jak_actt' — did you mean 'k_jak_act'"),
        (",", "--profile: expected parameter names separated by commas, or 'all', received ','"),
    ],
)
def test_a_bad_profile_name_is_refused_before_fitting(
    profile, message, tmp_path, capsys, monkeypatch
):
    from paracrine import fitting

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before --profile was checked")

    monkeypatch.setattr(fitting, "fit_blots", no_fit)
    assert main(["fit", "--profile", profile, "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "fit").startswith(message)
    assert not (tmp_path / "o").exists()


# -- --checkpoint ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["fit"], ["petab", "fit", "p.yaml"]], ids=["fit", "petab"])
def test_a_checkpoint_of_random_bytes_is_one_line_error(command, tmp_path, capsys):
    checkpoint = tmp_path / "c.jsonl"
    checkpoint.write_bytes(np.random.default_rng(0).bytes(256))
    assert main([*command, "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, command[0]) == (
        f"--checkpoint {str(checkpoint)!r}: expected a paracrine checkpoint (JSON lines), "
        "received a file that is not text"
    )


@pytest.mark.parametrize("command", [["fit"], ["petab", "fit", "p.yaml"]], ids=["fit", "petab"])
def test_a_checkpoint_that_is_a_folder_is_one_line_error(command, tmp_path, capsys):
    assert main([*command, "--checkpoint", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, command[0]) == (
        f"--checkpoint {str(tmp_path)!r}: expected a file, received a folder"
    )


def test_an_unwritable_checkpoint_is_one_line_error(tmp_path, capsys, monkeypatch):
    checkpoint = tmp_path / "c.jsonl"
    checkpoint.write_text("")
    checkpoint.chmod(0o400)
    if os.access(checkpoint, os.W_OK):  # root: make opening it for appending fail instead
        real_open = Path.open

        def refuse(self, mode="r", *args, **kwargs):
            if self == checkpoint and "a" in mode:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, mode, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refuse)
    argv = ["fit", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert one_line_error(capsys, "fit") == (
        f"--checkpoint {str(checkpoint)!r}: expected a file that can be read and appended to "
        "(Permission denied)"
    )


def test_a_checkpoint_in_an_unwritable_folder_is_one_line_error(tmp_path, capsys):
    checkpoint = Path("/proc/paracrine-test.jsonl")  # /proc takes no new file, even from root
    assert main(["fit", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "fit").startswith(
        f"--checkpoint {str(checkpoint)!r}: folder '/proc': expected a writable folder"
    )


# -- petab export --fit ----------------------------------------------------------------------


def test_export_of_a_binary_fit_is_one_line_error(tmp_path, capsys):
    binary = tmp_path / "fit.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01")
    assert main(["petab", "export", "--fit", str(binary), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "petab") == (
        f"--fit {str(binary)!r}: expected a blot fit saved by 'paracrine fit' (fit.json, "
        "text), received a binary file"
    )
    assert not (tmp_path / "o").exists()


def test_export_of_a_json_that_is_no_fit_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "fit.json"
    bad.write_text('{"a": 1}')
    assert main(["petab", "export", "--fit", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "petab").startswith(
        f"--fit {str(bad)!r}: expected a blot fit saved by 'paracrine fit' (fit.json), received "
        "a file that cannot be read as one"
    )


# -- PEtab problems --------------------------------------------------------------------------


@pytest.fixture
def boehm_copy(shared_petab: Path, tmp_path: Path) -> Path:
    """A copy of Boehm_JProteomeRes2014 to damage; returns its YAML file."""
    folder = tmp_path / "boehm"
    shutil.copytree(shared_petab / "Boehm_JProteomeRes2014", folder)
    return folder / "Boehm_JProteomeRes2014.yaml"


@pytest.mark.parametrize("sub", [["nllh"], ["fit", "--starts", "1"]], ids=["nllh", "fit"])
def test_a_binary_problem_file_is_one_line_error(sub, tmp_path, capsys):
    problem = tmp_path / "problem.yaml"
    problem.write_bytes(np.random.default_rng(1).bytes(300))
    assert main(["petab", sub[0], str(problem), *sub[1:]]) == 2
    assert one_line_error(capsys, "petab") == (
        f"PROBLEM.yaml {str(problem)!r}: expected a PEtab problem file (YAML text), received a "
        "binary file"
    )


@pytest.mark.parametrize("sub", [["nllh"], ["fit", "--starts", "1"]], ids=["nllh", "fit"])
def test_a_problem_that_is_a_folder_is_one_line_error(sub, tmp_path, capsys):
    assert main(["petab", sub[0], str(tmp_path), *sub[1:]]) == 2
    assert one_line_error(capsys, "petab") == (
        f"PROBLEM.yaml {str(tmp_path)!r}: expected a PEtab problem file (YAML), received a folder"
    )


def test_text_in_the_measurement_column_is_one_line_error(boehm_copy, capsys):
    table = boehm_copy.parent / "measurementData_Boehm_JProteomeRes2014.tsv"
    lines = table.read_text().splitlines()
    header = lines[0].split("\t")
    column = header.index("measurement")
    cells = lines[3].split("\t")
    cells[column] = "high"
    lines[3] = "\t".join(cells)
    table.write_text("\n".join(lines) + "\n")
    for argv in (["nllh"], ["fit", "--starts", "1", "--no-progress"]):
        assert main(["petab", argv[0], str(boehm_copy), *argv[1:]]) == 2
        assert one_line_error(capsys, "petab") == (
            f"PROBLEM.yaml {str(boehm_copy)!r}: measurement file "
            "'measurementData_Boehm_JProteomeRes2014.tsv', column 'measurement': expected "
            "numbers, received text in 1 row(s) (line 4: 'high')"
        )


def test_a_problem_without_its_parameter_file_is_one_line_error(boehm_copy, capsys):
    (boehm_copy.parent / "parameters_Boehm_JProteomeRes2014.tsv").unlink()
    for argv in (["nllh"], ["fit", "--starts", "1", "--no-progress"]):
        assert main(["petab", argv[0], str(boehm_copy), *argv[1:]]) == 2
        assert one_line_error(capsys, "petab") == (
            f"PROBLEM.yaml {str(boehm_copy)!r}: parameter_file "
            "'parameters_Boehm_JProteomeRes2014.tsv': expected a file (relative to the YAML's "
            "folder), received a path that does not exist"
        )


@pytest.mark.parametrize(
    ("file", "key", "kind"),
    [
        ("measurementData_Boehm_JProteomeRes2014.tsv", "measurement_files", "a tab-separated"),
        ("parameters_Boehm_JProteomeRes2014.tsv", "parameter_file", "a tab-separated"),
        ("model_Boehm_JProteomeRes2014.xml", "sbml_files", "SBML (XML text)"),
    ],
)
def test_a_binary_table_of_a_problem_is_one_line_error(boehm_copy, capsys, file, key, kind):
    (boehm_copy.parent / file).write_bytes(np.random.default_rng(2).bytes(400))
    assert main(["petab", "nllh", str(boehm_copy)]) == 2
    message = one_line_error(capsys, "petab")
    assert message.startswith(f"PROBLEM.yaml {str(boehm_copy)!r}: {key} {file!r}: expected {kind}")
    assert message.endswith("received a binary file")


def test_a_problem_file_with_a_yaml_syntax_error_is_one_line_error(tmp_path, capsys):
    problem = tmp_path / "p.yaml"
    problem.write_text("format_version: 1\nproblems: [1,\n")
    assert main(["petab", "nllh", str(problem)]) == 2
    assert one_line_error(capsys, "petab") == (
        f"PROBLEM.yaml {str(problem)!r}: expected valid YAML, received a syntax error at line 3, "
        "column 1 (expected the node content, but found '<stream end>')"
    )


# -- --scheduler where nothing listens -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv", [["fit"], ["petab", "fit", "p.yaml"]], ids=["fit", "petab"])
def test_a_scheduler_where_nothing_listens_fails_within_the_stated_timeout(argv, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.perf_counter()
    assert main([*argv, "--scheduler", address, "--out", str(tmp_path / "o")]) == 2
    elapsed = time.perf_counter() - t0
    message = one_line_error(capsys, argv[0])
    assert message.startswith(
        f"--scheduler {address!r}: expected the address of a running Dask scheduler"
    )
    assert f"after {_common.SCHEDULER_TIMEOUT_S} s" in message
    assert elapsed < _common.SCHEDULER_TIMEOUT_S + 5
    assert not (tmp_path / "o").exists()


# -- CVODE's own log lines -------------------------------------------------------------------


def test_a_failing_integration_prints_the_project_message_not_cvodes(tmp_path):
    # doses this large make CVODE fail its error test (it logs "[ERROR][rank 0]…cvodes.c…")
    proc = run_module(
        "simulate",
        "--cell-line",
        "MCF-7",
        "--il6",
        "1e30",
        "--vegf",
        "1e30",
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("paracrine simulate: error: integration of condition ")
    assert "[ERROR]" not in proc.stderr + proc.stdout
    assert "[WARNING]" not in proc.stderr + proc.stdout
    assert "\x1b[" not in proc.stderr  # no ANSI colour codes
    assert not (tmp_path / "o").exists()


def test_quiet_integrator_log_respects_and_restores_the_environment(monkeypatch):
    monkeypatch.delenv("SUNLOGGER_ERROR_FILENAME", raising=False)
    monkeypatch.setenv("SUNLOGGER_WARNING_FILENAME", "mine.log")
    with _common.quiet_integrator_log():
        assert os.environ["SUNLOGGER_ERROR_FILENAME"] == os.devnull
        assert os.environ["SUNLOGGER_WARNING_FILENAME"] == "mine.log"
    assert "SUNLOGGER_ERROR_FILENAME" not in os.environ
    assert os.environ["SUNLOGGER_WARNING_FILENAME"] == "mine.log"


# -- Ctrl-C ----------------------------------------------------------------------------------


class _ChainAsPetab(ChainProblem):
    """The fault-injection chain problem dressed as what ``petab fit`` loads."""

    name = "chain"

    def configure_for_fitting(self) -> dict:
        return {}


@pytest.fixture
def chain_petab(monkeypatch):
    """``paracrine petab fit`` fits the (fast) chain problem, whatever file it is given."""
    from paracrine.cli import petab

    monkeypatch.setattr(petab, "load_problem", lambda path: _ChainAsPetab.simulate_data(seed=1))


def interrupt_at_start(monkeypatch, n: int) -> None:
    """Ctrl-C (KeyboardInterrupt) when the engine begins its *n*-th start (1-based)."""
    from paracrine.fitting import _executors

    real = _executors.optimize_start
    calls = {"n": 0}

    def optimize_start(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_executors, "optimize_start", optimize_start)


PETAB_FIT = ["petab", "fit", "chain.yaml", "--starts", "4", "--workers", "1", "--no-progress"]


def interrupted_line(capsys, command: str = "petab") -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    prefix = f"paracrine {command}: "
    assert err.startswith(prefix), err
    return err[len(prefix) :]


@pytest.mark.usefixtures("chain_petab")
def test_ctrl_c_before_any_start_finished_writes_nothing(tmp_path, capsys, monkeypatch):
    interrupt_at_start(monkeypatch, 1)
    out = tmp_path / "out"
    assert main([*PETAB_FIT, "--out", str(out)]) == 130
    assert interrupted_line(capsys) == "interrupted before any start finished; nothing written"
    assert not out.exists()


@pytest.mark.usefixtures("chain_petab")
def test_ctrl_c_removes_a_checkpoint_it_created_empty(tmp_path, capsys, monkeypatch):
    interrupt_at_start(monkeypatch, 1)
    checkpoint = tmp_path / "c.jsonl"
    assert main([*PETAB_FIT, "--checkpoint", str(checkpoint)]) == 130
    assert interrupted_line(capsys) == "interrupted before any start finished; nothing written"
    assert not checkpoint.exists()


@pytest.mark.usefixtures("chain_petab")
def test_ctrl_c_keeps_the_finished_starts_and_the_fit_resumes(tmp_path, capsys, monkeypatch):
    interrupt_at_start(monkeypatch, 3)
    out = tmp_path / "out"
    assert main([*PETAB_FIT, "--out", str(out)]) == 130
    checkpoint = out / "checkpoint.jsonl"
    assert interrupted_line(capsys) == (
        f"interrupted: 2 of 4 starts kept; resume with --checkpoint {checkpoint}"
    )
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.jsonl"]
    assert len(checkpoint.read_text().splitlines()) == 1 + 2  # header and two starts

    monkeypatch.undo()  # no more interrupts (and the real loader back) ...
    from paracrine.cli import petab

    monkeypatch.setattr(petab, "load_problem", lambda path: _ChainAsPetab.simulate_data(seed=1))
    assert main([*PETAB_FIT, "--out", str(out), "--checkpoint", str(checkpoint)]) == 0
    assert "starts within 0.1 of the best" in capsys.readouterr().out
    result = FitResult.from_json(out / "fit.json")
    assert len(result.starts) == 4 and not result.interrupted
    assert len(checkpoint.read_text().splitlines()) == 1 + 4


@pytest.mark.usefixtures("chain_petab")
def test_ctrl_c_does_not_overwrite_an_earlier_checkpoint(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "checkpoint.jsonl").write_text("earlier\n")
    interrupt_at_start(monkeypatch, 2)
    assert main([*PETAB_FIT, "--out", str(out)]) == 130
    assert interrupted_line(capsys) == (
        f"interrupted: 1 of 4 starts kept; resume with --checkpoint {out / 'checkpoint-2.jsonl'}"
    )
    assert (out / "checkpoint.jsonl").read_text() == "earlier\n"


def test_ctrl_c_without_out_keeps_the_checkpoint_in_a_temporary_folder(capsys, monkeypatch):
    from paracrine.cli import petab

    monkeypatch.setattr(petab, "load_problem", lambda path: _ChainAsPetab.simulate_data(seed=1))
    interrupt_at_start(monkeypatch, 3)
    assert main(PETAB_FIT) == 130
    line = interrupted_line(capsys)
    assert line.startswith("interrupted: 2 of 4 starts kept; resume with --checkpoint ")
    kept = Path(line.rsplit(" ", 1)[1])
    try:
        assert kept.is_file() and len(kept.read_text().splitlines()) == 3
    finally:
        shutil.rmtree(kept.parent)


@pytest.mark.usefixtures("chain_petab")
def test_ctrl_c_with_a_given_checkpoint_names_it(tmp_path, capsys, monkeypatch):
    interrupt_at_start(monkeypatch, 2)
    checkpoint = tmp_path / "mine.jsonl"
    out = tmp_path / "out"
    argv = [*PETAB_FIT, "--checkpoint", str(checkpoint), "--out", str(out)]
    assert main(argv) == 130
    assert interrupted_line(capsys) == (
        f"interrupted: 1 of 4 starts kept; resume with --checkpoint {checkpoint}"
    )
    assert not out.exists()  # the checkpoint holds what was kept


@pytest.mark.usefixtures("chain_petab")
def test_ctrl_c_while_writing_takes_the_same_path(tmp_path, capsys, monkeypatch):
    from paracrine import reports

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reports, "write_multistart_outputs", interrupted)
    out = tmp_path / "out"
    assert main([*PETAB_FIT, "--out", str(out)]) == 130
    assert interrupted_line(capsys) == (
        f"interrupted: 4 of 4 starts kept; resume with --checkpoint {out / 'checkpoint.jsonl'}"
    )


def test_ctrl_c_in_a_blot_fit_before_any_start_writes_nothing(tmp_path, capsys, monkeypatch):
    interrupt_at_start(monkeypatch, 1)
    out = tmp_path / "out"
    argv = ["fit", "--starts", "2", "--workers", "1", "--no-progress", "--out", str(out)]
    assert main(argv) == 130
    assert interrupted_line(capsys, "fit") == (
        "interrupted before any start finished; nothing written"
    )
    assert not out.exists()


def test_a_real_sigint_stops_a_selection_and_writes_nothing(tmp_path, capsys, monkeypatch):
    """SIGINT inside ``stop_on_interrupt`` passes the engine (which would keep one fit's
    finished starts and go on with the next variant) and ends the whole command."""
    from paracrine.fitting import _executors, fit_multistart

    def sigint(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("SIGINT did not arrive")

    monkeypatch.setattr(_executors, "optimize_start", sigint)
    problem = ChainProblem.simulate_data(seed=1)
    t0 = time.perf_counter()
    stop = _common.stop_on_interrupt("stopped")
    with pytest.raises(_common.Interrupted, match=r"^stopped$"), stop:
        fit_multistart(problem, n_starts=3, workers=1, progress=False)
    assert time.perf_counter() - t0 < 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_in_select_says_nothing_was_written(tmp_path, capsys, monkeypatch):
    from paracrine import fitting

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fitting, "select_models", interrupted)
    out = tmp_path / "out"
    assert main(["select", "--starts", "1", "--workers", "1", "--out", str(out)]) == 130
    assert interrupted_line(capsys, "select").startswith(
        "interrupted before every variant was fitted; nothing written"
    )
    assert not out.exists()


# -- options spelled the same everywhere -----------------------------------------------------

#: Every command that shows a progress bar, with the arguments it needs to parse.
PROGRESS = {
    "fit": ["fit"],
    "demo": ["demo"],
    "select": ["select"],
    "petab fit": ["petab", "fit", "p.yaml"],
    "knockout": ["knockout", "--out", "o"],
    "antibody": ["antibody", "--out", "o"],
    "sweep": ["sweep", "--il6", "0:1:2", "--vegf", "0:1:2"],
    "ensemble": ["ensemble", "--fit", "f.json"],
    "migrate": ["migrate"],
}


@pytest.mark.parametrize("command", list(PROGRESS))
def test_every_command_with_a_progress_bar_takes_no_progress(command):
    parser = build_parser()
    argv = PROGRESS[command]
    assert parser.parse_args(argv).progress is True
    assert parser.parse_args([*argv, "--no-progress"]).progress is False


def test_select_takes_variants_only(capsys):
    parser = build_parser()
    assert parser.parse_args(["select", "--variants", "a,b"]).variants == "a,b"
    for alias in ("--variant", "--var"):
        with pytest.raises(SystemExit, match="2"):
            parser.parse_args(["select", alias, "independent"])
        assert f"unrecognized arguments: {alias}" in capsys.readouterr().err


def _help(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit, match="0"):
        build_parser().parse_args([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


@pytest.mark.parametrize(
    "argv",
    [
        ["fit"],
        ["demo"],
        ["select"],
        ["simulate"],
        ["petab", "export"],
        ["knockout"],
        ["antibody"],
        ["sweep"],
        ["migrate"],
    ],
    ids=lambda a: " ".join(a),
)
def test_help_lists_every_variant(argv, capsys):
    from paracrine.models import list_variants

    text = _help(argv, capsys)
    for variant in list_variants():
        assert variant in text, variant


@pytest.mark.parametrize(
    "argv",
    [["simulate"], ["knockout"], ["antibody"], ["sweep"]],
    ids=lambda a: " ".join(a),
)
def test_help_lists_every_cell_line(argv, capsys):
    from paracrine.models import CELL_LINES

    text = _help(argv, capsys)
    assert f"cell line: {', '.join(CELL_LINES)}" in text


def test_simulate_help_lists_the_knockout_targets(capsys):
    from paracrine.models.targets import KNOCKOUT_TARGETS

    text = _help(["simulate"], capsys)
    for target in KNOCKOUT_TARGETS:
        assert target in text


def test_simulate_default_doses_are_the_simulation_layers():
    from paracrine.cli import simulate
    from paracrine.simulations.conditions import DEFAULT_IL6_NG_ML, DEFAULT_VEGF_NG_ML

    assert (simulate.DEFAULT_IL6, simulate.DEFAULT_VEGF) == (DEFAULT_IL6_NG_ML, DEFAULT_VEGF_NG_ML)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bevacizumab", "-1"], "--bevacizumab: expected a finite dose >= 0 µg/mL, received -1"),
        (["--anti-il6", "nan"], "--anti-il6: expected a finite dose >= 0 µg/mL, received nan"),
        (["--msc-cm", "1.5"], "--msc-cm: expected a fraction in [0, 1], received 1.5"),
        (["--knockout", "STAT9"], "unknown knockout target 'STAT9' — did you mean 'STAT3'?"),
        (["--fit", "missing.json"], "--fit 'missing.json': expected a saved blot fit"),
    ],
)
def test_simulate_bad_perturbations_are_one_line(extra, message, tmp_path, capsys):
    assert main(["simulate", *extra, "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, "simulate").startswith(message)
    assert not (tmp_path / "o").exists()


def test_check_output_folder_creates_nothing(tmp_path):
    target = tmp_path / "a" / "b" / "c"
    assert _common.check_output_folder(target) == target
    assert not (tmp_path / "a").exists()
    (tmp_path / "f").write_text("")
    with pytest.raises(InvalidInputError, match="expected a folder, received a file"):
        _common.check_output_folder(tmp_path / "f")


#: A chain problem at ~0.02 s per evaluation (starts that take a while), for scripts run in a
#: fresh interpreter whose workers import it by name from their __main__.
_SLOW_CHAIN_CLASS = """
import multiprocessing, sys, time
from paracrine.testing import ChainProblem


class SlowChain(ChainProblem):
    name = "slow chain"

    def configure_for_fitting(self):
        return {}

    def simulate(self, x, *, precise=False):
        time.sleep(0.02)
        return super().simulate(x, precise=precise)
"""

# imports paracrine.cli at the top, as the console script does (its workers re-import it)
_SLOW_CHAIN = (
    "from paracrine.cli import main, petab\n"
    + _SLOW_CHAIN_CLASS
    + """
if __name__ == "__main__":
    petab.load_problem = lambda path: SlowChain.simulate_data(seed=1)
    sys.exit(main(sys.argv[1:]))
"""
)


def _ctrl_c_after_two_starts(
    argv: list[str], checkpoint: Path, cwd: Path
) -> tuple[subprocess.Popen, str, str, float]:
    """Run ``python ARGV`` in a session of its own; once *checkpoint* holds a finished start
    (a header line and one start), send SIGINT to the whole process group, as a terminal's
    Ctrl-C does. Returns the process, its stdout and stderr, and the seconds from the
    signal to its exit."""
    proc = subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=cwd,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if checkpoint.exists() and len(checkpoint.read_text().splitlines()) >= 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc, stdout, stderr, elapsed


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_real_ctrl_c_stops_a_fit_within_seconds(workers, tmp_path):
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it, once a start has
    finished: the command ends within a few seconds (worker processes included) with the
    one line and exit status 130, and the checkpoint holds the finished starts."""
    script = tmp_path / "slowchain.py"
    script.write_text(_SLOW_CHAIN)
    out = tmp_path / "out"
    checkpoint = tmp_path / "c.jsonl"
    argv = ["petab", "fit", "x.yaml", "--starts", "40", "--workers", workers, "--no-progress"]
    argv += ["--checkpoint", str(checkpoint), "--out", str(out)]
    proc, _, stderr, elapsed = _ctrl_c_after_two_starts([str(script), *argv], checkpoint, tmp_path)
    assert proc.returncode == 130, stderr
    kept = len(checkpoint.read_text().splitlines()) - 1
    assert 1 <= kept < 40
    assert stderr.strip() == (
        f"paracrine petab: interrupted: {kept} of 40 starts kept; resume with --checkpoint "
        f"{checkpoint}"
    )
    assert elapsed < 5, elapsed
    assert not out.exists()


def test_a_data_file_with_many_problems_is_one_line_and_a_full_list(tmp_path, capsys, monkeypatch):
    """Three broken cells: one line naming the first and where all of them were written
    (data_issues.csv in the output folder — --out or the command's default), exit 2."""
    import pandas as pd

    from paracrine.data import DEFAULT_BLOTS, load_blots

    frame = load_blots(DEFAULT_BLOTS).frame.astype(str)
    frame.loc[3, "value"] = "-1"
    frame.loc[5, "time_min"] = "x"
    frame.loc[7, "cell_line"] = " MCF-7"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    out = tmp_path / "out"
    assert (
        main(["fit", "--data", str(bad), "--starts", "1", "--no-progress", "--out", str(out)]) == 2
    )
    message = one_line_error(capsys, "fit")
    assert "3 errors" in message and "row 5, column 'value'" in message
    assert f"[all 3 in {out / 'data_issues.csv'}]" in message
    issues = pd.read_csv(out / "data_issues.csv")
    assert list(issues["column"]) == ["value", "time_min", "cell_line"]
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "--data", str(bad), "--starts", "1", "--no-progress"]) == 2
    assert "[all 3 in paracrine-fit/data_issues.csv]" in one_line_error(capsys, "fit")
    assert len(pd.read_csv(tmp_path / "paracrine-fit" / "data_issues.csv")) == 3


_API_SLOW_CHAIN = (
    "from paracrine.fitting import fit_multistart\n"
    + _SLOW_CHAIN_CLASS
    + """
if __name__ == "__main__":
    problem = SlowChain.simulate_data(seed=1)
    result = fit_multistart(problem, n_starts=40, workers=2, progress=False, checkpoint=sys.argv[1])
    print(len(result.starts), result.interrupted, len(multiprocessing.active_children()))
"""
)


def test_a_real_ctrl_c_stops_a_python_api_fit_without_worker_tracebacks(tmp_path):
    """From Python (a notebook, a script), a terminal's Ctrl-C reaches the worker processes
    too: they leave it to the parent (no traceback from each), the call returns the finished
    starts marked interrupted, and no worker is left running."""
    script = tmp_path / "api.py"
    script.write_text(_API_SLOW_CHAIN)
    checkpoint = tmp_path / "c.jsonl"
    proc, stdout, stderr, elapsed = _ctrl_c_after_two_starts(
        [str(script), str(checkpoint)], checkpoint, tmp_path
    )
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    kept, interrupted, children = stdout.split()
    assert 1 <= int(kept) < 40 and interrupted == "True"
    assert children == "0"  # the workers were stopped, not left finishing their starts
    assert elapsed < 5, elapsed


def test_a_data_warning_is_one_line_without_python_source(tmp_path):
    """A band 3.8 decades off its blot's median is a warning, not an error: the command goes
    on, and the terminal shows one ``paracrine CMD: warning:`` line naming file, row and
    column — not Python's ``datasets.py:80: DataWarning`` and the source line below it."""
    from paracrine.data import load_blots

    frame = load_blots("reference_blots_synthetic", cell_lines=["T47D"]).frame
    frame.loc[frame.index[5], "value"] *= 3000
    data = tmp_path / "odd.csv"
    frame.to_csv(data, index=False)
    proc = run_module("petab", "export", "--data", str(data), "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"paracrine petab: warning: {data}: 0 errors, 1 warning")
    assert f"{data}, row 7, column 'value': 1 band is 3+ orders of magnitude" in lines[0]
    assert "DataWarning" not in proc.stderr and "warnings.warn" not in proc.stderr


def test_warnings_from_libraries_name_their_class_once(capsys):
    import warnings

    from paracrine.cli import _one_line_warnings

    with _one_line_warnings("fit"):
        for _ in range(3):
            warnings.warn("divide by zero", RuntimeWarning, stacklevel=1)
    err = capsys.readouterr().err
    # raised here, in a test (not paracrine's own code): the class is named; shown once
    assert err == "paracrine fit: warning: RuntimeWarning: divide by zero\n"
