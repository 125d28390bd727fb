"""Turn the checked tables of a PEtab problem into flat arrays the objective can use fast.

Every value the simulation or the likelihood needs (a model parameter in a condition, an
observable or noise placeholder of a measurement) becomes an index into one vector,
``theta_ext = [parameter-table values (natural scale)…, numeric constants…]``, so that one
evaluation gathers them with numpy fancy indexing instead of looking names up.

Observable and noise formulas are parsed once with ``petab.v1.math.sympify_petab`` (PEtab's
own grammar, never Python ``eval``), every free symbol is resolved against a whitelist (model
entities, parameter-table ids, the observable's placeholders, ``time``) and the expressions are
compiled to numpy functions lazily (compiled functions are not picklable).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paracrine.errors import PetabError, did_you_mean
from paracrine.fitting.objective.noise import Distribution, Transform
from paracrine.fitting.petab.priors import ParameterPrior, read_priors

__all__ = ["ObservableSpec", "PetabSpec", "RunSpec", "build_spec"]


@dataclass
class ObservableSpec:
    """One observable: its formulas and the measurements (rows) that use it."""

    id: str
    formula: Any  # sympy expression of the observable
    noise: Any  # sympy expression of the noise (σ, or the Laplace scale b)
    args: list[tuple[str, int]]  # ("sim", column) | ("theta", index) | ("obs"|"noise", k)
    transform: Transform
    distribution: Distribution
    rows: np.ndarray  # measurement indices
    noise_symbol: str | None = None  # the noise formula when it is a single symbol
    arg_names: list[str] = field(default_factory=list)  # symbol name of each entry of args


@dataclass
class RunSpec:
    """One simulation: a (pre-equilibration, simulation) pair of conditions and its times."""

    preeq: str | None
    sim: str
    times: np.ndarray  # sorted unique output times (minutes in paracrine; model units here)
    offset: int  # first row of this run in the stacked simulation matrix
    depends: frozenset[int] = field(default_factory=frozenset)  # table indices that matter


@dataclass
class PetabSpec:
    """Everything the objective needs, as plain picklable data."""

    table_ids: list[str]
    scales: np.ndarray  # Transform code (lin/log/log10) of each table parameter's scale
    lower: np.ndarray  # natural scale
    upper: np.ndarray
    nominal: np.ndarray
    estimated: np.ndarray  # bool
    constants: np.ndarray  # numeric overrides, theta_ext[len(table_ids):]
    model_param_ids: list[str]  # SBML global parameters set per condition
    condition_params: dict[str, np.ndarray]  # condition -> theta_ext index per model param
    # condition -> (RoadRunner selection of a state, theta_ext index), set after the reset (and
    # after pre-equilibration): species as the concentration "[S]", or the amount "S" for
    # hasOnlySubstanceUnits species (PEtab's value), and rate-rule target parameters "p"
    condition_species: dict[str, list[tuple[str, int]]]
    runs: list[RunSpec]
    columns: list[str]  # RoadRunner selections of the stacked simulation matrix
    y: np.ndarray  # measurements
    meas_row: np.ndarray  # row of each measurement in the stacked simulation matrix
    obs_src: np.ndarray  # (n_meas, k_obs) theta_ext index of observable placeholders, -1 if none
    noise_src: np.ndarray  # (n_meas, k_noise)
    observables: list[ObservableSpec]
    measurement_ids: list[tuple[str, str, str, float]]  # (obs, preeq, sim, time) per row
    # condition -> ("init(C)", theta_ext index): compartment sizes, set before the reset so that
    # initial concentrations and initial assignments see them (NaN: the SBML size)
    condition_compartments: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    objective_priors: list[ParameterPrior] = field(default_factory=list)
    initialization_priors: list[ParameterPrior] = field(default_factory=list)


_PLACEHOLDER = re.compile(r"^(observable|noise)Parameter(\d+)_(.+)$")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


class _Theta:
    """Builds theta_ext: table parameters first, then de-duplicated numeric constants."""

    def __init__(self, table_ids: list[str]) -> None:
        self.index = {pid: i for i, pid in enumerate(table_ids)}
        self.constants: list[float] = []
        self._const_index: dict[float, int] = {}

    def constant(self, value: float) -> int:
        value = float(value)
        key = value
        if key not in self._const_index:
            self._const_index[key] = len(self.index) + len(self.constants)
            self.constants.append(value)
        return self._const_index[key]

    def resolve(self, token: Any, where: str) -> int:
        """Index of a numeric value or a parameter-table id."""
        if isinstance(token, int | float | np.number) and not _is_nan(token):
            return self.constant(float(token))
        text = str(token).strip()
        try:
            return self.constant(float(text))
        except ValueError:
            pass
        if text in self.index:
            return self.index[text]
        hint = did_you_mean(text, self.index)
        raise PetabError(  # pragma: no cover - the petab linter reports this first
            f"{where}: {text!r} is neither a number nor a parameter of the parameter table"
            + (f" — did you mean {hint}?" if hint else "")
        )


def _split_overrides(value: Any) -> list[Any]:
    if value is None or _is_nan(value):
        return []
    if isinstance(value, int | float | np.number):
        return [float(value)]
    text = str(value).strip()
    return [t.strip() for t in text.split(";")] if text else []


def _sbml_entities(model: Any) -> dict[str, str]:
    """Kind of every SBML id an observable may use: species, parameter, compartment, rule."""
    kinds: dict[str, str] = {}
    for c in model.getListOfCompartments():
        kinds[c.getId()] = "compartment"
    for s in model.getListOfSpecies():
        kinds[s.getId()] = "species"
    for p in model.getListOfParameters():
        kinds[p.getId()] = "parameter"
    for r in model.getListOfReactions():
        kinds[r.getId()] = "reaction"
    return kinds


def build_spec(read: Any) -> PetabSpec:
    """Build the flat :class:`PetabSpec` of a checked problem (see :mod:`.read`).

    Raises
    ------
    PetabError
        For an override that is neither a number nor a parameter id, a formula symbol that
        is not defined, a placeholder without a value, or a missing table entry.
    """
    from petab.v1.math import sympify_petab

    problem = read.petab_problem
    files = read.files
    model = read.sbml_model
    par = problem.parameter_df
    table_ids = [str(p) for p in par.index]
    theta = _Theta(table_ids)
    scales = np.array([Transform.from_name(str(s)) for s in par["parameterScale"]], dtype=np.intp)
    lower = par["lowerBound"].astype(float).to_numpy()
    upper = par["upperBound"].astype(float).to_numpy()
    nominal = par["nominalValue"].astype(float).to_numpy()
    estimated = par["estimate"].astype(int).to_numpy().astype(bool)
    if np.isnan(nominal).any():
        pid = table_ids[int(np.flatnonzero(np.isnan(nominal))[0])]
        raise PetabError(f"{files['parameters']}: parameter {pid!r} has no nominalValue")

    entities = _sbml_entities(model)
    # species whose value is an amount (AMICI and PEtab use amounts for these)
    amounts = {sp.getId() for sp in model.getListOfSpecies() if sp.getHasOnlySubstanceUnits()}
    rule_targets = {r.getVariable() for r in model.getListOfRules()}
    global_params = [p.getId() for p in model.getListOfParameters()]

    # --- model parameters, compartments and initial states per condition -----------------------
    cond = problem.condition_df
    cond_columns = [c for c in cond.columns if c != "conditionName"]
    rate_targets = {r.getVariable() for r in model.getListOfRules() if r.isRate()}
    overridden = [c for c in cond_columns if c in global_params and c not in rate_targets]
    model_param_ids = [
        p for p in global_params if p not in rule_targets and (p in theta.index or p in overridden)
    ]
    sbml_value = {p.getId(): p.getValue() for p in model.getListOfParameters()}
    sbml_size = {c.getId(): c.getSize() for c in model.getListOfCompartments()}
    for column in cond_columns:
        if entities.get(column) not in ("parameter", "species", "compartment"):
            raise PetabError(  # pragma: no cover - the petab linter reports this first
                f"{files['conditions']}: column {column!r} is not a parameter, species or "
                f"compartment of the model {files['model']}"
            )

    def is_empty(value: Any) -> bool:
        return _is_nan(value) or (isinstance(value, str) and not value.strip())

    condition_params: dict[str, np.ndarray] = {}
    condition_species: dict[str, list[tuple[str, int]]] = {}
    condition_compartments: dict[str, list[tuple[str, int]]] = {}
    for cid, row in cond.iterrows():
        where = f"{files['conditions']}, condition {cid!r}"
        srcs = []
        for pid in model_param_ids:
            if pid in overridden:
                value = row[pid]
                # PEtab v1 (libpetab's parameter mapping): NaN = the model's value
                srcs.append(
                    theta.constant(sbml_value[pid])
                    if is_empty(value)
                    else theta.resolve(value, f"{where}, column {pid!r}")
                )
            elif pid in theta.index:
                srcs.append(theta.index[pid])
            else:  # pragma: no cover - model_param_ids only holds table or overridden ids
                srcs.append(theta.constant(sbml_value[pid]))
        condition_params[str(cid)] = np.array(srcs, dtype=np.intp)
        states, sizes = [], []
        for column in cond_columns:
            kind = entities.get(column)
            value = row[column]
            if kind == "compartment":
                # the initial size, set before the reset (NaN: the SBML size), so that initial
                # concentrations stay and amounts follow, as if the SBML file said so
                src = (
                    theta.constant(sbml_size[column])
                    if is_empty(value)
                    else theta.resolve(value, f"{where}, column {column!r}")
                )
                sizes.append((f"init({column})", src))
            elif kind == "species" or column in rate_targets:
                if is_empty(value):
                    continue  # PEtab v1: NaN = keep the (pre-equilibrated or SBML) initial value
                selection = f"[{column}]" if kind == "species" and column not in amounts else column
                states.append((selection, theta.resolve(value, f"{where}, column {column!r}")))
        condition_species[str(cid)] = states
        condition_compartments[str(cid)] = sizes

    # --- measurements and simulation runs ----------------------------------------------------
    meas = problem.measurement_df.reset_index(drop=True)
    obs_df = problem.observable_df
    n_meas = len(meas)
    preeq_col = (
        meas["preequilibrationConditionId"]
        if "preequilibrationConditionId" in meas.columns
        else [None] * n_meas
    )
    keys = []
    for i in range(n_meas):
        pre = preeq_col[i]
        pre = None if pre is None or _is_nan(pre) or not str(pre).strip() else str(pre)
        keys.append((pre, str(meas.at[i, "simulationConditionId"])))
    run_keys = list(dict.fromkeys(keys))
    times_all = meas["time"].astype(float).to_numpy()
    runs: list[RunSpec] = []
    offset = 0
    run_of = {}
    for key in run_keys:
        mask = np.array([k == key for k in keys])
        times = np.unique(times_all[mask])
        deps: set[int] = set()
        for c in key:
            if c is None:
                continue
            deps.update(int(s) for s in condition_params[c] if s < len(table_ids))
            deps.update(int(s) for _, s in condition_species[c] if s < len(table_ids))
            deps.update(int(s) for _, s in condition_compartments[c] if s < len(table_ids))
        if key[0] is not None and condition_compartments[key[0]] != condition_compartments[key[1]]:
            raise PetabError(
                f"{files['conditions']}: compartment sizes differ between the "
                f"pre-equilibration condition {key[0]!r} and the simulation condition "
                f"{key[1]!r}; PEtab v1 does not say whether concentrations or amounts carry "
                "over, so paracrine does not guess"
            )
        runs.append(RunSpec(key[0], key[1], times, offset, frozenset(deps)))
        run_of[key] = len(runs) - 1
        offset += len(times)
    meas_row = np.empty(n_meas, dtype=np.intp)
    for i, key in enumerate(keys):
        run = runs[run_of[key]]
        meas_row[i] = run.offset + int(np.searchsorted(run.times, times_all[i]))

    # --- placeholders --------------------------------------------------------------------------
    def placeholder_table(column: str) -> np.ndarray:
        values = meas[column] if column in meas.columns else [None] * n_meas
        lists = [_split_overrides(v) for v in values]
        width = max((len(v) for v in lists), default=0)
        out = np.full((n_meas, max(width, 1)), -1, dtype=np.intp)
        for i, tokens in enumerate(lists):
            for k, token in enumerate(tokens):
                where = f"{files['measurements']}, row {i + 2}, column {column}"
                out[i, k] = theta.resolve(token, where)
        return out

    obs_src = placeholder_table("observableParameters")
    noise_src = placeholder_table("noiseParameters")

    # --- observables ----------------------------------------------------------------------------
    columns: list[str] = []

    def column_of(name: str) -> int:
        selection = f"[{name}]" if entities.get(name) == "species" and name not in amounts else name
        if selection not in columns:
            columns.append(selection)
        return columns.index(selection)

    observables = []
    obs_ids = meas["observableId"].astype(str).to_numpy()
    for oid, row in obs_df.iterrows():
        oid = str(oid)
        rows = np.flatnonzero(obs_ids == oid)
        if rows.size == 0:
            continue
        where = f"{files['observables']}, observable {oid!r}"
        formula = sympify_petab(str(row["observableFormula"]))
        noise_text = row.get("noiseFormula", None)
        if noise_text is None or _is_nan(noise_text) or not str(noise_text).strip():
            # pragma: no cover - the petab linter reports this first
            raise PetabError(f"{where}, column noiseFormula: empty noise formula")
        noise = sympify_petab(noise_text)
        args: list[tuple[str, int]] = []
        names: list[str] = []
        symbols = sorted(formula.free_symbols | noise.free_symbols, key=lambda s: s.name)
        for sym in symbols:
            name = sym.name
            match = _PLACEHOLDER.match(name)
            if match and match.group(3) == oid:
                kind = "obs" if match.group(1) == "observable" else "noise"
                k = int(match.group(2)) - 1
                src = obs_src if kind == "obs" else noise_src
                column = "observableParameters" if kind == "obs" else "noiseParameters"
                missing = [int(i) for i in rows if k >= src.shape[1] or src[i, k] < 0]
                if missing:  # pragma: no cover - the petab linter reports this first
                    raise PetabError(
                        f"{files['measurements']}, row {missing[0] + 2}, column {column}: "
                        f"no value for placeholder {name!r} of observable {oid!r}"
                    )
                args.append((kind, k))
            elif name in theta.index:
                args.append(("theta", theta.index[name]))
            elif name == "time" or name in entities:
                if entities.get(name) == "reaction":
                    raise PetabError(
                        f"{where}: reaction fluxes ({name!r}) in formulas are not supported"
                    )
                args.append(("sim", column_of(name)))
            else:  # pragma: no cover - the petab linter reports this first
                hint = did_you_mean(name, [*entities, *theta.index])
                raise PetabError(
                    f"{where}: unknown symbol {name!r} in observableFormula/noiseFormula"
                    + (f" — did you mean {hint}?" if hint else "")
                )
            names.append(name)
        transform = str(row.get("observableTransformation", "lin"))
        transform = "lin" if transform in ("nan", "") else transform
        dist = str(row.get("noiseDistribution", "normal"))
        dist = "normal" if dist in ("nan", "") else dist
        single = noise.name if getattr(noise, "is_Symbol", False) else None
        spec = ObservableSpec(
            id=oid,
            formula=formula,
            noise=noise,
            args=args,
            transform=Transform.from_name(transform),
            distribution=Distribution.from_name(dist),
            rows=rows,
            noise_symbol=single,
            arg_names=names,
        )
        observables.append(spec)
    known = set(obs_df.index.astype(str))
    unknown = sorted(set(obs_ids) - known)
    if unknown:  # pragma: no cover - the petab linter reports this first
        raise PetabError(f"{files['measurements']}: unknown observableId {unknown[0]!r}")

    measurement_ids = [
        (obs_ids[i], keys[i][0] or "", keys[i][1], float(times_all[i])) for i in range(n_meas)
    ]
    return PetabSpec(
        table_ids=table_ids,
        scales=scales,
        lower=lower,
        upper=upper,
        nominal=nominal,
        estimated=estimated,
        constants=np.array(theta.constants, dtype=float),
        model_param_ids=model_param_ids,
        condition_params=condition_params,
        condition_species=condition_species,
        runs=runs,
        columns=columns,
        y=meas["measurement"].astype(float).to_numpy(),
        meas_row=meas_row,
        obs_src=obs_src,
        noise_src=noise_src,
        observables=observables,
        measurement_ids=measurement_ids,
        condition_compartments=condition_compartments,
        objective_priors=read_priors(par, scales, estimated, files["parameters"], "objective"),
        initialization_priors=read_priors(
            par, scales, estimated, files["parameters"], "initialization"
        ),
    )
