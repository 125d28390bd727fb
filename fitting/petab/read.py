"""Read a PEtab (v1) problem with the ``petab`` library and refuse what paracrine cannot do.

Every refusal is a :class:`paracrine.errors.PetabError` whose message names the feature and
the file (and column) it was found in, so that nothing the problem asks for is silently ignored.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paracrine.errors import PetabError
from paracrine.fitting.petab.features import unsupported_features

__all__ = ["ReadProblem", "read_problem"]


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
    except IsADirectoryError:
        raise PetabError(
            f"PEtab problem file {str(yaml_path)!r}: expected a YAML file, received a folder"
        ) from None
    except UnicodeDecodeError:
        raise PetabError(
            f"PEtab problem file {str(yaml_path)!r}: expected YAML text, received a binary file"
        ) from None
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
    except (AssertionError, ValueError, KeyError, TypeError) as exc:  # some checks raise
        raise PetabError(f"{name}: the PEtab linter found errors: {exc}") from exc
    finally:
        lint_logger.removeHandler(handler)
    if failed:
        details = "; ".join(handler.messages) or "see the petab log"
        raise PetabError(f"{name}: the PEtab linter found errors: {details}")


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
        issues = unsupported_features(problem, model, files)
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        _lint(problem, yaml_path.name)  # a malformed table: let the linter say what is wrong
        # pragma: no cover - the linter has objected to the malformed table just above
        raise PetabError(f"{yaml_path.name}: malformed PEtab tables ({exc!r})") from exc
    if len(issues) == 1:
        raise PetabError(issues[0].message)
    if issues:
        listed = "; ".join(f"({k}) {issue}" for k, issue in enumerate(issues, start=1))
        raise PetabError(f"{yaml_path.name}: {len(issues)} unsupported PEtab features: {listed}")
    _lint(problem, yaml_path.name)
    sbml = (yaml_path.parent / files["model"]).read_text(encoding="utf-8")
    return ReadProblem(
        yaml_path=yaml_path, petab_problem=problem, sbml=sbml, sbml_model=model, files=files
    )
