"""Which PEtab v1 features paracrine cannot import, as data: every check returns
:class:`FeatureIssue` records (file and message), so that a problem using several unsupported
features is refused once, naming all of them, instead of one at a time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from paracrine.errors import PetabError
from paracrine.fitting.objective.noise import Distribution, Transform
from paracrine.fitting.petab.priors import read_priors

__all__ = ["SUPPORTED_DISTRIBUTIONS", "SUPPORTED_SCALES", "FeatureIssue", "unsupported_features"]

SUPPORTED_SCALES = tuple(t.name.lower() for t in Transform)
SUPPORTED_TRANSFORMATIONS = SUPPORTED_SCALES
SUPPORTED_DISTRIBUTIONS = tuple(d.name.lower() for d in Distribution)


@dataclass(frozen=True)
class FeatureIssue:
    """One unsupported feature: the message names it, the file and where in the file."""

    message: str

    def __str__(self) -> str:
        return self.message


def unsupported_features(problem: Any, model: Any, files: dict[str, str]) -> list[FeatureIssue]:
    """Every unsupported feature of a read problem (``petab.v1.Problem`` and its libsbml model).

    Raises
    ------
    KeyError, AttributeError, TypeError, ValueError
        On malformed tables (the caller lets the PEtab linter say what is wrong).
    """
    issues: list[FeatureIssue] = []
    _check_sbml(model, files["model"], issues)
    _check_parameters(problem, files["parameters"], issues)
    _check_observables(problem, files["observables"], issues)
    _check_measurements(problem, files["measurements"], issues)
    _check_conditions(problem, model, files["conditions"], issues)
    return issues


def _nonempty(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip() != ""


def _check_parameters(problem: Any, file: str, issues: list[FeatureIssue]) -> None:
    df = problem.parameter_df
    # priors are checked here, before the PEtab linter, so that a malformed one is named with
    # its row and column (the linter crashes on some, e.g. a single number as parameters)
    scales = np.array(
        [
            Transform.from_name(str(s)) if str(s) in SUPPORTED_SCALES else Transform.LIN
            for s in df["parameterScale"]
        ],
        dtype=np.intp,
    )
    estimated = df["estimate"].astype(int).to_numpy().astype(bool)
    for which in ("objective", "initialization"):
        try:
            read_priors(df, scales, estimated, file, which)
        except PetabError as exc:
            issues.append(FeatureIssue(str(exc)))
    for pid, scale in df["parameterScale"].items():
        if str(scale) not in SUPPORTED_SCALES:
            issues.append(
                FeatureIssue(
                    f"{file}: parameterScale {scale!r} of parameter {pid!r} is not supported "
                    f"(expected one of {', '.join(SUPPORTED_SCALES)})"
                )
            )


def _check_observables(problem: Any, file: str, issues: list[FeatureIssue]) -> None:
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
                issues.append(
                    FeatureIssue(
                        f"{file}: {column} {value!r} of observable {oid!r} is not supported "
                        f"(expected one of {', '.join(allowed)})"
                    )
                )


def _check_measurements(problem: Any, file: str, issues: list[FeatureIssue]) -> None:
    df = problem.measurement_df
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
                issues.append(
                    FeatureIssue(
                        f"{file}: per-measurement {column} {value!r} (row {row + 2}) differs from "
                        f"{declared!r} of observable {oid!r} in the observable table; "
                        "per-measurement noise models are not supported"
                    )
                )


def _check_sbml(model: Any, file: str, issues: list[FeatureIssue]) -> None:
    import libsbml

    for rule in model.getListOfRules():
        if rule.isAlgebraic():
            issues.append(FeatureIssue(f"{file}: SBML algebraic rules are not supported"))
    for reaction in model.getListOfReactions():
        if reaction.isSetFast() and reaction.getFast():
            issues.append(
                FeatureIssue(
                    f"{file}: fast reactions (reaction {reaction.getId()!r}) are not supported"
                )
            )
    formulas = [r.getMath() for r in model.getListOfRules()]
    formulas += [
        r.getKineticLaw().getMath() for r in model.getListOfReactions() if r.isSetKineticLaw()
    ]
    formulas += [a.getMath() for a in model.getListOfInitialAssignments()]
    for event in model.getListOfEvents():
        if event.isSetDelay():
            issues.append(
                FeatureIssue(
                    f"{file}: delayed SBML events (event {event.getId()!r}) are not supported"
                )
            )
    for math_ast in formulas:
        if math_ast is not None and "delay(" in (libsbml.formulaToL3String(math_ast) or ""):
            issues.append(FeatureIssue(f"{file}: the SBML delay() function is not supported"))


def _check_conditions(problem: Any, model: Any, file: str, issues: list[FeatureIssue]) -> None:
    df = problem.condition_df
    assigned = {r.getVariable() for r in model.getListOfRules() if r.isAssignment()}
    rate_targets = {r.getVariable() for r in model.getListOfRules() if r.isRate()}
    compartments = {c.getId() for c in model.getListOfCompartments()}
    for column in df.columns:
        if column == "conditionName":
            continue
        if column in assigned:
            issues.append(
                FeatureIssue(
                    f"{file}: column {column!r} of the condition table overrides a quantity "
                    "defined by an SBML assignment rule, which has no effect in a simulation"
                )
            )
        if column in compartments and column in rate_targets:
            issues.append(
                FeatureIssue(
                    f"{file}: column {column!r} of the condition table sets the size of a "
                    "compartment that changes by an SBML rate rule (not supported: only "
                    "constant compartment sizes can be set per condition)"
                )
            )
