"""paracrine.models — Antimony models of IL-6/JAK and VEGF/VEGFR2 signalling, their parameter
table (units, bounds, sources), cross-talk variants and the :class:`Model` wrapper."""

from paracrine.models.model import MODULES, OBSERVABLES, Model, core_antimony, load_model
from paracrine.models.parameters import CELL_LINES, ParameterInfo, ParameterTable, default_table
from paracrine.models.variants import VARIANTS, Variant, get_variant, list_variants

__all__ = [
    "CELL_LINES",
    "MODULES",
    "OBSERVABLES",
    "VARIANTS",
    "Model",
    "ParameterInfo",
    "ParameterTable",
    "Variant",
    "core_antimony",
    "default_table",
    "get_variant",
    "list_variants",
    "load_model",
]
