"""Helpers of :mod:`paracrine.fitting.petab.problem`: parameter scales, observable
transformations, and which parameters are solved analytically or make σ variable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from paracrine.fitting.objective.noise import Distribution, Transform

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from paracrine.fitting.petab.build import PetabSpec

__all__ = [
    "InnerGroup",
    "ScaleGroup",
    "find_inner_groups",
    "find_scale_groups",
    "find_variable_sigma",
    "observables_using",
    "to_natural",
    "to_scale",
]


@dataclass
class InnerGroup:
    """An estimated noise parameter solved in closed form, and the measurements it covers."""

    table_index: int
    rows: np.ndarray
    laplace: bool


def to_natural(x: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Values on their PEtab scales (:class:`Transform` codes) to the natural scale."""
    out = np.array(x, dtype=float)
    log = scales == Transform.LOG
    log10 = scales == Transform.LOG10
    out[log] = np.exp(out[log])
    out[log10] = 10.0 ** out[log10]
    return out


def to_scale(v: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Natural values to their PEtab scales (a zero on a log scale becomes -inf)."""
    out = np.array(v, dtype=float)
    with np.errstate(divide="ignore"):
        log = scales == Transform.LOG
        log10 = scales == Transform.LOG10
        out[log] = np.log(out[log])
        out[log10] = np.log10(out[log10])
    return out


def _set_by_conditions(spec: PetabSpec) -> set[int]:
    """Parameters (theta_ext indices) that a condition sets in the model: never inner."""
    used: set[int] = set()
    for cond in spec.condition_params.values():
        used.update(int(s) for s in cond)
    for species in spec.condition_species.values():
        used.update(int(s) for _, s in species)
    for sizes in spec.condition_compartments.values():
        used.update(int(s) for _, s in sizes)
    return used


def find_inner_groups(spec: PetabSpec, excluded: set[int] | None = None) -> list[InnerGroup]:
    """Estimated parameters used only as the whole noise formula of some measurements (with
    one noise distribution): their optimum is closed-form (σ² = mean d², b = mean |d|).

    Parameters in *excluded* (those with an objective prior, whose optimum the prior moves)
    are never inner."""
    n_table = len(spec.table_ids)
    whole: dict[int, list[int]] = {}  # table index -> measurement rows (whole noise)
    dist: dict[int, set[bool]] = {}
    other = _set_by_conditions(spec) | set(excluded or ())
    other.update(int(s) for s in spec.obs_src.ravel() if s >= 0)
    for obs in spec.observables:
        name = obs.noise_symbol
        target_rows: dict[int, list[int]] = {}
        for (kind, ref), arg in zip(obs.args, obs.arg_names, strict=True):
            in_formula = any(s.name == arg for s in obs.formula.free_symbols)
            is_whole = name == arg and not in_formula
            if kind == "theta":
                if is_whole:
                    target_rows.setdefault(ref, []).extend(int(r) for r in obs.rows)
                else:
                    other.add(ref)
            elif kind == "noise":
                srcs = spec.noise_src[obs.rows, ref]
                if is_whole:
                    for r, s in zip(obs.rows, srcs, strict=True):
                        target_rows.setdefault(int(s), []).append(int(r))
                else:
                    other.update(int(s) for s in srcs)
        for t, rows in target_rows.items():
            whole.setdefault(t, []).extend(rows)
            dist.setdefault(t, set()).add(obs.distribution == Distribution.LAPLACE)
    # placeholders that map to a parameter but are not used by the formula still count
    groups = []
    for t in sorted(whole):
        if t >= n_table or not spec.estimated[t] or t in other or len(dist[t]) != 1:
            continue
        groups.append(InnerGroup(t, np.array(sorted(whole[t]), dtype=np.intp), dist[t].pop()))
    return groups


def find_variable_sigma(spec: PetabSpec, free_index: np.ndarray, n_data: int) -> np.ndarray:
    """Measurements whose σ changes with the free parameters or the simulation."""
    free = np.zeros(len(spec.table_ids) + len(spec.constants), dtype=bool)
    free[free_index] = True
    out = np.zeros(n_data, dtype=bool)
    for obs in spec.observables:
        used = {s.name for s in obs.noise.free_symbols}
        for (kind, ref), arg in zip(obs.args, obs.arg_names, strict=True):
            if arg not in used:
                continue
            if kind == "sim" or (kind == "theta" and free[ref]):
                out[obs.rows] = True
            elif kind in ("obs", "noise"):
                src = spec.obs_src if kind == "obs" else spec.noise_src
                out[obs.rows] |= free[src[obs.rows, ref]]
    return out


def observables_using(spec: PetabSpec, table_index: int) -> list[int]:
    """Indices of the observables whose formulas take the parameter *table_index*."""
    out = []
    for i, obs in enumerate(spec.observables):
        for kind, ref in obs.args:
            if kind == "theta":
                hit = ref == table_index
            elif kind in ("obs", "noise"):
                src = spec.obs_src if kind == "obs" else spec.noise_src
                hit = bool(np.any(src[obs.rows, ref] == table_index))
            else:
                hit = False
            if hit:
                out.append(i)
                break
    return out


@dataclass
class ScaleGroup:
    """An estimated observable scaling (``p × f(states)``) or offset (``f(states) + p``) solved
    in closed form, and the measurements it covers."""

    table_index: int
    kind: str  # "scale" | "offset"
    rows: np.ndarray


def find_scale_groups(spec: PetabSpec, excluded: set[int]) -> list[ScaleGroup]:
    """Estimated parameters that enter observable formulas only as a multiplicative scale or an
    additive offset (and nothing else: no condition, no noise formula, no other formula), and
    are not in *excluded* (the noise levels, and parameters with an objective prior).

    A symbol p of an observable formula F is a scale where F (with its offsets removed) is
    ``p × g`` with g free of p (``F|p=0 = 0`` and ``∂²F/∂p² = 0``), an offset where
    ``∂F/∂p = 1``. Scales need normal noise (any transformation), offsets lin + normal; the
    noise formula must not contain p (Raia_CancerResearch2011's σ = abs + rel × scaled
    observable keeps its scalings free).
    """
    import sympy

    n_table = len(spec.table_ids)
    uses: dict[int, list[tuple[str, np.ndarray]]] = {}
    other = _set_by_conditions(spec) | set(excluded)
    for obs in spec.observables:
        candidates = {
            name
            for (kind, _), name in zip(obs.args, obs.arg_names, strict=True)
            if kind in ("theta", "obs")
        }
        formula_symbols = {s.name: s for s in obs.formula.free_symbols if s.name in candidates}
        noise_names = {s.name for s in obs.noise.free_symbols}
        kinds: dict[str, str] = {}
        offsets = [
            sym
            for name, sym in formula_symbols.items()
            if name not in noise_names and sympy.simplify(sympy.diff(obs.formula, sym) - 1) == 0
        ]
        reduced = obs.formula.subs(dict.fromkeys(offsets, 0))
        for sym in offsets:
            kinds[sym.name] = "offset"
        for name, sym in formula_symbols.items():
            if name in kinds or name in noise_names:
                continue
            if sympy.simplify(reduced.subs(sym, 0)) == 0 and sympy.diff(reduced, sym, 2) == 0:
                kinds[name] = "scale"
        if sum(k == "scale" for k in kinds.values()) > 1:  # p·q·g: neither is a lone scale
            kinds = {n: k for n, k in kinds.items() if k != "scale"}
        allowed = obs.distribution == Distribution.NORMAL and (
            obs.transform == Transform.LIN or all(k == "scale" for k in kinds.values())
        )
        for (kind, ref), name in zip(obs.args, obs.arg_names, strict=True):
            if kind == "theta":
                targets = np.full(obs.rows.size, ref, dtype=np.intp)
            elif kind in ("obs", "noise"):
                src = spec.obs_src if kind == "obs" else spec.noise_src
                targets = src[obs.rows, ref]
            else:
                continue
            role = kinds.get(name) if (allowed and kind != "noise") else None
            for t in np.unique(targets):
                t = int(t)
                if role is None:
                    other.add(t)
                else:
                    uses.setdefault(t, []).append((role, obs.rows[targets == t]))
    groups = []
    for t in sorted(uses):
        roles = {role for role, _ in uses[t]}
        if t >= n_table or not spec.estimated[t] or t in other or len(roles) != 1:
            continue
        rows = np.unique(np.concatenate([r for _, r in uses[t]]))
        groups.append(ScaleGroup(t, roles.pop(), rows))
    return groups
