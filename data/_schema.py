"""Column schemas of paracrine's two data formats, and the vocabulary they draw on.

Kept apart from the validator so that the generator, the loader and the documentation can all
quote the same lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paracrine.vocabulary import ARMS, CELL_LINES, CONTROL, IL6_ARM, READOUTS, VEGF_ARM

__all__ = [
    "ANTI_IL6",
    "BEVACIZUMAB",
    "BLOT_COLUMNS",
    "BLOT_READOUTS",
    "BLOT_SCHEMA",
    "CELL_LINES",
    "CONDITION_DOSE_COLUMNS",
    "CONDITION_ORDER",
    "MSC_CM",
    "PHENOTYPE_READOUTS",
    "READOUT_COLUMNS",
    "READOUT_SCHEMA",
    "Column",
    "Schema",
    "condition_components",
]

# CELL_LINES comes from paracrine.vocabulary and is re-exported from here: the lines of the
# paper, which the bundled parameter table knows — not a limit on what a blot file may hold.

#: Phospho read-outs the model observes directly (``p38`` means phospho-p38): the vocabulary's
#: ``READOUTS``, under the name this package has always exported. A blot file may hold others
#: (``pERK1/2``, ``pJAK1``): the fit maps them to observables (models/readout_map.csv).
BLOT_READOUTS: tuple[str, ...] = READOUTS

#: Read-outs of the one-row-per-condition phenotype file.
PHENOTYPE_READOUTS: tuple[str, ...] = ("migration", "proliferation")

#: MSC-conditioned medium and the two neutralising antibodies, as condition names spell them.
MSC_CM = "MSC-CM"
BEVACIZUMAB = "bevacizumab"
ANTI_IL6 = "anti-IL-6"

#: Agents a condition name may combine with ``+``, and the column holding each one's dose.
#: ``control`` means none of them.
CONDITION_DOSE_COLUMNS: dict[str, str] = {
    IL6_ARM: "il6_ng_ml",
    VEGF_ARM: "vegf_ng_ml",
    MSC_CM: "msc_cm_fraction",
    BEVACIZUMAB: "bevacizumab_ug_ml",
    ANTI_IL6: "anti_il6_ug_ml",
}

#: Conditions in the order data sets list them: the paper's four arms, then MSC-CM alone and
#: with each antibody and both (the migration experiments); other names follow as first seen.
CONDITION_ORDER: tuple[str, ...] = (
    *ARMS,
    MSC_CM,
    f"{MSC_CM}+{BEVACIZUMAB}",
    f"{MSC_CM}+{ANTI_IL6}",
    f"{MSC_CM}+{BEVACIZUMAB}+{ANTI_IL6}",
)

Kind = Literal["choice", "name", "label", "text", "number", "count"]


@dataclass(frozen=True)
class Column:
    """One column of a data format.

    ``kind`` decides how a cell is read: ``choice`` (one of ``choices``), ``name`` (any
    non-blank text without surrounding spaces; ``choices`` are the names paracrine knows, and
    a name that differs from one of them only in case or punctuation — ``MCF7``, ``perk`` — is
    warned about, since it is read as a different one), ``label`` (any non-blank text),
    ``text`` (any text, blank allowed), ``number`` (finite float ≥ 0, at most ``maximum``),
    ``count`` (whole number ≥ 1). ``blank_ok`` lets an optional numeric column hold empty
    cells, read as NaN ("not given").
    """

    name: str
    kind: Kind
    required: bool = True
    choices: tuple[str, ...] = ()
    maximum: float | None = None
    blank_ok: bool = False
    description: str = ""


@dataclass(frozen=True)
class Schema:
    """A data format: its columns, the columns identifying one measurement, and its name."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


BLOT_SCHEMA = Schema(
    name="blot time course",
    columns=(
        # Any cell line and read-out: a line the model does not know gets the model's defaults
        # (fitting/problem.py), a read-out maps to an observable through models/readout_map.csv.
        Column("cell_line", "name", choices=CELL_LINES, description="cell line"),
        Column("condition", "label", description="condition name, e.g. IL-6+VEGF"),
        Column("il6_ng_ml", "number", description="IL-6 dose, ng/mL"),
        Column("vegf_ng_ml", "number", description="VEGF-A165 dose, ng/mL"),
        Column("time_min", "number", description="time after stimulation, min"),
        Column("readout", "name", choices=BLOT_READOUTS, description="phospho read-out"),
        Column("value", "number", description="band intensity, arbitrary units"),
        Column("replicate", "count", description="biological replicate, 1, 2, …"),
        Column("blot", "label", description="membrane/exposure sharing one scale factor"),
        Column("sd", "number", required=False, blank_ok=True, description="standard deviation"),
        Column("normalization", "text", required=False, description="what value is relative to"),
    ),
    key=("cell_line", "condition", "time_min", "readout", "replicate", "blot"),
)

READOUT_SCHEMA = Schema(
    name="migration/proliferation read-out",
    columns=(
        Column("cell_line", "choice", choices=CELL_LINES, description="cell line"),
        Column("condition", "label", description="condition name, e.g. MSC-CM+bevacizumab"),
        Column("il6_ng_ml", "number", description="IL-6 dose, ng/mL"),
        Column("vegf_ng_ml", "number", description="VEGF-A165 dose, ng/mL"),
        Column("bevacizumab_ug_ml", "number", description="bevacizumab dose, µg/mL"),
        Column("anti_il6_ug_ml", "number", description="anti-IL-6 antibody dose, µg/mL"),
        Column("msc_cm_fraction", "number", maximum=1.0, description="MSC-CM volume fraction"),
        Column("readout", "choice", choices=PHENOTYPE_READOUTS, description="phenotype"),
        Column("fold_change", "number", description="mean relative to control"),
        Column("sd", "number", description="standard deviation of fold_change"),
        Column("n", "count", description="number of measurements averaged"),
    ),
    key=("cell_line", "condition", "readout"),
)

#: Required columns of a blot file, in order.
BLOT_COLUMNS: tuple[str, ...] = BLOT_SCHEMA.required
#: Columns of a read-out file (all required), in order.
READOUT_COLUMNS: tuple[str, ...] = READOUT_SCHEMA.required


def condition_components(name: str) -> frozenset[str] | None:
    """Return the agents a condition name states, or None if it is not in the vocabulary.

    ``"control"`` states none; ``"MSC-CM+bevacizumab"`` states ``{"MSC-CM", "bevacizumab"}``.
    Names outside the vocabulary (``"IL-6 high"``, ``"vehicle"``) return None: they are
    allowed, but their doses cannot be checked against the name.
    """
    if name == CONTROL:
        return frozenset()
    parts = name.split("+")
    if any(p not in CONDITION_DOSE_COLUMNS for p in parts) or len(set(parts)) != len(parts):
        return None
    return frozenset(parts)
