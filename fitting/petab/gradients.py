"""Sensitivity-based Jacobians of PEtab problems (CasADi + CVODES), finite differences kept as
the fallback.

:class:`CasadiSensitivities` is a :data:`~paracrine.fitting.objective.jacobian.Sensitivities`
provider for :class:`~paracrine.fitting.petab.PetabProblem`: it translates the SBML model
(libsbml's abstract syntax trees → CasADi SX; no code generation, no C compiler) and returns
d(outputs of each run)/dx_j on the problem's parameter scales, from one CVODES integration per
run and point. Two ways to get them (``method``): the forward sensitivity equations written
out and integrated with the states as one ODE (fast for small runs), or CasADi's derivatives
of its CVODES integrator (forward, or adjoint when a run has fewer outputs than parameters;
faster for runs with thousands of sensitivity states); ``"auto"`` picks per run. The
objective itself stays on libRoadRunner; the provider only replaces the re-simulations of the
finite-difference Jacobian (:func:`~paracrine.fitting.objective.jacobian.sparse_jacobian`
still differentiates the observation model and the closed-form inner parameters along each
sensitivity direction).

What it follows (as :mod:`paracrine.fitting.petab.simulate` does): condition parameters set,
initial assignments evaluated with them (their dependence on parameters differentiated), the
condition's species values applied; pre-equilibration integrated to the first of the
checkpoints 1, 3, 7, 15, … (libRoadRunner's sequence) where max |dx/dt| ≤ atol_ss + rtol_ss·|x|
(the sensitivities integrated to the same time); piecewise switches in time
(``piecewise(…, time - t_s < 0, …)``, Brannmark_JBC2010) integrated as separate CVODES
segments, so the integrator restarts at the switch as libRoadRunner's root finding does.

Not handled (:class:`UnsupportedModel`, the problem keeps finite differences): events, delays,
algebraic rules, fast reactions, non-constant compartments, initial assignments to parameters
or compartments, piecewise conditions on states, switch times that depend on an estimated
parameter, conditions that set a fixed (boundary/constant) species. A run that fails in CVODES
returns ``None`` from the hook (finite differences for that parameter), never a wrong column.

:func:`choose_gradient` picks the route per problem by measuring one finite-difference and
one sensitivity Jacobian near the nominal point: sensitivities if the two agree (a check
against translation errors) and sensitivities cost at most 10× the finite differences (they
are 25–280× more accurate, and that shows in fits); finite differences otherwise. Wiring
into :class:`PetabProblem` is one attribute (``problem.sensitivities = provider``) — see
:func:`use_fastest_gradient`.

Why CasADi and not JAX/diffrax: no compilation (SX graphs are evaluated by CasADi's virtual
machine; translation plus the first Jacobian, which builds every run's functions and
integrators, take 0.04–2.5 s on the four benchmark problems, whereas a stiff diffrax solver
is traced and XLA-compiled per model; not tried here), CVODES is the integrator
libRoadRunner uses (same tolerances mean the same thing), and steady states and switches are
plain integrations. CasADi's own C code generation (``jit``) did not finish compiling the
sensitivity functions of Lucarelli_CellSystems2018 in 600 s, so it is not used.

libRoadRunner's own sensitivities (2.10, ``timeSeriesSensitivities``) were not usable: uniform
output grids only, results in amounts and in the model's species order, a relative error of
1e-2 against central differences on Boehm_JProteomeRes2014 (241-point grid; 4e-4 with 97
points), and a second call on the same instance fails with CVODES ``CV_TOO_MUCH_WORK``;
2.11.0 has no wheel for Python 3.11 (only cp312). Numbers: benchmarks/petab_gradients.py.
"""

from __future__ import annotations

import itertools
import math
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from paracrine.errors import SimulationError
from paracrine.fitting.objective.noise import Transform

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from paracrine.fitting.petab.problem import PetabProblem

__all__ = [
    "CasadiSensitivities",
    "GradientChoice",
    "SymbolicModel",
    "UnsupportedModel",
    "choose_gradient",
    "gradient_error",
    "use_fastest_gradient",
]

#: Pre-equilibration checkpoints: 1, 3, 7, 15, … (first 1, interval doubling), to this time.
_PREEQ_MAX_TIME = 1e9
#: CasADi's AD mode of the run Jacobians: ``None`` = CasADi's choice (adjoints for runs with
#: fewer outputs than free parameters, then forward sensitivities if the adjoint fails: the
#: backward problem failed with CVODES mxstep on Brannmark_JBC2010 at rtol 1e-10); 0.0 =
#: forward sensitivities always.
AD_WEIGHT: float | None = None
#: ``method="auto"``: a run whose sensitivity system has at most this many states
#: (n_x·(1 + n_free)) integrates the sensitivity equations written out as one ODE; larger
#: ones use CasADi's derivatives of the integrator. Measured (one Jacobian, 2 cores, load ~3):
#: written out 0.09 s vs 0.26 s on Brannmark_JBC2010 (144 states per run), 0.63 s vs 1.07 s on
#: Bachmann_MSB2011 (700), but 3.1 s vs 1.0 s on Lucarelli_CellSystems2018 (~2300).
AUGMENTED_MAX_STATES = 1500
#: Extra options of CasADi's CVODES interface (see casadi.doc_integrator('cvodes')).
CVODES_OPTIONS: dict[str, Any] = {}
#: Extra options of the CasADi functions of ``method="casadi-ad"`` (e.g. ``max_num_dir``).
FUNCTION_OPTIONS: dict[str, Any] = {}


class UnsupportedModel(ValueError):
    """The SBML model uses a feature the sensitivity route does not differentiate."""


