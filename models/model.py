"""The :class:`Model`: a cross-talk variant of the core Antimony model plus its parameter values.

A ``Model`` is an immutable description (variant + parameter values). Simulation engines
(:mod:`paracrine.simulations`) compile it once — compiled SBML and JIT-compiled RoadRunner
instances are cached per variant — and set parameters by vector on one reused instance.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.models.parameters import CELL_LINES, ParameterTable, default_table
from paracrine.models.variants import Variant, get_variant

__all__ = [
    "MODULES",
    "OBSERVABLES",
    "Model",
    "core_antimony",
    "default_readout_map",
    "load_model",
    "readout_map_table",
]

#: Antimony modules assembled, in order, into the one core model.
MODULES = (
    "compartments",
    "il6_arm",
    "vegf_arm",
    "downstream",
    "antibodies",
    "crosstalk",
    "observables",
)

#: Read-out name -> model quantity (phosphorylated fraction, dimensionless).
OBSERVABLES = MappingProxyType(
    {"pERK": "obs_pERK", "pAKT": "obs_pAKT", "p38": "obs_p38", "pSTAT3": "obs_pSTAT3"}
)


@cache
def _module_text(module: str) -> str:
    return (resources.files("paracrine.models") / "antimony" / f"{module}.ant").read_text(
        encoding="utf-8"
    )


def core_antimony(parameter_values: Mapping[str, float], name: str = "paracrine") -> str:
    """Assemble the Antimony text of the core model with the given parameter values."""
    body = "\n".join(f"// ---- {m}.ant ----\n{_module_text(m)}" for m in MODULES)
    values = "\n".join(f"{k} = {float(v)!r};" for k, v in parameter_values.items())
    return f"model {name}\n{body}\n// ---- parameter values ----\n{values}\nend\n"


@cache
def _antimony_to_sbml(text: str) -> str:
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        raise InvalidInputError(f"Antimony failed to load the model: {antimony.getLastError()}")
    return antimony.getSBMLString(antimony.getMainModuleName())


class Model:
    """A cross-talk variant of paracrine's core model with a set of parameter values.

    Parameters
    ----------
    variant
        Name of a variant (see :func:`paracrine.models.list_variants`).
    parameters
        Values overriding the defaults for every cell line, by parameter name.
    cell_line_parameters
        Values for one cell line only: ``{"MCF-7": {"R6_tot": 0.2}}``.
    table
        Parameter table; the bundled one by default.

    Examples
    --------
    >>> from paracrine.models import Model
    >>> m = Model("saturable_feedback").with_parameters({"k_erk_dephos": 0.2})
    >>> m.parameter_values("MCF-7")["k_erk_dephos"]
    0.2
    """

    def __init__(
        self,
        variant: str = "independent",
        parameters: Mapping[str, float] | None = None,
        cell_line_parameters: Mapping[str, Mapping[str, float]] | None = None,
        table: ParameterTable | None = None,
    ) -> None:
        self._variant: Variant = get_variant(variant)
        self._table = table if table is not None else default_table()
        self._parameters = dict(parameters or {})
        self._cell_line_parameters = {k: dict(v) for k, v in (cell_line_parameters or {}).items()}
        for name, value in self._parameters.items():
            self._check_value(name, value)
        for line, values in self._cell_line_parameters.items():
            self._check_cell_line(line)
            for name, value in values.items():
                self._check_value(name, value)

    # -- identity -------------------------------------------------------------------------
    @property
    def variant(self) -> str:
        return self._variant.name

    @property
    def description(self) -> str:
        return self._variant.description

    @property
    def table(self) -> ParameterTable:
        return self._table

    @property
    def cell_lines(self) -> tuple[str, ...]:
        return self._table.cell_lines or CELL_LINES

    @property
    def parameter_ids(self) -> tuple[str, ...]:
        """Every parameter of the model, in table order."""
        return tuple(self._table)

    @property
    def observables(self) -> tuple[str, ...]:
        return tuple(OBSERVABLES)

    @property
    def species_ids(self) -> tuple[str, ...]:
        return tuple(_species_ids(self.sbml))

    def estimated_parameters(self) -> tuple[str, ...]:
        """Parameters a default fit of this variant estimates (table + switched-on cross-talk)."""
        on = set(self._variant.switched_on)
        return tuple(n for n, row in self._table.items() if row.estimate or n in on)

    # -- values ---------------------------------------------------------------------------
    def parameter_values(self, cell_line: str | None = None) -> dict[str, float]:
        """All parameter values for *cell_line* (or the shared defaults if None)."""
        values = self._table.defaults(cell_line)
        values.update(self._variant.switched_on)
        values.update(self._parameters)
        if cell_line is not None:
            values.update(self._cell_line_parameters.get(cell_line, {}))
        return values

    def with_cell_lines(self, names: Iterable[str]) -> Model:
        """A new model that also knows the cell lines *names*: those it lacks start at the
        model's defaults for every cell-line-specific parameter (see
        :meth:`ParameterTable.with_cell_lines`); a fit estimates their own values.

        Examples
        --------
        >>> m = Model().with_cell_lines(["MDA-MB-231"])
        >>> m.cell_lines[-1], m.parameter_values("MDA-MB-231")["R6_tot"]
        ('MDA-MB-231', 0.83)
        """
        table = self._table.with_cell_lines(names)
        if table is self._table:
            return self
        return Model(self.variant, self._parameters, self._cell_line_parameters, table)

    def observable_for(
        self, readout: str, readout_map: Mapping[str, str] | str | Path | None = None
    ) -> str:
        """The model quantity a blot read-out is fitted to: one of :attr:`observables`
        (a phosphorylated fraction) or a species id (a concentration, nM).

        *readout* is looked up as itself (``pERK``, ``JAK_p``), then in the bundled
        ``readout_map.csv`` extended by *readout_map* (``{read-out: observable or species}``
        or the path of a CSV with the columns ``readout, observable``; its entries win).

        Raises
        ------
        UnknownNameError
            The read-out maps to nothing; the message lists the observables and how to map it.
        InvalidInputError
            The map names a quantity the model does not have.
        """
        table = readout_map_table(readout_map)
        target = table.get(readout, readout)
        if target in OBSERVABLES:
            return target
        species = self.species_ids
        if target in species:
            return target
        if readout in table:
            raise InvalidInputError(
                f"read-out map: {readout!r} -> {target!r}, which is neither an observable of the "
                f"model ({', '.join(OBSERVABLES)}) nor one of its species ({', '.join(species)})"
            )
        # no "did you mean": pSTAT1 is not pSTAT3, however close the spelling
        error = UnknownNameError("read-out", readout, [*OBSERVABLES, *table])
        phospho = ", ".join(s for s in species if s.endswith("_p"))
        error.message = (
            f"read-out {readout!r} is not something the model observes: it has the observables "
            f"{', '.join(OBSERVABLES)} (phosphorylated fractions) and species such as {phospho} "
            f"(nM). Map it to one of them with readout_map={{{readout!r}: '<observable>'}} (or "
            "a row "
            "of a CSV readout, observable — the bundled one is paracrine/models/readout_map.csv), "
            "or leave its bands out"
        )
        error.args = (error.message,)
        raise error

    def with_parameters(self, values: Mapping[str, float], cell_line: str | None = None) -> Model:
        """A new model with *values* set (for every line, or for *cell_line* only)."""
        parameters = dict(self._parameters)
        per_line = {k: dict(v) for k, v in self._cell_line_parameters.items()}
        if cell_line is None:
            parameters.update(values)
        else:
            per_line.setdefault(cell_line, {}).update(values)
        return Model(self.variant, parameters, per_line, self._table)

    # -- text and export ------------------------------------------------------------------
    @property
    def antimony(self) -> str:
        """Antimony text of the variant with the shared parameter values."""
        return core_antimony(self.parameter_values(), name=f"paracrine_{self.variant}")

    @property
    def sbml(self) -> str:
        """SBML (level 3) text of :attr:`antimony`."""
        return _antimony_to_sbml(self.antimony)

    def export_sbml(self, path: str | Path, cell_line: str | None = None) -> Path:
        """Write SBML with the parameter values of *cell_line* (shared values if None)."""
        text = core_antimony(self.parameter_values(cell_line), name=f"paracrine_{self.variant}")
        path = Path(path)
        path.write_text(_antimony_to_sbml(text), encoding="utf-8")
        return path

    # -- checks ---------------------------------------------------------------------------
    def _check_value(self, name: str, value: float) -> None:
        self._table[name]  # raises UnknownNameError with suggestions
        if not isinstance(value, int | float) or not value >= 0 or value == float("inf"):
            raise InvalidInputError(
                f"parameter {name!r}: expected a finite number >= 0, received {value!r}"
            )

    def _check_cell_line(self, line: str) -> None:
        if line not in self.cell_lines:
            error = UnknownNameError("cell line", line, self.cell_lines)
            error.message += (
                f"; add it at the model's defaults with Model.with_cell_lines([{line!r}])"
            )
            raise error

    def __repr__(self) -> str:
        n = len(self._parameters) + sum(len(v) for v in self._cell_line_parameters.values())
        return f"Model(variant={self.variant!r}, {n} parameter(s) changed from defaults)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return (self.variant, self._parameters, self._cell_line_parameters) == (
            other.variant,
            other._parameters,
            other._cell_line_parameters,
        ) and (self._table is other._table or self._table == other._table)

    def __hash__(self) -> int:
        return hash((self.variant, tuple(sorted(self._parameters.items()))))

    def __reduce__(self):
        # Pickle by content (the table is re-read in the worker when it is the default one).
        table = None if self._table is default_table() else self._table
        return (Model, (self.variant, self._parameters, self._cell_line_parameters, table))


_READOUT_MAP_COLUMNS = ("readout", "observable")


def _parse_readout_map(text: str, origin: str) -> dict[str, str]:
    reader = csv.DictReader(text.splitlines())
    fields = tuple(reader.fieldnames or ())
    if fields[:2] != _READOUT_MAP_COLUMNS:
        raise InvalidInputError(
            f"{origin}, line 1: expected the columns readout, observable (then optional notes), "
            f"received {', '.join(fields) or 'nothing'}"
        )
    table: dict[str, str] = {}
    for line, rec in enumerate(reader, start=2):
        readout, target = (rec.get(c) for c in _READOUT_MAP_COLUMNS)
        if not readout or not target or readout != readout.strip() or target != target.strip():
            raise InvalidInputError(
                f"{origin}, line {line}: expected a read-out and an observable without "
                f"surrounding spaces, received {readout!r}, {target!r}"
            )
        if readout in table:
            raise InvalidInputError(f"{origin}, line {line}: read-out {readout!r} listed twice")
        table[readout] = target
    return table


@cache
def default_readout_map() -> MappingProxyType:
    """The bundled ``readout_map.csv``: read-out names labs write (``pERK1/2``,
    ``pSTAT3-Y705``, ``pJAK1``) -> the model observable or species each one measures."""
    text = (resources.files("paracrine.models") / "readout_map.csv").read_text(encoding="utf-8")
    return MappingProxyType(_parse_readout_map(text, "paracrine/models/readout_map.csv"))


def readout_map_table(extra: Mapping[str, str] | str | Path | None = None) -> dict[str, str]:
    """The bundled read-out map extended by *extra* (a mapping, or a CSV path with the columns
    ``readout, observable``), whose entries win."""
    table = dict(default_readout_map())
    if extra is None:
        return table
    if isinstance(extra, str | Path):
        path = Path(extra)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"read-out map {path}: cannot read it ({exc})") from None
        table.update(_parse_readout_map(text, str(path)))
        return table
    if not isinstance(extra, Mapping):
        raise InvalidInputError(
            "readout_map: expected {read-out: observable} or a CSV path, received "
            f"{type(extra).__name__}"
        )
    for readout, target in extra.items():
        if not isinstance(readout, str) or not isinstance(target, str):
            raise InvalidInputError(
                f"readout_map: expected text keys and values, received {readout!r}: {target!r}"
            )
    table.update(extra)
    return table


@cache
def _species_ids(sbml: str) -> list[str]:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    return [s.getId() for s in doc.getModel().getListOfSpecies()]


def load_model(variant: str = "independent") -> Model:
    """Load a variant by name with its default parameters (alias-free shortcut for ``Model``)."""
    return Model(variant)


def unknown_species(name: str, model: Model) -> UnknownNameError:
    """The error for an unknown species name, with close matches from *model*."""
    return UnknownNameError("species", name, model.species_ids)
