"""Read a PEtab (v1) problem with the ``petab`` library and refuse what paracrine cannot do.

Every refusal is a :class:`paracrine.errors.PetabError` whose message names the feature and
the file (and column) it was found in, so that nothing the problem asks for is silently ignored.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paracrine.errors import PetabError

__all__ = ["ReadProblem", "read_problem"]

SUPPORTED_SCALES = ("lin", "log", "log10")
SUPPORTED_TRANSFORMATIONS = ("lin", "log", "log10")
SUPPORTED_DISTRIBUTIONS = ("normal", "laplace")


@dataclass
class ReadProblem:
    """The tables and model of a PEtab problem, checked for unsupported features."""

    yaml_path: Path
    petab_problem: Any  # petab.v1.Problem
    sbml: str
    sbml_model: Any  # libsbml.Model of petab_problem (kept alive by petab_problem)
    files: dict[str, str]  # table kind -> file name (for messages)


@contextlib.contextmanager
def _quiet_petab() -> Iterator[None]:
    """Silence the pandas-3 deprecation warnings petab 0.8.2 triggers in its own table readers.

    petab 0.8.2 passes ``float_precision=`` to ``read_csv`` and ``inplace=`` to ``set_index``,
    both deprecated in pandas 3; we cannot change that from here and the tables are read
    correctly, so these warnings (only) are ignored inside the calls into petab.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _read_yaml(yaml_path: Path) -> dict[str, Any]:
    import yaml

    try:
        with yaml_path.open(encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except FileNotFoundError:
        raise PetabError(f"PEtab problem file {str(yaml_path)!r} does not exist") from None
    except yaml.YAMLError as exc:
        raise PetabError(f"{yaml_path.name}: not valid YAML ({exc})") from None
    if not isinstance(config, dict):
        raise PetabError(f"{yaml_path.name}: expected a YAML mapping, received {config!r}")
    return config


def _check_yaml(config: dict[str, Any], name: str) -> dict[str, str]:
    version = str(config.get("format_version", "")).strip()
    if version not in ("1", "1.0", "1.0.0"):
        raise PetabError(
            f"{name}: PEtab format_version {version or '(missing)'!r} is not supported "
            "(only PEtab version 1 problems can be imported)"
        )
    problems = config.get("problems") or []
    if len(problems) != 1:
        raise PetabError(
            f"{name}: expected exactly one entry under 'problems', received {len(problems)} "
            "(several problems in one YAML file are not supported)"
        )
    sub = problems[0]
    if sub.get("mapping_files"):
        raise PetabError(f"{name}: mapping tables (mapping_files) are not supported")
    if config.get("extensions"):
        raise PetabError(
            f"{name}: PEtab extensions {sorted(config['extensions'])} are not supported"
        )
    sbml_files = sub.get("sbml_files") or []
    if len(sbml_files) != 1:
        raise PetabError(
            f"{name}: expected exactly one model file under 'sbml_files', received "
            f"{len(sbml_files)} (multiple models are not supported)"
        )
    files = {"model": str(sbml_files[0]), "parameters": str(config.get("parameter_file"))}
    for kind, key in (
        ("conditions", "condition_files"),
        ("measurements", "measurement_files"),
        ("observables", "observable_files"),
    ):
        names = sub.get(key) or []
        if len(names) != 1:
            raise PetabError(
                f"{name}: expected exactly one file under {key!r}, received {len(names)} "
                "(split tables are not supported)"
            )
        files[kind] = str(names[0])
    return files


class _Collect(logging.Handler):
    """Collects petab lint messages (errors) so they can be put into one PetabError."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _lint(problem: Any, name: str) -> None:
    import petab.v1 as petab

    # petab reports lint problems only as log records; a handler attached for the duration of
    # the call turns the errors into our exception (and is removed again).
    lint_logger = logging.getLogger("petab")
    handler = _Collect()
    lint_logger.addHandler(handler)
    try:
        with _quiet_petab():
            failed = petab.lint_problem(problem)
    except (AssertionError, ValueError, KeyError) as exc:  # some checks raise instead of log
        raise PetabError(f"{name}: the PEtab linter found errors: {exc}") from exc
    finally:
        lint_logger.removeHandler(handler)
    if failed:
        details = "; ".join(handler.messages) or "see the petab log"
        raise PetabError(f"{name}: the PEtab linter found errors: {details}")


def _nonempty(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip() != ""


def _check_parameters(problem: Any, file: str) -> None:
    df = problem.parameter_df
    if "objectivePriorType" in df.columns:
        used = [pid for pid, v in df["objectivePriorType"].items() if _nonempty(v)]
        if used:
            raise PetabError(
                f"{file}: objective priors (column objectivePriorType, parameters {used}) "
                "are not supported"
            )
    if "initializationPriorType" in df.columns:
        used = [
            pid
            for pid, v in df["initializationPriorType"].items()
            if _nonempty(v) and str(v) != "parameterScaleUniform"
        ]
        if used:
            raise PetabError(
                f"{file}: initialization priors other than parameterScaleUniform (column "
                f"initializationPriorType, parameters {used}) are not supported: starts are "
                "drawn uniformly on the parameter scale"
            )
    for pid, scale in df["parameterScale"].items():
        if str(scale) not in SUPPORTED_SCALES:
            raise PetabError(
                f"{file}: parameterScale {scale!r} of parameter {pid!r} is not supported "
                f"(expected one of {', '.join(SUPPORTED_SCALES)})"
            )


def _check_observables(problem: Any, file: str) -> None:
    df = problem.observable_df
    for column, allowed, default in (
        ("observableTransformation", SUPPORTED_TRANSFORMATIONS, "lin"),
        ("noiseDistribution", SUPPORTED_DISTRIBUTIONS, "normal"),
    ):
        if column not in df.columns:
            continue
        for oid, value in df[column].items():
            value = str(value) if _nonempty(value) else default
            if value not in allowed:
                raise PetabError(
                    f"{file}: {column} {value!r} of observable {oid!r} is not supported "
                    f"(expected one of {', '.join(allowed)})"
                )


def _check_measurements(problem: Any, file: str) -> None:
    df = problem.measurement_df
    times = df["time"].astype(float)
    if (~times.apply(math.isfinite)).any():
        row = int(times.index[~times.apply(math.isfinite)][0])
        raise PetabError(
            f"{file}: steady-state measurements (time = inf, row {row + 2}, column time) "
            "are not supported"
        )
    if (times < 0).any():
        row = int(times.index[times < 0][0])
        raise PetabError(f"{file}: negative measurement time at row {row + 2}, column time")
    # Some collections repeat observable settings in the measurement table (not a PEtab v1
    # column): accept them when they agree with the observable table, refuse when they differ.
    obs = problem.observable_df
    for column, default in (("observableTransformation", "lin"), ("noiseDistribution", "normal")):
        if column not in df.columns:
            continue
        for row, (oid, value) in enumerate(zip(df["observableId"], df[column], strict=True)):
            if not _nonempty(value):
                continue
            declared = obs.loc[oid, column] if column in obs.columns else default
            declared = str(declared) if _nonempty(declared) else default
            if str(value) != declared:
                raise PetabError(
                    f"{file}: per-measurement {column} {value!r} (row {row + 2}) differs from "
                    f"{declared!r} of observable {oid!r} in the observable table; "
                    "per-measurement noise models are not supported"
                )


def _check_sbml(model: Any, file: str) -> None:
    import libsbml

    for rule in model.getListOfRules():
        if rule.isAlgebraic():
            raise PetabError(f"{file}: SBML algebraic rules are not supported")
    for reaction in model.getListOfReactions():
        if reaction.isSetFast() and reaction.getFast():
            raise PetabError(
                f"{file}: fast reactions (reaction {reaction.getId()!r}) are not supported"
            )
    formulas = [r.getMath() for r in model.getListOfRules()]
    formulas += [
        r.getKineticLaw().getMath() for r in model.getListOfReactions() if r.isSetKineticLaw()
    ]
    formulas += [a.getMath() for a in model.getListOfInitialAssignments()]
    for event in model.getListOfEvents():
        if event.isSetDelay():
            raise PetabError(
                f"{file}: delayed SBML events (event {event.getId()!r}) are not supported"
            )
    for math_ast in formulas:
        if math_ast is not None and "delay(" in (libsbml.formulaToL3String(math_ast) or ""):
            raise PetabError(f"{file}: the SBML delay() function is not supported")


def _check_conditions(problem: Any, model: Any, file: str) -> None:
    df = problem.condition_df
    compartments = {c.getId() for c in model.getListOfCompartments()}
    rule_targets = {r.getVariable() for r in model.getListOfRules() if not r.isAlgebraic()}
    for column in df.columns:
        if column == "conditionName":
            continue
        if column in compartments:
            raise PetabError(
                f"{file}: compartment sizes in the condition table (column {column!r}) "
                "are not supported"
            )
        if column in rule_targets:
            raise PetabError(
                f"{file}: column {column!r} of the condition table overrides a quantity "
                "defined by an SBML rule, which has no effect in a simulation"
            )


def read_problem(yaml_path: str | Path) -> ReadProblem:
    """Read, lint and check a PEtab v1 problem.

    Parameters
    ----------
    yaml_path
        The problem's YAML file.

    Returns
    -------
    ReadProblem
        Tables (``petab.v1.Problem``), the SBML text and the file names.

    Raises
    ------
    PetabError
        If the file is missing or malformed, fails the PEtab linter, or uses a feature that
        paracrine does not support (the message names it).
    """
    yaml_path = Path(yaml_path)
    config = _read_yaml(yaml_path)
    files = _check_yaml(config, yaml_path.name)
    import petab.v1 as petab

    try:
        with _quiet_petab():
            problem = petab.Problem.from_yaml(str(yaml_path))
    except (OSError, ValueError, KeyError) as exc:
        raise PetabError(f"{yaml_path.name}: cannot read the PEtab problem: {exc}") from exc
    model = problem.model.sbml_model
    # Unsupported features first (so that the message names the feature even where the
    # linter would also object), then the linter for everything else.
    try:
        _check_sbml(model, files["model"])
        _check_parameters(problem, files["parameters"])
        _check_observables(problem, files["observables"])
        _check_measurements(problem, files["measurements"])
        _check_conditions(problem, model, files["conditions"])
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        if isinstance(exc, PetabError):
            raise
        _lint(problem, yaml_path.name)  # a malformed table: let the linter say what is wrong
        # pragma: no cover - the linter has objected to the malformed table just above
        raise PetabError(f"{yaml_path.name}: malformed PEtab tables ({exc!r})") from exc
    _lint(problem, yaml_path.name)
    sbml = (yaml_path.parent / files["model"]).read_text(encoding="utf-8")
    return ReadProblem(
        yaml_path=yaml_path, petab_problem=problem, sbml=sbml, sbml_model=model, files=files
    )