# ------------------------------------------------------------------------------------------------
# SBML -> CasADi
# ------------------------------------------------------------------------------------------------
@dataclass
class SymbolicModel:
    """An SBML model as CasADi SX expressions.

    Attributes
    ----------
    state_ids
        Ids of the states: species not fixed (concentrations; amounts for
        ``hasOnlySubstanceUnits`` species), then parameters with rate rules.
    constant_ids
        Ids of the model constants ``P``: global parameters without rules, then compartments.
    constant_values
        Their SBML values.
    t, x, p
        The CasADi symbols of time, states and constants.
    rhs
        dx/dt as an SX column, shape ``(n_states, 1)``.
    x0
        Initial states as SX in ``p`` (initial assignments included).
    switches
        Expressions ``g(t, p)``, linear in t, whose sign flips define piecewise switches.
    """

    state_ids: list[str]
    constant_ids: list[str]
    constant_values: np.ndarray
    t: Any
    x: Any
    p: Any
    rhs: Any
    x0: Any
    switches: list[Any]
    _symbols: dict[str, Any] = field(repr=False, default_factory=dict)
    _conversions: dict[str, tuple[bool, Any]] = field(repr=False, default_factory=dict)
    _translator: Any = field(repr=False, default=None)

    @classmethod
    def from_sbml(cls, sbml: str) -> SymbolicModel:
        """Translate SBML text.

        Raises
        ------
        UnsupportedModel
            Naming the first feature that is not translated.
        """
        import casadi as ca
        import libsbml

        doc = libsbml.readSBMLFromString(sbml)
        model = doc.getModel()
        if model is None:
            raise UnsupportedModel("the SBML text has no model")
        if model.getNumEvents():
            raise UnsupportedModel(f"{model.getNumEvents()} events")
        for rule in model.getListOfRules():
            if rule.isAlgebraic():
                raise UnsupportedModel("algebraic rules")
        for reaction in model.getListOfReactions():
            if reaction.isSetFast() and reaction.getFast():
                raise UnsupportedModel(f"fast reaction {reaction.getId()!r}")
        assignment = {
            r.getVariable(): r.getMath() for r in model.getListOfRules() if r.isAssignment()
        }
        rate = {r.getVariable(): r.getMath() for r in model.getListOfRules() if r.isRate()}
        compartments = {c.getId(): c for c in model.getListOfCompartments()}
        for cid, comp in compartments.items():
            if cid in assignment or cid in rate or not comp.getConstant():
                raise UnsupportedModel(f"compartment {cid!r} is not constant")
        initial = {a.getSymbol(): a.getMath() for a in model.getListOfInitialAssignments()}
        species = list(model.getListOfSpecies())
        species_ids = {s.getId() for s in species}
        for target in initial:
            if target not in species_ids:
                raise UnsupportedModel(f"initial assignment to the non-species {target!r}")
        functions = {f.getId(): f for f in model.getListOfFunctionDefinitions()}

        constant_ids = [
            p.getId()
            for p in model.getListOfParameters()
            if p.getId() not in assignment and p.getId() not in rate
        ]
        constant_values = [model.getParameter(pid).getValue() for pid in constant_ids]
        for cid, comp in compartments.items():
            constant_ids.append(cid)
            constant_values.append(comp.getSize() if comp.isSetSize() else 1.0)
        p = ca.SX.sym("p", len(constant_ids))
        t = ca.SX.sym("t")
        symbols: dict[str, Any] = {pid: p[i] for i, pid in enumerate(constant_ids)}

        # states: species whose value changes, then rate-rule parameters
        dynamic_species = [
            s
            for s in species
            if not s.getConstant()
            and s.getId() not in assignment
            and (not s.getBoundaryCondition() or s.getId() in rate)
        ]
        fixed_species = [
            s for s in species if s not in dynamic_species and s.getId() not in assignment
        ]
        rate_params = [v for v in rate if v not in species_ids]
        state_ids = [s.getId() for s in dynamic_species] + rate_params
        x = ca.SX.sym("x", len(state_ids))
        for i, sid in enumerate(state_ids):
            symbols[sid] = x[i]

        def species_start(s: Any) -> Any:
            volume = compartments[s.getCompartment()].getSize()
            if s.isSetInitialConcentration():
                conc = s.getInitialConcentration()
                return conc * volume if s.getHasOnlySubstanceUnits() else conc
            if s.isSetInitialAmount():
                amount = s.getInitialAmount()
                return amount if s.getHasOnlySubstanceUnits() else amount / volume
            return 0.0

        translator = _Translator(symbols, assignment, functions, t, x=x)
        # fixed species (constant or boundary without rules) are constants at their start value
        # (or their initial assignment); they enter the right-hand side as numbers
        start_symbols: dict[str, Any] = dict(symbols)
        for s in fixed_species:
            value = (
                translator.with_symbols(start_symbols).translate(initial[s.getId()])
                if s.getId() in initial
                else ca.SX(species_start(s))
            )
            symbols[s.getId()] = value
            start_symbols[s.getId()] = value

        rhs = [ca.SX(0) for _ in state_ids]
        index = {sid: i for i, sid in enumerate(state_ids)}
        for reaction in model.getListOfReactions():
            law = reaction.getKineticLaw()
            if law is None:
                raise UnsupportedModel(f"reaction {reaction.getId()!r} has no kinetic law")
            local = {lp.getId(): ca.SX(lp.getValue()) for lp in law.getListOfLocalParameters()}
            local.update({lp.getId(): ca.SX(lp.getValue()) for lp in law.getListOfParameters()})
            flux = translator.with_locals(local).translate(law.getMath())
            for ref, sign in [(r, -1.0) for r in reaction.getListOfReactants()] + [
                (r, 1.0) for r in reaction.getListOfProducts()
            ]:
                sid = ref.getSpecies()
                if sid not in index or model.getSpecies(sid).getBoundaryCondition():
                    continue
                if ref.isSetStoichiometryMath():
                    raise UnsupportedModel("stoichiometryMath")
                if model.getLevel() >= 3 and ref.isSetId() and ref.getId() in assignment:
                    raise UnsupportedModel("variable stoichiometry")
                stoich = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                s = model.getSpecies(sid)
                volume = symbols[s.getCompartment()]
                term = sign * stoich * flux
                rhs[index[sid]] += term if s.getHasOnlySubstanceUnits() else term / volume
        for variable, math_ in rate.items():
            if variable not in index:
                raise UnsupportedModel(f"rate rule on {variable!r}")
            # a rate rule gives the rate of the species' value (concentration, or amount
            # for hasOnlySubstanceUnits species), which is the state here
            rhs[index[variable]] = translator.translate(math_)

        # initial states: initial assignments see parameters, compartments and the other
        # species' starting values (not their dynamics)
        start_translator = translator.with_symbols(start_symbols)
        x0 = []
        starts: dict[str, Any] = {}
        for sid in state_ids:
            if sid in species_ids:
                starts[sid] = ca.SX(species_start(model.getSpecies(sid)))
            else:
                starts[sid] = ca.SX(model.getParameter(sid).getValue())
        start_symbols.update(starts)
        for sid in state_ids:
            x0.append(start_translator.translate(initial[sid]) if sid in initial else starts[sid])
        rhs_sx = ca.vertcat(*rhs) if rhs else ca.SX(0, 1)
        x0_sx = ca.vertcat(*x0) if x0 else ca.SX(0, 1)
        # switches in the right-hand side must be linear in time
        for g in translator.switches:
            if ca.depends_on(ca.jacobian(g, t), t):
                raise UnsupportedModel("a piecewise condition that is not linear in time")
        return cls(
            state_ids=state_ids,
            constant_ids=constant_ids,
            constant_values=np.array(constant_values, dtype=float),
            t=t,
            x=x,
            p=p,
            rhs=rhs_sx,
            x0=x0_sx,
            switches=[g for g in translator.switches if ca.depends_on(g, t)],
            _symbols=symbols,
            _translator=translator,
            _conversions={
                s.getId(): (bool(s.getHasOnlySubstanceUnits()), symbols[s.getCompartment()])
                for s in species
            },
        )

    def expression(self, name: str, *, concentration: bool) -> Any:
        """SX of a model entity (a state, constant, assignment-rule target or ``time``).

        A species read as a concentration divides an amount state by its compartment and
        vice versa, so that *concentration* matches libRoadRunner's ``[S]`` / ``S`` selections.
        """
        if name == "time":
            return self.t
        if name in self._symbols:
            value = self._symbols[name]
        elif self._translator is not None:
            value = self._translator.name(name)  # an assignment-rule target
        else:  # pragma: no cover - from_sbml always sets the translator
            raise UnsupportedModel(f"output {name!r} is not a model entity")
        conversion = self._conversions.get(name)
        if conversion is None:
            return value
        is_amount, volume = conversion
        if concentration and is_amount:
            return value / volume
        if not concentration and not is_amount:
            return value * volume
        return value


