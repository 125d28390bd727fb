"""Export a blot fitting problem to PEtab (v1): :func:`export_petab`.

The export encodes :class:`~paracrine.fitting.problem.BlotProblem` as PEtab spells it, so that
any PEtab tool computes the same negative log-likelihood as ``problem.nllh(x)``:

* **Model.** The variant's SBML, with the shared parameter values at *x* (fixed values
  included). Cell-line values are not in the SBML: they are condition-table overrides.
* **Pre-equilibration.** One condition ``preeq_<line>`` per cell line: its parameter overrides
  and no ligand — the unstimulated steady state paracrine starts every condition from.
* **Doses.** One simulation condition per paracrine condition, with the line's overrides and
  the ligands as the medium species ``IL6`` and ``VEGF`` in nM. PEtab *replaces* the
  pre-equilibrated value of a species the condition table sets, while paracrine *adds* the
  dose; the two agree only where the unstimulated medium holds no ligand, which is checked
  (see Raises).
* **Cell-line parameters.** A model parameter whose value differs between cell lines (or from
  the SBML value) is a condition-table column: a number where it is fixed, or the estimated
  PEtab parameter ``<id>__<line>`` (e.g. ``R6_tot__MCF_7``) where it is free per line.
* **Observables.** One per read-out: ``observableParameter1_blot_pERK * obs_pERK`` with
  ``observableTransformation`` ``log`` (log-normal noise, σ on the natural-log scale) or
  ``lin`` (normal), ``noiseFormula = noiseParameter1_blot_pERK``, ``noiseDistribution =
  normal``. PEtab's log-normal nllh includes Σ log y, as paracrine's does.
* **Scales and noise levels.** paracrine solves them in closed form; PEtab has no such notion,
  so every blot scale (``scale_<blot>``) and every estimated σ (``sigma`` shared, or
  ``sigma_<read-out>``) becomes an estimated parameter (log10 scale) whose nominal value is
  the analytic optimum at *x*, with bounds four decades either side of it (decade-aligned).
  Given noise levels (``noise_sd``) are fixed parameters (``estimate = 0``).
* **Parameters.** Every free kinetic parameter on log10 with the problem's bounds and nominal
  ``10**x``; fixed model parameters keep their SBML or condition-table values and are not
  listed.
* **Priors** (Gaussian on log10 values) become ``objectivePriorType = parameterScaleNormal``
  with ``mean;sd``. PEtab's objective then includes the normalising constants
  Σ log(sd·√(2π)) that ``problem.nllh`` omits, and paracrine's own importer refuses priors.
* **Peak-fraction priors** (the physiological regime, ``fraction_priors``) act on the maximum
  of an observable over conditions and times, which PEtab v1 cannot express: they are not
  exported, and the PEtab nllh equals ``problem.nllh(x) − problem.regime_penalty(x)`` (zero
  when every peak lies inside its range).

The files are checked with the ``petab`` library's linter before they are written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import PetabError
from paracrine.models.targets import AUTOCRINE_SWITCH, DOSED_SPECIES

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import pandas as pd

    from paracrine.fitting.problem import BlotProblem

__all__ = ["export_petab"]

#: Decades either side of the nominal value spanned by the bounds of scales and noise levels.
INNER_DECADES = 4

_NOT_ID = re.compile(r"\W+")


def _petab_id(text: str) -> str:
    """A PEtab/SBML identifier from *text* (``[A-Za-z_]\\w*``, ASCII)."""
    ascii_text = text.encode("ascii", "replace").decode().replace("?", "_")
    out = _NOT_ID.sub("_", ascii_text).strip("_")
    return out if out and not out[0].isdigit() else f"_{out}"


def _unique_ids(names: Iterable[str], prefix: str, taken: set[str]) -> dict[str, str]:
    """``{name: prefix + id}``, unique among themselves and *taken* (which is updated)."""
    out = {}
    for name in names:
        base = f"{prefix}{_petab_id(name)}"
        pid, k = base, 2
        while pid in taken:
            pid, k = f"{base}_{k}", k + 1
        taken.add(pid)
        out[name] = pid
    return out


def _sbml_ids(sbml: str) -> set[str]:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    ids = set()
    for element in doc.getModel().getListOfAllElements():
        if element.isSetId():
            ids.add(element.getId())
    return ids


def _decade_bounds(value: float) -> tuple[float, float]:
    centre = round(math.log10(value))
    return 10.0 ** (centre - INNER_DECADES), 10.0 ** (centre + INNER_DECADES)


def _check_x(problem: BlotProblem, x: Any) -> np.ndarray:
    names = problem.parameter_names
    if x is None:
        return np.log10(
            [
                problem.model.parameter_values(p.cell_line)[p.parameter]
                for p in problem.free_parameters
            ]
        )
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise PetabError(
            f"x: expected {len(names)} log10 values (one per free parameter), received {x!r}"
        ) from None
    if arr.shape != (len(names),) or not np.all(np.isfinite(arr)):
        raise PetabError(
            f"x: expected {len(names)} finite log10 values (one per free parameter "
            f"{list(names)}), received {np.asarray(arr).tolist()}"
        )
    outside = (arr < problem.lower) | (arr > problem.upper)
    if np.any(outside):
        k = int(np.argmax(outside))
        raise PetabError(
            f"x: {names[k]} = 10**{arr[k]:g} lies outside its bounds "
            f"[10**{problem.lower[k]:g}, 10**{problem.upper[k]:g}]; a PEtab nominal value "
            "must lie within them"
        )
    return arr


def _check_representable(problem: BlotProblem, x: np.ndarray) -> None:
    """Refuse what the condition table cannot express faithfully."""
    index = problem.model.parameter_ids.index(AUTOCRINE_SWITCH)
    autocrine = {
        line: float(vec[index])
        for line, vec in problem.parameter_vectors(x).items()
        if vec[index] != 0.0
    }
    if autocrine:
        free = AUTOCRINE_SWITCH in {p.parameter for p in problem.free_parameters}
        raise PetabError(
            f"variant {problem.model.variant!r}: {AUTOCRINE_SWITCH} is non-zero "
            f"({'free, ' if free else ''}{autocrine}), so the unstimulated medium holds "
            "autocrine VEGF; paracrine adds a dose to it but a PEtab (v1) condition table can "
            f"only replace it — fix {AUTOCRINE_SWITCH} = 0 (fixed={{{AUTOCRINE_SWITCH!r}: 0}}) "
            "to export this problem"
        )
    for cond in problem.conditions:
        added = cond.added_concentrations_nm()
        extra = {k: v for k, v in added.items() if k not in DOSED_SPECIES and v}
        factors = cond.parameter_factors()
        if extra or factors or cond.msc_cm_fraction:
            what = extra or factors or {"msc_cm_fraction": cond.msc_cm_fraction}
            raise PetabError(
                f"condition {cond.name!r}: only IL-6 and VEGF doses can be exported, received "
                f"{what} (antibodies, conditioned medium and perturbations are not supported)"
            )
    _check_unstimulated_medium(problem, x)


def _check_unstimulated_medium(problem: BlotProblem, x: np.ndarray) -> None:
    """The pre-equilibrated medium must hold no ligand (a guard against model changes)."""
    from paracrine.simulations import REFERENCE_TOLERANCES, ModelSimulator

    sim = ModelSimulator(problem.model, list(DOSED_SPECIES), tolerances=REFERENCE_TOLERANCES)
    index = [sim.species_ids.index(s) for s in DOSED_SPECIES]
    for line, vec in problem.parameter_vectors(x).items():
        state = sim.preequilibrate(vec, f" of cell line {line!r}", line)[index]
        if np.any(state != 0.0):
            found = dict(zip(DOSED_SPECIES, state.tolist(), strict=True))
            raise PetabError(
                f"cell line {line!r}: the unstimulated steady state holds ligand {found} "
                "(amounts); paracrine adds doses to it but a PEtab (v1) condition table can only "
                "replace it, so this problem cannot be exported faithfully"
            )


def _parameter_row(
    pid: str, name: str, lower: float, upper: float, nominal: float, estimate: bool
) -> dict[str, Any]:
    return {
        "parameterId": pid,
        "parameterName": name,
        "parameterScale": "log10",
        "lowerBound": float(lower),
        "upperBound": float(upper),
        "nominalValue": float(nominal),
        "estimate": int(estimate),
    }


def _tables(problem: BlotProblem, x: np.ndarray, sbml: str) -> dict[str, pd.DataFrame]:
    """Condition, measurement, observable and parameter tables (plain DataFrames)."""
    import pandas as pd

    from paracrine.models import OBSERVABLES

    taken = _sbml_ids(sbml)
    free = problem.free_parameters
    line_ids = {line: _petab_id(line) for line in problem.cell_lines}
    # a shared free parameter is the SBML parameter itself; a per-line value is a new id
    free_ids = {p.name: p.parameter for p in free if p.cell_line is None}
    for p in free:
        if p.cell_line is not None:
            base = f"{p.parameter}__{line_ids[p.cell_line]}"
            free_ids[p.name] = _unique_ids([base], "", taken)[base]
    observable_ids = _unique_ids(problem.readouts, "blot_", taken)
    scale_ids = _unique_ids(problem.blots.tolist(), "scale_", taken)
    shared_sigma = problem.noise_groups != problem.readouts
    if shared_sigma:
        sigma_ids = {problem.noise_groups[0]: _unique_ids(["sigma"], "", taken)["sigma"]}
    else:
        sigma_ids = _unique_ids(problem.readouts, "sigma_", taken)
    preeq_ids = _unique_ids(problem.cell_lines, "preeq_", taken)
    # by position: one label may name several conditions (doses of a dose-response)
    cond_ids = [_unique_ids([c.name], "", taken)[c.name] for c in problem.conditions]

    # -- conditions: cell-line overrides and doses ------------------------------------------
    vectors = problem.parameter_vectors(x)
    sbml_values = problem.fitted_model(x).parameter_values()
    per_line_free = {(p.parameter, p.cell_line): free_ids[p.name] for p in free if p.cell_line}
    overrides: dict[str, dict[str, float | str]] = {}
    for k, pid in enumerate(problem.model.parameter_ids):
        values = {
            line: per_line_free.get((pid, line), float(vectors[line][k]))
            for line in problem.cell_lines
        }
        if any(isinstance(v, str) or v != sbml_values[pid] for v in values.values()):
            overrides[pid] = values
    rows = []
    for line in problem.cell_lines:
        row = {"conditionId": preeq_ids[line], "conditionName": f"unstimulated {line}"}
        row.update({pid: values[line] for pid, values in overrides.items()})
        row.update(dict.fromkeys(DOSED_SPECIES, 0.0))
        rows.append(row)
    for cond, cid in zip(problem.conditions, cond_ids, strict=True):
        row = {"conditionId": cid, "conditionName": cond.name}
        row.update({pid: values[cond.cell_line] for pid, values in overrides.items()})
        added = cond.added_concentrations_nm()
        row.update({s: float(added.get(s, 0.0)) for s in DOSED_SPECIES})
        rows.append(row)
    conditions = pd.DataFrame(rows)

    # -- measurements: one row per band ---------------------------------------------------------
    frame = problem.data.frame
    by_key = {
        (c.name, c.cell_line, c.il6_ng_ml, c.vegf_ng_ml): cid
        for c, cid in zip(problem.conditions, cond_ids, strict=True)
    }
    keys = zip(
        frame["condition"], frame["cell_line"], frame["il6_ng_ml"], frame["vegf_ng_ml"], strict=True
    )
    measurements = pd.DataFrame(
        {
            "observableId": [observable_ids[r] for r in frame["readout"]],
            "preequilibrationConditionId": [preeq_ids[line] for line in frame["cell_line"]],
            "simulationConditionId": [
                by_key[(f"{c} [{line}]", line, float(il6), float(vegf))]
                for c, line, il6, vegf in keys
            ],
            "measurement": frame["value"].to_numpy(dtype=float),
            "time": frame["time_min"].to_numpy(dtype=float),
            "observableParameters": [scale_ids[b] for b in frame["blot"].astype(str)],
            "noiseParameters": [
                sigma_ids[problem.noise_groups[0]] if shared_sigma else sigma_ids[r]
                for r in frame["readout"]
            ],
        }
    )

    # -- observables: scale × model fraction, log-normal or normal ----------------------------
    transformation = "log" if problem.noise == "lognormal" else "lin"
    observables = pd.DataFrame(
        [
            {
                "observableId": oid,
                "observableName": readout,
                # a species read-out (e.g. JAK_p for pJAK1) is its own formula
                "observableFormula": f"observableParameter1_{oid} * {OBSERVABLES.get(readout, readout)}",
                "observableTransformation": transformation,
                "noiseFormula": f"noiseParameter1_{oid}",
                "noiseDistribution": "normal",
            }
            for readout, oid in observable_ids.items()
        ]
    )

    # -- parameters: kinetic (problem bounds), scales and σ (analytic optimum at x) --------------
    inner = problem.inner_parameters(x)
    rows = [
        _parameter_row(free_ids[p.name], p.name, p.lower, p.upper, value, estimate=True)
        for p, value in zip(free, np.power(10.0, x), strict=True)
    ]
    for blot, pid in scale_ids.items():
        scale = inner["scale"][blot]
        if not scale > 0:
            raise PetabError(
                f"blot {blot!r}: its optimal scale at x is {scale:g}; a blot scale must be > 0 "
                "to be exported on log10 scale (are all of its values 0?)"
            )
        name = f"scale of blot {blot}"
        rows.append(_parameter_row(pid, name, *_decade_bounds(scale), scale, estimate=True))
    estimated_sigma = problem.metadata["noise_sd"] is None
    for group, pid in sigma_ids.items():
        sigma = inner["sigma"][group]
        name = f"noise level of {group}" + (
            " (natural-log scale)" if transformation == "log" else ""
        )
        rows.append(
            _parameter_row(pid, name, *_decade_bounds(sigma), sigma, estimate=estimated_sigma)
        )
    parameters = pd.DataFrame(rows)
    priors = problem.settings()["priors"]
    if priors:
        names = [p.name for p in free] + [""] * (len(rows) - len(free))
        parameters["objectivePriorType"] = [
            "parameterScaleNormal" if n in priors else "" for n in names
        ]
        parameters["objectivePriorParameters"] = [
            f"{priors[n][0]!r};{priors[n][1]!r}" if n in priors else "" for n in names
        ]
    return {
        "conditions": conditions,
        "measurements": measurements,
        "observables": observables,
        "parameters": parameters,
    }


def export_petab(problem: BlotProblem, out_dir: str | Path, *, x: Any = None) -> Path:
    """Write *problem* as a PEtab (v1) problem in *out_dir* and return its YAML file.

    The files are ``<name>.yaml`` (``name = paracrine_<variant>``), ``<name>.xml`` (SBML),
    ``conditions.tsv``, ``measurements.tsv``, ``observables.tsv`` and ``parameters.tsv``
    (existing files of these names are overwritten). What each table encodes is described in
    the module docstring; in short, pre-equilibration per cell line, doses as medium species,
    cell-line values as condition-table overrides, and blot scales and noise levels as
    estimated parameters at their analytic optimum, so that the PEtab nllh at the nominal
    values equals ``problem.nllh(x)``.

    Parameters
    ----------
    problem
        The blot fitting problem.
    out_dir
        Folder to write into (created if missing).
    x
        log10 values of ``problem.parameter_names`` to use as nominal values (e.g. a fit's
        ``result.x``); default: the model's values.

    Returns
    -------
    Path
        The problem's YAML file.

    Raises
    ------
    PetabError
        If *x* is malformed or outside the bounds; if the variant keeps ligand in the
        unstimulated medium (``k_vegf_auto_tx`` free or non-zero: PEtab would replace, not
        add to, it); if a condition has antibodies, conditioned medium or perturbations; if a
        blot's optimal scale is not positive; if the PEtab linter finds errors.

    Examples
    --------
    >>> from paracrine.fitting import BlotProblem
    >>> problem = BlotProblem("independent", "reference_blots_synthetic")
    >>> export_petab(problem, "petab_out")  # doctest: +SKIP
    PosixPath('petab_out/paracrine_independent.yaml')
    """
    from paracrine.fitting.petab.read import _lint, _quiet_petab

    x = _check_x(problem, x)
    _check_representable(problem, x)
    sbml = problem.fitted_model(x).sbml
    tables = _tables(problem, x, sbml)

    import petab.v1 as petab
    from petab.v1.models.sbml_model import SbmlModel

    name = _petab_id(f"paracrine_{problem.model.variant}")
    with _quiet_petab():
        petab_problem = petab.Problem(
            model=SbmlModel.from_string(sbml, model_id=name),
            condition_df=petab.get_condition_df(tables["conditions"]),
            measurement_df=petab.get_measurement_df(tables["measurements"]),
            observable_df=petab.get_observable_df(tables["observables"]),
            parameter_df=petab.get_parameter_df(tables["parameters"]),
        )
    _lint(petab_problem, f"PEtab export of {problem!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    yaml_file = out / f"{name}.yaml"
    with _quiet_petab():
        petab_problem.to_files(
            model_file=out / f"{name}.xml",
            condition_file=out / "conditions.tsv",
            measurement_file=out / "measurements.tsv",
            observable_file=out / "observables.tsv",
            parameter_file=out / "parameters.tsv",
            yaml_file=yaml_file,
            relative_paths=True,
        )
    return yaml_file
