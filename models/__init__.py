"""paracrine.models — Antimony models of IL-6/JAK and VEGF/VEGFR2 signalling, their parameter
table (units, bounds, sources), cross-talk variants, the model ids experiments act on
(``targets``) and the :class:`Model` wrapper."""

from paracrine.models.model import MODULES, OBSERVABLES, Model, core_antimony, load_model
from paracrine.models.parameters import CELL_LINES, ParameterInfo, ParameterTable, default_table
from paracrine.models.targets import (
    AUTOCRINE_SWITCH,
    DOSED_SPECIES,
    INHIBITOR_TARGETS,
    KNOCKOUT_TARGETS,
    MEDIUM_INPUTS,
    NEUTRALISATION,
    Neutralisation,
)
from paracrine.models.variants import VARIANTS, Variant, get_variant, list_variants

__all__ = [
    "AUTOCRINE_SWITCH",
    "CELL_LINES",
    "DOSED_SPECIES",
    "INHIBITOR_TARGETS",
    "KNOCKOUT_TARGETS",
    "MEDIUM_INPUTS",
    "MODULES",
    "NEUTRALISATION",
    "OBSERVABLES",
    "VARIANTS",
    "Model",
    "Neutralisation",
    "ParameterInfo",
    "ParameterTable",
    "Variant",
    "core_antimony",
    "default_table",
    "get_variant",
    "list_variants",
    "load_model",
]