class _Translator:
    """libsbml ASTNode → CasADi SX, with function definitions inlined."""

    def __init__(
        self,
        symbols: dict[str, Any],
        assignment: dict[str, Any],
        functions: dict[str, Any],
        t: Any,
        local: dict[str, Any] | None = None,
        memo: dict[str, Any] | None = None,
        switches: list[Any] | None = None,
        x: Any = None,
    ) -> None:
        self.x = x
        self.symbols = symbols
        self.assignment = assignment
        self.functions = functions
        self.t = t
        self.local = local or {}
        self.memo = {} if memo is None else memo
        self.switches = [] if switches is None else switches

    def with_locals(self, local: dict[str, Any]) -> _Translator:
        return _Translator(
            self.symbols,
            self.assignment,
            self.functions,
            self.t,
            local,
            self.memo,
            self.switches,
            self.x,
        )

    def with_symbols(self, symbols: dict[str, Any]) -> _Translator:
        return _Translator(
            symbols, self.assignment, self.functions, self.t, None, {}, self.switches, self.x
        )

    def name(self, name: str) -> Any:
        if name in self.local:
            return self.local[name]
        if name in self.symbols:
            return self.symbols[name]
        if name in self.assignment:
            if name not in self.memo:
                self.memo[name] = None  # cycle guard
                self.memo[name] = self.translate(self.assignment[name])
            if self.memo[name] is None:
                raise UnsupportedModel(f"cyclic assignment rule of {name!r}")
            return self.memo[name]
        raise UnsupportedModel(f"unknown symbol {name!r}")

    def translate(self, node: Any, bound: dict[str, Any] | None = None) -> Any:
        import casadi as ca
        import libsbml

        ty = node.getType()
        args = [self.translate(node.getChild(i), bound) for i in range(node.getNumChildren())]
        if ty == libsbml.AST_NAME:
            name = node.getName()
            if bound and name in bound:
                return bound[name]
            return self.name(name)
        if ty == libsbml.AST_NAME_TIME:
            return self.t
        if ty in (libsbml.AST_INTEGER, libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
            return ca.SX(node.getValue())
        if ty == libsbml.AST_CONSTANT_PI:
            return ca.SX(math.pi)
        if ty == libsbml.AST_CONSTANT_E:
            return ca.SX(math.e)
        if ty == libsbml.AST_CONSTANT_TRUE:
            return ca.SX(1.0)
        if ty == libsbml.AST_CONSTANT_FALSE:
            return ca.SX(0.0)
        if ty == libsbml.AST_PLUS:
            return sum(args[1:], args[0]) if args else ca.SX(0)
        if ty == libsbml.AST_MINUS:
            return -args[0] if len(args) == 1 else args[0] - args[1]
        if ty == libsbml.AST_TIMES:
            out = ca.SX(1) if not args else args[0]
            for a in args[1:]:
                out = out * a
            return out
        if ty == libsbml.AST_DIVIDE:
            return args[0] / args[1]
        if ty in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return args[0] ** args[1]
        if ty == libsbml.AST_FUNCTION_EXP:
            return ca.exp(args[0])
        if ty == libsbml.AST_FUNCTION_LN:
            return ca.log(args[0])
        if ty == libsbml.AST_FUNCTION_LOG:
            if len(args) == 1:
                return ca.log10(args[0])
            return ca.log(args[1]) / ca.log(args[0])
        if ty == libsbml.AST_FUNCTION_ROOT:
            return args[1] ** (1.0 / args[0]) if len(args) == 2 else ca.sqrt(args[0])
        if ty == libsbml.AST_FUNCTION_ABS:
            return ca.fabs(args[0])
        if ty == libsbml.AST_FUNCTION_FLOOR:
            return ca.floor(args[0])
        if ty == libsbml.AST_FUNCTION_CEILING:
            return ca.ceil(args[0])
        simple = {
            libsbml.AST_FUNCTION_SIN: ca.sin,
            libsbml.AST_FUNCTION_COS: ca.cos,
            libsbml.AST_FUNCTION_TAN: ca.tan,
            libsbml.AST_FUNCTION_TANH: ca.tanh,
            libsbml.AST_FUNCTION_SINH: ca.sinh,
            libsbml.AST_FUNCTION_COSH: ca.cosh,
            libsbml.AST_FUNCTION_ARCTAN: ca.atan,
        }
        if ty in simple:
            return simple[ty](args[0])
        if ty in (
            getattr(libsbml, "AST_FUNCTION_MAX", -1),
            getattr(libsbml, "AST_FUNCTION_MIN", -1),
        ):
            op = ca.fmax if ty == libsbml.AST_FUNCTION_MAX else ca.fmin
            out = args[0]
            for a in args[1:]:
                out = op(out, a)
            return out
        relations = {
            libsbml.AST_RELATIONAL_LT: lambda a, b: (a < b, a - b),
            libsbml.AST_RELATIONAL_LEQ: lambda a, b: (a <= b, a - b),
            libsbml.AST_RELATIONAL_GT: lambda a, b: (a > b, a - b),
            libsbml.AST_RELATIONAL_GEQ: lambda a, b: (a >= b, a - b),
            libsbml.AST_RELATIONAL_EQ: lambda a, b: (a == b, a - b),
            libsbml.AST_RELATIONAL_NEQ: lambda a, b: (a != b, a - b),
        }
        if ty in relations:
            if len(args) != 2:
                raise UnsupportedModel("a relation with more than two operands")
            value, switch = relations[ty](*args)
            if self.x is not None and ca.depends_on(switch, self.x):
                raise UnsupportedModel("a piecewise condition on a state (needs root finding)")
            if ca.depends_on(switch, self.t):
                self.switches.append(switch)
            return value
        if ty == libsbml.AST_LOGICAL_AND:
            return ca.logic_and(args[0], args[1]) if len(args) == 2 else _fold(ca.logic_and, args)
        if ty == libsbml.AST_LOGICAL_OR:
            return ca.logic_or(args[0], args[1]) if len(args) == 2 else _fold(ca.logic_or, args)
        if ty == libsbml.AST_LOGICAL_NOT:
            return ca.logic_not(args[0])
        if ty == libsbml.AST_FUNCTION_PIECEWISE:
            # piecewise(v1, c1, v2, c2, …, otherwise)
            otherwise = args[-1] if len(args) % 2 else ca.SX(float("nan"))
            out = otherwise
            pairs = [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
            for value, condition in reversed(pairs):
                out = ca.if_else(condition, value, out)
            return out
        if ty == libsbml.AST_FUNCTION:
            name = node.getName()
            if name not in self.functions:
                raise UnsupportedModel(f"function {name!r}")
            lam = self.functions[name].getMath()
            n_args = lam.getNumChildren() - 1
            names = [lam.getChild(i).getName() for i in range(n_args)]
            return self.translate(lam.getChild(n_args), dict(zip(names, args, strict=True)))
        if ty == libsbml.AST_FUNCTION_DELAY:
            raise UnsupportedModel("delay")
        raise UnsupportedModel(f"MathML element {node.getName() or ty!r}")


def _fold(op: Any, args: list[Any]) -> Any:
    out = args[0]
    for a in args[1:]:
        out = op(out, a)
    return out


# ------------------------------------------------------------------------------------------------
# runs of a PEtab problem with forward sensitivities
# ------------------------------------------------------------------------------------------------
def _numeric(expression: Any, model: SymbolicModel, p: np.ndarray) -> float:
    """Value of an SX expression of the model constants at *p*."""
    import casadi as ca

    return float(ca.Function("value", [model.p], [expression])(p))


def _checkpoints(start: float) -> np.ndarray:
    """libRoadRunner's steady-state checkpoints after *start*: start+1, +3, +7, … (≤ 1e9)."""
    out, t, step = [], start, 1.0
    while t < _PREEQ_MAX_TIME:
        t = min(t + step, start + _PREEQ_MAX_TIME)
        out.append(t)
        step *= 2.0
    return np.array(out)


class _Run:
    """One PEtab run (pre-equilibration + simulation condition): CasADi functions
    ``(u_free, u_fixed, T) -> outputs`` and their Jacobian in ``u_free`` (``u``: the entries
    of theta_ext the run's conditions read; ``T``: the pre-equilibration time), and the
    written-out sensitivity equations (:meth:`augmented`)."""

    def __init__(
        self,
        model: SymbolicModel,
        spec: Any,
        index: int,
        free_table: set[int],
        rtol: float,
        atol: float,
        theta: np.ndarray,
        shared: dict[tuple, Any] | None = None,
    ) -> None:
        import casadi as ca

        run = spec.runs[index]
        self.run = run
        self.times = np.asarray(run.times, dtype=float)
        conditions = [c for c in (run.preeq, run.sim) if c is not None]
        # PEtab semantics this route does not follow (the run keeps finite differences):
        # outputs before t = 0 are the state at t = 0, time = inf is the steady state, and a
        # condition may set compartment sizes
        if (self.times < 0).any():
            raise UnsupportedModel("measurements before t = 0 (PEtab: the state at t = 0)")
        if not np.isfinite(self.times).all():
            raise UnsupportedModel("steady-state measurements (time = inf)")
        compartments = getattr(spec, "condition_compartments", {}) or {}
        if any(compartments.get(c) for c in conditions):
            raise UnsupportedModel("compartment sizes set in the condition table")
        used: list[int] = []
        for c in conditions:
            used.extend(int(i) for i in spec.condition_params[c])
            used.extend(int(i) for _, i in spec.condition_species[c])
        used = list(dict.fromkeys(used))
        self.free = np.array([i for i in used if i in free_table], dtype=np.intp)
        self.fixed = np.array([i for i in used if i not in free_table], dtype=np.intp)
        uf = ca.MX.sym("uf", self.free.size)
        ug = ca.MX.sym("ug", self.fixed.size)
        position = {int(i): ("f", k) for k, i in enumerate(self.free)}
        position.update({int(i): ("g", k) for k, i in enumerate(self.fixed)})

        def u(i: int) -> Any:
            kind, k = position[int(i)]
            return uf[k] if kind == "f" else ug[k]

        constant_index = {pid: k for k, pid in enumerate(model.constant_ids)}
        for pid in spec.model_param_ids:
            if pid not in constant_index:
                raise UnsupportedModel(f"condition parameter {pid!r} is not a model constant")

        def constants(condition: str) -> Any:
            values = [ca.MX(v) for v in model.constant_values]
            for pid, src in zip(
                spec.model_param_ids, spec.condition_params[condition], strict=True
            ):
                values[constant_index[pid]] = u(int(src))
            return ca.vertcat(*values)

        def numeric_constants(condition: str, at: np.ndarray = theta) -> np.ndarray:
            """Model constants of *condition* at the parameter vector *at* (default: the
            build point, which fixes the switch times)."""
            values = model.constant_values.copy()
            for pid, src in zip(
                spec.model_param_ids, spec.condition_params[condition], strict=True
            ):
                values[constant_index[pid]] = at[int(src)]
            return values

        state_index = {sid: k for k, sid in enumerate(model.state_ids)}
        for condition in conditions:
            for selection, _ in spec.condition_species[condition]:
                if selection.strip("[]") not in state_index:
                    raise UnsupportedModel(
                        f"condition {condition!r} sets the fixed species {selection.strip('[]')!r}"
                    )

        def apply_species(x: Any, condition: str, p: Any) -> Any:
            for selection, src in spec.condition_species[condition]:
                concentration = selection.startswith("[")
                sid = selection.strip("[]")
                if sid not in state_index:
                    raise UnsupportedModel(
                        f"condition {condition!r} sets the fixed species {sid!r}"
                    )
                is_amount, volume = model._conversions[sid]
                value = u(int(src))
                if concentration and is_amount:
                    value = value * ca.Function("v", [model.p], [volume])(p)
                elif not concentration and not is_amount:
                    value = value / ca.Function("v", [model.p], [volume])(p)
                k = state_index[sid]
                x = ca.vertcat(x[:k], value, x[k + 1 :])
            return x

        x0_fun = ca.Function("x0", [model.p], [model.x0])
        # failures raise (a None column: finite differences there); SUNDIALS' and CasADi's
        # own messages about them (NaN at extreme parameters) are silenced, as the
        # libRoadRunner side silences its log
        opts = {
            "abstol": atol,
            "reltol": rtol,
            "max_num_steps": 100_000,
            "show_eval_warnings": False,
            "disable_internal_warnings": True,
            **CVODES_OPTIONS,
        }
        dae = {"x": model.x, "p": model.p, "t": model.t, "ode": model.rhs}
        switch_time = []
        for g in model.switches:
            g0, g1 = ca.substitute(g, model.t, 0), ca.substitute(g, model.t, 1)
            ts = -g0 / (g1 - g0)
            switch_time.append(ca.Function("ts", [model.p], [ts, ca.jacobian(ts, model.p)]))

        def switch_times(condition: str, after: float, before: float) -> list[float]:
            """Switch times of *condition* in (after, before); refused if one moves with x."""
            p_num = numeric_constants(condition)
            out = []
            for k, fun in enumerate(switch_time):
                value, grad = fun(p_num)
                value, grad = float(value), np.asarray(grad).ravel()
                if not after < value < before:
                    continue
                moved = [
                    pid
                    for pid, src in zip(
                        spec.model_param_ids, spec.condition_params[condition], strict=True
                    )
                    if int(src) in free_table and grad[constant_index[pid]] != 0
                ]
                if moved:
                    raise UnsupportedModel(f"switch time {k} depends on estimated {moved}")
                out.append(value)
            return sorted(set(out))

        def integrate(x: Any, p: Any, start: float, grid: np.ndarray, condition: str) -> list[Any]:
            """States at every time of *grid* (> start), restarting at the switches."""
            bounds = [start, *switch_times(condition, start, float(grid[-1])), float(grid[-1])]
            states = []
            for a, b in itertools.pairwise(bounds):
                inside = [float(t) for t in grid if a < t <= b]
                tout = sorted(set(inside) | {b})
                fun = ca.integrator(f"seg{len(states)}", "cvodes", dae, a, tout, opts)
                xf = fun(x0=x, p=p)["xf"]
                for t in inside:
                    states.append(xf[:, tout.index(t)])
                x = xf[:, -1]
            return states, x

        self.preeq_start = 0.0
        if run.preeq is not None:
            pre_switches = switch_times(run.preeq, 0.0, _PREEQ_MAX_TIME)
            self.preeq_start = pre_switches[-1] if pre_switches else 0.0
        self.n_columns = max(len(spec.columns), 1)
        self.n_outputs = self.times.size * self.n_columns
        self._rhs = ca.Function("rhs", [model.t, model.x, model.p], [model.rhs])
        self._probe_dae = dae
        self._probe_opts = opts
        self._context = {
            "model": model,
            "spec": spec,
            "opts": opts,
            "numeric_constants": numeric_constants,
            "switch_times": switch_times,
            "state_index": state_index,
            "constant_index": constant_index,
        }
        # integrators and sensitivity systems, shared by the runs of one provider (same model,
        # tolerances; keyed by what makes them differ: phase, parameter mapping, output times)
        self._integrators: dict[tuple, Any] = {} if shared is None else shared
        self._augmented: dict[str, Any] | None = None

        def build_ad() -> None:
            """The run as a CasADi MX graph through CVODES integrators (``casadi-ad``);
            built on first use: the written-out method never needs it."""
            T = ca.MX.sym("T")
            if run.preeq is not None:
                p_pre = constants(run.preeq)
                x = apply_species(x0_fun(p_pre), run.preeq, p_pre)
                pre_switches = switch_times(run.preeq, 0.0, _PREEQ_MAX_TIME)
                start = 0.0
                if pre_switches:
                    _, x = integrate(x, p_pre, 0.0, np.array(pre_switches), run.preeq)
                    start = pre_switches[-1]
                # the last stretch to the steady state in scaled time: t = start + tau·(T - start)
                tau = ca.SX.sym("tau")
                Ts = ca.SX.sym("Ts")
                scaled = {
                    "x": model.x,
                    "p": ca.vertcat(model.p, Ts),
                    "t": tau,
                    "ode": (Ts - start)
                    * ca.substitute(model.rhs, model.t, start + tau * (Ts - start)),
                }
                pre = ca.integrator("preeq", "cvodes", scaled, 0.0, [1.0], opts)
                x_pre_start = x
                x = pre(x0=x, p=ca.vertcat(p_pre, T))["xf"]
                # numeric search of the steady-state time
                probe_in = [uf, ug]
                self._preeq_probe = ca.Function("probe", probe_in, [x_pre_start, p_pre])
                p_sim = constants(run.sim)
                x = apply_species(x, run.sim, p_sim)
            else:
                p_sim = constants(run.sim)
                x = apply_species(x0_fun(p_sim), run.sim, p_sim)
            outputs = ca.Function(
                "y",
                [model.t, model.x, model.p],
                [
                    ca.vertcat(
                        *[
                            model.expression(c.strip("[]"), concentration=c.startswith("["))
                            for c in spec.columns
                        ]
                    )
                    if spec.columns
                    else ca.vertcat(model.t)
                ],
            )
            rows = []
            later = self.times[self.times > 0]
            if (self.times == 0).any():
                rows.append(outputs(0.0, x, p_sim))
            if later.size:
                states, _ = integrate(x, p_sim, 0.0, later, run.sim)
                rows.extend(outputs(float(t), s, p_sim) for t, s in zip(later, states, strict=True))
            out = ca.vertcat(*[ca.transpose(r) for r in rows])  # (n_times, n_columns)
            flat = ca.reshape(ca.transpose(out), -1, 1)  # row-major flattening
            self.value = ca.Function("run", [uf, ug, T], [flat])

            def jacobian_function(weight: float | None) -> Any:
                opts = {} if weight is None else {"ad_weight": weight, "ad_weight_sp": weight}
                base = ca.Function(
                    "vrun", [uf, ug, T], [flat], ["uf", "ug", "T"], ["y"], opts | FUNCTION_OPTIONS
                )
                return base.factory("jrun", ["uf", "ug", "T"], ["y", "jac:y:uf"])

            self.forward = jacobian_function(0.0)
            # CasADi's own choice: adjoints when a run has fewer outputs than free parameters
            self.adjoint = (
                jacobian_function(None)
                if AD_WEIGHT is None and self.n_outputs < self.free.size
                else None
            )

        self._build_ad = build_ad
        self._ad_built = False

    def ensure_ad(self) -> None:
        """Build the CasADi-AD functions (:attr:`value`, :attr:`forward`, :attr:`adjoint`)."""
        if not self._ad_built:
            self._build_ad()
            self._ad_built = True

    # -- the sensitivity equations written out (no AD through the integrator) -----------------
    def _build_augmented(self) -> dict[str, Any]:
        """SX of the states and their sensitivities to the run's free parameters,
        ``z = [x; vec(S)]``, ``dS/dt = ∂f/∂x·S + ∂f/∂p·M`` with ``M = ∂p/∂u_free`` (0/1) of
        each condition; one CVODES ODE of ``n_x·(1 + n_free)`` states."""
        import casadi as ca

        ctx = self._context
        model, spec = ctx["model"], ctx["spec"]
        n_x, n_f = len(model.state_ids), self.free.size
        free_pos = {int(i): k for k, i in enumerate(self.free)}
        derivatives = self._integrators.get(("model",))
        if derivatives is None:
            columns = list(spec.columns) or ["time"]
            y = ca.vertcat(
                *[model.expression(c.strip("[]"), concentration=c.startswith("[")) for c in columns]
            )
            derivatives = self._integrators[("model",)] = (
                ca.jacobian(model.rhs, model.x),
                ca.jacobian(model.rhs, model.p),
                y,
                ca.jacobian(y, model.x),
                ca.jacobian(y, model.p),
                ca.jacobian(model.x0, model.p),
            )
        jac_x, jac_p, y, y_x, y_p, x0_p = derivatives
        sens = ca.SX.sym("S", n_x, n_f)
        out: dict[str, Any] = {"n_x": n_x, "n_f": n_f, "free_pos": free_pos}
        for phase, condition in (("pre", self.run.preeq), ("sim", self.run.sim)):
            if condition is None:
                continue
            mapping = np.zeros((len(model.constant_ids), n_f))
            for pid, src in zip(
                spec.model_param_ids, spec.condition_params[condition], strict=True
            ):
                if int(src) in free_pos:
                    mapping[ctx["constant_index"][pid], free_pos[int(src)]] = 1.0
            key = (
                "aug",
                phase,
                mapping.shape,
                mapping.tobytes(),
                self.preeq_start if phase == "pre" else None,
            )
            if key in self._integrators:
                out[phase] = self._integrators[key]
                if phase == "sim":
                    out["y"] = self._integrators[key]["y"]
                else:
                    out["pre_scaled"] = self._integrators[key]["scaled"]
                continue
            m = ca.DM(mapping)
            ode = ca.vertcat(model.rhs, ca.vec(ca.mtimes(jac_x, sens) + ca.mtimes(jac_p, m)))
            z = ca.vertcat(model.x, ca.vec(sens))
            out[phase] = self._integrators[key] = {
                "key": key,
                "dae": {"x": z, "p": model.p, "t": model.t, "ode": ode},
                "x0": ca.Function("x0s", [model.p], [model.x0, ca.mtimes(x0_p, m)]),
            }
            if phase == "sim":
                out["y"] = out[phase]["y"] = ca.Function(
                    "ys",
                    [model.t, model.x, model.p, sens],
                    [
                        y,
                        ca.mtimes(y_x, sens) + ca.mtimes(y_p, m),
                    ],
                )
            if phase == "pre":
                tau, ts = ca.SX.sym("tau"), ca.SX.sym("Ts")
                start = self.preeq_start
                out["pre_scaled"] = out[phase]["scaled"] = {
                    "x": z,
                    "p": ca.vertcat(model.p, ts),
                    "t": tau,
                    "ode": (ts - start) * ca.substitute(ode, model.t, start + tau * (ts - start)),
                }
        return out

    def _integrator(self, key: tuple, dae: dict[str, Any], t0: float, tout: list[float]) -> Any:
        import casadi as ca

        fun = self._integrators.get(key)
        if fun is None:
            opts = self._context["opts"]
            fun = ca.integrator(f"aug{len(self._integrators)}", "cvodes", dae, t0, tout, opts)
            self._integrators[key] = fun
        return fun

    def augmented(
        self, theta: np.ndarray, rtol_ss: float, atol_ss: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (flat, row-major) and their Jacobian in the free parameters (natural
        scale), integrating the sensitivity equations as one ODE (the pre-equilibration time
        found on the states alone, by :meth:`steady_time_from`)."""
        if self._augmented is None:
            self._augmented = self._build_augmented()
        aug, ctx = self._augmented, self._context
        model, spec = ctx["model"], ctx["spec"]
        n_x, n_f, free_pos = aug["n_x"], aug["n_f"], aug["free_pos"]
        state_index = ctx["state_index"]

        def overrides(x: np.ndarray, sens: np.ndarray, condition: str, p: np.ndarray) -> None:
            for selection, src in spec.condition_species[condition]:
                sid = selection.strip("[]")
                is_amount, volume = model._conversions[sid]
                factor = 1.0
                if selection.startswith("[") and is_amount:
                    factor = float(_numeric(volume, model, p))
                elif not selection.startswith("[") and not is_amount:
                    factor = 1.0 / float(_numeric(volume, model, p))
                k = state_index[sid]
                x[k] = theta[int(src)] * factor
                sens[k, :] = 0.0
                if int(src) in free_pos:
                    sens[k, free_pos[int(src)]] = factor

        def split(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return z[:n_x].copy(), z[n_x:].reshape((n_x, n_f), order="F").copy()

        def join(x: np.ndarray, sens: np.ndarray) -> np.ndarray:
            return np.concatenate([x, sens.ravel(order="F")])

        def integrate(z: np.ndarray, p: np.ndarray, phase: str, grid: list[float], condition: str):
            bounds = [0.0, *ctx["switch_times"](condition, 0.0, grid[-1]), grid[-1]]
            states = []
            for a, b in itertools.pairwise(bounds):
                inside = [t for t in grid if a < t <= b]
                tout = sorted(set(inside) | {b})
                fun = self._integrator(
                    (aug[phase]["key"], a, tuple(tout)), aug[phase]["dae"], a, tout
                )
                zf = np.asarray(fun(x0=z, p=p)["xf"])
                states.extend(zf[:, tout.index(t)] for t in inside)
                z = zf[:, -1]
            return states, z

        run = self.run
        if run.preeq is not None:
            p_pre = ctx["numeric_constants"](run.preeq, theta)
            x0, s0 = aug["pre"]["x0"](p_pre)
            x, sens = np.asarray(x0).ravel(), np.asarray(s0).reshape(n_x, n_f)
            overrides(x, sens, run.preeq, p_pre)
            z = join(x, sens)
            switches = ctx["switch_times"](run.preeq, 0.0, _PREEQ_MAX_TIME)
            if switches:
                _, z = integrate(z, p_pre, "pre", switches, run.preeq)
            T = self.steady_time_from(z[:n_x], p_pre, rtol_ss, atol_ss)
            fun = self._integrator((aug["pre"]["key"], "scaled"), aug["pre_scaled"], 0.0, [1.0])
            z = np.asarray(fun(x0=z, p=np.concatenate([p_pre, [T]]))["xf"]).ravel()
            x, sens = split(z)
            p_sim = ctx["numeric_constants"](run.sim, theta)
        else:
            p_sim = ctx["numeric_constants"](run.sim, theta)
            x0, s0 = aug["sim"]["x0"](p_sim)
            x, sens = np.asarray(x0).ravel(), np.asarray(s0).reshape(n_x, n_f)
        overrides(x, sens, run.sim, p_sim)
        values, derivatives = [], []
        if (self.times == 0).any():
            y, dy = aug["y"](0.0, x, p_sim, sens)
            values.append(np.asarray(y).ravel())
            derivatives.append(np.asarray(dy).reshape(-1, n_f))
        later = [float(t) for t in self.times if t > 0]
        if later:
            states, _ = integrate(join(x, sens), p_sim, "sim", later, run.sim)
            for t, z in zip(later, states, strict=True):
                xs, ss = split(np.asarray(z).ravel())
                y, dy = aug["y"](t, xs, p_sim, ss)
                values.append(np.asarray(y).ravel())
                derivatives.append(np.asarray(dy).reshape(-1, n_f))
        return np.concatenate(values), np.vstack(derivatives)

    def steady_time(self, uf: np.ndarray, ug: np.ndarray, rtol_ss: float, atol_ss: float) -> float:
        """First checkpoint where the pre-equilibration is steady (libRoadRunner's rule);
        0 without pre-equilibration."""
        if self.run.preeq is None:
            return 0.0
        self.ensure_ad()
        x0, p = self._preeq_probe(uf, ug)
        return self.steady_time_from(
            np.asarray(x0).ravel(), np.asarray(p).ravel(), rtol_ss, atol_ss
        )

    def steady_time_from(
        self, x0: np.ndarray, p: np.ndarray, rtol_ss: float, atol_ss: float
    ) -> float:
        """:meth:`steady_time` from the states *x0* at :attr:`preeq_start` and constants *p*."""
        import casadi as ca

        grid = _checkpoints(self.preeq_start)
        key = ("probe", self.preeq_start)
        fun = self._integrators.get(key)
        if fun is None:
            fun = ca.integrator(
                "probe", "cvodes", self._probe_dae, self.preeq_start, list(grid), self._probe_opts
            )
            self._integrators[key] = fun
        xs = np.asarray(fun(x0=x0, p=p)["xf"])
        for k, t in enumerate(grid):
            rates = np.asarray(self._rhs(t, xs[:, k], p)).ravel()
            if np.all(np.abs(rates) <= atol_ss + rtol_ss * np.abs(xs[:, k])):
                return float(t)
        raise SimulationError(
            f"pre-equilibration of {self.run.preeq!r} reached no steady state by {_PREEQ_MAX_TIME:g}"
        )


class CasadiSensitivities:
    """Forward sensitivities of a :class:`PetabProblem`'s runs (the Jacobian's hook).

    Parameters
    ----------
    problem
        The problem; its free parameters, scales, runs and tolerances are read from it.
    rtol, atol
        CVODES tolerances of the states and sensitivities (default: the problem's ordinary
        ``rtol``/``atol``, concentration units).
    rtol_ss, atol_ss
        Steady-state test of pre-equilibrations (the problem's ordinary values).
    method
        ``"augmented"``: the sensitivity equations ``dS/dt = ∂f/∂x·S + ∂f/∂p`` written out
        and integrated with the states as one CVODES ODE (exact Jacobian of the augmented
        system); ``"casadi-ad"``: CasADi's derivatives of its CVODES integrator (forward
        sensitivities, or adjoints for runs with fewer outputs than parameters); ``"auto"``
        (default): augmented for runs of at most :data:`AUGMENTED_MAX_STATES` sensitivity
        states, CasADi's otherwise.

    Raises
    ------
    ValueError
        For an unknown *method*.
    UnsupportedModel
        If the SBML model uses a feature this route does not differentiate (see the module).
    ImportError
        If CasADi is not installed.

    Notes
    -----
    Call it as ``sensitivities(x, j, runs)``: a run is integrated once per point, with the
    sensitivities to all its free parameters, the first time a parameter asks for it; later
    calls at the same point only slice. The CasADi functions and integrators are built on
    first use and shared between runs (measured: 0.02–2.4 s for the first Jacobian of the four
    benchmark problems; no C compilation). A run that CVODES fails on returns ``None``, so
    :func:`~paracrine.fitting.objective.jacobian.sparse_jacobian` falls back to finite
    differences for that parameter. Picklable with its problem (worker processes of a fit):
    the CasADi functions are dropped and rebuilt on first use.
    """

    def __init__(
        self,
        problem: PetabProblem,
        *,
        rtol: float | None = None,
        atol: float | None = None,
        rtol_ss: float = 1e-8,
        atol_ss: float = 1e-11,
        method: str = "auto",
    ) -> None:
        if method not in ("auto", "augmented", "casadi-ad"):
            raise ValueError(
                f"method must be 'auto', 'augmented' or 'casadi-ad', received {method!r}"
            )
        t0 = _time.perf_counter()
        self.problem = problem
        self._model: SymbolicModel | None = SymbolicModel.from_sbml(problem.sbml)
        self._fixed_tolerances = (rtol, atol)
        self.rtol_ss, self.atol_ss = rtol_ss, atol_ss
        self.method = method
        self._free = np.asarray(problem._free, dtype=np.intp)
        self._free_set = {int(i) for i in self._free}
        self._scales = np.asarray(problem._free_scales)
        self._runs: dict[int, _Run] = {}
        self._built_for: tuple[float, float] | None = None
        self._shared: dict[tuple, Any] = {}
        self._cache_key: bytes | None = None
        self._cache: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
        self.n_failures = 0
        self.n_adjoint_failures = 0
        #: run index -> why this route does not handle it (finite differences there)
        self.unsupported_runs: dict[int, str] = {}
        self.setup_seconds = _time.perf_counter() - t0
        self.build_seconds = 0.0

    @property
    def model(self) -> SymbolicModel:
        """The translated SBML model (rebuilt after unpickling)."""
        if self._model is None:
            self._model = SymbolicModel.from_sbml(self.problem.sbml)
        return self._model

    def __getstate__(self) -> dict[str, Any]:
        # CasADi objects are not picklable: a worker process rebuilds them on first use
        state = self.__dict__.copy()
        state.update(_model=None, _runs={}, _shared={}, _built_for=None, _cache_key=None, _cache={})
        return state

    @property
    def tolerances(self) -> tuple[float, float]:
        """CVODES (rtol, atol) in use: the ones given, else the problem's current ones (which
        :meth:`PetabProblem.use_tight_tolerances` may change; the runs are then rebuilt)."""
        rtol, atol = self._fixed_tolerances
        return (
            self.problem.rtol if rtol is None else rtol,
            self.problem.atol if atol is None else atol,
        )

    def _run(self, k: int, theta: np.ndarray) -> _Run:
        if self._built_for != self.tolerances:
            self._runs, self._built_for, self._shared = {}, self.tolerances, {}
        run = self._runs.get(k)
        if run is None:
            t0 = _time.perf_counter()
            run = _Run(
                self.model,
                self.problem.spec,
                k,
                self._free_set,
                *self._built_for,
                theta,
                self._shared,
            )
            self._runs[k] = run
            self.build_seconds += _time.perf_counter() - t0
        return run

    def build_all(self) -> float:
        """Build every run's functions now (at the nominal point); returns the seconds taken."""
        t0 = _time.perf_counter()
        theta = self.problem._theta(self.problem.nominal_x)
        for k in range(len(self.problem.spec.runs)):
            try:
                self._run(k, theta)
            except UnsupportedModel as exc:
                self.unsupported_runs[k] = str(exc)
        return _time.perf_counter() - t0

    def run_jacobian(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Outputs of run *k* at *x* (shape ``(n_times, n_columns)``) and their derivatives
        in the run's free table parameters (natural scale; ``(n_times·n_columns, n_free)``),
        or ``None`` if CVODES fails or the run uses a feature this route does not handle
        (named in :attr:`unsupported_runs`)."""
        x = np.asarray(x, dtype=float)
        key = x.tobytes() + repr(self.tolerances).encode()
        if key != self._cache_key:
            self._cache_key, self._cache = key, {}
        if k in self._cache:
            return self._cache[k]
        if k in self.unsupported_runs:
            return None
        theta = self.problem._theta(x)
        try:
            run = self._run(k, theta)
        except UnsupportedModel as exc:
            self.unsupported_runs[k] = str(exc)
            return None
        uf, ug = theta[run.free], theta[run.fixed]
        try:
            value = jac = None
            augmented = self.method == "augmented" or (
                self.method == "auto"
                and len(self.model.state_ids) * (1 + run.free.size) <= AUGMENTED_MAX_STATES
            )
            if augmented:
                value, jac = run.augmented(theta, self.rtol_ss, self.atol_ss)
            else:
                run.ensure_ad()
                T = run.steady_time(uf, ug, self.rtol_ss, self.atol_ss)
            if not augmented and run.adjoint is not None:
                try:
                    value, jac = run.adjoint(uf, ug, T)
                except RuntimeError:
                    self.n_adjoint_failures += 1
            if jac is None:
                value, jac = run.forward(uf, ug, T)
            value = np.asarray(value).reshape(-1, run.n_columns)
            jac = np.asarray(jac)
            result = (value, jac) if np.all(np.isfinite(jac)) else None
        except (RuntimeError, SimulationError):
            result = None
        if result is None:
            self.n_failures += 1
        self._cache[k] = result
        return result

    def __call__(self, x: np.ndarray, j: int, runs: np.ndarray) -> list[np.ndarray] | None:
        """d(outputs of each run in *runs*)/d x_j on x_j's scale, or ``None`` (use FD)."""
        theta = self.problem._theta(np.asarray(x, dtype=float))
        table = int(self._free[j])
        scale = self._scales[j]
        if scale == Transform.LOG10:
            chain = theta[table] * math.log(10.0)
        elif scale == Transform.LOG:
            chain = theta[table]
        else:
            chain = 1.0
        out = []
        for k in np.asarray(runs).tolist():
            result = self.run_jacobian(x, int(k))
            if result is None:
                return None
            value, jac = result
            run = self._runs[int(k)]
            where = np.flatnonzero(run.free == table)
            if where.size == 0:
                out.append(np.zeros_like(value))
            else:
                out.append(jac[:, int(where[0])].reshape(value.shape) * chain)
        return out

    def simulate(self, x: np.ndarray, k: int) -> np.ndarray:
        """Outputs of run *k* at *x* from CasADi (no sensitivities; for checks and timings)."""
        theta = self.problem._theta(np.asarray(x, dtype=float))
        run = self._run(k, theta)
        uf, ug = theta[run.free], theta[run.fixed]
        T = run.steady_time(uf, ug, self.rtol_ss, self.atol_ss)
        run.ensure_ad()
        return np.asarray(run.value(uf, ug, T)).reshape(-1, run.n_columns)


# ------------------------------------------------------------------------------------------------
# automatic choice
# ------------------------------------------------------------------------------------------------
@dataclass
class GradientChoice:
    """Which Jacobian route a problem uses and why.

    Attributes
    ----------
    route
        ``"sensitivities"`` (CasADi forward sensitivities) or ``"finite differences"``.
    sensitivities
        The provider to set as ``problem.sensitivities`` (``None`` for finite differences).
    reason
        One line: the measured times and agreement, or why the route is unavailable.
    fd_seconds, sensitivity_seconds
        Median wall time of one Jacobian by each route at the probe point (NaN if not run).
    setup_seconds
        Translating the SBML and building every run's CasADi functions.
    difference
        Relative Frobenius difference between the two Jacobians (NaN if not run).
    """

    route: str
    sensitivities: CasadiSensitivities | None
    reason: str
    fd_seconds: float = float("nan")
    sensitivity_seconds: float = float("nan")
    setup_seconds: float = float("nan")
    difference: float = float("nan")


def _median_time(fun: Any, points: Sequence[np.ndarray]) -> tuple[float, Any]:
    times, out = [], None
    for point in points:
        t0 = _time.perf_counter()
        out = fun(point)
        times.append(_time.perf_counter() - t0)
    return float(np.median(times)), out


def choose_gradient(
    problem: PetabProblem,
    x: np.ndarray | None = None,
    *,
    repeats: int = 2,
    agreement: float = 0.05,
    max_slowdown: float = 10.0,
    seed: int = 0,
) -> GradientChoice:
    """Measure both Jacobian routes near the nominal point and pick the accurate one unless it
    is much slower.

    Rule: sensitivities if the model translates, no run fails in CVODES, the two Jacobians
    agree (relative Frobenius difference ≤ *agreement*: a check against translation errors)
    and one sensitivity Jacobian costs at most *max_slowdown* × one finite-difference Jacobian
    (medians of *repeats*); finite differences otherwise. Accuracy comes first because the
    finite differences are not accurate (benchmarks/petab_gradients.py, against central
    differences at CVODE rtol 1e-10: relative Jacobian errors 2e-3 to 4e-2 on Boehm, Brannmark,
    Lucarelli and Bachmann, against 4e-6 to 5e-5 by sensitivities), and the accuracy shows in
    fits. The limit is 10×, not 1×: on a quiet machine sensitivities cost 0.5–1.4× finite
    differences, but on a loaded one a probe measured 2.5× on Boehm_JProteomeRes2014, and a
    tighter limit would let machine load, not the problem, decide the route. The probe costs
    the setup, one warm-up and *repeats* Jacobians of each route.

    Parameters
    ----------
    problem
        The problem (its ``sensitivities`` attribute is restored on return).
    x
        Probe point (default: the nominal parameters moved by a seeded uniform ±0.05 on
        their scales, clipped to the bounds).
    repeats, agreement, max_slowdown
        See above.
    seed
        Seed of the default probe point.
    """
    lower, upper = np.asarray(problem.lower), np.asarray(problem.upper)
    if x is None:
        # near, not at, the nominal point: there inner scalings may sit at their bounds, where
        # the residuals have a kink and no two Jacobians agree (Brannmark_JBC2010)
        shift = np.random.default_rng(seed).uniform(-0.05, 0.05, len(problem.nominal_x))
        x = np.asarray(problem.nominal_x, dtype=float) + shift
    x = np.clip(np.asarray(x, dtype=float), lower, upper)
    # distinct points defeat the problem's last-point cache; tiny moves change nothing else
    points = [x + 1e-12 * (k + 1) * np.maximum(1.0, np.abs(x)) for k in range(repeats)]
    saved = problem.sensitivities
    try:
        t0 = _time.perf_counter()
        try:
            provider = CasadiSensitivities(problem)
            provider.build_all()
            problem.update_inner(x)
            problem.sensitivities = provider
            problem.jacobian(x)  # warm-up: builds what the first evaluation builds
        except (UnsupportedModel, ImportError) as exc:
            return GradientChoice("finite differences", None, f"sensitivities unavailable: {exc}")
        setup = _time.perf_counter() - t0
        sens_time, jac_s = _median_time(problem.jacobian, points)
        problem.sensitivities = None
        fd_time, jac_fd = _median_time(problem.jacobian, points)
        diff = float(np.linalg.norm(jac_s - jac_fd) / max(np.linalg.norm(jac_fd), 1e-300))
        numbers = {
            "fd_seconds": fd_time,
            "sensitivity_seconds": sens_time,
            "setup_seconds": setup,
            "difference": diff,
        }
        summary = (
            f"one Jacobian: {sens_time:.3g} s by sensitivities, {fd_time:.3g} s by finite "
            f"differences; relative difference {diff:.2g}"
        )
        if provider.unsupported_runs:
            first = next(iter(provider.unsupported_runs.values()))
            summary += (
                f"; {len(provider.unsupported_runs)} runs stay on finite differences ({first})"
            )
        if provider.n_failures:
            return GradientChoice(
                "finite differences",
                None,
                f"{provider.n_failures} runs failed in CVODES; " + summary,
                **numbers,
            )
        if not diff <= agreement:
            return GradientChoice("finite differences", None, "disagree: " + summary, **numbers)
        if sens_time <= max_slowdown * fd_time:
            return GradientChoice("sensitivities", provider, summary, **numbers)
        return GradientChoice(
            "finite differences",
            None,
            f"sensitivities over {max_slowdown:g}x slower: " + summary,
            **numbers,
        )
    finally:
        problem.sensitivities = saved
        problem.reset()


def use_fastest_gradient(problem: PetabProblem, x: np.ndarray | None = None) -> GradientChoice:
    """:func:`choose_gradient`, then set ``problem.sensitivities`` to the chosen provider
    (``None``: finite differences).

    Examples
    --------
    >>> problem = load_petab("Boehm_JProteomeRes2014.yaml")  # doctest: +SKIP
    >>> use_fastest_gradient(problem).route  # doctest: +SKIP
    'sensitivities'
    """
    choice = choose_gradient(problem, x)
    problem.sensitivities = choice.sensitivities
    return choice


def gradient_error(jac: np.ndarray, reference: np.ndarray) -> float:
    """Relative Frobenius error ``‖J − J_ref‖ / ‖J_ref‖``."""
    return float(np.linalg.norm(jac - reference) / max(np.linalg.norm(reference), 1e-300))
